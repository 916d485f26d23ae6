//! Charts drawn on the server as inline SVG: horizontal bars, vertical
//! columns (one per month) and a progress gauge. They need no script and no
//! font file. Each chart has a `<title>` and a `<desc>` referenced by
//! `aria-labelledby`, and the page shows the same numbers in a table.

use std::fmt::Write;

/// Width of every chart in SVG user units; the CSS scales it to the page.
const WIDTH: u32 = 640;
/// Width kept for the labels of horizontal bars.
const LABEL_WIDTH: u32 = 200;
/// Width kept for the value written after each horizontal bar.
const VALUE_WIDTH: u32 = 90;
const BAR_HEIGHT: u32 = 22;
/// Fill of bars and of the gauge: the green of the navigation bar.
const BAR_COLOUR: &str = "#2e6b4f";
const BAR_GAP: u32 = 8;
const COLUMN_CHART_HEIGHT: u32 = 220;
/// Maximum length of a label on a chart, in characters. The table next to
/// the chart shows the full label.
const MAX_LABEL_CHARS: usize = 28;

/// One labelled value of a chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub value: u64,
}

impl Bar {
    pub fn new(label: impl Into<String>, value: u64) -> Bar {
        Bar {
            label: label.into(),
            value,
        }
    }
}

/// Escapes text for XML character data and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// Formats a count the French way, with a narrow no-break space between
/// groups of three digits: 1 234 567.
pub fn format_count(value: u64) -> String {
    let digits = value.to_string();
    let mut formatted = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            formatted.push('\u{202f}');
        }
        formatted.push(digit);
    }
    formatted
}

/// Returns the top of the axis: the smallest 1, 2 or 5 times a power of ten
/// that is at least `max`, and 1 for an empty chart.
pub fn axis_max(max: u64) -> u64 {
    if max <= 1 {
        return 1;
    }
    let mut power: u64 = 1;
    loop {
        for step in [1, 2, 5] {
            let candidate = power.saturating_mul(step);
            if candidate >= max {
                return candidate;
            }
        }
        if power > u64::MAX / 10 {
            return max;
        }
        power *= 10;
    }
}

/// Scales `value` on an axis from 0 to `max` drawn over `length` units.
pub fn scale(value: u64, max: u64, length: u32) -> f64 {
    if max == 0 {
        return 0.0;
    }
    let ratio = (value as f64 / max as f64).clamp(0.0, 1.0);
    ratio * f64::from(length)
}

fn shorten(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL_CHARS {
        return label.to_string();
    }
    let kept: String = label.chars().take(MAX_LABEL_CHARS - 1).collect();
    format!("{kept}…")
}

/// Opens an accessible `<svg>` with its title and description.
fn open(id: &str, title: &str, description: &str, height: u32) -> String {
    let id = escape(id);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" \
         width=\"100%\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" \
         font-size=\"13\" fill=\"#222\" aria-labelledby=\"{id}-title {id}-desc\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(description)
    )
}

fn empty_chart(id: &str, title: &str, description: &str) -> String {
    let mut svg = open(id, title, description, 40);
    svg.push_str(
        "<text x=\"0\" y=\"25\" class=\"chart-empty\">Aucune donnée pour ces filtres</text></svg>",
    );
    svg
}

