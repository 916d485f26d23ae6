//! Building a command from named text fields, as typed on the command line
//! (`--unit sda`) or posted by a web form (`unit=sda`). Both entry points
//! share this parser, so a field means the same thing everywhere.
//!
//! Field names: test, verdict, storage (repeatable, `UNIT[:KIND[:SIZE_GB]]`),
//! cpu, memory_gb, battery_wear, unit, method, technique, tool, tool_version,
//! verified, result, operator, part (repeatable), minutes, cost (euros),
//! os, os_version, licence, grade, autonomy, site, location, household,
//! prescription, mode (loan, donation, sale), due (YYYY-MM-DD), price (euros),
//! weight (grams), eco_organism, reason, notes, organisation (transfer).

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::command::{DeviceCommand, Step};
use crate::error::DomainError;
use crate::event::{
    Diagnosis, Erasure, Grading, HandoverMode, Placement, Recycling, Repair, Software, StorageUnit,
};
use crate::ids::{HouseholdId, PrescriptionId};
use crate::types::{Autonomy, ErasureMethod, ErasureTechnique, Outcome, StorageKind, Verdict};

/// Field values by name; a repeatable field has several values.
pub type Fields = BTreeMap<String, Vec<String>>;

struct Reader<'a> {
    step: Step,
    fields: &'a Fields,
}

