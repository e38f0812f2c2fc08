//! A lock-free log-linear latency histogram (microseconds, ~3% resolution), shared by
//! every client task: recording is one relaxed add, so thousands of tasks can feed it.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Sub-buckets per power of two (2^SUB_BITS): the relative error of a bucket.
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Values up to 2^40 µs (~12 days) have a bucket; larger ones land in the last.
const BUCKETS: usize = ((40 - SUB_BITS + 1) as usize) * SUB as usize;

pub struct Hist {
    buckets: Vec<AtomicU64>,
    max: AtomicU64,
}

/// A frozen copy of a histogram's counts.
#[derive(Clone)]
pub struct Counts {
    buckets: Vec<u64>,
    pub max: u64,
}

fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    let sub = (v >> (exp - SUB_BITS)) & (SUB - 1);
    (((exp - SUB_BITS + 1) as u64 * SUB + sub) as usize).min(BUCKETS - 1)
}

/// The upper edge of a bucket (a percentile is reported as at most this).
fn upper(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let exp = i / SUB + SUB_BITS as u64 - 1;
    let sub = i % SUB;
    ((SUB + sub + 1) << (exp - SUB_BITS as u64)) - 1
}

impl Hist {
    pub fn new() -> Self {
        Hist {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
        }
    }

    pub fn record(&self, micros: u64) {
        self.buckets[index(micros)].fetch_add(1, Relaxed);
        // A read first: the maximum rarely changes, and an RMW would bounce its line.
        if micros > self.max.load(Relaxed) {
            self.max.fetch_max(micros, Relaxed);
        }
    }

    /// Returns the counts so far and starts again from zero.
    pub fn take(&self) -> Counts {
        Counts {
            buckets: self.buckets.iter().map(|b| b.swap(0, Relaxed)).collect(),
            max: self.max.swap(0, Relaxed),
        }
    }
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// The value at quantile `q` (0..1) in microseconds, None when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(upper(i).min(self.max));
            }
        }
        Some(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_bound_their_values() {
        for v in [0u64, 1, 31, 32, 33, 63, 64, 100, 1000, 12_345, 1 << 30] {
            let i = index(v);
            assert!(upper(i) >= v, "{v}");
            assert!(i == 0 || upper(i - 1) < v, "{v}");
        }
    }
}
