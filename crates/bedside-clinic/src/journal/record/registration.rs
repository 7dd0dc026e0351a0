//! Registration and the record's later changes: `register`, `set_phone`, `verify_phone`,
//! `resolve_duplicate`, `update` and `approve`.

use super::common::{codes, id, id_text, instant, instant_text, opt_id};
use super::patient::PatientRecord;
use super::people::ActorRecord;
use crate::clinic::{
    Approve, PhoneCode, Register, ResolveDuplicate, SetPhone, Update, VerifyPhone,
};
use crate::journal::JournalError;
use bedside_core::Sensitive;
use bedside_records::matching::{
    Agreement, Explanation, Field, FieldExplanation, MatchGrade, Outcome, RankedMatch, Reason,
};
use serde::{Deserialize, Serialize};

codes! {
    /// A FHIR `$match` grade.
    GradeCode => MatchGrade {
        Certain = "certain", Probable = "probable", Possible = "possible",
        CertainlyNot = "certainly-not",
    }
}

codes! {
    /// A field the matcher compares.
    FieldCode => Field {
        Given = "given", Family = "family", BirthDate = "birth_date", Sex = "sex",
        HouseNumber = "house_number", Address = "address", Locality = "locality",
        Postcode = "postcode", Region = "region", Phone = "phone", Identifier = "identifier",
    }
}

codes! {
    /// How well a field agrees.
    AgreementCode => Agreement {
        Exact = "exact", Strong = "strong", Weak = "weak", Disagree = "disagree",
        Missing = "missing",
    }
}

codes! {
    /// Why a field got its agreement level.
    ReasonCode => Reason {
        Equal = "equal", Different = "different", Missing = "missing",
        Nickname = "nickname", Similar = "similar", SoundsAlike = "sounds_alike",
        Swapped = "swapped", DayMonthTransposed = "day_month_transposed",
        PartialDate = "partial_date", OneDatePartDiffers = "one_date_part_differs",
        OneEdit = "one_edit", TwoEdits = "two_edits", MostTokens = "most_tokens",
        SomeTokens = "some_tokens", SamePrefix = "same_prefix",
    }
}

codes! {
    /// The matcher's decision.
    OutcomeCode => Outcome {
        Match = "match", PossibleMatch = "possible_match", NonMatch = "non_match",
    }
}

/// One field's contribution to a match decision (no personal data).
#[derive(Serialize, Deserialize)]
pub struct FieldExplanationRecord {
    /// The field.
    pub field: FieldCode,
    /// How well it agrees.
    pub agreement: AgreementCode,
    /// Why.
    pub reason: ReasonCode,
    /// Its weight.
    pub weight: f64,
}

/// Why the matcher decided what it did.
#[derive(Serialize, Deserialize)]
pub struct ExplanationRecord {
    /// Each field's contribution.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldExplanationRecord>,
    /// The sum of the weights.
    pub total_weight: f64,
    /// The posterior probability.
    pub probability: f64,
    /// The decision.
    pub outcome: OutcomeCode,
}

/// The matcher's best candidate for a duplicate.
#[derive(Serialize, Deserialize)]
pub struct RankedMatchRecord {
    /// The existing patient.
    pub patient: String,
    /// The score.
    pub score: f64,
    /// The `$match` grade.
    pub grade: GradeCode,
    /// Why.
    pub explanation: ExplanationRecord,
}

impl TryFrom<RankedMatchRecord> for RankedMatch {
    type Error = JournalError;
    fn try_from(r: RankedMatchRecord) -> Result<Self, JournalError> {
        let e = r.explanation;
        Ok(RankedMatch {
            patient: id(&r.patient, "duplicate_match.patient")?,
            score: r.score,
            grade: r.grade.into(),
            explanation: Explanation {
                fields: e
                    .fields
                    .into_iter()
                    .map(|f| FieldExplanation {
                        field: f.field.into(),
                        agreement: f.agreement.into(),
                        reason: f.reason.into(),
                        weight: f.weight,
                    })
                    .collect(),
                total_weight: e.total_weight,
                probability: e.probability,
                outcome: e.outcome.into(),
            },
        })
    }
}

