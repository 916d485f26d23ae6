//! Household attributes kept in prescription events for statistics. None of
//! them identifies a person: funders count households by commune, priority
//! area, size band, age band and eligibility, never by name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::territory::InseeCode;
use crate::types::{fold, named_enum, UnknownValue};

named_enum! {
    /// Number of people living in the household.
    HouseholdSize, "household size" {
        One => "one", "1 personne" | "1";
        Two => "two", "2 personnes" | "2";
        ThreeToFour => "three_to_four", "3 ou 4 personnes" | "3-4" | "3 to 4";
        FiveOrMore => "five_or_more", "5 personnes ou plus" | "5+" | "5 or more";
    }
}

named_enum! {
    /// Age band of the beneficiary: the person who will use the device.
    AgeBand, "age band" {
        Minor => "minor", "Moins de 18 ans" | "under 18";
        YoungAdult => "young_adult", "18 à 25 ans" | "18-25";
        Adult => "adult", "26 à 59 ans" | "26-59";
        Senior => "senior", "60 ans et plus" | "60+" | "60 or more";
    }
}

/// Statistical attributes of a household, recorded in the prescription's
/// first event. They name no person and locate the household by commune
/// only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdAttributes {
    /// INSEE code of the commune the household lives in; a current
    /// commune on the day the prescription is issued.
    pub commune: InseeCode,
    /// Lives in a priority neighbourhood of city policy (QPV, quartier
    /// prioritaire de la politique de la ville).
    pub qpv: bool,
    /// Lives in a rural revitalisation zone (ZRR, zone de revitalisation
    /// rurale).
    pub zrr: bool,
    pub size: HouseholdSize,
    pub age: AgeBand,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_parse_short_forms() {
        assert_eq!(
            "3-4".parse::<HouseholdSize>().unwrap(),
            HouseholdSize::ThreeToFour
        );
        assert_eq!(
            "5+".parse::<HouseholdSize>().unwrap(),
            HouseholdSize::FiveOrMore
        );
        assert_eq!("18-25".parse::<AgeBand>().unwrap(), AgeBand::YoungAdult);
        assert_eq!("60+".parse::<AgeBand>().unwrap(), AgeBand::Senior);
        assert_eq!(
            serde_json::to_string(&HouseholdSize::ThreeToFour).unwrap(),
            "\"three_to_four\""
        );
    }
}
