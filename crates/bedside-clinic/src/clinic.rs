//! [`Clinic`]: the application services. Plain Rust, testable without HTTP.
//!
//! Every command is a [`Command`] value: it is applied to the in-memory domain state (each
//! domain operation is all-or-nothing) and, if accepted, journaled with its side effects in one
//! store transaction. Should the transaction fail, the state is rebuilt from the store, so
//! memory never runs ahead of disk. Every read of patient data asks the consent engine with the
//! caller's actor and purpose and appends the decision to the audit chain before answering.

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
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

mod snapshot;

pub use snapshot::{STATE_SNAPSHOT_VERSION, SnapshotPosition};

/// The clinic's consent policy (minimum necessary, right of access, proxies, break-the-glass).
pub const DEFAULT_POLICY: &str = include_str!("policy.json");

/// Most options a slot search returns.
pub const MAX_SLOT_RESULTS: usize = 20;

/// Static configuration of a clinic.
#[derive(Debug, Clone)]
pub struct ClinicConfig {
    /// The organisation id used in staff actors.
    pub organisation: OrganisationId,
    /// Name shown in messages.
    pub name: String,
    /// Phone number shown in messages.
    pub phone: String,
    /// Consent policy document (JSON).
    pub policy_json: String,
    /// How long issued tokens live.
    pub token_ttl: TimeDelta,
    /// Most units of one procedure code on one claim line, by code (repeated codes in a
    /// charge request aggregate into units); codes not listed use `default_max_units`.
    pub max_units: BTreeMap<String, u32>,
    /// Per-line unit cap for codes not in `max_units`.
    pub default_max_units: u32,
    /// Most home-vitals uploads one patient may send per day (UTC); more get 429.
    pub vitals_uploads_per_day: u32,
    /// Journaled commands after which [`Clinic::snapshot_due`] says a new state snapshot is
    /// worth writing (start-up replays at most about this many commands after the newest).
    pub snapshot_every: u64,
}

impl Default for ClinicConfig {
    fn default() -> Self {
        Self {
            organisation: OrganisationId::from_uuid(uuid::Uuid::from_u128(0xC11_41C)),
            name: "Riverside Clinic".into(),
            phone: "+1 212 555 0100".into(),
            policy_json: DEFAULT_POLICY.into(),
            token_ttl: TimeDelta::days(30),
            // Office visits are billed once per day (the CMS "medically unlikely edit" is 1).
            max_units: BTreeMap::from([
                ("99213".to_string(), 1),
                ("99214".to_string(), 1),
                ("93000".to_string(), 1),
            ]),
            default_max_units: 4,
            vitals_uploads_per_day: 24,
            snapshot_every: 20_000,
        }
    }
}

/// A provider in the set-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderSpec {
    /// Id.
    pub id: ProviderId,
    /// Display name (staff, not PHI).
    pub name: String,
    /// Skill code matched by appointment types.
    pub skill: String,
    /// Working hours, local (start, end), Monday to Friday; lunch 12–13 is blocked.
    pub hours: (u32, u32),
}

/// The clinic set-up: zone, grid, providers, rooms and visit types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetupSpec {
    /// Grid (origin, granularity, horizon, zone).
    pub grid: GridConfig,
    /// Providers.
    pub providers: Vec<ProviderSpec>,
    /// Exam rooms (all with the `exam` capability, open 8–18 on weekdays).
    pub rooms: Vec<RoomId>,
    /// Visit types.
    pub appointment_types: Vec<AppointmentType>,
    /// Monitoring plan for discharged patients.
    pub care_plan: CarePlan,
    /// The fee schedule charges are priced from. Journals written before it was part of the
    /// set-up read as [`crate::seed::legacy_fee_schedule`], the schedule they were priced with.
    #[serde(default = "crate::seed::legacy_fee_schedule")]
    pub fees: Vec<FeeLine>,
    /// The payer claims go to. Journals written before it was part of the set-up read as
    /// [`crate::seed::DEMO_PAYER`].
    #[serde(default = "crate::seed::legacy_payer")]
    pub payer: OrganisationId,
}

/// One line of the fee schedule: a CPT/HCPCS code, its price and its plain-words text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    /// The procedure code (`99213`).
    pub code: String,
    /// The price in cents.
    pub amount_minor: i64,
    /// What the patient's statement calls it.
    pub description: String,
}

impl FeeLine {
    /// A fee line.
    pub fn new(code: &str, amount_minor: i64, description: &str) -> Self {
        Self {
            code: code.to_string(),
            amount_minor,
            description: description.to_string(),
        }
    }
}

/// One journaled command.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Command {
    /// Configure the clinic (first command).
    Setup(Box<SetupSpec>),
    /// Register a patient.
    Register {
        /// The record.
        patient: Box<Patient>,
        /// Who.
        by: Actor,
        /// A possible duplicate found at registration, to be resolved by staff.
        possible_duplicate: Option<PatientId>,
        /// Whether the mobile number is a verified SMS identity (staff registration). Absent
        /// in journals written before verification existed: then staff registrations count as
        /// verified and self-registrations do not.
        #[serde(default)]
        phone_verified: Option<bool>,
        /// The one-time code sent to the number of a self-registration (its hash only).
        #[serde(default)]
        phone_code: Option<PhoneCode>,
        /// The matcher's score, grade and explanation for `possible_duplicate` (absent in
        /// journals written before the matcher decided): journaled so replay never re-matches.
        #[serde(default)]
        duplicate_match: Option<Box<RankedMatch>>,
    },
    /// A new mobile number: verified when staff register it, otherwise a code is sent to it.
    SetPhone {
        /// The patient.
        patient: PatientId,
        /// The number (E.164).
        phone: Sensitive<String>,
        /// Whether staff vouch for it.
        verified: bool,
        /// The code sent to it (hash), for a patient's own change.
        code: Option<PhoneCode>,
        /// Who.
        by: Actor,
    },
    /// The patient entered a one-time code for their number (failed attempts count too).
    VerifyPhone {
        /// The patient.
        patient: PatientId,
        /// Whether the code matched.
        success: bool,
    },
    /// An inbound SMS, with what the service decided it means.
    InboundSms {
        /// The gateway's message id (a replay with the same id does nothing).
        message_id: String,
        /// The decided action.
        action: SmsAction,
    },
    /// The patient revokes a proxy.
    RevokeProxy {
        /// The proxy.
        related_person: RelatedPersonId,
        /// The patient.
        patient: PatientId,
    },
    /// Update a patient (self-service parts apply, identity parts become a request).
    Update {
        /// The patient.
        patient: PatientId,
        /// Version the edit is based on.
        base_version: u32,
        /// The edited record.
        record: Box<Patient>,
        /// Who.
        by: Actor,
    },
    /// Approve a change request.
    Approve {
        /// The request.
        request: ChangeRequestId,
        /// The reviewer.
        by: Actor,
    },
    /// Resolve a possible duplicate found at registration.
    ResolveDuplicate {
        /// The newly registered patient.
        patient: PatientId,
        /// Whether staff found them to be the same person as the existing record.
        same_person: bool,
        /// Who.
        by: Actor,
    },
    /// Book a slot.
    Book {
        /// The option chosen.
        option: SlotOption,
        /// The patient.
        patient: PatientId,
        /// Idempotency token.
        client_token: String,
        /// New appointment id.
        id: AppointmentId,
        /// Who.
        by: Actor,
    },
    /// Cancel an appointment.
    Cancel {
        /// The appointment.
        id: AppointmentId,
        /// Who.
        by: Actor,
    },
    /// Move an appointment.
    Reschedule {
        /// The appointment.
        id: AppointmentId,
        /// The new option.
        option: SlotOption,
        /// Who.
        by: Actor,
    },
    /// The patient confirmed they will come.
    Confirm {
        /// The appointment.
        id: AppointmentId,
        /// Who.
        by: Actor,
    },
    /// The patient replied STOP: no more SMS.
    StopSms {
        /// The patient.
        patient: PatientId,
    },
    /// A provider is unavailable (sick): repair the affected appointments.
    Unavailable {
        /// The provider.
        provider: ProviderId,
        /// When.
        period: Period,
        /// Who.
        by: Actor,
    },
    /// The patient grants a proxy access.
    GrantProxy {
        /// The grant.
        grant: ProxyGrant,
    },
    /// A clinician writes a note.
    AddNote {
        /// The patient.
        patient: PatientId,
        /// The text.
        text: Sensitive<String>,
        /// Who.
        by: Actor,
    },
    /// The patient is discharged to home monitoring.
    Discharge {
        /// The patient.
        patient: PatientId,
    },
    /// Home vitals upload (NDJSON).
    Vitals {
        /// The patient uploading.
        patient: PatientId,
        /// Upload label.
        label: String,
        /// The NDJSON text.
        body: Sensitive<String>,
    },
    /// The patient arrived (reception).
    CheckIn {
        /// The appointment.
        id: AppointmentId,
        /// Who.
        by: Actor,
    },
    /// The visit took place: the post-visit survey is planned by the distribution rules.
    Complete {
        /// The appointment.
        id: AppointmentId,
        /// Who.
        by: Actor,
    },
    /// A survey response from an invited patient.
    SurveyAnswer {
        /// The invitation (the appointment id).
        invitation: AppointmentId,
        /// The answers by item id.
        answers: Vec<(String, SurveyAnswerValue)>,
    },
    /// Visit charges from the fee schedule, billed to the payer as one claim.
    Charge {
        /// The appointment (arrived or fulfilled).
        appointment: AppointmentId,
        /// Procedure codes.
        codes: Vec<String>,
        /// New charge ids, one per code.
        charge_ids: Vec<bedside_ledger::ChargeId>,
        /// New claim id.
        claim: bedside_core::ClaimId,
        /// Units per code (parallel to `codes`; absent in older journals: one each).
        #[serde(default)]
        units: Vec<u32>,
        /// The claim this one corrects (a replacement claim, frequency 7).
        #[serde(default)]
        replaces: Option<bedside_core::ClaimId>,
        /// Who charged (journals written before it was recorded read as the billing desk).
        #[serde(default = "billing_desk")]
        by: Actor,
    },
    /// An X12 835 remittance file posted to the ledger.
    Remittance {
        /// The file's text.
        body: Sensitive<String>,
        /// Who posted it (journals written before it was recorded read as the importer).
        #[serde(default = "remittance_importer")]
        by: Actor,
    },
    /// A patient payment.
    Payment {
        /// The patient.
        patient: PatientId,
        /// Amount in cents.
        amount_minor: i64,
        /// Payment id.
        id: bedside_ledger::PaymentId,
        /// The caller's idempotency key, scoped to the patient.
        #[serde(default)]
        client_token: Option<String>,
        /// Billing staff record more than the balance as a credit.
        #[serde(default)]
        credit: bool,
        /// Who paid or recorded the payment (older journals read as the billing desk).
        #[serde(default = "billing_desk")]
        by: Actor,
    },
    /// A nurse acknowledges an alert.
    AckAlert {
        /// The alert.
        alert: AlertId,
        /// Who.
        by: Actor,
    },
}

impl Command {
    fn kind(&self) -> &'static str {
        match self {
            Command::Setup(_) => "setup",
            Command::Register { .. } => "register",
            Command::Update { .. } => "update",
            Command::Approve { .. } => "approve",
            Command::ResolveDuplicate { .. } => "resolve_duplicate",
            Command::Book { .. } => "book",
            Command::Cancel { .. } => "cancel",
            Command::Reschedule { .. } => "reschedule",
            Command::Confirm { .. } => "confirm",
            Command::StopSms { .. } => "stop_sms",
            Command::Unavailable { .. } => "unavailable",
            Command::GrantProxy { .. } => "grant_proxy",
            Command::AddNote { .. } => "add_note",
            Command::Discharge { .. } => "discharge",
            Command::Vitals { .. } => "vitals",
            Command::AckAlert { .. } => "ack_alert",
            Command::CheckIn { .. } => "check_in",
            Command::Complete { .. } => "complete",
            Command::SurveyAnswer { .. } => "survey_answer",
            Command::Charge { .. } => "charge",
            Command::Remittance { .. } => "remittance",
            Command::Payment { .. } => "payment",
            Command::SetPhone { .. } => "set_phone",
            Command::VerifyPhone { .. } => "verify_phone",
            Command::InboundSms { .. } => "inbound_sms",
            Command::RevokeProxy { .. } => "revoke_proxy",
        }
    }
}

/// A one-time code sent to a phone number: only its hash is kept, with an expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneCode {
    /// Hex SHA-256 of the patient id and the code.
    pub hash: String,
    /// When the code stops working.
    pub expires_at: Timestamp,
}

/// What an inbound SMS was decided to mean.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SmsAction {
    /// Not acted on (unverified sender, not understood, nothing upcoming): logged only.
    Ignored {
        /// A code: `unverified-sender`, `not-understood`, `no-upcoming-appointment`.
        reason: String,
    },
    /// STOP: every patient on the number is opted out of SMS.
    Stop {
        /// The patients sharing the number.
        patients: Vec<PatientId>,
    },
    /// C / YES for one appointment.
    Confirm {
        /// The appointment.
        appointment: AppointmentId,
        /// Its patient.
        patient: PatientId,
    },
    /// X / CANCEL for one appointment.
    Cancel {
        /// The appointment.
        appointment: AppointmentId,
        /// Its patient.
        patient: PatientId,
    },
    /// R: new times are offered by SMS.
    Offer {
        /// The appointment.
        appointment: AppointmentId,
        /// Its patient.
        patient: PatientId,
    },
    /// Several appointments on a shared number and no way to tell which: ask.
    Ask {
        /// The appointments, numbered in this order in the question.
        appointments: Vec<AppointmentId>,
        /// The patient the question is filed under.
        patient: PatientId,
    },
}

/// One survey answer as the portal sends it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SurveyAnswerValue {
    /// Yes/no.
    Boolean(bool),
    /// A number (NPS, counts).
    Integer(i64),
    /// A choice code, or free text for text items.
    Text(Sensitive<String>),
}

/// A survey invitation sent after a visit.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Invitation {
    patient: PatientId,
    provider: ProviderId,
    sent_at: Timestamp,
    answered: bool,
}

/// A clinical note (kept by the clinic; the consent class is `clinical-notes`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Note {
    at: Timestamp,
    author: String,
    text: Sensitive<String>,
}

/// A code sent to a number awaiting verification.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingCode {
    phone: String,
    hash: String,
    expires_at: Timestamp,
    attempts: u32,
}

/// Most wrong codes before a new one must be requested.
pub const MAX_CODE_ATTEMPTS: u32 = 5;

/// Outbox purpose of one-time codes: delivered to the phone, never listed by the API.
pub const PHONE_VERIFICATION: &str = "phone-verification";

/// How long a one-time code works.
const CODE_TTL_MINUTES: i64 = 15;

/// A proxy grant as the patient's access history shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ProxyRecord {
    patient: PatientId,
    relationship: Relationship,
    classes: ClassSet,
    granted_at: Timestamp,
    until: Timestamp,
    revoked_at: Option<Timestamp>,
}

/// A payment made under an idempotency key.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PaymentRecord {
    amount_minor: i64,
    credit: bool,
    answer: Value,
}

/// Where a possible duplicate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum DuplicateStatus {
    /// Waiting for staff.
    Pending,
    /// Staff found the two records to be one person.
    SamePerson,
    /// Staff found two people.
    DifferentPerson,
}

/// A possible duplicate registration waiting for staff.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DuplicateCase {
    patient: PatientId,
    existing: PatientId,
    status: DuplicateStatus,
    /// The posterior match probability (absent for cases found before the matcher).
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    /// The FHIR `$match` grade.
    #[serde(skip_serializing_if = "Option::is_none")]
    grade: Option<MatchGrade>,
    /// Why: every field's agreement and weight (no personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<bedside_records::matching::Explanation>,
}

/// One question to the consent engine, with how its audit entry is written.
#[derive(Clone, Copy)]
struct Ask<'a> {
    patient: PatientId,
    action: Action,
    classes: &'a [DataClass],
    break_glass: Option<&'a str>,
    audit: AuditWrite,
}

/// When a decision's audit entry is committed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AuditWrite {
    /// Before the answer leaves (reads).
    Now,
    /// A permit rides in the transaction of the command that follows at once; a deny is
    /// written now.
    WithNextCommand,
}

