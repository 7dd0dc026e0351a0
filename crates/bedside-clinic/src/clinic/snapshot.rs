//! The clinic's state as one versioned, plain-data value, so start-up reads the newest
//! snapshot and replays only the journal after it instead of the whole history.
//!
//! A snapshot is built from the domain crates' own snapshot APIs (`PatientRegistry`,
//! `Schedule`, the consent `Engine`, `VitalsStore`, the ledger's journal, `ClaimBook`,
//! `RemittancePoster`) plus the clinic's own maps, the id generator's position and the audit
//! chain's head. It is taken at a journal position (commands applied, audit entries written)
//! when nothing is deferred, so it is exactly the state that replaying that prefix of the
//! journal builds; `tests/snapshot.rs` checks that against a full replay.
//!
//! Derived data is not stored: the match index and the SMS-identity index are rebuilt from
//! the registry, the fee schedule from the set-up, the survey definition from the built-in.

use super::{
    Billing, DuplicateCase, Invitation, Note, PaymentRecord, PendingCode, ProxyRecord, State,
    billing_desk_fees,
};
use crate::error::{ClinicError, StoreError};
use crate::integrity::hex;
use crate::phases::time;
use bedside_consent::audit::Checkpoint;
use bedside_consent::{AuditLog, Engine, Policy, ReviewQueue};
use bedside_core::{
    AppointmentId, ManualClock, PatientId, ProviderId, RelatedPersonId, SeededIdGenerator,
    Timestamp,
};
use bedside_records::PatientRegistry;
use bedside_schedule::{Schedule, ScheduleSnapshot};
use bedside_vitals::{AlertBook, VitalsSnapshot, VitalsStore};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The snapshot format this build writes. Version 2 stores the vitals section after the
/// rest, on a line of its own, so the two parse on two cores; version 1 (vitals inside) is
/// still read. A snapshot of another version is ignored (start-up then replays the journal),
/// never misread.
pub const STATE_SNAPSHOT_VERSION: u32 = 2;

/// The first line of a version-2 snapshot (a version-1 snapshot starts with `{`).
pub(crate) const V2_HEADER: &str = "bedside-snapshot 2\n";

/// The versions this build reads.
const READS: [u32; 2] = [1, STATE_SNAPSHOT_VERSION];

/// Where a snapshot stands in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotPosition {
    /// Journaled commands applied.
    pub commands: u64,
    /// Audit entries written.
    pub audit: u64,
}

/// The clinic's whole in-memory state as plain data (see the module docs).
#[derive(Serialize, Deserialize)]
pub(crate) struct StateSnapshot {
    version: u32,
    position: SnapshotPosition,
    /// The instant of the last command applied (the replay clock).
    clock: Timestamp,
    /// Where the internal id sequence stands.
    ids: u64,
    setup: Option<super::SetupSpec>,
    registry: bedside_records::RegistrySnapshot,
    schedule: Option<ScheduleSnapshot>,
    engine: bedside_consent::EngineSnapshot,
    audit: Checkpoint,
    reviews: ReviewQueue,
    /// The vitals store: inside the value in version 1 (and in memory), after it in the
    /// stored text of version 2 (see [`StateSnapshot::into_stored`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vitals: Option<VitalsSnapshot>,
    alerts: AlertBook,
    discharged: BTreeMap<PatientId, Timestamp>,
    confirmed: BTreeMap<AppointmentId, Timestamp>,
    booked_providers: BTreeMap<PatientId, BTreeSet<ProviderId>>,
    notes: BTreeMap<PatientId, Vec<Note>>,
    duplicates: Vec<DuplicateCase>,
    verified_phone: BTreeMap<PatientId, String>,
    phone_codes: BTreeMap<PatientId, PendingCode>,
    /// Absent in snapshots written before portal sign-in existed.
    #[serde(default)]
    sign_in_codes: BTreeMap<PatientId, PendingCode>,
    proxies: BTreeMap<RelatedPersonId, ProxyRecord>,
    sms_seen: BTreeSet<String>,
    payment_keys: Vec<(PatientId, String, PaymentRecord)>,
    vitals_uploads: Vec<(PatientId, chrono::NaiveDate, u32)>,
    sms_reminders: BTreeMap<AppointmentId, Vec<(String, Timestamp)>>,
    invitations: BTreeMap<AppointmentId, Invitation>,
    responses: Vec<bedside_survey::SurveyResponse>,
    /// The ledger's own journal (its format of record), hex-encoded.
    ledger: String,
    claims: bedside_ledger::ClaimBookSnapshot,
    poster: bedside_ledger::PosterSnapshot,
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

fn sorted<K: Ord + Clone, V: Clone>(map: &HashMap<K, V>) -> BTreeMap<K, V> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn invalid(message: String) -> ClinicError {
    StoreError::Corrupt {
        table: "snapshots",
        message,
    }
    .into()
}

impl State {
    /// The state as plain data at `position` (the caller guarantees nothing is deferred).
    pub(crate) fn snapshot(&self, position: SnapshotPosition) -> StateSnapshot {
        let mut payment_keys: Vec<_> = self
            .payment_keys
            .iter()
            .map(|((p, k), r)| (*p, k.clone(), r.clone()))
            .collect();
        payment_keys.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let mut vitals_uploads: Vec<_> = self
            .vitals_uploads
            .iter()
            .map(|(p, (d, n))| (*p, *d, *n))
            .collect();
        vitals_uploads.sort_unstable();
        let mut ledger = Vec::new();
        self.billing.books.ledger.write_journal(&mut ledger);
        StateSnapshot {
            version: STATE_SNAPSHOT_VERSION,
            position,
            clock: bedside_core::Clock::now(&*self.clock),
            ids: self.ids.position(),
            setup: self.setup.clone(),
            registry: self.registry.snapshot(),
            schedule: self.schedule.as_ref().map(Schedule::snapshot),
            engine: self.engine.snapshot(),
            audit: self.audit.checkpoint(),
            reviews: self.reviews.clone(),
            vitals: Some(self.vitals.snapshot()),
            alerts: self.alerts.clone(),
            discharged: self.discharged.clone(),
            confirmed: self.confirmed.clone(),
            booked_providers: sorted(&self.booked_providers),
            notes: sorted(&self.notes),
            duplicates: self.duplicates.clone(),
            verified_phone: sorted(&self.verified_phone),
            phone_codes: sorted(&self.phone_codes),
            sign_in_codes: sorted(&self.sign_in_codes),
            proxies: self.proxies.clone(),
            sms_seen: self.sms_seen.iter().cloned().collect(),
            payment_keys,
            vitals_uploads,
            sms_reminders: sorted(&self.sms_reminders),
            invitations: self.invitations.clone(),
            responses: self.responses.clone(),
            ledger: hex(&ledger),
            claims: self.billing.claims.snapshot(),
            poster: self.billing.poster.snapshot(),
        }
    }

