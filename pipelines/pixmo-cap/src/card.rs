//! What the PixMo-Cap and PixMo-CapQA cards add: caption lengths, transcripts per row, audio
//! minutes, synthetic speech, rejected recordings by reason and the ASR's word error rate where
//! the spoken text is known; for CapQA, turns per dialogue and answer lengths.

use std::collections::BTreeMap;

use std::fmt::Write as _;
use std::path::Path;

use pixmo_card::arrow::array::{Array, AsArray, RecordBatch, StructArray};
use pixmo_card::arrow::datatypes::{Float64Type, Int32Type, UInt32Type};
use pixmo_card::{BarChart, CardContext, CardExtension, Plot, column, pct, ratio, strings, wrong};

/// Caption length buckets, in words.
const WORD_BUCKETS: [u64; 9] = [25, 50, 100, 150, 200, 250, 300, 400, u64::MAX];

fn bucket_label(i: usize) -> String {
    let low = if i == 0 { 0 } else { WORD_BUCKETS[i - 1] };
    match WORD_BUCKETS[i] {
        u64::MAX => format!("{low}+"),
        high => format!("{low}-{}", high - 1),
    }
}

fn bucket(words: u64) -> usize {
    WORD_BUCKETS
        .iter()
        .position(|&b| words < b)
        .unwrap_or(WORD_BUCKETS.len() - 1)
}

/// Statistics of a PixMo-Cap dataset.
#[derive(Debug, Default)]
pub struct CapCard {
    caption_words: [u64; WORD_BUCKETS.len()],
    words_total: u64,
    transcripts_per_row: BTreeMap<usize, u64>,
    revisions: BTreeMap<i32, u64>,
    recordings: u64,
    synthetic: u64,
    audio_seconds: f64,
    rejected: BTreeMap<String, u64>,
    reference_words: f64,
    weighted_errors: f64,
    /// `speech_source` of the synthetic recordings, with how many each.
    speech_sources: BTreeMap<String, u64>,
    seen: std::collections::HashSet<String>,
}

/// A fresh Cap card extension.
#[must_use]
pub fn cap_extension() -> Box<dyn CardExtension> {
    Box::new(CapCard::default())
}

fn struct_list<'a>(
    batch: &'a RecordBatch,
    name: &str,
    path: &Path,
) -> pixmo_card::Result<&'a pixmo_card::arrow::array::ListArray> {
    column(batch, name, path)?
        .as_list_opt::<i32>()
        .ok_or_else(|| wrong(path, name, "a list of structs"))
}

fn field_f64(s: &StructArray, name: &str, path: &Path) -> pixmo_card::Result<Vec<Option<f64>>> {
    let c = s
        .column_by_name(name)
        .and_then(|c| c.as_primitive_opt::<Float64Type>())
        .ok_or_else(|| wrong(path, "recordings", "float fields"))?;
    Ok(c.iter().collect())
}

impl CardExtension for CapCard {
    fn records_from(&self) -> Option<(&'static str, &'static str)> {
        Some(("--inbox", "INBOX"))
    }

