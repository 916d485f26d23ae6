//! Asset exports and import templates of Snipe-IT, the asset-management tool
//! that associations migrate from.
//!
//! A file is read as Snipe-IT when its header has a column that only
//! Snipe-IT files contain, such as `Manufacturer`, `Model name`,
//! `Model Number`, `Item Name` or `Company`. Columns are mapped as follows,
//! and all other columns are listed in one warning and not imported:
//!
//! | Filière     | Snipe-IT column, first non-empty wins                    |
//! |-------------|----------------------------------------------------------|
//! | `category`  | `Category`                                               |
//! | `brand`     | `Manufacturer`                                           |
//! | `model`     | `Model name`, `Model`, `Model Number`, `Item Name`, `Name` |
//! | `serial`    | `Serial`                                                 |
//! | `asset_tag` | `Asset Tag`                                              |
//!
//! Snipe-IT categories are free text, so a category that matches no Filière
//! category gives `other` and a warning instead of an error.
//!
//! A value in scientific notation, such as `6.37702E+15`, is an error in the
//! serial, asset tag and model columns above. This applies even to a model
//! column that a non-empty earlier column makes unused. Such a value shows
//! that a spreadsheet rewrote the long numbers of the file and lost their
//! digits, so the file must be exported again.
//!
//! The other rules (encoding, line endings, placeholders, duplicate serials,
//! 200 characters at most) are those of Filière's format.

use std::str::FromStr;

use filiere_domain::types::{fold, Category};

use super::table::{map_columns, ColumnMap, ColumnSpec, Row, Table};
use super::{
    accepted_categories, check_length, collect, read_identifier, read_serial, ImportProblem,
    ImportedDevice, ParsedRows,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    AssetTag,
    Category,
    Manufacturer,
    ModelName,
    Model,
    ModelNumber,
    ItemName,
    Name,
    Serial,
}

/// Header names of each field. `Model No.` is how Snipe-IT's English
/// interface labels the model number.
const COLUMNS: &[ColumnSpec<Field>] = &[
    ColumnSpec {
        field: Field::AssetTag,
        names: &["Asset Tag"],
    },
    ColumnSpec {
        field: Field::Category,
        names: &["Category"],
    },
    ColumnSpec {
        field: Field::Manufacturer,
        names: &["Manufacturer"],
    },
    ColumnSpec {
        field: Field::ModelName,
        names: &["Model name"],
    },
    ColumnSpec {
        field: Field::Model,
        names: &["Model"],
    },
    ColumnSpec {
        field: Field::ModelNumber,
        names: &["Model Number", "Model No."],
    },
    ColumnSpec {
        field: Field::ItemName,
        names: &["Item Name"],
    },
    ColumnSpec {
        field: Field::Name,
        names: &["Name", "Asset Name"],
    },
    ColumnSpec {
        field: Field::Serial,
        names: &["Serial", "Serial Number"],
    },
];

/// Columns that give the model, in order of preference.
const MODEL_SOURCES: &[Field] = &[
    Field::ModelName,
    Field::Model,
    Field::ModelNumber,
    Field::ItemName,
    Field::Name,
];

/// Header names that only Snipe-IT files use. `Name` is left out because a
/// Filière file could have such an extra column.
const SNIPEIT_ONLY: &[&str] = &[
    "Manufacturer",
    "Model name",
    "Model Number",
    "Model No.",
    "Item Name",
    "Asset Name",
    "Company",
];

/// Returns whether `folded`, a header name after [`fold`], is one that only
/// Snipe-IT files use.
pub(super) fn is_snipeit_only(folded: &str) -> bool {
    SNIPEIT_ONLY.iter().any(|name| fold(name) == folded)
}

/// Returns whether `folded`, a header name after [`fold`], is a column that
/// Snipe-IT files use, including those that Filière's format shares.
pub(super) fn is_snipeit_column(folded: &str) -> bool {
    is_snipeit_only(folded)
        || fold("Notes") == folded
        || COLUMNS
            .iter()
            .flat_map(|spec| spec.names)
            .any(|name| fold(name) == folded)
}

