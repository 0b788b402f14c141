//! Object categories, each a few primitives in a unit frame (the object spans about
//! [-1, 1] on both axes, y down), tested point by point.

use serde::{Deserialize, Serialize};

/// Which colour a primitive takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The object's named colour.
    Main,
    /// The category's second colour (a roof, a flower's centre, a leaf).
    Accent,
    /// A dark detail (a stem, a string, a door).
    Dark,
}

/// A primitive in the unit frame.
#[derive(Clone, Copy, Debug)]
enum Prim {
    Disc(f64, f64, f64),
    Ellipse(f64, f64, f64, f64),
    Rect(f64, f64, f64, f64),
    Ring(f64, f64, f64, f64),
    /// A disc minus another disc.
    Crescent(f64, f64, f64, f64, f64, f64),
    Poly(&'static [(f64, f64)]),
}

impl Prim {
    fn contains(self, u: f64, v: f64) -> bool {
        match self {
            Prim::Disc(x, y, r) => (u - x).powi(2) + (v - y).powi(2) <= r * r,
            Prim::Ellipse(x, y, rx, ry) => ((u - x) / rx).powi(2) + ((v - y) / ry).powi(2) <= 1.0,
            Prim::Rect(x0, y0, x1, y1) => (x0..=x1).contains(&u) && (y0..=y1).contains(&v),
            Prim::Ring(x, y, r0, r1) => {
                let d = (u - x).powi(2) + (v - y).powi(2);
                d >= r0 * r0 && d <= r1 * r1
            }
            Prim::Crescent(x, y, r, x2, y2, r2) => {
                Prim::Disc(x, y, r).contains(u, v) && !Prim::Disc(x2, y2, r2).contains(u, v)
            }
            Prim::Poly(vertices) => {
                // Even-odd rule, so star polygons work.
                let mut inside = false;
                let mut j = vertices.len() - 1;
                for (i, &(xi, yi)) in vertices.iter().enumerate() {
                    let (xj, yj) = vertices[j];
                    if (yi > v) != (yj > v) && u < (xj - xi) * (v - yi) / (yj - yi) + xi {
                        inside = !inside;
                    }
                    j = i;
                }
                inside
            }
        }
    }
}

const TRIANGLE: &[(f64, f64)] = &[(0.0, -1.0), (0.95, 0.75), (-0.95, 0.75)];
const STAR: &[(f64, f64)] = &[
    (0.0, -1.0),
    (0.264, -0.364),
    (0.951, -0.309),
    (0.428, 0.139),
    (0.588, 0.809),
    (0.0, 0.45),
    (-0.588, 0.809),
    (-0.428, 0.139),
    (-0.951, -0.309),
    (-0.264, -0.364),
];
const HEART_TIP: &[(f64, f64)] = &[(-0.93, -0.12), (0.93, -0.12), (0.0, 0.95)];
const DIAMOND: &[(f64, f64)] = &[(0.0, -1.0), (0.68, 0.0), (0.0, 1.0), (-0.68, 0.0)];
const HEXAGON: &[(f64, f64)] = &[
    (1.0, 0.0),
    (0.5, 0.866),
    (-0.5, 0.866),
    (-1.0, 0.0),
    (-0.5, -0.866),
    (0.5, -0.866),
];
const TREE: &[(f64, f64)] = &[(0.0, -1.0), (0.8, 0.5), (-0.8, 0.5)];
const ROOF: &[(f64, f64)] = &[(-0.92, -0.05), (0.0, -1.0), (0.92, -0.05)];
const ARROW: &[(f64, f64)] = &[
    (-1.0, -0.25),
    (0.2, -0.25),
    (0.2, -0.7),
    (1.0, 0.0),
    (0.2, 0.7),
    (0.2, 0.25),
    (-1.0, 0.25),
];

/// The object categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A disc.
    Circle,
    /// A square.
    Square,
    /// A triangle.
    Triangle,
    /// A five-pointed star.
    Star,
    /// A heart.
    Heart,
    /// A ring (the centre is a hole).
    Ring,
    /// A plus-shaped cross.
    Cross,
    /// A diamond.
    Diamond,
    /// A hexagon.
    Hexagon,
    /// A crescent moon (the disc's centre is not on it).
    Crescent,
    /// A mug with a handle.
    Mug,
    /// A tree with a trunk.
    Tree,
    /// A house with a roof and a door.
    House,
    /// A flower with six petals.
    Flower,
    /// A balloon on a string.
    Balloon,
    /// An apple with a stem and a leaf.
    Apple,
    /// An arrow.
    Arrow,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 17] = [
        Category::Circle,
        Category::Square,
        Category::Triangle,
        Category::Star,
        Category::Heart,
        Category::Ring,
        Category::Cross,
        Category::Diamond,
        Category::Hexagon,
        Category::Crescent,
        Category::Mug,
        Category::Tree,
        Category::House,
        Category::Flower,
        Category::Balloon,
        Category::Apple,
        Category::Arrow,
    ];

    /// The noun.
    #[must_use]
    pub fn noun(self) -> &'static str {
        match self {
            Category::Circle => "circle",
            Category::Square => "square",
            Category::Triangle => "triangle",
            Category::Star => "star",
            Category::Heart => "heart",
            Category::Ring => "ring",
            Category::Cross => "cross",
            Category::Diamond => "diamond",
            Category::Hexagon => "hexagon",
            Category::Crescent => "crescent",
            Category::Mug => "mug",
            Category::Tree => "tree",
            Category::House => "house",
            Category::Flower => "flower",
            Category::Balloon => "balloon",
            Category::Apple => "apple",
            Category::Arrow => "arrow",
        }
    }

    /// The plural noun.
    #[must_use]
    pub fn plural(self) -> String {
        match self {
            Category::Cross => "crosses".to_string(),
            c => format!("{}s", c.noun()),
        }
    }

    /// Whether rotating the object by any angle still looks like the category (shapes do;
    /// trees, houses, mugs, balloons and apples stay roughly upright).
    #[must_use]
    pub fn rotates_freely(self) -> bool {
        !matches!(
            self,
            Category::Mug | Category::Tree | Category::House | Category::Balloon | Category::Apple
        )
    }

    fn parts(self) -> &'static [(Prim, Part)] {
        use Part::{Accent, Dark, Main};
        match self {
            Category::Circle => &[(Prim::Disc(0.0, 0.0, 1.0), Main)],
            Category::Square => &[(Prim::Rect(-0.82, -0.82, 0.82, 0.82), Main)],
            Category::Triangle => &[(Prim::Poly(TRIANGLE), Main)],
            Category::Star => &[(Prim::Poly(STAR), Main)],
            Category::Heart => &[
                (Prim::Disc(-0.45, -0.35, 0.5), Main),
                (Prim::Disc(0.45, -0.35, 0.5), Main),
                (Prim::Poly(HEART_TIP), Main),
            ],
            Category::Ring => &[(Prim::Ring(0.0, 0.0, 0.55, 1.0), Main)],
            Category::Cross => &[
                (Prim::Rect(-0.3, -1.0, 0.3, 1.0), Main),
                (Prim::Rect(-1.0, -0.3, 1.0, 0.3), Main),
            ],
            Category::Diamond => &[(Prim::Poly(DIAMOND), Main)],
            Category::Hexagon => &[(Prim::Poly(HEXAGON), Main)],
            Category::Crescent => &[(Prim::Crescent(0.0, 0.0, 1.0, 0.45, -0.25, 0.78), Main)],
            Category::Mug => &[
                (Prim::Rect(-0.65, -0.75, 0.4, 0.9), Main),
                (Prim::Ring(0.45, 0.05, 0.2, 0.45), Main),
            ],
            Category::Tree => &[
                (Prim::Poly(TREE), Main),
                (Prim::Rect(-0.16, 0.5, 0.16, 1.0), Dark),
            ],
            Category::House => &[
                (Prim::Rect(-0.72, -0.05, 0.72, 1.0), Main),
                (Prim::Poly(ROOF), Accent),
                (Prim::Rect(-0.16, 0.42, 0.16, 1.0), Dark),
            ],
            Category::Flower => &[
                (Prim::Disc(0.6, 0.0, 0.4), Main),
                (Prim::Disc(0.3, 0.52, 0.4), Main),
                (Prim::Disc(-0.3, 0.52, 0.4), Main),
                (Prim::Disc(-0.6, 0.0, 0.4), Main),
                (Prim::Disc(-0.3, -0.52, 0.4), Main),
                (Prim::Disc(0.3, -0.52, 0.4), Main),
                (Prim::Disc(0.0, 0.0, 0.36), Accent),
            ],
            Category::Balloon => &[
                (Prim::Ellipse(0.0, -0.25, 0.62, 0.75), Main),
                (Prim::Rect(-0.04, 0.5, 0.04, 1.0), Dark),
            ],
            Category::Apple => &[
                (Prim::Disc(0.0, 0.12, 0.86), Main),
                (Prim::Rect(-0.06, -1.0, 0.06, -0.6), Dark),
                (Prim::Ellipse(0.3, -0.78, 0.25, 0.11), Accent),
            ],
            Category::Arrow => &[(Prim::Poly(ARROW), Main)],
        }
    }

    /// The part at `(u, v)` in the unit frame, the last listed primitive winning; `None`
    /// off the object.
    #[must_use]
    pub fn part_at(self, u: f64, v: f64) -> Option<Part> {
        if !(-1.0..=1.0).contains(&u) || !(-1.0..=1.0).contains(&v) {
            return None;
        }
        self.parts()
            .iter()
            .rev()
            .find(|(prim, _)| prim.contains(u, v))
            .map(|&(_, part)| part)
    }
}
