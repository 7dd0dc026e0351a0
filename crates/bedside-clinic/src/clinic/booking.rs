//! Booking: the slot search, booking, moving and cancelling appointments, visits, and the
//! reminders a booking plans.
//!
//! This file is just over 800 lines: the booking journey's services and commands, which share
//! the re-derivation of options.

use super::*;

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

/// A public directory entry.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderListing {
    /// The provider.
    pub id: ProviderId,
    /// Display name (staff, not PHI).
    pub name: String,
    /// Skill code matched by appointment types.
    pub skill: String,
}

/// A booking made (or the first booking a retry with the same token answers).
#[derive(Debug, Clone, Serialize)]
pub struct Booked {
    /// The appointment.
    pub appointment: AppointmentId,
}

/// An appointment's new status.
#[derive(Debug, Clone, Serialize)]
pub struct StatusChange {
    /// The appointment.
    pub appointment: AppointmentId,
    /// Its FHIR status code.
    pub status: &'static str,
}

/// A visit completed.
#[derive(Debug, Clone, Serialize)]
pub struct Completed {
    /// The appointment.
    pub appointment: AppointmentId,
    /// Its FHIR status code (`fulfilled`).
    pub status: &'static str,
    /// Post-visit survey invitations planned (0 or 1).
    pub survey_invitations: usize,
}

/// An appointment moved.
#[derive(Debug, Clone, Serialize)]
pub struct Rescheduled {
    /// The appointment.
    pub appointment: AppointmentId,
    /// Its new start.
    pub start: Timestamp,
}

/// An appointment confirmed by the patient.
#[derive(Debug, Clone, Serialize)]
pub struct Confirmed {
    /// The appointment.
    pub appointment: AppointmentId,
    /// Always `true`.
    pub confirmed: bool,
}

/// One appointment a repair moved.
#[derive(Debug, Clone, Serialize)]
pub struct Moved {
    /// The appointment.
    pub appointment: AppointmentId,
    /// Its new start.
    pub start: Timestamp,
    /// Its new provider.
    pub provider: ProviderId,
}

/// What repairing a provider's absence did.
#[derive(Debug, Clone, Serialize)]
pub struct Repaired {
    /// Appointments moved.
    pub moved: Vec<Moved>,
    /// Appointments left pending for staff.
    pub unplaced: Vec<AppointmentId>,
    /// Patients notified.
    pub notified: usize,
}

/// One of a patient's appointments.
#[derive(Debug, Clone, Serialize)]
pub struct AppointmentView {
    /// The appointment.
    pub id: AppointmentId,
    /// The appointment type's code.
    #[serde(rename = "type")]
    pub appointment_type: String,
    /// The provider.
    pub provider: ProviderId,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// FHIR status code.
    pub status: &'static str,
    /// The appointment's version.
    pub version: u32,
    /// Whether the patient confirmed they will come.
    pub confirmed: bool,
}

/// Book a slot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Book {
    /// The option chosen.
    pub option: SlotOption,
    /// The patient.
    pub patient: PatientId,
    /// Idempotency token.
    pub client_token: String,
    /// New appointment id.
    pub id: AppointmentId,
    /// Who.
    pub by: Actor,
}

impl Apply for Book {
    type Reply = Booked;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<Booked, ClinicError> {
        let Book {
            option,
            patient,
            client_token,
            id,
            by,
        } = self;
        let at = cx.at;
        if st.registry.current(*patient).is_none() {
            return Err(ClinicError::NotFound { kind: "patient" });
        }
        // A retry with the same token answers the first booking and claims no new key.
        let fresh = st.schedule()?.appointment_for_token(client_token).is_none();
        let booked = st.schedule_mut()?.book(
            &BookRequest::new(option, *patient, client_token, *id),
            by,
            at,
        )?;
        st.booked(
            *patient,
            option.provider,
            booked,
            fresh.then_some(client_token),
            cx,
        )
    }
}

impl State {
    /// What every new booking does after the schedule took it (a slot or a hold): the
    /// provider joins the patient's care team, reminders are planned, a fresh client token
    /// is claimed in the database, and the appointment's holds are written.
    pub(super) fn booked(
        &mut self,
        patient: PatientId,
        provider: ProviderId,
        booked: AppointmentId,
        fresh_token: Option<&String>,
        cx: &mut Cx<'_>,
    ) -> Result<Booked, ClinicError> {
        self.booked_providers
            .entry(patient)
            .or_default()
            .insert(provider);
        self.sync_care_team(patient);
        let fx = &mut cx.fx;
        fx.outbox = self.plan_reminders(booked, cx.at, cx.config)?;
        self.note_sms_reminders(booked, &fx.outbox);
        if let Some(token) = fresh_token {
            fx.unique.push(("booking-token", token.clone()));
        }
        fx.occupancy.push(booked);
        Ok(Booked {
            appointment: booked,
        })
    }
}

/// Cancel an appointment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cancel {
    /// The appointment.
    pub id: AppointmentId,
    /// Who.
    pub by: Actor,
}

