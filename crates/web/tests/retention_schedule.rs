//! The retention schedule that `filiere serve` runs, with a short interval:
//! it erases the identity of a household whose prescription closed before
//! the retention period at its first sweep, again at later sweeps, keeps a
//! recent one, and stops on shutdown. Run on SQLite and on PostgreSQL.

use std::time::Duration;

use chrono::{DateTime, Utc};
use filiere_domain::prescription::{
    AgeBand, DigitalSkills, EligibilityRule, Evidence, HouseholdAttributes, HouseholdSize, Need,
    NewPrescription, PreferredMode, PrescriptionCommand, Purpose, SchemeId,
};
use filiere_domain::territory::InseeCode;
use filiere_domain::types::{Autonomy, Category};
use filiere_domain::{HouseholdId, PrescriptionId};
use filiere_store::backend_tests;
use filiere_store::households::HouseholdIdentity;
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::{CommandContext, Workshop};
use filiere_store::EventStore;
use filiere_web::retention::run_retention;
use tokio::sync::watch;

const RETENTION_DAYS: u32 = 365;
const INTERVAL: Duration = Duration::from_millis(200);

/// Records a household at `at` and a prescription for it cancelled at
/// `at`, so that its needs are settled since then.
async fn cancelled_at(workshop: &Workshop, scheme: SchemeId, at: DateTime<Utc>) -> HouseholdId {
    let identity = HouseholdIdentity {
        first_name: "Armelle".into(),
        last_name: "Quentin".into(),
        phone: None,
        email: None,
        address: None,
    };
    let household = workshop
        .store()
        .create_household(identity, at)
        .await
        .unwrap();
    let new = NewPrescription {
        prescription_id: PrescriptionId::generate(),
        household_id: household,
        referrer_organisation: "ccas".into(),
        need: Need {
            category: Category::Laptop,
            purpose: Purpose::Health,
        },
        evidence: Evidence::Benefit { name: "AAH".into() },
        preferred_mode: PreferredMode::Donation,
        skills: DigitalSkills::Autonomy {
            level: Autonomy::Intermediate,
        },
        training: None,
        household: HouseholdAttributes {
            commune: InseeCode::parse("28085").unwrap(),
            qpv: false,
            zrr: true,
            size: HouseholdSize::One,
            age: AgeBand::Senior,
        },
    };
    let id = new.prescription_id;
    let mut context = CommandContext::new("test:retention", "ccas");
    context.now = at;
    workshop
        .issue_prescription(new, scheme, &context)
        .await
        .unwrap();
    let cancel = PrescriptionCommand::Cancel {
        reason: "équipée par ailleurs".into(),
    };
    workshop
        .record_prescription(id, cancel, &context)
        .await
        .unwrap();
    household
}

async fn identity_stored(workshop: &Workshop, household: HouseholdId) -> bool {
    let record = workshop.store().household(household).await.unwrap();
    record.expect("household recorded").identity.is_some()
}

/// Waits up to ten seconds for the household's identity to be erased.
async fn wait_for_erasure(workshop: &Workshop, household: HouseholdId) -> bool {
    for _ in 0..100 {
        if !identity_stored(workshop, household).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn schedule_erases_old_closed(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store);
    let scheme = workshop
        .store()
        .create_scheme(
            "AAH",
            EligibilityRule::Benefit {
                accepted: vec!["AAH".into()],
            },
            Utc::now(),
        )
        .await
        .unwrap()
        .id;
    let long_ago = Utc::now() - chrono::Duration::days(i64::from(RETENTION_DAYS) + 30);
    let recent = Utc::now() - chrono::Duration::days(10);
    let old = cancelled_at(&workshop, scheme, long_ago).await;
    let fresh = cancelled_at(&workshop, scheme, recent).await;

    let (shutdown, shutdown_receiver) = watch::channel(false);
    let schedule = tokio::spawn(run_retention(
        workshop.clone(),
        RETENTION_DAYS,
        INTERVAL,
        shutdown_receiver,
    ));
    assert!(
        wait_for_erasure(&workshop, old).await,
        "the first sweep erases the household closed long ago"
    );
    assert!(
        identity_stored(&workshop, fresh).await,
        "a household closed 10 days ago keeps its identity"
    );

    // A household settled long ago that appears after the first sweep is
    // erased by a later one.
    let later = cancelled_at(&workshop, scheme, long_ago).await;
    assert!(
        wait_for_erasure(&workshop, later).await,
        "a later sweep erases it"
    );
    assert!(identity_stored(&workshop, fresh).await);

    shutdown.send_replace(true);
    let stopped = tokio::time::timeout(Duration::from_secs(10), schedule).await;
    assert!(stopped.is_ok(), "the schedule stops on shutdown");
    stopped
        .unwrap()
        .expect("the schedule task ends without panicking");

    let record = workshop.store().household(old).await.unwrap().unwrap();
    assert!(record.erased_at.is_some());
    assert!(workshop
        .store()
        .verify_chain()
        .await
        .unwrap()
        .first_break
        .is_none());
    workshop.store().close().await;
    db.cleanup().await;
}

async fn schedule_stops_during_wait(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store);
    let (shutdown, shutdown_receiver) = watch::channel(false);
    let schedule = tokio::spawn(run_retention(
        workshop.clone(),
        RETENTION_DAYS,
        Duration::from_secs(24 * 60 * 60),
        shutdown_receiver,
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    shutdown.send_replace(true);
    let stopped = tokio::time::timeout(Duration::from_secs(10), schedule).await;
    assert!(stopped.is_ok(), "a day-long wait ends at shutdown");
    workshop.store().close().await;
    db.cleanup().await;
}

backend_tests!(schedule_erases_old_closed, schedule_stops_during_wait);
