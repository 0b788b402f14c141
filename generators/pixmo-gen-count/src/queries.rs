//! Referring expressions that follow from the scene graph, each with the exact set of
//! instances it names.
//!
//! - `stars`: every instance of a category;
//! - `red stars`: a category in one colour;
//! - `the largest star` / `the smallest star`: only when the category has at least two
//!   instances and the extreme one is at least 1.3 times (or at most 1/1.3 times) the size
//!   of the next, so the answer is unambiguous;
//! - `stars left of the ring`, `red stars above the blue ring` (also `right of`,
//!   `below`): see [`Relation`]; the reference names exactly one object ([`references`]:
//!   the only ring, or the only blue one of several rings) of another category; the
//!   colour form of the subject only for a category shown in several colours (otherwise it
//!   says the same as the plain form);
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
    /// The instances of a category on one side of a unique reference object.
    Spatial,
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
    /// For [`QueryKind::Spatial`]: the relation and the reference instance.
    pub relation: Option<(Relation, usize)>,
}

impl Query {
    fn new(label: String, kind: QueryKind, instances: Vec<usize>) -> Query {
        Query {
            label,
            kind,
            instances,
            relation: None,
        }
    }

    /// A query for every instance of a category (PixMo-Count's question).
    #[must_use]
    pub fn category(instances: &[Instance], category: Category) -> Query {
        Query::new(
            category.plural(),
            QueryKind::Category,
            of(instances, category),
        )
    }
}

/// Where an instance is relative to a reference object, in image coordinates (y down).
///
/// **Rule.** An instance is `left of` the reference when its point's x is strictly less
/// than the left edge of the reference's visible box (`visible_box[0]`); `right of` when
/// it is strictly greater than the right edge (`visible_box[2]`); `above` when its y is
/// strictly less than the top edge (`visible_box[1]`); `below` when it is strictly greater
/// than the bottom edge (`visible_box[3]`). An expression is emitted only when no
/// instance of the category is a near tie: every one's point is at least
/// [`Relation::margin`] away from that edge, on either side. So a reader who sees the
/// objects and the reference never has to judge a point that sits on the edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// Left of the reference.
    LeftOf,
    /// Right of the reference.
    RightOf,
    /// Above the reference.
    Above,
    /// Below the reference.
    Below,
}

/// The near-tie margin as a fraction of the reference's visible extent along the axis.
pub const RELATION_MARGIN: f64 = 0.25;
/// The smallest near-tie margin, pixels.
pub const RELATION_MARGIN_PX: f64 = 4.0;

impl Relation {
    /// Every relation.
    pub const ALL: [Relation; 4] = [
        Relation::LeftOf,
        Relation::RightOf,
        Relation::Above,
        Relation::Below,
    ];

    /// The words (`left of`).
    #[must_use]
    pub fn words(self) -> &'static str {
        match self {
            Relation::LeftOf => "left of",
            Relation::RightOf => "right of",
            Relation::Above => "above",
            Relation::Below => "below",
        }
    }

    /// How far `point` is past the reference box's edge on this side: positive when the
    /// relation holds, negative when not, in pixels.
    #[must_use]
    pub fn clearance(self, point: [f64; 2], reference_box: [u32; 4]) -> f64 {
        let [x0, y0, x1, y1] = reference_box.map(f64::from);
        match self {
            Relation::LeftOf => x0 - point[0],
            Relation::RightOf => point[0] - x1,
            Relation::Above => y0 - point[1],
            Relation::Below => point[1] - y1,
        }
    }

    /// Whether `point` is on this side of the reference box (the rule above).
    #[must_use]
    pub fn holds(self, point: [f64; 2], reference_box: [u32; 4]) -> bool {
        self.clearance(point, reference_box) > 0.0
    }

    /// The near-tie margin for a reference box: [`RELATION_MARGIN`] of its width (left,
    /// right) or height (above, below), at least [`RELATION_MARGIN_PX`].
    #[must_use]
    pub fn margin(self, reference_box: [u32; 4]) -> f64 {
        let [x0, y0, x1, y1] = reference_box.map(f64::from);
        let extent = match self {
            Relation::LeftOf | Relation::RightOf => x1 - x0,
            Relation::Above | Relation::Below => y1 - y0,
        };
        (RELATION_MARGIN * extent).max(RELATION_MARGIN_PX)
    }
}

