//! Scenes: placing objects so that every instance stays visible, the instance map, the
//! point of each instance, and the pixels.
//!
//! **Occlusion rule.** Objects are drawn in placement order, later on top. A placement is
//! accepted only if every earlier instance keeps at least `min_visible` of its pixels
//! visible; otherwise the object is moved (up to [`ATTEMPTS`] positions per size), shrunk
//! (up to [`SHRINKS`] times), and finally left out. So every instance in a scene, target or
//! clutter, shows at least `min_visible` of itself, and counts are exact.
//!
//! **Point rule.** An instance's point is the centre of the pixel holding its centre when
//! that pixel shows the instance; otherwise (a ring's hole, a crescent's bite, an occluded
//! centre) the centre of the instance's visible pixel nearest to the centroid of its
//! visible pixels. Either way the point is on a visible pixel of its instance.
//!
//! **Masks.** The instance map (`ids`) gives every pixel to the last object drawn over it,
//! so an instance's visible mask ([`Scene::mask`], COCO run-length encoded) is its
//! footprint ([`Scene::footprint`]) minus the footprints of everything drawn after it;
//! `visible` is the mask's area and `visible_box` its bounding box.

use pixmo_core::Rng;
use serde::{Deserialize, Serialize};

use crate::mask::Rle;
use crate::palette::{Background, Color, Pattern, distance};
use crate::shapes::{Category, Part};

/// Positions tried per object size.
pub const ATTEMPTS: usize = 40;
/// Times an object that does not fit is shrunk by 20 % before it is left out.
pub const SHRINKS: usize = 3;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneConfig {
    /// The longer image side in pixels (64–1000; the other side is 75–100 % of it).
    pub size: u32,
    /// Instances of the target category to place (0: the target is absent).
    pub target_count: u32,
    /// Most clutter objects (other categories) besides the targets.
    pub max_clutter: u32,
    /// Fraction of its pixels every instance keeps visible (0–1).
    pub min_visible: f64,
}

/// Why a configuration cannot be generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl SceneConfig {
    /// Checks the ranges.
    ///
    /// # Errors
    /// A value out of range, named.
    pub fn check(&self) -> Result<(), ConfigError> {
        if !(64..=1000).contains(&self.size) {
            return Err(ConfigError(format!(
                "`size` is {}; it must be between 64 and 1000",
                self.size
            )));
        }
        if self.target_count > 200 || self.max_clutter > 200 {
            return Err(ConfigError(
                "`target_count` and `max_clutter` must be at most 200".into(),
            ));
        }
        if !(0.05..=1.0).contains(&self.min_visible) {
            return Err(ConfigError(format!(
                "`min_visible` is {}; it must be between 0.05 and 1",
                self.min_visible
            )));
        }
        Ok(())
    }
}

/// One object in a scene.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Category.
    pub category: Category,
    /// Named colour.
    pub color: Color,
    /// Centre in pixels.
    pub center: [f64; 2],
    /// Half the side of the object's unit frame, pixels.
    pub half_size: f64,
    /// Rotation, degrees.
    pub rotation_deg: f64,
    /// The labelled point in pixels (see the module docs).
    pub point: [f64; 2],
    /// Pixels the object covers when drawn alone.
    pub pixels: u32,
    /// Pixels still showing it in the final image.
    pub visible: u32,
    /// Bounding box of its visible pixels, `[x0, y0, x1, y1]` in pixel edges (the pixels
    /// `x0..x1`, `y0..y1`): what spatial relations measure against.
    pub visible_box: [u32; 4],
}

/// A generated scene: its graph, its instance map and its pixels.
#[derive(Clone, Debug)]
pub struct Scene {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The background.
    pub background: Background,
    /// The category the scene was made for.
    pub target: Category,
    /// Instances, in drawing order.
    pub instances: Vec<Instance>,
    /// Objects left out because they did not fit under the occlusion rule.
    pub left_out: u32,
    /// Per pixel (row-major): 0 for background, `i + 1` for instance `i`.
    pub ids: Vec<u16>,
    /// RGBA pixels, row-major.
    pub rgba: Vec<u8>,
}

impl Scene {
    /// The instance showing at pixel `(x, y)`.
    #[must_use]
    pub fn instance_at(&self, x: u32, y: u32) -> Option<usize> {
        if x >= self.width || y >= self.height {
            return None;
        }
        match self.ids[(y * self.width + x) as usize] {
            0 => None,
            id => Some(usize::from(id) - 1),
        }
    }