    /// The state a stored snapshot ([`StateSnapshot::into_stored`]) holds, and its position;
    /// the audit log resumes at the snapshot's head (earlier entries stay in the store).
    ///
    /// The vitals section (the largest) is parsed and restored on the other core from the
    /// start, while the rest is parsed and restored and the match and phone indexes are
    /// rebuilt here.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] (table `snapshots`) naming what does not restore (never
    /// quoting the body).
    pub(crate) fn restore_stored(
        body: &str,
        policy: &str,
    ) -> Result<(Self, SnapshotPosition), ClinicError> {
        // Version 2: the header line, the vitals line, the rest. Version 1: one JSON value.
        let (state_text, vitals_text) = match body.strip_prefix(V2_HEADER) {
            Some(rest) => match rest.split_once('\n') {
                Some((vitals, state)) => (state, Some(vitals)),
                None => return Err(invalid("snapshot: the vitals line is not ended".into())),
            },
            None => (body, None),
        };
        let json = |what: &str, e: serde_json::Error| {
            invalid(format!("{what}: {}", crate::error::json_problem(&e)))
        };
        std::thread::scope(|scope| {
            let early = vitals_text.map(|text| {
                scope.spawn(move || {
                    time("restore: vitals", || {
                        let vitals = serde_json::from_str(text).map_err(|e| json("vitals", e))?;
                        VitalsStore::restore(vitals).map_err(|e| invalid(format!("vitals: {e}")))
                    })
                })
            });
            let mut snapshot: StateSnapshot =
                time("snapshot parse", || serde_json::from_str(state_text))
                    .map_err(|e| json("snapshot", e))?;
            if !READS.contains(&snapshot.version) {
                return Err(invalid(format!(
                    "snapshot version {} (this build reads {READS:?})",
                    snapshot.version
                )));
            }
            let restoring = match (early, snapshot.vitals.take()) {
                (Some(restoring), None) => restoring,
                (None, Some(vitals)) => scope.spawn(move || {
                    time("restore: vitals", || {
                        VitalsStore::restore(vitals).map_err(|e| invalid(format!("vitals: {e}")))
                    })
                }),
                _ => return Err(invalid("vitals: missing, or given twice".into())),
            };
            let position = snapshot.position;
            let mut state = Self::restore_rest(snapshot, policy)?;
            state.vitals = restoring
                .join()
                .map_err(|_| invalid("vitals: the restoring thread panicked".into()))??;
            Ok((state, position))
        })
    }

