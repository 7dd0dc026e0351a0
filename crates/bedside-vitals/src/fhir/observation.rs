//! The one Observation model of `bedside-vitals`: what vitals understands of an R4
//! `Observation` (status, category, code, subject, effective\[x\], valueQuantity,
//! dataAbsentReason, device, component), with everything else kept verbatim in
//! [`Unmodelled`] so that export of an imported Observation loses nothing.
//!
//! Ingestion ([`super::ingest`]) reads each vitals record through this model and turns it
//! into a reading (units converted, duplicates dropped); [`Observation::from_reading`] goes
//! the other way and always writes valid R4.

use crate::kind::{LOINC_DIASTOLIC, LOINC_MEAN_BP, LOINC_SYSTOLIC, VitalKind};
use crate::reading::{EffectivePrecision, Reading, ReadingValue, Source};
use crate::unit::Unit;
use bedside_core::code::system;
use bedside_core::{CodeableConcept, Coding};
use bedside_fhir::codes::{from_code, to_code};
use bedside_fhir::{
    Decimal, ElementPath, FhirDateTime, FhirError, Imported, Meta, Period, Quantity, Reader,
    Reference, Unmodelled, Writer,
};
use serde_json::{Map, Value};

/// The observation-category code system.
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// The base vital-signs profile.
pub const VITAL_SIGNS_PROFILE: &str = "http://hl7.org/fhir/StructureDefinition/vitalsigns";
/// The blood-pressure vital-signs profile.
pub const BP_PROFILE: &str = "http://hl7.org/fhir/StructureDefinition/bp";
/// The data-absent-reason code system.
pub const DATA_ABSENT_REASON: &str = "http://terminology.hl7.org/CodeSystem/data-absent-reason";

/// `Observation.status` (a required binding: every R4 code, nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObservationStatus {
    /// `registered`.
    Registered,
    /// `preliminary`.
    Preliminary,
    /// `final`.
    Final,
    /// `amended`.
    Amended,
    /// `corrected`.
    Corrected,
    /// `cancelled`.
    Cancelled,
    /// `entered-in-error`.
    EnteredInError,
    /// `unknown`.
    Unknown,
}

const STATUS: &[(ObservationStatus, &str)] = &[
    (ObservationStatus::Registered, "registered"),
    (ObservationStatus::Preliminary, "preliminary"),
    (ObservationStatus::Final, "final"),
    (ObservationStatus::Amended, "amended"),
    (ObservationStatus::Corrected, "corrected"),
    (ObservationStatus::Cancelled, "cancelled"),
    (ObservationStatus::EnteredInError, "entered-in-error"),
    (ObservationStatus::Unknown, "unknown"),
];

impl ObservationStatus {
    /// The FHIR code.
    pub fn code(self) -> &'static str {
        to_code(STATUS, &self)
    }

    /// The status with a FHIR code.
    pub fn parse(code: &str) -> Option<Self> {
        from_code(STATUS, code)
    }

    /// Whether the result is complete (`final`, `amended`, `corrected`): only those become
    /// readings.
    pub fn is_result(self) -> bool {
        matches!(
            self,
            ObservationStatus::Final | ObservationStatus::Amended | ObservationStatus::Corrected
        )
    }
}

/// `Observation.effective[x]` in the forms vitals reads (`effectiveTiming` stays unmodelled).
#[derive(Debug, Clone, PartialEq)]
pub enum Effective {
    /// `effectiveDateTime`, with its precision (a date stays a date).
    DateTime(FhirDateTime),
    /// `effectiveInstant`.
    Timestamp(FhirDateTime),
    /// `effectivePeriod`.
    Period(Period),
}

impl Effective {
    /// The text of the instant a reading takes: the dateTime, the instant, or the period's
    /// start.
    pub fn reading_time(&self) -> Option<&FhirDateTime> {
        match self {
            Effective::DateTime(d) | Effective::Timestamp(d) => Some(d),
            Effective::Period(p) => p.start.as_ref(),
        }
    }
}

