//! Reports, forms, letters, résumés and newsletters.

use pixmo_core::Rng;

use super::{Built, fields, fields_code, heading_code, para_code, strings, title_code, value};
use crate::banks::{self, pick, pick_distinct};
use crate::fonts::FontFamily;
use crate::model::{Cell, DocData, ListData, TableData, num_col, text_col};
use crate::qa::QaHints;
use crate::style::Style;
use crate::table::table_code;
use crate::typ::{NumFormat, lit, rgb};

pub(crate) fn report(rng: &mut Rng) -> Built {
    let (title, table, absent) = super::tables::sample_table(rng);
    let org = banks::company(rng);
    let mut data = DocData {
        title: format!(
            "{title}: {} report",
            pick(rng, &["Annual", "Quarterly", "Internal", "Summary"])
        ),
        ..DocData::default()
    };
    data.field("author", "Prepared by", banks::person(rng));
    data.field("organisation", "Organisation", org.clone());
    data.field("date", "Date", banks::date(rng));
    data.field(
        "reference",
        "Reference",
        format!(
            "RPT-{}-{:03}",
            rng.range_u32(2019, 2027),
            rng.range_u32(1, 999)
        ),
    );
    data.paragraphs.push(format!(
        "This report summarises {} for {org}. {}",
        title.to_lowercase(),
        banks::paragraph(rng, 2)
    ));
    data.paragraphs.push(banks::paragraph(rng, 3));
    data.tables.push(table);
    Built {
        figure_type: "report",
        topic: title,
        data,
        hints: QaHints {
            doc_noun: "report".into(),
            unanswerable: strings(&[
                "Who reviewed this report?",
                "What is the budget for next year?",
                "How many pages does the full report have?",
            ]),
            absent_rows: absent,
            absent_items: vec![],
        },
    }
}

pub(crate) fn report_code(d: &DocData, s: &Style) -> String {
    let mut c = s.preamble();
    c.push_str(&title_code(&d.title, s, 1.7));
    c.push_str(&fields_code(
        &fields(d, &["author", "organisation", "date", "reference"]),
        s,
        2,
    ));
    c.push_str(&format!(
        "#line(length: 100%, stroke: 0.6pt + {})\n",
        rgb(&s.palette.accent)
    ));
    c.push_str(&heading_code("Summary", s));
    if let Some(p) = d.paragraphs.first() {
        c.push_str(&para_code(p));
    }
    if let Some(t) = d.tables.first() {
        c.push_str(&heading_code("Figures", s));
        c.push_str(&table_code(t, s, false, None));
    }
    c.push_str(&heading_code("Discussion", s));
    for p in d.paragraphs.iter().skip(1) {
        c.push_str(&para_code(p));
    }
    c
}

const FORM_KINDS: &[(&str, &[&str])] = &[
    (
        "Membership Application",
        &[
            "Swimming", "Tennis", "Yoga", "Climbing", "Cycling", "Running", "Pilates", "Rowing",
        ],
    ),
    (
        "Volunteer Registration",
        &[
            "Events",
            "Fundraising",
            "Gardening",
            "Tutoring",
            "Driving",
            "Cooking",
            "Reception",
            "Photography",
        ],
    ),
    (
        "Course Enrollment Form",
        &[
            "Pottery",
            "Spanish",
            "Photography",
            "Coding",
            "Watercolour",
            "Bookkeeping",
            "First aid",
            "Guitar",
        ],
    ),
];

