//! Eval subcommands of `bedside-ledger`'s X12 exchange: `x12-837`, `x12-roundtrip` and
//! `x12-270`.

use crate::Command;
use bedside_ledger::x12::sim::month::{FileKind, MonthRun, run_month};
use chrono::NaiveDate;
use std::path::Path;
use std::process::ExitCode;

/// The subcommands this module registers.
pub fn commands() -> Vec<Command> {
    vec![
        Command {
            name: "x12-837",
            about: "<out_dir>: write a synthetic clinic month's 837P interchanges (validate them with ../shared/tools/x12-validate)",
            run: x12_837,
        },
        Command {
            name: "x12-270",
            about: "<out_dir>: write 270 eligibility requests for planned visits, read them back, answer with 271s and estimate",
            run: x12_270,
        },
        Command {
            name: "x12-roundtrip",
            about: "[out_dir]: claims → 999/277CA → payer 835s → posted; every claim closed and the ledger balanced",
            run: x12_roundtrip,
        },
    ]
}

const SEED: u64 = 18;
const VISITS: usize = 60;

fn month() -> Result<MonthRun, String> {
    let start = NaiveDate::from_ymd_opt(2026, 3, 2).ok_or("date")?;
    run_month(SEED, VISITS, start)
}

fn write_files(run: &MonthRun, dir: &Path, kinds: &[FileKind]) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let mut n = 0;
    for f in run.files.iter().filter(|f| kinds.contains(&f.kind)) {
        std::fs::write(dir.join(&f.name), &f.bytes)
            .map_err(|e| format!("cannot write `{}`: {e}", f.name))?;
        n += 1;
    }
    Ok(n)
}

fn x12_837(args: &[String]) -> ExitCode {
    let Some(dir) = args.first() else {
        eprintln!("usage: eval x12-837 <out_dir>");
        return ExitCode::from(2);
    };
    let run = match month() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("x12-837: {e}");
            return ExitCode::FAILURE;
        }
    };
    let files = match write_files(&run, Path::new(dir), &[FileKind::Claim837]) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("x12-837: {e}");
            return ExitCode::FAILURE;
        }
    };
    for f in run.files.iter().filter(|f| f.kind == FileKind::Claim837) {
        let clm = f.bytes.windows(5).filter(|w| w == b"~CLM*").count();
        println!("{}: {} claims, {} bytes", f.name, clm, f.bytes.len());
    }
    let (replaced, voided) = run.corrections;
    let secondaries = run
        .claims
        .iter()
        .filter(|c| {
            matches!(
                c.sequence,
                bedside_ledger::claim::PayerSequence::Secondary { .. }
            )
        })
        .count();
    println!(
        "{replaced} replacements, {voided} voids, {secondaries} secondary claims, {} interchanges tracked",
        run.submissions.len()
    );
    match throughput(50_000) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("x12-837: throughput: {e}");
            return ExitCode::FAILURE;
        }
    }
    println!("x12-837: {} claims in {files} files", run.claims_written);
    if run.claims_written >= 50 && files > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn x12_roundtrip(args: &[String]) -> ExitCode {
    let run = match month() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("x12-roundtrip: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(dir) = args.first() {
        let all = [
            FileKind::Claim837,
            FileKind::Ack999,
            FileKind::Ack277,
            FileKind::Remit835,
        ];
        if let Err(e) = write_files(&run, Path::new(dir), &all) {
            eprintln!("x12-roundtrip: {e}");
            return ExitCode::FAILURE;
        }
    }
    let books = &run.books;
    let mut unbalanced = run.remittances_unbalanced;
    let mut open_receivables = 0;
    for c in run.claims.iter() {
        for account in [c.payer_account, c.patient_account] {
            let posted = books
                .ledger
                .balance(account)
                .map(|b| b.posted.amount_minor());
            if posted != Some(0) {
                open_receivables += 1;
            }
        }
    }
    if open_receivables > 0 {
        println!("{open_receivables} claim receivables not settled");
        unbalanced += run.claims_due - run.claims_posted + usize::from(open_receivables > 0);
    }
    if !books.ledger.trial_balance().is_zero() {
        println!("trial balance is not zero");
        unbalanced += 1;
    }
    let exchanged = |k: FileKind| run.files.iter().filter(|f| f.kind == k).count();
    println!(
        "{} 837, {} 999, {} 277CA, {} 835 exchanged; {} rejections worked; {} claims open",
        exchanged(FileKind::Claim837),
        exchanged(FileKind::Ack999),
        exchanged(FileKind::Ack277),
        exchanged(FileKind::Remit835),
        run.rejections,
        run.claims_open,
    );
    unbalanced += run.claims_open;
    println!(
        "x12-roundtrip: {} claims, {} posted, {unbalanced} unbalanced",
        run.claims_due, run.claims_posted
    );
    if unbalanced == 0 && run.claims_posted == run.claims_due && run.claims_due > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn x12_270(args: &[String]) -> ExitCode {
    use bedside_ledger::x12::sim::eligibility::run_eligibility;
    let Some(dir) = args.first() else {
        eprintln!("usage: eval x12-270 <out_dir>");
        return ExitCode::from(2);
    };
    let Some(date) = NaiveDate::from_ymd_opt(2026, 3, 16) else {
        return ExitCode::FAILURE;
    };
    let run = match run_eligibility(SEED, 40, date) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("x12-270: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = Path::new(dir);
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("x12-270: cannot create `{}`: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for (name, bytes) in run.requests.iter().chain(&run.responses) {
        if let Err(e) = std::fs::write(dir.join(name), bytes) {
            eprintln!("x12-270: cannot write `{name}`: {e}");
            return ExitCode::FAILURE;
        }
    }
    let owed: i64 = run
        .estimates
        .iter()
        .map(|e| e.patient_total.amount_minor())
        .sum();
    let n = run.estimates.len().max(1) as i64;
    println!(
        "{} estimates, mean patient share {}.{:02} USD per office visit",
        run.estimates.len(),
        owed / n / 100,
        (owed / n) % 100
    );
    println!(
        "x12-270: {} requests in {} files, {} read back, {} answered",
        run.requests_written,
        run.requests.len(),
        run.requests_read_back,
        run.answered
    );
    if run.requests_written > 0
        && run.requests_read_back == run.requests_written
        && run.answered == run.requests_written
    {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// 837P generation rate on one core: `n` claims written into one interchange, best of five.
fn throughput(n: usize) -> Result<String, String> {
    use bedside_ledger::x12::Submissions;
    use bedside_ledger::x12::sim::fixture::ClaimFixture;
    use bedside_ledger::x12::write837::write;
    let fixture = ClaimFixture::new(SEED, n)?;
    let inputs = fixture.inputs();
    let batch = fixture.batch(&inputs);
    let at = chrono::DateTime::from_timestamp(1_772_438_400, 0).unwrap_or_default();
    let mut out = Vec::with_capacity(n * 600);
    let mut best = f64::MAX;
    for _ in 0..5 {
        out.clear();
        let mut submissions = Submissions::new();
        let start = std::time::Instant::now();
        write(&batch, &mut submissions, at, &mut out).map_err(|e| e.to_string())?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(format!(
        "837P generation: {n} claims ({} bytes) in {:.1} ms, {:.0} claims/s on one core",
        out.len(),
        best * 1e3,
        n as f64 / best
    ))
}
