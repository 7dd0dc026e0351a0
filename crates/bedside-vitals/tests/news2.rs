//! Table-driven NEWS2 tests: every band edge of every parameter of the RCP 2017 chart
//! (Royal College of Physicians, National Early Warning Score 2), the SpO2 scale 2 rows, the
//! oxygen +2, the red score, aggregate bands and explicit partial scores.

use bedside_vitals::Response;
use bedside_vitals::news2::{
    Consciousness, News2Band, News2Input, News2Parameter, SpO2Scale, score,
};

fn param_score(input: News2Input, p: News2Parameter) -> Option<u8> {
    score(&input)
        .parameters
        .iter()
        .find(|x| x.0 == p)
        .map(|x| x.1)
}

fn check(param: News2Parameter, cases: &[(News2Input, Option<u8>)]) {
    for (input, expected) in cases {
        assert_eq!(param_score(*input, param), *expected, "{param:?} {input:?}");
    }
}

fn rr(v: f64) -> News2Input {
    News2Input {
        respiration_rate: Some(v),
        ..Default::default()
    }
}
fn spo2(v: f64, scale: SpO2Scale, on_oxygen: Option<bool>) -> News2Input {
    News2Input {
        spo2: Some(v),
        scale,
        on_oxygen,
        ..Default::default()
    }
}
fn sbp(v: f64) -> News2Input {
    News2Input {
        systolic: Some(v),
        ..Default::default()
    }
}
fn pulse(v: f64) -> News2Input {
    News2Input {
        pulse: Some(v),
        ..Default::default()
    }
}
fn temp(v: f64) -> News2Input {
    News2Input {
        temperature_c: Some(v),
        ..Default::default()
    }
}

#[test]
fn respiration_rate_edges() {
    let t: Vec<_> = [
        (8.0, 3),
        (9.0, 1),
        (11.0, 1),
        (12.0, 0),
        (20.0, 0),
        (21.0, 2),
        (24.0, 2),
        (25.0, 3),
        (3.0, 3),
        (40.0, 3),
    ]
    .iter()
    .map(|&(v, s)| (rr(v), Some(s)))
    .collect();
    check(News2Parameter::RespirationRate, &t);
    // Fractions round half away from zero to whole breaths.
    check(
        News2Parameter::RespirationRate,
        &[(rr(20.4), Some(0)), (rr(20.5), Some(2)), (rr(8.5), Some(1))],
    );
}

#[test]
fn spo2_scale1_edges() {
    let s1 = SpO2Scale::Scale1;
    let t: Vec<_> = [
        (91.0, 3),
        (92.0, 2),
        (93.0, 2),
        (94.0, 1),
        (95.0, 1),
        (96.0, 0),
        (100.0, 0),
        (70.0, 3),
    ]
    .iter()
    .flat_map(|&(v, s)| {
        [
            (spo2(v, s1, Some(false)), Some(s)),
            (spo2(v, s1, Some(true)), Some(s)),
            (spo2(v, s1, None), Some(s)),
        ]
    })
    .collect();
    check(News2Parameter::OxygenSaturation, &t);
}

#[test]
fn spo2_scale2_edges() {
    let s2 = SpO2Scale::Scale2;
    let air = Some(false);
    let o2 = Some(true);
    check(
        News2Parameter::OxygenSaturation,
        &[
            (spo2(83.0, s2, air), Some(3)),
            (spo2(84.0, s2, air), Some(2)),
            (spo2(85.0, s2, o2), Some(2)),
            (spo2(86.0, s2, air), Some(1)),
            (spo2(87.0, s2, o2), Some(1)),
            (spo2(88.0, s2, air), Some(0)),
            (spo2(92.0, s2, o2), Some(0)),
            (spo2(93.0, s2, air), Some(0)),
            (spo2(100.0, s2, air), Some(0)),
            (spo2(93.0, s2, o2), Some(1)),
            (spo2(94.0, s2, o2), Some(1)),
            (spo2(95.0, s2, o2), Some(2)),
            (spo2(96.0, s2, o2), Some(2)),
            (spo2(97.0, s2, o2), Some(3)),
            (spo2(100.0, s2, o2), Some(3)),
            // At 93% or more on scale 2 the score depends on air/oxygen: unknown is unscored.
            (spo2(93.0, s2, None), None),
            (spo2(90.0, s2, None), Some(0)),
        ],
    );
}

#[test]
fn air_or_oxygen_adds_two_on_both_scales() {
    for scale in [SpO2Scale::Scale1, SpO2Scale::Scale2] {
        check(
            News2Parameter::AirOrOxygen,
            &[
                (spo2(96.0, scale, Some(true)), Some(2)),
                (spo2(96.0, scale, Some(false)), Some(0)),
                (spo2(96.0, scale, None), None),
            ],
        );
    }
}

