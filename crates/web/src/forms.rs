//! The fields of each step's form. Names are those read by
//! [`filiere_domain::fields::command_from_fields`], so a form and the command
//! line fill the same parser.

use filiere_domain::command::Step;
use filiere_domain::types::{
    Autonomy, ErasureMethod, ErasureTechnique, Grade, Outcome, Verdict, WriteOffReason,
};
use filiere_domain::Device;

/// One choice of a select field.
#[derive(Clone, Debug)]
pub struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One input of a step form.
#[derive(Clone, Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    /// HTML control: text, number, date, select, checkbox or textarea.
    pub kind: &'static str,
    pub required: bool,
    /// French help shown under the field; empty for none.
    pub hint: &'static str,
    /// Pre-filled value.
    pub value: String,
    pub options: Vec<SelectOption>,
    /// Bounds and increment of a number field.
    pub min: &'static str,
    pub max: &'static str,
    pub step: &'static str,
}

/// The form of one step.
#[derive(Clone, Debug)]
pub struct StepForm {
    pub step: &'static str,
    pub label: &'static str,
    pub fields: Vec<FieldSpec>,
}

fn field(name: &'static str, label: &'static str, kind: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        label,
        kind,
        required: false,
        hint: "",
        value: String::new(),
        options: Vec::new(),
        min: "",
        max: "",
        step: "",
    }
}

fn required(mut spec: FieldSpec) -> FieldSpec {
    spec.required = true;
    spec
}

fn hinted(mut spec: FieldSpec, hint: &'static str) -> FieldSpec {
    spec.hint = hint;
    spec
}

fn with_value(mut spec: FieldSpec, value: impl Into<String>) -> FieldSpec {
    spec.value = value.into();
    spec
}

fn number(
    name: &'static str,
    label: &'static str,
    max: &'static str,
    step: &'static str,
) -> FieldSpec {
    FieldSpec {
        min: "0",
        max,
        step,
        ..field(name, label, "number")
    }
}

/// A select over `values`; with `default` set, that value is pre-selected,
/// and without it the user must choose.
fn select<T: Copy + PartialEq>(
    name: &'static str,
    label: &'static str,
    values: &[T],
    default: Option<T>,
    describe: impl Fn(T) -> (&'static str, &'static str),
) -> FieldSpec {
    let mut options: Vec<SelectOption> = values
        .iter()
        .map(|value| {
            let (stable, french) = describe(*value);
            SelectOption {
                value: stable.to_string(),
                label: french.to_string(),
                selected: default == Some(*value),
            }
        })
        .collect();
    if default.is_none() {
        options.insert(0, placeholder_option());
    }
    FieldSpec {
        options,
        required: default.is_none(),
        ..field(name, label, "select")
    }
}

fn placeholder_option() -> SelectOption {
    SelectOption {
        value: String::new(),
        label: "— choisir —".to_string(),
        selected: true,
    }
}

fn notes() -> FieldSpec {
    field("notes", "Notes", "textarea")
}

/// Builds the form of `step`, pre-filled from `device` when the form is for
/// one device, and generic in bulk mode.
pub fn step_form(step: Step, device: Option<&Device>) -> StepForm {
    let fields = match step {
        Step::Diagnose => diagnose_fields(),
        Step::Erase => erase_fields(device),
        Step::Repair => vec![
            hinted(
                field("part", "Pièces remplacées", "textarea"),
                "une par ligne",
            ),
            number("minutes", "Durée (minutes)", "10000", "1"),
            number("cost", "Coût (€)", "10000", "0.01"),
            notes(),
        ],
        Step::Install => vec![
            hinted(
                required(field("os", "Système", "text")),
                "par exemple Debian, Linux Mint, Windows 10",
            ),
            field("os_version", "Version du système", "text"),
            field("licence", "Licence", "text"),
        ],
        Step::Grade => vec![
            select("grade", "Grade esthétique", Grade::ALL, None, |g| {
                (g.as_str(), g.label_fr())
            }),
            select(
                "autonomy",
                "Public visé",
                Autonomy::ALL,
                Some(Autonomy::Beginner),
                |a| (a.as_str(), a.label_fr()),
            ),
            notes(),
        ],
        Step::Stock | Step::Move => placement_fields(step, device),
        Step::Reserve => vec![household_field(), prescription_field()],
        Step::Release => vec![required(field("reason", "Motif", "text"))],
        Step::Handover => handover_fields(),
        Step::Return => vec![notes()],
        Step::Convert => Vec::new(),
        Step::Extend => vec![hinted(
            required(field("due", "Nouvelle fin du prêt", "date")),
            "après la fin actuelle du prêt et après aujourd'hui",
        )],
        Step::Recycle => vec![
            required(number("weight", "Poids (g)", "200000", "1")),
            hinted(
                required(field("eco_organism", "Éco-organisme", "text")),
                "qui reprend le DEEE, par exemple Ecologic",
            ),
        ],
        Step::Dismantle => vec![hinted(
            field("part", "Pièces récupérées", "textarea"),
            "une par ligne",
        )],
        Step::Transfer => vec![hinted(
            required(field("organisation", "Organisation destinataire", "text")),
            "nom exact ou identifiant de l'organisation qui reçoit l'appareil",
        )],
        Step::WriteOff => vec![
            select("reason", "Motif", WriteOffReason::ALL, None, |r| {
                (r.as_str(), r.label_fr())
            }),
            notes(),
        ],
    };
    StepForm {
        step: step.as_str(),
        label: step.label_fr(),
        fields,
    }
}

