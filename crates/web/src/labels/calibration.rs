//! Calibration page: checks that the printer prints at actual size and
//! shows where it puts the label outlines.

use super::draw::Canvas;
use super::error::LabelError;
use super::pdf::{write_pdf, PrintOptions};
use super::template::{MmRect, Stock, Template};
use super::text::{text_width_mm, Face, MM_PER_PT};

/// Side of the reference square printed on sheets, in millimetres.
pub const REFERENCE_SQUARE_MM: f32 = 100.0;

/// Grey level of the reference shape, dark enough to measure and light
/// enough to spare toner.
const REFERENCE_GREY: f32 = 0.5;

/// Grey level and stroke width, in millimetres, of the label outlines.
const OUTLINE_GREY: f32 = 0.4;
const OUTLINE_WIDTH_MM: f32 = 0.2;

/// Height of the reference bar on rolls, in millimetres.
const REFERENCE_BAR_HEIGHT_MM: f32 = 4.0;

/// Gap between the reference shape and the caption, in millimetres.
const CAPTION_GAP_MM: f32 = 4.0;

/// Largest caption size, in points.
const MAX_CAPTION_PT: f32 = 11.0;

/// Reference shape of a calibration page and its printed length.
struct Reference {
    shape: MmRect,
    caption: String,
}

/// Builds a one-page PDF for `template` with a reference shape of known
/// size and the outline of every label, shifted by the offsets of `options`.
///
/// On sheets the reference is a 100 mm square. A roll label is too small
/// for it, so rolls get a bar as long as the largest multiple of 10 mm that
/// fits the printable width, and the caption gives that length instead.
pub fn calibration_pdf(template: &Template, options: &PrintOptions) -> Result<Vec<u8>, LabelError> {
    options.validate_offsets()?;
    let (page_width, page_height) = template.page_size();
    let mut canvas = Canvas::new(page_height);

    canvas.set_stroke(OUTLINE_GREY, OUTLINE_WIDTH_MM);
    for cell in 0..template.labels_per_page() {
        let outline = template
            .cell(cell)
            .translate(options.offset_x_mm, options.offset_y_mm);
        canvas.stroke_outline(outline, template.label.corner_radius);
    }

    let reference = reference(template);
    canvas.set_fill_grey(REFERENCE_GREY);
    canvas.fill_rect(reference.shape);

    let caption_top = reference.shape.y + reference.shape.height + CAPTION_GAP_MM;
    let mut lines = vec![reference.caption];
    if matches!(template.stock, Stock::Sheet(_)) {
        lines.push(template.description.clone());
        lines.push(format!(
            "Décalage de l'imprimante : {} mm vers la droite, {} mm vers le bas",
            french_decimal(options.offset_x_mm),
            french_decimal(options.offset_y_mm),
        ));
    }
    draw_centred_lines(&mut canvas, &lines, page_width, caption_top);

    let title = format!("Calibrage {}", template.name);
    write_pdf(template, &title, vec![canvas.into_ops()])
}

/// Places the reference shape: centred on a sheet, and in the upper part of
/// the printable area of a roll label so that the caption fits below it.
fn reference(template: &Template) -> Reference {
    let (page_width, page_height) = template.page_size();
    match template.stock {
        Stock::Sheet(_) => Reference {
            shape: MmRect {
                x: (page_width - REFERENCE_SQUARE_MM) / 2.0,
                y: (page_height - REFERENCE_SQUARE_MM) / 2.0,
                width: REFERENCE_SQUARE_MM,
                height: REFERENCE_SQUARE_MM,
            },
            caption: "Imprimez à 100 % (taille réelle) : ce carré doit mesurer 100 mm".to_string(),
        },
        Stock::Roll(_) => {
            let area = template.content_area(0);
            let length = ((area.width / 10.0).floor() * 10.0).max(10.0);
            Reference {
                shape: MmRect {
                    x: (page_width - length) / 2.0,
                    y: area.y + area.height * 0.2,
                    width: length,
                    height: REFERENCE_BAR_HEIGHT_MM,
                },
                caption: format!(
                    "Imprimez à 100 % (taille réelle) : ce trait doit mesurer {length} mm"
                ),
            }
        }
    }
}

/// Writes `lines` centred on the page, the first one's top at `top`, each at
/// the largest size up to [`MAX_CAPTION_PT`] that fits the page width, on a
/// white background that hides the label outlines behind the text.
fn draw_centred_lines(canvas: &mut Canvas, lines: &[String], page_width: f32, top: f32) {
    let usable = page_width * 0.9;
    let mut line_top = top;
    for line in lines {
        let width_per_pt = text_width_mm(line, Face::Regular, 1.0).max(f32::EPSILON);
        let size_pt = (usable / width_per_pt).min(MAX_CAPTION_PT);
        let size_mm = size_pt * MM_PER_PT;
        let width = width_per_pt * size_pt;
        let x = (page_width - width) / 2.0;
        let background = MmRect {
            x: x - 1.0,
            y: line_top,
            width: width + 2.0,
            height: size_mm * 1.2,
        };
        canvas.set_fill_grey(1.0);
        canvas.fill_rect(background);
        canvas.set_fill_grey(0.0);
        canvas.text(line, Face::Regular, size_pt, x, line_top + size_mm * 0.9);
        line_top += size_mm * 1.4;
    }
}

/// Formats millimetres with one decimal and a decimal comma, as French
/// readers expect.
fn french_decimal(value: f32) -> String {
    format!("{value:.1}").replace('.', ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_comma() {
        assert_eq!(french_decimal(-1.26), "-1,3");
        assert_eq!(french_decimal(0.0), "0,0");
    }
}
