//! Bounded summaries of long series, so a chart costs the same memory for a thousand events as
//! for a hundred million, and reduces the same way whether it is fed by a run or by `plot`
//! reading the run's CSV files.

/// Most buckets a [`StepSeries`] keeps: about one per horizontal pixel of a chart.
const BUCKETS: usize = 1024;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Bucket {
    present: bool,
    min: u64,
    max: u64,
    last: u64,
}

impl Bucket {
    fn merge(self, later: Bucket) -> Bucket {
        match (self.present, later.present) {
            (true, true) => {
                Bucket { present: true, min: self.min.min(later.min), max: self.max.max(later.max), last: later.last }
            }
            (true, false) => self,
            _ => later,
        }
    }
}

/// A piecewise-constant value over time (a count of CVMs, of instances final, …), starting at 0,
/// kept as at most `BUCKETS` time buckets holding the lowest, highest and last value seen in
/// each. Buckets start one microsecond wide and double (merging pairs) whenever a change falls
/// past the last one: integer arithmetic only, so the same changes give the same buckets.
///
/// Changes must come in time order. Cost: O(1) per change, amortised.
#[derive(Clone, Debug)]
pub struct StepSeries {
    width: u64,
    buckets: Vec<Bucket>,
    current: u64,
}

impl Default for StepSeries {
    fn default() -> Self {
        StepSeries { width: 1, buckets: Vec::new(), current: 0 }
    }
}

impl StepSeries {
    /// The value becomes `value` at `time` (µs).
    pub fn set(&mut self, time: u64, value: u64) {
        let mut slot = time / self.width;
        while slot >= BUCKETS as u64 {
            self.coarsen();
            slot = time / self.width;
        }
        let slot = slot as usize;
        if self.buckets.len() <= slot {
            self.buckets.resize(slot + 1, Bucket::default());
        }
        let carried = self.current;
        let b = &mut self.buckets[slot];
        if !b.present {
            *b = Bucket { present: true, min: carried, max: carried, last: carried };
        }
        b.min = b.min.min(value);
        b.max = b.max.max(value);
        b.last = value;
        self.current = value;
    }

    fn coarsen(&mut self) {
        self.width *= 2;
        let merged =
            self.buckets.chunks(2).map(|pair| pair.iter().copied().fold(Bucket::default(), Bucket::merge)).collect();
        self.buckets = merged;
    }

    /// The value after the last change.
    pub fn last(&self) -> u64 {
        self.current
    }

    /// The highest value the series held.
    pub fn peak(&self) -> u64 {
        self.buckets.iter().filter(|b| b.present).map(|b| b.max).max().unwrap_or(0)
    }

    /// A polyline that draws the series up to `end` (µs): flat between buckets, and a vertical
    /// stroke over each bucket's range, so no peak is lost however coarse the buckets are.
    pub fn polyline(&self, end: u64) -> Vec<(u64, u64)> {
        let mut points = vec![(0, 0)];
        let mut previous = 0;
        for (i, b) in self.buckets.iter().enumerate().filter(|(_, b)| b.present) {
            let x = i as u64 * self.width;
            // Through the bucket's range in the direction that ends at its last value.
            let (first, second) = if b.last >= previous { (b.min, b.max) } else { (b.max, b.min) };
            points.extend([(x, previous), (x, first), (x, second), (x, b.last)]);
            previous = b.last;
        }
        let last_x = points.last().map_or(0, |p| p.0);
        points.push((end.max(last_x), previous));
        points.dedup();
        points
    }
}

/// The sorted union of two sorted lists.
pub fn merge_sorted(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Points of the empirical CDF of `sorted` values: (value, share of values ≤ value), at most
/// about `max_points` of them, evenly spaced in rank, always including the smallest and largest.
pub fn cdf_points(sorted: &[u64], max_points: usize) -> Vec<(u64, f64)> {
    let n = sorted.len();
    if n == 0 {
        return Vec::new();
    }
    let share = |rank: usize| (rank + 1) as f64 / n as f64;
    let ranks: Vec<usize> = if n <= max_points {
        (0..n).collect()
    } else {
        let steps = max_points.max(2) - 1;
        (0..=steps).map(|k| k * (n - 1) / steps).collect()
    };
    // A step CDF: the curve stays at the share below each value until the value is reached.
    let mut points = Vec::with_capacity(ranks.len() * 2 + 1);
    points.push((sorted[0], 0.0));
    let mut below = 0.0;
    for rank in ranks {
        let v = sorted[rank];
        points.push((v, below));
        below = share(rank);
        points.push((v, below));
    }
    points.dedup();
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_series_keeps_every_change() {
        let mut s = StepSeries::default();
        s.set(10, 3);
        s.set(20, 1);
        assert_eq!(s.polyline(30), vec![(0, 0), (10, 0), (10, 3), (20, 3), (20, 1), (30, 1)]);
        assert_eq!(s.peak(), 3);
        assert_eq!(s.last(), 1);
    }

    #[test]
    fn a_long_series_keeps_its_peak_and_final_value_in_bounded_buckets() {
        let mut s = StepSeries::default();
        for t in 0..1_000_000u64 {
            // A single spike to 500 at t = 123,457 among values 0..=9.
            s.set(t * 1000, if t == 123_457 { 500 } else { t % 10 });
        }
        assert!(s.buckets.len() <= BUCKETS);
        assert_eq!(s.peak(), 500);
        assert_eq!(s.last(), 999_999 % 10);
        let line = s.polyline(1_000_000_000);
        assert!(line.iter().any(|&(_, v)| v == 500));
        assert_eq!(line.last(), Some(&(1_000_000_000, 9)));
    }

    #[test]
    fn merging_keeps_order_and_duplicates() {
        assert_eq!(merge_sorted(&[1, 3, 3, 9], &[0, 3, 10]), vec![0, 1, 3, 3, 3, 9, 10]);
        assert_eq!(merge_sorted(&[], &[2]), vec![2]);
    }

    #[test]
    fn cdf_of_four_values() {
        let points = cdf_points(&[1, 2, 2, 4], 100);
        assert_eq!(points, vec![(1, 0.0), (1, 0.25), (2, 0.25), (2, 0.5), (2, 0.75), (4, 0.75), (4, 1.0)]);
    }

    #[test]
    fn a_long_cdf_is_thinned_but_spans_min_to_max() {
        let values: Vec<u64> = (0..100_000).collect();
        let points = cdf_points(&values, 500);
        assert!(points.len() <= 1001);
        assert_eq!(points.first(), Some(&(0, 0.0)));
        assert_eq!(points.last(), Some(&(99_999, 1.0)));
    }
}
