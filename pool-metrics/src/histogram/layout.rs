//! Log-linear bucket layout: which bucket a value falls in, and which values a bucket holds.
//!
//! Values below `2 * 2^bits` get one bucket each (exact). Above that, every power-of-two octave
//! `[2^k, 2^(k+1))` is cut into `2^bits` equal sub-buckets of width `2^(k - bits)`. A bucket
//! starting at `low >= 2^bits` is `low / 2^bits` wide, so reporting its midpoint is off by at
//! most half a width: a relative error of `2^-(bits + 1)`. With the default `bits = 9` that is
//! 1/1024 = 0.098 %, inside the 0.1 % target, at half the bucket count hdrhistogram needs for
//! "3 significant digits" (it reports a bucket's upper edge, so it needs twice the resolution).
//!
//! The index is computed with one `leading_zeros`, two shifts and an add: no float, no table.

/// The geometry of a histogram's buckets. Cheap to copy; two histograms can be merged only
/// when their layouts are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// log2 of the sub-buckets per octave.
    bits: u32,
    /// The largest value recorded as itself; larger values saturate to it.
    highest: u64,
    /// Number of buckets, `index(highest) + 1`.
    len: usize,
}

impl Layout {
    /// A layout with `2^bits` sub-buckets per octave, covering `0..=highest`.
    ///
    /// The caller (the builder) validates `1 <= bits <= 16` and `highest >= 1`.
    pub(crate) fn new(bits: u32, highest: u64) -> Self {
        let mut layout = Self { bits, highest, len: 0 };
        layout.len = layout.index(highest) + 1;
        layout
    }

    /// The sub-bucket bits needed so that a bucket midpoint is within `max_relative_error` of
    /// every value in the bucket: the smallest `bits` with `2^-(bits + 1) <= max_relative_error`.
    pub(crate) fn bits_for_error(max_relative_error: f64) -> u32 {
        let mut bits = 1;
        while bits < 16 && (-(f64::from(bits) + 1.0)).exp2() > max_relative_error {
            bits += 1;
        }
        bits
    }

    /// log2 of the sub-buckets per octave.
    pub(crate) fn bits(&self) -> u32 {
        self.bits
    }

    /// The largest value recorded as itself.
    pub(crate) fn highest(&self) -> u64 {
        self.highest
    }

    /// Number of buckets.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The guaranteed relative error of a reported quantile, `2^-(bits + 1)`.
    pub(crate) fn max_relative_error(&self) -> f64 {
        (-(f64::from(self.bits) + 1.0)).exp2()
    }

    /// The bucket of `value`, which must be `<= highest`.
    #[inline(always)]
    pub(crate) fn index(&self, value: u64) -> usize {
        // `| 1` keeps 0 out of `leading_zeros`' 64 case; 0 and 1 both land in bucket 0 and 1
        // respectively because the shift below is 0 for small values.
        let msb = 63 - (value | 1).leading_zeros();
        let shift = msb.saturating_sub(self.bits);
        ((shift as usize) << self.bits) + (value >> shift) as usize
    }

    /// The smallest value in bucket `index`.
    pub(crate) fn low(&self, index: usize) -> u64 {
        let (shift, sub) = self.split(index);
        sub << shift
    }

    /// The largest value in bucket `index` (clamped to `highest` for the last bucket).
    pub(crate) fn high(&self, index: usize) -> u64 {
        let (shift, sub) = self.split(index);
        (((sub + 1) << shift) - 1).min(self.highest)
    }

    /// The value reported for bucket `index`: its midpoint, rounded down.
    pub(crate) fn mid(&self, index: usize) -> u64 {
        let low = self.low(index);
        low + (self.high(index) - low).div_ceil(2)
    }

    fn split(&self, index: usize) -> (u32, u64) {
        let shift = ((index >> self.bits) as u32).saturating_sub(1);
        let sub = index as u64 - (u64::from(shift) << self.bits);
        (shift, sub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn default_precision_needs_nine_bits() {
        assert_eq!(Layout::bits_for_error(0.001), 9);
        assert_eq!(Layout::bits_for_error(0.5), 1);
        assert_eq!(Layout::bits_for_error(1e-9), 16);
    }

    #[test]
    fn small_values_are_exact() {
        let l = Layout::new(9, 3_600_000_000_000);
        for v in 0..1024 {
            assert_eq!(l.index(v), v as usize);
            assert_eq!(l.low(v as usize), v);
            assert_eq!(l.high(v as usize), v);
        }
    }

    #[test]
    fn one_hour_fits_in_17223_buckets() {
        // 17_223 u16 counters = 34.4 KB when every bucket is touched; pages are lazy.
        assert_eq!(Layout::new(9, 3_600_000_000_000).len(), 17_223);
    }

    #[test]
    fn buckets_are_contiguous() {
        let l = Layout::new(4, 1 << 20);
        for i in 0..l.len() - 1 {
            assert_eq!(l.high(i) + 1, l.low(i + 1), "gap after bucket {i}");
        }
        assert_eq!(l.high(l.len() - 1), 1 << 20);
    }

    proptest! {
        #[test]
        fn value_lies_in_its_bucket_and_midpoint_is_close(v in 0u64..=3_600_000_000_000) {
            let l = Layout::new(9, 3_600_000_000_000);
            let i = l.index(v);
            prop_assert!(i < l.len());
            prop_assert!(l.low(i) <= v && v <= l.high(i));
            let err = (l.mid(i) as f64 - v as f64).abs() / (v.max(1) as f64);
            prop_assert!(err <= l.max_relative_error(), "v={v} mid={} err={err}", l.mid(i));
        }
    }
}