/// Side effects of an accepted command.
#[derive(Default)]
struct Effects {
    outbox: Vec<OutboxMessage>,
    withdraw: Vec<String>,
    /// Keys the database must not have seen (see [`Batch::unique`]).
    unique: Vec<(&'static str, String)>,
    value: Value,
    /// What to journal instead of the command as given (a vitals upload keeps only the
    /// records it stored).
    journal: Option<Command>,
}

/// The in-memory domain state, rebuilt from the journal at start-up.
struct State {
    clock: Arc<ManualClock>,
    /// The internal id sequence (seeded: replaying the same journal gives the same ids).
    ids: Arc<SeededIdGenerator>,
    setup: Option<SetupSpec>,
    registry: PatientRegistry,
    schedule: Option<Schedule>,
    engine: Engine,
    audit: AuditLog,
    reviews: ReviewQueue,
    vitals: VitalsStore,
    alerts: AlertBook,
    discharged: BTreeMap<PatientId, Timestamp>,
    confirmed: BTreeMap<AppointmentId, Timestamp>,
    /// Providers each patient has booked with: the source of the consent engine's
    /// [`CareTeam`] for that patient (not the record's `GeneralPractitioners`).
    booked_providers: HashMap<PatientId, BTreeSet<ProviderId>>,
    notes: HashMap<PatientId, Vec<Note>>,
    duplicates: Vec<DuplicateCase>,
    /// Verified SMS identities: E.164 number → the patients sharing it (a family phone).
    phones: HashMap<String, BTreeSet<PatientId>>,
    /// The number each patient is filed under in `phones`.
    phone_filed_under: HashMap<PatientId, String>,
    /// Every current record, indexed for registration-time duplicate matching (the same
    /// Fellegi–Sunter model and thresholds as `bedside-records`' matcher and the `febrl` eval).
    matches: MatchIndex,
    /// Each patient's verified mobile number.
    verified_phone: HashMap<PatientId, String>,
    /// Codes sent to numbers awaiting verification.
    phone_codes: HashMap<PatientId, PendingCode>,
    /// Every proxy ever granted, revoked ones included (the access history shows both).
    proxies: BTreeMap<RelatedPersonId, ProxyRecord>,
    /// Gateway message ids of inbound SMS already handled.
    sms_seen: HashSet<String>,
    /// Payments by (patient, idempotency key): the request and the first answer.
    payment_keys: HashMap<(PatientId, String), PaymentRecord>,
    /// Home-vitals uploads per patient per UTC day.
    vitals_uploads: HashMap<(PatientId, chrono::NaiveDate), u32>,
    /// When each appointment's SMS reminders go out, and to which number, so a reply on a
    /// shared number can be matched to the reminder it answers.
    sms_reminders: HashMap<AppointmentId, Vec<(String, Timestamp)>>,
    survey: bedside_survey::SurveyDefinition,
    invitations: BTreeMap<AppointmentId, Invitation>,
    responses: Vec<bedside_survey::SurveyResponse>,
    billing: Billing,
}

/// The clinic's books: ledger with chart of accounts, fee schedule, claims, remittance poster.
struct Billing {
    books: bedside_ledger::Books,
    fees: bedside_ledger::FeeSchedule,
    claims: bedside_ledger::ClaimBook,
    poster: bedside_ledger::RemittancePoster,
}

/// Who charged or recorded a payment journaled before the actor was recorded.
fn billing_desk() -> Actor {
    Actor::System {
        component: "billing-desk".into(),
    }
}

/// Who posted a remittance journaled before the poster was recorded.
fn remittance_importer() -> Actor {
    Actor::System {
        component: "remittance-import".into(),
    }
}

fn usd(minor: i64) -> bedside_ledger::Money {
    bedside_ledger::Money::new(minor, bedside_ledger::Currency::USD)
}

impl Billing {
    fn new() -> Result<Self, ClinicError> {
        let books = bedside_ledger::Books::open(bedside_ledger::Currency::USD)
            .map_err(|e| ClinicError::bad(format!("books: {e}")))?;
        // The fee schedule arrives with the set-up command (`SetupSpec::fees`).
        let fees = bedside_ledger::FeeSchedule::new();
        let poster = bedside_ledger::RemittancePoster::new(books.clinic);
        Ok(Billing {
            books,
            fees,
            claims: bedside_ledger::ClaimBook::new(),
            poster,
        })
    }

