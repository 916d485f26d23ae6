//! Reading a CSV file into a header and rows of text, independent of the
//! columns it contains: text decoding, line endings, separator detection,
//! physical line numbers and header mapping.

use std::collections::HashMap;

use filiere_domain::types::fold;

use super::ImportProblem;

/// A CSV file split into its header and its non-empty rows.
pub(super) struct Table {
    pub header: Vec<String>,
    /// Physical line of the header in the file, 1-based.
    pub header_line: usize,
    pub rows: Vec<Row>,
}

/// One non-empty record of the file.
pub(super) struct Row {
    /// Physical line where the record starts, 1-based.
    pub line: usize,
    pub fields: Vec<String>,
}

impl Row {
    /// Returns the trimmed value of column `index`, or "" when the row is
    /// shorter than the header.
    pub fn value(&self, index: usize) -> &str {
        self.fields.get(index).map(|v| v.trim()).unwrap_or("")
    }
}

/// Text of the file and the warning to show when it was not UTF-8.
pub(super) struct DecodedText {
    pub text: String,
    pub warning: Option<ImportProblem>,
}

/// Decodes the file as UTF-8, without its byte order mark if any.
///
/// Bytes that are not valid UTF-8 do not reject the file. Excel on Windows
/// saves "CSV" files as Windows-1252 and older Excel for Mac as Mac-Roman,
/// so the whole file is then decoded as Windows-1252 and a warning names the
/// line of the first invalid byte. UTF-16 files are rejected because their
/// text cannot be read byte by byte.
pub(super) fn decode(bytes: &[u8]) -> Result<DecodedText, ImportProblem> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ImportProblem {
            line: 1,
            reason: "the file is encoded as UTF-16, which is not supported; save it as \
                     CSV UTF-8 (in Excel: 'CSV UTF-8 (comma delimited)')"
                .to_string(),
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(DecodedText {
            text: text.to_string(),
            warning: None,
        }),
        Err(error) => {
            let offset = error.valid_up_to();
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            let warning = ImportProblem {
                line: line_at(bytes, offset),
                reason: format!(
                    "the file is not valid UTF-8 (byte 0x{:02X}), so it was read as \
                     Windows-1252; check the accented letters, or save the file as CSV UTF-8",
                    bytes[offset]
                ),
            };
            Ok(DecodedText {
                text: text.into_owned(),
                warning: Some(warning),
            })
        }
    }
}

/// Returns the 1-based physical line of byte `offset`, counting "\r\n",
/// "\r" and "\n" each as one line break.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    let before = &bytes[..offset];
    let mut breaks = 0;
    for (i, byte) in before.iter().enumerate() {
        let is_break = match byte {
            b'\n' => i == 0 || before[i - 1] != b'\r',
            b'\r' => true,
            _ => false,
        };
        if is_break {
            breaks += 1;
        }
    }
    breaks + 1
}

/// Rewrites "\r\n" and lone "\r" (classic Mac OS and some Excel exports) as
/// "\n". The csv crate splits records on all three but counts lines only on
/// "\n", so without this, line numbers of a CR-only file would all be 1.
pub(super) fn normalize_line_endings(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Picks ';' when the first non-blank line has more semicolons than commas
/// outside double quotes (French Excel writes ';'), and ',' otherwise.
pub(super) fn detect_separator(text: &str) -> u8 {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut in_quotes = false;
    let mut commas = 0;
    let mut semicolons = 0;
    for c in header.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => commas += 1,
            ';' if !in_quotes => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas {
        b';'
    } else {
        b','
    }
}

/// Returns whether the row has a non-empty value past the last header
/// column. Empty trailing fields, which spreadsheets often add, are allowed.
fn has_extra_values(fields: &[String], header_len: usize) -> bool {
    fields
        .iter()
        .skip(header_len)
        .any(|field| !field.trim().is_empty())
}

/// Splits `text` (with "\n" line endings) into header and rows. Lines whose
/// fields are all blank are skipped. Returns `None` when no line has content.
///
/// A row with values past the last header column is reported in `errors`
/// and left out, because its values are shifted: this usually means that a
/// value contains the separator without quotes. A shorter row reads its
/// missing fields as empty.
pub(super) fn read_table(
    text: &str,
    separator: u8,
    errors: &mut Vec<ImportProblem>,
) -> Option<Table> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator)
        .from_reader(text.as_bytes());

    let mut header: Option<(Vec<String>, usize)> = None;
    let mut rows = Vec::new();
    for result in reader.records() {
        let record = match result {
            Ok(record) => record,
            Err(error) => {
                let line = record_line(text, error.position());
                errors.push(ImportProblem {
                    line,
                    reason: format!("the line could not be read as CSV: {error}"),
                });
                continue;
            }
        };
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        let line = record_line(text, record.position());
        let fields: Vec<String> = record.iter().map(str::to_string).collect();
        match &header {
            None => header = Some((fields, line)),
            Some((names, _)) if has_extra_values(&fields, names.len()) => {
                errors.push(ImportProblem {
                    line,
                    reason: format!(
                        "the line has {} fields but the header has {}; put values that \
                         contain '{}' in double quotes",
                        fields.len(),
                        names.len(),
                        separator as char
                    ),
                });
            }
            Some(_) => rows.push(Row { line, fields }),
        }
    }

    header.map(|(header, header_line)| Table {
        header: header.iter().map(|h| h.trim().to_string()).collect(),
        header_line,
        rows,
    })
}

