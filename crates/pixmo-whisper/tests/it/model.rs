//! A synthetic CTranslate2 whisper model written the way `model_spec.py` writes them, and a
//! reader of the ggml files the converter writes.

use std::collections::BTreeMap;

use half::f16;

/// One variable: dims, dtype id, bytes.
pub type Var = (Vec<u32>, u8, Vec<u8>);

/// A whisper-shaped model: width `d`, `layers` encoder and decoder layers, `vocab` tokens,
/// `mels` mel bands; tensor values are distinct so the splits can be checked.
pub fn synthetic(d: u32, layers: u32, vocab: u32, mels: u32) -> BTreeMap<String, Var> {
    let mut counter = 0u32;
    let mut tensor = |dims: &[u32]| -> Var {
        let n: u32 = dims.iter().product();
        let bytes = (0..n)
            .flat_map(|_| {
                counter += 1;
                f16::from_f32((counter % 1000) as f32 / 1000.0 - 0.5).to_le_bytes()
            })
            .collect();
        (dims.to_vec(), 4, bytes)
    };
    let mut vars = BTreeMap::new();
    let mut put = |name: &str, var: Var| {
        vars.insert(name.to_string(), var);
    };
    put("encoder/conv1/weight", tensor(&[d, mels, 3]));
    put("encoder/conv1/bias", tensor(&[d]));
    put("encoder/conv2/weight", tensor(&[d, d, 3]));
    put("encoder/conv2/bias", tensor(&[d]));
    put("encoder/position_encodings/encodings", tensor(&[12, d]));
    put("encoder/layer_norm/gamma", tensor(&[d]));
    put("encoder/layer_norm/beta", tensor(&[d]));
    put(
        "encoder/num_heads",
        (vec![], 2, 2i16.to_le_bytes().to_vec()),
    );
    put(
        "decoder/num_heads",
        (vec![], 2, 2i16.to_le_bytes().to_vec()),
    );
    put("decoder/activation", (vec![], 1, vec![3]));
    put("decoder/embeddings/weight", tensor(&[vocab, d]));
    put("decoder/position_encodings/encodings", tensor(&[6, d]));
    put("decoder/layer_norm/gamma", tensor(&[d]));
    put("decoder/layer_norm/beta", tensor(&[d]));
    for side in ["encoder", "decoder"] {
        for i in 0..layers {
            let p = format!("{side}/layer_{i}");
            put(
                &format!("{p}/self_attention/layer_norm/gamma"),
                tensor(&[d]),
            );
            put(&format!("{p}/self_attention/layer_norm/beta"), tensor(&[d]));
            put(
                &format!("{p}/self_attention/linear_0/weight"),
                tensor(&[3 * d, d]),
            );
            // CTranslate2 pads the missing key biases with zeros (f16: two bytes a value).
            let mut qkv_bias = tensor(&[3 * d]);
            qkv_bias.2[2 * d as usize..4 * d as usize].fill(0);
            put(&format!("{p}/self_attention/linear_0/bias"), qkv_bias);
            put(
                &format!("{p}/self_attention/linear_1/weight"),
                tensor(&[d, d]),
            );
            put(&format!("{p}/self_attention/linear_1/bias"), tensor(&[d]));
            if side == "decoder" {
                put(&format!("{p}/attention/layer_norm/gamma"), tensor(&[d]));
                put(&format!("{p}/attention/layer_norm/beta"), tensor(&[d]));
                put(&format!("{p}/attention/linear_0/weight"), tensor(&[d, d]));
                put(&format!("{p}/attention/linear_0/bias"), tensor(&[d]));
                put(
                    &format!("{p}/attention/linear_1/weight"),
                    tensor(&[2 * d, d]),
                );
                let mut kv_bias = tensor(&[2 * d]);
                kv_bias.2[..2 * d as usize].fill(0);
                put(&format!("{p}/attention/linear_1/bias"), kv_bias);
                put(&format!("{p}/attention/linear_2/weight"), tensor(&[d, d]));
                put(&format!("{p}/attention/linear_2/bias"), tensor(&[d]));
            }
            put(&format!("{p}/ffn/layer_norm/gamma"), tensor(&[d]));
            put(&format!("{p}/ffn/layer_norm/beta"), tensor(&[d]));
            put(&format!("{p}/ffn/linear_0/weight"), tensor(&[4 * d, d]));
            put(&format!("{p}/ffn/linear_0/bias"), tensor(&[4 * d]));
            put(&format!("{p}/ffn/linear_1/weight"), tensor(&[d, 4 * d]));
            put(&format!("{p}/ffn/linear_1/bias"), tensor(&[d]));
        }
    }
    vars
}

