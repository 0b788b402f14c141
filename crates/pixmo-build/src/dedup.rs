//! Near-duplicate images within one shard, decided in record order.

use std::sync::Arc;

use pixmo_dag::{Record, Rejection, Value};

/// Difference hashes of the rows kept so far in one shard, in record order.
pub(crate) struct NearDuplicates {
    max_bits: u32,
    seen: Vec<(Arc<Vec<u8>>, String)>,
}

impl NearDuplicates {
    pub(crate) fn new(max_bits: u32) -> NearDuplicates {
        NearDuplicates {
            max_bits,
            seen: Vec::new(),
        }
    }

    /// The rejection of `record` when it nearly repeats a kept row; otherwise remembers it.
    pub(crate) fn check(&mut self, record: &Record) -> Option<Rejection> {
        let Some(Value::Bytes(hash)) = record.get("image_dhash") else {
            return None;
        };
        if let Some((bits, id)) = self
            .seen
            .iter()
            .map(|(h, id)| (pixmo_core::hamming(h, hash), id))
            .find(|(bits, _)| *bits <= self.max_bits)
        {
            return Some(Rejection {
                record_id: record.id.clone(),
                split: record.key.split.clone(),
                record_index: record.key.record_index,
                stage: "dedup".into(),
                kind: "near_duplicate".into(),
                message: format!(
                    "Image nearly repeats {id}'s ({bits} of 1024 difference-hash bits differ; limit {})",
                    self.max_bits
                ),
            });
        }
        self.seen.push((Arc::clone(hash), record.id.clone()));
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(seed: u8) -> pixmo_core::RgbaImage {
        let mut rng = pixmo_core::Rng::new(u64::from(seed));
        let (w, h) = (64u32, 48u32);
        let mut data = Vec::new();
        for _ in 0..w * h {
            let v = u8::try_from(rng.range_u32(0, 256)).unwrap_or(0);
            data.extend_from_slice(&[v, v, v, 255]);
        }
        pixmo_core::RgbaImage::new(w, h, data).unwrap()
    }

    fn record(index: u64, img: &pixmo_core::RgbaImage) -> Record {
        let mut r = Record::new(pixmo_core::SeedKey {
            run_seed: 1,
            dataset: "docs".into(),
            split: "train".into(),
            record_index: index,
        });
        r.set(
            "image_dhash",
            Value::Bytes(Arc::new(pixmo_core::dhash(img))),
        );
        r
    }

    #[test]
    fn near_duplicates_are_rejected_in_record_order() {
        let (a, b) = (image(1), image(2));
        let mut a2 = a.clone();
        a2.data[..40].fill(0); // a few pixels changed
        let mut d = NearDuplicates::new(24);
        assert!(d.check(&record(0, &a)).is_none());
        assert!(d.check(&record(1, &b)).is_none());
        let r = d.check(&record(2, &a2)).expect("near duplicate");
        assert_eq!(
            (r.stage.as_str(), r.kind.as_str()),
            ("dedup", "near_duplicate")
        );
        assert!(r.message.contains("docs-train-000000000"), "{}", r.message);
        // A rejected row is not remembered; rows without a hash pass.
        assert_eq!(d.seen.len(), 2);
        let mut bare = record(3, &b);
        bare.take("image_dhash");
        assert!(d.check(&bare).is_none());
    }
}