    /// Everything but the vitals store, from a parsed snapshot.
    fn restore_rest(snapshot: StateSnapshot, policy: &str) -> Result<Self, ClinicError> {
        {
            let mut state = State::new(policy)?;
            let clock = Arc::new(ManualClock::new(snapshot.clock));
            let ids = Arc::new(SeededIdGenerator::new(clock.clone(), snapshot.ids));
            state.clock = clock;
            state.ids = ids.clone();
            state.setup = snapshot.setup;
            state.registry = time("restore: registry", || {
                PatientRegistry::restore(ids, snapshot.registry)
            })
            .map_err(|e| invalid(format!("registry: {e}")))?;
            state.schedule = time("restore: schedule", || {
                snapshot.schedule.map(Schedule::restore).transpose()
            })
            .map_err(|e| invalid(format!("schedule: {e}")))?;
            let policy = Policy::from_json(policy)
                .map_err(|e| ClinicError::bad(format!("consent policy: {e}")))?;
            state.engine = time("restore: consent", || {
                Engine::restore(policy, snapshot.engine)
            })
            .map_err(|e| invalid(format!("consent: {e}")))?;
            state.audit = AuditLog::resume(snapshot.audit);
            state.reviews = snapshot.reviews;
            state.alerts = snapshot.alerts;
            state.discharged = snapshot.discharged;
            state.confirmed = snapshot.confirmed;
            state.booked_providers = snapshot.booked_providers.into_iter().collect();
            state.notes = snapshot.notes.into_iter().collect();
            state.duplicates = snapshot.duplicates;
            state.verified_phone = snapshot.verified_phone.into_iter().collect();
            state.phone_codes = snapshot.phone_codes.into_iter().collect();
            state.sign_in_codes = snapshot.sign_in_codes.into_iter().collect();
            state.proxies = snapshot.proxies;
            state.sms_seen = snapshot.sms_seen.into_iter().collect();
            state.payment_keys = snapshot
                .payment_keys
                .into_iter()
                .map(|(p, k, r)| ((p, k), r))
                .collect();
            // (Snapshots written before only the latest day was kept list every day.)
            for (p, d, n) in snapshot.vitals_uploads {
                let latest = state.vitals_uploads.entry(p).or_insert((d, n));
                if d > latest.0 {
                    *latest = (d, n);
                }
            }
            state.sms_reminders = snapshot.sms_reminders.into_iter().collect();
            state.invitations = snapshot.invitations;
            state.responses = snapshot.responses;
            let journal =
                unhex(&snapshot.ledger).ok_or_else(|| invalid("ledger: not hex".into()))?;
            let replayed = time("restore: ledger replay", || {
                bedside_ledger::replay(&journal)
            });
            if let Some(e) = replayed.stopped {
                return Err(invalid(format!("ledger: {e}")));
            }
            let books =
                bedside_ledger::Books::open_in(replayed.ledger, bedside_ledger::Currency::USD)
                    .map_err(|e| invalid(format!("books: {e}")))?;
            let poster = bedside_ledger::RemittancePoster::restore(books.clinic, snapshot.poster);
            state.billing = Billing {
                books,
                fees: match &state.setup {
                    Some(spec) => billing_desk_fees(spec)?,
                    None => bedside_ledger::FeeSchedule::new(),
                },
                claims: bedside_ledger::ClaimBook::restore(snapshot.claims),
                poster,
            };
            // Derived indexes, rebuilt from the registry.
            time("restore: match and phone indexes", || {
                let patients: Vec<PatientId> = state.registry.patients().collect();
                for id in patients {
                    state.index_match(id);
                    state.index_phones(id);
                }
            });
            Ok(state)
        }
    }
}

impl StateSnapshot {
    /// The stored text (version 2): the line [`V2_HEADER`], the vitals section's JSON on one
    /// line, then the rest of the snapshot's JSON. The vitals section is compact JSON built
    /// from numbers and base64 text only, so it holds no raw newline, and finding where it
    /// ends costs one `memchr`, not a parse. (The rest may hold newlines: FHIR elements the
    /// model does not cover are kept as the JSON they arrived in.)
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when a section does not serialise (never for a state the
    /// clinic built).
    pub(crate) fn into_stored(mut self) -> Result<String, ClinicError> {
        let json = |e: serde_json::Error| invalid(crate::error::json_problem(&e));
        let vitals = self
            .vitals
            .take()
            .ok_or_else(|| invalid("vitals: not in the snapshot".into()))?;
        self.version = STATE_SNAPSHOT_VERSION;
        let mut body = V2_HEADER.as_bytes().to_vec();
        serde_json::to_writer(&mut body, &vitals).map_err(json)?;
        drop(vitals);
        if body[V2_HEADER.len()..].contains(&b'\n') {
            return Err(invalid("vitals: a raw newline in the section".into()));
        }
        body.push(b'\n');
        serde_json::to_writer(&mut body, &self).map_err(json)?;
        String::from_utf8(body).map_err(|_| invalid("snapshot: not UTF-8".into()))
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xff];
        assert_eq!(unhex(&hex(&bytes)).as_deref(), Some(&bytes[..]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
