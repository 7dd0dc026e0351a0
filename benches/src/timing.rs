//! Small timing helpers used by the `eval` binary.

use std::time::{Duration, Instant};

/// Runs `f` and returns its result and the wall time it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// Operations per second for `count` operations in `elapsed`.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        count as f64 / secs
    } else {
        f64::INFINITY
    }
}

/// The `q`-quantile (0..=1) of `samples`, sorting them in place. Returns zero for no samples.
pub fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = ((samples.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    samples[rank.min(samples.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        let mut v: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(quantile(&mut v, 0.5), Duration::from_micros(51));
        assert_eq!(quantile(&mut v, 0.99), Duration::from_micros(99));
        assert_eq!(quantile(&mut [], 0.99), Duration::ZERO);
        assert_eq!(per_second(10, Duration::from_secs(2)), 5.0);
    }
}
