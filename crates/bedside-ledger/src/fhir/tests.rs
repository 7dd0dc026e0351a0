use super::*;
use proptest::prelude::*;
use serde_json::json;

const PHI: &str = "Ada Lovelace 1985-12-10 MRN-4471";

fn exact(v: &Value) -> RoundTrip {
    let r = round_trip(v).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.lost.is_empty(), "{:?}", r.lost);
    assert!(r.stable);
    r
}

#[test]
fn synthea_eob_keeps_money_contained_and_everything_else() {
    let v = json!({"resourceType": "ExplanationOfBenefit", "id": "0ea1f4fe",
        "contained": [{"resourceType": "Coverage", "id": "coverage", "status": "active",
            "beneficiary": {"reference": "urn:uuid:4e8ed886-fd5f-40bb-8feb-f339b04d853a"},
            "payor": [{"display": "private"}]}],
        "status": "active", "use": "claim",
        "meta": {"tag": [{"system": "https://smarthealthit.org/tags", "code": "synthea-5-2019"}]},
        "billablePeriod": {"start": "2007-06-04T08:47:45+00:00", "end": "2008-06-03T08:47:45+00:00"},
        "created": "2007-06-04T08:47:45+00:00",
        "insurance": [{"focal": true, "coverage": {"reference": "#coverage", "display": "private"}}],
        "diagnosis": [{"sequence": 1, "diagnosisReference": {"reference": "urn:uuid:0c230c71-0f5b-4bf5-b739-35706b2ca7b3"}}],
        "item": [{"sequence": 1, "servicedPeriod": {"start": "2007-06-04T08:47:45+00:00"},
            "adjudication": [{"category": {"coding": [{"system": ADJUDICATION_SYSTEM, "code": "benefit"}]},
                "amount": {"value": 112.41600000000001, "currency": "USD"}}]}],
        "total": [{"category": {"coding": [{"system": ADJUDICATION_SYSTEM, "code": "submitted"}]},
            "amount": {"value": 140.52, "currency": "USD"}}],
        "payment": {"amount": {"value": 112.41600000000001, "currency": "USD"}}});
    let r = exact(&v);
    assert!(bedside_fhir::contained::check(&r.exported).is_ok());
    let BillingResource::ExplanationOfBenefit(e) = r.resource else {
        panic!("not an EOB")
    };
    assert_eq!(e.header.contained.len(), 1);
    let benefit = adjudication_amount(&e.item[0].adjudication, ADJUDICATION_SYSTEM, "benefit");
    assert_eq!(
        benefit.and_then(|m| m.value.as_ref()).map(|d| d.as_str()),
        Some("112.41600000000001")
    );
    assert_eq!(
        benefit.and_then(to_ledger_money),
        Some(Money::new(11_242, Currency::USD))
    );
    assert!(matches!(
        e.diagnosis[0].diagnosis,
        Some(ConceptOrReference::Reference(_))
    ));
}

#[test]
fn synthea_claim_keeps_choice_forms_and_unmodelled_elements() {
    let v = json!({"resourceType": "Claim", "id": "c1", "status": "active", "use": "claim",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "pharmacy"}]},
        "patient": {"reference": "urn:uuid:4e8ed886-fd5f-40bb-8feb-f339b04d853a"},
        "created": "2007-06-04T08:47:45+00:00",
        "provider": {"reference": "urn:uuid:08bcda9c-f8c8-3244-82d4-fc306a7a55d3"},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
        "prescription": {"reference": "urn:uuid:3c591164-3002-4b75-82aa-fe47e64bc2f5"},
        "supportingInfo": [{"sequence": 1, "category": {"coding": [{"code": "info"}]}}],
        "diagnosis": [{"sequence": 1, "diagnosisReference": {"reference": "Condition/1"}}],
        "procedure": [{"sequence": 1, "procedureReference": {"reference": "Procedure/1"}}],
        "insurance": [{"sequence": 1, "focal": true, "coverage": {"display": "private"}}],
        "item": [{"sequence": 1, "productOrService": {"coding": [{"system": "http://snomed.info/sct",
            "code": "50849002", "display": "Emergency Room Admission"}], "text": "Emergency Room Admission"},
            "net": {"value": 255.00000000000003, "currency": "USD"}}],
        "total": {"value": 255, "currency": "USD"}});
    let imported = BillingResource::import(v.clone()).unwrap_or_else(|e| panic!("{e}"));
    let mut kept: Vec<String> = imported
        .unmodelled
        .iter()
        .map(ToString::to_string)
        .collect();
    kept.sort();
    assert_eq!(kept, ["Claim.prescription", "Claim.supportingInfo"]);
    exact(&v);
}

