//! Load test of the clinic HTTP API over loopback: requests per second and latency
//! percentiles for slot search, booking and home-vitals upload.
//!
//! Starts the backend in-process on an ephemeral port with a fresh database in a temporary
//! directory, seeds the demo clinic, then drives it with a small keep-alive HTTP/1.1 client
//! (plain `std::net`, no client crate) from several threads, each with a bounded number of
//! requests. Run with `cargo run --release --example load [-- --threads N] [--fsync]`
//! (`--fsync`: `synchronous=FULL`, every commit flushed to disk).

use bedside::core::SystemClock;
use bedside_clinic::{
    Clinic, ClinicConfig, Durability, Principal, SlotSearch, SqliteStore, http, seed,
};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(addr: SocketAddr) -> Result<Self, BoxError> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), BoxError> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: load\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(t) = token {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        head.push_str("\r\n");
        self.writer.write_all(head.as_bytes())?;
        self.writer.write_all(body)?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line.split_whitespace().nth(1).ok_or("no status")?.parse()?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse()?;
                }
            }
        }
        let mut out = vec![0; length];
        self.reader.read_exact(&mut out)?;
        Ok((status, out))
    }
}

struct Stats {
    name: &'static str,
    latencies: Vec<Duration>,
    elapsed: Duration,
    ok: usize,
    other: usize,
}

impl Stats {
    fn print(&mut self, unit: Option<(&str, usize)>) {
        self.latencies.sort();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
            self.latencies.get(i).copied().unwrap_or_default()
        };
        let n = self.latencies.len();
        let rps = n as f64 / self.elapsed.as_secs_f64();
        print!(
            "{:<14} {:>6} req in {:>6.2} s: {:>8.0} req/s, p50 {:>6.2} ms, p99 {:>6.2} ms ({} 2xx, {} other)",
            self.name,
            n,
            self.elapsed.as_secs_f64(),
            rps,
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            self.ok,
            self.other
        );
        if let Some((what, per_request)) = unit {
            print!(", {:.0} {what}/s", rps * per_request as f64);
        }
        println!();
    }
}

/// Runs `jobs` split over `threads` connections; `job(i)` gives (method, path, token, body).
fn drive<F>(
    name: &'static str,
    addr: SocketAddr,
    threads: usize,
    jobs: usize,
    job: F,
) -> Result<Stats, BoxError>
where
    F: Fn(usize) -> (String, String, Option<String>, Vec<u8>) + Send + Sync + 'static,
{
    let job = Arc::new(job);
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in 0..threads {
        let job = job.clone();
        handles.push(std::thread::spawn(
            move || -> Result<(Vec<Duration>, usize, usize), BoxError> {
                let mut conn = Conn::open(addr)?;
                let mut lat = Vec::new();
                let (mut ok, mut other) = (0, 0);
                let mut i = t;
                while i < jobs {
                    let (method, path, token, body) = job(i);
                    let t0 = Instant::now();
                    let (status, _) = conn.request(&method, &path, token.as_deref(), &body)?;
                    lat.push(t0.elapsed());
                    if (200..300).contains(&status) {
                        ok += 1
                    } else {
                        other += 1
                    }
                    i += threads;
                }
                Ok((lat, ok, other))
            },
        ));
    }
    let mut stats = Stats {
        name,
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
        ok: 0,
        other: 0,
    };
    for h in handles {
        let (lat, ok, other) = h.join().map_err(|_| "client thread panicked")??;
        stats.latencies.extend(lat);
        stats.ok += ok;
        stats.other += other;
    }
    stats.elapsed = start.elapsed();
    Ok(stats)
}

