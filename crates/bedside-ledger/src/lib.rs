//! Double-entry billing ledger in integer money: charges, claims, remittance, statements, payment plans, aging.
//!
//! This crate is part of the Bedside workspace; it depends only on `bedside-core` and does no
//! I/O of its own. Its contents arrive with the issue that specifies them.
