//! Billing: visit charges and claims, remittances, statements and patient payments.

use super::*;

/// A payment made under an idempotency key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PaymentRecord {
    pub(super) amount_minor: i64,
    pub(super) credit: bool,
    pub(super) answer: PaymentReceipt,
}

/// A claim built from a visit's charges and submitted.
#[derive(Debug, Clone, Serialize)]
pub struct Charged {
    /// The claim.
    pub claim: bedside_core::ClaimId,
    /// Its control number (CLM01).
    pub control_number: String,
    /// Charge lines.
    pub charges: usize,
    /// Total charged, in cents.
    pub total_minor: i64,
    /// The claim this one replaces (a corrected claim).
    pub replaces: Option<bedside_core::ClaimId>,
}

/// What posting an 835 did.
#[derive(Debug, Clone, Serialize)]
pub struct RemittancePosted {
    /// Ledger entries applied.
    pub entries_applied: usize,
    /// Claims matched to the clinic's claims.
    pub claims_matched: usize,
    /// Claims that went to the work queue.
    pub claims_unmatched: usize,
}

/// A payment recorded (a retry with the same idempotency key answers the first receipt).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentReceipt {
    /// The payment.
    pub payment: bedside_ledger::PaymentId,
    /// The patient's balance after it, in cents.
    pub balance_minor: i64,
}

/// The patient's statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementView {
    /// Posted balance, in cents.
    pub balance_minor: i64,
    /// What the statement asks the patient to pay, in cents.
    pub amount_due_minor: i64,
    /// The plain-language statement.
    pub text: String,
}

/// One item of the remittance work queue.
#[derive(Debug, Clone, Serialize)]
pub struct WorkQueueItem {
    /// Why it needs a person.
    pub reason: bedside_ledger::WorkReason,
    /// The payment's trace number (TRN02).
    pub trace_number: String,
    /// The payer's claim control number (CLP01).
    pub control_number: String,
    /// Paid on the claim, in cents.
    pub paid_minor: i64,
    /// The CLP segment's position in the file.
    pub segment: usize,
}

/// Accounts-receivable aging totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgingView {
    /// Owed by patients, in cents.
    pub patients_total_minor: i64,
    /// Owed by payers, in cents.
    pub payers_total_minor: i64,
    /// The report's totals as text.
    pub text: String,
}

/// The clinic's books: ledger with chart of accounts, fee schedule, claims, remittance poster.
pub(super) struct Billing {
    pub(super) books: bedside_ledger::Books,
    pub(super) fees: bedside_ledger::FeeSchedule,
    pub(super) claims: bedside_ledger::ClaimBook,
    pub(super) poster: bedside_ledger::RemittancePoster,
}

/// Who charged or recorded a payment journaled before the actor was recorded.
pub(super) fn billing_desk() -> Actor {
    Actor::System {
        component: crate::journal::record::billing::BILLING_DESK.into(),
    }
}

/// Who posted a remittance journaled before the poster was recorded.
pub(super) fn remittance_importer() -> Actor {
    Actor::System {
        component: crate::journal::record::billing::REMITTANCE_IMPORTER.into(),
    }
}

pub(super) fn usd(minor: i64) -> bedside_ledger::Money {
    bedside_ledger::Money::new(minor, bedside_ledger::Currency::USD)
}

impl Billing {
    pub(super) fn new() -> Result<Self, ClinicError> {
        let books = bedside_ledger::Books::open(bedside_ledger::Currency::USD)
            .map_err(|e| ClinicError::bad(format!("books: {e}")))?;
        // The fee schedule arrives with the set-up command (`SetupSpec::fees`).
        let fees = bedside_ledger::FeeSchedule::new();
        let poster = bedside_ledger::RemittancePoster::new(books.clinic);
        Ok(Billing {
            books,
            fees,
            claims: bedside_ledger::ClaimBook::new(),
            poster,
        })
    }

    pub(super) fn patient_balance_minor(&self, patient: PatientId) -> i64 {
        self.books
            .existing_patient_account(patient)
            .and_then(|a| self.books.ledger.balance(a))
            .map_or(0, |b| b.posted.amount_minor())
    }
}

/// The fee schedule a set-up brings.
pub(super) fn billing_desk_fees(
    spec: &SetupSpec,
) -> Result<bedside_ledger::FeeSchedule, ClinicError> {
    let mut fees = bedside_ledger::FeeSchedule::new();
    for line in &spec.fees {
        let code = bedside_ledger::ProcedureCode::parse(&line.code)
            .map_err(|e| ClinicError::domain("fee schedule", &e))?;
        fees.set(code, None, usd(line.amount_minor), &line.description);
    }
    Ok(fees)
}

