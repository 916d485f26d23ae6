//! Typed identifiers. Each is a UUIDv7, so ids sort by creation time and a
//! device id cannot be passed where a donation id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($name:ident, $prefix:literal) => {
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Stream-name prefix of this kind of id in the event log.
            pub const STREAM_PREFIX: &'static str = $prefix;

            /// Creates an id from a UUIDv7 whose timestamp is `now`.
            pub fn new_at(now: chrono::DateTime<chrono::Utc>, random: [u8; 10]) -> Self {
                let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
                Self(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid())
            }

            /// Creates an id from the system clock; for callers outside the
            /// pure domain.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Name of the event stream this id owns, such as `device-0190...`.
            pub fn stream_id(&self) -> String {
                format!("{}-{}", $prefix, self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self)
            }
        }
    };
}

typed_id!(DeviceId, "device");
typed_id!(DonationId, "donation");
typed_id!(HouseholdId, "household");
typed_id!(PrescriptionId, "prescription");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_id_has_kind_prefix() {
        let id = DeviceId::generate();
        assert!(id.stream_id().starts_with("device-"));
        assert_eq!(id.stream_id().len(), "device-".len() + 36);
    }

    #[test]
    fn ids_parse_back_from_display() {
        let id = DonationId::generate();
        let parsed: DonationId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
    }
}
