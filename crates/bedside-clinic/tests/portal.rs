//! The patient portal over the router, in-process: journeys (create an account, verify the
//! phone, sign in, book, reschedule, cancel, sign out) asserting what each page shows, and
//! attacker rows asserting the status and that nothing changed.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use bedside_clinic::auth::Principal;
use bedside_clinic::notify::MemoryNotifier;
use bedside_clinic::seed::{self, Demo};
use bedside_clinic::{Clinic, ClinicConfig, SqliteStore, http};
use bedside_core::{ManualClock, PatientId};
use chrono::TimeDelta;
use http_body_util::BodyExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use tower::ServiceExt;

type TestResult = Result<(), Box<dyn std::error::Error>>;
type Error = Box<dyn std::error::Error>;
/// An attacker row: what it tries, the URI, the form, the status wanted.
type Row<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, u16);

/// Monday 8 June 2026, 09:00 in New York.
const START: &str = "2026-06-08T13:00:00Z";
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// James Whitfield's verified number (demo patient 2, English).
const JAMES: &str = "+12125550143";
/// Maria Delgado's verified number (demo patient 1, Spanish).
const MARIA: &str = "+12125550142";

struct Portal {
    router: Router,
    clinic: Arc<Clinic>,
    clock: Arc<ManualClock>,
    demo: Demo,
    phone: MemoryNotifier,
}

struct Page {
    status: u16,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }

    /// The value of the first hidden input called `name`.
    fn field(&self, name: &str) -> Result<String, Error> {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self.body.find(&marker).ok_or(format!("no field {name}"))?;
        let rest = &self.body[at + marker.len()..];
        Ok(rest[..rest.find('"').ok_or("unterminated")?].to_string())
    }

    /// The first link whose target starts with `prefix` (entities decoded).
    fn link(&self, prefix: &str) -> Result<String, Error> {
        let marker = format!("href=\"{prefix}");
        let at = self
            .body
            .find(&marker)
            .ok_or(format!("no link to {prefix}"))?;
        let rest = &self.body[at + 6..];
        Ok(rest[..rest.find('"').ok_or("unterminated")?].replace("&amp;", "&"))
    }
}

impl Portal {
    fn new() -> Result<Self, Error> {
        let clock = Arc::new(ManualClock::new(START.parse()?));
        let clinic = Arc::new(Clinic::open(
            Box::new(SqliteStore::in_memory()?),
            clock.clone(),
            ClinicConfig::default(),
        )?);
        let demo = seed::seed(&clinic)?;
        Ok(Portal {
            router: http::router_with(
                clinic.clone(),
                &bedside_clinic::limits::RateLimits::disabled(),
            ),
            clinic,
            clock,
            demo,
            phone: MemoryNotifier::default(),
        })
    }

    fn browser(&self) -> Browser<'_> {
        Browser {
            portal: self,
            cookies: BTreeMap::new(),
            accept_language: "en-US,en;q=0.9",
        }
    }

    /// Journaled commands so far: "nothing changed" means this did not move.
    fn journal_len(&self) -> Result<usize, Error> {
        Ok(self.clinic.export_journal()?.len())
    }

    /// The latest one-time code texted to `phone` (delivered by the outbox like any SMS).
    fn code_for(&self, phone: &str) -> Result<String, Error> {
        self.clinic.deliver_due(&self.phone)?;
        let sent = self.phone.sent();
        let m = sent
            .iter()
            .rev()
            .find(|m| m.address == phone && m.body.contains("code is"))
            .ok_or("no code texted")?;
        let digits: String = m
            .body
            .split("code is ")
            .nth(1)
            .ok_or("body")?
            .chars()
            .take(6)
            .collect();
        Ok(digits)
    }

    fn patient(&self, i: usize) -> PatientId {
        self.demo.patients[i].0
    }

    fn statuses(&self, i: usize) -> Result<Vec<(String, &'static str)>, Error> {
        let who = Principal::Patient {
            patient: self.patient(i),
        };
        Ok(self
            .clinic
            .appointments(&who, self.patient(i))?
            .into_iter()
            .map(|a| (a.id.to_string(), a.status))
            .collect())
    }
}

struct Browser<'a> {
    portal: &'a Portal,
    cookies: BTreeMap<String, String>,
    accept_language: &'static str,
}

