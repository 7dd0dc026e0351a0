//! UCUM units and exact conversion to each kind's canonical unit.
//!
//! Factors are the exact published definitions: 1 `[lb_av]` = 0.45359237 kg, 1 `[in_i]` = 2.54 cm,
//! °C = (°F − 32) × 5/9, 1 kPa = 7.50062 mmHg. Glucose has no exact factor: mg/dL = mmol/L ×
//! [`GLUCOSE_MG_DL_PER_MMOL_L`] (18.0182) unless [`UnitConfig`] says otherwise.

use crate::kind::VitalKind;
use serde::{Deserialize, Serialize};

/// Pounds (avoirdupois) to kilograms, exact by definition.
pub const KG_PER_POUND: f64 = 0.453_592_37;
/// Inches (international) to centimetres, exact by definition.
pub const CM_PER_INCH: f64 = 2.54;
/// Kilopascals to millimetres of mercury.
pub const MM_HG_PER_KPA: f64 = 7.500_62;
/// Default glucose factor: mg/dL per mmol/L. The molar mass of glucose (180.156 g/mol) gives
/// 18.0156 and many meters use 18; the choice changes rounded output, so it is configurable
/// in [`UnitConfig::glucose_mg_dl_per_mmol_l`].
pub const GLUCOSE_MG_DL_PER_MMOL_L: f64 = 18.0182;

/// A unit of measure, named by its UCUM code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    /// `mm[Hg]`.
    MillimetreOfMercury,
    /// `kPa`.
    Kilopascal,
    /// `/min` (beats or breaths per minute).
    PerMinute,
    /// `%`.
    Percent,
    /// `Cel`.
    Celsius,
    /// `[degF]`.
    Fahrenheit,
    /// `kg`.
    Kilogram,
    /// `g`.
    Gram,
    /// `[lb_av]`.
    Pound,
    /// `cm`.
    Centimetre,
    /// `m`.
    Metre,
    /// `[in_i]`.
    Inch,
    /// `kg/m2`.
    KilogramPerSquareMetre,
    /// `mg/dL`.
    MilligramPerDecilitre,
    /// `mmol/L`.
    MillimolePerLitre,
}

impl Unit {
    /// Every unit, in a fixed order (the storage code is the index).
    pub const ALL: [Unit; 15] = [
        Unit::MillimetreOfMercury,
        Unit::Kilopascal,
        Unit::PerMinute,
        Unit::Percent,
        Unit::Celsius,
        Unit::Fahrenheit,
        Unit::Kilogram,
        Unit::Gram,
        Unit::Pound,
        Unit::Centimetre,
        Unit::Metre,
        Unit::Inch,
        Unit::KilogramPerSquareMetre,
        Unit::MilligramPerDecilitre,
        Unit::MillimolePerLitre,
    ];

