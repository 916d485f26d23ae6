//! Eligibility schemes configured by an administrator, stored in the
//! `eligibility_schemes` table. A prescription records the scheme as it was
//! when issued, so a later change here does not rewrite history.

use chrono::{DateTime, Utc};
use filiere_domain::prescription::{EligibilityRule, EligibilityScheme, SchemeId};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::append::format_time;
use crate::prescriptions::PrescriptionStoreError;
use crate::{EventStore, StoreError};

impl EventStore {
    /// Checks and records a new scheme. Names are unique.
    pub async fn create_scheme(
        &self,
        name: &str,
        rule: EligibilityRule,
        now: DateTime<Utc>,
    ) -> Result<EligibilityScheme, PrescriptionStoreError> {
        self.create_scheme_in_programme(name, rule, None, now).await
    }

    /// Checks and records a new scheme whose households are equipped under
    /// a funder programme; prescriptions issued under it carry the
    /// programme into the log.
    pub async fn create_scheme_in_programme(
        &self,
        name: &str,
        rule: EligibilityRule,
        programme: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<EligibilityScheme, PrescriptionStoreError> {
        let scheme =
            EligibilityScheme::new(SchemeId::generate(), name, rule)?.with_programme(programme)?;
        let rule_json = serde_json::to_string(&scheme.rule).expect("rules serialise to JSON");
        let inserted = sqlx::query(
            "INSERT INTO eligibility_schemes (id, name, rule, created_at, programme) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(scheme.id.to_string())
        .bind(&scheme.name)
        .bind(rule_json)
        .bind(format_time(now))
        .bind(scheme.programme.as_deref())
        .execute(self.pool())
        .await;
        match inserted {
            Ok(_) => Ok(scheme),
            Err(error) if is_unique_violation(&error) => {
                Err(PrescriptionStoreError::DuplicateScheme(scheme.name))
            }
            Err(error) => Err(StoreError::from(error).into()),
        }
    }

    /// Lists every scheme, by name.
    pub async fn schemes(&self) -> Result<Vec<EligibilityScheme>, PrescriptionStoreError> {
        let rows =
            sqlx::query("SELECT id, name, rule, programme FROM eligibility_schemes ORDER BY name")
                .fetch_all(self.pool())
                .await
                .map_err(StoreError::from)?;
        rows.iter().map(scheme_from_row).collect()
    }

    /// Finds a scheme by id or by exact name.
    pub async fn scheme(
        &self,
        id_or_name: &str,
    ) -> Result<EligibilityScheme, PrescriptionStoreError> {
        let key = id_or_name.trim();
        let row = sqlx::query(
            "SELECT id, name, rule, programme FROM eligibility_schemes WHERE id = $1 OR name = $1",
        )
        .bind(key)
        .fetch_optional(self.pool())
        .await
        .map_err(StoreError::from)?;
        match row {
            Some(row) => scheme_from_row(&row),
            None => Err(PrescriptionStoreError::SchemeNotFound(key.to_string())),
        }
    }
}

fn scheme_from_row(row: &AnyRow) -> Result<EligibilityScheme, PrescriptionStoreError> {
    let id: String = row.try_get("id").map_err(StoreError::from)?;
    let name: String = row.try_get("name").map_err(StoreError::from)?;
    let rule: String = row.try_get("rule").map_err(StoreError::from)?;
    let programme: Option<String> = row.try_get("programme").map_err(StoreError::from)?;
    let corrupt = |reason: String| StoreError::Corrupt {
        position: 0,
        reason: format!("eligibility scheme '{name}': {reason}"),
    };
    let id = id
        .parse()
        .map_err(|error| corrupt(format!("id '{id}' is not a UUID: {error}")))?;
    let rule = serde_json::from_str(&rule)
        .map_err(|error| corrupt(format!("rule is not a valid rule: {error}")))?;
    Ok(EligibilityScheme {
        id,
        name,
        rule,
        programme,
    })
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() || db.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}
