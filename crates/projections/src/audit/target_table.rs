//! Storage of audit targets in the `audit_targets` table. Every change adds a
//! revision; the highest revision is the current target.

use chrono::{DateTime, SecondsFormat, Utc};
use filiere_store::EventStore;

use super::target::{AuditTarget, ShareMethod, TargetError};
use super::AuditError;

type TargetRow = (i64, i64, String, String, String, Option<i64>, String);

/// Saves `target` as a new revision and returns its number.
pub async fn save_target(
    store: &EventStore,
    target: &AuditTarget,
    set_by: &str,
    set_at: DateTime<Utc>,
) -> Result<i64, AuditError> {
    let (method, manual) = match target.share_method {
        ShareMethod::Population => ("population", None),
        ShareMethod::Manual(share) => ("manual", Some(to_i64("share", share)?)),
    };
    let workshops = serde_json::to_string(&target.workshops).expect("strings serialise");
    let revision: i64 = sqlx::query_scalar(
        "INSERT INTO audit_targets (revision, national_target, unit, territory_code, \
         share_method, manual_share, workshops, set_by, set_at) \
         SELECT COALESCE(MAX(revision), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8 \
         FROM audit_targets RETURNING revision",
    )
    .bind(to_i64("national target", target.national_target)?)
    .bind(target.unit.as_str())
    .bind(&target.territory_code)
    .bind(method)
    .bind(manual)
    .bind(workshops)
    .bind(set_by)
    .bind(set_at.to_rfc3339_opts(SecondsFormat::Micros, true))
    .fetch_one(store.pool())
    .await?;
    Ok(revision)
}

/// Loads the current target, or `None` when none was ever set.
pub async fn load_target(store: &EventStore) -> Result<Option<AuditTarget>, AuditError> {
    let row: Option<TargetRow> = sqlx::query_as(
        "SELECT revision, national_target, unit, territory_code, share_method, manual_share, \
         workshops FROM audit_targets ORDER BY revision DESC LIMIT 1",
    )
    .fetch_optional(store.pool())
    .await?;
    row.map(target_from_row).transpose()
}

fn target_from_row(row: TargetRow) -> Result<AuditTarget, AuditError> {
    let (revision, national_target, unit, territory_code, method, manual, workshops) = row;
    let corrupt = |reason: String| AuditError::CorruptTarget { revision, reason };
    let share_method = match (method.as_str(), manual) {
        ("population", _) => ShareMethod::Population,
        ("manual", Some(share)) if share > 0 => ShareMethod::Manual(share as u64),
        _ => {
            return Err(corrupt(format!(
                "share method '{method}' with share {manual:?}"
            )))
        }
    };
    let workshops: Vec<String> =
        serde_json::from_str(&workshops).map_err(|e| corrupt(format!("workshops: {e}")))?;
    Ok(AuditTarget {
        national_target: u64::try_from(national_target)
            .map_err(|_| corrupt(format!("national target {national_target}")))?,
        unit: unit
            .parse()
            .map_err(|e: TargetError| corrupt(e.to_string()))?,
        territory_code,
        share_method,
        workshops,
    })
}

fn to_i64(field: &'static str, value: u64) -> Result<i64, AuditError> {
    i64::try_from(value).map_err(|_| {
        AuditError::Target(TargetError::TooLarge {
            field,
            value,
            max: i64::MAX,
        })
    })
}
