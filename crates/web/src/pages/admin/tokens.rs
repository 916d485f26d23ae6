//! `/admin/jetons`: API tokens for scripts and scanners. Administrators
//! manage every token; a workshop coordinator manages those of their own
//! organisation and may give them workshop roles only. A token's secret is
//! shown once, in the response to the form that created it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use filiere_domain::access::{Action, Role};
use filiere_store::accounts::Organisation;

use super::{form_organisation, form_role, organisation_choices, organisation_name, role_choices};
use crate::auth::{gate, Allowed, Caller};
use crate::errors::AppError;
use crate::extract::{FormPairs, QueryMap};
use crate::forms::SelectOption;
use crate::pages::{french_time, render, Layout};
use crate::server::AppState;

const PAGE: &str = "/admin/jetons";

/// One token of the list, never with its secret.
struct TokenView {
    id: String,
    name: String,
    organisation: String,
    role: String,
    created: String,
    revoked: bool,
}

/// A token just created, with its secret.
struct NewTokenView {
    name: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    layout: Layout,
    flash: Option<&'static str>,
    created: Option<NewTokenView>,
    tokens: Vec<TokenView>,
    organisations: Vec<SelectOption>,
    roles: Vec<SelectOption>,
}

/// Organisations whose tokens the caller manages.
fn managed(caller: &Caller, organisations: Vec<Organisation>) -> Vec<Organisation> {
    organisations
        .into_iter()
        .filter(|o| {
            caller.may(&Action::ManageTokens {
                organisation_id: &o.id,
            })
        })
        .collect()
}

/// Roles the caller may give to a token of their own organisation.
fn grantable_roles(caller: &Caller) -> Vec<Role> {
    let organisation_id = &caller.principal.organisation_id;
    Role::ALL
        .iter()
        .copied()
        .filter(|&role| {
            caller.may(&Action::GrantRole {
                organisation_id,
                role,
            })
        })
        .collect()
}

async fn tokens_page(
    state: &AppState,
    caller: &Caller,
    flash: Option<&'static str>,
    created: Option<NewTokenView>,
) -> Result<TokensPage, AppError> {
    let store = state.store();
    let organisations = managed(caller, store.organisations().await?);
    let filter = caller.holder_filter();
    let tokens = store
        .tokens(filter.as_deref())
        .await?
        .into_iter()
        .rev()
        .map(|token| TokenView {
            organisation: organisation_name(&organisations, &token.organisation_id),
            role: token.role.label_fr().to_string(),
            created: french_time(&token.created_at),
            id: token.id,
            name: token.name,
            revoked: token.revoked,
        })
        .collect();
    let own = caller.principal.organisation_id.as_str();
    Ok(TokensPage {
        layout: caller.layout(),
        flash,
        created,
        tokens,
        organisations: organisation_choices(&organisations, Some(own)),
        roles: role_choices(&grantable_roles(caller)),
    })
}

pub async fn list(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManageTokens>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let flash = query
        .get("revoque")
        .map(|_| "Jeton révoqué : il ne donne plus accès à l'API.");
    render(
        StatusCode::OK,
        &tokens_page(&state, &caller, flash, None).await?,
    )
}

pub async fn create(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManageTokens>,
    form: FormPairs,
) -> Result<Response, AppError> {
    let back = |error: AppError| error.back_to(PAGE);
    let organisations = state.store().organisations().await?;
    let organisation = form_organisation(&organisations, &form).map_err(back)?;
    let role = form_role(&form).map_err(back)?;

    let organisation_id = organisation.id.as_str();
    caller
        .require(&Action::ManageTokens { organisation_id })
        .map_err(back)?;
    caller
        .require(&Action::GrantRole {
            organisation_id,
            role,
        })
        .map_err(back)?;

    let Some(name) = form.get("name") else {
        return Err(back(AppError::bad_request(
            "missing_name",
            "Donnez un nom au jeton, par exemple « douchette atelier ».",
        )));
    };
    let actor = &caller.principal.actor;
    let token = state
        .store()
        .create_token(name, organisation_id, role, actor)
        .await?;
    tracing::info!(%actor, token.id = %token.id, organisation.id = organisation_id, %role, "API token created");

    let created = NewTokenView {
        name: name.to_string(),
        secret: token.secret,
    };
    let page = tokens_page(&state, &caller, None, Some(created)).await?;
    let mut response = render(StatusCode::OK, &page)?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Revokes a token. A token of an organisation the caller does not manage
/// gets the same 404 as an unknown one.
pub async fn revoke(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManageTokens>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let not_found = || {
        AppError::new(
            StatusCode::NOT_FOUND,
            "token_not_found",
            "Aucun jeton avec cet identifiant.",
        )
        .back_to(PAGE)
    };
    let tokens = state.store().tokens(None).await?;
    let token = tokens.iter().find(|t| t.id == id).ok_or_else(not_found)?;
    let action = Action::ManageTokens {
        organisation_id: &token.organisation_id,
    };
    caller.require_or_hide(&action, not_found())?;
    state.store().revoke_token(&token.id).await?;
    tracing::info!(actor = %caller.principal.actor, token.id = %token.id, "API token revoked");
    Ok(Redirect::to(&format!("{PAGE}?revoque=1")).into_response())
}
