//! Visits: `book`, `cancel`, `reschedule`, `confirm`, `unavailable`, `check_in`,
//! `complete`, and the SMS replies about them (`inbound_sms`, `stop_sms`).

use super::common::{PeriodRecord, id, id_text, id_texts, ids, instant, instant_text, opt_id};
use super::people::ActorRecord;
use crate::clinic::{
    Book, BookHold, Cancel, CheckIn, Complete, Confirm, InboundSms, PlaceHold, Reschedule,
    SmsAction, StopSms, Unavailable,
};
use crate::journal::JournalError;
use bedside_schedule::SlotOption;
use serde::{Deserialize, Serialize};

/// A bookable option: a time with a provider, and a room and equipment if needed.
#[derive(Serialize, Deserialize)]
pub struct SlotRecord {
    /// Visit type code.
    pub appointment_type: String,
    /// The provider.
    pub provider: String,
    /// The room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// The equipment pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment: Option<String>,
    /// When.
    pub period: PeriodRecord,
    /// The solver's score.
    pub score: i64,
}

impl TryFrom<SlotRecord> for SlotOption {
    type Error = JournalError;
    fn try_from(r: SlotRecord) -> Result<Self, JournalError> {
        Ok(SlotOption {
            appointment_type: r.appointment_type,
            provider: id(&r.provider, "option.provider")?,
            room: opt_id(r.room.as_deref(), "option.room")?,
            equipment: opt_id(r.equipment.as_deref(), "option.equipment")?,
            period: r.period.read("option.period")?,
            score: r.score,
        })
    }
}

impl From<&SlotOption> for SlotRecord {
    fn from(o: &SlotOption) -> Self {
        let SlotOption {
            appointment_type,
            provider,
            room,
            equipment,
            period,
            score,
        } = o;
        Self {
            appointment_type: appointment_type.clone(),
            provider: id_text(provider),
            room: room.as_ref().map(id_text),
            equipment: equipment.as_ref().map(id_text),
            period: period.into(),
            score: *score,
        }
    }
}

/// `book`: a slot booked for a patient.
#[derive(Serialize, Deserialize)]
pub struct BookRecord {
    /// The option chosen.
    pub option: SlotRecord,
    /// The patient.
    pub patient: String,
    /// Idempotency token.
    pub client_token: String,
    /// The new appointment.
    pub id: String,
    /// Who.
    pub by: ActorRecord,
}

impl TryFrom<BookRecord> for Book {
    type Error = JournalError;
    fn try_from(r: BookRecord) -> Result<Self, JournalError> {
        Ok(Book {
            option: r.option.try_into()?,
            patient: id(&r.patient, "patient")?,
            client_token: r.client_token,
            id: id(&r.id, "id")?,
            by: r.by.try_into()?,
        })
    }
}

impl From<&Book> for BookRecord {
    fn from(c: &Book) -> Self {
        let Book {
            option,
            patient,
            client_token,
            id,
            by,
        } = c;
        Self {
            option: option.into(),
            patient: id_text(patient),
            client_token: client_token.clone(),
            id: id_text(id),
            by: by.into(),
        }
    }
}

/// `hold`: an option held for a patient until it lapses.
#[derive(Serialize, Deserialize)]
pub struct PlaceHoldRecord {
    /// The option held.
    pub option: SlotRecord,
    /// The patient.
    pub patient: String,
    /// The hold.
    pub id: String,
    /// When it lapses.
    pub expires_at: String,
    /// Who.
    pub by: ActorRecord,
}

impl TryFrom<PlaceHoldRecord> for PlaceHold {
    type Error = JournalError;
    fn try_from(r: PlaceHoldRecord) -> Result<Self, JournalError> {
        Ok(PlaceHold {
            option: r.option.try_into()?,
            patient: id(&r.patient, "patient")?,
            id: id(&r.id, "id")?,
            expires_at: instant(&r.expires_at, "expires_at")?,
            by: r.by.try_into()?,
        })
    }
}

impl From<&PlaceHold> for PlaceHoldRecord {
    fn from(c: &PlaceHold) -> Self {
        let PlaceHold {
            option,
            patient,
            id,
            expires_at,
            by,
        } = c;
        Self {
            option: option.into(),
            patient: id_text(patient),
            id: id_text(id),
            expires_at: instant_text(expires_at),
            by: by.into(),
        }
    }
}