impl Browser<'_> {
    async fn send(
        &mut self,
        method: &str,
        uri: &str,
        form: &[(&str, &str)],
    ) -> Result<Page, Error> {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("accept-language", self.accept_language);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header("cookie", jar.join("; "));
        }
        let body = if method == "POST" {
            req = req.header("content-type", "application/x-www-form-urlencoded");
            form.iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>()
                .join("&")
        } else {
            String::new()
        };
        let response = self
            .portal
            .router
            .clone()
            .oneshot(req.body(Body::from(body))?)
            .await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await?.to_bytes();
        let page = Page {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec())?,
        };
        for c in page.set_cookies() {
            let pair = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        Ok(page)
    }

    async fn get(&mut self, uri: &str) -> Result<Page, Error> {
        self.send("GET", uri, &[]).await
    }

    async fn post(&mut self, uri: &str, form: &[(&str, &str)]) -> Result<Page, Error> {
        self.send("POST", uri, form).await
    }

    /// Signs in with the code texted to `phone`; the home page after it.
    async fn sign_in(&mut self, phone: &str) -> Result<Page, Error> {
        let form = self.get("/portal/sign-in").await?;
        assert_eq!(form.status, 200);
        let csrf = form.field("csrf")?;
        let sent = self
            .post("/portal/sign-in", &[("csrf", &csrf), ("phone", phone)])
            .await?;
        assert_eq!(sent.status, 200, "{}", sent.body);
        let code = self.portal.code_for(phone)?;
        let done = self
            .post(
                "/portal/sign-in/code",
                &[("csrf", &csrf), ("phone", phone), ("code", &code)],
            )
            .await?;
        assert_eq!(
            (done.status, done.location()),
            (303, "/portal/home"),
            "{}",
            done.body
        );
        self.get("/portal/home").await
    }
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Replaces every UUID and every 64-hex-digit token with a placeholder.
fn redact(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let is_hex = |b: u8| b.is_ascii_hexdigit() && !b.is_ascii_uppercase();
    while i < bytes.len() {
        let uuid = bytes.len() >= i + 36
            && bytes[i..i + 36].iter().enumerate().all(|(j, b)| {
                if [8, 13, 18, 23].contains(&j) {
                    *b == b'-'
                } else {
                    is_hex(*b)
                }
            });
        if uuid {
            out.push_str("[uuid]");
            i += 36;
            continue;
        }
        let run = bytes[i..].iter().take_while(|b| is_hex(**b)).count();
        if run >= 32 {
            out.push_str("[token]");
            i += run;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out.replace('>', ">\n")
}

#[tokio::test]
async fn sign_in_book_reschedule_cancel_and_sign_out() -> TestResult {
    let portal = Portal::new()?;
    let mut james = portal.browser();
    let home = james.sign_in(JAMES).await?;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("<html lang=\"en\">"), "{}", home.body);
    assert!(home.body.contains("Hello, James"));
    assert!(home.body.contains("Next appointment"));
    // The demo booked James a GP visit tomorrow.
    assert!(home.body.contains("Gp visit"), "{}", home.body);
    assert!(
        home.body.contains("Wednesday 10 June 2026, 09:00"),
        "{}",
        home.body
    );
    let before = portal.statuses(1)?.len();

    // Search: a GP follow-up with Dr. Osei on Wednesday afternoon.
    let book = james.get("/portal/book").await?;
    assert!(
        book.body
            .contains("<label for=\"type\">Type of visit</label>")
    );
    let provider = portal.demo.providers[0].to_string();
    let found = james
        .get(&format!(
            "/portal/book?type=gp-follow-up&provider={provider}&day=2026-06-10&part=afternoon"
        ))
        .await?;
    assert_eq!(found.status, 200, "{}", found.body);
    assert!(found.body.contains("Available times"));
    assert!(
        found.body.contains("Wednesday 10 June 2026, 1"),
        "{}",
        found.body
    );
    assert!(
        !found.body.contains("2026, 09:"),
        "morning times in an afternoon search"
    );
    // No day: the next two weeks.
    let any_day = james
        .get("/portal/book?type=gp-visit&day=&part=morning")
        .await?;
    assert_eq!(any_day.status, 200, "{}", any_day.body);
    assert!(any_day.body.contains("/portal/book/confirm?type=gp-visit"));
    let confirm_link = found.link("/portal/book/confirm?")?;
    let confirm = james.get(&confirm_link).await?;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Confirm your appointment"));
    assert!(confirm.body.contains("with Dr. Amara Osei"));
    let form = [
        ("csrf", confirm.field("csrf")?),
        ("client_token", confirm.field("client_token")?),
        ("type", confirm.field("type")?),
        ("provider", confirm.field("provider")?),
        ("start", confirm.field("start")?),
        ("end", confirm.field("end")?),
        ("room", confirm.field("room")?),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let booked = james.post("/portal/book/confirm", &form).await?;
    assert_eq!(booked.status, 303, "{}", booked.body);
    // A double-submitted confirm books once: the same appointment again.
    let again = james.post("/portal/book/confirm", &form).await?;
    assert_eq!((again.status, again.location()), (303, booked.location()));
    assert_eq!(portal.statuses(1)?.len(), before + 1);

    let confirmation = james.get(booked.location()).await?;
    assert!(confirmation.body.contains("Your appointment is booked"));
    assert!(confirmation.body.contains("Gp follow up"));
    let ics_link = confirmation.link("/portal/appointments/")?;
    assert!(ics_link.ends_with("/calendar.ics"), "{ics_link}");
    let ics = james.get(&ics_link).await?;
    assert_eq!(ics.status, 200);
    assert!(ics.header("content-type").starts_with("text/calendar"));
    assert!(ics.body.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(ics.body.contains("\r\nBEGIN:VEVENT\r\nUID:"));
    assert!(ics.body.contains("\r\nDTSTART:20260610T"), "{}", ics.body);
    assert!(ics.body.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));

    // Reschedule it to Thursday morning.
    let id = booked
        .location()
        .trim_start_matches("/portal/appointments/")
        .split('?')
        .next()
        .ok_or("id")?
        .to_string();
    let moved_search = james
        .get(&format!(
            "/portal/appointments/{id}/reschedule?provider={provider}&day=2026-06-11&part=morning"
        ))
        .await?;
    assert_eq!(moved_search.status, 200, "{}", moved_search.body);
    let link = moved_search
        .link("/portal/book/confirm?")
        .map_err(|e| format!("{e}: {}", moved_search.body))?;
    assert!(link.contains(&format!("move={id}")), "{link}");
    let confirm = james.get(&link).await?;
    assert!(confirm.body.contains("Move to this time"));
    assert!(
        confirm
            .body
            .contains(&format!("action=\"/portal/appointments/{id}/reschedule\""))
    );
    let form = [
        ("csrf", confirm.field("csrf")?),
        ("type", confirm.field("type")?),
        ("provider", confirm.field("provider")?),
        ("start", confirm.field("start")?),
        ("end", confirm.field("end")?),
        ("room", confirm.field("room")?),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let moved = james
        .post(&format!("/portal/appointments/{id}/reschedule"), &form)
        .await?;
    assert_eq!(moved.status, 303, "{}", moved.body);
    let shown = james.get(moved.location()).await?;
    assert!(shown.body.contains("The appointment is moved."));
    assert!(
        shown.body.contains("Thursday 11 June 2026, 0"),
        "{}",
        shown.body
    );

    // Cancel it from the list.
    let list = james.get("/portal/appointments").await?;
    assert!(
        list.body
            .contains(&format!("action=\"/portal/appointments/{id}/cancel\""))
    );
    let csrf = list.field("csrf")?;
    let cancelled = james
        .post(
            &format!("/portal/appointments/{id}/cancel"),
            &[("csrf", &csrf)],
        )
        .await?;
    assert_eq!(
        (cancelled.status, cancelled.location()),
        (303, "/portal/appointments?notice=cancelled")
    );
    let list = james.get(cancelled.location()).await?;
    assert!(list.body.contains("The appointment is cancelled."));
    assert!(list.body.contains("Status: Cancelled"));
    assert!(portal.statuses(1)?.contains(&(id.clone(), "cancelled")));

    // Sign out: the token stops working, the cookie goes.
    let out = james.post("/portal/sign-out", &[("csrf", &csrf)]).await?;
    assert_eq!((out.status, out.location()), (303, "/portal/sign-in"));
    assert!(
        out.set_cookies()
            .iter()
            .any(|c| c.starts_with("bedside_session=;") && c.contains("Max-Age=0"))
    );
    let home = james.get("/portal/home").await?;
    assert_eq!((home.status, home.location()), (303, "/portal/sign-in"));
    Ok(())
}

#[tokio::test]
async fn create_an_account_verify_the_phone_and_sign_in() -> TestResult {
    let portal = Portal::new()?;
    let mut b = portal.browser();
    let form = b.get("/portal/register").await?;
    assert_eq!(form.status, 200);
    for label in ["First name", "Last name", "Date of birth", "Mobile number"] {
        assert!(form.body.contains(&format!(">{label}</label>")), "{label}");
    }
    let csrf = form.field("csrf")?;
    let journal = portal.journal_len()?;
    // Bad input: every problem next to its field, in a summary with links, nothing saved.
    let bad = b
        .post(
            "/portal/register",
            &[
                ("csrf", &csrf),
                ("given", "Ana"),
                ("family", ""),
                ("birth_date", "02/03/1984"),
                ("phone", "+15555550199"),
                ("language", "en"),
            ],
        )
        .await?;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("There is a problem"));
    assert!(
        bad.body
            .contains("<a href=\"#family\">Enter your last name</a>")
    );
    assert!(bad.body.contains("<a href=\"#birth_date\">"));
    assert!(bad.body.contains("id=\"family\" name=\"family\" type=\"text\" value=\"\" autocomplete=\"family-name\" required aria-describedby=\"family-error\" aria-invalid=\"true\""), "{}", bad.body);
    assert!(
        bad.body.contains("value=\"Ana\""),
        "the form keeps what was typed"
    );
    assert!(
        !bad.body.contains("expected YYYY-MM-DD"),
        "the API's text stays out"
    );
    assert_eq!(portal.journal_len()?, journal, "nothing half-saved");

    let made = b
        .post(
            "/portal/register",
            &[
                ("csrf", &csrf),
                ("given", "Ana Lucía"),
                ("family", "Moreno"),
                ("birth_date", "1984-03-02"),
                ("phone", "+15555550199"),
                ("email", ""),
                ("language", "es"),
            ],
        )
        .await?;
    assert_eq!(
        (made.status, made.location()),
        (303, "/portal/verify-phone"),
        "{}",
        made.body
    );
    let verify = b.get("/portal/verify-phone").await?;
    assert!(
        verify.body.contains("<html lang=\"es\">"),
        "the chosen language"
    );
    assert!(verify.body.contains("Compruebe su número de móvil"));
    let csrf = verify.field("csrf")?;
    let code = portal.code_for("+15555550199")?;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = b
        .post("/portal/verify-phone", &[("csrf", &csrf), ("code", wrong)])
        .await?;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("aria-invalid=\"true\""));
    let done = b
        .post("/portal/verify-phone", &[("csrf", &csrf), ("code", &code)])
        .await?;
    assert_eq!(
        (done.status, done.location()),
        (303, "/portal/home?notice=verified")
    );
    let home = b.get(done.location()).await?;
    assert!(home.body.contains("Su número de móvil está verificado"));
    assert!(home.body.contains("Hola, Ana"));
    // Empty states.
    assert!(home.body.contains("No tiene citas próximas."));
    assert!(home.body.contains("No debe nada."));
    assert!(home.body.contains("No hay avisos."));
    let out = b.post("/portal/sign-out", &[("csrf", &csrf)]).await?;
    assert_eq!(out.status, 303);

    // The verified number now signs in, in Spanish (her preference).
    let mut again = portal.browser();
    let home = again.sign_in("+15555550199").await?;
    assert!(home.body.contains("<html lang=\"es\">"));
    Ok(())
}

#[tokio::test]
async fn sign_in_never_tells_whether_a_number_is_registered() -> TestResult {
    let portal = Portal::new()?;
    let mut b = portal.browser();
    let csrf = b.get("/portal/sign-in").await?.field("csrf")?;
    let known = b
        .post("/portal/sign-in", &[("csrf", &csrf), ("phone", JAMES)])
        .await?;
    let unknown_number = "+12125550999";
    let unknown = b
        .post(
            "/portal/sign-in",
            &[("csrf", &csrf), ("phone", unknown_number)],
        )
        .await?;
    assert_eq!((known.status, unknown.status), (200, 200));
    assert_eq!(
        known.body.replace(JAMES, "N"),
        unknown.body.replace(unknown_number, "N")
    );
    // Both journaled a command (the same work either way); only the known one texted.
    let kinds: Vec<String> = portal
        .clinic
        .export_journal()?
        .into_iter()
        .map(|(_, k, _)| k)
        .filter(|k| k == "sign_in_code")
        .collect();
    assert_eq!(kinds.len(), 2);
    portal.clinic.deliver_due(&portal.phone)?;
    assert!(
        portal
            .phone
            .sent()
            .iter()
            .all(|m| m.address != unknown_number)
    );
    // A wrong code looks the same for both numbers.
    let wrong_known = b
        .post(
            "/portal/sign-in/code",
            &[("csrf", &csrf), ("phone", JAMES), ("code", "123456")],
        )
        .await?;
    let wrong_unknown = b
        .post(
            "/portal/sign-in/code",
            &[
                ("csrf", &csrf),
                ("phone", unknown_number),
                ("code", "123456"),
            ],
        )
        .await?;
    assert_eq!((wrong_known.status, wrong_unknown.status), (400, 400));
    assert_eq!(
        wrong_known.body.replace(JAMES, "N"),
        wrong_unknown.body.replace(unknown_number, "N")
    );
    // The code never appears in the API's outbox, not even the patient's own.
    let who = Principal::Patient {
        patient: portal.patient(1),
    };
    let listed = portal.clinic.outbox(&who, None, Some(portal.patient(1)))?;
    assert!(listed.iter().all(|m| m.purpose != "sign-in-code"));
    Ok(())
}

#[tokio::test]
async fn wrong_codes_count_and_the_limit_stops_the_right_one() -> TestResult {
    let portal = Portal::new()?;
    let mut b = portal.browser();
    let csrf = b.get("/portal/sign-in").await?.field("csrf")?;
    b.post("/portal/sign-in", &[("csrf", &csrf), ("phone", JAMES)])
        .await?;
    let code = portal.code_for(JAMES)?;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let page = b
            .post(
                "/portal/sign-in/code",
                &[("csrf", &csrf), ("phone", JAMES), ("code", wrong)],
            )
            .await?;
        assert_eq!(page.status, 400);
        assert!(page.body.contains("That code is not right"));
        assert!(!b.cookies.contains_key("bedside_session"));
    }
    // Five wrong tries used the code up: the right one no longer works.
    let page = b
        .post(
            "/portal/sign-in/code",
            &[("csrf", &csrf), ("phone", JAMES), ("code", &code)],
        )
        .await?;
    assert_eq!(page.status, 400);
    assert!(!b.cookies.contains_key("bedside_session"));
    // A new code works.
    let home = b.sign_in(JAMES).await?;
    assert_eq!(home.status, 200);
    Ok(())
}

