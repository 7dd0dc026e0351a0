//! Snapshot round trips and refusals of corrupt packed data.

use super::*;
use crate::reading::{Position, Reading, ReadingValue};
use crate::store::BatchReport;
use proptest::prelude::*;

fn patient(n: u8) -> PatientId {
    PatientId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
}

fn at(text: &str) -> bedside_core::Timestamp {
    match text.parse() {
        Ok(t) => t,
        Err(e) => panic!("instant `{text}`: {e}"),
    }
}

/// A store with every kind of thing the format packs: two zones, patient and staff
/// batches (one with nanoseconds), a device source with a model, a partial blood pressure,
/// a fractional and a date-only reading, context, a non-canonical unit and an alias.
fn store() -> VitalsStore {
    let mut s = VitalsStore::default();
    s.register_patient(patient(1), chrono_tz::Europe::London);
    s.register_patient(patient(2), chrono_tz::America::New_York);
    s.register_patient(patient(3), chrono_tz::Europe::London);
    s.register_alias("Patient/one", patient(1));
    let now = at("2026-03-02T00:00:00.123456789Z");
    let home = s.open_batch(&Batch::new(
        "upload-1",
        &Actor::Patient {
            patient: patient(1),
        },
        now,
    ));
    let ward = s.open_batch(&Batch::new("ward", &Actor::system("ward-tablet"), now));
    let device = Source::Device {
        id: bedside_core::DeviceId::from_uuid(uuid::Uuid::from_bytes([9; 16])),
        model: Some("cuff 2".into()),
    };
    let readings = [
        Reading::new(
            patient(1),
            VitalKind::HeartRate,
            ReadingValue::Single { value: 72.0 },
            "2026-03-01T08:00:00+01:00".parse().unwrap_or_default(),
        )
        .at_position(Position {
            batch: home,
            record: 1,
        }),
        Reading::new(
            patient(1),
            VitalKind::BodyTemperature,
            ReadingValue::Single { value: 37.35 },
            "2026-03-01T07:00:00-05:30".parse().unwrap_or_default(),
        )
        .with_context(ReadingContext::Site {
            site: crate::kind::TemperatureSite::Tympanic,
        })
        .at_position(Position {
            batch: ward,
            record: 7,
        }),
        Reading::new(
            patient(2),
            VitalKind::BloodPressure,
            ReadingValue::BloodPressure {
                systolic: None,
                diastolic: Some(81.0),
                mean: Some(93.5),
            },
            "2026-03-01T09:00:00Z".parse().unwrap_or_default(),
        )
        .from_source(device.clone())
        .at_position(Position {
            batch: ward,
            record: 2,
        }),
        Reading::new(
            patient(2),
            VitalKind::BodyWeight,
            ReadingValue::Single { value: 80.5 },
            "2026-02-28T00:00:00Z".parse().unwrap_or_default(),
        )
        .date_only()
        .arrived_in(Unit::Pound)
        .from_source(Source::Clinic)
        .at_position(Position {
            batch: ward,
            record: 3,
        }),
    ];
    for reading in &readings {
        let mut report = BatchReport {
            batch: reading.provenance.batch,
            ..BatchReport::default()
        };
        assert_eq!(
            s.ingest_reading(reading, now, &mut report),
            crate::store::Outcome::Accepted
        );
    }
    s
}

fn everything(s: &VitalsStore) -> Vec<Vec<Reading>> {
    s.patients()
        .flat_map(|p| VitalKind::ALL.map(|k| s.all(p, k)))
        .collect()
}

#[test]
fn a_snapshot_round_trips_through_json_exactly() -> Result<(), Box<dyn std::error::Error>> {
    let s = store();
    let snapshot = s.snapshot();
    let json = serde_json::to_string(&snapshot)?;
    let read: VitalsSnapshot = serde_json::from_str(&json)?;
    assert_eq!(read, snapshot);
    let restored = VitalsStore::restore(read)?;
    assert_eq!(everything(&restored), everything(&s));
    assert_eq!(restored.snapshot(), snapshot);
    assert_eq!(restored.len(), s.len());
    assert_eq!(restored.batch(0), s.batch(0));
    assert_eq!(restored.batch(1), s.batch(1));
    assert_eq!(restored.zone(patient(2)), s.zone(patient(2)));
    assert_eq!(restored.resolve_reference("Patient/one"), Some(patient(1)));
    // The patient sender is packed inline; the staff one is in the table.
    assert_eq!(snapshot.actors, vec![Actor::system("ward-tablet")]);
    assert_eq!(snapshot.zones.len(), 2);
    Ok(())
}