    fn columns(&self) -> Vec<&'static str> {
        vec![
            "caption",
            "transcripts",
            "revision",
            "recordings",
            "rejected_recordings",
        ]
    }

    fn column_statistics(&self) -> bool {
        false
    }

    fn add_batch(&mut self, batch: &RecordBatch, path: &Path) -> pixmo_card::Result<()> {
        let captions = strings(batch, "caption", path)?;
        for caption in captions.as_string::<i32>().iter().flatten() {
            let words = caption.split_whitespace().count() as u64;
            self.caption_words[bucket(words)] += 1;
            self.words_total += words;
        }
        let transcripts = struct_list(batch, "transcripts", path)?;
        for row in 0..transcripts.len() {
            *self
                .transcripts_per_row
                .entry(transcripts.value(row).len())
                .or_default() += 1;
        }
        let revisions = column(batch, "revision", path)?
            .as_primitive_opt::<Int32Type>()
            .ok_or_else(|| wrong(path, "revision", "a 32-bit integer"))?;
        for r in revisions.iter().flatten() {
            *self.revisions.entry(r).or_default() += 1;
        }
        let recordings = struct_list(batch, "recordings", path)?;
        let all = recordings
            .values()
            .as_struct_opt()
            .ok_or_else(|| wrong(path, "recordings", "a list of structs"))?;
        let durations = field_f64(all, "duration_seconds", path)?;
        let wers = field_f64(all, "wer", path)?;
        let words = all
            .column_by_name("reference_words")
            .and_then(|c| c.as_primitive_opt::<UInt32Type>())
            .ok_or_else(|| wrong(path, "recordings", "`reference_words`"))?;
        let synthetic = all
            .column_by_name("synthetic_speech")
            .map(|c| c.as_boolean())
            .ok_or_else(|| wrong(path, "recordings", "`synthetic_speech`"))?;
        let sources = all
            .column_by_name("speech_source")
            .and_then(|c| c.as_string_opt::<i32>());
        // A later revision repeats the recordings of earlier ones: count each recording once.
        let shas = all
            .column_by_name("audio_sha256")
            .and_then(|c| c.as_string_opt::<i32>())
            .ok_or_else(|| wrong(path, "recordings", "`audio_sha256`"))?;
        for i in 0..all.len() {
            if !self.seen.insert(shas.value(i).to_string()) {
                continue;
            }
            self.recordings += 1;
            self.audio_seconds += durations[i].unwrap_or(0.0);
            if synthetic.value(i) {
                self.synthetic += 1;
                let source = sources
                    .and_then(|s| (!s.is_null(i)).then(|| s.value(i)))
                    .unwrap_or("not recorded");
                *self.speech_sources.entry(source.to_string()).or_default() += 1;
            }
            if let (Some(w), false) = (wers[i], words.is_null(i))
                && w.is_finite()
            {
                let n = f64::from(words.value(i));
                self.reference_words += n;
                self.weighted_errors += w * n;
            }
        }
        let rejected = struct_list(batch, "rejected_recordings", path)?;
        let rejected = rejected
            .values()
            .as_struct_opt()
            .ok_or_else(|| wrong(path, "rejected_recordings", "a list of structs"))?;
        if let Some(kinds) = rejected.column_by_name("kind") {
            for kind in kinds.as_string::<i32>().iter().flatten() {
                *self.rejected.entry(kind.to_string()).or_default() += 1;
            }
        }
        Ok(())
    }

    fn summary_notes(&self, _card: &CardContext<'_>) -> Vec<String> {
        let mut notes = Vec::new();
        if self.synthetic > 0 {
            let sources: Vec<String> = self
                .speech_sources
                .iter()
                .map(|(source, n)| format!("{source} ({n})"))
                .collect();
            notes.push(format!(
                "**Synthetic speech, not people:** {} of the {} recordings in this copy were \
                 spoken by a text-to-speech engine ({}) reading written descriptions, and are \
                 marked `synthetic_speech` in every row. No person was \
                 recorded; the transcripts, word error rates and captions here measure the \
                 pipeline on synthetic speech and say nothing about human recordings.",
                self.synthetic,
                self.recordings,
                sources.join("; ")
            ));
        }
        notes.push(
            "Records come from an inbox of recordings (`INBOX` under *Rebuild*; the sample \
             inbox: `pixmo sample-inbox --out INBOX`; the cards in the repository's \
             `data_cards/`: `pipelines/pixmo-cap/reference-cards.sh`)."
                .into(),
        );
        notes
    }

    fn statistics(&self, card: &CardContext<'_>) -> String {
        let rows = card.rows;
        let mut out = String::from("### Captions and recordings\n\n");
        let _ = writeln!(
            out,
            "{rows} rows; {:.1} words per caption on average. {} transcribed recordings \
             ({:.1} minutes of audio, {:.1} s per recording); {} of them synthetic speech.",
            ratio(self.words_total, rows),
            self.recordings,
            self.audio_seconds / 60.0,
            if self.recordings == 0 {
                0.0
            } else {
                self.audio_seconds / self.recordings as f64
            },
            pct(self.synthetic, self.recordings),
        );
        if self.reference_words > 0.0 {
            let _ = writeln!(
                out,
                "\nWord error rate of the transcripts where the spoken text is known: **{:.1}%** \
                 over {:.0} reference words (jiwer's normalisation: lowercase, punctuation removed).",
                self.weighted_errors / self.reference_words * 100.0,
                self.reference_words
            );
        }
        out.push_str("\n| transcripts per row | rows |\n|---:|---:|\n");
        for (n, rows) in &self.transcripts_per_row {
            let _ = writeln!(out, "| {n} | {rows} |");
        }
        out.push_str("\n| revision | rows |\n|---:|---:|\n");
        for (r, rows) in &self.revisions {
            let _ = writeln!(out, "| {r} | {rows} |");
        }
        if !self.rejected.is_empty() {
            out.push_str("\nRecordings that could not be used (kept in `rejected_recordings`):\n\n| reason | recordings |\n|---|---:|\n");
            for (kind, n) in &self.rejected {
                let _ = writeln!(out, "| {kind} | {n} |");
            }
        }
        out.push('\n');
        out
    }

    fn plots(&self) -> Vec<Plot> {
        vec![Plot {
            file: "caption_words.png".into(),
            caption: "Rows per caption length (words)".into(),
            chart: BarChart {
                title: "Caption length".into(),
                x_label: "words".into(),
                y_label: "rows".into(),
                labels: (0..WORD_BUCKETS.len()).map(bucket_label).collect(),
                values: self.caption_words.to_vec(),
                label_every: 1,
            },
        }]
    }
}

