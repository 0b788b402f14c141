# pixmo's one change to whisper.cpp (1.8.3, vendored by whisper-rs-sys 0.15.0): the encoder's
# matrix products all on f32 operands that a BLAS backend accepts, and a vectorised row maximum
# for its softmax.
#
# whisper.cpp multiplies the encoder's self-attention keys and queries as permuted views (keys
# cast to f16), and its two convolutions as an f16 im2col times an f16 kernel. ggml's BLAS
# backend declines non-contiguous operands and f16 right-hand sides, so with OpenBLAS these
# products (per window and layer, two 1,500 x 1,500 x 64 products per head; the convolutions
# ~1.5 GMAC for base) stayed on ggml's per-row f16 dot products, the largest item of a
# profile. Here K, Q and V are made contiguous f32 tensors (`ggml_cont`) and the convolutions
# use an f32 im2col and kernel, so all become plain matrix products: OpenBLAS takes them when it
# is built in (pixmo-asr's default), ggml's own kernels otherwise. K, V and the convolution
# inputs are no longer rounded to f16, so transcripts can differ from the unpatched build's by
# a word (crates/pixmo-asr/BENCH.md, *Encoder on BLAS*). ggml's row maximum (`ggml_vec_max_f32`,
# the softmax's first pass) becomes eight independent running maxima that the compiler
# vectorises; the maximum is exact, so that part changes no result.
#
# How it is applied: `.cargo/config.toml` sets CMAKE_PROJECT_INCLUDE to this file, and
# whisper-rs-sys hands every CMAKE_* variable to the cmake build of its own copy of the
# sources in cargo's OUT_DIR (the registry copy is never touched). cmake includes this file
# after every project() call; it acts on whisper.cpp's project only and rewrites
# src/whisper.cpp and ggml/src/ggml-cpu/vec.h there once. If the expected text is not found (another whisper.cpp version)
# the build stops with an error instead of silently building the unpatched encoder. The
# patched library says so in `whisper_print_system_info()` (`PIXMO_ENCODER_PATCH = 2`), which
# pixmo-asr checks (`encoder_patch()`, tested against its ENCODER_PATCH) and records in provenance.
# Cargo does not rerun whisper-rs-sys's build script when this file changes: bump
# `_pixmo_revision` below (and ENCODER_PATCH in src/lib.rs), then `ensure-patched.sh` (which
# CI runs) rebuilds it.

if(NOT PROJECT_NAME STREQUAL "whisper.cpp")
    return()
endif()

set(_pixmo_src "${PROJECT_SOURCE_DIR}/src/whisper.cpp")
file(READ "${_pixmo_src}" _pixmo_text)
# Bump on every change to what this file writes (ensure-patched.sh and pixmo-asr's
# ENCODER_PATCH read it).
set(_pixmo_revision 3)
set(_pixmo_marker "pixmo: whisper encoder patch, revision ${_pixmo_revision}")

string(FIND "${_pixmo_text}" "${_pixmo_marker}" _pixmo_done)
if(NOT _pixmo_done EQUAL -1)
    return()
endif()

set(_pixmo_k_old [=[
                struct ggml_tensor * K =
                    ggml_permute(ctx0,
                            ggml_cast(ctx0,
                                ggml_reshape_3d(ctx0, Kcur, n_state_head, n_head, n_ctx),
                                wctx.itype),
                            0, 2, 1, 3);

                // K * Q
                struct ggml_tensor * KQ = ggml_mul_mat(ctx0, K, Q);
]=])
set(_pixmo_k_new [=[
                // @PIXMO_MARKER@
                struct ggml_tensor * K =
                    ggml_cont(ctx0, ggml_permute(ctx0,
                                ggml_reshape_3d(ctx0, Kcur, n_state_head, n_head, n_ctx),
                            0, 2, 1, 3));

                // K * Q
                struct ggml_tensor * KQ = ggml_mul_mat(ctx0, K, ggml_cont(ctx0, Q));
]=])
set(_pixmo_v_old [=[
                struct ggml_tensor * V =
                    ggml_cast(ctx0,
                            ggml_permute(ctx0,
                                ggml_reshape_3d(ctx0,
                                    Vcur,
                                    n_state_head, n_head, n_ctx),
                                1, 2, 0, 3),
                            wctx.itype);
]=])
set(_pixmo_v_new [=[
                struct ggml_tensor * V =
                    ggml_cont(ctx0,
                            ggml_permute(ctx0,
                                ggml_reshape_3d(ctx0,
                                    Vcur,
                                    n_state_head, n_head, n_ctx),
                                1, 2, 0, 3));
]=])