pub(crate) fn form(rng: &mut Rng) -> Built {
    let (kind, options) = *rng.choose(FORM_KINDS).unwrap_or(&FORM_KINDS[0]);
    let org = banks::company(rng);
    let name = banks::person(rng);
    let mut data = DocData {
        title: kind.into(),
        ..DocData::default()
    };
    data.field("organisation", "Organisation", org.clone());
    data.field("name", "Full name", name.clone());
    data.field(
        "birth_date",
        "Date of birth",
        format!(
            "{:02}/{:02}/{}",
            rng.range_u32(1, 29),
            rng.range_u32(1, 13),
            rng.range_u32(1950, 2008)
        ),
    );
    data.field("address", "Address", banks::address(rng));
    data.field("phone", "Phone", banks::phone(rng));
    data.field("email", "Email", banks::email(rng, &name, &org));
    data.field("start", "Preferred start date", banks::date(rng));
    data.field(
        "id",
        "Application ID",
        format!(
            "{}-{}",
            kind.chars().next().unwrap_or('F'),
            rng.range_u32(10_000, 99_999)
        ),
    );
    let k = rng.range_u32(1, 5) as usize;
    let chosen = pick_distinct(rng, options, k);
    let items: Vec<String> = options
        .iter()
        .filter(|o| chosen.contains(o))
        .map(|o| (*o).to_owned())
        .collect();
    data.lists.push(ListData {
        key: "interests".into(),
        label: "Areas of interest".into(),
        items,
    });
    let absent = options
        .iter()
        .filter(|o| !chosen.contains(o))
        .map(|o| (*o).to_owned())
        .collect();
    Built {
        figure_type: "form",
        topic: format!("{kind} for {org}"),
        data,
        hints: QaHints {
            doc_noun: "form".into(),
            unanswerable: strings(&[
                "What is the applicant's emergency contact?",
                "Was the application approved?",
                "What is the applicant's occupation?",
            ]),
            absent_rows: vec![],
            absent_items: absent,
        },
    }
}

pub(crate) fn form_code(d: &DocData, s: &Style) -> String {
    let p = &s.palette;
    let mut c = s.preamble();
    c.push_str(&format!(
        "#text(fill: {}, {})\n\n",
        rgb(&p.muted),
        lit(value(d, "organisation"))
    ));
    c.push_str(&title_code(&d.title, s, 1.8));
    c.push_str(&format!(
        "#align(right, text(size: 0.9em, {}))\n",
        lit(&format!("Application ID: {}", value(d, "id")))
    ));
    let boxed = |label: &str, value: &str| {
        format!(
            "#block(width: 100%, stroke: 0.6pt + {}, inset: 0.55em, radius: 2pt)[#text(size: 0.8em, fill: {}, {}) \\ #text(font: \"{}\", {})]\n",
            rgb(&p.muted),
            rgb(&p.muted),
            lit(label),
            FontFamily::Handwriting.typst_name(),
            lit(value)
        )
    };
    for key in ["name", "birth_date", "address", "phone", "email", "start"] {
        if let Some(f) = d.field_ref(key) {
            c.push_str(&boxed(&f.label, &f.value));
        }
    }
    if let Some(list) = d.lists.first() {
        c.push_str(&heading_code(&list.label, s));
        c.push_str("#grid(columns: 4, column-gutter: 1.2em, row-gutter: 0.6em,\n");
        let all: Vec<&str> = FORM_KINDS
            .iter()
            .find(|(k, _)| *k == d.title)
            .map_or(vec![], |(_, o)| o.to_vec());
        for option in all {
            let checked = list.items.iter().any(|i| i == option);
            c.push_str(&format!(
                "  [#box(width: 0.8em, height: 0.8em, stroke: 0.6pt, inset: 0pt, align(center + horizon, text(size: 0.8em, {}))) #{}],\n",
                if checked { "\"X\"" } else { "\"\"" },
                lit(option)
            ));
        }
        c.push_str(")\n");
    }
    c.push_str(&format!(
        "#v(2em)\n#grid(columns: (1fr, 1fr), column-gutter: 2em, line(length: 100%, stroke: 0.6pt), line(length: 100%, stroke: 0.6pt), text(size: 0.8em, fill: {0}, \"Signature\"), text(size: 0.8em, fill: {0}, \"Date\"))\n",
        rgb(&p.muted)
    ));
    c
}

const ENCLOSURES: &[&str] = &[
    "Signed contract",
    "Invoice copy",
    "Floor plan",
    "Price list",
    "Booking confirmation",
    "Brochure",
    "Certificate of insurance",
    "Map of the venue",
    "Payment receipt",
];

