//! Parsing of donation batch files: the list of devices a donor gives, as a
//! CSV file in Filière's own format ([`filiere_csv`]) or as an asset export
//! from Snipe-IT ([`snipeit`]). The format is detected from the header.
//!
//! Parsing is all or nothing: [`parse_donation_file`] returns either every
//! device of the file or every problem found, each with its line number, so
//! the person importing can fix the whole file in one pass. This module does
//! not touch the database.

mod filiere_csv;
mod snipeit;
mod table;

use std::collections::HashMap;
use std::fmt;

use filiere_domain::serial::SerialNumber;
use filiere_domain::types::{fold, Category};

/// Maximum length, in characters, of a text value read from the file.
const MAX_TEXT_CHARS: usize = 200;

/// Layout of a donation batch file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    /// Filière's own CSV format, documented in [`filiere_csv`].
    Filiere,
    /// Asset export of Snipe-IT, documented in [`snipeit`].
    SnipeIt,
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceFormat::Filiere => "Filière CSV",
            SourceFormat::SnipeIt => "Snipe-IT asset export",
        })
    }
}

/// One device read from a donation batch file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedDevice {
    /// Physical line of the device in the file, 1-based (the header is line 1).
    pub line: usize,
    pub category: Category,
    /// Brand or manufacturer; empty when the file does not give one.
    pub brand: String,
    pub model: String,
    /// `None` when the file gives no serial or only a placeholder.
    pub serial: Option<SerialNumber>,
    pub asset_tag: Option<String>,
}

/// An error or warning about one line of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportProblem {
    /// Physical line in the file where the record starts, 1-based (the header
    /// is line 1). A record with a quoted line break spans several lines.
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for ImportProblem {}

/// Devices of a file that parsed without errors, with the warnings to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedFile {
    pub format: SourceFormat,
    pub devices: Vec<ImportedDevice>,
    /// Problems that did not stop the import, sorted by line.
    pub warnings: Vec<ImportProblem>,
}

/// Parses a donation batch file in Filière's format or as a Snipe-IT asset
/// export.
///
/// Returns every device when the file has no errors. Otherwise returns every
/// error found, sorted by line, so that nothing is imported from a file that
/// is partly wrong. A file with a header and no devices is an error.
pub fn parse_donation_file(bytes: &[u8]) -> Result<ParsedFile, Vec<ImportProblem>> {
    let decoded = table::decode(bytes).map_err(|problem| vec![problem])?;
    let text = table::normalize_line_endings(&decoded.text);
    let separator = table::detect_separator(&text);

    let mut errors = Vec::new();
    let Some(table) = table::read_table(&text, separator, &mut errors) else {
        errors.push(ImportProblem {
            line: 1,
            reason: format!(
                "the file is empty; expected a header line such as '{}' followed by one \
                 line per device",
                filiere_csv::EXAMPLE_HEADER
            ),
        });
        return Err(errors);
    };

    let format = detect_format(&table.header);
    let mut rows = match format {
        SourceFormat::Filiere => filiere_csv::parse(&table),
        SourceFormat::SnipeIt => snipeit::parse(&table),
    };
    rows.warnings.extend(decoded.warning);
    errors.append(&mut rows.errors);
    errors.extend(find_duplicate_serials(&rows.serials));
    if errors.is_empty() && rows.devices.is_empty() {
        errors.push(ImportProblem {
            line: table.header_line,
            reason: "the file has a header but no devices; add one line per device below \
                     the header"
                .to_string(),
        });
    }

    if !errors.is_empty() {
        errors.sort_by_key(|problem| problem.line);
        return Err(errors);
    }
    rows.warnings.sort_by_key(|problem| problem.line);
    Ok(ParsedFile {
        format,
        devices: rows.devices,
        warnings: rows.warnings,
    })
}

/// Devices, errors and warnings of the rows of one file, as a format module
/// parses them.
#[derive(Default)]
struct ParsedRows {
    devices: Vec<ImportedDevice>,
    /// Every serial that parsed, with its line, including those of rows that
    /// have other errors, so that duplicates are all reported at once.
    serials: Vec<(usize, SerialNumber)>,
    errors: Vec<ImportProblem>,
    warnings: Vec<ImportProblem>,
}

impl ParsedRows {
    fn warn(&mut self, line: usize, reason: String) {
        self.warnings.push(ImportProblem { line, reason });
    }
}

/// Chooses Snipe-IT when the header has a column that only Snipe-IT exports
/// contain (such as `Manufacturer`) and no column name that only Filière's
/// format uses (such as `brand`). Any other header is read as Filière's
/// format, whose errors then name the missing columns.
fn detect_format(header: &[String]) -> SourceFormat {
    let folded: Vec<String> = header.iter().map(|name| fold(name)).collect();
    let has_snipeit_column = folded.iter().any(|name| snipeit::is_snipeit_only(name));
    let has_filiere_column = folded
        .iter()
        .any(|name| filiere_csv::is_filiere_column(name) && !snipeit::is_snipeit_column(name));
    if has_snipeit_column && !has_filiere_column {
        SourceFormat::SnipeIt
    } else {
        SourceFormat::Filiere
    }
}