    /// The UCUM code.
    pub const fn ucum(self) -> &'static str {
        match self {
            Unit::MillimetreOfMercury => "mm[Hg]",
            Unit::Kilopascal => "kPa",
            Unit::PerMinute => "/min",
            Unit::Percent => "%",
            Unit::Celsius => "Cel",
            Unit::Fahrenheit => "[degF]",
            Unit::Kilogram => "kg",
            Unit::Gram => "g",
            Unit::Pound => "[lb_av]",
            Unit::Centimetre => "cm",
            Unit::Metre => "m",
            Unit::Inch => "[in_i]",
            Unit::KilogramPerSquareMetre => "kg/m2",
            Unit::MilligramPerDecilitre => "mg/dL",
            Unit::MillimolePerLitre => "mmol/L",
        }
    }

    /// A short human unit for display and FHIR `Quantity.unit`.
    pub const fn human(self) -> &'static str {
        match self {
            Unit::MillimetreOfMercury => "mmHg",
            Unit::Kilopascal => "kPa",
            Unit::PerMinute => "/min",
            Unit::Percent => "%",
            Unit::Celsius => "°C",
            Unit::Fahrenheit => "°F",
            Unit::Kilogram => "kg",
            Unit::Gram => "g",
            Unit::Pound => "lb",
            Unit::Centimetre => "cm",
            Unit::Metre => "m",
            Unit::Inch => "in",
            Unit::KilogramPerSquareMetre => "kg/m2",
            Unit::MilligramPerDecilitre => "mg/dL",
            Unit::MillimolePerLitre => "mmol/L",
        }
    }

    /// The storage code (index in [`Unit::ALL`]).
    pub(crate) const fn code(self) -> u8 {
        self as u8
    }

    /// The unit with a storage code.
    pub(crate) fn from_code(code: u8) -> Option<Unit> {
        Unit::ALL.get(usize::from(code)).copied()
    }

    /// Parses a UCUM code or a common spelling seen in device exports (`mmHg`, `bpm`,
    /// `beats/min`, `lb`, `lbs`, `F`, `degF`, `in`, `kg/m^2`, `mg/dl`, …). Matching is exact
    /// on UCUM codes and case-insensitive on the common spellings.
    pub fn parse(text: &str) -> Option<Unit> {
        let exact = match text {
            "mm[Hg]" => Some(Unit::MillimetreOfMercury),
            "kPa" => Some(Unit::Kilopascal),
            "/min" => Some(Unit::PerMinute),
            "%" => Some(Unit::Percent),
            "Cel" => Some(Unit::Celsius),
            "[degF]" => Some(Unit::Fahrenheit),
            "kg" => Some(Unit::Kilogram),
            "g" => Some(Unit::Gram),
            "[lb_av]" => Some(Unit::Pound),
            "cm" => Some(Unit::Centimetre),
            "m" => Some(Unit::Metre),
            "[in_i]" => Some(Unit::Inch),
            "kg/m2" => Some(Unit::KilogramPerSquareMetre),
            "mg/dL" => Some(Unit::MilligramPerDecilitre),
            "mmol/L" => Some(Unit::MillimolePerLitre),
            _ => None,
        };
        if exact.is_some() {
            return exact;
        }
        let lower = text.trim().to_ascii_lowercase();
        Some(match lower.as_str() {
            "mmhg" | "mm hg" | "mm[hg]" => Unit::MillimetreOfMercury,
            "kpa" => Unit::Kilopascal,
            "bpm" | "beats/min" | "beats/minute" | "breaths/min" | "breaths/minute" | "/min"
            | "1/min" | "{beats}/min" | "{breaths}/min" => Unit::PerMinute,
            "%" | "percent" => Unit::Percent,
            "c" | "cel" | "°c" | "degc" => Unit::Celsius,
            "f" | "[degf]" | "°f" | "degf" => Unit::Fahrenheit,
            "kg" => Unit::Kilogram,
            "g" => Unit::Gram,
            "lb" | "lbs" | "[lb_av]" => Unit::Pound,
            "cm" => Unit::Centimetre,
            "m" => Unit::Metre,
            "in" | "[in_i]" | "[in_us]" => Unit::Inch,
            "kg/m2" | "kg/m^2" => Unit::KilogramPerSquareMetre,
            "mg/dl" => Unit::MilligramPerDecilitre,
            "mmol/l" => Unit::MillimolePerLitre,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.ucum())
    }
}

/// Unit-conversion settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UnitConfig {
    /// mg/dL per mmol/L for glucose; [`GLUCOSE_MG_DL_PER_MMOL_L`] by default.
    pub glucose_mg_dl_per_mmol_l: f64,
}

impl Default for UnitConfig {
    fn default() -> Self {
        Self {
            glucose_mg_dl_per_mmol_l: GLUCOSE_MG_DL_PER_MMOL_L,
        }
    }
}

