//! Pixel helpers shared by the tests.

use pixmo_gen_clock::RenderedClock;

/// Pixels where two renders differ, with the size of the difference (sum over RGBA).
pub fn diff(a: &RenderedClock, b: &RenderedClock) -> Vec<(f64, f64, f64)> {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let mut out = Vec::new();
    for (i, (pa, pb)) in a
        .rgba
        .chunks_exact(4)
        .zip(b.rgba.chunks_exact(4))
        .enumerate()
    {
        let d: u32 = pa
            .iter()
            .zip(pb)
            .map(|(x, y)| u32::from(x.abs_diff(*y)))
            .sum();
        if d > 24 {
            let x = (i as u32 % a.width) as f64 + 0.5;
            let y = (i as u32 / a.width) as f64 + 0.5;
            out.push((x, y, f64::from(d)));
        }
    }
    out
}

/// Dial-style angle (degrees clockwise from up) of the mean direction of the changed pixels
/// lying between `r0` and `r1` pixels from `pivot`, and how many pixels were used. Every
/// changed pixel counts the same, so two-tone hands (dauphine facets) do not pull the angle
/// towards their darker half.
pub fn hand_angle(
    changed: &[(f64, f64, f64)],
    pivot: (f32, f32),
    r0: f64,
    r1: f64,
) -> Option<(f64, usize)> {
    let (px, py) = (f64::from(pivot.0), f64::from(pivot.1));
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0);
    for &(x, y, _) in changed {
        let (dx, dy) = (x - px, y - py);
        let r = (dx * dx + dy * dy).sqrt();
        if r < r0 || r > r1 {
            continue;
        }
        sx += dx / r;
        sy += dy / r;
        n += 1;
    }
    if n == 0 {
        return None;
    }
    let a = libm::atan2(sx, -sy).to_degrees();
    Some((if a < 0.0 { a + 360.0 } else { a }, n))
}

/// Smallest absolute difference between two angles in degrees.
pub fn angle_diff(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

pub fn dist(a: (f32, f32), b: (f32, f32)) -> f64 {
    let (dx, dy) = (f64::from(a.0 - b.0), f64::from(a.1 - b.1));
    (dx * dx + dy * dy).sqrt()
}