/// Returns an error for each serial whose [`SerialNumber::match_key`] was
/// already seen on an earlier line, naming both lines.
fn find_duplicate_serials(serials: &[(usize, SerialNumber)]) -> Vec<ImportProblem> {
    let mut first_line_by_key: HashMap<String, usize> = HashMap::new();
    let mut problems = Vec::new();
    for (line, serial) in serials {
        let key = serial.match_key();
        if key.is_empty() {
            continue;
        }
        match first_line_by_key.get(&key) {
            Some(first_line) => problems.push(ImportProblem {
                line: *line,
                reason: format!(
                    "serial '{serial}' is also on line {first_line}; each device has its own \
                     serial number, so correct the serial on one of lines {first_line} and \
                     {line}, or remove the duplicate line"
                ),
            }),
            None => {
                first_line_by_key.insert(key, *line);
            }
        }
    }
    problems
}

/// Returns the stable names of all categories, comma-separated.
fn accepted_categories() -> String {
    Category::ALL
        .iter()
        .map(|category| category.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rejects a value longer than [`MAX_TEXT_CHARS`], naming the column.
fn check_length(column: &str, value: &str) -> Result<(), String> {
    let length = value.chars().count();
    if length <= MAX_TEXT_CHARS {
        return Ok(());
    }
    let start: String = value.chars().take(40).collect();
    Err(format!(
        "{column} '{start}…' is {length} characters long, more than the maximum of \
         {MAX_TEXT_CHARS}; shorten it"
    ))
}

/// Rejects a value that a spreadsheet rewrote in scientific notation, such as
/// "6.37702E+15" or, from a French spreadsheet, "6,37702E+15". Its digits
/// are lost, so the value is wrong and cannot be repaired.
fn check_not_scientific(column: &str, value: &str) -> Result<(), String> {
    if !is_scientific_notation(value) {
        return Ok(());
    }
    Err(format!(
        "invalid {column} '{value}': a spreadsheet rewrote this value in scientific notation \
         and its digits are lost; copy it again from the device or from the original export \
         with the column formatted as text, or leave it empty"
    ))
}

/// Returns whether `value` has the form of Excel's rendering of a long
/// number: digits with at most one '.' or ',', then "E+" and digits.
fn is_scientific_notation(value: &str) -> bool {
    let upper = value.trim().to_ascii_uppercase();
    let Some((mantissa, exponent)) = upper.split_once("E+") else {
        return false;
    };
    let separators = mantissa.chars().filter(|c| matches!(c, '.' | ',')).count();
    let mantissa_valid = mantissa.chars().any(|c| c.is_ascii_digit())
        && mantissa
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ','))
        && separators <= 1;
    let exponent_valid = !exponent.is_empty() && exponent.chars().all(|c| c.is_ascii_digit());
    mantissa_valid && exponent_valid
}

/// Reads an optional text value that identifies the device, such as the
/// asset tag or the model. An empty value gives `None`, and a value too long
/// or in scientific notation is an error.
fn read_identifier(column: &str, value: &str) -> Result<Option<String>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    check_length(column, value)?;
    check_not_scientific(column, value)?;
    Ok(Some(value.to_string()))
}

/// Reads a serial. An empty value gives `None`. A placeholder such as
/// "To Be Filled By O.E.M." gives `None` and a warning. A value in scientific
/// notation or too long is an error.
fn read_serial(
    column: &str,
    value: &str,
    line: usize,
    rows: &mut ParsedRows,
) -> Result<Option<SerialNumber>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    check_length(column, value)?;
    // Checked before SerialNumber::parse, which only detects the form with '.'.
    check_not_scientific(column, value)?;
    match SerialNumber::parse(value) {
        Ok(Some(serial)) => {
            rows.serials.push((line, serial.clone()));
            Ok(Some(serial))
        }
        Ok(None) => {
            rows.warn(
                line,
                format!(
                    "{column} '{value}' is a placeholder, not a real serial number, so it was \
                     not kept; read the serial from the device's label if you need it"
                ),
            );
            Ok(None)
        }
        Err(error) => Err(error.to_string()),
    }
}

