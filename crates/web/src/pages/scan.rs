//! The scan box and the search: the start of every bench task.
//!
//! A handheld scanner types the label's code, or the whole URL of its QR
//! code, then Enter. `/scan` reads it with `DeviceCode::parse_scanned`, which
//! undoes lower case and the AZERTY digit row, and redirects to the device.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use filiere_domain::DeviceCode;
use filiere_projections::{queries, StockFilter};

use super::{render, RowView};
use crate::errors::AppError;
use crate::extract::QueryMap;
use crate::messages::message_fr;
use crate::server::AppState;

/// Devices listed by a search at most.
const SEARCH_LIMIT: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/scan", get(scan))
        .route("/search", get(search))
}

#[derive(Template)]
#[template(path = "scan.html")]
struct ScanPage {
    /// Reason the scanned text led to no device.
    problem: Option<String>,
    /// Text typed in the scan box, kept after a failed scan.
    typed: String,
    query: String,
    searched: bool,
    results: Vec<RowView>,
}

impl ScanPage {
    fn empty() -> ScanPage {
        ScanPage {
            problem: None,
            typed: String::new(),
            query: String::new(),
            searched: false,
            results: Vec::new(),
        }
    }
}

async fn home() -> Result<Response, AppError> {
    render(StatusCode::OK, &ScanPage::empty())
}

async fn scan(State(state): State<AppState>, query: QueryMap) -> Result<Response, AppError> {
    let Some(typed) = query.get("code") else {
        return Ok(Redirect::to("/").into_response());
    };
    let code = match DeviceCode::parse_scanned(typed) {
        Ok(code) => code,
        Err(error) => {
            tracing::info!(device.code = typed, %error, "scanned text is not a device code");
            let page = ScanPage {
                problem: Some(message_fr(&error)),
                ..searched(&state, typed, typed).await?
            };
            return render(StatusCode::BAD_REQUEST, &page);
        }
    };
    if state.workshop.find_device(&code).await?.is_some() {
        return Ok(Redirect::to(&format!("/d/{code}")).into_response());
    }
    tracing::info!(device.code = %code, "scanned code matches no device");
    let page = ScanPage {
        problem: Some(format!(
            "Aucun appareil avec le code {code}. Vérifiez l'étiquette, ou cherchez l'appareil \
             par son numéro de série ou son modèle."
        )),
        ..searched(&state, typed, code.as_str()).await?
    };
    render(StatusCode::NOT_FOUND, &page)
}

async fn search(State(state): State<AppState>, query: QueryMap) -> Result<Response, AppError> {
    let text = query.get("q").unwrap_or_default();
    if text.is_empty() {
        return render(StatusCode::OK, &ScanPage::empty());
    }
    render(StatusCode::OK, &searched(&state, "", text).await?)
}

/// Builds the scan page with the devices whose code, serial or model starts
/// with `text`.
async fn searched(state: &AppState, typed: &str, text: &str) -> Result<ScanPage, AppError> {
    let filter = StockFilter {
        search: Some(text.to_string()),
        ..StockFilter::default()
    };
    let rows = queries::stock_list(state.store().pool(), &filter, SEARCH_LIMIT).await?;
    Ok(ScanPage {
        problem: None,
        typed: typed.to_string(),
        query: text.to_string(),
        searched: true,
        results: rows.into_iter().map(RowView::from).collect(),
    })
}
