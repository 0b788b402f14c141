//! Model sizes and vision geometry. A [`ModelConfig`] is saved with every checkpoint and
//! is all that is needed to rebuild the model.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How images become crops and tokens (Molmo's multi-crop preprocessing).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisionGeometry {
    /// Side of one square crop in pixels (336 for CLIP ViT-L/14-336).
    pub crop_size: usize,
    /// Side of one ViT patch in pixels (14).
    pub patch_size: usize,
    /// Most high-resolution crops per image (12 in training).
    pub max_crops: usize,
    /// Patches dropped on the overlapping left/top and right/bottom side of a crop (4, 4).
    pub overlap_margins: [usize; 2],
    /// Side of the pooling window in patches (2 → 2×2 pooling).
    pub pool_size: usize,
}

impl VisionGeometry {
    /// Molmo's geometry for CLIP ViT-L/14 at 336 px.
    #[must_use]
    pub fn molmo() -> VisionGeometry {
        VisionGeometry {
            crop_size: 336,
            patch_size: 14,
            max_crops: 12,
            overlap_margins: [4, 4],
            pool_size: 2,
        }
    }

    /// The same algorithm at a small scale for CPU tests: 32 px crops of 4 px patches.
    #[must_use]
    pub fn tiny() -> VisionGeometry {
        VisionGeometry {
            crop_size: 32,
            patch_size: 4,
            max_crops: 4,
            overlap_margins: [2, 2],
            pool_size: 2,
        }
    }

    /// Patches along one side of a crop (24).
    #[must_use]
    pub fn crop_patches(&self) -> usize {
        self.crop_size / self.patch_size
    }

    /// Patches per crop (576).
    #[must_use]
    pub fn patches_per_crop(&self) -> usize {
        self.crop_patches() * self.crop_patches()
    }

    /// Values per flattened patch (14·14·3 = 588).
    #[must_use]
    pub fn patch_dim(&self) -> usize {
        self.patch_size * self.patch_size * 3
    }

    /// Pooled tokens along one side of a crop (12).
    #[must_use]
    pub fn crop_pooled(&self) -> usize {
        self.crop_patches() / self.pool_size
    }

    /// Pooled tokens per crop (144).
    #[must_use]
    pub fn pooled_per_crop(&self) -> usize {
        self.crop_pooled() * self.crop_pooled()
    }

    /// Patches one crop contributes that no neighbour covers (24 − 8 = 16).
    #[must_use]
    pub fn window_patches(&self) -> usize {
        self.crop_patches() - self.overlap_margins[0] - self.overlap_margins[1]
    }

    /// The same in pixels (224): the stride between crops.
    #[must_use]
    pub fn window_px(&self) -> usize {
        self.window_patches() * self.patch_size
    }

    /// Both margins in pixels (112).
    #[must_use]
    pub fn margin_px(&self) -> usize {
        (self.overlap_margins[0] + self.overlap_margins[1]) * self.patch_size
    }

    /// Checks divisibility constraints the algorithm relies on.
    ///
    /// # Errors
    /// When a size does not divide evenly.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(Error::Config(m));
        if self.patch_size == 0 || self.pool_size == 0 || self.max_crops == 0 {
            return fail("`patch_size`, `pool_size` and `max_crops` must be positive".into());
        }
        if self.max_crops > MAX_CROPS {
            return fail(format!(
                "`max_crops` is {}; at most {MAX_CROPS} crops an image are supported",
                self.max_crops
            ));
        }
        if !self.crop_size.is_multiple_of(self.patch_size) {
            return fail(format!(
                "`crop_size` {} is not a multiple of `patch_size` {}",
                self.crop_size, self.patch_size
            ));
        }
        let [left, right] = self.overlap_margins;
        if !self.crop_patches().is_multiple_of(self.pool_size)
            || !left.is_multiple_of(self.pool_size)
            || !right.is_multiple_of(self.pool_size)
        {
            return fail("crop patches and margins must be multiples of `pool_size`".into());
        }
        if left + right >= self.crop_patches() {
            return fail("`overlap_margins` leave no window".into());
        }
        Ok(())
    }
}

/// Most crops an image ([`VisionGeometry::max_crops`]; Molmo trains with 12 and evaluates
/// with up to 36). The tiling search tries every grid of up to this many crops.
pub const MAX_CROPS: usize = 1024;

/// Most positions a decoder supports ([`LlmConfig::max_position`]; Molmo-7B-D's is 32,768).
pub const MAX_POSITION: usize = 1 << 20;

/// Most parameters a model may have (Molmo-72B has about 7.3e10); beyond this a size is
/// taken for a typo rather than allocated.
pub const MAX_PARAMETERS: f64 = 2e11;

