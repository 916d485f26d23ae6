//! Placement of the QR symbol and the text lines inside one label.
//!
//! The QR symbol, quiet zone included, sits on the left of the content area
//! and takes as much of its height as the module size rules allow. The code
//! in bold and the details follow on its right, centred vertically as a
//! block.

use filiere_domain::code::{ALPHABET, PAYLOAD_LEN};

use super::content::PreparedLabel;
use super::draw::Canvas;
use super::error::{LabelError, MIN_MODULE_MM};
use super::qr::QUIET_ZONE_MODULES;
use super::template::{MmRect, Template};
use super::text::{fit_to_width, text_width_mm, Face, MM_PER_PT};

/// Largest share of the content width given to the QR symbol, so that the
/// code still fits beside it on nearly square labels.
const MAX_QR_WIDTH_SHARE: f32 = 0.6;

/// Largest size of the code, in points.
const MAX_CODE_PT: f32 = 22.0;

/// Largest share of the content height taken by the code line.
const MAX_CODE_HEIGHT_SHARE: f32 = 0.3;

/// Size of the detail lines relative to the code, and its bounds in points.
const DETAIL_TO_CODE_RATIO: f32 = 0.6;
const MIN_DETAIL_PT: f32 = 5.0;
const MAX_DETAIL_PT: f32 = 9.0;

/// Height of a line relative to its font size, and baseline position within
/// it. Helvetica capitals reach 0.72 em above the baseline.
const LINE_HEIGHT_EM: f32 = 1.2;
const BASELINE_EM: f32 = 0.85;

/// One line of text to draw.
#[derive(Clone, Debug, PartialEq)]
struct TextLine {
    text: String,
    face: Face,
    size_pt: f32,
}

impl TextLine {
    fn height_mm(&self) -> f32 {
        self.size_pt * LINE_HEIGHT_EM * MM_PER_PT
    }
}

/// Returns the QR module size in millimetres for a symbol of `modules`
/// modules per side, quiet zone included, in `area`.
///
/// On roll printers the size is rounded down to whole printer dots, so that
/// every module prints with the same number of dots.
pub fn module_size(
    template: &Template,
    area: MmRect,
    modules: usize,
    payload: &str,
) -> Result<f32, LabelError> {
    let modules = modules as f32;
    let mut module = (area.height / modules).min(area.width * MAX_QR_WIDTH_SHARE / modules);
    if let Some(dpi) = template.dpi() {
        let dot = 25.4 / dpi as f32;
        module = (module / dot + 1e-4).floor() * dot;
    }
    if module + 1e-4 < MIN_MODULE_MM {
        return Err(LabelError::QrTooSmall {
            template: template.name.clone(),
            url: payload.to_string(),
            module_mm: module,
        });
    }
    Ok(module)
}

/// Draws `label` in `area`, the content area of one label on the page.
pub fn draw_label(
    canvas: &mut Canvas,
    template: &Template,
    area: MmRect,
    label: &PreparedLabel,
) -> Result<(), LabelError> {
    let matrix = &label.matrix;
    let module = module_size(
        template,
        area,
        matrix.width_with_quiet_zone(),
        &label.payload,
    )?;
    let side = module * matrix.width_with_quiet_zone() as f32;
    let top = area.y + (area.height - side) / 2.0;
    let origin_x = area.x + QUIET_ZONE_MODULES as f32 * module;
    let origin_y = top + QUIET_ZONE_MODULES as f32 * module;
    canvas.fill_modules(origin_x, origin_y, module, &matrix.runs());

    let text_area = MmRect {
        x: area.x + side,
        y: area.y,
        width: area.width - side,
        height: area.height,
    };
    draw_text_block(canvas, text_area, &text_lines(label, text_area));
    Ok(())
}