pub(crate) fn letter(rng: &mut Rng) -> Built {
    let sender = banks::person(rng);
    let recipient = banks::person(rng);
    let org = banks::company(rng);
    let subject = pick(
        rng,
        &[
            "Confirmation of booking",
            "Request for quotation",
            "Change of address",
            "Thank you for your support",
            "Follow-up on our meeting",
            "Renewal of contract",
        ],
    );
    let mut data = DocData {
        title: subject.into(),
        ..DocData::default()
    };
    data.field("sender", "From", sender.clone());
    data.field("sender_address", "Sender address", banks::address(rng));
    data.field("sender_phone", "Phone", banks::phone(rng));
    data.field("date", "Date", banks::date(rng));
    data.field("recipient", "To", recipient.clone());
    data.field("recipient_org", "Organisation", org);
    data.field(
        "recipient_address",
        "Recipient address",
        banks::address(rng),
    );
    data.field(
        "reference",
        "Reference",
        format!(
            "{}/{}",
            pick(rng, &["AB", "KL", "QX", "MR", "TS"]),
            rng.range_u32(100, 9999)
        ),
    );
    // Distinct sentences across the whole letter, two or three per paragraph.
    let paragraphs = rng.range_u32(2, 4) as usize;
    let mut sentences = pick_distinct(rng, banks::SENTENCES, 3 * paragraphs).into_iter();
    for _ in 0..paragraphs {
        let k = rng.range_u32(2, 4) as usize;
        data.paragraphs
            .push(sentences.by_ref().take(k).collect::<Vec<_>>().join(" "));
    }
    let k = rng.range_u32(1, 4) as usize;
    let enclosed = pick_distinct(rng, ENCLOSURES, k);
    data.lists.push(ListData {
        key: "enclosures".into(),
        label: "Enclosures".into(),
        items: strings(&enclosed),
    });
    let absent = ENCLOSURES
        .iter()
        .filter(|x| !enclosed.contains(x))
        .map(|x| (*x).to_owned())
        .collect();
    Built {
        figure_type: "letter",
        topic: format!("Letter from {sender} to {recipient}: {subject}"),
        data,
        hints: QaHints {
            doc_noun: "letter".into(),
            unanswerable: strings(&[
                "What is the recipient's phone number?",
                "When was the previous letter sent?",
                "How did the recipient reply?",
            ]),
            absent_rows: vec![],
            absent_items: absent,
        },
    }
}

pub(crate) fn letter_code(d: &DocData, s: &Style) -> String {
    let mut c = s.preamble();
    c.push_str(&format!(
        "#align(right)[#strong({}) \\ #{} \\ #{}]\n#v(1em)\n",
        lit(value(d, "sender")),
        lit(value(d, "sender_address")),
        lit(value(d, "sender_phone"))
    ));
    c.push_str(&format!(
        "#align(right, {})\n#v(0.5em)\n",
        lit(value(d, "date"))
    ));
    c.push_str(&format!(
        "#{} \\ #{} \\ #{}\n\n#v(0.5em)\n",
        lit(value(d, "recipient")),
        lit(value(d, "recipient_org")),
        lit(value(d, "recipient_address"))
    ));
    c.push_str(&format!(
        "#strong({})\n\n",
        lit(&format!("Re: {} (ref. {})", d.title, value(d, "reference")))
    ));
    let first = value(d, "recipient").split(' ').next().unwrap_or("");
    c.push_str(&para_code(&format!("Dear {first},")));
    for p in &d.paragraphs {
        c.push_str(&para_code(p));
    }
    c.push_str(&para_code("Yours sincerely,"));
    c.push_str(&format!(
        "#text(font: \"{}\", size: 1.8em, fill: {}, {})\n\n#{}\n",
        FontFamily::Script.typst_name(),
        rgb(&s.palette.accent),
        lit(value(d, "sender")),
        lit(value(d, "sender"))
    ));
    if let Some(list) = d.lists.first() {
        c.push_str(&format!(
            "#v(1em)\n#text(size: 0.9em, fill: {})[#strong({}) #{}]\n",
            rgb(&s.palette.muted),
            lit(&format!("{}:", list.label)),
            lit(&list.items.join("; "))
        ));
    }
    c
}

