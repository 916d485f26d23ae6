//! Filière's CSV format for donation batches: one line per donated device.
//!
//! # File
//!
//! - Encoding: UTF-8, with or without a byte order mark. A file that is not
//!   valid UTF-8 is read as Windows-1252 (what Excel on Windows writes for
//!   "CSV"), with a warning to check the accented letters.
//! - Separator: comma or semicolon, detected from the header line, so files
//!   saved by a French Excel (which writes semicolons) work as they are. A
//!   value that contains the separator, a double quote or a line break goes
//!   in double quotes, with each inner double quote doubled.
//! - Line endings: LF, CRLF or CR.
//! - The first non-empty line is the header, and it is required. Columns may
//!   come in any order. Column names ignore case, accents, spaces, hyphens
//!   and underscores, so `Numéro de série` and `numero_de_serie` are the same.
//!
//! # Columns
//!
//! | column      | also accepted                                        | required |
//! |-------------|------------------------------------------------------|----------|
//! | `category`  | `catégorie`                                          | yes      |
//! | `brand`     | `marque`                                             | no       |
//! | `model`     | `modèle`                                             | yes      |
//! | `serial`    | `numéro de série`, `serial number`, `n° de série`    | no       |
//! | `asset_tag` | `étiquette`, `inventaire`, `numéro d'inventaire`     | no       |
//! | `notes`     |                                                      | no       |
//!
//! `category` is one of `laptop`, `desktop`, `tablet`, `smartphone`,
//! `screen`, `printer`, `multifunction_printer`, `other`, or its French label
//! (`Ordinateur portable`, `Ordinateur fixe`, `Tablette`, `Smartphone`,
//! `Écran`, `Imprimante`, `Imprimante multifonction`, `Autre`), or a common
//! alias such as `portable`, `fixe`, `téléphone` or `monitor`.
//!
//! `asset_tag` is the association's own inventory number for the device.
//! `notes` is checked but not imported.
//!
//! # Rules
//!
//! - Lines whose fields are all empty are skipped.
//! - Values are trimmed. A value longer than 200 characters is an error.
//! - A serial that is a known placeholder, such as `System Serial Number`,
//!   `To Be Filled By O.E.M.`, `0` or `123456789`, is not kept, and a warning
//!   names it.
//! - A serial, model or asset tag in scientific notation, such as
//!   `6.37702E+15`, is an error: a spreadsheet rewrote a long number and its
//!   digits are lost.
//! - Two lines with the same serial, ignoring case, spaces and dashes, are an
//!   error that names both lines.
//! - A line with more fields than the header is an error, because its values
//!   are shifted. A line with fewer fields reads the missing ones as empty.
//! - An unknown column is ignored with a warning. When a column appears twice,
//!   the first one is read, with a warning.
//! - Any error rejects the whole file, and every error is listed with its
//!   line number (the header is line 1).
//!
//! # Example
//!
//! ```text
//! catégorie;marque;modèle;numéro de série;étiquette
//! Ordinateur portable;Dell;Latitude E5530;FJBQVZ1;ASSO-0042
//! fixe;HP;Compaq 8100 Elite SFF;CZC0408YPV;
//! ```

use std::str::FromStr;

use filiere_domain::types::{fold, Category};

use super::table::{map_columns, ColumnMap, ColumnSpec, Row, Table};
use super::{
    accepted_categories, check_length, collect, read_identifier, read_serial, ImportProblem,
    ImportedDevice, ParsedRows,
};

/// Header shown in the error for an empty file.
pub(super) const EXAMPLE_HEADER: &str = "category,brand,model,serial,asset_tag";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Category,
    Brand,
    Model,
    Serial,
    AssetTag,
    Notes,
}

/// Header names of each field. The first name is the English one and the
/// second, when there is one, the French one. Error messages list both.
const COLUMNS: &[ColumnSpec<Field>] = &[
    ColumnSpec {
        field: Field::Category,
        names: &["category", "catégorie"],
    },
    ColumnSpec {
        field: Field::Brand,
        names: &["brand", "marque"],
    },
    ColumnSpec {
        field: Field::Model,
        names: &["model", "modèle"],
    },
    ColumnSpec {
        field: Field::Serial,
        names: &["serial", "numéro de série", "serial number", "n° de série"],
    },
    ColumnSpec {
        field: Field::AssetTag,
        names: &[
            "asset_tag",
            "étiquette",
            "inventaire",
            "numéro d'inventaire",
        ],
    },
    ColumnSpec {
        field: Field::Notes,
        names: &["notes"],
    },
];

