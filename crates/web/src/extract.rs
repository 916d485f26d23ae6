//! Request extractors whose rejections are [`AppError`]s, so that a bad body
//! or query gets a French message and the route's format (page or JSON).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use filiere_domain::fields::Fields;
use serde::de::DeserializeOwned;

use crate::errors::AppError;

/// Name/value pairs of a URL-encoded form body, in order, repeated names
/// kept.
#[derive(Clone, Debug, Default)]
pub struct FormPairs(pub Vec<(String, String)>);

impl FormPairs {
    /// Last non-empty value of `name`, trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .filter(|(key, value)| key == name && !value.trim().is_empty())
            .map(|(_, value)| value.trim())
            .next()
    }

    /// Last value of `name` exactly as sent, for passwords, whose spaces
    /// count.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every value of `name`, empty ones included, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The pairs as step fields, leaving out the names in `skip`.
    pub fn to_fields(&self, skip: &[&str]) -> Fields {
        let mut fields = Fields::new();
        for (name, value) in &self.0 {
            if !skip.contains(&name.as_str()) {
                fields.entry(name.clone()).or_default().push(value.clone());
            }
        }
        fields
    }
}

impl<S: Send + Sync> FromRequest<S> for FormPairs {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        parse_form(&bytes).map(FormPairs)
    }
}

/// Decodes an `application/x-www-form-urlencoded` body into name/value
/// pairs. Unlike `form_urlencoded::parse`, which replaces bytes that are not
/// UTF-8 by U+FFFD, a name or value that is not UTF-8 once percent-decoded
/// is rejected, so that a mangled value is never stored.
pub(crate) fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, AppError> {
    let mut pairs = Vec::new();
    for pair in body.split(|byte| *byte == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|byte| *byte == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &pair[pair.len()..]),
        };
        let name = decode_component(name).map_err(|lossy| {
            AppError::bad_request(
                "invalid_encoding",
                format!(
                    "Le nom de champ « {lossy} » du formulaire n'est pas du texte UTF-8 valide : \
                     envoyez le formulaire en UTF-8."
                ),
            )
        })?;
        let value = decode_component(value).map_err(|lossy| {
            AppError::bad_request(
                "invalid_encoding",
                format!(
                    "Champ « {name} » : la valeur « {lossy} » n'est pas du texte UTF-8 valide \
                     (un caractère est illisible). Retapez-la puis renvoyez le formulaire en \
                     UTF-8."
                ),
            )
        })?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// Percent-decodes one name or value, `+` meaning a space. Returns the
/// lossy text, with U+FFFD in place of each invalid sequence, when the
/// bytes are not UTF-8.
fn decode_component(encoded: &[u8]) -> Result<String, String> {
    let spaced: Vec<u8> = encoded
        .iter()
        .map(|byte| if *byte == b'+' { b' ' } else { *byte })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(bytes).map_err(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// Reads the whole body; a body over the limit becomes a 413.
async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::payload_too_large()
            } else {
                AppError::bad_request(
                    "unreadable_body",
                    "Le corps de la requête n'a pas pu être lu. Renvoyez-la.",
                )
            }
        })
}

/// A JSON body. Content type is not checked, so `curl -d` works as is.
#[derive(Clone, Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut deserializer)
            .map(JsonBody)
            .map_err(json_error)
    }
}

/// French error of a JSON body that does not parse or does not have the
/// expected shape, naming the field at fault.
pub(crate) fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    let message = if inner.is_syntax() || inner.is_eof() {
        format!(
            "Le corps n'est pas du JSON valide (ligne {}, colonne {}).",
            inner.line(),
            inner.column()
        )
    } else if path == "." {
        "Le corps JSON n'a pas la forme attendue : voir /api/v1/openapi.json.".to_string()
    } else if inner.to_string().starts_with("unknown field") {
        format!("Le champ JSON « {path} » n'est pas attendu ici : voir /api/v1/openapi.json.")
    } else {
        format!(
            "Le champ JSON « {path} » est absent ou n'a pas le type attendu : voir \
             /api/v1/openapi.json."
        )
    };
    AppError::bad_request("invalid_json", message)
}

/// Query string parameters by name; the last value of a repeated name wins
/// and empty values count as absent.
#[derive(Clone, Debug, Default)]
pub struct QueryMap(pub BTreeMap<String, String>);

impl QueryMap {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Parses `name` with `parse`, or returns `default` when it is absent.
    /// `what` describes the expected value in French for the error.
    pub fn parsed<T: std::str::FromStr>(
        &self,
        name: &str,
        default: T,
        what: &str,
    ) -> Result<T, AppError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw.trim().replace(',', ".").parse().map_err(|_| {
                AppError::bad_request(
                    "invalid_parameter",
                    format!("Paramètre « {name} » invalide : « {raw} » ; {what} est attendu."),
                )
            }),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        Ok(QueryMap(
            form_urlencoded::parse(query.as_bytes())
                .filter(|(_, value)| !value.trim().is_empty())
                .map(|(name, value)| (name.into_owned(), value.trim().to_string()))
                .collect(),
        ))
    }
}
