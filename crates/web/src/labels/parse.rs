//! Parsing and checking of template files (TOML, millimetres).
//!
//! A template file has a `description`, a `[label]` table and exactly one of
//! `[sheet]` or `[roll]`; see the files in `labels/` at the workspace root.

use serde::Deserialize;

use super::error::LabelError;
use super::template::{LabelSize, RollLayout, SheetLayout, Stock, Template};

/// Tolerance for geometry checks, in millimetres, because vendors round
/// their published figures to 0.01 mm.
const GEOMETRY_TOLERANCE_MM: f32 = 0.05;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    description: String,
    label: LabelFile,
    sheet: Option<SheetFile>,
    roll: Option<RollFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelFile {
    width: f32,
    height: f32,
    #[serde(default)]
    corner_radius: f32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SheetFile {
    page_width: f32,
    page_height: f32,
    columns: u32,
    rows: u32,
    left_margin: f32,
    top_margin: f32,
    horizontal_pitch: f32,
    vertical_pitch: f32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollFile {
    printable_width: Option<f32>,
    printable_height: Option<f32>,
    dpi: u32,
}

/// Parses the template `name` from the TOML `text` read from `file`, which
/// only serves to name the file in error messages.
pub fn parse_template(name: &str, file: &str, text: &str) -> Result<Template, LabelError> {
    let raw = deserialize(file, text)?;
    let invalid = |field: &str, reason: String| LabelError::InvalidTemplate {
        file: file.to_string(),
        field: field.to_string(),
        reason,
    };
    let label = check_label(&raw.label).map_err(|(field, reason)| invalid(field, reason))?;
    let stock = match (&raw.sheet, &raw.roll) {
        (Some(sheet), None) => check_sheet(sheet, &label).map(Stock::Sheet),
        (None, Some(roll)) => check_roll(roll, &label).map(Stock::Roll),
        (Some(_), Some(_)) => Err((
            "roll",
            "a template is either a [sheet] or a [roll], not both".to_string(),
        )),
        (None, None) => Err((
            "sheet",
            "missing: add a [sheet] table, or a [roll] table for a label printer".to_string(),
        )),
    }
    .map_err(|(field, reason)| invalid(field, reason))?;
    Ok(Template {
        name: name.to_string(),
        description: raw.description,
        label,
        stock,
    })
}

fn deserialize(file: &str, text: &str) -> Result<TemplateFile, LabelError> {
    let error = match toml::Deserializer::parse(text) {
        Ok(deserializer) => match serde_path_to_error::deserialize(deserializer) {
            Ok(raw) => return Ok(raw),
            Err(error) => {
                let path = error.path().to_string();
                (Some(path), error.into_inner())
            }
        },
        Err(error) => (None, error),
    };
    let (path, inner) = error;
    let mut reason = inner.message().trim().to_string();
    if let Some(span) = inner.span() {
        let before = &text.as_bytes()[..span.start.min(text.len())];
        let line = before.iter().filter(|byte| **byte == b'\n').count() + 1;
        reason.push_str(&format!(" (line {line})"));
    }
    Err(LabelError::InvalidTemplate {
        file: file.to_string(),
        field: field_name(path.as_deref(), &reason),
        reason,
    })
}

/// Names the field of a deserialization error. For a missing or unknown
/// field, serde reports the enclosing table as the path and the field itself
/// only in the message, so the two are joined.
fn field_name(path: Option<&str>, reason: &str) -> String {
    let table = match path {
        None => return "(syntax)".to_string(),
        Some(".") | Some("") => None,
        Some(path) => Some(path),
    };
    let quoted = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| reason.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match (table, quoted) {
        (Some(table), Some(key)) if !table.ends_with(key) => format!("{table}.{key}"),
        (Some(table), _) => table.to_string(),
        (None, Some(key)) => key.to_string(),
        (None, None) => "(document)".to_string(),
    }
}

type FieldError = (&'static str, String);

fn positive(field: &'static str, value: f32) -> Result<f32, FieldError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err((
            field,
            format!("{value} is invalid: use a length above 0 mm"),
        ))
    }
}