/// `model.bin` bytes (binary version 6) of `vars`, with the decoder projection alias.
pub fn ct2_bytes(vars: &BTreeMap<String, Var>) -> Vec<u8> {
    let mut out = Vec::new();
    let string = |out: &mut Vec<u8>, text: &str| {
        out.extend_from_slice(&(text.len() as u16 + 1).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
        out.push(0);
    };
    out.extend_from_slice(&6u32.to_le_bytes());
    string(&mut out, "WhisperSpec");
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(vars.len() as u32).to_le_bytes());
    for (name, (dims, dtype, bytes)) in vars {
        string(&mut out, name);
        out.push(dims.len() as u8);
        for dim in dims {
            out.extend_from_slice(&dim.to_le_bytes());
        }
        out.push(*dtype);
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out.extend_from_slice(&1u32.to_le_bytes());
    string(&mut out, "decoder/projection/weight");
    string(&mut out, "decoder/embeddings/weight");
    out
}

/// A vocabulary of `n` tokens ending with `<|endoftext|>`, then two special tokens.
pub fn vocabulary(n: usize) -> String {
    let mut lines: Vec<String> = (0..n - 1).map(|i| format!("Ġt{i}")).collect();
    lines.push("<|endoftext|>".into());
    lines.push("<|startoftranscript|>".into());
    lines.push("<|en|>".into());
    lines.join("\n") + "\n"
}

/// A ggml tensor as read back: type (0 f32, 1 f16), dims innermost first, values.
#[derive(Debug)]
pub struct GgmlTensor {
    pub ttype: i32,
    pub dims: Vec<usize>,
    pub values: Vec<f32>,
}

/// A ggml whisper file as read back.
#[derive(Debug)]
pub struct Ggml {
    pub header: Vec<i32>,
    pub filters: (usize, usize, Vec<f32>),
    pub tokens: Vec<Vec<u8>>,
    pub tensors: BTreeMap<String, GgmlTensor>,
}

/// Reads a ggml whisper file the way whisper.cpp's loader does.
pub fn read_ggml(bytes: &[u8]) -> Ggml {
    struct Cursor<'a>(&'a [u8], usize);
    impl<'a> Cursor<'a> {
        fn take(&mut self, n: usize) -> &'a [u8] {
            let slice = &self.0[self.1..self.1 + n];
            self.1 += n;
            slice
        }
        fn int(&mut self) -> i32 {
            i32::from_le_bytes(self.take(4).try_into().unwrap())
        }
        fn floats(&mut self, n: usize, ttype: i32) -> Vec<f32> {
            match ttype {
                0 => self
                    .take(n * 4)
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
                1 => self
                    .take(n * 2)
                    .chunks_exact(2)
                    .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
                    .collect(),
                other => panic!("tensor type {other}"),
            }
        }
    }
    let mut cursor = Cursor(bytes, 0);
    assert_eq!(cursor.int() as u32, 0x6767_6d6c, "magic");
    let header: Vec<i32> = (0..11).map(|_| cursor.int()).collect();
    let (n_mel, n_fft) = (cursor.int() as usize, cursor.int() as usize);
    let filters = cursor.floats(n_mel * n_fft, 0);
    let n_tokens = cursor.int() as usize;
    let tokens = (0..n_tokens)
        .map(|_| {
            let len = cursor.int() as usize;
            cursor.take(len).to_vec()
        })
        .collect();
    let mut tensors = BTreeMap::new();
    while cursor.1 < bytes.len() {
        let n_dims = cursor.int() as usize;
        let name_len = cursor.int() as usize;
        let ttype = cursor.int();
        let dims: Vec<usize> = (0..n_dims).map(|_| cursor.int() as usize).collect();
        let name = String::from_utf8(cursor.take(name_len).to_vec()).unwrap();
        let values = cursor.floats(dims.iter().product(), ttype);
        let tensor = GgmlTensor {
            ttype,
            dims,
            values,
        };
        assert!(
            tensors.insert(name.clone(), tensor).is_none(),
            "{name} twice"
        );
    }
    Ggml {
        header,
        filters: (n_mel, n_fft, filters),
        tokens,
        tensors,
    }
}

/// The f16 values of a synthetic variable.
pub fn values(var: &Var) -> Vec<f32> {
    var.2
        .chunks_exact(2)
        .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
        .collect()
}
