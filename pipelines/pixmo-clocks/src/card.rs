//! What the PixMo-Clocks data card says beyond the generic card: its prose, the dial
//! statistics (hours, minutes, visible hands, time formats), face and body diversity
//! (`faces`) and their plots.

mod faces;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int32Type;
use pixmo_card::{
    About, BarChart, CardContext, CardExtension, Plot, column, pct, ratio, strings, wrong,
};

/// The card's prose.
pub const ABOUT: About = About {
    how_made: "Every image is procedurally rendered",
    limitations: &[
        "Faces are synthetic: real photographs add glare, perspective, occlusion and \
         blur that these renders model only partly.",
        "Analog faces show no AM/PM, so the answer is a 12-hour time; `watch_time` \
         keeps the 24-hour value that was sampled.",
        "Watch face designs come from a finite set of procedural styles; a model may \
         overfit to them.",
    ],
    license_notes: &[
        "The images are rendered by `pixmo-gen-clock` (Apache-2.0) from procedural watch \
         designs written for pixmo; no photograph, watch-face design or asset of the original \
         PixMo-Clocks (facer.io faces) is used.",
        "Dial text is drawn with the bundled Liberation Sans/Serif (SIL Open Font License 1.1) \
         and DejaVu (Bitstream Vera licence) fonts, whose licences allow rendering text into \
         images of any licence; their licence files are in `generators/pixmo-gen-clock/fonts/`.",
    ],
    ..About::new(
        "PixMo-Clocks",
        "PixMo-Clocks teaches a vision-language model to read analog clocks and \
         watches. Every image is a procedurally rendered watch face (an SVG drawn with \
         resvg) showing an exact, known time; the label comes from the same numbers \
         that placed the hands, so it is correct by construction. Rows carry the time \
         (`watch_time`, 24-hour, and `text`/`answer` in Molmo's 12-hour clock \
         convention), which hands are visible, and a question about the time.",
    )
};

/// Columns the clock statistics read.
const COLUMNS: [&str; 8] = [
    "watch_time",
    "time_format",
    "shows_seconds",
    "hour_visible",
    "minute_visible",
    "second_visible",
    "watchface_id",
    "watchface_name",
];

/// Dial statistics, gathered while the card streams the shards.
#[derive(Clone, Debug)]
pub struct ClockCard {
    /// Rows per hour as shown on a 12-hour dial: index 0 is 1 o'clock, 11 is 12 o'clock.
    pub hours: [u64; 12],
    /// Rows per minute, 0–59.
    pub minutes: [u64; 60],
    /// Rows whose `watch_time` is not `HH:MM:SS`.
    pub bad_times: u64,
    /// Rows whose face has a seconds hand.
    pub shows_seconds: u64,
    /// Rows with the hour hand visible.
    pub hour_visible: u64,
    /// Rows with the minute hand visible.
    pub minute_visible: u64,
    /// Rows with a seconds hand visible.
    pub second_visible: u64,
    /// Rows per `time_format`.
    pub time_formats: BTreeMap<String, u64>,
    /// Distinct watch faces: id to name.
    pub faces: HashMap<String, String>,
    /// Rows per watch face id.
    pub face_rows: HashMap<String, u64>,
}

impl Default for ClockCard {
    fn default() -> ClockCard {
        ClockCard {
            hours: [0; 12],
            minutes: [0; 60],
            bad_times: 0,
            shows_seconds: 0,
            hour_visible: 0,
            minute_visible: 0,
            second_visible: 0,
            time_formats: BTreeMap::new(),
            faces: HashMap::new(),
            face_rows: HashMap::new(),
        }
    }
}

/// A fresh extension, for [`crate::info`].
pub fn extension() -> Box<dyn CardExtension> {
    Box::new(ClockCard::default())
}

impl ClockCard {
    /// The most frequent words of the distinct watch face names: `(word, faces)`, most
    /// frequent first, ties alphabetically. Words shorter than 3 letters are left out.
    #[must_use]
    pub fn top_face_words(&self, n: usize) -> Vec<(String, u64)> {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for name in self.faces.values() {
            let mut words: Vec<String> = name
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 3)
                .map(str::to_lowercase)
                .collect();
            words.sort();
            words.dedup();
            for word in words {
                *counts.entry(word).or_default() += 1;
            }
        }
        let mut list: Vec<(String, u64)> = counts.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        list.truncate(n);
        list
    }
}

