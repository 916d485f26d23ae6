-- Files that tools wrote (hardware reports, disk health reports, erasure
-- logs), kept as evidence and addressed by the SHA-256 of their bytes.
-- Events refer to a file by that hash. Rows are never changed or removed.
CREATE TABLE evidence (
    sha256 TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size BIGINT NOT NULL,
    content BLOB NOT NULL,
    recorded_at TEXT NOT NULL
);

CREATE TRIGGER evidence_reject_update BEFORE UPDATE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only: UPDATE on evidence is not allowed');
END;

CREATE TRIGGER evidence_reject_delete BEFORE DELETE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only: DELETE on evidence is not allowed');
END;