impl Apply for Cancel {
    type Reply = StatusChange;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<StatusChange, ClinicError> {
        let Cancel { id, by } = self;
        let at = cx.at;
        let fx = &mut cx.fx;
        st.schedule_mut()?
            .cancel(&CancelRequest::new(*id, CancelReason::Patient), by, at)?;
        st.sms_reminders.remove(id);
        fx.withdraw.push(id.to_string());
        fx.occupancy.push(*id);
        Ok(StatusChange {
            appointment: *id,
            status: AppointmentStatus::Cancelled.code(),
        })
    }
}

/// Move an appointment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reschedule {
    /// The appointment.
    pub id: AppointmentId,
    /// The new option.
    pub option: SlotOption,
    /// Who.
    pub by: Actor,
}

impl Apply for Reschedule {
    type Reply = Rescheduled;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<Rescheduled, ClinicError> {
        let Reschedule { id, option, by } = self;
        let at = cx.at;
        let config = cx.config;
        let fx = &mut cx.fx;
        st.schedule_mut()?
            .reschedule(&RescheduleRequest::new(*id, option), by, at)?;
        fx.withdraw.push(id.to_string());
        fx.occupancy.push(*id);
        fx.outbox = st.plan_reminders(*id, at, config)?;
        st.note_sms_reminders(*id, &fx.outbox);
        Ok(Rescheduled {
            appointment: *id,
            start: option.period.start(),
        })
    }
}

/// The patient confirmed they will come.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Confirm {
    /// The appointment.
    pub id: AppointmentId,
    /// Who.
    pub by: Actor,
}

impl Apply for Confirm {
    type Reply = Confirmed;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<Confirmed, ClinicError> {
        let Confirm { id, by: _ } = self;
        let at = cx.at;
        st.confirm(*id, at)?;
        Ok(Confirmed {
            appointment: *id,
            confirmed: true,
        })
    }
}

/// A provider is unavailable (sick): repair the affected appointments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unavailable {
    /// The provider.
    pub provider: ProviderId,
    /// When.
    pub period: Period,
    /// Who.
    pub by: Actor,
}

impl Apply for Unavailable {
    type Reply = Repaired;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<Repaired, ClinicError> {
        let Unavailable {
            provider,
            period,
            by,
        } = self;
        let at = cx.at;
        let config = cx.config;
        let fx = &mut cx.fx;
        let report = st.schedule_mut()?.repair_unavailable(
            &RepairRequest::new(*provider, *period),
            by,
            at,
        )?;
        for (id, _, _) in &report.moved {
            fx.withdraw.push(id.to_string());
            fx.occupancy.push(*id);
            let planned = st.plan_reminders(*id, at, config)?;
            st.note_sms_reminders(*id, &planned);
            fx.outbox.extend(planned);
        }
        for patient in &report.notify {
            fx.outbox.extend(st.notice(
                *patient,
                "Your appointment had to change because your clinician is unavailable. Reply C to confirm the new time or R for other times.",
                at,
                config,
            ));
        }
        Ok(Repaired {
            moved: report
                .moved
                .iter()
                .map(|(id, _, o)| Moved {
                    appointment: *id,
                    start: o.period.start(),
                    provider: o.provider,
                })
                .collect(),
            unplaced: report.unplaced,
            notified: report.notify.len(),
        })
    }
}

/// The patient arrived (reception).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckIn {
    /// The appointment.
    pub id: AppointmentId,
    /// Who.
    pub by: Actor,
}

impl Apply for CheckIn {
    type Reply = StatusChange;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<StatusChange, ClinicError> {
        let CheckIn { id, by } = self;
        let at = cx.at;
        st.schedule_mut()?.check_in(*id, by, at)?;
        Ok(StatusChange {
            appointment: *id,
            status: AppointmentStatus::Arrived.code(),
        })
    }
}

/// The visit took place: the post-visit survey is planned by the distribution rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Complete {
    /// The appointment.
    pub id: AppointmentId,
    /// Who.
    pub by: Actor,
}

impl Apply for Complete {
    type Reply = Completed;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<Completed, ClinicError> {
        let Complete { id, by } = self;
        let at = cx.at;
        let fx = &mut cx.fx;
        st.schedule_mut()?.fulfil(*id, by, at)?;
        fx.withdraw.push(id.to_string());
        fx.outbox = st.plan_survey(*id, at)?;
        Ok(Completed {
            appointment: *id,
            status: AppointmentStatus::Fulfilled.code(),
            survey_invitations: fx.outbox.len(),
        })
    }
}

impl State {
    /// What appointment `id` occupies now, as the database's double-booking constraint sees
    /// it: its provider, room and patient over the encounter while its status holds resources;
    /// nothing when cancelled, unknown or placed in a designated overbooking session.
    pub(super) fn holds_of(&self, id: AppointmentId) -> Vec<crate::store::Hold> {
        let Some(ap) = self
            .schedule
            .as_ref()
            .and_then(|s| s.appointment(id))
            .filter(|a| a.status.holds_resources() && !a.overbooked)
        else {
            return Vec::new();
        };
        let (start, end) = (ap.period.start().timestamp(), ap.period.end().timestamp());
        let mut resources = vec![
            format!("provider:{}", ap.provider),
            format!("patient:{}", ap.patient),
        ];
        resources.extend(ap.room.map(|r| format!("room:{r}")));
        resources
            .into_iter()
            .map(|resource| crate::store::Hold {
                appointment: id.to_string(),
                resource,
                start,
                end,
            })
            .collect()
    }

