//! Properties: every record has exactly one outcome; ingesting the same input twice changes
//! nothing; a snapshot restores the same store; unit conversions round-trip.

use bedside_core::Actor;
use bedside_vitals::{Batch, VitalsSnapshot};
use bedside_vitals::{IngestConfig, Tz, UnitConfig, VitalKind, VitalsStore, ndjson};
use proptest::prelude::*;

const PATIENTS: [&str; 2] = [
    "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e6f",
    "0190f5a4-6b2e-7c3d-8e4f-1a2b3c4d5e70",
];

fn line_strategy() -> impl Strategy<Value = String> {
    let good = (0usize..3, 0u32..5, 0u32..3, 30u32..250, prop::bool::ANY).prop_map(|(p, minute, kind, v, app)| {
        let patient = PATIENTS.get(p).copied().unwrap_or("0190f5a4-6b2e-7c3d-8e4f-000000000000");
        let source = if app { "app:a" } else { "manual" };
        match kind {
            0 => format!(r#"{{"patient":"{patient}","kind":"heart_rate","at":"2026-03-01T08:0{minute}:00Z","value":{v},"unit":"/min","source":"{source}"}}"#),
            1 => format!(r#"{{"patient":"{patient}","kind":"blood_pressure","at":"2026-03-01T08:0{minute}:00+02:00","systolic":{v},"diastolic":60,"unit":"mmHg","source":"{source}"}}"#),
            _ => format!(r#"{{"patient":"{patient}","kind":"body_weight","at":"2026-03-0{}T08:00:00Z","value":{v},"unit":"[lb_av]","source":"{source}"}}"#, minute + 1),
        }
    });
    prop_oneof![4 => good, 1 => "[ -~]{0,40}"]
}

fn new_store() -> VitalsStore {
    let mut s = VitalsStore::new(IngestConfig::default());
    for p in PATIENTS {
        if let Ok(id) = p.parse() {
            s.register_patient(id, Tz::UTC);
        }
    }
    s
}

fn batch(label: &str) -> Batch {
    Batch::new(
        label,
        &Actor::system("test-upload"),
        "2026-04-01T00:00:00Z".parse().unwrap_or_default(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn outcomes_add_up_and_reingest_changes_nothing(lines in prop::collection::vec(line_strategy(), 0..40)) {
        let input = lines.join("\n");
        let records = lines.iter().filter(|l| !l.trim().is_empty()).count() as u64;
        let mut s = new_store();
        let first = ndjson::ingest(&mut s, input.as_bytes(), &batch("a")).unwrap_or_default();
        prop_assert_eq!(first.records, records);
        prop_assert_eq!(first.accepted + first.duplicate + first.rejected_total(), records);
        prop_assert_eq!(first.rejections.len() as u64, first.rejected_total());
        prop_assert_eq!(s.len(), first.accepted);
        let before: Vec<_> = PATIENTS.iter().filter_map(|p| p.parse().ok()).flat_map(|p| VitalKind::ALL.map(|k| s.all(p, k))).collect();
        let second = ndjson::ingest(&mut s, input.as_bytes(), &batch("b")).unwrap_or_default();
        prop_assert_eq!(second.accepted, 0);
        prop_assert_eq!(second.duplicate, first.accepted + first.duplicate);
        prop_assert_eq!(second.rejected_total(), first.rejected_total());
        let after: Vec<_> = PATIENTS.iter().filter_map(|p| p.parse().ok()).flat_map(|p| VitalKind::ALL.map(|k| s.all(p, k))).collect();
        prop_assert_eq!(before, after);
    }

    /// A snapshot restores the same readings, batches and aliases, survives JSON, and the
    /// restored store still de-duplicates what it already holds.
    #[test]
    fn snapshot_restore_round_trips(lines in prop::collection::vec(line_strategy(), 0..40)) {
        let input = lines.join("\n");
        let mut s = new_store();
        if let Ok(p) = PATIENTS[0].parse() {
            s.register_alias("Patient/p0", p);
        }
        let first = ndjson::ingest(&mut s, input.as_bytes(), &batch("a")).unwrap_or_default();
        let snapshot = s.snapshot();
        let json = serde_json::to_string(&snapshot).unwrap_or_default();
        let read: Option<VitalsSnapshot> = serde_json::from_str(&json).ok();
        prop_assert_eq!(read.as_ref(), Some(&snapshot));
        let restored = VitalsStore::restore(snapshot.clone());
        prop_assert!(restored.is_ok());
        let Ok(mut restored) = restored else { return Ok(()) };
        prop_assert_eq!(restored.snapshot(), snapshot);
        prop_assert_eq!(restored.len(), s.len());
        prop_assert_eq!(restored.patients().collect::<Vec<_>>(), s.patients().collect::<Vec<_>>());
        prop_assert_eq!(restored.resolve_reference("Patient/p0"), s.resolve_reference("Patient/p0"));
        prop_assert_eq!(restored.batch(0), s.batch(0));
        let all = |store: &VitalsStore| -> Vec<_> {
            PATIENTS.iter().filter_map(|p| p.parse().ok()).flat_map(|p| VitalKind::ALL.map(|k| store.all(p, k))).collect()
        };
        prop_assert_eq!(all(&restored), all(&s));
        let again = ndjson::ingest(&mut restored, input.as_bytes(), &batch("b")).unwrap_or_default();
        prop_assert_eq!(again.accepted, 0);
        prop_assert_eq!(again.duplicate, first.accepted + first.duplicate);
    }

    #[test]
    fn unit_conversions_round_trip(kind_i in 0usize..VitalKind::COUNT, unit_i in 0usize..3, value in -1.0e6f64..1.0e6, factor in 17.0f64..19.0) {
        let kind = VitalKind::ALL[kind_i];
        let units = kind.allowed_units();
        let unit = units[unit_i % units.len()];
        let config = UnitConfig { glucose_mg_dl_per_mmol_l: factor };
        let there = config.to_canonical(kind, value, unit);
        let back = there.and_then(|c| config.from_canonical(kind, c, unit));
        prop_assert!(back.is_some_and(|b| (b - value).abs() <= 1e-9 * value.abs().max(1.0)), "{kind} {unit} {value} -> {there:?} -> {back:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The same property the fuzz targets check, on arbitrary bytes: no parser panics and every
    /// record read gets exactly one outcome.
    #[test]
    fn parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), json_ish in "[{}\\[\\]\":,a-z0-9 .\\-]{0,200}") {
        for input in [bytes.as_slice(), json_ish.as_bytes()] {
            let mut s = new_store();
            if let Ok(r) = ndjson::ingest(&mut s, input, &batch("n")) {
                prop_assert_eq!(r.accepted + r.duplicate + r.rejected_total(), r.records);
            }
            let mapping = bedside_vitals::csv::CsvMapping::identity();
            let csv_input = [&b"patient,kind,at,value,unit,source\n"[..], input].concat();
            if let Ok(r) = bedside_vitals::csv::ingest(&mut s, csv_input.as_slice(), &mapping, &batch("c")) {
                prop_assert_eq!(r.accepted + r.duplicate + r.rejected_total(), r.records);
            }
            if let Ok(r) = bedside_vitals::fhir::ingest(&mut s, input, &bedside_vitals::Source::Clinic, &batch("f")) {
                prop_assert_eq!(r.report.accepted + r.report.duplicate + r.report.rejected_total(), r.report.records);
            }
            if let Ok(r) = bedside_vitals::omh::ingest(&mut s, input, &batch("o")) {
                prop_assert_eq!(r.accepted + r.duplicate + r.rejected_total(), r.records);
            }
        }
    }
}
