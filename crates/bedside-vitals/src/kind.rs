//! Reading kinds, their LOINC codes and the context that travels with some of them.

use crate::unit::Unit;
use serde::{Deserialize, Serialize};

/// What a reading measures. Each kind has one canonical unit ([`VitalKind::canonical_unit`]),
/// a primary LOINC code and the legacy LOINC codes accepted as aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VitalKind {
    /// Systolic/diastolic pair, optional mean arterial pressure; canonical mmHg.
    BloodPressure,
    /// Heart rate (pulse); canonical beats per minute.
    HeartRate,
    /// Respiratory rate; canonical breaths per minute.
    RespiratoryRate,
    /// Peripheral oxygen saturation; canonical percent.
    OxygenSaturation,
    /// Body temperature; canonical degrees Celsius.
    BodyTemperature,
    /// Body weight; canonical kilograms.
    BodyWeight,
    /// Body height; canonical centimetres.
    BodyHeight,
    /// Body mass index; canonical kg/m2 (reported or derived from weight and height).
    Bmi,
    /// Blood glucose; canonical mmol/L.
    BloodGlucose,
    /// Head circumference (occipital-frontal, infants); canonical centimetres.
    HeadCircumference,
    /// Mean arterial pressure reported on its own (LOINC 8478-0); canonical mmHg. Within a
    /// blood-pressure panel the same code is the panel's optional mean component.
    MeanArterialPressure,
}

/// The LOINC code of the vital-signs panel (a grouping, not a reading).
pub const LOINC_VITAL_SIGNS_PANEL: &str = "85353-1";
/// LOINC systolic blood pressure (a BP component).
pub const LOINC_SYSTOLIC: &str = "8480-6";
/// LOINC diastolic blood pressure (a BP component).
pub const LOINC_DIASTOLIC: &str = "8462-4";
/// LOINC mean blood pressure (an optional BP component).
pub const LOINC_MEAN_BP: &str = "8478-0";
/// LOINC glucose, mass/volume in blood (mg/dL); the primary glucose code is moles/volume.
pub const LOINC_GLUCOSE_MASS: &str = "2339-0";

impl VitalKind {
    /// The number of kinds.
    pub const COUNT: usize = 11;

    /// Every kind, in a fixed order (also the storage slot order).
    pub const ALL: [VitalKind; VitalKind::COUNT] = [
        VitalKind::BloodPressure,
        VitalKind::HeartRate,
        VitalKind::RespiratoryRate,
        VitalKind::OxygenSaturation,
        VitalKind::BodyTemperature,
        VitalKind::BodyWeight,
        VitalKind::BodyHeight,
        VitalKind::Bmi,
        VitalKind::BloodGlucose,
        VitalKind::HeadCircumference,
        VitalKind::MeanArterialPressure,
    ];

