//! Label PDFs for the pages and the API: the labels of a donation batch and
//! the calibration page, with the printing options of the query string.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use filiere_projections::{queries, StockFilter, StockRow};

use crate::errors::AppError;
use crate::extract::QueryMap;
use crate::labels::{
    calibration_pdf, labels_pdf, LabelData, LabelError, PrintOptions, MAX_OFFSET_MM,
};
use crate::server::AppState;

/// Template used when the query names none: the most common A4 sheet.
pub const DEFAULT_TEMPLATE: &str = "avery-l7160";

/// Devices printed for one batch at most.
const MAX_BATCH_LABELS: i64 = 100_000;

/// Reads `template`, `start`, `offset_x` and `offset_y` from the query.
fn print_options(query: &QueryMap) -> Result<(String, PrintOptions), AppError> {
    let template = query
        .get("template")
        .unwrap_or(DEFAULT_TEMPLATE)
        .to_string();
    let options = PrintOptions {
        start_position: query.parsed("start", 1, "un numéro d'étiquette à partir de 1")?,
        offset_x_mm: query.parsed("offset_x", 0.0, "un nombre de millimètres")?,
        offset_y_mm: query.parsed("offset_y", 0.0, "un nombre de millimètres")?,
    };
    Ok((template, options))
}

/// Labels of the devices of a batch held by `holder` (every device for
/// `None`), in intake order, as a PDF.
pub async fn batch_labels(
    state: &AppState,
    donation_id: &str,
    holder: Option<String>,
    query: &QueryMap,
) -> Result<Response, AppError> {
    let (template_name, options) = print_options(query)?;
    let filter = StockFilter {
        donation_id: Some(donation_id.to_string()),
        holder,
        ..StockFilter::default()
    };
    let mut rows = queries::stock_list(state.store().pool(), &filter, MAX_BATCH_LABELS).await?;
    rows.sort_by(|a, b| a.received_at.cmp(&b.received_at).then(a.code.cmp(&b.code)));
    let labels: Vec<LabelData> = rows.into_iter().map(|row| label(state, row)).collect();
    let catalog = state.labels.clone();
    let pdf = tokio::task::spawn_blocking(move || {
        let template = catalog.get(&template_name)?;
        labels_pdf(template, &labels, &options)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(label_error)?;
    Ok(pdf_response(pdf, &format!("etiquettes-{donation_id}.pdf")))
}

/// Builds the calibration page of a template as a PDF.
pub async fn calibration(state: &AppState, query: &QueryMap) -> Result<Response, AppError> {
    let (template_name, mut options) = print_options(query)?;
    options.start_position = 1;
    let catalog = state.labels.clone();
    let name = template_name.clone();
    let pdf = tokio::task::spawn_blocking(move || {
        let template = catalog.get(&name)?;
        calibration_pdf(template, &options)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(label_error)?;
    Ok(pdf_response(pdf, &format!("calibrage-{template_name}.pdf")))
}

/// Builds the label of a device with the same fields as `filiere labels`.
fn label(state: &AppState, row: StockRow) -> LabelData {
    LabelData {
        url: format!("{}/D/{}", state.public_url, row.code),
        category: crate::pages::category_label(&row.category),
        model: format!("{} {}", row.brand, row.model).trim().to_string(),
        workshop: state.workshop_name.clone(),
        code: row.code,
    }
}

fn pdf_response(pdf: Vec<u8>, file_name: &str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file_name}\""),
            ),
        ],
        pdf,
    )
        .into_response()
}

/// French error for a label problem. Problems of the request are 400 or
/// 422; the others are internal and keep their detail in the log.
fn label_error(error: LabelError) -> AppError {
    match &error {
        LabelError::UnknownTemplate { name, known } => AppError::bad_request(
            "unknown_template",
            format!("Modèle d'étiquettes « {name} » inconnu ; modèles connus : {known}."),
        ),
        LabelError::StartPosition {
            start, per_page, ..
        } => AppError::bad_request(
            "invalid_start",
            format!(
                "Première étiquette {start} invalide : ce modèle a {per_page} étiquette(s) par \
                 page ; choisissez un numéro de 1 à {per_page}."
            ),
        ),
        LabelError::Offset { axis, value } => AppError::bad_request(
            "invalid_offset",
            format!(
                "Décalage {axis} de {value} mm invalide : choisissez une valeur de \
                 -{MAX_OFFSET_MM} à {MAX_OFFSET_MM} mm."
            ),
        ),
        LabelError::NoLabels => AppError::new(
            StatusCode::NOT_FOUND,
            "no_labels",
            "Ce lot n'a aucun appareil à étiqueter.",
        ),
        LabelError::UrlTooLong { .. } | LabelError::QrTooSmall { .. } => AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "label_does_not_fit",
            "Le QR code ne tient pas sur ce modèle d'étiquettes : choisissez des étiquettes \
             plus hautes, ou une adresse publique plus courte.",
        ),
        LabelError::ZplNeedsRoll { .. } => AppError::bad_request(
            "zpl_needs_roll",
            "Ce modèle est une planche : le format ZPL demande un rouleau.",
        ),
        LabelError::TemplateDirectory { .. }
        | LabelError::TemplateRead { .. }
        | LabelError::InvalidTemplate { .. }
        | LabelError::InvalidCode { .. }
        | LabelError::UrlMismatch { .. }
        | LabelError::PdfWrite { .. } => AppError::internal(error),
    }
}

/// Names and descriptions of the templates, for a select.
pub fn template_choices(state: &AppState) -> Vec<crate::forms::SelectOption> {
    state
        .labels
        .templates()
        .map(|template| crate::forms::SelectOption {
            value: template.name.clone(),
            label: if template.description.is_empty() {
                template.name.clone()
            } else {
                format!("{} — {}", template.name, template.description)
            },
            selected: template.name == DEFAULT_TEMPLATE,
        })
        .collect()
}