/// Returns the value of `result`, or pushes its error to `reasons` and
/// returns `None`, so that a row reports all its errors and not only the
/// first.
fn collect<T>(result: Result<T, String>, reasons: &mut Vec<String>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(reason) => {
            reasons.push(reason);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(problems: &[ImportProblem]) -> String {
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn problem_display_names_line() {
        let problem = ImportProblem {
            line: 7,
            reason: "model is empty".to_string(),
        };
        assert_eq!(problem.to_string(), "line 7: model is empty");
    }

    #[test]
    fn empty_file_rejected() {
        let errors = parse_donation_file(b"").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 1);
        assert!(errors[0].reason.contains("empty"), "{}", errors[0]);
    }

    #[test]
    fn blank_lines_only_rejected() {
        let errors = parse_donation_file(b"\r\n  \n\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].reason.contains("empty"), "{}", errors[0]);
    }

    #[test]
    fn header_only_rejected() {
        let errors = parse_donation_file(b"category,brand,model,serial\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 1);
        assert!(errors[0].reason.contains("no devices"), "{}", errors[0]);
    }

    #[test]
    fn bom_stripped_from_header() {
        let file = "\u{FEFF}category,model\nlaptop,Latitude E5530\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.devices.len(), 1);
        assert!(parsed.warnings.is_empty(), "{}", reasons(&parsed.warnings));
    }

    #[test]
    fn crlf_line_numbers() {
        let file = "category,model\r\nlaptop,Latitude E5530\r\n\r\ndesktop,OptiPlex 745\r\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.devices.len(), 2);
        assert_eq!(parsed.devices[0].line, 2);
        assert_eq!(parsed.devices[1].line, 4);
        assert_eq!(parsed.devices[1].model, "OptiPlex 745");
    }

    #[test]
    fn cr_only_line_numbers() {
        let file = "category,model\rlaptop,Latitude E5530\rdesktop,OptiPlex 745";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.devices.len(), 2);
        assert_eq!(parsed.devices[1].line, 3);
    }

    #[test]
    fn windows_1252_decoded_with_warning() {
        let file = b"cat\xE9gorie;mod\xE8le\nportable;Latitude E5530\n";
        let parsed = parse_donation_file(file).unwrap();
        assert_eq!(parsed.devices.len(), 1);
        assert_eq!(parsed.devices[0].category, Category::Laptop);
        assert_eq!(parsed.warnings.len(), 1);
        assert_eq!(parsed.warnings[0].line, 1);
        assert!(
            parsed.warnings[0].reason.contains("Windows-1252"),
            "{}",
            parsed.warnings[0]
        );
    }

    #[test]
    fn utf16_rejected() {
        let errors = parse_donation_file(b"\xFF\xFEc\x00a\x00").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].reason.contains("UTF-16"), "{}", errors[0]);
    }

    #[test]
    fn duplicate_serials_name_both_lines() {
        let file = "category,model,serial\n\
                    laptop,Latitude E5530,CZC0408YPV\n\
                    laptop,Latitude E6440,FJBQVZ1\n\
                    desktop,OptiPlex 745,czc-0408 ypv\n";
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 1, "{}", reasons(&errors));
        assert_eq!(errors[0].line, 4);
        assert!(errors[0].reason.contains("line 2"), "{}", errors[0]);
        assert!(errors[0].reason.contains("czc-0408 ypv"), "{}", errors[0]);
    }

    #[test]
    fn duplicate_serial_on_invalid_row() {
        let file = "category,model,serial\n\
                    laptop,Latitude E5530,CZC0408YPV\n\
                    toaster,Latitude E6440,CZC0408YPV\n";
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 2, "{}", reasons(&errors));
        assert!(errors[0].reason.contains("toaster"), "{}", errors[0]);
        assert!(errors[1].reason.contains("line 2"), "{}", errors[1]);
    }

    #[test]
    fn errors_sorted_by_line() {
        let file = "category,model,serial\n\
                    laptop,,6.37702E+15\n\
                    toaster,Latitude E6440,\n";
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 2, 3], "{}", reasons(&errors));
    }

    #[test]
    fn scientific_notation_forms() {
        for value in ["6.37702E+15", "6,37702E+15", "5.02E+18", "4e+12"] {
            assert!(is_scientific_notation(value), "{value}");
        }
        for value in ["E+15", "ABC1E+15", "6.3.7E+15", "6.37702E+", "6.37702E-05"] {
            assert!(!is_scientific_notation(value), "{value}");
        }
    }

    #[test]
    fn format_detected_from_header() {
        let filiere = ["category", "brand", "model", "serial"].map(String::from);
        let snipeit = ["Asset Tag", "Manufacturer", "Model", "Serial"].map(String::from);
        let mixed = ["Manufacturer", "marque", "model"].map(String::from);
        assert_eq!(detect_format(&filiere), SourceFormat::Filiere);
        assert_eq!(detect_format(&snipeit), SourceFormat::SnipeIt);
        assert_eq!(detect_format(&mixed), SourceFormat::Filiere);
    }
}
