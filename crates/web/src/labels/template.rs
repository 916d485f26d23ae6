//! Label stock geometry: the parsed and checked form of a template file.
//!
//! All lengths are millimetres, measured from the top-left corner of the page
//! as a ruler on the sheet would show them. Conversion to PDF coordinates
//! (points from the bottom-left corner) happens only when drawing.

/// Distance kept free inside each edge of a sheet label, in millimetres,
/// because laser and inkjet printers place the page within about 1 mm.
pub const SHEET_INSET_MM: f32 = 1.5;

/// Distance kept free inside the printable area of a roll label, in
/// millimetres, so that content never touches the die-cut edge.
pub const ROLL_INSET_MM: f32 = 1.0;

/// One label stock: a sheet of labels or a roll, and the size of one label.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    /// Name used to select the template: the stem of its file name.
    pub name: String,
    /// Human-readable description shown when choosing a template.
    pub description: String,
    pub label: LabelSize,
    pub stock: Stock,
}

/// Size of one label.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelSize {
    pub width: f32,
    pub height: f32,
    /// Radius of the die-cut corners, 0 for square corners.
    pub corner_radius: f32,
}

/// Layout of the labels on the stock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stock {
    Sheet(SheetLayout),
    Roll(RollLayout),
}

/// A page with a grid of labels, numbered row by row from the top left.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SheetLayout {
    pub page_width: f32,
    pub page_height: f32,
    pub columns: u32,
    pub rows: u32,
    /// Distance from the left page edge to the left edge of the first column.
    pub left_margin: f32,
    /// Distance from the top page edge to the top edge of the first row.
    pub top_margin: f32,
    /// Distance between the left edges of two neighbouring columns.
    pub horizontal_pitch: f32,
    /// Distance between the top edges of two neighbouring rows.
    pub vertical_pitch: f32,
}

/// A roll of labels for a label printer: each label is one page.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RollLayout {
    /// Width of the area the printer can print, centred on the label.
    pub printable_width: f32,
    /// Height of the area the printer can print, centred on the label.
    pub printable_height: f32,
    /// Printhead resolution in dots per inch.
    pub dpi: u32,
}

/// A rectangle in millimetres, from the top-left corner of the page.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MmRect {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl MmRect {
    /// Shrinks the rectangle by `inset` on every side.
    pub fn inset(self, inset: f32) -> Self {
        Self {
            x: self.x + inset,
            y: self.y + inset,
            width: self.width - 2.0 * inset,
            height: self.height - 2.0 * inset,
        }
    }

    /// Moves the rectangle by `dx` to the right and `dy` down.
    pub fn translate(self, dx: f32, dy: f32) -> Self {
        Self {
            x: self.x + dx,
            y: self.y + dy,
            ..self
        }
    }
}

impl Template {
    /// Page width and height in millimetres: the sheet, or one roll label.
    pub fn page_size(&self) -> (f32, f32) {
        match self.stock {
            Stock::Sheet(sheet) => (sheet.page_width, sheet.page_height),
            Stock::Roll(_) => (self.label.width, self.label.height),
        }
    }

    /// Number of labels on one page: 1 for a roll.
    pub fn labels_per_page(&self) -> usize {
        match self.stock {
            Stock::Sheet(sheet) => (sheet.columns * sheet.rows) as usize,
            Stock::Roll(_) => 1,
        }
    }

    /// Printhead resolution of a roll printer, `None` for sheets.
    pub fn dpi(&self) -> Option<u32> {
        match self.stock {
            Stock::Sheet(_) => None,
            Stock::Roll(roll) => Some(roll.dpi),
        }
    }

    /// Outline of the label at `index` (0-based, row by row) on its page.
    pub fn cell(&self, index: usize) -> MmRect {
        let (x, y) = match self.stock {
            Stock::Sheet(sheet) => {
                let column = (index % sheet.columns as usize) as f32;
                let row = (index / sheet.columns as usize) as f32;
                (
                    sheet.left_margin + column * sheet.horizontal_pitch,
                    sheet.top_margin + row * sheet.vertical_pitch,
                )
            }
            Stock::Roll(_) => (0.0, 0.0),
        };
        MmRect {
            x,
            y,
            width: self.label.width,
            height: self.label.height,
        }
    }

    /// Area of the label at `index` where content may be drawn.
    pub fn content_area(&self, index: usize) -> MmRect {
        let cell = self.cell(index);
        match self.stock {
            Stock::Sheet(_) => cell.inset(SHEET_INSET_MM),
            Stock::Roll(roll) => MmRect {
                x: cell.x + (cell.width - roll.printable_width) / 2.0,
                y: cell.y + (cell.height - roll.printable_height) / 2.0,
                width: roll.printable_width,
                height: roll.printable_height,
            }
            .inset(ROLL_INSET_MM),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> Template {
        Template {
            name: "test".to_string(),
            description: String::new(),
            label: LabelSize {
                width: 60.0,
                height: 30.0,
                corner_radius: 0.0,
            },
            stock: Stock::Sheet(SheetLayout {
                page_width: 210.0,
                page_height: 297.0,
                columns: 3,
                rows: 9,
                left_margin: 5.0,
                top_margin: 10.0,
                horizontal_pitch: 65.0,
                vertical_pitch: 31.0,
            }),
        }
    }

    #[test]
    fn cells_run_row_by_row() {
        let template = sheet();
        assert_eq!(template.cell(0).x, 5.0);
        assert_eq!(template.cell(0).y, 10.0);
        assert_eq!(template.cell(2).x, 5.0 + 2.0 * 65.0);
        assert_eq!(template.cell(3).x, 5.0);
        assert_eq!(template.cell(3).y, 10.0 + 31.0);
    }

    #[test]
    fn sheet_content_area_is_inset() {
        let area = sheet().content_area(0);
        assert_eq!(area.x, 5.0 + SHEET_INSET_MM);
        assert_eq!(area.width, 60.0 - 2.0 * SHEET_INSET_MM);
    }

    #[test]
    fn roll_content_area_is_centred() {
        let template = Template {
            stock: Stock::Roll(RollLayout {
                printable_width: 50.0,
                printable_height: 20.0,
                dpi: 300,
            }),
            ..sheet()
        };
        let area = template.content_area(0);
        assert_eq!(area.x, 5.0 + ROLL_INSET_MM);
        assert_eq!(area.y, 5.0 + ROLL_INSET_MM);
        assert_eq!(template.page_size(), (60.0, 30.0));
        assert_eq!(template.labels_per_page(), 1);
    }
}
