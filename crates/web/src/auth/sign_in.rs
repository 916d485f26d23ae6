//! Sign-in and sign-out. `/connexion` checks an email and password, lets a
//! person with several memberships choose one, and opens a session with a
//! fresh secret. `POST /deconnexion` closes the session on the server.
//!
//! The sign-in form has no session yet, so its CSRF token is a double-submit
//! cookie: the page sets [`cookies::SIGN_IN`] and the same value in a hidden
//! field, and the post must carry both.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Duration;
use filiere_store::accounts::{new_secret, Membership, SESSION_LIFETIME_HOURS};

use super::cookies::{self, same_secret};
use super::gate::SignedIn;
use super::throttle::{self, AttemptKeys, ClientAddress};
use crate::errors::AppError;
use crate::extract::{FormPairs, QueryMap};
use crate::forms::SelectOption;
use crate::pages::{home_for, render, Layout};
use crate::server::AppState;

/// Purpose of the one-time ticket between the password and the choice of
/// membership.
const CHOICE_PURPOSE: &str = "sign_in";
/// How long the choice of membership may wait after the password.
const CHOICE_MINUTES: i64 = 10;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connexion", get(show).post(submit))
        .route("/connexion/organisation", post(choose))
        .route("/deconnexion", post(sign_out))
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    notice: Option<&'static str>,
    problem: Option<String>,
    form_token: String,
    target: String,
    email: String,
}

#[derive(Template)]
#[template(path = "sign_in_choice.html")]
struct ChoicePage {
    layout: Layout,
    ticket: String,
    target: String,
    choices: Vec<SelectOption>,
}

/// Keeps a local path to go to after sign-in, and drops anything else
/// (another site, a protocol-relative URL).
fn safe_target(typed: Option<&str>) -> Option<String> {
    let target = typed?.trim();
    let local = target.starts_with('/')
        && !target.starts_with("//")
        && !target.starts_with("/\\")
        && !target.starts_with("/connexion")
        && !target.chars().any(char::is_control);
    local.then(|| target.to_string())
}

async fn show(
    headers: HeaderMap,
    State(state): State<AppState>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let notice = if query.get("sortie").is_some() {
        Some("Vous êtes déconnecté·e.")
    } else if query.get("mot-de-passe").is_some() {
        Some("Mot de passe enregistré : connectez-vous avec le nouveau.")
    } else if query.get("expire").is_some() {
        Some("Le choix de l'organisation a expiré : connectez-vous de nouveau.")
    } else {
        None
    };
    let target = safe_target(query.get("suite")).unwrap_or_default();
    sign_in_page(
        &state,
        &headers,
        StatusCode::OK,
        notice,
        None,
        target,
        String::new(),
    )
}

