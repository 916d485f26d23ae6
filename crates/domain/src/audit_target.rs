//! Revisions of the funders' audit target, recorded in one stream of the
//! event log so that a replay up to a past date or position finds the target
//! that applied then.
//!
//! The event stores the target as configured, not its computed share: the
//! share depends on the territory data, which the audit resolves when it
//! reads the target.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::codec::CodecError;

/// The one stream that contains every revision of the target; the stream
/// version is the revision number.
pub const STREAM_ID: &str = "audit_target-national";

/// Current schema version of the audit target event types.
pub const SCHEMA_VERSION: i64 = 1;

/// A fact about the audit target. Serialised with its event type in `type`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum AuditTargetEvent {
    #[serde(rename = "audit_target_set")]
    Set(AuditTargetSet),
}

/// A new revision of the target, which replaces the previous one from the
/// moment it occurred.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditTargetSet {
    /// National target in units, greater than 0.
    pub national_target: u64,
    /// `devices`, `computers` or `households`.
    pub unit: String,
    /// Département code, 9-digit EPCI SIREN or 5-character INSEE commune code.
    pub territory_code: String,
    /// Share set by hand in units; `None` means pro rata of population.
    pub manual_share: Option<u64>,
    /// Organisations whose handovers without a prescription count for the
    /// territory. Empty means every organisation.
    pub workshops: Vec<String>,
}

impl AuditTargetEvent {
    /// Stable name of the event in the log; equal to its serde tag.
    pub fn event_type(&self) -> &'static str {
        match self {
            AuditTargetEvent::Set(_) => "audit_target_set",
        }
    }
}

/// Splits an event into its type, schema version and payload.
pub fn encode_audit_target_event(event: &AuditTargetEvent) -> (&'static str, i64, Value) {
    let mut value = serde_json::to_value(event).expect("audit target events serialise to JSON");
    if let Value::Object(map) = &mut value {
        map.remove("type");
    }
    (event.event_type(), SCHEMA_VERSION, value)
}

/// Rebuilds an event from its stored form.
pub fn decode_audit_target_event(
    event_type: &str,
    version: i64,
    payload: &Value,
) -> Result<AuditTargetEvent, CodecError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_event_round_trips() {
        let event = AuditTargetEvent::Set(AuditTargetSet {
            national_target: 2_000_000,
            unit: "devices".into(),
            territory_code: "28".into(),
            manual_share: Some(40),
            workshops: vec!["atelier".into()],
        });
        let (event_type, version, payload) = encode_audit_target_event(&event);
        assert_eq!(event_type, "audit_target_set");
        assert!(payload.get("type").is_none());
        let decoded = decode_audit_target_event(event_type, version, &payload).unwrap();
        assert_eq!(decoded, event);
    }

    #[test]
    fn future_version_rejected() {
        let error = decode_audit_target_event("audit_target_set", 2, &Value::Null).unwrap_err();
        assert!(matches!(error, CodecError::FutureVersion { .. }), "{error}");
    }
}