/// Parses the rows of a Snipe-IT file.
pub(super) fn parse(table: &Table) -> ParsedRows {
    let mut rows = ParsedRows::default();
    let columns = map_columns(table, COLUMNS, &mut rows.warnings);

    let ignored: Vec<&str> = columns
        .unknown
        .iter()
        .map(|&index| table.header[index].as_str())
        .filter(|name| !name.is_empty())
        .collect();
    if !ignored.is_empty() {
        rows.warn(
            table.header_line,
            format!("these columns are not imported: {}", ignored.join(", ")),
        );
    }

    if MODEL_SOURCES
        .iter()
        .all(|&field| columns.index(field).is_none())
    {
        rows.errors.push(ImportProblem {
            line: table.header_line,
            reason: "missing model column: a Snipe-IT file needs one of 'Model name', \
                     'Model', 'Model Number', 'Item Name' or 'Name'; add it to the export"
                .to_string(),
        });
        return rows;
    }
    if columns.index(Field::Category).is_none() {
        rows.warn(
            table.header_line,
            "no 'Category' column, so every device was imported as 'other'; add the \
             Category column to the export to keep the categories"
                .to_string(),
        );
    }

    for row in &table.rows {
        parse_row(table, row, &columns, &mut rows);
    }
    rows
}

fn parse_row(table: &Table, row: &Row, columns: &ColumnMap<Field>, rows: &mut ParsedRows) {
    let value = |field: Field| columns.index(field).map(|i| row.value(i)).unwrap_or("");
    let column_name = |field: Field| {
        columns
            .index(field)
            .map(|i| table.header[i].as_str())
            .unwrap_or("")
    };
    let mut reasons = Vec::new();

    let category = match columns.index(Field::Category) {
        Some(_) => read_category(value(Field::Category), row.line, rows),
        None => Category::Other,
    };
    let brand = value(Field::Manufacturer);
    collect(check_length("Manufacturer", brand), &mut reasons);
    let model = read_model(row, columns, table, &mut reasons);
    let serial = collect(
        read_serial(
            column_name(Field::Serial),
            value(Field::Serial),
            row.line,
            rows,
        ),
        &mut reasons,
    );
    let asset_tag = collect(
        read_identifier(column_name(Field::AssetTag), value(Field::AssetTag)),
        &mut reasons,
    );

    if let (true, Some(model), Some(serial), Some(asset_tag)) =
        (reasons.is_empty(), model, serial, asset_tag)
    {
        rows.devices.push(ImportedDevice {
            line: row.line,
            category,
            brand: brand.to_string(),
            model,
            serial,
            asset_tag,
        });
        return;
    }
    for reason in reasons {
        rows.errors.push(ImportProblem {
            line: row.line,
            reason,
        });
    }
}

/// Maps a free-text Snipe-IT category with [`Category::from_str`], falling
/// back to [`Category::Other`] with a warning.
fn read_category(value: &str, line: usize, rows: &mut ParsedRows) -> Category {
    if value.is_empty() {
        rows.warn(
            line,
            "category is empty, so the device was imported as 'other'".to_string(),
        );
        return Category::Other;
    }
    match Category::from_str(value) {
        Ok(category) => category,
        Err(_) => {
            rows.warn(
                line,
                format!(
                    "category '{value}' matches no Filière category, so the device was \
                     imported as 'other'; to keep it, rename the category to one of {}",
                    accepted_categories()
                ),
            );
            Category::Other
        }
    }
}

/// Returns the first non-empty model column, after checking every model
/// column of the row. Returns `None` and pushes to `reasons` when a model
/// column is invalid or all of them are empty.
fn read_model(
    row: &Row,
    columns: &ColumnMap<Field>,
    table: &Table,
    reasons: &mut Vec<String>,
) -> Option<String> {
    let mut model = None;
    let mut invalid = false;
    let mut names = Vec::new();
    for &field in MODEL_SOURCES {
        let Some(index) = columns.index(field) else {
            continue;
        };
        let name = table.header[index].as_str();
        names.push(format!("'{name}'"));
        match read_identifier(name, row.value(index)) {
            Ok(Some(text)) => {
                model.get_or_insert(text);
            }
            Ok(None) => {}
            Err(reason) => {
                invalid = true;
                reasons.push(reason);
            }
        }
    }
    if invalid {
        return None;
    }
    if model.is_none() {
        let (verb, action) = if names.len() == 1 {
            ("is", "fill it in")
        } else {
            ("are all", "fill in one of them")
        };
        reasons.push(format!(
            "the model is missing because {} {verb} empty; {action}",
            join_with_and(&names)
        ));
    }
    model
}

