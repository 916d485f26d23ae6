-- Files that tools wrote (hardware reports, disk health reports, erasure
-- logs), kept as evidence and addressed by the SHA-256 of their bytes.
-- Events refer to a file by that hash. Rows are never changed or removed.
CREATE TABLE evidence (
    sha256 TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size BIGINT NOT NULL,
    content BYTEA NOT NULL,
    recorded_at TEXT NOT NULL
);

CREATE FUNCTION reject_evidence_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'evidence is append-only: % on evidence is not allowed', TG_OP;
END
$$;

CREATE TRIGGER evidence_reject_change
BEFORE UPDATE OR DELETE ON evidence
FOR EACH ROW EXECUTE FUNCTION reject_evidence_change();
