//! `ids`: typed-id generation and parsing throughput.

use crate::Command;
use bedside_benches::timing::{per_second, timed};
use bedside_core::{ManualClock, PatientId, SeededIdGenerator};
use std::hint::black_box;
use std::process::ExitCode;
use std::sync::Arc;

pub fn commands() -> Vec<Command> {
    vec![Command {
        name: "ids",
        about: "[--count N]: id generation and parsing throughput",
        run,
    }]
}

fn run(args: &[String]) -> ExitCode {
    let count: usize = match args {
        [] => 2_000_000,
        [flag, n] if flag == "--count" => match n.parse() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("ids: --count needs a positive integer");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: eval ids [--count N]");
            return ExitCode::from(2);
        }
    };
    let clock = Arc::new(ManualClock::new(
        chrono::DateTime::UNIX_EPOCH + chrono::TimeDelta::days(20_000),
    ));
    let ids = SeededIdGenerator::new(clock, 1);
    let (generated, gen_time) = timed(|| {
        (0..count)
            .map(|_| black_box(ids.generate::<PatientId>()))
            .collect::<Vec<_>>()
    });
    let texts: Vec<String> = generated.iter().map(ToString::to_string).collect();
    let (parsed, parse_time) = timed(|| {
        texts
            .iter()
            .map(|t| black_box(t.parse::<PatientId>()))
            .collect::<Vec<_>>()
    });
    let round_trips = parsed
        .iter()
        .zip(&generated)
        .filter(|(p, g)| p.as_ref().ok() == Some(*g))
        .count();
    let distinct = generated
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len();
    println!("generated {count} ids, {distinct} distinct, {round_trips} round-tripped");
    println!(
        "ids: generate_per_s {:.0} parse_per_s {:.0}",
        per_second(count as u64, gen_time),
        per_second(count as u64, parse_time)
    );
    if round_trips == count && distinct == count {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
