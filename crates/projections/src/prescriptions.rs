//! The prescription read model: one row of `prescription_views` per
//! prescription, for the referrers' and workshops' lists and the loan
//! follow-up. Rows name the household by its opaque id only.
//!
//! A call of [`apply_prescriptions`] folds the batch's events in memory,
//! reads the rows it continues with one `SELECT ... IN` per chunk, and
//! writes each touched prescription once, with multi-row upserts. A rebuild
//! that replays millions of events therefore issues a few statements per
//! batch of events, not one per event.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use filiere_domain::event::HandoverMode;
use filiere_domain::prescription::codec::decode_prescription_event;
use filiere_domain::prescription::{PrescriptionEvent, PrescriptionIssued, PrescriptionStatus};
use filiere_domain::PrescriptionId;
use filiere_store::{placeholders, Backend, RecordedEvent};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};

use crate::ProjectionError;

/// Rows written per upsert statement. Each row binds 22 values, so a chunk
/// stays far below the bind limits of SQLite (32,766) and PostgreSQL
/// (65,535).
const ROWS_PER_STATEMENT: usize = 200;

/// One prescription of the read model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrescriptionRow {
    pub prescription_id: String,
    /// Stable status name, such as `issued` or `handed_over`.
    pub status: String,
    pub referrer_organisation: String,
    /// Workshop that accepted or declined the prescription.
    pub workshop_organisation: Option<String>,
    /// Device category needed.
    pub category: String,
    pub purpose: String,
    /// Handover mode the referrer prefers.
    pub preferred_mode: String,
    /// `loan`, `donation` or `solidarity_sale` once handed over.
    pub handover_mode: Option<String>,
    /// Opaque household id; the identity is in the `households` table.
    pub household_id: String,
    /// INSEE code of the household's commune.
    pub commune: String,
    pub device_id: Option<String>,
    pub device_code: Option<String>,
    pub training_prescribed: bool,
    pub training_attended: bool,
    pub trainings_missed: i64,
    /// Days as `YYYY-MM-DD`, from the time the event occurred (UTC).
    pub issued_on: String,
    pub accepted_on: Option<String>,
    pub handed_over_on: Option<String>,
    /// Due date of a loan, following its extensions.
    pub due_on: Option<String>,
    pub returned_on: Option<String>,
    /// Whether the household's need is settled (see
    /// `Prescription::is_closed`).
    pub closed: bool,
    /// Log position of the prescription's latest event.
    pub last_position: i64,
}

const COLUMNS: &str = "prescription_id, status, referrer_organisation, workshop_organisation, \
     category, purpose, preferred_mode, handover_mode, household_id, commune, device_id, \
     device_code, training_prescribed, training_attended, trainings_missed, issued_on, \
     accepted_on, handed_over_on, due_on, returned_on, closed, last_position";

/// Number of columns in [`COLUMNS`].
const COLUMN_COUNT: usize = 22;

pub(crate) fn is_prescription_stream(stream_id: &str) -> bool {
    stream_id
        .strip_prefix(PrescriptionId::STREAM_PREFIX)
        .is_some_and(|rest| rest.starts_with('-'))
}

/// Applies the prescription events of `events` to `prescription_views`.
pub(crate) async fn apply_prescriptions(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    let mut decoded = Vec::new();
    for event in events
        .iter()
        .filter(|e| is_prescription_stream(&e.stream_id))
    {
        let prescription =
            decode_prescription_event(&event.event_type, event.schema_version, &event.payload)
                .map_err(|error| ProjectionError::Event {
                    position: event.position,
                    reason: error.to_string(),
                })?;
        decoded.push((event, prescription));
    }
    if decoded.is_empty() {
        return Ok(());
    }

    let continued: Vec<String> = decoded
        .iter()
        .filter(|(_, event)| !matches!(event, PrescriptionEvent::Issued(_)))
        .map(|(recorded, _)| stream_key(&recorded.stream_id).to_string())
        .collect();
    let mut rows = load_rows(backend, transaction, continued).await?;

    let mut touched: Vec<String> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for (recorded, event) in &decoded {
        let id = stream_key(&recorded.stream_id);
        if let PrescriptionEvent::Issued(_) = event {
            rows.remove(id);
        }
        if !rows.contains_key(id) {
            let PrescriptionEvent::Issued(issued) = event else {
                return Err(ProjectionError::Event {
                    position: recorded.position,
                    reason: format!(
                        "prescription {id} has no row yet, but its event is {} instead of \
                         prescription_issued",
                        recorded.event_type
                    ),
                });
            };
            rows.insert(id.to_string(), issued_row(id, recorded, issued));
        }
        let row = rows.get_mut(id).expect("row inserted above");
        fold(row, recorded, event);
        if seen.insert(id) {
            touched.push(id.to_string());
        }
    }

    let changed: Vec<&PrescriptionRow> = touched.iter().filter_map(|id| rows.get(id)).collect();
    for chunk in changed.chunks(ROWS_PER_STATEMENT) {
        upsert(backend, transaction, chunk).await?;
    }
    Ok(())
}