#[test]
fn the_packed_bytes_are_not_in_debug_output() {
    let snapshot = store().snapshot();
    let debug = format!("{:?}", snapshot.packed);
    assert!(
        debug.starts_with("Packed(") && debug.ends_with(" bytes)"),
        "{debug}"
    );
}

#[test]
fn another_version_is_refused() {
    let mut snapshot = store().snapshot();
    snapshot.version = 1;
    assert!(matches!(
        VitalsStore::restore(snapshot),
        Err(VitalsError::Snapshot("unsupported snapshot version"))
    ));
}

#[test]
fn damaged_packed_data_is_an_error() {
    let snapshot = store().snapshot();
    let bytes = snapshot.packed.as_bytes().to_vec();
    // Every truncation fails (none is a valid shorter snapshot: the counts come first).
    for end in 0..bytes.len() {
        let mut cut = snapshot.clone();
        cut.packed = Packed::from_bytes(bytes[..end].to_vec());
        assert!(VitalsStore::restore(cut).is_err(), "cut at {end}");
    }
    let mut longer = snapshot.clone();
    longer.packed = Packed::from_bytes([&bytes[..], &[0]].concat());
    assert!(matches!(
        VitalsStore::restore(longer),
        Err(VitalsError::Snapshot("the packed data runs on"))
    ));
    let mut no_sources = snapshot;
    no_sources.sources.clear();
    assert!(matches!(
        VitalsStore::restore(no_sources),
        Err(VitalsError::Snapshot("a reading names an unknown source"))
    ));
}

fn value_round_trip(values: [f64; 3]) -> [u64; 3] {
    let mut w = Writer::default();
    w.values(values);
    let mut r = Reader { bytes: &w.0, at: 0 };
    let back = r.values().unwrap_or([0.0; 3]);
    assert_eq!(r.left(), 0);
    back.map(f64::to_bits)
}

#[test]
fn values_pack_exactly() {
    for v in [
        0.0,
        -0.0,
        1.0,
        -1.0,
        72.0,
        37.35,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff8_0000_0000_0001),
        f64::INFINITY,
        f64::NEG_INFINITY,
        EXACT_INTEGER,
        -EXACT_INTEGER,
        EXACT_INTEGER * 2.0,
        f64::MIN_POSITIVE,
        f64::MAX,
    ] {
        assert_eq!(value_round_trip([v, v, v]), [v.to_bits(); 3], "{v}");
    }
    // Small integers take one or two bytes, absent values none.
    let mut w = Writer::default();
    w.values([72.0, f64::NAN, f64::NAN]);
    assert_eq!(w.0.len(), 3);
}

proptest! {
    /// Any three `f64`s (any bits) come back bit for bit.
    #[test]
    fn any_values_pack_exactly(a in any::<u64>(), b in any::<u64>(), c in any::<f64>()) {
        let values = [f64::from_bits(a), f64::from_bits(b), c];
        prop_assert_eq!(value_round_trip(values), values.map(f64::to_bits));
    }

    /// Varints round-trip at every magnitude and sign.
    #[test]
    fn numbers_pack_exactly(u in any::<u64>(), i in any::<i64>()) {
        let mut w = Writer::default();
        w.u(u);
        w.i(i);
        let mut r = Reader { bytes: &w.0, at: 0 };
        prop_assert_eq!(r.u().ok(), Some(u));
        prop_assert_eq!(r.i().ok(), Some(i));
        prop_assert_eq!(r.left(), 0);
    }

    /// Restoring damaged packed data never panics: it is an error or some store.
    #[test]
    fn damaged_packed_data_never_panics(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut snapshot = store().snapshot();
        let mut bytes = snapshot.packed.as_bytes().to_vec();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] ^= b;
        }
        snapshot.packed = Packed::from_bytes(bytes);
        let _ = VitalsStore::restore(snapshot);
    }
}
