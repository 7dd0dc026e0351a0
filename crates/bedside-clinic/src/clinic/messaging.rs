//! Messaging: inbound SMS replies and opt-outs, the outbox and its delivery.

use super::*;

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

/// An inbound SMS, with what the service decided it means.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InboundSms {
    /// The gateway's message id (a replay with the same id does nothing).
    pub message_id: String,
    /// The decided action.
    pub action: SmsAction,
}

/// What an inbound SMS did (the fields present depend on the action).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SmsOutcome {
    /// Whether it changed anything.
    pub applied: bool,
    /// Why nothing was applied (`unverified-sender`, `not-understood`, `which-appointment`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `opted-out` after STOP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms: Option<&'static str>,
    /// Patients opted out by STOP on a shared number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patients: Option<usize>,
    /// The appointment the reply applied to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointment: Option<AppointmentId>,
    /// `true` after a confirmation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<bool>,
    /// The appointment's new status after a cancellation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    /// New times offered (sent to the patient by SMS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<SlotOption>>,
    /// Appointments the clinic asked about on a shared number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asked: Option<usize>,
}

/// The gateway's answer for an inbound SMS.
#[derive(Debug, Clone, Serialize)]
pub struct SmsReceipt {
    /// The reply's intent (`confirm`, `cancel`, `reschedule`, `opt-out`, …).
    pub intent: &'static str,
    /// Whether it changed anything.
    pub applied: bool,
    /// `true` for a replayed message id (nothing done).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
    /// What was done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<SmsOutcome>,
}

/// A patient opted out of SMS.
#[derive(Debug, Clone, Serialize)]
pub struct SmsStopped {
    /// The patient.
    pub patient: PatientId,
    /// `opted-out`.
    pub sms: &'static str,
}

impl Apply for InboundSms {
    type Reply = SmsOutcome;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<SmsOutcome, ClinicError> {
        let InboundSms { message_id, action } = self;
        let at = cx.at;
        let config = cx.config;
        let fx = &mut cx.fx;
        if st.sms_seen.contains(message_id) {
            return Err(ClinicError::conflict("message already handled"));
        }
        let outcome = st.apply_sms(action, at, config, fx)?;
        st.sms_seen.insert(message_id.clone());
        fx.unique.push(("sms-message", message_id.clone()));
        Ok(outcome)
    }
}

/// The patient replied STOP: no more SMS.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StopSms {
    /// The patient.
    pub patient: PatientId,
}

impl Apply for StopSms {
    type Reply = SmsStopped;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<SmsStopped, ClinicError> {
        let StopSms { patient } = self;
        let at = cx.at;
        let fx = &mut cx.fx;
        st.stop_sms(*patient, at, fx)?;
        Ok(SmsStopped {
            patient: *patient,
            sms: "opted-out",
        })
    }
}

impl State {
    /// STOP from a patient: every SMS route opted out, pending SMS withdrawn (idempotent).
    pub(super) fn stop_sms(
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
        self.index_match(patient);
        fx.withdraw.push(format!("sms:{patient}"));
        Ok(())
    }

    /// Applies what an inbound SMS was decided to mean.
    // Not split: one arm per SMS action, each short, sharing the decision's bookkeeping
    // around them.
    pub(super) fn apply_sms(
        &mut self,
        action: &SmsAction,
        at: Timestamp,
        config: &ClinicConfig,
        fx: &mut Effects,
    ) -> Result<SmsOutcome, ClinicError> {
        Ok(match action {
            SmsAction::Ignored { reason } => SmsOutcome {
                reason: Some(reason.clone()),
                ..SmsOutcome::default()
            },
            SmsAction::Stop { patients } => {
                if patients.iter().any(|p| self.registry.current(*p).is_none()) {
                    return Err(ClinicError::NotFound { kind: "patient" });
                }
                for p in patients {
                    self.stop_sms(*p, at, fx)?;
                }
                SmsOutcome {
                    applied: true,
                    sms: Some("opted-out"),
                    patients: Some(patients.len()),
                    ..SmsOutcome::default()
                }
            }
            SmsAction::Confirm { appointment, .. } => {
                self.confirm(*appointment, at)?;
                SmsOutcome {
                    applied: true,
                    appointment: Some(*appointment),
                    confirmed: Some(true),
                    ..SmsOutcome::default()
                }
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
                fx.occupancy.push(*appointment);
                SmsOutcome {
                    applied: true,
                    appointment: Some(*appointment),
                    status: Some(AppointmentStatus::Cancelled.code()),
                    ..SmsOutcome::default()
                }
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
                SmsOutcome {
                    applied: true,
                    appointment: Some(*appointment),
                    options: Some(options),
                    ..SmsOutcome::default()
                }
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
                SmsOutcome {
                    reason: Some("which-appointment".into()),
                    asked: Some(appointments.len()),
                    ..SmsOutcome::default()
                }
            }
        })
    }

    /// An SMS to the patient's verified number.
    pub(super) fn sms_to(
        &self,
        patient: PatientId,
        text: &str,
        at: Timestamp,
    ) -> Option<OutboxMessage> {
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
}

impl Clinic {
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
    ) -> Result<SmsReceipt, ClinicError> {
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
            return Ok(SmsReceipt {
                intent: intent_code(intent),
                applied: false,
                duplicate: Some(true),
                result: None,
            });
        }
        let action = self.decide_sms(&inner.state, from, intent, index)?;
        if let SmsAction::Ignored { reason } = &action {
            // Logged without the sender or text (PHI): the gateway's id is enough to trace it.
            eprintln!("inbound sms {message_id}: ignored ({reason})");
        }
        let result = self.execute_locked(
            &mut inner,
            InboundSms {
                message_id: message_id.to_string(),
                action,
            },
        )?;
        Ok(SmsReceipt {
            intent: intent_code(intent),
            applied: result.applied,
            duplicate: None,
            result: Some(result),
        })
    }

    /// What an inbound SMS means, from the clinic's state.
    pub(super) fn decide_sms(
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
            // One-time codes reach the phone only: whoever reads the outbox could sign in.
            .filter(|m| m.purpose != PHONE_VERIFICATION && m.purpose != SIGN_IN_CODE)
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
}
pub(super) fn intent_code(intent: ReplyIntent) -> &'static str {
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

/// A reply's word and an optional appointment number: `C2` → (`C`, 2).
pub(super) fn split_reply(body: &str) -> (&str, Option<usize>) {
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
pub(super) fn answered_reminder(
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