/// A value as vitals reads it: its number and unit (a UCUM code, or the unit text when the
/// code is not UCUM).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// The number, as written.
    pub value: f64,
    /// The unit, when it is one vitals knows.
    pub unit: Option<Unit>,
}

/// An `Observation.component`: its code, value or data-absent reason; the rest kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    code: Option<CodeableConcept>,
    loinc: Vec<String>,
    value: Option<Quantity>,
    data_absent_reason: Option<CodeableConcept>,
    unmodelled: Unmodelled,
}

impl Component {
    /// Whether a LOINC coding of the code is `code`.
    pub fn has_loinc(&self, code: &str) -> bool {
        self.loinc.iter().any(|c| c == code)
    }

    /// The `valueQuantity`, when there is one.
    pub fn value(&self) -> Option<&Quantity> {
        self.value.as_ref()
    }

    /// The value's number and unit as vitals reads them.
    pub fn measured(&self) -> Option<Measured> {
        self.value.as_ref().and_then(measured)
    }

    /// Whether the component says why it has no value.
    pub fn is_absent(&self) -> bool {
        self.data_absent_reason.is_some()
            || self.unmodelled.expose().contains_key("dataAbsentReason")
    }

    fn read(mut r: Reader<'_>) -> Result<Self, FhirError> {
        let loinc = loinc_codes(r.peek("code"));
        if !r.has("code") {
            return Err(FhirError::missing(&r.child_path("code")));
        }
        check_quantity(&r, "valueQuantity")?;
        Ok(Self {
            code: r.concept("code"),
            loinc,
            value: r.quantity("valueQuantity"),
            data_absent_reason: r.concept("dataAbsentReason"),
            unmodelled: r.finish(),
        })
    }

    fn to_json(&self) -> Value {
        let mut w = Writer::new();
        w.concept("code", self.code.as_ref());
        w.quantity("valueQuantity", self.value.as_ref());
        w.concept("dataAbsentReason", self.data_absent_reason.as_ref());
        w.finish(&self.unmodelled)
    }
}

/// What `bedside-vitals` models of an R4 `Observation`. Fields are private so that every
/// state is one an import or [`Observation::from_reading`] made: export is always valid R4
/// (for imports, as valid as the input).
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    meta: Option<Meta>,
    status: ObservationStatus,
    category: Vec<CodeableConcept>,
    vital_signs: bool,
    code: Option<CodeableConcept>,
    loinc: Vec<String>,
    subject: Option<Reference>,
    effective: Option<Effective>,
    value: Option<Quantity>,
    data_absent_reason: Option<CodeableConcept>,
    device: Option<Reference>,
    component: Vec<Component>,
    unmodelled: Unmodelled,
}

/// The LOINC codes of a `CodeableConcept` in JSON, whatever else its codings carry.
fn loinc_codes(concept: Option<&Value>) -> Vec<String> {
    concept
        .and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("system").and_then(Value::as_str) == Some(system::LOINC))
        .filter_map(|c| c.get("code").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

/// Whether a `category` array in JSON holds the `vital-signs` category.
pub(crate) fn has_vital_signs_category(category: Option<&Value>) -> bool {
    category
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("coding").and_then(Value::as_array))
        .flatten()
        .any(|c| {
            c.get("code").and_then(Value::as_str) == Some("vital-signs")
                && c.get("system").and_then(Value::as_str) == Some(OBSERVATION_CATEGORY)
        })
}

/// The kind a JSON `code` names (any accepted LOINC code).
pub(crate) fn kind_of(code: Option<&Value>) -> Option<VitalKind> {
    code.and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("system").and_then(Value::as_str) == Some(system::LOINC))
        .filter_map(|c| c.get("code").and_then(Value::as_str))
        .find_map(VitalKind::from_loinc)
}

