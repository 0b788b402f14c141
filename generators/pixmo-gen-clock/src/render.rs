//! [`ClockRenderer`]: static face layers cached per face, hands per time, scene composition.

use std::sync::{Arc, Mutex, OnceLock};

use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg;

use crate::augment::{self, Mask, Src};
use crate::background;
use crate::error::RenderError;
use crate::face::FaceSpec;
use crate::geometry::{Mat3, Pt, dial_angle_of};
use crate::hands::{HandMask, HandSet, dynamic_shapes};
use crate::layout::{CANVAS, Layout};
use crate::scene::SceneSpec;
use crate::time::ClockTime;
use crate::{fonts, svg};

/// Smallest and largest image side the renderer accepts.
pub const MIN_SIZE: u32 = 16;
pub const MAX_SIZE: u32 = 4096;

/// Scenes up to this watch scale share the face layer of their scene size (larger watches
/// get a larger layer rather than being upscaled further).
const MAX_UPSCALE: f64 = 1.25;

/// Which hands are drawn and visible in the final image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Visibility {
    pub hour: bool,
    pub minute: bool,
    pub second: bool,
}

/// Ground truth for one rendered image. Positions are continuous pixel coordinates of the
/// final image: pixel `(i, j)` covers `[i, i+1) x [j, j+1)`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClockTruth {
    pub time: ClockTime,
    /// A hand is visible when it is drawn and the point 60% of the way from its pivot to its
    /// tip lies inside the image.
    pub visibility: Visibility,
    /// The face has a second hand (central or in a sub-dial).
    pub shows_seconds: bool,
    /// Dial centre (the hour/minute pivot).
    pub center: (f32, f32),
    /// Bounding box `(x0, y0, x1, y1)` of the dial's outline as drawn (rotation and
    /// perspective applied), in the same coordinates; it may reach past the image where the
    /// watch is cropped. A locator's target, or where to crop to read the dial.
    pub dial_box: (f32, f32, f32, f32),
    pub hour_tip: (f32, f32),
    pub minute_tip: (f32, f32),
    pub second_tip: Option<(f32, f32)>,
    /// Pivot of the second hand: the centre, or the small-seconds sub-dial centre.
    pub second_pivot: Option<(f32, f32)>,
    /// Hand angles on the dial, degrees clockwise from 12 (see the crate docs for formulas).
    pub hour_angle_deg: f64,
    pub minute_angle_deg: f64,
    pub second_angle_deg: Option<f64>,
}

/// Pixels plus truth. `rgba` is straight (non-premultiplied) RGBA8, row-major.
#[derive(Clone, Debug)]
pub struct RenderedClock {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
    pub truth: ClockTruth,
}

impl RenderedClock {
    /// `(width, height, rgba)`, the shape `pixmo-core`'s `RgbaImage` takes.
    pub fn to_rgba(&self) -> (u32, u32, Vec<u8>) {
        (self.width, self.height, self.rgba.clone())
    }
}

/// A static face layer (the face without hands) at one size, shared between renderers.
struct Layer {
    base: Pixmap,
    /// Soft shadow of the static layer, made the first time a scene asks for one.
    shadow: OnceLock<Mask>,
    /// Bounding box `(x0, y0, x1, y1)` of the layer's non-transparent pixels (the hands
    /// always lie inside the case, so inside it).
    content: (f64, f64, f64, f64),
}

struct Slot {
    face_id: String,
    size: u32,
    last_used: u64,
    /// Filled by the first renderer that asks; others asking meanwhile wait for it rather
    /// than rasterising the same layer again.
    layer: Arc<Mutex<Option<Arc<Layer>>>>,
}

struct Slots {
    slots: Vec<Slot>,
    clock: u64,
}

/// A small LRU cache of static face layers keyed by `(face_id, layer size)`, which
/// several [`ClockRenderer`]s (one per worker thread) may share: consecutive images of a face
/// then rasterise its SVG once, whichever worker draws them. Output never depends on the
/// cache's state.
pub struct LayerCache {
    capacity: usize,
    inner: Mutex<Slots>,
}

