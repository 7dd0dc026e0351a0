//! Purpose codes for accounts and entries, so reports can group them without string matching.

/// Account purpose codes ([`crate::AccountSpec::code`]).
pub mod account {
    /// Patient (guarantor) receivable.
    pub const PATIENT_RECEIVABLE: u16 = 10;
    /// Payer (insurer) receivable.
    pub const PAYER_RECEIVABLE: u16 = 11;
    /// Cash and card clearing.
    pub const CASH: u16 = 20;
    /// Gross patient-service revenue.
    pub const REVENUE: u16 = 30;
    /// Contractual adjustments (CO).
    pub const CONTRACTUAL: u16 = 40;
    /// Other adjustments (OA).
    pub const OTHER_ADJUSTMENT: u16 = 41;
    /// Payer-initiated reductions (PI).
    pub const PAYER_INITIATED: u16 = 42;
    /// Provider-level adjustments (PLB).
    pub const PROVIDER_LEVEL: u16 = 43;
    /// Patient credit balances awaiting refund.
    pub const PATIENT_CREDIT: u16 = 50;
}

/// Entry purpose codes ([`crate::NewEntry::code`]).
pub mod entry {
    /// Charge capture.
    pub const CHARGE: u16 = 1;
    /// Remittance claim payment and adjustments.
    pub const REMIT_CLAIM: u16 = 2;
    /// Provider-level adjustment.
    pub const REMIT_PLB: u16 = 3;
    /// Patient payment.
    pub const PATIENT_PAYMENT: u16 = 4;
    /// Refund of a credit balance.
    pub const REFUND: u16 = 5;
    /// Expected insurer payment (pending hold).
    pub const EXPECTED_PAYMENT: u16 = 6;
    /// Transfer of a balance to a secondary payer.
    pub const SECONDARY_TRANSFER: u16 = 7;
}
