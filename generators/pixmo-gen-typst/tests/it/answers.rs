//! Every answer is right: recomputed from the drawn strings in `data` by an evaluator that
//! shares no code with the crate's QA module, and extractive answers are found in the text
//! typst laid out on the page.

use std::collections::BTreeMap;

use pixmo_gen_typst::{
    DocKind, DocSample, GenerateOptions, QaKind, QaProgram, REFUSAL, RenderOptions, generate,
};

use crate::util::{check_answer, drawn, hundredths};

const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

fn samples() -> Vec<DocSample> {
    // Layout, text and QA do not depend on the resolution; 1 px/pt keeps the test fast.
    let options = GenerateOptions {
        render: RenderOptions {
            pixel_per_pt: 1.0,
            ..RenderOptions::default()
        },
    };
    let mut out = Vec::new();
    for kind in DocKind::ALL {
        for seed in SEEDS {
            out.push(
                generate(kind, seed, &options)
                    .unwrap_or_else(|e| panic!("{kind:?} seed {seed}: {e}")),
            );
        }
    }
    out
}

#[test]
fn answers_recompute_from_data_and_appear_on_the_page() {
    let mut yes_no = BTreeMap::new();
    let mut kinds = BTreeMap::new();
    for s in samples() {
        assert!(s.qa.len() >= 6, "{:?}: only {} QA", s.kind, s.qa.len());
        for qa in &s.qa {
            check_answer(&s.data, &qa.program, &qa.answer)
                .unwrap_or_else(|e| panic!("{:?} {:?}: {e}\n{qa:#?}", s.kind, qa.question));
            assert!(!qa.question.is_empty() && !qa.explanation.is_empty());
            *kinds.entry(format!("{:?}", qa.kind)).or_insert(0) += 1;
            if qa.kind == QaKind::YesNo {
                *yes_no.entry(qa.answer.clone()).or_insert(0usize) += 1;
            }
            let extractive = matches!(
                qa.program,
                QaProgram::Field { .. }
                    | QaProgram::Cell { .. }
                    | QaProgram::ArgMax { .. }
                    | QaProgram::ArgMin { .. }
            );
            if extractive {
                assert!(
                    drawn(&s, &qa.answer),
                    "{:?}: answer {:?} not on the page:\n{}",
                    s.kind,
                    qa.answer,
                    s.text_lines.join("\n")
                );
            }
            if qa.kind == QaKind::Unanswerable {
                assert_eq!(qa.answer, REFUSAL);
            }
            // Numeric answers are explained with the same figure.
            if qa.kind == QaKind::Compositional {
                assert!(qa.explanation.contains(&qa.answer), "{qa:#?}");
            }
        }
        for kind in [QaKind::Retrieval, QaKind::Counting, QaKind::Unanswerable] {
            assert!(
                s.qa.iter().any(|q| q.kind == kind),
                "{:?} has no {kind:?} question",
                s.kind
            );
        }
    }
    for kind in [
        "Retrieval",
        "Compositional",
        "Comparison",
        "YesNo",
        "Counting",
        "Unanswerable",
    ] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} questions: {kinds:?}"
        );
    }
    let (yes, no) = (
        yes_no.get("Yes").copied().unwrap_or(0),
        yes_no.get("No").copied().unwrap_or(0),
    );
    assert!(
        yes > 0 && no > 0 && yes.abs_diff(no) * 5 <= yes + no,
        "unbalanced yes/no: {yes_no:?}"
    );
}

#[test]
fn invoice_arithmetic_is_consistent() {
    for seed in 10..14 {
        let s = generate(DocKind::Invoice, seed, &GenerateOptions::default()).unwrap();
        let field = |k: &str| {
            let f = s.data["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["key"] == k)
                .unwrap();
            hundredths(f["value"].as_str().unwrap()).unwrap()
        };
        let t = &s.data["tables"][0];
        let mut sum = 0;
        for row in t["rows"].as_array().unwrap() {
            let cell = |i: usize| hundredths(row[i].as_str().unwrap()).unwrap();
            assert_eq!(
                cell(1) / 100 * cell(2),
                cell(3),
                "qty x unit price = amount in {row}"
            );
            sum += cell(3);
        }
        assert_eq!(field("subtotal"), sum);
        // Tax = subtotal x rate, rounded half up to the cent.
        let rate_tenths = field("tax_rate") / 10;
        assert_eq!(field("tax"), (sum * rate_tenths + 500) / 1000);
        assert_eq!(field("total"), sum + field("tax"));
        for k in ["subtotal", "tax", "total"] {
            let f = s.data["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["key"] == k)
                .unwrap();
            assert!(drawn(&s, f["value"].as_str().unwrap()), "{k} not drawn");
        }
    }
}

#[test]
fn documents_vary_with_the_seed() {
    let mut fonts = std::collections::BTreeSet::new();
    let mut tables = std::collections::BTreeSet::new();
    let mut titles = std::collections::BTreeSet::new();
    for seed in 0..12 {
        let s = generate(DocKind::DataTable, seed, &GenerateOptions::default()).unwrap();
        fonts.insert(format!("{:?}", s.style.font));
        tables.insert(format!("{:?}", s.style.table));
        titles.insert(s.data["title"].as_str().unwrap().to_owned());
        assert_eq!(s.category, "tables");
    }
    assert!(fonts.len() >= 4, "{fonts:?}");
    assert!(tables.len() >= 3, "{tables:?}");
    assert!(titles.len() >= 5, "{titles:?}");
}
