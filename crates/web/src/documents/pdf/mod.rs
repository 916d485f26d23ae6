//! PDF rendering of the documents: A4 portrait, in French, with the
//! built-in Helvetica fonts, so text must be Windows-1252. Every page has a
//! header naming the log position the document was computed from and a
//! numbered footer. A signature space ends each document owed to a donor
//! or a household; the funders' quarterly report has none.

mod certificate;
mod fonts;
mod handover;
mod page;
mod quarterly;
mod reuse;
mod table;

use chrono::NaiveDate;
use printpdf::{Mm, Op, PdfDocument, PdfPage, PdfSaveOptions};

use super::french::date_fr;
use super::source::LogSnapshot;
use fonts::{line_height_mm, Face};
use page::{HeaderLine, Layout, CONTENT_WIDTH, MARGIN, PAGE_HEIGHT, PAGE_WIDTH};

pub use certificate::certificate_pdf;
pub use handover::handover_sheet_pdf;
pub use quarterly::quarterly_report_pdf;
pub use reuse::reuse_report_pdf;

/// Issuer and issue date of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueInfo {
    /// Name of the workshop, printed in the header and by the signature.
    pub workshop_name: String,
    pub issued_on: NaiveDate,
}

/// Header lines shared by every document: title, issuer and log position,
/// then the document's own `extra` lines.
fn header_lines(
    title: &str,
    issue: &IssueInfo,
    log: &LogSnapshot,
    extra: &[&str],
) -> Vec<HeaderLine> {
    let mut lines = vec![
        HeaderLine {
            text: title.to_string(),
            face: Face::Bold,
            size: 15.0,
        },
        HeaderLine {
            text: format!(
                "{} — émis le {}",
                issue.workshop_name,
                date_fr(issue.issued_on)
            ),
            face: Face::Regular,
            size: 9.5,
        },
        HeaderLine {
            text: format!(
                "Établi à partir du journal d'événements arrêté à la position {}",
                log.position
            ),
            face: Face::Regular,
            size: 7.5,
        },
        HeaderLine {
            text: format!(
                "Empreinte SHA-256 du journal à cette position : {}",
                log.hash
            ),
            face: Face::Regular,
            size: 7.5,
        },
    ];
    lines.extend(extra.iter().map(|text| HeaderLine {
        text: text.to_string(),
        face: Face::Regular,
        size: 8.0,
    }));
    lines
}

/// Writes `pairs` as labelled values, two pairs per line.
fn key_values(layout: &mut Layout, pairs: &[(&str, String)]) {
    const SIZE: f32 = 8.5;
    const LABEL_WIDTH: f32 = 27.0;
    let half = CONTENT_WIDTH / 2.0;
    let height = line_height_mm(SIZE);
    for row in pairs.chunks(2) {
        let value_lines: Vec<Vec<String>> = row
            .iter()
            .map(|(_, value)| fonts::wrap(value, Face::Regular, SIZE, half - LABEL_WIDTH - 2.0))
            .collect();
        let lines = value_lines.iter().map(Vec::len).max().unwrap_or(1);
        layout.ensure(lines as f32 * height);
        let top = layout.y();
        for (column, ((label, _), values)) in row.iter().zip(&value_lines).enumerate() {
            let x = MARGIN + column as f32 * half;
            let baseline = top + SIZE * fonts::MM_PER_PT;
            layout.text_at(label, Face::Bold, SIZE, x, baseline);
            for (index, value) in values.iter().enumerate() {
                let line_baseline = baseline + index as f32 * height;
                layout.text_at(value, Face::Regular, SIZE, x + LABEL_WIDTH, line_baseline);
            }
        }
        layout.gap(lines as f32 * height);
    }
}

/// Writes the signature space: who signs, where and when, and a frame for
/// the signature and stamp.
fn signature_block(layout: &mut Layout, issue: &IssueInfo) {
    const FRAME_WIDTH: f32 = 85.0;
    const FRAME_HEIGHT: f32 = 28.0;
    layout.gap(6.0);
    // The sentence takes two lines at most, 9 mm with the gap below it.
    layout.ensure(FRAME_HEIGHT + 9.0);
    let text = format!(
        "Pour {}, le {} — nom et qualité du signataire, signature et cachet :",
        issue.workshop_name,
        date_fr(issue.issued_on)
    );
    layout.paragraph(&text, Face::Regular, 9.0, 0.0);
    layout.gap(2.0);
    let top = layout.y();
    layout.frame(
        MARGIN + CONTENT_WIDTH - FRAME_WIDTH,
        top,
        FRAME_WIDTH,
        FRAME_HEIGHT,
    );
    layout.gap(FRAME_HEIGHT);
}

/// Serialises the pages as one compressed PDF titled `title`.
fn write_pdf(title: &str, pages: Vec<Vec<Op>>) -> Vec<u8> {
    let mut document = PdfDocument::new(title);
    document.pages = pages
        .into_iter()
        .map(|ops| PdfPage::new(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), ops))
        .collect();
    let mut warnings = Vec::new();
    let bytes = document.save(&PdfSaveOptions::default(), &mut warnings);
    for warning in &warnings {
        tracing::warn!(page = warning.page, message = %warning.msg, "printpdf warning while writing a document");
    }
    bytes
}
