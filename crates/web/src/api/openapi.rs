//! The OpenAPI 3 document of the API, generated from the handlers'
//! annotations and served at `/api/v1/openapi.json`.

use axum::Json;
use utoipa::OpenApi;

use super::devices::{AllowedStep, DeviceState, FieldValue, StepBody, StepResult, TimelineEvent};
use super::donations::{
    CreatedDevice, CreatedDonation, DonationDetail, DonationSummary, NewDeviceBody, NewDonationBody,
};
use super::stock::{StockCounts, StockResponse};
use super::{Count, ErrorBody, ErrorDetail, StockDevice};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Filière API",
        description = "Devices, bench steps, stock and donation batches of a refurbishing workshop. \
                       Error messages are in French; error codes are stable."
    ),
    paths(
        super::devices::get_device,
        super::devices::post_step,
        super::stock::get_stock,
        super::donations::create_donation,
        super::donations::list_donations,
        super::donations::get_donation,
        super::donations::donation_labels,
        openapi_json,
    ),
    components(schemas(
        AllowedStep,
        Count,
        CreatedDevice,
        CreatedDonation,
        DeviceState,
        DonationDetail,
        DonationSummary,
        ErrorBody,
        ErrorDetail,
        FieldValue,
        NewDeviceBody,
        NewDonationBody,
        StepBody,
        StepResult,
        StockCounts,
        StockDevice,
        StockResponse,
        TimelineEvent,
    ))
)]
pub struct ApiDoc;

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "This OpenAPI 3 document", content_type = "application/json"))
)]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
