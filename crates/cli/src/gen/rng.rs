//! Portable random draws.
//!
//! Only integer draws taken straight from ChaCha8's output words: no floats, no
//! `rand` distributions. ChaCha8 and `seed_from_u64` are specified bit for bit, so a
//! seed produces the same bytes on every platform and with every `rand` release.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng as _, SeedableRng};

/// The generator's only source of randomness.
pub struct Rng(ChaCha8Rng);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Uniform in `0..n`; 0 when `n` is 0.
    ///
    /// Lemire's multiply-shift without the rejection step: the bias is below
    /// `n / 2^64`, far under anything a test of this stream could see.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.0.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`; `lo` when `hi < lo`.
    #[inline]
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let width = (i128::from(hi) - i128::from(lo) + 1) as u64;
        (i128::from(lo) + i128::from(self.below(width))) as i64
    }

    /// True with probability `num / den`.
    #[inline]
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// A uniform index into a slice of length `len` (0 when empty).
    #[inline]
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_draws_and_ranges_hold() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..1000 {
            assert_eq!(a.below(1_000_000), b.below(1_000_000));
            let x = a.range(-5, 5);
            assert!((-5..=5).contains(&x));
            assert_eq!(x, b.range(-5, 5));
        }
        assert_eq!(a.range(3, 3), 3);
        assert_eq!(a.range(3, 1), 3);
        assert_eq!(a.below(0), 0);
        let full = a.range(i64::MIN, i64::MAX);
        let _ = full;
        let mut c = Rng::new(8);
        let same = (0..32)
            .filter(|_| a.below(1 << 40) == c.below(1 << 40))
            .count();
        assert!(same < 2, "different seeds must give different streams");
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut r = Rng::new(1);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[r.index(10)] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }
}
