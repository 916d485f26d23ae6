//! The OpenAPI 3 document of the API, generated from the handlers'
//! annotations and served at `/api/v1/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::dashboard::{
    DashboardBreakdowns, DashboardFilters, DashboardImpact, DashboardLog, DashboardProgress,
    DashboardResponse, DashboardTarget, DashboardTotals, DurationStats,
};
use super::devices::{AllowedStep, DeviceState, FieldValue, StepBody, StepResult, TimelineEvent};
use super::donations::{
    CreatedDevice, CreatedDonation, DonationDetail, DonationSummary, NewDeviceBody, NewDonationBody,
};
use super::evidence::{
    EvidenceFileResult, EvidenceSummary, EvidenceUploadBody, EvidenceUploadResult,
};
use super::prescriptions::PrescriptionApi;
use super::stock::{StockCounts, StockResponse};
use super::{Count, ErrorBody, ErrorDetail, StockDevice};
use crate::auth::gate::SignedIn;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Filière API",
        description = "Devices, bench steps, stock and donation batches of a refurbishing workshop. \
                       Error messages are in French; error codes are stable. Every request needs \
                       an API token (`Authorization: Bearer fil_...`), which acts with one role \
                       for one organisation; a signed-in browser session is accepted for GET only."
    ),
    modifiers(&BearerToken, &PrescriptionApi),
    security(("api_token" = [])),
    paths(
        super::devices::get_device,
        super::devices::post_step,
        super::stock::get_stock,
        super::dashboard::get_dashboard,
        super::donations::create_donation,
        super::donations::list_donations,
        super::donations::get_donation,
        super::donations::donation_labels,
        super::evidence::post_evidence,
        super::evidence::list_evidence,
        super::evidence::get_evidence,
        super::documents::device_certificate,
        super::documents::donation_certificates,
        super::documents::donation_reuse_pdf,
        super::documents::donation_reuse_csv,
        super::handover_sheet::get_handover_sheet,
        openapi_json,
    ),
    components(schemas(
        AllowedStep,
        Count,
        CreatedDevice,
        CreatedDonation,
        DashboardBreakdowns,
        DashboardFilters,
        DashboardImpact,
        DashboardLog,
        DashboardProgress,
        DashboardResponse,
        DashboardTarget,
        DashboardTotals,
        DeviceState,
        DonationDetail,
        DonationSummary,
        DurationStats,
        ErrorBody,
        ErrorDetail,
        EvidenceFileResult,
        EvidenceSummary,
        EvidenceUploadBody,
        EvidenceUploadResult,
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

/// Declares the `api_token` security scheme: an HTTP bearer token, created
/// on the `/admin/jetons` page or with `filiere token create`.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "API token `fil_...`, shown once when it is created; revoked tokens get 401.",
            ))
            .build();
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("api_token", SecurityScheme::Http(scheme));
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses(
        (status = 200, description = "This OpenAPI 3 document", content_type = "application/json"),
        (status = 401, description = "No valid API token", body = ErrorBody),
    )
)]
pub async fn openapi_json(_caller: SignedIn) -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
