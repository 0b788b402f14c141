//! Command-line arguments (clap types only).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// pixmo: build PixMo-style vision-language datasets end to end.
#[derive(Debug, Parser)]
#[command(name = "pixmo", version, about, long_about = None)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Which pipeline to use.
#[derive(Debug, Args, Clone)]
pub struct PipelineArgs {
    /// Dataset to build (`clocks`); selects its default pipeline spec.
    pub dataset: String,
    /// Use this pipeline spec (TOML) instead of the dataset's default.
    #[arg(long)]
    pub spec: Option<PathBuf>,
}

/// Progress display.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProgressArg {
    /// Bars on a terminal, plain lines otherwise.
    Auto,
    /// Plain lines.
    Plain,
    /// Nothing.
    Quiet,
}

/// Arguments of `pixmo build`.
#[derive(Debug, Args, Clone)]
pub struct BuildArgs {
    /// Pipeline.
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Records over all splits (generated datasets; a collected dataset such as `cap` counts
    /// what its `--inbox` holds).
    #[arg(long)]
    pub count: Option<u64>,
    /// Where a collected dataset's records come from: the inbox folder (or manifest) of
    /// `cap` (new rows are sealed into a batch first, except in an array worker), or the
    /// finished PixMo-Cap dataset of `cap_qa` (`--from out/cap`).
    #[arg(long, visible_alias = "from")]
    pub inbox: Option<PathBuf>,
    /// Seal what arrived in `--inbox` and stop (run it before an array of workers).
    #[arg(long, requires = "inbox")]
    pub seal_only: bool,
    /// Output directory; the dataset goes into `<out>/<dataset>`.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Run seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Split the run across N workers; this process builds every N-th shard.
    #[arg(long)]
    pub num_shards: Option<u32>,
    /// Which worker this is (0-based). Default: `SLURM_ARRAY_TASK_ID` or
    /// `JOB_COMPLETION_INDEX` when `--num-shards` is given.
    #[arg(long)]
    pub shard_index: Option<u32>,
    /// Records per shard (overrides the spec's `[output]`).
    #[arg(long)]
    pub shard_rows: Option<u64>,
    /// Target shard size in bytes (overrides the spec's `[output]`).
    #[arg(long)]
    pub shard_bytes: Option<u64>,
    /// Image encoding (overrides the `image.encode` stage's config).
    #[arg(long, value_parser = ["png", "jpeg"])]
    pub image_format: Option<String>,
    /// Build time stamped into rows: RFC 3339 (`2026-11-22T00:00:00Z`) or Unix seconds.
    /// Default: `SOURCE_DATE_EPOCH`, the output directory's recorded time, or now.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Progress display.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: ProgressArg,
    /// Print a JSON summary on stdout at the end.
    #[arg(long)]
    pub json: bool,
    /// CPU workers per stage (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
}

/// Scheduler for `pixmo launch`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Scheduler {
    /// An sbatch array, a dependent finalize job and `submit.sh`.
    Slurm,
    /// A Kubernetes Indexed Job, a finalize Job and `apply.sh`.
    K8s,
}

