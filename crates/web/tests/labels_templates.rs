//! Loading label templates: built-in files, a directory read at run time,
//! and the errors of malformed files.

use std::fs;
use std::path::{Path, PathBuf};

use filiere_web::labels::{parse_template, Stock, TemplateCatalog};

/// A directory under the system temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("filiere-templates-{}-{name}", std::process::id()));
        fs::create_dir_all(&dir).expect("create scratch directory");
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const VALID_SHEET: &str = r#"
description = "Test sheet"

[label]
width = 63.5
height = 38.1
corner_radius = 1.76

[sheet]
page_width = 210.0
page_height = 297.0
columns = 3
rows = 7
left_margin = 7.2
top_margin = 15.15
horizontal_pitch = 66.04
vertical_pitch = 38.1
"#;

#[test]
fn builtin_names_complete() {
    let catalog = TemplateCatalog::builtin().unwrap();
    let names: Vec<&str> = catalog.names().collect();
    assert_eq!(
        names,
        [
            "avery-5160",
            "avery-l7160",
            "avery-l7163",
            "avery-l7651",
            "brother-dk-11209",
            "zebra-2x1"
        ]
    );
}

#[test]
fn builtin_sheet_figures() {
    let catalog = TemplateCatalog::builtin().unwrap();
    let template = catalog.get("avery-l7160").unwrap();
    assert_eq!(template.label.width, 63.5);
    assert_eq!(template.label.height, 38.1);
    assert_eq!(template.label.corner_radius, 1.76);
    let Stock::Sheet(sheet) = template.stock else {
        panic!("avery-l7160 must be a sheet");
    };
    assert_eq!((sheet.page_width, sheet.page_height), (210.0, 297.0));
    assert_eq!((sheet.columns, sheet.rows), (3, 7));
    assert_eq!((sheet.left_margin, sheet.top_margin), (7.2, 15.15));
    assert_eq!(
        (sheet.horizontal_pitch, sheet.vertical_pitch),
        (66.04, 38.1)
    );
    assert_eq!(template.labels_per_page(), 21);

    let letter = catalog.get("avery-5160").unwrap();
    assert_eq!(letter.page_size(), (215.9, 279.4));
    assert_eq!(letter.labels_per_page(), 30);
    assert_eq!(catalog.get("avery-l7651").unwrap().labels_per_page(), 65);
    assert_eq!(catalog.get("avery-l7163").unwrap().labels_per_page(), 14);
}

#[test]
fn builtin_roll_figures() {
    let catalog = TemplateCatalog::builtin().unwrap();
    let brother = catalog.get("brother-dk-11209").unwrap();
    assert_eq!(brother.page_size(), (62.0, 29.0));
    let Stock::Roll(roll) = brother.stock else {
        panic!("brother-dk-11209 must be a roll");
    };
    assert_eq!((roll.printable_width, roll.printable_height), (58.9, 22.9));
    assert_eq!(roll.dpi, 300);

    let zebra = catalog.get("zebra-2x1").unwrap();
    assert_eq!(zebra.page_size(), (50.8, 25.4));
    assert_eq!(zebra.dpi(), Some(203));
    assert_eq!(zebra.labels_per_page(), 1);
}

#[test]
fn directory_overrides_builtin() {
    let scratch = Scratch::new("override");
    let replaced = VALID_SHEET.replace("Test sheet", "Replaced L7160");
    fs::write(scratch.0.join("avery-l7160.toml"), replaced).unwrap();
    fs::write(scratch.0.join("custom-sheet.toml"), VALID_SHEET).unwrap();
    fs::write(scratch.0.join("notes.txt"), "not a template").unwrap();

    let catalog = TemplateCatalog::load(Some(&scratch.0)).unwrap();
    assert_eq!(
        catalog.get("avery-l7160").unwrap().description,
        "Replaced L7160"
    );
    assert_eq!(
        catalog.get("custom-sheet").unwrap().description,
        "Test sheet"
    );
    assert!(catalog.get("zebra-2x1").is_ok(), "built-ins stay available");
    assert!(
        catalog.get("notes").is_err(),
        "only .toml files are templates"
    );
}

