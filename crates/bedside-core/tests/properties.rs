//! Property tests for `bedside-core` invariants.

use bedside_core::{AppointmentId, PartialDate, PatientId, Period};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use proptest::prelude::*;

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 1990..2100, second precision.
    (631_152_000i64..4_102_444_800i64)
        .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or_default())
}

fn period() -> impl Strategy<Value = Period> {
    (instant(), 0i64..100_000).prop_map(|(s, len)| Period::starting_at(s, TimeDelta::seconds(len)))
}

fn empty_period() -> impl Strategy<Value = Period> {
    instant().prop_map(|s| Period::starting_at(s, TimeDelta::zero()))
}

proptest! {
    #[test]
    fn id_display_from_str_round_trip(bytes in any::<[u8; 16]>()) {
        let id = PatientId::from_uuid(uuid::Uuid::from_bytes(bytes));
        prop_assert_eq!(id.to_string().parse::<PatientId>().ok(), Some(id));
        let other = AppointmentId::from_uuid(uuid::Uuid::from_bytes(bytes));
        let json = serde_json::to_string(&other).unwrap_or_default();
        prop_assert_eq!(serde_json::from_str::<AppointmentId>(&json).ok(), Some(other));
    }

    #[test]
    fn intersection_is_commutative(a in period(), b in period()) {
        prop_assert_eq!(a.intersection(&b), b.intersection(&a));
        prop_assert_eq!(a.overlaps(&b), b.overlaps(&a));
    }

    #[test]
    fn intersection_lies_in_both(a in period(), b in period()) {
        if let Some(i) = a.intersection(&b) {
            prop_assert!(a.contains_period(&i) && b.contains_period(&i));
            prop_assert!(!i.is_empty());
        } else {
            prop_assert!(!a.overlaps(&b));
        }
    }

    #[test]
    fn contained_periods_overlap(outer in period(), from in 0.0f64..1.0, len in 0.0f64..1.0) {
        prop_assume!(!outer.is_empty());
        let total = outer.duration().num_seconds();
        let offset = ((total as f64) * from) as i64;
        let length = (((total - offset) as f64) * len) as i64;
        prop_assume!(length > 0);
        let inner = Period::starting_at(outer.start() + TimeDelta::seconds(offset), TimeDelta::seconds(length));
        prop_assert!(outer.contains_period(&inner));
        prop_assert!(outer.overlaps(&inner) && inner.overlaps(&outer));
    }

    #[test]
    fn empty_periods_overlap_nothing(e in empty_period(), p in period()) {
        prop_assert!(!e.overlaps(&p) && !p.overlaps(&e));
        prop_assert!(!e.overlaps(&e));
        prop_assert_eq!(e.intersection(&p), None);
    }

    #[test]
    fn partial_date_round_trip(days in 0i64..80_000, precision in 0u8..3) {
        let d = NaiveDate::from_ymd_opt(1880, 1, 1).unwrap_or_default() + TimeDelta::days(days);
        let pd: PartialDate = match precision {
            0 => format!("{}", d.format("%Y")).parse().unwrap_or(PartialDate::Date(d)),
            1 => format!("{}", d.format("%Y-%m")).parse().unwrap_or(PartialDate::Date(d)),
            _ => PartialDate::Date(d),
        };
        prop_assert_eq!(pd.to_string().parse::<PartialDate>().ok(), Some(pd));
        prop_assert!(pd.admits(d));
    }
}
