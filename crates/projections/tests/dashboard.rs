//! Dashboard projection suite, on SQLite and on PostgreSQL: the
//! pre-aggregated counters must sum to the figures the audit replays from
//! the same log, caught up in one pass or batch by batch, and the filters
//! must select the expected rows.

mod dashboard_log;
mod extended_loan_log;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use dashboard_log::{build_dashboard_log, CHARTRES, DREUX, KNOWN, PROGRAMME};
use filiere_domain::types::Category;
use filiere_projections::audit::{compute_figures, replay, Cutoff, Figures};
use filiere_projections::dashboard::{
    checkpoint_position, load_dashboard, DashboardFigures, DashboardFilter, TerritoryScope,
};
use filiere_projections::Projector;
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::Workshop;
use filiere_store::{backend_tests, EventStore};

fn today() -> NaiveDate {
    "2025-06-01".parse().unwrap()
}

async fn open(db: &TestDatabase) -> Workshop {
    Workshop::new(EventStore::connect(&db.url).await.unwrap())
}

/// Replays the whole log and returns the audit figures with their
/// reference day.
async fn replayed(store: &EventStore) -> (Figures, NaiveDate) {
    let replayed = replay(store, Cutoff::Head, today()).await.unwrap();
    let figures = compute_figures(&replayed.fold, replayed.reference_date, &BTreeSet::new());
    (figures, replayed.reference_date)
}

async fn dashboard(store: &EventStore, filter: &DashboardFilter) -> DashboardFigures {
    let reference: NaiveDate = "2025-04-25".parse().unwrap();
    load_dashboard(store.pool(), filter, reference)
        .await
        .unwrap()
}

async fn projection_matches_replay(db: TestDatabase) {
    let workshop = open(&db).await;
    build_dashboard_log(&workshop).await;
    let store = workshop.store();
    Projector::new(store.clone()).catch_up().await.unwrap();
    let (expected, reference) = replayed(store).await;
    assert_eq!(reference.to_string(), "2025-04-25");
    let projected = load_dashboard(store.pool(), &DashboardFilter::default(), reference)
        .await
        .unwrap();
    assert_eq!(projected.to_audit_figures(), expected);
    assert_eq!(projected.handovers, KNOWN.handovers);
    assert_eq!(projected.devices_handed_over, KNOWN.devices_handed_over);
    assert_eq!(projected.computers_handed_over, KNOWN.computers_handed_over);
    assert_eq!(projected.households_equipped, KNOWN.households_equipped);
    assert_eq!(projected.donated_devices, KNOWN.donated_devices);
    assert_eq!(projected.donation_batches, KNOWN.donation_batches);
    assert_eq!(projected.loans_returned, KNOWN.loans_returned);
    assert_eq!(projected.loans_active, KNOWN.loans_active);
    assert_eq!(projected.loans_overdue, KNOWN.loans_overdue);
    assert_eq!(projected.training_attended, KNOWN.training_attended);
    assert_eq!(projected.in_stock, KNOWN.in_stock);
    assert_eq!(projected.reserved, KNOWN.reserved);
    assert_eq!(projected.outcomes.recycled, KNOWN.recycled);
    assert_eq!(projected.outcomes.recycled_weight_grams, 5000);
    assert_eq!(projected.outcomes.dismantled, KNOWN.dismantled);
    assert_eq!(projected.outcomes.written_off, KNOWN.written_off);
    let (head, _) = store.head().await.unwrap();
    assert_eq!(checkpoint_position(store.pool()).await.unwrap(), head);
    db.cleanup().await;
}

/// Catches up after every few events, so each batch reads and updates rows
/// written by earlier batches.
async fn small_batches_match_replay(db: TestDatabase) {
    let workshop = open(&db).await;
    let store = workshop.store().clone();
    let projector = Projector::new(store.clone());
    let catching_up = tokio::spawn({
        let projector = projector.clone();
        async move {
            for _ in 0..200 {
                projector.catch_up().await.unwrap();
                tokio::task::yield_now().await;
            }
        }
    });
    build_dashboard_log(&workshop).await;
    catching_up.await.unwrap();
    projector.catch_up().await.unwrap();
    let (expected, reference) = replayed(&store).await;
    let projected = load_dashboard(store.pool(), &DashboardFilter::default(), reference)
        .await
        .unwrap();
    assert_eq!(projected.to_audit_figures(), expected);
    projector.rebuild().await.unwrap();
    let rebuilt = load_dashboard(store.pool(), &DashboardFilter::default(), reference)
        .await
        .unwrap();
    assert_eq!(rebuilt.to_audit_figures(), expected);
    db.cleanup().await;
}

