//! Organisations, users, memberships, sign-in sessions, API tokens and
//! one-time links. Passwords are hashed with argon2id; session tokens, API
//! tokens and links are random 256-bit secrets stored only as their SHA-256.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use filiere_domain::access::{OrganisationKind, Principal, Role};
use rand::RngCore;
use sqlx::Row;
use uuid::Uuid;

use crate::append::format_time;
use crate::evidence::sha256_hex;
use crate::{EventStore, StoreError};

/// How long a sign-in session lasts.
pub const SESSION_LIFETIME_HOURS: i64 = 12;
/// How long a setup or password-reset link stays valid.
pub const LINK_LIFETIME_HOURS: i64 = 48;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Error of an account operation, with a message that names the value.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid {field} '{value}': {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AccountError {
    fn from(error: sqlx::Error) -> Self {
        AccountError::Store(StoreError::Database(error))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub kind: OrganisationKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub disabled: bool,
}

/// One role of a user in one organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub organisation_id: String,
    pub organisation_name: String,
    pub role: Role,
}

/// A signed-in session, as read back from its cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user_id: String,
    pub principal: Principal,
    /// Secret that every form of this session must post back.
    pub csrf_token: String,
}

/// A new API token; its secret is shown once and never stored.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub id: String,
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub organisation_id: String,
    pub role: Role,
    pub created_at: String,
    pub revoked: bool,
}

/// Draws a random 256-bit secret, hex encoded.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::Invalid {
            field: "password",
            value: "(hidden)".into(),
            reason: format!("use at least {MIN_PASSWORD_CHARS} characters"),
        });
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AccountError::Invalid {
            field: "password",
            value: "(hidden)".into(),
            reason: error.to_string(),
        })
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

fn now() -> String {
    format_time(Utc::now())
}

fn later(hours: i64) -> String {
    format_time(Utc::now() + Duration::hours(hours))
}

fn parse_role(text: &str) -> Result<Role, AccountError> {
    text.parse().map_err(
        |e: filiere_domain::types::UnknownValue| AccountError::Invalid {
            field: "role",
            value: text.to_string(),
            reason: e.to_string(),
        },
    )
}

