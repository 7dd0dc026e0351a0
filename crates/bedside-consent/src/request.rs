//! [`Request`]: who wants to do what with which of a patient's data, why, how and when.

use crate::vocab::{AccessChannel, Action, ClassSet, Confidentiality, LabelSet, Purpose, StepSet};
use bedside_core::{Actor, PatientId, Period, Sensitive, Timestamp};
use serde::{Deserialize, Serialize};

/// The data a request touches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataScope {
    /// The record classes requested.
    pub classes: ClassSet,
    /// Sensitivity labels the data carries.
    #[serde(default)]
    pub labels: LabelSet,
    /// The data's confidentiality.
    #[serde(default)]
    pub confidentiality: Confidentiality,
    /// When the data was recorded, when known (matched against provisions' `dataPeriod`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
}

impl DataScope {
    /// Unlabelled, normal-confidentiality data of the given classes.
    pub fn classes(classes: impl IntoIterator<Item = crate::vocab::DataClass>) -> Self {
        Self {
            classes: classes.into_iter().collect(),
            labels: LabelSet::EMPTY,
            confidentiality: Confidentiality::Normal,
            period: None,
        }
    }

    /// The same data carrying `label` too.
    #[must_use]
    pub fn labelled(mut self, label: crate::vocab::SecurityLabel) -> Self {
        self.labels.insert(label);
        self
    }
}

/// A break-the-glass declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakGlass {
    /// Why the clinician needs access; free text, so it is sensitive.
    pub justification: Sensitive<String>,
    /// When the clinician broke the glass; access lasts the policy's window from here.
    pub started_at: Timestamp,
}

/// The circumstances of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// When the request is made.
    pub at: Timestamp,
    /// Identity-verification steps already completed in this interaction.
    #[serde(default)]
    pub verified: StepSet,
    /// A break-the-glass declaration, when the actor made one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<BreakGlass>,
}

impl Context {
    /// A context at `at` with nothing verified and no break-glass.
    pub fn at(at: Timestamp) -> Self {
        Self {
            at,
            verified: StepSet::EMPTY,
            break_glass: None,
        }
    }
}

/// One access or disclosure question: may `actor` do `action` with `data` of `patient` for
/// `purpose` over `channel`, in `context`?
///
/// Build one with [`Request::new`] and the builder methods; the fields stay public because a
/// request is plain data.
///
/// ```
/// use bedside_consent::{AccessChannel, Action, DataClass, Purpose, Request, VerificationStep};
/// use bedside_core::{Actor, PatientId, Timestamp};
///
/// let patient = PatientId::from_uuid(uuid::Uuid::from_u128(7));
/// let at: Timestamp = "2026-06-10T09:00:00Z".parse()?;
/// let request = Request::new(Actor::Patient { patient }, patient, Action::Read, Purpose::Patrqt, at)
///     .classes([DataClass::Appointments])
///     .channel(AccessChannel::Voice)
///     .verified([VerificationStep::Name, VerificationStep::DateOfBirth]);
/// assert_eq!(request.context.at, at);
/// assert_eq!(request.context.verified.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Who asks.
    pub actor: Actor,
    /// Whose data.
    pub patient: PatientId,
    /// What they want to do.
    pub action: Action,
    /// Which data.
    pub data: DataScope,
    /// Why.
    pub purpose: Purpose,
    /// How the request arrives, or the channel a contact goes out on.
    pub channel: AccessChannel,
    /// When, what has been verified, break-glass.
    pub context: Context,
}

impl Request {
    /// `actor` asks to `action` `patient`'s data for `purpose`, at `at`. Defaults: no data
    /// classes yet (add them with [`Request::classes`] or [`Request::data`]), the
    /// [`Internal`](AccessChannel::Internal) channel, nothing verified, no break-the-glass.
    pub fn new(
        actor: Actor,
        patient: PatientId,
        action: Action,
        purpose: Purpose,
        at: Timestamp,
    ) -> Self {
        Self {
            actor,
            patient,
            action,
            data: DataScope::default(),
            purpose,
            channel: AccessChannel::Internal,
            context: Context::at(at),
        }
    }

    /// The same request for unlabelled, normal-confidentiality data of `classes`.
    #[must_use]
    pub fn classes(mut self, classes: impl IntoIterator<Item = crate::vocab::DataClass>) -> Self {
        self.data = DataScope::classes(classes);
        self
    }

    /// The same request for `data` (classes, labels, confidentiality, period).
    #[must_use]
    pub fn data(mut self, data: DataScope) -> Self {
        self.data = data;
        self
    }

    /// The same request arriving on (or going out over) `channel`.
    #[must_use]
    pub fn channel(mut self, channel: AccessChannel) -> Self {
        self.channel = channel;
        self
    }

    /// The same request with `steps` of identity verification completed.
    #[must_use]
    pub fn verified(
        mut self,
        steps: impl IntoIterator<Item = crate::vocab::VerificationStep>,
    ) -> Self {
        self.context.verified = steps.into_iter().collect();
        self
    }

    /// The same request under a break-the-glass declaration.
    #[must_use]
    pub fn break_glass(mut self, declaration: BreakGlass) -> Self {
        self.context.break_glass = Some(declaration);
        self
    }
}
