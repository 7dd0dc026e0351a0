//! `eval`: the one place where Bedside's accuracy, conformance and throughput figures are
//! measured.
//!
//! `cargo run --release -p bedside-benches --bin eval -- <subcommand> [args]`
//!
//! Each subcommand prints whatever detail it has, then one summary line starting with
//! `<subcommand>: `, and exits non-zero when its check fails. An unknown subcommand prints the
//! list of known ones and exits 2. Each domain registers its subcommands in its own module.

use std::process::ExitCode;

mod fhir;
mod ids;

#[cfg(feature = "clinic")]
mod clinic;
#[cfg(feature = "clinic")]
mod clinic_scale;
mod clinic_search;
#[cfg(feature = "consent")]
mod consent;
#[cfg(feature = "ledger")]
mod ledger;
#[cfg(feature = "records")]
mod matching;
#[cfg(feature = "records")]
mod records;
#[cfg(feature = "schedule")]
mod schedule;
#[cfg(feature = "survey")]
mod survey;
#[cfg(feature = "vitals")]
mod vitals;
#[cfg(feature = "ledger")]
mod x12;

/// One eval subcommand.
pub struct Command {
    /// The name typed on the command line.
    pub name: &'static str,
    /// Usage and purpose, one line.
    pub about: &'static str,
    /// Runs the subcommand with the arguments after its name.
    pub run: fn(&[String]) -> ExitCode,
}

fn commands() -> Vec<Command> {
    let mut all = ids::commands();
    all.extend(fhir::commands());
    #[cfg(feature = "records")]
    all.extend(records::commands());
    #[cfg(feature = "records")]
    all.extend(matching::commands());
    #[cfg(feature = "consent")]
    all.extend(consent::commands());
    #[cfg(feature = "schedule")]
    all.extend(schedule::commands());
    #[cfg(feature = "ledger")]
    all.extend(ledger::commands());
    #[cfg(feature = "ledger")]
    all.extend(x12::commands());
    #[cfg(feature = "survey")]
    all.extend(survey::commands());
    #[cfg(feature = "vitals")]
    all.extend(vitals::commands());
    #[cfg(feature = "clinic")]
    all.extend(clinic::commands());
    #[cfg(feature = "clinic")]
    all.extend(clinic_scale::commands());
    all.extend(clinic_search::commands());
    all
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let all = commands();
    let Some(name) = args.first() else {
        print_known(&all);
        return ExitCode::from(2);
    };
    match all.iter().find(|c| c.name == name.as_str()) {
        Some(cmd) => (cmd.run)(&args[1..]),
        None => {
            eprintln!("eval: unknown subcommand `{name}`");
            print_known(&all);
            ExitCode::from(2)
        }
    }
}

fn print_known(all: &[Command]) {
    eprintln!("usage: eval <subcommand> [args]\nknown subcommands:");
    for c in all {
        eprintln!("  {:<20} {}", c.name, c.about);
    }
}

#[cfg(test)]
mod tests {
    use super::commands;
    use std::collections::BTreeSet;

    #[test]
    fn usage_lists_each_subcommand_once_in_one_shape() {
        let all = commands();
        let names: BTreeSet<_> = all.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), all.len(), "a subcommand is registered twice");
        for c in &all {
            // `<args>: purpose` (or `purpose` alone), never the name repeated in its own line.
            assert!(
                !c.about.starts_with(c.name),
                "{}: about repeats the name",
                c.name
            );
            let args_first = c.about.starts_with('<') || c.about.starts_with('[');
            assert!(
                !args_first || c.about.contains(": "),
                "{}: `<args>: purpose`",
                c.name
            );
        }
    }
}
