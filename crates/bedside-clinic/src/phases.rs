//! Wall-clock timings of start-up's phases (reading the snapshot row, parsing it, restoring
//! each section, reading the journal tail, checking the chain), for the `clinic-startup`
//! evaluation and anyone asking where a slow start-up goes.
//!
//! Recording is off unless [`record`] was called, and then costs one clock read per phase,
//! not per command. Phases that run on other threads (the snapshot's sections are parsed and
//! restored on both cores) are recorded with their start, so overlaps show.
//!
//! ```
//! let recording = bedside_clinic::phases::record();
//! // … Clinic::open(…) …
//! for phase in recording.finish() {
//!     eprintln!("{:>8.3} s +{:.3} s {}", phase.start.as_secs_f64(), phase.duration.as_secs_f64(), phase.name);
//! }
//! ```

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One timed phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase {
    /// What ran (`snapshot row read`, `parse: vitals`, …).
    pub name: &'static str,
    /// When it started, after [`record`] was called.
    pub start: Duration,
    /// How long it took.
    pub duration: Duration,
}

static RECORDING: AtomicBool = AtomicBool::new(false);
static PHASES: Mutex<Option<(Instant, Vec<Phase>)>> = Mutex::new(None);

/// A recording in progress; [`Recording::finish`] (or dropping it) stops it.
#[derive(Debug)]
#[must_use = "the recording stops when this is dropped"]
pub struct Recording(());

/// Starts recording phases (process-wide), discarding any earlier recording.
pub fn record() -> Recording {
    if let Ok(mut phases) = PHASES.lock() {
        *phases = Some((Instant::now(), Vec::new()));
    }
    RECORDING.store(true, Ordering::Release);
    Recording(())
}

impl Recording {
    /// Stops recording and returns the phases timed since [`record`], by start.
    pub fn finish(self) -> Vec<Phase> {
        RECORDING.store(false, Ordering::Release);
        let mut phases = PHASES
            .lock()
            .ok()
            .and_then(|mut p| p.take())
            .map(|(_, phases)| phases)
            .unwrap_or_default();
        phases.sort_by_key(|p| p.start);
        phases
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        RECORDING.store(false, Ordering::Release);
    }
}

/// Runs `f`, recording it as phase `name` when a recording is on.
pub(crate) fn time<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
    if !RECORDING.load(Ordering::Acquire) {
        return f();
    }
    let started = Instant::now();
    let value = f();
    let duration = started.elapsed();
    if let Ok(mut phases) = PHASES.lock()
        && let Some((origin, phases)) = phases.as_mut()
    {
        phases.push(Phase {
            name,
            start: started.saturating_duration_since(*origin),
            duration,
        });
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_recorded_only_while_recording() {
        assert_eq!(time("before", || 1), 1);
        let recording = record();
        assert_eq!(time("inside", || 2), 2);
        let phases = recording.finish();
        assert_eq!(time("after", || 3), 3);
        assert!(phases.iter().any(|p| p.name == "inside"));
        assert!(
            phases
                .iter()
                .all(|p| p.name != "before" && p.name != "after")
        );
    }
}
