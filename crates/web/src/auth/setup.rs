//! One-time links: the first-run setup page, which creates the first
//! workshop and its administrator, and the password reset page. The secret
//! in the link's path is known only to the person it was given to, so it
//! also protects these forms against CSRF.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use filiere_domain::access::{OrganisationKind, Role};
use filiere_store::accounts::{AccountError, Membership, LINK_LIFETIME_HOURS, MIN_PASSWORD_CHARS};
use filiere_store::EventStore;

use super::sign_in::start_session;
use crate::errors::AppError;
use crate::extract::FormPairs;
use crate::pages::{render, Layout};
use crate::server::AppState;

const SETUP_PURPOSE: &str = "setup";
const RESET_PURPOSE: &str = "reset";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/installation/{secret}", get(setup_form).post(setup))
        .route("/compte/mot-de-passe/{secret}", get(reset_form).post(reset))
}

/// Creates and prints the setup link when the database has no user yet;
/// returns it. Printed on standard output and logged, because on a fresh
/// installation it is the only way in. It stops working once used, and a
/// new one is made at each start while no user exists.
pub async fn announce_setup_link(
    store: &EventStore,
    public_url: &str,
) -> Result<Option<String>, AccountError> {
    if store.user_count().await? > 0 {
        return Ok(None);
    }
    let secret = store.create_link(SETUP_PURPOSE, None).await?;
    let link = format!("{}/installation/{secret}", public_url.trim_end_matches('/'));
    println!("Aucun compte n'existe encore. Ouvrez ce lien pour créer l'atelier et le compte d'administration (valable {LINK_LIFETIME_HOURS} heures, une seule fois) :");
    println!("{link}");
    tracing::warn!(%link, "no user exists yet: open the one-time setup link to create the first administrator");
    Ok(Some(link))
}

/// Returns the path of a reset link, as `filiere user reset-link` prints it.
pub fn reset_path(secret: &str) -> String {
    format!("/compte/mot-de-passe/{secret}")
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    secret: String,
    problems: Vec<String>,
    organisation: String,
    name: String,
    email: String,
    min_password: usize,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: Layout,
    secret: String,
    problems: Vec<String>,
    min_password: usize,
}

fn link_invalid(advice: &str) -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "link_invalid",
        format!(
            "Ce lien n'est plus valable : il a déjà servi, a expiré ou est incomplet. {advice}"
        ),
    )
    .back_to("/connexion")
}

const SETUP_ADVICE: &str =
    "Tant qu'aucun compte n'existe, chaque démarrage de « filiere serve » affiche un nouveau lien.";
const RESET_ADVICE: &str = "Demandez un nouveau lien à l'administration de Filière.";

/// Keeps the secret of the page's URL out of `Referer` headers and caches.
fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn setup_open(state: &AppState, secret: &str) -> Result<bool, AppError> {
    Ok(state.store().user_count().await? == 0
        && state.store().link_is_valid(SETUP_PURPOSE, secret).await?)
}

fn setup_page(secret: String, form: &FormPairs, problems: Vec<String>) -> SetupPage {
    SetupPage {
        layout: Layout::anonymous(),
        secret,
        problems,
        organisation: form.get("organisation").unwrap_or_default().to_string(),
        name: form.get("name").unwrap_or_default().to_string(),
        email: form.get("email").unwrap_or_default().to_string(),
        min_password: MIN_PASSWORD_CHARS,
    }
}

async fn setup_form(
    State(state): State<AppState>,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    if !setup_open(&state, &secret).await? {
        return Err(link_invalid(SETUP_ADVICE));
    }
    let page = setup_page(secret, &FormPairs::default(), Vec::new());
    Ok(private(render(StatusCode::OK, &page)?))
}

/// Problems of a new password and its confirmation, in French.
fn password_problems(form: &FormPairs) -> Vec<String> {
    let password = form.raw("password").unwrap_or_default();
    let mut problems = Vec::new();
    if password.chars().count() < MIN_PASSWORD_CHARS {
        problems.push(format!(
            "Le mot de passe doit avoir {MIN_PASSWORD_CHARS} caractères au moins."
        ));
    }
    if form.raw("confirmation").unwrap_or_default() != password {
        problems.push("Les deux mots de passe ne sont pas identiques.".to_string());
    }
    problems
}

