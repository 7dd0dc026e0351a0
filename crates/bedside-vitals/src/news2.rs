//! NEWS2, the National Early Warning Score 2.
//!
//! Implements the scoring logic of the **Royal College of Physicians, National Early Warning
//! Score (NEWS) 2: Standardising the assessment of acute-illness severity in the NHS, updated
//! report of a working party, London: RCP, 2017**. NEWS2 is © Royal College of Physicians;
//! this module implements its published logic and does not reproduce the chart. NEWS2 is not
//! validated for patients under 16 or in pregnancy.
//!
//! Rules, exactly as the chart gives them:
//! - Respiration rate, SpO2, systolic BP and pulse are scored on whole numbers (a fractional
//!   input is rounded half away from zero first); temperature is scored to one decimal place
//!   (35.0 scores 3, 35.1 scores 1), again rounding half away from zero.
//! - SpO2 scale 1 by default; scale 2 only for patients with a prescribed 88–92% target
//!   (hypercapnic respiratory failure). On scale 2, 93% or more scores 0 on air and 1–3 on
//!   oxygen, so an unknown air/oxygen status leaves SpO2 unscored at those values.
//! - Supplemental oxygen adds 2 on either scale.
//! - A parameter that is not measured is **missing**: the score is then explicitly partial
//!   ([`News2Score::complete`] is false) and totals only what was measured — never a silent 0.
//! - Bands: 0–4 low, except a 3 in any single parameter (the "red score") which is
//!   low–medium; 5–6 medium; 7 or more high.

use serde::{Deserialize, Serialize};

/// Which SpO2 scale applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpO2Scale {
    /// The default scale.
    #[default]
    Scale1,
    /// For a prescribed 88–92% target (hypercapnic respiratory failure).
    Scale2,
}

/// Level of consciousness on the ACVPU scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consciousness {
    /// Alert.
    Alert,
    /// New confusion.
    Confusion,
    /// Responds to voice.
    Voice,
    /// Responds to pain.
    Pain,
    /// Unresponsive.
    Unresponsive,
}

impl Consciousness {
    /// Parses one of `A C V P U`.
    pub fn parse(text: &str) -> Option<Consciousness> {
        match text {
            "A" => Some(Consciousness::Alert),
            "C" => Some(Consciousness::Confusion),
            "V" => Some(Consciousness::Voice),
            "P" => Some(Consciousness::Pain),
            "U" => Some(Consciousness::Unresponsive),
            _ => None,
        }
    }
}

/// The seven NEWS2 parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum News2Parameter {
    /// Respiration rate per minute.
    RespirationRate,
    /// SpO2 (on the applicable scale).
    OxygenSaturation,
    /// Air or supplemental oxygen.
    AirOrOxygen,
    /// Systolic blood pressure.
    SystolicPressure,
    /// Pulse per minute.
    Pulse,
    /// Consciousness (ACVPU).
    Consciousness,
    /// Temperature in °C.
    Temperature,
}

/// One observation set. `None` means not measured.
///
/// Start from [`News2Input::new`] (nothing measured, SpO2 scale 1) and add what was measured;
/// the fields stay public for pattern matching and serde.
///
/// ```
/// use bedside_vitals::news2::{Consciousness, News2Band, News2Input, score};
///
/// let set = News2Input::new()
///     .with_respiration_rate(22.0)
///     .with_spo2(93.0)
///     .on_air()
///     .with_systolic(115.0)
///     .with_pulse(95.0)
///     .with_consciousness(Consciousness::Alert)
///     .with_temperature_c(38.5);
/// let news2 = score(&set);
/// // 2 (breathing) + 2 (SpO2) + 0 (air) + 0 (systolic) + 1 (pulse) + 0 (alert) + 1 (38.5 °C)
/// assert_eq!((news2.total, news2.band, news2.complete), (6, News2Band::Medium, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct News2Input {
    /// Breaths per minute.
    pub respiration_rate: Option<f64>,
    /// SpO2 percent.
    pub spo2: Option<f64>,
    /// Which SpO2 scale applies.
    pub scale: SpO2Scale,
    /// `true` on supplemental oxygen, `false` on air.
    pub on_oxygen: Option<bool>,
    /// Systolic pressure, mmHg.
    pub systolic: Option<f64>,
    /// Pulse per minute.
    pub pulse: Option<f64>,
    /// ACVPU.
    pub consciousness: Option<Consciousness>,
    /// Temperature, °C.
    pub temperature_c: Option<f64>,
}

