//! ZPL output for Zebra label printers, one `^XA` … `^XZ` format per label.
//!
//! The printer draws the QR symbol itself (`^BQ`), so the output stays sharp
//! at the printhead's resolution without going through a PDF driver.

use std::fmt::Write as _;

use super::content::{prepare_labels, LabelData, PreparedLabel};
use super::error::LabelError;
use super::layout::module_size;
use super::qr::QUIET_ZONE_MODULES;
use super::template::{MmRect, Template};

/// Largest QR magnification `^BQ` accepts.
const MAX_MAGNIFICATION: u32 = 10;

/// Estimated character width of the scalable font `^A0`, as a share of the
/// character height, used to fit text to the label.
/// NOTE: this is an estimate on the wide side for digits and capitals,
/// because the printer firmware's font metrics are not published. A long
/// model may be cut a few characters earlier than needed.
const FONT_0_WIDTH_SHARE: f32 = 0.6;

/// Largest share of the content height taken by the code.
const CODE_HEIGHT_SHARE: f32 = 0.3;

/// Model text height relative to the code, and its minimum in dots.
const MODEL_TO_CODE_RATIO: f32 = 0.5;
const MIN_MODEL_DOTS: u32 = 16;

/// A rectangle in printer dots from the top-left corner of the label.
#[derive(Clone, Copy, Debug)]
struct DotRect {
    x: u32,
    y: u32,
    width: u32,
    height: u32,
}

impl DotRect {
    fn from_mm(rect: MmRect, dpi: u32) -> Self {
        let dots = |mm: f32| (mm * dpi as f32 / 25.4).round().max(0.0) as u32;
        Self {
            x: dots(rect.x),
            y: dots(rect.y),
            width: dots(rect.width),
            height: dots(rect.height),
        }
    }
}

/// Builds one ZPL format per label for the roll `template`: the QR symbol
/// (`^BQN,2,…` with `^FDQA,` data: error correction Q, automatic mode), the
/// code, the model, and the category with the workshop name.
pub fn labels_zpl(template: &Template, labels: &[LabelData]) -> Result<String, LabelError> {
    let Some(dpi) = template.dpi() else {
        return Err(LabelError::ZplNeedsRoll {
            template: template.name.clone(),
        });
    };
    let prepared = prepare_labels(labels)?;
    let mut zpl = String::new();
    for label in &prepared {
        zpl.push_str(&label_zpl(template, dpi, label)?);
    }
    Ok(zpl)
}

fn label_zpl(template: &Template, dpi: u32, label: &PreparedLabel) -> Result<String, LabelError> {
    let page = DotRect::from_mm(template.cell(0), dpi);
    let area_mm = template.content_area(0);
    let area = DotRect::from_mm(area_mm, dpi);
    let modules = label.matrix.width_with_quiet_zone() as u32;
    let module_mm = module_size(template, area_mm, modules as usize, &label.payload)?;
    let magnification =
        ((module_mm * dpi as f32 / 25.4).round() as u32).clamp(1, MAX_MAGNIFICATION);
    let side = modules * magnification;
    let quiet = QUIET_ZONE_MODULES as u32 * magnification;
    let qr_x = area.x + quiet;
    let qr_y = area.y + area.height.saturating_sub(side) / 2 + quiet;

    let text_x = area.x + side;
    let text_width = (area.x + area.width).saturating_sub(text_x);
    let code_height = fitted_height(
        &label.code,
        text_width,
        (area.height as f32 * CODE_HEIGHT_SHARE) as u32,
    );
    let small_height = ((code_height as f32 * MODEL_TO_CODE_RATIO) as u32).max(MIN_MODEL_DOTS);
    // Under the code: the model, then the category and the workshop, each
    // cut to the width left by the QR symbol and dropped when empty.
    let details = [
        label.model.clone(),
        details_line(&label.category, &label.workshop),
    ];
    let lines: Vec<String> = details
        .iter()
        .map(|text| fit_chars(text, text_width, small_height))
        .filter(|text| !text.is_empty())
        .collect();
    let block = code_height + lines.len() as u32 * small_height * 3 / 2;
    let code_y = area.y + area.height.saturating_sub(block) / 2;

    let mut zpl = String::new();
    // `^CI28` reads field data as UTF-8, for accented model names.
    let _ = writeln!(
        zpl,
        "^XA\n^CI28\n^PW{}\n^LL{}\n^LH0,0",
        page.width, page.height
    );
    let _ = writeln!(
        zpl,
        "^FO{qr_x},{qr_y}^BQN,2,{magnification}^FH\\^FDQA,{}^FS",
        escape(&label.payload)
    );
    let _ = writeln!(
        zpl,
        "{}",
        text_field(text_x, code_y, code_height, &label.code)
    );
    let mut line_y = code_y + code_height + small_height / 2;
    for line in &lines {
        let _ = writeln!(zpl, "{}", text_field(text_x, line_y, small_height, line));
        line_y += small_height * 3 / 2;
    }
    zpl.push_str("^XZ\n");
    Ok(zpl)
}

