//! Reads of the projections for pages, the API and the CLI.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::ProjectionError;

/// One device of the stock view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StockRow {
    pub device_id: String,
    pub code: String,
    pub donation_id: String,
    /// Organisation holding the device.
    pub holder: String,
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: Option<String>,
    pub status: String,
    pub site: String,
    pub location: String,
    pub grade: Option<String>,
    pub functional_test: Option<String>,
    pub erasure: String,
    pub ready: bool,
    pub received_at: String,
    pub updated_at: String,
}

/// Filters of the stock view; `None` means any value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StockFilter {
    pub site: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub grade: Option<String>,
    pub donation_id: Option<String>,
    /// Organisation holding the devices.
    pub holder: Option<String>,
    /// Matches the start of a code, a serial or a model, ignoring case.
    pub search: Option<String>,
}

/// One event of a device's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimelineRow {
    pub position: i64,
    pub event_type: String,
    pub occurred_at: String,
    pub actor: String,
    pub summary: String,
}

/// One donation batch with its progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DonationRow {
    pub donation_id: String,
    pub donor_name: String,
    pub donor_kind: String,
    pub free_transfer: bool,
    pub received_on: String,
    pub site: String,
    pub reference: String,
    pub device_count: i64,
    /// Number of devices of the batch in each status.
    pub by_status: Vec<(String, i64)>,
}

const STOCK_COLUMNS: &str =
    "device_id, code, donation_id, holder, category, brand, model, serial, \
     status, site, location, grade, functional_test, erasure, ready, received_at, updated_at";

/// SQL `WHERE` clause and its bound values for a filter.
fn where_clause(filter: &StockFilter) -> (String, Vec<String>) {
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    let exact = [
        ("site", &filter.site),
        ("status", &filter.status),
        ("category", &filter.category),
        ("grade", &filter.grade),
        ("donation_id", &filter.donation_id),
        ("holder", &filter.holder),
    ];
    for (column, value) in exact {
        if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
            values.push(value.clone());
            clauses.push(format!("{column} = ${}", values.len()));
        }
    }
    if let Some(search) = filter.search.as_ref().filter(|v| !v.trim().is_empty()) {
        values.push(format!("{}%", search.trim().to_uppercase()));
        let n = values.len();
        clauses.push(format!(
            "(code LIKE ${n} OR UPPER(COALESCE(serial, '')) LIKE ${n} OR UPPER(model) LIKE ${n})"
        ));
    }
    if clauses.is_empty() {
        (String::new(), values)
    } else {
        (format!(" WHERE {}", clauses.join(" AND ")), values)
    }
}

/// Devices matching `filter`, most recently changed first, at most `limit`.
pub async fn stock_list(
    pool: &AnyPool,
    filter: &StockFilter,
    limit: i64,
) -> Result<Vec<StockRow>, ProjectionError> {
    let (clause, values) = where_clause(filter);
    let sql = format!(
        "SELECT {STOCK_COLUMNS} FROM stock_devices{clause} ORDER BY updated_at DESC, code LIMIT ${}",
        values.len() + 1
    );
    let mut query = sqlx::query(&sql);
    for value in &values {
        query = query.bind(value);
    }
    let rows = query.bind(limit).fetch_all(pool).await?;
    rows.iter().map(stock_row).collect()
}