/// Chooses the lines and their sizes for `area`: the code as large as the
/// width allows, then category, model and workshop, dropping the last
/// details when the height runs out.
fn text_lines(label: &PreparedLabel, area: MmRect) -> Vec<TextLine> {
    let code_pt = (area.width / widest_code_width_per_pt())
        .min(area.height * MAX_CODE_HEIGHT_SHARE / MM_PER_PT)
        .min(MAX_CODE_PT);
    let detail_pt = (code_pt * DETAIL_TO_CODE_RATIO).clamp(MIN_DETAIL_PT, MAX_DETAIL_PT);

    let mut lines = vec![TextLine {
        text: label.code.clone(),
        face: Face::Bold,
        size_pt: code_pt,
    }];
    for detail in [&label.category, &label.model, &label.workshop] {
        let text = fit_to_width(detail, Face::Regular, detail_pt, area.width);
        if !text.is_empty() {
            lines.push(TextLine {
                text,
                face: Face::Regular,
                size_pt: detail_pt,
            });
        }
    }
    while lines.len() > 1 && block_height(&lines) > area.height {
        lines.pop();
    }
    lines
}

/// Width in millimetres, at 1 pt, of the widest possible device code, so
/// that all codes on a page get the same size.
fn widest_code_width_per_pt() -> f32 {
    let widest = ALPHABET
        .chars()
        .map(|c| text_width_mm(c.encode_utf8(&mut [0; 4]), Face::Bold, 1.0))
        .fold(f32::EPSILON, f32::max);
    widest * (PAYLOAD_LEN + 1) as f32
}

fn block_height(lines: &[TextLine]) -> f32 {
    lines.iter().map(TextLine::height_mm).sum()
}

fn draw_text_block(canvas: &mut Canvas, area: MmRect, lines: &[TextLine]) {
    let mut line_top = area.y + (area.height - block_height(lines)).max(0.0) / 2.0;
    for line in lines {
        let baseline = line_top + line.size_pt * BASELINE_EM * MM_PER_PT;
        canvas.text(&line.text, line.face, line.size_pt, area.x, baseline);
        line_top += line.height_mm();
    }
}

#[cfg(test)]
mod tests {
    use super::super::content::{prepare_labels, LabelData};
    use super::super::template::{LabelSize, RollLayout, Stock};
    use super::*;

    fn roll(height: f32, dpi: u32) -> Template {
        Template {
            name: "tiny".to_string(),
            description: String::new(),
            label: LabelSize {
                width: height * 3.0,
                height,
                corner_radius: 0.0,
            },
            stock: Stock::Roll(RollLayout {
                printable_width: height * 3.0,
                printable_height: height,
                dpi,
            }),
        }
    }

    fn label() -> PreparedLabel {
        let code = filiere_domain::DeviceCode::from_random([7, 20, 3, 11, 2, 9]).to_string();
        let data = LabelData {
            url: format!("https://filiere.example.org/d/{code}"),
            code,
            category: "Ordinateur portable".to_string(),
            model: "Lenovo ThinkPad T480s Intel Core i5".to_string(),
            workshop: "Atelier du Faubourg".to_string(),
        };
        prepare_labels(&[data]).unwrap().remove(0)
    }

    #[test]
    fn module_snaps_to_printer_dots() {
        let template = roll(25.4, 203);
        let area = template.content_area(0);
        let module = module_size(&template, area, 37, "X").unwrap();
        let dots = module * 203.0 / 25.4;
        assert!((dots - dots.round()).abs() < 1e-3, "{dots}");
        assert!(module * 37.0 <= area.height);
    }

    #[test]
    fn module_below_minimum_rejected() {
        let template = roll(12.0, 300);
        let area = template.content_area(0);
        let error = module_size(&template, area, 37, "HTTPS://X/D/1").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("tiny"), "{message}");
        assert!(message.contains("0.33 mm"), "{message}");
    }

    #[test]
    fn lines_fit_area() {
        let area = MmRect {
            x: 0.0,
            y: 0.0,
            width: 17.0,
            height: 18.0,
        };
        let lines = text_lines(&label(), area);
        assert_eq!(lines[0].text, label().code);
        assert!(lines.len() >= 3, "{lines:?}");
        assert!(block_height(&lines) <= area.height);
        for line in &lines {
            assert!(text_width_mm(&line.text, line.face, line.size_pt) <= area.width + 1e-3);
        }
    }

    #[test]
    fn details_dropped_when_too_low() {
        let area = MmRect {
            x: 0.0,
            y: 0.0,
            width: 40.0,
            height: 6.0,
        };
        let lines = text_lines(&label(), area);
        assert!(lines.len() < 4, "{lines:?}");
        assert!(block_height(&lines) <= area.height);
    }
}
