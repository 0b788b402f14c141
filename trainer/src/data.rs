//! Shards → Molmo examples. Every PixMo dataset's rows become an [`Example`]: the encoded
//! image, the annotations on it as [`Task`]s, and what an evaluator needs to score it.

use std::path::{Path, PathBuf};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StructArray};
use arrow::datatypes::{ArrowPrimitiveType, Float64Type, Int32Type, UInt32Type};
use pixmo_annotation_schema::{Dataset, Point, PointUnit};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::format::{Stage, Task};
use crate::rng::Rng;

/// What an evaluator compares a generated answer with.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalTarget {
    /// Nothing to score beyond the loss.
    None,
    /// A clock's labelled time (`H:MM[:SS]`).
    Clock {
        /// The time as Molmo's clock evaluator parses it.
        text: String,
        /// Whether seconds are part of the label.
        shows_seconds: bool,
    },
    /// The number of objects.
    Count(usize),
}

/// One image with all its annotations.
#[derive(Clone, Debug)]
pub struct Example {
    /// Row id.
    pub id: String,
    /// Dataset the row came from.
    pub dataset: Dataset,
    /// Encoded image bytes (PNG or JPEG).
    pub image: Vec<u8>,
    /// Annotations of the image.
    pub tasks: Vec<Task>,
    /// PixMo-Cap transcripts (pre-training packs the caption with one of them).
    pub transcripts: Vec<String>,
    /// What evaluation compares with.
    pub target: EvalTarget,
}

impl Example {
    /// The tasks packed for this image in `stage`: caption plus one random transcript for
    /// PixMo-Cap pre-training, every annotation (shuffled) in fine-tuning.
    #[must_use]
    pub fn tasks_for(&self, stage: Stage, rng: &mut Rng) -> Vec<Task> {
        let mut tasks = self.tasks.clone();
        match stage {
            Stage::Pretrain => {
                if !self.transcripts.is_empty() {
                    tasks.push(Task::Transcript(rng.pick(&self.transcripts).clone()));
                }
            }
            Stage::Finetune => rng.shuffle(&mut tasks),
        }
        tasks
    }

    /// SHA-256 of what training reads from this example: its dataset, id, image bytes,
    /// annotations (points by their exact coordinates) and transcripts, each field
    /// length-prefixed so that no two different examples give the same byte stream.
    #[must_use]
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Fields(Sha256::new());
        h.put(self.dataset.name().as_bytes());
        h.put(self.id.as_bytes());
        h.put(&self.image);
        h.count(self.tasks.len());
        for task in &self.tasks {
            match task {
                Task::Caption(text) => h.puts(&["caption", text]),
                Task::Transcript(text) => h.puts(&["transcript", text]),
                Task::Qa {
                    style,
                    question,
                    answer,
                } => h.puts(&["qa", style, question, answer]),
                Task::Pointing { label, points } | Task::Counting { label, points } => {
                    h.puts(&[task.style(), label]);
                    h.count(points.len());
                    for p in points {
                        h.0.update(p.x.to_bits().to_le_bytes());
                        h.0.update(p.y.to_bits().to_le_bytes());
                    }
                }
            }
        }
        h.count(self.transcripts.len());
        for text in &self.transcripts {
            h.put(text.as_bytes());
        }
        h.0.finalize().into()
    }
}

/// A hash fed length-prefixed fields.
struct Fields(Sha256);

impl Fields {
    fn count(&mut self, n: usize) {
        self.0.update((n as u64).to_le_bytes());
    }

    fn put(&mut self, bytes: &[u8]) {
        self.count(bytes.len());
        self.0.update(bytes);
    }

    fn puts(&mut self, texts: &[&str]) {
        for text in texts {
            self.put(text.as_bytes());
        }
    }
}

/// The shard files of one dataset split under a pixmo output folder, sorted.
///
/// # Errors
/// When the folder cannot be listed.
pub fn shard_paths(out: &Path, dataset: Dataset, split: &str) -> Result<Vec<PathBuf>> {
    let dir = pixmo_shards::DatasetLayout::new(out, dataset.name()).split_dir(split);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| Error::io("list", &dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "parquet")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("part-"))
        })
        .collect();
    paths.sort();
    Ok(paths)
}

