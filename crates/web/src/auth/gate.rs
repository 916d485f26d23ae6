//! Route gates: each handler names, by the type of its [`Allowed`]
//! argument, the action its caller's role must be allowed for the caller's
//! own organisation. The check is [`filiere_domain::access::authorize`];
//! a denial is 403 and the handler never runs.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use filiere_domain::access::{Action, Principal};

use super::Caller;
use crate::errors::AppError;

/// An action of the policy, built for the caller's own organisation.
pub trait Gate {
    fn action(principal: &Principal) -> Action<'_>;
}

/// A caller whose role passed the gate `G`. Only the extractor builds one:
/// the gate field is private.
pub struct Allowed<G> {
    pub caller: Caller,
    gate: PhantomData<G>,
}

impl<S: Send + Sync, G: Gate> FromRequestParts<S> for Allowed<G> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| AppError::internal("route gate reached without authentication"))?;
        caller.require(&G::action(&caller.principal))?;
        Ok(Allowed {
            caller,
            gate: PhantomData,
        })
    }
}

/// Any authenticated caller, whatever the role.
pub struct SignedIn(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(SignedIn)
            .ok_or_else(|| AppError::internal("handler reached without authentication"))
    }
}

macro_rules! gates {
    ($($(#[$meta:meta])* $name:ident => |$principal:ident| $action:expr;)+) => {
        $(
            $(#[$meta])*
            pub struct $name;

            impl Gate for $name {
                fn action($principal: &Principal) -> Action<'_> {
                    $action
                }
            }
        )+
    };
}

gates! {
    /// Scan, search and list the devices of one's organisation.
    ViewStock => |p| Action::ViewStock { organisation_id: &p.organisation_id };
    /// Open devices of one's organisation.
    ViewDevices => |p| Action::ViewDevice { holder: &p.organisation_id };
    /// Record steps on devices of one's organisation.
    RecordSteps => |p| Action::RecordStep { holder: &p.organisation_id };
    /// Record donation batches for one's organisation.
    ReceiveDonations => |p| Action::ReceiveDonation { organisation_id: &p.organisation_id };
    /// Print labels of one's organisation.
    PrintDocuments => |p| Action::PrintDocuments { organisation_id: &p.organisation_id };
    /// Prescriptions of one's organisation.
    ManagePrescriptions => |p| Action::ManagePrescriptions { organisation_id: &p.organisation_id };
    /// Prescriptions received by one's workshop.
    HandlePrescriptions => |p| Action::HandlePrescriptions { organisation_id: &p.organisation_id };
    /// Aggregate figures.
    ViewAggregates => |_p| Action::ViewAggregates;
    /// Organisations.
    ManageOrganisations => |_p| Action::ManageOrganisations;
    /// Users and memberships.
    ManageUsers => |_p| Action::ManageUsers;
    /// API tokens of one's organisation.
    ManageTokens => |p| Action::ManageTokens { organisation_id: &p.organisation_id };
}
