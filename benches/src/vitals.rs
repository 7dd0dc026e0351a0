//! Workload for the `bedside-vitals` throughput eval and criterion bench: NDJSON readings in
//! the crate's schema, and a bare serde baseline over the same bytes.

use bedside_core::{PatientId, SeededRng};
use serde::Deserialize;

/// A generated NDJSON workload.
pub struct VitalsWorkload {
    /// The registered patients.
    pub patients: Vec<PatientId>,
    /// The NDJSON bytes.
    pub ndjson: Vec<u8>,
    /// Lines in `ndjson`.
    pub lines: usize,
    /// Lines deliberately malformed.
    pub malformed: usize,
    /// Lines that repeat an earlier line.
    pub duplicates: usize,
}

const START_MS: i64 = 1_772_323_200_000; // 2026-03-01T00:00:00Z

fn uuid_text(rng: &mut SeededRng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    // UUID v7-shaped text (version 7, RFC 4122 variant).
    format!(
        "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48 & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

fn stamp(ms: i64, offset_minutes: i64) -> String {
    let local = ms + offset_minutes * 60_000;
    let dt = chrono::DateTime::from_timestamp_millis(local).unwrap_or_default();
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let o = offset_minutes.abs();
    format!(
        "{}{sign}{:02}:{:02}",
        dt.format("%Y-%m-%dT%H:%M:%S"),
        o / 60,
        o % 60
    )
}

/// Generates `readings` lines for `patients` patients over `days` days: a mix of every
/// kind, 1% malformed lines and 1% exact repeats of the previous line.
pub fn generate(readings: usize, patients: usize, days: i64, seed: u64) -> VitalsWorkload {
    let mut rng = SeededRng::new(seed);
    let ids: Vec<String> = (0..patients).map(|_| uuid_text(&mut rng)).collect();
    let devices: Vec<String> = (0..patients).map(|_| uuid_text(&mut rng)).collect();
    let offsets: Vec<i64> = (0..patients)
        .map(|i| [0, 60, -300, -480, 330][i % 5])
        .collect();
    let parsed: Vec<PatientId> = ids.iter().filter_map(|s| s.parse().ok()).collect();
    let span_ms = days * 86_400_000;
    let mut out = Vec::with_capacity(readings * 200);
    let (mut malformed, mut duplicates) = (0, 0);
    let mut last = String::new();
    for i in 0..readings {
        let roll = rng.below(100);
        if roll == 0 && !last.is_empty() {
            out.extend_from_slice(last.as_bytes());
            duplicates += 1;
            continue;
        }
        if roll == 1 {
            out.extend_from_slice(
                b"{\"patient\":\"truncated\",\"kind\":\"heart_rate\",\"value\":7\n",
            );
            malformed += 1;
            continue;
        }
        let p = rng.index(patients);
        // Time advances through the span so arrival is roughly in order, with jitter.
        let base = span_ms * i as i64 / readings as i64;
        let at = START_MS + (base + rng.below(600_000) as i64).min(span_ms - 1);
        let ts = stamp(at, offsets[p]);
        let source = if rng.chance(0.8) {
            format!("device:{}", devices[p])
        } else {
            "app:companion".to_owned()
        };
        let line = match rng.below(8) {
            0 | 1 => format!(
                "{{\"patient\":\"{}\",\"kind\":\"blood_pressure\",\"at\":\"{ts}\",\"systolic\":{},\"diastolic\":{},\"unit\":\"mm[Hg]\",\"source\":\"{source}\",\"position\":\"sitting\"}}\n",
                ids[p],
                100 + rng.below(90),
                60 + rng.below(35)
            ),
            2 | 3 => format!(
                "{{\"patient\":\"{}\",\"kind\":\"heart_rate\",\"at\":\"{ts}\",\"value\":{},\"unit\":\"/min\",\"source\":\"{source}\"}}\n",
                ids[p],
                50 + rng.below(80)
            ),
            4 => format!(
                "{{\"patient\":\"{}\",\"kind\":\"oxygen_saturation\",\"at\":\"{ts}\",\"value\":{},\"unit\":\"%\",\"source\":\"{source}\",\"on_oxygen\":false}}\n",
                ids[p],
                88 + rng.below(12)
            ),
            5 => format!(
                "{{\"patient\":\"{}\",\"kind\":\"body_weight\",\"at\":\"{ts}\",\"value\":{}.{},\"unit\":\"[lb_av]\",\"source\":\"{source}\"}}\n",
                ids[p],
                120 + rng.below(120),
                rng.below(10)
            ),
            6 => format!(
                "{{\"patient\":\"{}\",\"kind\":\"body_temperature\",\"at\":\"{ts}\",\"value\":{}.{},\"unit\":\"Cel\",\"source\":\"{source}\",\"site\":\"oral\"}}\n",
                ids[p],
                36 + rng.below(3),
                rng.below(10)
            ),
            _ => format!(
                "{{\"patient\":\"{}\",\"kind\":\"blood_glucose\",\"at\":\"{ts}\",\"value\":{},\"unit\":\"mg/dL\",\"source\":\"{source}\",\"meal\":\"fasting\"}}\n",
                ids[p],
                70 + rng.below(150)
            ),
        };
        out.extend_from_slice(line.as_bytes());
        last = line;
    }
    VitalsWorkload {
        patients: parsed,
        ndjson: out,
        lines: readings,
        malformed,
        duplicates,
    }
}

/// The plain struct the serde baseline parses each line into.
#[derive(Debug, Deserialize)]
pub struct PlainReading<'a> {
    /// Patient id text.
    pub patient: &'a str,
    /// Kind name.
    pub kind: &'a str,
    /// Timestamp text.
    pub at: &'a str,
    /// Single value.
    pub value: Option<f64>,
    /// Systolic.
    pub systolic: Option<f64>,
    /// Diastolic.
    pub diastolic: Option<f64>,
    /// Unit text.
    pub unit: &'a str,
    /// Source text.
    pub source: &'a str,
}

/// Parses every line with `serde_json` into [`PlainReading`]; returns how many parsed.
pub fn serde_baseline(ndjson: &[u8]) -> usize {
    ndjson
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter(|l| serde_json::from_slice::<PlainReading<'_>>(l).is_ok())
        .count()
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (Linux; nanosecond
/// precision). `None` elsewhere. On a shared machine wall time includes waiting for a core,
/// so per-core throughput is measured in CPU time.
pub fn thread_cpu_time() -> Option<std::time::Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(std::time::Duration::from_nanos(ns))
}

/// Runs `f` and returns its result, wall time and CPU time (CPU time falls back to wall).
pub fn timed_cpu<T>(f: impl FnOnce() -> T) -> (T, std::time::Duration, std::time::Duration) {
    let cpu0 = thread_cpu_time();
    let wall0 = std::time::Instant::now();
    let out = f();
    let wall = wall0.elapsed();
    let cpu = match (cpu0, thread_cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => wall,
    };
    (out, wall, cpu)
}

/// The same plain struct with owned strings, as a typical application would write it.
#[derive(Debug, Deserialize)]
pub struct OwnedPlainReading {
    /// Patient id text.
    pub patient: String,
    /// Kind name.
    pub kind: String,
    /// Timestamp text.
    pub at: String,
    /// Single value.
    pub value: Option<f64>,
    /// Systolic.
    pub systolic: Option<f64>,
    /// Diastolic.
    pub diastolic: Option<f64>,
    /// Unit text.
    pub unit: String,
    /// Source text.
    pub source: String,
}

/// Parses every line with `serde_json` into [`OwnedPlainReading`]; returns how many parsed.
pub fn serde_owned_baseline(ndjson: &[u8]) -> usize {
    ndjson
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter(|l| serde_json::from_slice::<OwnedPlainReading>(l).is_ok())
        .count()
}