impl LayerCache {
    /// A cache that keeps at most `capacity` layers (at least one).
    pub fn new(capacity: usize) -> LayerCache {
        LayerCache {
            capacity: capacity.max(1),
            inner: Mutex::new(Slots {
                slots: Vec::new(),
                clock: 0,
            }),
        }
    }

    /// Layers held now.
    pub fn len(&self) -> usize {
        self.lock().slots.len()
    }

    /// Whether no layer is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every layer.
    pub fn clear(&self) {
        self.lock().slots.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        // A panic while holding the lock leaves the slots consistent (each step is a single
        // push, swap_remove or field write), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The slot of `(face_id, size)`, created (evicting the least recently used) if absent.
    fn slot(&self, face_id: &str, size: u32) -> Arc<Mutex<Option<Arc<Layer>>>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        if let Some(slot) = inner
            .slots
            .iter_mut()
            .find(|s| s.size == size && s.face_id == face_id)
        {
            slot.last_used = now;
            return Arc::clone(&slot.layer);
        }
        if inner.slots.len() >= self.capacity {
            let oldest = (0..inner.slots.len())
                .min_by_key(|&i| inner.slots[i].last_used)
                .unwrap_or(0);
            inner.slots.swap_remove(oldest);
        }
        let layer = Arc::new(Mutex::new(None));
        inner.slots.push(Slot {
            face_id: face_id.to_owned(),
            size,
            last_used: now,
            layer: Arc::clone(&layer),
        });
        layer
    }
}

impl Default for LayerCache {
    fn default() -> Self {
        LayerCache::new(32)
    }
}

/// Renders faces. Static face layers come from a [`LayerCache`], its own or one shared with
/// other renderers; output never depends on whether the cache was warm.
pub struct ClockRenderer {
    layers: Arc<LayerCache>,
    scratch: Option<Pixmap>,
    /// Buffers the augmentation passes reuse from image to image.
    buffers: augment::Buffers,
    stats: RenderStats,
}

/// Cumulative time spent per phase (for benchmarks; not part of any output).
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderStats {
    pub face_layers_rendered: u64,
    pub cache_hits: u64,
    pub face_layer_secs: f64,
    pub hands_secs: f64,
    pub augment_secs: f64,
    /// Parts of `face_layer_secs`: SVG parse (text to paths) and rasterisation.
    pub svg_parse_secs: f64,
    pub svg_raster_secs: f64,
    /// Parts of `augment_secs`.
    pub background_secs: f64,
    pub composite_secs: f64,
    pub blur_secs: f64,
    pub tone_secs: f64,
}

impl Default for ClockRenderer {
    fn default() -> Self {
        ClockRenderer::new()
    }
}

/// Size of the face layer for a watch drawn `needed` pixels wide: rounded up to one of about
/// eight sizes per octave, so nearby scales share a cached layer (the warp then shrinks it by
/// at most ~12%).
pub fn layer_size(needed: f64) -> u32 {
    let n = needed.ceil().max(8.0) as u32;
    let step = if n <= 64 {
        8
    } else {
        1u32 << (31 - n.leading_zeros() - 3)
    };
    n.div_ceil(step) * step
}

fn check_size(size: u32) -> Result<(), RenderError> {
    if (MIN_SIZE..=MAX_SIZE).contains(&size) {
        Ok(())
    } else {
        Err(RenderError::InvalidSize { size })
    }
}

fn check_time(time: ClockTime) -> Result<(), RenderError> {
    if time.is_valid() {
        Ok(())
    } else {
        Err(RenderError::InvalidTime { time })
    }
}

impl ClockRenderer {
    pub fn new() -> ClockRenderer {
        ClockRenderer::with_cache_capacity(32)
    }

    /// A renderer that keeps at most `capacity` static layers (at least one).
    pub fn with_cache_capacity(capacity: usize) -> ClockRenderer {
        ClockRenderer::with_layer_cache(Arc::new(LayerCache::new(capacity)))
    }