# The encoder's two convolutions: ggml_conv_1d_ph builds an f16 im2col and multiplies it by the
# f16 kernel, which BLAS declines (it needs f32 on the right); here the im2col is f32 and the
# kernel is cast to f32 once per encoding, so BLAS takes both products too.
set(_pixmo_conv1_old [=[cur = ggml_conv_1d_ph(ctx0, model.e_conv_1_w, mel, 1, 1);]=])
set(_pixmo_conv1_new [=[cur = pixmo_conv_1d_ph_f32(ctx0, model.e_conv_1_w, mel, 1);]=])
set(_pixmo_conv2_old [=[cur = ggml_conv_1d_ph(ctx0, model.e_conv_2_w, cur, 2, 1);]=])
set(_pixmo_conv2_new [=[cur = pixmo_conv_1d_ph_f32(ctx0, model.e_conv_2_w, cur, 2);]=])
set(_pixmo_helper_old [=[
static struct ggml_cgraph * whisper_build_graph_conv(
]=])
set(_pixmo_helper_new [=[
// pixmo: ggml_conv_1d_ph (padding half the kernel, dilation 1) with an f32 im2col and kernel,
// so that a BLAS backend takes the product.
static struct ggml_tensor * pixmo_conv_1d_ph_f32(
        struct ggml_context * ctx, struct ggml_tensor * a, struct ggml_tensor * b, int s) {
    struct ggml_tensor * im2col = ggml_im2col(ctx, a, b, s, 0, a->ne[0] / 2, 0, 1, 0, false, GGML_TYPE_F32);
    struct ggml_tensor * result = ggml_mul_mat(ctx,
            ggml_reshape_2d(ctx, im2col, im2col->ne[0], im2col->ne[2] * im2col->ne[1]),
            ggml_reshape_2d(ctx, ggml_cast(ctx, a, GGML_TYPE_F32), a->ne[0] * a->ne[1], a->ne[2]));
    return ggml_reshape_3d(ctx, result, im2col->ne[1], a->ne[2], im2col->ne[2]);
}

static struct ggml_cgraph * whisper_build_graph_conv(
]=])

# ggml's row maximum (softmax) as one chain of scalar max operations: 1,500 x 1,500 per head and
# layer in the encoder's attention, a tenth of a profile once the products ran on BLAS. Eight
# independent running maxima vectorise; the maximum is exact, so results do not change.
set(_pixmo_vec_h "${PROJECT_SOURCE_DIR}/ggml/src/ggml-cpu/vec.h")
set(_pixmo_max_old [=[
    float max = -INFINITY;
    for (int i = 0; i < n; ++i) {
        max = MAX(max, x[i]);
    }
    *s = max;
]=])
set(_pixmo_max_new [=[
    // @PIXMO_MARKER@: eight independent running maxima, which compilers vectorise
    float m[8] = { -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY };
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int j = 0; j < 8; ++j) {
            m[j] = MAX(m[j], x[i + j]);
        }
    }
    float max = -INFINITY;
    for (int j = 0; j < 8; ++j) {
        max = MAX(max, m[j]);
    }
    for (; i < n; ++i) {
        max = MAX(max, x[i]);
    }
    *s = max;
]=])

# whisper_print_system_info() names the patch, so that pixmo-asr can tell (and test) that the
# whisper.cpp it links is the patched one.
set(_pixmo_info_old [=[
    s += "OPENVINO = "  + std::to_string(whisper_has_openvino())   + " | ";
]=])
set(_pixmo_info_new [=[
    s += "OPENVINO = "  + std::to_string(whisper_has_openvino())   + " | ";
    s += "PIXMO_ENCODER_PATCH = @PIXMO_REVISION@ | ";
]=])

foreach(_pixmo_part k v conv1 conv2 helper info)
    string(FIND "${_pixmo_text}" "${_pixmo_${_pixmo_part}_old}" _pixmo_at)
    if(_pixmo_at EQUAL -1)
        message(FATAL_ERROR "pixmo: ${_pixmo_src} does not contain the expected encoder attention "
            "code (${_pixmo_part}); crates/pixmo-asr/ggml/whisper_encoder.cmake was written for "
            "whisper.cpp 1.8.3 (whisper-rs-sys 0.15.0)")
    endif()
    string(REPLACE "${_pixmo_${_pixmo_part}_old}" "${_pixmo_${_pixmo_part}_new}" _pixmo_text "${_pixmo_text}")
endforeach()

string(REPLACE "@PIXMO_MARKER@" "${_pixmo_marker}" _pixmo_text "${_pixmo_text}")
string(REPLACE "@PIXMO_REVISION@" "${_pixmo_revision}" _pixmo_text "${_pixmo_text}")
file(WRITE "${_pixmo_src}" "${_pixmo_text}")

file(READ "${_pixmo_vec_h}" _pixmo_vec)
string(FIND "${_pixmo_vec}" "${_pixmo_max_old}" _pixmo_at)
if(_pixmo_at EQUAL -1)
    message(FATAL_ERROR "pixmo: ${_pixmo_vec_h} does not contain the expected ggml_vec_max_f32; "
        "crates/pixmo-asr/ggml/whisper_encoder.cmake was written for whisper.cpp 1.8.3 "
        "(whisper-rs-sys 0.15.0)")
endif()
string(REPLACE "${_pixmo_max_old}" "${_pixmo_max_new}" _pixmo_vec "${_pixmo_vec}")
string(REPLACE "@PIXMO_MARKER@" "${_pixmo_marker}" _pixmo_vec "${_pixmo_vec}")
file(WRITE "${_pixmo_vec_h}" "${_pixmo_vec}")
message(STATUS "pixmo: patched the encoder (f32 attention and convolutions, BLAS-ready) of ${_pixmo_src}")
