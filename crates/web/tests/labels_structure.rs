//! Structure of label PDFs, read back with lopdf: compressed streams, text
//! operators inside text sections, and printer offsets.

use filiere_domain::DeviceCode;
use filiere_web::labels::{labels_pdf, LabelData, PrintOptions, TemplateCatalog};
use lopdf::content::{Content, Operation};
use lopdf::Document;

const POINTS_PER_MM: f32 = 72.0 / 25.4;

/// `count` labels with distinct, valid codes.
fn sample_labels(count: usize) -> Vec<LabelData> {
    (0..count as u32)
        .map(|i| {
            let code = DeviceCode::from_random([i % 27, (i / 27) % 27, 3, 5, 8, 13]);
            LabelData {
                url: format!("https://filiere.example.org/d/{code}"),
                code: code.to_string(),
                category: "Ordinateur portable".to_string(),
                model: "Lenovo ThinkPad T480s".to_string(),
                workshop: "Atelier Émile Zola".to_string(),
            }
        })
        .collect()
}

fn catalog() -> TemplateCatalog {
    TemplateCatalog::builtin().expect("built-in templates parse")
}

/// Pages of `pdf` in order, each with its object id.
fn pages(pdf: &Document) -> Vec<lopdf::ObjectId> {
    pdf.get_pages().into_values().collect()
}

#[test]
fn content_streams_compressed() {
    let catalog = catalog();
    let template = catalog.get("avery-l7160").unwrap();
    let bytes = labels_pdf(template, &sample_labels(21), &PrintOptions::default()).unwrap();
    let pdf = Document::load_mem(&bytes).unwrap();
    for page in pages(&pdf) {
        for content in pdf.get_page_contents(page) {
            let stream = pdf.get_object(content).unwrap().as_stream().unwrap();
            let filter = stream.dict.get(b"Filter").unwrap().as_name().unwrap();
            assert_eq!(filter, b"FlateDecode");
        }
    }
}

/// Operators of the first page's content stream.
fn first_page_operations(bytes: &[u8]) -> Vec<Operation> {
    let pdf = Document::load_mem(bytes).unwrap();
    let page = pages(&pdf)[0];
    Content::decode(&pdf.get_page_content(page))
        .unwrap()
        .operations
}

#[test]
fn text_inside_text_sections() {
    let catalog = catalog();
    let template = catalog.get("avery-5160").unwrap();
    let bytes = labels_pdf(template, &sample_labels(3), &PrintOptions::default()).unwrap();
    let mut in_text = false;
    let mut text_shows = 0;
    for operation in first_page_operations(&bytes) {
        match operation.operator.as_str() {
            "BT" => {
                assert!(!in_text, "nested BT");
                in_text = true;
            }
            "ET" => {
                assert!(in_text, "ET without BT");
                in_text = false;
            }
            "Tj" | "TJ" => {
                assert!(in_text, "{} outside BT/ET", operation.operator);
                text_shows += 1;
            }
            "Tf" | "Td" => assert!(in_text, "{} outside BT/ET", operation.operator),
            _ => {}
        }
    }
    assert!(!in_text, "text section left open");
    // Code, category, model and workshop on each of the 3 labels.
    assert_eq!(text_shows, 12);
}

#[test]
fn offsets_move_labels() {
    let catalog = catalog();
    let template = catalog.get("avery-l7160").unwrap();
    let labels = sample_labels(1);
    let origin = |options: &PrintOptions| -> (f32, f32) {
        let bytes = labels_pdf(template, &labels, options).unwrap();
        let operations = first_page_operations(&bytes);
        let matrix = operations
            .iter()
            .find(|operation| operation.operator == "cm")
            .expect("QR transformation");
        let value = |index: usize| matrix.operands[index].as_float().unwrap();
        (value(4), value(5))
    };
    let (x0, y0) = origin(&PrintOptions::default());
    let (x1, y1) = origin(&PrintOptions {
        offset_x_mm: 3.0,
        offset_y_mm: -2.0,
        ..PrintOptions::default()
    });
    // Right is +x in PDF; down on paper is -y in PDF.
    assert!(
        (x1 - x0 - 3.0 * POINTS_PER_MM).abs() < 0.01,
        "x moved by {}",
        x1 - x0
    );
    assert!(
        (y1 - y0 - 2.0 * POINTS_PER_MM).abs() < 0.01,
        "y moved by {}",
        y1 - y0
    );
}
