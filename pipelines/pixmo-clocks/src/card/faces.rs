//! Face and body diversity for the card, read back from `watchface_name` (rows carry the
//! name, not the spec) with the generator's own parser and catalogue.

#[cfg(test)]
use std::collections::BTreeSet;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use pixmo_card::{BarChart, Plot, pct};
use pixmo_gen_clock::{BODY_COUNT, DIAL_KINDS, FaceSpec, HAND_STYLES, body};

/// Rows and distinct faces per value of each face property.
#[derive(Clone, Debug, Default)]
pub struct FaceDiversity {
    /// Rows per body index (into `pixmo_gen_clock::bodies`).
    pub body_rows: BTreeMap<usize, u64>,
    /// Rows per `(property, value)`: family, case, strap, material, theme, dial colour,
    /// dial kind, hand style.
    pub rows: BTreeMap<(&'static str, String), u64>,
    /// Distinct faces per `(property, value)`.
    pub faces: BTreeMap<(&'static str, String), u64>,
    /// Faces whose name does not parse (and their rows).
    pub unparsed_faces: u64,
    pub unparsed_rows: u64,
}

/// The properties tabulated, in card order, with how many values the generator has (when
/// it is a fixed list).
const PROPERTIES: [(&str, Option<usize>); 8] = [
    ("body family", Some(4)),
    ("case shape", Some(12)),
    ("strap", Some(8)),
    ("material", Some(14)),
    ("theme", Some(5)),
    ("dial colour", None),
    ("dial kind", Some(DIAL_KINDS.len())),
    ("hand style", Some(HAND_STYLES.len())),
];

/// The snake_case serde name of a catalogue enum (`wall_square`).
fn serde_name(value: impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl FaceDiversity {
    /// Diversity of the faces in `faces` (id to name) seen in `rows_per_face` rows.
    pub fn new(faces: &HashMap<String, String>, rows_per_face: &HashMap<String, u64>) -> Self {
        let mut out = FaceDiversity::default();
        for (id, name) in faces {
            let rows = rows_per_face.get(id).copied().unwrap_or(0);
            let Some(parts) = FaceSpec::parse_name(name) else {
                out.unparsed_faces += 1;
                out.unparsed_rows += rows;
                continue;
            };
            let spec = body(parts.body);
            *out.body_rows.entry(parts.body).or_default() += rows;
            let values = [
                serde_name(spec.family()),
                serde_name(spec.case),
                serde_name(spec.strap),
                parts.material,
                parts.theme,
                parts.dial_color,
                parts.dial_kind.name().to_string(),
                parts.hand_style.name().to_string(),
            ];
            for ((property, _), value) in PROPERTIES.iter().zip(values) {
                let key = (*property, value);
                *out.rows.entry(key.clone()).or_default() += rows;
                *out.faces.entry(key).or_default() += 1;
            }
        }
        out
    }

    /// Values of one property, most rows first (ties by name).
    fn values(&self, property: &str) -> Vec<(&str, u64, u64)> {
        let mut list: Vec<(&str, u64, u64)> = self
            .rows
            .iter()
            .filter(|((p, _), _)| *p == property)
            .map(|((p, v), rows)| {
                let faces = self.faces.get(&(*p, v.clone())).copied().unwrap_or(0);
                (v.as_str(), *rows, faces)
            })
            .collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        list
    }

    /// The `#### Faces and bodies` Markdown: distinct values per property, then rows and
    /// faces per body family, dial kind and hand style.
    pub fn markdown(&self, rows: u64) -> String {
        let mut out = String::from(
            "#### Faces and bodies\n\nRead back from `watchface_name`.\n\n| property | distinct values | of |\n|---|---:|---:|\n",
        );
        let _ = writeln!(
            out,
            "| body (catalogue entry) | {} | {BODY_COUNT} |",
            self.body_rows.len()
        );
        for (property, of) in PROPERTIES {
            let _ = writeln!(
                out,
                "| {property} | {} | {} |",
                self.values(property).len(),
                of.map_or("–".to_string(), |n| n.to_string())
            );
        }
        if self.unparsed_faces > 0 {
            let _ = writeln!(
                out,
                "\n{} faces ({} rows) have a name that does not parse.",
                self.unparsed_faces, self.unparsed_rows
            );
        }
        for property in ["body family", "dial kind", "hand style"] {
            let _ = writeln!(
                out,
                "\n| {property} | rows | share | faces |\n|---|---:|---:|---:|"
            );
            for (value, n, faces) in self.values(property) {
                let _ = writeln!(out, "| {value} | {n} | {} | {faces} |", pct(n, rows));
            }
        }
        out.push('\n');
        out
    }

    /// Bar charts: rows per body (the catalogue order), case shape, dial kind, hand style.
    pub fn plots(&self) -> Vec<Plot> {
        let chart = |property: &str, file: &str, title: &str| {
            let values = self.values(property);
            Plot {
                file: file.into(),
                caption: format!("Rows per {property}"),
                chart: BarChart {
                    title: title.into(),
                    x_label: property.into(),
                    y_label: "rows".into(),
                    labels: values.iter().map(|v| v.0.to_string()).collect(),
                    values: values.iter().map(|v| v.1).collect(),
                    label_every: 1,
                },
            }
        };
        vec![
            Plot {
                file: "bodies.png".into(),
                caption: format!("Rows per body (the {BODY_COUNT} catalogue entries, in order)"),
                chart: BarChart {
                    title: "Body (catalogue entry)".into(),
                    x_label: "body index".into(),
                    y_label: "rows".into(),
                    labels: (0..BODY_COUNT).map(|i| i.to_string()).collect(),
                    values: (0..BODY_COUNT)
                        .map(|i| self.body_rows.get(&i).copied().unwrap_or(0))
                        .collect(),
                    label_every: 5,
                },
            },
            chart("case shape", "case_shapes.png", "Case shape"),
            chart("dial kind", "dial_kinds.png", "Dial kind"),
            chart("hand style", "hand_styles.png", "Hand style"),
        ]
    }

    /// Distinct values of a property (for tests).
    #[cfg(test)]
    pub fn distinct(&self, property: &str) -> BTreeSet<String> {
        self.values(property)
            .into_iter()
            .map(|v| v.0.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_faces_tabulate_by_their_parts() {
        let mut faces = HashMap::new();
        let mut rows = HashMap::new();
        for seed in 0..40 {
            let face = FaceSpec::sample(seed);
            rows.insert(face.face_id(), 5);
            faces.insert(face.face_id(), face.name());
        }
        faces.insert("bad".into(), "not a face".into());
        rows.insert("bad".into(), 3);
        let d = FaceDiversity::new(&faces, &rows);
        assert_eq!((d.unparsed_faces, d.unparsed_rows), (1, 3));
        assert_eq!(d.body_rows.values().sum::<u64>(), 200);
        let kinds: u64 = d.values("dial kind").iter().map(|v| v.1).sum();
        assert_eq!(kinds, 200);
        let first = FaceSpec::sample(0);
        assert!(d.distinct("dial kind").contains(first.kind.name()));
        assert!(d.distinct("hand style").contains(first.hands.style.name()));
        let text = d.markdown(203);
        assert!(text.contains("| body (catalogue entry) |"), "{text}");
        assert!(text.contains("1 faces (3 rows) have a name that does not parse"));
        let files: Vec<String> = d.plots().into_iter().map(|p| p.file).collect();
        assert_eq!(
            files,
            [
                "bodies.png",
                "case_shapes.png",
                "dial_kinds.png",
                "hand_styles.png"
            ]
        );
    }
}
