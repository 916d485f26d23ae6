//! Households' identity and contact details, stored in the `households`
//! table and never in the event log. Events name a household by its opaque
//! id only, so erasing these columns (right to erasure, retention limit)
//! leaves the log and its hash chain unchanged.
//!
//! Identity values never appear in errors or logs: messages name the field
//! and the rule, not the value.

use std::fmt;

use chrono::{DateTime, Utc};
use filiere_domain::HouseholdId;
use sqlx::Row;

use crate::append::format_time;
use crate::prescriptions::PrescriptionStoreError;
use crate::{EventStore, StoreError};

/// Name and contact details of a household's contact person.
#[derive(Clone, PartialEq, Eq)]
pub struct HouseholdIdentity {
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Postal address, on one or several lines.
    pub address: Option<String>,
}

/// Debug output shows no field, so that `{:?}` on a value containing an
/// identity does not print it.
impl fmt::Debug for HouseholdIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HouseholdIdentity { .. }")
    }
}

/// One row of the `households` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HouseholdRecord {
    pub id: HouseholdId,
    /// `None` once erased.
    pub identity: Option<HouseholdIdentity>,
    pub created_at: DateTime<Utc>,
    pub erased_at: Option<DateTime<Utc>>,
}

impl HouseholdIdentity {
    /// Trims every field, turns empty optional fields into `None` and checks
    /// lengths and shapes. Errors name the field, never its value.
    pub fn normalized(self) -> Result<HouseholdIdentity, PrescriptionStoreError> {
        let first_name = required("first name", &self.first_name, 100)?;
        let last_name = required("last name", &self.last_name, 100)?;
        let phone = optional("phone", self.phone.as_deref(), 30)?;
        if let Some(phone) = &phone {
            let allowed = |c: char| c.is_ascii_digit() || " +.-()".contains(c);
            if !phone.chars().all(allowed) || !phone.chars().any(|c| c.is_ascii_digit()) {
                return Err(invalid("phone", "use digits, spaces and + . - ( ) only"));
            }
        }
        let email = optional("email", self.email.as_deref(), 254)?;
        if let Some(email) = &email {
            let parts = email.split_once('@');
            let valid = parts.is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
            });
            if !valid {
                return Err(invalid(
                    "email",
                    "expected an address such as name@example.org",
                ));
            }
        }
        let address = optional("address", self.address.as_deref(), 300)?;
        Ok(HouseholdIdentity {
            first_name,
            last_name,
            phone,
            email,
            address,
        })
    }
}

fn required(
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Result<String, PrescriptionStoreError> {
    match optional(field, Some(value), max_chars)? {
        Some(value) => Ok(value),
        None => Err(invalid(field, "this field is required")),
    }
}

fn optional(
    field: &'static str,
    value: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, PrescriptionStoreError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max_chars {
        return Err(invalid(
            field,
            &format!("at most {max_chars} characters are allowed"),
        ));
    }
    Ok(Some(value.to_string()))
}

fn invalid(field: &'static str, reason: &str) -> PrescriptionStoreError {
    PrescriptionStoreError::InvalidIdentity {
        field,
        reason: reason.to_string(),
    }
}

pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| StoreError::Corrupt {
            position: 0,
            reason: format!("time '{text}' in the households table: {error}"),
        })
}

impl EventStore {
    /// Records a household's identity and returns its new id, the one that
    /// prescriptions and devices refer to.
    pub async fn create_household(
        &self,
        identity: HouseholdIdentity,
        now: DateTime<Utc>,
    ) -> Result<HouseholdId, PrescriptionStoreError> {
        let identity = identity.normalized()?;
        let id = HouseholdId::generate();
        sqlx::query(
            "INSERT INTO households (id, first_name, last_name, phone, email, address, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(&identity.first_name)
        .bind(&identity.last_name)
        .bind(identity.phone.as_deref())
        .bind(identity.email.as_deref())
        .bind(identity.address.as_deref())
        .bind(format_time(now))
        .execute(self.pool())
        .await
        .map_err(StoreError::from)?;
        Ok(id)
    }

    /// Reads one household, `None` when the id is unknown.
    pub async fn household(
        &self,
        id: HouseholdId,
    ) -> Result<Option<HouseholdRecord>, PrescriptionStoreError> {
        let row = sqlx::query(
            "SELECT first_name, last_name, phone, email, address, created_at, erased_at \
             FROM households WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(StoreError::from)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let text = |name: &str| -> Result<Option<String>, StoreError> { Ok(row.try_get(name)?) };
        let erased_at = text("erased_at")?.map(|t| parse_time(&t)).transpose()?;
        let identity = match (text("first_name")?, text("last_name")?) {
            (Some(first_name), Some(last_name)) if erased_at.is_none() => Some(HouseholdIdentity {
                first_name,
                last_name,
                phone: text("phone")?,
                email: text("email")?,
                address: text("address")?,
            }),
            _ => None,
        };
        let created_at: String = row.try_get("created_at").map_err(StoreError::from)?;
        Ok(Some(HouseholdRecord {
            id,
            identity,
            created_at: parse_time(&created_at)?,
            erased_at,
        }))
    }

    /// Erases a household's identity: every identity column becomes NULL and
    /// `erased_at` is set. Events are untouched. Erasing an erased household
    /// again changes nothing. Returns the erasure time.
    pub async fn erase_household(
        &self,
        id: HouseholdId,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, PrescriptionStoreError> {
        let record = self
            .household(id)
            .await?
            .ok_or(PrescriptionStoreError::HouseholdNotFound(id))?;
        if let Some(erased_at) = record.erased_at {
            return Ok(erased_at);
        }
        sqlx::query(
            "UPDATE households SET first_name = NULL, last_name = NULL, phone = NULL, \
             email = NULL, address = NULL, erased_at = $1 WHERE id = $2 AND erased_at IS NULL",
        )
        .bind(format_time(now))
        .bind(id.to_string())
        .execute(self.pool())
        .await
        .map_err(StoreError::from)?;
        // The id stays out of the log, because a line with the id and the
        // time would let a log reader link the id to the erasure. Callers
        // log how many were erased.
        tracing::debug!("household identity erased");
        Ok(now)
    }

    /// Ids and creation times of the households whose identity is still
    /// stored.
    pub(crate) async fn households_with_identity(
        &self,
    ) -> Result<Vec<(HouseholdId, DateTime<Utc>)>, PrescriptionStoreError> {
        let rows = sqlx::query("SELECT id, created_at FROM households WHERE erased_at IS NULL")
            .fetch_all(self.pool())
            .await
            .map_err(StoreError::from)?;
        let mut households = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get("id").map_err(StoreError::from)?;
            let created_at: String = row.try_get("created_at").map_err(StoreError::from)?;
            let id = id.parse().map_err(|error| StoreError::Corrupt {
                position: 0,
                reason: format!("household id '{id}' is not a UUID: {error}"),
            })?;
            households.push((id, parse_time(&created_at)?));
        }
        Ok(households)
    }
}