#[test]
fn unknown_codes_and_odd_shapes_are_kept() {
    for v in [
        json!({"resourceType": "Invoice", "id": "x", "status": "issued",
            "totalNet": {"value": 1.234, "currency": "XTS", "extension": [{"url": "u", "valueString": "v"}]}}),
        json!({"resourceType": "Claim", "item": "nope", "status": "some-future-status"}),
        json!({"resourceType": "Account", "status": "active", "subject": [], "guarantor": [1]}),
        json!({"resourceType": "ChargeItem", "quantity": {"value": "1"}, "performer": [{"actor": 3}]}),
        json!({"resourceType": "ClaimResponse", "payment": 5, "total": [{"amount": {"value": true}}]}),
    ] {
        exact(&v);
    }
}

/// Every modelled element, given a value of the wrong JSON type carrying PHI, and a string
/// carrying PHI where a structure is expected.
#[test]
fn errors_never_carry_input_text() {
    let wrong = [
        json!(PHI),
        json!([PHI]),
        json!({"x": PHI}),
        json!(7),
        json!(true),
        json!({"value": PHI, "currency": PHI}),
    ];
    let elements: &[(&str, &[&str])] = &[
        (
            "Claim",
            &[
                "id",
                "meta",
                "text",
                "contained",
                "identifier",
                "status",
                "type",
                "use",
                "patient",
                "billablePeriod",
                "created",
                "insurer",
                "provider",
                "priority",
                "diagnosis",
                "procedure",
                "insurance",
                "item",
                "total",
            ],
        ),
        (
            "ClaimResponse",
            &[
                "id", "status", "type", "use", "patient", "created", "insurer", "request",
                "outcome", "item", "total", "payment",
            ],
        ),
        (
            "ExplanationOfBenefit",
            &[
                "id",
                "status",
                "type",
                "use",
                "patient",
                "billablePeriod",
                "created",
                "insurer",
                "provider",
                "claim",
                "claimResponse",
                "outcome",
                "diagnosis",
                "procedure",
                "insurance",
                "item",
                "total",
                "payment",
            ],
        ),
        (
            "ChargeItem",
            &[
                "id",
                "status",
                "code",
                "subject",
                "context",
                "occurrenceDateTime",
                "performer",
                "quantity",
                "priceOverride",
                "account",
            ],
        ),
        (
            "Invoice",
            &[
                "id",
                "status",
                "subject",
                "date",
                "account",
                "lineItem",
                "totalNet",
                "totalGross",
            ],
        ),
        (
            "Account",
            &[
                "id",
                "status",
                "type",
                "name",
                "subject",
                "description",
                "guarantor",
            ],
        ),
    ];
    let mut errors = 0;
    let mut check = |v: Value| {
        if let Err(e) = BillingResource::from_json(v.clone()) {
            errors += 1;
            for text in [e.to_string(), format!("{e:?}")] {
                assert!(!text.contains("Ada"), "{text}");
                assert!(!text.contains("4471"), "{text}");
            }
        }
        if let Ok(bytes) = serde_json::to_vec(&v) {
            let _ = BillingResource::from_slice(&bytes);
        }
    };
    for (kind, names) in elements {
        for name in *names {
            for w in &wrong {
                check(json!({"resourceType": kind, *name: w}));
                // One level down, in the backbone elements.
                check(
                    json!({"resourceType": kind, *name: [{"sequence": w, "amount": w,
                    "net": w, "category": w, "adjudication": [{"amount": w}], "party": w}]}),
                );
            }
        }
    }
    check(json!({"resourceType": PHI}));
    check(json!({"resourceType": ["Claim", PHI]}));
    check(json!([PHI]));
    let e = BillingResource::from_slice(format!("{{\"resourceType\": \"{PHI}").as_bytes());
    assert!(e.is_err_and(|e| !e.to_string().contains("Ada")));
    // Strict elements did refuse (id, status, use, outcome, dates).
    assert!(errors > 100, "{errors}");
}