    fn patient_balance_minor(&self, patient: PatientId) -> i64 {
        self.books
            .existing_patient_account(patient)
            .and_then(|a| self.books.ledger.balance(a))
            .map_or(0, |b| b.posted.amount_minor())
    }
}

/// The fee schedule a set-up brings.
fn billing_desk_fees(spec: &SetupSpec) -> Result<bedside_ledger::FeeSchedule, ClinicError> {
    let mut fees = bedside_ledger::FeeSchedule::new();
    for line in &spec.fees {
        let code = bedside_ledger::ProcedureCode::parse(&line.code)
            .map_err(|e| ClinicError::domain("fee schedule", &e))?;
        fees.set(code, None, usd(line.amount_minor), &line.description);
    }
    Ok(fees)
}

/// Stored audit lines as the text form `AuditLog` reads (one per line).
fn audit_text(lines: &[String]) -> String {
    let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

impl State {
    /// Replays journaled commands (`first` commands precede them) at their recorded instants.
    fn replay(
        &mut self,
        commands: &[(String, String, String)],
        first: u64,
        config: &ClinicConfig,
    ) -> Result<(), ClinicError> {
        for (i, (at, _kind, body)) in commands.iter().enumerate() {
            let corrupt = |m: String| StoreError::Corrupt {
                table: "commands",
                message: format!("command {}: {m}", first + i as u64 + 1),
            };
            let at: Timestamp = at.parse().map_err(|_| corrupt("bad instant".into()))?;
            let cmd: Command =
                serde_json::from_str(body).map_err(|e| corrupt(crate::error::json_problem(&e)))?;
            self.apply(&cmd, at, config)
                .map_err(|e| corrupt(format!("does not replay: {e}")))?;
        }
        Ok(())
    }

    /// Puts stored break-the-glass review items back in the queue, by audit sequence number.
    fn enqueue_reviews(&mut self, reviews: Vec<(u64, String)>) {
        for (seq, justification) in reviews {
            // An entry's sequence number is its position in the chain.
            let event = self.audit.get(seq).map(|e| e.event.clone());
            if let Some(event) = event {
                self.reviews.enqueue(&event, Sensitive::new(justification));
            }
        }
    }
}

impl State {
    fn new(policy: &str) -> Result<Self, ClinicError> {
        let clock = Arc::new(ManualClock::new(Timestamp::UNIX_EPOCH));
        // A fixed seed: replaying the same journal regenerates the same internal ids.
        let ids = Arc::new(SeededIdGenerator::new(clock.clone(), 0x5eed));
        let policy = Policy::from_json(policy)
            .map_err(|e| ClinicError::bad(format!("consent policy: {e}")))?;
        Ok(State {
            registry: PatientRegistry::new(ids.clone()),
            ids,
            clock,
            setup: None,
            schedule: None,
            engine: Engine::new(policy),
            audit: AuditLog::new(),
            reviews: ReviewQueue::new(),
            vitals: VitalsStore::new(IngestConfig::default()),
            alerts: AlertBook::new(),
            discharged: BTreeMap::new(),
            confirmed: BTreeMap::new(),
            booked_providers: HashMap::new(),
            notes: HashMap::new(),
            duplicates: Vec::new(),
            phones: HashMap::new(),
            phone_filed_under: HashMap::new(),
            matches: {
                let config = MatcherConfig::default();
                MatchIndex::new(Model::untrained(config.thresholds), config)
            },
            verified_phone: HashMap::new(),
            phone_codes: HashMap::new(),
            proxies: BTreeMap::new(),
            sms_seen: HashSet::new(),
            payment_keys: HashMap::new(),
            vitals_uploads: HashMap::new(),
            sms_reminders: HashMap::new(),
            survey: bedside_survey::Builtin::PostVisit
                .definition()
                .map_err(|e| ClinicError::bad(format!("post-visit survey: {e}")))?,
            invitations: BTreeMap::new(),
            responses: Vec::new(),
            billing: Billing::new()?,
        })
    }

    fn schedule(&self) -> Result<&Schedule, ClinicError> {
        self.schedule
            .as_ref()
            .ok_or_else(|| ClinicError::conflict("the clinic is not set up"))
    }

    fn schedule_mut(&mut self) -> Result<&mut Schedule, ClinicError> {
        self.schedule
            .as_mut()
            .ok_or_else(|| ClinicError::conflict("the clinic is not set up"))
    }

    fn zone(&self) -> chrono_tz::Tz {
        self.setup.as_ref().map_or(chrono_tz::UTC, |s| s.grid.zone)
    }

    /// Re-indexes a patient's verified number: it stays an SMS identity only while it is
    /// still the mobile number on file.
    fn index_phones(&mut self, id: PatientId) {
        // Only the number this patient was filed under is touched: O(1), not a scan of every
        // number (which made registration, and so start-up, grow with the population).
        if let Some(old) = self.phone_filed_under.remove(&id)
            && let Some(set) = self.phones.get_mut(&old)
        {
            set.remove(&id);
            if set.is_empty() {
                self.phones.remove(&old);
            }
        }
        let Some(verified) = self.verified_phone.get(&id).cloned() else {
            return;
        };
        if self.mobile_on_file(id).as_deref() == Some(verified.as_str()) {
            self.phones.entry(verified.clone()).or_default().insert(id);
            self.phone_filed_under.insert(id, verified);
        } else {
            self.verified_phone.remove(&id);
        }
    }

    /// Re-indexes a patient's current record for duplicate matching.
    fn index_match(&mut self, id: PatientId) {
        if let Some(p) = self.registry.current(id) {
            self.matches.upsert(id, &MatchRecord::from(p));
        }
    }

    /// The patient's mobile number on file, in E.164.
    fn mobile_on_file(&self, id: PatientId) -> Option<String> {
        let record = self.registry.current(id)?;
        record
            .telecom
            .iter()
            .filter(|t| t.system == Some(bedside_records::TelecomSystem::Phone))
            .find_map(|t| t.value.as_ref().and_then(|v| e164(v.expose())))
    }

    /// Marks the patient's number on file verified (or starts a verification with `code`).
    fn set_phone_state(&mut self, id: PatientId, verified: bool, code: Option<&PhoneCode>) {
        self.verified_phone.remove(&id);
        self.phone_codes.remove(&id);
        if let Some(phone) = self.mobile_on_file(id) {
            if verified {
                self.verified_phone.insert(id, phone);
            } else if let Some(c) = code {
                self.phone_codes.insert(
                    id,
                    PendingCode {
                        phone,
                        hash: c.hash.clone(),
                        expires_at: c.expires_at,
                        attempts: 0,
                    },
                );
            }
        }
        self.index_phones(id);
    }

    /// The classes of a proxy's live grant (empty when revoked, expired or unknown).
    fn proxy_classes(&self, principal: &Principal, now: Timestamp) -> ClassSet {
        let Principal::Proxy {
            related_person,
            patient,
        } = principal
        else {
            return ClassSet::default();
        };
        match self.proxies.get(related_person) {
            Some(r)
                if r.patient == *patient
                    && r.revoked_at.is_none()
                    && r.granted_at <= now
                    && now < r.until =>
            {
                r.classes
            }
            _ => ClassSet::default(),
        }
    }

    fn apply(
        &mut self,
        command: &Command,
        at: Timestamp,
        config: &ClinicConfig,
    ) -> Result<Effects, ClinicError> {
        self.clock.set(at);
        let mut fx = Effects::default();
        match command {
            Command::Setup(spec) => {
                if self.setup.is_some() {
                    return Err(ClinicError::conflict("the clinic is already set up"));
                }
                let schedule = build_schedule(spec)?;
                self.billing.fees = billing_desk_fees(spec)?;
                self.schedule = Some(schedule);
                self.setup = Some((**spec).clone());
            }
            Command::Register {
                patient,
                by,
                possible_duplicate,
                phone_verified,
                phone_code,
                duplicate_match,
            } => {
                let id = patient.id;
                let version =
                    self.registry
                        .register((**patient).clone(), by, "registration", at)?;
                let verified = phone_verified.unwrap_or(matches!(by, Actor::Staff(_)));
                self.set_phone_state(id, verified, phone_code.as_ref());
                self.index_match(id);
                if let Some(existing) = possible_duplicate {
                    let found = duplicate_match.as_deref();
                    self.duplicates.push(DuplicateCase {
                        patient: id,
                        existing: *existing,
                        status: DuplicateStatus::Pending,
                        score: found.map(|m| m.score),
                        grade: found.map(|m| m.grade),
                        explanation: found.map(|m| m.explanation.clone()),
                    });
                }
                fx.value = json!({ "patient": id, "version": version,
                    "possible_duplicate": possible_duplicate.is_some() });
            }
            Command::Update {
                patient,
                base_version,
                record,
                by,
            } => {
                let edit = RecordEdit::new(*patient, *base_version, (**record).clone(), "edit");
                let outcome = self.registry.update(edit, by, at)?;
                self.index_phones(*patient);
                self.index_match(*patient);
                fx.value = json!({ "applied_version": outcome.applied,
                    "pending_request": outcome.pending });
            }
            Command::Approve { request, by } => {
                let patient = self.registry.request(*request).map(|r| r.patient).ok_or(
                    ClinicError::NotFound {
                        kind: "change request",
                    },
                )?;
                let version = self
                    .registry
                    .approve(*request, by, "approved by staff", at)?;
                self.index_phones(patient);
                self.index_match(patient);
                fx.value = json!({ "patient": patient, "version": version });
            }
            Command::ResolveDuplicate {
                patient,
                same_person,
                by: _,
            } => {
                let case = self
                    .duplicates
                    .iter_mut()
                    .find(|c| c.patient == *patient && c.status == DuplicateStatus::Pending)
                    .ok_or(ClinicError::NotFound {
                        kind: "duplicate case",
                    })?;
                case.status = if *same_person {
                    DuplicateStatus::SamePerson
                } else {
                    DuplicateStatus::DifferentPerson
                };
                fx.value = json!({ "patient": patient, "existing": case.existing,
                    "status": case.status });
            }
            Command::Book {
                option,
                patient,
                client_token,
                id,
                by,
            } => {
                if self.registry.current(*patient).is_none() {
                    return Err(ClinicError::NotFound { kind: "patient" });
                }
                // A retry with the same token answers the first booking and claims no new key.
                let fresh = self
                    .schedule()?
                    .appointment_for_token(client_token)
                    .is_none();
                let booked = self.schedule_mut()?.book(
                    &BookRequest::new(option, *patient, client_token, *id),
                    by,
                    at,
                )?;
                self.booked_providers
                    .entry(*patient)
                    .or_default()
                    .insert(option.provider);
                self.sync_care_team(*patient);
                fx.outbox = self.plan_reminders(booked, at, config)?;
                self.note_sms_reminders(booked, &fx.outbox);
                if fresh {
                    fx.unique.push(("booking-token", client_token.clone()));
                }
                fx.value = json!({ "appointment": booked });
            }
            Command::Cancel { id, by } => {
                self.schedule_mut()?.cancel(
                    &CancelRequest::new(*id, CancelReason::Patient),
                    by,
                    at,
                )?;
                self.sms_reminders.remove(id);
                fx.withdraw.push(id.to_string());
                fx.value = json!({ "appointment": id, "status": "cancelled" });
            }
            Command::Reschedule { id, option, by } => {
                self.schedule_mut()?
                    .reschedule(&RescheduleRequest::new(*id, option), by, at)?;
                fx.withdraw.push(id.to_string());
                fx.outbox = self.plan_reminders(*id, at, config)?;
                self.note_sms_reminders(*id, &fx.outbox);
                fx.value = json!({ "appointment": id, "start": option.period.start() });
            }
            Command::Confirm { id, by: _ } => {
                self.confirm(*id, at)?;
                fx.value = json!({ "appointment": id, "confirmed": true });
            }
            Command::SetPhone {
                patient,
                phone,
                verified,
                code,
                by,
            } => {
                let current = self
                    .registry
                    .current_version(*patient)
                    .ok_or(ClinicError::NotFound { kind: "patient" })?;
                let base = current.number;
                let mut record = current.record.clone();
                replace_mobile(&mut record, phone.expose());
                let edit = RecordEdit::new(*patient, base, record, "phone");
                match self.registry.update(edit, by, at) {
                    Ok(_) | Err(bedside_records::RegistryError::NoChange) => {}
                    Err(e) => return Err(e.into()),
                }
                self.set_phone_state(*patient, *verified, code.as_ref());
                fx.value = json!({ "patient": patient, "verified": verified });
            }
            Command::VerifyPhone { patient, success } => {
                let pending = self
                    .phone_codes
                    .get_mut(patient)
                    .ok_or_else(|| ClinicError::conflict("no phone verification is pending"))?;
                if *success {
                    let phone = pending.phone.clone();
                    self.phone_codes.remove(patient);
                    self.verified_phone.insert(*patient, phone);
                    self.index_phones(*patient);
                    fx.value = json!({ "patient": patient, "verified": true });
                } else {
                    pending.attempts = pending.attempts.saturating_add(1);
                    let left = MAX_CODE_ATTEMPTS.saturating_sub(pending.attempts);
                    fx.value =
                        json!({ "patient": patient, "verified": false, "attempts_left": left });
                }
            }
            Command::InboundSms { message_id, action } => {
                if self.sms_seen.contains(message_id) {
                    return Err(ClinicError::conflict("message already handled"));
                }
                fx.value = self.apply_sms(action, at, config, &mut fx)?;
                self.sms_seen.insert(message_id.clone());
                fx.unique.push(("sms-message", message_id.clone()));
            }
            Command::RevokeProxy {
                related_person,
                patient,
            } => {
                let record = self
                    .proxies
                    .get_mut(related_person)
                    .filter(|r| r.patient == *patient && r.revoked_at.is_none())
                    .ok_or(ClinicError::NotFound { kind: "proxy" })?;
                record.revoked_at = Some(at);
                self.engine.revoke_proxy_grants(*related_person, *patient);
                fx.value = json!({ "related_person": related_person, "revoked": true });
            }
            Command::StopSms { patient } => {
                self.stop_sms(*patient, at, &mut fx)?;
                fx.value = json!({ "patient": patient, "sms": "opted-out" });
            }
            Command::Unavailable {
                provider,
                period,
                by,
            } => {
                let report = self.schedule_mut()?.repair_unavailable(
                    &RepairRequest::new(*provider, *period),
                    by,
                    at,
                )?;
                for (id, _, _) in &report.moved {
                    fx.withdraw.push(id.to_string());
                    let planned = self.plan_reminders(*id, at, config)?;
                    self.note_sms_reminders(*id, &planned);
                    fx.outbox.extend(planned);
                }
                for patient in &report.notify {
                    fx.outbox.extend(self.notice(
                        *patient,
                        "Your appointment had to change because your clinician is unavailable. Reply C to confirm the new time or R for other times.",
                        at,
                        config,
                    ));
                }
                fx.value = json!({
                    "moved": report.moved.iter().map(|(id, _, o)| json!({"appointment": id, "start": o.period.start(), "provider": o.provider})).collect::<Vec<_>>(),
                    "unplaced": report.unplaced,
                    "notified": report.notify.len(),
                });
            }
            Command::GrantProxy { grant } => {
                if self.registry.current(grant.patient).is_none() {
                    return Err(ClinicError::NotFound { kind: "patient" });
                }
                self.engine.add_proxy_grant(grant.clone());
                self.proxies.insert(
                    grant.related_person,
                    ProxyRecord {
                        patient: grant.patient,
                        relationship: grant.relationship,
                        classes: grant.classes,
                        granted_at: grant.period.start(),
                        until: grant.period.end(),
                        revoked_at: None,
                    },
                );
                fx.value =
                    json!({ "related_person": grant.related_person, "patient": grant.patient });
            }
            Command::AddNote { patient, text, by } => {
                if self.registry.current(*patient).is_none() {
                    return Err(ClinicError::NotFound { kind: "patient" });
                }
                self.notes.entry(*patient).or_default().push(Note {
                    at,
                    author: by.label(),
                    text: text.clone(),
                });
                fx.value = json!({ "patient": patient, "notes": self.notes.get(patient).map_or(0, Vec::len) });
            }
            Command::Discharge { patient } => {
                if self.registry.current(*patient).is_none() {
                    return Err(ClinicError::NotFound { kind: "patient" });
                }
                let zone = self.zone();
                self.vitals.register_patient(*patient, zone);
                self.discharged.entry(*patient).or_insert(at);
                fx.value = json!({ "patient": patient, "monitoring": true });
            }
            Command::Vitals {
                patient,
                label,
                body,
            } => {
                let since = *self.discharged.get(patient).ok_or_else(|| {
                    ClinicError::conflict("the patient is not under home monitoring")
                })?;
                // The patient uploads their own readings; the batch is taken in at `at`.
                let upload = bedside_vitals::Batch::new(
                    label.as_str(),
                    &Actor::Patient { patient: *patient },
                    at,
                );
                let report = ndjson::ingest(&mut self.vitals, body.expose().as_bytes(), &upload)
                    .map_err(|e| ClinicError::domain("vitals upload", &e))?;
                let mut plan = self
                    .setup
                    .as_ref()
                    .map(|s| s.care_plan.clone())
                    .unwrap_or_default();
                plan.monitoring_start = Some(since);
                let window = Period::new(since, at.max(since) + TimeDelta::seconds(1))
                    .map_err(|e| ClinicError::domain("monitoring window", &e))?;
                *self
                    .vitals_uploads
                    .entry((*patient, at.date_naive()))
                    .or_default() += 1;
                let kept: BTreeSet<u32> = report.accepted_records.iter().copied().collect();
                let mut stored = String::new();
                for (i, line) in body.expose().split('\n').enumerate() {
                    let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
                    if kept.contains(&number) {
                        stored.push_str(line);
                        stored.push('\n');
                    }
                }
                fx.journal = Some(Command::Vitals {
                    patient: *patient,
                    label: label.clone(),
                    body: Sensitive::new(stored),
                });
                let found = alert::evaluate(&self.vitals, *patient, &plan, &window);
                let before: BTreeSet<AlertId> =
                    self.alerts.open().iter().map(|r| r.alert.id).collect();
                let new_count = self.alerts.merge(found);
                let mut raised = Vec::new();
                for rec in self.alerts.open() {
                    if rec.alert.patient == *patient && !before.contains(&rec.alert.id) {
                        raised.push(json!({"alert": rec.alert.id, "rule": rec.alert.rule,
                            "severity": rec.alert.severity.as_str()}));
                        fx.outbox.push(OutboxMessage {
                            id: 0,
                            created_at: at.to_rfc3339(),
                            send_at: at.to_rfc3339(),
                            patient: patient.to_string(),
                            purpose: "nurse-alert".into(),
                            channel: "internal".into(),
                            address: "nurse-queue".into(),
                            body: format!(
                                "alert {} ({}) for patient {}",
                                rec.alert.rule,
                                rec.alert.severity.as_str(),
                                patient
                            ),
                            status: "pending".into(),
                        });
                    }
                }
                fx.value = json!({
                    "records": report.records,
                    "accepted": report.accepted,
                    "duplicate": report.duplicate,
                    "rejected": report.rejected_total(),
                    "rejections": report.rejections.iter().take(100).map(|r| json!({"record": r.position.record, "reason": r.reason.to_string()})).collect::<Vec<_>>(),
                    "new_alerts": new_count,
                    "alerts": raised,
                });
            }
            Command::CheckIn { id, by } => {
                self.schedule_mut()?.check_in(*id, by, at)?;
                fx.value = json!({ "appointment": id, "status": "arrived" });
            }
            Command::Complete { id, by } => {
                self.schedule_mut()?.fulfil(*id, by, at)?;
                fx.withdraw.push(id.to_string());
                fx.outbox = self.plan_survey(*id, at)?;
                fx.value = json!({ "appointment": id, "status": "fulfilled",
                    "survey_invitations": fx.outbox.len() });
            }
            Command::SurveyAnswer {
                invitation,
                answers,
            } => {
                let inv = self
                    .invitations
                    .get(invitation)
                    .ok_or(ClinicError::NotFound {
                        kind: "survey invitation",
                    })?;
                if inv.answered {
                    return Err(ClinicError::conflict("the survey was already answered"));
                }
                let provider = inv.provider;
                let respondent = Actor::Patient {
                    patient: inv.patient,
                };
                let mut b = bedside_survey::ResponseBuilder::new(&self.survey)
                    .authored(at.fixed_offset())
                    .dimension("provider", provider.to_string());
                for (item, value) in answers {
                    let v = match value {
                        SurveyAnswerValue::Boolean(x) => bedside_survey::AnswerValue::Boolean(*x),
                        SurveyAnswerValue::Integer(n) => bedside_survey::AnswerValue::Integer(*n),
                        SurveyAnswerValue::Text(t) => {
                            let is_text = self.survey.item(item).is_some_and(|i| {
                                matches!(
                                    i.kind,
                                    bedside_survey::ItemKind::LongText { .. }
                                        | bedside_survey::ItemKind::ShortText { .. }
                                )
                            });
                            if is_text {
                                bedside_survey::AnswerValue::text(t.expose().clone())
                            } else {
                                bedside_survey::AnswerValue::code(t.expose().clone())
                            }
                        }
                    };
                    b = b.answer(item, v);
                }
                let mut response = b.build();
                let problems = bedside_survey::validate(&self.survey, &response);
                if !problems.is_empty() {
                    return Err(ClinicError::BadRequest {
                        message: format!("{} problem(s) in the survey response", problems.len()),
                        details: problems.iter().map(|p| p.to_string()).collect(),
                    });
                }
                // The invited patient answered: the response records who and when.
                response
                    .record(&respondent, at)
                    .map_err(|e| ClinicError::domain("survey response", &e))?;
                self.responses.push(response);
                if let Some(inv) = self.invitations.get_mut(invitation) {
                    inv.answered = true;
                }
                fx.value = json!({ "invitation": invitation, "recorded": true });
            }
            Command::Charge {
                appointment,
                codes,
                charge_ids,
                claim,
                units,
                replaces,
                by,
            } => {
                let ap = self
                    .schedule()?
                    .appointment(*appointment)
                    .ok_or(ClinicError::NotFound {
                        kind: "appointment",
                    })?
                    .clone();
                if !matches!(
                    ap.status,
                    AppointmentStatus::Arrived | AppointmentStatus::Fulfilled
                ) {
                    return Err(ClinicError::conflict("charges need a checked-in visit"));
                }
                if codes.is_empty() || codes.len() != charge_ids.len() || codes.len() > 20 {
                    return Err(ClinicError::bad("codes: 1 to 20 procedure codes"));
                }
                let units: Vec<u32> = if units.is_empty() {
                    vec![1; codes.len()]
                } else {
                    units.clone()
                };
                if units.len() != codes.len() || units.contains(&0) {
                    return Err(ClinicError::bad("codes: units do not match the codes"));
                }
                let zone = self.zone();
                let encounter = bedside_core::EncounterId::from_uuid(ap.id.as_uuid());
                let mut charges = Vec::new();
                let mut problems = Vec::new();
                for (i, ((code, id), units)) in codes.iter().zip(charge_ids).zip(&units).enumerate()
                {
                    let parsed = match bedside_ledger::ProcedureCode::parse(code) {
                        Ok(c) => c,
                        Err(_) => {
                            problems.push(format!("codes[{i}]: not a procedure code"));
                            continue;
                        }
                    };
                    match self.billing.fees.price(
                        *id,
                        bedside_ledger::ChargeRequest {
                            patient: ap.patient,
                            encounter,
                            code: parsed,
                            modifiers: vec![],
                            units: *units,
                            date_of_service: ap.period.start().with_timezone(&zone).date_naive(),
                            rendering_provider: ap.provider,
                            diagnosis_pointers: vec![1],
                        },
                    ) {
                        Ok(c) => charges.push(c),
                        Err(_) => problems.push(format!("codes[{i}]: not in the fee schedule")),
                    }
                }
                if !problems.is_empty() {
                    return Err(ClinicError::BadRequest {
                        message: format!("{} problem(s) in the charges", problems.len()),
                        details: problems,
                    });
                }
                // Check the claim can be built before touching the ledger, so a refusal leaves
                // nothing behind: the only failure left is a ledger fault on a fresh entry.
                let payer = self
                    .setup
                    .as_ref()
                    .map_or_else(crate::seed::legacy_payer, |s| s.payer);
                let control = format!("BSD{:04}", self.billing.claims.iter().count() + 1);
                let mut ledger_before = None;
                for c in &charges {
                    if ledger_before.is_none() {
                        ledger_before = Some(self.billing.books.clone());
                    }
                    if let Err(e) = self.billing.books.capture_charge(
                        c,
                        bedside_ledger::BillTo::Payer(payer),
                        by,
                        at,
                    ) {
                        if let Some(b) = ledger_before {
                            self.billing.books = b;
                        }
                        return Err(ClinicError::domain("charge", &e));
                    }
                }
                let draft = bedside_ledger::ClaimDraft {
                    id: *claim,
                    payer,
                    coverage: bedside_core::CoverageId::from_uuid(claim.as_uuid()),
                    control_number: control.clone(),
                    charges: &charges,
                };
                let built = match replaces {
                    Some(original) => self.billing.claims.build_replacement(
                        &mut self.billing.books,
                        *original,
                        draft,
                        by,
                        at,
                    ),
                    None => self
                        .billing
                        .claims
                        .build(&mut self.billing.books, draft, at),
                };
                if let Err(e) = built {
                    if let Some(b) = ledger_before {
                        self.billing.books = b;
                    }
                    return Err(ClinicError::domain("claim", &e));
                }
                let _ = self.billing.claims.transition(
                    *claim,
                    bedside_ledger::ClaimStatus::Submitted,
                    at,
                );
                let total: i64 = charges.iter().map(|c| c.amount.amount_minor()).sum();
                fx.value = json!({ "claim": claim, "control_number": control,
                    "charges": charges.len(), "total_minor": total, "replaces": replaces });
            }
            Command::Remittance { body, by } => {
                let parsed = bedside_ledger::x12::parse(body.expose().as_bytes());
                if parsed.has_errors() || parsed.transactions.is_empty() {
                    return Err(ClinicError::BadRequest {
                        message: "the 835 file has errors".into(),
                        details: parsed
                            .diagnostics
                            .iter()
                            .take(50)
                            .map(|d| d.to_string())
                            .collect(),
                    });
                }
                let before = (
                    self.billing.books.clone(),
                    self.billing.claims.clone(),
                    self.billing.poster.clone(),
                );
                let mut applied = 0;
                let mut matched = 0;
                let mut unmatched = 0;
                for tx in &parsed.transactions {
                    // Posting records each claim's adjudication too, so the statement shows
                    // the insurer payment.
                    let summary = match self.billing.poster.post_and_record(
                        &mut self.billing.books,
                        &mut self.billing.claims,
                        tx,
                        by,
                        at,
                    ) {
                        Ok(s) => s,
                        Err(e) => {
                            (self.billing.books, self.billing.claims, self.billing.poster) = before;
                            return Err(ClinicError::domain("remittance", &e));
                        }
                    };
                    applied += summary.entries_applied;
                    matched += summary.claims_matched;
                    unmatched += summary.claims_unmatched;
                }
                fx.value = json!({ "entries_applied": applied, "claims_matched": matched, "claims_unmatched": unmatched });
            }
            Command::Payment {
                patient,
                amount_minor,
                id,
                client_token,
                credit,
                by,
            } => {
                if *amount_minor <= 0 || *amount_minor > 10_000_000 {
                    return Err(ClinicError::bad("amount_minor: 1 to 10000000"));
                }
                self.billing
                    .books
                    .record_patient_payment(
                        &bedside_ledger::PatientPayment {
                            id: *id,
                            patient: *patient,
                            amount: usd(*amount_minor),
                            method: bedside_ledger::PaymentMethod::Card {
                                reference: Sensitive::new(id.to_string()),
                            },
                            received_at: at,
                        },
                        by,
                    )
                    .map_err(|e| ClinicError::domain("payment", &e))?;
                fx.value = json!({ "payment": id, "balance_minor": self.billing.patient_balance_minor(*patient) });
                if let Some(key) = client_token {
                    fx.unique.push(("payment-key", format!("{patient}/{key}")));
                    self.payment_keys.insert(
                        (*patient, key.clone()),
                        PaymentRecord {
                            amount_minor: *amount_minor,
                            credit: *credit,
                            answer: fx.value.clone(),
                        },
                    );
                }
            }
            Command::AckAlert { alert, by } => {
                self.alerts
                    .acknowledge(*alert, by, at)
                    .map_err(|_| ClinicError::NotFound { kind: "alert" })?;
                fx.value = json!({ "alert": alert, "acknowledged": true });
            }
        }
        Ok(fx)
    }

    /// STOP from a patient: every SMS route opted out, pending SMS withdrawn (idempotent).
    fn stop_sms(
        &mut self,
        patient: PatientId,
        at: Timestamp,
        fx: &mut Effects,
    ) -> Result<(), ClinicError> {
        let current = self
            .registry
            .current_version(patient)
            .ok_or(ClinicError::NotFound { kind: "patient" })?;
        let base = current.number;
        let mut record = current.record.clone();
        for purpose in ContactPurpose::ALL {
            let mut prefs: Vec<_> = record
                .preferences
                .iter()
                .find(|p| p.purpose == purpose)
                .map(|p| p.routes.clone())
                .unwrap_or_default();
            let mut changed = false;
            for r in &mut prefs {
                if r.route.channel == Channel::Sms && r.state != OptState::OptedOut {
                    r.state = OptState::OptedOut;
                    changed = true;
                }
            }
            if changed {
                record.set_preference(purpose, prefs);
            }
        }
        let me = Actor::Patient { patient };
        // An already opted-out patient changes nothing: STOP is idempotent.
        let edit = RecordEdit::new(patient, base, record, "sms stop");
        match self.registry.update(edit, &me, at) {
            Ok(_) | Err(bedside_records::RegistryError::NoChange) => {}
            Err(e) => return Err(e.into()),
        }
        fx.withdraw.push(format!("sms:{patient}"));
        Ok(())
    }

    fn confirm(&mut self, id: AppointmentId, at: Timestamp) -> Result<(), ClinicError> {
        let ap = self
            .schedule()?
            .appointment(id)
            .ok_or(ClinicError::NotFound {
                kind: "appointment",
            })?;
        if ap.status != AppointmentStatus::Booked {
            return Err(ClinicError::conflict(
                "only a booked appointment is confirmed",
            ));
        }
        self.confirmed.insert(id, at);
        Ok(())
    }

    /// Applies what an inbound SMS was decided to mean.
    fn apply_sms(
        &mut self,
        action: &SmsAction,
        at: Timestamp,
        config: &ClinicConfig,
        fx: &mut Effects,
    ) -> Result<Value, ClinicError> {
        Ok(match action {
            SmsAction::Ignored { reason } => json!({ "applied": false, "reason": reason }),
            SmsAction::Stop { patients } => {
                if patients.iter().any(|p| self.registry.current(*p).is_none()) {
                    return Err(ClinicError::NotFound { kind: "patient" });
                }
                for p in patients {
                    self.stop_sms(*p, at, fx)?;
                }
                json!({ "applied": true, "sms": "opted-out", "patients": patients.len() })
            }
            SmsAction::Confirm { appointment, .. } => {
                self.confirm(*appointment, at)?;
                json!({ "applied": true, "appointment": appointment, "confirmed": true })
            }
            SmsAction::Cancel {
                appointment,
                patient,
            } => {
                let me = Actor::Patient { patient: *patient };
                self.schedule_mut()?.cancel(
                    &CancelRequest::new(*appointment, CancelReason::Patient),
                    &me,
                    at,
                )?;
                self.sms_reminders.remove(appointment);
                fx.withdraw.push(appointment.to_string());
                json!({ "applied": true, "appointment": appointment, "status": "cancelled" })
            }
            SmsAction::Offer {
                appointment,
                patient,
            } => {
                let ap =
                    self.schedule()?
                        .appointment(*appointment)
                        .ok_or(ClinicError::NotFound {
                            kind: "appointment",
                        })?;
                let end = ap.period.end();
                let query =
                    SlotQuery::new(ap.appointment_type.clone(), end, end + TimeDelta::days(14))
                        .for_patient(*patient)
                        .with_limit(3)
                        .booked_by_patient(at);
                let options = self.schedule()?.find_slots(&query)?;
                let zone = self.zone();
                let mut text = String::from("New times available:");
                for (i, o) in options.iter().enumerate() {
                    text.push_str(&format!(
                        " {}) {}",
                        i + 1,
                        o.period
                            .start()
                            .with_timezone(&zone)
                            .format("%a %d %b %H:%M")
                    ));
                }
                text.push_str(&format!(". Book online or call us at {}.", config.phone));
                fx.outbox.extend(self.sms_to(*patient, &text, at));
                json!({ "applied": true, "appointment": appointment, "options": options })
            }
            SmsAction::Ask {
                appointments,
                patient,
            } => {
                let zone = self.zone();
                let mut text = String::from("Several appointments share this number:");
                let schedule = self.schedule()?;
                for (i, id) in appointments.iter().enumerate() {
                    if let Some(ap) = schedule.appointment(*id) {
                        text.push_str(&format!(
                            " {}) {}",
                            i + 1,
                            ap.period
                                .start()
                                .with_timezone(&zone)
                                .format("%a %d %b %H:%M")
                        ));
                    }
                }
                text.push_str(". Reply C1 to confirm the first, X1 to cancel it, and so on.");
                fx.outbox.extend(self.sms_to(*patient, &text, at));
                json!({ "applied": false, "reason": "which-appointment", "asked": appointments.len() })
            }
        })
    }

    /// An SMS to the patient's verified number.
    fn sms_to(&self, patient: PatientId, text: &str, at: Timestamp) -> Option<OutboxMessage> {
        let phone = self.verified_phone.get(&patient)?;
        Some(OutboxMessage {
            id: 0,
            created_at: at.to_rfc3339(),
            send_at: at.to_rfc3339(),
            patient: patient.to_string(),
            purpose: "notice".into(),
            channel: "sms".into(),
            address: phone.clone(),
            body: text.into(),
            status: "pending".into(),
        })
    }

    /// Remembers when an appointment's SMS reminders go out, to which number.
    fn note_sms_reminders(&mut self, id: AppointmentId, planned: &[OutboxMessage]) {
        let sends: Vec<(String, Timestamp)> = planned
            .iter()
            .filter(|m| m.channel == "sms")
            .filter_map(|m| Some((e164(&m.address)?, m.send_at.parse().ok()?)))
            .collect();
        self.sms_reminders.insert(id, sends);
    }

    fn sync_care_team(&mut self, patient: PatientId) {
        let team: CareTeam = self
            .booked_providers
            .get(&patient)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        self.engine.set_care_team(patient, team);
    }

    /// Reminder messages for an appointment, on the patient's preferred channels, outside
    /// quiet hours.
    fn plan_reminders(
        &self,
        id: AppointmentId,
        at: Timestamp,
        config: &ClinicConfig,
    ) -> Result<Vec<OutboxMessage>, ClinicError> {
        let ap = self
            .schedule()?
            .appointment(id)
            .ok_or(ClinicError::NotFound {
                kind: "appointment",
            })?;
        let Some(patient) = self.registry.current(ap.patient) else {
            return Ok(Vec::new());
        };
        let zone = self.zone();
        let routes = patient.contact_routes(ContactPurpose::AppointmentReminders);
        let sms_opted_out = patient.preferences.iter().any(|p| {
            p.routes
                .iter()
                .any(|r| r.route.channel == Channel::Sms && r.state == OptState::OptedOut)
        });
        let Some(language) = patient_language(patient) else {
            return Ok(Vec::new());
        };
        let contact = ContactPreferences {
            routes: routes.clone(),
            quiet_hours: patient.quiet_hours,
            language: language.clone(),
            sms_opted_out,
        };
        let subject = ReminderSubject {
            appointment: id,
            status: ap.status,
            start: ap.period.start(),
            zone,
        };
        let visit = self
            .schedule()?
            .appointment_type(&ap.appointment_type)
            .map_or("visit", |t| match t.kind {
                bedside_schedule::EncounterKind::FollowUp => "follow-up visit",
                _ => "visit",
            });
        let ctx = MessageContext {
            clinic_name: config.name.clone(),
            clinic_phone: config.phone.clone(),
            encounter_label: visit.into(),
        };
        let plan = plan_reminders(&subject, &contact, &ReminderConfig::default(), at);
        let mut out = Vec::new();
        for r in plan {
            let Some(route) = routes.iter().find(|x| x.channel == r.channel) else {
                continue;
            };
            let message = render(&subject, r.channel, &language, &ctx);
            out.push(OutboxMessage {
                id: 0,
                created_at: at.to_rfc3339(),
                send_at: r.send_at.to_rfc3339(),
                patient: ap.patient.to_string(),
                purpose: format!("appointment-reminders:{id}"),
                channel: r.channel.as_str().into(),
                address: route.address.expose().clone(),
                body: message.body,
                status: "pending".into(),
            });
        }
        Ok(out)
    }

    /// Plans the post-visit survey for a fulfilled appointment by the distribution rules
    /// (2 hours after the visit, SMS or e-mail, not twice within the fatigue window, not to
    /// patients who opted out of surveys) and records the invitation.
    fn plan_survey(
        &mut self,
        id: AppointmentId,
        at: Timestamp,
    ) -> Result<Vec<OutboxMessage>, ClinicError> {
        use bedside_survey::distribution::{
            DistributionRule, FatiguePolicy, Recipient, SurveyConsent, TriggerEvent, TriggerKind,
            plan,
        };
        let ap = self
            .schedule()?
            .appointment(id)
            .ok_or(ClinicError::NotFound {
                kind: "appointment",
            })?
            .clone();
        let Some(record) = self.registry.current(ap.patient) else {
            return Ok(Vec::new());
        };
        let mut routes = record.contact_routes(ContactPurpose::Surveys);
        if routes.is_empty() {
            routes = record.contact_routes(ContactPurpose::AppointmentReminders);
        }
        let opted_out = record.preferences.iter().any(|p| {
            p.purpose == ContactPurpose::Surveys
                && !p.routes.is_empty()
                && p.routes.iter().all(|r| r.state == OptState::OptedOut)
        });
        let last_surveyed = self
            .invitations
            .values()
            .filter(|i| i.patient == ap.patient)
            .map(|i| i.sent_at)
            .max();
        let recipient = Recipient {
            patient: ap.patient,
            consent: if opted_out {
                SurveyConsent::OptedOut
            } else {
                SurveyConsent::Accepts
            },
            routes: routes.clone(),
            quiet_hours: record.quiet_hours,
            last_surveyed,
        };
        // Every completed visit, two hours later, no reminder, the link valid for a week.
        let rule = DistributionRule::new(
            self.survey.reference(),
            TriggerKind::AppointmentCompleted,
            vec![Channel::Sms, Channel::Email],
        )
        .delay_minutes(120);
        let event = TriggerEvent {
            kind: TriggerKind::AppointmentCompleted,
            patient: ap.patient,
            at,
        };
        // The seed is the appointment id, so replay plans the same sends.
        let seed = (id.as_uuid().as_u128() & u128::from(u64::MAX)) as u64;
        let planned = plan(
            &[rule],
            &[event],
            &[recipient],
            &FatiguePolicy::default(),
            seed,
        );
        let mut out = Vec::new();
        for send in planned.sends {
            let Some(route) = routes.iter().find(|r| r.channel == send.channel) else {
                continue;
            };
            self.invitations.insert(
                id,
                Invitation {
                    patient: ap.patient,
                    provider: ap.provider,
                    sent_at: send.send_at,
                    answered: false,
                },
            );
            out.push(OutboxMessage {
                id: 0,
                created_at: at.to_rfc3339(),
                send_at: send.send_at.to_rfc3339(),
                patient: ap.patient.to_string(),
                purpose: "survey".into(),
                channel: send.channel.as_str().into(),
                address: route.address.expose().clone(),
                body: format!("How was your visit? Tell us in two minutes: survey code {id}"),
                status: "pending".into(),
            });
            break;
        }
        Ok(out)
    }

    /// A one-off notice on the patient's first reminder route.
    fn notice(
        &self,
        patient: PatientId,
        text: &str,
        at: Timestamp,
        _config: &ClinicConfig,
    ) -> Option<OutboxMessage> {
        let record = self.registry.current(patient)?;
        let route = record
            .contact_routes(ContactPurpose::AppointmentReminders)
            .into_iter()
            .next()?;
        Some(OutboxMessage {
            id: 0,
            created_at: at.to_rfc3339(),
            send_at: at.to_rfc3339(),
            patient: patient.to_string(),
            purpose: "notice".into(),
            channel: route.channel.as_str().into(),
            address: route.address.expose().clone(),
            body: text.into(),
            status: "pending".into(),
        })
    }
}

fn patient_language(p: &Patient) -> Option<Language> {
    p.communication
        .iter()
        .find_map(|c| {
            c.language
                .coding
                .first()
                .and_then(|code| Language::new(&code.code).ok())
        })
        .or_else(|| Language::new("en").ok())
}

fn intent_code(intent: ReplyIntent) -> &'static str {
    match intent {
        ReplyIntent::Confirm => "confirm",
        ReplyIntent::Cancel => "cancel",
        ReplyIntent::Reschedule => "reschedule",
        ReplyIntent::OptOut => "stop",
        ReplyIntent::Help => "help",
        _ => "unknown",
    }
}

/// A phone number in E.164 (`+` and 8 to 15 digits, the first not 0), after removing the
/// spaces, dots, dashes and parentheses people type; `None` for anything else (empty,
/// alphanumeric senders such as `ALERTS`, national numbers without a country code).
pub fn e164(raw: &str) -> Option<String> {
    let compact: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+')?;
    let ok = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    ok.then_some(compact)
}

/// The hash kept for a one-time code: SHA-256 of the patient id and the code.
fn code_hash(patient: PatientId, code: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::auth::hex(&Sha256::digest(format!("{patient}:{code}").as_bytes()))
}

/// Replaces the mobile number on file (and the SMS reminder route) with `phone`.
fn replace_mobile(record: &mut Patient, phone: &str) {
    use bedside_records::{ContactPoint, RoutePreference, TelecomSystem, TelecomUse};
    record
        .telecom
        .retain(|t| t.system != Some(TelecomSystem::Phone));
    record.telecom.insert(
        0,
        ContactPoint::new(TelecomSystem::Phone, phone, Some(TelecomUse::Mobile)),
    );
    let mut routes: Vec<RoutePreference> = record
        .preferences
        .iter()
        .find(|p| p.purpose == ContactPurpose::AppointmentReminders)
        .map(|p| p.routes.clone())
        .unwrap_or_default();
    let state = routes
        .iter()
        .find(|r| r.route.channel == Channel::Sms)
        .map_or(OptState::OptedIn, |r| r.state);
    routes.retain(|r| r.route.channel != Channel::Sms);
    routes.insert(
        0,
        RoutePreference {
            route: bedside_core::ContactRoute::new(Channel::Sms, phone.to_string()),
            state,
        },
    );
    record.set_preference(ContactPurpose::AppointmentReminders, routes);
}

/// A reply's word and an optional appointment number: `C2` → (`C`, 2).
fn split_reply(body: &str) -> (&str, Option<usize>) {
    let trimmed = body.trim();
    let word = trimmed
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end();
    let digits = &trimmed[word.len()..].trim();
    match digits.parse::<usize>() {
        Ok(n) if !word.is_empty() && digits.len() <= 2 => (word, Some(n)),
        _ => (trimmed, None),
    }
}

/// The upcoming appointment whose SMS reminder to `number` went out last, when no other
/// appointment's reminder to that number went out in the 12 hours before it.
fn answered_reminder(
    state: &State,
    number: &str,
    upcoming: &[(Timestamp, AppointmentId, PatientId)],
    now: Timestamp,
) -> Option<(Timestamp, AppointmentId, PatientId)> {
    let mut sent: Vec<(Timestamp, usize)> = Vec::new();
    for (i, (_, id, _)) in upcoming.iter().enumerate() {
        let last = state
            .sms_reminders
            .get(id)
            .into_iter()
            .flatten()
            .filter(|(to, at)| to == number && *at <= now)
            .map(|(_, at)| *at)
            .max();
        if let Some(at) = last {
            sent.push((at, i));
        }
    }
    sent.sort();
    let (latest, i) = *sent.last()?;
    let ambiguous = sent
        .iter()
        .rev()
        .skip(1)
        .any(|(at, _)| latest - *at < TimeDelta::hours(12));
    if ambiguous {
        None
    } else {
        upcoming.get(i).copied()
    }
}

/// Digits of a phone number with a leading `+` kept, for matching inbound SMS senders.
pub fn normalise_phone(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for (i, c) in raw.trim().chars().enumerate() {
        if c.is_ascii_digit() || (i == 0 && c == '+') {
            out.push(c);
        }
    }
    out
}

/// Monday to Friday, `from`:00 to `to`:00 local, in the grid's zone.
fn weekday_hours(zone: chrono_tz::Tz, from: u32, to: u32) -> Result<Calendar, ClinicError> {
    Ok(Calendar::weekdays(zone, hour(from)?, hour(to)?)?)
}

fn hour(h: u32) -> Result<NaiveTime, ClinicError> {
    NaiveTime::from_hms_opt(h, 0, 0).ok_or_else(|| ClinicError::bad("hour out of range"))
}

fn build_schedule(spec: &SetupSpec) -> Result<Schedule, ClinicError> {
    let mut s = Schedule::new(spec.grid)?;
    for p in &spec.providers {
        s.add_provider(Provider {
            id: p.id,
            skills: BTreeSet::from([p.skill.clone()]),
            // Lunch is blocked every weekday.
            calendar: weekday_hours(spec.grid.zone, p.hours.0, p.hours.1)?
                .with_weekday_break(hour(12)?, hour(13)?)?,
        })?;
    }
    for r in &spec.rooms {
        s.add_room(Room {
            id: *r,
            capabilities: BTreeSet::from(["exam".to_string()]),
            calendar: weekday_hours(spec.grid.zone, 8, 18)?,
        })?;
    }
    for t in &spec.appointment_types {
        s.add_appointment_type(t.clone())?;
    }
    Ok(s)
}

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
}

