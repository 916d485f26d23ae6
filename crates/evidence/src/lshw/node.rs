//! Field access on lshw nodes, tolerant of the value types that real files
//! use (a number written as a string, `logicalname` as a string or a list).

use filiere_domain::serial::SerialNumber;
use serde_json::Value;

/// Returns a text field, trimmed, or `None` when it is missing, empty or
/// not a string.
pub(crate) fn text<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    let value = node.get(key)?.as_str()?.trim();
    (!value.is_empty()).then_some(value)
}

/// Returns a text field exactly as written, spaces included, or `None` when
/// it is missing, blank or not a string.
pub(crate) fn raw_text<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    node.get(key)?
        .as_str()
        .filter(|value| !value.trim().is_empty())
}

/// Returns a non-negative integer field, written as a JSON number or as a
/// string of digits. Floating-point values are rounded.
pub(crate) fn number(node: &Value, key: &str) -> Option<u64> {
    as_u64(node.get(key)?)
}

pub(crate) fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64().or_else(|| {
            let float = number.as_f64()?;
            (float.is_finite() && float >= 0.0 && float < u64::MAX as f64)
                .then(|| float.round() as u64)
        }),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Reads an energy in mWh from a value such as `48010`, `"48010"`, `"48010mWh"`
/// or `"48.01 Wh"`.
pub(crate) fn energy_mwh(value: &Value) -> Option<u64> {
    if let Some(number) = as_u64(value) {
        return Some(number);
    }
    let text = value.as_str()?.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (amount, unit) = text.split_at(split);
    let amount: f64 = amount.parse().ok()?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "mwh" => 1.0,
        "wh" => 1000.0,
        _ => return None,
    };
    let milliwatt_hours = amount * factor;
    (milliwatt_hours.is_finite() && milliwatt_hours < u64::MAX as f64)
        .then(|| milliwatt_hours.round() as u64)
}

/// Returns the sub-nodes of a node, none when `children` is missing or
/// malformed.
pub(crate) fn children(node: &Value) -> impl Iterator<Item = &Value> {
    node.get("children")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|child| child.is_object())
}

/// Returns the names in `logicalname`, which lshw writes as a string or, when a
/// node has several names, as a list.
pub(crate) fn logical_names(node: &Value) -> Vec<&str> {
    match node.get("logicalname") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Checks whether the node lists `name` among its capabilities.
pub(crate) fn has_capability(node: &Value, name: &str) -> bool {
    node.get("capabilities")
        .and_then(Value::as_object)
        .is_some_and(|capabilities| capabilities.contains_key(name))
}

/// Returns the capability names of the node.
pub(crate) fn capabilities(node: &Value) -> impl Iterator<Item = &str> {
    node.get("capabilities")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|capabilities| capabilities.keys().map(String::as_str))
}

/// Returns the serial when it identifies something, or `None` for a
/// placeholder such as "To Be Filled By O.E.M." or a value that a
/// spreadsheet rewrote in scientific notation. Callers keep the raw text
/// where the output type has a field for it.
pub(crate) fn serial_or_none(raw: &str) -> Option<String> {
    SerialNumber::parse(raw)
        .ok()
        .flatten()
        .map(|serial| serial.as_str().to_string())
}