    /// The slot index of this kind in [`VitalKind::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The snake_case name used in the NDJSON and CSV schemas (`heart_rate`).
    pub const fn as_str(self) -> &'static str {
        match self {
            VitalKind::BloodPressure => "blood_pressure",
            VitalKind::HeartRate => "heart_rate",
            VitalKind::RespiratoryRate => "respiratory_rate",
            VitalKind::OxygenSaturation => "oxygen_saturation",
            VitalKind::BodyTemperature => "body_temperature",
            VitalKind::BodyWeight => "body_weight",
            VitalKind::BodyHeight => "body_height",
            VitalKind::Bmi => "bmi",
            VitalKind::BloodGlucose => "blood_glucose",
            VitalKind::HeadCircumference => "head_circumference",
            VitalKind::MeanArterialPressure => "mean_arterial_pressure",
        }
    }

    /// The LOINC code used when exporting (FHIR R4 vital-signs profile).
    pub const fn loinc(self) -> &'static str {
        match self {
            VitalKind::BloodPressure => "85354-9",
            VitalKind::HeartRate => "8867-4",
            VitalKind::RespiratoryRate => "9279-1",
            VitalKind::OxygenSaturation => "2708-6",
            VitalKind::BodyTemperature => "8310-5",
            VitalKind::BodyWeight => "29463-7",
            VitalKind::BodyHeight => "8302-2",
            VitalKind::Bmi => "39156-5",
            VitalKind::BloodGlucose => "15074-8",
            VitalKind::HeadCircumference => "9843-4",
            VitalKind::MeanArterialPressure => LOINC_MEAN_BP,
        }
    }

    /// Whether this kind is a vital sign in the FHIR sense (the R4 vital-signs profiles and
    /// the `vital-signs` observation category). Blood glucose is a laboratory result: it is
    /// exported without that category and profile.
    pub const fn is_vital_sign(self) -> bool {
        !matches!(self, VitalKind::BloodGlucose)
    }

    /// The human-readable LOINC display used on export.
    pub const fn display(self) -> &'static str {
        match self {
            VitalKind::BloodPressure => "Blood pressure panel with all children optional",
            VitalKind::HeartRate => "Heart rate",
            VitalKind::RespiratoryRate => "Respiratory rate",
            VitalKind::OxygenSaturation => "Oxygen saturation in Arterial blood",
            VitalKind::BodyTemperature => "Body temperature",
            VitalKind::BodyWeight => "Body weight",
            VitalKind::BodyHeight => "Body height",
            VitalKind::Bmi => "Body mass index (BMI) [Ratio]",
            VitalKind::BloodGlucose => "Glucose [Moles/volume] in Blood",
            VitalKind::HeadCircumference => "Head Occipital-frontal circumference",
            VitalKind::MeanArterialPressure => "Mean blood pressure",
        }
    }

    /// Every LOINC code accepted for this kind: the primary code first, then legacy aliases
    /// seen in real data (BP panel 55284-4, oral temperature 8331-1, pulse oximetry 59408-5,
    /// glucose mass/volume 2339-0).
    /// Head circumference also accepts 8287-5 (by tape measure).
    pub const fn loinc_codes(self) -> &'static [&'static str] {
        match self {
            VitalKind::BloodPressure => &["85354-9", "55284-4"],
            VitalKind::HeartRate => &["8867-4"],
            VitalKind::RespiratoryRate => &["9279-1"],
            VitalKind::OxygenSaturation => &["2708-6", "59408-5"],
            VitalKind::BodyTemperature => &["8310-5", "8331-1"],
            VitalKind::BodyWeight => &["29463-7"],
            VitalKind::BodyHeight => &["8302-2"],
            VitalKind::Bmi => &["39156-5"],
            VitalKind::BloodGlucose => &["15074-8", LOINC_GLUCOSE_MASS],
            VitalKind::HeadCircumference => &["9843-4", "8287-5"],
            VitalKind::MeanArterialPressure => &[LOINC_MEAN_BP],
        }
    }

    /// The kind a LOINC code (primary or alias) stands for.
    pub fn from_loinc(code: &str) -> Option<VitalKind> {
        VitalKind::ALL
            .into_iter()
            .find(|k| k.loinc_codes().contains(&code))
    }

    /// Parses the snake_case name, or any accepted LOINC code.
    pub fn parse(text: &str) -> Option<VitalKind> {
        Some(match text {
            "blood_pressure" => VitalKind::BloodPressure,
            "heart_rate" => VitalKind::HeartRate,
            "respiratory_rate" => VitalKind::RespiratoryRate,
            "oxygen_saturation" => VitalKind::OxygenSaturation,
            "body_temperature" => VitalKind::BodyTemperature,
            "body_weight" => VitalKind::BodyWeight,
            "body_height" => VitalKind::BodyHeight,
            "bmi" => VitalKind::Bmi,
            "blood_glucose" => VitalKind::BloodGlucose,
            "head_circumference" => VitalKind::HeadCircumference,
            "mean_arterial_pressure" => VitalKind::MeanArterialPressure,
            _ => return VitalKind::from_loinc(text),
        })
    }

    /// The one unit values of this kind are stored in.
    pub const fn canonical_unit(self) -> Unit {
        match self {
            VitalKind::BloodPressure | VitalKind::MeanArterialPressure => Unit::MillimetreOfMercury,
            VitalKind::HeartRate | VitalKind::RespiratoryRate => Unit::PerMinute,
            VitalKind::OxygenSaturation => Unit::Percent,
            VitalKind::BodyTemperature => Unit::Celsius,
            VitalKind::BodyWeight => Unit::Kilogram,
            VitalKind::BodyHeight | VitalKind::HeadCircumference => Unit::Centimetre,
            VitalKind::Bmi => Unit::KilogramPerSquareMetre,
            VitalKind::BloodGlucose => Unit::MillimolePerLitre,
        }
    }

    /// The units accepted for this kind (UCUM), the canonical one first.
    pub const fn allowed_units(self) -> &'static [Unit] {
        match self {
            VitalKind::BloodPressure | VitalKind::MeanArterialPressure => {
                &[Unit::MillimetreOfMercury, Unit::Kilopascal]
            }
            VitalKind::HeartRate | VitalKind::RespiratoryRate => &[Unit::PerMinute],
            VitalKind::OxygenSaturation => &[Unit::Percent],
            VitalKind::BodyTemperature => &[Unit::Celsius, Unit::Fahrenheit],
            VitalKind::BodyWeight => &[Unit::Kilogram, Unit::Gram, Unit::Pound],
            VitalKind::BodyHeight => &[Unit::Centimetre, Unit::Inch, Unit::Metre],
            VitalKind::Bmi => &[Unit::KilogramPerSquareMetre],
            VitalKind::BloodGlucose => &[Unit::MillimolePerLitre, Unit::MilligramPerDecilitre],
            VitalKind::HeadCircumference => &[Unit::Centimetre, Unit::Inch],
        }
    }

    /// Physiologically possible range in the canonical unit, inclusive. A value outside is
    /// impossible (a device or typing error) and the reading is rejected; a value inside but
    /// clinically worrying is accepted and left to the alert rules. For blood pressure this
    /// is the systolic range; see [`DIASTOLIC_RANGE_MM_HG`] (a partial reading with only a
    /// diastolic value is checked against that range alone).
    pub const fn plausible_range(self) -> (f64, f64) {
        match self {
            VitalKind::BloodPressure => (40.0, 300.0),
            VitalKind::HeartRate => (20.0, 300.0),
            VitalKind::RespiratoryRate => (2.0, 80.0),
            VitalKind::OxygenSaturation => (40.0, 100.0),
            VitalKind::BodyTemperature => (25.0, 45.0),
            VitalKind::BodyWeight => (0.5, 500.0),
            VitalKind::BodyHeight => (20.0, 280.0),
            VitalKind::Bmi => (5.0, 150.0),
            VitalKind::BloodGlucose => (0.5, 60.0),
            // Preterm newborns start near 20 cm; adult heads stay under 70 cm.
            VitalKind::HeadCircumference => (15.0, 75.0),
            VitalKind::MeanArterialPressure => (25.0, 250.0),
        }
    }
}

