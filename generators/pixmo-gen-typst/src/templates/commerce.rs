//! Invoices, receipts and menus.

use pixmo_core::Rng;

use super::{Built, fields, fields_code, heading_code, strings, title_code, value};
use crate::banks::{self, pick, pick_distinct};
use crate::model::{Cell, DocData, TableData, num_col, text_col};
use crate::qa::QaHints;
use crate::style::Style;
use crate::table::{Footer, table_code};
use crate::typ::{NumFormat, lit, rgb};

const CURRENCIES: &[&str] = &["$", "€", "£"];

/// Tax on `subtotal` cents at `rate_tenths` tenths of a percent, rounded half up.
fn tax(subtotal: i64, rate_tenths: i64) -> i64 {
    (subtotal * rate_tenths + 500) / 1000
}

fn rate_text(rate_tenths: i64) -> String {
    crate::typ::format_scaled(rate_tenths, 1, false, "", "%")
}

pub(crate) fn invoice(rng: &mut Rng) -> Built {
    let (domain, items, lo, hi) = *rng
        .choose(banks::PRODUCT_DOMAINS)
        .unwrap_or(&banks::PRODUCT_DOMAINS[0]);
    let cur = pick(rng, CURRENCIES);
    let money = NumFormat::money(cur);
    let seller = banks::company(rng);
    let client = banks::company(rng);
    let mut data = DocData {
        title: "INVOICE".into(),
        ..DocData::default()
    };
    data.field("seller", "From", seller.clone());
    data.field("seller_address", "Address", banks::address(rng));
    data.field("client", "Bill to", client.clone());
    data.field(
        "invoice_number",
        "Invoice No.",
        format!("INV-{}", rng.range_u32(1000, 99999)),
    );
    data.field("date", "Invoice date", banks::date(rng));
    data.field(
        "due",
        "Payment terms",
        format!("Net {}", pick(rng, &["15", "30", "45", "60"])),
    );
    let mut t = TableData::new(
        "items",
        "line item",
        vec![
            text_col("Description"),
            num_col("Qty", NumFormat::int()),
            num_col("Unit price", money.clone()),
            num_col("Amount", money.clone()),
        ],
    );
    let n = rng.range_u32(3, 8) as usize;
    let chosen = pick_distinct(rng, items, n);
    let mut subtotal = 0;
    for item in &chosen {
        let qty = i64::from(rng.range_u32(1, 13));
        let unit = i64::try_from(rng.range_u64(lo as u64, hi as u64)).unwrap_or(lo) / 5 * 5;
        subtotal += qty * unit;
        t.push(
            item,
            vec![Cell::Num(qty), Cell::Num(unit), Cell::Num(qty * unit)],
        );
    }
    let rate = i64::from(rng.range_u32(0, 5)) * 25 + 50; // 5.0% .. 15.0%
    let tax_amount = tax(subtotal, rate);
    data.tables.push(t);
    data.field("subtotal", "Subtotal", money.format(subtotal));
    data.field("tax_rate", "Tax rate", rate_text(rate));
    data.field("tax", "Tax", money.format(tax_amount));
    data.field("total", "Total due", money.format(subtotal + tax_amount));
    let absent = pick_distinct(rng, items, items.len())
        .into_iter()
        .filter(|i| !chosen.contains(i))
        .collect::<Vec<_>>();
    Built {
        figure_type: "invoice",
        topic: format!("Invoice for {domain} from {seller} to {client}"),
        data,
        hints: QaHints {
            doc_noun: "invoice".into(),
            unanswerable: strings(&[
                "What is the client's fax number?",
                "Who approved this invoice?",
                "What is the seller's bank account number?",
            ]),
            absent_rows: strings(&absent),
            absent_items: vec![],
        },
    }
}

