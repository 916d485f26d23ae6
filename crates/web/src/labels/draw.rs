//! Drawing primitives on one PDF page, in millimetres from the top-left
//! corner; PDF itself measures points from the bottom-left corner.

use printpdf::{
    Color, CurTransMat, DictItem, Greyscale, LinePoint, Mm, Op, PaintMode, PdfFontHandle, Point,
    Polygon, PolygonRing, Pt, TextItem, WindingOrder,
};

use super::qr::Run;
use super::template::MmRect;
use super::text::{Face, MM_PER_PT};

/// Distance of the Bézier control points from a quarter circle's ends, as a
/// fraction of the radius, that best approximates the circle.
const BEZIER_CIRCLE_KAPPA: f32 = 0.552_284_8;

/// The operations of one page under construction.
pub struct Canvas {
    page_height: f32,
    ops: Vec<Op>,
}

impl Canvas {
    /// Starts a page `page_height` millimetres high.
    pub fn new(page_height: f32) -> Self {
        Self {
            page_height,
            ops: Vec::new(),
        }
    }

    pub fn into_ops(self) -> Vec<Op> {
        self.ops
    }

    fn point(&self, x: f32, y: f32) -> LinePoint {
        LinePoint {
            p: Point::new(Mm(x), Mm(self.page_height - y)),
            bezier: false,
        }
    }

    fn control(&self, x: f32, y: f32) -> LinePoint {
        LinePoint {
            bezier: true,
            ..self.point(x, y)
        }
    }

    /// Sets the grey level of fills and text: 0 is black, 1 is white.
    pub fn set_fill_grey(&mut self, level: f32) {
        self.ops.push(Op::SetFillColor {
            col: Color::Greyscale(Greyscale::new(level, None)),
        });
    }

    /// Sets the grey level and the width, in millimetres, of strokes.
    pub fn set_stroke(&mut self, level: f32, width_mm: f32) {
        self.ops.push(Op::SetOutlineColor {
            col: Color::Greyscale(Greyscale::new(level, None)),
        });
        self.ops.push(Op::SetOutlineThickness {
            pt: Pt(width_mm / MM_PER_PT),
        });
    }

    /// Fills `rect`.
    pub fn fill_rect(&mut self, rect: MmRect) {
        let ring = rect_ring([rect.x, rect.y, rect.width, rect.height], |x, y| {
            self.point(x, y)
        });
        self.fill_rings(vec![ring]);
    }

    /// Fills the dark modules of a QR symbol whose top-left module corner is
    /// at `x`, `y`, with modules of `module` millimetres.
    ///
    /// A transformation matrix scales the page to module units, so each run
    /// is one `re` operator with small integers, which keeps the content
    /// stream short and quick to compress. All runs form a single path with one fill,
    /// so that abutting rows render as one shape without anti-aliasing seams.
    pub fn fill_modules(&mut self, x: f32, y: f32, module: f32, runs: &[Run]) {
        let origin = self.point(x, y).p;
        let scale = module / MM_PER_PT;
        self.ops.reserve(runs.len() + 4);
        self.ops.push(Op::SaveGraphicsState);
        self.ops.push(Op::SetTransformationMatrix {
            // Scales by `module` and flips the y axis, so that rows count
            // downwards from the symbol's top edge.
            matrix: CurTransMat::Raw([scale, 0.0, 0.0, -scale, origin.x.0, origin.y.0]),
        });
        // printpdf 0.12 has no operator that adds a rectangle to a path
        // without painting it, so `re` and `f` are written as `Op::Unknown`.
        // `write_pdf` saves with `secure: false` so that printpdf keeps them.
        for run in runs {
            let value = [run.column, run.row, run.length, 1]
                .map(|n| DictItem::Int(n as i64))
                .to_vec();
            self.ops.push(Op::Unknown {
                key: "re".to_string(),
                value,
            });
        }
        self.ops.push(Op::Unknown {
            key: "f".to_string(),
            value: Vec::new(),
        });
        self.ops.push(Op::RestoreGraphicsState);
    }

    fn fill_rings(&mut self, rings: Vec<PolygonRing>) {
        if rings.is_empty() {
            return;
        }
        self.ops.push(Op::DrawPolygon {
            polygon: Polygon {
                rings,
                mode: PaintMode::Fill,
                winding_order: WindingOrder::NonZero,
            },
        });
    }

    /// Strokes the outline of `rect` with corners rounded to `radius`.
    pub fn stroke_outline(&mut self, rect: MmRect, radius: f32) {
        let ring = self.rounded_ring(rect, radius.min(rect.width / 2.0).min(rect.height / 2.0));
        self.ops.push(Op::DrawPolygon {
            polygon: Polygon {
                rings: vec![ring],
                mode: PaintMode::Stroke,
                winding_order: WindingOrder::NonZero,
            },
        });
    }

    /// Builds a closed path around `rect`, clockwise from the middle of the
    /// top edge, with one cubic Bézier curve per rounded corner.
    fn rounded_ring(&self, rect: MmRect, radius: f32) -> PolygonRing {
        let MmRect {
            x,
            y,
            width,
            height,
        } = rect;
        let (right, bottom, r) = (x + width, y + height, radius);
        let k = r * (1.0 - BEZIER_CIRCLE_KAPPA);
        let points = vec![
            self.point(x + width / 2.0, y),
            self.point(right - r, y),
            self.control(right - k, y),
            self.control(right, y + k),
            self.point(right, y + r),
            self.point(right, bottom - r),
            self.control(right, bottom - k),
            self.control(right - k, bottom),
            self.point(right - r, bottom),
            self.point(x + r, bottom),
            self.control(x + k, bottom),
            self.control(x, bottom - k),
            self.point(x, bottom - r),
            self.point(x, y + r),
            self.control(x, y + k),
            self.control(x + k, y),
            self.point(x + r, y),
            self.point(x + width / 2.0, y),
        ];
        PolygonRing { points }
    }

    /// Writes `text` in its own text section (`BT` … `ET`), with the left
    /// end of its baseline at `x`, `baseline`.
    pub fn text(&mut self, text: &str, face: Face, size_pt: f32, x: f32, baseline: f32) {
        if text.is_empty() {
            return;
        }
        let position = self.point(x, baseline).p;
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::Builtin(face.builtin_font()),
                size: Pt(size_pt),
            },
            Op::SetTextCursor { pos: position },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_string())],
            },
            Op::EndTextSection,
        ]);
    }
}

/// Builds the closed ring of the rectangle `[x, y, width, height]`, mapping
/// each corner through `point`.
fn rect_ring(
    [x, y, width, height]: [f32; 4],
    point: impl Fn(f32, f32) -> LinePoint,
) -> PolygonRing {
    PolygonRing {
        points: vec![
            point(x, y),
            point(x + width, y),
            point(x + width, y + height),
            point(x, y + height),
        ],
    }
}