/// Builds the first row of a prescription from its issue.
fn issued_row(id: &str, recorded: &RecordedEvent, issued: &PrescriptionIssued) -> PrescriptionRow {
    PrescriptionRow {
        prescription_id: id.to_string(),
        status: PrescriptionStatus::Issued.as_str().to_string(),
        referrer_organisation: issued.referrer_organisation.clone(),
        workshop_organisation: None,
        category: issued.need.category.as_str().to_string(),
        purpose: issued.need.purpose.as_str().to_string(),
        preferred_mode: issued.preferred_mode.as_str().to_string(),
        handover_mode: None,
        household_id: issued.household_id.to_string(),
        commune: issued.household.commune.to_string(),
        device_id: None,
        device_code: None,
        training_prescribed: issued.training.is_some(),
        training_attended: false,
        trainings_missed: 0,
        issued_on: day_of(recorded),
        accepted_on: None,
        handed_over_on: None,
        due_on: None,
        returned_on: None,
        closed: false,
        last_position: recorded.position,
    }
}

/// Returns the prescription id part of a stream id.
fn stream_key(stream_id: &str) -> &str {
    &stream_id[PrescriptionId::STREAM_PREFIX.len() + 1..]
}

fn day_of(event: &RecordedEvent) -> String {
    event.occurred_at.date_naive().to_string()
}

/// Folds one event into its row, as `Prescription::apply` does for the
/// aggregate.
fn fold(row: &mut PrescriptionRow, recorded: &RecordedEvent, event: &PrescriptionEvent) {
    let status = |status: PrescriptionStatus| status.as_str().to_string();
    match event {
        PrescriptionEvent::Issued(_) => {}
        PrescriptionEvent::Accepted {
            workshop_organisation,
        } => {
            row.workshop_organisation = Some(workshop_organisation.clone());
            row.status = status(PrescriptionStatus::Accepted);
            row.accepted_on = Some(day_of(recorded));
        }
        PrescriptionEvent::Declined {
            workshop_organisation,
            ..
        } => {
            row.workshop_organisation = Some(workshop_organisation.clone());
            row.status = status(PrescriptionStatus::Declined);
        }
        PrescriptionEvent::DeviceReserved(device) => {
            row.device_id = Some(device.device_id.to_string());
            row.device_code = Some(device.code.to_string());
            row.status = status(PrescriptionStatus::Reserved);
        }
        PrescriptionEvent::ReservationReleased { .. } => {
            row.device_id = None;
            row.device_code = None;
            row.status = status(PrescriptionStatus::Accepted);
        }
        PrescriptionEvent::HandedOver(handover) => {
            set_mode(row, &handover.mode);
            row.status = status(PrescriptionStatus::HandedOver);
            row.handed_over_on = Some(day_of(recorded));
        }
        PrescriptionEvent::TrainingAttended { .. } => row.training_attended = true,
        PrescriptionEvent::TrainingMissed { .. } => row.trainings_missed += 1,
        PrescriptionEvent::LoanExtended { due_on } => {
            set_mode(row, &HandoverMode::Loan { due_on: *due_on });
        }
        PrescriptionEvent::Returned { .. } => {
            row.status = status(PrescriptionStatus::Returned);
            row.returned_on = Some(day_of(recorded));
        }
        PrescriptionEvent::ConvertedToDonation {} => set_mode(row, &HandoverMode::Donation),
        PrescriptionEvent::Cancelled { .. } => row.status = status(PrescriptionStatus::Cancelled),
        PrescriptionEvent::Expired {} => row.status = status(PrescriptionStatus::Expired),
    }
    row.closed = is_closed(row);
    row.last_position = recorded.position;
}

fn set_mode(row: &mut PrescriptionRow, mode: &HandoverMode) {
    row.handover_mode = Some(mode.as_str().to_string());
    row.due_on = match mode {
        HandoverMode::Loan { due_on } => Some(due_on.to_string()),
        HandoverMode::Donation | HandoverMode::SolidaritySale { .. } => None,
    };
}

/// Same rule as `Prescription::is_closed`: settled when declined, returned,
/// cancelled, expired, or handed over other than as a loan.
fn is_closed(row: &PrescriptionRow) -> bool {
    match row.status.as_str() {
        "declined" | "returned" | "cancelled" | "expired" => true,
        "handed_over" => row.handover_mode.as_deref() != Some("loan"),
        _ => false,
    }
}

