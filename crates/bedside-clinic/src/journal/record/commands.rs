//! Care after the visit: `add_note`, `discharge`, `vitals`, `ack_alert` and
//! `survey_answer`.

use super::common::{id, id_text};
use super::people::ActorRecord;
use super::visits::PatientOnlyRecord;
use crate::clinic::{AckAlert, AddNote, Discharge, SurveyAnswer, SurveyAnswerValue, Vitals};
use crate::journal::JournalError;
use bedside_core::Sensitive;
use serde::{Deserialize, Serialize};

/// `add_note`: a clinician's note.
#[derive(Serialize, Deserialize)]
pub struct AddNoteRecord {
    /// The patient.
    pub patient: String,
    /// The text.
    pub text: String,
    /// Who.
    pub by: ActorRecord,
}

impl TryFrom<AddNoteRecord> for AddNote {
    type Error = JournalError;
    fn try_from(r: AddNoteRecord) -> Result<Self, JournalError> {
        Ok(AddNote {
            patient: id(&r.patient, "patient")?,
            text: Sensitive::new(r.text),
            by: r.by.try_into()?,
        })
    }
}

impl From<&AddNote> for AddNoteRecord {
    fn from(c: &AddNote) -> Self {
        let AddNote { patient, text, by } = c;
        Self {
            patient: id_text(patient),
            text: text.expose().clone(),
            by: by.into(),
        }
    }
}

impl TryFrom<PatientOnlyRecord> for Discharge {
    type Error = JournalError;
    fn try_from(r: PatientOnlyRecord) -> Result<Self, JournalError> {
        Ok(Discharge {
            patient: id(&r.patient, "patient")?,
        })
    }
}

impl From<&Discharge> for PatientOnlyRecord {
    fn from(c: &Discharge) -> Self {
        let Discharge { patient } = c;
        Self {
            patient: id_text(patient),
        }
    }
}

/// `vitals`: a home vitals upload (the NDJSON lines that were stored).
#[derive(Serialize, Deserialize)]
pub struct VitalsRecord {
    /// The patient uploading.
    pub patient: String,
    /// Upload label.
    pub label: String,
    /// The NDJSON text.
    pub body: String,
}

impl TryFrom<VitalsRecord> for Vitals {
    type Error = JournalError;
    fn try_from(r: VitalsRecord) -> Result<Self, JournalError> {
        Ok(Vitals {
            patient: id(&r.patient, "patient")?,
            label: r.label,
            body: Sensitive::new(r.body),
        })
    }
}

impl From<&Vitals> for VitalsRecord {
    fn from(c: &Vitals) -> Self {
        let Vitals {
            patient,
            label,
            body,
        } = c;
        Self {
            patient: id_text(patient),
            label: label.clone(),
            body: body.expose().clone(),
        }
    }
}

/// `ack_alert`: a nurse acknowledges an alert.
#[derive(Serialize, Deserialize)]
pub struct AckAlertRecord {
    /// The alert.
    pub alert: String,
    /// Who.
    pub by: ActorRecord,
}

impl TryFrom<AckAlertRecord> for AckAlert {
    type Error = JournalError;
    fn try_from(r: AckAlertRecord) -> Result<Self, JournalError> {
        Ok(AckAlert {
            alert: id(&r.alert, "alert")?,
            by: r.by.try_into()?,
        })
    }
}

impl From<&AckAlert> for AckAlertRecord {
    fn from(c: &AckAlert) -> Self {
        let AckAlert { alert, by } = c;
        Self {
            alert: id_text(alert),
            by: by.into(),
        }
    }
}

/// One survey answer: yes/no, a number, or a choice code or free text.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerRecord {
    /// Yes/no.
    Boolean(bool),
    /// A number.
    Integer(i64),
    /// A choice code or free text.
    Text(String),
}

impl From<AnswerRecord> for SurveyAnswerValue {
    fn from(r: AnswerRecord) -> Self {
        match r {
            AnswerRecord::Boolean(b) => SurveyAnswerValue::Boolean(b),
            AnswerRecord::Integer(n) => SurveyAnswerValue::Integer(n),
            AnswerRecord::Text(t) => SurveyAnswerValue::Text(Sensitive::new(t)),
        }
    }
}

impl From<&SurveyAnswerValue> for AnswerRecord {
    fn from(v: &SurveyAnswerValue) -> Self {
        match v {
            SurveyAnswerValue::Boolean(b) => AnswerRecord::Boolean(*b),
            SurveyAnswerValue::Integer(n) => AnswerRecord::Integer(*n),
            SurveyAnswerValue::Text(t) => AnswerRecord::Text(t.expose().clone()),
        }
    }
}

/// `survey_answer`: a response from an invited patient.
#[derive(Serialize, Deserialize)]
pub struct SurveyAnswerRecord {
    /// The invitation (the appointment id).
    pub invitation: String,
    /// The answers by item id, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<(String, AnswerRecord)>,
}

impl TryFrom<SurveyAnswerRecord> for SurveyAnswer {
    type Error = JournalError;
    fn try_from(r: SurveyAnswerRecord) -> Result<Self, JournalError> {
        Ok(SurveyAnswer {
            invitation: id(&r.invitation, "invitation")?,
            answers: r
                .answers
                .into_iter()
                .map(|(item, answer)| (item, answer.into()))
                .collect(),
        })
    }
}

impl From<&SurveyAnswer> for SurveyAnswerRecord {
    fn from(c: &SurveyAnswer) -> Self {
        let SurveyAnswer {
            invitation,
            answers,
        } = c;
        Self {
            invitation: id_text(invitation),
            answers: answers
                .iter()
                .map(|(item, answer)| (item.clone(), answer.into()))
                .collect(),
        }
    }
}