    /// A renderer that takes its static layers from `layers`, which other renderers may
    /// share.
    pub fn with_layer_cache(layers: Arc<LayerCache>) -> ClockRenderer {
        ClockRenderer {
            layers,
            scratch: None,
            buffers: augment::Buffers::default(),
            stats: RenderStats::default(),
        }
    }

    /// Time spent so far, per phase.
    pub fn stats(&self) -> RenderStats {
        self.stats
    }

    /// Drops every cached layer (of the cache this renderer uses).
    pub fn clear_cache(&mut self) {
        self.layers.clear();
    }

    /// The SVG of the face at this time (static layer and hands), for inspection. Rasterising
    /// it gives the same picture as [`ClockRenderer::render_face`] up to anti-aliasing.
    pub fn svg(&self, face: &FaceSpec, time: ClockTime, size: u32) -> String {
        let layout = Layout::new(face);
        let set = HandSet::new(face, &layout, time);
        let shapes = dynamic_shapes(face, &layout, &set, HandMask::ALL);
        svg::full(face, &layout, &shapes, size)
    }

    /// Render the face at this time into a `size x size` image (before scene augmentation),
    /// transparent outside the watch.
    pub fn render_face(
        &mut self,
        face: &FaceSpec,
        time: ClockTime,
        size: u32,
    ) -> Result<RenderedClock, RenderError> {
        self.render_face_masked(face, time, size, HandMask::ALL)
    }

    /// As [`ClockRenderer::render_face`], drawing only the hands in `mask`.
    pub fn render_face_masked(
        &mut self,
        face: &FaceSpec,
        time: ClockTime,
        size: u32,
        mask: HandMask,
    ) -> Result<RenderedClock, RenderError> {
        check_size(size)?;
        check_time(time)?;
        validate_face(face)?;
        let (layout, set, _) = self.draw_face(face, time, size, mask)?;
        let pixmap = self
            .scratch
            .as_ref()
            .expect("draw_face fills the scratch pixmap");
        let mut rgba = Vec::with_capacity(pixmap.data().len());
        for p in pixmap.pixels() {
            let c = p.demultiply();
            rgba.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
        }
        let k = f64::from(size) / CANVAS;
        let truth = truth(face, time, &layout, &set, mask, |p| p.scale(k), size, size);
        Ok(RenderedClock {
            width: size,
            height: size,
            rgba,
            truth,
        })
    }

    /// Full image: background + watch placed + augmentation. The output is `scene.size`
    /// square, or the crop size when the scene has a crop.
    pub fn render(
        &mut self,
        face: &FaceSpec,
        time: ClockTime,
        scene: &SceneSpec,
    ) -> Result<RenderedClock, RenderError> {
        self.render_masked(face, time, scene, HandMask::ALL)
    }

