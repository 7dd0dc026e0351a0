//! Explicit persistence for a [`VitalsStore`]: [`VitalsStore::snapshot`] gives serde data
//! ([`VitalsSnapshot`]) and [`VitalsStore::restore`] rebuilds the store, with its packed series
//! and lookup indexes, from it. The store itself has no serde form: its hash indexes and
//! per-series caches are derived state, not data of record.

use super::{Batch, IngestConfig, PatientEntry, Stored, VitalsStore};
use crate::error::VitalsError;
use crate::kind::{ReadingContext, VitalKind};
use crate::reading::Source;
use crate::timefmt;
use crate::unit::Unit;
use base64::Engine as _;
use bedside_core::{Actor, PatientId, Sensitive};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The snapshot format version [`VitalsStore::snapshot`] writes and
/// [`VitalsStore::restore`] reads (2: readings and batches packed; 1 held them as JSON).
pub const SNAPSHOT_VERSION: u32 = 2;

/// Everything a [`VitalsStore`] holds: settings, tables, and the patients, batches and readings
/// packed (see [`Packed`] for the layout). It contains PHI (readings, alias
/// references, batch labels): store it where patient records are stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VitalsSnapshot {
    /// The format version ([`SNAPSHOT_VERSION`]).
    pub version: u32,
    /// The ingestion settings.
    pub config: IngestConfig,
    /// External references mapped to patients ([`VitalsStore::register_alias`]).
    pub aliases: Vec<AliasSnapshot>,
    /// The interned reading sources, by number.
    pub sources: Vec<Source>,
    /// The patients' time zones, by number.
    pub zones: Vec<Tz>,
    /// Batch senders other than patients, by number.
    pub actors: Vec<Actor>,
    /// The batches, patients and readings.
    pub packed: Packed,
}

/// One alias: an external reference that resolves to a patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasSnapshot {
    /// The reference (`Patient/…`, an Open mHealth user id).
    pub reference: Sensitive<String>,
    /// The patient it resolves to.
    pub patient: PatientId,
}

/// The packed part of a [`VitalsSnapshot`]: bytes, serialised as one base64 string (standard
/// alphabet, padded). `Debug` shows only the length: the bytes are PHI.
///
/// # Layout (format version 2)
///
/// The small tables are plain serde data: the settings, the aliases, the interned reading
/// sources (a reading names its source by number), the patients' time zones and the batch
/// senders other than patients, each by number. Everything that grows with the history — the
/// patients, the batches and every reading — is one packed byte string ([`Packed`], base64 in
/// JSON), because as JSON objects the readings were 300 bytes each and most of a clinic's
/// snapshot (a 1.6 M-reading store was 410 MB of JSON; packed it is about 30 MB).
///
/// Integers are LEB128 varints (`u`), signed ones zigzag-encoded first (`i`). In order:
///
/// ```text
/// u batches;  per batch:   u label length, label (UTF-8),
///                          sender: 0x00 + patient UUID (16 bytes) | 0x01 + u actor number,
///                          i seconds since the previous batch's, u subsecond nanoseconds
/// u patients; per patient: patient UUID (16 bytes), u zone number, u mask of non-empty kinds
///                          (bit = VitalKind::index), then per kind in the mask, in index order:
///                          u readings, then per reading (oldest first):
///   i ms since the previous reading's instant (the first: since the epoch)
///   i UTC offset in minutes (i16::MIN: the reading is dated, not timed)
///   value flags: 2 bits each for v0, v1, mean (bits 0-1, 2-3, 4-5):
///     0 NaN (absent), 1 an integer (then i), 2 any other f64 (then its 8 bytes, little end)
///   u source number, i batch number minus the previous reading's, u record,
///   context byte, unit byte
/// ```
///
/// Values are exact: a canonical NaN, an integer-valued `f64` (not `-0.0`) of at most 2^53, or
/// the raw bits. Restore checks every number it uses as an index, the codes, the order of each
/// series and that nothing is left over; a damaged snapshot is an error, never a panic.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Packed(Vec<u8>);

impl Packed {
    /// Wraps packed bytes (as [`Packed::as_bytes`] gave them).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The packed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Packed({} bytes)", self.0.len())
    }
}

impl Serialize for Packed {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Packed {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Packed;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a base64 string")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Packed, E> {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map(Packed)
                    // The decoder's message names an offset and a byte, never the data.
                    .map_err(|e| E::custom(format!("packed vitals: {e}")))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// How a value is packed (two bits per value in the flags byte).
const VALUE_NAN: u8 = 0;
const VALUE_INTEGER: u8 = 1;
const VALUE_BITS: u8 = 2;
/// The largest magnitude packed as an integer: every integer up to it is an exact `f64`.
const EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;
/// The fewest bytes a packed reading takes (a bound on a series' length from what is left).
const MIN_READING_BYTES: usize = 8;
/// The fewest bytes a packed batch takes.
const MIN_BATCH_BYTES: usize = 4;
/// The fewest bytes a packed patient takes.
const MIN_PATIENT_BYTES: usize = 18;

/// Appends packed values.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64);
    }

