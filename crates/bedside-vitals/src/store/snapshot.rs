//! Explicit persistence for a [`VitalsStore`]: [`VitalsStore::snapshot`] gives plain serde data
//! ([`VitalsSnapshot`]) and [`VitalsStore::restore`] rebuilds the store, with its packed series
//! and lookup indexes, from it. The store itself has no serde form: its interned sources,
//! hash indexes and per-series caches are derived state, not data of record.

use super::{Batch, IngestConfig, PatientEntry, Stored, VitalsStore};
use crate::error::VitalsError;
use crate::kind::VitalKind;
use crate::reading::{EffectivePrecision, Reading, ReadingValue};
use crate::timefmt;
use bedside_core::{PatientId, Sensitive};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The snapshot format version [`VitalsStore::snapshot`] writes and
/// [`VitalsStore::restore`] reads.
pub const SNAPSHOT_VERSION: u32 = 1;

/// Everything a [`VitalsStore`] holds, as plain data: settings, patients, aliases, batches
/// and every stored reading. It contains PHI (readings, alias references, batch labels):
/// store it where patient records are stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VitalsSnapshot {
    /// The format version ([`SNAPSHOT_VERSION`]).
    pub version: u32,
    /// The ingestion settings.
    pub config: IngestConfig,
    /// The registered patients, in registration order.
    pub patients: Vec<PatientSnapshot>,
    /// External references mapped to patients ([`VitalsStore::register_alias`]).
    pub aliases: Vec<AliasSnapshot>,
    /// Every batch opened, in number order (a reading's `provenance.batch` indexes it).
    pub batches: Vec<Batch>,
}

/// One registered patient and their readings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientSnapshot {
    /// The patient.
    pub patient: PatientId,
    /// Their time zone (daily aggregates).
    pub zone: Tz,
    /// Their readings, by kind in [`VitalKind::ALL`] order, oldest first within a kind.
    pub readings: Vec<Reading>,
}

/// One alias: an external reference that resolves to a patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasSnapshot {
    /// The reference (`Patient/…`, an Open mHealth user id).
    pub reference: Sensitive<String>,
    /// The patient it resolves to.
    pub patient: PatientId,
}

impl VitalsStore {
    /// Everything the store holds, as plain serde data (see [`VitalsStore::restore`]).
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
        let patients = self
            .order
            .iter()
            .filter_map(|&patient| {
                let entry = self.patients.get(&patient)?;
                let readings = VitalKind::ALL
                    .iter()
                    .flat_map(|&kind| self.all(patient, kind))
                    .collect();
                Some(PatientSnapshot {
                    patient,
                    zone: entry.zone,
                    readings,
                })
            })
            .collect();
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
            patients,
            aliases,
            batches: self.batches.clone(),
        }
    }

    /// Rebuilds a store from a [`VitalsStore::snapshot`]. Readings are restored as they were
    /// stored (not re-validated against the settings), and the indexes de-duplication needs
    /// are rebuilt, so re-ingesting a batch after a restore still finds its duplicates.
    ///
    /// # Errors
    /// [`VitalsError::Snapshot`] when the version is not [`SNAPSHOT_VERSION`], a patient is
    /// listed twice, a reading belongs to another patient than the one it is listed under, or
    /// a reading names a batch the snapshot does not hold.
    pub fn restore(snapshot: VitalsSnapshot) -> Result<VitalsStore, VitalsError> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(VitalsError::Snapshot("unsupported snapshot version"));
        }
        let batches = snapshot.batches.len();
        let mut store = VitalsStore::new(snapshot.config);
        store.batches = snapshot.batches;
        for p in snapshot.patients {
            if store.knows(p.patient) {
                return Err(VitalsError::Snapshot("a patient is listed twice"));
            }
            store.register_patient(p.patient, p.zone);
            for reading in &p.readings {
                if reading.patient != p.patient {
                    return Err(VitalsError::Snapshot(
                        "a reading is listed under another patient",
                    ));
                }
                if reading.provenance.batch as usize >= batches {
                    return Err(VitalsError::Snapshot("a reading names an unknown batch"));
                }
                let stored = store.stored_of(reading);
                if let Some(entry) = store.patients.get_mut(&p.patient) {
                    entry.series[reading.kind.index()].push(stored);
                }
                store.stored += 1;
            }
            if let Some(entry) = store.patients.get_mut(&p.patient) {
                sort_and_index(entry);
            }
        }
        for alias in snapshot.aliases {
            store.aliases.insert(alias.reference, alias.patient);
        }
        Ok(store)
    }

    /// The packed form of a reading (the inverse of `materialise`).
    fn stored_of(&mut self, reading: &Reading) -> Stored {
        let (v0, v1, mean) = match reading.value {
            ReadingValue::Single { value } => (value, f64::NAN, f64::NAN),
            ReadingValue::BloodPressure {
                systolic,
                diastolic,
                mean,
            } => (
                systolic.unwrap_or(f64::NAN),
                diastolic.unwrap_or(f64::NAN),
                mean.unwrap_or(f64::NAN),
            ),
        };
        let mut stamp = timefmt::from_datetime(&reading.effective);
        if reading.effective_precision == EffectivePrecision::Date {
            stamp.offset_minutes = timefmt::DATE_ONLY;
        }
        Stored {
            utc_ms: stamp.utc_ms,
            v0,
            v1,
            mean,
            source: self.intern_source(reading.source.clone()),
            batch: reading.provenance.batch,
            record: reading.provenance.record,
            offset_minutes: stamp.offset_minutes,
            context: reading.context.pack(),
            unit: reading.original_unit.code(),
        }
    }
}

/// Restores the series order admission keeps (by instant; stable, so equal instants keep
/// their snapshot order) and the newest-instant cache beside each series.
fn sort_and_index(entry: &mut PatientEntry) {
    for (k, series) in entry.series.iter_mut().enumerate() {
        series.sort_by_key(|s| s.utc_ms);
        entry.newest_ms[k] = series.last().map_or(i64::MIN, |s| s.utc_ms);
    }
}
