//! [`Request`]: who wants to do what with which of a patient's data, why, how and when.

use crate::vocab::{AccessChannel, Action, ClassSet, Confidentiality, LabelSet, Purpose, StepSet};
use bedside_core::{Actor, PatientId, Period, Sensitive, Timestamp};
use serde::{Deserialize, Serialize};

/// The data a request touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
