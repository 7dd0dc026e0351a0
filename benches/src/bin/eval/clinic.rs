//! `clinic-chaos`: three robustness figures of the reference clinic backend
//! (`bedside-clinic`), measured over its HTTP API.
//!
//! 1. **Crash safety under `kill -9`.** The backend runs as a child process (this binary
//!    again, `eval clinic-chaos --serve --data-dir DIR`, which opens `DIR/clinic.db`, seeds the
//!    demo clinic on first start and serves with rate limits disabled). A few driver threads
//!    send staff registrations, bookings (and, once the slots are taken, cancellations that
//!    free them) and billing-staff credit payments without pause; every write answered 2xx
//!    is recorded. After a seeded random delay the child is killed with SIGKILL and
//!    restarted on the same directory, round after round. After the last restart every
//!    acknowledged write is checked: the registration reads back, the booking is in the
//!    patient's list (a cancelled one as cancelled), and retrying the payment's
//!    `Idempotency-Key` answers the same payment id (stored, and not paid twice). The tamper-evident chain must verify
//!    (`GET /v1/audit/verify`) and `/health` must not say `degraded`.
//! 2. **Booking race.** 50 threads book the same slot option at the same instant for 50
//!    patients: exactly one 201, the rest 409, and one appointment in that slot.
//! 3. **Hostile input.** At least 300 malformed or hostile requests, generated from the seed:
//!    no 5xx, no write accepted, no change to a state fingerprint taken through the API before
//!    and after, and no response echoing the marker [`MARKER`] planted in the inputs.
//!
//! The child reads its stdin and exits when it closes, so it never outlives this process; it
//! is also killed on every error path ([`Backend`]'s `Drop`). Nothing about patients is
//! printed: the detail lines carry counts, case labels and status codes only.

use crate::Command;
use bedside_core::{Clock, SystemClock};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

/// The string planted in hostile inputs; no response may contain it.
const MARKER: &str = "ZQXSECRET";
/// Driver threads during the kill rounds.
const DRIVERS: usize = 4;
/// Threads booking the same slot in the race.
const RACERS: usize = 50;
/// Threads checking acknowledged writes after the last restart.
const CHECKERS: usize = 4;
/// The six demo patients' phones (the demo data in `bedside_clinic::seed`).
const DEMO_PHONES: [&str; 6] = [
    "+12125550142",
    "+12125550143",
    "+12125550144",
    "+12125550145",
    "+12125550146",
    "+12125550147",
];
const APPOINTMENT_TYPES: [&str; 3] = ["gp-visit", "gp-follow-up", "cardio-follow-up"];

/// The subcommands this module registers.
pub fn commands() -> Vec<Command> {
    vec![Command {
        name: "clinic-chaos",
        about: "[--restarts N] [--seconds-per-round S] [--seed N]: kill -9 crash safety, booking race and hostile input against the clinic backend",
        run,
    }]
}

struct Options {
    restarts: usize,
    seconds_per_round: f64,
    seed: u64,
}

fn usage(message: &str) -> ExitCode {
    eprintln!("clinic-chaos: {message}");
    eprintln!("usage: eval clinic-chaos [--restarts N] [--seconds-per-round S] [--seed N]");
    ExitCode::from(2)
}

