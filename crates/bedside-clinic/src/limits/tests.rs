use super::*;
use axum::routing::get;
use http_body_util::BodyExt;
use tower::ServiceExt;

const ANONYMOUS: &str = "/v1/slots";
const AUTHENTICATED: &str = "/v1/me";

fn app(limits: RateLimits) -> Router {
    let anonymous = Router::new().route(ANONYMOUS, get(|| async { "slots" }));
    let authenticated = Router::new()
        .route(AUTHENTICATED, get(|| async { "me" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no route") });
    apply(anonymous, authenticated, &limits)
}

fn quota(burst: u32) -> Option<Quota> {
    // A minute per request: nothing refills while a test runs.
    Quota::new(burst, Duration::from_secs(60)).ok()
}

/// One request: its path, peer address, bearer token and `X-Forwarded-For` value.
#[derive(Clone, Copy, Default)]
struct Call {
    path: &'static str,
    peer: Option<&'static str>,
    token: Option<&'static str>,
    forwarded_for: Option<&'static str>,
}

impl Call {
    fn anonymous(peer: &'static str) -> Self {
        Self {
            path: ANONYMOUS,
            peer: Some(peer),
            ..Self::default()
        }
    }

    fn token(peer: &'static str, token: &'static str) -> Self {
        Self {
            path: AUTHENTICATED,
            peer: Some(peer),
            token: Some(token),
            ..Self::default()
        }
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn send(app: &Router, call: Call) -> Answer {
    let mut request = Request::builder().uri(call.path);
    if let Some(peer) = call.peer {
        let peer: SocketAddr = peer.parse().unwrap();
        request = request.extension(ConnectInfo(peer));
    }
    if let Some(token) = call.token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(forwarded_for) = call.forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    let request = request.body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// Sends `calls` in order and returns their status codes.
async fn statuses(app: &Router, calls: &[Call]) -> Vec<u16> {
    let mut out = Vec::new();
    for call in calls {
        out.push(send(app, *call).await.status.as_u16());
    }
    out
}

#[tokio::test]
async fn exhausted_burst_answers_429_with_retry_after_and_json_body() {
    let app = app(RateLimits {
        per_token: quota(2),
        ..RateLimits::disabled()
    });
    let call = Call::token("192.0.2.1:4000", "t-alice");
    assert_eq!(statuses(&app, &[call, call]).await, [200, 200]);
    let refused = send(&app, call).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers[CONTENT_TYPE], "application/json");
    let retry_after: u64 = refused.headers[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=61).contains(&retry_after), "retry-after {retry_after}");
    let body: serde_json::Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"error": {"code": "rate_limited", "message": "too many requests, retry later", "details": []}})
    );
}

#[tokio::test]
async fn retry_after_is_at_least_one_second_for_sub_second_refills() {
    let app = app(RateLimits {
        per_address: Quota::new(1, Duration::from_millis(900)).ok(),
        ..RateLimits::disabled()
    });
    let call = Call::anonymous("192.0.2.1:4000");
    assert_eq!(send(&app, call).await.status, StatusCode::OK);
    let refused = send(&app, call).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers[RETRY_AFTER], "1");
}

#[tokio::test]
async fn tokens_have_separate_buckets() {
    let app = app(RateLimits {
        per_token: quota(1),
        ..RateLimits::disabled()
    });
    let alice = Call::token("192.0.2.1:4000", "t-alice");
    let bob = Call::token("192.0.2.1:4000", "t-bob");
    assert_eq!(
        statuses(&app, &[alice, alice, bob, bob]).await,
        [200, 429, 200, 429]
    );
}

#[tokio::test]
async fn client_addresses_have_separate_buckets() {
    let app = app(RateLimits {
        anonymous_per_address: quota(1),
        ..RateLimits::disabled()
    });
    let first = Call::anonymous("192.0.2.1:4000");
    let same_host_other_port = Call::anonymous("192.0.2.1:5000");
    let second = Call::anonymous("198.51.100.7:4000");
    assert_eq!(
        statuses(&app, &[first, same_host_other_port, second, second]).await,
        [200, 429, 200, 429]
    );
}

#[tokio::test]
async fn ipv6_clients_share_a_bucket_per_64_network() {
    let app = app(RateLimits {
        anonymous_per_address: quota(1),
        ..RateLimits::disabled()
    });
    let first = Call::anonymous("[2001:db8:1:2::1]:4000");
    let same_network = Call::anonymous("[2001:db8:1:2:ffff::9]:4000");
    let other_network = Call::anonymous("[2001:db8:1:3::1]:4000");
    assert_eq!(
        statuses(&app, &[first, same_network, other_network]).await,
        [200, 429, 200]
    );
}

#[tokio::test]
async fn anonymous_default_limit_is_stricter_than_authenticated() {
    let app = app(RateLimits::default());
    let anonymous = Call::anonymous("192.0.2.1:4000");
    let authenticated = Call::token("198.51.100.7:4000", "t-alice");
    let mut expected_anonymous = vec![200; 10];
    expected_anonymous.push(429);
    assert_eq!(statuses(&app, &[anonymous; 11]).await, expected_anonymous);
    assert_eq!(statuses(&app, &[authenticated; 11]).await, [200; 11]);
}

#[tokio::test]
async fn authenticated_requests_without_a_token_are_keyed_by_address() {
    let app = app(RateLimits {
        per_token: quota(1),
        ..RateLimits::disabled()
    });
    let no_token = |peer| Call {
        path: AUTHENTICATED,
        peer: Some(peer),
        ..Call::default()
    };
    let first = no_token("192.0.2.1:4000");
    let second = no_token("198.51.100.7:4000");
    assert_eq!(
        statuses(&app, &[first, first, second]).await,
        [200, 429, 200]
    );
}

