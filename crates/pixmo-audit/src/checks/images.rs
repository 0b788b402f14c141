//! `image_hashes`: every embedded image hashes to its `image_sha256`, is a PNG or JPEG, and
//! its header size equals the `width`/`height` columns. Streams batches of a few columns
//! per file, files in parallel, so memory stays bounded by the batch size.

use std::fs::File;
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, UInt32Type};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pixmo_shards::ShardMarker;

use super::{Tally, parallel_map, threads};
use crate::inputs::DatasetInputs;
use crate::report::Check;

/// Rows per batch while hashing images.
const BATCH_ROWS: usize = 256;

/// Hashes and parses every image of every readable shard.
pub(crate) fn image_hashes(inputs: &DatasetInputs) -> Check {
    let shards: Vec<ShardMarker> = inputs.readable_shards().into_values().flatten().collect();
    let root = inputs.root();
    let id_column = inputs.schema.id_column;
    let results = parallel_map(&shards, threads(), |m| {
        check_file(&root.join(&m.file), id_column).map_err(|e| format!("`{}`: {e}", m.file))
    });
    let mut tally = Tally::default();
    let mut rows = 0u64;
    let mut unreadable = Vec::new();
    for result in results {
        match result {
            Ok((n, t)) => {
                rows += n;
                tally.merge(t);
            }
            Err(e) => unreadable.push(e),
        }
    }
    let mut problems = unreadable;
    problems.extend(tally.problems());
    Check::from_problems(
        "image_hashes",
        format!(
            "{rows} images match their image_sha256 and their PNG/JPEG headers match width and height"
        ),
        &problems,
    )
}

/// Checks one file; returns the rows read and the problems found.
fn check_file(path: &Path, id_column: &str) -> Result<(u64, Tally), String> {
    let file = File::open(path).map_err(|e| format!("could not open: {e}"))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| e.to_string())?;
    let wanted = [id_column, "image.bytes", "image_sha256", "width", "height"];
    let descr = builder.parquet_schema();
    let leaves: Vec<usize> = (0..descr.num_columns())
        .filter(|i| wanted.contains(&descr.column(*i).path().string().as_str()))
        .collect();
    if leaves.len() != wanted.len() {
        return Err(format!("lacks one of the columns {}", wanted.join(", ")));
    }
    let mask = ProjectionMask::leaves(descr, leaves);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| e.to_string())?;
    let mut tally = Tally::default();
    let mut rows = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        rows += batch.num_rows() as u64;
        check_batch(&batch, id_column, &mut tally)?;
    }
    Ok((rows, tally))
}

fn check_batch(batch: &RecordBatch, id_column: &str, tally: &mut Tally) -> Result<(), String> {
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .cloned()
            .ok_or_else(|| format!("lacks column `{name}`"))
    };
    let ids = cast(&column(id_column)?, &DataType::Utf8).map_err(|e| e.to_string())?;
    let ids = ids.as_string::<i32>();
    let image = column("image")?;
    let image = image.as_struct_opt().ok_or("`image` is not a struct")?;
    let bytes = image
        .column_by_name("bytes")
        .and_then(|c| c.as_binary_opt::<i32>())
        .ok_or("`image.bytes` is not binary")?;
    let hashes = cast(&column("image_sha256")?, &DataType::Utf8).map_err(|e| e.to_string())?;
    let hashes = hashes.as_string::<i32>();
    let sizes = |name: &str| -> Result<_, String> {
        let c = cast(&column(name)?, &DataType::UInt32).map_err(|e| e.to_string())?;
        Ok(c.as_primitive::<UInt32Type>().clone())
    };
    let (widths, heights) = (sizes("width")?, sizes("height")?);
    for i in 0..batch.num_rows() {
        let id = if ids.is_null(i) {
            "<null>"
        } else {
            ids.value(i)
        };
        if bytes.is_null(i) || image.is_null(i) {
            tally.add("without image bytes", id);
            continue;
        }
        let data = bytes.value(i);
        if hashes.is_null(i) || pixmo_core::sha256_hex(data) != hashes.value(i) {
            tally.add("whose image bytes do not hash to image_sha256", id);
        }
        match header_size(data) {
            Err(problem) => tally.add(problem, id),
            Ok((w, h)) => {
                if widths.is_null(i) || heights.is_null(i) {
                    tally.add("without width or height", id);
                } else if (w, h) != (widths.value(i), heights.value(i)) {
                    tally.add("whose image header size differs from width x height", id);
                }
            }
        }
    }
    Ok(())
}

/// Width and height from a PNG IHDR chunk or a JPEG start-of-frame segment.
pub(crate) fn header_size(data: &[u8]) -> Result<(u32, u32), &'static str> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if data.starts_with(PNG) {
        if data.len() < 24 || &data[12..16] != b"IHDR" {
            return Err("with a truncated PNG header");
        }
        let be = |s: &[u8]| u32::from_be_bytes([s[0], s[1], s[2], s[3]]);
        return Ok((be(&data[16..20]), be(&data[20..24])));
    }
    if data.starts_with(&[0xFF, 0xD8]) {
        return jpeg_size(data).ok_or("with a truncated JPEG header");
    }
    Err("whose image is neither PNG nor JPEG")
}

fn jpeg_size(data: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    loop {
        // Markers may be padded with any number of 0xFF fill bytes.
        while *data.get(i)? != 0xFF {
            i += 1;
        }
        while *data.get(i)? == 0xFF {
            i += 1;
        }
        let marker = *data.get(i)?;
        i += 1;
        match marker {
            // Standalone markers: TEM, RSTn, SOI.
            0x01 | 0xD0..=0xD8 => continue,
            // End of image or start of scan before any frame header.
            0xD9 | 0xDA => return None,
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([*data.get(i)?, *data.get(i + 1)?]));
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            let segment = data.get(i..i + 7)?;
            let height = u32::from(u16::from_be_bytes([segment[3], segment[4]]));
            let width = u32::from(u16::from_be_bytes([segment[5], segment[6]]));
            return Some((width, height));
        }
        i += length;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_size_comes_from_ihdr() {
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        png.extend_from_slice(&448u32.to_be_bytes());
        png.extend_from_slice(&300u32.to_be_bytes());
        assert_eq!(header_size(&png), Ok((448, 300)));
        assert!(header_size(&png[..20]).is_err());
    }

    #[test]
    fn jpeg_size_skips_segments_until_the_frame_header() {
        let mut jpeg = vec![0xFF, 0xD8];
        // APP0 with 4 bytes of payload, then fill bytes, then SOF0.
        jpeg.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x06, 1, 2, 3, 4]);
        jpeg.extend_from_slice(&[0xFF, 0xFF, 0xC0, 0x00, 0x11, 8, 0x01, 0x2C, 0x01, 0xC0, 3]);
        assert_eq!(header_size(&jpeg), Ok((448, 300)));
        assert!(header_size(&jpeg[..12]).is_err());
        assert!(header_size(b"GIF89a").is_err());
        assert!(header_size(&[0xFF, 0xD8, 0xFF, 0xD9]).is_err());
    }
}
