//! Donation batches: one stream per batch of devices given together by one
//! donor. Devices refer to their batch by id.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::DonationId;
use crate::text::bounded;
use crate::types::DonorKind;

/// A fact about a donation batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DonationEvent {
    DonationReceived(DonationReceived),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DonationReceived {
    pub donation_id: DonationId,
    pub donor_name: String,
    pub donor_kind: DonorKind,
    /// Devices given by a public body under the free-transfer rule (unit
    /// value up to 300 EUR) may only be sold at capped solidarity prices.
    pub free_transfer: bool,
    pub received_on: NaiveDate,
    pub site: String,
    /// The donor's own reference for the batch, such as a delivery note.
    #[serde(default)]
    pub reference: String,
    pub device_count: u32,
}

impl DonationEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            DonationEvent::DonationReceived(_) => "donation_received",
        }
    }
}

/// Header of a new donation batch, as entered or imported.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDonation {
    pub donation_id: DonationId,
    pub donor_name: String,
    pub donor_kind: DonorKind,
    pub free_transfer: bool,
    pub received_on: NaiveDate,
    pub site: String,
    pub reference: String,
}

impl NewDonation {
    /// Checks the header and returns the batch's first event.
    pub fn decide(self, device_count: u32, today: NaiveDate) -> Result<DonationEvent, DomainError> {
        let donor_name = bounded("donor", &self.donor_name, 200)?;
        if donor_name.is_empty() {
            return Err(DomainError::InvalidField {
                field: "donor",
                value: String::new(),
                reason: "name the donor (company, public body or person)".into(),
            });
        }
        let site = bounded("site", &self.site, 100)?;
        if site.is_empty() {
            return Err(DomainError::InvalidField {
                field: "site",
                value: String::new(),
                reason: "give the site where the batch was received".into(),
            });
        }
        if self.received_on > today {
            return Err(DomainError::InvalidField {
                field: "received on",
                value: self.received_on.to_string(),
                reason: format!("the date is after today ({today})"),
            });
        }
        if self.free_transfer && self.donor_kind != DonorKind::PublicBody {
            return Err(DomainError::InvalidField {
                field: "free transfer",
                value: self.donor_kind.to_string(),
                reason: "only public bodies give under the free-transfer rule".into(),
            });
        }
        if device_count == 0 {
            return Err(DomainError::InvalidField {
                field: "devices",
                value: "0".into(),
                reason: "a donation batch has at least one device".into(),
            });
        }
        Ok(DonationEvent::DonationReceived(DonationReceived {
            donation_id: self.donation_id,
            donor_name,
            donor_kind: self.donor_kind,
            free_transfer: self.free_transfer,
            received_on: self.received_on,
            site,
            reference: bounded("reference", &self.reference, 100)?,
            device_count,
        }))
    }
}
