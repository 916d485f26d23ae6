//! Donation batches: create one with its devices, list them, read one, and
//! print its labels.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use filiere_projections::{queries, DonationRow, StockFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{counts, Count, ErrorBody, StockDevice};
use crate::auth::{gate, Allowed};
use crate::batches::{done_count, find_batch, visible_batches, BatchUse};
use crate::donation_input::{receive, DeviceInput, DonationInput};
use crate::errors::AppError;
use crate::extract::{JsonBody, QueryMap};
use crate::pages::status_label;
use crate::printing::batch_labels;
use crate::server::AppState;

/// Batches listed at most, newest first.
const LIST_LIMIT: i64 = 500;

/// One device of a new batch.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeviceBody {
    /// Category: laptop, desktop, tablet, smartphone, screen, printer,
    /// multifunction_printer or other (French names are accepted too).
    pub category: String,
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub serial: Option<String>,
    #[serde(default)]
    pub asset_tag: Option<String>,
}

/// A new donation batch.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDonationBody {
    pub donor: String,
    /// company (default), public_body, person or association.
    #[serde(default)]
    pub donor_kind: String,
    /// Given by a public body under the free-transfer rule, which caps later
    /// solidarity prices.
    #[serde(default)]
    pub free_transfer: bool,
    pub site: String,
    /// `YYYY-MM-DD`; today when absent.
    #[serde(default)]
    pub received_on: Option<String>,
    /// The donor's reference, such as a delivery note number.
    #[serde(default)]
    pub reference: String,
    pub devices: Vec<NewDeviceBody>,
}

/// A device of a recorded batch.
#[derive(Serialize, ToSchema)]
pub struct CreatedDevice {
    pub device_id: String,
    pub code: String,
    /// Device page, as printed in its QR label.
    pub url: String,
}

/// A recorded batch.
#[derive(Serialize, ToSchema)]
pub struct CreatedDonation {
    pub donation_id: String,
    pub devices: Vec<CreatedDevice>,
}

/// A batch with its progress.
#[derive(Serialize, ToSchema)]
pub struct DonationSummary {
    pub donation_id: String,
    pub donor_name: String,
    pub donor_kind: String,
    pub free_transfer: bool,
    pub received_on: String,
    pub site: String,
    pub reference: String,
    pub device_count: i64,
    /// Devices handed over, recycled, dismantled or written off.
    pub done: i64,
    pub by_status: Vec<Count>,
}

impl From<DonationRow> for DonationSummary {
    fn from(row: DonationRow) -> DonationSummary {
        DonationSummary {
            done: done_count(&row),
            by_status: counts(row.by_status, status_label),
            donation_id: row.donation_id,
            donor_name: row.donor_name,
            donor_kind: row.donor_kind,
            free_transfer: row.free_transfer,
            received_on: row.received_on,
            site: row.site,
            reference: row.reference,
            device_count: row.device_count,
        }
    }
}

/// A batch and its devices.
#[derive(Serialize, ToSchema)]
pub struct DonationDetail {
    pub donation: DonationSummary,
    pub devices: Vec<StockDevice>,
}

#[utoipa::path(
    post,
    path = "/api/v1/donations",
    tag = "donations",
    request_body = NewDonationBody,
    responses(
        (status = 201, description = "Batch recorded with a code per device", body = CreatedDonation),
        (status = 400, description = "Invalid batch; the message lists every problem", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not receive donations", body = ErrorBody),
        (status = 409, description = "A serial number is already recorded", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
    )
)]
pub async fn create_donation(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ReceiveDonations>,
    JsonBody(body): JsonBody<NewDonationBody>,
) -> Result<(StatusCode, Json<CreatedDonation>), AppError> {
    let input = DonationInput {
        donor: body.donor,
        donor_kind: body.donor_kind,
        free_transfer: body.free_transfer,
        site: body.site,
        received_on: body.received_on.unwrap_or_default(),
        reference: body.reference,
        devices: body
            .devices
            .into_iter()
            .enumerate()
            .map(|(index, device)| DeviceInput {
                origin: format!("Appareil {}", index + 1),
                category: device.category,
                brand: device.brand,
                model: device.model,
                serial: device.serial.unwrap_or_default(),
                asset_tag: device.asset_tag.unwrap_or_default(),
            })
            .collect(),
    };
    let outcome = receive(&state, &caller.principal, &input)
        .await
        .map_err(|problems| problems.into_error())?;
    let created = CreatedDonation {
        donation_id: outcome.donation_id.to_string(),
        devices: outcome
            .devices
            .into_iter()
            .map(|(id, code)| CreatedDevice {
                device_id: id.to_string(),
                url: format!("{}/D/{code}", state.public_url),
                code: code.to_string(),
            })
            .collect(),
    };
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(
    get,
    path = "/api/v1/donations",
    tag = "donations",
    responses(
        (status = 200, description = "Batches of the token's organisation, newest first", body = Vec<DonationSummary>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not see batches", body = ErrorBody),
    )
)]
pub async fn list_donations(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewStock>,
) -> Result<Json<Vec<DonationSummary>>, AppError> {
    let rows = visible_batches(state.store().pool(), &caller, LIST_LIMIT).await?;
    Ok(Json(rows.into_iter().map(DonationSummary::from).collect()))
}

#[utoipa::path(
    get,
    path = "/api/v1/donations/{id}",
    tag = "donations",
    params(("id" = String, Path, description = "Donation batch id")),
    responses(
        (status = 200, description = "The batch and its devices", body = DonationDetail),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not see or print batches", body = ErrorBody),
        (status = 404, description = "No batch with this id recorded by the token's organisation", body = ErrorBody),
    )
)]
pub async fn get_donation(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewStock>,
    Path(id): Path<String>,
) -> Result<Json<DonationDetail>, AppError> {
    let batch = find_batch(state.store().pool(), &caller, &id, BatchUse::View).await?;
    let filter = StockFilter {
        donation_id: Some(batch.donation_id.clone()),
        holder: caller.holder_filter(),
        ..StockFilter::default()
    };
    let mut rows = queries::stock_list(state.store().pool(), &filter, 100_000).await?;
    rows.sort_by(|a, b| a.received_at.cmp(&b.received_at).then(a.code.cmp(&b.code)));
    Ok(Json(DonationDetail {
        donation: DonationSummary::from(batch),
        devices: rows.into_iter().map(StockDevice::from).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/donations/{id}/labels.pdf",
    tag = "donations",
    params(
        ("id" = String, Path, description = "Donation batch id"),
        ("template" = Option<String>, Query, description = "Label template, avery-l7160 by default"),
        ("start" = Option<usize>, Query, description = "First label position on the sheet, from 1"),
        ("offset_x" = Option<f32>, Query, description = "Printer offset to the right, in mm"),
        ("offset_y" = Option<f32>, Query, description = "Printer offset downwards, in mm"),
    ),
    responses(
        (status = 200, description = "PDF of the batch's labels", content_type = "application/pdf"),
        (status = 400, description = "Unknown template or invalid option", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not see or print batches", body = ErrorBody),
        (status = 404, description = "No batch with this id recorded by the token's organisation", body = ErrorBody),
    )
)]
pub async fn donation_labels(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::PrintDocuments>,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let batch = find_batch(state.store().pool(), &caller, &id, BatchUse::Print).await?;
    batch_labels(&state, &batch.donation_id, caller.holder_filter(), &query).await
}
