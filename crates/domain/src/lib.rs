//! Domain of Filière: the life of a refurbished device as typed events, the
//! commands that produce them and the rules that decide whether a command is
//! allowed in the device's current state.
//!
//! This crate is pure and synchronous: no I/O, no clock, no randomness of its
//! own. Callers pass the current time and a random source in, so every rule
//! can be tested as a plain function.
//!
//! Errors: [`DomainError`] is the error of commands and values; a step
//! refused in the device's state names that state, the step and the steps
//! allowed instead. Reading the territories data file has its own
//! [`territory::TerritoryError`], and value parsing returns
//! [`types::UnknownValue`].

pub mod access;
pub mod audit_target;
pub mod code;
pub mod codec;
pub mod command;
pub mod device;
pub mod donation;
pub mod error;
pub mod event;
pub mod fields;
pub mod ids;
pub mod prescription;
pub mod serial;
pub mod territory;
pub mod text;
pub mod types;

pub use code::DeviceCode;
pub use command::DeviceCommand;
pub use device::{Device, DeviceStatus};
pub use error::DomainError;
pub use event::DeviceEvent;
pub use ids::{DeviceId, DonationId, HouseholdId, PrescriptionId};
