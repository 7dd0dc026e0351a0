//! [`VitalsStore`]: compact per-patient, per-kind time series, the admission pipeline every
//! parser feeds (validate, normalise, dedup, store, threshold rules) and the queries.

mod batch;
mod snapshot;
mod stats;

pub use batch::{
    Batch, BatchReport, DEFAULT_MAX_RESOURCE_BYTES, IngestConfig, Outcome, Rejection, ThresholdHit,
};
pub use snapshot::{AliasSnapshot, Packed, SNAPSHOT_VERSION, VitalsSnapshot};
pub use stats::{DailyAggregate, Trend};

use crate::error::{RejectReason, VitalsError};
use crate::kind::{DIASTOLIC_RANGE_MM_HG, ReadingContext, VitalKind};
use crate::reading::{EffectivePrecision, Position, Reading, ReadingValue, Source};
use crate::timefmt::{self, Stamp};
use crate::unit::Unit;
use bedside_core::{PatientId, Period, Sensitive, Timestamp};
use chrono::{NaiveDate, TimeDelta, TimeZone};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast, deterministic hasher for the store's in-memory indexes (keys are ids and
/// source keys made by the store's own users, not attacker-chosen at scale; FxHash-style
/// multiply-rotate mixing).
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// The source number of a device, interning it on first sight (a free function so it can
/// run while a patient's entry is borrowed from the store).
fn intern_device(
    sources: &mut Vec<Source>,
    device_index: &mut FastMap<u128, u32>,
    device: u128,
) -> u32 {
    if let Some(&i) = device_index.get(&device) {
        return i;
    }
    let i = u32::try_from(sources.len()).unwrap_or(u32::MAX);
    sources.push(Source::Device {
        id: bedside_core::DeviceId::from_uuid(uuid::Uuid::from_u128(device)),
        model: None,
    });
    device_index.insert(device, i);
    i
}

/// The least a full series grows by, in readings.
const SERIES_MIN_GROWTH: usize = 16;

/// One stored reading, 48 bytes. Values are canonical `f64`s so normalisation stays exact;
/// the patient and kind are implied by the series that holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stored {
    pub utc_ms: i64,
    pub v0: f64,
    /// Diastolic pressure, or NaN for single-valued kinds.
    pub v1: f64,
    /// Mean arterial pressure, or NaN. (`v0` is NaN for a partial blood pressure without
    /// systolic, `v1` for one without diastolic.)
    pub mean: f64,
    pub source: u32,
    pub batch: u32,
    pub record: u32,
    pub offset_minutes: i16,
    pub context: u8,
    pub unit: u8,
}

struct PatientEntry {
    zone: Tz,
    series: [Vec<Stored>; VitalKind::COUNT],
    /// The newest instant in each series (`i64::MIN` when empty), kept beside the vectors so
    /// an in-order reading is checked for duplicates without reading the series' memory.
    newest_ms: [i64; VitalKind::COUNT],
    /// The device last seen for this patient and its source number: most patients use one
    /// device, so the device index is skipped on the hot path.
    last_device: Option<(u128, u32)>,
}

/// The admission input every parser builds: raw values in the unit they arrived in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub patient: PatientId,
    pub kind: VitalKind,
    pub v0: f64,
    pub v1: Option<f64>,
    pub mean: Option<f64>,
    pub unit: Unit,
    /// The unit to record as "arrived in" (normally `unit`).
    pub original_unit: Unit,
    pub stamp: Stamp,
    /// The interned source, or [`DEFERRED_SOURCE`] when `device` names a device source to
    /// be resolved at admission (where the patient's entry is at hand).
    pub source: u32,
    /// The device UUID of a deferred device source.
    pub device: u128,
    pub context: ReadingContext,
    /// Which blood-pressure value the source says is absent (only FHIR says so, with a
    /// component's `dataAbsentReason`); the absent value's slot is ignored.
    pub partial: Partial,
}

