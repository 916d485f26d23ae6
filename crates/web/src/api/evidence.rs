//! Evidence files through the API: `POST` and `GET
//! /api/v1/devices/{code}/evidence`, and `GET /api/v1/evidence/{sha256}`.

use axum::extract::{Multipart, Path, State};
use axum::response::Response;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::{gate, Allowed};
use crate::errors::AppError;
use crate::evidence_upload::{
    device_files, evidence_download, evidence_not_found, import_upload, may_view_evidence,
    parse_sha256, read_upload_form, view_device, visible_device, ResultLine,
};
use crate::pages::parse_code;
use crate::server::AppState;

/// Multipart body of an upload: one part per file, and an optional `test`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EvidenceUploadBody {
    /// Report files (`lshw -json`, `smartctl --json`, nwipe or ShredOS log,
    /// Workbench snapshot), one part each with a file name; 32 MiB at most
    /// in total.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub files: Vec<Vec<u8>>,
    /// Functional test result to record with a hardware report when the
    /// device has none yet: `passed` or `failed`.
    pub test: Option<String>,
}

/// Outcome of one uploaded file.
#[derive(Serialize, ToSchema)]
pub struct EvidenceFileResult {
    pub file_name: String,
    /// `recorded`, `already_recorded` (nothing new), `rejected` (unreadable
    /// or of another machine) or `not_recorded` (readable, but the device's
    /// rules rejected the steps; see `message`).
    pub status: String,
    /// lshw, smartctl, nwipe or workbench, for a readable file.
    pub kind: Option<String>,
    pub sha256: Option<String>,
    /// Line or field of the problem, for an unreadable file.
    pub location: Option<String>,
    /// French sentence naming the file, the values and what to do.
    pub message: String,
}

impl From<ResultLine> for EvidenceFileResult {
    fn from(line: ResultLine) -> EvidenceFileResult {
        EvidenceFileResult {
            file_name: line.file_name,
            status: line.status.to_string(),
            kind: line.kind,
            sha256: line.sha256,
            location: line.location,
            message: line.message,
        }
    }
}

/// Outcome of an upload: one result per file, in upload order.
#[derive(Serialize, ToSchema)]
pub struct EvidenceUploadResult {
    pub code: String,
    pub files: Vec<EvidenceFileResult>,
    /// French summaries of the steps recorded.
    pub recorded_steps: Vec<String>,
    /// Device version after the upload.
    pub version: u64,
    pub ready: bool,
    pub readiness_gaps: Vec<String>,
}

/// A stored evidence file cited by a device.
#[derive(Serialize, ToSchema)]
pub struct EvidenceSummary {
    pub sha256: String,
    /// lshw, smartctl, nwipe or workbench.
    pub kind: String,
    /// Name of the file when it was first stored.
    pub file_name: String,
    /// Size in bytes.
    pub size: i64,
    /// RFC 3339 time the file was first stored.
    pub recorded_at: String,
    /// Path that returns the file's bytes.
    pub download: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/devices/{code}/evidence",
    tag = "evidence",
    params(("code" = String, Path, description = "Device code")),
    request_body(content = EvidenceUploadBody, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "One result per file; the good files are recorded together", body = EvidenceUploadResult),
        (status = 400, description = "No file, an unknown field or an invalid test result", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not record steps", body = ErrorBody),
        (status = 404, description = "No device with this code held by the token's organisation", body = ErrorBody),
        (status = 413, description = "Upload over 32 MiB", body = ErrorBody),
    )
)]
pub async fn post_evidence(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::RecordSteps>,
    Path(typed): Path<String>,
    multipart: Multipart,
) -> Result<Json<EvidenceUploadResult>, AppError> {
    let code = parse_code(&typed)?;
    let form = read_upload_form(multipart).await?;
    let result = import_upload(&state, &caller, &code, form).await?;
    Ok(Json(EvidenceUploadResult {
        code: code.to_string(),
        version: result.device.version,
        ready: result.device.readiness_gaps().is_empty(),
        readiness_gaps: result
            .device
            .readiness_gaps()
            .iter()
            .map(|gap| gap.label_fr())
            .collect(),
        files: result.lines.into_iter().map(Into::into).collect(),
        recorded_steps: result.steps,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/devices/{code}/evidence",
    tag = "evidence",
    params(("code" = String, Path, description = "Device code")),
    responses(
        (status = 200, description = "Evidence files cited by the device's events, oldest first", body = Vec<EvidenceSummary>),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not open devices", body = ErrorBody),
        (status = 404, description = "No device with this code held by the token's organisation", body = ErrorBody),
    )
)]
pub async fn list_evidence(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewDevices>,
    Path(typed): Path<String>,
) -> Result<Json<Vec<EvidenceSummary>>, AppError> {
    let code = parse_code(&typed)?;
    let device = visible_device(&state, &caller, &code, view_device).await?;
    let files = device_files(&state, &device).await?;
    Ok(Json(
        files
            .into_iter()
            .map(|file| EvidenceSummary {
                download: format!("/api/v1/evidence/{}", file.sha256),
                sha256: file.sha256,
                kind: file.kind,
                file_name: file.file_name,
                size: file.size,
                recorded_at: file.recorded_at,
            })
            .collect(),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/evidence/{sha256}",
    tag = "evidence",
    params(("sha256" = String, Path, description = "SHA-256 of the file, 64 hex digits")),
    responses(
        (status = 200, description = "The file's original bytes, checked against the hash, as an attachment", content_type = "application/octet-stream"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not open devices", body = ErrorBody),
        (status = 404, description = "No file with this hash cited by a device the token may open", body = ErrorBody),
        (status = 500, description = "The stored bytes no longer match the hash; nothing is sent", body = ErrorBody),
    )
)]
pub async fn get_evidence(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewDevices>,
    Path(typed): Path<String>,
) -> Result<Response, AppError> {
    let sha256 = parse_sha256(&typed)?;
    if !may_view_evidence(&state, &caller, &sha256).await? {
        return Err(evidence_not_found(&sha256));
    }
    evidence_download(&state, &sha256).await
}
