//! Portal sign-in: `sign_in_code` and `sign_in` (added in format 2; no format-1 body has
//! them).

use super::common::{id, id_text};
use super::registration::PhoneCodeRecord;
use crate::clinic::{SignIn, SignInCode, SignInCodeEntry};
use crate::journal::JournalError;
use serde::{Deserialize, Serialize};

/// One patient's code in a `sign_in_code` body.
#[derive(Serialize, Deserialize)]
pub struct SignInCodeEntryRecord {
    /// The patient.
    pub patient: String,
    /// The code's hash and expiry.
    pub code: PhoneCodeRecord,
}

/// `sign_in_code`: codes sent to a number (none for an unknown number).
#[derive(Serialize, Deserialize)]
pub struct SignInCodeRecord {
    /// The codes sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<SignInCodeEntryRecord>,
}

impl TryFrom<SignInCodeRecord> for SignInCode {
    type Error = JournalError;
    fn try_from(r: SignInCodeRecord) -> Result<Self, JournalError> {
        let codes = r
            .codes
            .into_iter()
            .map(|e| {
                Ok(SignInCodeEntry {
                    patient: id(&e.patient, "codes.patient")?,
                    code: e.code.read("codes.code")?,
                })
            })
            .collect::<Result<_, JournalError>>()?;
        Ok(SignInCode { codes })
    }
}

impl From<&SignInCode> for SignInCodeRecord {
    fn from(c: &SignInCode) -> Self {
        let SignInCode { codes } = c;
        Self {
            codes: codes
                .iter()
                .map(|e| {
                    let SignInCodeEntry { patient, code } = e;
                    SignInCodeEntryRecord {
                        patient: id_text(patient),
                        code: code.into(),
                    }
                })
                .collect(),
        }
    }
}

/// `sign_in`: a code was entered for a number.
#[derive(Serialize, Deserialize)]
pub struct SignInRecord {
    /// The patients with a code pending for the number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patients: Vec<String>,
    /// The patient whose code matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in: Option<String>,
}

impl TryFrom<SignInRecord> for SignIn {
    type Error = JournalError;
    fn try_from(r: SignInRecord) -> Result<Self, JournalError> {
        Ok(SignIn {
            patients: r
                .patients
                .iter()
                .map(|p| id(p, "patients"))
                .collect::<Result<_, _>>()?,
            signed_in: r
                .signed_in
                .as_deref()
                .map(|p| id(p, "signed_in"))
                .transpose()?,
        })
    }
}

impl From<&SignIn> for SignInRecord {
    fn from(c: &SignIn) -> Self {
        let SignIn {
            patients,
            signed_in,
        } = c;
        Self {
            patients: patients.iter().map(id_text).collect(),
            signed_in: signed_in.as_ref().map(id_text),
        }
    }
}
