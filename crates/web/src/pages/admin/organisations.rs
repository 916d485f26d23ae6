//! `/admin/organisations`: the organisations sharing this Filière, and a
//! form to add one.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use filiere_domain::access::OrganisationKind;

use crate::auth::{gate, Allowed};
use crate::errors::AppError;
use crate::extract::{FormPairs, QueryMap};
use crate::forms::SelectOption;
use crate::pages::{render, Layout};
use crate::server::AppState;

/// One organisation of the list.
struct OrganisationView {
    id: String,
    name: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "admin_organisations.html")]
struct OrganisationsPage {
    layout: Layout,
    flash: Option<String>,
    organisations: Vec<OrganisationView>,
    kinds: Vec<SelectOption>,
}

pub async fn list(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManageOrganisations>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let organisations = state
        .store()
        .organisations()
        .await?
        .into_iter()
        .map(|organisation| OrganisationView {
            id: organisation.id,
            name: organisation.name,
            kind: organisation.kind.label_fr().to_string(),
        })
        .collect();
    let page = OrganisationsPage {
        layout: caller.layout(),
        flash: query
            .get("creee")
            .map(|name| format!("Organisation « {name} » créée.")),
        organisations,
        kinds: OrganisationKind::ALL
            .iter()
            .map(|kind| SelectOption {
                value: kind.as_str().to_string(),
                label: kind.label_fr().to_string(),
                selected: *kind == OrganisationKind::Workshop,
            })
            .collect(),
    };
    render(StatusCode::OK, &page)
}

pub async fn create(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManageOrganisations>,
    form: FormPairs,
) -> Result<Response, AppError> {
    let back = |error: AppError| error.back_to("/admin/organisations");
    let typed = form.get("kind").unwrap_or_default();
    let kind: OrganisationKind = typed.parse().map_err(|_| {
        back(AppError::bad_request(
            "invalid_kind",
            format!("Type d'organisation « {typed} » inconnu : choisissez-en un dans la liste."),
        ))
    })?;
    let name = form.get("name").unwrap_or_default();
    let organisation = state
        .store()
        .create_organisation(name, kind)
        .await
        .map_err(|error| back(error.into()))?;
    tracing::info!(
        actor = %caller.principal.actor,
        organisation.id = %organisation.id,
        kind = %kind,
        "organisation created"
    );
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("creee", &organisation.name)
        .finish();
    Ok(Redirect::to(&format!("/admin/organisations?{query}")).into_response())
}