fn non_negative(field: &'static str, value: f32) -> Result<f32, FieldError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err((
            field,
            format!("{value} is invalid: use a length of 0 mm or more"),
        ))
    }
}

fn check_label(raw: &LabelFile) -> Result<LabelSize, FieldError> {
    let width = positive("label.width", raw.width)?;
    let height = positive("label.height", raw.height)?;
    let corner_radius = non_negative("label.corner_radius", raw.corner_radius)?;
    if corner_radius > width.min(height) / 2.0 {
        return Err((
            "label.corner_radius",
            format!("{corner_radius} mm is more than half the label's smaller side"),
        ));
    }
    Ok(LabelSize {
        width,
        height,
        corner_radius,
    })
}

fn check_sheet(raw: &SheetFile, label: &LabelSize) -> Result<SheetLayout, FieldError> {
    let sheet = SheetLayout {
        page_width: positive("sheet.page_width", raw.page_width)?,
        page_height: positive("sheet.page_height", raw.page_height)?,
        columns: raw.columns,
        rows: raw.rows,
        left_margin: non_negative("sheet.left_margin", raw.left_margin)?,
        top_margin: non_negative("sheet.top_margin", raw.top_margin)?,
        horizontal_pitch: positive("sheet.horizontal_pitch", raw.horizontal_pitch)?,
        vertical_pitch: positive("sheet.vertical_pitch", raw.vertical_pitch)?,
    };
    check_axis(
        [
            "sheet.columns",
            "sheet.horizontal_pitch",
            "sheet.page_width",
        ],
        sheet.columns,
        sheet.left_margin,
        sheet.horizontal_pitch,
        label.width,
        sheet.page_width,
    )?;
    check_axis(
        ["sheet.rows", "sheet.vertical_pitch", "sheet.page_height"],
        sheet.rows,
        sheet.top_margin,
        sheet.vertical_pitch,
        label.height,
        sheet.page_height,
    )?;
    Ok(sheet)
}

/// Checks one direction of the grid: at least one label, labels that do not
/// overlap, and a last label that ends inside the page.
fn check_axis(
    [count_field, pitch_field, page_field]: [&'static str; 3],
    count: u32,
    margin: f32,
    pitch: f32,
    size: f32,
    page: f32,
) -> Result<(), FieldError> {
    if count == 0 {
        return Err((count_field, "0 is invalid: use at least 1".to_string()));
    }
    if count > 1 && pitch + GEOMETRY_TOLERANCE_MM < size {
        return Err((
            pitch_field,
            format!("{pitch} mm is less than the label size {size} mm, so labels would overlap"),
        ));
    }
    let end = margin + (count - 1) as f32 * pitch + size;
    if end > page + GEOMETRY_TOLERANCE_MM {
        return Err((
            page_field,
            format!("{page} mm is too small: the last label ends at {end:.2} mm"),
        ));
    }
    Ok(())
}

fn check_roll(raw: &RollFile, label: &LabelSize) -> Result<RollLayout, FieldError> {
    let printable_width = positive(
        "roll.printable_width",
        raw.printable_width.unwrap_or(label.width),
    )?;
    let printable_height = positive(
        "roll.printable_height",
        raw.printable_height.unwrap_or(label.height),
    )?;
    if printable_width > label.width + GEOMETRY_TOLERANCE_MM {
        return Err((
            "roll.printable_width",
            format!("{printable_width} mm is wider than the label"),
        ));
    }
    if printable_height > label.height + GEOMETRY_TOLERANCE_MM {
        return Err((
            "roll.printable_height",
            format!("{printable_height} mm is taller than the label"),
        ));
    }
    if !(100..=1200).contains(&raw.dpi) {
        return Err((
            "roll.dpi",
            format!(
                "{} is invalid: use the printhead resolution, such as 203 or 300",
                raw.dpi
            ),
        ));
    }
    Ok(RollLayout {
        printable_width,
        printable_height,
        dpi: raw.dpi,
    })
}
