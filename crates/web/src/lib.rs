//! Web server of Filière: French pages for the workshop, a JSON API under
//! `/api/v1` and QR labels.
//!
//! Errors: handlers return [`errors::AppError`], rendered as a French page or
//! as JSON depending on the route. Label building returns
//! [`labels::LabelError`], and the server itself returns `std::io::Error`
//! from binding and serving.

mod api;
mod batches;
pub mod documents;
mod donation_input;
pub mod errors;
mod extract;
mod forms;
pub mod labels;
pub mod messages;
mod messages_reasons;
mod pages;
mod printing;
mod recording;
mod server;
mod stock_view;

pub use api::ApiDoc;
pub use recording::{WEB_ACTOR, WEB_ORGANISATION};
pub use server::{router, serve, AppState, ServeConfig, BODY_LIMIT_BYTES};