impl CardExtension for ClockCard {
    fn columns(&self) -> Vec<&'static str> {
        COLUMNS.to_vec()
    }

    /// The dial statistics say more than per-column summaries.
    fn column_statistics(&self) -> bool {
        false
    }

    fn add_batch(&mut self, batch: &RecordBatch, path: &Path) -> pixmo_card::Result<()> {
        let times = strings(batch, "watch_time", path)?;
        let formats = strings(batch, "time_format", path)?;
        let face_ids = strings(batch, "watchface_id", path)?;
        let face_names = strings(batch, "watchface_name", path)?;
        let seconds = column(batch, "shows_seconds", path)?
            .as_boolean_opt()
            .ok_or_else(|| wrong(path, "shows_seconds", "a boolean"))?;
        self.shows_seconds += seconds.true_count() as u64;
        for (name, total) in [
            ("hour_visible", &mut self.hour_visible),
            ("minute_visible", &mut self.minute_visible),
            ("second_visible", &mut self.second_visible),
        ] {
            let visible = column(batch, name, path)?
                .as_primitive_opt::<Int32Type>()
                .ok_or_else(|| wrong(path, name, "a 32-bit integer"))?;
            *total += visible.iter().filter(|v| *v == Some(1)).count() as u64;
        }
        let times = times.as_string::<i32>();
        let formats = formats.as_string::<i32>();
        let (face_ids, face_names) = (face_ids.as_string::<i32>(), face_names.as_string::<i32>());
        for i in 0..batch.num_rows() {
            match parse_time(times.value(i)) {
                Some((hour, minute)) => {
                    let dial = if hour % 12 == 0 { 12 } else { hour % 12 };
                    self.hours[dial - 1] += 1;
                    self.minutes[minute] += 1;
                }
                None => self.bad_times += 1,
            }
            *self
                .time_formats
                .entry(formats.value(i).to_string())
                .or_default() += 1;
            *self
                .face_rows
                .entry(face_ids.value(i).to_string())
                .or_default() += 1;
            if !self.faces.contains_key(face_ids.value(i)) {
                self.faces.insert(
                    face_ids.value(i).to_string(),
                    face_names.value(i).to_string(),
                );
            }
        }
        Ok(())
    }

    fn statistics(&self, card: &CardContext<'_>) -> String {
        let rows = card.rows;
        let mut out = String::from("### Clocks\n\n| | rows | share |\n|---|---:|---:|\n");
        for (label, n) in [
            ("Face shows seconds", self.shows_seconds),
            ("Hour hand visible", self.hour_visible),
            ("Minute hand visible", self.minute_visible),
            ("Seconds hand visible", self.second_visible),
        ] {
            let _ = writeln!(out, "| {label} | {n} | {} |", pct(n, rows));
        }
        for (format, n) in &self.time_formats {
            let _ = writeln!(out, "| Time format `{format}` | {n} | {} |", pct(*n, rows));
        }
        if self.bad_times > 0 {
            let _ = writeln!(
                out,
                "| `watch_time` not `HH:MM:SS` | {} | {} |",
                self.bad_times,
                pct(self.bad_times, rows)
            );
        }
        let _ = writeln!(
            out,
            "\n{} distinct watch faces ({:.1} rows per face).\n",
            self.faces.len(),
            ratio(rows, self.faces.len() as u64)
        );
        let words = self.top_face_words(15);
        if !words.is_empty() {
            out.push_str("Most common words in watch face names (faces using them):\n\n| word | faces |\n|---|---:|\n");
            for (word, n) in words {
                let _ = writeln!(out, "| {word} | {n} |");
            }
            out.push('\n');
        }
        out.push_str(&faces::FaceDiversity::new(&self.faces, &self.face_rows).markdown(rows));
        let (h_min, h_max) = min_max(&self.hours);
        let (m_min, m_max) = min_max(&self.minutes);
        let _ = writeln!(
            out,
            "Rows per dial hour range from {h_min} to {h_max}; rows per minute from {m_min} to {m_max}.\n"
        );
        out
    }

    fn plots(&self) -> Vec<Plot> {
        let mut plots = vec![
            Plot {
                file: "hours.png".into(),
                caption: "Rows per hour on the dial (1–12)".into(),
                chart: BarChart {
                    title: "Hour shown on the dial".into(),
                    x_label: "hour (12-hour dial)".into(),
                    y_label: "rows".into(),
                    labels: (1..=12).map(|h| h.to_string()).collect(),
                    values: self.hours.to_vec(),
                    label_every: 1,
                },
            },
            Plot {
                file: "minutes.png".into(),
                caption: "Rows per minute (0–59)".into(),
                chart: BarChart {
                    title: "Minute shown".into(),
                    x_label: "minute".into(),
                    y_label: "rows".into(),
                    labels: (0..60).map(|m| m.to_string()).collect(),
                    values: self.minutes.to_vec(),
                    label_every: 5,
                },
            },
        ];
        plots.extend(faces::FaceDiversity::new(&self.faces, &self.face_rows).plots());
        plots
    }
}