/// A `Quantity` element vitals reads must be an object whose `value`, when present, is a
/// number: anything else is refused rather than silently kept, since the value is the
/// measurement.
fn check_quantity(r: &Reader<'_>, key: &str) -> Result<(), FhirError> {
    let Some(q) = r.peek(key) else {
        return Ok(());
    };
    let Some(q) = q.as_object() else {
        return Err(FhirError::wrong_type(&r.child_path(key), "an object"));
    };
    let path = r.child_path(key).child("value");
    match q.get("value") {
        None => Ok(()),
        Some(Value::Number(n)) if Decimal::from_number(n).is_some() => Ok(()),
        Some(Value::Number(_)) => Err(FhirError::invalid(&path, "a FHIR decimal")),
        Some(_) => Err(FhirError::wrong_type(&path, "a number")),
    }
}

/// A quantity's number and unit as vitals reads them.
pub(crate) fn measured(q: &Quantity) -> Option<Measured> {
    let value = q.value.as_ref()?.to_f64()?;
    let ucum = q
        .code
        .as_deref()
        .filter(|_| q.system.as_deref().is_none_or(|s| s == system::UCUM));
    let unit = ucum.or(q.unit.as_deref()).and_then(Unit::parse);
    Some(Measured { value, unit })
}

impl Observation {
    /// Reads an Observation object. Elements vitals does not model, and modelled ones that
    /// are not represented exactly (a coding with a `version`, say), stay in the
    /// unmodelled rest; their paths are collected in `notes`.
    ///
    /// # Errors
    /// A [`FhirError`] (path and expectation, never input text) when an element vitals
    /// cannot do without is invalid: `status` missing or not an R4 status, `code` missing,
    /// `effective[x]` not a FHIR date/dateTime/instant, a `valueQuantity.value` that is not a
    /// number, a `component` without `code`.
    pub fn read(map: Map<String, Value>, notes: &mut Vec<ElementPath>) -> Result<Self, FhirError> {
        let mut r = Reader::new(map, ElementPath::root("Observation"), notes);
        if r.peek("resourceType").and_then(Value::as_str) != Some("Observation") {
            return Err(FhirError::new(
                r.child_path("resourceType"),
                bedside_fhir::Problem::WrongResourceType {
                    expected: "Observation",
                },
            ));
        }
        let _ = r.take("resourceType");
        let status =
            r.require_parsed("status", "an observation status", ObservationStatus::parse)?;
        if !r.has("code") {
            return Err(FhirError::missing(&r.child_path("code")));
        }
        let loinc = loinc_codes(r.peek("code"));
        let vital_signs = has_vital_signs_category(r.peek("category"));
        let effective = if let Some(d) = r.try_date_time("effectiveDateTime")? {
            Some(Effective::DateTime(d))
        } else if let Some(d) = r.try_parsed(
            "effectiveInstant",
            "a FHIR instant",
            FhirDateTime::parse_instant,
        )? {
            Some(Effective::Timestamp(d))
        } else {
            match r.peek("effectivePeriod") {
                Some(p) if !p.is_object() => {
                    return Err(FhirError::wrong_type(
                        &r.child_path("effectivePeriod"),
                        "an object",
                    ));
                }
                _ => r.period("effectivePeriod").map(Effective::Period),
            }
        };
        check_quantity(&r, "valueQuantity")?;
        let component = r.try_objects("component", Component::read)?;
        Ok(Self {
            meta: r.meta("meta"),
            status,
            category: r.concepts("category"),
            vital_signs,
            code: r.concept("code"),
            loinc,
            subject: r.reference("subject"),
            effective,
            value: r.quantity("valueQuantity"),
            data_absent_reason: r.concept("dataAbsentReason"),
            device: r.reference("device"),
            component,
            unmodelled: r.finish(),
        })
    }

