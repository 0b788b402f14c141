//! The card text: YAML front matter and Markdown sections.

use std::fmt::Write as _;

use arrow::datatypes::{DataType, Field};

use crate::Linked;
use crate::about::About;
use crate::extension::{CardContext, CardExtension, pct, ratio};
use crate::read::DatasetFiles;
use crate::stats::{DISTINCT_CAP, Stats, Summary};

/// Renders the whole card.
pub(crate) fn render(
    files: &DatasetFiles,
    stats: &Stats,
    plots: &[Linked],
    about: &About,
    extension: &dyn CardExtension,
) -> String {
    // Whether a text LLM wrote any field, from the first row's recorded models (LLM stages
    // record a prompt template); `None` when the lineage could not be read.
    let llm_used = stats.lineage.as_ref().map(|l| {
        l.models
            .iter()
            .any(|m| m.prompt_template_id.is_some() || m.kind.starts_with("llm"))
    });
    let card = Card {
        files,
        stats,
        about,
        extension,
        context: CardContext {
            dataset: files.dataset.name(),
            rows: stats.rows(),
            llm_used,
        },
    };
    let mut out = String::new();
    front_matter(&mut out, &card);
    body(&mut out, &card, plots);
    out
}

/// What one card is written from.
struct Card<'a> {
    files: &'a DatasetFiles,
    stats: &'a Stats,
    about: &'a About,
    extension: &'a dyn CardExtension,
    context: CardContext<'a>,
}

/// Hugging Face size category of `n` rows.
pub(crate) fn size_category(n: u64) -> &'static str {
    match n {
        0..1_000 => "n<1K",
        1_000..10_000 => "1K<n<10K",
        10_000..100_000 => "10K<n<100K",
        100_000..1_000_000 => "100K<n<1M",
        1_000_000..10_000_000 => "1M<n<10M",
        10_000_000..100_000_000 => "10M<n<100M",
        100_000_000..1_000_000_000 => "100M<n<1B",
        1_000_000_000..10_000_000_000 => "1B<n<10B",
        10_000_000_000..100_000_000_000 => "10B<n<100B",
        100_000_000_000..1_000_000_000_000 => "100B<n<1T",
        _ => "n>1T",
    }
}

fn front_matter(out: &mut String, card: &Card<'_>) {
    let Card {
        files,
        stats,
        about,
        ..
    } = card;
    let name = files.dataset.name();
    let _ = writeln!(out, "---\nlicense: {}", about.license);
    out.push_str(
        "task_categories:\n- visual-question-answering\n- image-to-text\nlanguage:\n- en\n",
    );
    let _ = writeln!(out, "size_categories:\n- {}", size_category(stats.rows()));
    let _ = writeln!(out, "pretty_name: {} (pixmo rebuild)", about.pretty_name);
    let _ = writeln!(out, "tags:\n- pixmo\n- synthetic\n- vlm-free\n- {name}");
    out.push_str("configs:\n- config_name: default\n  data_files:\n");
    for split in stats.splits.keys() {
        let _ = writeln!(out, "  - split: {split}\n    path: {split}/part-*.parquet");
    }
    out.push_str("dataset_info:\n  features:\n");
    for field in files.dataset.schema().schema.fields() {
        yaml_field(out, field, 2);
    }
    out.push_str("  splits:\n");
    for (split, s) in &stats.splits {
        let _ = writeln!(
            out,
            "  - name: {split}\n    num_bytes: {}\n    num_examples: {}",
            s.bytes, s.rows
        );
    }
    let _ = writeln!(
        out,
        "  download_size: {}\n  dataset_size: {}\n---\n",
        stats.bytes(),
        stats.bytes()
    );
}

/// One feature as a Hugging Face `dataset_info` YAML list item, indented by `indent` spaces.
fn yaml_field(out: &mut String, field: &Field, indent: usize) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}- name: {}", field.name());
    if field.name() == "image" {
        let _ = writeln!(out, "{pad}  dtype: image");
        return;
    }
    yaml_type(out, field.data_type(), "dtype", indent + 2);
}

/// A type under `key` (`dtype`, `list` or `struct` for nested types).
fn yaml_type(out: &mut String, data_type: &DataType, key: &str, indent: usize) {
    let pad = " ".repeat(indent);
    match data_type {
        DataType::Struct(fields) => {
            let _ = writeln!(out, "{pad}struct:");
            for f in fields {
                yaml_field(out, f, indent);
            }
        }
        DataType::List(item) | DataType::LargeList(item) => match item.data_type() {
            DataType::Struct(fields) => {
                let _ = writeln!(out, "{pad}list:");
                for f in fields {
                    yaml_field(out, f, indent);
                }
            }
            DataType::List(_) | DataType::LargeList(_) => {
                let _ = writeln!(out, "{pad}list:");
                yaml_type(out, item.data_type(), "list", indent + 2);
            }
            other => {
                let _ = writeln!(out, "{pad}list: {}", dtype(other));
            }
        },
        other => {
            let _ = writeln!(out, "{pad}{key}: {}", dtype(other));
        }
    }
}