pub(crate) fn resume(rng: &mut Rng) -> Built {
    let name = banks::person(rng);
    let title = pick(rng, banks::JOB_TITLES);
    let mut data = DocData {
        title: name.clone(),
        ..DocData::default()
    };
    data.field("job_title", "Title", title);
    let host = pick(rng, &["mail", "inbox", "post", "webmail"]);
    data.field("email", "Email", banks::email(rng, &name, host));
    data.field("phone", "Phone", banks::phone(rng));
    data.field("city", "Location", pick(rng, banks::CITIES));
    data.field("degree", "Degree", pick(rng, banks::DEGREES));
    data.field("university", "University", pick(rng, banks::UNIVERSITIES));
    data.field(
        "graduated",
        "Graduated",
        rng.range_u32(1998, 2020).to_string(),
    );
    let year = NumFormat {
        thousands: false,
        ..NumFormat::int()
    };
    let mut t = TableData::new(
        "experience",
        "employer",
        vec![
            text_col("Employer"),
            text_col("Role"),
            num_col("From", year.clone()),
            num_col("To", year),
            num_col("Years", NumFormat::int()),
        ],
    );
    let n = rng.range_u32(2, 5) as usize;
    let mut end = i64::from(rng.range_u32(2022, 2027));
    let mut employers: Vec<String> = Vec::new();
    while employers.len() < n {
        let e = banks::company(rng);
        if !employers.contains(&e) {
            employers.push(e);
        }
    }
    for e in &employers {
        let len = i64::from(rng.range_u32(1, 7));
        t.push(
            e,
            vec![
                Cell::Text(pick(rng, banks::JOB_TITLES).into()),
                Cell::Num(end - len),
                Cell::Num(end),
                Cell::Num(len),
            ],
        );
        end -= len + i64::from(rng.range_u32(0, 2));
    }
    data.tables.push(t);
    let k = rng.range_u32(4, 8) as usize;
    let skills = pick_distinct(rng, banks::SKILLS, k);
    data.lists.push(ListData {
        key: "skills".into(),
        label: "Skills".into(),
        items: strings(&skills),
    });
    let absent = banks::SKILLS
        .iter()
        .filter(|x| !skills.contains(x))
        .map(|x| (*x).to_owned())
        .collect();
    Built {
        figure_type: "resume",
        topic: format!("Résumé of a {title}"),
        data,
        hints: QaHints {
            doc_noun: "résumé".into(),
            unanswerable: strings(&[
                "What salary does the candidate expect?",
                "Who are the candidate's references?",
                "What is the candidate's date of birth?",
            ]),
            absent_rows: vec![],
            absent_items: absent,
        },
    }
}

pub(crate) fn resume_code(d: &DocData, s: &Style) -> String {
    let p = &s.palette;
    let mut c = s.preamble();
    c.push_str(&title_code(&d.title, s, 2.3));
    c.push_str(&format!(
        "#text(size: 1.2em, fill: {}, {})\n\n",
        rgb(&p.muted),
        lit(value(d, "job_title"))
    ));
    c.push_str(&format!(
        "#text(size: 0.9em, {} + \"  |  \" + {} + \"  |  \" + {})\n#line(length: 100%, stroke: 0.8pt + {})\n",
        lit(value(d, "email")),
        lit(value(d, "phone")),
        lit(value(d, "city")),
        rgb(&p.accent)
    ));
    if let Some(t) = d.tables.first() {
        c.push_str(&heading_code("Experience", s));
        for row in &t.rows {
            c.push_str(&format!(
                "#grid(columns: (1fr, auto), strong({}), text(fill: {}, {}))\n#{} #text(fill: {}, {})\n#v(0.3em)\n",
                lit(&row[1]),
                rgb(&p.muted),
                lit(&format!("{} - {}", row[2], row[3])),
                lit(&row[0]),
                rgb(&p.muted),
                lit(&format!("({} years)", row[4]))
            ));
        }
    }
    c.push_str(&heading_code("Education", s));
    c.push_str(&format!(
        "#strong({}), #{} #text(fill: {}, {})\n",
        lit(value(d, "degree")),
        lit(value(d, "university")),
        rgb(&p.muted),
        lit(&format!("(graduated {})", value(d, "graduated")))
    ));
    if let Some(list) = d.lists.first() {
        c.push_str(&heading_code(&list.label, s));
        let items: Vec<String> = list
            .items
            .iter()
            .map(|i| {
                format!(
                    "box(inset: (x: 0.5em, y: 0.3em), radius: 3pt, fill: {}, {})",
                    rgb(&p.stripe),
                    lit(i)
                )
            })
            .collect();
        c.push_str(&format!("#{{ ({}).join(h(0.4em)) }}\n", items.join(", ")));
    }
    c
}

