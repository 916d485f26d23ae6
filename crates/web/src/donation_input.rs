//! A new donation batch as typed in the form or sent to the API: checked as
//! a whole, every problem listed at once, then recorded in one transaction
//! with `Workshop::receive_donation`, as `filiere import donations` does.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use filiere_domain::access::Principal;
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::serial::SerialNumber;
use filiere_domain::types::{Category, DonorKind};
use filiere_domain::{DeviceId, DonationId};
use filiere_store::workshop::{DonationOutcome, NewDevice};

use crate::errors::AppError;
use crate::messages::message_fr;
use crate::recording::{catch_up, web_context};
use crate::server::AppState;

/// One device line of a new batch, as typed.
#[derive(Clone, Debug, Default)]
pub struct DeviceInput {
    /// Source of the line in French, for messages ("Ligne 2 du tableau").
    pub origin: String,
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: String,
    pub asset_tag: String,
}

/// A new batch, as typed.
#[derive(Clone, Debug, Default)]
pub struct DonationInput {
    pub donor: String,
    pub donor_kind: String,
    pub free_transfer: bool,
    pub site: String,
    /// `YYYY-MM-DD`; empty means today.
    pub received_on: String,
    pub reference: String,
    pub devices: Vec<DeviceInput>,
}

/// Every problem found in a batch, with the status of the whole request.
#[derive(Clone, Debug)]
pub struct InputProblems {
    pub status: StatusCode,
    pub code: &'static str,
    /// French messages, one per problem.
    pub problems: Vec<String>,
}

impl InputProblems {
    fn invalid(problems: Vec<String>) -> InputProblems {
        InputProblems {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_donation",
            problems,
        }
    }

    /// Converts the problems into one error whose message lists them all.
    pub fn into_error(self) -> AppError {
        AppError::new(self.status, self.code, self.problems.join(" "))
    }
}

impl From<AppError> for InputProblems {
    fn from(error: AppError) -> InputProblems {
        InputProblems {
            status: error.status,
            code: error.code,
            problems: vec![error.message],
        }
    }
}

/// Checks `input` and records the batch for the caller's organisation,
/// which holds its devices, then catches projections up.
pub async fn receive(
    state: &AppState,
    principal: &Principal,
    input: &DonationInput,
) -> Result<DonationOutcome, InputProblems> {
    let mut problems = Vec::new();
    let donor_kind = parse_donor_kind(&input.donor_kind, &mut problems);
    let received_on = parse_date(&input.received_on, &mut problems);

    let mut intakes = Vec::with_capacity(input.devices.len());
    for device in &input.devices {
        if let Some(checked) = check_device(device, &mut problems) {
            intakes.push((device, checked));
        }
    }
    check_duplicates_in_batch(&intakes, &mut problems);
    if !problems.is_empty() {
        return Err(InputProblems::invalid(problems));
    }
    check_known_serials(state, &intakes).await?;

    let (Some(donor_kind), Some(received_on)) = (donor_kind, received_on) else {
        return Err(InputProblems::invalid(problems));
    };
    let donation_id = DonationId::generate();
    let site = input.site.trim().to_string();
    let devices = intakes
        .into_iter()
        .map(|(_, device)| NewDevice {
            intake: Intake {
                device_id: DeviceId::generate(),
                donation_id,
                category: device.category,
                brand: device.brand,
                model: device.model,
                serial: device.serial,
                asset_tag: device.asset_tag,
                site: site.clone(),
                donor_kind,
                free_transfer: input.free_transfer,
            },
        })
        .collect();
    let donation = NewDonation {
        donation_id,
        donor_name: input.donor.clone(),
        donor_kind,
        free_transfer: input.free_transfer,
        received_on,
        site,
        reference: input.reference.clone(),
    };

    let outcome = state
        .workshop
        .receive_donation(donation, devices, &web_context(principal, None))
        .await
        .map_err(AppError::from)?;
    catch_up(state).await;
    Ok(outcome)
}

/// A device line once read.
struct CheckedDevice {
    category: Category,
    brand: String,
    model: String,
    serial: Option<SerialNumber>,
    asset_tag: Option<String>,
}

fn parse_donor_kind(typed: &str, problems: &mut Vec<String>) -> Option<DonorKind> {
    if typed.trim().is_empty() {
        return Some(DonorKind::Company);
    }
    match typed.parse::<DonorKind>() {
        Ok(kind) => Some(kind),
        Err(error) => {
            problems.push(format!(
                "Type de donateur « {typed} » inconnu ; valeurs acceptées : {}.",
                error.expected
            ));
            None
        }
    }
}

fn parse_date(typed: &str, problems: &mut Vec<String>) -> Option<NaiveDate> {
    if typed.trim().is_empty() {
        return Some(Utc::now().date_naive());
    }
    match NaiveDate::parse_from_str(typed.trim(), "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(_) => {
            problems.push(format!(
                "Date de réception « {typed} » invalide : une date au format AAAA-MM-JJ est \
                 attendue."
            ));
            None
        }
    }
}

fn check_device(device: &DeviceInput, problems: &mut Vec<String>) -> Option<CheckedDevice> {
    let origin = &device.origin;
    let category = match device.category.parse::<Category>() {
        Ok(category) => Some(category),
        Err(error) => {
            problems.push(format!(
                "{origin} : catégorie « {} » inconnue ; valeurs acceptées : {} (ou leur nom \
                 en français).",
                device.category, error.expected
            ));
            None
        }
    };
    let serial = match SerialNumber::parse(&device.serial) {
        Ok(serial) => Some(serial),
        Err(error) => {
            problems.push(format!("{origin} : {}", message_fr(&error)));
            None
        }
    };
    let asset_tag = Some(device.asset_tag.trim())
        .filter(|tag| !tag.is_empty())
        .map(str::to_string);
    Some(CheckedDevice {
        category: category?,
        brand: device.brand.trim().to_string(),
        model: device.model.trim().to_string(),
        serial: serial?,
        asset_tag,
    })
}

fn check_duplicates_in_batch(
    intakes: &[(&DeviceInput, CheckedDevice)],
    problems: &mut Vec<String>,
) {
    let mut first_seen: BTreeMap<String, &str> = BTreeMap::new();
    for (input, device) in intakes {
        let Some(serial) = &device.serial else {
            continue;
        };
        if let Some(first) = first_seen.get(&serial.match_key()) {
            problems.push(format!(
                "{} : le numéro de série « {serial} » est en double ({}).",
                input.origin,
                first.to_lowercase()
            ));
        } else {
            first_seen.insert(serial.match_key(), &input.origin);
        }
    }
}

/// Rejects serial numbers already recorded for another device, listing each.
async fn check_known_serials(
    state: &AppState,
    intakes: &[(&DeviceInput, CheckedDevice)],
) -> Result<(), InputProblems> {
    let mut problems = Vec::new();
    for (input, device) in intakes {
        let Some(serial) = &device.serial else {
            continue;
        };
        if let Some(owner) = state
            .workshop
            .device_with_serial(serial)
            .await
            .map_err(AppError::from)?
        {
            problems.push(format!(
                "{} : le numéro de série « {serial} » est déjà enregistré pour l'appareil {owner}.",
                input.origin
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(InputProblems {
        status: StatusCode::CONFLICT,
        code: "duplicate_serial",
        problems,
    })
}