    /// The visible mask of instance `i`: exactly the pixels the instance map gives it.
    ///
    /// # Panics
    /// When `i` is not an instance.
    #[must_use]
    pub fn mask(&self, i: usize) -> Rle {
        let id = u16::try_from(i + 1).expect("instance id");
        Rle::from_ids(
            &self.ids,
            self.width,
            self.height,
            id,
            self.instances[i].visible_box,
        )
    }

    /// The visible mask of every instance, in drawing order.
    #[must_use]
    pub fn masks(&self) -> Vec<Rle> {
        (0..self.instances.len()).map(|i| self.mask(i)).collect()
    }

    /// The pixels (row-major indices) instance `i` covers when drawn alone, before
    /// anything drawn later hides part of it; `pixels` counts them.
    ///
    /// # Panics
    /// When `i` is not an instance.
    #[must_use]
    pub fn footprint(&self, i: usize) -> Vec<u32> {
        let inst = &self.instances[i];
        let mut covered = Vec::new();
        rasterize(
            inst.category,
            inst.center,
            inst.half_size,
            inst.rotation_deg,
            self.width,
            self.height,
            &mut covered,
        );
        covered.into_iter().map(|(index, _)| index).collect()
    }

    /// Indices of the instances of a category.
    #[must_use]
    pub fn of(&self, category: Category) -> Vec<usize> {
        (0..self.instances.len())
            .filter(|&i| self.instances[i].category == category)
            .collect()
    }
}

/// An object waiting to be placed.
struct Pending {
    category: Category,
    color: Color,
    half_size: f64,
    rotation_deg: f64,
}

/// Covered pixels of an object at a position: (pixel index, part).
fn rasterize(
    category: Category,
    center: [f64; 2],
    half_size: f64,
    rotation_deg: f64,
    width: u32,
    height: u32,
    out: &mut Vec<(u32, Part)>,
) {
    out.clear();
    let theta = rotation_deg.to_radians();
    let (sin, cos) = (libm::sin(theta), libm::cos(theta));
    let reach = half_size * std::f64::consts::SQRT_2 + 1.0;
    let x0 = (center[0] - reach).floor().max(0.0) as u32;
    let y0 = (center[1] - reach).floor().max(0.0) as u32;
    let x1 = ((center[0] + reach).ceil() as u32).min(width);
    let y1 = ((center[1] + reach).ceil() as u32).min(height);
    for y in y0..y1 {
        let dy = f64::from(y) + 0.5 - center[1];
        for x in x0..x1 {
            let dx = f64::from(x) + 0.5 - center[0];
            let u = (cos * dx + sin * dy) / half_size;
            let v = (-sin * dx + cos * dy) / half_size;
            if let Some(part) = category.part_at(u, v) {
                out.push((y * width + x, part));
            }
        }
    }
}

