//! [`Clinic`]: the application services. Plain Rust, testable without HTTP.
//!
//! Every command is a [`Command`] value: it is applied to the in-memory domain state (each
//! domain operation is all-or-nothing) and, if accepted, journaled with its side effects in one
//! store transaction. Should the transaction fail, the state is rebuilt from the store, so
//! memory never runs ahead of disk. Every read of patient data asks the consent engine with the
//! caller's actor and purpose and appends the decision to the audit chain before answering.
//!
//! This file is over 800 lines: the lock and session machinery and the one `execute` path every
//! command takes, which only make sense together; the journeys are in the submodules.

use crate::access::{self, Endpoint};
use crate::auth::{Principal, hash_token, new_code, new_token};
use crate::error::{ClinicError, StoreError};
use crate::notify::Notifier;
use crate::store::{Batch, OutboxMessage, Store, TokenRow};
use bedside_consent::{
    AccessChannel, Action, AuditLog, BreakGlass, CareTeam, ClassSet, DataClass, Engine, Policy,
    ProxyGrant, Purpose as ConsentPurpose, Relationship, Request, ReviewQueue, accounting,
};
use bedside_core::{
    Actor, AlertId, AppointmentId, Channel, Clock, Language, ManualClock, OrganisationId,
    PatientId, Period, ProviderId, RelatedPersonId, Role, RoomId, SeededIdGenerator, Sensitive,
    StaffId, Timestamp,
};
use bedside_records::history::ChangeRequestId;
use bedside_records::matching::{
    MatchGrade, MatchIndex, MatchRecord, MatcherConfig, Model, RankedMatch,
};
use bedside_records::{ContactPurpose, OptState, Patient, PatientRegistry, RecordEdit};
use bedside_schedule::reminders::{
    ContactPreferences, MessageContext, ReminderConfig, ReminderSubject, plan_reminders, render,
};
use bedside_schedule::{
    AppointmentStatus, AppointmentType, BookRequest, Calendar, CancelReason, CancelRequest,
    GridConfig, Provider, RepairRequest, ReplyIntent, RescheduleRequest, Room, Schedule,
    SlotOption, SlotQuery, parse_reply,
};
use bedside_vitals::{AlertBook, CarePlan, IngestConfig, VitalsStore, alert, ndjson};
use chrono::{NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

mod audit;
mod billing;
mod booking;
mod command;
mod config;
mod directory;
mod gate;
mod holds;
mod messaging;
mod monitoring;
mod patient_search;
mod records;
mod registration;
#[cfg(test)]
mod replay_tests;
mod scheduling_resources;
mod search_index;
mod sign_in;
mod snapshot;
mod state;
mod surveys;

pub use audit::*;
pub use billing::*;
pub use booking::*;
pub use command::*;
use command::{Apply, Cx, Effects};
pub use config::*;
pub use directory::*;
pub use holds::*;
pub use messaging::*;
pub use monitoring::*;
pub use patient_search::*;
pub use records::*;
pub use registration::*;
pub use scheduling_resources::*;
pub use sign_in::*;
pub use snapshot::{STATE_SNAPSHOT_VERSION, SnapshotPosition};
use state::{State, audit_text};
pub use surveys::*;

struct Inner {
    store: Box<dyn Store>,
    state: State,
    /// Why writes are refused (an integrity break), if they are.
    degraded: Option<String>,
    /// A permitted decision whose audit entry rides in the next command's transaction.
    deferred: Batch,
    /// Journaled commands applied to `state` (the position [`Store::load_since`] continues
    /// from).
    applied: u64,
    /// Why this process could not catch up with commands other processes committed, if it
    /// could not: writes are refused until a later catch-up succeeds.
    behind: Option<String>,
    /// The chain point the state snapshot this process started from vouches for (`None`:
    /// it replayed the whole journal). Start-up verifies the chain after it only;
    /// [`Clinic::verify_history`] verifies all of it.
    restored_from: Option<crate::integrity::ChainPoint>,
    /// The journal position of the newest snapshot this process wrote or started from.
    snapshot_at: u64,
    /// Whether the last session left the database's write lock held for the next one (see
    /// [`Session`]), and how many sessions in a row have been handed it.
    held_over: bool,
    handoffs: u32,
}

/// Sessions in a row that may inherit the database's write lock while more requests wait,
/// before it is released so other nodes get their turn.
const MAX_HANDOFFS: u32 = 32;

/// The clinic's lock, and on a shared store also the database's write lock, for one request.
///
/// On a store other processes write ([`Store::shared`]), taking it catches the state up with
/// what they committed, and releasing it writes any deferred audit entries first: another
/// process must never number an audit entry this one already handed out.
struct Session<'a> {
    guard: MutexGuard<'a, Inner>,
    write_locked: bool,
    /// Requests waiting for the clinic's lock: while there are some, the write lock is handed
    /// on instead of released, so a burst of requests shares one lock round trip and one
    /// catch-up (group commit across requests, bounded by [`MAX_HANDOFFS`]).
    waiting: &'a std::sync::atomic::AtomicUsize,
    /// For rebuilding memory when the store lost held-back batches ([`Store::take_lost`]).
    config: &'a ClinicConfig,
}

