//! Sign-in with a one-time code sent to a verified mobile number (the patient portal's
//! sign-in), and sign-out.
//!
//! Both halves are journaled whether or not the number belongs to anyone: an unknown number
//! journals a command that names no patient, so the answer, the work done and the time taken
//! are the same either way and nobody learns from the sign-in form who is a patient. Codes are
//! kept only as hashes (of the patient id and the code, as phone verification does), expire
//! after [`CODE_TTL_MINUTES`], and stop working after [`MAX_CODE_ATTEMPTS`] wrong tries.

use super::*;

/// How long a portal session (the patient token sign-in issues) lasts.
pub const SESSION_TTL_HOURS: i64 = 12;

/// Outbox purpose of sign-in codes: delivered to the phone, never listed by the API.
pub const SIGN_IN_CODE: &str = "sign-in-code";

/// One patient's code in a [`SignInCode`] command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInCodeEntry {
    /// The patient the number is a verified identity of.
    pub patient: PatientId,
    /// The code's hash and expiry.
    pub code: PhoneCode,
}

/// Sign-in codes were sent to a number: one per patient whose verified number it is (a
/// family phone has several), none for a number nobody has.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInCode {
    /// The codes sent (empty for an unknown number).
    pub codes: Vec<SignInCodeEntry>,
}

impl Apply for SignInCode {
    type Reply = ();
    fn apply(&self, st: &mut State, _cx: &mut Cx<'_>) -> Result<(), ClinicError> {
        for entry in &self.codes {
            let phone = st.verified_phone.get(&entry.patient).cloned();
            let Some(phone) = phone else {
                return Err(ClinicError::conflict("the number is not verified"));
            };
            st.sign_in_codes.insert(
                entry.patient,
                PendingCode {
                    phone,
                    hash: entry.code.hash.clone(),
                    expires_at: entry.code.expires_at,
                    attempts: 0,
                },
            );
        }
        Ok(())
    }
}

/// Someone entered a sign-in code for a number: the patient it signed in, or a wrong attempt
/// counted against every code pending for that number.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignIn {
    /// The patients with a code pending for the number (empty for an unknown number).
    pub patients: Vec<PatientId>,
    /// The patient whose code matched, if one did.
    pub signed_in: Option<PatientId>,
}

impl Apply for SignIn {
    type Reply = ();
    fn apply(&self, st: &mut State, _cx: &mut Cx<'_>) -> Result<(), ClinicError> {
        match self.signed_in {
            Some(patient) => {
                // A code works once: the others sent to the same number stay pending.
                st.sign_in_codes
                    .remove(&patient)
                    .ok_or_else(|| ClinicError::conflict("no sign-in code is pending"))?;
            }
            None => {
                for patient in &self.patients {
                    if let Some(pending) = st.sign_in_codes.get_mut(patient) {
                        pending.attempts = pending.attempts.saturating_add(1);
                    }
                }
            }
        }
        Ok(())
    }
}

impl Clinic {
    /// Sends a sign-in code to `phone` if it is a verified patient's number (one message per
    /// patient sharing it). The answer is `Ok(())` whatever the number, and the same work is
    /// done: nobody learns whether a number is registered.
    ///
    /// # Errors
    /// Bad request for a number that is not E.164 (the same for every caller); storage.
    pub fn request_sign_in_code(&self, phone: &str) -> Result<(), ClinicError> {
        let phone =
            e164(phone).ok_or_else(|| ClinicError::bad("phone: expected an E.164 number"))?;
        let mut inner = self.lock();
        let patients: Vec<PatientId> = inner
            .state
            .phones
            .get(&phone)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        let mut extra = Batch::default();
        let mut codes = Vec::new();
        for patient in patients {
            let (code, mut message) = self.code_message(patient, &phone)?;
            message.purpose = SIGN_IN_CODE.into();
            message.body = message.body.replacen("your code", "your sign-in code", 1);
            extra.outbox.push(message);
            codes.push(SignInCodeEntry { patient, code });
        }
        self.execute_with(&mut inner, SignInCode { codes }, extra)
    }

    /// Checks a sign-in code for `phone` and, when it matches a pending code, issues the
    /// patient a session token (valid [`SESSION_TTL_HOURS`]; only its hash is stored).
    ///
    /// # Errors
    /// [`ClinicError::Unauthenticated`] for a wrong, expired, used-up or unknown code, the
    /// same whatever the reason and whether or not the number is registered; bad request for
    /// a number that is not E.164; storage.
    pub fn sign_in(&self, phone: &str, code: &str) -> Result<(PatientId, String), ClinicError> {
        let phone =
            e164(phone).ok_or_else(|| ClinicError::bad("phone: expected an E.164 number"))?;
        let code = code.trim();
        let now = self.now();
        let mut inner = self.lock();
        let pending: Vec<(PatientId, bool)> = inner
            .state
            .sign_in_codes
            .iter()
            .filter(|(_, p)| p.phone == phone)
            .map(|(patient, p)| {
                let usable = p.expires_at > now && p.attempts < MAX_CODE_ATTEMPTS;
                let given = code_hash(*patient, code);
                (*patient, usable && constant_time_eq(&given, &p.hash))
            })
            .collect();
        let mut patients: Vec<PatientId> = pending.iter().map(|(p, _)| *p).collect();
        patients.sort();
        let signed_in = pending.iter().find(|(_, ok)| *ok).map(|(p, _)| *p);
        let mut extra = Batch::default();
        let mut token = None;
        if let Some(patient) = signed_in {
            let principal = Principal::Patient { patient };
            let t = new_token("pt").map_err(|_| {
                StoreError::Io(std::io::Error::other("the OS random generator failed"))
            })?;
            extra.tokens.push(self.token_row(
                &t,
                &principal,
                now + TimeDelta::hours(SESSION_TTL_HOURS),
            )?);
            token = Some(t);
        }
        self.execute_with(
            &mut inner,
            SignIn {
                patients,
                signed_in,
            },
            extra,
        )?;
        match (signed_in, token) {
            (Some(patient), Some(token)) => Ok((patient, token)),
            _ => Err(ClinicError::Unauthenticated),
        }
    }

    /// Ends a session: the token stops working at once, on every node (its stored row expires
    /// now). Unknown tokens are ignored, so signing out twice is harmless.
    ///
    /// # Errors
    /// Storage.
    pub fn revoke_token(&self, token: &str) -> Result<(), ClinicError> {
        let Ok(principal) = self.authenticate(token) else {
            return Ok(());
        };
        self.store_token(token, &principal, self.now())
    }
}

/// Compares two hex digests without stopping at the first difference.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