const REQUIRED: &[Field] = &[Field::Category, Field::Model];

/// Returns whether `folded`, a header name after [`fold`], names a column of
/// this format.
pub(super) fn is_filiere_column(folded: &str) -> bool {
    COLUMNS
        .iter()
        .flat_map(|spec| spec.names)
        .any(|name| fold(name) == folded)
}

/// Parses the rows of a file in Filière's format.
pub(super) fn parse(table: &Table) -> ParsedRows {
    let mut rows = ParsedRows::default();
    let columns = map_columns(table, COLUMNS, &mut rows.warnings);

    for &index in &columns.unknown {
        let name = &table.header[index];
        let reason = if name.is_empty() {
            if table.rows.iter().all(|row| row.value(index).is_empty()) {
                continue;
            }
            format!(
                "column {} has no name, so its values were ignored; name it or remove it",
                index + 1
            )
        } else {
            format!(
                "unknown column '{name}' was ignored; known columns: {}",
                expected_columns()
            )
        };
        rows.warn(table.header_line, reason);
    }

    let missing: Vec<&ColumnSpec<Field>> = COLUMNS
        .iter()
        .filter(|spec| REQUIRED.contains(&spec.field) && columns.index(spec.field).is_none())
        .collect();
    if !missing.is_empty() {
        for spec in missing {
            rows.errors.push(ImportProblem {
                line: table.header_line,
                reason: format!(
                    "missing required column '{}'; add it to the header. Expected columns: {}",
                    spec.names[0],
                    expected_columns()
                ),
            });
        }
        return rows;
    }

    for row in &table.rows {
        parse_row(row, &columns, &mut rows);
    }
    rows
}

