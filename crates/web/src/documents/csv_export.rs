//! Reuse report as CSV for spreadsheets set to French: UTF-8 with a byte
//! order mark (without it Excel reads the file as Windows-1252), semicolon
//! separators, a French header row and ISO 8601 dates.

use super::error::DocumentError;
use super::reuse::ReuseReport;

/// Byte order mark by which Excel recognises a UTF-8 file.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

const HEADER: [&str; 10] = [
    "Lot de don",
    "Code appareil",
    "Catégorie",
    "Marque",
    "Modèle",
    "Numéro de série",
    "Devenir",
    "Code devenir",
    "Date du devenir",
    "Mode de remise",
];

/// Writes one row per device of `report`. The CSV lists devices only: the
/// totals and the reuse rate are on the PDF report.
pub fn reuse_report_csv(report: &ReuseReport) -> Result<Vec<u8>, DocumentError> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(UTF8_BOM.to_vec());
    writer.write_record(HEADER)?;
    let donation_id = report.donation.donation_id.to_string();
    for item in &report.items {
        let row = [
            donation_id.clone(),
            item.code.clone(),
            item.category.label_fr().to_string(),
            item.brand.clone(),
            item.model.clone(),
            item.serial.clone().unwrap_or_default(),
            item.outcome.label_fr().to_string(),
            item.outcome.as_str().to_string(),
            item.outcome_at.format("%Y-%m-%d").to_string(),
            item.handover_mode
                .as_ref()
                .map_or_else(String::new, |mode| mode.label_fr().to_string()),
        ];
        writer.write_record(row.iter().map(|cell| neutralise_formula(cell)))?;
    }
    writer
        .into_inner()
        .map_err(|error| DocumentError::Csv(error.into_error().into()))
}

/// Prefixes with an apostrophe a cell that a spreadsheet would run as a
/// formula. Brands, models and serials come from donors' files, so a cell
/// such as `=HYPERLINK(…)` must stay text.
fn neutralise_formula(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_become_text() {
        assert_eq!(neutralise_formula("=1+1"), "'=1+1");
        assert_eq!(neutralise_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise_formula("HP"), "HP");
        assert_eq!(neutralise_formula(""), "");
    }
}