#[tokio::test]
async fn overall_per_address_limit_counts_both_groups_and_unknown_routes() {
    let app = app(RateLimits {
        per_address: quota(3),
        ..RateLimits::disabled()
    });
    let peer = "192.0.2.1:4000";
    let unknown = Call {
        path: "/v1/nowhere",
        peer: Some(peer),
        ..Call::default()
    };
    assert_eq!(
        statuses(
            &app,
            &[
                Call::anonymous(peer),
                Call::token(peer, "t-alice"),
                unknown,
                unknown
            ]
        )
        .await,
        [200, 200, 404, 429]
    );
}

#[tokio::test]
async fn missing_connect_info_shares_one_fallback_bucket_instead_of_failing() {
    let app = app(RateLimits {
        anonymous_per_address: quota(2),
        ..RateLimits::default()
    });
    let no_peer = Call {
        path: ANONYMOUS,
        ..Call::default()
    };
    assert_eq!(statuses(&app, &[no_peer; 3]).await, [200, 200, 429]);
    // A token on the authenticated group still gets its own bucket.
    let token = Call {
        path: AUTHENTICATED,
        token: Some("t-alice"),
        ..Call::default()
    };
    assert_eq!(statuses(&app, &[token]).await, [200]);
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_trusted() {
    let spoofing = |forwarded_for| Call {
        forwarded_for: Some(forwarded_for),
        ..Call::anonymous("192.0.2.1:4000")
    };
    let one_per_address = RateLimits {
        anonymous_per_address: quota(1),
        ..RateLimits::disabled()
    };
    let untrusted = app(one_per_address);
    assert_eq!(
        statuses(
            &untrusted,
            &[spoofing("203.0.113.1"), spoofing("203.0.113.2")]
        )
        .await,
        [200, 429]
    );
    let behind_proxy = app(RateLimits {
        client_address: ClientAddressSource::ForwardedFor,
        ..one_per_address
    });
    // The proxy appends the real client last; what the client wrote before it is ignored.
    assert_eq!(
        statuses(
            &behind_proxy,
            &[
                spoofing("203.0.113.1"),
                spoofing("10.9.9.9, 203.0.113.1"),
                spoofing("203.0.113.1, 203.0.113.2"),
            ]
        )
        .await,
        [200, 429, 200]
    );
}

#[tokio::test]
async fn disabled_limits_never_refuse() {
    let app = app(RateLimits::disabled());
    let calls = [Call::anonymous("192.0.2.1:4000"); 40];
    assert_eq!(statuses(&app, &calls).await, [200; 40]);
}

#[test]
fn quotas_reject_zero_burst_and_zero_period() {
    let check = |got: Result<Quota, QuotaError>, expected: Result<(u32, Duration), QuotaError>| {
        assert_eq!(
            got.map(|q| (q.burst().get(), q.replenish_period())),
            expected
        );
    };
    check(
        Quota::new(0, Duration::from_secs(1)),
        Err(QuotaError::ZeroBurst),
    );
    check(Quota::new(1, Duration::ZERO), Err(QuotaError::ZeroPeriod));
    check(Quota::per_second(5, 0), Err(QuotaError::ZeroPeriod));
    check(
        Quota::per_second(60, 10),
        Ok((60, Duration::from_millis(100))),
    );
    check(
        Quota::new(10, Duration::from_secs(6)),
        Ok((10, Duration::from_secs(6))),
    );
}

#[test]
fn defaults_are_the_documented_ones() {
    let defaults = RateLimits::default();
    assert_eq!(
        defaults.anonymous_per_address,
        Quota::new(10, Duration::from_secs(6)).ok()
    );
    assert_eq!(defaults.per_address, Quota::per_second(120, 20).ok());
    assert_eq!(defaults.per_token, Quota::per_second(60, 10).ok());
    assert_eq!(defaults.client_address, ClientAddressSource::Peer);
}

#[test]
fn retry_after_rounds_up_to_at_least_one_second() {
    for (truncated, expected) in [(0, 1), (1, 2), (5, 6), (u64::MAX, u64::MAX)] {
        assert_eq!(retry_after_seconds(truncated), expected);
    }
}

#[test]
fn sweeper_sweeps_every_limiter_once_per_interval() {
    let swept = Arc::new(AtomicU64::new(0));
    let sweep = |swept: &Arc<AtomicU64>| -> Sweep {
        let swept = Arc::clone(swept);
        Box::new(move || {
            swept.fetch_add(1, Ordering::Relaxed);
        })
    };
    let sweeper = Sweeper {
        requests: AtomicU64::new(0),
        sweeps: vec![sweep(&swept), sweep(&swept)],
    };
    for _ in 0..SWEEP_EVERY_REQUESTS - 1 {
        sweeper.count();
    }
    assert_eq!(swept.load(Ordering::Relaxed), 0);
    sweeper.count();
    assert_eq!(swept.load(Ordering::Relaxed), 2);
    for _ in 0..SWEEP_EVERY_REQUESTS {
        sweeper.count();
    }
    assert_eq!(swept.load(Ordering::Relaxed), 4);
}

#[test]
fn token_keys_do_not_show_the_token() {
    let key = CallerKeyExtractor {
        source: ClientAddressSource::Peer,
    }
    .extract(
        &Request::builder()
            .header(AUTHORIZATION, "Bearer t-secret")
            .body(())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(format!("{key:?}"), "Token(..)");
}