    /// As [`ClockRenderer::render`], drawing only the hands in `mask`.
    pub fn render_masked(
        &mut self,
        face: &FaceSpec,
        time: ClockTime,
        scene: &SceneSpec,
        mask: HandMask,
    ) -> Result<RenderedClock, RenderError> {
        check_time(time)?;
        validate_face(face)?;
        validate_scene(scene)?;
        let size = f64::from(scene.size);
        let watch_px = f64::from(scene.watch_scale) * size;
        // One layer size per scene size (covering the usual scales), so every image of a face
        // reuses one cached static layer; the warp shrinks it through a mip level.
        let layer = if watch_px <= MAX_UPSCALE * size {
            layer_size(size)
        } else {
            layer_size(watch_px)
        };
        if layer > MAX_SIZE {
            return Err(RenderError::InvalidScene {
                reason: format!("the watch would be {watch_px:.0} px wide (at most {MAX_SIZE})"),
            });
        }
        let (ow, oh) = scene.output_size();
        let (cx0, cy0) = scene
            .crop
            .map_or((0.0, 0.0), |c| (f64::from(c.x), f64::from(c.y)));
        // The background needs no face layer, so it comes first: a worker whose face layer
        // another worker is still drawing (see `LayerCache`) has less to wait for.
        let t_bg = std::time::Instant::now();
        let mut rgba = vec![0u8; ow as usize * oh as usize * 4];
        background::paint(
            &scene.background,
            &mut rgba,
            ow,
            oh,
            cx0 as f32,
            cy0 as f32,
            scene.size,
            &mut self.buffers.background,
        );
        let background_secs = t_bg.elapsed().as_secs_f64();

        let (layout, set, entry) = self.draw_face(face, time, layer, mask)?;

        let t0 = std::time::Instant::now();
        let f = f64::from(layer);
        let fwd = Mat3::translate(-f / 2.0, -f / 2.0)
            .then(Mat3::scale(watch_px / f))
            .then(Mat3::rotate_deg(f64::from(scene.rotation_deg)))
            .then(Mat3::tilt(
                f64::from(scene.tilt_x_deg),
                f64::from(scene.tilt_y_deg),
                f64::from(scene.focal) * size,
            ))
            .then(Mat3::translate(
                f64::from(scene.center.0) * size - cx0,
                f64::from(scene.center.1) * size - cy0,
            ));
        let inv = fwd.inverse().ok_or_else(|| RenderError::InvalidScene {
            reason: "the placement transform is singular".to_owned(),
        })?;

        let shadow_mask = scene.shadow.is_some().then(|| {
            entry.shadow.get_or_init(|| {
                Mask::shadow_of(
                    &Src {
                        data: entry.base.data(),
                        w: layer,
                        h: layer,
                    },
                    (layer / 64).max(1),
                )
            })
        });

        let t_comp = std::time::Instant::now();
        let shadow_off = scene
            .shadow
            .as_ref()
            .map(|s| Pt::new(f64::from(s.dx) * watch_px, f64::from(s.dy) * watch_px));
        let (bx0, by0, bx1, by1) = entry.content;
        let quad_of = |off: Pt| {
            augment::Quad(
                [
                    Pt::new(bx0, by0),
                    Pt::new(bx1, by0),
                    Pt::new(bx1, by1),
                    Pt::new(bx0, by1),
                ]
                .map(|c| fwd.apply(c).add(off)),
            )
        };
        let face_quad = quad_of(Pt::new(0.0, 0.0));
        let pixmap = self
            .scratch
            .as_ref()
            .expect("draw_face fills the scratch pixmap");
        // Mip level: shrink by halves until the remaining scale is in (0.7, 1.4].
        let mut level = 0;
        while level < 4 && watch_px / f * f64::from(2u32 << level) <= 1.4 {
            level += 1;
        }
        let mut src = Src {
            data: pixmap.data(),
            w: layer,
            h: layer,
        };
        let mips = &mut self.buffers.mips;
        for i in 0..level {
            let (done, rest) = mips.split_at_mut(i);
            let from = match done.last() {
                Some(data) => Src {
                    data,
                    w: src.w,
                    h: src.h,
                },
                None => Src {
                    data: pixmap.data(),
                    w: layer,
                    h: layer,
                },
            };
            let (w, h) = augment::half_into(&from, &mut rest[0]);
            src.w = w;
            src.h = h;
        }
        if level > 0 {
            src.data = &self.buffers.mips[level - 1];
        }
        let level_scale = f64::from(1u32 << level);
        let inv_level = inv.then(Mat3::scale(1.0 / level_scale));
        // The shadow offset in layer pixels, taken at the dial centre (exact for affine
        // placements, a fine approximation under perspective).
        let shadow_pass =
            scene
                .shadow
                .as_ref()
                .zip(shadow_off)
                .zip(shadow_mask)
                .map(|((s, off), mask)| {
                    let c = fwd.apply(Pt::new(f / 2.0, f / 2.0));
                    let moved = inv.apply(c.add(off));
                    augment::ShadowPass {
                        mask,
                        offset: ((moved.x - f / 2.0) as f32, (moved.y - f / 2.0) as f32),
                        opacity: (s.opacity.clamp(0.0, 1.0) * 256.0) as u32,
                        quad: quad_of(off),
                    }
                });
        augment::composite(
            &mut rgba,
            (ow, oh),
            &face_quad,
            &src,
            &inv_level,
            level_scale,
            shadow_pass.as_ref(),
        );
        let t_blur = std::time::Instant::now();
        augment::blur(&mut rgba, ow, oh, &scene.blur, &mut self.buffers);
        let t_tone = std::time::Instant::now();
        augment::tone(
            &mut rgba,
            ow,
            oh,
            &scene.lighting,
            &scene.noise,
            &mut self.buffers,
        );
        let t_end = std::time::Instant::now();
        self.stats.background_secs += background_secs;
        self.stats.composite_secs += (t_blur - t_comp).as_secs_f64();
        self.stats.blur_secs += (t_tone - t_blur).as_secs_f64();
        self.stats.tone_secs += (t_end - t_tone).as_secs_f64();
        let k = f / CANVAS;
        let truth = truth(
            face,
            time,
            &layout,
            &set,
            mask,
            |p| fwd.apply(p.scale(k)),
            ow,
            oh,
        );
        self.stats.augment_secs += t0.elapsed().as_secs_f64() + background_secs;
        Ok(RenderedClock {
            width: ow,
            height: oh,
            rgba,
            truth,
        })
    }