/// Lists the column names, each with its French name in brackets.
fn expected_columns() -> String {
    COLUMNS
        .iter()
        .map(|spec| match spec.names.get(1) {
            Some(french) => format!("{} ({french})", spec.names[0]),
            None => spec.names[0].to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_row(row: &Row, columns: &ColumnMap<Field>, rows: &mut ParsedRows) {
    let value = |field: Field| columns.index(field).map(|i| row.value(i)).unwrap_or("");
    let mut reasons = Vec::new();

    let category = collect(parse_category(value(Field::Category)), &mut reasons);
    let brand = value(Field::Brand);
    collect(check_length("brand", brand), &mut reasons);
    let model = collect(read_model(value(Field::Model)), &mut reasons);
    let serial = collect(
        read_serial("serial", value(Field::Serial), row.line, rows),
        &mut reasons,
    );
    let asset_tag = collect(
        read_identifier("asset_tag", value(Field::AssetTag)),
        &mut reasons,
    );
    collect(check_length("notes", value(Field::Notes)), &mut reasons);

    if let (true, Some(category), Some(model), Some(serial), Some(asset_tag)) =
        (reasons.is_empty(), category, model, serial, asset_tag)
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

fn parse_category(value: &str) -> Result<Category, String> {
    if value.is_empty() {
        return Err(format!(
            "category is empty; fill in one of {}, or a French label such as 'Ordinateur \
             portable'",
            accepted_categories()
        ));
    }
    Category::from_str(value).map_err(|error| {
        format!("{error}, or a French label such as 'Ordinateur portable'; correct the category")
    })
}

fn read_model(value: &str) -> Result<String, String> {
    match read_identifier("model", value)? {
        Some(model) => Ok(model),
        None => Err("model is empty; fill in the model, such as 'Latitude E5530'".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use filiere_domain::types::Category;

    use crate::import::{parse_donation_file, ImportProblem, SourceFormat};

    fn reasons(problems: &[ImportProblem]) -> String {
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn comma_file_parsed() {
        let file = "category,brand,model,serial,asset_tag,notes\n\
                    laptop,Dell,Latitude E5530,FJBQVZ1,ASSO-0042,Scratch on the lid\n\
                    desktop,HP,\"Compaq 8100 Elite SFF, tower\",CZC0408YPV,,\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.format, SourceFormat::Filiere);
        assert_eq!(parsed.devices.len(), 2);
        assert!(parsed.warnings.is_empty(), "{}", reasons(&parsed.warnings));

        let first = &parsed.devices[0];
        assert_eq!(first.line, 2);
        assert_eq!(first.category, Category::Laptop);
        assert_eq!(first.brand, "Dell");
        assert_eq!(first.model, "Latitude E5530");
        assert_eq!(first.serial.as_ref().unwrap().as_str(), "FJBQVZ1");
        assert_eq!(first.asset_tag.as_deref(), Some("ASSO-0042"));

        let second = &parsed.devices[1];
        assert_eq!(second.category, Category::Desktop);
        assert_eq!(second.model, "Compaq 8100 Elite SFF, tower");
        assert_eq!(second.asset_tag, None);
    }

    #[test]
    fn semicolon_french_headers_parsed() {
        let file = "Catégorie;Marque;Modèle;Numéro de série;Étiquette\n\
                    Ordinateur portable;Dell;Latitude E5530;FJBQVZ1;ASSO-0042\n\
                    fixe;HP;Compaq 8100 Elite SFF;CZC0408YPV;\n\
                    Tablette;Samsung;Galaxy Tab A, 10.1;R52N10ABCDE;\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.format, SourceFormat::Filiere);
        assert_eq!(parsed.devices.len(), 3);
        assert_eq!(parsed.devices[0].category, Category::Laptop);
        assert_eq!(parsed.devices[0].brand, "Dell");
        assert_eq!(
            parsed.devices[0].serial.as_ref().unwrap().as_str(),
            "FJBQVZ1"
        );
        assert_eq!(parsed.devices[0].asset_tag.as_deref(), Some("ASSO-0042"));
        assert_eq!(parsed.devices[1].category, Category::Desktop);
        assert_eq!(parsed.devices[2].category, Category::Tablet);
        assert_eq!(parsed.devices[2].model, "Galaxy Tab A, 10.1");
    }

    #[test]
    fn columns_in_any_order() {
        let file = "serial,MODEL,Category\nFJBQVZ1,Latitude E5530,Laptop\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.devices[0].model, "Latitude E5530");
        assert_eq!(parsed.devices[0].category, Category::Laptop);
        assert_eq!(parsed.devices[0].brand, "");
    }

    #[test]
    fn missing_model_column_rejected() {
        let file = "category,brand,serial\nlaptop,Dell,FJBQVZ1\n";
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 1, "{}", reasons(&errors));
        assert_eq!(errors[0].line, 1);
        assert!(errors[0].reason.contains("'model'"), "{}", errors[0]);
        assert!(
            errors[0].reason.contains("category (catégorie)"),
            "{}",
            errors[0]
        );
        assert!(errors[0].reason.contains("asset_tag"), "{}", errors[0]);
    }

    #[test]
    fn missing_both_required_columns() {
        let file = "brand,serial\nDell,FJBQVZ1\n";
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 2, "{}", reasons(&errors));
        assert!(errors[0].reason.contains("'category'"), "{}", errors[0]);
        assert!(errors[1].reason.contains("'model'"), "{}", errors[1]);
    }

    #[test]
    fn unknown_category_lists_accepted() {
        let file = "category,model\nlaptop,Latitude E5530\ngrille-pain,Toaster 3000\n";
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 1, "{}", reasons(&errors));
        assert_eq!(errors[0].line, 3);
        assert!(errors[0].reason.contains("'grille-pain'"), "{}", errors[0]);
        assert!(
            errors[0].reason.contains("laptop, desktop, tablet"),
            "{}",
            errors[0]
        );
        assert!(
            errors[0].reason.contains("multifunction_printer"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn empty_category_rejected() {
        let file = "category,model\n,Latitude E5530\n";
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 1, "{}", reasons(&errors));
        assert!(
            errors[0].reason.contains("category is empty"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn empty_model_rejected() {
        let file = "category,model\nlaptop, \n";
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 1, "{}", reasons(&errors));
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].reason.contains("model is empty"), "{}", errors[0]);
    }

    #[test]
    fn placeholder_serial_warned() {
        let file = "category,model,serial\n\
                    desktop,OptiPlex 745,To Be Filled By O.E.M.\n\
                    desktop,OptiPlex GX520,System Serial Number\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.devices.len(), 2);
        assert_eq!(parsed.devices[0].serial, None);
        assert_eq!(parsed.devices[1].serial, None);
        assert_eq!(parsed.warnings.len(), 2, "{}", reasons(&parsed.warnings));
        assert_eq!(parsed.warnings[0].line, 2);
        assert!(
            parsed.warnings[0]
                .reason
                .contains("'To Be Filled By O.E.M.'"),
            "{}",
            parsed.warnings[0]
        );
        assert!(
            parsed.warnings[0].reason.contains("placeholder"),
            "{}",
            parsed.warnings[0]
        );
    }

    #[test]
    fn placeholders_not_duplicates() {
        let file = "category,model,serial\ndesktop,A,0\ndesktop,B,0\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.devices.len(), 2);
    }

    #[test]
    fn empty_serial_not_warned() {
        let file = "category,model,serial\nlaptop,Latitude E5530,\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.devices[0].serial, None);
        assert!(parsed.warnings.is_empty(), "{}", reasons(&parsed.warnings));
    }

    #[test]
    fn scientific_serial_rejected() {
        let file = "category;model;serial\nlaptop;Latitude E5530;6,37702E+15\n";
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 1, "{}", reasons(&errors));
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].reason.contains("'6,37702E+15'"), "{}", errors[0]);
        assert!(
            errors[0].reason.contains("scientific notation"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn long_text_rejected() {
        let model = "x".repeat(201);
        let file = format!("category,model\nlaptop,{model}\n");
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 1, "{}", reasons(&errors));
        assert!(errors[0].reason.contains("201 characters"), "{}", errors[0]);
        assert!(errors[0].reason.contains("200"), "{}", errors[0]);
    }

    #[test]
    fn text_at_limit_accepted() {
        let model = "é".repeat(200);
        let file = format!("category,model\nlaptop,{model}\n");
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.devices[0].model, model);
    }

    #[test]
    fn unknown_column_warned() {
        let file = "category,model,couleur\nlaptop,Latitude E5530,noir\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.devices.len(), 1);
        assert_eq!(parsed.warnings.len(), 1, "{}", reasons(&parsed.warnings));
        assert_eq!(parsed.warnings[0].line, 1);
        assert!(
            parsed.warnings[0].reason.contains("'couleur'"),
            "{}",
            parsed.warnings[0]
        );
    }

    #[test]
    fn nameless_columns_warned_when_used() {
        let file = "category,model,,\nlaptop,Latitude E5530,,noir\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(parsed.warnings.len(), 1, "{}", reasons(&parsed.warnings));
        assert!(
            parsed.warnings[0].reason.contains("column 4 has no name"),
            "{}",
            parsed.warnings[0]
        );
    }

    #[test]
    fn same_field_twice_warned() {
        let file = "category,model,serial,numéro de série\nlaptop,E5530,FJBQVZ1,OTHER1\n";
        let parsed = parse_donation_file(file.as_bytes()).unwrap();
        assert_eq!(
            parsed.devices[0].serial.as_ref().unwrap().as_str(),
            "FJBQVZ1"
        );
        assert_eq!(parsed.warnings.len(), 1, "{}", reasons(&parsed.warnings));
        assert!(
            parsed.warnings[0].reason.contains("'numéro de série'"),
            "{}",
            parsed.warnings[0]
        );
    }

    #[test]
    fn every_error_reported() {
        let file = "category,model,serial\n\
                    toaster,Latitude E5530,\n\
                    laptop,Latitude E6440,FJBQVZ1\n\
                    laptop,,5.02E+18\n";
        let errors = parse_donation_file(file.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 3, "{}", reasons(&errors));
        assert_eq!(errors[0].line, 2);
        assert_eq!(errors[1].line, 4);
        assert_eq!(errors[2].line, 4);
    }
}