/// The Hugging Face `dtype` of a primitive Arrow type.
fn dtype(data_type: &DataType) -> String {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary | DataType::LargeBinary => "binary".into(),
        DataType::Boolean => "bool".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float32 => "float32".into(),
        DataType::Float64 => "float64".into(),
        DataType::Timestamp(_, Some(tz)) => format!("timestamp[us, tz={tz}]"),
        DataType::Timestamp(_, None) => "timestamp[us]".into(),
        other => other.to_string().to_lowercase(),
    }
}

fn body(out: &mut String, card: &Card<'_>, plots: &[Linked]) {
    let Card {
        files,
        stats,
        about,
        extension,
        context,
    } = card;
    let run = &files.run;
    let name = files.dataset.name();
    let rows = stats.rows();
    let _ = writeln!(out, "# {} (pixmo rebuild)\n", about.pretty_name);
    out.push_str("## Dataset summary\n\n");
    let _ = writeln!(out, "{}\n", about.summary);
    for note in extension.summary_notes(context) {
        let _ = writeln!(out, "{note}\n");
    }
    let images = about.how_made;
    let _ = writeln!(
        out,
        "This copy was rebuilt with the pixmo pipelines, following the PixMo recipe of \
         Deitke et al. (2024): {rows} rows in {} splits. {images}, and **no \
         vision-language model saw any image** on the way to a row: every row records its \
         lineage in `provenance`, and `pixmo audit` re-derives the `vlm_free` claim from it \
         ({} of {rows} rows claim it).\n",
        stats.splits.len(),
        stats.vlm_free
    );
    out.push_str("Load it with the Hugging Face `datasets` library (the `image` column decodes as an `Image`):\n\n```python\nfrom datasets import load_dataset\n\n");
    let _ = writeln!(
        out,
        "# Split names come from the folder names (`val` is read as `validation`).\nds = load_dataset(\"parquet\", data_dir=\"OUT/{name}\")"
    );
    let files_arg: Vec<String> = stats
        .splits
        .keys()
        .map(|s| format!("\"{s}\": \"OUT/{name}/{s}/part-*.parquet\""))
        .collect();
    let _ = writeln!(
        out,
        "# Or name the splits explicitly:\nds = load_dataset(\"parquet\", data_files={{{}}})\n```\n",
        files_arg.join(", ")
    );
    let _ = writeln!(
        out,
        "The `configs` paths in the front matter are relative to the dataset root \
         (`OUT/{name}`): copy this file there as `README.md` to publish the folder as a \
         Hugging Face dataset repository. The plots are in `{name}/` next to this card.\n"
    );

    out.push_str("## How it was built\n\n");
    out.push_str("| | |\n|---|---|\n");
    for (key, value) in [
        ("Pipeline", format!("`{}`", run.pipeline)),
        ("Dataset", format!("`{}`", run.dataset)),
        ("Run seed", run.seed.to_string()),
        ("Config hash", format!("`{}`", run.config_hash)),
        ("Code version", format!("`{}`", run.code_version)),
        ("Schema version", format!("`{}`", run.schema_version)),
        ("Run id", format!("`{}`", run.run_id)),
        ("Build time (UTC)", rfc3339(run.as_of_us)),
        ("Records per shard", run.rows_per_shard.to_string()),
        (
            "Manifest",
            if files.finalized {
                "finalized (`manifest.json`)".to_string()
            } else {
                "not finalized; figures come from the commit markers".to_string()
            },
        ),
    ] {
        let _ = writeln!(out, "| {key} | {value} |");
    }
    out.push('\n');
    match &stats.lineage {
        Some(lineage) => {
            out.push_str("Stages recorded in the provenance of the first row, in execution order:\n\n| stage | kind | version | config hash | uses a VLM |\n|---|---|---|---|---|\n");
            for s in &lineage.stages {
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {} | `{}` | {} |",
                    s.name,
                    s.kind,
                    s.version,
                    short(&s.config_hash),
                    if s.uses_vlm { "yes" } else { "no" }
                );
            }
            out.push('\n');
            if lineage.models.is_empty() {
                out.push_str("No models were used.\n\n");
            } else {
                out.push_str("Models:\n\n| stage | kind | name | file sha256 | prompt template |\n|---|---|---|---|---|\n");
                for m in &lineage.models {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | `{}` | {} |",
                        m.stage,
                        m.kind,
                        m.name,
                        short(&m.file_sha256),
                        m.prompt_template_id.as_deref().unwrap_or("–")
                    );
                }
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "Sources: {}.\n",
                lineage
                    .source_kinds
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        None => out.push_str("The dataset has no rows, so no lineage is recorded.\n\n"),
    }

    columns(out, files);

    out.push_str("## Statistics\n\n");
    out.push_str(
        "| split | rows | rejects | shards | bytes on disk |\n|---|---:|---:|---:|---:|\n",
    );
    for (split, s) in &stats.splits {
        let _ = writeln!(
            out,
            "| {split} | {} | {} | {} | {} ({}) |",
            s.rows,
            s.rejects,
            s.shards,
            s.bytes,
            human_bytes(s.bytes)
        );
    }
    let _ = writeln!(
        out,
        "| **total** | {rows} | {} | {} | {} ({}) |\n",
        stats.rejects(),
        stats.splits.values().map(|s| s.shards).sum::<usize>(),
        stats.bytes(),
        human_bytes(stats.bytes())
    );
    if stats.rejects_by.is_empty() {
        out.push_str("No record was rejected.\n\n");
    } else {
        out.push_str("Rejected records by stage and reason (they are in `.pixmo/rejects/`, not in the splits):\n\n| stage | reason | records |\n|---|---|---:|\n");
        for ((stage, kind), n) in &stats.rejects_by {
            let _ = writeln!(out, "| {stage} | {kind} | {n} |");
        }
        out.push('\n');
    }
    let mut sizes: Vec<(&(u32, u32), &u64)> = stats.sizes.iter().collect();
    sizes.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let _ = writeln!(
        out,
        "Image sizes ({} distinct, most common first):\n\n| width x height | rows | share |\n|---|---:|---:|",
        sizes.len()
    );
    for ((w, h), n) in sizes.iter().take(10) {
        let _ = writeln!(out, "| {w} x {h} | {n} | {} |", pct(**n, rows));
    }
    out.push('\n');
    out.push_str(&extension.statistics(context));
    if !stats.columns.is_empty() {
        out.push_str("### Columns\n\n| column | type | nulls | summary |\n|---|---|---:|---|\n");
        for c in &stats.columns {
            let summary = match &c.summary {
                _ if c.values == 0 => "all null".to_string(),
                Summary::Text {
                    distinct,
                    capped,
                    chars,
                } => format!(
                    "{}{} distinct, {:.1} characters on average",
                    if *capped { "over " } else { "" },
                    if *capped {
                        DISTINCT_CAP
                    } else {
                        distinct.len()
                    },
                    ratio(*chars, c.values)
                ),
                Summary::Number { min, max, sum } if c.values > 0 => {
                    format!("min {min}, mean {:.3}, max {max}", sum / c.values as f64)
                }
                Summary::Bool { trues } => format!("{} true", pct(*trues, c.values)),
                Summary::List { items } => {
                    format!("{:.2} items on average", ratio(*items, c.values))
                }
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {summary} |",
                c.name, c.data_type, c.nulls
            );
        }
        out.push('\n');
    }
    for plot in plots {
        let _ = writeln!(out, "![{}]({})\n", plot.caption, plot.link);
    }

    out.push_str("## Provenance and audit\n\n");
    let _ = writeln!(
        out,
        "Every row has a `provenance` struct: schema and code versions, pipeline, run id, run \
         and record seeds, config hash, the stages applied (with versions, config hashes and \
         whether they used a VLM), the models used (with file hashes and, for LLMs, prompt \
         template ids and hashes), the sources (with hashes), the build time and the \
         `vlm_free` claim. Check a copy with:\n\n```sh\npixmo audit OUT/{name}\npixmo sql OUT/{name} \"SELECT split, count(*) FROM rows GROUP BY split\"\n```\n\n\
         The audit re-hashes every shard against its commit marker and every image against \
         `image_sha256`, checks image headers against `width`/`height`, the schema, unique \
         ids, complete provenance, and re-derives `vlm_free` from the recorded stages and \
         models: a row whose lineage names a VLM fails it.\n"
    );

    out.push_str("## Limitations\n\n");
    for item in about.limitations {
        let _ = writeln!(out, "- {item}");
    }
    out.push_str("- This is a rebuild in the spirit of the released PixMo data, not the released data itself; sizes and distributions follow the pipeline configuration recorded above.\n");
    for item in extension.limitations(context) {
        let _ = writeln!(out, "- {item}");
    }
    out.push('\n');
    out.push_str("## Licence\n\n");
    for item in about.license_notes {
        let _ = writeln!(out, "- {item}");
    }
    let _ = writeln!(
        out,
        "- The rows (images, text and labels) are released under `{}`.\n",
        about.license
    );
    rebuild(out, files, extension.records_from());

    out.push_str("## Citation\n\n```bibtex\n@article{deitke2024molmo,\n  title   = {Molmo and PixMo: Open Weights and Open Data for State-of-the-Art Vision-Language Models},\n  author  = {Deitke, Matt and Clark, Christopher and Lee, Sangho and Tripathi, Rohun and Yang, Yue and Park, Jae Sung and Salehi, Mohammadreza and Muennighoff, Niklas and Lo, Kyle and Soldaini, Luca and others},\n  journal = {arXiv preprint arXiv:2409.17146},\n  year    = {2024}\n}\n```\n");
}

