//! Pretrained-weight import from generated safetensors files with Hugging Face names.

use burn::prelude::*;
use pixmo_trainer::batch::{collate, pack};
use pixmo_trainer::data::decode_image;
use pixmo_trainer::format::{FormattedText, Stage};
use pixmo_trainer::import::{
    HfTensors, NamedTensor, export_clip, export_qwen2, import_clip, import_qwen2, write_safetensors,
};
use pixmo_trainer::model::{Molmo, ResidualDropout};
use pixmo_trainer::preprocess::preprocess;
use pixmo_trainer::tokenizer::Tokenizer;

use crate::common::{Cpu, backend_rng, colour_examples, tiny_model};

fn logits(model: &Molmo<Cpu>) -> Vec<f32> {
    let config = tiny_model();
    let tok = Tokenizer::new(config.llm.vocab_size);
    let ex = &colour_examples()[2];
    let image = preprocess(&config.vision, &tok, &decode_image(ex).unwrap());
    let text = FormattedText {
        prompt: " User: colour? Assistant:".into(),
        response: " blue".into(),
    };
    let packed = pack(image, &[text], Stage::Finetune, &tok, 512);
    let batch = collate::<Cpu>(&[packed], &config.vision, &Default::default());
    model
        .forward(&batch, &ResidualDropout::Off)
        .into_data()
        .to_vec()
        .unwrap()
}

#[test]
fn weights_round_trip_through_hf_safetensors() {
    let _rng = backend_rng();
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_model();
    let device = Default::default();
    <Cpu as Backend>::seed(&device, 1);
    let source = Molmo::<Cpu>::new(&config, &device);
    // A CLIP checkpoint with one block more than Molmo uses, as with the real 24-block CLIP.
    let mut bigger = config.clone();
    bigger.vit.layers += 1;
    let clip_source = Molmo::<Cpu>::new(&bigger, &device);
    let mut clip = export_clip(&clip_source.vit);
    for (name, shape, values) in export_clip(&source.vit) {
        if let Some(slot) = clip.iter_mut().find(|t| t.0 == name) {
            *slot = (name, shape, values);
        }
    }
    clip.push((
        "vision_model.post_layernorm.weight".into(),
        vec![32],
        vec![1.0; 32],
    ));
    let clip_path = dir.path().join("clip.safetensors");
    write_safetensors(&clip_path, &clip).unwrap();
    // Qwen2 split over two shards, as large checkpoints are.
    let qwen = export_qwen2(&source.llm);
    let (a, b) = qwen.split_at(qwen.len() / 2);
    let shards = [
        dir.path().join("q-1.safetensors"),
        dir.path().join("q-2.safetensors"),
    ];
    write_safetensors(&shards[0], a).unwrap();
    write_safetensors(&shards[1], b).unwrap();

    <Cpu as Backend>::seed(&device, 2);
    let mut target = Molmo::<Cpu>::new(&config, &device);
    assert_ne!(logits(&source), logits(&target));
    let mut clip_tensors = HfTensors::load(&[clip_path]).unwrap();
    target.vit = import_clip(target.vit, &mut clip_tensors).unwrap();
    let left = clip_tensors.remaining();
    assert!(
        left.iter()
            .all(|n| n.contains("layers.3.") || n.contains("post_layernorm")),
        "{left:?}"
    );
    let mut qwen_tensors = HfTensors::load(&shards).unwrap();
    target.llm = import_qwen2(target.llm, &mut qwen_tensors).unwrap();
    assert!(qwen_tensors.remaining().is_empty());
    // The connector is Molmo's own and not in either checkpoint.
    target.connector = source.connector.clone();
    let (x, y) = (logits(&source), logits(&target));
    let diff = x
        .iter()
        .zip(&y)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(diff < 1e-5, "{diff}");
}

