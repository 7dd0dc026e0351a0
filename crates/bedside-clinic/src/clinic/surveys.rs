//! Surveys: post-visit invitations, answers and the manager's report.

use super::*;

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
pub(super) struct Invitation {
    pub(super) patient: PatientId,
    pub(super) provider: ProviderId,
    pub(super) sent_at: Timestamp,
    pub(super) answered: bool,
}

/// A survey response recorded.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyRecorded {
    /// The invitation (the appointment id).
    pub invitation: AppointmentId,
    /// Always `true`.
    pub recorded: bool,
}

/// The manager's survey report.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyReport {
    /// The survey.
    pub survey: String,
    /// Invitations sent.
    pub invited: usize,
    /// Responses received.
    pub responses: usize,
    /// The report (Markdown, small cells suppressed).
    pub report: String,
}

/// A survey response from an invited patient.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SurveyAnswer {
    /// The invitation (the appointment id).
    pub invitation: AppointmentId,
    /// The answers by item id.
    pub answers: Vec<(String, SurveyAnswerValue)>,
}

impl Apply for SurveyAnswer {
    type Reply = SurveyRecorded;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<SurveyRecorded, ClinicError> {
        let SurveyAnswer {
            invitation,
            answers,
        } = self;
        let at = cx.at;
        let inv = st
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
        let mut b = bedside_survey::ResponseBuilder::new(&st.survey)
            .authored(at.fixed_offset())
            .dimension("provider", provider.to_string());
        for (item, value) in answers {
            let v = match value {
                SurveyAnswerValue::Boolean(x) => bedside_survey::AnswerValue::Boolean(*x),
                SurveyAnswerValue::Integer(n) => bedside_survey::AnswerValue::Integer(*n),
                SurveyAnswerValue::Text(t) => {
                    let is_text = st.survey.item(item).is_some_and(|i| {
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
        let problems = bedside_survey::validate(&st.survey, &response);
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
        st.responses.push(response);
        if let Some(inv) = st.invitations.get_mut(invitation) {
            inv.answered = true;
        }
        Ok(SurveyRecorded {
            invitation: *invitation,
            recorded: true,
        })
    }
}

impl State {
    /// Plans the post-visit survey for a fulfilled appointment by the distribution rules
    /// (2 hours after the visit, SMS or e-mail, not twice within the fatigue window, not to
    /// patients who opted out of surveys) and records the invitation.
    pub(super) fn plan_survey(
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
}

impl Clinic {
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
    ) -> Result<SurveyRecorded, ClinicError> {
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
            SurveyAnswer {
                invitation,
                answers,
            },
        )
    }

    /// The manager's report of the post-visit survey, by provider (small cells suppressed).
    ///
    /// # Errors
    /// Forbidden unless manager or admin.
    pub fn survey_report(&self, principal: &Principal) -> Result<SurveyReport, ClinicError> {
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
        Ok(SurveyReport {
            survey: s.survey.id.clone(),
            invited: s.invitations.len(),
            responses: s.responses.len(),
            report: markdown,
        })
    }
}