/// Which value of a blood-pressure candidate is explicitly absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Partial {
    /// Every value the kind needs is present (or missing ones are an error).
    Whole,
    /// Systolic is absent: only diastolic (and mean) are stored.
    SystolicAbsent,
    /// Diastolic is absent: only systolic (and mean) are stored.
    DiastolicAbsent,
}

/// [`Candidate::source`] value meaning "device source in [`Candidate::device`]".
pub(crate) const DEFERRED_SOURCE: u32 = u32::MAX;

/// Per-patient, per-kind ordered readings with de-duplication.
///
/// Patients must be registered ([`VitalsStore::register_patient`]) before their readings are
/// accepted; the registration carries the patient's time zone, used for daily aggregates.
/// Persist it with [`VitalsStore::snapshot`] / [`VitalsStore::restore`].
///
/// From readings to a NEWS2 alert a nurse acknowledges:
///
/// ```
/// use bedside_core::{Actor, PatientId, Period};
/// use bedside_vitals::{AlertBook, AlertSeverity, Batch, CarePlan, Response, VitalsStore, alert, ndjson};
///
/// let patient: PatientId = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f".parse()?;
/// let mut store = VitalsStore::default();
/// store.register_patient(patient, chrono_tz::Europe::London);
///
/// // One set of observations within NEWS2's 60-minute window.
/// let line = |kind: &str, at: &str, rest: &str| {
///     format!(r#"{{"patient":"{patient}","kind":"{kind}","at":"{at}","source":"manual",{rest}}}"#)
/// };
/// let input = [
///     line("respiratory_rate", "2026-03-01T08:00:00Z", r#""value":25,"unit":"/min""#),
///     line("heart_rate", "2026-03-01T08:01:00Z", r#""value":112,"unit":"/min""#),
///     line("body_temperature", "2026-03-01T08:02:00Z", r#""value":38.4,"unit":"Cel""#),
/// ]
/// .join("\n");
/// let at = "2026-03-01T09:00:00Z".parse()?;
/// let report = ndjson::ingest(&mut store, input.as_bytes(), &Batch::new("home", &Actor::Patient { patient }, at))?;
/// assert_eq!(report.accepted, 3);
///
/// // RR 25 scores 3, pulse 112 scores 2, 38.4 °C scores 1: NEWS2 6 ("medium", urgent review).
/// let period = Period::new("2026-03-01T00:00:00Z".parse()?, at)?;
/// let alerts = alert::evaluate(&store, patient, &CarePlan::default(), &period);
/// let news2 = alerts.iter().find(|a| a.rule == "news2").ok_or("no NEWS2 alert")?;
/// assert_eq!((news2.severity, news2.response), (AlertSeverity::High, Response::Urgent));
/// assert_eq!(news2.message, "NEWS2 6 medium, red score (partial: 3 of 7 parameters)");
///
/// let mut book = AlertBook::new();
/// book.merge(alerts.clone());
/// let nurse = Actor::system("nurse-station"); // a staff actor in a real deployment
/// book.acknowledge(news2.id, &nurse, at)?;
/// assert!(book.open().iter().all(|r| r.alert.id != news2.id));
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct VitalsStore {
    config: IngestConfig,
    /// Entries live inline in the map so admission costs one lookup, not two.
    patients: FastMap<PatientId, PatientEntry>,
    order: Vec<PatientId>,
    aliases: HashMap<Sensitive<String>, PatientId>,
    sources: Vec<Source>,
    /// Device sources by UUID (no string hashing or heap key comparison on the hot path).
    device_index: FastMap<u128, u32>,
    source_index: FastMap<String, u32>,
    batches: Vec<Batch>,
    stored: u64,
}

impl std::fmt::Debug for VitalsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VitalsStore")
            .field("patients", &self.patients.len())
            .field("readings", &self.stored)
            .field("batches", &self.batches.len())
            .finish_non_exhaustive()
    }
}

impl Default for VitalsStore {
    fn default() -> Self {
        Self::new(IngestConfig::default())
    }
}