/// Reads every example of a dataset split (at most `limit` when given).
///
/// # Errors
/// When a shard cannot be read or does not have the dataset's columns.
pub fn load_examples(
    out: &Path,
    dataset: Dataset,
    split: &str,
    limit: Option<usize>,
) -> Result<Vec<Example>> {
    let mut examples = Vec::new();
    for path in shard_paths(out, dataset, split)? {
        let batches = pixmo_shards::read_batches(&path, 512).map_err(|source| Error::Shard {
            path: path.clone(),
            source,
        })?;
        for batch in &batches {
            let rows = Columns {
                batch,
                path: &path,
                dataset,
            };
            for i in 0..batch.num_rows() {
                if limit.is_some_and(|l| examples.len() >= l) {
                    return Ok(examples);
                }
                examples.push(rows.example(i)?);
            }
        }
    }
    Ok(examples)
}

struct Columns<'a> {
    batch: &'a RecordBatch,
    path: &'a Path,
    dataset: Dataset,
}

impl Columns<'_> {
    fn err(&self, message: String) -> Error {
        Error::Schema {
            path: self.path.to_path_buf(),
            dataset: self.dataset.name().to_string(),
            message,
        }
    }

    fn col(&self, name: &str) -> Result<&ArrayRef> {
        self.batch
            .column_by_name(name)
            .ok_or_else(|| self.err(format!("missing column `{name}`")))
    }

    fn string(&self, name: &str, i: usize) -> Result<String> {
        let c = self.col(name)?;
        let a = c
            .as_string_opt::<i32>()
            .ok_or_else(|| self.err(format!("column `{name}` is not a string")))?;
        Ok(if a.is_null(i) {
            String::new()
        } else {
            a.value(i).to_string()
        })
    }

    fn strings(&self, name: &str, i: usize) -> Result<Vec<String>> {
        let list = self
            .col(name)?
            .as_list_opt::<i32>()
            .ok_or_else(|| self.err(format!("column `{name}` is not a list")))?;
        let values = list.value(i);
        let a = values
            .as_string_opt::<i32>()
            .ok_or_else(|| self.err(format!("column `{name}` is not a list of strings")))?;
        Ok((0..a.len()).map(|j| a.value(j).to_string()).collect())
    }

    /// Row `i` of a primitive column of Arrow type `T` (`what` names it in the error).
    fn primitive<T: ArrowPrimitiveType>(
        &self,
        name: &str,
        i: usize,
        what: &str,
    ) -> Result<T::Native> {
        let a = self
            .col(name)?
            .as_primitive_opt::<T>()
            .ok_or_else(|| self.err(format!("column `{name}` is not {what}")))?;
        Ok(a.value(i))
    }

    fn int(&self, name: &str, i: usize) -> Result<i32> {
        self.primitive::<Int32Type>(name, i, "int32")
    }

    fn boolean(&self, name: &str, i: usize) -> Result<bool> {
        let a = self
            .col(name)?
            .as_boolean_opt()
            .ok_or_else(|| self.err(format!("column `{name}` is not boolean")))?;
        Ok(a.value(i))
    }

    fn points_of(&self, name: &str, array: &ArrayRef) -> Result<Vec<Point>> {
        let s: &StructArray = array
            .as_struct_opt()
            .ok_or_else(|| self.err(format!("column `{name}` is not a list of points")))?;
        let coord = |c: &str| {
            s.column_by_name(c)
                .and_then(|a| a.as_primitive_opt::<Float64Type>())
                .ok_or_else(|| self.err(format!("points of `{name}` lack float64 `{c}`")))
        };
        let (xs, ys) = (coord("x")?, coord("y")?);
        Ok((0..s.len())
            .map(|j| Point {
                x: xs.value(j),
                y: ys.value(j),
            })
            .collect())
    }

    fn uint(&self, name: &str, i: usize) -> Result<u32> {
        self.primitive::<UInt32Type>(name, i, "uint32")
    }

    /// The unit of a point column, as its field metadata names it (PixMo-Points: percent,
    /// PixMo-Count: pixels).
    fn point_unit(&self, name: &str) -> Result<PointUnit> {
        let schema = self.batch.schema();
        let unit = schema
            .field_with_name(name)
            .ok()
            .and_then(|f| f.metadata().get("unit").cloned());
        unit.as_deref()
            .and_then(PointUnit::from_metadata)
            .ok_or_else(|| {
                self.err(format!(
                    "column `{name}` names no point unit (field metadata `unit` is {unit:?}, \
                     expected \"percent\" or \"pixels\")"
                ))
            })
    }

    /// The row's points in percent, Molmo's unit: a pixel column is converted through the
    /// row's `width` and `height` here, at the boundary.
    fn points(&self, name: &str, i: usize) -> Result<Vec<Point>> {
        let list = self
            .col(name)?
            .as_list_opt::<i32>()
            .ok_or_else(|| self.err(format!("column `{name}` is not a list")))?;
        let stored = self.points_of(name, &list.value(i))?;
        match self.point_unit(name)? {
            PointUnit::Percent => Ok(stored),
            PointUnit::Pixels => {
                let (width, height) = (self.uint("width", i)?, self.uint("height", i)?);
                if width == 0 || height == 0 {
                    return Err(self.err(format!(
                        "row {i} has pixel points but a {width}x{height} image"
                    )));
                }
                Ok(stored
                    .into_iter()
                    .map(|p| Point::from_pixels(p.x, p.y, width, height))
                    .collect())
            }
        }
    }

    fn image(&self, i: usize) -> Result<Vec<u8>> {
        let s = self
            .col("image")?
            .as_struct_opt()
            .ok_or_else(|| self.err("column `image` is not a struct".into()))?;
        let bytes = s
            .column_by_name("bytes")
            .and_then(|a| a.as_binary_opt::<i32>())
            .ok_or_else(|| self.err("`image.bytes` is not binary".into()))?;
        Ok(bytes.value(i).to_vec())
    }

    fn example(&self, i: usize) -> Result<Example> {
        let qa = |style: &str, question: String, answer: String| Task::Qa {
            style: style.to_string(),
            question,
            answer,
        };
        let mut transcripts = Vec::new();
        let mut target = EvalTarget::None;
        let (id, tasks) = match self.dataset {
            Dataset::Cap => {
                transcripts = self.strings("transcripts", i)?;
                (
                    self.string("id", i)?,
                    vec![Task::Caption(self.string("caption", i)?)],
                )
            }
            Dataset::AskModelAnything => (
                self.string("id", i)?,
                vec![qa(
                    "user_qa",
                    self.string("question", i)?,
                    self.string("answer", i)?,
                )],
            ),
            Dataset::CapQa => (
                self.string("id", i)?,
                vec![qa(
                    "synthetic_qa",
                    self.string("question", i)?,
                    self.string("answer", i)?,
                )],
            ),
            Dataset::Points | Dataset::Count => {
                let points = self.points("points", i)?;
                let label = self.string("label", i)?;
                let counting = self.dataset == Dataset::Count
                    || self.string("collection_method", i)? == "counting";
                let count = usize::try_from(self.int("count", i)?).unwrap_or(0);
                let task = if counting {
                    target = EvalTarget::Count(count);
                    Task::Counting { label, points }
                } else {
                    Task::Pointing { label, points }
                };
                (self.string("id", i)?, vec![task])
            }
            Dataset::PointExplanations => {
                let answer = self.point_explanation(i)?;
                (
                    self.string("id", i)?,
                    vec![qa("point_qa", self.string("question", i)?, answer)],
                )
            }
            Dataset::Docs => self.docs(i)?,
            Dataset::Clocks => {
                target = EvalTarget::Clock {
                    text: self.string("text", i)?,
                    shows_seconds: self.boolean("shows_seconds", i)?,
                };
                (
                    self.string("example_id", i)?,
                    vec![qa(
                        "clocks",
                        self.string("question", i)?,
                        self.string("answer", i)?,
                    )],
                )
            }
        };
        Ok(Example {
            id,
            dataset: self.dataset,
            image: self.image(i)?,
            tasks,
            transcripts,
            target,
        })
    }

    /// The answer with each `<|POINT|>` replaced by Molmo's markup of its point group.
    fn point_explanation(&self, i: usize) -> Result<String> {
        let text = self.string("parsed_response", i)?;
        let alts = self.strings("alt_text", i)?;
        let inline = self.strings("inline_text", i)?;
        let groups = self
            .col("points")?
            .as_list_opt::<i32>()
            .ok_or_else(|| self.err("column `points` is not a list".into()))?
            .value(i);
        let groups = groups
            .as_list_opt::<i32>()
            .ok_or_else(|| self.err("column `points` is not a list of lists".into()))?;
        let mut out = String::new();
        for (k, piece) in text.split("<|POINT|>").enumerate() {
            if k > 0 {
                let j = k - 1;
                let pts = if j < groups.len() {
                    self.points_of("points", &groups.value(j))?
                } else {
                    Vec::new()
                };
                let label = inline.get(j).cloned().unwrap_or_default();
                let alt = alts.get(j).cloned().unwrap_or_else(|| label.clone());
                if pts.is_empty() {
                    out.push_str(&label);
                } else {
                    out.push_str(&crate::format::points_text(&pts, &label, &alt));
                }
            }
            out.push_str(piece);
        }
        Ok(out)
    }

    fn docs(&self, i: usize) -> Result<(String, Vec<Task>)> {
        let meta = self
            .col("metadata")?
            .as_struct_opt()
            .ok_or_else(|| self.err("column `metadata` is not a struct".into()))?;
        let style = meta
            .column_by_name("style")
            .and_then(|a| a.as_string_opt::<i32>())
            .map(|a| a.value(i).to_string())
            .ok_or_else(|| self.err("`metadata.style` is missing".into()))?;
        let list = self
            .col("questions")?
            .as_list_opt::<i32>()
            .ok_or_else(|| self.err("column `questions` is not a list".into()))?;
        let qs = list.value(i);
        let qs = qs
            .as_struct_opt()
            .ok_or_else(|| self.err("`questions` items are not structs".into()))?;
        let field = |name: &str| {
            qs.column_by_name(name)
                .and_then(|a| a.as_string_opt::<i32>())
                .ok_or_else(|| self.err(format!("`questions.{name}` is missing")))
        };
        let (q, a) = (field("question")?, field("answer")?);
        let tasks = (0..qs.len())
            .map(|j| Task::Qa {
                style: style.clone(),
                question: q.value(j).to_string(),
                answer: a.value(j).to_string(),
            })
            .collect();
        Ok((self.string("image_id", i)?, tasks))
    }
}

