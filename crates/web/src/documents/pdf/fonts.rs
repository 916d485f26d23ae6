//! Text measurement and line wrapping for the PDF standard fonts Helvetica
//! and Helvetica-Bold.

use std::sync::OnceLock;

use printpdf::{BuiltinFont, ParsedFont};

use crate::documents::french::win_ansi_safe;

/// Millimetres per PDF point (1/72 inch).
pub(super) const MM_PER_PT: f32 = 25.4 / 72.0;

/// Advance width of the space, in thousandths of an em, from Adobe's
/// Helvetica and Helvetica-Bold font metrics. The glyph tables shipped with
/// printpdf 0.12 have no space glyph.
const SPACE_WIDTH: f32 = 278.0;

/// Distance between baselines, as a multiple of the font size.
const LINE_SPACING: f32 = 1.25;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Face {
    Regular,
    Bold,
}

impl Face {
    pub(super) fn builtin_font(self) -> BuiltinFont {
        match self {
            Face::Regular => BuiltinFont::Helvetica,
            Face::Bold => BuiltinFont::HelveticaBold,
        }
    }

    /// Glyph metrics of the face, from the Helvetica-compatible tables that
    /// printpdf 0.12 ships for its built-in fonts.
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

/// Height of one line of text set at `size_pt`, in millimetres.
pub(super) fn line_height_mm(size_pt: f32) -> f32 {
    size_pt * LINE_SPACING * MM_PER_PT
}

/// Advance width of `c` in thousandths of an em.
fn char_width(face: Face, c: char) -> f32 {
    if c == ' ' || c == '\u{A0}' {
        return SPACE_WIDTH;
    }
    let Some(font) = face.metrics() else {
        // Wider than any Helvetica glyph but a few, so text measured without
        // metrics still fits.
        return 1000.0;
    };
    let scale = 1000.0 / f32::from(font.units_per_em);
    [c, '?']
        .iter()
        .find_map(|candidate| font.lookup_glyph_index(u32::from(*candidate)))
        .and_then(|glyph| font.get_glyph_width(glyph))
        .map_or(1000.0, |width| f32::from(width) * scale)
}

/// Width of `text` set in `face` at `size_pt`, in millimetres.
pub(super) fn text_width_mm(text: &str, face: Face, size_pt: f32) -> f32 {
    let em_thousandths: f32 = text.chars().map(|c| char_width(face, c)).sum();
    em_thousandths / 1000.0 * size_pt * MM_PER_PT
}

/// Splits `text` into lines no wider than `max_width_mm`, breaking between
/// words, and inside a word only when the word alone is too wide. The text
/// is first reduced to characters the built-in fonts can show. Returns at
/// least one line.
pub(super) fn wrap(text: &str, face: Face, size_pt: f32, max_width_mm: f32) -> Vec<String> {
    let fits = |candidate: &str| text_width_mm(candidate, face, size_pt) <= max_width_mm;
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in win_ansi_safe(text).split(' ').filter(|w| !w.is_empty()) {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if fits(&candidate) {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        for c in word.chars() {
            current.push(c);
            if !fits(&current) && current.chars().count() > 1 {
                current.pop();
                lines.push(std::mem::take(&mut current));
                current.push(c);
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_match_helvetica_metrics() {
        // Adobe's Helvetica metrics: A = 667, a = 556, W = 944 per 1000 em.
        let width = text_width_mm("AaW", Face::Regular, 1000.0 / MM_PER_PT);
        assert!((width - 2167.0).abs() < 2.0, "{width}");
    }

    #[test]
    fn wrap_breaks_between_words() {
        let lines = wrap("Effacement des données du lot", Face::Regular, 10.0, 30.0);
        assert!(lines.len() > 1, "{lines:?}");
        for line in &lines {
            assert!(text_width_mm(line, Face::Regular, 10.0) <= 30.0, "{line}");
        }
        assert_eq!(lines.join(" "), "Effacement des données du lot");
    }

    #[test]
    fn wrap_keeps_word_that_fits_whole() {
        let hash = "a".repeat(64);
        let lines = wrap(&format!("Preuve : {hash} suite"), Face::Regular, 7.0, 180.0);
        assert!(lines.iter().any(|line| line.contains(&hash)), "{lines:?}");
    }

    #[test]
    fn wrap_cuts_word_wider_than_line() {
        let lines = wrap(&"9".repeat(40), Face::Regular, 8.0, 20.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.concat(), "9".repeat(40));
    }

    #[test]
    fn wrap_of_empty_text_is_one_empty_line() {
        assert_eq!(wrap("", Face::Regular, 8.0, 20.0), vec![String::new()]);
    }
}