    fn byte(&mut self, b: u8) {
        self.0.push(b);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    /// Writes the flags byte and the three values of a reading.
    fn values(&mut self, values: [f64; 3]) {
        let mut flags = 0u8;
        let mut how = [VALUE_NAN; 3];
        for (i, &v) in values.iter().enumerate() {
            how[i] = value_kind(v);
            flags |= how[i] << (2 * i);
        }
        self.byte(flags);
        for (i, &v) in values.iter().enumerate() {
            match how[i] {
                // `value_kind` proved `v` an integer of at most 2^53 in magnitude.
                VALUE_INTEGER => self.i(v as i64),
                VALUE_BITS => self.bytes(&v.to_bits().to_le_bytes()),
                _ => {}
            }
        }
    }
}

/// How `v` is packed: the canonical NaN, an exact integer, or its bits.
fn value_kind(v: f64) -> u8 {
    if v.to_bits() == f64::NAN.to_bits() {
        VALUE_NAN
    } else if v.fract() == 0.0 && v.abs() <= EXACT_INTEGER && v.to_bits() != (-0.0f64).to_bits() {
        VALUE_INTEGER
    } else {
        VALUE_BITS
    }
}

/// Reads packed values; every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

fn corrupt(what: &'static str) -> VitalsError {
    VitalsError::Snapshot(what)
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn byte(&mut self) -> Result<u8, VitalsError> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or(corrupt("the packed data ends early"))?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], VitalsError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(corrupt("the packed data ends early"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u(&mut self) -> Result<u64, VitalsError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let part = u64::from(b & 0x7f);
            if shift == 63 && part > 1 {
                return Err(corrupt("a packed number overflows"));
            }
            v |= part << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt("a packed number overflows"))
    }

    fn u32(&mut self) -> Result<u32, VitalsError> {
        u32::try_from(self.u()?).map_err(|_| corrupt("a packed number overflows"))
    }

    /// A count of items of at least `min_bytes` each: never more than the bytes left allow,
    /// so a damaged count cannot make restore allocate without bound.
    fn count(&mut self, min_bytes: usize) -> Result<usize, VitalsError> {
        let n = usize::try_from(self.u()?).map_err(|_| corrupt("a packed count overflows"))?;
        if n > self.left() / min_bytes {
            return Err(corrupt("a packed count exceeds the data"));
        }
        Ok(n)
    }

