//! Donation batches: the list with progress, the form of a new batch, the
//! batch page and its label PDFs.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use filiere_domain::types::{Category, DonorKind};
use filiere_projections::{queries, StockFilter};

use super::{render, Layout, RowView};
use crate::auth::gate::{self, Gate};
use crate::auth::{Allowed, Caller};
use crate::batches::{find_batch, visible_batches, BatchUse, BatchView};
use crate::donation_input::{receive, DeviceInput, DonationInput, InputProblems};
use crate::errors::AppError;
use crate::extract::{FormPairs, QueryMap};
use crate::forms::SelectOption;
use crate::printing::{batch_labels, calibration, template_choices};
use crate::server::AppState;

/// Batches listed on the page at most, newest first.
const LIST_LIMIT: i64 = 200;
/// Empty device rows of a new batch form.
const FORM_ROWS: usize = 5;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/donations", get(list).post(create))
        .route("/donations/new", get(new_form))
        .route("/donations/{id}", get(show))
        .route("/donations/{id}/labels.pdf", get(labels))
        .route("/labels/calibration.pdf", get(calibration_page))
}

#[derive(Template)]
#[template(path = "donations.html")]
struct ListPage {
    layout: Layout,
    may_receive: bool,
    batches: Vec<BatchView>,
}

async fn list(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewStock>,
) -> Result<Response, AppError> {
    let batches = visible_batches(state.store().pool(), &caller, LIST_LIMIT).await?;
    let may_receive = caller.may(&gate::ReceiveDonations::action(&caller.principal));
    let page = ListPage {
        layout: caller.layout(),
        may_receive,
        batches: batches.into_iter().map(BatchView::from).collect(),
    };
    render(StatusCode::OK, &page)
}

/// One device row of the form, as typed.
struct RowValues {
    category: Vec<SelectOption>,
    brand: String,
    model: String,
    serial: String,
}

#[derive(Template)]
#[template(path = "donation_new.html")]
struct NewPage {
    layout: Layout,
    problems: Vec<String>,
    donor: String,
    donor_kinds: Vec<SelectOption>,
    free_transfer: bool,
    site: String,
    received_on: String,
    reference: String,
    today: String,
    rows: Vec<RowValues>,
    lines: String,
}

fn choices<T: Copy + PartialEq>(
    values: &[T],
    selected: Option<T>,
    describe: impl Fn(T) -> (&'static str, &'static str),
) -> Vec<SelectOption> {
    values
        .iter()
        .map(|value| {
            let (stable, french) = describe(*value);
            SelectOption {
                value: stable.to_string(),
                label: french.to_string(),
                selected: selected == Some(*value),
            }
        })
        .collect()
}

fn row_values(category: Option<Category>, brand: &str, model: &str, serial: &str) -> RowValues {
    RowValues {
        category: choices(Category::ALL, category, |c| (c.as_str(), c.label_fr())),
        brand: brand.to_string(),
        model: model.to_string(),
        serial: serial.to_string(),
    }
}

/// Builds the form page, filled with `form` when it is shown again after
/// problems.
fn new_page(caller: &Caller, form: &FormPairs, problems: Vec<String>) -> NewPage {
    let today = Utc::now().date_naive().to_string();
    let mut rows: Vec<RowValues> = table_rows(form)
        .into_iter()
        .map(|device| {
            row_values(
                device.category.parse().ok(),
                &device.brand,
                &device.model,
                &device.serial,
            )
        })
        .collect();
    while rows.len() < FORM_ROWS {
        rows.push(row_values(None, "", "", ""));
    }
    let donor_kind = form.get("donor_kind").and_then(|k| k.parse().ok());
    NewPage {
        layout: caller.layout(),
        problems,
        donor: form.get("donor").unwrap_or_default().to_string(),
        donor_kinds: choices(
            DonorKind::ALL,
            donor_kind.or(Some(DonorKind::Company)),
            |k| (k.as_str(), k.label_fr()),
        ),
        free_transfer: form.get("free_transfer").is_some(),
        site: form.get("site").unwrap_or_default().to_string(),
        received_on: form.get("received_on").unwrap_or(&today).to_string(),
        reference: form.get("reference").unwrap_or_default().to_string(),
        today,
        rows,
        lines: form.get("lines").unwrap_or_default().to_string(),
    }
}

async fn new_form(
    Allowed { caller, .. }: Allowed<gate::ReceiveDonations>,
) -> Result<Response, AppError> {
    let page = new_page(&caller, &FormPairs::default(), Vec::new());
    render(StatusCode::OK, &page)
}

