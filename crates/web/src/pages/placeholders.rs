//! Pages announced in the navigation but not built yet: the referrers'
//! prescriptions and the funders' dashboard. Each is gated like the feature
//! it stands for, so the navigation and the authorization tests hold once
//! the feature arrives.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::{render, Layout};
use crate::auth::{gate, Allowed};
use crate::errors::AppError;
use crate::server::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/prescriptions", get(prescriptions))
        .route("/tableau-de-bord", get(dashboard))
}

#[derive(Template)]
#[template(path = "placeholder.html")]
struct PlaceholderPage {
    layout: Layout,
    title: &'static str,
    message: &'static str,
}

async fn prescriptions(
    Allowed { caller, .. }: Allowed<gate::ManagePrescriptions>,
) -> Result<Response, AppError> {
    let page = PlaceholderPage {
        layout: caller.layout(),
        title: "Prescriptions",
        message: "Les prescriptions d'équipement pour les foyers arrivent bientôt : vous pourrez \
                  ici demander un appareil pour un foyer que votre service accompagne et suivre \
                  la demande.",
    };
    render(StatusCode::OK, &page)
}

async fn dashboard(
    Allowed { caller, .. }: Allowed<gate::ViewAggregates>,
) -> Result<Response, AppError> {
    let page = PlaceholderPage {
        layout: caller.layout(),
        title: "Tableau de bord financeur",
        message: "Tableau de bord financeur — bientôt disponible. Il montrera des chiffres \
                  agrégés : appareils reçus, reconditionnés, remis et recyclés, sans aucune \
                  donnée sur les foyers.",
    };
    render(StatusCode::OK, &page)
}
