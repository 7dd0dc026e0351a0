//! Workloads for `bedside-ledger`: two-posting transfers (the TigerBeetle-style throughput
//! test), the journal encode+replay test, a bare `HashMap` baseline, and a healthcare mix
//! (charges, claims, 835 posting, patient payments). Shared by the `eval` binary and the
//! criterion bench.

use bedside_core::{
    AccountId, ClaimId, CoverageId, EncounterId, OrganisationId, PatientId, ProviderId, SeededRng,
    Timestamp,
};
use bedside_ledger::codec::{encode_entry, replay_into};
use bedside_ledger::x12;
use bedside_ledger::{
    AccountIndex, AccountKind, AccountLimit, AccountOwner, AccountSpec, BillTo, Books, ChargeId,
    ChargeRequest, ClaimBook, ClaimDraft, ClaimStatus, Currency, EntryId, FeeSchedule, Ledger,
    Money, NewEntry, Posting, ProcedureCode, RemittancePoster,
};
use chrono::{DateTime, NaiveDate};
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Instant as WallClock;

/// A fixed instant for generated entries.
pub fn epoch() -> Timestamp {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default()
}

/// Pre-generated two-posting transfers between funded accounts.
pub struct TransferWorkload {
    /// Accounts to open (all with a no-overdraft limit).
    pub accounts: Vec<AccountSpec>,
    /// The unlimited funding account.
    pub funding: AccountSpec,
    /// Entries: id, debit account, credit account, amount in minor units.
    pub entries: Vec<(EntryId, u32, u32, i64)>,
}

/// How client ids are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdOrder {
    /// Increasing ids from a random base (time-ordered ids, as TigerBeetle's benchmark uses by
    /// default).
    Sequential,
    /// Uniformly random 128-bit ids.
    Random,
}

/// Generates `entries` transfers among `accounts` accounts.
pub fn transfer_workload(
    accounts: usize,
    entries: usize,
    seed: u64,
    order: IdOrder,
) -> TransferWorkload {
    let mut rng = SeededRng::new(seed);
    let base = u128::from(rng.next_u64()) << 64;
    let spec = |i: u128| {
        AccountSpec::new(
            AccountId::from_uuid(EntryId::new(i + 1).to_uuid()),
            AccountKind::Asset,
            Currency::USD,
            AccountOwner::Clinic,
        )
    };
    let specs = (0..accounts as u128)
        .map(|i| spec(i).with_limit(AccountLimit::CreditsMustNotExceedDebits))
        .collect();
    let n = accounts.max(2) as u64;
    let list = (0..entries)
        .map(|i| {
            let id = match order {
                IdOrder::Sequential => base + i as u128 + 1,
                IdOrder::Random => {
                    (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()) | 1
                }
            };
            let a = rng.below(n) as u32;
            let mut b = rng.below(n) as u32;
            if b == a {
                b = (a + 1) % n as u32;
            }
            (EntryId::new(id), a, b, 1 + rng.below(10_000) as i64)
        })
        .collect();
    TransferWorkload {
        accounts: specs,
        funding: AccountSpec::new(
            AccountId::from_uuid(EntryId::new(u128::MAX).to_uuid()),
            AccountKind::Revenue,
            Currency::USD,
            AccountOwner::Clinic,
        ),
        entries: list,
    }
}

/// Opens the accounts and funds each (so no-overdraft limits are checked but rarely hit).
pub fn setup_ledger(w: &TransferWorkload) -> Ledger {
    let mut ledger =
        Ledger::with_capacity(w.accounts.len() + 1, w.entries.len() + w.accounts.len());
    let funding = ledger
        .create_account(w.funding)
        .unwrap_or(AccountIndex::new(0));
    for (i, spec) in w.accounts.iter().enumerate() {
        let Ok(a) = ledger.create_account(*spec) else {
            continue;
        };
        let p = [
            Posting::debit(a, Money::new(1_000_000_000_000, Currency::USD)),
            Posting::credit(funding, Money::new(1_000_000_000_000, Currency::USD)),
        ];
        let id = EntryId::derive(&[b"fund", &(i as u64).to_le_bytes()]);
        let _ = ledger.apply(&NewEntry::posted(id, epoch(), &p));
    }
    ledger
}

/// Applies every transfer; returns how many were accepted.
pub fn apply_transfers(ledger: &mut Ledger, w: &TransferWorkload) -> usize {
    let at = epoch();
    let mut ok = 0;
    for &(id, a, b, amount) in &w.entries {
        let m = Money::new(amount, Currency::USD);
        let p = [
            Posting::credit(AccountIndex::new(a), m),
            Posting::debit(AccountIndex::new(b), m),
        ];
        if ledger.apply(&NewEntry::posted(id, at, &p)).is_ok() {
            ok += 1;
        }
    }
    ok
}

