//! How to reach the patient: telecom, languages, contact purposes and per-purpose routes.
use super::*;

/// FHIR `ContactPoint.system`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TelecomSystem {
    /// `phone`.
    Phone,
    /// `fax`.
    Fax,
    /// `email`.
    Email,
    /// `pager`.
    Pager,
    /// `url`.
    Url,
    /// `sms`.
    Sms,
    /// `other`.
    Other,
}

/// FHIR `ContactPoint.use`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TelecomUse {
    /// `home`.
    Home,
    /// `work`.
    Work,
    /// `temp`.
    Temp,
    /// `old`.
    Old,
    /// `mobile`.
    Mobile,
}

/// Whether a telecom value has been confirmed to reach the person (a code was sent and
/// returned, or staff confirmed it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// Not confirmed.
    #[default]
    Unverified,
    /// Confirmed.
    Verified,
}

/// A phone number, e-mail address or other telecom route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactPoint {
    /// `system`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<TelecomSystem>,
    /// The number or address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Sensitive<String>>,
    /// `use`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<TelecomUse>,
    /// Preference order, 1 = most preferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
    /// When the route was in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<FhirPeriod>,
    /// Whether the route was confirmed (a Bedside extension in FHIR).
    pub verification: Verification,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl ContactPoint {
    /// A contact point of `system` with `value` and `use`.
    pub fn new(system: TelecomSystem, value: impl Into<String>, use_: Option<TelecomUse>) -> Self {
        Self {
            system: Some(system),
            value: Some(Sensitive::new(value.into())),
            use_,
            rank: None,
            period: None,
            verification: Verification::Unverified,
            unmodelled: Unmodelled::default(),
        }
    }

    /// The outreach route this contact point offers, if any: mobile phones and `sms` take
    /// text messages, other phones voice calls, e-mail e-mail.
    pub fn route(&self) -> Option<ContactRoute> {
        let value = self.value.as_ref()?.expose();
        let channel = match (self.system?, self.use_) {
            (TelecomSystem::Sms, _) | (TelecomSystem::Phone, Some(TelecomUse::Mobile)) => {
                Channel::Sms
            }
            (TelecomSystem::Phone, _) => Channel::Voice,
            (TelecomSystem::Email, _) => Channel::Email,
            _ => return None,
        };
        Some(ContactRoute::new(channel, value.clone()))
    }
}

/// A language the patient communicates in (FHIR `Patient.communication`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Communication {
    /// The language, as coded (BCP-47 in `urn:ietf:bcp:47`).
    pub language: CodeableConcept,
    /// Whether this is the preferred language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred: Option<bool>,
    /// Elements not modelled.
    #[serde(default, skip_serializing_if = "Unmodelled::is_empty")]
    pub unmodelled: Unmodelled,
}

impl Communication {
    /// The patient's preferred language (BCP-47), `preferred: true`.
    pub fn preferred(language: &Language) -> Self {
        Self::with_preference(language, true)
    }

    /// Another language the patient speaks (BCP-47), `preferred: false`.
    pub fn spoken(language: &Language) -> Self {
        Self::with_preference(language, false)
    }

    fn with_preference(language: &Language, preferred: bool) -> Self {
        Self {
            language: CodeableConcept::from_coding(bedside_core::Coding::new(
                code::system::BCP_47,
                language.as_str(),
            )),
            preferred: Some(preferred),
            unmodelled: Unmodelled::default(),
        }
    }

    /// The language tag, when coded in BCP-47 and well formed.
    pub fn tag(&self) -> Option<Language> {
        self.language
            .coding_in(code::system::BCP_47)
            .and_then(|c| Language::new(&c.code).ok())
    }
}

/// Why the clinic contacts a patient (reminders, billing, results, …); preferences are kept per
/// contact purpose. Not a purpose of use: that is `bedside_consent::Purpose` (HL7 PurposeOfUse),
/// which says why data is accessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContactPurpose {
    /// Appointment reminders and changes.
    AppointmentReminders,
    /// Statements and payment matters.
    Billing,
    /// Test results and clinical follow-up.
    Results,
    /// Experience surveys.
    Surveys,
    /// Marketing and newsletters: never contacted without an explicit opt-in.
    Marketing,
}

impl ContactPurpose {
    /// All purposes.
    pub const ALL: [ContactPurpose; 5] = [
        ContactPurpose::AppointmentReminders,
        ContactPurpose::Billing,
        ContactPurpose::Results,
        ContactPurpose::Surveys,
        ContactPurpose::Marketing,
    ];

    /// The kebab-case code (`appointment-reminders`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            ContactPurpose::AppointmentReminders => "appointment-reminders",
            ContactPurpose::Billing => "billing",
            ContactPurpose::Results => "results",
            ContactPurpose::Surveys => "surveys",
            ContactPurpose::Marketing => "marketing",
        }
    }

    /// Parses a code.
    pub fn parse(code: &str) -> Option<Self> {
        ContactPurpose::ALL.into_iter().find(|p| p.as_str() == code)
    }
}

/// Whether the patient agreed to be contacted on a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptState {
    /// The patient asked to be contacted this way.
    OptedIn,
    /// The patient asked not to be contacted this way.
    OptedOut,
}

impl OptState {
    /// The kebab-case code.
    pub fn as_str(&self) -> &'static str {
        match self {
            OptState::OptedIn => "opted-in",
            OptState::OptedOut => "opted-out",
        }
    }
}

/// One route in a purpose's ordered list, with its opt-in state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoutePreference {
    /// The route.
    pub route: ContactRoute,
    /// Opt-in or opt-out.
    pub state: OptState,
}

/// The patient's ordered routes for one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContactPreference {
    /// The purpose.
    pub purpose: ContactPurpose,
    /// Routes in order of preference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RoutePreference>,
}
