//! The CSRF check of page requests that may change data: the form field
//! `csrf_token` (or the header `X-CSRF-Token`) must equal the session's
//! token. A browser sends the session cookie with a form posted from another
//! site, but that site cannot read the token from Filière's pages.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, StatusCode};

use super::cookies::same_secret;
use crate::errors::AppError;
use crate::server::BODY_LIMIT_BYTES;

/// Name of the hidden field that carries the token in every form.
pub const FIELD: &str = "csrf_token";
/// Header accepted in place of the field, for scripts in the pages.
pub const HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

/// Returns the request, body intact, when it carries `expected`; otherwise
/// a 403 and the handler never runs.
pub async fn check(request: Request, expected: &str) -> Result<Request, AppError> {
    let from_header = request
        .headers()
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    if let Some(given) = from_header {
        return match same_secret(&given, expected) {
            true => Ok(request),
            false => Err(AppError::csrf_rejected()),
        };
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT_BYTES)
        .await
        .map_err(|error| unreadable(&error))?;
    let matches = form_token(&bytes).is_some_and(|given| same_secret(&given, expected));
    if !matches {
        return Err(AppError::csrf_rejected());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Returns the last `csrf_token` value of a URL-encoded body.
pub fn form_token(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .filter(|(name, _)| name == FIELD)
        .map(|(_, value)| value.into_owned())
        .last()
}

/// Maps a body over the limit to 413, as the handlers' own extractors do.
fn unreadable(error: &axum::Error) -> AppError {
    let too_large = std::error::Error::source(error)
        .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
    if too_large {
        return AppError::payload_too_large();
    }
    AppError::new(
        StatusCode::BAD_REQUEST,
        "unreadable_body",
        "Le corps de la requête n'a pas pu être lu. Renvoyez-la.",
    )
}