/// The clinic's lock for a check that writes nothing ([`Clinic::fresh`]).
struct Fresh<'a> {
    guard: MutexGuard<'a, Inner>,
    waiting: &'a std::sync::atomic::AtomicUsize,
    config: &'a ClinicConfig,
}

impl std::ops::Deref for Fresh<'_> {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.guard
    }
}

impl std::ops::DerefMut for Fresh<'_> {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.guard
    }
}

impl Drop for Fresh<'_> {
    fn drop(&mut self) {
        let inner = &mut *self.guard;
        if inner.held_over && self.waiting.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            inner.held_over = false;
            inner.handoffs = 0;
            if let Err(e) = inner.store.unlock_writes() {
                eprintln!("clinic: releasing the database write lock failed: {e}");
            }
            Clinic::recover_lost(inner, self.config);
        }
    }
}

impl std::ops::Deref for Session<'_> {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.guard
    }
}

impl std::ops::DerefMut for Session<'_> {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.guard
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        if !self.write_locked {
            return;
        }
        let inner = &mut *self.guard;
        let deferred = std::mem::take(&mut inner.deferred);
        let written = inner.store.commit(&deferred);
        if let Err(e) = &written {
            // The entries are lost with this process's copy of them; the next catch-up
            // rebuilds numbering from the database. Reported, never ignored.
            eprintln!("clinic: writing deferred audit entries failed: {e}");
            inner.behind = Some("deferred audit entries could not be written".into());
        }
        let waiting = self.waiting.load(std::sync::atomic::Ordering::SeqCst) > 0;
        if written.is_ok() && inner.behind.is_none() && waiting && inner.handoffs < MAX_HANDOFFS {
            inner.held_over = true;
            inner.handoffs += 1;
            return;
        }
        inner.handoffs = 0;
        if let Err(e) = inner.store.unlock_writes() {
            eprintln!("clinic: releasing the database write lock failed: {e}");
        }
        Clinic::recover_lost(inner, self.config);
    }
}

/// The clinic: domain state, store and clock behind one lock.
pub struct Clinic {
    inner: Mutex<Inner>,
    /// The store's group flusher ([`Durability::Group`](crate::Durability::Group)), waited on
    /// outside the lock.
    group: Option<Arc<crate::store::GroupSync>>,
    /// The store's concurrent token reader, used without the lock ([`Store::token_reader`]).
    tokens: Option<Arc<dyn crate::store::TokenReader>>,
    clock: Arc<dyn Clock>,
    config: ClinicConfig,
    /// Threads waiting in [`Clinic::lock`].
    waiting: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for Clinic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clinic")
            .field("name", &self.config.name)
            .finish_non_exhaustive()
    }
}