#[test]
fn systolic_edges() {
    let t: Vec<_> = [
        (90.0, 3),
        (91.0, 2),
        (100.0, 2),
        (101.0, 1),
        (110.0, 1),
        (111.0, 0),
        (219.0, 0),
        (220.0, 3),
        (60.0, 3),
    ]
    .iter()
    .map(|&(v, s)| (sbp(v), Some(s)))
    .collect();
    check(News2Parameter::SystolicPressure, &t);
}

#[test]
fn pulse_edges() {
    let t: Vec<_> = [
        (40.0, 3),
        (41.0, 1),
        (50.0, 1),
        (51.0, 0),
        (90.0, 0),
        (91.0, 1),
        (110.0, 1),
        (111.0, 2),
        (130.0, 2),
        (131.0, 3),
    ]
    .iter()
    .map(|&(v, s)| (pulse(v), Some(s)))
    .collect();
    check(News2Parameter::Pulse, &t);
}

#[test]
fn consciousness() {
    let c = |c| News2Input {
        consciousness: Some(c),
        ..Default::default()
    };
    check(
        News2Parameter::Consciousness,
        &[
            (c(Consciousness::Alert), Some(0)),
            (c(Consciousness::Confusion), Some(3)),
            (c(Consciousness::Voice), Some(3)),
            (c(Consciousness::Pain), Some(3)),
            (c(Consciousness::Unresponsive), Some(3)),
        ],
    );
}

#[test]
fn temperature_edges_at_one_decimal() {
    let t: Vec<_> = [
        (35.0, 3),
        (35.1, 1),
        (36.0, 1),
        (36.1, 0),
        (38.0, 0),
        (38.1, 1),
        (39.0, 1),
        (39.1, 2),
        (34.0, 3),
        (41.0, 2),
    ]
    .iter()
    .map(|&(v, s)| (temp(v), Some(s)))
    .collect();
    check(News2Parameter::Temperature, &t);
    // Scored to one decimal: 36.04 is 36.0 (1), 36.06 is 36.1 (0), 38.04 is 38.0 (0).
    check(
        News2Parameter::Temperature,
        &[
            (temp(36.04), Some(1)),
            (temp(36.06), Some(0)),
            (temp(38.04), Some(0)),
        ],
    );
}

fn full(
    rr: f64,
    spo2: f64,
    on_oxygen: bool,
    sbp: f64,
    pulse: f64,
    c: Consciousness,
    t: f64,
) -> News2Input {
    News2Input {
        respiration_rate: Some(rr),
        spo2: Some(spo2),
        scale: SpO2Scale::Scale1,
        on_oxygen: Some(on_oxygen),
        systolic: Some(sbp),
        pulse: Some(pulse),
        consciousness: Some(c),
        temperature_c: Some(t),
    }
}

#[test]
fn aggregate_bands_and_responses() {
    use Consciousness::*;
    let cases = [
        // (input, total, band, red, response)
        (
            full(16.0, 97.0, false, 120.0, 70.0, Alert, 37.0),
            0,
            News2Band::Low,
            false,
            Response::Routine,
        ),
        (
            full(22.0, 95.0, false, 120.0, 95.0, Alert, 37.0),
            4,
            News2Band::Low,
            false,
            Response::NurseReview,
        ),
        (
            full(16.0, 97.0, false, 120.0, 70.0, Confusion, 37.0),
            3,
            News2Band::LowMedium,
            true,
            Response::Urgent,
        ),
        (
            full(22.0, 95.0, false, 120.0, 95.0, Alert, 38.5),
            5,
            News2Band::Medium,
            false,
            Response::Urgent,
        ),
        (
            full(16.0, 97.0, true, 105.0, 95.0, Alert, 38.5),
            5,
            News2Band::Medium,
            false,
            Response::Urgent,
        ),
        (
            full(16.0, 97.0, true, 120.0, 70.0, Voice, 39.5),
            7,
            News2Band::High,
            true,
            Response::Emergency,
        ),
        (
            full(25.0, 91.0, true, 90.0, 131.0, Unresponsive, 35.0),
            20,
            News2Band::High,
            true,
            Response::Emergency,
        ),
    ];
    for (input, total, band, red, response) in cases {
        let s = score(&input);
        assert_eq!(
            (s.total, s.band, s.red_flag, s.complete),
            (total, band, red, true),
            "{input:?}"
        );
        assert_eq!(s.response(), response, "{input:?}");
    }
}

#[test]
fn missing_parameters_give_an_explicit_partial_score() {
    let s = score(&News2Input {
        respiration_rate: Some(26.0),
        pulse: Some(120.0),
        ..Default::default()
    });
    assert_eq!(s.total, 5);
    assert!(!s.complete);
    assert_eq!(s.band, News2Band::Medium);
    assert_eq!(
        s.missing,
        vec![
            News2Parameter::OxygenSaturation,
            News2Parameter::AirOrOxygen,
            News2Parameter::SystolicPressure,
            News2Parameter::Consciousness,
            News2Parameter::Temperature
        ]
    );
    let none = score(&News2Input::default());
    assert_eq!(
        (none.total, none.complete, none.parameters.len()),
        (0, false, 0)
    );
}