/// `book_hold`: a held option booked.
#[derive(Serialize, Deserialize)]
pub struct BookHoldRecord {
    /// The hold.
    pub hold: String,
    /// The patient.
    pub patient: String,
    /// Idempotency token.
    pub client_token: String,
    /// The new appointment.
    pub id: String,
    /// Who.
    pub by: ActorRecord,
}

impl TryFrom<BookHoldRecord> for BookHold {
    type Error = JournalError;
    fn try_from(r: BookHoldRecord) -> Result<Self, JournalError> {
        Ok(BookHold {
            hold: id(&r.hold, "hold")?,
            patient: id(&r.patient, "patient")?,
            client_token: r.client_token,
            id: id(&r.id, "id")?,
            by: r.by.try_into()?,
        })
    }
}

impl From<&BookHold> for BookHoldRecord {
    fn from(c: &BookHold) -> Self {
        let BookHold {
            hold,
            patient,
            client_token,
            id,
            by,
        } = c;
        Self {
            hold: id_text(hold),
            patient: id_text(patient),
            client_token: client_token.clone(),
            id: id_text(id),
            by: by.into(),
        }
    }
}

/// `reschedule`: an appointment moved to another option.
#[derive(Serialize, Deserialize)]
pub struct RescheduleRecord {
    /// The appointment.
    pub id: String,
    /// The new option.
    pub option: SlotRecord,
    /// Who.
    pub by: ActorRecord,
}

impl TryFrom<RescheduleRecord> for Reschedule {
    type Error = JournalError;
    fn try_from(r: RescheduleRecord) -> Result<Self, JournalError> {
        Ok(Reschedule {
            id: id(&r.id, "id")?,
            option: r.option.try_into()?,
            by: r.by.try_into()?,
        })
    }
}

impl From<&Reschedule> for RescheduleRecord {
    fn from(c: &Reschedule) -> Self {
        let Reschedule { id, option, by } = c;
        Self {
            id: id_text(id),
            option: option.into(),
            by: by.into(),
        }
    }
}

/// An appointment and who acted on it: `cancel`, `confirm`, `check_in` and `complete`.
#[derive(Serialize, Deserialize)]
pub struct AppointmentActRecord {
    /// The appointment.
    pub id: String,
    /// Who.
    pub by: ActorRecord,
}

/// Conversions for the commands that are an appointment and an actor.
macro_rules! appointment_act {
    ($($command:ident),+) => {$(
        impl TryFrom<AppointmentActRecord> for $command {
            type Error = JournalError;
            fn try_from(r: AppointmentActRecord) -> Result<Self, JournalError> {
                Ok($command {
                    id: id(&r.id, "id")?,
                    by: r.by.try_into()?,
                })
            }
        }

        impl From<&$command> for AppointmentActRecord {
            fn from(c: &$command) -> Self {
                let $command { id, by } = c;
                Self {
                    id: id_text(id),
                    by: by.into(),
                }
            }
        }
    )+};
}

appointment_act!(Cancel, Confirm, CheckIn, Complete);

/// `unavailable`: a provider cannot work for a period.
#[derive(Serialize, Deserialize)]
pub struct UnavailableRecord {
    /// The provider.
    pub provider: String,
    /// When.
    pub period: PeriodRecord,
    /// Who.
    pub by: ActorRecord,
}

impl TryFrom<UnavailableRecord> for Unavailable {
    type Error = JournalError;
    fn try_from(r: UnavailableRecord) -> Result<Self, JournalError> {
        Ok(Unavailable {
            provider: id(&r.provider, "provider")?,
            period: r.period.read("period")?,
            by: r.by.try_into()?,
        })
    }
}

impl From<&Unavailable> for UnavailableRecord {
    fn from(c: &Unavailable) -> Self {
        let Unavailable {
            provider,
            period,
            by,
        } = c;
        Self {
            provider: id_text(provider),
            period: period.into(),
            by: by.into(),
        }
    }
}

/// What the service decided an inbound SMS means.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum SmsActionRecord {
    /// Not acted on: logged only.
    #[serde(rename = "ignored")]
    Ignored {
        /// A code: `unverified-sender`, `not-understood`, `no-upcoming-appointment`.
        reason: String,
    },
    /// STOP for every patient on the number.
    #[serde(rename = "stop")]
    Stop {
        /// The patients sharing the number.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        patients: Vec<String>,
    },
    /// Confirm one appointment.
    #[serde(rename = "confirm")]
    Confirm {
        /// The appointment.
        appointment: String,
        /// Its patient.
        patient: String,
    },
    /// Cancel one appointment.
    #[serde(rename = "cancel")]
    Cancel {
        /// The appointment.
        appointment: String,
        /// Its patient.
        patient: String,
    },
    /// New times are offered by SMS.
    #[serde(rename = "offer")]
    Offer {
        /// The appointment.
        appointment: String,
        /// Its patient.
        patient: String,
    },
    /// Several appointments on a shared number: ask which.
    #[serde(rename = "ask")]
    Ask {
        /// The appointments, numbered in this order in the question.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        appointments: Vec<String>,
        /// The patient the question is filed under.
        patient: String,
    },
}

