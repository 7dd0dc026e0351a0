//! Holds (FHIR `$hold`) and booking a hold (`$book`): a held option stops every other patient
//! from booking it until it lapses by the clinic clock or is booked.
//!
//! A hold lives in the schedule, which the journal rebuilds (replay) and the state snapshot
//! keeps, so it survives a restart. It lapses by time alone: every command that books or
//! holds releases the holds that lapsed by its instant first, and a search while a lapsed
//! hold is still in the schedule runs on a copy with it released ([`State::schedule_at`]), so
//! a lapsed hold never blocks anyone, replayed or live.

use super::*;
use bedside_schedule::{BookHoldRequest, HoldId, HoldRequest};
use std::borrow::Cow;

/// How long a hold lasts, in minutes of the clinic clock.
pub const HOLD_MINUTES: i64 = 10;

/// A hold placed.
#[derive(Debug, Clone, Serialize)]
pub struct Held {
    /// The hold.
    pub hold: HoldId,
    /// For whom.
    pub patient: PatientId,
    /// The option held (the server's own, re-derived from the slot search).
    pub option: SlotOption,
    /// When it lapses.
    pub expires_at: Timestamp,
}

/// Hold an option for a patient until `expires_at`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlaceHold {
    /// The option (re-derived by the service).
    pub option: SlotOption,
    /// The patient.
    pub patient: PatientId,
    /// The new hold's id.
    pub id: HoldId,
    /// When it lapses.
    pub expires_at: Timestamp,
    /// Who.
    pub by: Actor,
}

impl Apply for PlaceHold {
    type Reply = Held;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<Held, ClinicError> {
        let PlaceHold {
            option,
            patient,
            id,
            expires_at,
            by: _,
        } = self;
        if st.registry.current(*patient).is_none() {
            return Err(ClinicError::NotFound { kind: "patient" });
        }
        if *expires_at <= cx.at {
            return Err(ClinicError::bad(
                "expires_at: must be after the hold is placed",
            ));
        }
        st.schedule_mut()?
            .hold(&HoldRequest::new(option, *patient, *expires_at, *id), cx.at)?;
        Ok(Held {
            hold: *id,
            patient: *patient,
            option: option.clone(),
            expires_at: *expires_at,
        })
    }
}

/// Book a held option: the hold becomes appointment `id`, idempotent by `client_token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookHold {
    /// The hold.
    pub hold: HoldId,
    /// The patient it is held for.
    pub patient: PatientId,
    /// Idempotency token (scoped to the hold by the service).
    pub client_token: String,
    /// New appointment id.
    pub id: AppointmentId,
    /// Who.
    pub by: Actor,
}

impl Apply for BookHold {
    type Reply = Booked;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<Booked, ClinicError> {
        let BookHold {
            hold,
            patient,
            client_token,
            id,
            by,
        } = self;
        let at = cx.at;
        if st.registry.current(*patient).is_none() {
            return Err(ClinicError::NotFound { kind: "patient" });
        }
        let fresh = st.schedule()?.appointment_for_token(client_token).is_none();
        // The command itself refuses another patient's hold, so a journal cannot hold one.
        if fresh
            && st
                .schedule()?
                .hold_of(*hold)
                .is_none_or(|h| h.patient != *patient)
        {
            return Err(ClinicError::NotFound { kind: "hold" });
        }
        let booked = st.schedule_mut()?.book_hold(
            &BookHoldRequest::new(*hold, client_token, *id),
            by,
            at,
        )?;
        let provider = st
            .schedule()?
            .appointment(booked)
            .map(|a| a.provider)
            .ok_or(ClinicError::NotFound {
                kind: "appointment",
            })?;
        st.booked(
            *patient,
            provider,
            booked,
            fresh.then_some(client_token),
            cx,
        )
    }
}

impl State {
    /// The schedule as a search at `at` must see it: with the holds that lapsed by `at`
    /// released (on a copy, and only when there are any), so that a read never depends on
    /// whether a command has run since a hold lapsed.
    pub(super) fn schedule_at(&self, at: Timestamp) -> Result<Cow<'_, Schedule>, ClinicError> {
        let s = self.schedule()?;
        if s.has_lapsed_holds(at) {
            let mut copy = s.clone();
            copy.expire_holds(at);
            Ok(Cow::Owned(copy))
        } else {
            Ok(Cow::Borrowed(s))
        }
    }
}