/// A patient payment as the API receives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// Amount in cents.
    pub amount_minor: i64,
    /// Idempotency key, scoped to the patient (also the `Idempotency-Key` header).
    #[serde(default)]
    pub client_token: Option<String>,
    /// Billing staff only: record more than the balance as a credit.
    #[serde(default)]
    pub credit: bool,
}

/// Visit charges from the fee schedule, billed to the payer as one claim.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Charge {
    /// The appointment (arrived or fulfilled).
    pub appointment: AppointmentId,
    /// Procedure codes.
    pub codes: Vec<String>,
    /// New charge ids, one per code.
    pub charge_ids: Vec<bedside_ledger::ChargeId>,
    /// New claim id.
    pub claim: bedside_core::ClaimId,
    /// Units per code (parallel to `codes`; absent in older journals: one each).
    #[serde(default)]
    pub units: Vec<u32>,
    /// The claim this one corrects (a replacement claim, frequency 7).
    #[serde(default)]
    pub replaces: Option<bedside_core::ClaimId>,
    /// Who charged (journals written before it was recorded read as the billing desk).
    #[serde(default = "billing_desk")]
    pub by: Actor,
}

impl Charge {
    /// The charges this command prices from the fee schedule, with every problem reported
    /// together (nothing is priced when any is found).
    fn price(
        &self,
        st: &State,
        ap: &bedside_schedule::Appointment,
    ) -> Result<Vec<bedside_ledger::Charge>, ClinicError> {
        if self.codes.is_empty()
            || self.codes.len() != self.charge_ids.len()
            || self.codes.len() > 20
        {
            return Err(ClinicError::bad("codes: 1 to 20 procedure codes"));
        }
        let units: Vec<u32> = if self.units.is_empty() {
            vec![1; self.codes.len()]
        } else {
            self.units.clone()
        };
        if units.len() != self.codes.len() || units.contains(&0) {
            return Err(ClinicError::bad("codes: units do not match the codes"));
        }
        let zone = st.zone();
        let encounter = bedside_core::EncounterId::from_uuid(ap.id.as_uuid());
        let mut charges = Vec::new();
        let mut problems = Vec::new();
        for (i, ((code, id), units)) in self
            .codes
            .iter()
            .zip(&self.charge_ids)
            .zip(&units)
            .enumerate()
        {
            let parsed = match bedside_ledger::ProcedureCode::parse(code) {
                Ok(c) => c,
                Err(_) => {
                    problems.push(format!("codes[{i}]: not a procedure code"));
                    continue;
                }
            };
            match st.billing.fees.price(
                *id,
                bedside_ledger::ChargeRequest {
                    patient: ap.patient,
                    encounter,
                    code: parsed,
                    modifiers: vec![],
                    units: *units,
                    date_of_service: ap.period.start().with_timezone(&zone).date_naive(),
                    rendering_provider: ap.provider,
                    diagnosis_pointers: vec![1],
                },
            ) {
                Ok(c) => charges.push(c),
                Err(_) => problems.push(format!("codes[{i}]: not in the fee schedule")),
            }
        }
        if !problems.is_empty() {
            return Err(ClinicError::BadRequest {
                message: format!("{} problem(s) in the charges", problems.len()),
                details: problems,
            });
        }
        Ok(charges)
    }
}

impl Apply for Charge {
    type Reply = Charged;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<Charged, ClinicError> {
        let Charge {
            appointment,
            claim,
            replaces,
            by,
            ..
        } = self;
        let at = cx.at;
        let ap = st
            .schedule()?
            .appointment(*appointment)
            .ok_or(ClinicError::NotFound {
                kind: "appointment",
            })?
            .clone();
        if !matches!(
            ap.status,
            AppointmentStatus::Arrived | AppointmentStatus::Fulfilled
        ) {
            return Err(ClinicError::conflict("charges need a checked-in visit"));
        }
        let charges = self.price(st, &ap)?;
        // Check the claim can be built before touching the ledger, so a refusal leaves
        // nothing behind: the only failure left is a ledger fault on a fresh entry.
        let payer = st
            .setup
            .as_ref()
            .map_or_else(crate::seed::legacy_payer, |s| s.payer);
        let control = format!("BSD{:04}", st.billing.claims.iter().count() + 1);
        let mut ledger_before = None;
        for c in &charges {
            if ledger_before.is_none() {
                ledger_before = Some(st.billing.books.clone());
            }
            if let Err(e) =
                st.billing
                    .books
                    .capture_charge(c, bedside_ledger::BillTo::Payer(payer), by, at)
            {
                if let Some(b) = ledger_before {
                    st.billing.books = b;
                }
                return Err(ClinicError::domain("charge", &e));
            }
        }
        let draft = bedside_ledger::ClaimDraft {
            id: *claim,
            payer,
            coverage: bedside_core::CoverageId::from_uuid(claim.as_uuid()),
            control_number: control.clone(),
            charges: &charges,
        };
        let built = match replaces {
            Some(original) => {
                st.billing
                    .claims
                    .build_replacement(&mut st.billing.books, *original, draft, by, at)
            }
            None => st.billing.claims.build(&mut st.billing.books, draft, at),
        };
        if let Err(e) = built {
            if let Some(b) = ledger_before {
                st.billing.books = b;
            }
            return Err(ClinicError::domain("claim", &e));
        }
        let _ = st
            .billing
            .claims
            .transition(*claim, bedside_ledger::ClaimStatus::Submitted, at);
        let total: i64 = charges.iter().map(|c| c.amount.amount_minor()).sum();
        Ok(Charged {
            claim: *claim,
            control_number: control,
            charges: charges.len(),
            total_minor: total,
            replaces: *replaces,
        })
    }
}