/// Draws one horizontal bar per value, longest label on the left, value on
/// the right of each bar.
pub fn horizontal_bars(id: &str, title: &str, description: &str, bars: &[Bar]) -> String {
    if bars.is_empty() {
        return empty_chart(id, title, description);
    }
    let count = u32::try_from(bars.len()).unwrap_or(u32::MAX);
    let height = count.saturating_mul(BAR_HEIGHT + BAR_GAP) + BAR_GAP;
    let max = axis_max(bars.iter().map(|b| b.value).max().unwrap_or(0));
    let length = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    let mut svg = open(id, title, description, height);
    for (index, bar) in bars.iter().enumerate() {
        let y = BAR_GAP + u32::try_from(index).unwrap_or(0) * (BAR_HEIGHT + BAR_GAP);
        let width = scale(bar.value, max, length);
        let text_y = y + BAR_HEIGHT / 2 + 5;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{text_y}\" text-anchor=\"end\">{}</text>\
             <rect class=\"bar\" fill=\"{BAR_COLOUR}\" x=\"{LABEL_WIDTH}\" y=\"{y}\" width=\"{width:.1}\" \
             height=\"{BAR_HEIGHT}\"><title>{} : {}</title></rect>\
             <text x=\"{:.1}\" y=\"{text_y}\">{}</text>",
            LABEL_WIDTH - 8,
            escape(&shorten(&bar.label)),
            escape(&bar.label),
            format_count(bar.value),
            f64::from(LABEL_WIDTH) + width + 6.0,
            format_count(bar.value),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Draws one vertical column per value, in order (months, quarters or
/// years), with the axis maximum written at the top left.
pub fn columns(id: &str, title: &str, description: &str, bars: &[Bar]) -> String {
    if bars.is_empty() {
        return empty_chart(id, title, description);
    }
    let top = 24;
    let bottom = 36;
    let left = 56;
    let plot_height = COLUMN_CHART_HEIGHT - top - bottom;
    let plot_width = WIDTH - left - 8;
    let max = axis_max(bars.iter().map(|b| b.value).max().unwrap_or(0));
    let slot = f64::from(plot_width) / bars.len() as f64;
    let column_width = (slot * 0.7).max(1.0);
    let baseline = top + plot_height;
    let mut svg = open(id, title, description, COLUMN_CHART_HEIGHT);
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
         <text x=\"{}\" y=\"{baseline}\" text-anchor=\"end\">0</text>\
         <line class=\"axis\" stroke=\"#888\" x1=\"{left}\" y1=\"{baseline}\" x2=\"{}\" y2=\"{baseline}\"/>",
        left - 6,
        top + 4,
        format_count(max),
        left - 6,
        WIDTH - 8,
    );
    // Labels are thinned out so that at most about 12 are written.
    let label_every = bars.len().div_ceil(12);
    for (index, bar) in bars.iter().enumerate() {
        let height = scale(bar.value, max, plot_height);
        let x = f64::from(left) + slot * index as f64 + (slot - column_width) / 2.0;
        let y = f64::from(baseline) - height;
        let _ = write!(
            svg,
            "<rect class=\"bar\" fill=\"{BAR_COLOUR}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{column_width:.1}\" \
             height=\"{height:.1}\"><title>{} : {}</title></rect>",
            escape(&bar.label),
            format_count(bar.value),
        );
        if index % label_every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x + column_width / 2.0,
                baseline + 20,
                escape(&shorten(&bar.label)),
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Draws a progress gauge: a bar filled to `value / target` (capped at the
/// full width) with the percentage written beside it.
pub fn gauge(id: &str, title: &str, description: &str, value: u64, target: u64) -> String {
    let length = WIDTH - 120;
    let filled = scale(value, target, length);
    let percent = if target == 0 {
        0.0
    } else {
        value as f64 * 100.0 / target as f64
    };
    let mut svg = open(id, title, description, 48);
    let _ = write!(
        svg,
        "<rect class=\"gauge-track\" fill=\"#e3e3e3\" x=\"0\" y=\"8\" width=\"{length}\" height=\"28\" rx=\"4\"/>\
         <rect class=\"gauge-fill\" fill=\"{BAR_COLOUR}\" x=\"0\" y=\"8\" width=\"{filled:.1}\" height=\"28\" rx=\"4\"/>\
         <text x=\"{}\" y=\"28\">{} %</text></svg>",
        length + 10,
        format!("{percent:.2}").replace('.', ","),
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that tags are balanced and attribute quotes closed: enough to
    /// catch a broken chart without an XML parser.
    fn well_formed(svg: &str) -> bool {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let Some(end) = rest[start..].find('>') else {
                return false;
            };
            let tag = &rest[start + 1..start + end];
            rest = &rest[start + end + 1..];
            if !tag.matches('"').count().is_multiple_of(2) {
                return false;
            }
            if let Some(name) = tag.strip_prefix('/') {
                if stack.pop().as_deref() != Some(name.trim()) {
                    return false;
                }
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap_or_default();
                stack.push(name.to_string());
            }
        }
        stack.is_empty() && !rest.contains('>')
    }

    #[test]
    fn escape_replaces_markup() {
        assert_eq!(
            escape("<b>Tom & \"Jerry\"'s</b>"),
            "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&#39;s&lt;/b&gt;"
        );
        assert_eq!(escape("a\u{0}b"), "ab");
    }

    #[test]
    fn labels_escaped_in_chart() {
        let svg = horizontal_bars("c", "T<1>", "D&D", &[Bar::new("<script>", 3)]);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
        assert!(
            svg.contains("<title id=\"c-title\">T&lt;1&gt;</title>"),
            "{svg}"
        );
        assert!(well_formed(&svg), "{svg}");
    }

    #[test]
    fn axis_rounds_up_to_nice_value() {
        assert_eq!(axis_max(0), 1);
        assert_eq!(axis_max(1), 1);
        assert_eq!(axis_max(3), 5);
        assert_eq!(axis_max(7), 10);
        assert_eq!(axis_max(11), 20);
        assert_eq!(axis_max(2_000_000), 2_000_000);
        assert_eq!(axis_max(2_000_001), 5_000_000);
        assert!(axis_max(u64::MAX) >= u64::MAX / 2);
    }

    #[test]
    fn scale_is_proportional_and_capped() {
        assert_eq!(scale(5, 10, 100), 50.0);
        assert_eq!(scale(20, 10, 100), 100.0);
        assert_eq!(scale(3, 0, 100), 0.0);
    }

    #[test]
    fn empty_data_says_so() {
        for svg in [
            horizontal_bars("e", "Vide", "Rien", &[]),
            columns("e", "Vide", "Rien", &[]),
        ] {
            assert!(svg.contains("Aucune donnée"), "{svg}");
            assert!(!svg.contains("<rect"), "{svg}");
            assert!(well_formed(&svg), "{svg}");
        }
    }

    #[test]
    fn one_value_fills_the_axis() {
        let svg = horizontal_bars("o", "Un", "Une valeur", &[Bar::new("Portable", 1)]);
        let full = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
        assert!(svg.contains(&format!("width=\"{full}.0\"")), "{svg}");
        let svg = columns("o", "Un", "Une valeur", &[Bar::new("2025-01", 4)]);
        assert_eq!(svg.matches("<rect").count(), 1, "{svg}");
        assert!(well_formed(&svg), "{svg}");
    }

    #[test]
    fn large_values_formatted_and_scaled() {
        let bars = [Bar::new("A", 2_000_000), Bar::new("B", 1_000_000)];
        let svg = horizontal_bars("l", "Grand", "Grandes valeurs", &bars);
        assert!(svg.contains("2\u{202f}000\u{202f}000"), "{svg}");
        let full = f64::from(WIDTH - LABEL_WIDTH - VALUE_WIDTH);
        assert!(
            svg.contains(&format!("width=\"{:.1}\"", full / 2.0)),
            "{svg}"
        );
        let svg = columns("l", "Grand", "Grandes valeurs", &[Bar::new("x", u64::MAX)]);
        assert!(well_formed(&svg), "{svg}");
    }

    #[test]
    fn gauge_caps_at_full_width() {
        let svg = gauge("g", "Objectif", "Progression", 150, 100);
        assert!(svg.contains("150,00 %"), "{svg}");
        assert!(
            svg.contains(&format!("width=\"{}.0\"", WIDTH - 120)),
            "{svg}"
        );
        let zero = gauge("g", "Objectif", "Sans cible", 3, 0);
        assert!(zero.contains("0,00 %"), "{zero}");
        assert!(well_formed(&svg), "{svg}");
    }

    #[test]
    fn count_grouped_by_thousands() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1000), "1\u{202f}000");
        assert_eq!(format_count(1_234_567), "1\u{202f}234\u{202f}567");
    }

    #[test]
    fn many_columns_thin_labels() {
        let bars: Vec<Bar> = (0..48).map(|i| Bar::new(format!("m{i}"), i)).collect();
        let svg = columns("m", "Mois", "Quatre ans", &bars);
        assert_eq!(svg.matches("<rect").count(), 48);
        assert!(svg.matches("text-anchor=\"middle\"").count() <= 12, "{svg}");
        assert!(well_formed(&svg), "{svg}");
    }
}