/// CLIP-style ViT sizes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitConfig {
    /// Width (1024 for ViT-L).
    pub d_model: usize,
    /// Blocks actually built (23: Molmo drops CLIP's last block).
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// MLP hidden width.
    pub mlp_hidden: usize,
    /// LayerNorm epsilon.
    pub norm_eps: f64,
    /// Block outputs whose features are concatenated; negative counts from the end
    /// (`[-2, -9]` for CLIP).
    pub feature_layers: Vec<i32>,
    /// How patches know where they lie: CLIP's learned embedding (Molmo's, the default) or
    /// 2-D rotary positions (`"rope2d"`).
    #[serde(default, skip_serializing_if = "VitPositions::is_learned")]
    pub positions: VitPositions,
}

/// Where a ViT's patch tokens get their position from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VitPositions {
    /// A learned embedding per patch position added to the patch tokens (CLIP's, Molmo's):
    /// what a feature means can depend on where in the crop it lies.
    #[default]
    Learned,
    /// No absolute embedding; queries and keys rotated by the patch's row (one half of each
    /// head) and column (the other half), so attention scores depend on where two patches lie
    /// relative to each other only: the same object computes the same features wherever it
    /// lies in the crop, up to the crop's edges. The class token is not rotated.
    Rope2d,
}

impl VitPositions {
    /// The default (serialised configs omit it).
    #[must_use]
    pub fn is_learned(&self) -> bool {
        *self == VitPositions::Learned
    }
}

/// Connector sizes (pooling attention and projector).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorConfig {
    /// Heads of the mean-query pooling attention (16 × 64 for ViT-L).
    pub pool_heads: usize,
    /// Hidden width of the SwiGLU projector (half the LLM MLP width in Molmo).
    pub projector_hidden: usize,
}

/// Qwen2-style decoder sizes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// Width.
    pub d_model: usize,
    /// Blocks.
    pub layers: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (GQA); divides `heads`.
    pub kv_heads: usize,
    /// SwiGLU hidden width.
    pub mlp_hidden: usize,
    /// Vocabulary of the base LLM (rows of its embedding and of the output head).
    pub vocab_size: usize,
    /// Extra embedding rows for Molmo's special tokens (128); trained with the connector.
    pub additional_vocab_size: usize,
    /// RMSNorm epsilon.
    pub norm_eps: f64,
    /// RoPE base.
    pub rope_theta: f64,
    /// Largest position id.
    pub max_position: usize,
}

/// Which tokenizer turns text into the LLM's base-vocabulary ids.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenizerConfig {
    /// UTF-8 bytes (256 ids + EOS; [`crate::tokenizer::BYTE_VOCAB`] rows): no download.
    #[default]
    Bytes,
    /// The byte-level BPE read from a GGUF file's metadata (`--init-llm-gguf`); the file
    /// must still be there when the checkpoint is evaluated or resumed.
    Gguf {
        /// The GGUF file (absolute when written by `pixmo-train`).
        path: std::path::PathBuf,
    },
}

/// Everything needed to rebuild a Molmo model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Image preprocessing geometry.
    pub vision: VisionGeometry,
    /// Vision encoder.
    pub vit: VitConfig,
    /// Vision–language connector.
    pub connector: ConnectorConfig,
    /// Language model.
    pub llm: LlmConfig,
    /// Tokenizer (bytes when absent, as in checkpoints written before it was recorded).
    #[serde(default)]
    pub tokenizer: TokenizerConfig,
}

impl ModelConfig {
    /// The tokenizer this model was trained with.
    ///
    /// # Errors
    /// When its GGUF file cannot be read or does not match `llm.vocab_size`.
    pub fn build_tokenizer(&self) -> Result<crate::tokenizer::Tokenizer> {
        crate::tokenizer::Tokenizer::from_config(&self.tokenizer, self.llm.vocab_size)
    }

    /// A few-thousand-parameter model on the tiny geometry: the CPU test configuration.
    #[must_use]
    pub fn tiny() -> ModelConfig {
        ModelConfig {
            vision: VisionGeometry::tiny(),
            vit: VitConfig {
                d_model: 32,
                layers: 3,
                heads: 2,
                mlp_hidden: 64,
                norm_eps: 1e-5,
                feature_layers: vec![-1, -2],
                positions: VitPositions::Learned,
            },
            connector: ConnectorConfig {
                pool_heads: 2,
                projector_hidden: 64,
            },
            llm: LlmConfig {
                d_model: 64,
                layers: 2,
                heads: 4,
                kv_heads: 2,
                mlp_hidden: 128,
                vocab_size: crate::tokenizer::BYTE_VOCAB,
                additional_vocab_size: 8,
                norm_eps: 1e-6,
                rope_theta: 10_000.0,
                max_position: 4096,
            },
            tokenizer: TokenizerConfig::Bytes,
        }
    }