/// Joins items as "a, b and c".
fn join_with_and(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use filiere_domain::types::Category;

    use super::super::table::{decode, normalize_line_endings, read_table};
    use super::*;
    use crate::import::{parse_donation_file, SourceFormat};

    const GOOD: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/snipeit/assets-sample.csv"
    ));
    const BAD: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/snipeit/assets-sample-BAD.csv"
    ));

    fn reasons(problems: &[ImportProblem]) -> String {
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Runs the steps of `parse_donation_file` up to this module's rows, so
    /// that a test can see the warnings of a file that fails.
    fn parse_rows(bytes: &[u8]) -> (ParsedRows, Option<ImportProblem>) {
        let decoded = decode(bytes).unwrap();
        let text = normalize_line_endings(&decoded.text);
        let mut errors = Vec::new();
        let table = read_table(&text, b',', &mut errors).unwrap();
        assert!(errors.is_empty(), "{}", reasons(&errors));
        (parse(&table), decoded.warning)
    }

    #[test]
    fn good_sample_imports_all_rows() {
        let parsed = parse_donation_file(GOOD).unwrap();
        assert_eq!(parsed.format, SourceFormat::SnipeIt);
        assert_eq!(parsed.devices.len(), 22);
        assert_eq!(parsed.devices[0].line, 2);
        assert_eq!(parsed.devices[21].line, 23);
    }

    #[test]
    fn good_sample_first_device() {
        let parsed = parse_donation_file(GOOD).unwrap();
        let first = &parsed.devices[0];
        assert_eq!(first.model, "Macbook Pro 13\"");
        assert_eq!(first.brand, "Berge Inc");
        assert_eq!(first.asset_tag.as_deref(), Some("ICC-2065556"));
        assert_eq!(first.serial, None);
        assert_eq!(first.category, Category::Other);
    }

    #[test]
    fn good_sample_last_row_without_newline() {
        let parsed = parse_donation_file(GOOD).unwrap();
        let last = &parsed.devices[21];
        assert_eq!(last.model, "Robby");
        assert_eq!(last.asset_tag.as_deref(), Some("SUQ-5159067"));
    }

    #[test]
    fn good_sample_category_warnings() {
        let parsed = parse_donation_file(GOOD).unwrap();
        let fallbacks: Vec<&ImportProblem> = parsed
            .warnings
            .iter()
            .filter(|w| w.reason.contains("imported as 'other'"))
            .collect();
        assert_eq!(fallbacks.len(), 22, "{}", reasons(&parsed.warnings));
        assert_eq!(fallbacks[0].line, 2);
        assert!(
            fallbacks[0].reason.contains("'Ornamental Railings'"),
            "{}",
            fallbacks[0]
        );
    }

    #[test]
    fn good_sample_ignored_columns_warned() {
        let parsed = parse_donation_file(GOOD).unwrap();
        let first = &parsed.warnings[0];
        assert_eq!(first.line, 1);
        assert!(first.reason.contains("not imported"), "{first}");
        assert!(first.reason.contains("Checked Out To: Email"), "{first}");
    }

    #[test]
    fn bad_sample_rejected() {
        let errors = parse_donation_file(BAD).unwrap_err();
        assert_eq!(errors.len(), 200, "{}", reasons(&errors));
    }

    #[test]
    fn bad_sample_first_mangled_line() {
        let errors = parse_donation_file(BAD).unwrap_err();
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].reason.contains("'6.37702E+15'"), "{}", errors[0]);
        assert!(errors[0].reason.contains("Model Number"), "{}", errors[0]);
        assert!(
            errors[0].reason.contains("scientific notation"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn bad_sample_every_line_named() {
        let errors = parse_donation_file(BAD).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        let expected: Vec<usize> = (2..=201).collect();
        assert_eq!(lines, expected);
        assert_eq!(errors[199].to_string().split(':').next(), Some("line 201"));
        assert!(
            errors[199].reason.contains("'5.10014E+15'"),
            "{}",
            errors[199]
        );
    }

    #[test]
    fn bad_sample_read_as_windows_1252() {
        let (_, warning) = parse_rows(BAD);
        let warning = warning.unwrap();
        assert_eq!(warning.line, 12);
        assert!(warning.reason.contains("0x89"), "{warning}");
    }

    #[test]
    fn bad_sample_duplicate_headers_warned() {
        let (rows, _) = parse_rows(BAD);
        let duplicates: Vec<&ImportProblem> = rows
            .warnings
            .iter()
            .filter(|w| w.reason.contains("more than once"))
            .collect();
        assert_eq!(duplicates.len(), 2, "{}", reasons(&rows.warnings));
        assert!(
            duplicates[0]
                .reason
                .contains("'Category' appears more than once (columns 6 and 13)"),
            "{}",
            duplicates[0]
        );
        assert!(
            duplicates[1]
                .reason
                .contains("'Company' appears more than once (columns 4 and 17)"),
            "{}",
            duplicates[1]
        );
    }

    #[test]
    fn bad_sample_uuid_serials_kept() {
        let (rows, _) = parse_rows(BAD);
        let (line, serial) = &rows.serials[0];
        assert_eq!(*line, 2);
        assert_eq!(serial.as_str(), "27aa8378-b0f4-4289-84a4-405da95c6147");
        assert_eq!(rows.serials.len(), 183);
    }

    #[test]
    fn categories_mapped_or_other() {
        let file = "Asset Tag,Manufacturer,Model,Serial,Category\n\
                    A1,Dell,Latitude E5530,FJBQVZ1,Laptops\n\
                    A2,Apple,iPhone 8,F2LVX0ABJC67,Mobile Phones\n\
                    A3,HP,Z24,CN12345678,\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.format, SourceFormat::SnipeIt);
        assert_eq!(parsed.devices[0].category, Category::Laptop);
        assert_eq!(parsed.devices[1].category, Category::Smartphone);
        assert_eq!(parsed.devices[2].category, Category::Other);
        assert_eq!(parsed.warnings.len(), 1, "{}", reasons(&parsed.warnings));
        assert_eq!(parsed.warnings[0].line, 4);
    }

    #[test]
    fn model_name_preferred() {
        let file = "Model name,Model,Item Name,Manufacturer\n\
                    Latitude E5530,Latitude,Laptop 12,Dell\n\
                    ,Latitude E6440,Laptop 13,Dell\n\
                    ,,Laptop 14,Dell\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.devices[0].model, "Latitude E5530");
        assert_eq!(parsed.devices[1].model, "Latitude E6440");
        assert_eq!(parsed.devices[2].model, "Laptop 14");
    }

    #[test]
    fn model_number_before_name() {
        let file = "Name,Model Number,Manufacturer\nLaptop 12,MD101LL/A,Apple\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.devices[0].model, "MD101LL/A");
    }

    #[test]
    fn empty_model_rejected() {
        let file = "Model,Model Number,Manufacturer\n,,Dell\n";
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 1, "{}", reasons(&errors));
        assert!(errors[0].reason.contains("'Model'"), "{}", errors[0]);
        assert!(errors[0].reason.contains("'Model Number'"), "{}", errors[0]);
    }

    #[test]
    fn missing_model_column_rejected() {
        let file = "Asset Tag,Manufacturer,Serial\nA1,Dell,FJBQVZ1\n";
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 1, "{}", reasons(&errors));
        assert_eq!(errors[0].line, 1);
        assert!(errors[0].reason.contains("'Model name'"), "{}", errors[0]);
    }

    #[test]
    fn mangled_serial_column_rejected() {
        let file = "Asset Tag,Manufacturer,Model,Serial\n\
                    A1,Dell,Latitude E5530,FJBQVZ1\n\
                    A2,Dell,Latitude E5530,6.37702E+15\n";
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 1, "{}", reasons(&errors));
        assert_eq!(errors[0].line, 3);
        assert!(
            errors[0].reason.contains("Serial '6.37702E+15'"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn missing_category_column_warned() {
        let file = "Manufacturer,Model\nDell,Latitude E5530\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.devices[0].category, Category::Other);
        assert_eq!(parsed.warnings.len(), 1, "{}", reasons(&parsed.warnings));
        assert!(
            parsed.warnings[0].reason.contains("no 'Category' column"),
            "{}",
            parsed.warnings[0]
        );
    }
}