impl UnitConfig {
    /// Converts `value` in `unit` to the canonical unit of `kind`; `None` when the unit is not
    /// allowed for the kind.
    pub fn to_canonical(&self, kind: VitalKind, value: f64, unit: Unit) -> Option<f64> {
        if !kind.allowed_units().contains(&unit) {
            return None;
        }
        Some(match unit {
            Unit::Kilopascal => value * MM_HG_PER_KPA,
            Unit::Fahrenheit => (value - 32.0) * 5.0 / 9.0,
            Unit::Gram => value / 1000.0,
            Unit::Pound => value * KG_PER_POUND,
            Unit::Metre => value * 100.0,
            Unit::Inch => value * CM_PER_INCH,
            Unit::MilligramPerDecilitre => value / self.glucose_mg_dl_per_mmol_l,
            Unit::MillimetreOfMercury
            | Unit::PerMinute
            | Unit::Percent
            | Unit::Celsius
            | Unit::Kilogram
            | Unit::Centimetre
            | Unit::KilogramPerSquareMetre
            | Unit::MillimolePerLitre => value,
        })
    }

    /// Converts a canonical value of `kind` into `unit`; `None` when the unit is not allowed.
    pub fn from_canonical(&self, kind: VitalKind, value: f64, unit: Unit) -> Option<f64> {
        if !kind.allowed_units().contains(&unit) {
            return None;
        }
        Some(match unit {
            Unit::Kilopascal => value / MM_HG_PER_KPA,
            Unit::Fahrenheit => value * 9.0 / 5.0 + 32.0,
            Unit::Gram => value * 1000.0,
            Unit::Pound => value / KG_PER_POUND,
            Unit::Metre => value / 100.0,
            Unit::Inch => value / CM_PER_INCH,
            Unit::MilligramPerDecilitre => value * self.glucose_mg_dl_per_mmol_l,
            Unit::MillimetreOfMercury
            | Unit::PerMinute
            | Unit::Percent
            | Unit::Celsius
            | Unit::Kilogram
            | Unit::Centimetre
            | Unit::KilogramPerSquareMetre
            | Unit::MillimolePerLitre => value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: VitalKind, value: f64, unit: &str, expected: f64) {
        let u = Unit::parse(unit).unwrap_or(Unit::Percent);
        let got = UnitConfig::default().to_canonical(kind, value, u);
        assert!(
            got.is_some_and(|g| (g - expected).abs() < 1e-9),
            "{kind} {value} {unit}: {got:?} != {expected}"
        );
    }

    #[test]
    fn exact_factors() {
        check(VitalKind::BodyTemperature, 98.6, "[degF]", 37.0);
        check(VitalKind::BodyTemperature, 212.0, "F", 100.0);
        check(VitalKind::BodyWeight, 1.0, "[lb_av]", 0.453_592_37);
        check(VitalKind::BodyWeight, 185.0, "lbs", 83.914_588_45);
        check(VitalKind::BodyWeight, 70_500.0, "g", 70.5);
        check(VitalKind::BodyHeight, 10.0, "[in_i]", 25.4);
        check(VitalKind::BodyHeight, 1.8, "m", 180.0);
        check(VitalKind::BloodPressure, 16.0, "kPa", 120.009_92);
        check(VitalKind::BloodGlucose, 180.182, "mg/dL", 10.0);
        check(VitalKind::BloodGlucose, 5.5, "mmol/L", 5.5);
    }

    #[test]
    fn configurable_glucose_factor() {
        let meter = UnitConfig {
            glucose_mg_dl_per_mmol_l: 18.0,
        };
        assert_eq!(
            meter.to_canonical(VitalKind::BloodGlucose, 90.0, Unit::MilligramPerDecilitre),
            Some(5.0)
        );
    }

    #[test]
    fn disallowed_units() {
        let c = UnitConfig::default();
        assert_eq!(
            c.to_canonical(VitalKind::HeartRate, 1.0, Unit::Kilogram),
            None
        );
        assert_eq!(c.from_canonical(VitalKind::Bmi, 1.0, Unit::Inch), None);
        assert_eq!(Unit::parse("mmH"), None);
        assert_eq!(Unit::parse("beat/min"), None);
        for u in Unit::ALL {
            assert_eq!(Unit::from_code(u.code()), Some(u));
            assert_eq!(Unit::parse(u.ucum()), Some(u));
        }
    }
}