    /// A CPU demo size: 64 px crops of 8 px patches (clock hands stay legible at 96 px),
    /// a 4-block ViT of width 64 and a 3-block LLM of width 128.
    #[must_use]
    pub fn small() -> ModelConfig {
        let mut c = ModelConfig::tiny();
        c.vision = VisionGeometry {
            crop_size: 64,
            patch_size: 8,
            max_crops: 4,
            overlap_margins: [2, 2],
            pool_size: 2,
        };
        c.vit.d_model = 64;
        c.vit.layers = 4;
        c.vit.heads = 4;
        c.vit.mlp_hidden = 128;
        c.vit.feature_layers = vec![-1, -3];
        c.connector.pool_heads = 4;
        c.connector.projector_hidden = 128;
        c.llm.d_model = 128;
        c.llm.layers = 3;
        c.llm.mlp_hidden = 256;
        c
    }

    /// Molmo-7B-D: CLIP ViT-L/14-336 (23 blocks) and Qwen2-7B.
    #[must_use]
    pub fn molmo_7b_d() -> ModelConfig {
        ModelConfig {
            vision: VisionGeometry::molmo(),
            vit: VitConfig {
                d_model: 1024,
                layers: 23,
                heads: 16,
                mlp_hidden: 4096,
                norm_eps: 1e-5,
                feature_layers: vec![-2, -9],
                positions: VitPositions::Learned,
            },
            connector: ConnectorConfig {
                pool_heads: 16,
                projector_hidden: 18944,
            },
            llm: LlmConfig {
                d_model: 3584,
                layers: 28,
                heads: 28,
                kv_heads: 4,
                mlp_hidden: 18944,
                vocab_size: 152_064,
                additional_vocab_size: 128,
                norm_eps: 1e-6,
                rope_theta: 1_000_000.0,
                max_position: 32_768,
            },
            tokenizer: TokenizerConfig::Bytes,
        }
    }

    /// A named preset (`tiny`, `small`, `molmo-7b-d`).
    ///
    /// # Errors
    /// When the name is unknown.
    pub fn preset(name: &str) -> Result<ModelConfig> {
        match name {
            "tiny" => Ok(ModelConfig::tiny()),
            "small" => Ok(ModelConfig::small()),
            "molmo-7b-d" => Ok(ModelConfig::molmo_7b_d()),
            other => Err(Error::Config(format!(
                "unknown model preset `{other}`; expected `tiny`, `small` or `molmo-7b-d`"
            ))),
        }
    }

