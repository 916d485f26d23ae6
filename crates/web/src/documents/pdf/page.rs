//! A4 portrait pages filled from top to bottom: a header repeated on every
//! page, text that wraps, page breaks when the next block does not fit, and
//! numbered footers added once the page count is known.
//!
//! Positions are millimetres from the top-left corner of the page. PDF
//! itself measures points from the bottom-left corner.

use printpdf::{
    Color, Greyscale, Line, LinePoint, Mm, Op, PaintMode, PdfFontHandle, Point, Polygon,
    PolygonRing, Pt, TextItem, WindingOrder,
};

use super::fonts::{line_height_mm, text_width_mm, wrap, Face, MM_PER_PT};
use crate::documents::french::win_ansi_safe;

pub(super) const PAGE_WIDTH: f32 = 210.0;
pub(super) const PAGE_HEIGHT: f32 = 297.0;
pub(super) const MARGIN: f32 = 15.0;
pub(super) const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// Lowest point of the content; the footer sits below it.
const CONTENT_BOTTOM: f32 = PAGE_HEIGHT - 20.0;
const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 10.0;
const FOOTER_SIZE: f32 = 7.0;

/// One line of the page header.
#[derive(Clone, Debug)]
pub(super) struct HeaderLine {
    pub text: String,
    pub face: Face,
    pub size: f32,
}

/// The pages of one document under construction.
pub(super) struct Layout {
    header: Vec<HeaderLine>,
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    /// Top of the free space on the current page.
    y: f32,
}

impl Layout {
    /// Starts the first page with `header`, which every page repeats.
    pub(super) fn new(header: Vec<HeaderLine>) -> Layout {
        let mut layout = Layout {
            header,
            pages: Vec::new(),
            ops: Vec::new(),
            y: MARGIN,
        };
        layout.draw_header();
        layout
    }

    fn draw_header(&mut self) {
        let lines = self.header.clone();
        for line in &lines {
            self.paragraph(&line.text, line.face, line.size, 0.0);
        }
        self.gap(1.5);
        self.rule(0.3);
        self.gap(4.0);
    }

    /// Free height left on the current page, in millimetres.
    pub(super) fn remaining(&self) -> f32 {
        CONTENT_BOTTOM - self.y
    }

    /// Starts a new page unless `height` millimetres still fit on this one.
    /// Returns true when it started a page.
    pub(super) fn ensure(&mut self, height: f32) -> bool {
        if height <= self.remaining() {
            return false;
        }
        self.page_break();
        true
    }

    pub(super) fn page_break(&mut self) {
        self.pages.push(std::mem::take(&mut self.ops));
        self.y = MARGIN;
        self.draw_header();
    }

    pub(super) fn y(&self) -> f32 {
        self.y
    }

    pub(super) fn gap(&mut self, height: f32) {
        self.y += height;
    }

    /// Writes `text` wrapped to the content width less `indent`, breaking the
    /// page between lines when needed.
    pub(super) fn paragraph(&mut self, text: &str, face: Face, size: f32, indent: f32) {
        let height = line_height_mm(size);
        for line in wrap(text, face, size, CONTENT_WIDTH - indent) {
            self.ensure(height);
            self.text_at(
                &line,
                face,
                size,
                MARGIN + indent,
                self.y + size * MM_PER_PT,
            );
            self.y += height;
        }
    }

    /// Writes one line of text whose baseline starts at `x`, `baseline`,
    /// without wrapping or moving the cursor.
    pub(super) fn text_at(&mut self, text: &str, face: Face, size: f32, x: f32, baseline: f32) {
        if text.is_empty() {
            return;
        }
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::Builtin(face.builtin_font()),
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: point(x, baseline),
            },
            Op::ShowText {
                items: vec![TextItem::Text(win_ansi_safe(text))],
            },
            Op::EndTextSection,
        ]);
    }

    /// Draws a horizontal line across the content width at the cursor.
    pub(super) fn rule(&mut self, width_pt: f32) {
        self.line(MARGIN, self.y, MARGIN + CONTENT_WIDTH, self.y, width_pt);
    }

    pub(super) fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width_pt: f32) {
        self.ops.push(Op::SetOutlineThickness { pt: Pt(width_pt) });
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![line_point(x1, y1), line_point(x2, y2)],
                is_closed: false,
            },
        });
    }

    /// Fills a rectangle in light grey, behind text drawn afterwards.
    pub(super) fn shade(&mut self, x: f32, y: f32, width: f32, height: f32) {
        self.ops.push(Op::SetFillColor {
            col: Color::Greyscale(Greyscale::new(0.9, None)),
        });
        self.ops.push(Op::DrawPolygon {
            polygon: Polygon {
                rings: vec![PolygonRing {
                    points: vec![
                        line_point(x, y),
                        line_point(x + width, y),
                        line_point(x + width, y + height),
                        line_point(x, y + height),
                    ],
                }],
                mode: PaintMode::Fill,
                winding_order: WindingOrder::NonZero,
            },
        });
        self.ops.push(Op::SetFillColor {
            col: Color::Greyscale(Greyscale::new(0.0, None)),
        });
    }

    /// Draws the outline of a rectangle.
    pub(super) fn frame(&mut self, x: f32, y: f32, width: f32, height: f32) {
        self.ops.push(Op::SetOutlineThickness { pt: Pt(0.5) });
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    line_point(x, y),
                    line_point(x + width, y),
                    line_point(x + width, y + height),
                    line_point(x, y + height),
                ],
                is_closed: true,
            },
        });
    }

    /// Ends the document: writes `footer` and "Page N / TOTAL" at the foot
    /// of every page and returns each page's operations.
    pub(super) fn finish(mut self, footer: &str) -> Vec<Vec<Op>> {
        self.pages.push(std::mem::take(&mut self.ops));
        let total = self.pages.len();
        let mut pages = std::mem::take(&mut self.pages);
        for (index, ops) in pages.iter_mut().enumerate() {
            let number = format!("Page {} / {total}", index + 1);
            let number_x =
                MARGIN + CONTENT_WIDTH - text_width_mm(&number, Face::Regular, FOOTER_SIZE);
            self.ops.clear();
            self.text_at(footer, Face::Regular, FOOTER_SIZE, MARGIN, FOOTER_BASELINE);
            self.text_at(
                &number,
                Face::Regular,
                FOOTER_SIZE,
                number_x,
                FOOTER_BASELINE,
            );
            ops.append(&mut self.ops);
        }
        pages
    }
}

fn point(x: f32, y: f32) -> Point {
    Point::new(Mm(x), Mm(PAGE_HEIGHT - y))
}

fn line_point(x: f32, y: f32) -> LinePoint {
    LinePoint {
        p: point(x, y),
        bezier: false,
    }
}