pub(crate) fn invoice_code(d: &DocData, s: &Style) -> String {
    let p = &s.palette;
    let mut c = s.preamble();
    c.push_str(&format!(
        "#grid(columns: (1fr, auto), align: (left + horizon, right + horizon),\n  text(size: {:.1}pt, weight: \"bold\", {}),\n  text(font: \"{}\", size: {:.1}pt, weight: \"bold\", fill: {}, {}),\n)\n#line(length: 100%, stroke: 1pt + {})\n",
        s.font_size * 1.3,
        lit(value(d, "seller")),
        s.heading_font.typst_name(),
        s.font_size * 2.4,
        rgb(&p.accent),
        lit(&d.title),
        rgb(&p.accent)
    ));
    c.push_str(&fields_code(
        &fields(
            d,
            &["seller_address", "invoice_number", "client", "date", "due"],
        ),
        s,
        1,
    ));
    c.push_str("#v(1em)\n");
    let footer = Footer {
        rows: ["subtotal", "tax_rate", "tax", "total"]
            .iter()
            .filter_map(|k| d.field_ref(k))
            .map(|f| (f.label.clone(), f.value.clone()))
            .collect(),
    };
    if let Some(t) = d.tables.first() {
        c.push_str(&table_code(t, s, true, Some(&footer)));
    }
    c.push_str(&format!(
        "#v(1.5em)\n#text(fill: {}, size: 0.9em, {})\n",
        rgb(&p.muted),
        lit("Thank you for your business.")
    ));
    c
}

pub(crate) fn receipt(rng: &mut Rng) -> Built {
    let cur = pick(rng, CURRENCIES);
    let money = NumFormat::money(cur);
    let store = pick(rng, banks::STORES).to_owned();
    let mut data = DocData {
        title: store.clone(),
        ..DocData::default()
    };
    data.field("address", "Address", banks::address(rng));
    data.field("date", "Date", banks::date(rng));
    data.field(
        "time",
        "Time",
        format!("{:02}:{:02}", rng.range_u32(7, 22), rng.range_u32(0, 60)),
    );
    data.field(
        "receipt_number",
        "Receipt #",
        format!("{}", rng.range_u32(100_000, 999_999)),
    );
    data.field("cashier", "Cashier", pick(rng, banks::FIRST_NAMES));
    let mut t = TableData::new(
        "items",
        "item",
        vec![
            text_col("Item"),
            num_col("Qty", NumFormat::int()),
            num_col("Price", money.clone()),
        ],
    );
    let n = rng.range_u32(3, 9) as usize;
    let chosen = pick_distinct(rng, banks::GROCERIES, n);
    let mut subtotal = 0;
    for item in &chosen {
        let qty = i64::from(rng.range_u32(1, 4));
        let price = qty * i64::from(rng.range_u32(59, 1299));
        subtotal += price;
        t.push(item, vec![Cell::Num(qty), Cell::Num(price)]);
    }
    let rate = i64::from(rng.range_u32(0, 4)) * 20 + 40;
    let tax_amount = tax(subtotal, rate);
    data.tables.push(t);
    data.field("subtotal", "Subtotal", money.format(subtotal));
    data.field(
        "tax",
        format!("Tax {}", rate_text(rate)).as_str(),
        money.format(tax_amount),
    );
    data.field("total", "TOTAL", money.format(subtotal + tax_amount));
    data.field("payment", "Paid by", pick(rng, &["Card", "Cash", "Mobile"]));
    let absent: Vec<&str> = banks::GROCERIES
        .iter()
        .copied()
        .filter(|g| !chosen.contains(g))
        .collect();
    Built {
        figure_type: "receipt",
        topic: format!("Grocery receipt from {store}"),
        data,
        hints: QaHints {
            doc_noun: "receipt".into(),
            unanswerable: strings(&[
                "What is the customer's name?",
                "How many loyalty points were earned?",
                "What is the store's website?",
            ]),
            absent_rows: strings(&absent),
            absent_items: vec![],
        },
    }
}

pub(crate) fn receipt_code(d: &DocData, s: &Style) -> String {
    let p = &s.palette;
    let mut c = s.preamble();
    c.push_str("#set align(center)\n");
    c.push_str(&title_code(&d.title, s, 1.6));
    c.push_str(&format!(
        "#text(fill: {}, {})\n\n",
        rgb(&p.muted),
        lit(value(d, "address"))
    ));
    c.push_str("#set align(left)\n");
    c.push_str(&fields_code(
        &fields(d, &["date", "time", "receipt_number", "cashier"]),
        s,
        1,
    ));
    c.push_str(&format!(
        "#line(length: 100%, stroke: (paint: {}, dash: \"dashed\"))\n",
        rgb(&p.muted)
    ));
    if let Some(t) = d.tables.first() {
        c.push_str("#table(columns: (1fr, auto, auto), stroke: none, inset: (x: 0pt, y: 0.3em), column-gutter: 0.8em, align: (left, right, right),\n");
        for (i, col) in t.columns.iter().enumerate() {
            let _ = i;
            c.push_str(&format!("  strong({}),", lit(&col.name)));
        }
        c.push('\n');
        for row in &t.rows {
            c.push_str(&format!(
                "  {},\n",
                row.iter().map(|x| lit(x)).collect::<Vec<_>>().join(", ")
            ));
        }
        c.push_str(")\n");
    }
    c.push_str(&format!(
        "#line(length: 100%, stroke: (paint: {}, dash: \"dashed\"))\n",
        rgb(&p.muted)
    ));
    c.push_str("#grid(columns: (1fr, auto), row-gutter: 0.5em,\n");
    for k in ["subtotal", "tax", "total", "payment"] {
        if let Some(f) = d.field_ref(k) {
            let strong = k == "total";
            let wrap = |x: &str| {
                if strong {
                    format!("strong({})", lit(x))
                } else {
                    lit(x)
                }
            };
            c.push_str(&format!("  {}, {},\n", wrap(&f.label), wrap(&f.value)));
        }
    }
    c.push_str(
        ")\n#v(0.8em)\n#align(center, text(size: 0.9em, \"Thank you for shopping with us!\"))\n",
    );
    c
}