    fn i(&mut self) -> Result<i64, VitalsError> {
        let u = self.u()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    fn uuid(&mut self) -> Result<uuid::Uuid, VitalsError> {
        let bytes = self.take(16)?;
        let mut raw = [0u8; 16];
        raw.copy_from_slice(bytes);
        Ok(uuid::Uuid::from_bytes(raw))
    }

    fn values(&mut self) -> Result<[f64; 3], VitalsError> {
        let flags = self.byte()?;
        if flags >> 6 != 0 {
            return Err(corrupt("a packed value has unknown flags"));
        }
        let mut out = [f64::NAN; 3];
        for (i, v) in out.iter_mut().enumerate() {
            *v = match (flags >> (2 * i)) & 3 {
                VALUE_NAN => f64::NAN,
                VALUE_INTEGER => {
                    let n = self.i()?;
                    // Only integers of at most 2^53 are packed this way: exact as f64.
                    if n.unsigned_abs() > 1 << 53 {
                        return Err(corrupt("a packed value is out of range"));
                    }
                    n as f64
                }
                VALUE_BITS => {
                    let mut raw = [0u8; 8];
                    raw.copy_from_slice(self.take(8)?);
                    f64::from_bits(u64::from_le_bytes(raw))
                }
                _ => return Err(corrupt("a packed value has unknown flags")),
            };
        }
        Ok(out)
    }
}

impl VitalsStore {
    /// Everything the store holds, as serde data (see [`VitalsStore::restore`]).
    ///
    /// ```
    /// use bedside_core::{Actor, PatientId};
    /// use bedside_vitals::{Batch, VitalKind, VitalsSnapshot, VitalsStore, ndjson};
    ///
    /// let patient: PatientId = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f".parse()?;
    /// let mut store = VitalsStore::default();
    /// store.register_patient(patient, chrono_tz::Europe::London);
    /// let line = r#"{"patient":"0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f","kind":"heart_rate","at":"2026-03-01T08:00:00+01:00","value":72,"unit":"/min","source":"manual"}"#;
    /// let batch = Batch::new("upload-1", &Actor::Patient { patient }, "2026-03-02T00:00:00Z".parse()?);
    /// ndjson::ingest(&mut store, line.as_bytes(), &batch)?;
    ///
    /// let json = serde_json::to_string(&store.snapshot())?;
    /// let restored = VitalsStore::restore(serde_json::from_str::<VitalsSnapshot>(&json)?)?;
    /// assert_eq!(restored.all(patient, VitalKind::HeartRate), store.all(patient, VitalKind::HeartRate));
    /// assert_eq!(restored.batch(0).map(|b| &b.by), Some(&Actor::Patient { patient }));
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snapshot(&self) -> VitalsSnapshot {
        let mut w = Writer(Vec::with_capacity(
            self.batches.len() * 48 + self.patients.len() * 24 + self.stored as usize * 16,
        ));
        let mut actors: Vec<Actor> = Vec::new();
        let mut actor_numbers: HashMap<&Actor, u64> = HashMap::new();
        w.u(self.batches.len() as u64);
        let mut previous_seconds = 0i64;
        for batch in &self.batches {
            let label = batch.label.expose().as_bytes();
            w.u(label.len() as u64);
            w.bytes(label);
            match &batch.by {
                Actor::Patient { patient } => {
                    w.byte(0);
                    w.bytes(patient.as_uuid().as_bytes());
                }
                other => {
                    let n = *actor_numbers.entry(other).or_insert_with(|| {
                        actors.push(other.clone());
                        actors.len() as u64 - 1
                    });
                    w.byte(1);
                    w.u(n);
                }
            }
            let seconds = batch.at.timestamp();
            w.i(seconds.wrapping_sub(previous_seconds));
            previous_seconds = seconds;
            w.u(u64::from(batch.at.timestamp_subsec_nanos()));
        }
        let mut zones: Vec<Tz> = Vec::new();
        let entries: Vec<(PatientId, &PatientEntry)> = self
            .order
            .iter()
            .filter_map(|&p| Some((p, self.patients.get(&p)?)))
            .collect();
        w.u(entries.len() as u64);
        for (patient, entry) in entries {
            w.bytes(patient.as_uuid().as_bytes());
            let zone = match zones.iter().position(|&z| z == entry.zone) {
                Some(i) => i,
                None => {
                    zones.push(entry.zone);
                    zones.len() - 1
                }
            };
            w.u(zone as u64);
            let mask = entry
                .series
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.is_empty())
                .fold(0u64, |m, (k, _)| m | 1 << k);
            w.u(mask);
            for series in entry.series.iter().filter(|s| !s.is_empty()) {
                w.u(series.len() as u64);
                let (mut previous_ms, mut previous_batch) = (0i64, 0i64);
                for s in series {
                    w.i(s.utc_ms.wrapping_sub(previous_ms));
                    previous_ms = s.utc_ms;
                    w.i(i64::from(s.offset_minutes));
                    w.values([s.v0, s.v1, s.mean]);
                    w.u(u64::from(s.source));
                    w.i(i64::from(s.batch) - previous_batch);
                    previous_batch = i64::from(s.batch);
                    w.u(u64::from(s.record));
                    w.byte(s.context);
                    w.byte(s.unit);
                }
            }
        }
        let mut aliases: Vec<AliasSnapshot> = self
            .aliases
            .iter()
            .map(|(reference, &patient)| AliasSnapshot {
                reference: reference.clone(),
                patient,
            })
            .collect();
        // A hash map's order is arbitrary: sort so equal stores give equal snapshots.
        aliases.sort_by(|a, b| a.reference.cmp(&b.reference));
        VitalsSnapshot {
            version: SNAPSHOT_VERSION,
            config: self.config.clone(),
            aliases,
            sources: self.sources.clone(),
            zones,
            actors,
            packed: Packed(w.0),
        }
    }

