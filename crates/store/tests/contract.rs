//! Contract suite of the event store, run on SQLite and on PostgreSQL.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use filiere_domain::codec::decode_device_event;
use filiere_domain::DeviceEvent;
use filiere_store::testing::TestDatabase;
use filiere_store::{
    backend_tests, AppendBatch, Backend, EventStore, ExpectedVersion, Metadata, NewEvent,
    StoreError, StreamAppend, UniqueKey,
};
use serde_json::json;
use uuid::Uuid;

fn batch(stream_id: &str, expected: ExpectedVersion, count: usize) -> AppendBatch {
    AppendBatch {
        command_id: None,
        metadata: Metadata::new("test:alice", "workshop-a"),
        occurred_at: Utc::now(),
        streams: vec![StreamAppend {
            stream_id: stream_id.to_string(),
            expected,
            events: (0..count)
                .map(|i| NewEvent::new("noted", 1, json!({ "n": i, "stream": stream_id })))
                .collect(),
            unique_keys: vec![],
        }],
    }
}

async fn open(db: &TestDatabase) -> EventStore {
    EventStore::connect(&db.url)
        .await
        .expect("test database opens")
}

async fn append_then_read_stream(db: TestDatabase) {
    let store = open(&db).await;
    let mut input = batch("device-1", ExpectedVersion::NoStream, 2);
    input.metadata.causation_id = Some(Uuid::now_v7());
    input.command_id = Some(Uuid::now_v7());
    let result = store.append(input.clone()).await.unwrap();
    assert_eq!(result.first_position, 1);
    assert_eq!(result.last_position, 2);
    assert_eq!(result.stream_versions, vec![("device-1".to_string(), 2)]);

    let events = store.read_stream("device-1").await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].stream_version, 1);
    assert_eq!(events[1].stream_version, 2);
    assert_eq!(events[0].payload, json!({"n": 0, "stream": "device-1"}));
    assert_eq!(events[0].metadata, input.metadata);
    assert_eq!(events[0].command_id, input.command_id);
    assert_eq!(events[0].event_id, input.streams[0].events[0].event_id);
    assert!(events[0].recorded_at >= events[0].occurred_at - chrono::Duration::seconds(1));
    assert_eq!(store.head().await.unwrap().0, 2);
    db.cleanup().await;
}

async fn stale_version_conflicts(db: TestDatabase) {
    let store = open(&db).await;
    store
        .append(batch("s", ExpectedVersion::NoStream, 1))
        .await
        .unwrap();
    store
        .append(batch("s", ExpectedVersion::Exact(1), 1))
        .await
        .unwrap();

    let stale = store.append(batch("s", ExpectedVersion::Exact(1), 1)).await;
    match stale {
        Err(StoreError::Conflict { actual, .. }) => assert_eq!(actual, 2),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let again = store.append(batch("s", ExpectedVersion::NoStream, 1)).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    assert_eq!(store.read_stream("s").await.unwrap().len(), 2);
    db.cleanup().await;
}

async fn concurrent_writers_one_wins(db: TestDatabase) {
    let store = open(&db).await;
    store
        .append(batch("s", ExpectedVersion::NoStream, 1))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.append(batch("s", ExpectedVersion::Exact(1), 1)).await
        }));
    }
    let mut successes = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => successes += 1,
            Err(error) if error.is_conflict() => conflicts += 1,
            Err(error) => panic!("unexpected error: {error}"),
        }
    }
    assert_eq!(successes, 1);
    assert_eq!(conflicts, 7);
    assert_eq!(store.read_stream("s").await.unwrap().len(), 2);
    db.cleanup().await;
}

async fn repeated_command_recorded_once(db: TestDatabase) {
    let store = open(&db).await;
    let mut input = batch("s", ExpectedVersion::Any, 1);
    input.command_id = Some(Uuid::now_v7());
    let first = store.append(input.clone()).await.unwrap();
    let second = store.append(input).await.unwrap();
    assert!(!first.duplicate);
    assert!(second.duplicate);
    assert_eq!(second.first_position, first.first_position);
    assert_eq!(second.stream_versions, first.stream_versions);
    assert_eq!(store.read_stream("s").await.unwrap().len(), 1);
    assert_eq!(store.head().await.unwrap().0, 1);
    db.cleanup().await;
}

