//! The converter against a synthetic model: every whisper.cpp tensor present once, with the
//! source's values, split projections and types; bad inputs are errors that say why.

use pixmo_whisper::{Error, convert};

use crate::model::{ct2_bytes, read_ggml, synthetic, values, vocabulary};

/// The tensor names whisper.cpp's loader requires (`src/whisper-arch.h`) for `layers` layers.
fn whisper_cpp_names(layers: usize) -> Vec<String> {
    let mut names: Vec<String> = [
        "encoder.positional_embedding",
        "encoder.conv1.weight",
        "encoder.conv1.bias",
        "encoder.conv2.weight",
        "encoder.conv2.bias",
        "encoder.ln_post.weight",
        "encoder.ln_post.bias",
        "decoder.positional_embedding",
        "decoder.token_embedding.weight",
        "decoder.ln.weight",
        "decoder.ln.bias",
    ]
    .map(String::from)
    .to_vec();
    let block = [
        "mlp_ln.weight",
        "mlp_ln.bias",
        "mlp.0.weight",
        "mlp.0.bias",
        "mlp.2.weight",
        "mlp.2.bias",
        "attn_ln.weight",
        "attn_ln.bias",
        "attn.query.weight",
        "attn.query.bias",
        "attn.key.weight",
        "attn.value.weight",
        "attn.value.bias",
        "attn.out.weight",
        "attn.out.bias",
    ];
    let cross = [
        "cross_attn_ln.weight",
        "cross_attn_ln.bias",
        "cross_attn.query.weight",
        "cross_attn.query.bias",
        "cross_attn.key.weight",
        "cross_attn.value.weight",
        "cross_attn.value.bias",
        "cross_attn.out.weight",
        "cross_attn.out.bias",
    ];
    for i in 0..layers {
        names.extend(block.iter().map(|n| format!("encoder.blocks.{i}.{n}")));
        names.extend(
            block
                .iter()
                .chain(&cross)
                .map(|n| format!("decoder.blocks.{i}.{n}")),
        );
    }
    names.sort();
    names
}

#[test]
fn every_tensor_lands_under_its_whisper_cpp_name_with_its_values() {
    let (d, layers) = (8usize, 2usize);
    let vars = synthetic(d as u32, layers as u32, 20, 4);
    let mut out = Vec::new();
    let converted = convert(&ct2_bytes(&vars), &vocabulary(17), &mut out).unwrap();
    assert_eq!(converted.bytes, out.len() as u64);
    let ggml = read_ggml(&out);
    // n_vocab, audio ctx/state/head/layer, text ctx/state/head/layer, mels, ftype f16.
    assert_eq!(ggml.header, [20, 12, 8, 2, 2, 6, 8, 2, 2, 4, 1]);
    assert_eq!((ggml.filters.0, ggml.filters.1), (4, 201));
    assert_eq!(ggml.filters.2, pixmo_whisper::mel::mel_filters(4));
    assert_eq!(ggml.tokens.len(), 17);
    assert_eq!(converted.tokens, 17);
    assert_eq!(ggml.tokens[0], b" t0");
    assert_eq!(ggml.tokens[16], b"<|endoftext|>");
    let names: Vec<String> = ggml.tensors.keys().cloned().collect();
    assert_eq!(names, whisper_cpp_names(layers));
    assert_eq!(converted.tensors, names.len());

    let tensor = |name: &str| &ggml.tensors[name];
    let source = |name: &str| values(&vars[name]);
    // Plain copies: values equal, dims reversed, f16 for matrices.
    let embedding = tensor("decoder.token_embedding.weight");
    assert_eq!((embedding.ttype, embedding.dims.clone()), (1, vec![d, 20]));
    assert_eq!(embedding.values, source("decoder/embeddings/weight"));
    let conv = tensor("encoder.conv1.weight");
    assert_eq!((conv.ttype, conv.dims.clone()), (1, vec![3, 4, d]));
    // f32: one-dimensional tensors, conv biases as [n, 1], positional embeddings.
    let bias = tensor("encoder.conv2.bias");
    assert_eq!((bias.ttype, bias.dims.clone()), (0, vec![1, d]));
    assert_eq!(bias.values, source("encoder/conv2/bias"));
    let positions = tensor("decoder.positional_embedding");
    assert_eq!((positions.ttype, positions.dims.clone()), (0, vec![d, 6]));
    let ln = tensor("decoder.blocks.1.cross_attn_ln.bias");
    assert_eq!((ln.ttype, ln.dims.clone()), (0, vec![d]));
    assert_eq!(
        ln.values,
        source("decoder/layer_1/attention/layer_norm/beta")
    );
    // Fused Q|K|V and K|V split in order; the zero key biases are gone.
    let qkv = source("encoder/layer_1/self_attention/linear_0/weight");
    for (i, part) in ["query", "key", "value"].iter().enumerate() {
        let split = tensor(&format!("encoder.blocks.1.attn.{part}.weight"));
        assert_eq!(split.dims, [d, d]);
        assert_eq!(split.values, qkv[i * d * d..(i + 1) * d * d], "{part}");
    }
    let qkv_bias = source("decoder/layer_0/self_attention/linear_0/bias");
    assert_eq!(
        tensor("decoder.blocks.0.attn.query.bias").values,
        qkv_bias[..d]
    );
    assert_eq!(
        tensor("decoder.blocks.0.attn.value.bias").values,
        qkv_bias[2 * d..]
    );
    let kv = source("decoder/layer_1/attention/linear_1/weight");
    assert_eq!(
        tensor("decoder.blocks.1.cross_attn.key.weight").values,
        kv[..d * d]
    );
    assert_eq!(
        tensor("decoder.blocks.1.cross_attn.value.weight").values,
        kv[d * d..]
    );
    let kv_bias = source("decoder/layer_1/attention/linear_1/bias");
    assert_eq!(
        tensor("decoder.blocks.1.cross_attn.value.bias").values,
        kv_bias[d..]
    );
    assert_eq!(
        tensor("decoder.blocks.0.mlp.2.weight").values,
        source("decoder/layer_0/ffn/linear_1/weight")
    );

    // Deterministic: the same input gives the same bytes.
    let mut again = Vec::new();
    let second = convert(&ct2_bytes(&vars), &vocabulary(17), &mut again).unwrap();
    assert_eq!(again, out);
    assert_eq!(second.sha256, converted.sha256);
}