impl News2Input {
    /// An observation set with nothing measured yet, on SpO2 scale 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// Breaths per minute.
    pub fn with_respiration_rate(mut self, per_minute: f64) -> Self {
        self.respiration_rate = Some(per_minute);
        self
    }

    /// SpO2, percent. Say whether the patient breathes air or oxygen with
    /// [`News2Input::on_air`] or [`News2Input::on_oxygen`]; on scale 2 an unknown status
    /// leaves SpO2 of 93% or more unscored.
    pub fn with_spo2(mut self, percent: f64) -> Self {
        self.spo2 = Some(percent);
        self
    }

    /// The SpO2 scale (scale 2 only for a prescribed 88–92% target).
    pub fn with_scale(mut self, scale: SpO2Scale) -> Self {
        self.scale = scale;
        self
    }

    /// Breathing air (scores 0).
    pub fn on_air(mut self) -> Self {
        self.on_oxygen = Some(false);
        self
    }

    /// On supplemental oxygen (scores 2).
    pub fn on_oxygen(mut self) -> Self {
        self.on_oxygen = Some(true);
        self
    }

    /// Systolic pressure, mmHg.
    pub fn with_systolic(mut self, mm_hg: f64) -> Self {
        self.systolic = Some(mm_hg);
        self
    }

    /// Pulse per minute.
    pub fn with_pulse(mut self, per_minute: f64) -> Self {
        self.pulse = Some(per_minute);
        self
    }

    /// Level of consciousness (ACVPU).
    pub fn with_consciousness(mut self, level: Consciousness) -> Self {
        self.consciousness = Some(level);
        self
    }

    /// Temperature, °C.
    pub fn with_temperature_c(mut self, celsius: f64) -> Self {
        self.temperature_c = Some(celsius);
        self
    }
}

/// The clinical-risk band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum News2Band {
    /// Aggregate 0–4 with no single 3.
    Low,
    /// A 3 in any single parameter, aggregate below 5.
    LowMedium,
    /// Aggregate 5–6.
    Medium,
    /// Aggregate 7 or more.
    High,
}

impl News2Band {
    /// `low`, `low-medium`, `medium`, `high`.
    pub const fn as_str(self) -> &'static str {
        match self {
            News2Band::Low => "low",
            News2Band::LowMedium => "low-medium",
            News2Band::Medium => "medium",
            News2Band::High => "high",
        }
    }
}

/// A NEWS2 result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct News2Score {
    /// Sum of the scored parameters.
    pub total: u8,
    /// The band of `total` and `red_flag`.
    pub band: News2Band,
    /// Whether any single parameter scored 3.
    pub red_flag: bool,
    /// Whether all seven parameters were scored.
    pub complete: bool,
    /// Each scored parameter and its score.
    pub parameters: Vec<(News2Parameter, u8)>,
    /// Parameters not scored (not measured, or indeterminate).
    pub missing: Vec<News2Parameter>,
}

impl News2Score {
    /// The suggested clinical response (RCP 2017): 0 → routine (at least 12-hourly);
    /// 1–4 → a registered nurse assesses; a red score or 5–6 → urgent; 7+ → emergency.
    pub fn response(&self) -> crate::alert::Response {
        use crate::alert::Response;
        match self.band {
            News2Band::High => Response::Emergency,
            News2Band::Medium | News2Band::LowMedium => Response::Urgent,
            News2Band::Low if self.total == 0 => Response::Routine,
            News2Band::Low => Response::NurseReview,
        }
    }
}

fn whole(v: f64) -> Option<i64> {
    // Rounds half away from zero; non-finite input is not a measurement.
    v.is_finite().then(|| v.round() as i64)
}

fn score_respiration(rr: i64) -> u8 {
    match rr {
        i64::MIN..=8 => 3,
        9..=11 => 1,
        12..=20 => 0,
        21..=24 => 2,
        _ => 3,
    }
}

fn score_spo2_scale1(s: i64) -> u8 {
    match s {
        i64::MIN..=91 => 3,
        92..=93 => 2,
        94..=95 => 1,
        _ => 0,
    }
}

fn score_spo2_scale2(s: i64, on_oxygen: Option<bool>) -> Option<u8> {
    Some(match s {
        i64::MIN..=83 => 3,
        84..=85 => 2,
        86..=87 => 1,
        88..=92 => 0,
        _ => match on_oxygen? {
            false => 0,
            true => match s {
                93..=94 => 1,
                95..=96 => 2,
                _ => 3,
            },
        },
    })
}

