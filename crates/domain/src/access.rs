//! Who may do what: roles, organisations and the one authorization policy
//! that every entry point (pages, API, command line) asks.
//!
//! Rules:
//! - technicians and workshop coordinators act on devices their own
//!   organisation holds; coordinators also receive donations and manage
//!   their organisation's API tokens, which they may give workshop roles
//!   only;
//! - referrers (social workers) see and act on the prescriptions of their
//!   own organisation only;
//! - technicians and workshop coordinators see the prescriptions no
//!   workshop has taken yet and handle those their organisation accepted,
//!   whose household identity they see from then on;
//! - funder viewers see aggregate figures only, never a household, a person
//!   or a single device;
//! - administrators manage organisations, users, memberships and tokens, and
//!   may read everything.

use serde::{Deserialize, Serialize};

use crate::types::UnknownValue;

macro_rules! simple_enum {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($variant:ident => $snake:literal, $french:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $snake,)+ }
            }

            pub fn label_fr(&self) -> &'static str {
                match self { $($name::$variant => $french,)+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
                $(if wanted == $snake { return Ok($name::$variant); })+
                Err(UnknownValue {
                    kind: $kind,
                    value: s.to_string(),
                    expected: [$($snake),+].join(", "),
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

simple_enum! {
    /// Set of permissions a person has inside one organisation.
    Role, "role" {
        Technician => "technician", "Technicien·ne";
        WorkshopCoordinator => "workshop_coordinator", "Coordination d'atelier";
        Referrer => "referrer", "Prescripteur·rice (travail social)";
        FunderViewer => "funder_viewer", "Financeur (consultation)";
        Administrator => "administrator", "Administration";
    }
}

simple_enum! {
    /// Kind of organisation sharing one Filière.
    OrganisationKind, "organisation kind" {
        Workshop => "workshop", "Atelier de reconditionnement";
        CollectionPoint => "collection_point", "Point de collecte";
        SocialService => "social_service", "Service social";
        Funder => "funder", "Financeur";
        Donor => "donor", "Donateur";
    }
}

/// The authenticated actor of a request or command: one user (or API token)
/// acting for one organisation with one role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// `user:<id>` or `token:<id>`; recorded as the actor of every event.
    pub actor: String,
    pub organisation_id: String,
    pub role: Role,
}

/// An action someone requests to perform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<'a> {
    /// See one device's identity, state and timeline.
    ViewDevice {
        holder: &'a str,
    },
    /// Record a bench or logistics step on a device.
    RecordStep {
        holder: &'a str,
    },
    /// See the stock list of an organisation.
    ViewStock {
        organisation_id: &'a str,
    },
    /// Record a new donation batch for an organisation.
    ReceiveDonation {
        organisation_id: &'a str,
    },
    /// Print labels or documents of devices an organisation holds.
    PrintDocuments {
        organisation_id: &'a str,
    },
    /// Transfer a device to another organisation.
    TransferDevice {
        holder: &'a str,
    },
    /// Issue prescriptions for an organisation and follow them: the
    /// referrers' pages.
    ManagePrescriptions {
        organisation_id: &'a str,
    },
    /// Receive prescriptions as the workshop `organisation_id`: see the
    /// incoming ones, accept or decline them, reserve, hand over and follow
    /// the loans.
    HandlePrescriptions {
        organisation_id: &'a str,
    },
    /// See one prescription (never the household's identity). Any workshop
    /// sees a prescription no workshop has accepted or declined yet
    /// (`workshop_organisation` is `None`).
    ViewPrescription {
        referrer_organisation: &'a str,
        workshop_organisation: Option<&'a str>,
    },
    /// Record a workshop step (accept, decline, reserve, hand over, loan
    /// steps) on one prescription.
    HandlePrescription {
        workshop_organisation: Option<&'a str>,
    },
    /// See the name and contact details of a prescription's household: the
    /// referrer's organisation, and the workshop once it accepted.
    ViewHouseholdIdentity {
        referrer_organisation: &'a str,
        workshop_organisation: Option<&'a str>,
    },
    /// See aggregate figures (no household, person or single device).
    ViewAggregates,
    /// See the devices, stock and batches of every organisation at once.
    ViewEveryOrganisation,
    ManageOrganisations,
    ManageUsers,
    /// Create or revoke API tokens of an organisation.
    ManageTokens {
        organisation_id: &'a str,
    },
    /// Give `role` in an organisation to a new API token. A coordinator may
    /// give only the workshop roles of their own organisation, so that a
    /// token never has more rights than the person who creates it.
    GrantRole {
        organisation_id: &'a str,
        role: Role,
    },
}

/// Reason an action was rejected. The message is safe to show to the person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub &'static str);

/// Decides whether `principal` may perform `action`.
pub fn authorize(principal: &Principal, action: &Action<'_>) -> Result<(), Denied> {
    use Role::*;
    let own = |organisation: &str| organisation == principal.organisation_id;
    let allowed = match (principal.role, action) {
        (Administrator, _) => true,
        (
            Technician | WorkshopCoordinator,
            Action::ViewDevice { holder }
            | Action::RecordStep { holder }
            | Action::TransferDevice { holder },
        ) => own(holder),
        (
            Technician | WorkshopCoordinator,
            Action::ViewStock { organisation_id }
            | Action::PrintDocuments { organisation_id }
            | Action::ReceiveDonation { organisation_id },
        ) => own(organisation_id),
        (WorkshopCoordinator, Action::ManageTokens { organisation_id }) => own(organisation_id),
        (
            WorkshopCoordinator,
            Action::GrantRole {
                organisation_id,
                role,
            },
        ) => own(organisation_id) && matches!(role, Technician | WorkshopCoordinator),
        (WorkshopCoordinator, Action::ViewAggregates) => true,
        (Referrer, Action::ManagePrescriptions { organisation_id }) => own(organisation_id),
        (
            Referrer,
            Action::ViewPrescription {
                referrer_organisation,
                ..
            }
            | Action::ViewHouseholdIdentity {
                referrer_organisation,
                ..
            },
        ) => own(referrer_organisation),
        (Technician | WorkshopCoordinator, Action::HandlePrescriptions { organisation_id }) => {
            own(organisation_id)
        }
        (
            Technician | WorkshopCoordinator,
            Action::ViewPrescription {
                workshop_organisation,
                ..
            }
            | Action::HandlePrescription {
                workshop_organisation,
            },
        ) => workshop_organisation.is_none_or(own),
        (
            Technician | WorkshopCoordinator,
            Action::ViewHouseholdIdentity {
                workshop_organisation,
                ..
            },
        ) => workshop_organisation.is_some_and(own),
        (FunderViewer, Action::ViewAggregates) => true,
        _ => false,
    };
    if allowed {
        return Ok(());
    }
    Err(Denied(match principal.role {
        FunderViewer => "funders see aggregate figures only",
        Referrer => "referrers see the prescriptions of their own organisation only",
        _ => "this belongs to another organisation, or your role does not allow it",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            actor: "user:1".into(),
            organisation_id: "org-a".into(),
            role,
        }
    }

    #[test]
    fn technician_limited_to_own_devices() {
        let p = principal(Role::Technician);
        assert!(authorize(&p, &Action::RecordStep { holder: "org-a" }).is_ok());
        assert!(authorize(&p, &Action::RecordStep { holder: "org-b" }).is_err());
        assert!(authorize(&p, &Action::ManageUsers).is_err());
        assert!(authorize(
            &p,
            &Action::ManageTokens {
                organisation_id: "org-a"
            }
        )
        .is_err());
    }

    #[test]
    fn funder_sees_aggregates_only() {
        let p = principal(Role::FunderViewer);
        assert!(authorize(&p, &Action::ViewAggregates).is_ok());
        assert!(authorize(&p, &Action::ViewDevice { holder: "org-a" }).is_err());
        assert!(authorize(
            &p,
            &Action::ViewStock {
                organisation_id: "org-a"
            }
        )
        .is_err());
        assert!(authorize(
            &p,
            &Action::ManagePrescriptions {
                organisation_id: "org-a"
            }
        )
        .is_err());
    }

    #[test]
    fn referrer_own_prescriptions_only() {
        let p = principal(Role::Referrer);
        assert!(authorize(
            &p,
            &Action::ManagePrescriptions {
                organisation_id: "org-a"
            }
        )
        .is_ok());
        assert!(authorize(
            &p,
            &Action::ManagePrescriptions {
                organisation_id: "org-b"
            }
        )
        .is_err());
        assert!(authorize(&p, &Action::ViewDevice { holder: "org-a" }).is_err());
    }

    #[test]
    fn workshop_handles_incoming_and_own_prescriptions() {
        let p = principal(Role::Technician);
        let own = Action::HandlePrescriptions {
            organisation_id: "org-a",
        };
        assert!(authorize(&p, &own).is_ok());
        let other = Action::HandlePrescriptions {
            organisation_id: "org-b",
        };
        assert!(authorize(&p, &other).is_err());
        let incoming = Action::HandlePrescription {
            workshop_organisation: None,
        };
        assert!(authorize(&p, &incoming).is_ok());
        let accepted_here = Action::HandlePrescription {
            workshop_organisation: Some("org-a"),
        };
        assert!(authorize(&p, &accepted_here).is_ok());
        let accepted_elsewhere = Action::HandlePrescription {
            workshop_organisation: Some("org-b"),
        };
        assert!(authorize(&p, &accepted_elsewhere).is_err());
        let view_elsewhere = Action::ViewPrescription {
            referrer_organisation: "ccas",
            workshop_organisation: Some("org-b"),
        };
        assert!(authorize(&p, &view_elsewhere).is_err());
        let issue = Action::ManagePrescriptions {
            organisation_id: "org-a",
        };
        assert!(authorize(&p, &issue).is_err());
    }

    #[test]
    fn household_identity_after_acceptance_only() {
        let technician = principal(Role::WorkshopCoordinator);
        let before = Action::ViewHouseholdIdentity {
            referrer_organisation: "ccas",
            workshop_organisation: None,
        };
        assert!(authorize(&technician, &before).is_err());
        let after = Action::ViewHouseholdIdentity {
            referrer_organisation: "ccas",
            workshop_organisation: Some("org-a"),
        };
        assert!(authorize(&technician, &after).is_ok());
        let referrer = principal(Role::Referrer);
        let own = Action::ViewHouseholdIdentity {
            referrer_organisation: "org-a",
            workshop_organisation: None,
        };
        assert!(authorize(&referrer, &own).is_ok());
        let other = Action::ViewHouseholdIdentity {
            referrer_organisation: "org-b",
            workshop_organisation: None,
        };
        assert!(authorize(&referrer, &other).is_err());
        let step = Action::HandlePrescription {
            workshop_organisation: None,
        };
        assert!(authorize(&referrer, &step).is_err());
    }

    #[test]
    fn funder_never_sees_prescriptions() {
        let p = principal(Role::FunderViewer);
        let actions = [
            Action::HandlePrescriptions {
                organisation_id: "org-a",
            },
            Action::ViewPrescription {
                referrer_organisation: "org-a",
                workshop_organisation: Some("org-a"),
            },
            Action::HandlePrescription {
                workshop_organisation: None,
            },
            Action::ViewHouseholdIdentity {
                referrer_organisation: "org-a",
                workshop_organisation: Some("org-a"),
            },
        ];
        for action in &actions {
            assert!(authorize(&p, action).is_err(), "{action:?}");
        }
    }

    #[test]
    fn coordinator_grants_workshop_roles_only() {
        let p = principal(Role::WorkshopCoordinator);
        let grant = |organisation_id, role| Action::GrantRole {
            organisation_id,
            role,
        };
        assert!(authorize(&p, &grant("org-a", Role::Technician)).is_ok());
        assert!(authorize(&p, &grant("org-a", Role::WorkshopCoordinator)).is_ok());
        assert!(authorize(&p, &grant("org-a", Role::Administrator)).is_err());
        assert!(authorize(&p, &grant("org-a", Role::Referrer)).is_err());
        assert!(authorize(&p, &grant("org-b", Role::Technician)).is_err());
        assert!(authorize(
            &p,
            &Action::ManageTokens {
                organisation_id: "org-b"
            }
        )
        .is_err());
        assert!(authorize(&p, &Action::ViewEveryOrganisation).is_err());
    }

    #[test]
    fn technician_grants_nothing() {
        let p = principal(Role::Technician);
        let action = Action::GrantRole {
            organisation_id: "org-a",
            role: Role::Technician,
        };
        assert!(authorize(&p, &action).is_err());
    }

    #[test]
    fn administrator_allowed_everything() {
        let p = principal(Role::Administrator);
        assert!(authorize(&p, &Action::ManageOrganisations).is_ok());
        assert!(authorize(&p, &Action::ViewEveryOrganisation).is_ok());
        assert!(authorize(&p, &Action::RecordStep { holder: "org-b" }).is_ok());
        let grant = Action::GrantRole {
            organisation_id: "org-b",
            role: Role::Administrator,
        };
        assert!(authorize(&p, &grant).is_ok());
    }

    #[test]
    fn role_parses_stable_names() {
        assert_eq!("funder_viewer".parse::<Role>().unwrap(), Role::FunderViewer);
        let error = "boss".parse::<Role>().unwrap_err().to_string();
        assert!(error.contains("'boss'"), "{error}");
    }
}
