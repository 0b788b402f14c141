//! The structured data behind a document: what the template draws and what QA is computed from.

use serde::{Deserialize, Serialize};

use crate::typ::NumFormat;

/// A document's content. Serialised as the sample's `data`; every string in it is drawn
/// verbatim (as a typst string literal) by the template.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DocData {
    /// Main heading.
    pub title: String,
    /// Labelled single values (`Invoice No.` -> `INV-2041`), in drawing order.
    pub fields: Vec<Field>,
    /// Tables.
    pub tables: Vec<TableData>,
    /// Bulleted or comma-separated lists.
    pub lists: Vec<ListData>,
    /// Running text.
    pub paragraphs: Vec<String>,
}

/// A labelled value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Stable key (`invoice_number`).
    pub key: String,
    /// Label as drawn (`Invoice No.`).
    pub label: String,
    /// Value as drawn.
    pub value: String,
}

/// A table: column headers and cell strings as drawn. Row labels (first column) are unique.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableData {
    /// Stable key (`items`).
    pub key: String,
    /// What one row is (`product`, `city`), used in questions.
    pub row_noun: String,
    /// Column headers and number formats.
    pub columns: Vec<Column>,
    /// Cell text, row-major.
    pub rows: Vec<Vec<String>>,
    /// Exact cell values in minor units (`value * 10^decimals`), `None` for text cells. Not
    /// serialised: readers recompute from the drawn strings.
    #[serde(skip)]
    pub values: Vec<Vec<Option<i64>>>,
}

/// A table column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Header as drawn.
    pub name: String,
    /// Number format for numeric columns; `None` for text.
    pub number: Option<NumFormat>,
}

/// A list of items.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListData {
    /// Stable key (`skills`).
    pub key: String,
    /// Heading as drawn.
    pub label: String,
    /// Items as drawn.
    pub items: Vec<String>,
}

impl DocData {
    /// Adds a field.
    pub fn field(&mut self, key: &str, label: &str, value: impl Into<String>) {
        self.fields.push(Field {
            key: key.into(),
            label: label.into(),
            value: value.into(),
        });
    }

    /// The value of field `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.value.as_str())
    }

    /// The field `key` (label, value); panics-free lookup for templates.
    #[must_use]
    pub fn field_ref(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }
}

impl TableData {
    /// A table with these columns and no rows.
    #[must_use]
    pub fn new(key: &str, row_noun: &str, columns: Vec<Column>) -> TableData {
        TableData {
            key: key.into(),
            row_noun: row_noun.into(),
            columns,
            ..TableData::default()
        }
    }

    /// Appends a row from its label and the other cells: text or exact numbers.
    pub fn push(&mut self, label: &str, cells: Vec<Cell>) {
        let mut text = vec![label.to_owned()];
        let mut values = vec![None];
        for (i, cell) in cells.into_iter().enumerate() {
            match cell {
                Cell::Text(s) => {
                    text.push(s);
                    values.push(None);
                }
                Cell::Num(v) => {
                    let fmt = self.columns[i + 1]
                        .number
                        .clone()
                        .unwrap_or_else(NumFormat::int);
                    text.push(fmt.format(v));
                    values.push(Some(v));
                }
            }
        }
        self.rows.push(text);
        self.values.push(values);
    }

    /// Index of the column named `name`.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Indices of numeric columns.
    #[must_use]
    pub fn numeric_columns(&self) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|&c| {
                self.columns[c].number.is_some() && self.values.iter().all(|r| r[c].is_some())
            })
            .collect()
    }
}

/// One non-label cell handed to [`TableData::push`].
#[derive(Clone, Debug)]
pub enum Cell {
    /// Text as drawn.
    Text(String),
    /// Exact value in minor units of the column's format.
    Num(i64),
}

/// A column with a number format.
#[must_use]
pub fn num_col(name: &str, format: NumFormat) -> Column {
    Column {
        name: name.into(),
        number: Some(format),
    }
}

/// A text column.
#[must_use]
pub fn text_col(name: &str) -> Column {
    Column {
        name: name.into(),
        number: None,
    }
}