/// Decodes an example's image into normalised-later RGB floats.
///
/// # Errors
/// When the bytes are not a PNG or JPEG image.
pub fn decode_image(example: &Example) -> Result<crate::preprocess::RgbF32> {
    let img = image::load_from_memory(&example.image).map_err(|source| Error::Image {
        id: example.id.clone(),
        source,
    })?;
    let rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    Ok(crate::preprocess::RgbF32::from_rgb8(
        w as usize,
        h as usize,
        rgb.as_raw(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field training reads changes the digest, and so does moving bytes from one
    /// field to the next.
    #[test]
    fn an_example_digest_covers_what_training_reads() {
        let base = Example {
            id: "c1".into(),
            dataset: Dataset::Points,
            image: vec![1, 2, 3],
            tasks: vec![
                Task::Qa {
                    style: "user_qa".into(),
                    question: "ab".into(),
                    answer: "c".into(),
                },
                Task::Pointing {
                    label: "cat".into(),
                    points: vec![Point { x: 10.0, y: 20.5 }],
                },
            ],
            transcripts: vec!["said".into()],
            target: EvalTarget::None,
        };
        let mut variants: Vec<Example> = Vec::new();
        let mut vary = |change: &dyn Fn(&mut Example)| {
            let mut e = base.clone();
            change(&mut e);
            variants.push(e);
        };
        vary(&|e| e.id = "c2".into());
        vary(&|e| e.dataset = Dataset::Count);
        vary(&|e| e.image[2] = 4);
        vary(&|e| {
            if let Task::Qa {
                question, answer, ..
            } = &mut e.tasks[0]
            {
                *question = "a".into();
                *answer = "bc".into();
            }
        });
        vary(&|e| {
            if let Task::Pointing { points, .. } = &mut e.tasks[1] {
                points[0].y = 20.6;
            }
        });
        vary(&|e| {
            let pointing = e.tasks.pop().unwrap();
            if let Task::Pointing { label, points } = pointing {
                e.tasks.push(Task::Counting { label, points });
            }
        });
        vary(&|e| e.tasks.reverse());
        vary(&|e| e.transcripts.push(String::new()));
        vary(&|e| e.transcripts[0] = "sad".into());
        let mut digests: Vec<[u8; 32]> = variants.iter().map(Example::digest).collect();
        digests.push(base.digest());
        let distinct: std::collections::HashSet<_> = digests.iter().collect();
        assert_eq!(distinct.len(), digests.len());
        // The evaluation target is not trained on; the digest is a pure function.
        let mut scored = base.clone();
        scored.target = EvalTarget::Count(1);
        assert_eq!(scored.digest(), base.digest());
    }
}