impl TryFrom<SmsActionRecord> for SmsAction {
    type Error = JournalError;
    fn try_from(r: SmsActionRecord) -> Result<Self, JournalError> {
        let one = |appointment: &str, patient: &str| -> Result<_, JournalError> {
            Ok((
                id(appointment, "action.appointment")?,
                id(patient, "action.patient")?,
            ))
        };
        Ok(match r {
            SmsActionRecord::Ignored { reason } => SmsAction::Ignored { reason },
            SmsActionRecord::Stop { patients } => SmsAction::Stop {
                patients: ids(&patients, "action.patients")?,
            },
            SmsActionRecord::Confirm {
                appointment,
                patient,
            } => {
                let (appointment, patient) = one(&appointment, &patient)?;
                SmsAction::Confirm {
                    appointment,
                    patient,
                }
            }
            SmsActionRecord::Cancel {
                appointment,
                patient,
            } => {
                let (appointment, patient) = one(&appointment, &patient)?;
                SmsAction::Cancel {
                    appointment,
                    patient,
                }
            }
            SmsActionRecord::Offer {
                appointment,
                patient,
            } => {
                let (appointment, patient) = one(&appointment, &patient)?;
                SmsAction::Offer {
                    appointment,
                    patient,
                }
            }
            SmsActionRecord::Ask {
                appointments,
                patient,
            } => SmsAction::Ask {
                appointments: ids(&appointments, "action.appointments")?,
                patient: id(&patient, "action.patient")?,
            },
        })
    }
}

impl From<&SmsAction> for SmsActionRecord {
    fn from(a: &SmsAction) -> Self {
        match a {
            SmsAction::Ignored { reason } => SmsActionRecord::Ignored {
                reason: reason.clone(),
            },
            SmsAction::Stop { patients } => SmsActionRecord::Stop {
                patients: id_texts(patients),
            },
            SmsAction::Confirm {
                appointment,
                patient,
            } => SmsActionRecord::Confirm {
                appointment: id_text(appointment),
                patient: id_text(patient),
            },
            SmsAction::Cancel {
                appointment,
                patient,
            } => SmsActionRecord::Cancel {
                appointment: id_text(appointment),
                patient: id_text(patient),
            },
            SmsAction::Offer {
                appointment,
                patient,
            } => SmsActionRecord::Offer {
                appointment: id_text(appointment),
                patient: id_text(patient),
            },
            SmsAction::Ask {
                appointments,
                patient,
            } => SmsActionRecord::Ask {
                appointments: id_texts(appointments),
                patient: id_text(patient),
            },
        }
    }
}

/// `inbound_sms`: an SMS and what it was taken to mean.
#[derive(Serialize, Deserialize)]
pub struct InboundSmsRecord {
    /// The gateway's message id.
    pub message_id: String,
    /// The decided action.
    pub action: SmsActionRecord,
}

impl TryFrom<InboundSmsRecord> for InboundSms {
    type Error = JournalError;
    fn try_from(r: InboundSmsRecord) -> Result<Self, JournalError> {
        Ok(InboundSms {
            message_id: r.message_id,
            action: r.action.try_into()?,
        })
    }
}

impl From<&InboundSms> for InboundSmsRecord {
    fn from(c: &InboundSms) -> Self {
        let InboundSms { message_id, action } = c;
        Self {
            message_id: message_id.clone(),
            action: action.into(),
        }
    }
}

/// A command about one patient and nothing else: `stop_sms` and `discharge`.
#[derive(Serialize, Deserialize)]
pub struct PatientOnlyRecord {
    /// The patient.
    pub patient: String,
}

impl TryFrom<PatientOnlyRecord> for StopSms {
    type Error = JournalError;
    fn try_from(r: PatientOnlyRecord) -> Result<Self, JournalError> {
        Ok(StopSms {
            patient: id(&r.patient, "patient")?,
        })
    }
}

impl From<&StopSms> for PatientOnlyRecord {
    fn from(c: &StopSms) -> Self {
        let StopSms { patient } = c;
        Self {
            patient: id_text(patient),
        }
    }
}
