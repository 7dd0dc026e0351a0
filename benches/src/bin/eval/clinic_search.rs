//! `clinic-patient-search`: the FHIR Patient search (`GET /fhir/Patient?…`) inside the backend
//! at N patients, through the service the handler calls (`Clinic::search_patients`), with
//! its consent decisions and the audit entry each returned record's read writes.

use super::Command;
use super::clinic_scale::{Place, Res, exit, flag, form, patient_id};
use bedside_clinic::clinic::{PatientParam, PatientSearch};
use bedside_clinic::seed;
use bedside_core::{ManualClock, PatientId};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The subcommands this module registers.
pub fn commands() -> Vec<Command> {
    vec![Command {
        name: "clinic-patient-search",
        about: "[--patients N] [--queries Q] [--database sqlite|postgres]: FHIR Patient search latency (family, given+family, name prefix, birthdate, postal code; 20 per page, consent and audit included) inside the backend at N patients",
        run: search,
    }]
}

fn search(args: &[String]) -> ExitCode {
    exit("clinic-patient-search", search_run(args))
}

/// One query: FHIR parameters built from the registration form of patient `n`, who must be
/// among the results.
fn query(kind: u64, n: u64) -> Res<PatientSearch> {
    let f = form(n);
    let mut s = PatientSearch::new();
    let family = f.family.clone();
    let given = f.given.first().cloned().unwrap_or_default();
    match kind % 5 {
        0 => s.add(PatientParam::Family, "family", &[&family])?,
        1 => {
            s.add(PatientParam::Given, "given", &[&given])?;
            s.add(PatientParam::Family, "family", &[&family])?;
        }
        2 => {
            let prefix: String = family.chars().take(5).collect();
            s.add(PatientParam::Name, "name", &[&prefix])?;
            s.add(PatientParam::BirthDate, "birthdate", &[&f.birth_date[..4]])?;
        }
        3 => s.add(PatientParam::BirthDate, "birthdate", &[&f.birth_date])?,
        _ => {
            let code = f.postal_code.clone().unwrap_or_default();
            s.add(PatientParam::PostalCode, "address-postalcode", &[&code])?;
            s.add(PatientParam::Given, "given", &[&given])?;
        }
    }
    Ok(s)
}

fn search_run(args: &[String]) -> Res<bool> {
    let patients: u64 = flag(args, "--patients").map_or(Ok(100_000), |v| v.parse())?;
    let queries: u64 = flag(args, "--queries").map_or(Ok(2_000), |v| v.parse())?;
    let database = flag(args, "--database").unwrap_or_else(|| "sqlite".into());
    if patients == 0 {
        return Err("--patients must be at least 1".into());
    }
    let place = Place::new(&database, None)?;
    let clock = Arc::new(ManualClock::new("2026-06-08T13:00:00Z".parse()?));
    let clinic = place.open(clock)?;
    seed::seed(&clinic)?;
    let reception = seed::demo_staff("reception")?;
    let built = Instant::now();
    let mut ids: Vec<PatientId> = Vec::with_capacity(patients as usize);
    for n in 0..patients {
        ids.push(patient_id(&clinic.register(&form(n), Some(&reception))?)?);
    }
    eprintln!(
        "registered {patients} patients in {:.1} s on {database}",
        built.elapsed().as_secs_f64()
    );
    let desk = seed::demo_staff("scheduler")?;
    let mut times = Vec::with_capacity(queries as usize);
    let (mut found, mut results) = (0u64, 0u64);
    for q in 0..queries {
        let n = (q * 7919) % patients;
        let search = query(q, n)?;
        // The patient the query was built from: on the first page, or counted in the total
        // when more than a page matches.
        let t = Instant::now();
        let page = clinic.search_patients(&desk, &search, 0, 20)?;
        times.push(t.elapsed());
        results += page.total as u64;
        let me = ids[n as usize];
        if page.patients.iter().any(|p| p.patient == me) || page.total > page.patients.len() {
            found += 1;
        }
    }
    times.sort_unstable();
    let pct = |p: f64| -> Duration { times[((times.len() - 1) as f64 * p).round() as usize] };
    let p99 = pct(0.99).as_secs_f64() * 1e3;
    println!(
        "clinic-patient-search: {database}, {patients} patients, {queries} searches: p50 {:.2} ms, p99 {p99:.2} ms (target < 20 ms); {found}/{queries} found the patient they were built from, {:.1} matches per search",
        pct(0.5).as_secs_f64() * 1e3,
        results as f64 / queries as f64
    );
    Ok(p99 < 20.0 && found == queries)
}
