//! Domain of Filière: the life of a refurbished device as typed events, the
//! commands that produce them and the rules that decide whether a command is
//! allowed in the device's current state.
//!
//! This crate is pure and synchronous: no I/O, no clock, no randomness of its
//! own. Callers pass the current time and a random source in, so every rule
//! can be tested as a plain function.
//!
//! Errors: [`DomainError`] is the only error type of this crate. Each message
//! names the value or device involved; a step refused in the device's state
//! also names that state, the step and the steps allowed instead.

pub mod access;
pub mod code;
pub mod codec;
pub mod command;
pub mod device;
pub mod donation;
pub mod error;
pub mod event;
pub mod fields;
pub mod ids;
pub mod serial;
pub mod text;
pub mod types;

pub use code::DeviceCode;
pub use command::DeviceCommand;
pub use device::{Device, DeviceStatus};
pub use error::DomainError;
pub use event::DeviceEvent;
pub use ids::{DeviceId, DonationId, HouseholdId, PrescriptionId};