async fn filters_select_counters(db: TestDatabase) {
    let workshop = open(&db).await;
    build_dashboard_log(&workshop).await;
    let store = workshop.store();
    Projector::new(store.clone()).catch_up().await.unwrap();

    let all = dashboard(store, &DashboardFilter::default()).await;
    let by = &all.handovers_by;
    assert_eq!(
        by.programme.get(PROGRAMME),
        Some(&KNOWN.programme_handovers)
    );
    assert_eq!(by.area.get("qpv"), Some(&KNOWN.qpv_handovers));
    assert_eq!(by.area.get("zrr"), Some(&1));
    assert_eq!(by.area.get("neither"), Some(&1));
    assert_eq!(by.area.get(""), Some(&2));
    assert_eq!(by.eligibility.get("benefit_recipient"), Some(&3));
    assert_eq!(by.eligibility.get("student"), Some(&1));
    assert_eq!(by.month.get("2025-04"), Some(&3));
    assert_eq!(by.quarter.get("2025-Q1"), Some(&3));
    assert_eq!(by.year.get("2025"), Some(&KNOWN.handovers));

    let chartres = DashboardFilter {
        territory: TerritoryScope::Communes(vec!["28085".into()]),
        ..DashboardFilter::default()
    };
    let figures = dashboard(store, &chartres).await;
    assert_eq!(figures.handovers, KNOWN.chartres_handovers);
    assert_eq!(figures.households_equipped, 1);
    assert_eq!(figures.training_attended, 1);
    assert_eq!(figures.loans_active, 0);
    assert_eq!(figures.donated_devices, KNOWN.donated_devices);

    let eure_et_loir = DashboardFilter {
        territory: TerritoryScope::Departement("28".into()),
        ..DashboardFilter::default()
    };
    let figures = dashboard(store, &eure_et_loir).await;
    assert_eq!(figures.handovers, 3);
    assert_eq!(figures.loans_returned, 1);
    assert_eq!(figures.loans_active, 0);

    let rhone = DashboardFilter {
        territory: TerritoryScope::Departement("69".into()),
        ..DashboardFilter::default()
    };
    let figures = dashboard(store, &rhone).await;
    assert_eq!(figures.loans_active, 1);
    assert_eq!(figures.loans_overdue, 1);

    let march = DashboardFilter {
        from_month: Some("2025-03".into()),
        to_month: Some("2025-03".into()),
        ..DashboardFilter::default()
    };
    let figures = dashboard(store, &march).await;
    assert_eq!(figures.handovers, 2);
    assert_eq!(figures.donated_devices, 2);

    let laptops = DashboardFilter {
        category: Some(Category::Laptop),
        ..DashboardFilter::default()
    };
    let figures = dashboard(store, &laptops).await;
    assert_eq!(figures.devices_handed_over, 3);
    assert_eq!(figures.in_stock, 1);

    let dreux = DashboardFilter {
        workshop: Some(DREUX.into()),
        ..DashboardFilter::default()
    };
    let figures = dashboard(store, &dreux).await;
    assert_eq!(figures.handovers, 0);
    assert_eq!(figures.in_stock, 1);
    let chartres_workshop = DashboardFilter {
        workshop: Some(CHARTRES.into()),
        ..DashboardFilter::default()
    };
    let figures = dashboard(store, &chartres_workshop).await;
    assert_eq!(figures.handovers, KNOWN.handovers);
    assert_eq!(figures.in_stock, 2);
    // Every handover was at Chartres, so the detailed counters read for a
    // workshop filter must give the rollup's breakdowns.
    assert_eq!(figures.handovers_by, all.handovers_by);
    assert_eq!(figures.lead_time, all.lead_time);
    assert_eq!(figures.households_equipped, all.households_equipped);
    db.cleanup().await;
}

/// Lends two laptops until the same day and extends one of them, catching
/// up before and after the extension, so the device row written by the
/// first batch is read and rewritten by the second.
async fn extended_loan_overdue_from_new_date(db: TestDatabase) {
    use extended_loan_log::{day, extend_first_loan, lend_two_laptops, EXTENDED_ON};

    let workshop = open(&db).await;
    let store = workshop.store();
    let projector = Projector::new(store.clone());
    let loan_counts = |figures: &DashboardFigures| (figures.loans_active, figures.loans_overdue);
    let load = |reference: &'static str| async move {
        load_dashboard(store.pool(), &DashboardFilter::default(), day(reference))
            .await
            .unwrap()
    };

    let loans = lend_two_laptops(&workshop).await;
    projector.catch_up().await.unwrap();
    assert_eq!(
        loan_counts(&load("2025-04-10").await),
        (2, 2),
        "active and overdue before the extension"
    );

    extend_first_loan(&workshop, &loans).await;
    projector.catch_up().await.unwrap();
    for (reference, expected) in [
        ("2025-04-01", (2, 0)),
        ("2025-04-10", (2, 1)),
        ("2025-05-15", (2, 1)),
        ("2025-05-16", (2, 2)),
    ] {
        assert_eq!(
            loan_counts(&load(reference).await),
            expected,
            "active and overdue on {reference}"
        );
        let replayed = replay(store, Cutoff::Date(day(reference)), today())
            .await
            .unwrap();
        let expected = compute_figures(&replayed.fold, replayed.reference_date, &BTreeSet::new());
        assert_eq!(
            load(reference).await.to_audit_figures(),
            expected,
            "projection and replay on {reference}"
        );
    }

    let (expected, reference) = replayed(store).await;
    assert_eq!(reference, day(EXTENDED_ON), "reference day of the head");
    projector.rebuild().await.unwrap();
    let rebuilt = load_dashboard(store.pool(), &DashboardFilter::default(), reference)
        .await
        .unwrap();
    assert_eq!(rebuilt.to_audit_figures(), expected, "rebuilt projection");
    db.cleanup().await;
}

backend_tests!(
    projection_matches_replay,
    small_batches_match_replay,
    filters_select_counters,
    extended_loan_overdue_from_new_date,
);