    /// The holds of every appointment that occupies something: what a store that predates
    /// the holds table is filled with.
    pub(super) fn all_holds(&self) -> Vec<crate::store::Hold> {
        let ids: Vec<AppointmentId> = self
            .schedule
            .iter()
            .flat_map(|s| s.appointments().map(|a| a.id))
            .collect();
        ids.into_iter().flat_map(|id| self.holds_of(id)).collect()
    }

    pub(super) fn confirm(&mut self, id: AppointmentId, at: Timestamp) -> Result<(), ClinicError> {
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

    /// Remembers when an appointment's SMS reminders go out, to which number.
    pub(super) fn note_sms_reminders(&mut self, id: AppointmentId, planned: &[OutboxMessage]) {
        let sends: Vec<(String, Timestamp)> = planned
            .iter()
            .filter(|m| m.channel == "sms")
            .filter_map(|m| Some((e164(&m.address)?, m.send_at.parse().ok()?)))
            .collect();
        self.sms_reminders.insert(id, sends);
    }

    pub(super) fn sync_care_team(&mut self, patient: PatientId) {
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
    pub(super) fn plan_reminders(
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

    /// A one-off notice on the patient's first reminder route.
    pub(super) fn notice(
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

impl Clinic {
    /// The providers (public directory).
    pub fn providers(&self) -> Vec<ProviderListing> {
        let inner = self.read();
        inner
            .state
            .setup
            .as_ref()
            .map(|s| {
                s.providers
                    .iter()
                    .map(|p| ProviderListing {
                        id: p.id,
                        name: p.name.clone(),
                        skill: p.skill.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    // ---- patients ------------------------------------------------------------------------

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
        Ok(inner.state.schedule_at(now)?.find_slots(&query)?)
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
    ) -> Result<Booked, ClinicError> {
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
            Book {
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
    pub(super) fn rederive(
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
        let offered = inner.state.schedule_at(now)?.find_slots(&query)?;
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
    ) -> Result<Vec<AppointmentView>, ClinicError> {
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
        Ok(s.appointments()
            .filter(|a| a.patient == patient)
            .map(|a| AppointmentView {
                id: a.id,
                appointment_type: a.appointment_type.clone(),
                provider: a.provider,
                start: a.period.start(),
                end: a.period.end(),
                status: a.status.code(),
                version: a.version,
                confirmed: inner.state.confirmed.contains_key(&a.id),
            })
            .collect())
    }

    /// Cancels an appointment (its patient, a proxy with `appointments`, or front-desk
    /// staff).
    ///
    /// # Errors
    /// Forbidden; not found (also for someone else's appointment); conflict.
    pub fn cancel(
        &self,
        principal: &Principal,
        id: AppointmentId,
    ) -> Result<StatusChange, ClinicError> {
        let mut inner = self.lock();
        self.permit_appointment_locked(&inner, Endpoint::Cancel, principal, id)?;
        let by = self.actor(principal);
        self.execute_locked(&mut inner, Cancel { id, by })
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
    ) -> Result<Rescheduled, ClinicError> {
        let mut inner = self.lock();
        let patient =
            self.permit_appointment_locked(&inner, Endpoint::Reschedule, principal, id)?;
        let option = self.rederive(&inner, principal, patient, &option)?;
        let by = self.actor(principal);
        self.execute_locked(&mut inner, Reschedule { id, option, by })
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
    ) -> Result<Repaired, ClinicError> {
        Self::staff_gate(Endpoint::ProviderUnavailable, principal)?;
        self.run(Unavailable {
            provider,
            period,
            by: self.actor(principal),
        })
    }

    /// Reception checks the patient in.
    ///
    /// # Errors
    /// Forbidden unless reception or scheduler; not found; conflict.
    pub fn check_in(
        &self,
        principal: &Principal,
        id: AppointmentId,
    ) -> Result<StatusChange, ClinicError> {
        Self::staff_gate(Endpoint::CheckIn, principal)?;
        self.run(CheckIn {
            id,
            by: self.actor(principal),
        })
    }

    /// The clinician completes the visit; the survey is planned.
    ///
    /// # Errors
    /// Forbidden unless clinician or nurse; not found; conflict.
    pub fn complete(
        &self,
        principal: &Principal,
        id: AppointmentId,
    ) -> Result<Completed, ClinicError> {
        Self::staff_gate(Endpoint::Complete, principal)?;
        self.run(Complete {
            id,
            by: self.actor(principal),
        })
    }
}
pub(super) fn patient_language(p: &Patient) -> Option<Language> {
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
