//! The one error type of handlers, and its rendering: a French HTML page for
//! the workshop pages, a JSON body under `/api/`.
//!
//! A handler returns [`AppError`]; its response carries the error in an
//! extension, and the [`render_errors`] middleware writes the body in the
//! format of the route. Each error is logged once, when it becomes a
//! response, with the device code when one is involved.

use askama::Template;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use filiere_domain::access::Denied;
use filiere_domain::DomainError;
use filiere_projections::ProjectionError;
use filiere_store::workshop::WorkshopError;
use filiere_store::StoreError;
use serde_json::json;

use crate::auth::Caller;
use crate::messages::{message_fr, workshop_message_fr, CONFLICT_FR, INTERNAL_FR};
use crate::pages::Layout;

/// An error returned by a handler, with its French message and a stable code.
#[derive(Clone, Debug)]
pub struct AppError {
    pub status: StatusCode,
    /// Stable snake_case code for API clients.
    pub code: &'static str,
    /// French message shown to the user.
    pub message: String,
    /// English detail written to the log only, never sent to the client.
    detail: Option<String>,
    /// Device code involved, for the log and the link back to its page.
    device_code: Option<String>,
    /// Page to go back to from the error page.
    back: Option<String>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            status,
            code,
            message: message.into(),
            detail: None,
            device_code: None,
            back: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A server-side failure: the client sees a general message and `detail`
    /// goes to the log.
    pub fn internal(detail: impl std::fmt::Display) -> AppError {
        AppError {
            detail: Some(detail.to_string()),
            ..AppError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                INTERNAL_FR,
            )
        }
    }

    /// The step was rejected because the device changed after the client read
    /// its version.
    pub fn version_conflict() -> AppError {
        AppError::new(StatusCode::CONFLICT, "version_conflict", CONFLICT_FR)
    }

    pub fn device_not_found(code: &str) -> AppError {
        AppError::new(
            StatusCode::NOT_FOUND,
            "device_not_found",
            format!("Aucun appareil avec le code {code}."),
        )
        .for_device(code)
    }

    pub fn payload_too_large() -> AppError {
        AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "La requête est trop volumineuse : {} Mio au plus. Envoyez le lot en plusieurs \
                 fois.",
                crate::server::BODY_LIMIT_BYTES / (1024 * 1024)
            ),
        )
    }

    /// No valid session or API token: pages redirect to the sign-in page
    /// instead, so this reaches API clients only.
    pub fn unauthenticated(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// Builds the 403 of an action that the policy denies to the caller's
    /// role. The policy's English reason goes to the log and the caller gets
    /// a French message.
    pub fn forbidden(denied: &Denied) -> AppError {
        AppError {
            detail: Some(denied.to_string()),
            ..AppError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Votre rôle ne donne pas accès à cette page ou à cette action.",
            )
        }
    }

    /// Builds the 403 of a form posted without the session's CSRF token, or
    /// with another one.
    pub fn csrf_rejected() -> AppError {
        AppError::new(
            StatusCode::FORBIDDEN,
            "csrf_token_invalid",
            "Ce formulaire a expiré ou ne vient pas de Filière : rien n'a été enregistré. \
             Rechargez la page puis renvoyez-le.",
        )
    }

    /// Builds the 429 of too many failed sign-ins for an account or a client
    /// address.
    pub fn too_many_requests(minutes: i64) -> AppError {
        AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!(
                "Trop de tentatives de connexion. Réessayez dans {minutes} minutes, ou demandez \
                 un lien de réinitialisation du mot de passe à l'administration."
            ),
        )
    }

    /// Names the device involved, for the log and the error page's link.
    pub fn for_device(mut self, code: &str) -> AppError {
        self.device_code = Some(code.to_string());
        if self.back.is_none() {
            self.back = Some(format!("/d/{code}"));
        }
        self
    }

    /// Adds an English detail for the log; the client never sees it.
    pub fn with_detail(mut self, detail: impl Into<String>) -> AppError {
        self.detail = Some(detail.into());
        self
    }

    /// Sets the page that the error page links back to.
    pub fn back_to(mut self, path: impl Into<String>) -> AppError {
        self.back = Some(path.into());
        self
    }

    fn log(&self) {
        let status = self.status.as_u16();
        let device_code = self.device_code.as_deref();
        if self.status.is_server_error() {
            tracing::error!(
                device.code = device_code,
                error.code = self.code,
                status,
                detail = self.detail.as_deref(),
                "request failed"
            );
        } else {
            tracing::info!(
                device.code = device_code,
                error.code = self.code,
                status,
                reason = self.detail.as_deref(),
                "request rejected"
            );
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.message)
    }
}