/// `## Columns`: every column of the schema with its type and the annotation schema's
/// description (the doc comment of the row type's field).
fn columns(out: &mut String, files: &DatasetFiles) {
    let json = files.dataset.json_schema();
    let properties = json.get("properties").and_then(|p| p.as_object());
    out.push_str("## Columns\n\n| column | type | description |\n|---|---|---|\n");
    for field in files.dataset.schema().schema.fields() {
        let description = properties
            .and_then(|p| p.get(field.name()))
            .and_then(|p| p.get("description"))
            .and_then(|d| d.as_str())
            .unwrap_or("")
            .replace('\n', " ")
            .replace('|', "\\|");
        let data_type = if field.name() == "image" {
            "image".to_string()
        } else {
            short_type(field.data_type())
        };
        let _ = writeln!(out, "| `{}` | {data_type} | {description} |", field.name());
    }
    out.push('\n');
}

/// A compact type name: `string`, `list<string>`, `struct`, `list<struct>`.
fn short_type(data_type: &DataType) -> String {
    match data_type {
        DataType::Struct(_) => "struct".into(),
        DataType::List(item) | DataType::LargeList(item) => {
            format!("list<{}>", short_type(item.data_type()))
        }
        other => dtype(other),
    }
}

/// `## Rebuild`: the commands that rebuild the shards byte for byte, one build per
/// generation (growth appends), from the run's seed and pinned build times; `records_from`
/// names the source of a collected dataset's records (`("--inbox", "INBOX")`) instead of
/// `--count`.
fn rebuild(out: &mut String, files: &DatasetFiles, records_from: Option<(&str, &str)>) {
    let run = &files.run;
    let name = files.dataset.name();
    out.push_str("## Rebuild\n\n");
    let _ = writeln!(
        out,
        "Every shard is a pure function of the pipeline spec, the run seed, the build time \
         stamped into the rows and the pixmo code (`{}`), whatever the number of workers or \
         shards. With the same code these commands rebuild this dataset byte for byte (a \
         new run must report config hash `{}`; pass `--spec FILE` when the pipeline \
         `{}` is not the dataset's default spec), then verify it and rewrite this card:\n",
        run.code_version, run.config_hash, run.pipeline
    );
    if let Some((_, placeholder)) = records_from {
        let _ = writeln!(
            out,
            "The records come from `{placeholder}`, not from a count: each build line reads \
             it as it stood at that build (a refresh appends what arrived since).\n"
        );
    }
    out.push_str("```sh\n");
    for generation in &run.generations {
        let records = match records_from {
            Some((option, placeholder)) => format!("{option} {placeholder}"),
            None => format!("--count {}", generation.counts.values().sum::<u64>()),
        };
        let _ = writeln!(
            out,
            "pixmo build {name} {records} --seed {} --as-of {} --out OUT",
            run.seed,
            rfc3339(generation.as_of_us)
        );
    }
    let _ = writeln!(
        out,
        "pixmo verify OUT/{name}\npixmo card OUT/{name} --cards-dir CARDS\n```\n"
    );
}

