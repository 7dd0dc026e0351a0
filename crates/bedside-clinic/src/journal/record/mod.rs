//! The record types the journal stores: one per command kind ([`Entry`]), built from plain
//! structs and enums that exist only to be stored.
//!
//! Field names are format 1's (the commands' derived serde forms when it was frozen), so
//! format-1 bodies read as they are. Optional and empty fields are read when absent or
//! spelled out (`null`, `[]`) and left out when written. Ids, instants, zones and dates are
//! stored as text and parsed by the conversions, which say which field is invalid and never
//! quote it. Every conversion names every field of the domain type it reads or writes
//! (struct literals and destructuring without `..`), so a field added to a domain type stops
//! this module compiling until the journal decides how to store it.
//!
//! The record types derive neither `Debug` nor `Clone`: they hold PHI as plain text (names,
//! numbers, notes), which must never reach a log.

pub mod billing;
pub mod commands;
pub mod common;
pub mod demographics;
pub mod fhir;
pub mod patient;
pub mod people;
pub mod registration;
pub mod setup;
pub mod sign_in;
#[cfg(test)]
mod tests;
pub mod visits;

use super::JournalError;
use crate::clinic::Command;
use serde::{Deserialize, Serialize};

/// One stored command: a record per kind, tagged by `"kind"` (the command's kind).
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Entry {
    /// `setup`.
    #[serde(rename = "setup")]
    Setup(Box<setup::SetupRecord>),
    /// `register`.
    #[serde(rename = "register")]
    Register(Box<registration::RegisterRecord>),
    /// `set_phone`.
    #[serde(rename = "set_phone")]
    SetPhone(registration::SetPhoneRecord),
    /// `verify_phone`.
    #[serde(rename = "verify_phone")]
    VerifyPhone(registration::VerifyPhoneRecord),
    /// `inbound_sms`.
    #[serde(rename = "inbound_sms")]
    InboundSms(visits::InboundSmsRecord),
    /// `revoke_proxy`.
    #[serde(rename = "revoke_proxy")]
    RevokeProxy(people::RevokeProxyRecord),
    /// `update`.
    #[serde(rename = "update")]
    Update(Box<registration::UpdateRecord>),
    /// `approve`.
    #[serde(rename = "approve")]
    Approve(registration::ApproveRecord),
    /// `resolve_duplicate`.
    #[serde(rename = "resolve_duplicate")]
    ResolveDuplicate(registration::ResolveDuplicateRecord),
    /// `book`.
    #[serde(rename = "book")]
    Book(visits::BookRecord),
    /// `cancel`.
    #[serde(rename = "cancel")]
    Cancel(visits::AppointmentActRecord),
    /// `reschedule`.
    #[serde(rename = "reschedule")]
    Reschedule(visits::RescheduleRecord),
    /// `confirm`.
    #[serde(rename = "confirm")]
    Confirm(visits::AppointmentActRecord),
    /// `stop_sms`.
    #[serde(rename = "stop_sms")]
    StopSms(visits::PatientOnlyRecord),
    /// `unavailable`.
    #[serde(rename = "unavailable")]
    Unavailable(visits::UnavailableRecord),
    /// `grant_proxy`.
    #[serde(rename = "grant_proxy")]
    GrantProxy(people::GrantProxyRecord),
    /// `add_note`.
    #[serde(rename = "add_note")]
    AddNote(commands::AddNoteRecord),
    /// `discharge`.
    #[serde(rename = "discharge")]
    Discharge(visits::PatientOnlyRecord),
    /// `vitals`.
    #[serde(rename = "vitals")]
    Vitals(commands::VitalsRecord),
    /// `check_in`.
    #[serde(rename = "check_in")]
    CheckIn(visits::AppointmentActRecord),
    /// `complete`.
    #[serde(rename = "complete")]
    Complete(visits::AppointmentActRecord),
    /// `survey_answer`.
    #[serde(rename = "survey_answer")]
    SurveyAnswer(commands::SurveyAnswerRecord),
    /// `charge`.
    #[serde(rename = "charge")]
    Charge(billing::ChargeRecord),
    /// `remittance`.
    #[serde(rename = "remittance")]
    Remittance(billing::RemittanceRecord),
    /// `payment`.
    #[serde(rename = "payment")]
    Payment(billing::PaymentRecord),
    /// `ack_alert`.
    #[serde(rename = "ack_alert")]
    AckAlert(commands::AckAlertRecord),
    /// `hold`.
    #[serde(rename = "hold")]
    PlaceHold(visits::PlaceHoldRecord),
    /// `book_hold`.
    #[serde(rename = "book_hold")]
    BookHold(visits::BookHoldRecord),
    /// `sign_in_code`.
    #[serde(rename = "sign_in_code")]
    SignInCode(sign_in::SignInCodeRecord),
    /// `sign_in`.
    #[serde(rename = "sign_in")]
    SignIn(sign_in::SignInRecord),
}

