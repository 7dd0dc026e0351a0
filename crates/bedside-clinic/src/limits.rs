//! Rate limits for the HTTP API: token buckets per client address and per bearer token,
//! refusing with `429 Too Many Requests`, a `Retry-After` header and the API's JSON error.
//!
//! The buckets are GCRA limiters from the `governor` crate behind the `tower_governor` layer.
//! A [`Quota`] is a burst (requests accepted at once from a full bucket) and a replenish
//! period (one request's worth comes back after each period). The defaults
//! ([`RateLimits::default`]):
//!
//! | limit | key | burst | refill |
//! | --- | --- | --- | --- |
//! | anonymous endpoints (self-registration, slot search, provider list) | client address | 10 | 1 every 6 s (10 a minute) |
//! | every endpoint | client address | 120 | 20 a second |
//! | authenticated endpoints | bearer token (SHA-256 of the `Authorization` value) | 60 | 10 a second |
//!
//! [`apply`] takes the anonymous and the authenticated routes as two routers and merges them:
//! the anonymous group is limited per client address, the authenticated group per token
//! (requests without an `Authorization` header there are keyed by client address), and every
//! request, from either group or to no route at all, also counts against the overall
//! per-address bucket. A refusal looks like this:
//!
//! ```text
//! HTTP/1.1 429 Too Many Requests
//! content-type: application/json
//! retry-after: 6
//!
//! {"error":{"code":"rate_limited","message":"too many requests, retry later","details":[]}}
//! ```
//!
//! `Retry-After` is whole seconds, rounded up and at least 1.
//!
//! The client address is the peer address of the TCP connection, taken from axum's
//! [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo), so the server must be started with
//! `into_make_service_with_connect_info::<SocketAddr>()`. IPv6 clients are grouped by their /64
//! network, since one host can usually choose any address in it. Without `ConnectInfo` (an
//! in-process test driving the router with `oneshot`) every request shares one fallback bucket
//! rather than failing. `X-Forwarded-For` is ignored by default because any client can send
//! it; behind a reverse proxy that appends it, set [`ClientAddressSource::ForwardedFor`].
//!
//! State is in memory only (no network, nothing persisted); buckets that have refilled are
//! dropped every few thousand requests, so memory stays proportional to recently active
//! clients.

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use governor::middleware::NoOpMiddleware;
use sha2::{Digest, Sha256};
use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer, governor::GovernorConfigBuilder};

/// The body of every refusal, in the error shape the rest of the API uses.
pub const RATE_LIMITED_BODY: &str =
    r#"{"error":{"code":"rate_limited","message":"too many requests, retry later","details":[]}}"#;

/// The body if the limiter itself fails; unreachable with this module's key extractors, which
/// always produce a key.
const INTERNAL_BODY: &str =
    r#"{"error":{"code":"internal","message":"internal error","details":[]}}"#;

/// Buckets that have refilled completely are dropped after this many requests.
const SWEEP_EVERY_REQUESTS: u64 = 4096;

/// Occurs when a [`Quota`] would never admit a request or never refill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuotaError {
    /// Occurs when the burst is zero.
    #[error("a quota's burst must be at least 1")]
    ZeroBurst,
    /// Occurs when the replenish period is zero (or, for [`Quota::per_second`], the rate is
    /// zero).
    #[error("a quota's replenish period must be longer than zero")]
    ZeroPeriod,
}

/// One token bucket's shape: `burst` requests at once from a full bucket, and one more each
/// `replenish_period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    burst: NonZeroU32,
    replenish_period: Duration,
}

impl Quota {
    /// A bucket of `burst` requests that regains one every `replenish_period`.
    ///
    /// # Errors
    /// [`QuotaError::ZeroBurst`] for a zero burst, [`QuotaError::ZeroPeriod`] for a zero period.
    pub fn new(burst: u32, replenish_period: Duration) -> Result<Self, QuotaError> {
        let burst = NonZeroU32::new(burst).ok_or(QuotaError::ZeroBurst)?;
        if replenish_period.is_zero() {
            return Err(QuotaError::ZeroPeriod);
        }
        Ok(Self {
            burst,
            replenish_period,
        })
    }

    /// A bucket of `burst` requests that regains `per_second` requests a second.
    ///
    /// # Errors
    /// [`QuotaError::ZeroBurst`] for a zero burst, [`QuotaError::ZeroPeriod`] for a zero rate.
    pub fn per_second(burst: u32, per_second: u32) -> Result<Self, QuotaError> {
        if per_second == 0 {
            return Err(QuotaError::ZeroPeriod);
        }
        Self::new(burst, Duration::from_secs(1) / per_second)
    }

