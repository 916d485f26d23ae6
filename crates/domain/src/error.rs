//! The one error type of the domain.

use crate::device::DeviceStatus;

/// A command or a value rejected by a domain rule. Messages name the value or
/// device involved and, where one exists, what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("invalid device code '{input}': {reason}")]
    InvalidCode { input: String, reason: String },

    #[error("invalid {field} '{value}': {reason}")]
    InvalidField {
        field: &'static str,
        value: String,
        reason: String,
    },

    #[error(
        "device {device} is {status} and cannot be given step '{step}'; allowed now: {allowed}"
    )]
    StepNotAllowed {
        device: String,
        status: DeviceStatus,
        step: &'static str,
        allowed: String,
    },

    #[error("device {device} cannot be {action} yet: {}", missing.join("; "))]
    NotReady {
        device: String,
        action: &'static str,
        missing: Vec<String>,
    },

    #[error(
        "device {device} has no storage unit '{unit}' from its diagnosis; known units: {}",
        if known.is_empty() { "none (diagnose the device first)".to_string() } else { known.join(", ") }
    )]
    UnknownStorageUnit {
        device: String,
        unit: String,
        known: Vec<String>,
    },

    #[error(
        "device {device} was given by a public body under the free-transfer rule: a {category} \
         may be sold at {} EUR at most, not {} EUR",
        format_euros(*cap_cents),
        format_euros(*price_cents)
    )]
    PriceAboveCap {
        device: String,
        category: &'static str,
        price_cents: i64,
        cap_cents: i64,
    },

    #[error(
        "device {device} was given by a public body under the free-transfer rule and the decree \
         sets no solidarity price for a {category}: hand it over as a loan or a donation"
    )]
    NoPriceCap {
        device: String,
        category: &'static str,
    },
}

/// Formats euro cents as "180.00".
pub fn format_euros(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}