/// The clinic's lock, and on a shared store also the database's write lock, for one request.
///
/// On a store other processes write ([`Store::shared`]), taking it catches the state up with
/// what they committed, and releasing it writes any deferred audit entries first: another
/// process must never number an audit entry this one already handed out.
struct Session<'a> {
    guard: MutexGuard<'a, Inner>,
    write_locked: bool,
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
        if let Err(e) = inner.store.commit(&deferred) {
            // The entries are lost with this process's copy of them; the next catch-up
            // rebuilds numbering from the database. Reported, never ignored.
            eprintln!("clinic: writing deferred audit entries failed: {e}");
            inner.behind = Some("deferred audit entries could not be written".into());
        }
        if let Err(e) = inner.store.unlock_writes() {
            eprintln!("clinic: releasing the database write lock failed: {e}");
        }
    }
}

/// The clinic: domain state, store and clock behind one lock.
pub struct Clinic {
    inner: Mutex<Inner>,
    /// The store's group flusher ([`Durability::Group`](crate::Durability::Group)), waited on
    /// outside the lock.
    group: Option<Arc<crate::store::GroupSync>>,
    clock: Arc<dyn Clock>,
    config: ClinicConfig,
}

impl std::fmt::Debug for Clinic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clinic")
            .field("name", &self.config.name)
            .finish_non_exhaustive()
    }
}

/// Search parameters for open slots.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlotSearch {
    /// Visit type code.
    pub appointment_type: String,
    /// Earliest start (default: now).
    pub from: Option<Timestamp>,
    /// Latest start (default: from + 14 days).
    pub to: Option<Timestamp>,
    /// Only this provider.
    pub provider: Option<ProviderId>,
    /// How many (default 5, at most [`MAX_SLOT_RESULTS`]).
    pub limit: Option<usize>,
}

/// Input of self-registration (the portal form).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// Given names.
    pub given: Vec<String>,
    /// Family name.
    pub family: String,
    /// Birth date `YYYY-MM-DD`.
    pub birth_date: String,
    /// Mobile phone (E.164).
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Whether the patient wants SMS reminders (default true when a phone is given).
    pub sms_reminders: Option<bool>,
    /// Preferred language (BCP-47).
    pub language: Option<String>,
}