#[test]
fn sign_in_codes_and_attempts_survive_a_restart() -> TestResult {
    let clock = Arc::new(ManualClock::new(START.parse()?));
    let clinic = Clinic::open(
        Box::new(SqliteStore::in_memory()?),
        clock.clone(),
        ClinicConfig::default(),
    )?;
    seed::seed(&clinic)?;
    clinic.request_sign_in_code(JAMES)?;
    let phone = MemoryNotifier::default();
    clinic.deliver_due(&phone)?;
    let sent = phone.sent();
    let body = &sent
        .iter()
        .rfind(|m| m.address == JAMES)
        .ok_or("texted")?
        .body;
    let code: String = body
        .split("code is ")
        .nth(1)
        .ok_or("code")?
        .chars()
        .take(6)
        .collect();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        assert!(clinic.sign_in(JAMES, wrong).is_err());
    }
    // Replayed from the journal, the code and its four wrong attempts are still there.
    let clinic = Clinic::open(clinic.into_store()?, clock, ClinicConfig::default())?;
    assert!(clinic.sign_in(JAMES, wrong).is_err());
    assert!(
        clinic.sign_in(JAMES, &code).is_err(),
        "the fifth wrong try used it up"
    );
    Ok(())
}

#[tokio::test]
async fn attacker_rows_are_refused_and_change_nothing() -> TestResult {
    let portal = Portal::new()?;
    let mut james = portal.browser();
    james.sign_in(JAMES).await?;
    let mut maria = portal.browser();
    maria.sign_in(MARIA).await?;
    let maria_csrf = maria.get("/portal/home").await?.field("csrf")?;
    let (maria_appointment, _) = portal.statuses(0)?.into_iter().next().ok_or("seeded")?;
    let james_list = james.get("/portal/appointments").await?;
    let james_csrf = james_list.field("csrf")?;
    let (james_appointment, _) = portal.statuses(1)?.into_iter().next().ok_or("seeded")?;

    let provider = portal.demo.providers[0].to_string();
    let cancel_maria = format!("/portal/appointments/{maria_appointment}/cancel");
    let cancel_james = format!("/portal/appointments/{james_appointment}/cancel");
    let rows: Vec<Row> = vec![
        ("no CSRF token", cancel_james.clone(), vec![], 403),
        (
            "another session's CSRF token",
            cancel_james.clone(),
            vec![("csrf", &maria_csrf)],
            403,
        ),
        (
            "a made-up CSRF token",
            cancel_james.clone(),
            vec![("csrf", "00")],
            403,
        ),
        // The appointment id in the form's URL is the client's: Maria's is not James's.
        (
            "someone else's appointment",
            cancel_maria.clone(),
            vec![("csrf", &james_csrf)],
            404,
        ),
        (
            "an id that is no appointment",
            "/portal/appointments/not-an-id/cancel".into(),
            vec![("csrf", &james_csrf)],
            404,
        ),
        (
            "a reschedule of someone else's appointment",
            format!("/portal/appointments/{maria_appointment}/reschedule"),
            vec![
                ("csrf", &james_csrf),
                ("type", "gp-visit"),
                ("provider", &provider),
                ("start", "2026-06-10T14:00:00Z"),
                ("end", "2026-06-10T14:15:00Z"),
            ],
            404,
        ),
        (
            "a book without CSRF",
            "/portal/book/confirm".into(),
            vec![("client_token", "t1")],
            403,
        ),
    ];
    for (what, uri, form, status) in rows {
        let journal = portal.journal_len()?;
        let (a, b) = (portal.statuses(0)?, portal.statuses(1)?);
        let page = james.post(&uri, &form).await?;
        assert_eq!(page.status, status, "{what}: {}", page.body);
        assert!(
            !page.body.contains("panicked") && !page.body.contains("error:"),
            "{what}"
        );
        assert_eq!(portal.journal_len()?, journal, "{what}: nothing journaled");
        assert_eq!(
            (portal.statuses(0)?, portal.statuses(1)?),
            (a, b),
            "{what}: nothing changed"
        );
    }
    // Someone else's appointment is not shown either.
    let page = james
        .get(&format!("/portal/appointments/{maria_appointment}"))
        .await?;
    assert_eq!(page.status, 404);
    let page = james
        .get(&format!(
            "/portal/appointments/{maria_appointment}/calendar.ics"
        ))
        .await?;
    assert_eq!(page.status, 404);

    // A replayed confirm after the session ended: refused, nothing booked.
    let old_cookies = james.cookies.clone();
    james
        .post("/portal/sign-out", &[("csrf", &james_csrf)])
        .await?;
    james.cookies = old_cookies;
    let journal = portal.journal_len()?;
    let page = james.post(&cancel_james, &[("csrf", &james_csrf)]).await?;
    assert_eq!(page.status, 401, "revoked session");
    assert!(page.body.contains("Your session has ended"));
    assert_eq!(portal.journal_len()?, journal);
    assert!(
        portal
            .statuses(1)?
            .contains(&(james_appointment.clone(), "booked"))
    );

    // An expired session: Maria's, twelve hours and a minute later.
    portal
        .clock
        .advance(TimeDelta::hours(12) + TimeDelta::minutes(1));
    let page = maria.get("/portal/home").await?;
    assert_eq!((page.status, page.location()), (303, "/portal/sign-in"));
    let page = maria.post(&cancel_maria, &[("csrf", &maria_csrf)]).await?;
    assert_eq!(page.status, 401);
    assert!(portal.statuses(0)?.contains(&(maria_appointment, "booked")));

    // A staff token in the cookie is no portal session.
    let mut staff = portal.browser();
    staff
        .cookies
        .insert("bedside_session".into(), "demo-reception".into());
    let page = staff.get("/portal/home").await?;
    assert_eq!((page.status, page.location()), (303, "/portal/sign-in"));

    // Anonymous posts need the pre-session cookie's token.
    let mut fresh = portal.browser();
    let journal = portal.journal_len()?;
    let page = fresh.post("/portal/sign-in", &[("phone", JAMES)]).await?;
    assert_eq!(page.status, 403);
    fresh.get("/portal/sign-in").await?;
    let page = fresh
        .post("/portal/sign-in", &[("csrf", "bad"), ("phone", JAMES)])
        .await?;
    assert_eq!(page.status, 403);
    let page = fresh
        .post(
            "/portal/register",
            &[
                ("given", "Eve"),
                ("family", "X"),
                ("birth_date", "1990-01-01"),
                ("phone", "+15555550100"),
            ],
        )
        .await?;
    assert_eq!(page.status, 403);
    assert_eq!(portal.journal_len()?, journal);
    Ok(())
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_cookie_flags() -> TestResult {
    let portal = Portal::new()?;
    let mut b = portal.browser();
    let sign_in = b.get("/portal/sign-in").await?;
    let pre = sign_in.set_cookies();
    assert_eq!(pre.len(), 1);
    assert!(pre[0].starts_with("bedside_pre="));
    assert!(
        pre[0].ends_with("; Path=/portal; Max-Age=3600; HttpOnly; SameSite=Strict"),
        "{}",
        pre[0]
    );
    let home = b.sign_in(JAMES).await?;
    let css = b.get("/portal/portal.css").await?;
    let missing = b.get("/portal/nothing-here").await?;
    for (what, page) in [("sign-in", &sign_in), ("home", &home), ("css", &css)] {
        assert_eq!(page.header("content-security-policy"), CSP, "{what}");
        assert_eq!(page.header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(page.header("referrer-policy"), "no-referrer", "{what}");
        assert_eq!(page.header("x-frame-options"), "DENY", "{what}");
    }
    assert_eq!(home.header("cache-control"), "no-store");
    assert_eq!(sign_in.header("cache-control"), "no-store");
    assert_eq!(css.header("cache-control"), "public, max-age=3600");
    assert!(css.header("content-type").starts_with("text/css"));
    assert!(css.body.contains(":focus-visible"));
    assert_eq!(missing.status, 404);
    // No script anywhere, no inline style (the CSP would block them).
    assert!(!home.body.contains("<script") && !home.body.contains("style="));

    // The session cookie, as set at sign-in.
    let mut c = portal.browser();
    let csrf = c.get("/portal/sign-in").await?.field("csrf")?;
    c.post("/portal/sign-in", &[("csrf", &csrf), ("phone", JAMES)])
        .await?;
    let code = portal.code_for(JAMES)?;
    let done = c
        .post(
            "/portal/sign-in/code",
            &[("csrf", &csrf), ("phone", JAMES), ("code", &code)],
        )
        .await?;
    let session = done
        .set_cookies()
        .into_iter()
        .find(|s| s.starts_with("bedside_session="))
        .ok_or("session cookie")?;
    assert!(session.starts_with("bedside_session=pt_"));
    assert!(
        session.ends_with("; Path=/portal; Max-Age=43200; HttpOnly; SameSite=Strict"),
        "{session}"
    );

    // Behind HTTPS the cookies are Secure.
    let (limited, pages) = bedside_clinic::portal::routes(
        portal.clinic.clone(),
        bedside_clinic::portal::PortalConfig {
            secure_cookies: true,
        },
    );
    let response = limited
        .merge(pages)
        .oneshot(Request::get("/portal/sign-in").body(Body::empty())?)
        .await?;
    let page = Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: String::new(),
    };
    assert_eq!(page.status, 200);
    assert!(page.set_cookies()[0].ends_with("; SameSite=Strict; Secure"));
    Ok(())
}

#[tokio::test]
async fn pages_follow_the_language_and_show_form_errors() -> TestResult {
    let portal = Portal::new()?;
    let mut b = portal.browser();
    b.accept_language = "es-MX,es;q=0.9";
    let page = b.get("/portal/sign-in").await?;
    assert!(page.body.contains("<html lang=\"es\">"));
    assert!(page.body.contains("Iniciar sesión"));
    let csrf = page.field("csrf")?;
    let bad = b
        .post("/portal/sign-in", &[("csrf", &csrf), ("phone", "12345")])
        .await?;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body
            .contains("<a href=\"#phone\">Escriba un número de móvil")
    );
    assert!(
        bad.body
            .contains("aria-describedby=\"phone-hint phone-error\" aria-invalid=\"true\"")
    );
    // Maria's preference is Spanish: after sign-in her pages are Spanish whatever the browser says.
    let mut maria = portal.browser();
    let home = maria.sign_in(MARIA).await?;
    assert!(home.body.contains("<html lang=\"es\">"));
    assert!(home.body.contains("Próxima cita"));
    // A search with errors: each next to its field.
    let page = maria.get("/portal/book?type=nope&day=yesterday").await?;
    assert_eq!(page.status, 400);
    assert!(
        page.body
            .contains("<a href=\"#type\">Elija un tipo de consulta</a>")
    );
    let page = maria
        .get("/portal/book?type=gp-visit&day=2020-01-01")
        .await?;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("<a href=\"#day\">"));
    Ok(())
}