    /// Rebuilds a store from a [`VitalsStore::snapshot`]. Readings are restored as they were
    /// stored (not re-validated against the settings), and the indexes de-duplication needs
    /// are rebuilt, so re-ingesting a batch after a restore still finds its duplicates.
    ///
    /// # Errors
    /// [`VitalsError::Snapshot`] when the version is not [`SNAPSHOT_VERSION`] or the packed
    /// data does not decode: it ends early or runs on, a patient is listed twice, a number
    /// names a zone, actor, source or batch the snapshot does not hold, a code is unknown, or
    /// a series is out of order.
    // Over 100 lines, not split: one sequential decode of the packed layout (`Packed`), in the
    // order `snapshot` wrote it (batches, then patients and their series, then the source
    // indexes); each section checks its numbers against the counts the earlier ones read.
    pub fn restore(snapshot: VitalsSnapshot) -> Result<VitalsStore, VitalsError> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(VitalsError::Snapshot("unsupported snapshot version"));
        }
        let mut store = VitalsStore::new(snapshot.config);
        let mut r = Reader {
            bytes: snapshot.packed.as_bytes(),
            at: 0,
        };
        let batches = r.count(MIN_BATCH_BYTES)?;
        store.batches.reserve_exact(batches);
        let mut seconds = 0i64;
        for _ in 0..batches {
            let length = r.count(1)?;
            let label = std::str::from_utf8(r.take(length)?)
                .map_err(|_| corrupt("a batch label is not UTF-8"))?;
            let by = match r.byte()? {
                0 => Actor::Patient {
                    patient: PatientId::from_uuid(r.uuid()?),
                },
                1 => {
                    let n = usize::try_from(r.u()?).unwrap_or(usize::MAX);
                    snapshot
                        .actors
                        .get(n)
                        .ok_or(corrupt("a batch names an unknown sender"))?
                        .clone()
                }
                _ => return Err(corrupt("a batch sender has an unknown tag")),
            };
            seconds = seconds.wrapping_add(r.i()?);
            let at = chrono::DateTime::from_timestamp(seconds, r.u32()?)
                .ok_or(corrupt("a batch time is out of range"))?;
            store.batches.push(Batch {
                label: Sensitive::new(label.to_owned()),
                by,
                at,
            });
        }
        let batches = u32::try_from(batches).unwrap_or(u32::MAX);
        let sources = u32::try_from(snapshot.sources.len()).unwrap_or(u32::MAX);
        let patients = r.count(MIN_PATIENT_BYTES)?;
        store.order.reserve_exact(patients);
        store.patients.reserve(patients);
        for _ in 0..patients {
            let patient = PatientId::from_uuid(r.uuid()?);
            if store.knows(patient) {
                return Err(corrupt("a patient is listed twice"));
            }
            let zone = usize::try_from(r.u()?).unwrap_or(usize::MAX);
            let zone = *snapshot
                .zones
                .get(zone)
                .ok_or(corrupt("a patient names an unknown zone"))?;
            let mask = r.u()?;
            if mask >> VitalKind::COUNT != 0 {
                return Err(corrupt("a patient names an unknown kind"));
            }
            let mut entry = PatientEntry {
                zone,
                series: Default::default(),
                newest_ms: [i64::MIN; VitalKind::COUNT],
                last_device: None,
            };
            for k in (0..VitalKind::COUNT).filter(|k| mask >> k & 1 == 1) {
                let n = r.count(MIN_READING_BYTES)?;
                let series = &mut entry.series[k];
                series.reserve_exact(n);
                let (mut ms, mut batch) = (0i64, 0i64);
                for _ in 0..n {
                    let delta = r.i()?;
                    if delta < 0 && !series.is_empty() {
                        return Err(corrupt("a series is out of order"));
                    }
                    ms = ms.wrapping_add(delta);
                    let offset_minutes = i16::try_from(r.i()?)
                        .ok()
                        .filter(|&m| m == timefmt::DATE_ONLY || m.unsigned_abs() < 24 * 60)
                        .ok_or(corrupt("a reading's offset is out of range"))?;
                    let [v0, v1, mean] = r.values()?;
                    let source = r.u32()?;
                    if source >= sources {
                        return Err(corrupt("a reading names an unknown source"));
                    }
                    batch = batch.wrapping_add(r.i()?);
                    let batch = u32::try_from(batch)
                        .ok()
                        .filter(|&b| b < batches)
                        .ok_or(corrupt("a reading names an unknown batch"))?;
                    let record = r.u32()?;
                    let context = r.byte()?;
                    if ReadingContext::unpack(context).pack() != context {
                        return Err(corrupt("a reading has an unknown context"));
                    }
                    let unit = r.byte()?;
                    if Unit::from_code(unit).is_none() {
                        return Err(corrupt("a reading has an unknown unit"));
                    }
                    series.push(Stored {
                        utc_ms: ms,
                        v0,
                        v1,
                        mean,
                        source,
                        batch,
                        record,
                        offset_minutes,
                        context,
                        unit,
                    });
                }
                entry.newest_ms[k] = series.last().map_or(i64::MIN, |s| s.utc_ms);
                store.stored += n as u64;
            }
            store.patients.insert(patient, entry);
            store.order.push(patient);
        }
        if r.left() != 0 {
            return Err(corrupt("the packed data runs on"));
        }
        for (i, source) in snapshot.sources.iter().enumerate() {
            // `sources` fits a u32 (checked above for every reading's number).
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            match source {
                Source::Device { id, .. } => {
                    store
                        .device_index
                        .entry(id.as_uuid().as_u128())
                        .or_insert(i);
                }
                other => {
                    store.source_index.entry(other.key()).or_insert(i);
                }
            }
        }
        store.sources = snapshot.sources;
        for alias in snapshot.aliases {
            store.aliases.insert(alias.reference, alias.patient);
        }
        Ok(store)
    }
}

#[cfg(test)]
mod tests;