/// Reads the stock row of one device.
pub async fn stock_device(
    pool: &AnyPool,
    device_id: &str,
) -> Result<Option<StockRow>, ProjectionError> {
    let sql = format!("SELECT {STOCK_COLUMNS} FROM stock_devices WHERE device_id = $1");
    let row = sqlx::query(&sql)
        .bind(device_id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(stock_row).transpose()
}

/// Number of devices matching `filter` for each value of `dimension`, which
/// must be one of site, status, category or grade.
pub async fn stock_counts(
    pool: &AnyPool,
    filter: &StockFilter,
    dimension: &str,
) -> Result<Vec<(String, i64)>, ProjectionError> {
    let column = match dimension {
        "site" | "status" | "category" | "grade" => dimension,
        other => {
            return Err(ProjectionError::Event {
                position: 0,
                reason: format!("cannot count by '{other}'"),
            })
        }
    };
    let (clause, values) = where_clause(filter);
    let sql = format!(
        "SELECT COALESCE({column}, ''), COUNT(*) FROM stock_devices{clause} \
         GROUP BY COALESCE({column}, '') ORDER BY COALESCE({column}, '')"
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
    for value in &values {
        query = query.bind(value);
    }
    Ok(query.fetch_all(pool).await?)
}

/// Events of one device, oldest first.
pub async fn timeline(
    pool: &AnyPool,
    device_id: &str,
) -> Result<Vec<TimelineRow>, ProjectionError> {
    let rows = sqlx::query(
        "SELECT position, event_type, occurred_at, actor, summary FROM device_timeline \
         WHERE device_id = $1 ORDER BY position",
    )
    .bind(device_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(TimelineRow {
                position: row.try_get("position")?,
                event_type: row.try_get("event_type")?,
                occurred_at: row.try_get("occurred_at")?,
                actor: row.try_get("actor")?,
                summary: row.try_get("summary")?,
            })
        })
        .collect()
}

/// Donation batches, newest first, with the count of their devices per status.
pub async fn donations(pool: &AnyPool, limit: i64) -> Result<Vec<DonationRow>, ProjectionError> {
    let rows = sqlx::query(
        "SELECT donation_id, donor_name, donor_kind, free_transfer, received_on, site, reference, \
         device_count FROM donation_batches ORDER BY received_on DESC, recorded_at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut batches = Vec::with_capacity(rows.len());
    for row in &rows {
        let donation_id: String = row.try_get("donation_id")?;
        let by_status = sqlx::query_as::<_, (String, i64)>(
            "SELECT status, COUNT(*) FROM stock_devices WHERE donation_id = $1 \
             GROUP BY status ORDER BY status",
        )
        .bind(&donation_id)
        .fetch_all(pool)
        .await?;
        batches.push(DonationRow {
            donation_id,
            donor_name: row.try_get("donor_name")?,
            donor_kind: row.try_get("donor_kind")?,
            free_transfer: row.try_get::<i64, _>("free_transfer")? != 0,
            received_on: row.try_get("received_on")?,
            site: row.try_get("site")?,
            reference: row.try_get("reference")?,
            device_count: row.try_get("device_count")?,
            by_status,
        });
    }
    Ok(batches)
}

fn stock_row(row: &AnyRow) -> Result<StockRow, ProjectionError> {
    Ok(StockRow {
        device_id: row.try_get("device_id")?,
        code: row.try_get("code")?,
        donation_id: row.try_get("donation_id")?,
        holder: row.try_get("holder")?,
        category: row.try_get("category")?,
        brand: row.try_get("brand")?,
        model: row.try_get("model")?,
        serial: row.try_get("serial")?,
        status: row.try_get("status")?,
        site: row.try_get("site")?,
        location: row.try_get("location")?,
        grade: row.try_get("grade")?,
        functional_test: row.try_get("functional_test")?,
        erasure: row.try_get("erasure")?,
        ready: row.try_get::<i64, _>("ready")? != 0,
        received_at: row.try_get("received_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Devices whose latest diagnosis lists a storage unit with this serial match
/// key (see `SerialNumber::match_key`).
pub async fn devices_with_disk(
    pool: &AnyPool,
    match_key: &str,
) -> Result<Vec<String>, ProjectionError> {
    Ok(sqlx::query_scalar(
        "SELECT device_id FROM stock_storage_units WHERE match_key = $1 ORDER BY device_id",
    )
    .bind(match_key)
    .fetch_all(pool)
    .await?)
}