/// Generates a scene from a seed.
///
/// # Errors
/// A configuration out of range ([`SceneConfig::check`]).
pub fn generate(seed: u64, config: &SceneConfig) -> Result<Scene, ConfigError> {
    config.check()?;
    let mut rng = Rng::new(seed);
    let long = config.size;
    let short = ((f64::from(long) * rng.range_f64(0.75, 1.0)).round() as u32).max(64);
    let (width, height) = if rng.bool(0.5) {
        (long, short)
    } else {
        (short, long)
    };
    let background = Background::sample(&mut rng);
    let target = Category::ALL[rng.index(Category::ALL.len())];
    let colors: Vec<Color> = Color::ALL
        .into_iter()
        .filter(|c| {
            background
                .colours()
                .iter()
                .all(|&b| distance(c.rgb(), b) > 110.0)
        })
        .collect();
    let colors = if colors.is_empty() {
        vec![Color::Red, Color::Blue]
    } else {
        colors
    };
    // The targets share one to three colours, so colour questions have several answers.
    let target_colors: Vec<Color> = (0..rng.range_u32(1, 4))
        .map(|_| colors[rng.index(colors.len())])
        .collect();
    let mut pending: Vec<Pending> = Vec::new();
    let rotation = |rng: &mut Rng, category: Category| {
        if category.rotates_freely() {
            rng.range_f64(0.0, 360.0)
        } else {
            rng.range_f64(-15.0, 15.0)
        }
    };
    for _ in 0..config.target_count {
        let color = target_colors[rng.index(target_colors.len())];
        let rotation_deg = rotation(&mut rng, target);
        pending.push(Pending {
            category: target,
            color,
            half_size: 0.0,
            rotation_deg,
        });
    }
    let others: Vec<Category> = Category::ALL.into_iter().filter(|&c| c != target).collect();
    // A scene without its target still shows something to look at.
    let fewest = if config.target_count == 0 {
        config.max_clutter.min(2)
    } else {
        0
    };
    let clutter = rng.range_u32(fewest, config.max_clutter + 1);
    let kinds = rng.range_u32(1, 5);
    let clutter_categories: Vec<Category> = (0..kinds)
        .map(|_| others[rng.index(others.len())])
        .collect();
    for _ in 0..clutter {
        let category = clutter_categories[rng.index(clutter_categories.len())];
        let color = colors[rng.index(colors.len())];
        let rotation_deg = rotation(&mut rng, category);
        pending.push(Pending {
            category,
            color,
            half_size: 0.0,
            rotation_deg,
        });
    }
    // Sizes from the density: about a third of the image covered.
    let area = f64::from(width) * f64::from(height);
    let base = (0.12 * area / pending.len().max(1) as f64).sqrt();
    let cap = 0.2 * f64::from(width.min(height));
    for p in &mut pending {
        p.half_size = (base * rng.range_f64(0.55, 1.15)).clamp(6.0, cap);
    }
    // Some scenes have one target that stands out by size ("the largest star").
    if config.target_count >= 2 && rng.bool(0.35) {
        let scale = if rng.bool(0.5) { 1.7 } else { 0.5 };
        let one = rng.index(config.target_count as usize);
        pending[one].half_size = (pending[one].half_size * scale).max(6.0);
    }
    // Targets and clutter are interleaved, so either may cover the other.
    for i in (1..pending.len()).rev() {
        let j = rng.index(i + 1);
        pending.swap(i, j);
    }

    let n_pixels = (width * height) as usize;
    let mut ids = vec![0u16; n_pixels];
    let mut parts = vec![Part::Main; n_pixels];
    let mut instances: Vec<Instance> = Vec::new();
    let mut covered: Vec<(u32, Part)> = Vec::new();
    let mut cover_count: Vec<u32> = Vec::new();
    let mut left_out = 0;
    for p in pending {
        let mut half_size = p.half_size;
        let mut placed = None;
        'sizes: for _ in 0..=SHRINKS {
            let margin = half_size * std::f64::consts::SQRT_2 + 1.0;
            for _ in 0..ATTEMPTS {
                let lo_x = margin.min(f64::from(width) / 2.0);
                let lo_y = margin.min(f64::from(height) / 2.0);
                let center = [
                    rng.range_f64(lo_x, f64::from(width) - lo_x),
                    rng.range_f64(lo_y, f64::from(height) - lo_y),
                ];
                rasterize(
                    p.category,
                    center,
                    half_size,
                    p.rotation_deg,
                    width,
                    height,
                    &mut covered,
                );
                if covered.len() < 16 {
                    continue;
                }
                cover_count.clear();
                cover_count.resize(instances.len(), 0);
                for &(index, _) in &covered {
                    let id = ids[index as usize];
                    if id > 0 {
                        cover_count[usize::from(id) - 1] += 1;
                    }
                }
                let keeps_all = instances.iter().zip(&cover_count).all(|(inst, &c)| {
                    f64::from(inst.visible - c) >= config.min_visible * f64::from(inst.pixels)
                });
                if keeps_all {
                    placed = Some(center);
                    break 'sizes;
                }
            }
            half_size *= 0.8;
        }
        let Some(center) = placed else {
            left_out += 1;
            continue;
        };
        let id = u16::try_from(instances.len() + 1).unwrap_or(u16::MAX);
        for (inst, &c) in instances.iter_mut().zip(&cover_count) {
            inst.visible -= c;
        }
        for &(index, part) in &covered {
            ids[index as usize] = id;
            parts[index as usize] = part;
        }
        let pixels = u32::try_from(covered.len()).unwrap_or(u32::MAX);
        instances.push(Instance {
            category: p.category,
            color: p.color,
            center,
            half_size,
            rotation_deg: p.rotation_deg,
            point: [0.0, 0.0],
            pixels,
            visible: pixels,
            visible_box: [0; 4],
        });
    }
    visible_boxes(&mut instances, &ids, width);
    for (i, inst) in instances.iter_mut().enumerate() {
        inst.point = point_of(i, inst, &ids, width, height);
    }
    let rgba = paint(seed, width, height, &background, &instances, &ids, &parts);
    Ok(Scene {
        width,
        height,
        background,
        target,
        instances,
        left_out,
        ids,
        rgba,
    })
}