    /// Ensures the static layer is cached, copies it into the scratch pixmap and draws the
    /// hands on top.
    fn draw_face(
        &mut self,
        face: &FaceSpec,
        time: ClockTime,
        size: u32,
        mask: HandMask,
    ) -> Result<(Layout, HandSet, Arc<Layer>), RenderError> {
        let layout = Layout::new(face);
        let slot = self.layers.slot(&face.face_id(), size);
        let layer = {
            // Held while rasterising, so a second renderer asking for this layer waits for
            // it instead of drawing it again.
            let mut cell = slot.lock().unwrap_or_else(|e| e.into_inner());
            match cell.as_ref() {
                Some(layer) => {
                    self.stats.cache_hits += 1;
                    Arc::clone(layer)
                }
                None => {
                    let t0 = std::time::Instant::now();
                    let (base, parse, raster) = render_static(face, &layout, size)?;
                    self.stats.svg_parse_secs += parse;
                    self.stats.svg_raster_secs += raster;
                    let layer = Arc::new(Layer {
                        content: content_box(&base),
                        base,
                        shadow: OnceLock::new(),
                    });
                    *cell = Some(Arc::clone(&layer));
                    self.stats.face_layers_rendered += 1;
                    self.stats.face_layer_secs += t0.elapsed().as_secs_f64();
                    layer
                }
            }
        };

        let t0 = std::time::Instant::now();
        let base = &layer.base;
        let scratch = match self.scratch.take() {
            Some(mut p) if p.width() == size && p.height() == size => {
                p.data_mut().copy_from_slice(base.data());
                p
            }
            _ => base.clone(),
        };
        let mut scratch = scratch;
        let set = HandSet::new(face, &layout, time);
        let shapes = dynamic_shapes(face, &layout, &set, mask);
        let k = (f64::from(size) / CANVAS) as f32;
        let ts = Transform::from_scale(k, k);
        for s in &shapes {
            s.draw(&mut scratch, ts);
        }
        self.scratch = Some(scratch);
        self.stats.hands_secs += t0.elapsed().as_secs_f64();
        Ok((layout, set, layer))
    }
}

/// Bounding box of the non-transparent pixels, one pixel wider on each side.
fn content_box(p: &Pixmap) -> (f64, f64, f64, f64) {
    let (w, h) = (p.width() as usize, p.height() as usize);
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for (y, row) in p.data().chunks_exact(w * 4).enumerate() {
        let first = row.chunks_exact(4).position(|px| px[3] != 0);
        let last = row.chunks_exact(4).rposition(|px| px[3] != 0);
        if let (Some(first), Some(last)) = (first, last) {
            x0 = x0.min(first);
            x1 = x1.max(last + 1);
            y0 = y0.min(y);
            y1 = y1.max(y + 1);
        }
    }
    if x0 >= x1 || y0 >= y1 {
        return (0.0, 0.0, 0.0, 0.0);
    }
    (
        x0.saturating_sub(1) as f64,
        y0.saturating_sub(1) as f64,
        (x1 + 1).min(w) as f64,
        (y1 + 1).min(h) as f64,
    )
}

