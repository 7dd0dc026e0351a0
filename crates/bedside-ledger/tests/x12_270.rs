//! 270 requests checked against the segment table of the X279A1 guide (270, loops 2000A–C),
//! and 271 responses read into the benefits the pre-visit estimate uses.

use bedside_ledger::coverage::{ExpectedService, estimate};
use bedside_ledger::x12::eligibility::parse_271;
use bedside_ledger::x12::sim::eligibility::{read_270, run_eligibility};
use bedside_ledger::{BasisPoints, Currency, Money};
use chrono::NaiveDate;

/// One row of the guide's 270 segment table: segment, loop, required, maximum use.
struct Row(&'static str, &'static str, bool, usize);

/// 005010X279A1, 270: the segments of one information source, receiver and subscriber
/// (2000D dependant loops are not written). Situational segments Bedside does not write are
/// listed so their position is checked if they ever appear.
const X279_270: &[Row] = &[
    Row("ST", "header", true, 1),
    Row("BHT", "header", true, 1),
    Row("HL", "2000A", true, 1),
    Row("NM1", "2100A", true, 1),
    Row("HL", "2000B", true, 1),
    Row("NM1", "2100B", true, 1),
    Row("REF", "2100B", false, 9),
    Row("N3", "2100B", false, 1),
    Row("N4", "2100B", false, 1),
    Row("PRV", "2100B", false, 1),
    Row("HL", "2000C", true, 1),
    Row("TRN", "2000C", false, 2),
    Row("NM1", "2100C", true, 1),
    Row("REF", "2100C", false, 9),
    Row("N3", "2100C", false, 1),
    Row("N4", "2100C", false, 1),
    Row("PRV", "2100C", false, 1),
    Row("DMG", "2100C", false, 1),
    Row("INS", "2100C", false, 1),
    Row("HI", "2100C", false, 1),
    Row("DTP", "2100C", false, 1),
    Row("EQ", "2110C", false, 99),
    Row("SE", "trailer", true, 1),
];

/// Walks `segments` through the table in order: every required row present, no row used more
/// than its maximum, nothing out of order or unknown. Returns every problem found.
fn check(segments: &[String], table: &[Row]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut i = 0;
    for row in table {
        let mut used = 0;
        while i < segments.len() && segments[i] == row.0 {
            used += 1;
            i += 1;
        }
        if row.2 && used == 0 {
            problems.push(format!("{} ({}) missing", row.0, row.1));
        }
        if used > row.3 {
            problems.push(format!(
                "{} ({}) used {used} times, at most {}",
                row.0, row.1, row.3
            ));
        }
    }
    if i < segments.len() {
        problems.push(format!(
            "{} at position {} is out of order or unknown",
            segments[i],
            i + 1
        ));
    }
    problems
}

#[test]
fn the_table_check_finds_what_it_should() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[
                "ST", "BHT", "HL", "NM1", "HL", "NM1", "HL", "TRN", "NM1", "DMG", "DTP", "EQ",
                "EQ", "SE",
            ],
            &[],
        ),
        (
            &["ST", "BHT", "HL", "NM1", "HL", "NM1", "HL", "NM1", "SE"],
            &[],
        ),
        (
            &["ST", "BHT", "HL", "NM1", "HL", "NM1", "HL", "SE"],
            &["NM1 (2100C) missing"],
        ),
        (
            &[
                "ST", "BHT", "HL", "NM1", "HL", "NM1", "HL", "NM1", "DTP", "DMG", "SE",
            ],
            &[
                "SE (trailer) missing",
                "DMG at position 10 is out of order or unknown",
            ],
        ),
        (
            &[
                "ST", "BHT", "HL", "NM1", "HL", "NM1", "HL", "TRN", "TRN", "TRN", "NM1", "SE",
            ],
            &["TRN (2000C) used 3 times, at most 2"],
        ),
    ];
    for (segments, expected) in cases {
        assert_eq!(check(&s(segments), X279_270), s(expected), "{segments:?}");
    }
}

#[test]
fn every_270_follows_the_x279_segment_table_and_reads_back() {
    let date = NaiveDate::from_ymd_opt(2026, 3, 16).unwrap_or_default();
    let run = run_eligibility(5, 30, date).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run.requests_written, 30);
    assert_eq!(run.requests_read_back, 30);
    assert_eq!(run.answered, 30);
    for (name, bytes) in &run.requests {
        let read = read_270(bytes);
        assert_eq!(read.diagnostics, vec![], "{name}");
        for r in &read.requests {
            assert_eq!(
                check(&r.segments, X279_270),
                Vec::<String>::new(),
                "{name} {}",
                r.transaction
            );
            assert_eq!(r.service_types, vec!["30".to_string(), "98".to_string()]);
            assert_eq!(r.provider_npi, "1234567893");
        }
    }
}