async fn setup_problems(state: &AppState, form: &FormPairs) -> Result<Vec<String>, AppError> {
    let mut problems = Vec::new();
    let organisation = form.get("organisation").unwrap_or_default();
    if organisation.is_empty() || organisation.chars().count() > 200 {
        problems.push("Donnez le nom de l'atelier (200 caractères au plus).".to_string());
    } else if state.store().organisation(organisation).await.is_ok() {
        problems.push("Une organisation porte déjà ce nom : choisissez-en un autre.".to_string());
    }
    if form.get("name").is_none() {
        problems.push("Donnez votre nom, tel qu'il s'affichera dans l'historique.".to_string());
    }
    let email = form.get("email").unwrap_or_default();
    if !email.contains('@') || email.len() > 254 {
        problems.push(
            "Adresse électronique invalide : par exemple prenom.nom@example.org.".to_string(),
        );
    }
    problems.extend(password_problems(form));
    Ok(problems)
}

/// Creates the workshop, the administrator and their membership, and signs
/// the administrator in. The whole form is checked before the link is
/// spent, so that a typing mistake does not use it up.
async fn setup(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    form: FormPairs,
) -> Result<Response, AppError> {
    if !setup_open(&state, &secret).await? {
        return Err(link_invalid(SETUP_ADVICE));
    }
    let problems = setup_problems(&state, &form).await?;
    if !problems.is_empty() {
        return Ok(private(render(
            StatusCode::BAD_REQUEST,
            &setup_page(secret, &form, problems),
        )?));
    }
    let spent = state.store().use_link(SETUP_PURPOSE, &secret).await?;
    if spent.is_none() {
        return Err(link_invalid(SETUP_ADVICE));
    }

    let (user_id, membership) = create_first_administrator(&state, &form).await?;
    let target = Some("/admin/utilisateurs".to_string());
    start_session(&state, &headers, &user_id, &membership, target).await
}

/// Creates the workshop, its administrator and their membership from the
/// checked setup form.
async fn create_first_administrator(
    state: &AppState,
    form: &FormPairs,
) -> Result<(String, Membership), AppError> {
    let store = state.store();
    let name = form.get("organisation").unwrap_or_default();
    let organisation = store
        .create_organisation(name, OrganisationKind::Workshop)
        .await?;
    let email = form.get("email").unwrap_or_default();
    let display_name = form.get("name").unwrap_or_default();
    let password = form.raw("password").unwrap_or_default();
    let user = store
        .create_user(email, display_name, Some(password))
        .await?;
    store
        .add_membership(&user.id, &organisation.id, Role::Administrator)
        .await?;
    tracing::info!(
        user.id = %user.id,
        organisation.id = %organisation.id,
        "first administrator created through the setup link"
    );
    let membership = Membership {
        organisation_id: organisation.id,
        organisation_name: organisation.name,
        role: Role::Administrator,
    };
    Ok((user.id, membership))
}

fn password_page(secret: String, problems: Vec<String>) -> PasswordPage {
    PasswordPage {
        layout: Layout::anonymous(),
        secret,
        problems,
        min_password: MIN_PASSWORD_CHARS,
    }
}

async fn reset_form(
    State(state): State<AppState>,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    if !state.store().link_is_valid(RESET_PURPOSE, &secret).await? {
        return Err(link_invalid(RESET_ADVICE));
    }
    Ok(private(render(
        StatusCode::OK,
        &password_page(secret, Vec::new()),
    )?))
}

/// Sets the new password and closes the user's sessions, so that anyone who
/// knew the old password is signed out too.
async fn reset(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    form: FormPairs,
) -> Result<Response, AppError> {
    if !state.store().link_is_valid(RESET_PURPOSE, &secret).await? {
        return Err(link_invalid(RESET_ADVICE));
    }
    let problems = password_problems(&form);
    if !problems.is_empty() {
        return Ok(private(render(
            StatusCode::BAD_REQUEST,
            &password_page(secret, problems),
        )?));
    }
    let Some(user_id) = state.store().use_link(RESET_PURPOSE, &secret).await? else {
        return Err(link_invalid(RESET_ADVICE));
    };
    let store = state.store();
    store
        .set_password(&user_id, form.raw("password").unwrap_or_default())
        .await?;
    store.close_user_sessions(&user_id).await?;
    tracing::info!(user.id = %user_id, "password set through a reset link");
    Ok(Redirect::to("/connexion?mot-de-passe=1").into_response())
}
