//! Plain data tables and schedules.

use pixmo_core::Rng;

use super::{Built, strings, title_code};
use crate::banks::{self, pick, pick_distinct};
use crate::model::{Cell, DocData, TableData, num_col, text_col};
use crate::qa::QaHints;
use crate::style::Style;
use crate::table::table_code;
use crate::typ::{NumFormat, lit, rgb};

/// A data-table topic: title, row noun, row labels, numeric columns `(name, format, lo, hi)`.
struct Topic {
    title: &'static str,
    row_noun: &'static str,
    rows: &'static [&'static str],
    columns: &'static [(&'static str, Fmt, i64, i64)],
}

#[derive(Clone, Copy)]
enum Fmt {
    Int,
    Dec1,
    Money,
    Pct1,
}

impl Fmt {
    fn format(self, currency: &str) -> NumFormat {
        match self {
            Fmt::Int => NumFormat::int(),
            Fmt::Dec1 => NumFormat::with_suffix(1, ""),
            Fmt::Money => NumFormat::money(currency),
            Fmt::Pct1 => NumFormat::with_suffix(1, "%"),
        }
    }
}

const REGIONS: &[&str] = &[
    "North", "South", "East", "West", "Central", "Coastal", "Mountain", "Metro", "Lakes", "Valley",
];
const BUILDINGS: &[&str] = &[
    "Library",
    "Gym",
    "Science Block",
    "Admin Office",
    "Cafeteria",
    "Dormitory A",
    "Dormitory B",
    "Arts Centre",
    "Clinic",
];
const CHANNELS: &[&str] = &[
    "Organic search",
    "Email",
    "Social media",
    "Referral",
    "Direct",
    "Paid search",
    "Podcast ads",
    "Affiliates",
];
const TEAMS: &[&str] = &[
    "Harbor Hawks",
    "Valley Vipers",
    "Summit Stars",
    "River Rapids",
    "Oakmont Owls",
    "Granite Giants",
    "Coastal Comets",
    "Metro Mustangs",
];
const CLINICS: &[&str] = &[
    "Eastside Clinic",
    "Harbor Health",
    "Maple Family Care",
    "Riverside Medical",
    "Northgate Clinic",
    "Westview Practice",
    "Parkland Health",
];
const CROPS: &[&str] = &[
    "Wheat",
    "Barley",
    "Oats",
    "Canola",
    "Lentils",
    "Corn",
    "Soybeans",
    "Potatoes",
    "Sunflower",
];

