//! The clinic's set-up as stored: grid, providers, rooms, visit types, the monitoring care
//! plan, the fee schedule and the payer.

use super::common::{
    codes, each, id, id_text, id_texts, ids, instant, instant_text, opt_instant, zone,
};
use crate::clinic::{FeeLine, ProviderSpec, SetupSpec};
use crate::journal::JournalError;
use bedside_schedule::{AppointmentType, EncounterKind, EncounterMode, GridConfig};
use bedside_vitals::alert::{Comparison, Component, MissingDataRule, News2Rule, RateOfChangeRule};
use bedside_vitals::{AlertSeverity, CarePlan, Response, SpO2Scale, ThresholdRule, VitalKind};
use serde::{Deserialize, Serialize};

codes! {
    /// In person or by video.
    ModeCode => EncounterMode {
        InPerson = "in_person", Video = "video",
    }
}

codes! {
    /// A new patient visit or a follow-up.
    EncounterKindCode => EncounterKind {
        New = "new", FollowUp = "follow_up",
    }
}

codes! {
    /// A kind of vital sign.
    VitalKindCode => VitalKind {
        BloodPressure = "blood_pressure", HeartRate = "heart_rate",
        RespiratoryRate = "respiratory_rate", OxygenSaturation = "oxygen_saturation",
        BodyTemperature = "body_temperature", BodyWeight = "body_weight",
        BodyHeight = "body_height", Bmi = "bmi", BloodGlucose = "blood_glucose",
        HeadCircumference = "head_circumference",
        MeanArterialPressure = "mean_arterial_pressure",
    }
}

codes! {
    /// Which value of a reading a threshold looks at.
    ComponentCode => Component {
        Primary = "primary", Diastolic = "diastolic",
    }
}

codes! {
    /// How a reading is compared with a limit.
    ComparisonCode => Comparison {
        AtLeast = "at_least", AtMost = "at_most", Above = "above", Below = "below",
    }
}

codes! {
    /// How serious an alert is (the capitalised spellings are read too, as the domain does).
    SeverityCode => AlertSeverity {
        Low = "low" | "Low", Medium = "medium" | "Medium", High = "high" | "High",
        Critical = "critical" | "Critical",
    }
}

codes! {
    /// What an alert asks for (the older spellings are read too, as the domain does).
    ResponseCode => Response {
        Routine = "routine" | "Routine",
        NurseReview = "nurse_review" | "NurseReview" | "nursereview",
        Urgent = "urgent" | "Urgent", Emergency = "emergency" | "Emergency",
    }
}

codes! {
    /// The NEWS2 oxygen saturation scale.
    SpO2ScaleCode => SpO2Scale {
        Scale1 = "scale1", Scale2 = "scale2",
    }
}

/// The booking grid.
#[derive(Serialize, Deserialize)]
pub struct GridRecord {
    /// The first instant of the grid.
    pub origin: String,
    /// Slot length.
    pub granularity_minutes: u32,
    /// Days the grid covers.
    pub horizon_days: u32,
    /// The clinic's IANA zone.
    pub zone: String,
}

impl TryFrom<GridRecord> for GridConfig {
    type Error = JournalError;
    fn try_from(r: GridRecord) -> Result<Self, JournalError> {
        Ok(GridConfig {
            origin: instant(&r.origin, "grid.origin")?,
            granularity_minutes: r.granularity_minutes,
            horizon_days: r.horizon_days,
            zone: zone(&r.zone, "grid.zone")?,
        })
    }
}

impl From<&GridConfig> for GridRecord {
    fn from(g: &GridConfig) -> Self {
        let GridConfig {
            origin,
            granularity_minutes,
            horizon_days,
            zone,
        } = g;
        Self {
            origin: instant_text(origin),
            granularity_minutes: *granularity_minutes,
            horizon_days: *horizon_days,
            zone: zone.name().to_string(),
        }
    }
}

/// A provider in the set-up.
#[derive(Serialize, Deserialize)]
pub struct ProviderRecord {
    /// Id.
    pub id: String,
    /// Display name (staff, not PHI).
    pub name: String,
    /// Skill code.
    pub skill: String,
    /// Working hours, local (start, end).
    pub hours: (u32, u32),
}

/// A visit type.
#[derive(Serialize, Deserialize)]
pub struct AppointmentTypeRecord {
    /// Code.
    pub code: String,
    /// Length.
    pub duration_minutes: u32,
    /// Skill the provider needs.
    pub skill: String,
    /// Capability the room needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_capability: Option<String>,
    /// Equipment kind and count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment: Option<(String, u16)>,
    /// Buffer before.
    pub buffer_before_minutes: u32,
    /// Buffer after.
    pub buffer_after_minutes: u32,
    /// In person or video.
    pub mode: ModeCode,
    /// New or follow-up.
    pub kind: EncounterKindCode,
    /// Least notice for a booking.
    pub min_notice_minutes: u32,
    /// Furthest ahead a booking may be.
    pub max_horizon_days: u32,
}