/// Category and workshop on one line, either left out when empty.
fn details_line(category: &str, workshop: &str) -> String {
    [category.trim(), workshop.trim()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" - ")
}

fn text_field(x: u32, y: u32, height: u32, text: &str) -> String {
    format!(
        "^FO{x},{y}^A0N,{height},{height}^FH\\^FD{}^FS",
        escape(text)
    )
}

/// Largest character height, up to `max_height` dots, at which `text` fits
/// `width` dots.
fn fitted_height(text: &str, width: u32, max_height: u32) -> u32 {
    let chars = text.chars().count().max(1) as f32;
    let fitting = (width as f32 / (chars * FONT_0_WIDTH_SHARE)) as u32;
    fitting.min(max_height).max(1)
}

/// Cuts `text` to the characters that fit `width` dots at `height`, ending
/// it with "..." when characters were cut.
fn fit_chars(text: &str, width: u32, height: u32) -> String {
    let capacity = (width as f32 / (height as f32 * FONT_0_WIDTH_SHARE)) as usize;
    if text.chars().count() <= capacity {
        return text.to_string();
    }
    let prefix: String = text.chars().take(capacity.saturating_sub(3)).collect();
    if prefix.trim().is_empty() {
        return String::new();
    }
    format!("{}...", prefix.trim_end())
}

/// Escapes field data for `^FH\`: the backslash introduces a hexadecimal
/// byte, and `^` and `~` would start a ZPL command.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\5C"),
            '^' => escaped.push_str("\\5E"),
            '~' => escaped.push_str("\\7E"),
            c if c.is_control() => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_characters_escaped() {
        assert_eq!(escape("a^b~c\\d"), "a\\5Eb\\7Ec\\5Cd");
    }

    #[test]
    fn long_model_cut() {
        let text = "Lenovo ThinkPad T480s Intel Core i5-8350U";
        let fitted = fit_chars(text, 200, 20);
        assert!(fitted.ends_with("..."), "{fitted}");
        assert!(fitted.chars().count() <= 16, "{fitted}");
    }

    #[test]
    fn details_skip_empty_parts() {
        assert_eq!(
            details_line("Ordinateur portable", "Atelier du Faubourg"),
            "Ordinateur portable - Atelier du Faubourg"
        );
        assert_eq!(
            details_line("", "Atelier du Faubourg"),
            "Atelier du Faubourg"
        );
        assert_eq!(details_line("Tablette", " "), "Tablette");
    }

    #[test]
    fn short_model_kept() {
        assert_eq!(fit_chars("HP 840", 200, 20), "HP 840");
    }

    #[test]
    fn height_fits_width() {
        let height = fitted_height("7KXB3R9", 200, 100);
        assert!(7.0 * height as f32 * FONT_0_WIDTH_SHARE <= 200.0);
    }
}
