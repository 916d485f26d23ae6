//! Who sends a request, and what they may do.
//!
//! The [`authenticate`] middleware runs on every route except the public ones
//! ([`is_public`]). It finds the caller from one of two credentials:
//! - pages read the `filiere_session` cookie set at sign-in;
//! - the API reads `Authorization: Bearer fil_...` (an API token). It also
//!   accepts the session cookie for GET and HEAD, so that a signed-in person
//!   can open a JSON list or a label PDF in the browser. A request that
//!   changes data needs the bearer token, which a browser never attaches by
//!   itself, so the API needs no CSRF token.
//!
//! An anonymous page request is redirected to `/connexion`; an anonymous API
//! request gets 401. Every page request that may change data (any method but
//! GET and HEAD) must carry the session's CSRF token, checked here by
//! [`csrf::check`] before any handler runs.
//!
//! What a caller may do is decided by [`filiere_domain::access::authorize`]
//! only: routes declare a [`gate`] (the action their role must be allowed
//! for their own organisation), and handlers that touch one device, batch or
//! token call [`Caller::require_or_hide`] with the resource's organisation.
//! A resource of another organisation gets the same 404 as a missing one,
//! so identifiers guessed in URLs reveal nothing. A route the role may not
//! use at all is 403.

pub mod cookies;
pub mod csrf;
pub mod gate;
pub mod setup;
pub mod sign_in;
mod throttle;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use filiere_domain::access::{authorize, Action, Principal};
use filiere_store::accounts::AccountError;

use crate::errors::AppError;
use crate::server::AppState;

pub use gate::Allowed;

/// The authenticated sender of a request.
#[derive(Clone)]
pub struct Caller {
    pub principal: Principal,
    /// Present when the caller signed in through the pages; absent for an API
    /// token.
    pub session: Option<SessionFacts>,
}

/// Facts of a signed-in session that the pages show and check.
#[derive(Clone)]
pub struct SessionFacts {
    pub user_id: String,
    /// Token that every form of the session posts back.
    pub csrf_token: String,
    pub display_name: String,
    pub organisation_name: String,
}

impl std::fmt::Debug for Caller {
    /// Leaves out the CSRF token, so that a debug print never shows it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("principal", &self.principal)
            .field("session", &self.session.as_ref().map(|s| &s.user_id))
            .finish()
    }
}

impl Caller {
    /// Checks `action` with the policy; a denial is 403.
    pub fn require(&self, action: &Action<'_>) -> Result<(), AppError> {
        authorize(&self.principal, action).map_err(|denied| AppError::forbidden(&denied))
    }

    /// Checks `action` on one resource; a denial returns `hidden`, the error
    /// of a resource that does not exist.
    pub fn require_or_hide(&self, action: &Action<'_>, hidden: AppError) -> Result<(), AppError> {
        match authorize(&self.principal, action) {
            Ok(()) => Ok(()),
            Err(denied) => {
                tracing::info!(actor = %self.principal.actor, reason = %denied, "resource of another organisation hidden");
                Err(hidden)
            }
        }
    }

    /// Returns whether the policy allows `action`, for showing or hiding a link.
    pub fn may(&self, action: &Action<'_>) -> bool {
        authorize(&self.principal, action).is_ok()
    }

    /// Organisation whose devices a list shows: the caller's own, or every
    /// organisation (`None`) for an administrator.
    pub fn holder_filter(&self) -> Option<String> {
        if self.may(&Action::ViewEveryOrganisation) {
            None
        } else {
            Some(self.principal.organisation_id.clone())
        }
    }

    /// CSRF token to put in forms; empty for an API token.
    pub fn csrf_token(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.csrf_token.as_str())
    }
}

/// Paths served to anyone: health check, style sheet, sign-in, first-run
/// setup and password reset pages.
pub fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/style.css" | "/connexion" | "/connexion/organisation"
    ) || path.starts_with("/installation/")
        || path.starts_with("/compte/mot-de-passe/")
}

/// Finds the caller of every non-public request, rejects anonymous ones and
/// checks the CSRF token of page requests that may change data.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if is_public(request.uri().path()) {
        return next.run(request).await;
    }
    let api = request.uri().path().starts_with("/api/");
    let caller = match identify(&state, request.headers(), request.method(), api).await {
        Ok(Some(caller)) => caller,
        Ok(None) if api => {
            return AppError::unauthenticated(
                "Authentification requise : envoyez l'en-tête « Authorization: Bearer » avec \
                 un jeton d'API.",
            )
            .into_response()
        }
        Ok(None) => return sign_in_redirect(&request),
        Err(error) => return error.into_response(),
    };
    let mut request = request;
    if !api && !is_safe(request.method()) {
        request = match csrf::check(request, caller.csrf_token()).await {
            Ok(request) => request,
            Err(error) => return with_caller(error.into_response(), caller),
        };
    }
    request.extensions_mut().insert(caller.clone());
    with_caller(next.run(request).await, caller)
}