impl Clinic {
    /// Holds an option for a patient for [`HOLD_MINUTES`] (the patient, a proxy with the
    /// appointments grant, or front-desk staff): nobody else can book it meanwhile.
    ///
    /// The option is re-derived from the server's own slot search exactly as for
    /// [`Clinic::book`], so a client-edited option is refused.
    ///
    /// # Errors
    /// Conflict when the option is not offered (taken, held, edited); forbidden; not found.
    pub fn hold(
        &self,
        principal: &Principal,
        patient: PatientId,
        option: SlotOption,
    ) -> Result<Held, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(&inner, Endpoint::FhirHold, Some(principal), Some(patient))?;
        if inner.state.registry.current(patient).is_none() {
            return Err(ClinicError::NotFound { kind: "patient" });
        }
        let option = self.rederive(&inner, principal, patient, &option)?;
        if !matches!(principal, Principal::Staff { .. }) {
            self.authorize_command(
                &mut inner,
                principal,
                patient,
                Action::Read,
                &[DataClass::Appointments],
            )?;
        }
        let expires_at = self
            .now()
            .checked_add_signed(TimeDelta::minutes(HOLD_MINUTES))
            .ok_or_else(|| ClinicError::bad("hold: out of range"))?;
        let by = self.actor(principal);
        self.execute_locked(
            &mut inner,
            PlaceHold {
                option,
                patient,
                id: HoldId::from_uuid(uuid::Uuid::now_v7()),
                expires_at,
                by,
            },
        )
    }

    /// A live hold, to whoever may book for its patient; another patient's hold is not found
    /// to a patient or proxy, exactly like a missing one.
    ///
    /// # Errors
    /// Not found (also once lapsed or booked); forbidden.
    pub fn held(&self, principal: &Principal, hold: HoldId) -> Result<Held, ClinicError> {
        let inner = self.fresh();
        let now = self.now();
        let found = inner
            .state
            .schedule()?
            .hold_of(hold)
            .filter(|h| h.expires_at > now)
            .ok_or(ClinicError::NotFound { kind: "hold" })?;
        if principal.acting_for().is_some_and(|me| me != found.patient) {
            return Err(ClinicError::NotFound { kind: "hold" });
        }
        self.permit_locked(
            &inner,
            Endpoint::FhirHold,
            Some(principal),
            Some(found.patient),
        )?;
        Ok(Held {
            hold,
            patient: found.patient,
            option: found.option,
            expires_at: found.expires_at,
        })
    }

    /// Books a hold (its patient, a proxy with `appointments`, or front-desk staff),
    /// idempotently: the `client_token` is scoped to the hold, and a retry with the same
    /// token answers the first booking even after the hold became an appointment.
    ///
    /// # Errors
    /// Not found for an unknown hold or someone else's; conflict once it lapsed; forbidden.
    pub fn book_hold(
        &self,
        principal: &Principal,
        hold: HoldId,
        client_token: &str,
    ) -> Result<Booked, ClinicError> {
        if client_token.is_empty() || client_token.len() > 100 {
            return Err(ClinicError::bad("client_token: 1 to 100 characters"));
        }
        let mut inner = self.lock();
        let missing = || ClinicError::NotFound { kind: "hold" };
        let scoped = format!("hold:{hold}/{client_token}");
        let now = self.now();
        let s = inner.state.schedule()?;
        let (patient, live) = match s.appointment_for_token(&scoped) {
            Some(ap) => (
                s.appointment(ap).map(|a| a.patient).ok_or_else(missing)?,
                true,
            ),
            None => {
                let h = s.hold_of(hold).ok_or_else(missing)?;
                (h.patient, h.expires_at > now)
            }
        };
        if principal.acting_for().is_some_and(|me| me != patient) {
            return Err(missing());
        }
        self.permit_locked(&inner, Endpoint::FhirBook, Some(principal), Some(patient))?;
        if !live {
            return Err(ClinicError::conflict("the hold has expired"));
        }
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
            BookHold {
                hold,
                patient,
                client_token: scoped,
                id: AppointmentId::from_uuid(uuid::Uuid::now_v7()),
                by,
            },
        )
    }
}
