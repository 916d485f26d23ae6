//! Device labels: QR code, device code and details, printed on sheets of
//! adhesive labels (PDF) or on label printer rolls (PDF or ZPL).
//!
//! Label stocks are described by templates, TOML files in millimetres loaded
//! by [`TemplateCatalog`]. [`labels_pdf`] lays out one [`LabelData`] per
//! label, [`calibration_pdf`] prints a page to check a printer's scale and
//! alignment, and [`labels_zpl`] drives Zebra printers directly.
//!
//! Errors: [`LabelError`] is the only error type of this module.

mod calibration;
mod catalog;
mod content;
mod draw;
mod error;
mod layout;
mod parse;
mod pdf;
mod qr;
mod template;
mod text;
mod zpl;

pub use calibration::{calibration_pdf, REFERENCE_SQUARE_MM};
pub use catalog::{TemplateCatalog, DEFAULT_TEMPLATE_DIR};
pub use content::LabelData;
pub use error::{LabelError, MAX_OFFSET_MM, MIN_MODULE_MM};
pub use parse::parse_template;
pub use pdf::{labels_pdf, PrintOptions};
pub use qr::{qr_payload, QUIET_ZONE_MODULES};
pub use template::{
    LabelSize, MmRect, RollLayout, SheetLayout, Stock, Template, ROLL_INSET_MM, SHEET_INSET_MM,
};
pub use zpl::labels_zpl;