    /// Built from literals only; a zero burst would become 1 and a zero period is never
    /// passed (every call site below is a nonzero constant).
    const fn constant(burst: u32, replenish_period: Duration) -> Self {
        let burst = match NonZeroU32::new(burst) {
            Some(burst) => burst,
            None => NonZeroU32::MIN,
        };
        Self {
            burst,
            replenish_period,
        }
    }

    /// Requests accepted at once from a full bucket.
    pub const fn burst(&self) -> NonZeroU32 {
        self.burst
    }

    /// Time after which one more request is accepted.
    pub const fn replenish_period(&self) -> Duration {
        self.replenish_period
    }
}

/// Where the client address comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClientAddressSource {
    /// The TCP peer address (`ConnectInfo<SocketAddr>`). Right when clients connect directly.
    #[default]
    Peer,
    /// The rightmost address in `X-Forwarded-For`, falling back to the peer address when the
    /// header is absent or unparsable. Right only when exactly one trusted reverse proxy
    /// appends that header and clients cannot reach the server except through it; otherwise
    /// a client picks its own bucket by sending the header.
    ForwardedFor,
}

/// The rate limits [`apply`] installs. `None` turns one limit off.
///
/// Tests that drive the router in-process share one fallback bucket for every request (there
/// is no peer address), so they use [`RateLimits::disabled`], or tiny quotas to test refusals:
///
/// ```
/// use bedside_clinic::limits::{Quota, RateLimits};
/// use std::time::Duration;
///
/// let limits = RateLimits {
///     per_token: Some(Quota::new(2, Duration::from_secs(60))?),
///     ..RateLimits::disabled()
/// };
/// assert!(limits.per_address.is_none());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimits {
    /// Per client address, on the anonymous endpoints only. Default: burst 10, one every 6 s.
    pub anonymous_per_address: Option<Quota>,
    /// Per client address, on every request. Default: burst 120, 20 a second.
    pub per_address: Option<Quota>,
    /// Per bearer token, on the authenticated endpoints. Default: burst 60, 10 a second.
    pub per_token: Option<Quota>,
    /// Where the client address comes from. Default: [`ClientAddressSource::Peer`].
    pub client_address: ClientAddressSource,
}

impl RateLimits {
    /// No limits at all: [`apply`] only merges the two routers.
    pub const fn disabled() -> Self {
        Self {
            anonymous_per_address: None,
            per_address: None,
            per_token: None,
            client_address: ClientAddressSource::Peer,
        }
    }
}

impl Default for RateLimits {
    /// The limits in the module documentation.
    fn default() -> Self {
        Self {
            anonymous_per_address: Some(Quota::constant(10, Duration::from_secs(6))),
            per_address: Some(Quota::constant(120, Duration::from_millis(50))),
            per_token: Some(Quota::constant(60, Duration::from_millis(100))),
            client_address: ClientAddressSource::Peer,
        }
    }
}

/// Merges the anonymous and the authenticated routes under `limits`.
///
/// Both routers must already have their state (`.with_state(..)`). `anonymous` gets the
/// per-address anonymous quota, `authenticated` the per-token quota (a request there without
/// an `Authorization` header is keyed by its client address), and the merged router the
/// overall per-address quota, which therefore also counts requests that match no route.
/// Route-specific limits are applied only to matched routes, so a 404 costs only the overall
/// quota.
///
/// As with [`Router::merge`], at most one of the two routers may have a `fallback` (put it on
/// `authenticated`), and no path may be in both; axum panics otherwise, at startup.
pub fn apply(anonymous: Router, authenticated: Router, limits: &RateLimits) -> Router {
    let source = limits.client_address;
    let mut sweeps: Vec<Sweep> = Vec::new();
    let anonymous = match limits
        .anonymous_per_address
        .filter(|_| anonymous.has_routes())
        .and_then(|quota| limiter(quota, AddressKeyExtractor { source }, &mut sweeps))
    {
        Some(layer) => anonymous.route_layer(layer),
        None => anonymous,
    };
    let authenticated = match limits
        .per_token
        .filter(|_| authenticated.has_routes())
        .and_then(|quota| limiter(quota, CallerKeyExtractor { source }, &mut sweeps))
    {
        Some(layer) => authenticated.route_layer(layer),
        None => authenticated,
    };
    let merged = anonymous.merge(authenticated);
    let mut merged = match limits
        .per_address
        .and_then(|quota| limiter(quota, AddressKeyExtractor { source }, &mut sweeps))
    {
        Some(layer) => merged.layer(layer),
        None => merged,
    };
    if !sweeps.is_empty() {
        let sweeper = Arc::new(Sweeper {
            requests: AtomicU64::new(0),
            sweeps,
        });
        merged = merged.layer(axum::middleware::from_fn(
            move |request: Request, next: Next| {
                let sweeper = Arc::clone(&sweeper);
                async move {
                    sweeper.count();
                    next.run(request).await
                }
            },
        ));
    }
    merged
}