/// A stored body as this build writes it: the format first, then the entry.
#[derive(Serialize, Deserialize)]
pub struct Versioned {
    /// The format ([`super::FORMAT`] when written by this build).
    pub v: u32,
    /// The command.
    #[serde(flatten)]
    pub entry: Entry,
}

impl TryFrom<Entry> for Command {
    type Error = JournalError;
    fn try_from(entry: Entry) -> Result<Self, JournalError> {
        Ok(match entry {
            Entry::Setup(r) => Command::Setup(Box::new((*r).try_into()?)),
            Entry::Register(r) => Command::Register((*r).try_into()?),
            Entry::SetPhone(r) => Command::SetPhone(r.try_into()?),
            Entry::VerifyPhone(r) => Command::VerifyPhone(r.try_into()?),
            Entry::InboundSms(r) => Command::InboundSms(r.try_into()?),
            Entry::RevokeProxy(r) => Command::RevokeProxy(r.try_into()?),
            Entry::Update(r) => Command::Update((*r).try_into()?),
            Entry::Approve(r) => Command::Approve(r.try_into()?),
            Entry::ResolveDuplicate(r) => Command::ResolveDuplicate(r.try_into()?),
            Entry::Book(r) => Command::Book(r.try_into()?),
            Entry::Cancel(r) => Command::Cancel(r.try_into()?),
            Entry::Reschedule(r) => Command::Reschedule(r.try_into()?),
            Entry::Confirm(r) => Command::Confirm(r.try_into()?),
            Entry::StopSms(r) => Command::StopSms(r.try_into()?),
            Entry::Unavailable(r) => Command::Unavailable(r.try_into()?),
            Entry::GrantProxy(r) => Command::GrantProxy(r.try_into()?),
            Entry::AddNote(r) => Command::AddNote(r.try_into()?),
            Entry::Discharge(r) => Command::Discharge(r.try_into()?),
            Entry::Vitals(r) => Command::Vitals(r.try_into()?),
            Entry::CheckIn(r) => Command::CheckIn(r.try_into()?),
            Entry::Complete(r) => Command::Complete(r.try_into()?),
            Entry::SurveyAnswer(r) => Command::SurveyAnswer(r.try_into()?),
            Entry::Charge(r) => Command::Charge(r.try_into()?),
            Entry::Remittance(r) => Command::Remittance(r.try_into()?),
            Entry::Payment(r) => Command::Payment(r.try_into()?),
            Entry::AckAlert(r) => Command::AckAlert(r.try_into()?),
            Entry::PlaceHold(r) => Command::PlaceHold(r.try_into()?),
            Entry::BookHold(r) => Command::BookHold(r.try_into()?),
            Entry::SignInCode(r) => Command::SignInCode(r.try_into()?),
            Entry::SignIn(r) => Command::SignIn(r.try_into()?),
        })
    }
}

impl From<&Command> for Entry {
    fn from(command: &Command) -> Self {
        match command {
            Command::Setup(c) => Entry::Setup(Box::new(c.as_ref().into())),
            Command::Register(c) => Entry::Register(Box::new(c.into())),
            Command::SetPhone(c) => Entry::SetPhone(c.into()),
            Command::VerifyPhone(c) => Entry::VerifyPhone(c.into()),
            Command::InboundSms(c) => Entry::InboundSms(c.into()),
            Command::RevokeProxy(c) => Entry::RevokeProxy(c.into()),
            Command::Update(c) => Entry::Update(Box::new(c.into())),
            Command::Approve(c) => Entry::Approve(c.into()),
            Command::ResolveDuplicate(c) => Entry::ResolveDuplicate(c.into()),
            Command::Book(c) => Entry::Book(c.into()),
            Command::Cancel(c) => Entry::Cancel(c.into()),
            Command::Reschedule(c) => Entry::Reschedule(c.into()),
            Command::Confirm(c) => Entry::Confirm(c.into()),
            Command::StopSms(c) => Entry::StopSms(c.into()),
            Command::Unavailable(c) => Entry::Unavailable(c.into()),
            Command::GrantProxy(c) => Entry::GrantProxy(c.into()),
            Command::AddNote(c) => Entry::AddNote(c.into()),
            Command::Discharge(c) => Entry::Discharge(c.into()),
            Command::Vitals(c) => Entry::Vitals(c.into()),
            Command::CheckIn(c) => Entry::CheckIn(c.into()),
            Command::Complete(c) => Entry::Complete(c.into()),
            Command::SurveyAnswer(c) => Entry::SurveyAnswer(c.into()),
            Command::Charge(c) => Entry::Charge(c.into()),
            Command::Remittance(c) => Entry::Remittance(c.into()),
            Command::Payment(c) => Entry::Payment(c.into()),
            Command::AckAlert(c) => Entry::AckAlert(c.into()),
            Command::PlaceHold(c) => Entry::PlaceHold(c.into()),
            Command::BookHold(c) => Entry::BookHold(c.into()),
            Command::SignInCode(c) => Entry::SignInCode(c.into()),
            Command::SignIn(c) => Entry::SignIn(c.into()),
        }
    }
}