fn diagnose_fields() -> Vec<FieldSpec> {
    vec![
        select("test", "Test fonctionnel", Outcome::ALL, None, |o| {
            (o.as_str(), o.label_fr())
        }),
        select(
            "verdict",
            "Conclusion",
            Verdict::ALL,
            Some(Verdict::Refurbish),
            |v| (v.as_str(), v.label_fr()),
        ),
        hinted(
            field("storage", "Supports de stockage", "textarea"),
            "un par ligne : numéro de série ou emplacement, puis type et taille en Go, par \
             exemple S3Z9NB0K123456:ssd:256",
        ),
        field("cpu", "Processeur", "text"),
        number("memory_gb", "Mémoire (Go)", "4096", "any"),
        number("battery_wear", "Usure de la batterie (%)", "100", "1"),
        notes(),
    ]
}

fn erase_fields(device: Option<&Device>) -> Vec<FieldSpec> {
    let units: Vec<&str> = device
        .map(|d| d.storage_units.iter().map(|u| u.unit.as_str()).collect())
        .unwrap_or_default();
    let unit = if units.is_empty() {
        hinted(
            required(field("unit", "Support", "text")),
            "le support relevé au diagnostic",
        )
    } else {
        let mut options: Vec<SelectOption> = units
            .iter()
            .map(|unit| SelectOption {
                value: unit.to_string(),
                label: unit.to_string(),
                selected: false,
            })
            .collect();
        options.insert(0, placeholder_option());
        FieldSpec {
            options,
            ..required(field("unit", "Support", "select"))
        }
    };
    vec![
        unit,
        select(
            "method",
            "Méthode",
            ErasureMethod::ALL,
            Some(ErasureMethod::Clear),
            |m| (m.as_str(), m.label_fr()),
        ),
        select(
            "technique",
            "Technique",
            ErasureTechnique::ALL,
            Some(ErasureTechnique::Overwrite),
            |t| (t.as_str(), t.label_fr()),
        ),
        hinted(
            required(field("tool", "Logiciel", "text")),
            "par exemple nwipe",
        ),
        field("tool_version", "Version du logiciel", "text"),
        field("verified", "Effacement vérifié", "checkbox"),
        select(
            "result",
            "Résultat",
            Outcome::ALL,
            Some(Outcome::Passed),
            |o| (o.as_str(), o.label_fr()),
        ),
        required(field("operator", "Opérateur ou opératrice", "text")),
    ]
}

fn placement_fields(step: Step, device: Option<&Device>) -> Vec<FieldSpec> {
    let site = device.map(|d| d.placement.site.clone()).unwrap_or_default();
    let location = match (step, device) {
        (Step::Move, Some(d)) => d.placement.location.clone(),
        _ => String::new(),
    };
    vec![
        with_value(required(field("site", "Site", "text")), site),
        hinted(
            with_value(field("location", "Emplacement", "text"), location),
            "étagère, bac ou armoire",
        ),
    ]
}

fn household_field() -> FieldSpec {
    hinted(
        field("household", "Foyer (identifiant)", "text"),
        "vide : le foyer de la réservation, ou un nouveau foyer",
    )
}

fn prescription_field() -> FieldSpec {
    field("prescription", "Prescription (identifiant)", "text")
}

fn handover_fields() -> Vec<FieldSpec> {
    let mut mode = field("mode", "Mode de remise", "select");
    mode.required = true;
    mode.options = std::iter::once(placeholder_option())
        .chain(
            [
                ("loan", "Prêt"),
                ("donation", "Don"),
                ("sale", "Vente solidaire"),
            ]
            .into_iter()
            .map(|(value, label)| SelectOption {
                value: value.to_string(),
                label: label.to_string(),
                selected: false,
            }),
        )
        .collect();
    vec![
        household_field(),
        prescription_field(),
        mode,
        hinted(
            field("due", "Fin du prêt", "date"),
            "pour un prêt seulement",
        ),
        hinted(
            number("price", "Prix (€)", "10000", "0.01"),
            "pour une vente solidaire seulement",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_a_form() {
        for step in Step::ALL {
            let form = step_form(*step, None);
            assert_eq!(form.step, step.as_str());
        }
    }

    #[test]
    fn required_select_starts_empty() {
        let form = step_form(Step::Grade, None);
        let grade = &form.fields[0];
        assert!(grade.required);
        assert_eq!(grade.options[0].value, "");
        assert!(grade.options[0].selected);
    }
}