fn convert_error(bytes: &[u8], vocab: &str) -> String {
    match convert(bytes, vocab, &mut Vec::new()) {
        Err(error @ Error::Model(_)) => error.to_string(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_models_are_errors_that_name_the_problem() {
    let vars = synthetic(4, 1, 10, 2);
    let bytes = ct2_bytes(&vars);
    let vocab = vocabulary(8);

    // Cut short anywhere: an error naming where it ended, never a panic.
    for cut in [0, 3, 10, 200, bytes.len() / 2, bytes.len() - 1] {
        let message = convert_error(&bytes[..cut], &vocab);
        assert!(message.contains("ends at byte"), "cut {cut}: {message}");
    }
    let mut wrong_version = bytes.clone();
    wrong_version[0] = 5;
    assert!(convert_error(&wrong_version, &vocab).contains("binary version 5"));

    let mut nonzero_key = vars.clone();
    nonzero_key
        .get_mut("encoder/layer_0/self_attention/linear_0/bias")
        .unwrap()
        .2[10] = 0x3c;
    let message = convert_error(&ct2_bytes(&nonzero_key), &vocab);
    assert!(message.contains("key bias is not zero"), "{message}");

    let mut quantized = vars.clone();
    let weight = quantized
        .get_mut("encoder/layer_0/ffn/linear_0/weight")
        .unwrap();
    weight.1 = 1;
    weight.2.truncate(weight.2.len() / 2);
    let message = convert_error(&ct2_bytes(&quantized), &vocab);
    assert!(message.contains("only f16 and f32"), "{message}");

    let mut unknown = vars.clone();
    unknown.insert("encoder/adapter/weight".into(), (vec![2, 2], 4, vec![0; 8]));
    assert!(
        convert_error(&ct2_bytes(&unknown), &vocab)
            .contains("unknown tensor `encoder/adapter/weight`")
    );

    let mut missing = vars.clone();
    missing.remove("decoder/num_heads");
    assert!(convert_error(&ct2_bytes(&missing), &vocab).contains("no integer `decoder/num_heads`"));

    let mut misshapen = vars.clone();
    misshapen.get_mut("encoder/conv1/weight").unwrap().0 = vec![4, 6];
    assert!(
        convert_error(&ct2_bytes(&misshapen), &vocab)
            .contains("`encoder/conv1/weight` has dimensions [4, 6]")
    );

    let mut lying = ct2_bytes(&vars);
    // The first variable's byte count (after version, spec name, revision, count, its name,
    // rank, dims and dtype) is made larger than its dimensions allow.
    let at = lying
        .windows(b"decoder/activation\0".len())
        .position(|w| w == b"decoder/activation\0")
        .unwrap();
    lying[at + 21] = 9;
    assert!(convert_error(&lying, &vocab).contains("bytes for dimensions"));

    assert!(convert_error(&bytes, "a\nb\n").contains("no `<|endoftext|>`"));
    assert!(convert_error(&bytes, &vocabulary(40)).contains("more than the model's 10"));
}