const TOPICS: &[Topic] = &[
    Topic {
        title: "Quarterly unit sales by region",
        row_noun: "region",
        rows: REGIONS,
        columns: &[
            ("Q1", Fmt::Int, 120, 2400),
            ("Q2", Fmt::Int, 120, 2400),
            ("Q3", Fmt::Int, 120, 2400),
            ("Q4", Fmt::Int, 120, 2400),
        ],
    },
    Topic {
        title: "Average monthly rainfall (mm)",
        row_noun: "city",
        rows: banks::CITIES,
        columns: &[
            ("Jan", Fmt::Dec1, 50, 1800),
            ("Apr", Fmt::Dec1, 50, 1800),
            ("Jul", Fmt::Dec1, 50, 1800),
            ("Oct", Fmt::Dec1, 50, 1800),
        ],
    },
    Topic {
        title: "Exam scores by student",
        row_noun: "student",
        rows: &[
            "Amara Okafor",
            "Ben Lindqvist",
            "Carmen Moreau",
            "Dmitri Tanaka",
            "Elena Alvarez",
            "Farid Haddad",
            "Grace Nguyen",
            "Hiro Patel",
            "Ines Rossi",
            "Jonas Mensah",
        ],
        columns: &[
            ("Math", Fmt::Int, 41, 100),
            ("Science", Fmt::Int, 41, 100),
            ("English", Fmt::Int, 41, 100),
            ("History", Fmt::Int, 41, 100),
        ],
    },
    Topic {
        title: "Energy use by building (MWh)",
        row_noun: "building",
        rows: BUILDINGS,
        columns: &[
            ("2023", Fmt::Dec1, 800, 9000),
            ("2024", Fmt::Dec1, 800, 9000),
            ("2025", Fmt::Dec1, 800, 9000),
        ],
    },
    Topic {
        title: "Website traffic by channel",
        row_noun: "channel",
        rows: CHANNELS,
        columns: &[
            ("Visits", Fmt::Int, 800, 96000),
            ("Conversion rate", Fmt::Pct1, 5, 95),
            ("Revenue", Fmt::Money, 50_000, 4_000_000),
        ],
    },
    Topic {
        title: "League standings",
        row_noun: "team",
        rows: TEAMS,
        columns: &[
            ("Wins", Fmt::Int, 0, 30),
            ("Losses", Fmt::Int, 0, 30),
            ("Points", Fmt::Int, 0, 90),
        ],
    },
    Topic {
        title: "Average wait time by clinic (minutes)",
        row_noun: "clinic",
        rows: CLINICS,
        columns: &[
            ("Mon", Fmt::Int, 5, 75),
            ("Tue", Fmt::Int, 5, 75),
            ("Wed", Fmt::Int, 5, 75),
            ("Thu", Fmt::Int, 5, 75),
            ("Fri", Fmt::Int, 5, 75),
        ],
    },
    Topic {
        title: "Harvest yield by crop (tonnes per hectare)",
        row_noun: "crop",
        rows: CROPS,
        columns: &[
            ("2022", Fmt::Dec1, 10, 120),
            ("2023", Fmt::Dec1, 10, 120),
            ("2024", Fmt::Dec1, 10, 120),
        ],
    },
    Topic {
        title: "Product inventory",
        row_noun: "product",
        rows: &[
            "Copy paper",
            "Ballpoint pens",
            "Staplers",
            "Toner",
            "Sticky notes",
            "Folders",
            "Markers",
            "Label tape",
            "Binder clips",
            "Envelopes",
        ],
        columns: &[
            ("In stock", Fmt::Int, 0, 900),
            ("Unit cost", Fmt::Money, 99, 8999),
            ("Reorder level", Fmt::Int, 10, 200),
        ],
    },
];

/// A random table for one of the topics; also used by reports.
pub(crate) fn sample_table(rng: &mut Rng) -> (String, TableData, Vec<String>) {
    let topic = rng.choose(TOPICS).unwrap_or(&TOPICS[0]);
    let currency = pick(rng, &["$", "€", "£"]);
    let n = (rng.range_u32(4, 9) as usize).min(topic.rows.len());
    let labels = pick_distinct(rng, topic.rows, n);
    let label_col = {
        let mut s = topic.row_noun.to_owned();
        if let Some(f) = s.get_mut(0..1) {
            f.make_ascii_uppercase();
        }
        s
    };
    let mut columns = vec![text_col(&label_col)];
    // Keep 2..=all numeric columns, in order.
    let k = rng.range_u32(2, topic.columns.len() as u32 + 1) as usize;
    let cols: Vec<_> = topic.columns.iter().take(k).collect();
    columns.extend(
        cols.iter()
            .map(|(name, fmt, _, _)| num_col(name, fmt.format(currency))),
    );
    let mut t = TableData::new("table", topic.row_noun, columns);
    for label in &labels {
        let cells = cols
            .iter()
            .map(|(_, _, lo, hi)| {
                Cell::Num(i64::try_from(rng.range_u64(*lo as u64, *hi as u64 + 1)).unwrap_or(*lo))
            })
            .collect();
        t.push(label, cells);
    }
    let absent = topic
        .rows
        .iter()
        .filter(|r| !labels.contains(r))
        .map(|r| (*r).to_owned())
        .collect();
    (topic.title.to_owned(), t, absent)
}