impl From<&RankedMatch> for RankedMatchRecord {
    fn from(m: &RankedMatch) -> Self {
        let RankedMatch {
            patient,
            score,
            grade,
            explanation,
        } = m;
        let Explanation {
            fields,
            total_weight,
            probability,
            outcome,
        } = explanation;
        Self {
            patient: id_text(patient),
            score: *score,
            grade: (*grade).into(),
            explanation: ExplanationRecord {
                fields: fields
                    .iter()
                    .map(|f| {
                        let FieldExplanation {
                            field,
                            agreement,
                            reason,
                            weight,
                        } = f;
                        FieldExplanationRecord {
                            field: (*field).into(),
                            agreement: (*agreement).into(),
                            reason: (*reason).into(),
                            weight: *weight,
                        }
                    })
                    .collect(),
                total_weight: *total_weight,
                probability: *probability,
                outcome: (*outcome).into(),
            },
        }
    }
}

/// A one-time code sent to a mobile number (its hash only).
#[derive(Serialize, Deserialize)]
pub struct PhoneCodeRecord {
    /// Hex SHA-256 of the patient id and the code.
    pub hash: String,
    /// When the code stops working.
    pub expires_at: String,
}

impl PhoneCodeRecord {
    pub(super) fn read(self, field: &str) -> Result<PhoneCode, JournalError> {
        Ok(PhoneCode {
            hash: self.hash,
            expires_at: instant(&self.expires_at, field)?,
        })
    }
}

impl From<&PhoneCode> for PhoneCodeRecord {
    fn from(c: &PhoneCode) -> Self {
        let PhoneCode { hash, expires_at } = c;
        Self {
            hash: hash.clone(),
            expires_at: instant_text(expires_at),
        }
    }
}

/// `register`: a new patient.
#[derive(Serialize, Deserialize)]
pub struct RegisterRecord {
    /// The record.
    pub patient: PatientRecord,
    /// Who.
    pub by: ActorRecord,
    /// A possible duplicate, to be resolved by staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub possible_duplicate: Option<String>,
    /// Whether the mobile number is a verified SMS identity (absent in journals written
    /// before verification existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_verified: Option<bool>,
    /// The code sent to a self-registration's number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_code: Option<PhoneCodeRecord>,
    /// The matcher's decision on `possible_duplicate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_match: Option<RankedMatchRecord>,
}

impl TryFrom<RegisterRecord> for Register {
    type Error = JournalError;
    fn try_from(r: RegisterRecord) -> Result<Self, JournalError> {
        Ok(Register {
            patient: Box::new(r.patient.try_into()?),
            by: r.by.try_into()?,
            possible_duplicate: opt_id(r.possible_duplicate.as_deref(), "possible_duplicate")?,
            phone_verified: r.phone_verified,
            phone_code: r.phone_code.map(|c| c.read("phone_code")).transpose()?,
            duplicate_match: r
                .duplicate_match
                .map(|m| RankedMatch::try_from(m).map(Box::new))
                .transpose()?,
        })
    }
}

impl From<&Register> for RegisterRecord {
    fn from(c: &Register) -> Self {
        let Register {
            patient,
            by,
            possible_duplicate,
            phone_verified,
            phone_code,
            duplicate_match,
        } = c;
        Self {
            patient: patient.as_ref().into(),
            by: by.into(),
            possible_duplicate: possible_duplicate.as_ref().map(id_text),
            phone_verified: *phone_verified,
            phone_code: phone_code.as_ref().map(PhoneCodeRecord::from),
            duplicate_match: duplicate_match.as_deref().map(RankedMatchRecord::from),
        }
    }
}

/// `set_phone`: a new mobile number.
#[derive(Serialize, Deserialize)]
pub struct SetPhoneRecord {
    /// The patient.
    pub patient: String,
    /// The number (E.164).
    pub phone: String,
    /// Whether staff vouch for it.
    pub verified: bool,
    /// The code sent to it, for a patient's own change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<PhoneCodeRecord>,
    /// Who.
    pub by: ActorRecord,
}

impl TryFrom<SetPhoneRecord> for SetPhone {
    type Error = JournalError;
    fn try_from(r: SetPhoneRecord) -> Result<Self, JournalError> {
        Ok(SetPhone {
            patient: id(&r.patient, "patient")?,
            phone: Sensitive::new(r.phone),
            verified: r.verified,
            code: r.code.map(|c| c.read("code")).transpose()?,
            by: r.by.try_into()?,
        })
    }
}

