//! The rate limit of failed sign-ins, counted in the database per account
//! and per client address, so that it stays in force across restarts and
//! server processes sharing one database.
//!
//! The client address is the TCP peer. Behind a reverse proxy every client
//! has the proxy's address, so the per-address limit then applies to all of
//! them together; `X-Forwarded-For` is not read, because any client can set
//! it.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use chrono::{Duration, Utc};
use filiere_store::EventStore;

use crate::errors::AppError;

/// Failed sign-ins accepted per account within [`WINDOW_MINUTES`].
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed sign-ins accepted per client address within [`WINDOW_MINUTES`],
/// higher than per account because a workshop's people share one address.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
/// Length of the window over which failures are counted.
pub const WINDOW_MINUTES: i64 = 15;

/// Address of the TCP peer, when the server was started with connection
/// info.
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(ClientAddress(peer.map(|info| info.0.ip())))
    }
}

/// The keys one sign-in attempt is counted under.
pub struct AttemptKeys {
    account: String,
    address: String,
}

impl AttemptKeys {
    /// Keys of an attempt for `email` from `address`. The account key is the
    /// email as typed, so that an unknown email is limited like a known one.
    pub fn new(email: &str, address: &ClientAddress) -> AttemptKeys {
        let email: String = email.trim().to_lowercase().chars().take(254).collect();
        let address = address
            .0
            .map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
        AttemptKeys {
            account: format!("account:{email}"),
            address: format!("address:{address}"),
        }
    }
}

/// Rejects the attempt with 429 when its account or its address reached the
/// limit. The password is not checked then, so the response is the same
/// whether it is right or wrong and whether the account exists.
pub async fn check(store: &EventStore, keys: &AttemptKeys) -> Result<(), AppError> {
    let since = Utc::now() - Duration::minutes(WINDOW_MINUTES);
    let account = store.failed_sign_ins(&keys.account, since).await?;
    let address = store.failed_sign_ins(&keys.address, since).await?;
    if account >= MAX_FAILURES_PER_ACCOUNT || address >= MAX_FAILURES_PER_ADDRESS {
        tracing::warn!(
            account_failures = account,
            address_failures = address,
            "sign-in rejected by the rate limit"
        );
        return Err(AppError::too_many_requests(WINDOW_MINUTES));
    }
    Ok(())
}

/// Counts a failed attempt under both keys.
pub async fn record_failure(store: &EventStore, keys: &AttemptKeys) -> Result<(), AppError> {
    store
        .record_failed_sign_in(&[keys.account.clone(), keys.address.clone()])
        .await?;
    Ok(())
}