#[test]
fn hostile_inputs_never_panic() {
    let deep = format!(
        "{{\"resourceType\":\"Claim\",\"item\":{}{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    for bytes in [
        deep.as_bytes(),
        b"",
        b"null",
        b"{\"resourceType\":\"Claim\",\"created\":\"+262142-12-31\"}",
        b"{\"resourceType\":\"Invoice\",\"totalNet\":{\"value\":1e400,\"currency\":\"USD\"}}",
        b"{\"resourceType\":\"Invoice\",\"totalNet\":{\"value\":1e300,\"currency\":\"USD\"}}",
        b"{\"resourceType\":\"ChargeItem\",\"occurrenceDateTime\":\"9999-12-31T23:59:59+14:00\"}",
    ] {
        if let Ok(r) = BillingResource::from_slice(bytes) {
            let out = r.to_json();
            let again = BillingResource::from_json(out.clone());
            assert!(again.is_ok());
            if let BillingResource::Invoice(i) = r {
                let _ = i.total_net.as_ref().and_then(to_ledger_money);
            }
        }
    }
}

#[test]
fn posting_rounds_half_away_from_zero() {
    let m = |v: &str, c: &str| {
        let d = bedside_fhir::Decimal::parse(v).unwrap_or_else(|| panic!("{v}"));
        to_ledger_money(&bedside_fhir::Money::new(d, c)).map(|m| m.amount_minor())
    };
    assert_eq!(m("0.005", "USD"), Some(1));
    assert_eq!(m("-0.005", "USD"), Some(-1));
    assert_eq!(m("0.0049", "USD"), Some(0));
    assert_eq!(m("1234.5", "JPY"), Some(1235));
    assert_eq!(m("1", "XXQ"), None);
    assert_eq!(m("1e300", "USD"), None);
    assert_eq!(
        to_fhir_money(Money::new(-1_050, Currency::USD))
            .value
            .map(|d| d.as_str().to_string()),
        Some("-10.5".into())
    );
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e12f64..1e12).prop_map(|f| json!(f)),
        "[a-zA-Z0-9 :+.#/-]{0,24}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "sequence",
                    "value",
                    "currency",
                    "reference",
                    "coding",
                    "system",
                    "code",
                    "amount",
                    "category",
                    "start",
                    "end",
                    "display",
                    "text",
                    "status",
                ]),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

proptest! {
    /// Whatever the shape of any modelled element, import never panics, and when it
    /// accepts, the export reproduces the input and re-imports to the same model.
    #[test]
    fn accepted_input_round_trips_exactly(
        kind in prop::sample::select(RESOURCE_TYPES.to_vec()),
        key in prop::sample::select(vec![
            "id", "status", "type", "use", "patient", "created", "insurer", "provider",
            "priority", "diagnosis", "procedure", "insurance", "item", "total", "payment",
            "outcome", "code", "subject", "context", "occurrenceDateTime", "performer",
            "quantity", "priceOverride", "lineItem", "totalNet", "guarantor", "contained",
            "billablePeriod", "meta", "identifier",
        ]),
        value in json_value(),
    ) {
        let input = json!({"resourceType": kind, key: value});
        if let Ok(r) = round_trip(&input) {
            prop_assert!(r.lost.is_empty(), "{:?}", r.lost);
            prop_assert!(r.stable);
        }
    }
}
