//! The gates in front of every service: endpoint permissions and consent decisions,
//! each decision appended to the audit chain.

use super::*;

/// One question to the consent engine, with how its audit entry is written.
#[derive(Clone, Copy)]
pub(super) struct Ask<'a> {
    pub(super) patient: PatientId,
    pub(super) action: Action,
    pub(super) classes: &'a [DataClass],
    pub(super) break_glass: Option<&'a str>,
    pub(super) audit: AuditWrite,
}

/// When a decision's audit entry is committed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum AuditWrite {
    /// Before the answer leaves (reads).
    Now,
    /// A permit rides in the transaction of the command that follows at once; a deny is
    /// written now.
    WithNextCommand,
}

impl Clinic {
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
        let inner = self.fresh();
        self.permit_locked(&inner, endpoint, principal, subject)
    }

    pub(super) fn permit_locked(
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
        let inner = self.fresh();
        self.permit_appointment_locked(&inner, endpoint, principal, id)
    }

    pub(super) fn permit_appointment_locked(
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

    pub(super) fn appointment_patient(
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

    pub(super) fn actor(&self, p: &Principal) -> Actor {
        p.actor(self.config.organisation)
    }

    /// The gate of a staff-only endpoint (no proxy classes involved).
    pub(super) fn staff_gate(endpoint: Endpoint, p: &Principal) -> Result<(), ClinicError> {
        access::permit(endpoint, Some(p), None, ClassSet::default())
    }

    /// Asks the consent engine, records the decision in the audit chain (and the review queue
    /// for break-the-glass), and refuses on deny.
    pub(super) fn authorize(
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
    pub(super) fn authorize_command(
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

    /// The consent engine's question for `ask` by `principal`, at the clinic's now.
    fn consent_request(&self, principal: &Principal, ask: &Ask<'_>) -> Request {
        // Break-the-glass is a clinician's emergency access; anyone else's header is ignored
        // (no emergency purpose, nothing queued for review).
        let break_glass = ask
            .break_glass
            .filter(|_| principal.has_any_role(&[Role::CLINICIAN]));
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
        let mut request = Request::new(actor, ask.patient, ask.action, purpose, now)
            .classes(ask.classes.iter().copied())
            .channel(channel);
        if let Some(j) = break_glass {
            request = request.break_glass(BreakGlass {
                justification: Sensitive::new(j.to_string()),
                started_at: now,
            });
        }
        request
    }

    /// Whether the consent engine would permit `principal` to read `classes` of `patient`,
    /// without recording anything: a search uses it to leave out what the caller may not see
    /// and to count what it may; every record it then returns goes through
    /// [`Self::authorize`], which records the decision.
    pub(super) fn would_read(
        &self,
        inner: &Inner,
        principal: &Principal,
        patient: PatientId,
        classes: &[DataClass],
    ) -> bool {
        if principal.acting_for().is_some_and(|p| p != patient)
            || inner.state.registry.current(patient).is_none()
        {
            return false;
        }
        let ask = Ask {
            patient,
            action: Action::Read,
            classes,
            break_glass: None,
            audit: AuditWrite::Now,
        };
        let decision = inner
            .state
            .engine
            .decide(&self.consent_request(principal, &ask));
        decision.is_permit() && classes.iter().all(|c| decision.permitted.contains(*c))
    }

    pub(super) fn decide(
        &self,
        inner: &mut Inner,
        principal: &Principal,
        ask: &Ask<'_>,
    ) -> Result<(), ClinicError> {
        let Ask {
            patient,
            action: _,
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
        // Only a clinician's justification is queued for review (see `consent_request`).
        let break_glass = break_glass.filter(|_| principal.has_any_role(&[Role::CLINICIAN]));
        let request = self.consent_request(principal, ask);
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
}