/// Statistics of a PixMo-CapQA dataset.
#[derive(Debug, Default)]
pub struct CapQaCard {
    turns: BTreeMap<usize, u64>,
    answer_words: u64,
    answers: u64,
}

/// A fresh CapQA card extension.
#[must_use]
pub fn cap_qa_extension() -> Box<dyn CardExtension> {
    Box::new(CapQaCard::default())
}

impl CardExtension for CapQaCard {
    fn records_from(&self) -> Option<(&'static str, &'static str)> {
        Some(("--from", "CAP_DATASET"))
    }

    fn columns(&self) -> Vec<&'static str> {
        vec!["messages"]
    }

    fn add_batch(&mut self, batch: &RecordBatch, path: &Path) -> pixmo_card::Result<()> {
        let messages = struct_list(batch, "messages", path)?;
        for row in 0..messages.len() {
            let turns = messages.value(row);
            let turns = turns.as_string::<i32>();
            *self.turns.entry(turns.len() / 2).or_default() += 1;
            for (i, t) in turns.iter().enumerate() {
                if i % 2 == 1 {
                    self.answers += 1;
                    self.answer_words += t.map_or(0, |t| t.split_whitespace().count() as u64);
                }
            }
        }
        Ok(())
    }

    fn statistics(&self, _card: &CardContext<'_>) -> String {
        let mut out =
            String::from("### Dialogues\n\n| question-answer pairs | rows |\n|---:|---:|\n");
        for (n, rows) in &self.turns {
            let _ = writeln!(out, "| {n} | {rows} |");
        }
        let _ = writeln!(
            out,
            "\n{} answers, {:.1} words each on average.\n",
            self.answers,
            ratio(self.answer_words, self.answers)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use pixmo_annotation_schema::Dataset;
    use pixmo_card::arrow::datatypes::Schema;

    use super::*;

    /// Rows of the Cap schema's card columns, read from JSON lines.
    fn batch(lines: &str) -> RecordBatch {
        let cap = Dataset::Cap.schema().schema;
        let fields: Vec<_> = CapCard::default()
            .columns()
            .iter()
            .map(|name| cap.field_with_name(name).unwrap().clone())
            .collect();
        let mut reader = arrow_json::ReaderBuilder::new(Arc::new(Schema::new(fields)))
            .build(lines.as_bytes())
            .unwrap();
        reader.next().unwrap().unwrap()
    }

    fn recording(sha: &str, seconds: f64, synthetic: bool, wer: f64) -> String {
        format!(
            r#"{{"audio":"a/{sha}.wav","audio_sha256":"{sha}","annotator":"x","recorded_at":"2026-12-01T00:00:00Z","license":"CC0-1.0","duration_seconds":{seconds},"language":"en","avg_logprob":-0.3,"no_speech_prob":0.01,"model":"tiny.en","synthetic_speech":{synthetic},"speech_source":{},"reference_text":"a b c d","reference_words":4,"wer":{wer},"segments":[]}}"#,
            if synthetic {
                r#""espeak-ng 1.51 voice en-us""#
            } else {
                "null"
            }
        )
    }

    /// Synthetic recordings are named as such, with their source, in the summary; audio
    /// minutes, transcripts per row and the word error rate count each recording once (a
    /// later revision repeats the earlier recordings).
    #[test]
    fn synthetic_speech_is_named_and_recordings_count_once() {
        let (a, b, c) = (
            recording("a", 60.0, true, 0.25),
            recording("b", 90.0, true, 0.0),
            recording("c", 30.0, false, 0.5),
        );
        let rows = format!(
            "{{\"caption\":\"one two three\",\"transcripts\":[\"x\",\"y\"],\"revision\":1,\"recordings\":[{a},{b}],\"rejected_recordings\":[]}}\n\
             {{\"caption\":\"one two three four five\",\"transcripts\":[\"x\",\"y\",\"z\"],\"revision\":2,\"recordings\":[{a},{b},{c}],\"rejected_recordings\":[{{\"audio\":\"d.wav\",\"annotator\":\"x\",\"kind\":\"silent\",\"message\":\"silent\"}}]}}\n"
        );
        let mut card = CapCard::default();
        card.add_batch(&batch(&rows), Path::new("shard.parquet"))
            .unwrap();
        let context = CardContext {
            dataset: "cap",
            rows: 2,
            llm_used: Some(true),
        };
        let notes = card.summary_notes(&context).join("\n");
        assert!(
            notes.contains("**Synthetic speech, not people:** 2 of the 3 recordings")
                && notes.contains("(espeak-ng 1.51 voice en-us (2))")
                && notes.contains("`INBOX` under *Rebuild*"),
            "{notes}"
        );
        assert_eq!(card.records_from(), Some(("--inbox", "INBOX")));
        let stats = card.statistics(&context);
        for want in [
            "3 transcribed recordings (3.0 minutes of audio, 60.0 s per recording); 66.7% of them synthetic speech",
            // (0.25 * 4 + 0 * 4 + 0.5 * 4) / 12 words
            "**25.0%** over 12 reference words",
            "| 2 | 1 |\n| 3 | 1 |",
            "| silent | 1 |",
        ] {
            assert!(stats.contains(want), "`{want}` not in:\n{stats}");
        }
        // Human recordings only: no synthetic-speech note.
        let mut human = CapCard::default();
        let row = format!(
            "{{\"caption\":\"a\",\"transcripts\":[\"x\"],\"revision\":1,\"recordings\":[{c}],\"rejected_recordings\":[]}}\n"
        );
        human
            .add_batch(&batch(&row), Path::new("shard.parquet"))
            .unwrap();
        let notes = human.summary_notes(&context).join("\n");
        assert!(!notes.contains("Synthetic speech"), "{notes}");
    }
}