    /// Checks the sizes fit together.
    ///
    /// # Errors
    /// When they do not.
    pub fn validate(&self) -> Result<()> {
        self.vision.validate()?;
        let fail = |m: &str| Err(Error::Config(m.to_string()));
        let (v, l, c) = (&self.vit, &self.llm, &self.connector);
        let sizes = [
            ("vit.d_model", v.d_model),
            ("vit.layers", v.layers),
            ("vit.heads", v.heads),
            ("vit.mlp_hidden", v.mlp_hidden),
            ("connector.pool_heads", c.pool_heads),
            ("connector.projector_hidden", c.projector_hidden),
            ("llm.d_model", l.d_model),
            ("llm.layers", l.layers),
            ("llm.heads", l.heads),
            ("llm.kv_heads", l.kv_heads),
            ("llm.mlp_hidden", l.mlp_hidden),
            ("llm.vocab_size", l.vocab_size),
            ("llm.max_position", l.max_position),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, n)| *n == 0) {
            return Err(Error::Config(format!(
                "`{name}` is 0; it must be at least 1"
            )));
        }
        for (name, eps) in [("vit.norm_eps", v.norm_eps), ("llm.norm_eps", l.norm_eps)] {
            if !(eps.is_finite() && eps > 0.0) {
                return Err(Error::Config(format!(
                    "`{name}` is {eps}; it must be a positive number"
                )));
            }
        }
        if !(l.rope_theta.is_finite() && l.rope_theta > 0.0) {
            return Err(Error::Config(format!(
                "`llm.rope_theta` is {}; it must be a positive number",
                l.rope_theta
            )));
        }
        if l.max_position > MAX_POSITION {
            return Err(Error::Config(format!(
                "`llm.max_position` is {}; at most {MAX_POSITION} positions are supported \
                 (the rotary tables hold every one)",
                l.max_position
            )));
        }
        let byte_ids = crate::tokenizer::EOS as usize + 1;
        if matches!(self.tokenizer, TokenizerConfig::Bytes) && l.vocab_size < byte_ids {
            return Err(Error::Config(format!(
                "`llm.vocab_size` is {}; the byte tokenizer needs at least {byte_ids} ids \
                 (256 bytes and end of text)",
                l.vocab_size
            )));
        }
        let parameters = self.rough_parameters();
        if parameters > MAX_PARAMETERS {
            return Err(Error::Config(format!(
                "these sizes make about {parameters:.3e} parameters; at most {MAX_PARAMETERS:.0e} \
                 are supported (check the sizes for a typo)"
            )));
        }
        if !self.vit.d_model.is_multiple_of(self.vit.heads)
            || !self.vit.d_model.is_multiple_of(self.connector.pool_heads)
        {
            return fail("ViT width must divide by its heads and by the pooling heads");
        }
        if !self.llm.d_model.is_multiple_of(self.llm.heads)
            || !self.llm.heads.is_multiple_of(self.llm.kv_heads)
        {
            return fail("LLM width must divide by heads, and heads by kv heads");
        }
        if !(self.llm.d_model / self.llm.heads).is_multiple_of(2) {
            return fail("LLM head width must be even for RoPE");
        }
        if self.llm.additional_vocab_size < crate::tokenizer::SPECIAL_TOKENS {
            return fail("`additional_vocab_size` is smaller than the number of image tokens");
        }
        if self.vit.positions == VitPositions::Rope2d
            && !(self.vit.d_model / self.vit.heads).is_multiple_of(4)
        {
            return fail("ViT head width must divide by 4 for 2-D rotary positions");
        }
        if self.vit.feature_layers.is_empty() {
            return fail("`feature_layers` is empty");
        }
        for &l in &self.vit.feature_layers {
            self.vit_layer_index(l)?;
        }
        Ok(())
    }

    /// The parameter count to within a few percent, in floating point so that no size
    /// overflows it ([`crate::bench::param_counts`] is exact, for valid sizes).
    #[allow(clippy::cast_precision_loss)]
    fn rough_parameters(&self) -> f64 {
        let (v, l, c, g) = (&self.vit, &self.llm, &self.connector, &self.vision);
        let f = |n: usize| n as f64;
        let vit_block = 4.0 * f(v.d_model) * f(v.d_model) + 2.0 * f(v.d_model) * f(v.mlp_hidden);
        let vit = f(g.patch_size) * f(g.patch_size) * 3.0 * f(v.d_model)
            + (f(g.crop_size) / f(g.patch_size)).powi(2) * f(v.d_model)
            + f(v.layers) * vit_block;
        let connector = 2.0 * f(v.d_model) * f(c.projector_hidden)
            + f(c.projector_hidden) * f(l.d_model)
            + f(l.additional_vocab_size) * f(l.d_model)
            + 4.0 * f(v.feature_layers.len()) * f(v.d_model) * f(v.d_model);
        let llm_block = 4.0 * f(l.d_model) * f(l.d_model) + 3.0 * f(l.d_model) * f(l.mlp_hidden);
        let llm = 2.0 * f(l.vocab_size) * f(l.d_model) + f(l.layers) * llm_block;
        vit + connector + llm
    }

    /// The block index a (possibly negative) feature layer refers to.
    ///
    /// # Errors
    /// When it is out of range.
    pub fn vit_layer_index(&self, layer: i32) -> Result<usize> {
        let n = i64::try_from(self.vit.layers).unwrap_or(i64::MAX);
        let i = if layer < 0 {
            n + i64::from(layer)
        } else {
            i64::from(layer)
        };
        if (0..n).contains(&i) {
            Ok(usize::try_from(i).unwrap_or(0))
        } else {
            Err(Error::Config(format!(
                "feature layer {layer} is outside the ViT's {n} blocks"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate() {
        ModelConfig::tiny().validate().unwrap();
        ModelConfig::small().validate().unwrap();
        ModelConfig::molmo_7b_d().validate().unwrap();
        let g = VisionGeometry::molmo();
        assert_eq!(
            (g.window_px(), g.margin_px(), g.crop_pooled()),
            (224, 112, 12)
        );
    }

    #[test]
    fn bad_geometry_is_refused() {
        let mut g = VisionGeometry::molmo();
        g.crop_size = 330;
        assert!(g.validate().is_err());
        assert!(ModelConfig::preset("huge").is_err());
    }

    #[test]
    fn vit_positions_default_to_learned_and_rope2d_reads_back() {
        let json = serde_json::to_string(&ModelConfig::small()).unwrap();
        assert!(
            !json.contains("positions"),
            "the default is not written: {json}"
        );
        let mut c: ModelConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(c.vit.positions, VitPositions::Learned);
        c.vit.positions = VitPositions::Rope2d;
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""positions":"rope2d""#), "{json}");
        let back: ModelConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        back.validate().unwrap();
        // Heads of width 6 cannot be split into row and column halves of rotated pairs.
        c.vit.d_model = 24;
        c.vit.heads = 4;
        c.connector.pool_heads = 4;
        assert!(c.validate().is_err());
    }
}
