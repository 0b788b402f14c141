//! GGUF reader tests on hand-built files.

use std::path::Path;

use burn::backend::NdArray;
use burn::prelude::*;

use super::llama::{import_llama, llm_config, permute_rope_rows, unpermute_rope_rows};
use super::*;
use crate::import::transpose;
use crate::model::Llm;

/// A minimal GGUF writer: metadata as (key, type id, value bytes), tensors as
/// (name, dims, type id, data bytes).
#[derive(Default)]
struct Writer {
    kv: Vec<(String, u32, Vec<u8>)>,
    tensors: Vec<(String, Vec<u64>, u32, Vec<u8>)>,
    alignment: usize,
}

fn string(s: &str) -> Vec<u8> {
    let mut out = (s.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(s.as_bytes());
    out
}

fn array(element: u32, items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = element.to_le_bytes().to_vec();
    out.extend((items.len() as u64).to_le_bytes());
    for item in items {
        out.extend(item);
    }
    out
}

impl Writer {
    fn kv(&mut self, key: &str, kind: u32, value: Vec<u8>) -> &mut Self {
        self.kv.push((key.into(), kind, value));
        self
    }

    fn u32(&mut self, key: &str, v: u32) -> &mut Self {
        self.kv(key, 4, v.to_le_bytes().to_vec())
    }

    fn str(&mut self, key: &str, v: &str) -> &mut Self {
        self.kv(key, 8, string(v))
    }

    fn tensor(&mut self, name: &str, dims: &[u64], kind: u32, data: Vec<u8>) -> &mut Self {
        self.tensors.push((name.into(), dims.to_vec(), kind, data));
        self
    }

    fn f32_tensor(&mut self, name: &str, dims: &[usize], values: &[f32]) -> &mut Self {
        let dims: Vec<u64> = dims.iter().map(|&d| d as u64).collect();
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensor(name, &dims, 0, data)
    }

    fn bytes(&self) -> Vec<u8> {
        let align = if self.alignment == 0 {
            DEFAULT_ALIGNMENT
        } else {
            self.alignment
        };
        let mut out = b"GGUF".to_vec();
        out.extend(3u32.to_le_bytes());
        out.extend((self.tensors.len() as u64).to_le_bytes());
        out.extend((self.kv.len() as u64).to_le_bytes());
        for (k, kind, v) in &self.kv {
            out.extend(string(k));
            out.extend(kind.to_le_bytes());
            out.extend(v);
        }
        let mut offset = 0usize;
        let mut offsets = Vec::new();
        for (name, dims, kind, data) in &self.tensors {
            out.extend(string(name));
            out.extend((dims.len() as u32).to_le_bytes());
            for d in dims {
                out.extend(d.to_le_bytes());
            }
            out.extend(kind.to_le_bytes());
            out.extend((offset as u64).to_le_bytes());
            offsets.push(offset);
            offset = (offset + data.len()).div_ceil(align) * align;
        }
        out.resize(out.len().div_ceil(align) * align, 0);
        let start = out.len();
        for ((_, _, _, data), off) in self.tensors.iter().zip(offsets) {
            out.resize(start + off, 0);
            out.extend(data);
        }
        out
    }
}

fn parse(bytes: Vec<u8>) -> Result<GgufFile> {
    GgufFile::parse(bytes, Path::new("test.gguf"))
}

fn f16(v: f32) -> [u8; 2] {
    half::f16::from_f32(v).to_le_bytes()
}

/// A file with every metadata value type, an array, a custom alignment and one tensor of
/// each supported type.
fn sample() -> Writer {
    let mut w = Writer {
        alignment: 64,
        ..Writer::default()
    };
    w.kv("u8", 0, vec![200])
        .kv("i8", 1, vec![0xFE])
        .kv("u16", 2, 60_000u16.to_le_bytes().to_vec())
        .kv("i16", 3, (-300i16).to_le_bytes().to_vec())
        .u32("u32", 4_000_000_000)
        .kv("i32", 5, (-7i32).to_le_bytes().to_vec())
        .kv("f32", 6, 0.5f32.to_le_bytes().to_vec())
        .kv("bool", 7, vec![1])
        .str("string", "héllo")
        .kv(
            "array",
            9,
            array(8, &[string("a"), string("b c"), string("")]),
        )
        .kv("u64", 10, u64::MAX.to_le_bytes().to_vec())
        .kv("i64", 11, (-1i64).to_le_bytes().to_vec())
        .kv("f64", 12, 0.25f64.to_le_bytes().to_vec())
        .u32("general.alignment", 64);
    // Q4_1: d = 0.5, m = -1, byte j holds nibbles (lo = j, hi = 15 - j).
    let mut q41 = [f16(0.5), f16(-1.0)].concat();
    q41.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
    // Q4_0: d = 2, byte j = (lo = j, hi = 0).
    let mut q40 = f16(2.0).to_vec();
    q40.extend(0..16u8);
    // Q8_0: d = 0.25, values -16..16.
    let mut q80 = f16(0.25).to_vec();
    q80.extend((-16i8..16).map(|v| v.to_le_bytes()[0]));
    w.f32_tensor("f32", &[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, -6.5])
        .tensor("f16", &[2], 1, [f16(1.5), f16(-2.0)].concat())
        .tensor(
            "bf16",
            &[1],
            30,
            half::bf16::from_f32(3.0).to_le_bytes().to_vec(),
        )
        .tensor("q4_1", &[32], 3, q41)
        .tensor("q4_0", &[32], 2, q40)
        .tensor("q8_0", &[32], 8, q80);
    w
}

#[test]
fn every_value_type_and_supported_tensor_type_reads_back() {
    let f = parse(sample().bytes()).unwrap();
    assert_eq!(f.version, 3);
    let m = &f.metadata;
    assert_eq!(m["u8"], Value::U8(200));
    assert_eq!(m["i8"], Value::I8(-2));
    assert_eq!(m["u16"], Value::U16(60_000));
    assert_eq!(m["i16"], Value::I16(-300));
    assert_eq!(f.usize("u32").unwrap(), 4_000_000_000);
    assert_eq!(m["i32"], Value::I32(-7));
    assert_eq!(f.f64("f32").unwrap(), 0.5);
    assert_eq!(m["bool"], Value::Bool(true));
    assert_eq!(f.str("string").unwrap(), "héllo");
    assert_eq!(f.strings("array").unwrap(), ["a", "b c", ""]);
    assert_eq!(m["u64"], Value::U64(u64::MAX));
    assert_eq!(m["i64"], Value::I64(-1));
    assert_eq!(m["f64"], Value::F64(0.25));
    assert!(f.usize("i32").is_err() && f.str("u8").is_err());

    let (dims, v) = f.tensor_f32("f32").unwrap();
    assert_eq!((dims, v), (vec![3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, -6.5]));
    assert_eq!(f.tensor_f32("f16").unwrap().1, [1.5, -2.0]);
    assert_eq!(f.tensor_f32("bf16").unwrap().1, [3.0]);
    // Low nibbles are elements 0..16, high nibbles 16..32: q·d + m.
    let q41: Vec<f32> = (0..16)
        .map(|j| j as f32 * 0.5 - 1.0)
        .chain((0..16).map(|j| (15 - j) as f32 * 0.5 - 1.0))
        .collect();
    assert_eq!(f.tensor_f32("q4_1").unwrap().1, q41);
    let q40: Vec<f32> = (0..16)
        .map(|j| (j as f32 - 8.0) * 2.0)
        .chain(std::iter::repeat_n(-16.0, 16))
        .collect();
    assert_eq!(f.tensor_f32("q4_0").unwrap().1, q40);
    let q80: Vec<f32> = (-16..16).map(|v| v as f32 * 0.25).collect();
    assert_eq!(f.tensor_f32("q8_0").unwrap().1, q80);
    // The data section starts on the file's own alignment (64), tensors too.
    assert!(f.tensors.iter().all(|t| t.offset % 64 == 0));
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let bytes = sample().bytes();
    let mut last = String::new();
    for len in 0..bytes.len() {
        let err = parse(bytes[..len].to_vec()).unwrap_err().to_string();
        assert!(err.contains("test.gguf"), "{err}");
        last = err;
    }
    assert!(
        last.contains("truncated") && last.contains("q8_0"),
        "{last}"
    );
    parse(bytes).unwrap();
}

#[test]
fn corrupt_headers_are_errors() {
    let mut bytes = sample().bytes();
    bytes[0] = b'X';
    assert!(parse(bytes).unwrap_err().to_string().contains("magic"));
    // An array claiming 2^40 strings fails before allocating anything.
    let mut w = Writer::default();
    let mut huge = 8u32.to_le_bytes().to_vec();
    huge.extend((1u64 << 40).to_le_bytes());
    w.kv("huge", 9, huge);
    let err = parse(w.bytes()).unwrap_err().to_string();
    assert!(err.contains("larger than"), "{err}");
    let mut w = Writer::default();
    w.kv("odd", 99, vec![0; 8]);
    assert!(
        parse(w.bytes())
            .unwrap_err()
            .to_string()
            .contains("type 99")
    );
    let mut w = Writer::default();
    w.u32("general.alignment", 3);
    assert!(
        parse(w.bytes())
            .unwrap_err()
            .to_string()
            .contains("power of two")
    );
    let mut w = Writer::default();
    w.tensor("big", &[u64::MAX, 4], 0, Vec::new());
    assert!(parse(w.bytes()).is_err());
}

#[test]
fn unsupported_and_unknown_types_name_the_tensor_and_the_type() {
    let mut w = Writer::default();
    w.tensor("blk.0.q6", &[256], 14, vec![0; 210])
        .tensor("mystery", &[4], 99, vec![0; 16]);
    let f = parse(w.bytes()).unwrap();
    let err = f.tensor_f32("blk.0.q6").unwrap_err().to_string();
    assert!(err.contains("`blk.0.q6`") && err.contains("Q6_K"), "{err}");
    let err = f.tensor_f32("mystery").unwrap_err().to_string();
    assert!(
        err.contains("`mystery`") && err.contains("type 99"),
        "{err}"
    );
    assert!(
        f.tensor_f32("absent")
            .unwrap_err()
            .to_string()
            .contains("no tensor")
    );
}

#[test]
fn rope_row_permutation_matches_the_converter_and_inverts() {
    // Two heads of width 4, one column: the converter's
    // `reshape(2, 2, 2, 1).swapaxes(1, 2)` maps HF rows [0 1 2 3] to [0 2 1 3] per head.
    let hf: Vec<f32> = (0..8).map(|i| i as f32).collect();
    let ggml = permute_rope_rows(&hf, 2, 1);
    assert_eq!(ggml, [0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]);
    assert_eq!(unpermute_rope_rows(&ggml, 2, 1), hf);
    // Width 6 (the swap above is its own inverse; this one is not): rows (i, p) in order.
    let six: Vec<f32> = (0..6).map(|i| i as f32).collect();
    assert_eq!(
        permute_rope_rows(&six, 1, 1),
        [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    );
    assert_eq!(
        unpermute_rope_rows(&[0.0, 3.0, 1.0, 4.0, 2.0, 5.0], 1, 1),
        six
    );
    let wide: Vec<f32> = (0..96).map(|i| i as f32).collect();
    assert_eq!(
        unpermute_rope_rows(&permute_rope_rows(&wide, 3, 4), 3, 4),
        wide
    );
}

fn rows_of(lin: &burn::nn::Linear<NdArray>) -> Vec<f32> {
    let [i, o] = lin.weight.dims();
    transpose(&lin.weight.val().into_data().to_vec::<f32>().unwrap(), i, o)
}

/// A random decoder written as llama.cpp's converter would (Q/K rows permuted, `[out, in]`
/// rows, tied head) and imported into a fresh one computes the same logits.
#[test]
fn a_llama_gguf_written_like_the_converter_imports_to_the_same_logits() {
    let device = Default::default();
    let mut c = crate::config::ModelConfig::tiny().llm;
    (c.d_model, c.heads, c.kv_heads, c.mlp_hidden, c.vocab_size) = (48, 4, 2, 80, 40);
    let mut llm = Llm::<NdArray>::new(&c, &device);
    // Llama has no Q/K/V biases; tie the head to the embedding.
    for l in &mut llm.layers {
        for lin in [
            &mut l.self_attn.q_proj,
            &mut l.self_attn.k_proj,
            &mut l.self_attn.v_proj,
        ] {
            let b = lin.bias.take().unwrap();
            lin.bias = Some(b.map(|t| t.zeros_like()));
        }
    }
    let embed = llm.embed_tokens.val().into_data().to_vec::<f32>().unwrap();
    llm.lm_head.weight = crate::import::param(
        &llm.lm_head.weight,
        transpose(&embed, c.vocab_size, c.d_model),
        [c.d_model, c.vocab_size],
    );

    let mut w = Writer::default();
    let tokens: Vec<Vec<u8>> = (0..c.vocab_size)
        .map(|i| string(&format!("t{i}")))
        .collect();
    w.str("general.architecture", "llama")
        .u32("llama.embedding_length", 48)
        .u32("llama.block_count", c.layers as u32)
        .u32("llama.attention.head_count", 4)
        .u32("llama.attention.head_count_kv", 2)
        .u32("llama.feed_forward_length", 80)
        .u32("llama.context_length", 64)
        .u32("llama.rope.dimension_count", 12)
        .kv("llama.rope.freq_base", 6, 10_000f32.to_le_bytes().to_vec())
        .kv(
            "llama.attention.layer_norm_rms_epsilon",
            6,
            1e-6f32.to_le_bytes().to_vec(),
        )
        .kv("tokenizer.ggml.tokens", 9, array(8, &tokens));
    w.f32_tensor("token_embd.weight", &[48, c.vocab_size], &embed);
    let norm = |n: &burn::nn::RmsNorm<NdArray>| n.gamma.val().into_data().to_vec::<f32>().unwrap();
    w.f32_tensor("output_norm.weight", &[48], &norm(&llm.norm));
    for (i, l) in llm.layers.iter().enumerate() {
        let a = &l.self_attn;
        let n = |t: &str| format!("blk.{i}.{t}.weight");
        let mat =
            |w: &mut Writer, name: String, lin: &burn::nn::Linear<NdArray>, rows: Vec<f32>| {
                let [i, o] = lin.weight.dims();
                w.f32_tensor(&name, &[i, o], &rows);
            };
        mat(
            &mut w,
            n("attn_q"),
            &a.q_proj,
            permute_rope_rows(&rows_of(&a.q_proj), 4, 48),
        );
        mat(
            &mut w,
            n("attn_k"),
            &a.k_proj,
            permute_rope_rows(&rows_of(&a.k_proj), 2, 48),
        );
        mat(&mut w, n("attn_v"), &a.v_proj, rows_of(&a.v_proj));
        mat(&mut w, n("attn_output"), &a.o_proj, rows_of(&a.o_proj));
        mat(&mut w, n("ffn_gate"), &l.gate_proj, rows_of(&l.gate_proj));
        mat(&mut w, n("ffn_up"), &l.up_proj, rows_of(&l.up_proj));
        mat(&mut w, n("ffn_down"), &l.down_proj, rows_of(&l.down_proj));
        w.f32_tensor(&n("attn_norm"), &[48], &norm(&l.input_layernorm));
        w.f32_tensor(&n("ffn_norm"), &[48], &norm(&l.post_attention_layernorm));
    }
    let file = parse(w.bytes()).unwrap();
    let config = llm_config(&file, 8).unwrap();
    assert_eq!(
        (
            config.d_model,
            config.heads,
            config.kv_heads,
            config.vocab_size
        ),
        (48, 4, 2, 40)
    );
    assert_eq!((config.max_position, config.mlp_hidden), (64, 80));
    let imported = import_llama(Llm::<NdArray>::new(&config, &device), &file).unwrap();
    let tokens = Tensor::<NdArray, 2, Int>::from_data([[3, 1, 4, 1, 5, 9, 2, 6]], &device);
    let want = llm.text_logits(tokens.clone());
    let got = imported.text_logits(tokens);
    let diff: f32 = (want - got).abs().max().into_scalar();
    assert!(diff < 1e-4, "logits differ by {diff}");
}