/// Keeps the caller on the response, so that an error page shows the
/// caller's navigation.
fn with_caller(mut response: Response, caller: Caller) -> Response {
    response.extensions_mut().insert(caller);
    response
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// Redirects to the sign-in page, which comes back to a GET page after.
fn sign_in_redirect(request: &Request) -> Response {
    if request.method() != Method::GET {
        return Redirect::to("/connexion").into_response();
    }
    let back = request
        .uri()
        .path_and_query()
        .map_or("/", |target| target.as_str());
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("suite", back)
        .finish();
    Redirect::to(&format!("/connexion?{query}")).into_response()
}

/// Reads the credential of the request: `Ok(None)` when there is none.
async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
    api: bool,
) -> Result<Option<Caller>, AppError> {
    if api {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            return bearer_caller(state, value).await.map(Some);
        }
        if !is_safe(method) {
            let has_cookie = cookies::read(headers, cookies::SESSION).is_some();
            return match has_cookie {
                true => Err(AppError::unauthenticated(
                    "Une requête d'API qui modifie des données demande un jeton d'API \
                     (en-tête « Authorization: Bearer ») : le cookie de session ne suffit pas.",
                )),
                false => Ok(None),
            };
        }
    }
    let Some(secret) = cookies::read(headers, cookies::SESSION) else {
        return Ok(None);
    };
    session_caller(state, &secret).await
}

async fn bearer_caller(state: &AppState, value: &header::HeaderValue) -> Result<Caller, AppError> {
    let invalid = || {
        AppError::unauthenticated(
            "Jeton d'API invalide ou révoqué : demandez un nouveau jeton à la coordination de \
             votre atelier.",
        )
    };
    let text = value.to_str().map_err(|_| invalid())?;
    let Some(secret) = text.strip_prefix("Bearer ").map(str::trim) else {
        return Err(invalid());
    };
    let principal = state
        .store()
        .token_principal(secret)
        .await
        .map_err(AppError::from)?
        .ok_or_else(invalid)?;
    Ok(Caller {
        principal,
        session: None,
    })
}

/// Finds the caller of a session cookie: `None` when the session is unknown,
/// expired, signed out or its user disabled.
async fn session_caller(state: &AppState, secret: &str) -> Result<Option<Caller>, AppError> {
    let store = state.store();
    let Some(session) = store.session(secret).await? else {
        return Ok(None);
    };
    let display_name = store
        .user(&session.user_id)
        .await?
        .map(|user| user.display_name)
        .unwrap_or_default();
    let organisation_name = store
        .organisation(&session.principal.organisation_id)
        .await
        .map(|organisation| organisation.name)
        .unwrap_or_default();
    Ok(Some(Caller {
        principal: session.principal,
        session: Some(SessionFacts {
            user_id: session.user_id,
            csrf_token: session.csrf_token,
            display_name,
            organisation_name,
        }),
    }))
}

impl From<AccountError> for AppError {
    fn from(error: AccountError) -> AppError {
        match error {
            AccountError::Invalid { field, reason, .. } => AppError::bad_request(
                "invalid_account_field",
                account_field_message_fr(field, &reason),
            ),
            AccountError::NotFound(what) => AppError::new(
                axum::http::StatusCode::NOT_FOUND,
                "not_found",
                "Élément introuvable : il a peut-être été supprimé. Rechargez la page.",
            )
            .with_detail(what),
            AccountError::Store(store) => AppError::from(store),
        }
    }
}

/// French message for an invalid account field reported by the store.
fn account_field_message_fr(field: &str, reason: &str) -> String {
    let taken = reason.contains("already");
    match field {
        "email" if taken => "Un compte existe déjà avec cette adresse électronique.".into(),
        "email" => "Adresse électronique invalide : par exemple prenom.nom@example.org.".into(),
        "password" => format!(
            "Mot de passe trop court : {} caractères au moins.",
            filiere_store::accounts::MIN_PASSWORD_CHARS
        ),
        "organisation name" if taken => "Une organisation porte déjà ce nom.".into(),
        "organisation name" => "Nom d'organisation invalide : de 1 à 200 caractères.".into(),
        _ => format!("Valeur invalide pour « {field} »."),
    }
}
