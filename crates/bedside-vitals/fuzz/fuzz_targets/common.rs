//! Shared set-up for the fuzz targets: a store with one registered patient (also reachable
//! through the aliases the inputs may use) and a batch taken in at a fixed
//! instant.

use bedside_core::{Actor, PatientId};
use bedside_vitals::{Batch, IngestConfig, Tz, VitalsStore};

pub const PATIENT: &str = "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f";

pub fn store() -> VitalsStore {
    let mut s = VitalsStore::new(IngestConfig {
        max_record_bytes: 4096,
        ..IngestConfig::default()
    });
    if let Ok(p) = PATIENT.parse::<PatientId>() {
        s.register_patient(p, Tz::UTC);
        s.register_alias("Patient/p", p);
        s.register_alias("user-1", p);
    }
    s
}

/// A batch taken in at the fixed instant, sent by a system actor.
pub fn batch(label: &str) -> Batch {
    Batch::new(label, &Actor::system("fuzz"), chrono_like_now())
}

fn chrono_like_now() -> bedside_core::Timestamp {
    "2026-03-15T12:00:00Z".parse().unwrap_or_default()
}

/// Every record read must have exactly one outcome.
pub fn check(report: &bedside_vitals::BatchReport) {
    assert_eq!(
        report.accepted + report.duplicate + report.rejected_total(),
        report.records
    );
    assert_eq!(report.rejections.len() as u64, report.rejected_total());
}