impl VitalsStore {
    /// An empty store with the given settings.
    pub fn new(config: IngestConfig) -> Self {
        Self {
            config,
            patients: FastMap::default(),
            order: Vec::new(),
            aliases: HashMap::new(),
            sources: Vec::new(),
            device_index: FastMap::default(),
            source_index: FastMap::default(),
            batches: Vec::new(),
            stored: 0,
        }
    }

    /// The settings.
    pub fn config(&self) -> &IngestConfig {
        &self.config
    }

    /// Registers a patient and their time zone (re-registering updates the zone).
    pub fn register_patient(&mut self, patient: PatientId, zone: Tz) {
        if let Some(e) = self.patients.get_mut(&patient) {
            e.zone = zone;
            return;
        }
        self.patients.insert(
            patient,
            PatientEntry {
                zone,
                series: Default::default(),
                newest_ms: [i64::MIN; VitalKind::COUNT],
                last_device: None,
            },
        );
        self.order.push(patient);
    }

    /// Maps an external reference (a FHIR `Patient/…` or `urn:uuid:…` reference, an Open
    /// mHealth user id) to a registered patient.
    pub fn register_alias(&mut self, reference: impl Into<String>, patient: PatientId) {
        self.aliases
            .insert(Sensitive::new(reference.into()), patient);
    }

    /// Resolves an external reference: a registered alias, or a reference whose last path
    /// segment (or `urn:uuid:` suffix) is a registered patient's id.
    pub fn resolve_reference(&self, reference: &str) -> Option<PatientId> {
        if let Some(p) = self.aliases.get(&Sensitive::new(reference.to_owned())) {
            return Some(*p);
        }
        let tail = reference
            .strip_prefix("urn:uuid:")
            .or_else(|| reference.rsplit('/').next())?;
        let id: PatientId = tail.parse().ok()?;
        self.patients.contains_key(&id).then_some(id)
    }

    /// Whether a patient is registered.
    pub fn knows(&self, patient: PatientId) -> bool {
        self.patients.contains_key(&patient)
    }