impl EventStore {
    pub async fn create_organisation(
        &self,
        name: &str,
        kind: OrganisationKind,
    ) -> Result<Organisation, AccountError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AccountError::Invalid {
                field: "organisation name",
                value: name.to_string(),
                reason: "give a name of 1 to 200 characters".into(),
            });
        }
        let id = Uuid::now_v7().to_string();
        let inserted = sqlx::query(
            "INSERT INTO organisations (id, name, kind, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(name)
        .bind(kind.as_str())
        .bind(now())
        .execute(self.pool())
        .await;
        if let Err(error) = inserted {
            if is_unique_violation(&error) {
                return Err(AccountError::Invalid {
                    field: "organisation name",
                    value: name.to_string(),
                    reason: "another organisation already has this name".into(),
                });
            }
            return Err(error.into());
        }
        Ok(Organisation {
            id,
            name: name.to_string(),
            kind,
        })
    }

    pub async fn organisations(&self) -> Result<Vec<Organisation>, AccountError> {
        let rows = sqlx::query("SELECT id, name, kind FROM organisations ORDER BY name")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                Ok(Organisation {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    kind: kind
                        .parse()
                        .map_err(|_| AccountError::NotFound(format!("organisation kind {kind}")))?,
                })
            })
            .collect()
    }

    /// Finds an organisation by id or by exact name.
    pub async fn organisation(&self, id_or_name: &str) -> Result<Organisation, AccountError> {
        self.organisations()
            .await?
            .into_iter()
            .find(|o| o.id == id_or_name.trim() || o.name == id_or_name.trim())
            .ok_or_else(|| AccountError::NotFound(format!("organisation '{id_or_name}'")))
    }

    /// Resolves an organisation id or name to one organisation: an exact id
    /// or name first, then a name that differs only in letter case. A value
    /// that matches no organisation is `NotFound`; one that matches several
    /// is `Invalid`, with the matching ids in the reason.
    pub async fn resolve_organisation(
        &self,
        id_or_name: &str,
    ) -> Result<Organisation, AccountError> {
        let typed = id_or_name.trim();
        let organisations = self.organisations().await?;
        let mut matches: Vec<&Organisation> = organisations
            .iter()
            .filter(|o| o.id == typed || o.name == typed)
            .collect();
        if matches.is_empty() {
            let lower = typed.to_lowercase();
            matches = organisations
                .iter()
                .filter(|o| o.name.to_lowercase() == lower)
                .collect();
        }
        match matches.as_slice() {
            [] => Err(AccountError::NotFound(format!("organisation '{typed}'"))),
            [only] => Ok((*only).clone()),
            several => Err(AccountError::Invalid {
                field: "organisation",
                value: typed.to_string(),
                reason: format!(
                    "several organisations match ({}); give the id of one",
                    several
                        .iter()
                        .map(|o| format!("{} {}", o.id, o.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }

    /// Creates a user; `password` may be left out and set later through a
    /// reset link.
    pub async fn create_user(
        &self,
        email: &str,
        display_name: &str,
        password: Option<&str>,
    ) -> Result<User, AccountError> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') || email.len() > 254 {
            return Err(AccountError::Invalid {
                field: "email",
                value: email,
                reason: "expected an address such as prenom.nom@example.org".into(),
            });
        }
        let hash = password.map(hash_password).transpose()?;
        let id = Uuid::now_v7().to_string();
        let inserted = sqlx::query(
            "INSERT INTO users (id, email, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(&email)
        .bind(display_name.trim())
        .bind(hash)
        .bind(now())
        .execute(self.pool())
        .await;
        if let Err(error) = inserted {
            if is_unique_violation(&error) {
                return Err(AccountError::Invalid {
                    field: "email",
                    value: email,
                    reason: "another user already has this address".into(),
                });
            }
            return Err(error.into());
        }
        Ok(User {
            id,
            email,
            display_name: display_name.trim().to_string(),
            disabled: false,
        })
    }

    pub async fn users(&self) -> Result<Vec<User>, AccountError> {
        let rows =
            sqlx::query("SELECT id, email, display_name, disabled FROM users ORDER BY email")
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Finds a user by id; `None` when no user has it.
    pub async fn user(&self, id: &str) -> Result<Option<User>, AccountError> {
        let row = sqlx::query("SELECT id, email, display_name, disabled FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Disables a user and ends their sessions: they can no longer sign in.
    pub async fn disable_user(&self, id: &str) -> Result<(), AccountError> {
        let updated = sqlx::query("UPDATE users SET disabled = 1 WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        if updated.rows_affected() == 0 {
            return Err(AccountError::NotFound(format!("user {id}")));
        }
        self.close_user_sessions(id).await
    }

    /// Ends every session of a user, for example after a password reset.
    pub async fn close_user_sessions(&self, user_id: &str) -> Result<(), AccountError> {
        sqlx::query("UPDATE sessions SET revoked = 1 WHERE user_id = $1")
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn user_count(&self) -> Result<i64, AccountError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?)
    }

    pub async fn add_membership(
        &self,
        user_id: &str,
        organisation_id: &str,
        role: Role,
    ) -> Result<(), AccountError> {
        sqlx::query(
            "INSERT INTO memberships (user_id, organisation_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, organisation_id, role) DO NOTHING",
        )
        .bind(user_id)
        .bind(organisation_id)
        .bind(role.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn memberships(&self, user_id: &str) -> Result<Vec<Membership>, AccountError> {
        let rows = sqlx::query(
            "SELECT m.organisation_id, o.name, m.role FROM memberships m \
             JOIN organisations o ON o.id = m.organisation_id WHERE m.user_id = $1 \
             ORDER BY o.name, m.role",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Membership {
                    organisation_id: row.try_get(0)?,
                    organisation_name: row.try_get(1)?,
                    role: parse_role(&row.try_get::<String, _>(2)?)?,
                })
            })
            .collect()
    }

    /// Checks an email and password; `None` when either is wrong or the user
    /// is disabled. Takes the same time whether or not the email exists.
    pub async fn check_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Option<User>, AccountError> {
        let row = sqlx::query(
            "SELECT id, email, display_name, disabled, password_hash FROM users WHERE email = $1",
        )
        .bind(email.trim().to_lowercase())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            // Spend the time of one verification so that response times do
            // not reveal which addresses have an account.
            let _ = password_matches(password, dummy_hash());
            return Ok(None);
        };
        let stored: Option<String> = row.try_get("password_hash")?;
        let user = user_from_row(&row)?;
        match stored {
            Some(hash) if !user.disabled && password_matches(password, &hash) => Ok(Some(user)),
            _ => Ok(None),
        }
    }

    pub async fn set_password(&self, user_id: &str, password: &str) -> Result<(), AccountError> {
        let hash = hash_password(password)?;
        let updated = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        if updated.rows_affected() == 0 {
            return Err(AccountError::NotFound(format!("user {user_id}")));
        }
        Ok(())
    }

    /// Opens a session for a user acting in one of their memberships, and
    /// returns its secret (for the cookie) with the session.
    pub async fn open_session(
        &self,
        user_id: &str,
        membership: &Membership,
    ) -> Result<(String, Session), AccountError> {
        let secret = new_secret();
        let csrf_token = new_secret();
        sqlx::query(
            "INSERT INTO sessions (token_sha256, user_id, organisation_id, role, csrf_token, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(sha256_hex(secret.as_bytes()))
        .bind(user_id)
        .bind(&membership.organisation_id)
        .bind(membership.role.as_str())
        .bind(&csrf_token)
        .bind(now())
        .bind(later(SESSION_LIFETIME_HOURS))
        .execute(self.pool())
        .await?;
        let session = Session {
            user_id: user_id.to_string(),
            principal: Principal {
                actor: format!("user:{user_id}"),
                organisation_id: membership.organisation_id.clone(),
                role: membership.role,
            },
            csrf_token,
        };
        Ok((secret, session))
    }

    /// Reads a session from its secret; `None` when unknown, expired or
    /// signed out.
    pub async fn session(&self, secret: &str) -> Result<Option<Session>, AccountError> {
        let row = sqlx::query(
            "SELECT s.user_id, s.organisation_id, s.role, s.csrf_token, s.expires_at, s.revoked, \
             u.disabled FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_sha256 = $1",
        )
        .bind(sha256_hex(secret.as_bytes()))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let expires_at: String = row.try_get("expires_at")?;
        let revoked: i64 = row.try_get("revoked")?;
        let disabled: i64 = row.try_get("disabled")?;
        if revoked != 0 || disabled != 0 || expires_at < now() {
            return Ok(None);
        }
        let user_id: String = row.try_get("user_id")?;
        Ok(Some(Session {
            principal: Principal {
                actor: format!("user:{user_id}"),
                organisation_id: row.try_get("organisation_id")?,
                role: parse_role(&row.try_get::<String, _>("role")?)?,
            },
            user_id,
            csrf_token: row.try_get("csrf_token")?,
        }))
    }

    /// Ends a session: its cookie no longer signs anyone in.
    pub async fn close_session(&self, secret: &str) -> Result<(), AccountError> {
        sqlx::query("UPDATE sessions SET revoked = 1 WHERE token_sha256 = $1")
            .bind(sha256_hex(secret.as_bytes()))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn create_token(
        &self,
        name: &str,
        organisation_id: &str,
        role: Role,
        created_by: &str,
    ) -> Result<NewToken, AccountError> {
        let secret = format!("fil_{}", new_secret());
        let id = Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO api_tokens (id, token_sha256, name, organisation_id, role, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(sha256_hex(secret.as_bytes()))
        .bind(name.trim())
        .bind(organisation_id)
        .bind(role.as_str())
        .bind(created_by)
        .bind(now())
        .execute(self.pool())
        .await?;
        Ok(NewToken { id, secret })
    }

    /// The principal of an API token; `None` when unknown or revoked.
    pub async fn token_principal(&self, secret: &str) -> Result<Option<Principal>, AccountError> {
        let row = sqlx::query(
            "SELECT id, organisation_id, role FROM api_tokens WHERE token_sha256 = $1 AND revoked = 0",
        )
        .bind(sha256_hex(secret.trim().as_bytes()))
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(Principal {
                actor: format!("token:{}", row.try_get::<String, _>("id")?),
                organisation_id: row.try_get("organisation_id")?,
                role: parse_role(&row.try_get::<String, _>("role")?)?,
            })
        })
        .transpose()
    }

    pub async fn tokens(
        &self,
        organisation_id: Option<&str>,
    ) -> Result<Vec<ApiToken>, AccountError> {
        let rows = sqlx::query(
            "SELECT id, name, organisation_id, role, created_at, revoked FROM api_tokens \
             WHERE $1 = '' OR organisation_id = $1 ORDER BY created_at",
        )
        .bind(organisation_id.unwrap_or_default())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiToken {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    organisation_id: row.try_get("organisation_id")?,
                    role: parse_role(&row.try_get::<String, _>("role")?)?,
                    created_at: row.try_get("created_at")?,
                    revoked: row.try_get::<i64, _>("revoked")? != 0,
                })
            })
            .collect()
    }

    pub async fn revoke_token(&self, id: &str) -> Result<(), AccountError> {
        let updated = sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE id = $1")
            .bind(id.trim())
            .execute(self.pool())
            .await?;
        if updated.rows_affected() == 0 {
            return Err(AccountError::NotFound(format!("API token {id}")));
        }
        Ok(())
    }

    /// Creates a one-time link secret for `purpose` ("setup" or "reset"),
    /// valid for [`LINK_LIFETIME_HOURS`].
    pub async fn create_link(
        &self,
        purpose: &str,
        user_id: Option<&str>,
    ) -> Result<String, AccountError> {
        self.create_link_for(purpose, user_id, Duration::hours(LINK_LIFETIME_HOURS))
            .await
    }

    /// Creates a one-time link secret for `purpose` that expires after
    /// `lifetime`.
    pub async fn create_link_for(
        &self,
        purpose: &str,
        user_id: Option<&str>,
        lifetime: Duration,
    ) -> Result<String, AccountError> {
        let secret = new_secret();
        sqlx::query(
            "INSERT INTO one_time_links (token_sha256, purpose, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(secret.as_bytes()))
        .bind(purpose)
        .bind(user_id)
        .bind(now())
        .bind(format_time(Utc::now() + lifetime))
        .execute(self.pool())
        .await?;
        Ok(secret)
    }

    /// Returns whether a one-time link for `purpose` is known, unused and not
    /// expired, and leaves it unused.
    pub async fn link_is_valid(&self, purpose: &str, secret: &str) -> Result<bool, AccountError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM one_time_links WHERE token_sha256 = $1 AND purpose = $2 \
             AND used = 0 AND expires_at > $3",
        )
        .bind(sha256_hex(secret.as_bytes()))
        .bind(purpose)
        .bind(now())
        .fetch_one(self.pool())
        .await?;
        Ok(count > 0)
    }

    /// Marks a one-time link used and returns its user id (empty for the
    /// setup link); `None` when unknown, expired, used or for another purpose.
    /// Two concurrent uses cannot both succeed: the update only matches an
    /// unused row.
    pub async fn use_link(
        &self,
        purpose: &str,
        secret: &str,
    ) -> Result<Option<String>, AccountError> {
        let row = sqlx::query(
            "UPDATE one_time_links SET used = 1 WHERE token_sha256 = $1 AND purpose = $2 \
             AND used = 0 AND expires_at > $3 RETURNING COALESCE(user_id, '')",
        )
        .bind(sha256_hex(secret.as_bytes()))
        .bind(purpose)
        .bind(now())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|row| row.try_get::<String, _>(0)).transpose()?)
    }

    /// Records a failed sign-in for each key (account and client address).
    pub async fn record_failed_sign_in(&self, keys: &[String]) -> Result<(), AccountError> {
        for key in keys {
            sqlx::query("INSERT INTO failed_sign_ins (key, attempted_at) VALUES ($1, $2)")
                .bind(key)
                .bind(now())
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }

    /// Failed sign-ins recorded for `key` since `since`.
    pub async fn failed_sign_ins(
        &self,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, AccountError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM failed_sign_ins WHERE key = $1 AND attempted_at > $2",
        )
        .bind(key)
        .bind(format_time(since))
        .fetch_one(self.pool())
        .await?)
    }
}

/// An argon2id hash of a random password, verified against when the email
/// is unknown so that both paths take the same time.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&new_secret()).unwrap_or_default())
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, AccountError> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
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