/// Device rows of the table whose brand, model or serial is filled in.
fn table_rows(form: &FormPairs) -> Vec<DeviceInput> {
    let categories = form.all("category");
    let brands = form.all("brand");
    let models = form.all("model");
    let serials = form.all("serial");
    (0..categories.len())
        .map(|index| DeviceInput {
            origin: format!("Ligne {} du tableau", index + 1),
            category: categories[index].to_string(),
            brand: brands.get(index).copied().unwrap_or_default().to_string(),
            model: models.get(index).copied().unwrap_or_default().to_string(),
            serial: serials.get(index).copied().unwrap_or_default().to_string(),
            asset_tag: String::new(),
        })
        .filter(|device| {
            !(device.brand.trim().is_empty()
                && device.model.trim().is_empty()
                && device.serial.trim().is_empty())
        })
        .collect()
}

/// Device lines of the text area, `catégorie;marque;modèle;série`.
fn pasted_lines(text: &str) -> Vec<DeviceInput> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let mut parts = line.split([';', '\t']).map(str::trim);
            DeviceInput {
                origin: format!("Ligne {} de la liste collée", index + 1),
                category: parts.next().unwrap_or_default().to_string(),
                brand: parts.next().unwrap_or_default().to_string(),
                model: parts.next().unwrap_or_default().to_string(),
                serial: parts.next().unwrap_or_default().to_string(),
                asset_tag: String::new(),
            }
        })
        .collect()
}

fn donation_input(form: &FormPairs) -> DonationInput {
    let mut devices = table_rows(form);
    devices.extend(pasted_lines(form.get("lines").unwrap_or_default()));
    DonationInput {
        donor: form.get("donor").unwrap_or_default().to_string(),
        donor_kind: form.get("donor_kind").unwrap_or_default().to_string(),
        free_transfer: form.get("free_transfer").is_some(),
        site: form.get("site").unwrap_or_default().to_string(),
        received_on: form.get("received_on").unwrap_or_default().to_string(),
        reference: form.get("reference").unwrap_or_default().to_string(),
        devices,
    }
}

async fn create(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ReceiveDonations>,
    form: FormPairs,
) -> Result<Response, AppError> {
    match receive(&state, &caller.principal, &donation_input(&form)).await {
        Ok(outcome) => {
            let target = format!(
                "/donations/{}?created={}",
                outcome.donation_id,
                outcome.devices.len()
            );
            Ok(Redirect::to(&target).into_response())
        }
        Err(InputProblems {
            status, problems, ..
        }) if status.is_client_error() => {
            tracing::info!(problems = problems.len(), "donation batch rejected");
            render(status, &new_page(&caller, &form, problems))
        }
        Err(problems) => Err(problems.into_error()),
    }
}

#[derive(Template)]
#[template(path = "donation.html")]
struct BatchPage {
    layout: Layout,
    flash: Option<String>,
    batch: BatchView,
    templates: Vec<SelectOption>,
    results: Vec<RowView>,
}

/// Shows a batch with its devices held by the caller's organisation, or
/// every device of the batch for an administrator.
async fn show(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewStock>,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let batch = find_batch(state.store().pool(), &caller, &id, BatchUse::View).await?;
    let filter = StockFilter {
        donation_id: Some(batch.donation_id.clone()),
        holder: caller.holder_filter(),
        ..StockFilter::default()
    };
    let mut rows = queries::stock_list(state.store().pool(), &filter, 100_000).await?;
    rows.sort_by(|a, b| a.received_at.cmp(&b.received_at).then(a.code.cmp(&b.code)));
    let flash = query.get("created").map(|count| {
        format!("Lot enregistré : {count} appareil(s). Imprimez leurs étiquettes ci-dessous.")
    });
    let page = BatchPage {
        layout: caller.layout(),
        flash,
        batch: BatchView::from(batch),
        templates: template_choices(&state),
        results: rows.into_iter().map(RowView::from).collect(),
    };
    render(StatusCode::OK, &page)
}

async fn labels(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::PrintDocuments>,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let batch = find_batch(state.store().pool(), &caller, &id, BatchUse::Print).await?;
    batch_labels(&state, &batch.donation_id, caller.holder_filter(), &query)
        .await
        .map_err(|error| error.back_to(format!("/donations/{}", batch.donation_id)))
}

async fn calibration_page(
    State(state): State<AppState>,
    Allowed {
        caller: _caller, ..
    }: Allowed<gate::PrintDocuments>,
    query: QueryMap,
) -> Result<Response, AppError> {
    calibration(&state, &query).await
}