    /// The registered patients, in registration order.
    pub fn patients(&self) -> impl Iterator<Item = PatientId> + '_ {
        self.order.iter().copied()
    }

    /// A patient's time zone.
    pub fn zone(&self, patient: PatientId) -> Option<Tz> {
        self.entry(patient).map(|e| e.zone)
    }

    /// Starts a batch (a file, an upload) and returns its number for [`Position`]s; the store
    /// keeps who sent it and when. The parsers' `ingest` functions call this themselves; call
    /// it directly only to feed [`VitalsStore::ingest_reading`].
    pub fn open_batch(&mut self, batch: &Batch) -> u32 {
        self.batches.push(batch.clone());
        u32::try_from(self.batches.len() - 1).unwrap_or(u32::MAX)
    }

    /// A batch by number: its label, who sent it and when it was taken in.
    pub fn batch(&self, batch: u32) -> Option<&Batch> {
        self.batches.get(batch as usize)
    }

    /// The label of a batch.
    pub fn batch_label(&self, batch: u32) -> Option<&Sensitive<String>> {
        self.batch(batch).map(|b| &b.label)
    }

    /// Interns a source and returns its number.
    pub(crate) fn intern_source(&mut self, source: Source) -> u32 {
        let device = match &source {
            Source::Device { id, .. } => Some(id.as_uuid().as_u128()),
            _ => None,
        };
        let key = source.key();
        let found = match device {
            Some(d) => self.device_index.get(&d),
            None => self.source_index.get(&key),
        };
        if let Some(&i) = found {
            return i;
        }
        let i = u32::try_from(self.sources.len()).unwrap_or(u32::MAX);
        self.sources.push(source);
        match device {
            Some(d) => self.device_index.insert(d, i),
            None => self.source_index.insert(key, i),
        };
        i
    }

    /// Interns a source given in the schema's text form; `None` when the text is malformed.
    pub(crate) fn intern_source_text(
        &mut self,
        text: &str,
        model: Option<&str>,
    ) -> Option<(u32, u128)> {
        if let (Some(id), None) = (text.strip_prefix("device:"), model) {
            // Resolved at admission: most patients use one device, cached in their entry.
            let device = uuid::Uuid::try_parse(id).ok()?.as_u128();
            return Some((DEFERRED_SOURCE, device));
        }
        if let Some(&i) = self.source_index.get(text) {
            return Some((i, 0));
        }
        let mut source = Source::parse(text)?;
        if let (Source::Device { model: m, .. }, Some(model)) = (&mut source, model) {
            *m = Some(model.to_owned());
        }
        Some((self.intern_source(source), 0))
    }

    /// Reads the entries a batch of candidates will touch, so their cache misses overlap
    /// (independent loads) instead of stalling admission one by one. Returns a value only
    /// so the loads are not optimised away.
    pub(crate) fn warm(&self, batch: &[(Candidate, Position)]) -> i64 {
        let mut acc = 0i64;
        for (c, _) in batch {
            if let Some(e) = self.patients.get(&c.patient) {
                let k = c.kind.index();
                let series = &e.series[k];
                acc ^= e.newest_ms[k] ^ series.last().map_or(0, |s| s.utc_ms);
            }
        }
        acc
    }

    /// Total readings stored.
    pub fn len(&self) -> u64 {
        self.stored
    }

    /// Whether no reading is stored.
    pub fn is_empty(&self) -> bool {
        self.stored == 0
    }

    /// Bytes of heap the store holds for its readings and indexes (capacity, not length),
    /// estimated from the sizes of the collections' elements.
    pub fn heap_bytes(&self) -> usize {
        let series: usize = self
            .patients
            .values()
            .flat_map(|p| p.series.iter())
            .map(|s| s.capacity() * std::mem::size_of::<Stored>())
            .sum();
        // A hashbrown slot holds the entry plus one control byte.
        let patients =
            self.patients.capacity() * (std::mem::size_of::<(PatientId, PatientEntry)>() + 1);
        let index = self.order.capacity() * std::mem::size_of::<PatientId>()
            + self.device_index.capacity() * (std::mem::size_of::<(u128, u32)>() + 1);
        let sources: usize = self.sources.capacity() * std::mem::size_of::<Source>()
            + self
                .source_index
                .keys()
                .map(|k| k.capacity() + std::mem::size_of::<(String, u32)>() + 1)
                .sum::<usize>();
        series + patients + index + sources
    }

    /// Releases spare capacity in every series (after a bulk load).
    pub fn shrink_to_fit(&mut self) {
        for p in self.patients.values_mut() {
            for s in &mut p.series {
                s.shrink_to_fit();
            }
        }
    }

    fn entry(&self, patient: PatientId) -> Option<&PatientEntry> {
        self.patients.get(&patient)
    }

    /// Validates, normalises, de-duplicates and stores one candidate; evaluates threshold
    /// rules on acceptance. `now_ms` is the batch's "now" for the future-timestamp check.
    pub(crate) fn admit(
        &mut self,
        c: &Candidate,
        position: Position,
        now_ms: i64,
        report: &mut BatchReport,
    ) -> Outcome {
        let outcome = self.admit_inner(c, position, now_ms, report);
        report.record(position, outcome);
        outcome
    }

    // Not split: the admission hot path (one entry lookup serves source, dedup and insert).
    fn admit_inner(
        &mut self,
        c: &Candidate,
        position: Position,
        now_ms: i64,
        report: &mut BatchReport,
    ) -> Outcome {
        let reject = |reason| Outcome::Rejected { reason };
        let units = self.config.units;
        let (lo, hi) = c.kind.plausible_range();
        let v0 = if c.partial == Partial::SystolicAbsent {
            f64::NAN
        } else {
            let Some(v0) = units.to_canonical(c.kind, c.v0, c.unit) else {
                return reject(RejectReason::UnknownUnit);
            };
            if !(v0.is_finite() && v0 >= lo && v0 <= hi) {
                return reject(RejectReason::Implausible);
            }
            v0
        };
        let mut v1 = f64::NAN;
        let mut mean = f64::NAN;
        if c.kind == VitalKind::BloodPressure {
            if c.partial != Partial::DiastolicAbsent {
                let Some(d) = c.v1.and_then(|d| units.to_canonical(c.kind, d, c.unit)) else {
                    return reject(RejectReason::MissingField(crate::error::Field::Diastolic));
                };
                let (dlo, dhi) = DIASTOLIC_RANGE_MM_HG;
                // NaN systolic (partial) compares false, so only a present one bounds `d`.
                if !(d.is_finite() && d >= dlo && d <= dhi) || d >= v0 {
                    return reject(RejectReason::Implausible);
                }
                v1 = d;
            }
            if let Some(m) = c.mean.and_then(|m| units.to_canonical(c.kind, m, c.unit)) {
                if !m.is_finite() || m < v1 || m > v0 {
                    return reject(RejectReason::Implausible);
                }
                mean = m;
            }
        }
        if c.stamp.utc_ms > now_ms.saturating_add(self.config.future_skew_ms) {
            return reject(RejectReason::FutureTimestamp);
        }
        let tolerance = self.config.duplicate_tolerance_ms;
        // One lookup of the patient's entry serves the source, duplicate check and insert.
        let Some(entry) = self.patients.get_mut(&c.patient) else {
            return reject(RejectReason::UnknownPatient);
        };
        let source = if c.source == DEFERRED_SOURCE {
            match entry.last_device {
                Some((d, i)) if d == c.device => i,
                _ => {
                    let i = intern_device(&mut self.sources, &mut self.device_index, c.device);
                    entry.last_device = Some((c.device, i));
                    i
                }
            }
        } else {
            c.source
        };
        let k = c.kind.index();
        let newest = entry.newest_ms[k];
        let series = &mut entry.series[k];
        let t = c.stamp.utc_ms;
        // Readings usually arrive in order and far apart: then nothing stored can be within
        // the tolerance, and the reading is appended without reading the series.
        let at = if newest == i64::MIN || t.saturating_sub(newest) > tolerance {
            series.len()
        } else {
            let at = if newest <= t {
                series.len()
            } else {
                series.partition_point(|s| s.utc_ms <= t)
            };
            let back = series[..at]
                .iter()
                .rev()
                .take_while(|s| t - s.utc_ms <= tolerance);
            let fwd = series[at..]
                .iter()
                .take_while(|s| s.utc_ms - t <= tolerance);
            if back.chain(fwd).any(|s| s.source == source) {
                return Outcome::Duplicate;
            }
            at
        };
        if t > newest {
            entry.newest_ms[k] = t;
        }
        let stored = Stored {
            utc_ms: t,
            v0,
            v1,
            mean,
            source,
            batch: position.batch,
            record: position.record,
            offset_minutes: c.stamp.offset_minutes,
            context: c.context.pack(),
            unit: c.original_unit.code(),
        };
        if series.len() == series.capacity() {
            // Grow in bigger steps than a small vector's default: fewer reallocations, each of
            // which copies the series (shrink_to_fit returns the slack after a bulk load).
            series.reserve(series.len().max(SERIES_MIN_GROWTH));
        }
        series.insert(at, stored);
        self.stored += 1;
        for (i, rule) in self.config.thresholds.iter().enumerate() {
            if rule.kind == c.kind && rule.fires(v0, v1) {
                report.threshold_hits.push(ThresholdHit {
                    patient: c.patient,
                    kind: c.kind,
                    at_ms: t,
                    rule: i,
                    position,
                });
            }
        }
        Outcome::Accepted
    }

    /// Admits an already-built reading (its values in `original_unit`'s canonical form are
    /// taken as given) as part of the batch `report.batch` (from [`VitalsStore::open_batch`],
    /// which records who sent it), taken in at `at`, and records the outcome in `report`.
    pub fn ingest_reading(
        &mut self,
        reading: &Reading,
        at: Timestamp,
        report: &mut BatchReport,
    ) -> Outcome {
        let source = self.intern_source(reading.source.clone());
        let (v0, v1, mean, partial) = match reading.value {
            ReadingValue::Single { value } => (value, None, None, Partial::Whole),
            ReadingValue::BloodPressure {
                systolic,
                diastolic,
                mean,
            } => match (systolic, diastolic) {
                (Some(s), Some(d)) => (s, Some(d), mean, Partial::Whole),
                (Some(s), None) => (s, None, mean, Partial::DiastolicAbsent),
                (None, Some(d)) => (f64::NAN, Some(d), mean, Partial::SystolicAbsent),
                (None, None) => {
                    let outcome = Outcome::Rejected {
                        reason: RejectReason::NoValue,
                    };
                    report.record(reading.provenance, outcome);
                    return outcome;
                }
            },
        };
        let mut stamp = timefmt::from_datetime(&reading.effective);
        if reading.effective_precision == EffectivePrecision::Date {
            stamp.offset_minutes = timefmt::DATE_ONLY;
        }
        let canonical = reading.kind.canonical_unit();
        let c = Candidate {
            patient: reading.patient,
            kind: reading.kind,
            v0,
            v1,
            mean,
            unit: canonical,
            original_unit: reading.original_unit,
            stamp,
            source,
            device: 0,
            context: reading.context,
            partial,
        };
        self.admit(&c, reading.provenance, at.timestamp_millis(), report)
    }

    fn materialise(&self, patient: PatientId, kind: VitalKind, s: &Stored) -> Option<Reading> {
        let value = if kind == VitalKind::BloodPressure {
            ReadingValue::BloodPressure {
                systolic: (!s.v0.is_nan()).then_some(s.v0),
                diastolic: (!s.v1.is_nan()).then_some(s.v1),
                mean: (!s.mean.is_nan()).then_some(s.mean),
            }
        } else {
            ReadingValue::Single { value: s.v0 }
        };
        Some(Reading {
            patient,
            kind,
            value,
            original_unit: Unit::from_code(s.unit).unwrap_or(kind.canonical_unit()),
            effective: timefmt::to_datetime(Stamp {
                utc_ms: s.utc_ms,
                offset_minutes: s.offset_minutes,
            })?,
            effective_precision: if s.offset_minutes == timefmt::DATE_ONLY {
                EffectivePrecision::Date
            } else {
                EffectivePrecision::Timestamp
            },
            source: self.sources.get(s.source as usize)?.clone(),
            context: ReadingContext::unpack(s.context),
            provenance: Position {
                batch: s.batch,
                record: s.record,
            },
        })
    }

    pub(crate) fn series(&self, patient: PatientId, kind: VitalKind) -> &[Stored] {
        self.entry(patient)
            .map_or(&[][..], |e| e.series[kind.index()].as_slice())
    }

    /// Readings of one kind in `period` (half-open), oldest first.
    pub fn range(&self, patient: PatientId, kind: VitalKind, period: &Period) -> Vec<Reading> {
        let series = self.series(patient, kind);
        let start = period.start().timestamp_millis();
        let end = period.end().timestamp_millis();
        let lo = series.partition_point(|s| s.utc_ms < start);
        let hi = series.partition_point(|s| s.utc_ms < end);
        series[lo..hi.max(lo)]
            .iter()
            .filter_map(|s| self.materialise(patient, kind, s))
            .collect()
    }

    /// Every reading of one kind, oldest first.
    pub fn all(&self, patient: PatientId, kind: VitalKind) -> Vec<Reading> {
        self.series(patient, kind)
            .iter()
            .filter_map(|s| self.materialise(patient, kind, s))
            .collect()
    }

    /// The most recent reading of one kind.
    pub fn latest(&self, patient: PatientId, kind: VitalKind) -> Option<Reading> {
        self.series(patient, kind)
            .last()
            .and_then(|s| self.materialise(patient, kind, s))
    }

    /// The most recent reading of one kind at or before `at`.
    pub fn latest_at(&self, patient: PatientId, kind: VitalKind, at: Timestamp) -> Option<Reading> {
        let series = self.series(patient, kind);
        let t = at.timestamp_millis();
        let n = series.partition_point(|s| s.utc_ms <= t);
        n.checked_sub(1)
            .and_then(|i| series.get(i))
            .and_then(|s| self.materialise(patient, kind, s))
    }

    /// BMI derived from the latest weight and height at or before `at` (kg/m2).
    pub fn derived_bmi(&self, patient: PatientId, at: Timestamp) -> Option<f64> {
        let w = self
            .latest_at(patient, VitalKind::BodyWeight, at)?
            .value
            .primary()?;
        let h = self
            .latest_at(patient, VitalKind::BodyHeight, at)?
            .value
            .primary()?
            / 100.0;
        Some(w / (h * h))
    }

    /// Daily count/min/max/mean of the primary value (systolic for BP) for each calendar day
    /// from `first` to `last` inclusive **in the patient's time zone**; days without readings
    /// are omitted.
    ///
    /// # Errors
    /// [`VitalsError::UnknownPatient`] when the patient is not registered.
    pub fn daily(
        &self,
        patient: PatientId,
        kind: VitalKind,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<DailyAggregate>, VitalsError> {
        let entry = self.entry(patient).ok_or(VitalsError::UnknownPatient)?;
        let zone = entry.zone;
        let start_of = |d: NaiveDate| -> Option<i64> {
            let naive = d.and_hms_opt(0, 0, 0)?;
            // On a DST gap at midnight the day starts at the first valid instant.
            zone.from_local_datetime(&naive)
                .earliest()
                .or_else(|| {
                    zone.from_local_datetime(&(naive + TimeDelta::hours(1)))
                        .earliest()
                })
                .map(|t| t.timestamp_millis())
        };
        let series = &entry.series[kind.index()];
        let mut out = Vec::new();
        let mut day = first;
        while day <= last {
            let Some(next) = day.succ_opt() else { break };
            if let (Some(a), Some(b)) = (start_of(day), start_of(next)) {
                let lo = series.partition_point(|s| s.utc_ms < a);
                let hi = series.partition_point(|s| s.utc_ms < b);
                // A partial blood pressure without systolic has no primary value.
                let values = series[lo..hi.max(lo)]
                    .iter()
                    .map(|s| s.v0)
                    .filter(|v| !v.is_nan());
                if let Some(agg) = DailyAggregate::of(day, values) {
                    out.push(agg);
                }
            }
            day = next;
        }
        Ok(out)
    }

    /// Least-squares slope of the primary value, in canonical units per day, over readings in
    /// `period`; `None` with fewer than two readings or all at one instant.
    pub fn trend(&self, patient: PatientId, kind: VitalKind, period: &Period) -> Option<Trend> {
        let series = self.series(patient, kind);
        let start = period.start().timestamp_millis();
        let end = period.end().timestamp_millis();
        let lo = series.partition_point(|s| s.utc_ms < start);
        let hi = series.partition_point(|s| s.utc_ms < end);
        let points: Vec<(f64, f64)> = series[lo..hi.max(lo)]
            .iter()
            .filter(|s| !s.v0.is_nan())
            .map(|s| ((s.utc_ms - start) as f64 / 86_400_000.0, s.v0))
            .collect();
        Trend::fit(&points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_reading_is_compact() {
        assert_eq!(std::mem::size_of::<Stored>(), 48);
    }

    #[test]
    fn trend_fits_a_line() {
        let pts: Vec<(f64, f64)> = (0..5)
            .map(|d| (f64::from(d), 80.0 + 0.5 * f64::from(d)))
            .collect();
        let t = Trend::fit(&pts);
        assert!(t.is_some_and(|t| (t.slope_per_day - 0.5).abs() < 1e-12 && t.points == 5));
        assert_eq!(Trend::fit(&[(1.0, 2.0)]), None);
        assert_eq!(Trend::fit(&[(1.0, 2.0), (1.0, 3.0)]), None);
    }
}
