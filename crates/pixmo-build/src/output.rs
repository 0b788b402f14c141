//! The `[output]` table of a pipeline spec.

use serde::{Deserialize, Serialize};

/// The `[output]` table of a pipeline spec.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Records per shard. Default 1000 unless `target_shard_bytes` is set.
    pub rows_per_shard: Option<u64>,
    /// Aim for shards of about this many bytes: rows per shard is derived from the
    /// encoded size of the first records (a deterministic probe).
    pub target_shard_bytes: Option<u64>,
    /// Rows per Parquet row group.
    #[serde(default = "default_row_group_rows")]
    pub row_group_rows: usize,
    /// zstd level of non-image columns.
    #[serde(default = "default_zstd")]
    pub zstd_level: i32,
    /// Reject a row as `near_duplicate` when its image's difference hash (`image_dhash`,
    /// written by `image.validate`) is within this many bits of an earlier row's in the same
    /// shard. Rows are checked in record order, so the result does not depend on worker
    /// timing or on how shards are spread over machines. Off when absent.
    pub near_duplicate_bits: Option<u32>,
}

fn default_row_group_rows() -> usize {
    64
}

fn default_zstd() -> i32 {
    3
}

impl OutputConfig {
    /// Parses and checks the `[output]` table.
    ///
    /// # Errors
    /// Unknown fields, both sizes given, or zero sizes.
    pub fn from_table(table: &toml::Table) -> Result<OutputConfig, String> {
        let config: OutputConfig = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| format!("[output]: {}", e.message()))?;
        if config.rows_per_shard.is_some() && config.target_shard_bytes.is_some() {
            return Err("[output]: set `rows_per_shard` or `target_shard_bytes`, not both".into());
        }
        if config.rows_per_shard == Some(0) || config.target_shard_bytes == Some(0) {
            return Err("[output]: shard sizes must be positive".into());
        }
        if config.row_group_rows == 0 {
            return Err("[output]: `row_group_rows` must be positive".into());
        }
        if config.near_duplicate_bits.is_some_and(|b| b > 256) {
            return Err("[output]: `near_duplicate_bits` must be at most 256 (of 1024)".into());
        }
        Ok(config)
    }

    /// The Parquet writer settings.
    #[must_use]
    pub fn writer_settings(&self) -> pixmo_shards::WriterSettings {
        pixmo_shards::WriterSettings {
            row_group_rows: self.row_group_rows,
            zstd_level: self.zstd_level,
        }
    }
}
