//! The journaled commands: one type per command, each with its own `apply`.

use super::*;

/// Side effects of an accepted command.
#[derive(Default)]
pub(super) struct Effects {
    pub(super) outbox: Vec<OutboxMessage>,
    pub(super) withdraw: Vec<String>,
    /// Keys the database must not have seen (see [`Batch::unique`]).
    pub(super) unique: Vec<(&'static str, String)>,
    /// Appointments whose occupancy may have changed (booked, cancelled, moved): their
    /// [`Hold`](crate::store::Hold)s are written again from the state after the command.
    pub(super) occupancy: Vec<AppointmentId>,
    /// What to journal instead of the command as given (a vitals upload keeps only the
    /// records it stored).
    pub(super) journal: Option<Command>,
}

/// What a command sees while it applies: the instant, the configuration and the effects it
/// accumulates.
pub(super) struct Cx<'a> {
    /// The instant the command takes effect.
    pub(super) at: Timestamp,
    /// The clinic's configuration.
    pub(super) config: &'a ClinicConfig,
    /// What the command leaves for the store.
    pub(super) fx: Effects,
}

/// A command applied to the state: all or nothing, with a typed reply.
pub(super) trait Apply {
    /// What the command answers.
    type Reply;
    /// Applies the command at `cx.at`.
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<Self::Reply, ClinicError>;
}

macro_rules! commands {
    ($($(#[$doc:meta])* $variant:ident($ty:ty) = $kind:literal,)*) => {
        /// One journaled command.
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum Command {
            $($(#[$doc])* $variant($ty),)*
        }

        impl Command {
            /// Every command kind this build knows, as journaled.
            pub const KINDS: &'static [&'static str] = &[$($kind,)*];

            /// The command's kind, as journaled.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Command::$variant(_) => $kind,)*
                }
            }
        }

        impl Apply for Command {
            type Reply = ();
            fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<(), ClinicError> {
                match self {
                    $(Command::$variant(c) => c.apply(st, cx).map(drop),)*
                }
            }
        }

        $(impl From<$ty> for Command {
            fn from(c: $ty) -> Self {
                Command::$variant(c)
            }
        })*
    };
}

commands! {
    /// Configure the clinic (first command).
    Setup(Box<SetupSpec>) = "setup",
    /// Register a patient.
    Register(Register) = "register",
    /// A new mobile number: verified when staff register it, otherwise a code is sent to it.
    SetPhone(SetPhone) = "set_phone",
    /// The patient entered a one-time code for their number (failed attempts count too).
    VerifyPhone(VerifyPhone) = "verify_phone",
    /// An inbound SMS, with what the service decided it means.
    InboundSms(InboundSms) = "inbound_sms",
    /// The patient revokes a proxy.
    RevokeProxy(RevokeProxy) = "revoke_proxy",
    /// Update a patient (self-service parts apply, identity parts become a request).
    Update(Update) = "update",
    /// Approve a change request.
    Approve(Approve) = "approve",
    /// Resolve a possible duplicate found at registration.
    ResolveDuplicate(ResolveDuplicate) = "resolve_duplicate",
    /// Book a slot.
    Book(Book) = "book",
    /// Cancel an appointment.
    Cancel(Cancel) = "cancel",
    /// Move an appointment.
    Reschedule(Reschedule) = "reschedule",
    /// The patient confirmed they will come.
    Confirm(Confirm) = "confirm",
    /// The patient replied STOP: no more SMS.
    StopSms(StopSms) = "stop_sms",
    /// A provider is unavailable (sick): repair the affected appointments.
    Unavailable(Unavailable) = "unavailable",
    /// The patient grants a proxy access.
    GrantProxy(GrantProxy) = "grant_proxy",
    /// A clinician writes a note.
    AddNote(AddNote) = "add_note",
    /// The patient is discharged to home monitoring.
    Discharge(Discharge) = "discharge",
    /// Home vitals upload (NDJSON).
    Vitals(Vitals) = "vitals",
    /// The patient arrived (reception).
    CheckIn(CheckIn) = "check_in",
    /// The visit took place: the post-visit survey is planned by the distribution rules.
    Complete(Complete) = "complete",
    /// A survey response from an invited patient.
    SurveyAnswer(SurveyAnswer) = "survey_answer",
    /// Visit charges from the fee schedule, billed to the payer as one claim.
    Charge(Charge) = "charge",
    /// An X12 835 remittance file posted to the ledger.
    Remittance(Remittance) = "remittance",
    /// A patient payment.
    Payment(Payment) = "payment",
    /// A nurse acknowledges an alert.
    AckAlert(AckAlert) = "ack_alert",
    /// Hold an option for a patient until the hold lapses (FHIR `$hold`).
    PlaceHold(PlaceHold) = "hold",
    /// Book a held option (FHIR `$book` of a hold).
    BookHold(BookHold) = "book_hold",
    /// Sign-in codes were sent to a number (none for an unknown number).
    SignInCode(SignInCode) = "sign_in_code",
    /// A sign-in code was entered: the patient it signed in, or a counted wrong attempt.
    SignIn(SignIn) = "sign_in",
}
