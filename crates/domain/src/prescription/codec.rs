//! Conversion between prescription events and the log's raw form, as
//! [`crate::codec`] does for device events. Every prescription event type is
//! at schema version 1; a later version adds an upcast step here.

use serde_json::{Map, Value};

use crate::codec::CodecError;

use super::event::PrescriptionEvent;

/// Current schema version of every prescription event type.
pub const SCHEMA_VERSION: i64 = 1;

/// Splits a prescription event into its type, schema version and payload.
pub fn encode_prescription_event(event: &PrescriptionEvent) -> (&'static str, i64, Value) {
    let mut value =
        serde_json::to_value(event).expect("prescription events always serialise to JSON");
    if let Value::Object(map) = &mut value {
        map.remove("type");
    }
    (event.event_type(), SCHEMA_VERSION, value)
}

/// Rebuilds a prescription event from its stored form.
pub fn decode_prescription_event(
    event_type: &str,
    version: i64,
    payload: &Value,
) -> Result<PrescriptionEvent, CodecError> {
    if version > SCHEMA_VERSION {
        return Err(CodecError::FutureVersion {
            event_type: event_type.to_string(),
            version,
            current: SCHEMA_VERSION,
        });
    }
    if version < SCHEMA_VERSION {
        return Err(CodecError::MissingUpcast {
            event_type: event_type.to_string(),
            version,
        });
    }
    let mut object = match payload {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    object.insert("type".to_string(), Value::String(event_type.to_string()));
    serde_json::from_value(Value::Object(object)).map_err(|source| CodecError::Payload {
        event_type: event_type.to_string(),
        source,
    })
}