impl Registration {
    /// The record this form describes.
    ///
    /// # Errors
    /// [`ClinicError::BadRequest`] listing every field problem (paths only).
    pub fn to_patient(&self, id: PatientId) -> Result<Patient, ClinicError> {
        use bedside_records::{
            ContactPoint, HumanName, NameUse, RoutePreference, TelecomSystem, TelecomUse,
        };
        let mut problems = Vec::new();
        if self.family.trim().is_empty() || self.family.len() > 200 {
            problems.push("family: required, at most 200 characters".to_string());
        }
        if self.given.is_empty()
            || self
                .given
                .iter()
                .any(|g| g.trim().is_empty() || g.len() > 200)
        {
            problems.push(
                "given: at least one non-empty name, each at most 200 characters".to_string(),
            );
        }
        for (i, g) in self.given.iter().enumerate() {
            check_text(&format!("given[{i}]"), g, &mut problems);
        }
        check_text("family", &self.family, &mut problems);
        for (path, value) in [("email", &self.email), ("postal_code", &self.postal_code)] {
            if let Some(v) = value {
                check_text(path, v, &mut problems);
                if v.len() > 200 {
                    problems.push(format!("{path}: at most 200 characters"));
                }
            }
        }
        if let Some(phone) = &self.phone
            && e164(phone).is_none()
        {
            problems.push("phone: expected an E.164 number such as +12125550100".to_string());
        }
        let birth = self.birth_date.parse::<bedside_core::PartialDate>();
        if birth.is_err() {
            problems.push("birth_date: expected YYYY-MM-DD".to_string());
        }
        let language = match &self.language {
            Some(l) => match Language::new(l) {
                Ok(l) => Some(l),
                Err(_) => {
                    problems.push("language: expected a BCP-47 tag".to_string());
                    None
                }
            },
            None => None,
        };
        if !problems.is_empty() {
            return Err(ClinicError::BadRequest {
                message: format!("{} problem(s) in the registration", problems.len()),
                details: problems,
            });
        }
        let mut p = Patient::new(id);
        let given: Vec<&str> = self.given.iter().map(String::as_str).collect();
        p.names.push(HumanName::new(
            NameUse::Official,
            &given,
            self.family.trim(),
        ));
        p.birth_date = birth.ok().map(Sensitive::new);
        let mut routes = Vec::new();
        if let Some(phone) = self.phone.as_deref().and_then(e164) {
            p.telecom.push(ContactPoint::new(
                TelecomSystem::Phone,
                phone.clone(),
                Some(TelecomUse::Mobile),
            ));
            routes.push(RoutePreference {
                route: bedside_core::ContactRoute::new(Channel::Sms, phone),
                state: if self.sms_reminders.unwrap_or(true) {
                    OptState::OptedIn
                } else {
                    OptState::OptedOut
                },
            });
        }
        if let Some(email) = &self.email {
            p.telecom
                .push(ContactPoint::new(TelecomSystem::Email, email.clone(), None));
            routes.push(RoutePreference {
                route: bedside_core::ContactRoute::new(Channel::Email, email.clone()),
                state: OptState::OptedIn,
            });
        }
        if !routes.is_empty() {
            p.set_preference(ContactPurpose::AppointmentReminders, routes);
        }
        if let Some(code) = &self.postal_code {
            p.addresses.push(bedside_records::model::Address {
                use_: Some(bedside_records::model::AddressUse::Home),
                postal_code: Some(Sensitive::new(code.clone())),
                ..Default::default()
            });
        }
        if let Some(l) = language {
            p.communication
                .push(bedside_records::model::Communication::preferred(&l));
        }
        Ok(p)
    }
}

/// A patient payment as the API receives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// Amount in cents.
    pub amount_minor: i64,
    /// Idempotency key, scoped to the patient (also the `Idempotency-Key` header).
    #[serde(default)]
    pub client_token: Option<String>,
    /// Billing staff only: record more than the balance as a credit.
    #[serde(default)]
    pub credit: bool,
}

/// A self-service change to the patient's own contact details.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    /// The version the edit is based on (optimistic concurrency).
    pub base_version: u32,
    /// New home address lines, city and postal code.
    pub address: Option<AddressChange>,
    /// SMS reminders on or off.
    pub sms_reminders: Option<bool>,
    /// E-mail reminders on or off.
    pub email_reminders: Option<bool>,
    /// Quiet hours, local `HH:MM` start and end.
    pub quiet_hours: Option<(String, String)>,
    /// A new legal name (becomes a request staff approve).
    pub name: Option<NameChange>,
}

/// A new address.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressChange {
    /// Street lines.
    pub lines: Vec<String>,
    /// City.
    pub city: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
}

