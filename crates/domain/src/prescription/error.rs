//! Errors of prescription rules. They have their own type so that code
//! matching every [`DomainError`] variant (the device pages) needs no change
//! when a prescription rule is added.

use crate::error::DomainError;
use crate::ids::PrescriptionId;
use crate::territory::TerritoryError;
use crate::types::Category;

use super::command::{PrescriptionStatus, PrescriptionStep};

/// A prescription command or value rejected by a rule. Messages name the
/// prescription, device or scheme involved and what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrescriptionError {
    /// A field value is invalid; the message names the field and the value.
    #[error(transparent)]
    Invalid(#[from] DomainError),

    /// The household's commune code is invalid or names no current commune.
    #[error(transparent)]
    Territory(#[from] TerritoryError),

    #[error("household is not eligible for scheme '{scheme}': {reason}")]
    NotEligible { scheme: String, reason: String },

    #[error(
        "prescription {prescription} is {status} and cannot be given step '{step}'; allowed now: {allowed}"
    )]
    StepNotAllowed {
        prescription: PrescriptionId,
        status: PrescriptionStatus,
        step: PrescriptionStep,
        allowed: String,
    },

    #[error("device {device} is a {actual}, but prescription {prescription} needs a {needed}; choose a {needed}")]
    WrongCategory {
        prescription: PrescriptionId,
        device: String,
        actual: Category,
        needed: Category,
    },

    #[error(
        "device {device} is held by organisation {holder}, but prescription {prescription} was \
         accepted by {workshop}; reserve one of {workshop}'s devices or transfer this one first"
    )]
    WrongHolder {
        prescription: PrescriptionId,
        device: String,
        holder: String,
        workshop: String,
    },

    #[error(
        "device {device} is not the one reserved for prescription {prescription} ({reserved}); \
         hand over {reserved} or release it first"
    )]
    NotReservedDevice {
        prescription: PrescriptionId,
        device: String,
        reserved: String,
    },
}