const ENVELOPE: &str = "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *260316*0700*^*00501*000000501*0*P*:~GS*HB*PAYER*CLINIC*20260316*0700*501*X*005010X279A1~ST*271*0001*005010X279A1~BHT*0022*11*EL1*20260316*0700~HL*1**20*1~NM1*PR*2*ACME*****PI*ACME1~HL*2*1*21*1~NM1*1P*2*CLINIC*****XX*1234567893~HL*3*2*22*0~TRN*2*EL1*9~NM1*IL*1*DOE*JO****MI*M1~";
const CLOSE: &str = "SE*20*0001~GE*1*501~IEA*1*000000501~";

/// (EB segments, expected (copay, coinsurance bp, deductible, deductible met, oop max, oop met)
/// in cents, or None for no active coverage).
type Case = (&'static str, Option<(i64, u32, i64, i64, i64, i64)>);

#[test]
fn benefits_from_271s() {
    let cases: &[Case] = &[
        (
            "EB*1*IND*30**GOLD~EB*B*IND*98****25*****Y~EB*A*IND*98*****.2****Y~EB*C*IND*30***23*500*****Y~EB*C*IND*30***29*120*****Y~EB*G*IND*30***23*3000*****Y~EB*G*IND*30***29*2500*****Y~",
            Some((2_500, 2_000, 50_000, 38_000, 300_000, 50_000)),
        ),
        // Out-of-network and family lines lose to in-network individual ones; the visit's
        // service type wins over plan level.
        (
            "EB*1*FAM*30~EB*B*IND*98****40*****N~EB*B*IND*30****30*****Y~EB*B*IND*98****20*****Y~EB*C*FAM*30***23*1000~EB*C*IND*30***23*250~",
            Some((2_000, 0, 25_000, 0, i64::MAX / 4, 0)),
        ),
        ("EB*6**30~", None),
        ("AAA*Y**75*C~", None),
    ];
    for (eb, expected) in cases {
        let r = parse_271(format!("{ENVELOPE}{eb}{CLOSE}").as_bytes());
        assert!(
            r.diagnostics
                .iter()
                .all(|d| !matches!(d.severity, bedside_ledger::x12::Severity::Error)),
            "{eb}: {:?}",
            r.diagnostics
        );
        let got = r.subscribers[0]
            .benefits("98", Currency::USD)
            .map(|(b, a)| {
                (
                    b.copay.amount_minor(),
                    b.coinsurance.get(),
                    b.deductible.amount_minor(),
                    a.deductible_met.amount_minor(),
                    b.out_of_pocket_max.amount_minor(),
                    a.out_of_pocket_met.amount_minor(),
                )
            });
        assert_eq!(got, *expected, "{eb}");
    }
    let rejected = parse_271(format!("{ENVELOPE}AAA*Y**75*C~{CLOSE}").as_bytes());
    assert_eq!(
        rejected.subscribers[0].rejections[0].reason,
        "subscriber or insured not found"
    );
}

#[test]
fn a_271_feeds_the_pre_visit_estimate() {
    let eb = "EB*1*IND*30~EB*B*IND*98****25*****Y~EB*A*IND*98*****0.2****Y~EB*C*IND*30***23*500*****Y~EB*C*IND*30***29*100*****Y~";
    let r = parse_271(format!("{ENVELOPE}{eb}{CLOSE}").as_bytes());
    let (benefits, accumulators) = r.subscribers[0]
        .benefits("98", Currency::USD)
        .unwrap_or_else(|| panic!("active"));
    assert_eq!(benefits.coinsurance, BasisPoints::percent(20));
    let usd = |m| Money::new(m, Currency::USD);
    let services = [ExpectedService {
        description: "Office visit".into(),
        code: "99213".into(),
        charge: usd(15_000),
        allowed: usd(12_000),
    }];
    let e = estimate(&services, Some((&benefits, accumulators)), Currency::USD)
        .unwrap_or_else(|e| panic!("{e}"));
    // 25.00 copay; the other 95.00 of the allowed 120.00 goes to the 100.00 deductible left.
    assert_eq!(e.patient_total, usd(2_500 + 9_500));
    assert_eq!(e.payer_total, usd(0));
}
