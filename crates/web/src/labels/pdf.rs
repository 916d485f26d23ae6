//! PDF output: label pages and document finishing.

use std::num::NonZeroUsize;
use std::thread;

use lopdf::{dictionary, Object};
use printpdf::{Mm, Op, PdfDocument, PdfPage, PdfSaveOptions};

use super::content::{prepare_labels, LabelData};
use super::draw::Canvas;
use super::error::{LabelError, MAX_OFFSET_MM};
use super::layout::draw_label;
use super::template::Template;

/// Printing choices that do not depend on the labels themselves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrintOptions {
    /// 1-based position on the first sheet of the first label to print,
    /// counted row by row from the top left, so that a partly used sheet can
    /// be fed again. Must be 1 for rolls.
    pub start_position: usize,
    /// Shift of everything printed, in millimetres, to the right. Corrects a
    /// printer that places the page off centre. May be negative.
    pub offset_x_mm: f32,
    /// Shift of everything printed, in millimetres, downwards. May be
    /// negative.
    pub offset_y_mm: f32,
}

impl Default for PrintOptions {
    fn default() -> Self {
        Self {
            start_position: 1,
            offset_x_mm: 0.0,
            offset_y_mm: 0.0,
        }
    }
}

impl PrintOptions {
    /// Checks the options against `template`.
    pub fn validate(&self, template: &Template) -> Result<(), LabelError> {
        let per_page = template.labels_per_page();
        if !(1..=per_page).contains(&self.start_position) {
            return Err(LabelError::StartPosition {
                start: self.start_position,
                template: template.name.clone(),
                per_page,
            });
        }
        self.validate_offsets()
    }

    /// Checks that both offsets are finite and at most [`MAX_OFFSET_MM`].
    pub fn validate_offsets(&self) -> Result<(), LabelError> {
        for (axis, value) in [("x", self.offset_x_mm), ("y", self.offset_y_mm)] {
            if !value.is_finite() || value.abs() > MAX_OFFSET_MM {
                return Err(LabelError::Offset { axis, value });
            }
        }
        Ok(())
    }
}

/// Builds a PDF of `labels` on `template`: every label of a sheet on one
/// page, as many pages as needed, or one page per label on a roll. Each page
/// has exactly the size of the stock.
///
/// Rejects an empty list, a start position outside the page, an offset
/// beyond [`MAX_OFFSET_MM`], an invalid code, a URL that does not end with
/// its code, and a QR symbol whose modules would be smaller than
/// [`MIN_MODULE_MM`](super::MIN_MODULE_MM) on this template.
pub fn labels_pdf(
    template: &Template,
    labels: &[LabelData],
    options: &PrintOptions,
) -> Result<Vec<u8>, LabelError> {
    options.validate(template)?;
    let prepared = prepare_labels(labels)?;
    let per_page = template.labels_per_page();
    let first_slot = options.start_position - 1;
    let page_count = (first_slot + prepared.len()).div_ceil(per_page);

    let mut pages = Vec::with_capacity(page_count);
    for page_index in 0..page_count {
        let mut canvas = Canvas::new(template.page_size().1);
        canvas.set_fill_grey(0.0);
        for cell in 0..per_page {
            let slot = page_index * per_page + cell;
            let Some(label) = slot.checked_sub(first_slot).and_then(|i| prepared.get(i)) else {
                continue;
            };
            let area = template
                .content_area(cell)
                .translate(options.offset_x_mm, options.offset_y_mm);
            draw_label(&mut canvas, template, area, label)?;
        }
        pages.push(canvas.into_ops());
    }
    let title = format!("Étiquettes {}", template.name);
    write_pdf(template, &title, pages)
}

/// Serialises one page per entry of `pages`, each the size of `template`'s
/// page, with compressed streams and print scaling turned off.
pub(crate) fn write_pdf(
    template: &Template,
    title: &str,
    pages: Vec<Vec<Op>>,
) -> Result<Vec<u8>, LabelError> {
    let (width, height) = template.page_size();
    let mut document = PdfDocument::new(title);
    document.pages = pages
        .into_iter()
        .map(|ops| PdfPage::new(Mm(width), Mm(height), ops))
        .collect();

    let options = PdfSaveOptions {
        optimize: true,
        // Keeps the `re` and `f` operators of QR symbols, which are built as
        // `Op::Unknown` (see `Canvas::fill_modules`). Every operator of these
        // pages comes from this module, none from user input.
        secure: false,
        ..PdfSaveOptions::default()
    };
    let mut warnings = Vec::new();
    // In printpdf 0.12, `PdfDocument::save` with `optimize` set is
    // `to_lopdf_document` plus `compress`. Taking the lopdf document first lets the catalogue change
    // without parsing the saved bytes again.
    let mut pdf = document.to_lopdf_document(&options, &mut warnings);
    for warning in &warnings {
        tracing::warn!(page = warning.page, message = %warning.msg, "printpdf warning while writing labels");
    }
    disable_print_scaling(&mut pdf)?;
    compress_streams(&mut pdf);

    let mut bytes = Vec::new();
    pdf.save_to(&mut bytes)
        .map_err(|error| LabelError::PdfWrite {
            reason: error.to_string(),
        })?;
    Ok(bytes)
}

/// Adds `/ViewerPreferences << /PrintScaling /None >>` to the catalogue, so
/// that PDF viewers preselect actual size in the print dialog instead of
/// "fit to page", which would shrink labels off their die-cut outlines.
/// printpdf 0.12 has no API for viewer preferences.
fn disable_print_scaling(pdf: &mut lopdf::Document) -> Result<(), LabelError> {
    let catalog = pdf.catalog_mut().map_err(|error| LabelError::PdfWrite {
        reason: format!("document catalogue not found: {error}"),
    })?;
    catalog.set(
        "ViewerPreferences",
        Object::Dictionary(dictionary! { "PrintScaling" => Object::Name(b"None".to_vec()) }),
    );
    Ok(())
}

/// Compresses every stream that allows it, as `lopdf::Document::compress`
/// does, with the streams spread over the available cores: lopdf deflates at
/// level 9, which is a large share of the build time of a big batch.
fn compress_streams(pdf: &mut lopdf::Document) {
    let mut streams: Vec<&mut lopdf::Stream> = pdf
        .objects
        .values_mut()
        .filter_map(|object| match object {
            Object::Stream(stream) if stream.allows_compression => Some(stream),
            _ => None,
        })
        .collect();
    let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let chunk_len = streams.len().div_ceil(threads).max(1);
    thread::scope(|scope| {
        for part in streams.chunks_mut(chunk_len) {
            scope.spawn(move || {
                for stream in part {
                    // As in `Document::compress`, a stream that fails to
                    // compress is kept uncompressed, which is still valid.
                    let _ = stream.compress();
                }
            });
        }
    });
}