    /// The vital-signs Observation of a reading: status `final`; the `vital-signs` category
    /// and profile only for vital signs ([`VitalKind::is_vital_sign`]; glucose has neither);
    /// the kind's primary LOINC code; `subject`; `effectiveDateTime` (a date when the
    /// reading is known only to the day); the value in the kind's canonical UCUM unit, blood
    /// pressure as systolic/diastolic/mean components (an absent one with a
    /// `dataAbsentReason`); the device when the source is one.
    pub fn from_reading(reading: &Reading, subject: Reference) -> Self {
        let kind = reading.kind;
        let unit = kind.canonical_unit();
        let loinc = |code: &str, display: &str| CodeableConcept {
            coding: vec![Coding::new(system::LOINC, code).with_display(display)],
            text: None,
        };
        let absent = || CodeableConcept {
            coding: vec![Coding::new(DATA_ABSENT_REASON, "unknown").with_display("Unknown")],
            text: None,
        };
        let component = |code: &str, display: &str, v: Option<f64>| {
            let value = v.and_then(|v| quantity(v, unit));
            Component {
                code: Some(loinc(code, display)),
                loinc: vec![code.to_owned()],
                data_absent_reason: value.is_none().then(absent),
                value,
                unmodelled: Unmodelled::default(),
            }
        };
        let (value, components) = match reading.value {
            ReadingValue::Single { value } => (quantity(value, unit), Vec::new()),
            ReadingValue::BloodPressure {
                systolic,
                diastolic,
                mean,
            } => {
                let mut c = vec![
                    component(LOINC_SYSTOLIC, "Systolic blood pressure", systolic),
                    component(LOINC_DIASTOLIC, "Diastolic blood pressure", diastolic),
                ];
                if let Some(m) = mean.filter(|m| m.is_finite()) {
                    c.push(component(LOINC_MEAN_BP, "Mean blood pressure", Some(m)));
                }
                (None, c)
            }
        };
        let single = matches!(reading.value, ReadingValue::Single { .. });
        let data_absent_reason = (single && value.is_none()).then(|| CodeableConcept {
            coding: vec![
                Coding::new(DATA_ABSENT_REASON, "not-a-number").with_display("Not a Number (NaN)"),
            ],
            text: None,
        });
        let vital = kind.is_vital_sign();
        let meta = vital.then(|| Meta {
            profile: vec![if kind == VitalKind::BloodPressure {
                BP_PROFILE.to_owned()
            } else {
                VITAL_SIGNS_PROFILE.to_owned()
            }],
            ..Meta::default()
        });
        // A glucose meter reading is neither a vital sign nor a laboratory result: no
        // category is claimed.
        let category = if vital {
            vec![CodeableConcept {
                coding: vec![
                    Coding::new(OBSERVATION_CATEGORY, "vital-signs").with_display("Vital Signs"),
                ],
                text: None,
            }]
        } else {
            Vec::new()
        };
        let effective = match reading.effective_precision {
            EffectivePrecision::Date => FhirDateTime::from_date(reading.effective.date_naive()),
            // The offset the reading was reported in is kept.
            EffectivePrecision::Timestamp => FhirDateTime::parse(&reading.effective.to_rfc3339())
                .unwrap_or_else(|| FhirDateTime::from_instant(reading.effective.to_utc())),
        };
        let device = match &reading.source {
            Source::Device { id, .. } => Some(Reference::relative("Device", id)),
            _ => None,
        };
        Self {
            meta,
            status: ObservationStatus::Final,
            category,
            vital_signs: vital,
            code: Some(loinc(kind.loinc(), kind.display())),
            loinc: vec![kind.loinc().to_owned()],
            subject: Some(subject),
            effective: Some(Effective::DateTime(effective)),
            value,
            data_absent_reason,
            device,
            component: components,
            unmodelled: Unmodelled::default(),
        }
    }