#[test]
fn hf_layouts_are_transposed_and_permuted() {
    let _rng = backend_rng();
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_model();
    let device = Default::default();
    let model = Molmo::<Cpu>::new(&config, &device);
    // Every tensor filled with its own flat index, in the HF layout.
    let numbered = |t: Vec<NamedTensor>| -> Vec<NamedTensor> {
        t.into_iter()
            .map(|(n, s, v)| {
                #[allow(clippy::cast_precision_loss)]
                let values = (0..v.len()).map(|i| i as f32).collect();
                (n, s, values)
            })
            .collect()
    };
    let path = dir.path().join("w.safetensors");
    let mut all = numbered(export_clip(&model.vit));
    all.extend(numbered(export_qwen2(&model.llm)));
    all.retain(|t| t.0 != "lm_head.weight"); // tied: the head comes from the embedding
    write_safetensors(&path, &all).unwrap();
    let mut t = HfTensors::load(std::slice::from_ref(&path)).unwrap();
    let vit = import_clip(model.vit.clone(), &mut t).unwrap();
    let llm = import_qwen2(model.llm.clone(), &mut t).unwrap();

    // Conv [d=32, c=3, y=4, x=4] → linear [(y, x, c), d].
    let w: Vec<f32> = vit
        .patch_embedding
        .weight
        .val()
        .into_data()
        .to_vec()
        .unwrap();
    let (o, c, y, x) = (5usize, 2usize, 1usize, 3usize);
    let hf_index = ((o * 3 + c) * 4 + y) * 4 + x;
    #[allow(clippy::cast_precision_loss)]
    let want = hf_index as f32;
    assert_eq!(w[((y * 4 + x) * 3 + c) * 32 + o], want);
    // Linear [out, in] → [in, out]: q_proj of block 0 is 32×32.
    let q: Vec<f32> = vit.blocks[0]
        .attn
        .wq
        .weight
        .val()
        .into_data()
        .to_vec()
        .unwrap();
    assert_eq!(q[7 * 32 + 3], (3 * 32 + 7) as f32);
    // k_proj of the LLM is [kv·hd = 32, d = 64] in HF → [64, 32] in burn; its bias comes too.
    let k: Vec<f32> = llm.layers[1]
        .self_attn
        .k_proj
        .weight
        .val()
        .into_data()
        .to_vec()
        .unwrap();
    assert_eq!(k[10 * 32 + 4], (4 * 64 + 10) as f32);
    let kb: Vec<f32> = llm.layers[1]
        .self_attn
        .k_proj
        .bias
        .as_ref()
        .unwrap()
        .val()
        .into_data()
        .to_vec()
        .unwrap();
    assert_eq!(kb[31], 31.0);
    // Tied head: lm_head[d, v] is the embedding [v, d] transposed.
    let head: Vec<f32> = llm.lm_head.weight.val().into_data().to_vec().unwrap();
    let v = config.llm.vocab_size;
    assert_eq!(head[3 * v + 100], (100 * 64 + 3) as f32);
    // A wrong shape is refused with the tensor's name.
    let mut bad = numbered(export_qwen2(&model.llm));
    bad[0].1 = vec![10, 64];
    bad[0].2.truncate(640);
    write_safetensors(&path, &bad).unwrap();
    let err = import_qwen2(
        model.llm,
        &mut HfTensors::load(std::slice::from_ref(&path)).unwrap(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("model.embed_tokens.weight"),
        "{err}"
    );
    // CLIP's learned positions have nowhere to go in a ViT with 2-D rotary positions.
    let mut rotary = config.clone();
    rotary.vit.positions = pixmo_trainer::config::VitPositions::Rope2d;
    let rotary = Molmo::<Cpu>::new(&rotary, &device);
    write_safetensors(&path, &numbered(export_clip(&model.vit))).unwrap();
    let err = import_clip(rotary.vit, &mut HfTensors::load(&[path]).unwrap()).unwrap_err();
    assert!(err.to_string().contains("2-D rotary"), "{err}");
}