async fn batch_is_all_or_nothing(db: TestDatabase) {
    let store = open(&db).await;
    store
        .append(batch("taken", ExpectedVersion::NoStream, 1))
        .await
        .unwrap();
    let mut input = batch("fresh", ExpectedVersion::NoStream, 3);
    input.streams.push(
        batch("taken", ExpectedVersion::NoStream, 1)
            .streams
            .remove(0),
    );
    let result = store.append(input).await;
    assert!(
        matches!(result, Err(StoreError::Conflict { .. })),
        "{result:?}"
    );
    assert!(store.read_stream("fresh").await.unwrap().is_empty());
    assert_eq!(store.stream_version("fresh").await.unwrap(), None);
    assert_eq!(store.head().await.unwrap().0, 1);
    db.cleanup().await;
}

async fn unique_key_single_owner(db: TestDatabase) {
    let store = open(&db).await;
    let mut first = batch("device-a", ExpectedVersion::NoStream, 1);
    first.streams[0].unique_keys = vec![UniqueKey::new("device_code", "7KXB3R9")];
    store.append(first).await.unwrap();
    assert_eq!(
        store
            .stream_for_key("device_code", "7KXB3R9")
            .await
            .unwrap()
            .as_deref(),
        Some("device-a")
    );

    let mut second = batch("device-b", ExpectedVersion::NoStream, 1);
    second.streams[0].unique_keys = vec![UniqueKey::new("device_code", "7KXB3R9")];
    match store.append(second).await {
        Err(StoreError::UniqueKeyTaken { owner, .. }) => assert_eq!(owner, "device-a"),
        other => panic!("expected the key to be taken, got {other:?}"),
    }
    assert!(store.read_stream("device-b").await.unwrap().is_empty());
    db.cleanup().await;
}