impl From<&SetPhone> for SetPhoneRecord {
    fn from(c: &SetPhone) -> Self {
        let SetPhone {
            patient,
            phone,
            verified,
            code,
            by,
        } = c;
        Self {
            patient: id_text(patient),
            phone: phone.expose().clone(),
            verified: *verified,
            code: code.as_ref().map(PhoneCodeRecord::from),
            by: by.into(),
        }
    }
}

/// `verify_phone`: the patient entered a one-time code.
#[derive(Serialize, Deserialize)]
pub struct VerifyPhoneRecord {
    /// The patient.
    pub patient: String,
    /// Whether the code matched.
    pub success: bool,
}

impl TryFrom<VerifyPhoneRecord> for VerifyPhone {
    type Error = JournalError;
    fn try_from(r: VerifyPhoneRecord) -> Result<Self, JournalError> {
        Ok(VerifyPhone {
            patient: id(&r.patient, "patient")?,
            success: r.success,
        })
    }
}

impl From<&VerifyPhone> for VerifyPhoneRecord {
    fn from(c: &VerifyPhone) -> Self {
        let VerifyPhone { patient, success } = c;
        Self {
            patient: id_text(patient),
            success: *success,
        }
    }
}

/// `resolve_duplicate`: staff decide on a possible duplicate.
#[derive(Serialize, Deserialize)]
pub struct ResolveDuplicateRecord {
    /// The newly registered patient.
    pub patient: String,
    /// Whether they are the same person as the existing record.
    pub same_person: bool,
    /// Who.
    pub by: ActorRecord,
}

impl TryFrom<ResolveDuplicateRecord> for ResolveDuplicate {
    type Error = JournalError;
    fn try_from(r: ResolveDuplicateRecord) -> Result<Self, JournalError> {
        Ok(ResolveDuplicate {
            patient: id(&r.patient, "patient")?,
            same_person: r.same_person,
            by: r.by.try_into()?,
        })
    }
}

impl From<&ResolveDuplicate> for ResolveDuplicateRecord {
    fn from(c: &ResolveDuplicate) -> Self {
        let ResolveDuplicate {
            patient,
            same_person,
            by,
        } = c;
        Self {
            patient: id_text(patient),
            same_person: *same_person,
            by: by.into(),
        }
    }
}

/// `update`: an edited record.
#[derive(Serialize, Deserialize)]
pub struct UpdateRecord {
    /// The patient.
    pub patient: String,
    /// The version the edit is based on.
    pub base_version: u32,
    /// The edited record.
    pub record: PatientRecord,
    /// Who.
    pub by: ActorRecord,
}

impl TryFrom<UpdateRecord> for Update {
    type Error = JournalError;
    fn try_from(r: UpdateRecord) -> Result<Self, JournalError> {
        Ok(Update {
            patient: id(&r.patient, "patient")?,
            base_version: r.base_version,
            record: Box::new(r.record.try_into()?),
            by: r.by.try_into()?,
        })
    }
}

impl From<&Update> for UpdateRecord {
    fn from(c: &Update) -> Self {
        let Update {
            patient,
            base_version,
            record,
            by,
        } = c;
        Self {
            patient: id_text(patient),
            base_version: *base_version,
            record: record.as_ref().into(),
            by: by.into(),
        }
    }
}

/// `approve`: staff approve a change request.
#[derive(Serialize, Deserialize)]
pub struct ApproveRecord {
    /// The request.
    pub request: String,
    /// The reviewer.
    pub by: ActorRecord,
}

impl TryFrom<ApproveRecord> for Approve {
    type Error = JournalError;
    fn try_from(r: ApproveRecord) -> Result<Self, JournalError> {
        Ok(Approve {
            request: id(&r.request, "request")?,
            by: r.by.try_into()?,
        })
    }
}

impl From<&Approve> for ApproveRecord {
    fn from(c: &Approve) -> Self {
        let Approve { request, by } = c;
        Self {
            request: id_text(request),
            by: by.into(),
        }
    }
}