/// Sets every instance's `visible_box` from the instance map.
fn visible_boxes(instances: &mut [Instance], ids: &[u16], width: u32) {
    let mut boxes = vec![[u32::MAX, u32::MAX, 0, 0]; instances.len()];
    for (row, line) in ids.chunks_exact(width as usize).enumerate() {
        let y = row as u32;
        let mut x = 0u32;
        while x < width {
            let id = line[x as usize];
            if id == 0 {
                x += 1;
                continue;
            }
            // A horizontal run of one instance updates its box once.
            let start = x;
            while x < width && line[x as usize] == id {
                x += 1;
            }
            let b = &mut boxes[usize::from(id) - 1];
            b[0] = b[0].min(start);
            b[1] = b[1].min(y);
            b[2] = b[2].max(x);
            b[3] = b[3].max(y + 1);
        }
    }
    for (inst, b) in instances.iter_mut().zip(boxes) {
        inst.visible_box = b;
    }
}

/// The point rule of the module docs.
fn point_of(i: usize, inst: &Instance, ids: &[u16], width: u32, height: u32) -> [f64; 2] {
    let id = u16::try_from(i + 1).unwrap_or(u16::MAX);
    let (cx, cy) = (inst.center[0].floor() as u32, inst.center[1].floor() as u32);
    if cx < width && cy < height && ids[(cy * width + cx) as usize] == id {
        return [f64::from(cx) + 0.5, f64::from(cy) + 0.5];
    }
    let reach = inst.half_size * std::f64::consts::SQRT_2 + 1.0;
    let x0 = (inst.center[0] - reach).floor().max(0.0) as u32;
    let y0 = (inst.center[1] - reach).floor().max(0.0) as u32;
    let x1 = ((inst.center[0] + reach).ceil() as u32).min(width);
    let y1 = ((inst.center[1] + reach).ceil() as u32).min(height);
    let mine = || {
        (y0..y1)
            .flat_map(move |y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| ids[(y * width + x) as usize] == id)
    };
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for (x, y) in mine() {
        sx += f64::from(x) + 0.5;
        sy += f64::from(y) + 0.5;
        n += 1.0;
    }
    let (mx, my) = (sx / n, sy / n);
    let mut best = (f64::INFINITY, [f64::from(cx) + 0.5, f64::from(cy) + 0.5]);
    for (x, y) in mine() {
        let p = [f64::from(x) + 0.5, f64::from(y) + 0.5];
        let d = (p[0] - mx).powi(2) + (p[1] - my).powi(2);
        if d < best.0 {
            best = (d, p);
        }
    }
    best.1
}

