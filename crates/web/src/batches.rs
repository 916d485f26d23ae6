//! Donation batches as pages and the API show them: one batch by id, and its
//! progress through the workshop.

use filiere_domain::types::DonorKind;
use filiere_domain::{DeviceStatus, DonationId};
use filiere_projections::{DonationRow, ProjectionError};
use sqlx::{AnyPool, Row};

use crate::errors::AppError;

/// Statuses of a device that has left the workshop for good or for a
/// household; the batch's progress counts them.
pub const DONE_STATUSES: [DeviceStatus; 4] = [
    DeviceStatus::HandedOver,
    DeviceStatus::Recycled,
    DeviceStatus::Dismantled,
    DeviceStatus::WrittenOff,
];

/// Loads the batch `donation_id` with its count of devices per status.
///
/// NOTE: `filiere_projections::queries` lists batches but has no lookup by
/// id; this query reads the same tables and belongs there.
pub async fn donation_by_id(
    pool: &AnyPool,
    donation_id: &str,
) -> Result<Option<DonationRow>, ProjectionError> {
    let row = sqlx::query(
        "SELECT donation_id, donor_name, donor_kind, free_transfer, received_on, site, reference, \
         device_count FROM donation_batches WHERE donation_id = $1",
    )
    .bind(donation_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let by_status = sqlx::query_as::<_, (String, i64)>(
        "SELECT status, COUNT(*) FROM stock_devices WHERE donation_id = $1 \
         GROUP BY status ORDER BY status",
    )
    .bind(donation_id)
    .fetch_all(pool)
    .await?;
    Ok(Some(DonationRow {
        donation_id: row.try_get("donation_id")?,
        donor_name: row.try_get("donor_name")?,
        donor_kind: row.try_get("donor_kind")?,
        free_transfer: row.try_get::<i64, _>("free_transfer")? != 0,
        received_on: row.try_get("received_on")?,
        site: row.try_get("site")?,
        reference: row.try_get("reference")?,
        device_count: row.try_get("device_count")?,
        by_status,
    }))
}

/// Loads a batch by the id in a URL; an invalid id is "not found" too.
pub async fn find_batch(pool: &AnyPool, typed: &str) -> Result<DonationRow, AppError> {
    let not_found = || {
        AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            "donation_not_found",
            format!("Aucun lot de dons avec l'identifiant « {typed} »."),
        )
        .back_to("/donations")
    };
    let id: DonationId = typed.parse().map_err(|_| not_found())?;
    donation_by_id(pool, &id.to_string())
        .await?
        .ok_or_else(not_found)
}

/// Number of devices of the batch that have left the workshop.
pub fn done_count(batch: &DonationRow) -> i64 {
    batch
        .by_status
        .iter()
        .filter(|(status, _)| DONE_STATUSES.iter().any(|done| done.as_str() == status))
        .map(|(_, count)| count)
        .sum()
}

/// A batch with French labels, for the pages.
#[derive(Clone, Debug)]
pub struct BatchView {
    pub id: String,
    pub donor: String,
    pub donor_kind: String,
    pub free_transfer: bool,
    pub received_on: String,
    pub site: String,
    pub reference: String,
    pub device_count: i64,
    pub done: i64,
    /// Count per status in French, such as "3 En stock, 1 Recyclé".
    pub summary: String,
}

impl From<DonationRow> for BatchView {
    fn from(batch: DonationRow) -> BatchView {
        BatchView {
            done: done_count(&batch),
            summary: batch
                .by_status
                .iter()
                .map(|(status, count)| format!("{count} {}", crate::pages::status_label(status)))
                .collect::<Vec<_>>()
                .join(", "),
            donor_kind: batch
                .donor_kind
                .parse::<DonorKind>()
                .map_or_else(|_| batch.donor_kind.clone(), |k| k.label_fr().to_string()),
            received_on: crate::pages::french_date(&batch.received_on),
            id: batch.donation_id,
            donor: batch.donor_name,
            free_transfer: batch.free_transfer,
            site: batch.site,
            reference: batch.reference,
            device_count: batch.device_count,
        }
    }
}