/// The spatial queries about `members` (one category's instances, or those of one colour
/// when `color` is given) against every [`references`] object of another category.
fn spatial_queries(
    instances: &[Instance],
    references: &[(usize, String)],
    category: Category,
    color: Option<Color>,
    members: &[usize],
) -> Vec<Query> {
    let subject = match color {
        Some(c) => format!("{} {}", c.name(), category.plural()),
        None => category.plural(),
    };
    let mut out = Vec::new();
    for &(reference, ref reference_name) in references {
        if instances[reference].category == category {
            continue;
        }
        let bbox = instances[reference].visible_box;
        for relation in Relation::ALL {
            let margin = relation.margin(bbox);
            let clear = members
                .iter()
                .all(|&i| relation.clearance(instances[i].point, bbox).abs() >= margin);
            let matching: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&i| relation.holds(instances[i].point, bbox))
                .collect();
            if clear && !matching.is_empty() {
                out.push(Query {
                    label: format!("{subject} {} {reference_name}", relation.words()),
                    kind: QueryKind::Spatial,
                    instances: matching,
                    relation: Some((relation, reference)),
                });
            }
        }
    }
    out
}

/// The objects a spatial expression can refer to, with the words that name exactly one
/// object: `the ring` for the only ring, `the red ring` for the only red one of several
/// rings; in category, then colour order.
#[must_use]
pub fn references(instances: &[Instance]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for category in Category::ALL {
        match of(instances, category)[..] {
            [] => {}
            [only] => out.push((only, format!("the {}", category.noun()))),
            ref several => {
                for color in Color::ALL {
                    if let [only] = several
                        .iter()
                        .copied()
                        .filter(|&i| instances[i].color == color)
                        .collect::<Vec<_>>()[..]
                    {
                        out.push((only, format!("the {} {}", color.name(), category.noun())));
                    }
                }
            }
        }
    }
    out
}

/// Size ratio that makes "largest" and "smallest" unambiguous.
const SUPERLATIVE_RATIO: f64 = 1.3;

fn of(instances: &[Instance], category: Category) -> Vec<usize> {
    (0..instances.len())
        .filter(|&i| instances[i].category == category)
        .collect()
}

/// Every query with at least one instance that a scene's instances support, in a fixed
/// order (per category: the category, its colours, superlatives, spatial relations).
#[must_use]
pub fn present_queries(instances: &[Instance]) -> Vec<Query> {
    let references = references(instances);
    let mut out = Vec::new();
    for category in Category::ALL {
        let members = of(instances, category);
        if members.is_empty() {
            continue;
        }
        out.push(Query::new(
            category.plural(),
            QueryKind::Category,
            members.clone(),
        ));
        for color in Color::ALL {
            let coloured: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&i| instances[i].color == color)
                .collect();
            if !coloured.is_empty() {
                out.push(Query::new(
                    format!("{} {}", color.name(), category.plural()),
                    QueryKind::ColorCategory,
                    coloured,
                ));
            }
        }
        if members.len() >= 2 {
            let mut by_size = members.clone();
            by_size.sort_by(|&a, &b| instances[a].half_size.total_cmp(&instances[b].half_size));
            let size = |k: usize| instances[by_size[k]].half_size;
            let last = by_size.len() - 1;
            if size(last) >= SUPERLATIVE_RATIO * size(last - 1) {
                out.push(Query::new(
                    format!("the largest {}", category.noun()),
                    QueryKind::Largest,
                    vec![by_size[last]],
                ));
            }
            if size(1) >= SUPERLATIVE_RATIO * size(0) {
                out.push(Query::new(
                    format!("the smallest {}", category.noun()),
                    QueryKind::Smallest,
                    vec![by_size[0]],
                ));
            }
        }
        out.extend(spatial_queries(
            instances,
            &references,
            category,
            None,
            &members,
        ));
        // With several colours, the instances of one colour too (`red stars above the
        // house`): fewer instances, so fewer near ties.
        let colours: Vec<Color> = Color::ALL
            .into_iter()
            .filter(|&c| members.iter().any(|&i| instances[i].color == c))
            .collect();
        if colours.len() > 1 {
            for color in colours {
                let coloured: Vec<usize> = members
                    .iter()
                    .copied()
                    .filter(|&i| instances[i].color == color)
                    .collect();
                out.extend(spatial_queries(
                    instances,
                    &references,
                    category,
                    Some(color),
                    &coloured,
                ));
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
            out.push(Query::new(
                category.plural(),
                QueryKind::NotPresent,
                Vec::new(),
            ));
            continue;
        }
        for color in Color::ALL {
            if members.iter().all(|&i| instances[i].color != color) {
                out.push(Query::new(
                    format!("{} {}", color.name(), category.plural()),
                    QueryKind::NotPresent,
                    Vec::new(),
                ));
            }
        }
    }
    out
}