/// Encodes every transfer as a journal record.
pub fn encode_transfers(w: &TransferWorkload, out: &mut Vec<u8>) {
    let at = epoch();
    for &(id, a, b, amount) in &w.entries {
        let m = Money::new(amount, Currency::USD);
        let p = [
            Posting::credit(AccountIndex::new(a), m),
            Posting::debit(AccountIndex::new(b), m),
        ];
        encode_entry(&NewEntry::posted(id, at, &p), out);
    }
}

/// The physical-limit baseline: a bare `HashMap<u32, i64>` balance update per posting.
pub fn hashmap_baseline(w: &TransferWorkload) -> i64 {
    let mut balances: HashMap<u32, i64> = HashMap::with_capacity(w.accounts.len());
    for &(_, a, b, amount) in &w.entries {
        *balances.entry(a).or_insert(0) -= amount;
        *balances.entry(b).or_insert(0) += amount;
    }
    balances.values().sum()
}

/// A generated clinic: fee schedule, patients and their 835 remittances.
pub struct HealthcareMix {
    patients: Vec<PatientId>,
    payer: OrganisationId,
    fees: FeeSchedule,
    remittances: Vec<String>,
}

fn derived(parts: &[&[u8]]) -> bedside_ledger::Uuid {
    EntryId::derive(parts).to_uuid()
}

/// Generates `patients` patients with one visit each (office visit and a blood draw), and
/// 835 files of 1,000 claims paying them (contractual write-off and copay).
pub fn healthcare_mix(patients: usize) -> HealthcareMix {
    let mut fees = FeeSchedule::new();
    if let (Ok(visit), Ok(draw)) = (ProcedureCode::parse("99213"), ProcedureCode::parse("36415")) {
        fees.set(
            visit,
            None,
            Money::new(20_000, Currency::USD),
            "Office visit",
        );
        fees.set(draw, None, Money::new(3_000, Currency::USD), "Blood draw");
    }
    let list: Vec<PatientId> = (0..patients as u64)
        .map(|i| PatientId::from_uuid(derived(&[b"patient", &i.to_le_bytes()])))
        .collect();
    let mut remittances = Vec::new();
    for (batch, chunk) in list.chunks(1_000).enumerate() {
        let mut s = String::with_capacity(chunk.len() * 120 + 400);
        s.push_str("ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *260101*1200*^*00501*000000001*0*P*:~GS*HP*PAYER*CLINIC*20260101*1200*1*X*005010X221A1~ST*835*0001~");
        s.push_str(&format!("BPR*I*{}.00*C*ACH************20260115~TRN*1*BATCH{batch}*1999999999~N1*PR*MIX HEALTH PLAN~N1*PE*CLINIC*XX*1234567893~LX*1~", 125 * chunk.len()));
        for k in 0..chunk.len() {
            let n = batch * 1_000 + k;
            s.push_str(&format!("CLP*PCN{n}*1*230.00*125.00*25.00*12*PAY{n}~SVC*HC:99213*200.00*100.00~CAS*PR*3*25.00~CAS*CO*45*75.00~SVC*HC:36415*30.00*25.00~CAS*CO*45*5.00~"));
        }
        s.push_str("SE*1*0001~GE*1*1~IEA*1*000000001~");
        remittances.push(s);
    }
    HealthcareMix {
        patients: list,
        payer: OrganisationId::from_uuid(derived(&[b"mix-payer"])),
        fees,
        remittances,
    }
}