impl From<AppointmentTypeRecord> for AppointmentType {
    fn from(r: AppointmentTypeRecord) -> Self {
        AppointmentType {
            code: r.code,
            duration_minutes: r.duration_minutes,
            skill: r.skill,
            room_capability: r.room_capability,
            equipment: r.equipment,
            buffer_before_minutes: r.buffer_before_minutes,
            buffer_after_minutes: r.buffer_after_minutes,
            mode: r.mode.into(),
            kind: r.kind.into(),
            min_notice_minutes: r.min_notice_minutes,
            max_horizon_days: r.max_horizon_days,
        }
    }
}

impl From<&AppointmentType> for AppointmentTypeRecord {
    fn from(t: &AppointmentType) -> Self {
        let AppointmentType {
            code,
            duration_minutes,
            skill,
            room_capability,
            equipment,
            buffer_before_minutes,
            buffer_after_minutes,
            mode,
            kind,
            min_notice_minutes,
            max_horizon_days,
        } = t;
        Self {
            code: code.clone(),
            duration_minutes: *duration_minutes,
            skill: skill.clone(),
            room_capability: room_capability.clone(),
            equipment: equipment.clone(),
            buffer_before_minutes: *buffer_before_minutes,
            buffer_after_minutes: *buffer_after_minutes,
            mode: (*mode).into(),
            kind: (*kind).into(),
            min_notice_minutes: *min_notice_minutes,
            max_horizon_days: *max_horizon_days,
        }
    }
}

/// A threshold alert rule.
#[derive(Serialize, Deserialize)]
pub struct ThresholdRecord {
    /// Rule name.
    pub name: String,
    /// Vital sign.
    pub kind: VitalKindCode,
    /// Which value.
    pub component: ComponentCode,
    /// How compared.
    pub comparison: ComparisonCode,
    /// The limit.
    pub limit: f64,
    /// Severity.
    pub severity: SeverityCode,
    /// Response.
    pub response: ResponseCode,
}

/// A rate-of-change alert rule.
#[derive(Serialize, Deserialize)]
pub struct RateRecord {
    /// Rule name.
    pub name: String,
    /// Vital sign.
    pub kind: VitalKindCode,
    /// The rise that alerts.
    pub rise: f64,
    /// Within how long.
    pub window_hours: u32,
    /// Severity.
    pub severity: SeverityCode,
    /// Response.
    pub response: ResponseCode,
}

/// A missing-data alert rule.
#[derive(Serialize, Deserialize)]
pub struct MissingRecord {
    /// Rule name.
    pub name: String,
    /// Vital sign.
    pub kind: VitalKindCode,
    /// Longest gap.
    pub max_gap_hours: u32,
    /// Severity.
    pub severity: SeverityCode,
}

/// The NEWS2 rule.
#[derive(Serialize, Deserialize)]
pub struct News2Record {
    /// Oxygen saturation scale.
    pub scale: SpO2ScaleCode,
    /// Readings within this window form one observation set.
    pub window_minutes: u32,
}

/// The monitoring plan for discharged patients.
#[derive(Serialize, Deserialize)]
pub struct CarePlanRecord {
    /// Threshold rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<ThresholdRecord>,
    /// Rate-of-change rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rates: Vec<RateRecord>,
    /// Missing-data rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<MissingRecord>,
    /// The NEWS2 rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub news2: Option<News2Record>,
    /// How long a repeated alert is suppressed.
    pub suppression_minutes: u32,
    /// When monitoring starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_start: Option<String>,
}

impl TryFrom<CarePlanRecord> for CarePlan {
    type Error = JournalError;
    fn try_from(r: CarePlanRecord) -> Result<Self, JournalError> {
        Ok(CarePlan {
            thresholds: r
                .thresholds
                .into_iter()
                .map(|t| ThresholdRule {
                    name: t.name,
                    kind: t.kind.into(),
                    component: t.component.into(),
                    comparison: t.comparison.into(),
                    limit: t.limit,
                    severity: t.severity.into(),
                    response: t.response.into(),
                })
                .collect(),
            rates: r
                .rates
                .into_iter()
                .map(|t| RateOfChangeRule {
                    name: t.name,
                    kind: t.kind.into(),
                    rise: t.rise,
                    window_hours: t.window_hours,
                    severity: t.severity.into(),
                    response: t.response.into(),
                })
                .collect(),
            missing: r
                .missing
                .into_iter()
                .map(|t| MissingDataRule {
                    name: t.name,
                    kind: t.kind.into(),
                    max_gap_hours: t.max_gap_hours,
                    severity: t.severity.into(),
                })
                .collect(),
            news2: r.news2.map(|n| News2Rule {
                scale: n.scale.into(),
                window_minutes: n.window_minutes,
            }),
            suppression_minutes: r.suppression_minutes,
            monitoring_start: opt_instant(
                r.monitoring_start.as_deref(),
                "care_plan.monitoring_start",
            )?,
        })
    }
}

impl From<&ThresholdRule> for ThresholdRecord {
    fn from(t: &ThresholdRule) -> Self {
        let ThresholdRule {
            name,
            kind,
            component,
            comparison,
            limit,
            severity,
            response,
        } = t;
        Self {
            name: name.clone(),
            kind: (*kind).into(),
            component: (*component).into(),
            comparison: (*comparison).into(),
            limit: *limit,
            severity: (*severity).into(),
            response: (*response).into(),
        }
    }
}

