//! Parts that every page shares: the navigation bar, which shows each role
//! the pages its gates let it use, and the CSRF token for the page's forms.

use filiere_domain::access::{authorize, Action, Principal};

use crate::auth::gate::{self, Gate};
use crate::auth::Caller;

/// One link of the navigation bar.
#[derive(Clone, Debug)]
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
}

/// Navigation and session facts of a page.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Target of the brand link: the first page the role may use.
    pub home: &'static str,
    pub links: Vec<NavLink>,
    /// "Name · organisation · role" of the signed-in person.
    pub who: Option<String>,
    /// Token that every form posts back, empty on the public pages.
    pub csrf_token: String,
}

type ActionOf = for<'a> fn(&'a Principal) -> Action<'a>;

/// Links of the navigation bar, each with the gate of its route.
const LINKS: &[(&str, &str, ActionOf)] = &[
    ("/", "Scanner", gate::ViewStock::action),
    ("/stock", "Stock", gate::ViewStock::action),
    ("/donations", "Lots", gate::ViewStock::action),
    (
        "/donations/new",
        "Nouveau lot",
        gate::ReceiveDonations::action,
    ),
    ("/bulk", "Mode groupé", gate::RecordSteps::action),
    (
        "/prescriptions",
        "Mes prescriptions",
        gate::ManagePrescriptions::action,
    ),
    (
        "/prescriptions/nouvelle",
        "Nouvelle prescription",
        gate::ManagePrescriptions::action,
    ),
    (
        "/prescriptions/atelier",
        "Prescriptions reçues",
        gate::HandlePrescriptions::action,
    ),
    (
        "/prescriptions/prets",
        "Prêts",
        gate::HandlePrescriptions::action,
    ),
    (
        "/tableau-de-bord",
        "Tableau de bord",
        gate::ViewAggregates::action,
    ),
    (
        "/admin/organisations",
        "Organisations",
        gate::ManageOrganisations::action,
    ),
    (
        "/admin/utilisateurs",
        "Utilisateurs",
        gate::ManageUsers::action,
    ),
    ("/admin/jetons", "Jetons d'API", gate::ManageTokens::action),
];

/// Page shown after sign-in: the first link of the bar that the role may
/// use, or the sign-in page for a role with none.
pub fn home_for(principal: &Principal) -> &'static str {
    allowed_links(principal)
        .first()
        .map_or("/connexion", |link| link.href)
}

fn allowed_links(principal: &Principal) -> Vec<NavLink> {
    LINKS
        .iter()
        .filter(|(_, _, action)| authorize(principal, &action(principal)).is_ok())
        .map(|(href, label, _)| NavLink { href, label })
        .collect()
}

impl Layout {
    /// Layout of the public pages: sign-in only.
    pub fn anonymous() -> Layout {
        Layout {
            home: "/connexion",
            links: Vec::new(),
            who: None,
            csrf_token: String::new(),
        }
    }

    pub fn for_caller(caller: &Caller) -> Layout {
        let principal = &caller.principal;
        let who = caller.session.as_ref().map(|session| {
            format!(
                "{} · {} · {}",
                session.display_name,
                session.organisation_name,
                principal.role.label_fr()
            )
        });
        Layout {
            home: home_for(principal),
            links: allowed_links(principal),
            who,
            csrf_token: caller.csrf_token().to_string(),
        }
    }

    /// Layout of a page whose caller may be unknown, such as an error page.
    pub fn for_optional(caller: Option<&Caller>) -> Layout {
        caller.map_or_else(Layout::anonymous, Layout::for_caller)
    }
}

impl Caller {
    /// Builds the layout of this caller's pages.
    pub fn layout(&self) -> Layout {
        Layout::for_caller(self)
    }
}