/// A new name.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameChange {
    /// Given names.
    pub given: Vec<String>,
    /// Family name.
    pub family: String,
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
        let group = inner.store.group_sync();
        Ok(Clinic {
            inner: Mutex::new(inner),
            group,
            clock,
            config,
        })
    }

    /// Waits until every commit this thread made since the last call is durable. A no-op
    /// unless the store was opened with [`Durability::Group`](crate::Durability::Group),
    /// where commits share one flush: the HTTP layer calls this before it answers, and an
    /// in-process embedder calls it before it treats a write as durable.
    ///
    /// # Errors
    /// [`ClinicError::Storage`] when the flush fails: the write is then not known durable.
    pub fn wait_durable(&self) -> Result<(), ClinicError> {
        let ticket = crate::store::take_last_commit();
        match &self.group {
            Some(group) if ticket > 0 => Ok(group.wait(ticket)?),
            _ => Ok(()),
        }
    }

    fn reload(inner: &mut Inner, config: &ClinicConfig) -> Result<(), ClinicError> {
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
        let snapshot: snapshot::StateSnapshot =
            serde_json::from_str(&stored.body).map_err(|e| StoreError::Corrupt {
                table: "snapshots",
                message: format!(
                    "snapshot at command {}: {}",
                    stored.commands,
                    crate::error::json_problem(&e)
                ),
            })?;
        let position = snapshot.position();
        if (position.commands, position.audit) != (stored.commands, stored.audit) {
            return Err(StoreError::Corrupt {
                table: "snapshots",
                message: format!("snapshot at command {}: position mismatch", stored.commands),
            }
            .into());
        }
        let mut state = State::restore(snapshot, &config.policy_json)?;
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
        let body = serde_json::to_string(&copy).map_err(|e| StoreError::Corrupt {
            table: "snapshots",
            message: crate::error::json_problem(&e),
        })?;
        drop(copy);
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
        Ok(inner.store)
    }

    fn lock(&self) -> Session<'_> {
        // A panic while holding the lock cannot leave half-applied state behind (commands
        // are atomic and the store rolls back), so a poisoned lock is safe to reuse.
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut write_locked = false;
        if guard.store.shared() {
            match guard.store.lock_writes() {
                Ok(()) => write_locked = true,
                Err(e) => eprintln!("clinic: taking the database write lock failed: {e}"),
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
    pub fn execute(&self, command: Command) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        self.execute_locked(&mut inner, command)
    }

    fn execute_locked(&self, inner: &mut Inner, command: Command) -> Result<Value, ClinicError> {
        self.execute_with(inner, command, Batch::default())
    }

    /// Applies a command and commits it with `extra` (tokens, messages the command itself
    /// cannot carry — a one-time code is journaled only as its hash) in one transaction.
    fn execute_with(
        &self,
        inner: &mut Inner,
        command: Command,
        extra: Batch,
    ) -> Result<Value, ClinicError> {
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
        let fx = match inner.state.apply(&command, at, &self.config) {
            Ok(fx) => fx,
            Err(refused) => {
                // The decision that let the caller try is still recorded.
                if let Err(e) = inner.store.commit(&deferred) {
                    self.rebuild(inner);
                    return Err(e.into());
                }
                return Err(refused);
            }
        };
        let journaled = fx.journal.as_ref().unwrap_or(&command);
        let body = serde_json::to_string(journaled).map_err(|e| StoreError::Corrupt {
            table: "commands",
            message: e.to_string(),
        })?;
        let mut outbox = fx.outbox;
        outbox.extend(extra.outbox);
        let batch = Batch {
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
        Ok(fx.value)
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
        let mut inner = self.lock();
        let row = inner
            .store
            .token(&hash_token(token))?
            .ok_or(ClinicError::Unauthenticated)?;
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
            && inner.state.proxy_classes(&principal, now).is_empty()
        {
            return Err(ClinicError::Unauthenticated);
        }
        Ok(principal)
    }

    /// The first gate for `endpoint` (see [`crate::access`]): the HTTP layer calls it before
    /// reading a body, and every service calls it again.
    ///
    /// # Errors
    /// [`ClinicError::Unauthenticated`] or [`ClinicError::Forbidden`].
    pub fn permit(
        &self,
        endpoint: Endpoint,
        principal: Option<&Principal>,
        subject: Option<PatientId>,
    ) -> Result<(), ClinicError> {
        let inner = self.lock();
        self.permit_locked(&inner, endpoint, principal, subject)
    }

    fn permit_locked(
        &self,
        inner: &Inner,
        endpoint: Endpoint,
        principal: Option<&Principal>,
        subject: Option<PatientId>,
    ) -> Result<(), ClinicError> {
        let classes = principal.map_or(ClassSet::default(), |p| {
            inner.state.proxy_classes(p, self.now())
        });
        access::permit(endpoint, principal, subject, classes)
    }

    /// The gate for an endpoint addressed by appointment id: someone else's appointment looks
    /// exactly like a missing one to a patient or proxy.
    ///
    /// # Errors
    /// Not found, unauthenticated or forbidden.
    pub fn permit_appointment(
        &self,
        endpoint: Endpoint,
        principal: &Principal,
        id: AppointmentId,
    ) -> Result<PatientId, ClinicError> {
        let inner = self.lock();
        self.permit_appointment_locked(&inner, endpoint, principal, id)
    }

    fn permit_appointment_locked(
        &self,
        inner: &Inner,
        endpoint: Endpoint,
        principal: &Principal,
        id: AppointmentId,
    ) -> Result<PatientId, ClinicError> {
        let missing = ClinicError::NotFound {
            kind: "appointment",
        };
        let patient = self.appointment_patient(inner, id);
        match (principal.acting_for(), &patient) {
            (Some(_), Err(_)) => return Err(missing),
            (Some(me), Ok(p)) if me != *p => return Err(missing),
            _ => {}
        }
        self.permit_locked(
            inner,
            endpoint,
            Some(principal),
            patient.as_ref().ok().copied(),
        )?;
        patient
    }

    fn actor(&self, p: &Principal) -> Actor {
        p.actor(self.config.organisation)
    }

    /// The gate of a staff-only endpoint (no proxy classes involved).
    fn staff_gate(endpoint: Endpoint, p: &Principal) -> Result<(), ClinicError> {
        access::permit(endpoint, Some(p), None, ClassSet::default())
    }

    /// Asks the consent engine, records the decision in the audit chain (and the review queue
    /// for break-the-glass), and refuses on deny.
    fn authorize(
        &self,
        inner: &mut Inner,
        principal: &Principal,
        patient: PatientId,
        action: Action,
        classes: &[DataClass],
        break_glass: Option<&str>,
    ) -> Result<(), ClinicError> {
        let ask = Ask {
            patient,
            action,
            classes,
            break_glass,
            audit: AuditWrite::Now,
        };
        self.decide(inner, principal, &ask)
    }

    /// As [`Self::authorize`], but a permit's audit entry is written in the transaction of the
    /// command that must follow at once ([`Self::execute_locked`]); a deny is written now.
    fn authorize_command(
        &self,
        inner: &mut Inner,
        principal: &Principal,
        patient: PatientId,
        action: Action,
        classes: &[DataClass],
    ) -> Result<(), ClinicError> {
        let ask = Ask {
            patient,
            action,
            classes,
            break_glass: None,
            audit: AuditWrite::WithNextCommand,
        };
        self.decide(inner, principal, &ask)
    }

    fn decide(
        &self,
        inner: &mut Inner,
        principal: &Principal,
        ask: &Ask<'_>,
    ) -> Result<(), ClinicError> {
        let Ask {
            patient,
            action,
            classes,
            break_glass,
            audit,
        } = *ask;
        let defer = audit == AuditWrite::WithNextCommand;
        // Do not reveal whether a patient id exists to a patient or proxy for another: both
        // get this same answer.
        if principal.acting_for().is_some_and(|p| p != patient) {
            return Err(ClinicError::forbidden("own record only"));
        }
        if inner.state.registry.current(patient).is_none() {
            return Err(ClinicError::NotFound { kind: "patient" });
        }
        // Break-the-glass is a clinician's emergency access; anyone else's header is ignored
        // (no emergency purpose, nothing queued for review).
        let break_glass = break_glass.filter(|_| principal.has_any_role(&[Role::CLINICIAN]));
        let actor = self.actor(principal);
        let (purpose, channel) = match principal {
            Principal::Patient { .. } => (ConsentPurpose::Patrqt, AccessChannel::Portal),
            Principal::Proxy { .. } => (ConsentPurpose::Famrqt, AccessChannel::Portal),
            Principal::Staff { roles, .. } => {
                let p = if break_glass.is_some() {
                    ConsentPurpose::Etreat
                } else if roles.contains(&Role::CLINICIAN) || roles.contains(&Role::NURSE) {
                    ConsentPurpose::Treat
                } else if roles.contains(&Role::BILLING) {
                    ConsentPurpose::Hpaymt
                } else {
                    ConsentPurpose::Hoperat
                };
                (p, AccessChannel::Internal)
            }
        };
        let now = self.now();
        let mut request = Request::new(actor, patient, action, purpose, now)
            .classes(classes.iter().copied())
            .channel(channel);
        if let Some(j) = break_glass {
            request = request.break_glass(BreakGlass {
                justification: Sensitive::new(j.to_string()),
                started_at: now,
            });
        }
        let decision = inner.state.engine.decide(&request);
        let event_id = bedside_core::AuditEventId::from_uuid(uuid::Uuid::now_v7());
        let entry = inner
            .state
            .audit
            .record(event_id, &request, &decision)
            .clone();
        let line = serde_json::to_string(&entry).map_err(|e| StoreError::Corrupt {
            table: "audit",
            message: e.to_string(),
        })?;
        let mut batch = Batch {
            audit: vec![(entry.event.seq, line)],
            ..Batch::default()
        };
        let permitted =
            decision.is_permit() && classes.iter().all(|c| decision.permitted.contains(*c));
        if permitted && let Some(j) = break_glass {
            inner
                .state
                .reviews
                .enqueue(&entry.event, Sensitive::new(j.to_string()));
            batch.reviews.push((entry.event.seq, j.to_string()));
        }
        if permitted && defer {
            inner.deferred.audit.append(&mut batch.audit);
            inner.deferred.reviews.append(&mut batch.reviews);
            return Ok(());
        }
        // Anything deferred and not yet written goes first, keeping the chain contiguous.
        let mut all = std::mem::take(&mut inner.deferred);
        all.audit.append(&mut batch.audit);
        all.reviews.append(&mut batch.reviews);
        if let Err(e) = inner.store.commit(&all) {
            self.rebuild(inner);
            return Err(e.into());
        }
        if permitted {
            Ok(())
        } else {
            Err(ClinicError::forbidden("consent"))
        }
    }

    // ---- set-up --------------------------------------------------------------------------

    /// Whether the clinic has been set up.
    pub fn is_set_up(&self) -> bool {
        self.read().state.setup.is_some()
    }

    /// The providers (public directory).
    pub fn providers(&self) -> Vec<Value> {
        let inner = self.read();
        inner
            .state
            .setup
            .as_ref()
            .map(|s| {
                s.providers
                    .iter()
                    .map(|p| json!({"id": p.id, "name": p.name, "skill": p.skill}))
                    .collect()
            })
            .unwrap_or_default()
    }

    // ---- patients ------------------------------------------------------------------------

    /// Self-registration (or front-desk registration): validates, checks for a possible
    /// duplicate (same birth date, similar names), registers, and for a self-registration
    /// issues the patient's token.
    ///
    /// # Errors
    /// [`ClinicError::BadRequest`] with every problem, or a registry refusal.
    pub fn register(
        &self,
        form: &Registration,
        by: Option<&Principal>,
    ) -> Result<Value, ClinicError> {
        let id = PatientId::from_uuid(uuid::Uuid::now_v7());
        let patient = form.to_patient(id)?;
        let report = bedside_records::validate(&patient, self.now());
        let errors: Vec<String> = report
            .problems
            .iter()
            .filter(|p| p.severity == bedside_records::IssueSeverity::Error)
            .map(|p| p.to_string())
            .collect();
        if !errors.is_empty() {
            return Err(ClinicError::BadRequest {
                message: format!("{} problem(s) in the registration", errors.len()),
                details: errors,
            });
        }
        let endpoint = if by.is_some() {
            Endpoint::StaffRegister
        } else {
            Endpoint::SelfRegister
        };
        access::permit(endpoint, by, None, ClassSet::default())?;
        let phone = form.phone.as_deref().and_then(e164);
        let mut inner = self.lock();
        let found = find_duplicate(&inner.state.matches, &patient);
        let possible_duplicate = found.as_ref().map(|m| m.patient);
        let actor = match by {
            Some(p) => self.actor(p),
            None => Actor::Patient { patient: id },
        };
        let mut extra = Batch::default();
        let mut phone_code = None;
        let mut token = None;
        if by.is_none() {
            let (t, row) = self.fresh_token(&Principal::Patient { patient: id })?;
            token = Some(t);
            extra.tokens.push(row);
            if let Some(phone) = &phone {
                let (code, message) = self.code_message(id, phone)?;
                phone_code = Some(code);
                extra.outbox.push(message);
            }
        }
        let value = self.execute_with(
            &mut inner,
            Command::Register {
                patient: Box::new(patient),
                by: actor,
                possible_duplicate,
                phone_verified: Some(by.is_some() && phone.is_some()),
                phone_code,
                duplicate_match: found.map(Box::new),
            },
            extra,
        )?;
        drop(inner);
        match token {
            // The anonymous answer is the same whether or not this person was already a
            // patient: a possible duplicate goes to the staff queue only.
            Some(token) => Ok(json!({
                "patient": id,
                "version": value["version"],
                "token": token,
                "phone_verification": if phone.is_some() { "code-sent" } else { "none" },
            })),
            None => Ok(value),
        }
    }

    /// A fresh one-time code for `phone`: what the journal keeps (its hash) and the SMS that
    /// carries it (written to the outbox in the same transaction, shown to no API caller).
    fn code_message(
        &self,
        patient: PatientId,
        phone: &str,
    ) -> Result<(PhoneCode, OutboxMessage), ClinicError> {
        let code = new_code()
            .map_err(|_| StoreError::Io(std::io::Error::other("the OS random generator failed")))?;
        let now = self.now();
        let message = OutboxMessage {
            id: 0,
            created_at: now.to_rfc3339(),
            send_at: now.to_rfc3339(),
            patient: patient.to_string(),
            purpose: PHONE_VERIFICATION.into(),
            channel: "sms".into(),
            address: phone.to_string(),
            body: format!(
                "{}: your code is {code}. It expires in {CODE_TTL_MINUTES} minutes.",
                self.config.name
            ),
            status: "pending".into(),
        };
        let hash = code_hash(patient, &code);
        Ok((
            PhoneCode {
                hash,
                expires_at: now + TimeDelta::minutes(CODE_TTL_MINUTES),
            },
            message,
        ))
    }

    /// A new mobile number for a patient: set by the patient it is unverified until they
    /// confirm the code sent to it; set by front-desk staff it is verified at once.
    ///
    /// # Errors
    /// Bad request for a number that is not E.164; forbidden; not found.
    pub fn set_phone(
        &self,
        principal: &Principal,
        patient: PatientId,
        phone: &str,
    ) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(&inner, Endpoint::SetPhone, Some(principal), Some(patient))?;
        let phone =
            e164(phone).ok_or_else(|| ClinicError::bad("phone: expected an E.164 number"))?;
        self.authorize_command(
            &mut inner,
            principal,
            patient,
            Action::Update,
            &[DataClass::Contact],
        )
        .or_else(|e| match principal {
            // The right-of-access policy lets a patient read, not update: their own contact
            // details are self-service, as in `change_profile`.
            Principal::Patient { .. } => Ok(()),
            _ => Err(e),
        })?;
        let staff = matches!(principal, Principal::Staff { .. });
        let mut extra = Batch::default();
        let code = if staff {
            None
        } else {
            let (code, message) = self.code_message(patient, &phone)?;
            extra.outbox.push(message);
            Some(code)
        };
        let by = self.actor(principal);
        self.execute_with(
            &mut inner,
            Command::SetPhone {
                patient,
                phone: Sensitive::new(phone),
                verified: staff,
                code,
                by,
            },
            extra,
        )
    }

    /// The patient confirms the one-time code sent to their number; it then becomes their SMS
    /// identity. After five wrong codes, or after expiry, a new code must be
    /// requested.
    ///
    /// # Errors
    /// Bad request for a wrong code (the attempt counts); conflict when nothing is pending,
    /// the code expired or too many attempts were made; forbidden.
    pub fn verify_phone(
        &self,
        principal: &Principal,
        patient: PatientId,
        code: &str,
    ) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::VerifyPhone,
            Some(principal),
            Some(patient),
        )?;
        let now = self.now();
        let pending = inner
            .state
            .phone_codes
            .get(&patient)
            .ok_or_else(|| ClinicError::conflict("no phone verification is pending"))?;
        if pending.expires_at <= now || pending.attempts >= MAX_CODE_ATTEMPTS {
            return Err(ClinicError::conflict(
                "the code expired or too many attempts were made: ask for a new code",
            ));
        }
        let wanted = pending.hash.clone();
        let given = code_hash(patient, code.trim());
        let success = given.len() == wanted.len()
            && given
                .bytes()
                .zip(wanted.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        let value = self.execute_locked(&mut inner, Command::VerifyPhone { patient, success })?;
        if success {
            Ok(value)
        } else {
            Err(ClinicError::BadRequest {
                message: "code: incorrect".into(),
                details: vec![format!(
                    "code: incorrect, {} attempt(s) left",
                    value["attempts_left"]
                )],
            })
        }
    }

    /// Possible duplicates awaiting staff.
    ///
    /// # Errors
    /// [`ClinicError::Forbidden`] unless reception, scheduler or admin.
    pub fn duplicates(&self, principal: &Principal) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::Duplicates, principal)?;
        let inner = self.lock();
        Ok(json!(inner.state.duplicates))
    }

    /// Staff decide whether a possible duplicate is the same person.
    ///
    /// # Errors
    /// [`ClinicError::Forbidden`] unless reception, scheduler or admin; not found.
    pub fn resolve_duplicate(
        &self,
        principal: &Principal,
        patient: PatientId,
        same_person: bool,
    ) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::ResolveDuplicate, principal)?;
        self.execute(Command::ResolveDuplicate {
            patient,
            same_person,
            by: self.actor(principal),
        })
    }

    /// The patient's record (FHIR R4 JSON), through the consent engine.
    ///
    /// # Errors
    /// [`ClinicError::Forbidden`] when consent denies; not found.
    pub fn patient(
        &self,
        principal: &Principal,
        patient: PatientId,
        break_glass: Option<&str>,
    ) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::ReadPatient,
            Some(principal),
            Some(patient),
        )?;
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::Demographics, DataClass::Contact],
            break_glass,
        )?;
        let v = inner
            .state
            .registry
            .current_version(patient)
            .ok_or(ClinicError::NotFound { kind: "patient" })?;
        Ok(json!({
            "version": v.number,
            "pending_requests": inner.state.registry.pending_requests(patient).len(),
            "resource": v.record.to_fhir(),
        }))
    }

    /// A self-service change: contact details apply at once, a name change becomes a request.
    ///
    /// # Errors
    /// Forbidden for anyone but the patient (or a proxy allowed to update contact details);
    /// conflict on a stale `base_version`; bad request on invalid values.
    pub fn change_profile(
        &self,
        principal: &Principal,
        patient: PatientId,
        change: &ProfileChange,
    ) -> Result<Value, ClinicError> {
        use bedside_records::{HumanName, NameUse, RoutePreference};
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::ChangeProfile,
            Some(principal),
            Some(patient),
        )?;
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::Contact],
            None,
        )?;
        let mut record = inner
            .state
            .registry
            .version(patient, change.base_version)
            .map(|v| v.record.clone())
            .ok_or_else(|| ClinicError::conflict("unknown base_version"))?;
        let mut problems = Vec::new();
        if let Some(a) = &change.address {
            for (i, l) in a.lines.iter().enumerate() {
                check_text(&format!("address.lines[{i}]"), l, &mut problems);
            }
            for (path, v) in [
                ("address.city", &a.city),
                ("address.postal_code", &a.postal_code),
            ] {
                if let Some(v) = v {
                    check_text(path, v, &mut problems);
                }
            }
        }
        if let Some(n) = &change.name {
            for (i, g) in n.given.iter().enumerate() {
                check_text(&format!("name.given[{i}]"), g, &mut problems);
            }
            check_text("name.family", &n.family, &mut problems);
        }
        if !problems.is_empty() {
            return Err(ClinicError::BadRequest {
                message: format!("{} problem(s) in the change", problems.len()),
                details: problems,
            });
        }
        if let Some(a) = &change.address {
            if a.lines.len() > 4 || a.lines.iter().any(|l| l.len() > 200) {
                return Err(ClinicError::bad(
                    "address.lines: at most 4 lines of 200 characters",
                ));
            }
            record
                .addresses
                .retain(|x| x.use_ != Some(bedside_records::model::AddressUse::Home));
            record.addresses.insert(
                0,
                bedside_records::model::Address {
                    use_: Some(bedside_records::model::AddressUse::Home),
                    lines: a.lines.iter().cloned().map(Sensitive::new).collect(),
                    city: a.city.clone().map(Sensitive::new),
                    postal_code: a.postal_code.clone().map(Sensitive::new),
                    ..Default::default()
                },
            );
        }
        for (flag, channel) in [
            (change.sms_reminders, Channel::Sms),
            (change.email_reminders, Channel::Email),
        ] {
            let Some(on) = flag else { continue };
            let mut routes: Vec<RoutePreference> = record
                .preferences
                .iter()
                .find(|p| p.purpose == ContactPurpose::AppointmentReminders)
                .map(|p| p.routes.clone())
                .unwrap_or_default();
            let mut found = false;
            for r in &mut routes {
                if r.route.channel == channel {
                    r.state = if on {
                        OptState::OptedIn
                    } else {
                        OptState::OptedOut
                    };
                    found = true;
                }
            }
            if !found {
                return Err(ClinicError::bad(format!(
                    "{}_reminders: no {} address on file",
                    channel.as_str(),
                    channel.as_str()
                )));
            }
            record.set_preference(ContactPurpose::AppointmentReminders, routes);
        }
        if let Some((start, end)) = &change.quiet_hours {
            let parse = |s: &str| NaiveTime::parse_from_str(s, "%H:%M");
            match (parse(start), parse(end)) {
                (Ok(a), Ok(b)) => {
                    record.quiet_hours =
                        Some(bedside_core::QuietHours::new(inner.state.zone(), a, b));
                }
                _ => {
                    return Err(ClinicError::bad(
                        "quiet_hours: expected [\"HH:MM\", \"HH:MM\"]",
                    ));
                }
            }
        }
        if let Some(n) = &change.name {
            if n.family.trim().is_empty() || n.given.is_empty() {
                return Err(ClinicError::bad("name: given and family are required"));
            }
            let given: Vec<&str> = n.given.iter().map(String::as_str).collect();
            for old in &mut record.names {
                if old.use_ == Some(NameUse::Official) {
                    old.use_ = Some(NameUse::Old);
                }
            }
            record.names.insert(
                0,
                HumanName::new(NameUse::Official, &given, n.family.trim()),
            );
        }
        let by = self.actor(principal);
        self.execute_locked(
            &mut inner,
            Command::Update {
                patient,
                base_version: change.base_version,
                record: Box::new(record),
                by,
            },
        )
    }

    /// Pending change requests of a patient (staff).
    ///
    /// # Errors
    /// Forbidden unless reception, scheduler or admin.
    pub fn change_requests(
        &self,
        principal: &Principal,
        patient: PatientId,
    ) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::ChangeRequests, principal)?;
        let inner = self.lock();
        let list: Vec<Value> = inner
            .state
            .registry
            .pending_requests(patient)
            .iter()
            .map(|r| json!({"request": r.id, "patient": r.patient, "fields": r.changed}))
            .collect();
        Ok(json!(list))
    }

    /// Staff approve a change request.
    ///
    /// # Errors
    /// Forbidden unless reception or admin; not found; already decided.
    pub fn approve_request(
        &self,
        principal: &Principal,
        request: ChangeRequestId,
    ) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::ApproveRequest, principal)?;
        self.execute(Command::Approve {
            request,
            by: self.actor(principal),
        })
    }

    // ---- scheduling ----------------------------------------------------------------------

    /// Open slots (no patient data: no consent check needed).
    ///
    /// # Errors
    /// Bad request for an unknown visit type or an inverted window.
    pub fn find_slots(&self, search: &SlotSearch) -> Result<Vec<SlotOption>, ClinicError> {
        let now = self.now();
        let from = search.from.unwrap_or(now).max(now);
        let to = match search.to {
            Some(to) => to,
            None => from
                .checked_add_signed(TimeDelta::days(14))
                .ok_or_else(|| ClinicError::bad("from: out of range"))?,
        };
        if to < from {
            return Err(ClinicError::bad("to: must not be before from"));
        }
        let limit = search.limit.unwrap_or(5).clamp(1, MAX_SLOT_RESULTS);
        let query = SlotQuery::new(search.appointment_type.clone(), from, to)
            .with_providers(search.provider.into_iter().collect())
            .with_limit(limit)
            .booked_by_patient(now);
        let inner = self.read();
        Ok(inner.state.schedule()?.find_slots(&query)?)
    }

    /// Books a slot for a patient (the patient themself, a proxy with the appointments
    /// grant, or front-desk staff).
    ///
    /// The option is re-derived from the server's own slot search: a client-edited option (a
    /// period in the past, inside the minimum notice, or never offered) is refused. The
    /// `client_token` is scoped to the patient: a retry with the same token returns the same
    /// booking, and another patient's token of the same name is unrelated.
    ///
    /// # Errors
    /// Conflict when the slot is gone or was never offered; forbidden; bad request.
    pub fn book(
        &self,
        principal: &Principal,
        patient: PatientId,
        option: SlotOption,
        client_token: &str,
    ) -> Result<Value, ClinicError> {
        if client_token.is_empty() || client_token.len() > 100 {
            return Err(ClinicError::bad("client_token: 1 to 100 characters"));
        }
        let mut inner = self.lock();
        self.permit_locked(&inner, Endpoint::Book, Some(principal), Some(patient))?;
        if inner.state.registry.current(patient).is_none() {
            return Err(ClinicError::NotFound { kind: "patient" });
        }
        let scoped = format!("{patient}/{client_token}");
        let retry = inner
            .state
            .schedule()?
            .appointment_for_token(&scoped)
            .is_some();
        let option = if retry {
            option
        } else {
            self.rederive(&inner, principal, patient, &option)?
        };
        if !matches!(principal, Principal::Staff { .. }) {
            self.authorize_command(
                &mut inner,
                principal,
                patient,
                Action::Read,
                &[DataClass::Appointments],
            )?;
        }
        let by = self.actor(principal);
        self.execute_locked(
            &mut inner,
            Command::Book {
                option,
                patient,
                client_token: scoped,
                id: AppointmentId::from_uuid(uuid::Uuid::now_v7()),
                by,
            },
        )
    }

    /// The server's own option matching what the client sent (same type, provider and
    /// period; the same room when the search offers it).
    fn rederive(
        &self,
        inner: &Inner,
        principal: &Principal,
        patient: PatientId,
        option: &SlotOption,
    ) -> Result<SlotOption, ClinicError> {
        let now = self.now();
        let start = option.period.start();
        let not_offered = || ClinicError::conflict("option: not offered by the slot search");
        if start <= now {
            return Err(not_offered());
        }
        let query = SlotQuery::new(option.appointment_type.clone(), start, start)
            .for_patient(patient)
            .with_providers(vec![option.provider])
            .with_limit(MAX_SLOT_RESULTS);
        let query = if matches!(principal, Principal::Staff { .. }) {
            query
        } else {
            query.booked_by_patient(now)
        };
        let offered = inner.state.schedule()?.find_slots(&query)?;
        let same = |o: &&SlotOption| o.provider == option.provider && o.period == option.period;
        offered
            .iter()
            .filter(same)
            .find(|o| o.room == option.room && o.equipment == option.equipment)
            .or_else(|| offered.iter().find(same))
            .cloned()
            .ok_or_else(not_offered)
    }

    /// A patient's appointments, through the consent engine.
    ///
    /// # Errors
    /// Forbidden; not found.
    pub fn appointments(
        &self,
        principal: &Principal,
        patient: PatientId,
    ) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::Appointments,
            Some(principal),
            Some(patient),
        )?;
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::Appointments],
            None,
        )?;
        let s = inner.state.schedule()?;
        let list: Vec<Value> = s
            .appointments()
            .filter(|a| a.patient == patient)
            .map(|a| {
                json!({
                    "id": a.id, "type": a.appointment_type, "provider": a.provider,
                    "start": a.period.start(), "end": a.period.end(), "status": a.status.code(),
                    "version": a.version, "confirmed": inner.state.confirmed.contains_key(&a.id),
                })
            })
            .collect();
        Ok(json!(list))
    }

    fn appointment_patient(
        &self,
        inner: &Inner,
        id: AppointmentId,
    ) -> Result<PatientId, ClinicError> {
        inner
            .state
            .schedule()?
            .appointment(id)
            .map(|a| a.patient)
            .ok_or(ClinicError::NotFound {
                kind: "appointment",
            })
    }

    /// Cancels an appointment (its patient, a proxy with `appointments`, or front-desk
    /// staff).
    ///
    /// # Errors
    /// Forbidden; not found (also for someone else's appointment); conflict.
    pub fn cancel(&self, principal: &Principal, id: AppointmentId) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        self.permit_appointment_locked(&inner, Endpoint::Cancel, principal, id)?;
        let by = self.actor(principal);
        self.execute_locked(&mut inner, Command::Cancel { id, by })
    }

    /// Moves an appointment to another option, re-derived from the server's slot search.
    ///
    /// # Errors
    /// Forbidden; not found; conflict.
    pub fn reschedule(
        &self,
        principal: &Principal,
        id: AppointmentId,
        option: SlotOption,
    ) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        let patient =
            self.permit_appointment_locked(&inner, Endpoint::Reschedule, principal, id)?;
        let option = self.rederive(&inner, principal, patient, &option)?;
        let by = self.actor(principal);
        self.execute_locked(&mut inner, Command::Reschedule { id, option, by })
    }

    /// A provider calls in sick for `period`: affected appointments are moved (or left
    /// pending for staff) and the patients notified.
    ///
    /// # Errors
    /// Forbidden unless scheduler or admin; not found.
    pub fn provider_unavailable(
        &self,
        principal: &Principal,
        provider: ProviderId,
        period: Period,
    ) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::ProviderUnavailable, principal)?;
        self.execute(Command::Unavailable {
            provider,
            period,
            by: self.actor(principal),
        })
    }

    /// An inbound SMS from the gateway: C confirms, X cancels, R offers new times (queued as
    /// an SMS), STOP opts the number out of SMS for every patient on it.
    ///
    /// Only verified E.164 numbers are SMS identities: any other sender (empty, alphanumeric
    /// such as `ALERTS`, a number no patient verified) is acknowledged, logged and ignored.
    /// On a number several patients share, a reply applies to the appointment whose reminder
    /// it answers — the only upcoming one, the one named by a digit (`C2`), or the one whose
    /// SMS reminder went out last when no other patient's reminder on the number went out in
    /// the 12 hours before it; otherwise the clinic asks which one. A replayed `message_id`
    /// is acknowledged and does nothing.
    ///
    /// # Errors
    /// Forbidden unless the caller has the `sms-gateway` role; bad request for a missing or
    /// oversized message id or body.
    pub fn inbound_sms(
        &self,
        principal: &Principal,
        message_id: &str,
        from: &str,
        body: &str,
    ) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::InboundSms, principal)?;
        if message_id.is_empty()
            || message_id.len() > 200
            || !message_id.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(ClinicError::bad(
                "message_id: 1 to 200 visible ASCII characters",
            ));
        }
        if body.len() > bedside_schedule::replies::MAX_REPLY_CHARS {
            return Err(ClinicError::bad("body: too long for an SMS reply"));
        }
        let (word, index) = split_reply(body);
        let intent = parse_reply(word);
        let mut inner = self.lock();
        if inner.state.sms_seen.contains(message_id) {
            return Ok(
                json!({ "intent": intent_code(intent), "applied": false, "duplicate": true }),
            );
        }
        let action = self.decide_sms(&inner.state, from, intent, index)?;
        if let SmsAction::Ignored { reason } = &action {
            // Logged without the sender or text (PHI): the gateway's id is enough to trace it.
            eprintln!("inbound sms {message_id}: ignored ({reason})");
        }
        let result = self.execute_locked(
            &mut inner,
            Command::InboundSms {
                message_id: message_id.to_string(),
                action,
            },
        )?;
        let applied = result["applied"] == json!(true);
        Ok(json!({ "intent": intent_code(intent), "applied": applied, "result": result }))
    }

    /// What an inbound SMS means, from the clinic's state.
    fn decide_sms(
        &self,
        state: &State,
        from: &str,
        intent: ReplyIntent,
        index: Option<usize>,
    ) -> Result<SmsAction, ClinicError> {
        let ignored = |reason: &str| SmsAction::Ignored {
            reason: reason.into(),
        };
        let Some(number) = e164(from) else {
            return Ok(ignored("unverified-sender"));
        };
        let Some(patients) = state.phones.get(&number) else {
            return Ok(ignored("unverified-sender"));
        };
        let patients: Vec<PatientId> = patients.iter().copied().collect();
        if intent == ReplyIntent::OptOut {
            return Ok(SmsAction::Stop { patients });
        }
        if !matches!(
            intent,
            ReplyIntent::Confirm | ReplyIntent::Cancel | ReplyIntent::Reschedule
        ) {
            return Ok(ignored("not-understood"));
        }
        let now = self.now();
        let mut upcoming: Vec<(Timestamp, AppointmentId, PatientId)> = state
            .schedule()?
            .appointments()
            .filter(|a| {
                patients.contains(&a.patient)
                    && a.status == AppointmentStatus::Booked
                    && a.period.start() > now
            })
            .map(|a| (a.period.start(), a.id, a.patient))
            .collect();
        upcoming.sort();
        let target = match index {
            Some(n) => n.checked_sub(1).and_then(|i| upcoming.get(i)).copied(),
            None if upcoming.len() == 1 => upcoming.first().copied(),
            None => answered_reminder(state, &number, &upcoming, now),
        };
        let Some((_, appointment, patient)) = target else {
            return Ok(match (upcoming.first(), index) {
                (None, _) => ignored("no-upcoming-appointment"),
                (Some(&(_, _, first)), _) => SmsAction::Ask {
                    appointments: upcoming.iter().map(|u| u.1).collect(),
                    patient: first,
                },
            });
        };
        Ok(match intent {
            ReplyIntent::Confirm => SmsAction::Confirm {
                appointment,
                patient,
            },
            ReplyIntent::Cancel => SmsAction::Cancel {
                appointment,
                patient,
            },
            _ => SmsAction::Offer {
                appointment,
                patient,
            },
        })
    }

    // ---- consent -------------------------------------------------------------------------

    /// The patient grants a related person proxy access to some classes, for a year; returns
    /// the proxy's token.
    ///
    /// # Errors
    /// Forbidden unless the patient themself; bad request for unknown classes.
    pub fn grant_proxy(
        &self,
        principal: &Principal,
        patient: PatientId,
        classes: &[String],
        relationship: Relationship,
    ) -> Result<Value, ClinicError> {
        self.permit(Endpoint::GrantProxy, Some(principal), Some(patient))?;
        if classes.len() > DataClass::ALL.len() {
            return Err(ClinicError::bad("classes: too many"));
        }
        let mut set = ClassSet::default();
        let mut unknown = Vec::new();
        for (i, c) in classes.iter().enumerate() {
            match DataClass::from_code(c) {
                Some(dc) => {
                    set.insert(dc);
                }
                // The index, never the text: error messages do not echo request input.
                None => unknown.push(format!("classes[{i}]: unknown data class")),
            }
        }
        if !unknown.is_empty() || set.is_empty() {
            return Err(ClinicError::BadRequest {
                message: "classes: give one or more known data classes".into(),
                details: unknown,
            });
        }
        let related_person = RelatedPersonId::from_uuid(uuid::Uuid::now_v7());
        let now = self.now();
        let period = Period::starting_at(now, TimeDelta::days(365));
        let grant = ProxyGrant::new(related_person, patient, relationship, set, period);
        let (token, row) = self.fresh_token(&Principal::Proxy {
            related_person,
            patient,
        })?;
        let mut inner = self.lock();
        // The grant and its token commit together: no grant without a token, nor the reverse.
        let mut value = self.execute_with(
            &mut inner,
            Command::GrantProxy { grant },
            Batch {
                tokens: vec![row],
                ..Batch::default()
            },
        )?;
        value["token"] = json!(token);
        Ok(value)
    }

    /// The patient revokes a proxy: its token stops working at once, and the revocation shows
    /// in the patient's access history.
    ///
    /// # Errors
    /// Forbidden unless the patient themself; not found for an unknown or revoked proxy.
    pub fn revoke_proxy(
        &self,
        principal: &Principal,
        patient: PatientId,
        related_person: RelatedPersonId,
    ) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::RevokeProxy,
            Some(principal),
            Some(patient),
        )?;
        self.execute_locked(
            &mut inner,
            Command::RevokeProxy {
                related_person,
                patient,
            },
        )
    }

    /// A clinician adds a note (consent: create clinical notes).
    ///
    /// # Errors
    /// Forbidden.
    pub fn add_note(
        &self,
        principal: &Principal,
        patient: PatientId,
        text: &str,
    ) -> Result<Value, ClinicError> {
        if text.trim().is_empty() || text.len() > 20_000 {
            return Err(ClinicError::bad("text: 1 to 20000 characters"));
        }
        Self::staff_gate(Endpoint::AddNote, principal)?;
        let mut inner = self.lock();
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Create,
            &[DataClass::ClinicalNotes],
            None,
        )?;
        let by = self.actor(principal);
        self.execute_locked(
            &mut inner,
            Command::AddNote {
                patient,
                text: Sensitive::new(text.to_string()),
                by,
            },
        )
    }

    /// Clinical notes, through the consent engine (break-the-glass when `break_glass` holds a
    /// justification).
    ///
    /// # Errors
    /// Forbidden when consent denies.
    pub fn notes(
        &self,
        principal: &Principal,
        patient: PatientId,
        break_glass: Option<&str>,
    ) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(&inner, Endpoint::Notes, Some(principal), Some(patient))?;
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::ClinicalNotes],
            break_glass,
        )?;
        let list: Vec<Value> = inner
            .state
            .notes
            .get(&patient)
            .map(|v| {
                v.iter()
                    .map(|n| json!({"at": n.at, "author": n.author, "text": n.text.expose()}))
                    .collect()
            })
            .unwrap_or_default();
        Ok(json!(list))
    }

    /// The break-the-glass review queue (privacy officer).
    ///
    /// # Errors
    /// Forbidden unless privacy officer.
    pub fn reviews(&self, principal: &Principal) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::Reviews, principal)?;
        let inner = self.lock();
        let list: Vec<Value> = inner
            .state
            .reviews
            .pending()
            .map(|r| json!({"event": r.event, "seq": r.seq, "actor": r.actor, "patient": r.patient, "at": r.at, "justification": r.justification.expose()}))
            .collect();
        Ok(json!(list))
    }

    /// The patient's accounting of disclosures and of every access decision about them.
    ///
    /// # Errors
    /// Forbidden unless the patient themself.
    pub fn disclosures(
        &self,
        principal: &Principal,
        patient: PatientId,
    ) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::Disclosures,
            Some(principal),
            Some(patient),
        )?;
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::Demographics],
            None,
        )?;
        let now = self.now();
        let proxies: Vec<Value> = inner
            .state
            .proxies
            .iter()
            .filter(|(_, r)| r.patient == patient)
            .map(|(id, r)| {
                json!({
                    "related_person": id,
                    "relationship": r.relationship,
                    "classes": r.classes.iter().map(|c| c.code()).collect::<Vec<_>>(),
                    "granted_at": r.granted_at,
                    "until": r.until,
                    "revoked_at": r.revoked_at,
                })
            })
            .collect();
        // A clinic resumed from a snapshot holds only later entries; the rest are read back.
        let first_held = inner.state.audit.first_held();
        let mut older: Vec<bedside_consent::audit::AuditEntry> = Vec::new();
        if first_held > 0 {
            for line in inner
                .store
                .audit_mentioning(&patient.to_string(), first_held)?
            {
                let entry = serde_json::from_str::<bedside_consent::audit::AuditEntry>(&line)
                    .map_err(|e| StoreError::Corrupt {
                        table: "audit",
                        message: crate::error::json_problem(&e),
                    })?;
                if entry.event.patient == patient {
                    older.push(entry);
                }
            }
        }
        let all = || older.iter().chain(inner.state.audit.entries());
        let disclosures: Vec<Value> = accounting(all().map(|e| &e.event), patient, now)
            .into_iter()
            .map(|d| json!({"at": d.at, "recipient": d.recipient, "purpose": d.purpose, "data": d.data}))
            .collect();
        let accesses: Vec<Value> = all()
            .filter(|e| e.event.patient == patient)
            .map(|e| json!({"seq": e.event.seq, "at": e.event.recorded, "actor": e.event.actor, "action": e.event.action, "outcome": e.event.outcome, "break_glass": e.event.break_glass}))
            .collect();
        Ok(json!({ "disclosures": disclosures, "accesses": accesses, "proxies": proxies }))
    }

    /// Verifies the audit chain end to end.
    ///
    /// # Errors
    /// Forbidden unless privacy officer or admin; conflict if the chain is broken.
    pub fn verify_audit(&self, principal: &Principal) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::VerifyAudit, principal)?;
        let mut inner = self.lock();
        // What is in the database now, against the checkpoint kept outside it — not memory.
        let report = inner.store.verify_chain()?;
        let memory = inner.state.audit.verify().err().map(|e| e.to_string());
        let verified = report.broken.is_none() && memory.is_none();
        Ok(json!({
            "events": inner.state.audit.len(),
            "batches": report.batches,
            "head": report.head,
            "verified": verified,
            "broken": report.broken.as_ref().map(|b| json!({
                "first_bad_batch": b.first_bad_batch,
                "last_good_batch": b.last_good_batch,
                "reason": b.to_string(),
            })),
            "audit_log": memory,
            "degraded": inner.degraded,
        }))
    }

    /// Whether writes are refused because the integrity check found a break, and why.
    pub fn degraded(&self) -> Option<String> {
        self.read().degraded.clone()
    }

    // ---- vitals --------------------------------------------------------------------------

    /// Discharge to home monitoring (clinician or nurse).
    ///
    /// # Errors
    /// Forbidden; not found.
    pub fn discharge(
        &self,
        principal: &Principal,
        patient: PatientId,
    ) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::Discharge, principal)?;
        self.execute(Command::Discharge { patient })
    }

    /// Home vitals upload (NDJSON) by the patient or a proxy with `vitals`.
    ///
    /// Every line is parsed and must name the patient in its `patient` field (a line naming
    /// anyone else refuses the whole upload, with the line numbers); readings timed before 1900
    /// or more than a day ahead are rejected with their line number; what the journal keeps is
    /// what was stored, not the raw body; each patient may upload
    /// [`ClinicConfig::vitals_uploads_per_day`] times a day.
    ///
    /// # Errors
    /// Forbidden; bad request naming the offending lines; conflict if not under monitoring;
    /// 429 over the daily limit.
    pub fn upload_vitals(
        &self,
        principal: &Principal,
        patient: PatientId,
        body: &str,
    ) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::UploadVitals,
            Some(principal),
            Some(patient),
        )?;
        let now = self.now();
        let today = inner
            .state
            .vitals_uploads
            .get(&(patient, now.date_naive()))
            .copied()
            .unwrap_or(0);
        if today >= self.config.vitals_uploads_per_day {
            let midnight = (now.date_naive() + chrono::Days::new(1))
                .and_time(NaiveTime::MIN)
                .and_utc();
            return Err(ClinicError::LimitReached {
                what: "vitals uploads today",
                retry_after_seconds: u64::try_from((midnight - now).num_seconds().max(1))
                    .unwrap_or(1),
            });
        }
        let screened = screen_vitals(body, patient, now)?;
        let label = format!("upload-{}", uuid::Uuid::now_v7().simple());
        let mut value = self.execute_locked(
            &mut inner,
            Command::Vitals {
                patient,
                label,
                body: Sensitive::new(screened.forwarded),
            },
        )?;
        // Lines screened out here keep their own numbers in the report.
        if !screened.rejected.is_empty() {
            let n = screened.rejected.len();
            let mut rejections: Vec<Value> = screened
                .rejected
                .iter()
                .map(|line| json!({"record": line, "reason": "time out of range"}))
                .collect();
            if let Some(list) = value["rejections"].as_array() {
                for r in list {
                    let forwarded = r["record"].as_u64().unwrap_or(0) as usize;
                    let original = screened.numbers.get(forwarded.wrapping_sub(1)).copied();
                    rejections.push(json!({"record": original, "reason": r["reason"]}));
                }
            }
            value["rejections"] = json!(rejections);
            value["records"] = json!(value["records"].as_u64().unwrap_or(0) + n as u64);
            value["rejected"] = json!(value["rejected"].as_u64().unwrap_or(0) + n as u64);
        } else if let Some(list) = value["rejections"].as_array_mut() {
            for r in list {
                let forwarded = r["record"].as_u64().unwrap_or(0) as usize;
                r["record"] = json!(screened.numbers.get(forwarded.wrapping_sub(1)));
            }
        }
        Ok(value)
    }

    /// The nurse queue: open alerts, most severe first.
    ///
    /// # Errors
    /// Forbidden unless nurse or clinician.
    pub fn alerts(&self, principal: &Principal) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::Alerts, principal)?;
        let inner = self.lock();
        let list: Vec<Value> = inner
            .state
            .alerts
            .open()
            .iter()
            .map(|r| {
                json!({"alert": r.alert.id, "patient": r.alert.patient, "rule": r.alert.rule,
                "severity": r.alert.severity.as_str(),
                "response": r.alert.response.as_str(),
                "triggered_at": r.alert.triggered_at, "message": r.alert.message})
            })
            .collect();
        Ok(json!(list))
    }

    /// A nurse acknowledges an alert.
    ///
    /// # Errors
    /// Forbidden; not found.
    pub fn acknowledge_alert(
        &self,
        principal: &Principal,
        alert: AlertId,
    ) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::AckAlert, principal)?;
        self.execute(Command::AckAlert {
            alert,
            by: self.actor(principal),
        })
    }

    // ---- visits and surveys -------------------------------------------------------------

    /// Reception checks the patient in.
    ///
    /// # Errors
    /// Forbidden unless reception or scheduler; not found; conflict.
    pub fn check_in(&self, principal: &Principal, id: AppointmentId) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::CheckIn, principal)?;
        self.execute(Command::CheckIn {
            id,
            by: self.actor(principal),
        })
    }

    /// The clinician completes the visit; the survey is planned.
    ///
    /// # Errors
    /// Forbidden unless clinician or nurse; not found; conflict.
    pub fn complete(&self, principal: &Principal, id: AppointmentId) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::Complete, principal)?;
        self.execute(Command::Complete {
            id,
            by: self.actor(principal),
        })
    }

    /// The patient answers their survey invitation.
    ///
    /// # Errors
    /// Not found for someone else's invitation; bad request with every validation problem;
    /// conflict when already answered.
    pub fn answer_survey(
        &self,
        principal: &Principal,
        invitation: AppointmentId,
        answers: Vec<(String, SurveyAnswerValue)>,
    ) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        let owner = inner.state.invitations.get(&invitation).map(|i| i.patient);
        if owner.is_none()
            || principal.acting_for() != owner
            || !matches!(principal, Principal::Patient { .. })
        {
            return Err(ClinicError::NotFound {
                kind: "survey invitation",
            });
        }
        if answers.len() > 100 {
            return Err(ClinicError::bad("answers: at most 100"));
        }
        self.execute_locked(
            &mut inner,
            Command::SurveyAnswer {
                invitation,
                answers,
            },
        )
    }

    /// The manager's report of the post-visit survey, by provider (small cells suppressed).
    ///
    /// # Errors
    /// Forbidden unless manager or admin.
    pub fn survey_report(&self, principal: &Principal) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::SurveyReport, principal)?;
        let inner = self.lock();
        let s = &inner.state;
        let config = bedside_survey::AnalyticsConfig::default()
            .by(vec![bedside_survey::Dimension::attribute("provider")]);
        let report = bedside_survey::analyse(&s.survey, &s.responses, config)
            .map_err(|e| ClinicError::domain("survey report", &e))?;
        let markdown = bedside_survey::report::render(
            &s.survey,
            &report,
            bedside_survey::report::Format::Markdown,
        );
        Ok(json!({
            "survey": s.survey.id,
            "invited": s.invitations.len(),
            "responses": s.responses.len(),
            "report": markdown,
        }))
    }

    // ---- billing -----------------------------------------------------------------------

    /// Billing staff post the charges of a visit that took place (checked in and completed)
    /// and submit its claim.
    ///
    /// One claim per visit: charging a visit again is refused with the existing claim
    /// ([`ClinicError::AlreadyExists`]) unless `replaces` names that claim, which makes this a
    /// corrected (replacement) claim. Repeated codes aggregate into units, at most
    /// [`ClinicConfig::max_units`] per line.
    ///
    /// # Errors
    /// Forbidden unless billing or reception; not found; conflict (visit not completed, a
    /// claim exists, `replaces` is not this visit's claim); bad request for unknown codes or
    /// too many units.
    pub fn charge_visit(
        &self,
        principal: &Principal,
        appointment: AppointmentId,
        codes: &[String],
        replaces: Option<bedside_core::ClaimId>,
    ) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::Charge, principal)?;
        if codes.is_empty() || codes.len() > 100 {
            return Err(ClinicError::bad("codes: 1 to 100 procedure codes"));
        }
        let mut inner = self.lock();
        let ap = inner
            .state
            .schedule()?
            .appointment(appointment)
            .ok_or(ClinicError::NotFound {
                kind: "appointment",
            })?;
        if ap.status != AppointmentStatus::Fulfilled {
            return Err(ClinicError::conflict(
                "charges need a visit that took place (checked in and completed)",
            ));
        }
        let encounter = bedside_core::EncounterId::from_uuid(appointment.as_uuid());
        let existing = inner
            .state
            .billing
            .claims
            .for_encounter(encounter)
            .map(|c| c.id);
        match (existing, replaces) {
            (Some(current), None) => {
                return Err(ClinicError::AlreadyExists {
                    kind: "claim",
                    existing: current.to_string(),
                });
            }
            (Some(current), Some(r)) if current != r => {
                return Err(ClinicError::conflict(
                    "replaces: not the current claim of this visit",
                ));
            }
            (None, Some(_)) => {
                return Err(ClinicError::conflict("replaces: this visit has no claim"));
            }
            _ => {}
        }
        let mut lines: Vec<(String, u32)> = Vec::new();
        let mut problems = Vec::new();
        for (i, code) in codes.iter().enumerate() {
            let code = code.trim();
            match lines.iter_mut().find(|(c, _)| c == code) {
                Some((_, units)) => *units += 1,
                None => lines.push((code.to_string(), 1)),
            }
            let units = lines.iter().find(|(c, _)| c == code).map_or(1, |l| l.1);
            let cap = self
                .config
                .max_units
                .get(code)
                .copied()
                .unwrap_or(self.config.default_max_units);
            if units == cap + 1 {
                problems.push(format!("codes[{i}]: more than {cap} unit(s) of one code"));
            }
        }
        if !problems.is_empty() {
            return Err(ClinicError::BadRequest {
                message: format!("{} problem(s) in the charges", problems.len()),
                details: problems,
            });
        }
        self.execute_locked(
            &mut inner,
            Command::Charge {
                appointment,
                charge_ids: lines
                    .iter()
                    .map(|_| bedside_ledger::ChargeId::from_uuid(uuid::Uuid::now_v7()))
                    .collect(),
                codes: lines.iter().map(|(c, _)| c.clone()).collect(),
                units: lines.iter().map(|(_, u)| *u).collect(),
                claim: bedside_core::ClaimId::from_uuid(uuid::Uuid::now_v7()),
                replaces,
                by: self.actor(principal),
            },
        )
    }

    /// Billing staff post an 835 remittance.
    ///
    /// # Errors
    /// Forbidden unless billing; bad request with the parser's diagnostics.
    pub fn post_remittance(&self, principal: &Principal, body: &str) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::Remittance, principal)?;
        self.execute(Command::Remittance {
            body: Sensitive::new(body.to_string()),
            by: self.actor(principal),
        })
    }

    /// The patient's plain-language statement and balance, through the consent engine.
    ///
    /// # Errors
    /// Forbidden when consent denies.
    pub fn statement(
        &self,
        principal: &Principal,
        patient: PatientId,
    ) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(&inner, Endpoint::Statement, Some(principal), Some(patient))?;
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::Billing],
            None,
        )?;
        let b = &inner.state.billing;
        let now = self.now();
        // Claims (with the adjudications remittances recorded) and payments come from the books.
        let options = bedside_ledger::StatementOptions::new(
            now.with_timezone(&inner.state.zone()).date_naive(),
        )
        .with_how_to_pay("Online: use the payment link in your text or e-mail")
        .with_how_to_pay("Need more time? Ask for a payment plan — no interest, no fees");
        let statement = b
            .books
            .statement(&b.claims, patient, options)
            .map_err(|e| ClinicError::domain("statement", &e))?;
        Ok(json!({
            "balance_minor": b.patient_balance_minor(patient),
            "amount_due_minor": statement.amount_due.amount_minor(),
            "text": statement.render_text(),
        }))
    }

    /// A payment by the patient, a proxy with `billing`, or billing staff.
    ///
    /// With a `client_token` (the `Idempotency-Key` header) a retry returns the first answer
    /// and pays nothing more; the same key with another amount is a conflict. More than the
    /// balance is refused unless billing staff record a credit (`credit: true`).
    ///
    /// # Errors
    /// Forbidden; not found for an id that is not a patient; bad amount; conflict (over the
    /// balance, key reused with another request).
    pub fn pay(
        &self,
        principal: &Principal,
        patient: PatientId,
        request: &PaymentRequest,
    ) -> Result<Value, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(&inner, Endpoint::Pay, Some(principal), Some(patient))?;
        if inner.state.registry.current(patient).is_none() {
            return Err(ClinicError::NotFound { kind: "patient" });
        }
        if let Some(key) = &request.client_token
            && (key.is_empty() || key.len() > 100 || !key.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(ClinicError::bad(
                "idempotency key: 1 to 100 visible ASCII characters",
            ));
        }
        let billing_staff = principal.has_any_role(&[Role::BILLING]);
        if request.credit && !billing_staff {
            return Err(ClinicError::forbidden("credit: billing staff only"));
        }
        if let Some(key) = &request.client_token
            && let Some(first) = inner.state.payment_keys.get(&(patient, key.clone()))
        {
            return if first.amount_minor == request.amount_minor && first.credit == request.credit {
                Ok(first.answer.clone())
            } else {
                Err(ClinicError::conflict(
                    "idempotency key already used for a different payment",
                ))
            };
        }
        if request.amount_minor <= 0 || request.amount_minor > 10_000_000 {
            return Err(ClinicError::bad("amount_minor: 1 to 10000000"));
        }
        let balance = inner.state.billing.patient_balance_minor(patient);
        if request.amount_minor > balance && !request.credit {
            return Err(ClinicError::conflict(
                "amount_minor: more than the balance due",
            ));
        }
        if !billing_staff {
            self.authorize_command(
                &mut inner,
                principal,
                patient,
                Action::Read,
                &[DataClass::Billing],
            )?;
        }
        self.execute_locked(
            &mut inner,
            Command::Payment {
                patient,
                amount_minor: request.amount_minor,
                id: bedside_ledger::PaymentId::from_uuid(uuid::Uuid::now_v7()),
                client_token: request.client_token.clone(),
                credit: request.credit,
                by: self.actor(principal),
            },
        )
    }

    /// The remittance work queue: unmatched claims, reversals without originals and
    /// duplicate payments, each with its reason.
    ///
    /// # Errors
    /// Forbidden unless billing.
    pub fn work_queue(&self, principal: &Principal) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::WorkQueue, principal)?;
        let inner = self.lock();
        let items: Vec<Value> = inner
            .state
            .billing
            .poster
            .work_queue()
            .iter()
            .map(|w| {
                json!({
                    "reason": w.reason,
                    "trace_number": w.trace_number,
                    "control_number": w.control_number.expose(),
                    "paid_minor": w.paid.amount_minor(),
                    "segment": w.segment,
                })
            })
            .collect();
        Ok(json!(items))
    }

    /// Accounts-receivable aging by payer and by patient.
    ///
    /// # Errors
    /// Forbidden unless billing or manager.
    pub fn aging(&self, principal: &Principal) -> Result<Value, ClinicError> {
        Self::staff_gate(Endpoint::Aging, principal)?;
        let inner = self.lock();
        let report = bedside_ledger::aging(&inner.state.billing.books, self.now())
            .map_err(|e| ClinicError::domain("aging", &e))?;
        Ok(json!({
            "patients_total_minor": report.patients.total.amount_minor(),
            "payers_total_minor": report.payers.total.amount_minor(),
            "text": report.render_totals(),
        }))
    }

    // ---- outbox --------------------------------------------------------------------------

    /// Outbox messages about one patient, consent-checked and audited.
    ///
    /// A patient sees their own messages; a proxy only those of its granted classes
    /// (reminders and notices: `appointments`, statements: `billing`); staff must name the
    /// `patient` and see only their role's messages (front desk: appointments, billing:
    /// statements, clinicians and nurses: nurse alerts). One-time codes are never listed: they
    /// reach the phone only.
    ///
    /// # Errors
    /// Forbidden; bad request when staff name no patient; not found.
    pub fn outbox(
        &self,
        principal: &Principal,
        status: Option<&str>,
        patient: Option<PatientId>,
    ) -> Result<Vec<OutboxMessage>, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(&inner, Endpoint::Outbox, Some(principal), patient)?;
        let (subject, classes) = match principal {
            Principal::Staff { roles, .. } => {
                let subject =
                    patient.ok_or_else(|| ClinicError::bad("patient: required for staff"))?;
                let mut set = ClassSet::default();
                for r in roles {
                    match r.as_str() {
                        "reception" | "scheduler" => set.insert(DataClass::Appointments),
                        "billing" => set.insert(DataClass::Billing),
                        "clinician" | "nurse" => set.insert(DataClass::Vitals),
                        _ => continue,
                    };
                }
                (subject, set)
            }
            Principal::Patient { patient: me } => (*me, ClassSet::default()),
            Principal::Proxy { patient: me, .. } => {
                let granted = inner.state.proxy_classes(principal, self.now());
                let wanted = [
                    DataClass::Appointments,
                    DataClass::Billing,
                    DataClass::Vitals,
                ];
                let mut set = ClassSet::default();
                for c in wanted.into_iter().filter(|c| granted.contains(*c)) {
                    set.insert(c);
                }
                (*me, set)
            }
        };
        let asked: Vec<DataClass> = if classes.is_empty() {
            vec![DataClass::Contact]
        } else {
            classes.iter().collect()
        };
        if matches!(principal, Principal::Proxy { .. }) && classes.is_empty() {
            return Err(ClinicError::forbidden("proxy grant"));
        }
        self.authorize(&mut inner, principal, subject, Action::Read, &asked, None)?;
        let all = inner
            .store
            .outbox(status, Some(&subject.to_string()), 1000)?;
        let patient_side = !matches!(principal, Principal::Staff { .. });
        Ok(all
            .into_iter()
            .filter(|m| m.purpose != PHONE_VERIFICATION)
            .filter(|m| !(patient_side && m.channel == "internal"))
            .filter(|m| {
                matches!(principal, Principal::Patient { .. })
                    || classes.contains(access::class_of_purpose(&m.purpose))
            })
            .collect())
    }

    /// Delivers due messages through `notifier` and marks them sent.
    ///
    /// # Errors
    /// Storage; a notifier failure stops the run (undelivered messages stay pending).
    pub fn deliver_due(&self, notifier: &dyn Notifier) -> Result<usize, ClinicError> {
        let now = self.now();
        let due: Vec<OutboxMessage> = self
            .lock()
            .store
            .outbox(Some("pending"), None, 500)?
            .into_iter()
            .filter(|m| m.send_at.parse::<Timestamp>().is_ok_and(|t| t <= now))
            .collect();
        let mut sent = Vec::new();
        let mut failure = None;
        for m in &due {
            match notifier.deliver(m) {
                Ok(()) => sent.push(m.id),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        self.lock().store.mark_sent(&sent, &now.to_rfc3339())?;
        match failure {
            Some(e) => Err(ClinicError::Storage(StoreError::Io(e))),
            None => Ok(sent.len()),
        }
    }

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

const DUPLICATE_KEY: &str = "duplicate field";

/// The fields of a reading line the clinic checks itself; any key repeated is an error.
#[derive(Default)]
struct ReadingHead {
    patient: Option<String>,
    at: Option<String>,
}

impl<'de> Deserialize<'de> for ReadingHead {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = ReadingHead;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a reading object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ReadingHead, A::Error> {
                let mut head = ReadingHead::default();
                let mut keys = HashSet::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !keys.insert(key.clone()) {
                        return Err(serde::de::Error::custom(DUPLICATE_KEY));
                    }
                    let value: Value = map.next_value()?;
                    match key.as_str() {
                        "patient" => head.patient = value.as_str().map(str::to_string),
                        "at" => head.at = value.as_str().map(str::to_string),
                        _ => {}
                    }
                }
                Ok(head)
            }
        }
        d.deserialize_map(Visit)
    }
}

