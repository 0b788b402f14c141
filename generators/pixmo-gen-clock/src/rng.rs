//! A small deterministic random number generator (SplitMix64) and integer hashes.
//!
//! Every random choice in this crate comes from an [`Rng`] seeded from the caller's seed and a
//! fixed domain tag, so the same seed always gives the same face, time and scene, on every
//! machine. There is no global RNG and nothing reads the wall clock.

/// SplitMix64: tiny, fast, statistically fine for procedural content, and trivially portable.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator for this seed.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// A generator for `seed` in a named domain, so that `FaceSpec::sample(7)` and
    /// `ClockTime::sample(7)` draw unrelated streams.
    pub fn with_domain(seed: u64, domain: &str) -> Rng {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for b in domain.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Rng::new(mix64(seed ^ mix64(h)))
    }

    /// A new independent generator derived from this one's next output and a stream number.
    pub fn fork(&mut self, stream: u64) -> Rng {
        let base = self.next_u64();
        Rng::new(mix64(base ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.state)
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, 1)` as `f32`.
    pub fn f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// Uniform integer in `lo..hi` (`lo` when the range is empty).
    pub fn range_u32(&mut self, lo: u32, hi: u32) -> u32 {
        if hi <= lo {
            return lo;
        }
        let span = u64::from(hi - lo);
        lo + ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as u32
    }

    /// Uniform integer index in `0..n` (`0` when `n == 0`).
    pub fn index(&mut self, n: usize) -> usize {
        self.range_u32(0, n as u32) as usize
    }

    /// Uniform in `[lo, hi)`.
    pub fn range_f64(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Uniform in `[lo, hi)` as `f32`.
    pub fn range_f32(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.f32()
    }

    /// `true` with probability `p`.
    pub fn bool(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// A uniformly chosen element. Panics on an empty slice (a bug in a catalogue).
    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// An index drawn with the given non-negative weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// A normal deviate (Box-Muller, `libm` so it is bit-identical everywhere).
    pub fn normal(&mut self, mean: f64, std: f64) -> f64 {
        let u1 = 1.0 - self.f64();
        let u2 = self.f64();
        let r = libm::sqrt(-2.0 * libm::log(u1));
        mean + std * r * libm::cos(std::f64::consts::TAU * u2)
    }
}

/// The SplitMix64 finaliser: a strong 64-bit integer mix.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A cheap 32-bit hash of a pixel position and a seed, for per-pixel noise.
#[inline]
pub fn hash2(x: u32, y: u32, seed: u32) -> u32 {
    let mut h = x.wrapping_mul(0x8da6_b343) ^ y.wrapping_mul(0xd816_3841) ^ seed;
    h ^= h >> 15;
    h = h.wrapping_mul(0x2c1b_3c6d);
    h ^= h >> 12;
    h = h.wrapping_mul(0x297a_2d39);
    h ^ (h >> 15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            let v = r.range_u32(3, 9);
            assert!((3..9).contains(&v));
            let f = r.f64();
            assert!((0.0..1.0).contains(&f));
        }
        assert_eq!(r.range_u32(5, 5), 5);
    }

    #[test]
    fn domains_are_independent() {
        let a = Rng::with_domain(7, "face").next_u64();
        let b = Rng::with_domain(7, "time").next_u64();
        assert_ne!(a, b);
    }
}