    /// The JSON resource: modelled elements, then the unmodelled rest merged back.
    pub fn to_json(&self) -> Value {
        let mut w = Writer::resource("Observation");
        w.meta("meta", self.meta.as_ref());
        w.str("status", Some(self.status.code()));
        w.concepts("category", &self.category);
        w.concept("code", self.code.as_ref());
        w.reference("subject", self.subject.as_ref());
        match &self.effective {
            Some(Effective::DateTime(d)) => w.date_time("effectiveDateTime", Some(d)),
            Some(Effective::Timestamp(d)) => w.date_time("effectiveInstant", Some(d)),
            Some(Effective::Period(p)) => w.period("effectivePeriod", Some(p)),
            None => {}
        }
        w.quantity("valueQuantity", self.value.as_ref());
        w.concept("dataAbsentReason", self.data_absent_reason.as_ref());
        w.reference("device", self.device.as_ref());
        w.list(
            "component",
            self.component.iter().map(Component::to_json).collect(),
        );
        w.finish(&self.unmodelled)
    }

    /// The status.
    pub fn status(&self) -> ObservationStatus {
        self.status
    }

    /// The kind the code names (any accepted LOINC code, legacy aliases included), or `None`
    /// for an Observation vitals does not ingest.
    pub fn kind(&self) -> Option<VitalKind> {
        self.loinc.iter().find_map(|c| VitalKind::from_loinc(c))
    }

    /// Whether a LOINC coding of the code is `code`.
    pub fn has_loinc(&self, code: &str) -> bool {
        self.loinc.iter().any(|c| c == code)
    }

    /// Whether the category holds `vital-signs`.
    pub fn is_vital_signs(&self) -> bool {
        self.vital_signs
    }

    /// The subject.
    pub fn subject(&self) -> Option<&Reference> {
        self.subject.as_ref()
    }

    /// `effective[x]`.
    pub fn effective(&self) -> Option<&Effective> {
        self.effective.as_ref()
    }

    /// The `valueQuantity`.
    pub fn value(&self) -> Option<&Quantity> {
        self.value.as_ref()
    }

    /// The value's number and unit as vitals reads them (before unit conversion).
    pub fn measured(&self) -> Option<Measured> {
        self.value.as_ref().and_then(measured)
    }

    /// Whether the Observation says why it has no value.
    pub fn is_absent(&self) -> bool {
        self.data_absent_reason.is_some()
            || self.unmodelled.expose().contains_key("dataAbsentReason")
    }

    /// The device.
    pub fn device(&self) -> Option<&Reference> {
        self.device.as_ref()
    }

    /// The components.
    pub fn components(&self) -> &[Component] {
        &self.component
    }

    /// The first component with LOINC code `code`.
    pub fn component(&self, code: &str) -> Option<&Component> {
        self.component.iter().find(|c| c.has_loinc(code))
    }

    /// The elements kept verbatim.
    pub fn unmodelled(&self) -> &Unmodelled {
        &self.unmodelled
    }
}

/// A canonical value as an exported quantity, rounded to 6 decimals so 176.4 lb does not
/// print as 80.01390546799999; `None` for a value that is not a number.
fn quantity(v: f64, unit: Unit) -> Option<Quantity> {
    if !v.is_finite() {
        return None;
    }
    let r = (v * 1e6).round() / 1e6;
    let value = Decimal::parse(&format!("{r}"))?;
    Some(Quantity::ucum(value, unit.ucum(), unit.human()))
}

/// Imports one Observation losslessly: [`Observation::read`] of a JSON value, within
/// [`bedside_fhir::Limits::default`].
///
/// # Errors
/// As [`Observation::read`], plus the limits' errors and
/// [`bedside_fhir::Problem::WrongType`] when the value is not an object.
pub fn import_observation(resource: &Value) -> Result<Imported<Observation>, FhirError> {
    bedside_fhir::Limits::default().check(resource)?;
    let Value::Object(map) = resource else {
        return Err(FhirError::wrong_type(&ElementPath::default(), "an object"));
    };
    let mut notes = Vec::new();
    let value = Observation::read(map.clone(), &mut notes)?;
    Ok(Imported {
        value,
        unmodelled: notes,
    })
}
