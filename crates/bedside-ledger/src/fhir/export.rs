//! Bedside's claims, adjudications, charges, statements and balances as valid R4 resources.
//!
//! Required elements come from the domain: a claim's `created` is when the claim book built
//! it (its first status change), a response's `created` is when the adjudication was
//! recorded; what the claim book does not hold — the billing provider, the diagnosis codes —
//! comes from a [`ClaimContext`]. Every code carries its system: HL7's where one exists
//! (claim type, process priority, adjudication, payment type), Bedside's one code-system
//! namespace otherwise (coinsurance, contractual write-off, patient responsibility).

use super::parts::{
    AdjudicationLine, Diagnosis, Header, Insurance, Item, Payment, ResponseItem, Total,
};
use super::resources::{
    Account, ChargeItem, ExplanationOfBenefit, FhirClaim, FhirClaimResponse, Guarantor, Invoice,
    LineItem, Performer, PriceComponent,
};
use super::{ConceptOrReference, to_fhir_money};
use crate::charge::{Charge, CodeSet, ProcedureCode};
use crate::claim::{Adjudication, Claim, ClaimStatus};
use crate::money::{Money, MoneyError};
use crate::statement::Statement;
use bedside_core::code::system;
use bedside_core::{CodeableConcept, Coding, OrganisationId, PatientId, Sensitive, Timestamp};
use bedside_fhir::codes::code_system_url;
use bedside_fhir::{Decimal, FhirDateTime, Identifier, Period, Quantity, Reference};
use serde_json::json;

/// HL7's adjudication category code system (`submitted`, `benefit`, `deductible`, `copay`, …).
pub const ADJUDICATION_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/adjudication";
const CLAIM_TYPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/claim-type";
const PRIORITY_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/processpriority";
const PAYMENT_TYPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/ex-paymenttype";
const RELATED_CLAIM_SYSTEM: &str =
    "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship";

/// Bedside's adjudication categories HL7's code system has no code for: `coinsurance`,
/// `contractual` (write-off) and `patient-responsibility`.
pub fn bedside_adjudication_system() -> String {
    code_system_url("adjudication")
}

/// Errors of export.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Occurs when a claim has no status history, so there is no creation or adjudication
    /// time to write (claims the [`crate::ClaimBook`] builds always have one).
    #[error("claim has no status history to date the resource")]
    NoHistory,
    /// Occurs when an amount to write overflows.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// What a claim export needs that the claim book does not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimContext {
    /// The billing provider (`Claim.provider`, `ExplanationOfBenefit.provider`).
    pub provider: Reference,
    /// Diagnoses, in the order the lines' diagnosis pointers count them.
    pub diagnoses: Vec<CodeableConcept>,
}

impl ClaimContext {
    /// Claims billed by the clinic organisation `provider`.
    pub fn new(provider: OrganisationId) -> Self {
        Self {
            provider: Reference::relative("Organization", provider),
            diagnoses: Vec::new(),
        }
    }

    /// Adds an ICD-10-CM diagnosis code.
    #[must_use]
    pub fn with_icd10(mut self, code: &str) -> Self {
        self.diagnoses
            .push(CodeableConcept::from_coding(Coding::new(
                system::ICD_10_CM,
                code,
            )));
        self
    }
}

fn concept(system: &str, code: &str) -> CodeableConcept {
    CodeableConcept::from_coding(Coding::new(system, code))
}

fn category(code: &str) -> CodeableConcept {
    concept(ADJUDICATION_SYSTEM, code)
}

fn bedside_category(code: &str) -> CodeableConcept {
    concept(&bedside_adjudication_system(), code)
}

fn procedure_concept(code: &ProcedureCode, description: &str) -> CodeableConcept {
    let system = match code.code_set() {
        CodeSet::Cpt => system::CPT,
        CodeSet::Hcpcs => system::HCPCS,
    };
    CodeableConcept {
        coding: vec![Coding::new(system, code.as_str())],
        text: (!description.trim().is_empty()).then(|| description.to_string()),
    }
}

