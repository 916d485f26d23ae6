//! Web server of Filière: French pages for the workshop, a JSON API under
//! `/api/v1` and QR labels, behind sign-in and one authorization policy
//! (see [`auth`]).
//!
//! Errors: handlers return [`errors::AppError`], rendered as a French page or
//! as JSON depending on the route. Label building returns
//! [`labels::LabelError`], and the server itself returns `std::io::Error`
//! from binding and serving.

mod api;
pub mod auth;
mod batches;
mod dashboard_csv;
mod dashboard_view;
pub mod documents;
mod donation_input;
mod donor_documents;
pub mod errors;
mod evidence_upload;
mod extract;
mod forms;
pub mod labels;
pub mod local_time;
pub mod messages;
mod messages_reasons;
mod pages;
mod prescription_actions;
mod printing;
mod recording;
pub mod retention;
mod server;
mod stock_view;
mod svg;

pub use api::ApiDoc;
pub use auth::setup::announce_setup_link;
pub use server::{router, serve, AppState, ServeConfig, BODY_LIMIT_BYTES};
