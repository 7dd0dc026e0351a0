//! Audit hash chain, accounting of disclosures, review queue and sampling.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bedside_consent::audit::{verify, verify_serialized};
use bedside_consent::{
    Action, AuditLog, BreakGlass, ChainFault, DataClass, Purpose, ReviewQueue, ReviewStatus,
    SampleReason, SamplingPlan, accounting,
};
use bedside_core::{Actor, AuditEventId, Period, Sensitive, StaffId};
use chrono::TimeDelta;
use common::*;
use uuid::Uuid;

fn aid(n: u128) -> AuditEventId {
    AuditEventId::from_uuid(Uuid::from_u128(9000 + n))
}

/// A log of `n` decisions over `n` days: staff reads, external disclosures and one break-glass.
fn sample_log(n: usize) -> AuditLog {
    let e = engine();
    let mut log = AuditLog::new();
    for i in 0..n {
        let mut r = match i % 4 {
            0 => request(
                doctor_in_team(),
                Action::Read,
                &[DataClass::LabResults],
                Purpose::Treat,
            ),
            1 => request(
                Actor::External {
                    organisation: lab_org(),
                },
                Action::Disclose,
                &[DataClass::LabResults],
                Purpose::Pubhlth,
            ),
            2 => request(
                staff(10, "scheduler"),
                Action::Read,
                &[DataClass::Appointments],
                Purpose::Hoperat,
            ),
            _ => request(
                Actor::External {
                    organisation: hospital(),
                },
                Action::Disclose,
                &[DataClass::ClinicalNotes],
                Purpose::Treat,
            ),
        };
        r.context.at = now() + TimeDelta::days(i as i64);
        let d = e.decide(&r);
        log.record(aid(i as u128), &r, &d);
    }
    log
}

#[test]
fn intact_chain_verifies_in_memory_and_as_text() {
    let log = sample_log(12);
    assert!(log.verify().is_ok());
    let text = log.to_text();
    assert_eq!(text.lines().count(), 12);
    let back = AuditLog::from_text(text.as_bytes()).unwrap();
    assert_eq!(back, log);
    let cp = log.checkpoint();
    assert!(back.verify_checkpoint(&cp).is_ok());
    assert!(verify_serialized(b"").is_ok());
}

#[test]
fn tampering_is_located() {
    let log = sample_log(10);
    let entries = log.entries().to_vec();

    let mut modified = entries.clone();
    modified[4].event.purpose = Purpose::Markt;
    let err = verify(&modified).unwrap_err();
    assert_eq!((err.index, err.fault), (4, ChainFault::Modified));

    let mut removed = entries.clone();
    removed.remove(6);
    let err = verify(&removed).unwrap_err();
    assert_eq!(
        (err.index, err.fault),
        (6, ChainFault::Removed { missing: 1 })
    );

    let mut inserted = entries.clone();
    inserted.insert(3, entries[2].clone());
    let err = verify(&inserted).unwrap_err();
    assert_eq!((err.index, err.fault), (3, ChainFault::Inserted));

    let mut reordered = entries.clone();
    reordered.swap(7, 8);
    let err = verify(&reordered).unwrap_err();
    assert_eq!((err.index, err.fault), (7, ChainFault::Reordered));

    // Re-hashing a modified event breaks the link to the next one.
    let mut rehashed = AuditLog::new();
    for (i, e) in entries.iter().enumerate() {
        let mut ev = e.event.clone();
        if i == 5 {
            ev.outcome = bedside_consent::Effect::Permit;
            ev.deciding = "forged".into();
        }
        rehashed.append(ev);
    }
    let mut spliced = entries.clone();
    spliced[5] = rehashed.entries()[5].clone();
    let err = verify(&spliced).unwrap_err();
    assert_eq!((err.index, err.fault), (6, ChainFault::BrokenLink));

    // A wholly re-hashed, truncated log verifies alone but not against the checkpoint.
    let cp = log.checkpoint();
    let mut truncated = AuditLog::new();
    for e in &entries[..9] {
        truncated.append(e.event.clone());
    }
    assert!(truncated.verify().is_ok());
    assert_eq!(
        truncated.verify_checkpoint(&cp).unwrap_err().fault,
        ChainFault::CheckpointMismatch
    );

    // Text form: a changed byte is found on its line.
    let mut text = log.to_text().into_bytes();
    let line_start: usize = log.to_text().lines().take(3).map(|l| l.len() + 1).sum();
    text[line_start + 40] ^= 0x01;
    assert_eq!(verify_serialized(&text).unwrap_err().index, 3);
}

