//! Evidence files: the bytes a tool wrote, stored once under their SHA-256 and
//! checked against it on every read.

use chrono::Utc;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::append::format_time;
use crate::{EventStore, StoreError};

/// Description of a stored evidence file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceFile {
    pub sha256: String,
    /// lshw, smartctl, nwipe or workbench.
    pub kind: String,
    /// Name of the file when it was imported.
    pub file_name: String,
    pub size: i64,
    pub recorded_at: String,
}

/// Computes the lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl EventStore {
    /// Stores `bytes` unless a file with the same hash is already stored, and
    /// returns the hash.
    pub async fn put_evidence(
        &self,
        kind: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<String, StoreError> {
        let sha256 = sha256_hex(bytes);
        // The key is the content's own hash, so an existing row already holds
        // these exact bytes and skipping the insert loses nothing.
        sqlx::query(
            "INSERT INTO evidence (sha256, kind, file_name, size, content, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&sha256)
        .bind(kind)
        .bind(file_name)
        .bind(bytes.len() as i64)
        .bind(bytes.to_vec())
        .bind(format_time(Utc::now()))
        .execute(self.pool())
        .await?;
        Ok(sha256)
    }

    /// Reads an evidence file and checks its bytes against its hash. A
    /// mismatch is [`StoreError::Corrupt`]: the stored file was altered.
    pub async fn evidence(
        &self,
        sha256: &str,
    ) -> Result<Option<(EvidenceFile, Vec<u8>)>, StoreError> {
        let row = sqlx::query(
            "SELECT sha256, kind, file_name, size, content, recorded_at FROM evidence \
             WHERE sha256 = $1",
        )
        .bind(sha256.to_ascii_lowercase())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let content: Vec<u8> = row.try_get("content")?;
        let file = EvidenceFile {
            sha256: row.try_get("sha256")?,
            kind: row.try_get("kind")?,
            file_name: row.try_get("file_name")?,
            size: row.try_get("size")?,
            recorded_at: row.try_get("recorded_at")?,
        };
        let actual = sha256_hex(&content);
        if actual != file.sha256 {
            return Err(StoreError::Corrupt {
                position: 0,
                reason: format!(
                    "evidence file {} ({}) has SHA-256 {actual} instead of {}; it was altered after import",
                    file.file_name, file.kind, file.sha256
                ),
            });
        }
        Ok(Some((file, content)))
    }

    /// Describes the stored files with these hashes, in the order given,
    /// without reading their content; a hash with no stored file is left out.
    pub async fn evidence_descriptions(
        &self,
        hashes: &[String],
    ) -> Result<Vec<EvidenceFile>, StoreError> {
        let mut files = Vec::with_capacity(hashes.len());
        for sha256 in hashes {
            let row = sqlx::query(
                "SELECT sha256, kind, file_name, size, recorded_at FROM evidence WHERE sha256 = $1",
            )
            .bind(sha256.to_ascii_lowercase())
            .fetch_optional(self.pool())
            .await?;
            if let Some(row) = row {
                files.push(EvidenceFile {
                    sha256: row.try_get("sha256")?,
                    kind: row.try_get("kind")?,
                    file_name: row.try_get("file_name")?,
                    size: row.try_get("size")?,
                    recorded_at: row.try_get("recorded_at")?,
                });
            }
        }
        Ok(files)
    }

    /// Lists the streams whose diagnosis or erasure events cite the evidence
    /// file `sha256`, which must be 64 hex digits.
    ///
    /// NOTE: this scans the payloads of every diagnosis and erasure event;
    /// a table of citations would avoid the scan on a large log.
    pub async fn streams_citing_evidence(&self, sha256: &str) -> Result<Vec<String>, StoreError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Vec::new());
        }
        let pattern = format!("%{}%", sha256.to_ascii_lowercase());
        let streams = sqlx::query_scalar(
            "SELECT DISTINCT stream_id FROM events \
             WHERE event_type IN ('diagnosed', 'data_erased') AND payload LIKE $1 \
             ORDER BY stream_id",
        )
        .bind(pattern)
        .fetch_all(self.pool())
        .await?;
        Ok(streams)
    }
}