pub(crate) fn menu(rng: &mut Rng) -> Built {
    let cur = pick(rng, CURRENCIES);
    let money = NumFormat::money(cur);
    let name = format!(
        "{} {}",
        pick(rng, banks::RESTAURANT_A),
        pick(rng, banks::RESTAURANT_B)
    );
    let mut data = DocData {
        title: name.clone(),
        ..DocData::default()
    };
    data.field("address", "Address", banks::address(rng));
    data.field("phone", "Reservations", banks::phone(rng));
    data.field(
        "hours",
        "Open",
        format!("{}:00 - {}:00", rng.range_u32(7, 13), rng.range_u32(20, 24)),
    );
    let mut t = TableData::new(
        "dishes",
        "dish",
        vec![
            text_col("Dish"),
            text_col("Section"),
            num_col("Price", money),
        ],
    );
    let nsections = rng.range_u32(2, 5) as usize;
    let mut absent = Vec::new();
    for (section, dishes) in banks::DISH_SECTIONS.iter().take(nsections) {
        let k = rng.range_u32(2, 5) as usize;
        let chosen = pick_distinct(rng, dishes, k);
        let base = match *section {
            "Drinks" => 250,
            "Starters" | "Desserts" => 550,
            _ => 1250,
        };
        for dish in &chosen {
            t.push(
                dish,
                vec![
                    Cell::Text((*section).into()),
                    Cell::Num(i64::from(base + rng.range_u32(0, 12) * 50 + 45)),
                ],
            );
        }
        absent.extend(
            dishes
                .iter()
                .filter(|d| !chosen.contains(d))
                .map(|d| (*d).to_owned()),
        );
    }
    data.tables.push(t);
    Built {
        figure_type: "menu",
        topic: format!("Dinner menu of {name}"),
        data,
        hints: QaHints {
            doc_noun: "menu".into(),
            unanswerable: strings(&[
                "How many calories does the most expensive dish have?",
                "Who is the head chef?",
                "Is there a children's menu?",
            ]),
            absent_rows: absent,
            absent_items: vec![],
        },
    }
}

pub(crate) fn menu_code(d: &DocData, s: &Style) -> String {
    let p = &s.palette;
    let mut c = s.preamble();
    c.push_str("#set align(center)\n");
    c.push_str(&title_code(&d.title, s, 2.4));
    c.push_str(&format!(
        "#text(fill: {}, {} + \"  ·  \" + {} + \"  ·  \" + {})\n#line(length: 60%, stroke: 0.8pt + {})\n#set align(left)\n",
        rgb(&p.muted),
        lit(value(d, "address")),
        lit(&format!("{} {}", d.field_ref("phone").map_or("", |f| f.label.as_str()), value(d, "phone"))),
        lit(&format!("{} {}", d.field_ref("hours").map_or("", |f| f.label.as_str()), value(d, "hours"))),
        rgb(&p.accent)
    ));
    if let Some(t) = d.tables.first() {
        let mut section = String::new();
        for row in &t.rows {
            if row[1] != section {
                section.clone_from(&row[1]);
                c.push_str(&heading_code(&section, s));
            }
            c.push_str(&format!(
                "#grid(columns: (auto, 1fr, auto), column-gutter: 0.4em, {}, box(width: 100%, repeat(text(fill: {}, \".\"))), strong({}))\n",
                lit(&row[0]),
                rgb(&p.muted),
                lit(&row[2])
            ));
        }
    }
    c
}