#[test]
fn accounting_of_disclosures_applies_exclusions() {
    let log = sample_log(16);
    let list = accounting(log.events(), patient(), now() + TimeDelta::days(30));
    // Only the PUBHLTH disclosures (every 4th event from 1) are accountable; TREAT disclosures
    // and internal reads are excluded.
    assert_eq!(list.len(), 4);
    assert!(list.iter().all(|d| d.purpose == Purpose::Pubhlth));
    assert!(list.windows(2).all(|w| w[0].at <= w[1].at));
    // Six years later they have aged out.
    assert!(
        accounting(
            log.events(),
            patient(),
            now() + TimeDelta::days(365 * 6 + 60)
        )
        .is_empty()
    );
    assert!(accounting(log.events(), other_patient(), now() + TimeDelta::days(30)).is_empty());
}

#[test]
fn break_glass_review_and_sampling() {
    let e = engine();
    let mut log = sample_log(20);
    let mut r = request(
        doctor_outside(),
        Action::Read,
        &[DataClass::LabResults],
        Purpose::Etreat,
    );
    r.context.break_glass = Some(BreakGlass {
        justification: Sensitive::new("collapsed".into()),
        started_at: now(),
    });
    r.context.at = now() + TimeDelta::hours(1);
    let d = e.decide(&r);
    assert!(d.broke_glass());
    let mut queue = ReviewQueue::new();
    let entry = log.record(aid(99), &r, &d).clone();
    assert!(entry.event.break_glass);
    queue.enqueue(
        &entry.event,
        r.context.break_glass.clone().unwrap().justification,
    );
    assert_eq!(queue.pending().count(), 1);
    assert!(!format!("{:?}", queue.items()).contains("collapsed"));

    let plan = SamplingPlan {
        seed: 7,
        period_days: 7,
        per_staff: 1,
    };
    let window = Period::new(now(), now() + TimeDelta::days(28)).unwrap();
    let sample = plan.select(log.events(), window);
    assert!(
        sample
            .iter()
            .any(|s| s.reason == SampleReason::BreakGlass && s.event == aid(99))
    );
    // One random access per staff member per week: 2 staff members over 3 weeks of events.
    let random = sample
        .iter()
        .filter(|s| matches!(s.reason, SampleReason::Random { .. }))
        .count();
    assert_eq!(random, 6);
    assert_eq!(
        plan.select(log.events(), window),
        sample,
        "deterministic for a seed"
    );
    let other = SamplingPlan { seed: 8, ..plan }.select(log.events(), window);
    assert_eq!(other.len(), sample.len());

    let reviewer = StaffId::from_uuid(Uuid::from_u128(77));
    queue
        .resolve(
            aid(99),
            ReviewStatus::Justified {
                reviewer,
                at: now() + TimeDelta::days(1),
            },
        )
        .unwrap();
    assert_eq!(queue.pending().count(), 0);
    assert!(queue.resolve(aid(99), ReviewStatus::Pending).is_err());
}

#[test]
fn entries_from_another_process_extend_the_chain_only_in_order() {
    let full = sample_log(6);
    let text = full.to_text();
    let lines: Vec<&str> = text.lines().collect();
    let head = format!("{}\n", lines[..2].join("\n"));
    let rest = format!("{}\n", lines[2..].join("\n"));
    let mut mine = AuditLog::from_text(head.as_bytes()).unwrap();
    assert_eq!(mine.extend_from_text(rest.as_bytes()).unwrap(), 4);
    assert_eq!(mine.to_text(), text);
    // The same lines again are refused whole.
    assert_eq!(
        mine.extend_from_text(rest.as_bytes()).map_err(|e| e.fault),
        Err(ChainFault::Inserted)
    );
    assert_eq!(mine.entries().len(), 6);
    // So is a gap.
    let mut short = AuditLog::from_text(format!("{}\n", lines[0]).as_bytes()).unwrap();
    assert_eq!(
        short.extend_from_text(rest.as_bytes()).map_err(|e| e.fault),
        Err(ChainFault::Removed { missing: 1 })
    );
    assert_eq!(short.entries().len(), 1);
}