/// Hour (0–23) and minute (0–59) of `HH:MM[:SS]`.
fn parse_time(text: &str) -> Option<(usize, usize)> {
    let mut parts = text.split(':');
    let hour: usize = parts.next()?.parse().ok()?;
    let minute: usize = parts.next()?.parse().ok()?;
    (hour < 24 && minute < 60).then_some((hour, minute))
}

fn min_max(values: &[u64]) -> (u64, u64) {
    (
        values.iter().copied().min().unwrap_or(0),
        values.iter().copied().max().unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{BooleanArray, Int32Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn times_parse_to_hour_and_minute() {
        assert_eq!(parse_time("13:05:59"), Some((13, 5)));
        assert_eq!(parse_time("0:00"), Some((0, 0)));
        assert_eq!(parse_time("24:00:00"), None);
        assert_eq!(parse_time("noon"), None);
    }

    #[test]
    fn face_words_count_each_face_once() {
        let mut clocks = ClockCard::default();
        for (id, name) in [
            ("a", "Round steel dial, steel hands"),
            ("b", "Square gold dial"),
            ("c", "Round roman dial"),
        ] {
            clocks.faces.insert(id.into(), name.into());
        }
        assert_eq!(
            clocks.top_face_words(3),
            vec![
                ("dial".to_string(), 3),
                ("round".to_string(), 2),
                ("gold".to_string(), 1)
            ]
        );
    }

    /// The streamed columns become the dial table, the face count and two plots.
    #[test]
    fn batches_become_dial_statistics_and_plots() {
        let text = |v: &[&str]| Arc::new(StringArray::from(v.to_vec())) as _;
        let ints = |v: &[i32]| Arc::new(Int32Array::from(v.to_vec())) as _;
        let schema = Schema::new(vec![
            Field::new("watch_time", DataType::Utf8, false),
            Field::new("time_format", DataType::Utf8, false),
            Field::new("shows_seconds", DataType::Boolean, false),
            Field::new("hour_visible", DataType::Int32, false),
            Field::new("minute_visible", DataType::Int32, false),
            Field::new("second_visible", DataType::Int32, false),
            Field::new("watchface_id", DataType::Utf8, false),
            Field::new("watchface_name", DataType::Utf8, false),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                text(&["13:05:00", "00:59:30", "bad"]),
                text(&["12h", "12h", "24h"]),
                Arc::new(BooleanArray::from(vec![true, false, true])),
                ints(&[1, 1, 0]),
                ints(&[1, 1, 1]),
                ints(&[1, 0, 0]),
                text(&["f1", "f2", "f1"]),
                text(&["Round dial", "Square dial", "Round dial"]),
            ],
        )
        .unwrap();
        let mut card = ClockCard::default();
        card.add_batch(&batch, Path::new("x.parquet")).unwrap();
        assert_eq!((card.hours[0], card.hours[11], card.bad_times), (1, 1, 1));
        assert_eq!((card.minutes[5], card.minutes[59]), (1, 1));
        let context = CardContext {
            dataset: "clocks",
            rows: 3,
            llm_used: Some(false),
        };
        let text = card.statistics(&context);
        for needle in [
            "### Clocks",
            "| Face shows seconds | 2 | 66.7% |",
            "| Hour hand visible | 2 | 66.7% |",
            "| Time format `12h` | 2 | 66.7% |",
            "| `watch_time` not `HH:MM:SS` | 1 | 33.3% |",
            "2 distinct watch faces (1.5 rows per face).",
            "| dial | 2 |",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        let files: Vec<String> = card.plots().into_iter().map(|p| p.file).collect();
        assert_eq!(
            files,
            [
                "hours.png",
                "minutes.png",
                "bodies.png",
                "case_shapes.png",
                "dial_kinds.png",
                "hand_styles.png"
            ]
        );
        assert!(!card.column_statistics());
        let err = card
            .add_batch(&batch.project(&[0]).unwrap(), Path::new("x.parquet"))
            .unwrap_err();
        assert!(err.to_string().contains("time_format"), "{err}");
    }
}
