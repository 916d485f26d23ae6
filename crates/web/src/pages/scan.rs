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
use filiere_domain::access::Action;
use filiere_domain::DeviceCode;
use filiere_projections::{queries, StockFilter};

use super::{home_for, render, Layout, RowView};
use crate::auth::gate::{self, Gate, SignedIn};
use crate::auth::{Allowed, Caller};
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
    layout: Layout,
    /// Reason the scanned text led to no device.
    problem: Option<String>,
    /// Text typed in the scan box, kept after a failed scan.
    typed: String,
    query: String,
    searched: bool,
    results: Vec<RowView>,
}

impl ScanPage {
    fn empty(caller: &Caller) -> ScanPage {
        ScanPage {
            layout: caller.layout(),
            problem: None,
            typed: String::new(),
            query: String::new(),
            searched: false,
            results: Vec::new(),
        }
    }
}

/// Shows the scan box to roles that may scan, and redirects other roles to
/// their own first page.
async fn home(SignedIn(caller): SignedIn) -> Result<Response, AppError> {
    let principal = &caller.principal;
    if !caller.may(&gate::ViewStock::action(principal)) {
        return Ok(Redirect::to(home_for(principal)).into_response());
    }
    render(StatusCode::OK, &ScanPage::empty(&caller))
}

async fn scan(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewStock>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let Some(typed) = query.get("code") else {
        return Ok(Redirect::to("/").into_response());
    };
    let code = match DeviceCode::parse_scanned(typed) {
        Ok(code) => code,
        Err(error) => {
            tracing::info!(device.code = typed, %error, "scanned text is not a device code");
            let page = ScanPage {
                problem: Some(message_fr(&error)),
                ..searched(&state, &caller, typed, typed).await?
            };
            return render(StatusCode::BAD_REQUEST, &page);
        }
    };
    if let Some(device) = state.workshop.find_device(&code).await? {
        let action = Action::ViewDevice {
            holder: &device.holder,
        };
        if caller.may(&action) {
            return Ok(Redirect::to(&format!("/d/{code}")).into_response());
        }
    }
    tracing::info!(device.code = %code, "scanned code matches no device of the caller");
    let page = ScanPage {
        problem: Some(format!(
            "Aucun appareil avec le code {code}. Vérifiez l'étiquette, ou cherchez l'appareil \
             par son numéro de série ou son modèle."
        )),
        ..searched(&state, &caller, typed, code.as_str()).await?
    };
    render(StatusCode::NOT_FOUND, &page)
}

async fn search(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewStock>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let text = query.get("q").unwrap_or_default();
    if text.is_empty() {
        return render(StatusCode::OK, &ScanPage::empty(&caller));
    }
    render(StatusCode::OK, &searched(&state, &caller, "", text).await?)
}

/// Builds the scan page with the devices of the caller's organisation whose
/// code, serial or model starts with `text`.
async fn searched(
    state: &AppState,
    caller: &Caller,
    typed: &str,
    text: &str,
) -> Result<ScanPage, AppError> {
    let filter = StockFilter {
        search: Some(text.to_string()),
        holder: caller.holder_filter(),
        ..StockFilter::default()
    };
    let rows = queries::stock_list(state.store().pool(), &filter, SEARCH_LIMIT).await?;
    Ok(ScanPage {
        layout: caller.layout(),
        problem: None,
        typed: typed.to_string(),
        query: text.to_string(),
        searched: true,
        results: rows.into_iter().map(RowView::from).collect(),
    })
}