impl From<&DomainError> for AppError {
    fn from(error: &DomainError) -> AppError {
        let (status, code) = match error {
            DomainError::InvalidCode { .. } => (StatusCode::BAD_REQUEST, "invalid_code"),
            DomainError::InvalidField { .. } => (StatusCode::BAD_REQUEST, "invalid_field"),
            DomainError::StepNotAllowed { .. } => (StatusCode::CONFLICT, "step_not_allowed"),
            DomainError::NotReady { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "not_ready"),
            DomainError::UnknownStorageUnit { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "unknown_storage_unit")
            }
            DomainError::PriceAboveCap { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "price_above_cap")
            }
            DomainError::NoPriceCap { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "no_price_cap"),
        };
        AppError::new(status, code, message_fr(error))
    }
}

impl From<DomainError> for AppError {
    fn from(error: DomainError) -> AppError {
        AppError::from(&error)
    }
}

impl From<WorkshopError> for AppError {
    fn from(error: WorkshopError) -> AppError {
        let message = workshop_message_fr(&error);
        match &error {
            WorkshopError::Domain(domain) => AppError::from(domain),
            WorkshopError::DeviceNotFound(code) => AppError::device_not_found(code),
            WorkshopError::DuplicateSerial { .. } => {
                AppError::new(StatusCode::CONFLICT, "duplicate_serial", message)
            }
            WorkshopError::Store(StoreError::Conflict { .. }) => AppError::version_conflict(),
            WorkshopError::Store(StoreError::UniqueKeyTaken { .. }) => AppError {
                detail: Some(error.to_string()),
                ..AppError::new(StatusCode::CONFLICT, "unique_key_taken", message)
            },
            WorkshopError::Evidence(_) => AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_evidence",
                message,
            ),
            WorkshopError::Store(_) | WorkshopError::Codec(_) => AppError::internal(error),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> AppError {
        AppError::from(WorkshopError::Store(error))
    }
}

impl From<ProjectionError> for AppError {
    fn from(error: ProjectionError) -> AppError {
        AppError::internal(error)
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> AppError {
        AppError::internal(format!("template rendering failed: {error}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// French error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    title: &'a str,
    message: &'a str,
    back: Option<&'a str>,
}

/// Writes the body of every [`AppError`] response: JSON under `/api/`, a
/// French page elsewhere.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let Some(error) = response.extensions_mut().remove::<AppError>() else {
        return response;
    };
    if is_api {
        let body = json!({"error": {"code": error.code, "message": error.message}});
        let mut response = (error.status, Json(body)).into_response();
        if error.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"filiere\""),
            );
        }
        return response;
    }
    let layout = Layout::for_optional(response.extensions().get::<Caller>());
    error_page(&error, layout)
}

fn error_page(error: &AppError, layout: Layout) -> Response {
    let page = ErrorPage {
        layout,
        title: page_title(error.status),
        message: &error.message,
        back: error.back.as_deref(),
    };
    match page.render() {
        Ok(html) => (error.status, Html(html)).into_response(),
        Err(render_error) => {
            tracing::error!(%render_error, "error page rendering failed");
            let mut response = (error.status, error.message.clone()).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            response
        }
    }
}

fn page_title(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Introuvable",
        StatusCode::CONFLICT => "Étape impossible pour l'instant",
        StatusCode::PAYLOAD_TOO_LARGE => "Requête trop volumineuse",
        StatusCode::UNPROCESSABLE_ENTITY => "Règle non respectée",
        StatusCode::METHOD_NOT_ALLOWED => "Méthode non autorisée",
        StatusCode::UNAUTHORIZED => "Connexion requise",
        StatusCode::FORBIDDEN => "Accès refusé",
        StatusCode::TOO_MANY_REQUESTS => "Trop de tentatives",
        status if status.is_server_error() => "Erreur interne",
        _ => "Saisie invalide",
    }
}

/// Renders the response for routes that do not exist.
pub async fn not_found() -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Cette page n'existe pas. Revenez à l'accueil pour scanner un appareil.",
    )
    .back_to("/")
}

/// Renders the response for a known route called with the wrong method.
pub async fn method_not_allowed() -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Cette adresse n'accepte pas cette méthode HTTP.",
    )
    .back_to("/")
}