fn main() -> Result<(), BoxError> {
    let mut threads = 8;
    let mut durability = Durability::Normal;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().ok_or("--threads needs a number")?.parse()?,
            "--fsync" => durability = Durability::Full,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let dir = std::env::temp_dir().join(format!("bedside-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = SqliteStore::open(&dir.join("clinic.db"), durability)?;
    let clinic = Arc::new(Clinic::open(
        Box::new(store),
        Arc::new(SystemClock),
        ClinicConfig::default(),
    )?);
    seed::seed(&clinic)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let server = clinic.clone();
    runtime.spawn(async move {
        let _ = http::serve_with(
            listener,
            server,
            &bedside_clinic::limits::RateLimits::disabled(),
            std::future::pending(),
        )
        .await;
    });
    println!(
        "clinic on http://{addr}, {threads} client threads, {durability:?} durability, database in {}",
        dir.display()
    );

    // 1. Slot search.
    let mut s = drive("slot search", addr, threads, 20_000, |i| {
        let kind = ["gp-visit", "gp-follow-up", "cardio-follow-up"][i % 3];
        (
            "GET".into(),
            format!("/v1/slots?appointment_type={kind}&limit=5"),
            None,
            Vec::new(),
        )
    })?;
    s.print(None);

    // 2. Booking: distinct open options (found in-process, not timed), one new patient each.
    let mut options = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut from = clinic.now();
    while options.len() < 1_000 {
        let found = clinic.find_slots(&SlotSearch {
            appointment_type: "gp-visit".into(),
            from: Some(from),
            limit: Some(20),
            ..SlotSearch::default()
        })?;
        let Some(last) = found.last() else { break };
        from = last.period.start() + chrono::TimeDelta::minutes(15);
        for o in found {
            // Distinct provider and room times, so every booking can succeed.
            let room = o.room.map(|r| r.to_string()).unwrap_or_default();
            if !seen.contains(&(o.provider.to_string(), o.period.start()))
                && !seen.contains(&(room.clone(), o.period.start()))
            {
                seen.insert((o.provider.to_string(), o.period.start()));
                seen.insert((room, o.period.start()));
                options.push(o);
            }
        }
    }
    let reception = seed::demo_staff("reception")?;
    let mut patients = Vec::new();
    for i in 0..options.len() {
        let form: bedside_clinic::Registration = serde_json::from_value(serde_json::json!({
            "given": [format!("Load{i}")], "family": format!("Patient{i}"),
            "birth_date": format!("19{:02}-0{}-1{}", 30 + i % 60, 1 + i % 9, i % 10)
        }))?;
        let v = clinic.register(&form, Some(&reception))?;
        let id: bedside::core::PatientId = v["patient"].as_str().ok_or("id")?.parse()?;
        patients.push((id, clinic.issue_token(&Principal::Patient { patient: id })?));
    }
    let jobs: Arc<Vec<(String, String, Vec<u8>)>> = Arc::new(
        options
            .iter()
            .zip(&patients)
            .enumerate()
            .map(|(i, (o, (p, t)))| {
                let body = serde_json::json!({"option": o, "client_token": format!("load-{i}")});
                (
                    format!("/v1/patients/{p}/appointments"),
                    t.clone(),
                    body.to_string().into_bytes(),
                )
            })
            .collect(),
    );
    let n = jobs.len();
    let j = jobs.clone();
    let mut s = drive("booking", addr, threads, n, move |i| {
        let (path, token, body) = &j[i];
        (
            "POST".into(),
            path.clone(),
            Some(token.clone()),
            body.clone(),
        )
    })?;
    s.print(None);
    clinic.check_invariants()?;

    // 3. Vitals upload: 100 discharged patients, 1,000 readings per upload.
    let nurse = seed::demo_staff("nurse")?;
    let per_upload = 1_000;
    let mut uploads = Vec::new();
    for (k, (p, t)) in patients.iter().take(100).enumerate() {
        clinic.discharge(&nurse, *p)?;
        for u in 0..4 {
            let mut body = String::with_capacity(per_upload * 200);
            let base = clinic.now() + chrono::TimeDelta::seconds(1);
            for r in 0..per_upload {
                let at =
                    (base + chrono::TimeDelta::seconds((u * per_upload + r) as i64)).to_rfc3339();
                let pulse = 60 + (k + r) % 40;
                body.push_str(&format!(
                    "{{\"patient\":\"{p}\",\"kind\":\"heart_rate\",\"at\":\"{at}\",\"value\":{pulse},\"unit\":\"/min\",\"source\":\"app:load\"}}\n"
                ));
            }
            uploads.push((
                format!("/v1/patients/{p}/vitals"),
                t.clone(),
                body.into_bytes(),
            ));
        }
    }
    let uploads = Arc::new(uploads);
    let n = uploads.len();
    let u = uploads.clone();
    let mut s = drive("vitals upload", addr, threads, n, move |i| {
        let (path, token, body) = &u[i];
        (
            "POST".into(),
            path.clone(),
            Some(token.clone()),
            body.clone(),
        )
    })?;
    s.print(Some(("readings", per_upload)));

    drop(runtime);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