fn professional() -> CodeableConcept {
    concept(CLAIM_TYPE_SYSTEM, "professional")
}

fn money(m: Money) -> bedside_fhir::Money {
    to_fhir_money(m)
}

/// When the claim was built: its first status change.
fn created(claim: &Claim) -> Result<FhirDateTime, ExportError> {
    claim
        .transitions
        .first()
        .map(|(at, _)| FhirDateTime::from_instant(*at))
        .ok_or(ExportError::NoHistory)
}

/// When the adjudication was recorded: the last move into an adjudicated status (or back to
/// accepted, for a reversal), else the latest status change.
fn adjudicated_at(claim: &Claim) -> Result<FhirDateTime, ExportError> {
    let decided = |s: &ClaimStatus| {
        matches!(
            s,
            ClaimStatus::Paid | ClaimStatus::PartiallyPaid | ClaimStatus::Denied
        )
    };
    let at: Option<&Timestamp> = claim
        .transitions
        .iter()
        .rev()
        .find(|(_, s)| decided(s))
        .or(claim.transitions.last())
        .map(|(at, _)| at);
    at.map(|at| FhirDateTime::from_instant(*at))
        .ok_or(ExportError::NoHistory)
}

fn billable_period(claim: &Claim) -> Option<Period> {
    let first = claim.lines.iter().map(|l| l.date_of_service).min()?;
    let last = claim.lines.iter().map(|l| l.date_of_service).max()?;
    Some(Period::new(
        Some(FhirDateTime::from_date(first)),
        Some(FhirDateTime::from_date(last)),
    ))
}

fn diagnoses(ctx: &ClaimContext) -> Vec<Diagnosis> {
    ctx.diagnoses
        .iter()
        .enumerate()
        .map(|(i, d)| Diagnosis {
            sequence: u32::try_from(i + 1).ok(),
            diagnosis: Some(ConceptOrReference::Concept(d.clone())),
            ..Diagnosis::default()
        })
        .collect()
}

fn items(claim: &Claim) -> Vec<Item> {
    claim
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| Item {
            sequence: u32::try_from(i + 1).ok(),
            product_or_service: Some(procedure_concept(&l.code, &l.description)),
            serviced_date: Some(FhirDateTime::from_date(l.date_of_service)),
            quantity: Some(Quantity {
                value: Some(Decimal::from_scaled(i128::from(l.units), 0)),
                ..Quantity::default()
            }),
            net: Some(money(l.amount)),
            encounter: l
                .encounter
                .map(|e| vec![Reference::relative("Encounter", e)])
                .unwrap_or_default(),
            ..Item::default()
        })
        .collect()
}

fn status_of(claim: &Claim) -> &'static str {
    match claim.status {
        ClaimStatus::Draft => "draft",
        // Superseded by a corrected claim: no longer in force.
        ClaimStatus::Replaced => "cancelled",
        _ => "active",
    }
}

/// Exports a Bedside claim as a FHIR `Claim`: a professional claim to its payer, with its
/// lines, its coverage, the context's billing provider and diagnoses, and — for a
/// replacement — the claim it replaces as `related` (`prior`).
///
/// # Errors
/// [`ExportError::NoHistory`] for a claim without status history.
pub fn export_claim(claim: &Claim, ctx: &ClaimContext) -> Result<FhirClaim, ExportError> {
    let mut header = Header::new(claim.id.to_string(), status_of(claim));
    header.identifier = vec![Identifier::new(
        code_system_url("claim-control-number"),
        claim.control_number.expose().as_str(),
    )];
    let mut out = FhirClaim {
        header,
        type_: Some(professional()),
        use_: Some("claim".into()),
        patient: Some(Reference::relative("Patient", claim.patient)),
        billable_period: billable_period(claim),
        created: Some(created(claim)?),
        insurer: Some(Reference::relative("Organization", claim.payer)),
        provider: Some(ctx.provider.clone()),
        priority: Some(concept(PRIORITY_SYSTEM, "normal")),
        diagnosis: diagnoses(ctx),
        insurance: vec![Insurance {
            sequence: Some(1),
            focal: Some(true),
            coverage: Some(Reference::relative("Coverage", claim.coverage)),
            ..Insurance::default()
        }],
        item: items(claim),
        total: Some(money(claim.total)),
        ..FhirClaim::default()
    };
    if let Some(original) = claim.replaces {
        out.unmodelled.expose_mut().insert(
            "related".into(),
            json!([{
                "claim": Reference::relative("Claim", original).to_json(),
                "relationship": {"coding": [{"system": RELATED_CLAIM_SYSTEM, "code": "prior"}]},
            }]),
        );
    }
    Ok(out)
}