/// Arguments of `pixmo launch`.
#[derive(Debug, Args, Clone)]
pub struct LaunchArgs {
    /// Scheduler.
    #[arg(value_enum)]
    pub scheduler: Scheduler,
    /// The build to launch (`--num-shards` is the number of array tasks / completions).
    #[command(flatten)]
    pub build: BuildArgs,
    /// Tasks running at once.
    #[arg(long, default_value_t = 16)]
    pub parallelism: u32,
    /// CPUs per task (also each task's `--jobs`).
    #[arg(long, default_value_t = 8)]
    pub cpus: u32,
    /// Memory per task: a number with an optional K, M, G or T suffix, as Slurm's
    /// `--mem` (`16G` is `16Gi` on Kubernetes).
    #[arg(long, default_value = "16G")]
    pub mem: String,
    /// Time limit per task, as Slurm's `--time` (`MINUTES`, `HH:MM:SS`, `D-HH:MM:SS`);
    /// the pods' `activeDeadlineSeconds` on Kubernetes.
    #[arg(long, default_value = "24:00:00")]
    pub time: String,
    /// The `pixmo` executable the tasks run: a name on the nodes' PATH or an absolute path.
    #[arg(long, default_value = "pixmo")]
    pub pixmo_bin: String,
    /// Slurm partition (default: the cluster's default).
    #[arg(long)]
    pub partition: Option<String>,
    /// Slurm: folder for the tasks' logs (default `<out>/logs`; submit.sh creates it).
    #[arg(long)]
    pub log_dir: Option<PathBuf>,
    /// Container image (k8s).
    #[arg(long, default_value = "pixmo:latest")]
    pub image: String,
    /// ReadWriteMany PersistentVolumeClaim holding the output, mounted at `/data` (k8s).
    #[arg(long, default_value = "pixmo-data")]
    pub pvc: String,
    /// Secret holding the LLM API key under the name of the spec's `api_key_env` (k8s).
    #[arg(long, default_value = "pixmo-llm")]
    pub api_key_secret: String,
    /// Write all files (scripts, finalize step) into this folder instead of printing the
    /// main one.
    #[arg(long)]
    pub write: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build (or resume, or grow) a dataset.
    Build(BuildArgs),
    /// Check a pipeline spec and print its plan.
    Plan(PipelineArgs),
    /// Print a pipeline's DAG in Graphviz DOT.
    Graph(PipelineArgs),
    /// List the registered stage kinds.
    Stages,
    /// Write a Slurm array script or a Kubernetes Indexed Job for a sharded build.
    Launch(Box<LaunchArgs>),
    /// Check every shard of a dataset by its marker (sizes) and write its manifest.
    Finalize {
        /// Dataset folder (`<out>/<dataset>`) or an output folder holding one dataset.
        dir: PathBuf,
    },
    /// Re-hash every committed shard against its marker; exit code 1 when one is broken.
    Verify {
        /// Dataset folder (`<out>/<dataset>`) or an output folder holding one dataset.
        dir: PathBuf,
        /// Move the files and marker of each broken shard to quarantine, so that the next
        /// build recomputes it.
        #[arg(long)]
        quarantine: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Audit a dataset with DataFusion; exit code 1 when a check fails.
    Audit {
        /// Dataset folder or output folder.
        dir: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run SQL over a dataset's shards (tables: rows, rejects, shards, one per split).
    Sql {
        /// Dataset folder or output folder.
        dir: PathBuf,
        /// The query.
        query: String,
    },
    /// Write a Hugging Face style data card with plots.
    Card {
        /// Dataset folder or output folder.
        #[arg(required_unless_present = "reference", conflicts_with = "reference")]
        dir: Option<PathBuf>,
        /// Where cards go.
        #[arg(long, default_value = "data_cards")]
        cards_dir: PathBuf,
        /// Build every dataset at its reference size (default spec, seed 0, build time the
        /// Unix epoch) and write the cards committed in `data_cards/`.
        #[arg(long)]
        reference: bool,
        /// With `--reference`: compare instead of writing; exit code 1 when a card is stale.
        #[arg(long, requires = "reference")]
        check: bool,
        /// With `--reference`: keep the reference builds here (an existing one is resumed).
        #[arg(long, requires = "reference")]
        out: Option<PathBuf>,
    },
    /// Print the JSON Schema of a dataset's rows (or write all of them).
    Schema {
        /// Dataset; all when omitted.
        dataset: Option<String>,
        /// Write `<dataset>.schema.json` files into this folder.
        #[arg(long)]
        write: Option<PathBuf>,
    },
    /// Measure build throughput (render + encode + write) and where the time goes.
    Bench {
        /// Dataset.
        dataset: String,
        /// Records to build.
        #[arg(long, default_value_t = 2000)]
        count: u64,
        /// Image encoding.
        #[arg(long, value_parser = ["png", "jpeg"], default_value = "png")]
        image_format: String,
        /// Keep the output here instead of a temporary folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Measure this pipeline spec (TOML) instead of the dataset's default.
        #[arg(long)]
        spec: Option<PathBuf>,
    },
    /// Score a model's answers with Molmo's pointing, counting or clock-reading evaluation;
    /// prints a JSON summary. Files are JSON Lines (formats: `pixmo eval <task> --help`).
    Eval {
        #[command(subcommand)]
        task: EvalTask,
    },
    /// Manage the model files pixmo runs in-process (the embedded LLM, whisper).
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
    /// The annotation app (AskModelAnything, Points, Point-Explanations): serve, invite,
    /// import, status, export.
    #[command(subcommand)]
    Annotate(AnnotateCommand),
    /// Make PixMo-Cap's sample inbox: five real photographs (scikit-image's wheel on PyPI,
    /// SHA-256 pinned), each described twice by espeak-ng (synthetic speech, marked as such).
    SampleInbox {
        /// Folder to write (`images/`, `audio/`, `sample.jsonl`).
        #[arg(long, default_value = "inbox")]
        out: PathBuf,
    },
    /// Write a ready `count-detections --from` folder: real detections (OpenCV Haar
    /// cascades, run once by pipelines/pixmo-count/testdata/detect.py) over photographs from
    /// scikit-image's wheel on PyPI (SHA-256 pinned).
    SampleDetections {
        /// Folder to write (`images.json`, `detections.json`, `images/`).
        #[arg(long, default_value = "detections")]
        out: PathBuf,
    },
    /// Write the balanced val/test candidates of a detector-made PixMo-Count build as Label
    /// Studio and CVAT task files for people to verify; their exports go into
    /// `DIR/verdicts/` and the next `pixmo build count-detections --from DIR` reads them.
    CountTasks {
        /// The build's input folder (`images.json`, `detections.json`, the images).
        #[arg(long)]
        from: PathBuf,
        /// The spec the build uses (default: the built-in `count-detections` spec).
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Folder to write (`images/`, `label-studio/`, `cvat/`, `candidates.json`).
        #[arg(long, default_value = "tasks")]
        out: PathBuf,
    },
    /// Turn an annotation tool's export of points (Label Studio JSON keypoints, CVAT for
    /// images 1.1 points, COCO keypoints) and its images into a PixMo-Points dataset
    /// (`OUT/points`); refused annotations go to its rejects table with the reason.
    ImportPoints(ImportPointsArgs),
    /// Transcribe audio files with whisper; prints one JSON line per file (audio facts and
    /// the transcript with its segments, or the rejection and its reason).
    Transcribe {
        /// WAV, FLAC, MP3 or Ogg Vorbis files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Whisper model (`pixmo models fetch whisper NAME` first).
        #[arg(long, value_parser = ["tiny.en", "base"], default_value = "tiny.en")]
        model: String,
        /// Spoken language (`en`, `de`, ...), or `auto` to detect it (base only).
        #[arg(long, default_value = "en")]
        language: String,
        /// Models folder (defaults as for `pixmo models fetch`).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Train a Molmo model on pixmo shards (runs the separate `pixmo-train` binary).
    #[command(external_subcommand)]
    External(Vec<String>),
}

/// The tool that wrote an export (`pixmo import-points --from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PointsTool {
    /// Label Studio's JSON export (`keypointlabels` results).
    LabelStudio,
    /// CVAT's "CVAT for images 1.1" XML (`<points>` shapes).
    Cvat,
    /// A COCO keypoints file (`images`, `annotations`, `categories`).
    Coco,
}

/// Arguments of `pixmo import-points`.
#[derive(Debug, Args, Clone)]
pub struct ImportPointsArgs {
    /// The tool's export file.
    pub export: PathBuf,
    /// Which tool wrote it.
    #[arg(long)]
    pub from: PointsTool,
    /// Folder holding the images the export names (looked up by the recorded path, down to
    /// the file name).
    #[arg(long)]
    pub images: PathBuf,
    /// Output directory; the dataset goes into `<out>/points` (which must not exist).
    #[arg(long)]
    pub out: PathBuf,
    /// Split of every row.
    #[arg(long, default_value = "train")]
    pub split: String,
    /// `collection_method` of every row.
    #[arg(long, value_parser = ["pointing", "counting"], default_value = "pointing")]
    pub collection_method: String,
    /// Time stamped into rows (RFC 3339 UTC or Unix seconds; default now).
    #[arg(long)]
    pub as_of: Option<String>,
}

/// `pixmo models ...`.
#[derive(Debug, Subcommand)]
pub enum ModelsAction {
    /// Download the pinned model files (verified by sha256; a no-op when present): the
    /// embedded LLM (`pixmo models fetch`), or whisper weights converted to ggml
    /// (`pixmo models fetch whisper [tiny.en|base]...`, default tiny.en).
    Fetch {
        /// `llm` (the default) or `whisper`.
        #[arg(value_parser = ["llm", "whisper"], default_value = "llm")]
        kind: String,
        /// Whisper models: `tiny.en`, `base`.
        #[arg(value_parser = ["tiny.en", "base"])]
        names: Vec<String>,
        /// Models folder; default `$PIXMO_MODELS_DIR`, else `$XDG_CACHE_HOME/pixmo/models`,
        /// else `~/.cache/pixmo/models`.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print where the models folder is and which pinned files it holds.
    List {
        /// Models folder (defaults as for `fetch`).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// `pixmo eval ...`. Predictions are JSON Lines `{"id": ..., "answer": "model text"}`, one
/// per gold example; gold is JSON Lines with the same ids.
#[derive(Debug, Subcommand)]
pub enum EvalTask {
    /// Pointing: precision, recall and F1 with optimal (Hungarian) matching of the answer's
    /// points to the gold points; a match is correct inside the gold instance's mask, or
    /// within `--max-distance` where the gold has no masks; "not present" examples score 1
    /// when the answer points at nothing. Gold: `{"id", "width", "height", "points":
    /// [{"x", "y"}], "unit": "percent"|"pixels" (default percent), "masks": [COCO RLE]}`
    /// (masks optional, one per point).
    Points {
        /// Predictions (JSON Lines).
        predictions: PathBuf,
        /// Gold (JSON Lines).
        gold: PathBuf,
        /// Distance allowed where the gold has no masks: `12px`, or `5%` of the image
        /// diagonal.
        #[arg(long, default_value = "5%")]
        max_distance: pixmo_eval::pointing::Tolerance,
    },
    /// Counting: exact and within one, overall and per gold count. Gold: `{"id", "count"}`.
    Count {
        /// Predictions (JSON Lines).
        predictions: PathBuf,
        /// Gold (JSON Lines).
        gold: PathBuf,
    },
    /// Clock reading: exact and within `--close-minutes` on the 12-hour dial; clocks that
    /// show no hand must be declined. Gold: `{"id", "hour", "minute", "second"}` (-1: not
    /// visible) or PixMo-Clocks rows (`example_id`, `watch_time`, `*_visible`).
    Clocks {
        /// Predictions (JSON Lines).
        predictions: PathBuf,
        /// Gold (JSON Lines).
        gold: PathBuf,
        /// Tolerance of `close` in minutes (Molmo: 3; 1 on its real-clock test set).
        #[arg(long, default_value_t = 3)]
        close_minutes: u32,
    },
}

/// `pixmo annotate` subcommands.
#[derive(Debug, Subcommand)]
pub enum AnnotateCommand {
    /// Serve the app until Ctrl-C or SIGTERM.
    Serve {
        /// Database: a SQLite file (created if missing) or a `postgres://` URL.
        #[arg(long, default_value = "annotate.sqlite")]
        db: String,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
        /// LLM configuration (TOML: `backend = "openai"`, `base_url`, `model`, ...);
        /// default: the embedded SmolLM2.
        #[arg(long)]
        llm: Option<PathBuf>,
        /// Serve without an LLM (AskModelAnything and Point-Explanations cannot draft).
        #[arg(long)]
        no_llm: bool,
        /// Serve without OCR (the LLM sees no text from the image).
        #[arg(long)]
        no_ocr: bool,
    },
    /// Create an invite for an annotator pseudonym; prints the token once.
    Invite {
        /// Database.
        #[arg(long, default_value = "annotate.sqlite")]
        db: String,
        /// Pseudonym (what exports record; never the token).
        pseudonym: String,
    },
    /// Add images and tasks.
    Import {
        /// Database.
        #[arg(long, default_value = "annotate.sqlite")]
        db: String,
        /// Where the images come from.
        #[command(flatten)]
        from: ImportFrom,
        /// Tasks per image: `points:pointing`, `points:counting`, `ask_model_anything`,
        /// `point_explanations` (repeatable).
        #[arg(long, required = true)]
        task: Vec<String>,
    },
    /// Open, claimed and done tasks per kind.
    Status {
        /// Database.
        #[arg(long, default_value = "annotate.sqlite")]
        db: String,
    },
    /// Export finished work as Parquet datasets with provenance and the LLM trails.
    Export {
        /// Database.
        #[arg(long, default_value = "annotate.sqlite")]
        db: String,
        /// Output folder (one dataset folder per kind).
        #[arg(long)]
        out: PathBuf,
        /// Split name of the exported rows.
        #[arg(long, default_value = "train")]
        split: String,
        /// Time stamped into rows (RFC 3339 UTC or Unix seconds; default now).
        #[arg(long)]
        as_of: Option<String>,
    },
}

/// One image source for `pixmo annotate import`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ImportFrom {
    /// A folder of PNG/JPEG images.
    #[arg(long)]
    pub folder: Option<PathBuf>,
    /// A manifest: one image path (or `{"path", "caption"}` JSON) per line.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// A pixmo dataset folder (its images, with PixMo-Cap captions when present).
    #[arg(long)]
    pub dataset: Option<PathBuf>,
}