/// An X12 835 remittance file posted to the ledger.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Remittance {
    /// The file's text.
    pub body: Sensitive<String>,
    /// Who posted it (journals written before it was recorded read as the importer).
    #[serde(default = "remittance_importer")]
    pub by: Actor,
}

impl Apply for Remittance {
    type Reply = RemittancePosted;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<RemittancePosted, ClinicError> {
        let Remittance { body, by } = self;
        let at = cx.at;
        let parsed = bedside_ledger::x12::parse(body.expose().as_bytes());
        if parsed.has_errors() || parsed.transactions.is_empty() {
            return Err(ClinicError::BadRequest {
                message: "the 835 file has errors".into(),
                details: parsed
                    .diagnostics
                    .iter()
                    .take(50)
                    .map(|d| d.to_string())
                    .collect(),
            });
        }
        let before = (
            st.billing.books.clone(),
            st.billing.claims.clone(),
            st.billing.poster.clone(),
        );
        let mut applied = 0;
        let mut matched = 0;
        let mut unmatched = 0;
        for tx in &parsed.transactions {
            // Posting records each claim's adjudication too, so the statement shows
            // the insurer payment.
            let summary = match st.billing.poster.post_and_record(
                &mut st.billing.books,
                &mut st.billing.claims,
                tx,
                by,
                at,
            ) {
                Ok(s) => s,
                Err(e) => {
                    (st.billing.books, st.billing.claims, st.billing.poster) = before;
                    return Err(ClinicError::domain("remittance", &e));
                }
            };
            applied += summary.entries_applied;
            matched += summary.claims_matched;
            unmatched += summary.claims_unmatched;
        }
        Ok(RemittancePosted {
            entries_applied: applied,
            claims_matched: matched,
            claims_unmatched: unmatched,
        })
    }
}

/// A patient payment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payment {
    /// The patient.
    pub patient: PatientId,
    /// Amount in cents.
    pub amount_minor: i64,
    /// Payment id.
    pub id: bedside_ledger::PaymentId,
    /// The caller's idempotency key, scoped to the patient.
    #[serde(default)]
    pub client_token: Option<String>,
    /// Billing staff record more than the balance as a credit.
    #[serde(default)]
    pub credit: bool,
    /// Who paid or recorded the payment (older journals read as the billing desk).
    #[serde(default = "billing_desk")]
    pub by: Actor,
}

impl Apply for Payment {
    type Reply = PaymentReceipt;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<PaymentReceipt, ClinicError> {
        let Payment {
            patient,
            amount_minor,
            id,
            client_token,
            credit,
            by,
        } = self;
        let at = cx.at;
        let fx = &mut cx.fx;
        if *amount_minor <= 0 || *amount_minor > 10_000_000 {
            return Err(ClinicError::bad("amount_minor: 1 to 10000000"));
        }
        st.billing
            .books
            .record_patient_payment(
                &bedside_ledger::PatientPayment {
                    id: *id,
                    patient: *patient,
                    amount: usd(*amount_minor),
                    method: bedside_ledger::PaymentMethod::Card {
                        reference: Sensitive::new(id.to_string()),
                    },
                    received_at: at,
                },
                by,
            )
            .map_err(|e| ClinicError::domain("payment", &e))?;
        let receipt = PaymentReceipt {
            payment: *id,
            balance_minor: st.billing.patient_balance_minor(*patient),
        };
        if let Some(key) = client_token {
            fx.unique.push(("payment-key", format!("{patient}/{key}")));
            st.payment_keys.insert(
                (*patient, key.clone()),
                PaymentRecord {
                    amount_minor: *amount_minor,
                    credit: *credit,
                    answer: receipt.clone(),
                },
            );
        }
        Ok(receipt)
    }
}

