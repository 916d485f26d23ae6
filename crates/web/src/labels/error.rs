//! The single error type of the label module.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// Smallest QR module, in millimetres, that phone cameras and handheld
/// scanners still read reliably from a printed label.
pub const MIN_MODULE_MM: f32 = 0.33;

/// Largest printer offset accepted, in millimetres. Sheet printers misplace
/// the page by a few millimetres at most, so a larger value is a typing error.
pub const MAX_OFFSET_MM: f32 = 20.0;

/// Errors raised while loading label templates or building labels.
#[derive(Debug, Error)]
pub enum LabelError {
    #[error("label template {name:?} not found: known templates are {known}")]
    UnknownTemplate { name: String, known: String },

    #[error(
        "cannot read the label template directory {}: {source}; \
         create it or pass an existing directory",
        dir.display()
    )]
    TemplateDirectory { dir: PathBuf, source: io::Error },

    #[error("cannot read label template {}: {source}", file.display())]
    TemplateRead { file: PathBuf, source: io::Error },

    #[error("invalid label template {file}: field `{field}`: {reason}")]
    InvalidTemplate {
        file: String,
        field: String,
        reason: String,
    },

    #[error("no labels to print: select at least one device")]
    NoLabels,

    #[error(
        "start position {start} is invalid for template {template}, which has \
         {per_page} label(s) per page: choose a position from 1 to {per_page}"
    )]
    StartPosition {
        start: usize,
        template: String,
        per_page: usize,
    },

    #[error(
        "printer offset {axis} = {value} mm is invalid: use a value from \
         -{MAX_OFFSET_MM} to {MAX_OFFSET_MM} mm"
    )]
    Offset { axis: &'static str, value: f32 },

    /// `reason` is the domain's message, which names the code.
    #[error("label {index}: {reason}")]
    InvalidCode {
        index: usize,
        code: String,
        reason: String,
    },

    #[error(
        "label {index}: URL {url:?} does not end with /{code}: \
         pass the device page URL of that code"
    )]
    UrlMismatch {
        index: usize,
        url: String,
        code: String,
    },

    #[error("URL {url:?} is too long for a QR code: use a shorter host name")]
    UrlTooLong { url: String },

    #[error(
        "QR code of {url:?} does not fit template {template}: its modules would be \
         {module_mm:.2} mm, below the {MIN_MODULE_MM} mm minimum; \
         choose a taller label or a shorter URL"
    )]
    QrTooSmall {
        template: String,
        url: String,
        module_mm: f32,
    },

    #[error(
        "template {template} is a sheet: ZPL output needs a roll template \
         with a dpi value, such as zebra-2x1"
    )]
    ZplNeedsRoll { template: String },

    #[error("failed to write the PDF: {reason}")]
    PdfWrite { reason: String },
}