/// Runs the healthcare mix: charge capture, claim build and submission, 835 parse and
/// posting, and a patient copay payment per patient. Returns the number of ledger entries and
/// whether the trial balance is zero.
pub fn run_healthcare_mix(mix: &HealthcareMix) -> Result<(usize, bool), String> {
    // Who does the billing work (charges) in the benchmarked clinic.
    let desk = bedside_core::Actor::System {
        component: "billing-desk".into(),
    };
    let mut books = Books::open_in(
        Ledger::with_capacity(mix.patients.len() + 16, mix.patients.len() * 4),
        Currency::USD,
    )
    .map_err(|e| e.to_string())?;
    let mut claims = ClaimBook::new();
    let at = epoch();
    let dos = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default();
    let codes = [
        ProcedureCode::parse("99213").map_err(|e| e.to_string())?,
        ProcedureCode::parse("36415").map_err(|e| e.to_string())?,
    ];
    for (n, &patient) in mix.patients.iter().enumerate() {
        let key = (n as u64).to_le_bytes();
        let mut charges = Vec::with_capacity(2);
        for (i, code) in codes.iter().enumerate() {
            let charge = mix
                .fees
                .price(
                    ChargeId::from_uuid(derived(&[b"charge", &key, &[i as u8]])),
                    ChargeRequest {
                        patient,
                        encounter: EncounterId::from_uuid(derived(&[b"enc", &key])),
                        code: code.clone(),
                        modifiers: Vec::new(),
                        units: 1,
                        date_of_service: dos,
                        rendering_provider: ProviderId::from_uuid(derived(&[b"prov"])),
                        diagnosis_pointers: vec![1],
                    },
                )
                .map_err(|e| e.to_string())?;
            books
                .capture_charge(&charge, BillTo::Payer(mix.payer), &desk, at)
                .map_err(|e| e.to_string())?;
            charges.push(charge);
        }
        let id = ClaimId::from_uuid(derived(&[b"claim", &key]));
        claims
            .build(
                &mut books,
                ClaimDraft {
                    id,
                    payer: mix.payer,
                    coverage: CoverageId::from_uuid(derived(&[b"cov", &key])),
                    control_number: format!("PCN{n}"),
                    charges: &charges,
                },
                at,
            )
            .map_err(|e| e.to_string())?;
        claims
            .transition(id, ClaimStatus::Submitted, at)
            .map_err(|e| e.to_string())?;
    }
    let mut poster = RemittancePoster::new(books.clinic);
    let importer = bedside_core::Actor::System {
        component: "remittance-import".into(),
    };
    for text in &mix.remittances {
        let r = x12::parse(text.as_bytes());
        for tx in &r.transactions {
            let s = poster
                .post_and_record(&mut books, &mut claims, tx, &importer, at)
                .map_err(|e| e.to_string())?;
            if let Some((claim, status)) = s.not_recorded.first() {
                return Err(format!(
                    "claim {claim} ({status}) did not record its adjudication"
                ));
            }
        }
    }
    for (n, &patient) in mix.patients.iter().enumerate() {
        let account = books.patient_account(patient).map_err(|e| e.to_string())?;
        let copay = Money::new(2_500, Currency::USD);
        let p = [
            Posting::debit(books.clinic.cash, copay),
            Posting::credit(account, copay),
        ];
        let id = EntryId::derive(&[b"pay", &(n as u64).to_le_bytes()]);
        books
            .ledger
            .apply(&NewEntry::posted(id, at, &p))
            .map_err(|e| e.to_string())?;
    }
    Ok((
        books.ledger.entry_count(),
        books.ledger.trial_balance().is_zero(),
    ))
}

/// Nanoseconds this thread has run on a CPU (Linux `/proc/thread-self/schedstat`), so
/// one-core rates stay meaningful while other builds share the machine.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Wall and CPU time of a measured section.
struct Timer {
    wall: WallClock,
    cpu: Option<u64>,
}

impl Timer {
    fn start() -> Self {
        Self {
            cpu: thread_cpu_ns(),
            wall: WallClock::now(),
        }
    }
    /// (wall seconds, CPU seconds — wall when CPU time is unavailable).
    fn stop(&self) -> (f64, f64) {
        let wall = self.wall.elapsed().as_secs_f64();
        let cpu = match (self.cpu, thread_cpu_ns()) {
            (Some(a), Some(b)) if b >= a => (b - a) as f64 / 1e9,
            _ => wall,
        };
        (wall, cpu)
    }
}

fn arg_value(args: &[String], name: &str) -> Option<usize> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.replace('_', "").parse().ok())
}

