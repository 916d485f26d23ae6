//! The CSRF check of page requests that may change data: the form field
//! `csrf_token` (URL-encoded or multipart) or the header `X-CSRF-Token` must
//! equal the session's token. A browser sends the session cookie with a
//! form posted from another site, but that site cannot read the token from
//! Filière's pages.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request};
use axum::http::{header, HeaderName, StatusCode};
use tower::{Layer, ServiceExt};

use super::cookies::same_secret;
use crate::errors::AppError;
use crate::evidence_upload::{upload_too_large, UPLOAD_LIMIT_BYTES};
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
    let multipart = multipart_content_type(&request);
    let (parts, body) = request.into_parts();
    let limit = match multipart {
        Some(_) => UPLOAD_LIMIT_BYTES,
        None => BODY_LIMIT_BYTES,
    };
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|error| unreadable(&error, multipart.is_some()))?;
    let given = match &multipart {
        Some(content_type) => multipart_token(content_type, bytes.clone()).await,
        None => form_token(&bytes),
    };
    let matches = given.is_some_and(|given| same_secret(&given, expected));
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

/// Returns the content type of a `multipart/form-data` request, the only
/// kind of form that carries files.
fn multipart_content_type(request: &Request) -> Option<String> {
    let value = request.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let is_multipart = value
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data");
    is_multipart.then(|| value.to_string())
}

/// Returns the first `csrf_token` field of a multipart body. Pages put the
/// field before the files, so the parts after it are not read.
async fn multipart_token(content_type: &str, body: Bytes) -> Option<String> {
    let request = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .ok()?;
    // The body is already bounded by the upload limit; the layer lifts the
    // extractor's default limit of 2 MB to the same value.
    let service = DefaultBodyLimit::max(UPLOAD_LIMIT_BYTES).layer(tower::service_fn(
        |request: Request| async move {
            let Ok(mut multipart) = Multipart::from_request(request, &()).await else {
                return Ok::<_, Infallible>(None);
            };
            while let Ok(Some(field)) = multipart.next_field().await {
                if field.name() == Some(FIELD) && field.file_name().is_none() {
                    return Ok(field.text().await.ok());
                }
            }
            Ok(None)
        },
    ));
    service.oneshot(request).await.ok().flatten()
}

/// Maps a body over the limit to 413, as the handlers' own extractors do.
fn unreadable(error: &axum::Error, upload: bool) -> AppError {
    let too_large = std::error::Error::source(error)
        .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
    if too_large && upload {
        return upload_too_large();
    }
    if too_large {
        return AppError::payload_too_large();
    }
    AppError::new(
        StatusCode::BAD_REQUEST,
        "unreadable_body",
        "Le corps de la requête n'a pas pu être lu. Renvoyez-la.",
    )
}