/// Drops the refilled buckets of one limiter.
type Sweep = Box<dyn Fn() + Send + Sync>;

/// Counts requests and sweeps every limiter each [`SWEEP_EVERY_REQUESTS`].
struct Sweeper {
    requests: AtomicU64,
    sweeps: Vec<Sweep>,
}

impl Sweeper {
    fn count(&self) {
        let seen = self.requests.fetch_add(1, Ordering::Relaxed);
        if seen % SWEEP_EVERY_REQUESTS == SWEEP_EVERY_REQUESTS - 1 {
            for sweep in &self.sweeps {
                sweep();
            }
        }
    }
}

/// A `tower_governor` layer for `quota` keyed by `key`, answering refusals with [`refusal`];
/// registers the limiter's sweep in `sweeps`.
fn limiter<K>(
    quota: Quota,
    key: K,
    sweeps: &mut Vec<Sweep>,
) -> Option<GovernorLayer<K, NoOpMiddleware, Body>>
where
    K: KeyExtractor + Send + Sync + 'static,
    K::Key: Send + Sync + 'static,
{
    // `finish` returns `None` only for a zero burst or a zero period, which `Quota` rules out.
    let config = GovernorConfigBuilder::default()
        .key_extractor(key)
        .period(quota.replenish_period)
        .burst_size(quota.burst.get())
        .finish()?;
    let limiter = Arc::clone(config.limiter());
    sweeps.push(Box::new(move || {
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }));
    Some(GovernorLayer::new(config).error_handler(refusal))
}

/// The response for a refused request.
fn refusal(error: GovernorError) -> Response {
    let (status, body, retry_after) = match error {
        GovernorError::TooManyRequests { wait_time, .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            RATE_LIMITED_BODY,
            Some(retry_after_seconds(wait_time)),
        ),
        GovernorError::UnableToExtractKey | GovernorError::Other { .. } => {
            (StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_BODY, None)
        }
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(seconds) = retry_after {
        headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// `tower_governor` reports the wait truncated to whole seconds (0 for waits under a second);
/// one more second is never too early.
fn retry_after_seconds(truncated_wait_seconds: u64) -> u64 {
    truncated_wait_seconds.saturating_add(1)
}

/// A client address as a bucket key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ClientKey {
    /// An IPv4 address, or an IPv6 /64 network.
    Address(IpAddr),
    /// No address known (no `ConnectInfo`): one shared bucket.
    Unknown,
}

/// A caller on the authenticated routes as a bucket key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum CallerKey {
    /// SHA-256 of the `Authorization` header value; the raw token is never stored.
    Token([u8; 32]),
    /// No `Authorization` header: the client address.
    Client(ClientKey),
}

impl fmt::Debug for CallerKey {
    /// Omits the token digest: nothing derived from a credential goes into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallerKey::Token(_) => f.write_str("Token(..)"),
            CallerKey::Client(client) => f.debug_tuple("Client").field(client).finish(),
        }
    }
}

/// Keys by client address.
#[derive(Debug, Clone, Copy)]
struct AddressKeyExtractor {
    source: ClientAddressSource,
}

impl KeyExtractor for AddressKeyExtractor {
    type Key = ClientKey;

    fn extract<T>(&self, request: &axum::http::Request<T>) -> Result<ClientKey, GovernorError> {
        Ok(client_key(request, self.source))
    }
}

/// Keys by bearer token, or by client address without one.
#[derive(Debug, Clone, Copy)]
struct CallerKeyExtractor {
    source: ClientAddressSource,
}

impl KeyExtractor for CallerKeyExtractor {
    type Key = CallerKey;

    fn extract<T>(&self, request: &axum::http::Request<T>) -> Result<CallerKey, GovernorError> {
        Ok(match request.headers().get(AUTHORIZATION) {
            Some(value) => CallerKey::Token(Sha256::digest(value.as_bytes()).into()),
            None => CallerKey::Client(client_key(request, self.source)),
        })
    }
}

fn client_key<T>(request: &axum::http::Request<T>, source: ClientAddressSource) -> ClientKey {
    let forwarded = match source {
        ClientAddressSource::Peer => None,
        ClientAddressSource::ForwardedFor => rightmost_forwarded_for(request.headers()),
    };
    let address = forwarded.or_else(|| {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip())
    });
    match address {
        Some(address) => ClientKey::Address(network(address)),
        None => ClientKey::Unknown,
    }
}

/// The address the last proxy appended: the last entry of the last `X-Forwarded-For` header.
/// Entries to its left were written by the client or earlier hops and prove nothing.
fn rightmost_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers.get_all("x-forwarded-for").iter().next_back()?;
    last.to_str().ok()?.rsplit(',').next()?.trim().parse().ok()
}

/// IPv4 addresses as they are (IPv4-mapped IPv6 included); IPv6 addresses cut to their /64.
fn network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests;