fn claim_totals(a: &Adjudication) -> Result<Vec<Total>, ExportError> {
    let patient = a.patient.total()?;
    Ok(vec![
        Total::new(category("submitted"), money(a.charge)),
        Total::new(category("benefit"), money(a.paid)),
        Total::new(category("deductible"), money(a.patient.deductible)),
        Total::new(category("copay"), money(a.patient.copay)),
        Total::new(
            bedside_category("coinsurance"),
            money(a.patient.coinsurance),
        ),
        Total::new(bedside_category("contractual"), money(a.contractual)),
        Total::new(bedside_category("patient-responsibility"), money(patient)),
    ])
}

fn line_adjudications(a: &Adjudication) -> Vec<ResponseItem> {
    a.lines
        .iter()
        .enumerate()
        .map(|(i, l)| ResponseItem {
            item_sequence: u32::try_from(i + 1).ok(),
            adjudication: vec![
                AdjudicationLine::new(category("submitted"), money(l.charge)),
                AdjudicationLine::new(category("benefit"), money(l.paid)),
                AdjudicationLine::new(bedside_category("patient-responsibility"), money(l.patient)),
            ],
            ..ResponseItem::default()
        })
        .collect()
}

fn payment(a: &Adjudication) -> Payment {
    Payment {
        type_: Some(concept(PAYMENT_TYPE_SYSTEM, "complete")),
        amount: Some(money(a.paid)),
        ..Payment::default()
    }
}

/// Exports a payer decision as a FHIR `ClaimResponse`: line and claim-level adjudication,
/// totals by category and the payment, dated when the decision was recorded.
///
/// # Errors
/// [`ExportError::NoHistory`] for a claim without status history; money overflow.
pub fn export_claim_response(
    claim: &Claim,
    a: &Adjudication,
) -> Result<FhirClaimResponse, ExportError> {
    Ok(FhirClaimResponse {
        header: Header::new(format!("{}-response", claim.id), "active"),
        type_: Some(professional()),
        use_: Some("claim".into()),
        patient: Some(Reference::relative("Patient", claim.patient)),
        created: Some(adjudicated_at(claim)?),
        insurer: Some(Reference::relative("Organization", claim.payer)),
        request: Some(Reference::relative("Claim", claim.id)),
        // The payer finished adjudicating, denials included (`error` means it could not).
        outcome: Some("complete".into()),
        item: line_adjudications(a),
        total: claim_totals(a)?,
        payment: Some(payment(a)),
        ..FhirClaimResponse::default()
    })
}

/// Exports a claim and its decision as a FHIR `ExplanationOfBenefit`.
///
/// # Errors
/// As [`export_claim`] and [`export_claim_response`].
pub fn export_explanation_of_benefit(
    claim: &Claim,
    a: &Adjudication,
    ctx: &ClaimContext,
) -> Result<ExplanationOfBenefit, ExportError> {
    let billed = export_claim(claim, ctx)?;
    let lines = line_adjudications(a);
    let item = billed
        .item
        .into_iter()
        .enumerate()
        .map(|(i, mut item)| {
            if let Some(l) = lines.get(i) {
                item.adjudication = l.adjudication.clone();
            }
            item
        })
        .collect();
    Ok(ExplanationOfBenefit {
        header: Header::new(format!("{}-eob", claim.id), "active"),
        type_: Some(professional()),
        use_: Some("claim".into()),
        patient: billed.patient,
        billable_period: billed.billable_period,
        created: Some(adjudicated_at(claim)?),
        insurer: billed.insurer,
        provider: billed.provider,
        claim: Some(Reference::relative("Claim", claim.id)),
        claim_response: Some(Reference::relative(
            "ClaimResponse",
            format!("{}-response", claim.id),
        )),
        outcome: Some("complete".into()),
        diagnosis: billed.diagnosis,
        insurance: vec![Insurance {
            focal: Some(true),
            coverage: Some(Reference::relative("Coverage", claim.coverage)),
            ..Insurance::default()
        }],
        item,
        total: claim_totals(a)?,
        payment: Some(payment(a)),
        ..ExplanationOfBenefit::default()
    })
}