/// Returns the 1-based physical line where a record starts.
///
/// The csv crate reports the position where it started reading, which is
/// before the empty lines it skipped, so those lines are counted here.
fn record_line(text: &str, position: Option<&csv::Position>) -> usize {
    let Some(position) = position else {
        return 1;
    };
    let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let skipped_empty_lines = text
        .as_bytes()
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|byte| **byte == b'\n')
        .count();
    usize::try_from(position.line()).unwrap_or(usize::MAX) + skipped_empty_lines
}

/// A field of the output and the header names that give it, compared after
/// [`fold`] (case, spaces, underscores, hyphens and French accents ignored).
pub(super) struct ColumnSpec<F> {
    pub field: F,
    pub names: &'static [&'static str],
}

/// Column index of each field found in the header.
pub(super) struct ColumnMap<F> {
    indexes: Vec<(F, usize)>,
    /// Indexes of the header columns that match no field.
    pub unknown: Vec<usize>,
}

impl<F: Copy + PartialEq> ColumnMap<F> {
    pub fn index(&self, field: F) -> Option<usize> {
        self.indexes
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, index)| *index)
    }
}

/// Maps header columns to fields. When a header name appears twice, or two
/// names give the same field, the first column is read and a warning names
/// the others. Columns without a name count as unknown.
pub(super) fn map_columns<F: Copy + PartialEq>(
    table: &Table,
    specs: &[ColumnSpec<F>],
    warnings: &mut Vec<ImportProblem>,
) -> ColumnMap<F> {
    let mut map = ColumnMap {
        indexes: Vec::new(),
        unknown: Vec::new(),
    };
    let mut first_by_name: HashMap<String, usize> = HashMap::new();
    for (index, name) in table.header.iter().enumerate() {
        let folded = fold(name);
        if folded.is_empty() {
            map.unknown.push(index);
            continue;
        }
        if let Some(first) = first_by_name.get(&folded) {
            warnings.push(ImportProblem {
                line: table.header_line,
                reason: format!(
                    "column '{name}' appears more than once (columns {} and {}); only \
                     column {} was read, so remove or rename the other",
                    first + 1,
                    index + 1,
                    first + 1
                ),
            });
            continue;
        }
        first_by_name.insert(folded.clone(), index);

        let Some(spec) = specs
            .iter()
            .find(|spec| spec.names.iter().any(|n| fold(n) == folded))
        else {
            map.unknown.push(index);
            continue;
        };
        if let Some(first) = map.index(spec.field) {
            warnings.push(ImportProblem {
                line: table.header_line,
                reason: format!(
                    "columns '{}' and '{name}' both give the field '{}'; only column {} was \
                     read, so remove the other",
                    table.header[first],
                    spec.names[0],
                    first + 1
                ),
            });
            continue;
        }
        map.indexes.push((spec.field, index));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_at_counts_cr_only() {
        assert_eq!(line_at(b"a\rb\rc", 4), 3);
    }

    #[test]
    fn line_at_counts_crlf_once() {
        assert_eq!(line_at(b"a\r\nb\r\nc", 6), 3);
    }

    #[test]
    fn separator_semicolon_detected() {
        assert_eq!(detect_separator("catégorie;marque;modèle\n"), b';');
    }

    #[test]
    fn separator_ignores_quoted_semicolons() {
        assert_eq!(detect_separator("\"a;b;c\",model\n"), b',');
    }

    #[test]
    fn read_table_skips_blank_lines() {
        let mut errors = Vec::new();
        let table = read_table("a,b\n\n,\n1,2\n", b',', &mut errors).unwrap();
        assert_eq!(table.rows.len(), 1);
        assert_eq!(table.rows[0].line, 4);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn read_table_counts_empty_lines() {
        let mut errors = Vec::new();
        let table = read_table("\n\na,b\n1,2\n\n\n3,4\n", b',', &mut errors).unwrap();
        assert_eq!(table.header_line, 3);
        assert_eq!(table.rows[0].line, 4);
        assert_eq!(table.rows[1].line, 7);
    }

    #[test]
    fn read_table_quoted_newline_lines() {
        let mut errors = Vec::new();
        let table = read_table("a,b\n\"x\ny\",1\nz,2\n", b',', &mut errors).unwrap();
        assert_eq!(table.rows[0].line, 2);
        assert_eq!(table.rows[1].line, 4);
    }

    #[test]
    fn read_table_allows_empty_trailing_fields() {
        let mut errors = Vec::new();
        let table = read_table("a,b\n1,2,,\n", b',', &mut errors).unwrap();
        assert_eq!(table.rows.len(), 1);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn read_table_rejects_extra_fields() {
        let mut errors = Vec::new();
        let table = read_table("a,b\n1,2,3\n", b',', &mut errors).unwrap();
        assert!(table.rows.is_empty());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].reason.contains("3 fields"), "{}", errors[0]);
    }
}