impl Clinic {
    /// Billing staff post the charges of a visit that took place (checked in and completed)
    /// and submit its claim.
    ///
    /// One claim per visit: charging a visit again is refused with the existing claim
    /// ([`ClinicError::AlreadyExists`]) unless `replaces` names that claim, which makes this a
    /// corrected (replacement) claim. Repeated codes aggregate into units, at most
    /// [`ClinicConfig::max_units`] per line.
    ///
    /// # Errors
    /// Forbidden unless billing or reception; not found; conflict (visit not completed, a
    /// claim exists, `replaces` is not this visit's claim); bad request for unknown codes or
    /// too many units.
    pub fn charge_visit(
        &self,
        principal: &Principal,
        appointment: AppointmentId,
        codes: &[String],
        replaces: Option<bedside_core::ClaimId>,
    ) -> Result<Charged, ClinicError> {
        Self::staff_gate(Endpoint::Charge, principal)?;
        if codes.is_empty() || codes.len() > 100 {
            return Err(ClinicError::bad("codes: 1 to 100 procedure codes"));
        }
        let mut inner = self.lock();
        let ap = inner
            .state
            .schedule()?
            .appointment(appointment)
            .ok_or(ClinicError::NotFound {
                kind: "appointment",
            })?;
        if ap.status != AppointmentStatus::Fulfilled {
            return Err(ClinicError::conflict(
                "charges need a visit that took place (checked in and completed)",
            ));
        }
        let encounter = bedside_core::EncounterId::from_uuid(appointment.as_uuid());
        let existing = inner
            .state
            .billing
            .claims
            .for_encounter(encounter)
            .map(|c| c.id);
        match (existing, replaces) {
            (Some(current), None) => {
                return Err(ClinicError::AlreadyExists {
                    kind: "claim",
                    existing: current.to_string(),
                });
            }
            (Some(current), Some(r)) if current != r => {
                return Err(ClinicError::conflict(
                    "replaces: not the current claim of this visit",
                ));
            }
            (None, Some(_)) => {
                return Err(ClinicError::conflict("replaces: this visit has no claim"));
            }
            _ => {}
        }
        let mut lines: Vec<(String, u32)> = Vec::new();
        let mut problems = Vec::new();
        for (i, code) in codes.iter().enumerate() {
            let code = code.trim();
            match lines.iter_mut().find(|(c, _)| c == code) {
                Some((_, units)) => *units += 1,
                None => lines.push((code.to_string(), 1)),
            }
            let units = lines.iter().find(|(c, _)| c == code).map_or(1, |l| l.1);
            let cap = self
                .config
                .max_units
                .get(code)
                .copied()
                .unwrap_or(self.config.default_max_units);
            if units == cap + 1 {
                problems.push(format!("codes[{i}]: more than {cap} unit(s) of one code"));
            }
        }
        if !problems.is_empty() {
            return Err(ClinicError::BadRequest {
                message: format!("{} problem(s) in the charges", problems.len()),
                details: problems,
            });
        }
        self.execute_locked(
            &mut inner,
            Charge {
                appointment,
                charge_ids: lines
                    .iter()
                    .map(|_| bedside_ledger::ChargeId::from_uuid(uuid::Uuid::now_v7()))
                    .collect(),
                codes: lines.iter().map(|(c, _)| c.clone()).collect(),
                units: lines.iter().map(|(_, u)| *u).collect(),
                claim: bedside_core::ClaimId::from_uuid(uuid::Uuid::now_v7()),
                replaces,
                by: self.actor(principal),
            },
        )
    }

    /// Billing staff post an 835 remittance.
    ///
    /// # Errors
    /// Forbidden unless billing; bad request with the parser's diagnostics.
    pub fn post_remittance(
        &self,
        principal: &Principal,
        body: &str,
    ) -> Result<RemittancePosted, ClinicError> {
        Self::staff_gate(Endpoint::Remittance, principal)?;
        self.run(Remittance {
            body: Sensitive::new(body.to_string()),
            by: self.actor(principal),
        })
    }

