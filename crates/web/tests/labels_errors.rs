//! Rejected label requests: each error names the value and what to do.

use filiere_domain::DeviceCode;
use filiere_web::labels::{
    calibration_pdf, labels_pdf, labels_zpl, parse_template, LabelData, PrintOptions,
    TemplateCatalog,
};

fn sample_label() -> LabelData {
    let code = DeviceCode::from_random([4, 8, 15, 16, 23, 2]);
    LabelData {
        url: format!("https://filiere.example.org/d/{code}"),
        code: code.to_string(),
        category: "Tablette".to_string(),
        model: "Samsung Galaxy Tab A".to_string(),
        workshop: "Atelier du Faubourg".to_string(),
    }
}

fn catalog() -> TemplateCatalog {
    TemplateCatalog::builtin().unwrap()
}

fn pdf_error(template: &str, labels: &[LabelData], options: PrintOptions) -> String {
    let catalog = catalog();
    let template = catalog.get(template).unwrap();
    match labels_pdf(template, labels, &options) {
        Ok(_) => panic!("labels_pdf accepted {options:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn start_beyond_sheet_rejected() {
    let options = PrintOptions {
        start_position: 22,
        ..PrintOptions::default()
    };
    let error = pdf_error("avery-l7160", &[sample_label()], options);
    assert!(error.contains("start position 22"), "{error}");
    assert!(error.contains("avery-l7160"), "{error}");
    assert!(error.contains("from 1 to 21"), "{error}");
}

#[test]
fn start_zero_rejected() {
    let options = PrintOptions {
        start_position: 0,
        ..PrintOptions::default()
    };
    let error = pdf_error("avery-l7651", &[sample_label()], options);
    assert!(error.contains("from 1 to 65"), "{error}");
}

#[test]
fn start_on_roll_rejected() {
    let options = PrintOptions {
        start_position: 2,
        ..PrintOptions::default()
    };
    let error = pdf_error("zebra-2x1", &[sample_label()], options);
    assert!(error.contains("from 1 to 1"), "{error}");
}

#[test]
fn empty_label_list_rejected() {
    let error = pdf_error("avery-l7160", &[], PrintOptions::default());
    assert!(error.contains("no labels"), "{error}");
    assert!(error.contains("select at least one device"), "{error}");
}

#[test]
fn offsets_out_of_range_rejected() {
    let too_far = PrintOptions {
        offset_x_mm: 25.0,
        ..PrintOptions::default()
    };
    let error = pdf_error("avery-l7160", &[sample_label()], too_far);
    assert!(error.contains("x = 25 mm"), "{error}");
    assert!(error.contains("-20 to 20 mm"), "{error}");

    let not_a_number = PrintOptions {
        offset_y_mm: f32::NAN,
        ..PrintOptions::default()
    };
    let error = pdf_error("avery-l7160", &[sample_label()], not_a_number);
    assert!(error.contains("offset y"), "{error}");
}

#[test]
fn negative_offsets_accepted() {
    let catalog = catalog();
    let template = catalog.get("avery-l7160").unwrap();
    let options = PrintOptions {
        offset_x_mm: -2.5,
        offset_y_mm: -1.0,
        ..PrintOptions::default()
    };
    assert!(labels_pdf(template, &[sample_label()], &options).is_ok());
    assert!(calibration_pdf(template, &options).is_ok());
}

#[test]
fn calibration_offset_checked() {
    let catalog = catalog();
    let template = catalog.get("avery-l7160").unwrap();
    let options = PrintOptions {
        offset_y_mm: -30.0,
        ..PrintOptions::default()
    };
    let error = calibration_pdf(template, &options).unwrap_err().to_string();
    assert!(error.contains("y = -30 mm"), "{error}");
}

#[test]
fn invalid_code_rejected() {
    let label = LabelData {
        code: "7KXB3RA".to_string(),
        url: "https://filiere.example.org/d/7KXB3RA".to_string(),
        ..sample_label()
    };
    let error = pdf_error(
        "avery-l7160",
        &[sample_label(), label],
        PrintOptions::default(),
    );
    assert!(error.contains("label 2"), "{error}");
    assert!(error.contains("7KXB3RA"), "{error}");
}

#[test]
fn url_of_other_device_rejected() {
    let label = LabelData {
        url: "https://filiere.example.org/d/0000000".to_string(),
        ..sample_label()
    };
    let error = pdf_error("avery-l7160", &[label], PrintOptions::default());
    assert!(error.contains("does not end with"), "{error}");
}

#[test]
fn qr_too_small_names_template() {
    let text = "description = \"mini\"\n[label]\nwidth = 30.0\nheight = 10.0\n[roll]\ndpi = 300\n";
    let template = parse_template("mini-roll", "labels/mini-roll.toml", text).unwrap();
    let error = labels_pdf(&template, &[sample_label()], &PrintOptions::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("mini-roll"), "{error}");
    assert!(error.contains("0.33 mm"), "{error}");
    assert!(error.contains("taller label"), "{error}");
}

#[test]
fn labels_beyond_sheet_add_pages() {
    let catalog = catalog();
    let template = catalog.get("avery-l7651").unwrap();
    let labels: Vec<LabelData> = (0..131u32)
        .map(|i| {
            let code = DeviceCode::from_random([i % 27, i / 27, 1, 2, 3, 4]);
            LabelData {
                url: format!("https://filiere.example.org/d/{code}"),
                code: code.to_string(),
                ..sample_label()
            }
        })
        .collect();
    let bytes = labels_pdf(template, &labels, &PrintOptions::default()).unwrap();
    let pdf = lopdf::Document::load_mem(&bytes).unwrap();
    // 131 labels at 65 per sheet: two full sheets and one label on a third.
    assert_eq!(pdf.get_pages().len(), 3);
}

#[test]
fn zpl_rejects_sheet_template() {
    let catalog = catalog();
    let template = catalog.get("avery-l7160").unwrap();
    let error = labels_zpl(template, &[sample_label()])
        .unwrap_err()
        .to_string();
    assert!(error.contains("avery-l7160"), "{error}");
    assert!(error.contains("zebra-2x1"), "{error}");
}
