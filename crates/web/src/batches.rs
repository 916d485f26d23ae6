//! Donation batches as pages and the API show them: the batches a caller may
//! see, one batch by id, and its progress through the workshop. A batch
//! belongs to the organisation that recorded it.

use filiere_domain::access::Action;
use filiere_domain::types::DonorKind;
use filiere_domain::{DeviceStatus, DonationId};
use filiere_projections::{queries, DonationRow, ProjectionError};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::auth::Caller;
use crate::errors::AppError;

/// Statuses of a device that has left the workshop for good or for a
/// household; the batch's progress counts them.
pub const DONE_STATUSES: [DeviceStatus; 4] = [
    DeviceStatus::HandedOver,
    DeviceStatus::Recycled,
    DeviceStatus::Dismantled,
    DeviceStatus::WrittenOff,
];

const BATCH_COLUMNS: &str = "b.donation_id, b.donor_name, b.donor_kind, b.free_transfer, \
     b.received_on, b.site, b.reference, b.device_count";

/// Loads the batch `donation_id` with its count of devices per status.
///
/// NOTE: `filiere_projections::queries` lists batches but has no lookup by
/// id; this query reads the same tables and belongs there.
pub async fn donation_by_id(
    pool: &AnyPool,
    donation_id: &str,
) -> Result<Option<DonationRow>, ProjectionError> {
    let row = sqlx::query(&format!(
        "SELECT {BATCH_COLUMNS} FROM donation_batches b WHERE b.donation_id = $1"
    ))
    .bind(donation_id)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => Ok(Some(donation_row(pool, &row).await?)),
        None => Ok(None),
    }
}

/// Batches recorded for `organisation`, newest first, at most `limit`.
///
/// NOTE: the `donation_batches` projection has no organisation column, so
/// this joins each batch to the first event of its stream, whose
/// organisation recorded it. A column in the projection would avoid the join.
pub async fn donations_of(
    pool: &AnyPool,
    organisation: &str,
    limit: i64,
) -> Result<Vec<DonationRow>, ProjectionError> {
    let rows = sqlx::query(&format!(
        "SELECT {BATCH_COLUMNS} FROM donation_batches b JOIN events e \
         ON e.stream_id = '{prefix}-' || b.donation_id AND e.stream_version = 1 \
         WHERE e.organisation = $1 ORDER BY b.received_on DESC, b.recorded_at DESC LIMIT $2",
        prefix = DonationId::STREAM_PREFIX
    ))
    .bind(organisation)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut batches = Vec::with_capacity(rows.len());
    for row in &rows {
        batches.push(donation_row(pool, row).await?);
    }
    Ok(batches)
}

/// Organisation that recorded the batch: the organisation of its first
/// event.
pub async fn batch_organisation(
    pool: &AnyPool,
    donation_id: &str,
) -> Result<Option<String>, ProjectionError> {
    let stream_id = format!("{}-{donation_id}", DonationId::STREAM_PREFIX);
    Ok(sqlx::query_scalar(
        "SELECT organisation FROM events WHERE stream_id = $1 AND stream_version = 1",
    )
    .bind(stream_id)
    .fetch_optional(pool)
    .await?)
}

async fn donation_row(pool: &AnyPool, row: &AnyRow) -> Result<DonationRow, ProjectionError> {
    let donation_id: String = row.try_get("donation_id")?;
    let by_status = sqlx::query_as::<_, (String, i64)>(
        "SELECT status, COUNT(*) FROM stock_devices WHERE donation_id = $1 \
         GROUP BY status ORDER BY status",
    )
    .bind(&donation_id)
    .fetch_all(pool)
    .await?;
    Ok(DonationRow {
        donation_id,
        donor_name: row.try_get("donor_name")?,
        donor_kind: row.try_get("donor_kind")?,
        free_transfer: row.try_get::<i64, _>("free_transfer")? != 0,
        received_on: row.try_get("received_on")?,
        site: row.try_get("site")?,
        reference: row.try_get("reference")?,
        device_count: row.try_get("device_count")?,
        by_status,
    })
}

/// Batches the caller may see, newest first: those of the caller's
/// organisation, or every batch for an administrator.
pub async fn visible_batches(
    pool: &AnyPool,
    caller: &Caller,
    limit: i64,
) -> Result<Vec<DonationRow>, AppError> {
    Ok(match caller.holder_filter() {
        Some(organisation) => donations_of(pool, &organisation, limit).await?,
        None => queries::donations(pool, limit).await?,
    })
}

/// Use of a batch by a caller, for its authorization.
#[derive(Clone, Copy, Debug)]
pub enum BatchUse {
    View,
    Print,
}

/// Loads a batch by the id in a URL; an invalid id, or a batch of an
/// organisation the caller may not see, is "not found" too.
pub async fn find_batch(
    pool: &AnyPool,
    caller: &Caller,
    typed: &str,
    usage: BatchUse,
) -> Result<DonationRow, AppError> {
    let not_found = || {
        AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            "donation_not_found",
            format!("Aucun lot de dons avec l'identifiant « {typed} »."),
        )
        .back_to("/donations")
    };
    let id: DonationId = typed.parse().map_err(|_| not_found())?;
    let batch = donation_by_id(pool, &id.to_string())
        .await?
        .ok_or_else(not_found)?;
    let organisation = batch_organisation(pool, &batch.donation_id)
        .await?
        .unwrap_or_default();
    let organisation_id = organisation.as_str();
    let action = match usage {
        BatchUse::View => Action::ViewStock { organisation_id },
        BatchUse::Print => Action::PrintDocuments { organisation_id },
    };
    caller.require_or_hide(&action, not_found())?;
    Ok(batch)
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