#[tokio::test]
async fn rendered_pages_are_pinned() -> TestResult {
    let portal = Portal::new()?;
    let mut b = portal.browser();
    let sign_in = b.get("/portal/sign-in").await?;
    insta::assert_snapshot!("sign_in_page", redact(&sign_in.body));
    let mut maria = portal.browser();
    let home = maria.sign_in(MARIA).await?;
    insta::assert_snapshot!("maria_home_page", redact(&home.body));
    Ok(())
}

#[tokio::test]
async fn sign_in_posts_are_rate_limited() -> TestResult {
    // The default limits: sign-in shares the anonymous per-address bucket (10, then 1 every
    // 6 s). In-process there is no peer address, so every request shares one bucket.
    let mut portal = Portal::new()?;
    portal.router = http::router(portal.clinic.clone());
    let mut b = portal.browser();
    let csrf = b.get("/portal/sign-in").await?.field("csrf")?;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let page = b
            .post(
                "/portal/sign-in",
                &[("csrf", &csrf), ("phone", "+12125550999")],
            )
            .await?;
        statuses.push(page.status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(statuses[10..], [429, 429]);
    // Pages are not under the anonymous limit.
    assert_eq!(b.get("/portal/sign-in").await?.status, 200);
    Ok(())
}

#[tokio::test]
async fn my_record_shows_demographics_and_saves_the_address() -> TestResult {
    let portal = Portal::new()?;
    let mut james = portal.browser();
    james.sign_in(JAMES).await?;
    let page = james.get("/portal/records").await?;
    assert_eq!(page.status, 200);
    for shown in [
        "James Robert Whitfield",
        "1971-11-02",
        JAMES,
        "<label for=\"street\">",
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(page.body.contains("Not on file"), "no e-mail on file");
    let csrf = page.field("csrf")?;
    let version = page.field("base_version")?;

    // Attacker and bad-input rows: each refused, the record unchanged.
    let long = "x".repeat(201);
    let stale = (version.parse::<u32>()? + 1).to_string();
    let rows: Vec<Row> = vec![
        (
            "no CSRF token",
            "/portal/records/address".into(),
            vec![("base_version", &version), ("street", "1 Evil St")],
            403,
        ),
        (
            "a stale version",
            "/portal/records/address".into(),
            vec![
                ("csrf", &csrf),
                ("base_version", &stale),
                ("street", "1 Main St"),
            ],
            409,
        ),
        (
            "a control character",
            "/portal/records/address".into(),
            vec![
                ("csrf", &csrf),
                ("base_version", &version),
                ("street", "1 Main\u{7}St"),
            ],
            400,
        ),
        (
            "a street too long",
            "/portal/records/address".into(),
            vec![
                ("csrf", &csrf),
                ("base_version", &version),
                ("street", &long),
            ],
            400,
        ),
    ];
    for (what, uri, form, status) in rows {
        let journal = portal.journal_len()?;
        let page = james.post(&uri, &form).await?;
        assert_eq!(page.status, status, "{what}: {}", page.body);
        assert_eq!(portal.journal_len()?, journal, "{what}: nothing journaled");
        if status != 403 {
            assert!(
                page.body.contains("<a href=\"#street\">"),
                "{what}: error summary"
            );
            assert!(
                page.body.contains("id=\"street\" name=\"street\""),
                "{what}"
            );
        }
    }
    let saved = james
        .post(
            "/portal/records/address",
            &[
                ("csrf", &csrf),
                ("base_version", &version),
                ("street", "12 Elm Street"),
                ("city", "New York"),
                ("postal_code", "10001"),
            ],
        )
        .await?;
    assert_eq!(
        (saved.status, saved.location()),
        (303, "/portal/records?notice=saved"),
        "{}",
        saved.body
    );
    let page = james.get(saved.location()).await?;
    assert!(page.body.contains("Your address is saved."));
    assert!(page.body.contains("value=\"12 Elm Street\""));
    assert!(page.body.contains("value=\"New York\""));
    // The same form again is stale now: refused, nothing changed.
    let journal = portal.journal_len()?;
    let again = james
        .post(
            "/portal/records/address",
            &[
                ("csrf", &csrf),
                ("base_version", &version),
                ("street", "13 Elm Street"),
            ],
        )
        .await?;
    assert_eq!(again.status, 409);
    assert_eq!(portal.journal_len()?, journal);
    Ok(())
}
