//! Evidence files and donor documents from the pages: the upload of tool
//! reports on a device page, the download of a stored report, the device's
//! erasure certificate, and a batch's certificates and reuse report.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use filiere_store::evidence::EvidenceFile;

use super::{french_time, parse_code, render, Layout};
use crate::auth::{gate, Allowed};
use crate::donor_documents::{
    batch_certificates_pdf, batch_reuse_report, device_certificate_pdf, ReportFormat,
};
use crate::errors::AppError;
use crate::evidence_upload::{
    evidence_download, evidence_not_found, import_upload, parse_sha256, read_upload_form,
    view_device, visible_device, ResultLine, UPLOAD_LIMIT_BYTES,
};
use crate::server::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/d/{code}/evidence",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT_BYTES)),
        )
        .route("/d/{code}/evidence/{sha256}", get(download))
        .route("/d/{code}/certificate.pdf", get(certificate))
        .route("/donations/{id}/certificates.pdf", get(batch_certificates))
        .route("/donations/{id}/reuse-report.pdf", get(reuse_pdf))
        .route("/donations/{id}/reuse-report.csv", get(reuse_csv))
}

/// One stored evidence file, as listed on the device page.
pub(crate) struct EvidenceRow {
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub size: String,
    pub recorded_at: String,
}

impl From<EvidenceFile> for EvidenceRow {
    fn from(file: EvidenceFile) -> EvidenceRow {
        EvidenceRow {
            kind: file.kind,
            file_name: file.file_name,
            sha256: file.sha256,
            size: french_size(file.size),
            recorded_at: french_time(&file.recorded_at),
        }
    }
}

/// Formats a size in bytes with French units.
fn french_size(bytes: i64) -> String {
    if bytes < 1024 {
        format!("{bytes} octets")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} Kio", bytes as f64 / 1024.0).replace('.', ",")
    } else {
        format!("{:.1} Mio", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
    }
}

/// Upload limit shown next to the form, in MiB.
pub(crate) const UPLOAD_LIMIT_MIB: usize = UPLOAD_LIMIT_BYTES / (1024 * 1024);

#[derive(Template)]
#[template(path = "evidence_result.html")]
struct ResultPage {
    layout: Layout,
    code: String,
    lines: Vec<ResultLine>,
    steps: Vec<String>,
    gaps: Vec<String>,
}

async fn upload(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::RecordSteps>,
    Path(typed): Path<String>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let code = parse_code(&typed)?;
    let back = |error: AppError| error.for_device(code.as_str());
    let form = read_upload_form(multipart).await.map_err(back)?;
    let result = import_upload(&state, &caller, &code, form)
        .await
        .map_err(back)?;
    let page = ResultPage {
        layout: caller.layout(),
        code: code.to_string(),
        gaps: result
            .device
            .readiness_gaps()
            .iter()
            .map(|gap| gap.label_fr())
            .collect(),
        lines: result.lines,
        steps: result.steps,
    };
    render(StatusCode::OK, &page)
}

async fn download(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewDevices>,
    Path((typed, sha256)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let code = parse_code(&typed)?;
    let device = visible_device(&state, &caller, &code, view_device).await?;
    let sha256 = parse_sha256(&sha256).map_err(|e| e.for_device(code.as_str()))?;
    let cited = state.workshop.device_evidence(&device).await?;
    if !cited.contains(&sha256) {
        return Err(evidence_not_found(&sha256).for_device(code.as_str()));
    }
    evidence_download(&state, &sha256)
        .await
        .map_err(|e| e.for_device(code.as_str()))
}

async fn certificate(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewDevices>,
    Path(typed): Path<String>,
) -> Result<Response, AppError> {
    let code = parse_code(&typed)?;
    device_certificate_pdf(&state, &caller, &code)
        .await
        .map_err(|e| e.for_device(code.as_str()))
}

async fn batch_certificates(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::PrintDocuments>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    batch_certificates_pdf(&state, &caller, &id).await
}

async fn reuse_pdf(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::PrintDocuments>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    batch_reuse_report(&state, &caller, &id, ReportFormat::Pdf).await
}

async fn reuse_csv(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::PrintDocuments>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    batch_reuse_report(&state, &caller, &id, ReportFormat::Csv).await
}