#[test]
fn missing_directory_rejected() {
    let missing = Path::new("/nonexistent/filiere-labels");
    let error = TemplateCatalog::load(Some(missing))
        .unwrap_err()
        .to_string();
    assert!(error.contains("/nonexistent/filiere-labels"), "{error}");
    assert!(error.contains("create it"), "{error}");
}

#[test]
fn malformed_file_in_directory_named() {
    let scratch = Scratch::new("malformed");
    let broken = VALID_SHEET.replace("width = 63.5", "width = \"wide\"");
    fs::write(scratch.0.join("broken.toml"), broken).unwrap();
    let error = TemplateCatalog::load(Some(&scratch.0))
        .unwrap_err()
        .to_string();
    assert!(error.contains("broken.toml"), "{error}");
    assert!(error.contains("label.width"), "{error}");
    assert!(error.contains("invalid type"), "{error}");
}

/// Parses `text` as the file `test.toml` and returns the error message.
fn parse_error(text: &str) -> String {
    match parse_template("test", "labels/test.toml", text) {
        Ok(template) => panic!("parsed a malformed template: {template:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn malformed_templates_name_field() {
    let without_height = VALID_SHEET.replace("height = 38.1\n", "");
    let with_roll = format!("{VALID_SHEET}\n[roll]\ndpi = 300\n");
    let without_stock = &VALID_SHEET[..VALID_SHEET.find("[sheet]").unwrap()];
    // (template text, field named, words of the reason)
    let cases: Vec<(String, &str, &str)> = vec![
        (
            VALID_SHEET.replace("width = 63.5", "width = \"wide\""),
            "label.width",
            "invalid type",
        ),
        (without_height, "label.height", "missing field"),
        (
            VALID_SHEET.replace("left_margin", "lft_margin"),
            "sheet.lft_margin",
            "unknown field",
        ),
        (
            VALID_SHEET.replace("width = 63.5", "width = -5.0"),
            "label.width",
            "above 0",
        ),
        (
            VALID_SHEET.replace("columns = 3", "columns = 4"),
            "sheet.page_width",
            "last label ends",
        ),
        (
            VALID_SHEET.replace("horizontal_pitch = 66.04", "horizontal_pitch = 50.0"),
            "sheet.horizontal_pitch",
            "overlap",
        ),
        (
            VALID_SHEET.replace("rows = 7", "rows = 0"),
            "sheet.rows",
            "at least 1",
        ),
        (
            VALID_SHEET.replace("corner_radius = 1.76", "corner_radius = 30.0"),
            "label.corner_radius",
            "half",
        ),
        (with_roll, "roll", "not both"),
        (without_stock.to_string(), "sheet", "missing"),
        (
            VALID_SHEET.replace("width = 63.5", "width = "),
            "(syntax)",
            "line",
        ),
    ];
    for (text, field, reason) in cases {
        let error = parse_error(&text);
        assert!(error.contains("labels/test.toml"), "{error}");
        assert!(
            error.contains(&format!("`{field}`")),
            "expected field {field}: {error}"
        );
        assert!(
            error.contains(reason),
            "expected reason {reason:?}: {error}"
        );
    }
}

#[test]
fn malformed_roll_names_field() {
    let roll = "description = \"r\"\n[label]\nwidth = 62.0\nheight = 29.0\n[roll]\n";
    let cases = [
        ("dpi = 0\n", "roll.dpi", "printhead resolution"),
        (
            "dpi = 300\nprintable_width = 70.0\n",
            "roll.printable_width",
            "wider than the label",
        ),
        ("printable_width = 50.0\n", "roll.dpi", "missing field"),
    ];
    for (body, field, reason) in cases {
        let error = parse_error(&format!("{roll}{body}"));
        assert!(
            error.contains(&format!("`{field}`")),
            "expected field {field}: {error}"
        );
        assert!(
            error.contains(reason),
            "expected reason {reason:?}: {error}"
        );
    }
}

#[test]
fn roll_without_printable_area_uses_label() {
    let text = "description = \"r\"\n[label]\nwidth = 50.8\nheight = 25.4\n[roll]\ndpi = 203\n";
    let template = parse_template("roll", "roll.toml", text).unwrap();
    let Stock::Roll(roll) = template.stock else {
        panic!("must be a roll");
    };
    assert_eq!((roll.printable_width, roll.printable_height), (50.8, 25.4));
}
