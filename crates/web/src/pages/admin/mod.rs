//! Administration pages: organisations and users (administrators only), and
//! API tokens (administrators, and workshop coordinators for their own
//! organisation). A secret made here, a token or a reset link, is shown once
//! in the response to the form that created it, never in a URL.

mod organisations;
mod tokens;
mod users;

use axum::routing::{get, post};
use axum::Router;
use filiere_domain::access::Role;
use filiere_store::accounts::Organisation;

use crate::errors::AppError;
use crate::extract::FormPairs;
use crate::forms::SelectOption;
use crate::server::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/organisations",
            get(organisations::list).post(organisations::create),
        )
        .route("/admin/utilisateurs", get(users::list).post(users::create))
        .route(
            "/admin/utilisateurs/{id}/adhesions",
            post(users::add_membership),
        )
        .route("/admin/utilisateurs/{id}/lien", post(users::reset_link))
        .route("/admin/utilisateurs/{id}/desactiver", post(users::disable))
        .route("/admin/jetons", get(tokens::list).post(tokens::create))
        .route("/admin/jetons/{id}/revoquer", post(tokens::revoke))
}

/// Organisations for a select, with `selected` chosen.
fn organisation_choices(
    organisations: &[Organisation],
    selected: Option<&str>,
) -> Vec<SelectOption> {
    organisations
        .iter()
        .map(|organisation| SelectOption {
            value: organisation.id.clone(),
            label: format!("{} ({})", organisation.name, organisation.kind.label_fr()),
            selected: selected == Some(organisation.id.as_str()),
        })
        .collect()
}

/// Roles for a select.
fn role_choices(roles: &[Role]) -> Vec<SelectOption> {
    roles
        .iter()
        .map(|role| SelectOption {
            value: role.as_str().to_string(),
            label: role.label_fr().to_string(),
            selected: false,
        })
        .collect()
}

/// Reads the field `name` of a form as a role.
fn form_role(form: &FormPairs) -> Result<Role, AppError> {
    let typed = form.get("role").unwrap_or_default();
    typed.parse().map_err(|_| {
        AppError::bad_request(
            "invalid_role",
            format!("Rôle « {typed} » inconnu : choisissez-en un dans la liste."),
        )
    })
}

/// Finds the organisation chosen in a form; an unknown one is 400.
fn form_organisation<'a>(
    organisations: &'a [Organisation],
    form: &FormPairs,
) -> Result<&'a Organisation, AppError> {
    let typed = form.get("organisation").unwrap_or_default();
    organisations
        .iter()
        .find(|organisation| organisation.id == typed)
        .ok_or_else(|| {
            AppError::bad_request(
                "unknown_organisation",
                "Organisation inconnue : choisissez-en une dans la liste.",
            )
        })
}

/// Name of the organisation `id`, or the id itself when unknown.
fn organisation_name(organisations: &[Organisation], id: &str) -> String {
    organisations
        .iter()
        .find(|organisation| organisation.id == id)
        .map_or_else(|| id.to_string(), |organisation| organisation.name.clone())
}