fn render_static(
    face: &FaceSpec,
    layout: &Layout,
    size: u32,
) -> Result<(Pixmap, f64, f64), RenderError> {
    let t0 = std::time::Instant::now();
    let doc = svg::static_layer(face, layout, size);
    let tree = usvg::Tree::from_str(&doc, fonts::options()).map_err(|e| RenderError::Svg {
        message: e.to_string(),
    })?;
    let t1 = std::time::Instant::now();
    let mut pixmap = Pixmap::new(size, size).ok_or(RenderError::InvalidSize { size })?;
    resvg::render(&tree, Transform::identity(), &mut pixmap.as_mut());
    let t2 = std::time::Instant::now();
    Ok((pixmap, (t1 - t0).as_secs_f64(), (t2 - t1).as_secs_f64()))
}

#[allow(clippy::too_many_arguments)]
fn truth(
    face: &FaceSpec,
    time: ClockTime,
    layout: &Layout,
    set: &HandSet,
    mask: HandMask,
    map: impl Fn(Pt) -> Pt,
    w: u32,
    h: u32,
) -> ClockTruth {
    let inside = |p: Pt| p.x >= 0.0 && p.y >= 0.0 && p.x < f64::from(w) && p.y < f64::from(h);
    let visible = |g: &crate::hands::HandGeom| {
        let mid = g.pivot.add(g.tip().sub(g.pivot).scale(0.6));
        inside(map(mid))
    };
    let f32s = |p: Pt| (p.x as f32, p.y as f32);
    let center = map(crate::layout::CENTER);
    let has_seconds = face.has_second_hand();
    ClockTruth {
        time,
        visibility: Visibility {
            hour: mask.hour && visible(&set.hour),
            minute: mask.minute && visible(&set.minute),
            second: mask.second && set.second.as_ref().is_some_and(visible),
        },
        shows_seconds: has_seconds,
        center: f32s(center),
        dial_box: dial_box(layout, &map),
        hour_tip: f32s(map(set.hour.tip())),
        minute_tip: f32s(map(set.minute.tip())),
        second_tip: set.second.map(|g| f32s(map(g.tip()))),
        second_pivot: set.second.map(|g| f32s(map(g.pivot))),
        hour_angle_deg: time.hour_angle_deg(),
        minute_angle_deg: time.minute_angle_deg(),
        second_angle_deg: set.second.map(|_| time.second_angle_deg()),
    }
}

/// Bounding box of the dial outline's image: 64 points along the ellipse, or along the
/// rectangle (corners included) of a rounded-rectangle dial, through `map`.
fn dial_box(layout: &Layout, map: &impl Fn(Pt) -> Pt) -> (f32, f32, f32, f32) {
    let (a, b) = (layout.a, layout.b);
    let on_outline = |i: u32| -> Pt {
        let t = f64::from(i) / 64.0 * std::f64::consts::TAU;
        let (s, c) = (libm::sin(t), libm::cos(t));
        let (dx, dy) = match layout.outline {
            crate::layout::Outline::Ellipse => (a * c, b * s),
            // The rectangle's edge in the direction of t: scale the direction to touch it.
            crate::layout::Outline::RoundRect { .. } => {
                let k = (c.abs() / a).max(s.abs() / b);
                (c / k, s / k)
            }
        };
        map(crate::layout::CENTER.add(Pt::new(dx, dy)))
    };
    let mut bbox = (
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    );
    // The 64 directions miss a rectangle's corners (but for a square's): add them.
    let corners = matches!(layout.outline, crate::layout::Outline::RoundRect { .. })
        .then(|| {
            [(a, b), (-a, b), (a, -b), (-a, -b)]
                .map(|(x, y)| map(crate::layout::CENTER.add(Pt::new(x, y))))
        })
        .into_iter()
        .flatten();
    for p in (0..64).map(on_outline).chain(corners) {
        bbox = (
            bbox.0.min(p.x),
            bbox.1.min(p.y),
            bbox.2.max(p.x),
            bbox.3.max(p.y),
        );
    }
    #[allow(clippy::cast_possible_truncation)]
    (bbox.0 as f32, bbox.1 as f32, bbox.2 as f32, bbox.3 as f32)
}