impl Clinic {
    /// Opens a clinic on a store: replays the journal and verifies the audit chain.
    ///
    /// # Errors
    /// [`ClinicError::Storage`] when the store cannot be read or the journal does not replay.
    pub fn open(
        store: Box<dyn Store>,
        clock: Arc<dyn Clock>,
        config: ClinicConfig,
    ) -> Result<Self, ClinicError> {
        let state = State::new(&config.policy_json)?;
        let mut inner = Inner {
            store,
            state,
            degraded: None,
            deferred: Batch::default(),
            applied: 0,
            behind: None,
            restored_from: None,
            snapshot_at: 0,
            held_over: false,
            handoffs: 0,
        };
        Self::reload(&mut inner, &config)?;
        // A break in the tamper-evident chain does not stop the clinic: it serves reads and
        // refuses writes until the privacy officer has investigated (`/v1/audit/verify`).
        // After a snapshot only the batches since it are re-read here; `verify_history` reads
        // the rest (the server runs it in the background at once).
        let report = inner
            .store
            .verify_chain_from(inner.restored_from.as_ref())?;
        if let Some(b) = &report.broken {
            eprintln!(
                "clinic: integrity check failed ({b}); serving reads only, writes are refused"
            );
            inner.degraded = Some(b.to_string());
        }
        Self::fill_holds(&mut inner, &config)?;
        let group = inner.store.group_sync();
        let tokens = inner.store.token_reader();
        Ok(Clinic {
            inner: Mutex::new(inner),
            group,
            tokens,
            clock,
            config,
            waiting: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// Fills the database's holds table (see [`crate::store::Hold`]) from the state, once, for
    /// a store whose appointments were booked before the table existed. Under the write lock
    /// and after catching up, so two nodes starting at once fill it once; each appointment's
    /// holds are released before they are written, so a fill cut short is simply redone.
    fn fill_holds(inner: &mut Inner, config: &ClinicConfig) -> Result<(), ClinicError> {
        const FILLED: &str = "holds_filled";
        if inner.store.meta(FILLED)?.is_some() {
            return Ok(());
        }
        inner.store.lock_writes()?;
        let mut fill = || -> Result<(), ClinicError> {
            if inner.store.meta(FILLED)?.is_some() {
                return Ok(());
            }
            if inner.store.shared() {
                Self::catch_up(inner, config)?;
            }
            let holds = inner.state.all_holds();
            let mut release: Vec<String> = holds.iter().map(|h| h.appointment.clone()).collect();
            release.dedup();
            inner.store.commit(&Batch {
                release,
                holds,
                ..Batch::default()
            })?;
            inner.store.set_meta(FILLED, "1")?;
            Ok(())
        };
        let filled = fill();
        let unlocked = inner.store.unlock_writes();
        filled?;
        unlocked?;
        Ok(())
    }

    /// Waits until every commit this thread made since the last call is durable. A no-op
    /// unless the store was opened with [`Durability::Group`](crate::Durability::Group),
    /// where commits share one flush: the HTTP layer calls this before it answers, and an
    /// in-process embedder calls it before it treats a write as durable.
    ///
    /// # Errors
    /// [`ClinicError::Storage`] when the flush fails: the write is then not known durable.
    pub fn wait_durable(&self) -> Result<(), ClinicError> {
        let (first, last) = crate::store::take_commits();
        match &self.group {
            Some(group) if last > 0 => Ok(group.wait_for(first, last)?),
            _ => Ok(()),
        }
    }

    fn reload(inner: &mut Inner, config: &ClinicConfig) -> Result<(), ClinicError> {
        // Memory is rebuilt from the store as it is: whatever it lost is accounted for.
        inner.store.take_lost();
        match Self::restore_snapshot(inner, config) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            // A snapshot that fails its checks is reported and passed over, never trusted:
            // the journal is the record.
            Err(e) => eprintln!(
                "clinic: the newest state snapshot was not used ({e}); replaying the whole journal"
            ),
        }
        let loaded = inner.store.load()?;
        let mut state = State::new(&config.policy_json)?;
        state.replay(&loaded.commands, 0, config)?;
        // The whole chain is re-verified from the rows.
        state.audit = AuditLog::from_text(audit_text(&loaded.audit).as_bytes()).map_err(|e| {
            StoreError::Corrupt {
                table: "audit",
                message: e.to_string(),
            }
        })?;
        state.enqueue_reviews(loaded.reviews);
        inner.state = state;
        inner.applied = loaded.commands.len() as u64;
        inner.behind = None;
        inner.restored_from = None;
        inner.snapshot_at = 0;
        Ok(())
    }

    /// Starts from the newest stored snapshot and replays only the journal after it. `false`
    /// when there is none.
    fn restore_snapshot(inner: &mut Inner, config: &ClinicConfig) -> Result<bool, ClinicError> {
        let Some(stored) = inner.store.latest_snapshot()? else {
            return Ok(false);
        };
        let (mut state, position) = State::restore_stored(&stored.body, &config.policy_json)?;
        if (position.commands, position.audit) != (stored.commands, stored.audit) {
            return Err(StoreError::Corrupt {
                table: "snapshots",
                message: format!("snapshot at command {}: position mismatch", stored.commands),
            }
            .into());
        }
        let tail = inner.store.load_after(position.commands, position.audit)?;
        state.replay(&tail.commands, position.commands, config)?;
        state
            .audit
            .extend_from_text(audit_text(&tail.audit).as_bytes())
            .map_err(|e| StoreError::Corrupt {
                table: "audit",
                message: e.to_string(),
            })?;
        state.enqueue_reviews(tail.reviews);
        inner.state = state;
        inner.applied = position.commands + tail.commands.len() as u64;
        inner.behind = None;
        inner.restored_from = Some(stored.chain);
        inner.snapshot_at = position.commands;
        Ok(true)
    }

    /// Whether this clinic started from a state snapshot (and so verified only the chain
    /// after it; see [`Clinic::verify_history`]).
    pub fn started_from_snapshot(&self) -> bool {
        self.read().restored_from.is_some()
    }

    /// Whether enough commands were journaled since the newest snapshot this process knows
    /// of for a new one to be worth writing ([`ClinicConfig::snapshot_every`]).
    pub fn snapshot_due(&self) -> bool {
        let inner = self.read();
        inner.applied >= inner.snapshot_at + self.config.snapshot_every.max(1)
    }

    /// Writes a snapshot of the state at the current journal position (after writing any
    /// deferred audit entries, so the snapshot holds exactly what is committed). Requests wait
    /// while the state is copied and while the snapshot is stored, not while it is
    /// serialised (see `docs/BENCHMARKS.md` for the times).
    ///
    /// # Errors
    /// [`ClinicError::Storage`] when the store refuses the write (the journal is untouched).
    pub fn write_snapshot(&self) -> Result<SnapshotPosition, ClinicError> {
        let mut inner = self.lock();
        let deferred = std::mem::take(&mut inner.deferred);
        inner.store.commit(&deferred)?;
        if let Some(why) = &inner.behind {
            return Err(StoreError::Corrupt {
                table: "snapshots",
                message: format!("not written: {why}"),
            }
            .into());
        }
        let position = SnapshotPosition {
            commands: inner.applied,
            audit: inner.state.audit.len(),
        };
        // Copy the state under the lock; serialise it with requests flowing again.
        let chain = inner.store.chain_point()?;
        let copy = inner.state.snapshot(position);
        drop(inner);
        let body = copy.into_stored()?;
        let mut inner = self.lock();
        inner
            .store
            .save_snapshot(position.commands, position.audit, &chain, &body)?;
        inner.snapshot_at = inner.snapshot_at.max(position.commands);
        Ok(position)
    }

    /// Re-reads and verifies the whole chain in the database, as start-up would without a
    /// snapshot; a break puts the clinic in degraded mode (reads only). A clinic that started
    /// from a snapshot verified only what followed it, so the server runs this once in the
    /// background after start-up. Requests wait while it runs.
    ///
    /// # Errors
    /// [`ClinicError::Storage`] when the database or the anchor cannot be read.
    pub fn verify_history(&self) -> Result<Option<String>, ClinicError> {
        let mut inner = self.lock();
        let report = inner.store.verify_chain()?;
        if let Some(b) = &report.broken {
            eprintln!(
                "clinic: integrity check failed ({b}); serving reads only, writes are refused"
            );
            inner.degraded = Some(b.to_string());
        }
        Ok(report.broken.map(|b| b.to_string()))
    }

    /// Applies what other processes committed since this one last looked (see [`Session`]).
    fn catch_up(inner: &mut Inner, config: &ClinicConfig) -> Result<(), ClinicError> {
        let audit_len = inner.state.audit.len();
        let tail = inner.store.load_since(inner.applied, audit_len)?;
        if tail.commands.is_empty() && tail.audit.is_empty() {
            return Ok(());
        }
        inner.state.replay(&tail.commands, inner.applied, config)?;
        inner.applied += tail.commands.len() as u64;
        // The new entries must continue this process's chain.
        inner
            .state
            .audit
            .extend_from_text(audit_text(&tail.audit).as_bytes())
            .map_err(|e| StoreError::Corrupt {
                table: "audit",
                message: e.to_string(),
            })?;
        inner.state.enqueue_reviews(tail.reviews);
        Ok(())
    }

    /// Every journaled command, in order, exactly as stored: `(instant, kind, body)` (for
    /// backups, inspection and the journal-format tests; bodies carry PHI, so this is never
    /// served over HTTP).
    ///
    /// # Errors
    /// [`ClinicError::Storage`] when the store cannot be read.
    pub fn export_journal(&self) -> Result<Vec<(String, String, String)>, ClinicError> {
        let mut inner = self.lock();
        Ok(inner.store.load_after(0, i64::MAX as u64)?.commands)
    }

    /// Closes the clinic and hands back its store (so it can be reopened with another
    /// clock, as the demo seed does after writing its back-dated history).
    ///
    /// # Errors
    /// [`ClinicError::Storage`] when a pending audit entry cannot be written.
    pub fn into_store(self) -> Result<Box<dyn Store>, ClinicError> {
        let mut inner = self.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        let deferred = std::mem::take(&mut inner.deferred);
        if !deferred.is_empty() {
            inner.store.commit(&deferred)?;
        }
        if std::mem::take(&mut inner.held_over) {
            inner.store.unlock_writes()?;
        }
        Ok(inner.store)
    }

    fn lock(&self) -> Session<'_> {
        // A panic while holding the lock cannot leave half-applied state behind (commands
        // are atomic and the store rolls back), so a poisoned lock is safe to reuse.
        use std::sync::atomic::Ordering::SeqCst;
        self.waiting.fetch_add(1, SeqCst);
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        self.waiting.fetch_sub(1, SeqCst);
        Self::recover_lost(&mut guard, &self.config);
        let mut write_locked = false;
        if guard.store.shared() {
            if std::mem::take(&mut guard.held_over) {
                // Handed on by the previous session: still held, and nobody else has written.
                write_locked = true;
            } else {
                match guard.store.lock_writes() {
                    Ok(()) => write_locked = true,
                    Err(e) => eprintln!("clinic: taking the database write lock failed: {e}"),
                }
            }
            let inner = &mut *guard;
            match Self::catch_up(inner, &self.config) {
                Ok(()) if write_locked => inner.behind = None,
                Ok(()) => inner.behind = Some("the database write lock is unavailable".into()),
                Err(e) => {
                    eprintln!(
                        "clinic: catching up with the database failed: {e}; writes are refused"
                    );
                    // A half-applied tail leaves memory ahead of the position: start over.
                    if Self::reload(inner, &self.config).is_err() {
                        inner.behind = Some("state could not be rebuilt from the store".into());
                    } else {
                        inner.behind = Some("catching up with the database failed".into());
                    }
                }
            }
        }
        Session {
            guard,
            write_locked,
            waiting: &self.waiting,
            config: &self.config,
        }
    }

    /// The clinic's lock and, on a shared store, what other processes committed — but not the
    /// database's write lock: for checks that read the state and write nothing (a token, an
    /// endpoint's permit). One round trip to learn the head, none while this process holds the
    /// write lock.
    ///
    /// It counts as waiting, so a session may hand the write lock on while such checks queue
    /// (they come before the write of the same request); the last of them to leave with nobody
    /// waiting releases a handed-on lock ([`Fresh`]'s drop), so it is never held while idle.
    fn fresh(&self) -> Fresh<'_> {
        use std::sync::atomic::Ordering::SeqCst;
        self.waiting.fetch_add(1, SeqCst);
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        self.waiting.fetch_sub(1, SeqCst);
        Self::recover_lost(&mut guard, &self.config);
        if guard.store.shared() {
            let inner = &mut *guard;
            if let Err(e) = Self::catch_up(inner, &self.config) {
                eprintln!("clinic: catching up with the database failed: {e}; writes are refused");
                if Self::reload(inner, &self.config).is_err() {
                    inner.behind = Some("state could not be rebuilt from the store".into());
                } else {
                    inner.behind = Some("catching up with the database failed".into());
                }
            }
        }
        Fresh {
            guard,
            waiting: &self.waiting,
            config: &self.config,
        }
    }