/// Physiologically possible diastolic pressure in mmHg, inclusive.
pub const DIASTOLIC_RANGE_MM_HG: (f64, f64) = (20.0, 200.0);

impl std::fmt::Display for VitalKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Body position during a blood-pressure measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyPosition {
    /// Sitting.
    Sitting,
    /// Standing.
    Standing,
    /// Lying down (supine or semi-recumbent).
    Lying,
}

/// Where a body temperature was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemperatureSite {
    /// Oral.
    Oral,
    /// Axillary (armpit).
    Axillary,
    /// Tympanic (ear).
    Tympanic,
    /// Rectal.
    Rectal,
    /// Temporal artery / forehead.
    Temporal,
    /// Any other site.
    Other,
}

/// How a glucose measurement relates to meals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MealContext {
    /// Fasting.
    Fasting,
    /// Before a meal.
    BeforeMeal,
    /// After a meal.
    AfterMeal,
    /// No relation recorded (random).
    Random,
}

/// Kind-specific detail carried by a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ReadingContext {
    /// No detail.
    #[default]
    None,
    /// Blood-pressure position.
    Position {
        /// The position.
        position: BodyPosition,
    },
    /// Temperature site.
    Site {
        /// The site.
        site: TemperatureSite,
    },
    /// Glucose meal context.
    Meal {
        /// The meal relation.
        meal: MealContext,
    },
    /// Whether the patient was on supplemental oxygen during an SpO2 reading.
    Oxygen {
        /// `true` on supplemental oxygen, `false` on room air.
        on_oxygen: bool,
    },
}

impl ReadingContext {
    /// Packs into one byte for compact storage (see [`ReadingContext::unpack`]).
    pub(crate) fn pack(self) -> u8 {
        match self {
            ReadingContext::None => 0,
            ReadingContext::Position { position } => 0x10 | position as u8,
            ReadingContext::Site { site } => 0x20 | site as u8,
            ReadingContext::Meal { meal } => 0x30 | meal as u8,
            ReadingContext::Oxygen { on_oxygen } => 0x40 | u8::from(on_oxygen),
        }
    }