pub(crate) fn data_table(rng: &mut Rng) -> Built {
    let (title, table, absent) = sample_table(rng);
    let mut data = DocData {
        title: title.clone(),
        ..DocData::default()
    };
    if rng.bool(0.5) {
        data.field(
            "source",
            "Source",
            format!(
                "{} annual survey, {}",
                banks::company(rng),
                rng.range_u32(2019, 2027)
            ),
        );
    }
    data.tables.push(table);
    Built {
        figure_type: "data table",
        topic: title,
        data,
        hints: QaHints {
            doc_noun: "table".into(),
            unanswerable: strings(&[
                "What was the value in the previous year?",
                "Who compiled this table?",
                "What is the median value for next year?",
            ]),
            absent_rows: absent,
            absent_items: vec![],
        },
    }
}

pub(crate) fn data_table_code(d: &DocData, s: &Style) -> String {
    let mut c = s.preamble();
    c.push_str(&title_code(&d.title, s, 1.35));
    if let Some(t) = d.tables.first() {
        c.push_str(&table_code(t, s, false, None));
    }
    if let Some(f) = d.field_ref("source") {
        c.push_str(&format!(
            "#v(0.4em)\n#text(size: 0.85em, fill: {}, {})\n",
            rgb(&s.palette.muted),
            lit(&format!("{}: {}", f.label, f.value))
        ));
    }
    c
}

pub(crate) fn schedule(rng: &mut Rng) -> Built {
    let org = banks::company(rng);
    let event = format!(
        "{} {}",
        org,
        pick(
            rng,
            &[
                "Summit",
                "Retreat",
                "Training Day",
                "Open House",
                "Symposium"
            ]
        )
    );
    let mut data = DocData {
        title: event.clone(),
        ..DocData::default()
    };
    data.field("date", "Date", banks::date(rng));
    data.field("venue", "Venue", banks::address(rng));
    let mut t = TableData::new(
        "sessions",
        "session",
        vec![
            text_col("Session"),
            text_col("Start"),
            text_col("Room"),
            text_col("Lead"),
            num_col("Minutes", NumFormat::int()),
        ],
    );
    let n = rng.range_u32(4, 9) as usize;
    let sessions = pick_distinct(rng, banks::SESSIONS, n);
    let leads = banks::people(rng, n);
    let mut minute = 60 * rng.range_u32(8, 11) + 30 * rng.range_u32(0, 2);
    for (i, session) in sessions.iter().enumerate() {
        let len = 15 * rng.range_u32(2, 7);
        t.push(
            session,
            vec![
                Cell::Text(format!("{:02}:{:02}", minute / 60, minute % 60)),
                Cell::Text(pick(rng, banks::ROOMS).into()),
                Cell::Text(leads[i].clone()),
                Cell::Num(i64::from(len)),
            ],
        );
        minute += len + 15 * rng.range_u32(0, 2);
    }
    let absent = banks::SESSIONS
        .iter()
        .filter(|x| !sessions.contains(x))
        .map(|x| (*x).to_owned())
        .collect();
    data.tables.push(t);
    Built {
        figure_type: "schedule",
        topic: format!("Agenda for the {event}"),
        data,
        hints: QaHints {
            doc_noun: "schedule".into(),
            unanswerable: strings(&[
                "How many people registered for the event?",
                "What is the Wi-Fi password at the venue?",
                "Which session was cancelled last year?",
            ]),
            absent_rows: absent,
            absent_items: vec![],
        },
    }
}

pub(crate) fn schedule_code(d: &DocData, s: &Style) -> String {
    let mut c = s.preamble();
    c.push_str(&title_code(&d.title, s, 1.7));
    c.push_str(&super::fields_code(
        &super::fields(d, &["date", "venue"]),
        s,
        2,
    ));
    c.push_str("#v(0.8em)\n");
    if let Some(t) = d.tables.first() {
        c.push_str(&table_code(t, s, true, None));
    }
    c
}