impl Reader<'_> {
    fn optional(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .and_then(|values| values.iter().rev().find(|v| !v.trim().is_empty()))
            .map(|v| v.trim())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .get(name)
            .map(|values| {
                values
                    .iter()
                    .flat_map(|v| v.split([',', '\n']))
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn text(&self, name: &str) -> String {
        self.optional(name).unwrap_or_default().to_string()
    }

    fn required(&self, name: &'static str, hint: &str) -> Result<&str, DomainError> {
        self.optional(name)
            .ok_or_else(|| DomainError::InvalidField {
                field: name,
                value: String::new(),
                reason: format!("step '{}' needs {name}: {hint}", self.step.as_str()),
            })
    }

    fn parsed<T>(&self, name: &'static str, hint: &str) -> Result<T, DomainError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let raw = self.required(name, hint)?;
        raw.parse()
            .map_err(|e: T::Err| invalid(name, raw, &e.to_string()))
    }

    fn parsed_or<T>(&self, name: &'static str, default: T) -> Result<T, DomainError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|e: T::Err| invalid(name, raw, &e.to_string())),
        }
    }

    fn number(&self, name: &'static str, default: f64, max: f64) -> Result<f64, DomainError> {
        let Some(raw) = self.optional(name) else {
            return Ok(default);
        };
        let value: f64 = raw
            .replace(',', ".")
            .parse()
            .map_err(|_| invalid(name, raw, "expected a number"))?;
        if !(0.0..=max).contains(&value) {
            return Err(invalid(
                name,
                raw,
                &format!("expected a number from 0 to {max}"),
            ));
        }
        Ok(value)
    }

    fn boolean(&self, name: &'static str) -> Result<bool, DomainError> {
        match self.optional(name).map(str::to_ascii_lowercase).as_deref() {
            None | Some("false" | "no" | "non" | "0" | "off") => Ok(false),
            Some("true" | "yes" | "oui" | "1" | "on") => Ok(true),
            Some(other) => Err(invalid(name, other, "expected yes or no")),
        }
    }
}

fn invalid(field: &'static str, value: &str, reason: &str) -> DomainError {
    DomainError::InvalidField {
        field,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

fn cents(euros: f64) -> i64 {
    (euros * 100.0).round() as i64
}

/// Field names each step reads. A name outside this list is rejected, so a
/// mistyped field (`--methode purge`) never records a step with a default
/// value in its place.
pub fn step_field_names(step: Step) -> &'static [&'static str] {
    match step {
        Step::Diagnose => &[
            "test",
            "verdict",
            "storage",
            "cpu",
            "memory_gb",
            "battery_wear",
            "notes",
        ],
        Step::Erase => &[
            "unit",
            "method",
            "technique",
            "tool",
            "tool_version",
            "verified",
            "result",
            "operator",
        ],
        Step::Repair => &["part", "minutes", "cost", "notes"],
        Step::Install => &["os", "os_version", "licence"],
        Step::Grade => &["grade", "autonomy", "notes"],
        Step::Stock | Step::Move => &["site", "location"],
        Step::Reserve => &["household", "prescription"],
        Step::Release => &["reason"],
        Step::Handover => &["mode", "due", "price", "household", "prescription"],
        Step::Return => &["notes"],
        Step::Convert => &[],
        Step::Extend => &["due"],
        Step::Recycle => &["weight", "eco_organism"],
        Step::Dismantle => &["part"],
        Step::WriteOff => &["reason", "notes"],
        Step::Transfer => &["organisation"],
    }
}

/// Builds the command of `step` from `fields`. `household` is used when a
/// reservation or handover names no household.
pub fn command_from_fields(
    step: Step,
    fields: &Fields,
    household: HouseholdId,
) -> Result<DeviceCommand, DomainError> {
    let known = step_field_names(step);
    if let Some(unknown) = fields.keys().find(|name| !known.contains(&name.as_str())) {
        return Err(invalid(
            "field",
            unknown,
            &format!(
                "step '{}' has no such field; its fields are: {}",
                step.as_str(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    }
    let r = Reader { step, fields };
    let notes = r.text("notes");
    let command = match step {
        Step::Diagnose => DeviceCommand::Diagnose(Diagnosis {
            functional_test: r.parsed("test", "passed or failed")?,
            verdict: r.parsed_or("verdict", Verdict::Refurbish)?,
            storage_units: storage_units(&r)?,
            cpu: r.text("cpu"),
            memory_bytes: match r.number("memory_gb", 0.0, 4096.0)? {
                gb if gb > 0.0 => Some((gb * 1024.0 * 1024.0 * 1024.0) as u64),
                _ => None,
            },
            battery_wear_percent: r
                .optional("battery_wear")
                .map(|_| r.number("battery_wear", 0.0, 100.0).map(|v| v as u8))
                .transpose()?,
            notes,
            evidence_sha256: Vec::new(),
        }),
        Step::Erase => DeviceCommand::RecordErasure(Erasure {
            unit: r
                .required("unit", "the storage unit from the diagnosis")?
                .to_string(),
            method: r.parsed_or("method", ErasureMethod::Clear)?,
            technique: r.parsed_or("technique", ErasureTechnique::Overwrite)?,
            tool: r
                .required("tool", "the erasure software, for example nwipe")?
                .to_string(),
            tool_version: r.text("tool_version"),
            verified: r.boolean("verified")?,
            result: r.parsed_or("result", Outcome::Passed)?,
            operator: r
                .required("operator", "the person who ran the erasure")?
                .to_string(),
            evidence_sha256: None,
        }),
        Step::Repair => DeviceCommand::Repair(Repair {
            parts_replaced: r.all("part"),
            minutes: r.number("minutes", 0.0, 10_000.0)? as u32,
            cost_cents: cents(r.number("cost", 0.0, 10_000.0)?),
            notes,
        }),
        Step::Install => DeviceCommand::InstallSoftware(Software {
            os: r
                .required("os", "the operating system, for example Debian")?
                .to_string(),
            os_version: r.text("os_version"),
            licence: r.optional("licence").map(str::to_string),
        }),
        Step::Grade => DeviceCommand::Grade(Grading {
            grade: r.parsed("grade", "a, b or c")?,
            autonomy: r.parsed_or("autonomy", Autonomy::Beginner)?,
            notes,
        }),
        Step::Stock => DeviceCommand::Stock(placement(&r)?),
        Step::Move => DeviceCommand::Move(placement(&r)?),
        Step::Reserve => DeviceCommand::Reserve {
            household_id: r.parsed_or("household", household)?,
            prescription_id: optional_id::<PrescriptionId>(&r, "prescription")?,
        },
        Step::Release => DeviceCommand::ReleaseReservation {
            reason: r
                .required("reason", "why the reservation is cancelled")?
                .to_string(),
        },
        Step::Handover => DeviceCommand::HandOver {
            household_id: r.parsed_or("household", household)?,
            prescription_id: optional_id::<PrescriptionId>(&r, "prescription")?,
            mode: handover_mode(&r)?,
        },
        Step::Return => DeviceCommand::Return { notes },
        Step::Convert => DeviceCommand::ConvertLoanToDonation,
        Step::Extend => DeviceCommand::ExtendLoan {
            due_on: due_date(&r, "the loan's new due date, YYYY-MM-DD")?,
        },
        Step::Recycle => DeviceCommand::Recycle(Recycling {
            weight_grams: r.number("weight", 0.0, 200_000.0)? as u32,
            eco_organism: r
                .required("eco_organism", "who takes the WEEE, for example Ecologic")?
                .to_string(),
        }),
        Step::Dismantle => DeviceCommand::Dismantle {
            parts_harvested: r.all("part"),
        },
        Step::Transfer => DeviceCommand::Transfer {
            to: r
                .required(
                    "organisation",
                    "the id of the organisation receiving the device",
                )?
                .to_string(),
        },
        Step::WriteOff => DeviceCommand::WriteOff {
            reason: r.parsed("reason", "lost, stolen, damaged or other")?,
            notes,
        },
    };
    Ok(command)
}

fn storage_units(r: &Reader<'_>) -> Result<Vec<StorageUnit>, DomainError> {
    r.all("storage")
        .iter()
        .map(|spec| {
            let mut parts = spec.split(':');
            let unit = parts.next().unwrap_or_default().trim().to_string();
            let kind = match parts.next() {
                Some(kind) => kind
                    .parse::<StorageKind>()
                    .map_err(|e| invalid("storage", spec, &e.to_string()))?,
                None => StorageKind::Other,
            };
            let size_bytes = match parts.next() {
                Some(gb) => Some(
                    gb.trim()
                        .parse::<u64>()
                        .map_err(|_| invalid("storage", spec, "size is a whole number of GB"))?
                        * 1_000_000_000,
                ),
                None => None,
            };
            Ok(StorageUnit {
                unit,
                kind,
                model: String::new(),
                size_bytes,
                healthy: None,
            })
        })
        .collect()
}

fn placement(r: &Reader<'_>) -> Result<Placement, DomainError> {
    Ok(Placement {
        site: r.required("site", "the site name")?.to_string(),
        location: r.text("location"),
    })
}

fn optional_id<T: FromStr>(r: &Reader<'_>, name: &'static str) -> Result<Option<T>, DomainError>
where
    T::Err: std::fmt::Display,
{
    r.optional(name)
        .map(|raw| {
            raw.parse()
                .map_err(|e: T::Err| invalid(name, raw, &e.to_string()))
        })
        .transpose()
}

fn due_date(r: &Reader<'_>, hint: &str) -> Result<NaiveDate, DomainError> {
    let raw = r.required("due", hint)?;
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| invalid("due", raw, "expected a date as YYYY-MM-DD"))
}

fn handover_mode(r: &Reader<'_>) -> Result<HandoverMode, DomainError> {
    let mode = r.required("mode", "loan, donation or sale")?;
    match crate::types::fold(mode).as_str() {
        "loan" | "pret" => Ok(HandoverMode::Loan {
            due_on: due_date(r, "the loan's due date, YYYY-MM-DD")?,
        }),
        "donation" | "don" => Ok(HandoverMode::Donation),
        "sale" | "solidaritysale" | "vente" | "ventesolidaire" => {
            r.required("price", "the solidarity price in euros")?;
            Ok(HandoverMode::SolidaritySale {
                price_cents: cents(r.number("price", 0.0, 10_000.0)?),
            })
        }
        _ => Err(invalid("mode", mode, "expected loan, donation or sale")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        let mut map = Fields::new();
        for (k, v) in pairs {
            map.entry(k.to_string()).or_default().push(v.to_string());
        }
        map
    }

    #[test]
    fn diagnose_reads_storage_units() {
        let command = command_from_fields(
            Step::Diagnose,
            &fields(&[
                ("test", "passed"),
                ("storage", "S1:ssd:256"),
                ("storage", "S2"),
            ]),
            HouseholdId::generate(),
        )
        .unwrap();
        let DeviceCommand::Diagnose(diagnosis) = command else {
            panic!("expected a diagnosis");
        };
        assert_eq!(diagnosis.storage_units.len(), 2);
        assert_eq!(diagnosis.storage_units[0].kind, StorageKind::Ssd);
        assert_eq!(diagnosis.storage_units[0].size_bytes, Some(256_000_000_000));
    }

    #[test]
    fn missing_field_names_step_and_field() {
        let error = command_from_fields(Step::Erase, &fields(&[]), HouseholdId::generate())
            .unwrap_err()
            .to_string();
        assert!(error.contains("'erase'"), "{error}");
        assert!(error.contains("unit"), "{error}");
    }

    #[test]
    fn price_in_euros_becomes_cents() {
        let command = command_from_fields(
            Step::Handover,
            &fields(&[("mode", "sale"), ("price", "179,99")]),
            HouseholdId::generate(),
        )
        .unwrap();
        let DeviceCommand::HandOver { mode, .. } = command else {
            panic!("expected a handover");
        };
        assert_eq!(
            mode,
            HandoverMode::SolidaritySale {
                price_cents: 17_999
            }
        );
    }

    #[test]
    fn unknown_field_rejected() {
        let error = command_from_fields(
            Step::Erase,
            &fields(&[
                ("unit", "S1"),
                ("tool", "nwipe"),
                ("operator", "A"),
                ("methode", "purge"),
            ]),
            HouseholdId::generate(),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("'methode'"), "{error}");
        assert!(error.contains("method,"), "{error}");
    }

    #[test]
    fn sale_without_price_rejected() {
        let error = command_from_fields(
            Step::Handover,
            &fields(&[("mode", "sale")]),
            HouseholdId::generate(),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("price"), "{error}");
    }

    #[test]
    fn extend_reads_due_date() {
        let command = command_from_fields(
            Step::Extend,
            &fields(&[("due", "2025-09-30")]),
            HouseholdId::generate(),
        )
        .unwrap();
        assert_eq!(
            command,
            DeviceCommand::ExtendLoan {
                due_on: NaiveDate::from_ymd_opt(2025, 9, 30).unwrap()
            }
        );
    }

    #[test]
    fn extend_without_valid_due_date_rejected() {
        let error = command_from_fields(Step::Extend, &fields(&[]), HouseholdId::generate())
            .unwrap_err()
            .to_string();
        assert!(error.contains("'extend'"), "{error}");
        assert!(error.contains("due"), "{error}");

        let error = command_from_fields(
            Step::Extend,
            &fields(&[("due", "30/09/2025")]),
            HouseholdId::generate(),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("'30/09/2025'"), "{error}");
        assert!(error.contains("YYYY-MM-DD"), "{error}");
    }

    #[test]
    fn out_of_range_number_rejected() {
        let error = command_from_fields(
            Step::Repair,
            &fields(&[("cost", "-5")]),
            HouseholdId::generate(),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("'-5'"), "{error}");
    }
}