/// Holds one append open while others start, and checks that a reader
/// following positions sees every event exactly once and in order.
async fn late_commit_never_skipped(db: TestDatabase) {
    let store = open(&db).await;
    let held = store
        .append_held(batch("slow", ExpectedVersion::NoStream, 1))
        .await
        .unwrap();
    let mut others = Vec::new();
    for i in 0..3 {
        let store = store.clone();
        others.push(tokio::spawn(async move {
            store
                .append(batch(&format!("fast-{i}"), ExpectedVersion::NoStream, 1))
                .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let visible = store.read_all(0, 100).await.unwrap();
    assert!(
        visible.is_empty(),
        "nothing is visible while the first append is open: {visible:?}"
    );

    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut checkpoint = 0;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            while seen.len() < 4 && tokio::time::Instant::now() < deadline {
                for event in store.read_all(checkpoint, 10).await.unwrap() {
                    checkpoint = event.position;
                    seen.push((event.position, event.stream_id));
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            seen
        })
    };
    held.commit().await.unwrap();
    for other in others {
        other.await.unwrap().unwrap();
    }
    let seen = reader.await.unwrap();
    let positions: Vec<i64> = seen.iter().map(|(p, _)| *p).collect();
    assert_eq!(positions, vec![1, 2, 3, 4]);
    assert_eq!(seen[0].1, "slow");
    let streams: BTreeSet<&str> = seen.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(streams.len(), 4);
    db.cleanup().await;
}

async fn read_all_pages_in_order(db: TestDatabase) {
    let store = open(&db).await;
    for i in 0..5 {
        store
            .append(batch(&format!("s{i}"), ExpectedVersion::NoStream, 3))
            .await
            .unwrap();
    }
    let mut positions = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_all(after, 4).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().unwrap().position;
        positions.extend(page.iter().map(|e| e.position));
    }
    assert_eq!(positions, (1..=15).collect::<Vec<_>>());
    db.cleanup().await;
}

async fn updates_and_deletes_rejected(db: TestDatabase) {
    let store = open(&db).await;
    store
        .append(batch("s", ExpectedVersion::NoStream, 1))
        .await
        .unwrap();
    let update = sqlx::query("UPDATE events SET payload = '{}'")
        .execute(store.pool())
        .await;
    let delete = sqlx::query("DELETE FROM events")
        .execute(store.pool())
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(store.read_stream("s").await.unwrap().len(), 1);
    db.cleanup().await;
}

async fn hash_chain_detects_tampering(db: TestDatabase) {
    let store = open(&db).await;
    for i in 0..3 {
        store
            .append(batch(&format!("s{i}"), ExpectedVersion::NoStream, 2))
            .await
            .unwrap();
    }
    let report = store.verify_chain().await.unwrap();
    assert_eq!(report.events_checked, 6);
    assert_eq!(report.first_break, None);
    assert_eq!(report.head_hash, store.head().await.unwrap().1);

    let disable = match db.backend {
        Backend::Sqlite => "DROP TRIGGER events_reject_update",
        Backend::Postgres => "ALTER TABLE events DISABLE TRIGGER events_reject_change",
    };
    sqlx::query(disable).execute(store.pool()).await.unwrap();
    sqlx::query("UPDATE events SET payload = '{\"n\":99}' WHERE position = 4")
        .execute(store.pool())
        .await
        .unwrap();
    let report = store.verify_chain().await.unwrap();
    let (position, reason) = report.first_break.expect("tampering is found");
    assert_eq!(position, 4);
    assert!(reason.contains("position 4"), "{reason}");
    db.cleanup().await;
}

async fn old_schema_upcast_on_read(db: TestDatabase) {
    let store = open(&db).await;
    let mut input = batch("device-x", ExpectedVersion::NoStream, 0);
    input.streams[0].events = vec![NewEvent::new(
        "diagnosed",
        1,
        json!({"functional_test": "passed", "verdict": "refurbish", "storage_units": [], "memory_mb": 2048}),
    )];
    store.append(input).await.unwrap();
    let stored = &store.read_stream("device-x").await.unwrap()[0];
    assert_eq!(stored.schema_version, 1);
    let event =
        decode_device_event(&stored.event_type, stored.schema_version, &stored.payload).unwrap();
    let DeviceEvent::Diagnosed(diagnosis) = event else {
        panic!("expected a diagnosis, got {event:?}");
    };
    assert_eq!(diagnosis.memory_bytes, Some(2048 * 1024 * 1024));
    db.cleanup().await;
}

async fn reopen_keeps_events(db: TestDatabase) {
    let store = open(&db).await;
    store
        .append(batch("s", ExpectedVersion::NoStream, 2))
        .await
        .unwrap();
    store.close().await;
    let reopened = open(&db).await;
    assert_eq!(reopened.read_stream("s").await.unwrap().len(), 2);
    assert_eq!(reopened.verify_chain().await.unwrap().first_break, None);
    db.cleanup().await;
}

backend_tests!(
    append_then_read_stream,
    stale_version_conflicts,
    concurrent_writers_one_wins,
    repeated_command_recorded_once,
    batch_is_all_or_nothing,
    unique_key_single_owner,
    late_commit_never_skipped,
    read_all_pages_in_order,
    updates_and_deletes_rejected,
    hash_chain_detects_tampering,
    old_schema_upcast_on_read,
    reopen_keeps_events,
);

mod evidence_files {
    use super::*;

    async fn evidence_round_trip_checked(db: TestDatabase) {
        let store = open(&db).await;
        let bytes = b"Erasing /dev/sda: Zero Fill\x00\xff".to_vec();
        let sha = store
            .put_evidence("nwipe", "nwipe.log", &bytes)
            .await
            .unwrap();
        let again = store
            .put_evidence("nwipe", "copie.log", &bytes)
            .await
            .unwrap();
        assert_eq!(sha, again);
        let (file, content) = store.evidence(&sha).await.unwrap().unwrap();
        assert_eq!(content, bytes);
        assert_eq!(file.file_name, "nwipe.log");
        assert_eq!(file.size, bytes.len() as i64);
        assert!(store.evidence(&"0".repeat(64)).await.unwrap().is_none());

        let delete = sqlx::query("DELETE FROM evidence")
            .execute(store.pool())
            .await;
        assert!(delete.unwrap_err().to_string().contains("append-only"));
        let disable = match db.backend {
            Backend::Sqlite => "DROP TRIGGER evidence_reject_update",
            Backend::Postgres => "ALTER TABLE evidence DISABLE TRIGGER evidence_reject_change",
        };
        sqlx::query(disable).execute(store.pool()).await.unwrap();
        sqlx::query("UPDATE evidence SET content = $1")
            .bind(b"tampered".to_vec())
            .execute(store.pool())
            .await
            .unwrap();
        let error = store.evidence(&sha).await.unwrap_err().to_string();
        assert!(error.contains("altered"), "{error}");
        db.cleanup().await;
    }

    backend_tests!(evidence_round_trip_checked);
}

mod accounts {
    use super::*;
    use filiere_domain::access::{OrganisationKind, Role};

    async fn sign_in_session_and_tokens(db: TestDatabase) {
        let store = open(&db).await;
        assert_eq!(store.user_count().await.unwrap(), 0);
        let org = store
            .create_organisation("Atelier du Centre", OrganisationKind::Workshop)
            .await
            .unwrap();
        let duplicate = store
            .create_organisation("Atelier du Centre", OrganisationKind::Workshop)
            .await
            .unwrap_err()
            .to_string();
        assert!(duplicate.contains("already"), "{duplicate}");
        let user = store
            .create_user(
                "Camille@Example.org",
                "Camille",
                Some("correct horse battery"),
            )
            .await
            .unwrap();
        assert_eq!(user.email, "camille@example.org");
        let short = store
            .create_user("b@example.org", "B", Some("short"))
            .await
            .unwrap_err();
        assert!(short.to_string().contains("12 characters"), "{short}");
        store
            .add_membership(&user.id, &org.id, Role::Technician)
            .await
            .unwrap();

        assert!(store
            .check_password("camille@example.org", "wrong password!")
            .await
            .unwrap()
            .is_none());
        assert!(store
            .check_password("nobody@example.org", "correct horse battery")
            .await
            .unwrap()
            .is_none());
        let signed_in = store
            .check_password("CAMILLE@example.org", "correct horse battery")
            .await
            .unwrap()
            .expect("right password signs in");
        let membership = &store.memberships(&signed_in.id).await.unwrap()[0];
        assert_eq!(membership.role, Role::Technician);

        let (secret, session) = store.open_session(&user.id, membership).await.unwrap();
        let read = store
            .session(&secret)
            .await
            .unwrap()
            .expect("session is open");
        assert_eq!(read, session);
        assert_eq!(read.principal.organisation_id, org.id);
        store.close_session(&secret).await.unwrap();
        assert!(store.session(&secret).await.unwrap().is_none());

        let token = store
            .create_token("scanner", &org.id, Role::Technician, &user.id)
            .await
            .unwrap();
        let principal = store.token_principal(&token.secret).await.unwrap().unwrap();
        assert_eq!(principal.actor, format!("token:{}", token.id));
        store.revoke_token(&token.id).await.unwrap();
        assert!(store
            .token_principal(&token.secret)
            .await
            .unwrap()
            .is_none());
        db.cleanup().await;
    }

    async fn one_time_link_used_once(db: TestDatabase) {
        let store = open(&db).await;
        let secret = store.create_link("setup", None).await.unwrap();
        assert!(store.use_link("reset", &secret).await.unwrap().is_none());
        assert_eq!(
            store.use_link("setup", &secret).await.unwrap().as_deref(),
            Some("")
        );
        assert!(store.use_link("setup", &secret).await.unwrap().is_none());

        let since = chrono::Utc::now() - chrono::Duration::minutes(15);
        let keys = vec![
            "account:a@example.org".to_string(),
            "address:127.0.0.1".to_string(),
        ];
        store.record_failed_sign_in(&keys).await.unwrap();
        store.record_failed_sign_in(&keys[..1]).await.unwrap();
        assert_eq!(store.failed_sign_ins(&keys[0], since).await.unwrap(), 2);
        assert_eq!(store.failed_sign_ins(&keys[1], since).await.unwrap(), 1);
        db.cleanup().await;
    }

    backend_tests!(sign_in_session_and_tokens, one_time_link_used_once);
}
