//! Conversion between domain events and the log's raw form: an event type, a
//! schema version and a JSON payload.
//!
//! Old schema versions stay readable forever: [`decode_device_event`] upcasts
//! a stored payload one version at a time until it reaches the current one,
//! then deserialises it. Adding a version means bumping the number in
//! [`schema_version`] and adding one step to [`upcast_step`].

use serde_json::{Map, Value};

use crate::event::DeviceEvent;

/// Error of turning a stored event back into a domain event.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("event type '{event_type}' schema version {version} is newer than this program knows ({current}); upgrade Filière")]
    FutureVersion {
        event_type: String,
        version: i64,
        current: i64,
    },
    #[error("stored event '{event_type}' version {version} has no upcast step; the log was written by an unknown program")]
    MissingUpcast { event_type: String, version: i64 },
    #[error("stored event '{event_type}' does not match its schema: {source}")]
    Payload {
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Current schema version of each device event type.
pub fn schema_version(event_type: &str) -> i64 {
    match event_type {
        // Version 1 recorded memory as `memory_mb` (mebibytes).
        "diagnosed" => 2,
        _ => 1,
    }
}

/// Splits a device event into its type, schema version and payload.
pub fn encode_device_event(event: &DeviceEvent) -> (&'static str, i64, Value) {
    let event_type = event.event_type();
    let mut value = serde_json::to_value(event).expect("device events always serialise to JSON");
    if let Value::Object(map) = &mut value {
        map.remove("type");
    }
    (event_type, schema_version(event_type), value)
}

/// Rebuilds a device event from its stored form, upcasting old versions.
pub fn decode_device_event(
    event_type: &str,
    version: i64,
    payload: &Value,
) -> Result<DeviceEvent, CodecError> {
    let current = schema_version(event_type);
    if version > current {
        return Err(CodecError::FutureVersion {
            event_type: event_type.to_string(),
            version,
            current,
        });
    }
    let mut payload = payload.clone();
    let mut at = version;
    while at < current {
        payload = upcast_step(event_type, at, payload)?;
        at += 1;
    }
    let mut object = match payload {
        Value::Object(map) => map,
        other => {
            let mut map = Map::new();
            map.insert("value".to_string(), other);
            map
        }
    };
    object.insert("type".to_string(), Value::String(event_type.to_string()));
    serde_json::from_value(Value::Object(object)).map_err(|source| CodecError::Payload {
        event_type: event_type.to_string(),
        source,
    })
}

/// Turns a payload of `version` into one of `version + 1`.
fn upcast_step(event_type: &str, version: i64, mut payload: Value) -> Result<Value, CodecError> {
    match (event_type, version) {
        ("diagnosed", 1) => {
            if let Value::Object(map) = &mut payload {
                let mebibytes = map.remove("memory_mb").and_then(|v| v.as_u64());
                let bytes = mebibytes.map(|mb| Value::from(mb * 1024 * 1024));
                map.insert("memory_bytes".to_string(), bytes.unwrap_or(Value::Null));
            }
            Ok(payload)
        }
        _ => Err(CodecError::MissingUpcast {
            event_type: event_type.to_string(),
            version,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Diagnosis;
    use crate::types::{Outcome, Verdict};
    use serde_json::json;

    #[test]
    fn round_trip_keeps_event() {
        let event = DeviceEvent::Diagnosed(Diagnosis {
            functional_test: Outcome::Passed,
            verdict: Verdict::Refurbish,
            storage_units: vec![],
            cpu: "Intel Core i5-4300U".into(),
            memory_bytes: Some(8 << 30),
            battery_wear_percent: Some(20),
            notes: String::new(),
            evidence_sha256: vec![],
        });
        let (event_type, version, payload) = encode_device_event(&event);
        assert_eq!(event_type, "diagnosed");
        assert_eq!(version, 2);
        assert!(payload.get("type").is_none());
        assert_eq!(
            decode_device_event(event_type, version, &payload).unwrap(),
            event
        );
    }

    #[test]
    fn loan_extended_round_trip() {
        let due_on = chrono::NaiveDate::from_ymd_opt(2025, 9, 30).unwrap();
        let event = DeviceEvent::LoanExtended { due_on };
        let (event_type, version, payload) = encode_device_event(&event);
        assert_eq!(event_type, "loan_extended");
        assert_eq!(version, 1);
        assert_eq!(payload, json!({"due_on": "2025-09-30"}));
        assert_eq!(
            decode_device_event(event_type, version, &payload).unwrap(),
            event
        );
    }

    #[test]
    fn diagnosed_v1_upcast_to_bytes() {
        let stored = json!({
            "functional_test": "passed",
            "verdict": "refurbish",
            "storage_units": [],
            "memory_mb": 4096
        });
        let event = decode_device_event("diagnosed", 1, &stored).unwrap();
        let DeviceEvent::Diagnosed(diagnosis) = event else {
            panic!("expected a diagnosis, got {event:?}");
        };
        assert_eq!(diagnosis.memory_bytes, Some(4096 * 1024 * 1024));
    }

    #[test]
    fn future_version_rejected() {
        let error = decode_device_event("graded", 9, &json!({})).unwrap_err();
        assert!(error.to_string().contains("upgrade"), "{error}");
    }

    #[test]
    fn payload_mismatch_names_event_type() {
        let error = decode_device_event("graded", 1, &json!({"grade": "z"})).unwrap_err();
        assert!(error.to_string().contains("graded"), "{error}");
    }
}