fn run(args: &[String]) -> ExitCode {
    if args.first().map(String::as_str) == Some("--serve") {
        return match serve(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("clinic-chaos --serve: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let mut options = Options {
        restarts: 15,
        seconds_per_round: 2.0,
        seed: 7,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--restarts" => match it.next().and_then(|s| s.parse().ok()) {
                Some(n) if n > 0 => options.restarts = n,
                _ => return usage("--restarts needs a positive integer"),
            },
            "--seconds-per-round" => match it.next().and_then(|s| s.parse::<f64>().ok()) {
                Some(s) if s > 0.0 && s <= 600.0 => options.seconds_per_round = s,
                _ => return usage("--seconds-per-round needs a number of seconds (0 to 600)"),
            },
            "--seed" => match it.next().and_then(|s| s.parse().ok()) {
                Some(n) => options.seed = n,
                None => return usage("--seed needs an integer"),
            },
            other => return usage(&format!("unknown argument `{other}`")),
        }
    }
    match chaos(&options) {
        Ok(outcome) => {
            println!("{}", outcome.summary());
            if outcome.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("clinic-chaos: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---- the child: the backend itself ------------------------------------------------------

/// The backend child: opens (and on first start seeds) the database, prints one line
/// `ready <address> <demo patient ids>` on stdout, and serves until stdin closes.
fn serve(args: &[String]) -> Res<()> {
    use bedside_clinic::{
        Clinic, ClinicConfig, Durability, FileNotifier, Notifier, SqliteStore, http, seed,
    };
    let mut data_dir = None;
    let mut listen = "127.0.0.1:0".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data-dir" => data_dir = it.next().map(PathBuf::from),
            "--listen" => listen = it.next().ok_or("--listen needs an address")?.clone(),
            _ => return Err("unknown argument".into()),
        }
    }
    let data_dir = data_dir.ok_or("--data-dir needs a path")?;
    std::fs::create_dir_all(&data_dir)?;
    // The parent holds our stdin; when it goes away, for whatever reason, so do we.
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    // As the `clinic` example: the default durability, the demo clinic with its back-dated
    // history on first start, then the system clock.
    let store = SqliteStore::open(&data_dir.join("clinic.db"), Durability::Normal)?;
    let mut clinic = Clinic::open(
        Box::new(store),
        Arc::new(SystemClock),
        ClinicConfig::default(),
    )?;
    if !clinic.is_set_up() {
        let store = clinic.into_store()?;
        let (store, _) = seed::seed_demo(store, ClinicConfig::default(), SystemClock.now())?;
        clinic = Clinic::open(store, Arc::new(SystemClock), ClinicConfig::default())?;
    }
    let clinic = Arc::new(clinic);
    let mut demo = Vec::new();
    for i in 1..=6 {
        let patient = clinic
            .authenticate(&format!("demo-patient-{i}"))?
            .acting_for()
            .ok_or("a demo patient token acts for no patient")?;
        demo.push(patient.to_string());
    }
    // Outbox delivery runs beside the API, as in the example: one more writer to interrupt.
    let notifier = FileNotifier::new(data_dir.join("outbox.jsonl"));
    let deliverer = clinic.clone();
    std::thread::spawn(move || {
        loop {
            if let Err(e) = deliverer.deliver_due(&notifier as &dyn Notifier) {
                eprintln!("clinic-chaos --serve: outbox delivery: {e}");
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind(&listen))?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "ready {addr} {}", demo.join(","))?;
        out.flush()?;
    }
    runtime.block_on(http::serve_with(
        listener,
        clinic,
        &bedside_clinic::limits::RateLimits::disabled(),
        std::future::pending(),
    ))?;
    Ok(())
}

/// The running backend child. Dropping it kills the child and reaps it.
struct Backend {
    child: Child,
    /// Held so the child sees EOF on stdin if this process dies.
    _stdin: Option<ChildStdin>,
    addr: SocketAddr,
    /// The ids of demo patients 1 to 6.
    demo: Vec<String>,
}

impl Backend {
    /// Starts the child on `dir` and waits until it answers `/health` with 200.
    fn start(exe: &Path, dir: &Path) -> Res<(Backend, String)> {
        let mut child = std::process::Command::new(exe)
            .arg("clinic-chaos")
            .arg("--serve")
            .arg("--data-dir")
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        // From here on the guard kills the child on every error path.
        let mut backend = Backend {
            child,
            _stdin: stdin,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            demo: Vec::new(),
        };
        let stdout = stdout.ok_or("the backend has no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(read.map(|_| line));
        });
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .map_err(|_| "the backend did not start within 120 s")??;
        let mut words = line.split_whitespace();
        if words.next() != Some("ready") {
            return Err("the backend exited before it was ready".into());
        }
        backend.addr = words.next().ok_or("no address from the backend")?.parse()?;
        backend.demo = words
            .next()
            .ok_or("no demo patients from the backend")?
            .split(',')
            .map(str::to_string)
            .collect();
        if backend.demo.len() != 6 {
            return Err("expected six demo patients".into());
        }
        let status = wait_healthy(backend.addr, Duration::from_secs(60))?;
        Ok((backend, status))
    }

    /// SIGKILL (what `Child::kill` sends on unix), then reap.
    fn kill(mut self) -> Res<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `/health` until it answers 200; returns its `status` (`ok` or `degraded`).
fn wait_healthy(addr: SocketAddr, limit: Duration) -> Res<String> {
    let start = Instant::now();
    loop {
        if let Ok(mut conn) = Conn::open(addr)
            && let Ok(reply) = conn.call("GET", "/health", None, &[], b"")
            && reply.status == 200
        {
            let status = reply.json()["status"].as_str().unwrap_or("").to_string();
            return Ok(status);
        }
        if start.elapsed() > limit {
            return Err("the backend did not answer /health with 200".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(seed: u64) -> Res<Self> {
        let path = std::env::temp_dir().join(format!(
            "bedside-clinic-chaos-{}-{seed}",
            std::process::id()
        ));
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- a small HTTP/1.1 client (std::net, as examples/load.rs) ----------------------------

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

/// A response: status and body.
struct Reply {
    status: u16,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl Conn {
    fn open(addr: SocketAddr) -> Res<Self> {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        s.set_write_timeout(Some(Duration::from_secs(20)))?;
        Ok(Conn {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    /// A request with a bearer token, extra headers and a body.
    fn call(
        &mut self,
        method: &str,
        target: &str,
        token: Option<&str>,
        headers: &[(&str, &[u8])],
        body: &[u8],
    ) -> Res<Reply> {
        let mut all: Vec<(String, Vec<u8>)> = Vec::new();
        if let Some(t) = token {
            all.push(("Authorization".into(), format!("Bearer {t}").into_bytes()));
        }
        for (k, v) in headers {
            all.push(((*k).to_string(), v.to_vec()));
        }
        self.raw(method.as_bytes(), target.as_bytes(), &all, body)
    }

    /// A request from raw parts (hostile inputs put invalid bytes anywhere).
    fn raw(
        &mut self,
        method: &[u8],
        target: &[u8],
        headers: &[(String, Vec<u8>)],
        body: &[u8],
    ) -> Res<Reply> {
        let mut head = Vec::with_capacity(256);
        head.extend_from_slice(method);
        head.push(b' ');
        head.extend_from_slice(target);
        head.extend_from_slice(b" HTTP/1.1\r\nHost: chaos\r\n");
        head.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        for (k, v) in headers {
            head.extend_from_slice(k.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(v);
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        self.writer.write_all(&head)?;
        // A server may answer (413) and stop reading before the body is all sent; the answer
        // still counts.
        let sent = self.writer.write_all(body);
        let reply = self.read_reply();
        match (reply, sent) {
            (Ok(r), _) => Ok(r),
            (Err(e), Ok(())) => Err(e),
            (Err(_), Err(e)) => Err(e.into()),
        }
    }

    fn read_reply(&mut self) -> Res<Reply> {
        let mut line = Vec::new();
        if self.reader.read_until(b'\n', &mut line)? == 0 {
            return Err("connection closed".into());
        }
        let text = String::from_utf8_lossy(&line);
        let status: u16 = text.split_whitespace().nth(1).ok_or("no status")?.parse()?;
        let mut length = None;
        let mut chunked = false;
        loop {
            line.clear();
            if self.reader.read_until(b'\n', &mut line)? == 0 {
                return Err("connection closed in the headers".into());
            }
            let l = String::from_utf8_lossy(&line);
            let l = l.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = Some(v.trim().parse::<usize>()?);
                } else if k.eq_ignore_ascii_case("transfer-encoding")
                    && v.to_ascii_lowercase().contains("chunked")
                {
                    chunked = true;
                }
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_until(b'\n', &mut line)?;
                let size = usize::from_str_radix(String::from_utf8_lossy(&line).trim(), 16)?;
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(n) = length {
            body.resize(n, 0);
            self.reader.read_exact(&mut body)?;
        } else if status != 204 && status != 304 {
            self.reader.read_to_end(&mut body)?;
        }
        Ok(Reply { status, body })
    }
}

// ---- seeded randomness -------------------------------------------------------------------

/// SplitMix64: small and seeded, so a run is reproducible from `--seed` (the timing of the
/// kills relative to the writes is not).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn index(&mut self, n: usize) -> usize {
        usize::try_from(self.below(n as u64)).unwrap_or(0)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A capitalised name of letters only, unique per `n`.
fn name_for(n: u64, rng: &mut Rng) -> String {
    let mut s = String::new();
    s.push(char::from(b'A' + rng.below(26) as u8));
    for _ in 0..3 {
        s.push(char::from(b'a' + rng.below(26) as u8));
    }
    let mut n = n;
    loop {
        s.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
        if n == 0 {
            break;
        }
    }
    s
}

// ---- part 1: kill -9 rounds --------------------------------------------------------------

#[derive(Default)]
struct Acked {
    /// Registered patient ids.
    registrations: Vec<String>,
    /// (patient, appointment) ids.
    bookings: Vec<(String, String)>,
    /// Bookings not yet picked for cancellation.
    live: Vec<(String, String)>,
    /// Cancelled (patient, appointment) ids: the demo grid's free slots are gone within a
    /// round or two, and cancelling frees them so bookings go on through every round.
    cancels: Vec<(String, String)>,
    payments: Vec<Payment>,
}

#[derive(Clone)]
struct Payment {
    patient: String,
    key: String,
    amount_minor: i64,
    id: String,
}

/// Answers seen by the drivers, by class.
#[derive(Default)]
struct Tally {
    attempts: AtomicU64,
    acknowledged: AtomicU64,
    conflicts: AtomicU64,
    other_4xx: AtomicU64,
    server_errors: AtomicU64,
    transport: AtomicU64,
    /// 2xx answers without the id they should carry.
    malformed: AtomicU64,
    no_slot: AtomicU64,
}

impl Tally {
    fn count(&self, reply: &Reply) {
        let field = match reply.status {
            200..=299 => &self.acknowledged,
            409 => &self.conflicts,
            500..=599 => &self.server_errors,
            _ => &self.other_4xx,
        };
        field.fetch_add(1, Ordering::Relaxed);
    }
}

struct Drive {
    acked: Mutex<Acked>,
    tally: Tally,
    counter: AtomicU64,
    stop: AtomicBool,
    seed: u64,
}

impl Drive {
    fn lock(&self) -> std::sync::MutexGuard<'_, Acked> {
        // Only pushes happen under the lock; a panicking driver leaves nothing half-done.
        self.acked.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn random_patient(&self, rng: &mut Rng) -> Option<String> {
        let acked = self.lock();
        let n = acked.registrations.len();
        (n > 0).then(|| acked.registrations[rng.index(n)].clone())
    }
}

/// One driver thread: writes until told to stop, reconnecting whenever the server is gone.
fn driver(addr: SocketAddr, drive: &Drive, mut rng: Rng) {
    let mut conn: Option<Conn> = None;
    while !drive.stop.load(Ordering::Relaxed) {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Conn::open(addr) {
                Ok(c) => conn.insert(c),
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                }
            },
        };
        let pick = rng.below(10);
        let result = match (pick, drive.random_patient(&mut rng)) {
            (0..=3, _) | (_, None) => register(c, drive, &mut rng),
            (4..=6, Some(p)) => pay(c, drive, &mut rng, p),
            (_, Some(p)) => book(c, drive, &mut rng, p),
        };
        if result.is_err() {
            drive.tally.transport.fetch_add(1, Ordering::Relaxed);
            conn = None;
        }
    }
}

fn register(c: &mut Conn, drive: &Drive, rng: &mut Rng) -> Res<()> {
    let n = drive.counter.fetch_add(1, Ordering::Relaxed);
    let form = json!({
        "given": [name_for(rng.below(1_000), rng)],
        "family": name_for(n, rng),
        "birth_date": format!("{}-{:02}-{:02}", 1930 + rng.below(75), 1 + rng.below(12), 1 + rng.below(28)),
        "phone": format!("+1212555{:04}", 2_000 + rng.below(8_000)),
        "sms_reminders": rng.below(2) == 0,
    });
    drive.tally.attempts.fetch_add(1, Ordering::Relaxed);
    let reply = c.call(
        "POST",
        "/v1/patients",
        Some("demo-reception"),
        &[],
        form.to_string().as_bytes(),
    )?;
    drive.tally.count(&reply);
    if reply.ok() {
        match reply.json()["patient"].as_str() {
            Some(id) => drive.lock().registrations.push(id.to_string()),
            None => {
                drive.tally.malformed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    Ok(())
}

fn pay(c: &mut Conn, drive: &Drive, rng: &mut Rng, patient: String) -> Res<()> {
    let n = drive.counter.fetch_add(1, Ordering::Relaxed);
    let key = format!("chaos-{}-pay-{n}", drive.seed);
    let amount_minor = 1 + i64::try_from(rng.below(50_000)).unwrap_or(0);
    let body = json!({ "amount_minor": amount_minor, "credit": true }).to_string();
    drive.tally.attempts.fetch_add(1, Ordering::Relaxed);
    let reply = c.call(
        "POST",
        &format!("/v1/patients/{patient}/payments"),
        Some("demo-billing"),
        &[("Idempotency-Key", key.as_bytes())],
        body.as_bytes(),
    )?;
    drive.tally.count(&reply);
    if reply.ok() {
        match reply.json()["payment"].as_str() {
            Some(id) => drive.lock().payments.push(Payment {
                patient,
                key,
                amount_minor,
                id: id.to_string(),
            }),
            None => {
                drive.tally.malformed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    Ok(())
}

fn book(c: &mut Conn, drive: &Drive, rng: &mut Rng, patient: String) -> Res<()> {
    let kind = APPOINTMENT_TYPES[rng.index(APPOINTMENT_TYPES.len())];
    // Spread the searches over the grid ahead (the demo grid starts `seed::HISTORY_DAYS`
    // before the first start and spans four weeks) so the drivers rarely collide.
    let from = chrono::Utc::now()
        + chrono::TimeDelta::minutes(i64::try_from(120 + rng.below(16 * 24 * 60)).unwrap_or(120));
    let from = from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let found = c.call(
        "GET",
        &format!("/v1/slots?appointment_type={kind}&from={from}&limit=20"),
        None,
        &[],
        b"",
    )?;
    let options = match found.json() {
        Value::Array(options) if !options.is_empty() => options,
        _ => {
            drive.tally.no_slot.fetch_add(1, Ordering::Relaxed);
            return cancel(c, drive, rng);
        }
    };
    let option = options[rng.index(options.len())].clone();
    let n = drive.counter.fetch_add(1, Ordering::Relaxed);
    let body =
        json!({ "option": option, "client_token": format!("chaos-{}-book-{n}", drive.seed) });
    drive.tally.attempts.fetch_add(1, Ordering::Relaxed);
    let reply = c.call(
        "POST",
        &format!("/v1/patients/{patient}/appointments"),
        Some("demo-scheduler"),
        &[],
        body.to_string().as_bytes(),
    )?;
    drive.tally.count(&reply);
    if reply.ok() {
        match reply.json()["appointment"].as_str() {
            Some(id) => {
                let mut acked = drive.lock();
                acked.bookings.push((patient.clone(), id.to_string()));
                acked.live.push((patient, id.to_string()));
            }
            None => {
                drive.tally.malformed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    Ok(())
}

/// Cancels a random acknowledged booking (each is picked at most once).
fn cancel(c: &mut Conn, drive: &Drive, rng: &mut Rng) -> Res<()> {
    let picked = {
        let mut acked = drive.lock();
        let n = acked.live.len();
        (n > 0).then(|| acked.live.swap_remove(rng.index(n)))
    };
    let Some((patient, appointment)) = picked else {
        return Ok(());
    };
    drive.tally.attempts.fetch_add(1, Ordering::Relaxed);
    let reply = c.call(
        "POST",
        &format!("/v1/appointments/{appointment}/cancel"),
        Some("demo-scheduler"),
        &[],
        b"",
    )?;
    drive.tally.count(&reply);
    if reply.ok() {
        drive.lock().cancels.push((patient, appointment));
    }
    Ok(())
}

/// What the final check after the last restart found.
#[derive(Default)]
struct Losses {
    registrations: usize,
    bookings: usize,
    cancels: usize,
    payments: usize,
    /// Payments whose key retry answered a different payment (paid twice).
    paid_twice: usize,
}

impl Losses {
    fn total(&self) -> usize {
        self.registrations + self.bookings + self.cancels + self.payments
    }
}

/// Runs `work` over `items` in [`CHECKERS`] threads, each with its own connection (retried
/// once on a transport error); sums what `work` counts.
fn in_parallel<T: Sync, F>(addr: SocketAddr, items: &[T], work: F) -> Res<Losses>
where
    F: Fn(&mut Conn, &T, &mut Losses) -> Res<()> + Sync,
{
    let chunk = items.len().div_ceil(CHECKERS).max(1);
    let results: Vec<Res<Losses>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let work = &work;
                s.spawn(move || -> Res<Losses> {
                    let mut conn = Conn::open(addr)?;
                    let mut losses = Losses::default();
                    for item in part {
                        if work(&mut conn, item, &mut losses).is_err() {
                            conn = Conn::open(addr)?;
                            work(&mut conn, item, &mut losses)?;
                        }
                    }
                    Ok(losses)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a checker panicked".into()))
            })
            .collect()
    });
    let mut sum = Losses::default();
    for r in results {
        let l = r?;
        sum.registrations += l.registrations;
        sum.bookings += l.bookings;
        sum.cancels += l.cancels;
        sum.payments += l.payments;
        sum.paid_twice += l.paid_twice;
    }
    Ok(sum)
}

/// Checks every acknowledged write against the restarted backend.
fn check_acknowledged(addr: SocketAddr, acked: &Acked) -> Res<Losses> {
    let mut losses = in_parallel(addr, &acked.registrations, |c, id, l| {
        let r = c.call(
            "GET",
            &format!("/v1/patients/{id}"),
            Some("demo-reception"),
            &[],
            b"",
        )?;
        if r.status != 200 {
            l.registrations += 1;
        }
        Ok(())
    })?;
    // Per patient: the bookings that must be listed, and which of them must be cancelled.
    type Expected<'a> = (Vec<&'a str>, Vec<&'a str>);
    let mut by_patient: HashMap<&str, Expected<'_>> = HashMap::new();
    for (p, a) in &acked.bookings {
        by_patient.entry(p).or_default().0.push(a);
    }
    for (p, a) in &acked.cancels {
        by_patient.entry(p).or_default().1.push(a);
    }
    let grouped: Vec<(&str, Expected<'_>)> = by_patient.into_iter().collect();
    let bookings = in_parallel(addr, &grouped, |c, (patient, (ids, cancelled)), l| {
        let r = c.call(
            "GET",
            &format!("/v1/patients/{patient}/appointments"),
            Some("demo-scheduler"),
            &[],
            b"",
        )?;
        let listed: HashMap<String, String> = match r.json() {
            Value::Array(list) if r.status == 200 => list
                .iter()
                .filter_map(|a| {
                    let id = a["id"].as_str()?;
                    Some((
                        id.to_string(),
                        a["status"].as_str().unwrap_or("").to_string(),
                    ))
                })
                .collect(),
            _ => HashMap::new(),
        };
        l.bookings += ids.iter().filter(|id| !listed.contains_key(**id)).count();
        l.cancels += cancelled
            .iter()
            .filter(|id| listed.get(**id).map(String::as_str) != Some("cancelled"))
            .count();
        Ok(())
    })?;
    let payments = in_parallel(addr, &acked.payments, |c, p, l| {
        let body = json!({ "amount_minor": p.amount_minor, "credit": true }).to_string();
        let r = c.call(
            "POST",
            &format!("/v1/patients/{}/payments", p.patient),
            Some("demo-billing"),
            &[("Idempotency-Key", p.key.as_bytes())],
            body.as_bytes(),
        )?;
        match r.json()["payment"].as_str() {
            Some(id) if r.ok() && id == p.id => {}
            Some(_) if r.ok() => {
                // The key was forgotten: the retry paid again.
                l.payments += 1;
                l.paid_twice += 1;
            }
            _ => l.payments += 1,
        }
        Ok(())
    })?;
    losses.bookings = bookings.bookings;
    losses.cancels = bookings.cancels;
    losses.payments = payments.payments;
    losses.paid_twice = payments.paid_twice;
    Ok(losses)
}

/// `GET /v1/audit/verify` and `/health`: `None` when the chain verifies and the backend is
/// not degraded, else the reason.
fn chain_problem(addr: SocketAddr) -> Res<Option<String>> {
    let mut c = Conn::open(addr)?;
    let r = c.call("GET", "/v1/audit/verify", Some("demo-privacy"), &[], b"")?;
    let v = r.json();
    let health = c.call("GET", "/health", None, &[], b"")?.json();
    let mut problems = Vec::new();
    if r.status != 200 {
        problems.push(format!("/v1/audit/verify answered {}", r.status));
    } else if v["verified"] != Value::Bool(true) {
        problems.push(format!(
            "not verified: broken {}, audit log {}, degraded {}",
            v["broken"], v["audit_log"], v["degraded"]
        ));
    }
    if health["status"] != "ok" {
        problems.push(format!("/health says {}", health["status"]));
    }
    Ok((!problems.is_empty()).then(|| problems.join("; ")))
}

// ---- part 2: the booking race ------------------------------------------------------------

struct Race {
    bookers: usize,
    winners: usize,
    conflicts: usize,
    other: usize,
    /// Appointments in the contested slot afterwards, over the 50 patients.
    in_slot: usize,
}

fn same_instant(a: &Value, b: &Value) -> bool {
    let parse = |v: &Value| {
        v.as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    };
    matches!((parse(a), parse(b)), (Some(x), Some(y)) if x == y)
}

fn race(addr: SocketAddr, seed: u64) -> Res<Race> {
    let mut c = Conn::open(addr)?;
    let mut rng = Rng::new(seed ^ 0xACE);
    let mut patients = Vec::new();
    for i in 0..RACERS {
        let form = json!({
            "given": [name_for(i as u64, &mut rng)],
            "family": format!("Racer{}", name_for(i as u64, &mut rng)),
            "birth_date": format!("{}-0{}-1{}", 1950 + i, 1 + i % 9, i % 10),
        });
        let r = c.call(
            "POST",
            "/v1/patients",
            Some("demo-reception"),
            &[],
            form.to_string().as_bytes(),
        )?;
        let id = r.json()["patient"]
            .as_str()
            .ok_or("race: a registration failed")?
            .to_string();
        patients.push(id);
    }
    let from = (chrono::Utc::now() + chrono::TimeDelta::days(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let found = c.call(
        "GET",
        &format!("/v1/slots?appointment_type=gp-visit&from={from}&limit=1"),
        None,
        &[],
        b"",
    )?;
    let option = found.json()[0].clone();
    if option.is_null() {
        return Err("race: no slot offered".into());
    }
    let barrier = Barrier::new(RACERS);
    let statuses: Vec<Res<u16>> = std::thread::scope(|s| {
        let handles: Vec<_> = patients
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (barrier, option) = (&barrier, &option);
                s.spawn(move || -> Res<u16> {
                    let conn = Conn::open(addr);
                    // Everyone waits, connected or not, so no thread is left at the barrier.
                    barrier.wait();
                    let body =
                        json!({ "option": option, "client_token": format!("race-{seed}-{i}") });
                    let r = conn?.call(
                        "POST",
                        &format!("/v1/patients/{p}/appointments"),
                        Some("demo-scheduler"),
                        &[],
                        body.to_string().as_bytes(),
                    )?;
                    Ok(r.status)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a booker panicked".into())))
            .collect()
    });
    let mut race = Race {
        bookers: RACERS,
        winners: 0,
        conflicts: 0,
        other: 0,
        in_slot: 0,
    };
    for s in statuses {
        match s? {
            201 => race.winners += 1,
            409 => race.conflicts += 1,
            _ => race.other += 1,
        }
    }
    for p in &patients {
        let r = c.call(
            "GET",
            &format!("/v1/patients/{p}/appointments"),
            Some("demo-scheduler"),
            &[],
            b"",
        )?;
        if let Value::Array(list) = r.json() {
            race.in_slot += list
                .iter()
                .filter(|a| {
                    a["provider"] == option["provider"]
                        && same_instant(&a["start"], &option["period"]["start"])
                        && a["status"] != "cancelled"
                })
                .count();
        }
    }
    Ok(race)
}

// ---- part 3: hostile input ---------------------------------------------------------------

/// One hostile request.
struct Case {
    /// Category and number, never input.
    label: String,
    method: Vec<u8>,
    target: Vec<u8>,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Case {
    fn new(label: String, method: &str, target: &str, token: Option<&str>) -> Self {
        let mut headers = Vec::new();
        if let Some(t) = token {
            headers.push(("Authorization".into(), format!("Bearer {t}").into_bytes()));
        }
        Case {
            label,
            method: method.as_bytes().to_vec(),
            target: target.as_bytes().to_vec(),
            headers,
            body: Vec::new(),
        }
    }
    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    fn is_read(&self) -> bool {
        self.method == b"GET"
    }
}

/// What the hostile cases need to know about the running clinic.
struct Context {
    demo: Vec<String>,
    provider: String,
    option: Value,
    /// An upcoming appointment of demo patient 2 (if any).
    other_appointment: Option<String>,
}

/// A registration that looks like demo patient 1's (so one accepted by mistake shows up in
/// the duplicates queue, part of the fingerprint).
fn lookalike() -> Value {
    json!({ "given": ["Maria"], "family": "Delgado", "birth_date": "1958-03-14", "postal_code": "10001" })
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    if let Value::Object(m) = &mut base {
        m.insert(key.to_string(), value);
    }
    base
}

fn vitals_line(patient: &str, kind: &str, fields: &str) -> String {
    let at = (chrono::Utc::now() - chrono::TimeDelta::minutes(10))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!(
        r#"{{"patient":"{patient}","kind":"{kind}","at":"{at}",{fields},"source":"app:bedside-home"}}"#
    )
}

fn cases(ctx: &Context, seed: u64) -> Vec<Case> {
    let mut rng = Rng::new(seed ^ 0xBAD);
    let mut out: Vec<Case> = Vec::new();
    let p1 = ctx.demo[0].as_str();
    let pay_path = |p: &str| format!("/v1/patients/{p}/payments");
    let book_path = |p: &str| format!("/v1/patients/{p}/appointments");
    let unavailable = format!("/v1/providers/{}/unavailable", ctx.provider);

    // Valid-looking bodies for each write endpoint: (endpoint, method, path, token, body).
    let bases: Vec<(&str, &str, String, Option<&str>, Value)> = vec![
        (
            "staff-register",
            "POST",
            "/v1/patients".into(),
            Some("demo-reception"),
            lookalike(),
        ),
        (
            "self-register",
            "POST",
            "/v1/register".into(),
            None,
            lookalike(),
        ),
        (
            "payment",
            "POST",
            pay_path(p1),
            Some("demo-billing"),
            json!({"amount_minor": 1, "credit": true}),
        ),
        (
            "booking",
            "POST",
            book_path(p1),
            Some("demo-scheduler"),
            json!({"option": ctx.option, "client_token": "bad-1"}),
        ),
        (
            "patch",
            "PATCH",
            format!("/v1/patients/{p1}"),
            Some("demo-patient-1"),
            json!({"base_version": 1, "sms_reminders": false}),
        ),
        (
            "sms",
            "POST",
            "/v1/sms/inbound".into(),
            Some("demo-sms-gateway"),
            json!({"message_id": "bad-sms", "from": DEMO_PHONES[0], "body": "STOP"}),
        ),
        (
            "unavailable",
            "POST",
            unavailable.clone(),
            Some("demo-scheduler"),
            json!({"start": "2190-01-01T10:00:00Z", "end": "2190-01-01T11:00:00Z"}),
        ),
        (
            "note",
            "POST",
            format!("/v1/patients/{p1}/notes"),
            Some("demo-clinician"),
            json!({"text": "bad"}),
        ),
        (
            "proxy",
            "POST",
            format!("/v1/patients/{p1}/proxies"),
            Some("demo-patient-1"),
            json!({"classes": ["billing"], "relationship": "adult-child"}),
        ),
    ];

    // 1. Truncated JSON: every base cut at six seeded points.
    for (name, method, path, token, body) in &bases {
        let text = body.to_string();
        for k in 0..6 {
            let cut = 1 + rng.index(text.len().saturating_sub(1).max(1));
            out.push(
                Case::new(format!("truncated/{name}/{k}"), method, path, *token)
                    .body(&text.as_bytes()[..cut]),
            );
        }
    }

    // 2. Wrong types.
    let digits = (1 + rng.below(99_999)).to_string();
    let wrong: Vec<(&str, Value)> = vec![
        ("payment", json!({"amount_minor": digits})),
        ("payment", json!({"amount_minor": 46.5, "credit": true})),
        ("payment", json!({"amount_minor": true})),
        ("payment", json!({"amount_minor": null, "credit": true})),
        ("payment", json!({"amount_minor": [1], "credit": true})),
        ("payment", json!({"amount_minor": {"v": 1}, "credit": true})),
        ("payment", json!({"amount_minor": 100, "credit": "true"})),
        ("payment", json!({"amount_minor": 100, "credit": 1})),
        (
            "payment",
            json!({"amount_minor": 100, "credit": true, "client_token": 5}),
        ),
        ("payment", json!([{"amount_minor": 100}])),
        ("payment", json!("amount_minor")),
        ("payment", json!(42)),
        ("payment", Value::Null),
        ("staff-register", with(lookalike(), "given", json!("Maria"))),
        ("staff-register", with(lookalike(), "given", json!([1]))),
        ("staff-register", with(lookalike(), "family", json!(7))),
        (
            "staff-register",
            with(lookalike(), "birth_date", json!(19_580_314)),
        ),
        (
            "staff-register",
            with(lookalike(), "phone", json!(["+12125550142"])),
        ),
        (
            "staff-register",
            with(lookalike(), "sms_reminders", json!("yes")),
        ),
        (
            "staff-register",
            with(lookalike(), "language", json!(["en"])),
        ),
        ("staff-register", with(lookalike(), "email", json!(true))),
        (
            "staff-register",
            with(lookalike(), "postal_code", json!(10_001)),
        ),
        (
            "self-register",
            with(lookalike(), "given", json!({"first": "Maria"})),
        ),
        (
            "booking",
            json!({"option": "first", "client_token": "bad-2"}),
        ),
        ("booking", json!({"option": 5, "client_token": "bad-3"})),
        (
            "booking",
            with(
                json!({"client_token": "bad-4"}),
                "option",
                with(ctx.option.clone(), "provider", json!(5)),
            ),
        ),
        (
            "booking",
            with(
                json!({"client_token": "bad-5"}),
                "option",
                with(ctx.option.clone(), "period", json!("today")),
            ),
        ),
        ("booking", json!({"option": ctx.option, "client_token": 5})),
        (
            "booking",
            json!({"option": ctx.option, "client_token": null}),
        ),
        ("booking", json!({"option": null, "client_token": "bad-6"})),
        (
            "patch",
            json!({"base_version": "1", "sms_reminders": false}),
        ),
        ("patch", json!({"base_version": -1, "sms_reminders": false})),
        ("patch", json!({"base_version": 1, "sms_reminders": "no"})),
        ("patch", json!({"base_version": 1, "quiet_hours": "21:00"})),
        (
            "patch",
            json!({"base_version": 1, "address": "ZQXSECRET street"}),
        ),
        ("patch", json!({"base_version": 1, "name": "ZQXSECRET"})),
        (
            "sms",
            json!({"message_id": 5, "from": DEMO_PHONES[0], "body": "STOP"}),
        ),
        (
            "sms",
            json!({"message_id": "bad-sms-2", "from": 12_125_550_142u64, "body": "STOP"}),
        ),
        (
            "sms",
            json!({"message_id": "bad-sms-3", "from": DEMO_PHONES[0], "body": null}),
        ),
        (
            "unavailable",
            json!({"start": 5, "end": "2190-01-01T11:00:00Z"}),
        ),
        (
            "unavailable",
            json!({"start": "2190-01-01T10:00:00Z", "end": "tomorrow"}),
        ),
        (
            "proxy",
            json!({"classes": "billing", "relationship": "adult-child"}),
        ),
        ("proxy", json!({"classes": ["billing"], "relationship": 3})),
    ];
    let base = |name: &str| bases.iter().find(|b| b.0 == name);
    for (k, (name, body)) in wrong.into_iter().enumerate() {
        if let Some((_, method, path, token, _)) = base(name) {
            out.push(
                Case::new(format!("wrong-type/{name}/{k}"), method, path, *token)
                    .body(body.to_string()),
            );
        }
    }

    // 3. Unknown fields, at the top level of each otherwise valid body (nested options are
    // re-derived by the server, so an extra field there is harmless by design).
    for (name, method, path, token, body) in &bases {
        for (k, field) in [MARKER, "admin", "version"].iter().enumerate() {
            out.push(
                Case::new(format!("unknown-field/{name}/{k}"), method, path, *token)
                    .body(with(body.clone(), field, json!(MARKER)).to_string()),
            );
        }
    }

    // 4. Huge numbers, 5. negative amounts.
    let huge = [
        "1e30",
        "99999999999999999999",
        "9223372036854775807",
        "-9223372036854775808",
        "1e400",
        "10000001",
        "1.0e7",
        "18446744073709551616",
    ];
    for (k, n) in huge.iter().enumerate() {
        out.push(
            Case::new(
                format!("huge/payment/{k}"),
                "POST",
                &pay_path(p1),
                Some("demo-billing"),
            )
            .body(format!(r#"{{"amount_minor":{n},"credit":true}}"#)),
        );
        out.push(
            Case::new(
                format!("huge/patch/{k}"),
                "PATCH",
                &format!("/v1/patients/{p1}"),
                Some("demo-patient-1"),
            )
            .body(format!(r#"{{"base_version":{n},"sms_reminders":false}}"#)),
        );
        out.push(Case::new(
            format!("huge/slots-limit/{k}"),
            "GET",
            &format!("/v1/slots?appointment_type=gp-visit&limit={n}"),
            None,
        ));
    }
    for (k, date) in ["99999-01-01", "1958-13-45", "0000-00-00", "-1958-03-14"]
        .iter()
        .enumerate()
    {
        out.push(
            Case::new(
                format!("huge/birth-date/{k}"),
                "POST",
                "/v1/patients",
                Some("demo-reception"),
            )
            .body(with(lookalike(), "birth_date", json!(date)).to_string()),
        );
    }
    for (k, n) in [-1i64, -4_600, 0, -10_000_000, i64::MIN].iter().enumerate() {
        for (who, credit) in [("demo-billing", true), ("demo-billing", false)] {
            out.push(
                Case::new(
                    format!("negative/{k}/{credit}"),
                    "POST",
                    &pay_path(&ctx.demo[4]),
                    Some(who),
                )
                .body(json!({"amount_minor": n, "credit": credit}).to_string()),
            );
        }
        out.push(
            Case::new(
                format!("negative/{k}/patient"),
                "POST",
                &pay_path(&ctx.demo[4]),
                Some("demo-patient-5"),
            )
            .body(json!({"amount_minor": n}).to_string()),
        );
    }

    // 6. Invalid UUIDs in paths.
    let bad_ids = [
        "not-a-uuid".to_string(),
        MARKER.to_string(),
        format!("{}0", p1),
        p1[..p1.len() - 1].to_string(),
        // Not `{uuid}`, `urn:uuid:…` or the hyphen-less form: the server's UUID parser takes
        // those as the same id, so a request with one is a valid request.
        format!("{}z{}", &p1[..8], &p1[9..]),
        p1.replace(|c: char| c.is_ascii_digit(), "g"),
        "%00".to_string(),
        "..%2F..%2Fetc".to_string(),
        "-1".to_string(),
        "0".repeat(300),
    ];
    let id_routes: [(&str, &str, &str, Option<&str>, &str); 10] = [
        ("GET", "/v1/patients/", "", Some("demo-reception"), ""),
        (
            "POST",
            "/v1/patients/",
            "/payments",
            Some("demo-billing"),
            r#"{"amount_minor":1,"credit":true}"#,
        ),
        (
            "POST",
            "/v1/patients/",
            "/appointments",
            Some("demo-scheduler"),
            r#"{"option":{},"client_token":"x"}"#,
        ),
        (
            "POST",
            "/v1/appointments/",
            "/cancel",
            Some("demo-scheduler"),
            "",
        ),
        (
            "POST",
            "/v1/appointments/",
            "/check-in",
            Some("demo-reception"),
            "",
        ),
        ("POST", "/v1/alerts/", "/ack", Some("demo-nurse"), ""),
        (
            "POST",
            "/v1/change-requests/",
            "/approve",
            Some("demo-reception"),
            "",
        ),
        (
            "POST",
            "/v1/duplicates/",
            "/resolve",
            Some("demo-reception"),
            r#"{"same_person":true}"#,
        ),
        (
            "POST",
            "/v1/providers/",
            "/unavailable",
            Some("demo-scheduler"),
            r#"{"start":"2190-01-01T10:00:00Z","end":"2190-01-01T11:00:00Z"}"#,
        ),
        (
            "POST",
            "/v1/patients/",
            "/discharge",
            Some("demo-nurse"),
            "",
        ),
    ];
    for k in 0..40 {
        let (method, prefix, suffix, token, body) = id_routes[k % id_routes.len()];
        let id = &bad_ids[rng.index(bad_ids.len())];
        out.push(
            Case::new(
                format!("bad-uuid/{k}"),
                method,
                &format!("{prefix}{id}{suffix}"),
                token,
            )
            .body(body),
        );
    }

    // 7. Other patients' ids with demo patient 1's token (and an id that is no one's).
    let nobody = "01900000-0000-7000-8000-0000000000ff".to_string();
    let mut others: Vec<String> = ctx.demo[1..].to_vec();
    others.push(nobody);
    let own_token = Some("demo-patient-1");
    let lines = vitals_line(p1, "heart_rate", r#""value":128,"unit":"/min""#);
    for (k, other) in others.iter().enumerate() {
        let o = other.as_str();
        let tries: Vec<Case> = vec![
            Case::new(
                format!("other-patient/{k}/read"),
                "GET",
                &format!("/v1/patients/{o}"),
                own_token,
            ),
            Case::new(
                format!("other-patient/{k}/patch"),
                "PATCH",
                &format!("/v1/patients/{o}"),
                own_token,
            )
            .body(r#"{"base_version":1,"sms_reminders":false}"#),
            Case::new(
                format!("other-patient/{k}/appointments"),
                "GET",
                &book_path(o),
                own_token,
            ),
            Case::new(
                format!("other-patient/{k}/book"),
                "POST",
                &book_path(o),
                own_token,
            )
            .body(json!({"option": ctx.option, "client_token": "bad-other"}).to_string()),
            Case::new(
                format!("other-patient/{k}/statement"),
                "GET",
                &format!("/v1/patients/{o}/statement"),
                own_token,
            ),
            Case::new(
                format!("other-patient/{k}/pay"),
                "POST",
                &pay_path(o),
                own_token,
            )
            .body(r#"{"amount_minor":1}"#),
            Case::new(
                format!("other-patient/{k}/vitals"),
                "POST",
                &format!("/v1/patients/{o}/vitals"),
                own_token,
            )
            .body(lines.clone()),
            Case::new(
                format!("other-patient/{k}/proxies"),
                "POST",
                &format!("/v1/patients/{o}/proxies"),
                own_token,
            )
            .body(r#"{"classes":["billing"],"relationship":"adult-child"}"#),
            Case::new(
                format!("other-patient/{k}/phone"),
                "POST",
                &format!("/v1/patients/{o}/phone"),
                own_token,
            )
            .body(r#"{"phone":"+12125559999"}"#),
            Case::new(
                format!("other-patient/{k}/disclosures"),
                "GET",
                &format!("/v1/patients/{o}/disclosures"),
                own_token,
            ),
            Case::new(
                format!("other-patient/{k}/outbox"),
                "GET",
                &format!("/v1/outbox?patient={o}"),
                own_token,
            ),
        ];
        out.extend(tries);
    }
    if let Some(a) = &ctx.other_appointment {
        for action in ["cancel", "check-in", "complete", "charges"] {
            out.push(
                Case::new(
                    format!("other-patient/appointment/{action}"),
                    "POST",
                    &format!("/v1/appointments/{a}/{action}"),
                    own_token,
                )
                .body(if action == "charges" {
                    r#"{"codes":["99213"]}"#
                } else {
                    ""
                }),
            );
        }
        out.push(
            Case::new(
                "other-patient/appointment/reschedule".into(),
                "POST",
                &format!("/v1/appointments/{a}/reschedule"),
                own_token,
            )
            .body(json!({"option": ctx.option}).to_string()),
        );
    }

    // 8. Wrong methods.
    let methods: [(&str, String, Option<&str>); 20] = [
        (
            "DELETE",
            format!("/v1/patients/{p1}"),
            Some("demo-reception"),
        ),
        ("PUT", format!("/v1/patients/{p1}"), Some("demo-reception")),
        ("GET", "/v1/patients".into(), Some("demo-reception")),
        ("DELETE", "/v1/patients".into(), Some("demo-admin")),
        ("PUT", "/v1/slots".into(), None),
        ("DELETE", "/v1/register".into(), None),
        ("POST", "/health".into(), None),
        ("DELETE", "/v1/billing/aging".into(), Some("demo-billing")),
        ("PUT", pay_path(p1), Some("demo-billing")),
        ("GET", pay_path(p1), Some("demo-billing")),
        ("DELETE", pay_path(p1), Some("demo-billing")),
        ("GET", "/v1/sms/inbound".into(), Some("demo-sms-gateway")),
        ("DELETE", "/v1/audit/verify".into(), Some("demo-privacy")),
        ("GET", "/v1/billing/remittance".into(), Some("demo-billing")),
        ("POST", "/v1/duplicates".into(), Some("demo-reception")),
        ("PATCH", book_path(p1), Some("demo-scheduler")),
        ("DELETE", book_path(p1), Some("demo-scheduler")),
        ("OPTIONS", "/v1/patients".into(), Some("demo-reception")),
        ("BREW", "/v1/patients".into(), Some("demo-reception")),
        (
            "TRACE",
            format!("/v1/patients/{p1}"),
            Some("demo-reception"),
        ),
    ];
    for (k, (m, path, token)) in methods.iter().enumerate() {
        out.push(
            Case::new(format!("wrong-method/{k}"), m, path, *token)
                .body(with(lookalike(), "note", json!(MARKER)).to_string()),
        );
    }

    // 9. Oversized bodies (over the 64 KiB JSON limit; one over the 8 MiB upload limit).
    let pad = 64 * 1024 + 1 + rng.index(4096);
    for (name, method, path, token, body) in &bases {
        let text = body.to_string();
        let mut padded = text[..text.len() - 1].to_string();
        padded.push_str(&" ".repeat(pad));
        padded.push('}');
        out.push(Case::new(format!("oversized/{name}/padded"), method, path, *token).body(padded));
    }
    out.push(
        Case::new(
            "oversized/staff-register/name".into(),
            "POST",
            "/v1/patients",
            Some("demo-reception"),
        )
        .body(with(lookalike(), "family", json!(MARKER.repeat(8_000))).to_string()),
    );
    let mut upload = String::new();
    while upload.len() <= 8 * 1024 * 1024 {
        upload.push_str(&lines);
        upload.push('\n');
    }
    out.push(
        Case::new(
            "oversized/vitals".into(),
            "POST",
            &format!("/v1/patients/{p1}/vitals"),
            own_token,
        )
        .body(upload),
    );

    // 10. Invalid UTF-8.
    let bad_bytes: [&[u8]; 5] = [
        b"\xff\xfe",
        b"\xc3",
        b"\xc0\xaf",
        b"\xed\xa0\x80",
        b"\xf8\x88\x80\x80\x80",
    ];
    for (k, bytes) in bad_bytes.iter().enumerate() {
        let mut body = br#"{"given":["Maria"],"family":"Del"#.to_vec();
        body.extend_from_slice(bytes);
        body.extend_from_slice(br#"gado","birth_date":"1958-03-14"}"#);
        out.push(
            Case::new(
                format!("utf8/register/{k}"),
                "POST",
                "/v1/patients",
                Some("demo-reception"),
            )
            .body(body),
        );
        let mut sms = br#"{"message_id":"bad-utf8","from":"+12125550142","body":"ST"#.to_vec();
        sms.extend_from_slice(bytes);
        sms.extend_from_slice(br#"OP"}"#);
        out.push(
            Case::new(
                format!("utf8/sms/{k}"),
                "POST",
                "/v1/sms/inbound",
                Some("demo-sms-gateway"),
            )
            .body(sms),
        );
        let mut vitals = lines.clone().into_bytes();
        vitals.extend_from_slice(b"\n");
        vitals.extend_from_slice(bytes);
        out.push(
            Case::new(
                format!("utf8/vitals/{k}"),
                "POST",
                &format!("/v1/patients/{p1}/vitals"),
                own_token,
            )
            .body(vitals),
        );
        let mut key = b"chaos-".to_vec();
        key.extend_from_slice(bytes);
        out.push(
            Case::new(
                format!("utf8/idempotency-key/{k}"),
                "POST",
                &pay_path(p1),
                Some("demo-billing"),
            )
            .header("Idempotency-Key", key)
            .body(r#"{"amount_minor":1,"credit":true}"#),
        );
        let mut target = format!("/v1/patients/{p1}").into_bytes();
        target.extend_from_slice(bytes);
        let mut case = Case::new(format!("utf8/path/{k}"), "GET", "", Some("demo-reception"));
        case.target = target;
        out.push(case);
        let mut glass = b"emergency ".to_vec();
        glass.extend_from_slice(bytes);
        out.push(
            Case::new(
                format!("utf8/break-glass/{k}"),
                "GET",
                &format!("/v1/patients/{p1}/notes"),
                Some("demo-clinician"),
            )
            .header("X-Break-Glass", glass),
        );
    }
    out.push(Case::new(
        "utf8/query".into(),
        "GET",
        "/v1/slots?appointment_type=gp-visit%ff%fe",
        None,
    ));

    // 11. Control and bidirectional-override characters in names and addresses.
    let hostile = [
        '\u{0}', '\u{7}', '\u{1b}', '\r', '\n', '\t', '\u{7f}', '\u{85}', '\u{9b}', '\u{202a}',
        '\u{202b}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
    ];
    for k in 0..44 {
        let c = hostile[rng.index(hostile.len())];
        let at = rng.index(5);
        let name: String = {
            let base = "Delgado";
            let (a, b) = base.split_at(at.min(base.len()));
            format!("{a}{c}{b}")
        };
        let case = match k % 5 {
            0 => Case::new(format!("control/staff-register/family/{k}"), "POST", "/v1/patients", Some("demo-reception"))
                .body(with(lookalike(), "family", json!(name)).to_string()),
            1 => Case::new(format!("control/self-register/given/{k}"), "POST", "/v1/register", None)
                .body(with(lookalike(), "given", json!([name.replace("Delgado", "Maria")])).to_string()),
            2 => Case::new(format!("control/patch/name/{k}"), "PATCH", &format!("/v1/patients/{p1}"), own_token)
                .body(json!({"base_version": 1, "name": {"given": ["Maria"], "family": name}}).to_string()),
            3 => Case::new(format!("control/patch/address/{k}"), "PATCH", &format!("/v1/patients/{p1}"), own_token)
                .body(json!({"base_version": 1, "address": {"lines": [format!("1 {name} St")], "city": "New York", "postal_code": "10001"}}).to_string()),
            _ => {
                // Raw (unescaped) control characters inside a JSON string.
                let raw = format!(r#"{{"given":["Maria"],"family":"{name}","birth_date":"1958-03-14"}}"#);
                Case::new(format!("control/raw/{k}"), "POST", "/v1/patients", Some("demo-reception")).body(raw)
            }
        };
        out.push(case);
    }

    // 12. Unknown query parameters.
    let queries = [
        format!("/v1/slots?appointment_type=gp-visit&{MARKER}=1"),
        "/v1/slots?appointment_type=gp-visit&limit=5&sort=asc".into(),
        format!("/v1/slots?appointment_type={MARKER}"),
        format!("/v1/slots?appointment_type=gp-visit&from={MARKER}"),
        format!("/v1/slots?appointment_type=gp-visit&provider={MARKER}"),
        "/v1/slots?appointment_type=gp-visit&%zz=1".into(),
        "/v1/slots?appointment_type=gp-visit&limit=abc".into(),
        "/v1/slots?appointment_type=".into(),
        "/v1/slots".into(),
        format!("/v1/slots?appointment_type=gp-visit&appointment_type={MARKER}"),
    ];
    for (k, q) in queries.iter().enumerate() {
        out.push(Case::new(format!("query/slots/{k}"), "GET", q, None));
    }
    for (k, q) in [
        format!("/v1/outbox?{MARKER}=1"),
        format!("/v1/outbox?status={MARKER}"),
        "/v1/outbox?status=pending&page=2".into(),
        format!("/v1/outbox?patient={MARKER}"),
        "/v1/outbox?status=%".into(),
    ]
    .iter()
    .enumerate()
    {
        out.push(Case::new(format!("query/outbox/{k}"), "GET", q, own_token));
    }

    // 13. Year-0 and out-of-range periods.
    let instants = [
        "0000-01-01T00:00:00Z",
        "0000-01-01T01:00:00Z",
        "1899-12-31T23:00:00Z",
        "2201-01-01T00:00:00Z",
        "-0001-01-01T00:00:00Z",
        "+10000-01-01T00:00:00Z",
        "0000-00-00T00:00:00Z",
    ];
    for (k, t) in instants.iter().enumerate() {
        out.push(Case::new(
            format!("period/slots-from/{k}"),
            "GET",
            &format!("/v1/slots?appointment_type=gp-visit&from={t}"),
            None,
        ));
        out.push(Case::new(
            format!("period/slots-to/{k}"),
            "GET",
            &format!("/v1/slots?appointment_type=gp-visit&to={t}"),
            None,
        ));
        out.push(
            Case::new(
                format!("period/unavailable/{k}"),
                "POST",
                &unavailable,
                Some("demo-scheduler"),
            )
            .body(json!({"start": t, "end": "0000-01-01T02:00:00Z"}).to_string()),
        );
        let mut option = ctx.option.clone();
        option["period"] = json!({"start": t, "end": "0000-01-01T02:00:00Z"});
        out.push(
            Case::new(
                format!("period/booking/{k}"),
                "POST",
                &book_path(p1),
                Some("demo-scheduler"),
            )
            .body(json!({"option": option, "client_token": format!("bad-period-{k}")}).to_string()),
        );
    }
    for (k, (s, e)) in [
        ("2190-01-01T11:00:00Z", "2190-01-01T10:00:00Z"),
        ("2190-01-01T10:00:00Z", "2190-01-01T10:00:00Z"),
        ("0000-01-01T00:00:00Z", "2190-01-01T10:00:00Z"),
    ]
    .iter()
    .enumerate()
    {
        out.push(
            Case::new(
                format!("period/unavailable-order/{k}"),
                "POST",
                &unavailable,
                Some("demo-scheduler"),
            )
            .body(json!({"start": s, "end": e}).to_string()),
        );
    }

    // 14. SMS without a usable message id (from verified demo numbers, so an accepted one
    // would act on a demo patient).
    for (k, text) in ["C", "X", "STOP", "R", "YES", "CANCEL", "C2", "X1"]
        .iter()
        .enumerate()
    {
        let from = DEMO_PHONES[rng.index(DEMO_PHONES.len())];
        out.push(
            Case::new(
                format!("sms/no-id/{k}"),
                "POST",
                "/v1/sms/inbound",
                Some("demo-sms-gateway"),
            )
            .body(json!({"from": from, "body": text}).to_string()),
        );
        let id = if k % 2 == 0 { Value::Null } else { json!("") };
        out.push(
            Case::new(
                format!("sms/empty-id/{k}"),
                "POST",
                "/v1/sms/inbound",
                Some("demo-sms-gateway"),
            )
            .body(json!({"message_id": id, "from": from, "body": text}).to_string()),
        );
    }
    out.push(
        Case::new(
            "sms/wrong-role".into(),
            "POST",
            "/v1/sms/inbound",
            Some("demo-reception"),
        )
        .body(
            json!({"message_id": "bad-role", "from": DEMO_PHONES[0], "body": "STOP"}).to_string(),
        ),
    );

    // 15. Vitals lines for another patient (patient 1 is under home monitoring).
    let own = [
        vitals_line(p1, "respiratory_rate", r#""value":27,"unit":"/min""#),
        vitals_line(p1, "oxygen_saturation", r#""value":89,"unit":"%""#),
        vitals_line(p1, "heart_rate", r#""value":128,"unit":"/min""#),
        vitals_line(p1, "body_temperature", r#""value":39.4,"unit":"Cel""#),
    ];
    for k in 0..16 {
        let other = &ctx.demo[1 + rng.index(5)];
        let foreign = vitals_line(other, "heart_rate", r#""value":131,"unit":"/min""#);
        let mut body: Vec<String> = own.to_vec();
        match k % 4 {
            0 => body = vec![foreign],
            1 => body.insert(rng.index(body.len() + 1), foreign),
            2 => body.push(own[0].replacen(
                &format!(r#""patient":"{p1}""#),
                &format!(r#""patient":"{p1}","patient":"{other}""#),
                1,
            )),
            _ => body.push(vitals_line(
                "01900000-0000-7000-8000-0000000000fe",
                "heart_rate",
                r#""value":131,"unit":"/min""#,
            )),
        }
        out.push(
            Case::new(
                format!("vitals/other-patient/{k}"),
                "POST",
                &format!("/v1/patients/{p1}/vitals"),
                own_token,
            )
            .body(body.join("\n")),
        );
    }

    // 16. Authentication and money rules.
    let auths: [(&str, &[u8]); 7] = [
        ("none", b""),
        ("marker", b"Bearer ZQXSECRET"),
        ("basic", b"Basic ZGVtby1iaWxsaW5nOng="),
        ("empty", b"Bearer "),
        ("long", b"Bearer demo-billingdemo-billingdemo-billingdemo-billingdemo-billingdemo-billingdemo-billingdemo-billingdemo-billingdemo-billingdemo-billingdemo-billingdemo-billingdemo-billingdemo-billingdemo-billingdemo-billing"),
        ("lowercase", b"bearer demo-billing"),
        ("control", b"Bearer demo-billing\x01"),
    ];
    for (name, value) in auths {
        let mut case = Case::new(format!("auth/{name}"), "POST", &pay_path(p1), None)
            .body(r#"{"amount_minor":1,"credit":true}"#);
        if !value.is_empty() {
            case = case.header("Authorization", value);
        }
        out.push(case);
    }
    for (k, (path, method)) in [
        ("/v1/billing/aging", "GET"),
        ("/v1/duplicates", "GET"),
        ("/v1/audit/verify", "GET"),
        ("/v1/reviews", "GET"),
        ("/v1/patients", "POST"),
    ]
    .iter()
    .enumerate()
    {
        out.push(
            Case::new(
                format!("auth/patient-on-staff/{k}"),
                method,
                path,
                own_token,
            )
            .body(if *method == "POST" {
                lookalike().to_string()
            } else {
                String::new()
            }),
        );
    }
    out.push(
        Case::new(
            "money/patient-credit".into(),
            "POST",
            &pay_path(&ctx.demo[4]),
            Some("demo-patient-5"),
        )
        .body(r#"{"amount_minor":1,"credit":true}"#),
    );
    out.push(
        Case::new(
            "money/over-balance".into(),
            "POST",
            &pay_path(p1),
            own_token,
        )
        .body(r#"{"amount_minor":100000}"#),
    );
    let long_key = "k".repeat(101);
    for (k, key) in ["has space", long_key.as_str(), "", "tab\tkey"]
        .iter()
        .enumerate()
    {
        out.push(
            Case::new(
                format!("money/idempotency-key/{k}"),
                "POST",
                &pay_path(p1),
                Some("demo-billing"),
            )
            .header("Idempotency-Key", key.as_bytes().to_vec())
            .body(r#"{"amount_minor":1,"credit":true}"#),
        );
    }
    out.push(
        Case::new(
            "money/key-mismatch".into(),
            "POST",
            &pay_path(p1),
            Some("demo-billing"),
        )
        .header("Idempotency-Key", "chaos-a")
        .body(r#"{"amount_minor":1,"credit":true,"client_token":"chaos-b"}"#),
    );
    for (k, token) in [String::new(), "t".repeat(101)].iter().enumerate() {
        out.push(
            Case::new(
                format!("booking/client-token/{k}"),
                "POST",
                &book_path(p1),
                Some("demo-scheduler"),
            )
            .body(json!({"option": ctx.option, "client_token": token}).to_string()),
        );
    }
    if let (Some(start), Some(end)) = (
        ctx.option["period"]["start"]
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()),
        ctx.option["period"]["end"]
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()),
    ) {
        for (k, shift) in [7i64, -7, -60 * 24 * 400, 1].iter().enumerate() {
            let d = chrono::TimeDelta::minutes(*shift);
            let mut option = ctx.option.clone();
            option["period"] =
                json!({"start": (start + d).to_rfc3339(), "end": (end + d).to_rfc3339()});
            out.push(
                Case::new(
                    format!("booking/tampered-period/{k}"),
                    "POST",
                    &book_path(p1),
                    Some("demo-scheduler"),
                )
                .body(
                    json!({"option": option, "client_token": format!("bad-shift-{k}")}).to_string(),
                ),
            );
        }
        let mut option = ctx.option.clone();
        option["provider"] = json!("01900000-0000-7000-8000-0000000000fd");
        out.push(
            Case::new(
                "booking/unknown-provider".into(),
                "POST",
                &book_path(p1),
                Some("demo-scheduler"),
            )
            .body(json!({"option": option, "client_token": "bad-provider"}).to_string()),
        );
    }
    out
}

/// A cheap fingerprint of the state the hostile cases could touch, read through the API.
fn fingerprint(addr: SocketAddr, demo: &[String]) -> Res<BTreeMap<String, String>> {
    let mut c = Conn::open(addr)?;
    let mut out = BTreeMap::new();
    let get = |c: &mut Conn, what: &str, path: &str, token: &str| -> Res<Value> {
        let r = c.call("GET", path, Some(token), &[], b"")?;
        if r.status != 200 {
            return Err(format!("fingerprint: {what} answered {}", r.status).into());
        }
        Ok(r.json())
    };
    for (i, p) in demo.iter().enumerate() {
        let n = i + 1;
        let record = get(
            &mut c,
            "a record",
            &format!("/v1/patients/{p}"),
            "demo-reception",
        )?;
        out.insert(format!("patient {n} record"), record.to_string());
        let list = get(
            &mut c,
            "appointments",
            &format!("/v1/patients/{p}/appointments"),
            "demo-scheduler",
        )?;
        out.insert(format!("patient {n} appointments"), list.to_string());
        let requests = get(
            &mut c,
            "change requests",
            &format!("/v1/patients/{p}/change-requests"),
            "demo-reception",
        )?;
        out.insert(format!("patient {n} change requests"), requests.to_string());
        let statement = get(
            &mut c,
            "a statement",
            &format!("/v1/patients/{p}/statement"),
            "demo-billing",
        )?;
        out.insert(
            format!("patient {n} balance"),
            statement["balance_minor"].to_string(),
        );
    }
    let aging = get(&mut c, "aging", "/v1/billing/aging", "demo-billing")?;
    out.insert(
        "aging".into(),
        format!(
            "{} {}",
            aging["patients_total_minor"], aging["payers_total_minor"]
        ),
    );
    for (what, path, token) in [
        ("duplicates", "/v1/duplicates", "demo-reception"),
        ("alerts", "/v1/alerts", "demo-nurse"),
        ("reviews", "/v1/reviews", "demo-privacy"),
    ] {
        let v = get(&mut c, what, path, token)?;
        out.insert(what.to_string(), v.to_string());
    }
    Ok(out)
}

struct Hostile {
    cases: usize,
    server_errors: usize,
    /// Writes answered 2xx.
    accepted: usize,
    /// Fingerprint entries that changed.
    partial_writes: usize,
    echoes: usize,
    /// Cases the server answered nothing to (connection closed or reset).
    unanswered: usize,
    statuses: BTreeMap<u16, usize>,
}

fn hostile(addr: SocketAddr, demo: &[String], seed: u64) -> Res<Hostile> {
    let mut c = Conn::open(addr)?;
    // Patient 1 under home monitoring, so a vitals upload is refused for its content.
    c.call(
        "POST",
        &format!("/v1/patients/{}/discharge", demo[0]),
        Some("demo-nurse"),
        &[],
        b"",
    )?;
    let providers = c.call("GET", "/v1/providers", None, &[], b"")?.json();
    let provider = providers[0]["id"]
        .as_str()
        .or_else(|| providers[0]["provider"].as_str())
        .ok_or("no provider in the directory")?
        .to_string();
    let from = (chrono::Utc::now() + chrono::TimeDelta::days(3))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let option = c
        .call(
            "GET",
            &format!("/v1/slots?appointment_type=gp-visit&from={from}&limit=1"),
            None,
            &[],
            b"",
        )?
        .json()[0]
        .clone();
    let other_appointment = c
        .call(
            "GET",
            &format!("/v1/patients/{}/appointments", demo[1]),
            Some("demo-scheduler"),
            &[],
            b"",
        )?
        .json()
        .as_array()
        .and_then(|list| list.iter().find(|a| a["status"] == "booked"))
        .and_then(|a| a["id"].as_str().map(str::to_string));
    let ctx = Context {
        demo: demo.to_vec(),
        provider,
        option,
        other_appointment,
    };
    let all = cases(&ctx, seed);
    let before = fingerprint(addr, demo)?;
    let mut report = Hostile {
        cases: all.len(),
        server_errors: 0,
        accepted: 0,
        partial_writes: 0,
        echoes: 0,
        unanswered: 0,
        statuses: BTreeMap::new(),
    };
    let marker = MARKER.to_ascii_lowercase();
    for case in &all {
        // A fresh connection each: some refusals close the connection.
        let mut conn = Conn::open(addr)?;
        match conn.raw(&case.method, &case.target, &case.headers, &case.body) {
            Ok(r) => {
                *report.statuses.entry(r.status).or_default() += 1;
                if r.status >= 500 {
                    report.server_errors += 1;
                    println!("  5xx: {} answered {}", case.label, r.status);
                }
                if r.ok() && !case.is_read() {
                    report.accepted += 1;
                    println!("  accepted: {} answered {}", case.label, r.status);
                }
                if String::from_utf8_lossy(&r.body)
                    .to_ascii_lowercase()
                    .contains(&marker)
                {
                    report.echoes += 1;
                    println!("  echo: {} answered with the marker", case.label);
                }
            }
            Err(_) => {
                report.unanswered += 1;
                println!("  no answer: {}", case.label);
            }
        }
    }
    if wait_healthy(addr, Duration::from_secs(5))? != "ok" {
        return Err("the backend is degraded after the hostile input".into());
    }
    let after = fingerprint(addr, demo)?;
    for (key, value) in &before {
        if after.get(key) != Some(value) {
            report.partial_writes += 1;
            println!("  changed: {key}");
        }
    }
    report.partial_writes += after.keys().filter(|k| !before.contains_key(*k)).count();
    Ok(report)
}

// ---- the whole run -------------------------------------------------------------------------

struct Outcome {
    acknowledged: usize,
    losses: Losses,
    malformed: u64,
    kills: usize,
    chain: Option<String>,
    race: Race,
    hostile: Hostile,
}

impl Outcome {
    fn passed(&self) -> bool {
        self.losses.total() == 0
            && self.losses.paid_twice == 0
            && self.malformed == 0
            && self.chain.is_none()
            && self.race.winners == 1
            && self.race.in_slot == 1
            && self.race.other == 0
            && self.hostile.server_errors == 0
            && self.hostile.partial_writes == 0
            && self.hostile.accepted == 0
            && self.hostile.echoes == 0
    }

    fn summary(&self) -> String {
        format!(
            "clinic-chaos: {} acknowledged writes, {} lost, {} kill -9 restarts, {}; race: {} bookers, {} winner{}; bad input: {} cases, {} 5xx, {} partial writes, {} echoes",
            self.acknowledged,
            self.losses.total(),
            self.kills,
            if self.chain.is_none() {
                "chain verified"
            } else {
                "chain NOT verified"
            },
            self.race.bookers,
            self.race.winners,
            if self.race.winners == 1 { "" } else { "s" },
            self.hostile.cases,
            self.hostile.server_errors,
            self.hostile.partial_writes,
            self.hostile.echoes,
        )
    }
}

fn chaos(options: &Options) -> Res<Outcome> {
    let started = Instant::now();
    let exe = std::env::current_exe()?;
    // Declared first so it is removed last, after the backend is gone.
    let dir = TempDir::new(options.seed)?;
    let data = dir.0.join("data");
    let (mut backend, status) = Backend::start(&exe, &data)?;
    println!(
        "backend started (pid {}, {status}); seed {}, {} rounds of about {} s",
        backend.child.id(),
        options.seed,
        options.restarts,
        options.seconds_per_round
    );

    let race = race(backend.addr, options.seed)?;
    println!(
        "race: {} bookers, {} got 201, {} got 409, {} other; {} appointment(s) in the slot",
        race.bookers, race.winners, race.conflicts, race.other, race.in_slot
    );

    let drive = Arc::new(Drive {
        acked: Mutex::new(Acked::default()),
        tally: Tally::default(),
        counter: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        seed: options.seed,
    });
    let mut rng = Rng::new(options.seed);
    let mut kills = 0;
    let mut chain = None;
    for round in 1..=options.restarts {
        let delay = options.seconds_per_round * (0.5 + rng.unit());
        let before = drive.tally.acknowledged.load(Ordering::Relaxed);
        drive.stop.store(false, Ordering::Relaxed);
        let handles: Vec<_> = (0..DRIVERS)
            .map(|t| {
                let (drive, addr) = (drive.clone(), backend.addr);
                let rng = Rng::new(options.seed ^ ((round as u64) << 32) ^ (t as u64 + 1));
                std::thread::spawn(move || driver(addr, &drive, rng))
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(delay));
        let killed = backend.kill();
        drive.stop.store(true, Ordering::Relaxed);
        for h in handles {
            if h.join().is_err() {
                return Err("a driver thread panicked".into());
            }
        }
        killed?;
        kills += 1;
        let t0 = Instant::now();
        let (next, status) = Backend::start(&exe, &data)?;
        backend = next;
        let acked = drive.tally.acknowledged.load(Ordering::Relaxed) - before;
        println!(
            "round {round:>2}: kill -9 after {delay:.2} s, {acked} acknowledged; restarted in {:.2} s ({status})",
            t0.elapsed().as_secs_f64()
        );
        if status != "ok" {
            // Writes are refused from here on; say why and stop the rounds.
            let why =
                chain_problem(backend.addr)?.unwrap_or_else(|| format!("/health said {status}"));
            println!("round {round:>2}: the backend came back {status}: {why}");
            chain = Some(why);
            break;
        }
    }

    if chain.is_none() {
        chain = chain_problem(backend.addr)?;
    }
    if let Some(why) = &chain {
        println!("chain after kill -9: NOT verified: {why}");
    } else {
        println!("chain after kill -9: verified, /health ok");
    }
    let acked = std::mem::take(&mut *drive.lock());
    let t = &drive.tally;
    println!(
        "writes: {} attempted, {} acknowledged ({} registrations, {} bookings, {} cancellations, {} payments), {} 409, {} other 4xx, {} 5xx, {} cut off by a kill, {} searches found no slot",
        t.attempts.load(Ordering::Relaxed),
        t.acknowledged.load(Ordering::Relaxed),
        acked.registrations.len(),
        acked.bookings.len(),
        acked.cancels.len(),
        acked.payments.len(),
        t.conflicts.load(Ordering::Relaxed),
        t.other_4xx.load(Ordering::Relaxed),
        t.server_errors.load(Ordering::Relaxed),
        t.transport.load(Ordering::Relaxed),
        t.no_slot.load(Ordering::Relaxed),
    );
    let t0 = Instant::now();
    let losses = check_acknowledged(backend.addr, &acked)?;
    println!(
        "lost after {kills} kill -9 restarts: {} registrations, {} bookings, {} cancellations, {} payments ({} paid twice on retry); checked in {:.2} s",
        losses.registrations,
        losses.bookings,
        losses.cancels,
        losses.payments,
        losses.paid_twice,
        t0.elapsed().as_secs_f64()
    );

    let hostile = hostile(backend.addr, &backend.demo, options.seed)?;
    let statuses: Vec<String> = hostile
        .statuses
        .iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    println!(
        "bad input: {} cases ({}), {} unanswered, {} writes accepted, {} fingerprint entries changed, {} echoes",
        hostile.cases,
        statuses.join(", "),
        hostile.unanswered,
        hostile.accepted,
        hostile.partial_writes,
        hostile.echoes
    );
    if chain.is_none() {
        chain = chain_problem(backend.addr)?;
        if let Some(why) = &chain {
            println!("chain after the hostile input: NOT verified: {why}");
        }
    }
    backend.kill()?;
    println!("total {:.1} s", started.elapsed().as_secs_f64());
    let malformed = drive.tally.malformed.load(Ordering::Relaxed);
    Ok(Outcome {
        acknowledged: acked.registrations.len()
            + acked.bookings.len()
            + acked.cancels.len()
            + acked.payments.len(),
        losses,
        malformed,
        kills,
        chain,
        race,
        hostile,
    })
}
