//! Shared helpers: tiny configs, generated images and examples.

use burn::backend::{Autodiff, NdArray};
use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use pixmo_annotation_schema::Dataset;
use pixmo_trainer::batch::{Packed, pack};
use pixmo_trainer::config::ModelConfig;
use pixmo_trainer::data::{EvalTarget, Example, decode_image};
use pixmo_trainer::format::{FormattedText, Stage, Task};
use pixmo_trainer::optim::{GroupSchedule, Schedule};
use pixmo_trainer::preprocess::preprocess;
use pixmo_trainer::tokenizer::Tokenizer;
use pixmo_trainer::train::TrainConfig;

pub type Cpu = NdArray;
pub type Train = Autodiff<NdArray>;

/// PNG bytes of a `w`×`h` image: a colour plus a bright square at a position.
pub fn png(w: u32, h: u32, colour: [u8; 3], square_at: (u32, u32)) -> Vec<u8> {
    png_from_fn(w, h, |x, y| {
        let inside =
            x >= square_at.0 && x < square_at.0 + 6 && y >= square_at.1 && y < square_at.1 + 6;
        if inside { [255, 255, 255] } else { colour }
    })
}

/// PNG bytes of a `w`×`h` image whose pixel at `(x, y)` is `pixel(x, y)`.
pub fn png_from_fn(w: u32, h: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb(pixel(x, y)));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .expect("encode png");
    bytes
}

/// Four question/answer examples whose answers depend on the image colour; one image is
/// not square so padding embeddings are exercised.
pub fn colour_examples() -> Vec<Example> {
    let items = [
        ([220, 30, 30], "red", (24, 24)),
        ([30, 200, 40], "green", (24, 24)),
        ([30, 40, 220], "blue", (40, 20)),
        ([20, 20, 20], "black", (24, 24)),
    ];
    items
        .iter()
        .enumerate()
        .map(|(i, (c, name, (w, h)))| Example {
            id: format!("ex{i}"),
            dataset: Dataset::AskModelAnything,
            image: png(*w, *h, *c, (2, 2)),
            tasks: vec![Task::Qa {
                style: "user_qa".into(),
                question: "What colour is it?".into(),
                answer: format!("It is {name}."),
            }],
            transcripts: Vec::new(),
            target: EvalTarget::None,
        })
        .collect()
}

/// `examples` each asked "what colour?" and answered by the answer beside it, packed for
/// fine-tuning at the tiny model's sizes.
pub fn colour_questions(examples: &[Example], answers: &[&str]) -> Vec<Packed> {
    let config = tiny_model();
    let tok = Tokenizer::new(config.llm.vocab_size);
    examples
        .iter()
        .zip(answers)
        .map(|(ex, answer)| {
            let image = preprocess(&config.vision, &tok, &decode_image(ex).unwrap());
            let text = FormattedText {
                prompt: " User: what colour? Assistant:".into(),
                response: (*answer).into(),
            };
            pack(image, &[text], Stage::Finetune, &tok, 512)
        })
        .collect()
}

/// A tiny training config with fast schedules.
pub fn tiny_train(stage: Stage, steps: u64) -> TrainConfig {
    let g = |peak_lr| GroupSchedule { peak_lr, warmup: 2 };
    TrainConfig {
        stage,
        steps,
        micro_batch: 4,
        grad_accum: 1,
        seq_len: 256,
        seed: 17,
        max_grad_norm: 1.0,
        z_loss: 1e-4,
        dropout: 0.0,
        schedule: Schedule {
            connector: g(3e-3),
            vit: g(1e-3),
            llm: g(3e-3),
            total_steps: steps,
            alpha_f: 0.1,
        },
        checkpoint_every: 0,
        mixed: None,
        moments: None,
        head_chunk: None,
        attention_chunk: None,
        max_skipped_steps: 5,
        loss_scale: None,
    }
}

pub fn tiny_model() -> ModelConfig {
    ModelConfig::tiny()
}

/// burn's ndarray backend keeps one global random generator (initialisation, dropout), so
/// tests that draw from it run one at a time to stay reproducible.
pub fn backend_rng() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Every parameter value of a module, in module order.
pub fn flat<B: Backend, M: Module<B>>(m: &M) -> Vec<f32> {
    struct Flatten(Vec<f32>);
    impl<B: Backend> ModuleVisitor<B> for Flatten {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let values = param.val().into_data().convert::<f32>();
            self.0.extend(values.to_vec::<f32>().expect("f32 values"));
        }
    }
    let mut f = Flatten(Vec::new());
    m.visit(&mut f);
    f.0
}

/// The softmax of each row of `logits`, flat.
pub fn softmax_rows<B: burn::tensor::backend::Backend>(
    logits: burn::tensor::Tensor<B, 2>,
) -> Vec<f32> {
    burn::tensor::activation::softmax(logits, 1)
        .into_data()
        .convert::<f32>()
        .to_vec()
        .unwrap()
}

/// The largest difference between `a` and `b` (of one length), value by value.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