impl From<&RateOfChangeRule> for RateRecord {
    fn from(t: &RateOfChangeRule) -> Self {
        let RateOfChangeRule {
            name,
            kind,
            rise,
            window_hours,
            severity,
            response,
        } = t;
        Self {
            name: name.clone(),
            kind: (*kind).into(),
            rise: *rise,
            window_hours: *window_hours,
            severity: (*severity).into(),
            response: (*response).into(),
        }
    }
}

impl From<&MissingDataRule> for MissingRecord {
    fn from(t: &MissingDataRule) -> Self {
        let MissingDataRule {
            name,
            kind,
            max_gap_hours,
            severity,
        } = t;
        Self {
            name: name.clone(),
            kind: (*kind).into(),
            max_gap_hours: *max_gap_hours,
            severity: (*severity).into(),
        }
    }
}

impl From<&CarePlan> for CarePlanRecord {
    fn from(p: &CarePlan) -> Self {
        let CarePlan {
            thresholds,
            rates,
            missing,
            news2,
            suppression_minutes,
            monitoring_start,
        } = p;
        Self {
            thresholds: thresholds.iter().map(ThresholdRecord::from).collect(),
            rates: rates.iter().map(RateRecord::from).collect(),
            missing: missing.iter().map(MissingRecord::from).collect(),
            news2: news2.as_ref().map(|n| {
                let News2Rule {
                    scale,
                    window_minutes,
                } = n;
                News2Record {
                    scale: (*scale).into(),
                    window_minutes: *window_minutes,
                }
            }),
            suppression_minutes: *suppression_minutes,
            monitoring_start: monitoring_start.as_ref().map(instant_text),
        }
    }
}

/// A line of the fee schedule.
#[derive(Serialize, Deserialize)]
pub struct FeeRecord {
    /// Procedure code.
    pub code: String,
    /// Price in cents.
    pub amount_minor: i64,
    /// Plain-words text.
    pub description: String,
}

/// `setup`: configure the clinic (the first command).
#[derive(Serialize, Deserialize)]
pub struct SetupRecord {
    /// The grid.
    pub grid: GridRecord,
    /// Providers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ProviderRecord>,
    /// Exam rooms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rooms: Vec<String>,
    /// Visit types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appointment_types: Vec<AppointmentTypeRecord>,
    /// The monitoring plan.
    pub care_plan: CarePlanRecord,
    /// The fee schedule; journals written before it was part of the set-up have none and
    /// read as [`crate::seed::legacy_fee_schedule`], the schedule they were priced with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees: Option<Vec<FeeRecord>>,
    /// The payer; journals written before it was part of the set-up have none and read as
    /// [`crate::seed::legacy_payer`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
}

impl TryFrom<SetupRecord> for SetupSpec {
    type Error = JournalError;
    fn try_from(r: SetupRecord) -> Result<Self, JournalError> {
        Ok(SetupSpec {
            grid: r.grid.try_into()?,
            providers: each(r.providers, |p| {
                Ok(ProviderSpec {
                    id: id(&p.id, "providers.id")?,
                    name: p.name,
                    skill: p.skill,
                    hours: p.hours,
                })
            })?,
            rooms: ids(&r.rooms, "rooms")?,
            appointment_types: r
                .appointment_types
                .into_iter()
                .map(AppointmentType::from)
                .collect(),
            care_plan: r.care_plan.try_into()?,
            fees: match r.fees {
                None => crate::seed::legacy_fee_schedule(),
                Some(fees) => fees
                    .into_iter()
                    .map(|f| FeeLine {
                        code: f.code,
                        amount_minor: f.amount_minor,
                        description: f.description,
                    })
                    .collect(),
            },
            payer: match r.payer {
                None => crate::seed::legacy_payer(),
                Some(p) => id(&p, "payer")?,
            },
        })
    }
}

impl From<&SetupSpec> for SetupRecord {
    fn from(s: &SetupSpec) -> Self {
        let SetupSpec {
            grid,
            providers,
            rooms,
            appointment_types,
            care_plan,
            fees,
            payer,
        } = s;
        Self {
            grid: grid.into(),
            providers: providers
                .iter()
                .map(|p| {
                    let ProviderSpec {
                        id,
                        name,
                        skill,
                        hours,
                    } = p;
                    ProviderRecord {
                        id: id_text(id),
                        name: name.clone(),
                        skill: skill.clone(),
                        hours: *hours,
                    }
                })
                .collect(),
            rooms: id_texts(rooms),
            appointment_types: appointment_types
                .iter()
                .map(AppointmentTypeRecord::from)
                .collect(),
            care_plan: care_plan.into(),
            fees: Some(
                fees.iter()
                    .map(|f| {
                        let FeeLine {
                            code,
                            amount_minor,
                            description,
                        } = f;
                        FeeRecord {
                            code: code.clone(),
                            amount_minor: *amount_minor,
                            description: description.clone(),
                        }
                    })
                    .collect(),
            ),
            payer: Some(id_text(payer)),
        }
    }
}
