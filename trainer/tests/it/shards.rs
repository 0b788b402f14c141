//! Reading pixmo shards into Molmo examples, and training on them.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Float64Array, Int32Array, ListArray, RecordBatch,
    StringArray, StructArray, UInt32Array,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Schema};
use pixmo_annotation_schema::{Dataset, Point};
use pixmo_trainer::data::{EvalTarget, load_examples};
use pixmo_trainer::format::{Stage, Task};
use pixmo_trainer::train::{DataSource, Trainer};

use crate::common::{Train, backend_rng, png, tiny_model, tiny_train};

/// Writes `columns` (named as in the dataset's real schema, with its types) as one shard.
pub(crate) fn write_shard(
    out: &Path,
    dataset: Dataset,
    split: &str,
    columns: Vec<(&str, ArrayRef)>,
) {
    let real = dataset.schema().schema;
    let fields: Vec<_> = columns
        .iter()
        .map(|(n, _)| real.field_with_name(n).unwrap().clone())
        .collect();
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|c| c.1).collect(),
    )
    .unwrap();
    let dir = out.join(dataset.name()).join(split);
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join("part-00000-of-00001.parquet")).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

fn struct_fields(dataset: Dataset, column: &str) -> arrow::datatypes::Fields {
    let schema = dataset.schema().schema;
    let mut t = schema.field_with_name(column).unwrap().data_type().clone();
    while let DataType::List(item) = t {
        t = item.data_type().clone();
    }
    match t {
        DataType::Struct(f) => f,
        other => panic!("{other}"),
    }
}

pub(crate) fn images(dataset: Dataset, pngs: Vec<Vec<u8>>) -> ArrayRef {
    let n = pngs.len();
    let bytes = BinaryArray::from_iter_values(pngs);
    let paths = StringArray::from(vec![Some("x.png"); n]);
    Arc::new(StructArray::new(
        struct_fields(dataset, "image"),
        vec![Arc::new(bytes), Arc::new(paths)],
        None,
    ))
}