/// A hash of a pixel and the seed, uniform in [0, 1).
fn hash01(seed: u64, a: u64, b: u64) -> f64 {
    let mut z =
        seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// `v.round().clamp(0.0, 255.0) as u8`, bit for bit, without the `round` call that
/// targets without SSE4.1 make into a library function (a fifth of the paint time).
fn to_byte(v: f64) -> u8 {
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= 255.0 {
        255
    } else {
        // In (0, 255): truncation and the fraction are exact; halves round up, as
        // `f64::round` rounds them away from zero.
        let t = v as u8;
        t + u8::from(v - f64::from(t) >= 0.5)
    }
}

fn mix(a: [u8; 3], b: [u8; 3], t: f64) -> [f64; 3] {
    [0, 1, 2].map(|i| f64::from(a[i]) * (1.0 - t) + f64::from(b[i]) * t)
}

fn accent(category: Category, main: Color) -> [u8; 3] {
    match category {
        Category::House => [150, 45, 35],
        Category::Flower if main == Color::Yellow => [200, 100, 20],
        Category::Flower => [245, 205, 40],
        Category::Apple => [60, 150, 50],
        _ => [60, 60, 60],
    }
}

fn paint(
    seed: u64,
    width: u32,
    height: u32,
    bg: &Background,
    instances: &[Instance],
    ids: &[u16],
    parts: &[Part],
) -> Vec<u8> {
    let theta = bg.angle_deg.to_radians();
    let (sin, cos) = (libm::sin(theta), libm::cos(theta));
    let (w, h) = (f64::from(width), f64::from(height));
    // Opaque everywhere; the loop writes the colour channels in place.
    let mut rgba = vec![255u8; (width * height * 4) as usize];
    let blob = |x: f64, y: f64| {
        let (gx, gy) = (x / bg.period, y / bg.period);
        let (ix, iy) = (gx.floor(), gy.floor());
        let (fx, fy) = (gx - ix, gy - iy);
        let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
        let at = |dx: f64, dy: f64| hash01(seed, (ix + dx) as u64, (iy + dy) as u64);
        let top = at(0.0, 0.0) * (1.0 - sx) + at(1.0, 0.0) * sx;
        let bottom = at(0.0, 1.0) * (1.0 - sx) + at(1.0, 1.0) * sx;
        top * (1.0 - sy) + bottom * sy
    };
    let light_x: Vec<f64> = (0..width)
        .map(|x| ((f64::from(x) + 0.5) / w - 0.5) * cos)
        .collect();
    for y in 0..height {
        let fy = f64::from(y) + 0.5;
        let light_y = (fy / h - 0.5) * sin;
        for x in 0..width {
            let fx = f64::from(x) + 0.5;
            let index = (y * width + x) as usize;
            let colour = match ids[index] {
                0 => match bg.pattern {
                    Pattern::Solid => mix(bg.a, bg.b, 0.0),
                    Pattern::Gradient => mix(bg.a, bg.b, fy / h),
                    Pattern::Stripes => {
                        let t = (fx * cos + fy * sin) / bg.period;
                        mix(bg.a, bg.b, f64::from(u8::from(t.rem_euclid(2.0) >= 1.0)))
                    }
                    Pattern::Checker => {
                        let odd = ((fx / bg.period).floor() + (fy / bg.period).floor()) as i64 % 2;
                        mix(bg.a, bg.b, odd as f64)
                    }
                    Pattern::Blobs => mix(bg.a, bg.b, blob(fx, fy)),
                    Pattern::Table => {
                        mix(bg.a, bg.b, f64::from(u8::from(fy > h * (1.0 - bg.period))))
                    }
                },
                id => {
                    let inst = &instances[usize::from(id) - 1];
                    let base = match parts[index] {
                        Part::Main => inst.color.rgb(),
                        Part::Accent => accent(inst.category, inst.color),
                        Part::Dark => [45, 35, 30],
                    };
                    // Lit from the background's light direction.
                    let along = ((fx - inst.center[0]) * cos + (fy - inst.center[1]) * sin)
                        / inst.half_size;
                    let shade = 1.0 - 0.12 * along;
                    mix(base, base, 0.0).map(|c| c * shade)
                }
            };
            // The same operations as `(fx / w - 0.5) * cos + (fy / h - 0.5) * sin`, with
            // each term computed once per column and row.
            let light = bg.gain * (1.0 + bg.light * (light_x[x as usize] + light_y));
            let noise = if bg.noise > 0.0 {
                (hash01(seed ^ 0x5EED, u64::from(x), u64::from(y)) - 0.5) * 2.0 * bg.noise
            } else {
                0.0
            };
            let pixel = &mut rgba[index * 4..index * 4 + 3];
            for (out, c) in pixel.iter_mut().zip(colour) {
                *out = to_byte(c * light + noise);
            }
        }
    }
    rgba
}

#[cfg(test)]
mod tests {
    use super::to_byte;

    #[test]
    fn to_byte_is_round_then_clamp() {
        let reference = |v: f64| v.round().clamp(0.0, 255.0) as u8;
        let mut values = vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            -0.5,
            0.49999999999999994,
            0.5,
            254.49999999999997,
            254.5,
            255.0,
            300.0,
        ];
        for i in -2000..300_000 {
            values.push(f64::from(i) / 1000.0);
            values.push(f64::from(i) / 1000.0 + 0.5);
        }
        for v in values {
            assert_eq!(to_byte(v), reference(v), "{v}");
        }
    }
}
