//! The hash chain over the log. Each event's hash is SHA-256 over the
//! previous event's hash and a canonical JSON array of the event's position,
//! stream, version, type, schema version, payload, metadata and times, so a
//! changed, deleted or reordered row breaks the chain from that point on.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Hash that the first event chains to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Serialises JSON with sorted object keys and no spaces. serde_json keeps
/// objects in a sorted map (the `preserve_order` feature is off), so the same
/// value always gives the same bytes.
pub fn canonical_json(value: &Value) -> String {
    serde_json::to_string(value).expect("JSON values always serialise")
}

/// Fields of one event that the chain covers, in their stored text form.
pub(crate) struct ChainFields<'a> {
    pub position: i64,
    pub stream_id: &'a str,
    pub stream_version: i64,
    pub event_type: &'a str,
    pub schema_version: i64,
    pub payload: &'a str,
    pub actor: &'a str,
    pub organisation: &'a str,
    pub command_id: Option<&'a str>,
    pub correlation_id: &'a str,
    pub causation_id: Option<&'a str>,
    pub occurred_at: &'a str,
    pub recorded_at: &'a str,
}

/// Computes the hash of one event chained to `previous`.
///
/// NOTE: the event id is not among the fields, so `filiere verify` does not
/// notice a changed `event_id` column.
pub(crate) fn chain_hash(previous: &str, fields: &ChainFields<'_>) -> String {
    let canonical = json!([
        fields.position,
        fields.stream_id,
        fields.stream_version,
        fields.event_type,
        fields.schema_version,
        fields.payload,
        fields.actor,
        fields.organisation,
        fields.command_id,
        fields.correlation_id,
        fields.causation_id,
        fields.occurred_at,
        fields.recorded_at,
    ]);
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(canonical_json(&canonical).as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"d":2,"c":3}}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":{"c":3,"d":2},"b":1}"#);
    }
}
