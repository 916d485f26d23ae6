//! Environmental impact avoided by reuse, with the factors of ADEME
//! (Agence de la transition écologique), "Évaluation de l'impact
//! environnemental d'un ensemble de produits reconditionnés", September 2022.
//! The factors compare one year of use of a refurbished device with one year
//! of use of a new one.

use filiere_domain::types::Category;
use serde::Serialize;

/// Source of the factors, written in every export.
pub const ADEME_SOURCE: &str = "ADEME, « Évaluation de l'impact environnemental d'un ensemble \
     de produits reconditionnés », septembre 2022 ; facteurs par année d'utilisation";

/// Avoided emissions and raw materials of one refurbished device per year of
/// use, in grams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ImpactFactor {
    pub category: Category,
    pub co2e_grams: u64,
    pub raw_materials_grams: u64,
}

/// Laptop: about 27 kg CO2e and 127 kg of raw materials avoided per year.
/// Smartphone: about 24.6 kg CO2e and 76.9 kg of raw materials.
pub const FACTORS: [ImpactFactor; 2] = [
    ImpactFactor {
        category: Category::Laptop,
        co2e_grams: 27_000,
        raw_materials_grams: 127_000,
    },
    ImpactFactor {
        category: Category::Smartphone,
        co2e_grams: 24_600,
        raw_materials_grams: 76_900,
    },
];

/// Impact of the devices handed over, for one year of use each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Impact {
    pub source: &'static str,
    pub laptops_counted: u64,
    pub smartphones_counted: u64,
    pub co2e_grams_avoided: u64,
    pub raw_materials_grams_avoided: u64,
    /// Devices handed over in a category without an ADEME factor here
    /// (desktops, tablets, screens, printers, others): not counted.
    pub devices_not_counted: u64,
}

/// Computes the impact from the number of distinct devices handed over per
/// category. Only laptops get the laptop factor and only smartphones the
/// smartphone factor.
pub fn compute_impact(handed_over_by_category: &[(Category, u64)]) -> Impact {
    let mut impact = Impact {
        source: ADEME_SOURCE,
        laptops_counted: 0,
        smartphones_counted: 0,
        co2e_grams_avoided: 0,
        raw_materials_grams_avoided: 0,
        devices_not_counted: 0,
    };
    for &(category, count) in handed_over_by_category {
        let factor = FACTORS.iter().find(|f| f.category == category);
        match (category, factor) {
            (Category::Laptop, Some(f)) => {
                impact.laptops_counted += count;
                add_factor(&mut impact, f, count);
            }
            (Category::Smartphone, Some(f)) => {
                impact.smartphones_counted += count;
                add_factor(&mut impact, f, count);
            }
            _ => impact.devices_not_counted += count,
        }
    }
    impact
}

fn add_factor(impact: &mut Impact, factor: &ImpactFactor, count: u64) {
    impact.co2e_grams_avoided += factor.co2e_grams * count;
    impact.raw_materials_grams_avoided += factor.raw_materials_grams * count;
}