/// Exports a charge as a FHIR `ChargeItem` (billable, priced per unit).
pub fn export_charge_item(charge: &Charge) -> ChargeItem {
    let req = &charge.request;
    ChargeItem {
        header: Header::new(charge.id.to_string(), "billable"),
        code: Some(procedure_concept(&req.code, &charge.description)),
        subject: Some(Reference::relative("Patient", req.patient)),
        context: Some(Reference::relative("Encounter", req.encounter)),
        occurrence_date_time: Some(FhirDateTime::from_date(req.date_of_service)),
        performer: vec![Performer {
            actor: Some(Reference::relative("Practitioner", req.rendering_provider)),
            ..Performer::default()
        }],
        quantity: Some(Quantity {
            value: Some(Decimal::from_scaled(i128::from(req.units), 0)),
            ..Quantity::default()
        }),
        price_override: Some(money(charge.unit_price)),
        ..ChargeItem::default()
    }
}

fn price(type_: &str, amount: Money) -> PriceComponent {
    PriceComponent {
        type_: Some(type_.into()),
        amount: Some(money(amount)),
        ..PriceComponent::default()
    }
}

/// Exports a statement as a FHIR `Invoice`: one line per statement line (billed as the base
/// price, insurance payments and adjustments as deductions), net = what the patient owes
/// now, gross = what was billed.
pub fn export_invoice(patient: PatientId, statement: &Statement) -> Invoice {
    let line_item = statement
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let code = match ProcedureCode::parse(&l.code) {
                Ok(code) => procedure_concept(&code, &l.description),
                Err(_) => CodeableConcept {
                    coding: Vec::new(),
                    text: Some(format!("{} {}", l.code, l.description).trim().to_string()),
                },
            };
            let mut price_component = vec![price("base", l.billed)];
            for (kind, amount) in [("deduction", l.insurance_paid), ("discount", l.adjusted)] {
                if !amount.is_zero() {
                    price_component.push(price(kind, amount));
                }
            }
            LineItem {
                sequence: u32::try_from(i + 1).ok(),
                charge_item: Some(ConceptOrReference::Concept(code)),
                price_component,
                ..LineItem::default()
            }
        })
        .collect();
    Invoice {
        header: Header::new(
            format!("{patient}-{}", statement.statement_date.format("%Y%m%d")),
            "issued",
        ),
        subject: Some(Reference::relative("Patient", patient)),
        date: Some(FhirDateTime::from_date(statement.statement_date)),
        account: Some(Reference::relative("Account", format!("{patient}-billing"))),
        line_item,
        total_net: Some(money(statement.amount_due)),
        total_gross: Some(money(statement.total_billed)),
        ..Invoice::default()
    }
}

/// Exports a patient's billing account, with its current balance in the description.
pub fn export_account(patient: PatientId, balance: Money) -> Account {
    Account {
        header: Header::new(format!("{patient}-billing"), "active"),
        type_: Some(CodeableConcept::from_coding(
            Coding::new(system::ACT_CODE, "PBILLACCT").with_display("patient billing account"),
        )),
        subject: vec![Reference::relative("Patient", patient)],
        description: Some(Sensitive::new(format!(
            "balance {} {}",
            balance.format_decimal(),
            balance.currency().code()
        ))),
        guarantor: vec![Guarantor {
            party: Some(Reference::relative("Patient", patient)),
            on_hold: Some(false),
            ..Guarantor::default()
        }],
        ..Account::default()
    }
}