/// Reads the current rows of `ids`, by id.
async fn load_rows(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    mut ids: Vec<String>,
) -> Result<HashMap<String, PrescriptionRow>, ProjectionError> {
    ids.sort();
    ids.dedup();
    let mut rows = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(ROWS_PER_STATEMENT * 4) {
        let sql = format!(
            "SELECT {COLUMNS} FROM prescription_views WHERE prescription_id IN ({})",
            placeholders::list(backend, 1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(&mut **transaction).await? {
            let row = prescription_row(&row)?;
            rows.insert(row.prescription_id.clone(), row);
        }
    }
    Ok(rows)
}

/// Writes `rows` with one `INSERT ... ON CONFLICT DO UPDATE` statement.
async fn upsert(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    rows: &[&PrescriptionRow],
) -> Result<(), ProjectionError> {
    let updates: Vec<String> = COLUMNS
        .split(", ")
        .skip(1)
        .map(|column| format!("{column} = excluded.{column}"))
        .collect();
    let sql = format!(
        "INSERT INTO prescription_views ({COLUMNS}) VALUES {} \
         ON CONFLICT (prescription_id) DO UPDATE SET {}",
        placeholders::value_groups(backend, rows.len(), COLUMN_COUNT),
        updates.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for row in rows {
        query = query
            .bind(row.prescription_id.clone())
            .bind(row.status.clone())
            .bind(row.referrer_organisation.clone())
            .bind(row.workshop_organisation.clone())
            .bind(row.category.clone())
            .bind(row.purpose.clone())
            .bind(row.preferred_mode.clone())
            .bind(row.handover_mode.clone())
            .bind(row.household_id.clone())
            .bind(row.commune.clone())
            .bind(row.device_id.clone())
            .bind(row.device_code.clone())
            .bind(i64::from(row.training_prescribed))
            .bind(i64::from(row.training_attended))
            .bind(row.trainings_missed)
            .bind(row.issued_on.clone())
            .bind(row.accepted_on.clone())
            .bind(row.handed_over_on.clone())
            .bind(row.due_on.clone())
            .bind(row.returned_on.clone())
            .bind(i64::from(row.closed))
            .bind(row.last_position);
    }
    query.execute(&mut **transaction).await?;
    Ok(())
}

fn prescription_row(row: &AnyRow) -> Result<PrescriptionRow, ProjectionError> {
    let flag = |name: &str| -> Result<bool, sqlx::Error> { Ok(row.try_get::<i64, _>(name)? != 0) };
    Ok(PrescriptionRow {
        prescription_id: row.try_get("prescription_id")?,
        status: row.try_get("status")?,
        referrer_organisation: row.try_get("referrer_organisation")?,
        workshop_organisation: row.try_get("workshop_organisation")?,
        category: row.try_get("category")?,
        purpose: row.try_get("purpose")?,
        preferred_mode: row.try_get("preferred_mode")?,
        handover_mode: row.try_get("handover_mode")?,
        household_id: row.try_get("household_id")?,
        commune: row.try_get("commune")?,
        device_id: row.try_get("device_id")?,
        device_code: row.try_get("device_code")?,
        training_prescribed: flag("training_prescribed")?,
        training_attended: flag("training_attended")?,
        trainings_missed: row.try_get("trainings_missed")?,
        issued_on: row.try_get("issued_on")?,
        accepted_on: row.try_get("accepted_on")?,
        handed_over_on: row.try_get("handed_over_on")?,
        due_on: row.try_get("due_on")?,
        returned_on: row.try_get("returned_on")?,
        closed: flag("closed")?,
        last_position: row.try_get("last_position")?,
    })
}

/// Organisations whose loans a query lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoanScope {
    /// Loans handed over by this workshop organisation.
    Workshop(String),
    /// Loans of prescriptions issued by this referrer organisation.
    Referrer(String),
    /// Loans where this organisation is the workshop or the referrer.
    Organisation(String),
    /// Every loan, for administrators and the command line.
    All,
}

impl LoanScope {
    /// SQL condition and its bound value, numbered from `$1`.
    fn clause(&self) -> (&'static str, Option<&str>) {
        match self {
            LoanScope::Workshop(id) => (" AND workshop_organisation = $1", Some(id)),
            LoanScope::Referrer(id) => (" AND referrer_organisation = $1", Some(id)),
            LoanScope::Organisation(id) => (
                " AND (workshop_organisation = $1 OR referrer_organisation = $1)",
                Some(id),
            ),
            LoanScope::All => ("", None),
        }
    }
}

async fn fetch(
    pool: &AnyPool,
    sql: &str,
    values: &[&str],
) -> Result<Vec<PrescriptionRow>, ProjectionError> {
    let mut query = sqlx::query(sql);
    for value in values {
        query = query.bind(*value);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter().map(prescription_row).collect()
}

/// Returns whether any prescription names `organisation` as its referrer or its
/// workshop, as the organisation id or the free text given on the command
/// line.
pub async fn organisation_has_prescriptions(
    pool: &AnyPool,
    organisation: &str,
) -> Result<bool, ProjectionError> {
    let row = sqlx::query(
        "SELECT prescription_id FROM prescription_views \
         WHERE workshop_organisation = $1 OR referrer_organisation = $1 LIMIT 1",
    )
    .bind(organisation)
    .fetch_optional(pool)
    .await?;
    Ok(row.is_some())
}

/// Reads one prescription's row, `None` when the id is unknown or the
/// projection has not reached it yet.
pub async fn prescription(
    pool: &AnyPool,
    id: &str,
) -> Result<Option<PrescriptionRow>, ProjectionError> {
    let sql = format!("SELECT {COLUMNS} FROM prescription_views WHERE prescription_id = $1");
    Ok(fetch(pool, &sql, &[id]).await?.into_iter().next())
}

/// Prescriptions issued by the referrer organisation `organisation_id`,
/// newest first, at most `limit`.
pub async fn referrer_prescriptions(
    pool: &AnyPool,
    organisation_id: &str,
    limit: i64,
) -> Result<Vec<PrescriptionRow>, ProjectionError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM prescription_views WHERE referrer_organisation = $1 \
         ORDER BY issued_on DESC, last_position DESC LIMIT {}",
        limit.max(0)
    );
    fetch(pool, &sql, &[organisation_id]).await
}

/// Prescriptions waiting for a workshop: issued, neither accepted nor
/// declined yet, oldest first, at most `limit`. Every workshop may list
/// them.
pub async fn incoming_prescriptions(
    pool: &AnyPool,
    limit: i64,
) -> Result<Vec<PrescriptionRow>, ProjectionError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM prescription_views WHERE status = 'issued' \
         ORDER BY issued_on, last_position LIMIT {}",
        limit.max(0)
    );
    fetch(pool, &sql, &[]).await
}