/// `eval ledger-throughput [--entries N] [--patients P]`.
pub fn throughput_command(args: &[String]) -> ExitCode {
    let entries = arg_value(args, "--entries").unwrap_or(1_000_000);
    let patients = arg_value(args, "--patients").unwrap_or(100_000);
    let accounts = 10_000;
    let w = transfer_workload(accounts, entries, 0x5EED, IdOrder::Sequential);
    let mut ok = true;

    // Bare HashMap baseline (the physical limit).
    let t = Timer::start();
    let sum = hashmap_baseline(&w);
    let (baseline_wall, baseline_cpu) = t.stop();
    let baseline = entries as f64 / baseline_cpu;
    if sum != 0 {
        ok = false;
    }

    // Ledger apply: idempotency map, limits and checked arithmetic on.
    let mut ledger = setup_ledger(&w);
    let setup_journal = {
        let mut b = Vec::new();
        ledger.write_journal(&mut b);
        b
    };
    let t = Timer::start();
    let applied = apply_transfers(&mut ledger, &w);
    let (apply_wall, apply_s) = t.stop();
    let entries_per_s = entries as f64 / apply_s;
    if !ledger.trial_balance().is_zero() {
        ok = false;
    }

    // Retrying everything must change nothing (idempotency).
    let before = ledger.entry_count();
    let t = Timer::start();
    let _ = apply_transfers(&mut ledger, &w);
    let (_, retry_s) = t.stop();
    if ledger.entry_count() != before {
        ok = false;
    }

    // Journal: encode the transfers, then replay setup + transfers into a fresh ledger.
    // The log buffer stands in for the log file: it is allocated and written once before
    // timing, as a log file would be preallocated.
    let mut journal = vec![0u8; setup_journal.len() + entries * 80];
    journal.clear();
    journal.extend_from_slice(&setup_journal);
    let t = Timer::start();
    encode_transfers(&w, &mut journal);
    let (encode_wall, encode_s) = t.stop();
    // Recovery = allocate the ledger + replay; the codec rate counts encode + replay only.
    let t = Timer::start();
    let fresh = Ledger::with_capacity(accounts + 1, entries + accounts);
    let (alloc_wall, alloc_s) = t.stop();
    let t = Timer::start();
    let r = replay_into(fresh, &journal);
    let (replay_wall, replay_s) = t.stop();
    let codec_per_s = entries as f64 / (encode_s + replay_s);
    if r.stopped.is_some() || r.ledger != ledger {
        eprintln!(
            "ledger-throughput: replay did not rebuild the same ledger: {:?}",
            r.stopped
        );
        ok = false;
    }
    let replay_1m_s = (alloc_s + replay_s) * 1_000_000.0 / entries as f64;

    println!(
        "transfers: {entries} two-posting entries over {accounts} accounts, {applied} accepted; apply {apply_s:.3} s; idempotent retry of all {retry_s:.3} s"
    );
    println!(
        "baseline: bare HashMap balance update {:.0} entries/s; ledger is {:.1}x slower",
        baseline,
        baseline / entries_per_s
    );
    println!(
        "timing: rates use this thread's CPU time (one core, robust to other load); wall: apply {apply_wall:.3} s, baseline {baseline_wall:.3} s, encode {encode_wall:.3} s, allocation {alloc_wall:.3} s, replay {replay_wall:.3} s"
    );
    println!(
        "journal: {} bytes ({:.1} bytes/entry); encode {encode_s:.3} s, ledger allocation {alloc_s:.3} s, decode+verify+apply {replay_s:.3} s",
        journal.len(),
        journal.len() as f64 / (entries + 2 * accounts) as f64
    );
    let mix = healthcare_mix(patients);
    let t = Timer::start();
    match run_healthcare_mix(&mix) {
        Ok((n, balanced)) => {
            let (_, s) = t.stop();
            println!(
                "healthcare-mix: {patients} patients, {n} entries (charges, 835 claim postings, payments) incl. claim building and 835 parsing in {s:.3} s = {:.0} entries/s; trial balance zero: {balanced}",
                n as f64 / s
            );
            ok &= balanced;
        }
        Err(e) => {
            eprintln!("healthcare-mix failed: {e}");
            ok = false;
        }
    }
    // The same workload with random 128-bit ids (hash-table cache misses dominate).
    let random = transfer_workload(accounts, entries, 0x5EED, IdOrder::Random);
    let mut ledger = setup_ledger(&random);
    let t = Timer::start();
    let _ = apply_transfers(&mut ledger, &random);
    println!(
        "random-ids: {:.0} entries/s with uniformly random client ids",
        entries as f64 / t.stop().1
    );
    drop(ledger);
    let verdict = |hit: bool| if hit { "met" } else { "MISSED" };
    println!(
        "targets: entries_per_s >= 5000000 {}; codec_entries_per_s >= 2000000 {}; replay_1m_s < 1 {}",
        verdict(entries_per_s >= 5_000_000.0),
        verdict(codec_per_s >= 2_000_000.0),
        verdict(replay_1m_s < 1.0)
    );
    println!(
        "ledger-throughput: entries_per_s {entries_per_s:.0} codec_entries_per_s {codec_per_s:.0} replay_1m_s {replay_1m_s:.3}"
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