/// Refuses text with control characters or bidirectional controls (which can make a name
/// display as something else, "Trojan Source" style): a clear error by field path.
fn check_text(path: &str, value: &str, problems: &mut Vec<String>) {
    let bidi = |c: char| matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if value.chars().any(|c| c.is_control() || bidi(c)) {
        problems.push(format!(
            "{path}: contains control or bidirectional-override characters"
        ));
    }
}

/// A vitals upload after the clinic's own checks.
struct ScreenedVitals {
    /// The lines passed to the parser, one per line.
    forwarded: String,
    /// The original line number of each forwarded line.
    numbers: Vec<u32>,
    /// Original line numbers rejected for their time.
    rejected: Vec<u32>,
}

/// Checks the patient of every line by parsing it (not by looking for a substring) and the
/// time range of each reading. Lines that are not JSON objects are passed on for the parser
/// to reject with its own reason.
fn screen_vitals(
    body: &str,
    patient: PatientId,
    now: Timestamp,
) -> Result<ScreenedVitals, ClinicError> {
    let earliest = chrono::NaiveDate::from_ymd_opt(1900, 1, 1)
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
        .unwrap_or(Timestamp::MIN_UTC);
    let latest = now + TimeDelta::days(1);
    let own = patient.to_string();
    let mut out = ScreenedVitals {
        forwarded: String::with_capacity(body.len()),
        numbers: Vec::new(),
        rejected: Vec::new(),
    };
    let mut foreign = Vec::new();
    for (i, line) in body.split('\n').enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<ReadingHead>(line) {
            Ok(head) => {
                if head.patient.as_deref() != Some(own.as_str()) {
                    foreign.push(format!("line {number}: patient"));
                    continue;
                }
                let at = head
                    .at
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                if at.is_some_and(|t| t < earliest || t > latest) {
                    out.rejected.push(number);
                    continue;
                }
            }
            // A repeated key could let the parser see another patient than this check did.
            Err(e) if e.to_string().starts_with(DUPLICATE_KEY) => {
                foreign.push(format!("line {number}: repeated field"));
                continue;
            }
            Err(_) => {}
        }
        out.forwarded.push_str(line.trim_end_matches('\r'));
        out.forwarded.push('\n');
        out.numbers.push(number);
    }
    if !foreign.is_empty() {
        foreign.truncate(100);
        return Err(ClinicError::BadRequest {
            message: "every reading must be about the patient of the upload".into(),
            details: foreign,
        });
    }
    Ok(out)
}

/// The most likely existing record for a registration, when the matcher grades it `certain`
/// or `probable` (the upper half of the review band). `possible` pairs are not queued: in a
/// large population many strangers share a birth date and a similar name, and a queue that
/// flags most new patients is a queue staff stop reading.
fn find_duplicate(index: &MatchIndex, candidate: &Patient) -> Option<RankedMatch> {
    index
        .match_one(&MatchRecord::from(candidate), 1)
        .into_iter()
        .find(|m| matches!(m.grade, MatchGrade::Certain | MatchGrade::Probable))
}

/// Debug output without the personal data these forms carry.
macro_rules! redacted_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), " { <redacted> }"))
            }
        }
    )*};
}
redacted_debug!(Registration, ProfileChange, AddressChange, NameChange);

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
        let command = Command::Vitals {
            patient: PatientId::from_uuid(uuid::Uuid::from_u128(1)),
            label: "upload".into(),
            body: Sensitive::new("{\"value\":142}".into()),
        };
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