/// Renders the form, keeping the form cookie of the browser when it has one
/// (several tabs) or setting a new one.
fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    notice: Option<&'static str>,
    problem: Option<String>,
    target: String,
    email: String,
) -> Result<Response, AppError> {
    let form_token = cookies::read(headers, cookies::SIGN_IN)
        .filter(|token| token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(new_secret);
    let page = SignInPage {
        layout: Layout::anonymous(),
        notice,
        problem,
        form_token: form_token.clone(),
        target,
        email,
    };
    let mut response = render(status, &page)?;
    let cookie = cookies::set(
        cookies::SIGN_IN,
        &form_token,
        cookies::SIGN_IN_MAX_AGE,
        state.secure_cookies(),
    );
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

async fn submit(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    form: FormPairs,
) -> Result<Response, AppError> {
    let form_cookie = cookies::read(&headers, cookies::SIGN_IN).unwrap_or_default();
    if !same_secret(form.get("csrf_token").unwrap_or_default(), &form_cookie) {
        return Err(AppError::csrf_rejected().back_to("/connexion"));
    }
    let email = form.get("email").unwrap_or_default();
    let password = form.raw("password").unwrap_or_default();
    let target = safe_target(form.get("suite"));
    let keys = AttemptKeys::new(email, &address);
    throttle::check(state.store(), &keys)
        .await
        .map_err(|error| error.back_to("/connexion"))?;
    let Some(user) = state.store().check_password(email, password).await? else {
        throttle::record_failure(state.store(), &keys).await?;
        tracing::info!("sign-in failed: unknown email or wrong password");
        let problem = Some("Adresse électronique ou mot de passe incorrect.".to_string());
        let target = target.unwrap_or_default();
        return sign_in_page(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            None,
            problem,
            target,
            email.to_string(),
        );
    };
    let memberships = state.store().memberships(&user.id).await?;
    match memberships.as_slice() {
        [] => Err(no_membership(&user.id)),
        [only] => start_session(&state, &headers, &user.id, only, target).await,
        several => choice_page(&state, &user.id, several, target).await,
    }
}

fn no_membership(user_id: &str) -> AppError {
    tracing::info!(
        user.id = user_id,
        "sign-in refused: the user has no membership"
    );
    AppError::new(
        StatusCode::FORBIDDEN,
        "no_membership",
        "Ce compte n'a encore accès à aucune organisation : demandez à l'administration de \
         Filière de vous en ajouter une.",
    )
    .back_to("/connexion")
}

async fn choice_page(
    state: &AppState,
    user_id: &str,
    memberships: &[Membership],
    target: Option<String>,
) -> Result<Response, AppError> {
    let ticket = state
        .store()
        .create_link_for(
            CHOICE_PURPOSE,
            Some(user_id),
            Duration::minutes(CHOICE_MINUTES),
        )
        .await?;
    let choices = memberships
        .iter()
        .map(|membership| SelectOption {
            value: membership_value(membership),
            label: format!(
                "{} — {}",
                membership.organisation_name,
                membership.role.label_fr()
            ),
            selected: false,
        })
        .collect();
    let page = ChoicePage {
        layout: Layout::anonymous(),
        ticket,
        target: target.unwrap_or_default(),
        choices,
    };
    render(StatusCode::OK, &page)
}

fn membership_value(membership: &Membership) -> String {
    format!(
        "{}/{}",
        membership.organisation_id,
        membership.role.as_str()
    )
}

/// Second step of a sign-in with several memberships. The ticket is a
/// one-time secret bound to the user, so it also protects this form against
/// CSRF.
async fn choose(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: FormPairs,
) -> Result<Response, AppError> {
    let ticket = form.get("ticket").unwrap_or_default();
    let Some(user_id) = state.store().use_link(CHOICE_PURPOSE, ticket).await? else {
        return Ok(Redirect::to("/connexion?expire=1").into_response());
    };
    let chosen = form.get("membership").unwrap_or_default();
    let memberships = state.store().memberships(&user_id).await?;
    let Some(membership) = memberships.iter().find(|m| membership_value(m) == chosen) else {
        return Err(AppError::bad_request(
            "unknown_membership",
            "Cette organisation ne fait pas partie de vos rôles : connectez-vous de nouveau.",
        )
        .back_to("/connexion"));
    };
    start_session(
        &state,
        &headers,
        &user_id,
        membership,
        safe_target(form.get("suite")),
    )
    .await
}

/// Opens a session with a new secret, closes the one the browser had, and
/// redirects to `target` or to the role's first page.
pub async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user_id: &str,
    membership: &Membership,
    target: Option<String>,
) -> Result<Response, AppError> {
    if let Some(previous) = cookies::read(headers, cookies::SESSION) {
        state.store().close_session(&previous).await?;
    }
    let (secret, session) = state.store().open_session(user_id, membership).await?;
    let principal = &session.principal;
    tracing::info!(
        actor = %principal.actor,
        organisation = %principal.organisation_id,
        role = %principal.role,
        "signed in"
    );
    let target = target.unwrap_or_else(|| home_for(principal).to_string());
    let secure = state.secure_cookies();
    let max_age = SESSION_LIFETIME_HOURS * 3600;
    let mut response = Redirect::to(&target).into_response();
    let set_cookies = response.headers_mut();
    set_cookies.append(
        header::SET_COOKIE,
        cookies::set(cookies::SESSION, &secret, max_age, secure),
    );
    set_cookies.append(
        header::SET_COOKIE,
        cookies::set(cookies::SIGN_IN, "", 0, secure),
    );
    Ok(response)
}

/// Closes the session on the server, so that its cookie no longer signs
/// anyone in, even if a copy of it was kept. The CSRF token was checked by
/// the authentication middleware.
async fn sign_out(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(secret) = cookies::read(&headers, cookies::SESSION) {
        state.store().close_session(&secret).await?;
    }
    tracing::info!(actor = %caller.principal.actor, "signed out");
    let mut response = Redirect::to("/connexion?sortie=1").into_response();
    let cookie = cookies::set(cookies::SESSION, "", 0, state.secure_cookies());
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::safe_target;

    #[test]
    fn safe_target_keeps_local_paths_only() {
        assert_eq!(
            safe_target(Some("/d/ABC1234")).as_deref(),
            Some("/d/ABC1234")
        );
        assert_eq!(
            safe_target(Some("/stock?site=Dreux")).as_deref(),
            Some("/stock?site=Dreux")
        );
        for rejected in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "stock",
            "/connexion",
        ] {
            assert_eq!(safe_target(Some(rejected)), None, "{rejected}");
        }
        assert_eq!(safe_target(None), None);
    }
}
