//! Text measurement for the PDF standard fonts Helvetica and Helvetica-Bold.

use std::sync::OnceLock;

use printpdf::{BuiltinFont, ParsedFont};

/// Millimetres per PDF point (1/72 inch).
pub const MM_PER_PT: f32 = 25.4 / 72.0;

/// Appended to text cut to fit its line.
const ELLIPSIS: char = '…';

/// Advance width of the space, in thousandths of an em, from Adobe's
/// Helvetica and Helvetica-Bold font metrics. The glyph tables shipped with
/// printpdf have no space glyph.
const SPACE_WIDTH: f32 = 278.0;

/// Typeface of a line of label text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Face {
    Regular,
    Bold,
}

impl Face {
    pub fn builtin_font(self) -> BuiltinFont {
        match self {
            Face::Regular => BuiltinFont::Helvetica,
            Face::Bold => BuiltinFont::HelveticaBold,
        }
    }

    /// Glyph metrics of the face. printpdf 0.12 ships Helvetica-compatible
    /// glyph tables for the built-in fonts, so widths match what PDF viewers
    /// and printers draw.
    fn metrics(self) -> Option<&'static ParsedFont> {
        static REGULAR: OnceLock<Option<ParsedFont>> = OnceLock::new();
        static BOLD: OnceLock<Option<ParsedFont>> = OnceLock::new();
        let cell = match self {
            Face::Regular => &REGULAR,
            Face::Bold => &BOLD,
        };
        cell.get_or_init(|| self.builtin_font().get_parsed_font())
            .as_ref()
    }
}

/// Advance width of `c` in thousandths of an em.
fn char_width(face: Face, c: char) -> f32 {
    if c == ' ' {
        return SPACE_WIDTH;
    }
    let Some(font) = face.metrics() else {
        // Wider than any Helvetica glyph but the widest few, so text measured
        // without metrics still fits.
        return 1000.0;
    };
    let scale = 1000.0 / f32::from(font.units_per_em);
    // Characters outside WinAnsi encoding are written as '?' by printpdf.
    [c, '?']
        .iter()
        .find_map(|candidate| font.lookup_glyph_index(u32::from(*candidate)))
        .and_then(|glyph| font.get_glyph_width(glyph))
        .map_or(1000.0, |width| f32::from(width) * scale)
}

/// Width of `text` set in `face` at `size_pt`, in millimetres.
pub fn text_width_mm(text: &str, face: Face, size_pt: f32) -> f32 {
    let em_thousandths: f32 = text.chars().map(|c| char_width(face, c)).sum();
    em_thousandths / 1000.0 * size_pt * MM_PER_PT
}

/// Replaces line breaks and runs of white space by single spaces, so that a
/// value always prints on one line.
pub fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Shortens `text` to fit `max_width_mm`, ending it with an ellipsis when
/// characters were cut. Returns an empty string when not even the ellipsis
/// fits.
pub fn fit_to_width(text: &str, face: Face, size_pt: f32, max_width_mm: f32) -> String {
    if text_width_mm(text, face, size_pt) <= max_width_mm {
        return text.to_string();
    }
    let to_mm = size_pt * MM_PER_PT / 1000.0;
    let mut width = char_width(face, ELLIPSIS) * to_mm;
    if width > max_width_mm {
        return String::new();
    }
    let mut end = 0;
    for (index, c) in text.char_indices() {
        width += char_width(face, c) * to_mm;
        if width > max_width_mm {
            break;
        }
        end = index + c.len_utf8();
    }
    // Trimming the spaces before the ellipsis only narrows the line.
    let prefix = text[..end].trim_end();
    format!("{prefix}{ELLIPSIS}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_match_helvetica_metrics() {
        // Adobe's Helvetica metrics: A = 667, a = 556, W = 944 per 1000 em.
        let width = text_width_mm("AaW", Face::Regular, 1000.0 / MM_PER_PT);
        assert!((width - 2167.0).abs() < 2.0, "{width}");
        // Helvetica-Bold: A = 722.
        let bold = text_width_mm("A", Face::Bold, 1000.0 / MM_PER_PT);
        assert!((bold - 722.0).abs() < 1.0, "{bold}");
    }

    #[test]
    fn accented_letters_measured() {
        let plain = text_width_mm("ecole", Face::Regular, 10.0);
        let accented = text_width_mm("école", Face::Regular, 10.0);
        assert!((plain - accented).abs() < 0.01);
    }

    #[test]
    fn short_text_kept() {
        assert_eq!(fit_to_width("Dell", Face::Regular, 8.0, 30.0), "Dell");
    }

    #[test]
    fn long_text_cut_with_ellipsis() {
        let text = "Lenovo ThinkPad T480s Intel Core i5-8350U";
        let fitted = fit_to_width(text, Face::Regular, 8.0, 25.0);
        assert!(fitted.ends_with('…'), "{fitted}");
        assert!(fitted.len() < text.len());
        assert!(text_width_mm(&fitted, Face::Regular, 8.0) <= 25.0);
    }

    #[test]
    fn nothing_fits_in_no_space() {
        assert_eq!(fit_to_width("Dell", Face::Regular, 8.0, 0.5), "");
    }

    #[test]
    fn line_breaks_become_spaces() {
        assert_eq!(single_line(" HP\n EliteBook\t840 "), "HP EliteBook 840");
    }
}