    /// The clinic's lock alone, for reads that neither audit nor write (the public slot search
    /// and directory, health): no database round trip. On a shared store they see other
    /// nodes' writes after the next [`Clinic::refresh`] (a node polls every 250 ms), and this
    /// node's own writes at once.
    fn read(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies what other processes committed, without taking the database's write lock: a
    /// node calls it every few hundred milliseconds so reads everywhere see every write within
    /// a second. A no-op on a store nobody else writes.
    ///
    /// # Errors
    /// [`ClinicError::Storage`] when the database cannot be read or the tail does not apply
    /// (memory is then rebuilt from the store).
    pub fn refresh(&self) -> Result<(), ClinicError> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if !guard.store.shared() {
            return Ok(());
        }
        let inner = &mut *guard;
        Self::recover_lost(inner, &self.config);
        if let Err(e) = Self::catch_up(inner, &self.config) {
            if let Err(again) = Self::reload(inner, &self.config) {
                inner.behind = Some("state could not be rebuilt from the store".into());
                return Err(again);
            }
            return Err(e);
        }
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &ClinicConfig {
        &self.config
    }

    /// The current instant from the clinic's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Applies and journals a command.
    ///
    /// # Errors
    /// The command's refusal, or [`ClinicError::Storage`] (the command is then not applied).
    pub fn execute(&self, command: Command) -> Result<(), ClinicError> {
        let mut inner = self.lock();
        self.execute_locked(&mut inner, command)
    }

    /// Takes the lock and applies and journals a typed command.
    fn run<C: Apply + Into<Command>>(&self, command: C) -> Result<C::Reply, ClinicError> {
        let mut inner = self.lock();
        self.execute_locked(&mut inner, command)
    }

    fn execute_locked<C: Apply + Into<Command>>(
        &self,
        inner: &mut Inner,
        command: C,
    ) -> Result<C::Reply, ClinicError> {
        self.execute_with(inner, command, Batch::default())
    }

    /// Applies a command and commits it with `extra` (tokens, messages the command itself
    /// cannot carry — a one-time code is journaled only as its hash) in one transaction.
    fn execute_with<C: Apply + Into<Command>>(
        &self,
        inner: &mut Inner,
        command: C,
        extra: Batch,
    ) -> Result<C::Reply, ClinicError> {
        if inner.degraded.is_some() {
            return Err(ClinicError::Degraded);
        }
        if let Some(why) = &inner.behind {
            eprintln!("clinic: refusing a write: {why}");
            return Err(StoreError::Corrupt {
                table: "commands",
                message: "this process is behind the database".into(),
            }
            .into());
        }
        let at = self.clock.now();
        let deferred = std::mem::take(&mut inner.deferred);
        let (reply, fx) = match inner.state.apply(&command, at, &self.config) {
            Ok(applied) => applied,
            Err(refused) => {
                // The decision that let the caller try is still recorded.
                if let Err(e) = inner.store.commit(&deferred) {
                    self.rebuild(inner);
                    return Err(e.into());
                }
                return Err(refused);
            }
        };
        let command: Command = command.into();
        let journaled = fx.journal.as_ref().unwrap_or(&command);
        let body = crate::journal::encode(journaled).map_err(|e| StoreError::Corrupt {
            table: "commands",
            message: e.to_string(),
        })?;
        let mut outbox = fx.outbox;
        outbox.extend(extra.outbox);
        let release: Vec<String> = fx.occupancy.iter().map(ToString::to_string).collect();
        let holds = fx
            .occupancy
            .iter()
            .flat_map(|id| inner.state.holds_of(*id))
            .collect();
        let batch = Batch {
            release,
            holds,
            command: Some((at.to_rfc3339(), command.kind().to_string(), body)),
            audit: deferred.audit,
            reviews: deferred.reviews,
            outbox,
            withdraw: fx.withdraw,
            tokens: extra.tokens,
            unique: fx
                .unique
                .into_iter()
                .map(|(kind, key)| (kind.to_string(), key))
                .collect(),
        };
        if let Err(e) = inner.store.commit(&batch) {
            // Memory ran ahead of disk: rebuild it from what is stored.
            self.rebuild(inner);
            return Err(e.into());
        }
        inner.applied += 1;
        Ok(reply)
    }

    /// Rebuilds memory when the store lost batches it had accepted and held back (a failed
    /// group write, [`Store::take_lost`]); their requests are told by the group flush. If even
    /// that fails, the clinic stops accepting writes.
    fn recover_lost(inner: &mut Inner, config: &ClinicConfig) {
        if !inner.store.take_lost() {
            return;
        }
        eprintln!("clinic: a group of commits was not written; rebuilding state from the store");
        if Self::reload(inner, config).is_err() {
            eprintln!("clinic: rebuilding state after a lost group failed; writes are refused");
            inner.degraded = Some("state could not be rebuilt from the store".into());
        }
    }

    /// Rebuilds memory from the store after a failed commit; if even that fails, the clinic
    /// stops accepting writes rather than serve state the disk does not hold.
    fn rebuild(&self, inner: &mut Inner) {
        if let Err(e) = Self::reload(inner, &self.config) {
            eprintln!(
                "clinic: rebuilding state after a failed commit failed: {e}; writes are refused"
            );
            inner.degraded = Some("state could not be rebuilt from the store".into());
        }
    }

    fn token_row(
        &self,
        token: &str,
        principal: &Principal,
        expires_at: Timestamp,
    ) -> Result<TokenRow, ClinicError> {
        let principal = serde_json::to_string(principal).map_err(|e| StoreError::Corrupt {
            table: "tokens",
            message: e.to_string(),
        })?;
        Ok(TokenRow {
            hash: hash_token(token),
            principal,
            expires_at: expires_at.to_rfc3339(),
        })
    }

    /// A fresh token for `principal` and the row that stores its hash.
    fn fresh_token(&self, principal: &Principal) -> Result<(String, TokenRow), ClinicError> {
        let prefix = match principal {
            Principal::Staff { .. } => "st",
            Principal::Patient { .. } => "pt",
            Principal::Proxy { .. } => "px",
        };
        let token = new_token(prefix)
            .map_err(|_| StoreError::Io(std::io::Error::other("the OS random generator failed")))?;
        let row = self.token_row(&token, principal, self.now() + self.config.token_ttl)?;
        Ok((token, row))
    }

    /// Issues a bearer token for a principal; only its hash is stored.
    ///
    /// # Errors
    /// [`ClinicError::Storage`] when it cannot be stored or the OS gives no randomness.
    pub fn issue_token(&self, principal: &Principal) -> Result<String, ClinicError> {
        let (token, row) = self.fresh_token(principal)?;
        let batch = Batch {
            tokens: vec![row],
            ..Batch::default()
        };
        self.lock().store.commit(&batch)?;
        Ok(token)
    }

    /// Stores a known token (demo seeding and tests), valid until `expires_at`.
    ///
    /// # Errors
    /// [`ClinicError::Storage`] when it cannot be stored.
    pub fn store_token(
        &self,
        token: &str,
        principal: &Principal,
        expires_at: Timestamp,
    ) -> Result<(), ClinicError> {
        let batch = Batch {
            tokens: vec![self.token_row(token, principal, expires_at)?],
            ..Batch::default()
        };
        self.lock().store.commit(&batch)?;
        Ok(())
    }

    /// Who holds this token.
    ///
    /// # Errors
    /// [`ClinicError::Unauthenticated`] for an unknown or expired token.
    pub fn authenticate(&self, token: &str) -> Result<Principal, ClinicError> {
        let hash = hash_token(token);
        // Beside the lock where the store offers it (a round trip each on PostgreSQL), so a
        // token check does not wait behind another request's write, nor it behind this.
        let row = match &self.tokens {
            Some(reader) => reader.token(&hash)?,
            None => self.fresh().store.token(&hash)?,
        };
        let row = row.ok_or(ClinicError::Unauthenticated)?;
        let expires: Timestamp = row
            .expires_at
            .parse()
            .map_err(|_| ClinicError::Unauthenticated)?;
        let now = self.now();
        if expires <= now {
            return Err(ClinicError::Unauthenticated);
        }
        let principal: Principal =
            serde_json::from_str(&row.principal).map_err(|_| ClinicError::Unauthenticated)?;
        // A proxy's token lives only as long as its grant: revoked or expired, it stops at once.
        if matches!(principal, Principal::Proxy { .. })
            && self.fresh().state.proxy_classes(&principal, now).is_empty()
        {
            return Err(ClinicError::Unauthenticated);
        }
        Ok(principal)
    }

    /// Whether the clinic has been set up.
    pub fn is_set_up(&self) -> bool {
        self.read().state.setup.is_some()
    }

    /// Whether writes are refused because the integrity check found a break, and why.
    pub fn degraded(&self) -> Option<String> {
        self.read().degraded.clone()
    }

    // ---- vitals --------------------------------------------------------------------------

    /// Checks that no provider, room or patient is double-booked.
    ///
    /// # Errors
    /// [`ClinicError::Conflict`] naming the broken invariant.
    pub fn check_invariants(&self) -> Result<(), ClinicError> {
        let inner = self.lock();
        inner
            .state
            .schedule()?
            .check_invariants()
            .map_err(ClinicError::conflict)
    }

    /// Ids of the staff for demo seeding and tests: a new staff principal.
    pub fn staff_principal(roles: &[Role], provider: Option<ProviderId>) -> Principal {
        Principal::Staff {
            id: StaffId::from_uuid(uuid::Uuid::now_v7()),
            roles: roles.to_vec(),
            provider,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setup_journaled_before_fees_were_part_of_it_replays_with_the_demo_schedule()
    -> Result<(), Box<dyn std::error::Error>> {
        let clock = bedside_core::ManualClock::new("2026-06-05T14:00:00Z".parse()?);
        let spec = crate::seed::setup_spec(bedside_core::Clock::now(&clock))?;
        assert!(
            !spec.fees.is_empty(),
            "the demo clinic brings its fee schedule"
        );
        let mut old = serde_json::to_value(Command::Setup(Box::new(spec)))?;
        let fields = old.as_object_mut().ok_or("object")?;
        assert!(fields.remove("fees").is_some() && fields.remove("payer").is_some());
        let Command::Setup(read) = serde_json::from_value::<Command>(old)? else {
            return Err("not a setup".into());
        };
        assert_eq!(read.fees, crate::seed::legacy_fee_schedule());
        assert_eq!(read.payer, crate::seed::legacy_payer());
        Ok(())
    }

    #[test]
    fn debug_output_carries_no_personal_data() {
        let form = Registration {
            given: vec!["Zelda".into()],
            family: "Quartermaine".into(),
            birth_date: "1961-04-02".into(),
            phone: Some("+12125550199".into()),
            email: None,
            postal_code: None,
            sms_reminders: None,
            language: None,
        };
        let text = format!("{form:?}");
        assert!(!text.contains("Zelda") && !text.contains("1961") && !text.contains("555"));
        let command = Command::Vitals(Vitals {
            patient: PatientId::from_uuid(uuid::Uuid::from_u128(1)),
            label: "upload".into(),
            body: Sensitive::new("{\"value\":142}".into()),
        });
        assert!(!format!("{command:?}").contains("142"));
    }

    #[test]
    fn phone_numbers_normalise_for_sender_matching() {
        for (raw, want) in [
            ("+1 (212) 555-0146", "+12125550146"),
            ("  +12125550146 ", "+12125550146"),
            ("212.555.0146", "2125550146"),
            ("", ""),
        ] {
            assert_eq!(normalise_phone(raw), want, "{raw}");
        }
    }
}