/// First 12 characters of a hash.
fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// `12.3 MiB`.
#[allow(clippy::cast_precision_loss)]
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Microseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let days = seconds.div_euclid(86_400);
    let rem = seconds.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_categories_follow_hugging_face() {
        assert_eq!(size_category(0), "n<1K");
        assert_eq!(size_category(999), "n<1K");
        assert_eq!(size_category(1_000), "1K<n<10K");
        assert_eq!(size_category(825_869), "100K<n<1M");
        assert_eq!(size_category(5_000_000), "1M<n<10M");
    }

    #[test]
    fn timestamps_format_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400_000_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1_000_000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn bytes_are_human_readable() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn nested_features_render_as_hugging_face_yaml() {
        use arrow::datatypes::Fields;
        let point = Fields::from(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("y", DataType::Float64, false),
        ]);
        let mut out = String::new();
        for field in [
            Field::new("id", DataType::Utf8, false),
            Field::new(
                "points",
                DataType::List(Field::new("item", DataType::Struct(point), false).into()),
                false,
            ),
            Field::new("image", DataType::Binary, false),
        ] {
            yaml_field(&mut out, &field, 0);
        }
        assert_eq!(
            out,
            "- name: id\n  dtype: string\n- name: points\n  list:\n  - name: x\n    dtype: float64\n  - name: y\n    dtype: float64\n- name: image\n  dtype: image\n"
        );
    }
}