fn score_systolic(sbp: i64) -> u8 {
    match sbp {
        i64::MIN..=90 => 3,
        91..=100 => 2,
        101..=110 => 1,
        111..=219 => 0,
        _ => 3,
    }
}

fn score_pulse(p: i64) -> u8 {
    match p {
        i64::MIN..=40 => 3,
        41..=50 => 1,
        51..=90 => 0,
        91..=110 => 1,
        111..=130 => 2,
        _ => 3,
    }
}

fn score_temperature(tenths: i64) -> u8 {
    match tenths {
        i64::MIN..=350 => 3,
        351..=360 => 1,
        361..=380 => 0,
        381..=390 => 1,
        _ => 2,
    }
}

/// Scores one observation set.
pub fn score(input: &News2Input) -> News2Score {
    let mut parameters = Vec::with_capacity(7);
    let mut missing = Vec::new();
    let mut put = |p: News2Parameter, s: Option<u8>| match s {
        Some(s) => parameters.push((p, s)),
        None => missing.push(p),
    };
    put(
        News2Parameter::RespirationRate,
        input
            .respiration_rate
            .and_then(whole)
            .map(score_respiration),
    );
    put(
        News2Parameter::OxygenSaturation,
        input.spo2.and_then(whole).and_then(|s| match input.scale {
            SpO2Scale::Scale1 => Some(score_spo2_scale1(s)),
            SpO2Scale::Scale2 => score_spo2_scale2(s, input.on_oxygen),
        }),
    );
    put(
        News2Parameter::AirOrOxygen,
        input.on_oxygen.map(|o| if o { 2 } else { 0 }),
    );
    put(
        News2Parameter::SystolicPressure,
        input.systolic.and_then(whole).map(score_systolic),
    );
    put(
        News2Parameter::Pulse,
        input.pulse.and_then(whole).map(score_pulse),
    );
    put(
        News2Parameter::Consciousness,
        input.consciousness.map(|c| match c {
            Consciousness::Alert => 0,
            _ => 3,
        }),
    );
    put(
        News2Parameter::Temperature,
        input
            .temperature_c
            .and_then(|t| whole(t * 10.0))
            .map(score_temperature),
    );
    let total: u8 = parameters.iter().map(|p| p.1).sum();
    let red_flag = parameters.iter().any(|p| p.1 == 3);
    let band = match total {
        7.. => News2Band::High,
        5..=6 => News2Band::Medium,
        _ if red_flag => News2Band::LowMedium,
        _ => News2Band::Low,
    };
    News2Score {
        total,
        band,
        red_flag,
        complete: missing.is_empty(),
        parameters,
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_normal_is_zero_and_complete() {
        let s = score(&News2Input {
            respiration_rate: Some(16.0),
            spo2: Some(97.0),
            scale: SpO2Scale::Scale1,
            on_oxygen: Some(false),
            systolic: Some(120.0),
            pulse: Some(70.0),
            consciousness: Some(Consciousness::Alert),
            temperature_c: Some(37.0),
        });
        assert_eq!(
            (s.total, s.band, s.red_flag, s.complete),
            (0, News2Band::Low, false, true)
        );
        assert_eq!(s.response(), crate::alert::Response::Routine);
    }

    #[test]
    fn the_builder_sets_what_the_fields_say() {
        let built = News2Input::new()
            .with_respiration_rate(16.0)
            .with_spo2(97.0)
            .with_scale(SpO2Scale::Scale2)
            .on_oxygen()
            .with_systolic(120.0)
            .with_pulse(70.0)
            .with_consciousness(Consciousness::Alert)
            .with_temperature_c(37.0);
        let literal = News2Input {
            respiration_rate: Some(16.0),
            spo2: Some(97.0),
            scale: SpO2Scale::Scale2,
            on_oxygen: Some(true),
            systolic: Some(120.0),
            pulse: Some(70.0),
            consciousness: Some(Consciousness::Alert),
            temperature_c: Some(37.0),
        };
        assert_eq!(built, literal);
        assert_eq!(
            News2Input::new().on_oxygen().on_air().on_oxygen,
            Some(false)
        );
        assert_eq!(News2Input::new(), News2Input::default());
    }

    #[test]
    fn missing_is_partial_not_zero() {
        let s = score(&News2Input {
            pulse: Some(135.0),
            ..News2Input::default()
        });
        assert_eq!(s.total, 3);
        assert!(!s.complete && s.red_flag);
        assert_eq!(s.missing.len(), 6);
        assert_eq!(s.band, News2Band::LowMedium);
    }
}