    /// Unpacks a byte made by [`ReadingContext::pack`]; unknown bytes give `None`.
    pub(crate) fn unpack(byte: u8) -> ReadingContext {
        let low = byte & 0x0f;
        match byte >> 4 {
            1 => [
                BodyPosition::Sitting,
                BodyPosition::Standing,
                BodyPosition::Lying,
            ]
            .get(usize::from(low))
            .map_or(ReadingContext::None, |&position| ReadingContext::Position {
                position,
            }),
            2 => [
                TemperatureSite::Oral,
                TemperatureSite::Axillary,
                TemperatureSite::Tympanic,
                TemperatureSite::Rectal,
                TemperatureSite::Temporal,
                TemperatureSite::Other,
            ]
            .get(usize::from(low))
            .map_or(ReadingContext::None, |&site| ReadingContext::Site { site }),
            3 => [
                MealContext::Fasting,
                MealContext::BeforeMeal,
                MealContext::AfterMeal,
                MealContext::Random,
            ]
            .get(usize::from(low))
            .map_or(ReadingContext::None, |&meal| ReadingContext::Meal { meal }),
            4 => ReadingContext::Oxygen {
                on_oxygen: low == 1,
            },
            _ => ReadingContext::None,
        }
    }
}

/// Parses a blood-pressure position word.
pub fn parse_position(text: &str) -> Option<BodyPosition> {
    match text {
        "sitting" => Some(BodyPosition::Sitting),
        "standing" => Some(BodyPosition::Standing),
        "lying" | "lying down" | "supine" | "semi-recumbent" => Some(BodyPosition::Lying),
        _ => None,
    }
}

/// Parses a temperature site word.
pub fn parse_site(text: &str) -> Option<TemperatureSite> {
    match text {
        "oral" => Some(TemperatureSite::Oral),
        "axillary" => Some(TemperatureSite::Axillary),
        "tympanic" | "otic" => Some(TemperatureSite::Tympanic),
        "rectal" => Some(TemperatureSite::Rectal),
        "temporal" | "temporal artery" | "forehead" => Some(TemperatureSite::Temporal),
        "other" => Some(TemperatureSite::Other),
        _ => None,
    }
}

/// Parses a meal-context word.
pub fn parse_meal(text: &str) -> Option<MealContext> {
    match text {
        "fasting" => Some(MealContext::Fasting),
        "before_meal" | "before meal" | "before breakfast" | "before lunch" | "before dinner" => {
            Some(MealContext::BeforeMeal)
        }
        "after_meal"
        | "after meal"
        | "after breakfast"
        | "after lunch"
        | "after dinner"
        | "2 hours postprandial" => Some(MealContext::AfterMeal),
        "random" | "not fasting" | "with meal" | "with food" => Some(MealContext::Random),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_loinc_aliases() {
        assert_eq!(
            VitalKind::from_loinc("55284-4"),
            Some(VitalKind::BloodPressure)
        );
        assert_eq!(
            VitalKind::from_loinc("85354-9"),
            Some(VitalKind::BloodPressure)
        );
        assert_eq!(
            VitalKind::from_loinc("8331-1"),
            Some(VitalKind::BodyTemperature)
        );
        assert_eq!(
            VitalKind::from_loinc("8310-5"),
            Some(VitalKind::BodyTemperature)
        );
        assert_eq!(VitalKind::from_loinc("72514-3"), None);
        assert_eq!(VitalKind::parse("heart_rate"), Some(VitalKind::HeartRate));
    }

    #[test]
    fn context_packs_round_trip() {
        let all = [
            ReadingContext::None,
            ReadingContext::Position {
                position: BodyPosition::Lying,
            },
            ReadingContext::Site {
                site: TemperatureSite::Other,
            },
            ReadingContext::Meal {
                meal: MealContext::Random,
            },
            ReadingContext::Oxygen { on_oxygen: true },
            ReadingContext::Oxygen { on_oxygen: false },
        ];
        for c in all {
            assert_eq!(ReadingContext::unpack(c.pack()), c);
        }
        for k in VitalKind::ALL {
            assert_eq!(VitalKind::ALL[k.index()], k);
            assert_eq!(k.allowed_units()[0], k.canonical_unit());
        }
    }
}