pub(crate) fn newsletter(rng: &mut Rng) -> Built {
    let org = pick(rng, banks::NEWS_ORGS);
    let mut data = DocData {
        title: format!("{org} Newsletter"),
        ..DocData::default()
    };
    data.field("issue", "Issue", format!("No. {}", rng.range_u32(2, 120)));
    data.field(
        "date",
        "Date",
        format!("{} {}", pick(rng, banks::MONTHS), rng.range_u32(2019, 2027)),
    );
    data.field("editor", "Editor", banks::person(rng));
    let headlines = pick_distinct(rng, banks::HEADLINES, 2);
    for h in &headlines {
        data.paragraphs
            .push(format!("{h}. {}", banks::paragraph(rng, 3)));
    }
    let mut t = TableData::new(
        "events",
        "event",
        vec![
            text_col("Event"),
            text_col("Date"),
            text_col("Place"),
            num_col("Spots", NumFormat::int()),
        ],
    );
    let k = rng.range_u32(3, 6) as usize;
    let events = pick_distinct(rng, banks::SESSIONS, k);
    for e in &events {
        t.push(
            e,
            vec![
                Cell::Text(format!(
                    "{} {}",
                    &pick(rng, banks::MONTHS)[..3],
                    rng.range_u32(1, 29)
                )),
                Cell::Text(pick(rng, banks::ROOMS).into()),
                Cell::Num(i64::from(rng.range_u32(8, 121))),
            ],
        );
    }
    data.tables.push(t);
    data.lists.push(ListData {
        key: "headlines".into(),
        label: "In this issue".into(),
        items: strings(&headlines),
    });
    let absent = banks::HEADLINES
        .iter()
        .filter(|x| !headlines.contains(x))
        .map(|x| (*x).to_owned())
        .collect();
    let absent_events = banks::SESSIONS
        .iter()
        .filter(|x| !events.contains(x))
        .map(|x| (*x).to_owned())
        .collect();
    Built {
        figure_type: "newsletter",
        topic: format!("Community newsletter of the {org}"),
        data,
        hints: QaHints {
            doc_noun: "newsletter".into(),
            unanswerable: strings(&[
                "How many members does the organisation have?",
                "What is the membership fee?",
                "Who wrote the first article?",
            ]),
            absent_rows: absent_events,
            absent_items: absent,
        },
    }
}

pub(crate) fn newsletter_code(d: &DocData, s: &Style) -> String {
    let p = &s.palette;
    let mut c = s.preamble();
    c.push_str(&format!(
        "#block(width: 100%, fill: {}, inset: 0.9em)[#text(font: \"{}\", size: {:.1}pt, weight: \"bold\", fill: {}, {}) \\ #text(fill: {}, {})]\n",
        rgb(&p.accent),
        s.heading_font.typst_name(),
        s.font_size * 2.0,
        rgb(&p.on_accent),
        lit(&d.title),
        rgb(&p.on_accent),
        lit(&format!("Issue {}  ·  {}  ·  Editor: {}", value(d, "issue"), value(d, "date"), value(d, "editor")))
    ));
    if let Some(list) = d.lists.first() {
        c.push_str(&format!("#text(weight: \"bold\", {})\n", lit(&list.label)));
        for item in &list.items {
            c.push_str(&format!("- #{}\n", lit(item)));
        }
    }
    c.push_str("#columns(2, gutter: 1.4em)[\n");
    for (i, para) in d.paragraphs.iter().enumerate() {
        let (head, body) = para.split_once(". ").unwrap_or((para, ""));
        c.push_str(&heading_code(head, s));
        c.push_str(&para_code(body));
        if i == 0 {
            c.push_str("#colbreak()\n");
        }
    }
    c.push_str("]\n");
    if let Some(t) = d.tables.first() {
        c.push_str(&heading_code("Upcoming events", s));
        c.push_str(&table_code(t, s, true, None));
    }
    c
}