pub(crate) fn strings(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

fn point_lists(dataset: Dataset, rows: &[Vec<Point>]) -> ArrayRef {
    let fields = struct_fields(dataset, "points");
    let xs: Vec<f64> = rows.iter().flatten().map(|p| p.x).collect();
    let ys: Vec<f64> = rows.iter().flatten().map(|p| p.y).collect();
    let values = StructArray::new(
        fields,
        vec![
            Arc::new(Float64Array::from(xs)),
            Arc::new(Float64Array::from(ys)),
        ],
        None,
    );
    let DataType::List(item) = dataset
        .schema()
        .schema
        .field_with_name("points")
        .unwrap()
        .data_type()
        .clone()
    else {
        panic!("points is a list")
    };
    Arc::new(ListArray::new(
        item,
        OffsetBuffer::from_lengths(rows.iter().map(Vec::len)),
        Arc::new(values),
        None,
    ))
}

fn transcript_lists(rows: &[Vec<&str>]) -> ArrayRef {
    let schema = Dataset::Cap.schema().schema;
    let DataType::List(item) = schema
        .field_with_name("transcripts")
        .unwrap()
        .data_type()
        .clone()
    else {
        panic!("transcripts is a list")
    };
    let values: Vec<&str> = rows.iter().flatten().copied().collect();
    Arc::new(ListArray::new(
        item,
        OffsetBuffer::from_lengths(rows.iter().map(Vec::len)),
        Arc::new(StringArray::from(values)),
        None,
    ))
}

pub(crate) fn build_fixture(out: &Path) {
    let n = 6;
    let times = ["10:08:32", "3:15", "7:45:05", "12:00", "1:59", "6:30:30"];
    write_shard(
        out,
        Dataset::Clocks,
        "train",
        vec![
            ("example_id", strings(&["c0", "c1", "c2", "c3", "c4", "c5"])),
            ("text", strings(&times)),
            (
                "shows_seconds",
                Arc::new(BooleanArray::from(
                    times.iter().map(|t| t.len() > 5).collect::<Vec<_>>(),
                )),
            ),
            ("question", strings(&["What time does the watch show?"; 6])),
            (
                "answer",
                strings(
                    &times
                        .iter()
                        .map(|t| format!("The watch shows {t}."))
                        .collect::<Vec<_>>()
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>(),
                ),
            ),
            (
                "image",
                images(
                    Dataset::Clocks,
                    (0..n)
                        .map(|i| png(30 + 4 * i, 28, [90, 90, 90], (i, 3)))
                        .collect(),
                ),
            ),
        ],
    );
    // PixMo-Count stores pixels: (200, 40) and (42, 160) of a 400 x 200 image are
    // (50.0, 20.0) and (10.5, 80.0) percent in Molmo's answer.
    let pts = vec![
        vec![Point { x: 200.0, y: 40.0 }, Point { x: 42.0, y: 160.0 }],
        vec![],
    ];
    write_shard(
        out,
        Dataset::Count,
        "train",
        vec![
            ("id", strings(&["n0", "n1"])),
            ("count", Arc::new(Int32Array::from(vec![2, 0]))),
            ("points", point_lists(Dataset::Count, &pts)),
            ("label", strings(&["cups", "dogs"])),
            (
                "image",
                images(Dataset::Count, vec![png(400, 200, [10, 90, 10], (5, 5)); 2]),
            ),
            ("width", Arc::new(UInt32Array::from(vec![400, 400]))),
            ("height", Arc::new(UInt32Array::from(vec![200, 200]))),
        ],
    );
    write_shard(
        out,
        Dataset::Cap,
        "train",
        vec![
            ("id", strings(&["p0"])),
            ("caption", strings(&["A grey square with a white dot."])),
            (
                "transcripts",
                transcript_lists(&[vec!["um a grey square", "white dot on grey"]]),
            ),
            (
                "image",
                images(Dataset::Cap, vec![png(26, 26, [128, 128, 128], (9, 9))]),
            ),
        ],
    );
}

#[test]
fn shards_of_each_dataset_become_molmo_examples() {
    let dir = tempfile::tempdir().unwrap();
    build_fixture(dir.path());
    let clocks = load_examples(dir.path(), Dataset::Clocks, "train", None).unwrap();
    assert_eq!(clocks.len(), 6);
    assert_eq!(
        clocks[0].target,
        EvalTarget::Clock {
            text: "10:08:32".into(),
            shows_seconds: true
        }
    );
    assert_eq!(
        clocks[1].tasks,
        vec![Task::Qa {
            style: "clocks".into(),
            question: "What time does the watch show?".into(),
            answer: "The watch shows 3:15.".into()
        }]
    );
    assert_eq!(
        load_examples(dir.path(), Dataset::Clocks, "train", Some(2))
            .unwrap()
            .len(),
        2
    );

    let count = load_examples(dir.path(), Dataset::Count, "train", None).unwrap();
    assert_eq!(count[0].target, EvalTarget::Count(2));
    let mut rng = pixmo_trainer::rng::Rng::new(0);
    let f = pixmo_trainer::format::format_task(&count[0].tasks[0], Stage::Finetune, &mut rng);
    assert_eq!(
        f.response,
        " Counting the <points x1=\"10.5\" y1=\"80.0\" x2=\"50.0\" y2=\"20.0\" alt=\"cups\">cups\
         </points> shows a total of 2."
    );
    let f = pixmo_trainer::format::format_task(&count[1].tasks[0], Stage::Finetune, &mut rng);
    assert_eq!(f.response, " There are none.");

    let cap = load_examples(dir.path(), Dataset::Cap, "train", None).unwrap();
    let tasks = cap[0].tasks_for(Stage::Pretrain, &mut rng);
    assert_eq!(tasks.len(), 2, "caption packed with one transcript");
    assert!(matches!(&tasks[1], Task::Transcript(t) if t.contains("grey") || t.contains("square")));

    assert!(
        load_examples(dir.path(), Dataset::Docs, "train", None)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_finetuning_mixture_over_shards_trains() {
    let _rng = backend_rng();
    let dir = tempfile::tempdir().unwrap();
    build_fixture(dir.path());
    let data: Vec<_> = [Dataset::Clocks, Dataset::Count, Dataset::Cap]
        .into_iter()
        .map(|d| (d, load_examples(dir.path(), d, "train", None).unwrap()))
        .collect();
    let source = DataSource::new(data, Stage::Finetune, 4).unwrap();
    let mut train = tiny_train(Stage::Finetune, 2);
    train.grad_accum = 2;
    train.micro_batch = 2;
    let mut t = Trainer::<Train>::new(tiny_model(), train, source, Default::default()).unwrap();
    let a = t.train_step().expect("step");
    let b = t.train_step().expect("step");
    assert!(a.loss.is_finite() && b.loss.is_finite());
    assert!(a.loss_tokens > 0.0);
    // The host's share of each step (decoding shard images, packing, collating) is timed.
    for m in [&a, &b] {
        assert!(
            m.data_seconds > 0.0 && m.data_seconds < m.seconds,
            "data {} of {} s",
            m.data_seconds,
            m.seconds
        );
    }
    assert_eq!(t.data.skipped, 0);
    assert_eq!(t.data.state().drawn, 8);
}
