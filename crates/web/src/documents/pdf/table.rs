//! Tables whose cells wrap, with the header row repeated after each page
//! break. A row may carry a note: a line across every column, kept on the
//! same page as its row.

use super::fonts::{line_height_mm, wrap, Face, MM_PER_PT};
use super::page::{Layout, CONTENT_WIDTH, MARGIN};

/// Space between a cell's edge and its text, in millimetres.
const PADDING: f32 = 1.0;

pub(super) struct Column {
    pub title: &'static str,
    /// Width in millimetres; the widths of a table add up to the content
    /// width.
    pub width: f32,
}

pub(super) struct Table<'a> {
    pub columns: &'a [Column],
    /// Font size of the cells, in points.
    pub size: f32,
    /// Line written above the repeated header after a page break, such as
    /// the name of the device the table belongs to.
    pub continuation: Option<String>,
}

/// A wrapped block of text lines and its height.
struct Wrapped {
    cells: Vec<Vec<String>>,
    height: f32,
}

impl Table<'_> {
    /// Starts the table: its header row, after a page break when the header
    /// and one line of body would not fit.
    pub(super) fn start(&self, layout: &mut Layout) {
        let header = self.wrap_header();
        layout.ensure(header.height + 3.0 * line_height_mm(self.size));
        self.draw_header(layout, &header);
    }

    /// Writes one row, and `note` below it across all columns.
    pub(super) fn row(&self, layout: &mut Layout, cells: &[String], note: Option<&str>) {
        let wrapped = self.wrap_cells(cells, Face::Regular);
        let note_lines = note.map(|text| {
            wrap(
                text,
                Face::Regular,
                self.size,
                CONTENT_WIDTH - 2.0 * PADDING,
            )
        });
        let note_height = note_lines
            .as_ref()
            .map_or(0.0, |lines| lines.len() as f32 * line_height_mm(self.size));
        if layout.ensure(wrapped.height + note_height + PADDING) {
            if let Some(text) = &self.continuation {
                layout.paragraph(text, Face::Bold, 9.0, 0.0);
                layout.gap(1.0);
            }
            let header = self.wrap_header();
            self.draw_header(layout, &header);
        }
        self.draw_cells(layout, &wrapped, Face::Regular);
        if let Some(lines) = note_lines {
            let top = layout.y() - PADDING;
            self.draw_lines(layout, &lines, Face::Regular, MARGIN + PADDING, top);
            layout.gap(note_height);
        }
        layout.gap(PADDING);
        layout.rule(0.2);
    }

    fn wrap_header(&self) -> Wrapped {
        let titles: Vec<String> = self.columns.iter().map(|c| c.title.to_string()).collect();
        self.wrap_cells(&titles, Face::Bold)
    }

    fn draw_header(&self, layout: &mut Layout, header: &Wrapped) {
        let top = layout.y();
        layout.shade(MARGIN, top, CONTENT_WIDTH, header.height + PADDING);
        self.draw_cells(layout, header, Face::Bold);
        layout.gap(PADDING);
        layout.rule(0.4);
    }

    fn wrap_cells(&self, cells: &[String], face: Face) -> Wrapped {
        let cells: Vec<Vec<String>> = self
            .columns
            .iter()
            .zip(cells)
            .map(|(column, text)| wrap(text, face, self.size, column.width - 2.0 * PADDING))
            .collect();
        let lines = cells.iter().map(Vec::len).max().unwrap_or(1);
        Wrapped {
            cells,
            height: lines as f32 * line_height_mm(self.size) + PADDING,
        }
    }

    fn draw_cells(&self, layout: &mut Layout, wrapped: &Wrapped, face: Face) {
        let top = layout.y();
        let mut x = MARGIN;
        for (column, lines) in self.columns.iter().zip(&wrapped.cells) {
            self.draw_lines(layout, lines, face, x + PADDING, top);
            x += column.width;
        }
        layout.gap(wrapped.height);
    }

    /// Writes `lines` one under the other, the first one's top at `top`.
    fn draw_lines(&self, layout: &mut Layout, lines: &[String], face: Face, x: f32, top: f32) {
        let height = line_height_mm(self.size);
        for (index, line) in lines.iter().enumerate() {
            let baseline = top + PADDING + index as f32 * height + self.size * MM_PER_PT;
            layout.text_at(line, face, self.size, x, baseline);
        }
    }
}