/// Open prescriptions that the workshop `organisation_id` accepted:
/// waiting for a device, reserved, or on loan; oldest first, at most
/// `limit`.
pub async fn workshop_prescriptions(
    pool: &AnyPool,
    organisation_id: &str,
    limit: i64,
) -> Result<Vec<PrescriptionRow>, ProjectionError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM prescription_views WHERE workshop_organisation = $1 \
         AND closed = 0 AND status IN ('accepted', 'reserved', 'handed_over') \
         ORDER BY issued_on, last_position LIMIT {}",
        limit.max(0)
    );
    fetch(pool, &sql, &[organisation_id]).await
}

/// Loans still with their household that fall due from `as_of` to
/// `as_of + days` included, soonest first.
pub async fn loans_due_within(
    pool: &AnyPool,
    scope: &LoanScope,
    as_of: NaiveDate,
    days: u32,
) -> Result<Vec<PrescriptionRow>, ProjectionError> {
    let until = as_of + chrono::Duration::days(i64::from(days));
    loans_between(pool, scope, Some(as_of), until).await
}

/// Loans still with their household whose due date is before `as_of`,
/// most overdue first.
pub async fn overdue_loans(
    pool: &AnyPool,
    scope: &LoanScope,
    as_of: NaiveDate,
) -> Result<Vec<PrescriptionRow>, ProjectionError> {
    let day_before = as_of - chrono::Duration::days(1);
    loans_between(pool, scope, None, day_before).await
}

/// Open loans due from `from` (or any earlier day) to `until`, included.
async fn loans_between(
    pool: &AnyPool,
    scope: &LoanScope,
    from: Option<NaiveDate>,
    until: NaiveDate,
) -> Result<Vec<PrescriptionRow>, ProjectionError> {
    let (scope_clause, scope_value) = scope.clause();
    let mut values: Vec<String> = scope_value.map(str::to_string).into_iter().collect();
    let mut clauses = String::new();
    values.push(until.to_string());
    clauses.push_str(&format!(" AND due_on <= ${}", values.len()));
    if let Some(from) = from {
        values.push(from.to_string());
        clauses.push_str(&format!(" AND due_on >= ${}", values.len()));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM prescription_views WHERE status = 'handed_over' \
         AND handover_mode = 'loan' AND due_on IS NOT NULL{scope_clause}{clauses} \
         ORDER BY due_on, last_position"
    );
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    fetch(pool, &sql, &values).await
}
