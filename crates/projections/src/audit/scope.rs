//! The scope of the audit figures: a territory for households, a workshop
//! list for everything without a household commune, and an optional period.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use filiere_domain::prescription::HouseholdAttributes;
use filiere_domain::territory::{InseeCode, Territories};
use serde::Serialize;

use super::fold::{AuditFold, HandoverRecord};
use super::target::{Territory, TerritoryKind};

/// A territory whose households' handovers count: a commune, an EPCI or a
/// département.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HouseholdTerritory {
    pub kind: TerritoryKind,
    pub code: String,
}

impl HouseholdTerritory {
    pub fn of(territory: &Territory) -> Self {
        Self {
            kind: territory.kind,
            code: territory.code.clone(),
        }
    }

    /// Returns whether a household of `commune` lives in the territory. EPCI
    /// membership comes from the embedded territory data, so a commune that
    /// is not a current commune there belongs to no EPCI.
    pub fn contains(&self, commune: &InseeCode) -> bool {
        match self.kind {
            TerritoryKind::Commune => commune.as_str() == self.code,
            TerritoryKind::Departement => commune.departement() == self.code,
            TerritoryKind::Epci => {
                Territories::embedded()
                    .commune(commune)
                    .ok()
                    .and_then(|c| c.epci.as_deref())
                    == Some(self.code.as_str())
            }
        }
    }
}

/// The rule that counted a handover for the territory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CountedBy {
    /// The household's commune, from its prescription, is in the territory.
    HouseholdCommune,
    /// The handover has no prescription, and the workshop that made it is
    /// in the target's list (or the list is empty).
    WorkshopList,
}

/// The territory, workshops and period the figures include.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Organisations whose devices count when no household commune is
    /// known. Empty means every organisation.
    pub workshops: BTreeSet<String>,
    /// Territory of the households; `None` counts every household.
    pub territory: Option<HouseholdTerritory>,
    /// First and last day, inclusive, of the flows counted; `None` counts
    /// everything up to the cutoff.
    pub period: Option<(NaiveDate, NaiveDate)>,
}

impl Scope {
    pub fn includes_workshop(&self, holder: &str) -> bool {
        self.workshops.is_empty() || self.workshops.contains(holder)
    }

    pub fn includes_date(&self, date: NaiveDate) -> bool {
        self.period
            .is_none_or(|(first, last)| first <= date && date <= last)
    }

    pub fn includes_household(&self, household: &HouseholdAttributes) -> bool {
        self.territory
            .as_ref()
            .is_none_or(|territory| territory.contains(&household.commune))
    }

    /// Returns the rule that counts `handover` for the scope, or `None` when
    /// it is outside. The period is not checked here.
    pub fn counts_handover(
        &self,
        fold: &AuditFold,
        handover: &HandoverRecord,
    ) -> Option<CountedBy> {
        let record = handover
            .prescription_id
            .and_then(|id| fold.prescriptions.get(&id));
        match record {
            Some(record) if self.territory.is_some() => self
                .includes_household(&record.household)
                .then_some(CountedBy::HouseholdCommune),
            Some(_) => self
                .includes_workshop(&handover.holder)
                .then_some(CountedBy::HouseholdCommune),
            None => self
                .includes_workshop(&handover.holder)
                .then_some(CountedBy::WorkshopList),
        }
    }
}
