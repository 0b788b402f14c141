//! Referring expressions that follow from the scene graph, each with the exact set of
//! instances it names.
//!
//! - `stars`: every instance of a category;
//! - `red stars`: a category in one colour;
//! - `the largest star` / `the smallest star`: only when the category has at least two
//!   instances and the extreme one is at least 1.3 times (or at most 1/1.3 times) the size
//!   of the next, so the answer is unambiguous;
//! - not present: a category absent from the scene (`hearts`), or a colour no instance of a
//!   present category has (`blue mugs`); these name no instance.

use serde::{Deserialize, Serialize};

use crate::palette::Color;
use crate::scene::Instance;
use crate::shapes::Category;

/// What a query asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    /// Every instance of a category.
    Category,
    /// A category in one colour.
    ColorCategory,
    /// The largest instance of a category.
    Largest,
    /// The smallest instance of a category.
    Smallest,
    /// Something the scene does not contain.
    NotPresent,
}

/// A referring expression and the instances it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// The expression (`red stars`, `the largest mug`).
    pub label: String,
    /// What it asks for.
    pub kind: QueryKind,
    /// Indices into the scene's instances.
    pub instances: Vec<usize>,
}

/// Size ratio that makes "largest" and "smallest" unambiguous.
const SUPERLATIVE_RATIO: f64 = 1.3;

fn of(instances: &[Instance], category: Category) -> Vec<usize> {
    (0..instances.len())
        .filter(|&i| instances[i].category == category)
        .collect()
}

/// Every query with at least one instance that a scene's instances support, in a fixed
/// order.
#[must_use]
pub fn present_queries(instances: &[Instance]) -> Vec<Query> {
    let mut out = Vec::new();
    for category in Category::ALL {
        let members = of(instances, category);
        if members.is_empty() {
            continue;
        }
        out.push(Query {
            label: category.plural(),
            kind: QueryKind::Category,
            instances: members.clone(),
        });
        for color in Color::ALL {
            let coloured: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&i| instances[i].color == color)
                .collect();
            if !coloured.is_empty() {
                out.push(Query {
                    label: format!("{} {}", color.name(), category.plural()),
                    kind: QueryKind::ColorCategory,
                    instances: coloured,
                });
            }
        }
        if members.len() >= 2 {
            let mut by_size = members.clone();
            by_size.sort_by(|&a, &b| instances[a].half_size.total_cmp(&instances[b].half_size));
            let size = |k: usize| instances[by_size[k]].half_size;
            let last = by_size.len() - 1;
            if size(last) >= SUPERLATIVE_RATIO * size(last - 1) {
                out.push(Query {
                    label: format!("the largest {}", category.noun()),
                    kind: QueryKind::Largest,
                    instances: vec![by_size[last]],
                });
            }
            if size(1) >= SUPERLATIVE_RATIO * size(0) {
                out.push(Query {
                    label: format!("the smallest {}", category.noun()),
                    kind: QueryKind::Smallest,
                    instances: vec![by_size[0]],
                });
            }
        }
    }
    out
}

/// Every "not present" query: absent categories, and absent colours of present ones.
#[must_use]
pub fn absent_queries(instances: &[Instance]) -> Vec<Query> {
    let mut out = Vec::new();
    for category in Category::ALL {
        let members = of(instances, category);
        if members.is_empty() {
            out.push(Query {
                label: category.plural(),
                kind: QueryKind::NotPresent,
                instances: Vec::new(),
            });
            continue;
        }
        for color in Color::ALL {
            if members.iter().all(|&i| instances[i].color != color) {
                out.push(Query {
                    label: format!("{} {}", color.name(), category.plural()),
                    kind: QueryKind::NotPresent,
                    instances: Vec::new(),
                });
            }
        }
    }
    out
}