fn validate_face(face: &FaceSpec) -> Result<(), RenderError> {
    let bad = |reason: String| Err(RenderError::InvalidFace { reason });
    if usize::from(face.body) >= crate::BODY_COUNT {
        return bad(format!(
            "unknown body index `{}` (the catalogue has {})",
            face.body,
            crate::BODY_COUNT
        ));
    }
    let h = &face.hands;
    let in_range = |v: f32, lo: f32, hi: f32| v.is_finite() && v >= lo && v <= hi;
    if !in_range(h.hour_length, 0.05, 1.2) || !in_range(h.minute_length, 0.05, 1.2) {
        return bad("hand lengths must be in 0.05..=1.2".to_owned());
    }
    if !in_range(h.width, 0.1, 4.0) {
        return bad("hand width must be in 0.1..=4".to_owned());
    }
    if !in_range(face.dial.numeral_size, 0.01, 0.4) {
        return bad("numeral size must be in 0.01..=0.4".to_owned());
    }
    if face.dial.subdial_hand_angles.iter().any(|a| !a.is_finite()) {
        return bad("sub-dial hand angles must be finite".to_owned());
    }
    for text in [&face.dial.brand, &face.dial.subtitle]
        .into_iter()
        .flatten()
    {
        if text.chars().count() > 40 {
            return bad(format!("dial text `{text}` is longer than 40 characters"));
        }
    }
    if let Some(d) = &face.dial.date
        && !(1..=31).contains(&d.day)
    {
        return bad(format!("date day `{}` is not in 1..=31", d.day));
    }
    Ok(())
}

fn validate_scene(scene: &SceneSpec) -> Result<(), RenderError> {
    check_size(scene.size)?;
    let bad = |reason: String| Err(RenderError::InvalidScene { reason });
    let finite = [
        scene.watch_scale,
        scene.center.0,
        scene.center.1,
        scene.rotation_deg,
        scene.tilt_x_deg,
        scene.tilt_y_deg,
        scene.focal,
        scene.lighting.brightness,
        scene.lighting.contrast,
        scene.lighting.gamma,
        scene.lighting.vignette,
        scene.noise.sigma,
    ];
    if finite.iter().any(|v| !v.is_finite()) || scene.lighting.cast.iter().any(|v| !v.is_finite()) {
        return bad("all numbers must be finite".to_owned());
    }
    if !(0.05..=4.0).contains(&scene.watch_scale) {
        return bad(format!(
            "`watch_scale` {} is not in 0.05..=4",
            scene.watch_scale
        ));
    }
    if scene.tilt_x_deg.abs() > 70.0 || scene.tilt_y_deg.abs() > 70.0 {
        return bad("tilts must be within +-70 degrees".to_owned());
    }
    if scene.focal < 0.5 {
        return bad(format!("`focal` {} is below 0.5", scene.focal));
    }
    if let Some(c) = scene.crop
        && (c.width < MIN_SIZE
            || c.height < MIN_SIZE
            || u64::from(c.x) + u64::from(c.width) > u64::from(scene.size)
            || u64::from(c.y) + u64::from(c.height) > u64::from(scene.size))
    {
        return bad(format!(
            "crop {c:?} does not fit in the {0}x{0} scene (or is smaller than {MIN_SIZE} px)",
            scene.size
        ));
    }
    Ok(())
}

/// Dial angle of `tip - center` in image coordinates, degrees clockwise from up: a helper for
/// checking truth against pixels.
pub fn image_angle_deg(center: (f32, f32), tip: (f32, f32)) -> f64 {
    dial_angle_of(Pt::new(
        f64::from(tip.0) - f64::from(center.0),
        f64::from(tip.1) - f64::from(center.1),
    ))
}
