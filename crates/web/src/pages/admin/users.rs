//! `/admin/utilisateurs`: users with their memberships, and forms to create a
//! user with a role in an organisation, add a membership, make a password
//! reset link and disable a user. No one chooses a password for someone
//! else, because a new user sets theirs through the reset link shown here.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use filiere_domain::access::Role;
use filiere_store::accounts::User;

use super::{form_organisation, form_role, organisation_choices, role_choices};
use crate::auth::setup::reset_path;
use crate::auth::{gate, Allowed, Caller};
use crate::errors::AppError;
use crate::extract::{FormPairs, QueryMap};
use crate::forms::SelectOption;
use crate::pages::{render, Layout};
use crate::server::AppState;

const PAGE: &str = "/admin/utilisateurs";

/// One user of the list.
struct UserView {
    id: String,
    email: String,
    name: String,
    disabled: bool,
    /// "Organisation — role" of each membership.
    memberships: Vec<String>,
}

/// A reset link just made, shown once.
struct LinkView {
    email: String,
    url: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    layout: Layout,
    flash: Option<&'static str>,
    link: Option<LinkView>,
    users: Vec<UserView>,
    organisations: Vec<SelectOption>,
    roles: Vec<SelectOption>,
}

async fn users_page(
    state: &AppState,
    caller: &Caller,
    flash: Option<&'static str>,
    link: Option<LinkView>,
) -> Result<UsersPage, AppError> {
    let store = state.store();
    let mut users = Vec::new();
    for user in store.users().await? {
        let memberships = store
            .memberships(&user.id)
            .await?
            .into_iter()
            .map(|m| format!("{} — {}", m.organisation_name, m.role.label_fr()))
            .collect();
        users.push(UserView {
            id: user.id,
            email: user.email,
            name: user.display_name,
            disabled: user.disabled,
            memberships,
        });
    }
    Ok(UsersPage {
        layout: caller.layout(),
        flash,
        link,
        users,
        organisations: organisation_choices(&store.organisations().await?, None),
        roles: role_choices(Role::ALL),
    })
}

pub async fn list(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManageUsers>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let flash = if query.get("adhesion").is_some() {
        Some("Rôle ajouté.")
    } else if query.get("desactive").is_some() {
        Some("Compte désactivé : ses sessions sont fermées.")
    } else {
        None
    };
    render(
        StatusCode::OK,
        &users_page(&state, &caller, flash, None).await?,
    )
}

/// Shows the users page with a new reset link for `user`.
async fn with_reset_link(
    state: &AppState,
    caller: &Caller,
    user: &User,
) -> Result<Response, AppError> {
    let secret = state.store().create_link("reset", Some(&user.id)).await?;
    let link = LinkView {
        email: user.email.clone(),
        url: format!("{}{}", state.public_url, reset_path(&secret)),
    };
    tracing::info!(actor = %caller.principal.actor, user.id = %user.id, "password reset link created");
    let mut response = render(
        StatusCode::OK,
        &users_page(state, caller, None, Some(link)).await?,
    )?;
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

pub async fn create(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManageUsers>,
    form: FormPairs,
) -> Result<Response, AppError> {
    let back = |error: AppError| error.back_to(PAGE);
    let store = state.store();
    let organisations = store.organisations().await?;
    let organisation = form_organisation(&organisations, &form).map_err(back)?;
    let role = form_role(&form).map_err(back)?;
    let name = form.get("name").unwrap_or_default();
    if name.is_empty() {
        return Err(back(AppError::bad_request(
            "missing_name",
            "Donnez le nom affiché de la personne.",
        )));
    }
    let email = form.get("email").unwrap_or_default();
    let user = store
        .create_user(email, name, None)
        .await
        .map_err(|e| back(e.into()))?;
    store
        .add_membership(&user.id, &organisation.id, role)
        .await?;
    tracing::info!(actor = %caller.principal.actor, user.id = %user.id, organisation.id = %organisation.id, %role, "user created");
    with_reset_link(&state, &caller, &user).await
}

async fn find_user(state: &AppState, id: &str) -> Result<User, AppError> {
    state.store().user(id).await?.ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            "user_not_found",
            "Aucun compte avec cet identifiant.",
        )
        .back_to(PAGE)
    })
}

pub async fn add_membership(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManageUsers>,
    Path(id): Path<String>,
    form: FormPairs,
) -> Result<Response, AppError> {
    let back = |error: AppError| error.back_to(PAGE);
    let user = find_user(&state, &id).await?;
    let organisations = state.store().organisations().await?;
    let organisation = form_organisation(&organisations, &form).map_err(back)?;
    let role = form_role(&form).map_err(back)?;
    state
        .store()
        .add_membership(&user.id, &organisation.id, role)
        .await?;
    tracing::info!(actor = %caller.principal.actor, user.id = %user.id, organisation.id = %organisation.id, %role, "membership added");
    Ok(Redirect::to(&format!("{PAGE}?adhesion=1")).into_response())
}

pub async fn reset_link(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManageUsers>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let user = find_user(&state, &id).await?;
    with_reset_link(&state, &caller, &user).await
}

/// Disables a user; an administrator cannot disable their own account, so
/// that the last administrator cannot lock everyone out by mistake.
pub async fn disable(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManageUsers>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let user = find_user(&state, &id).await?;
    if caller.principal.actor == format!("user:{}", user.id) {
        return Err(AppError::bad_request(
            "cannot_disable_self",
            "Vous ne pouvez pas désactiver votre propre compte : demandez-le à une autre \
             personne de l'administration.",
        )
        .back_to(PAGE));
    }
    state.store().disable_user(&user.id).await?;
    tracing::info!(actor = %caller.principal.actor, user.id = %user.id, "user disabled");
    Ok(Redirect::to(&format!("{PAGE}?desactive=1")).into_response())
}