    /// The patient's plain-language statement and balance, through the consent engine.
    ///
    /// # Errors
    /// Forbidden when consent denies.
    pub fn statement(
        &self,
        principal: &Principal,
        patient: PatientId,
    ) -> Result<StatementView, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(&inner, Endpoint::Statement, Some(principal), Some(patient))?;
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::Billing],
            None,
        )?;
        let b = &inner.state.billing;
        let now = self.now();
        // Claims (with the adjudications remittances recorded) and payments come from the books.
        let options = bedside_ledger::StatementOptions::new(
            now.with_timezone(&inner.state.zone()).date_naive(),
        )
        .with_how_to_pay("Online: use the payment link in your text or e-mail")
        .with_how_to_pay("Need more time? Ask for a payment plan — no interest, no fees");
        let statement = b
            .books
            .statement(&b.claims, patient, options)
            .map_err(|e| ClinicError::domain("statement", &e))?;
        Ok(StatementView {
            balance_minor: b.patient_balance_minor(patient),
            amount_due_minor: statement.amount_due.amount_minor(),
            text: statement.render_text(),
        })
    }

    /// A payment by the patient, a proxy with `billing`, or billing staff.
    ///
    /// With a `client_token` (the `Idempotency-Key` header) a retry returns the first answer
    /// and pays nothing more; the same key with another amount is a conflict. More than the
    /// balance is refused unless billing staff record a credit (`credit: true`).
    ///
    /// # Errors
    /// Forbidden; not found for an id that is not a patient; bad amount; conflict (over the
    /// balance, key reused with another request).
    pub fn pay(
        &self,
        principal: &Principal,
        patient: PatientId,
        request: &PaymentRequest,
    ) -> Result<PaymentReceipt, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(&inner, Endpoint::Pay, Some(principal), Some(patient))?;
        if inner.state.registry.current(patient).is_none() {
            return Err(ClinicError::NotFound { kind: "patient" });
        }
        if let Some(key) = &request.client_token
            && (key.is_empty() || key.len() > 100 || !key.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(ClinicError::bad(
                "idempotency key: 1 to 100 visible ASCII characters",
            ));
        }
        let billing_staff = principal.has_any_role(&[Role::BILLING]);
        if request.credit && !billing_staff {
            return Err(ClinicError::forbidden("credit: billing staff only"));
        }
        if let Some(key) = &request.client_token
            && let Some(first) = inner.state.payment_keys.get(&(patient, key.clone()))
        {
            return if first.amount_minor == request.amount_minor && first.credit == request.credit {
                Ok(first.answer.clone())
            } else {
                Err(ClinicError::conflict(
                    "idempotency key already used for a different payment",
                ))
            };
        }
        if request.amount_minor <= 0 || request.amount_minor > 10_000_000 {
            return Err(ClinicError::bad("amount_minor: 1 to 10000000"));
        }
        let balance = inner.state.billing.patient_balance_minor(patient);
        if request.amount_minor > balance && !request.credit {
            return Err(ClinicError::conflict(
                "amount_minor: more than the balance due",
            ));
        }
        if !billing_staff {
            self.authorize_command(
                &mut inner,
                principal,
                patient,
                Action::Read,
                &[DataClass::Billing],
            )?;
        }
        self.execute_locked(
            &mut inner,
            Payment {
                patient,
                amount_minor: request.amount_minor,
                id: bedside_ledger::PaymentId::from_uuid(uuid::Uuid::now_v7()),
                client_token: request.client_token.clone(),
                credit: request.credit,
                by: self.actor(principal),
            },
        )
    }

    /// The remittance work queue: unmatched claims, reversals without originals and
    /// duplicate payments, each with its reason.
    ///
    /// # Errors
    /// Forbidden unless billing.
    pub fn work_queue(&self, principal: &Principal) -> Result<Vec<WorkQueueItem>, ClinicError> {
        Self::staff_gate(Endpoint::WorkQueue, principal)?;
        let inner = self.lock();
        Ok(inner
            .state
            .billing
            .poster
            .work_queue()
            .iter()
            .map(|w| WorkQueueItem {
                reason: w.reason,
                trace_number: w.trace_number.clone(),
                control_number: w.control_number.expose().clone(),
                paid_minor: w.paid.amount_minor(),
                segment: w.segment,
            })
            .collect())
    }

    /// Accounts-receivable aging by payer and by patient.
    ///
    /// # Errors
    /// Forbidden unless billing or manager.
    pub fn aging(&self, principal: &Principal) -> Result<AgingView, ClinicError> {
        Self::staff_gate(Endpoint::Aging, principal)?;
        let inner = self.lock();
        let report = bedside_ledger::aging(&inner.state.billing.books, self.now())
            .map_err(|e| ClinicError::domain("aging", &e))?;
        Ok(AgingView {
            patients_total_minor: report.patients.total.amount_minor(),
            payers_total_minor: report.payers.total.amount_minor(),
            text: report.render_totals(),
        })
    }
}
