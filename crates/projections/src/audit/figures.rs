//! Dashboard figures computed from an [`AuditFold`] as of a reference date.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use filiere_domain::event::HandoverMode;
use filiere_domain::types::Category;
use filiere_domain::DeviceStatus;
use serde::Serialize;

use super::fold::{AuditFold, DeviceHistory, HandoverRecord, PrescriptionRecord};
use super::impact::{compute_impact, Impact};
use super::scope::{CountedBy, Scope};

/// Summary of a list of durations in days. Median and mean are rounded to
/// a tenth of a day; all are `None` for an empty list.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DayStats {
    pub count: u64,
    pub median_days: Option<f64>,
    pub mean_days: Option<f64>,
    pub max_days: Option<i64>,
}

/// Handover counts by month (`2025-03`), quarter (`2025-Q1`) and year.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Periods {
    pub month: BTreeMap<String, u64>,
    pub quarter: BTreeMap<String, u64>,
    pub year: BTreeMap<String, u64>,
}

/// Final outcomes of the devices received.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    /// Distinct devices handed over at least once.
    pub reused: u64,
    pub recycled: u64,
    pub recycled_weight_grams: u64,
    pub dismantled: u64,
    pub written_off: u64,
}

/// Figures of the audit. Handover counts by period, category and workshop
/// count handover events, so a device lent, returned and handed over again
/// counts twice there but once in `devices_handed_over`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    pub handovers: u64,
    pub devices_handed_over: u64,
    pub computers_handed_over: u64,
    pub households_equipped: u64,
    pub handovers_by_period: Periods,
    pub handovers_by_category: BTreeMap<String, u64>,
    pub handovers_by_workshop: BTreeMap<String, u64>,
    pub donation_batches: u64,
    pub donated_devices: u64,
    pub outcomes: Outcomes,
    /// Days from the batch's reception day to the device's first handover.
    pub lead_time: DayStats,
    pub loans_returned: u64,
    pub loans_active: u64,
    /// Loans still with a household after their due date.
    pub loans_overdue: u64,
    pub in_stock: u64,
    pub reserved: u64,
    /// Days since each device in stock was last stocked.
    pub stock_age: DayStats,
    pub impact: Option<Impact>,
}

/// Figures about the households of the handovers that [`Figures`] counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HouseholdFigures {
    /// Handovers counted because the household lives in the territory.
    pub counted_by_household_commune: u64,
    /// Handovers without a prescription, counted because the workshop that
    /// made them is listed in the target (or no workshop is listed).
    pub counted_by_workshop_list: u64,
    /// Handovers by the household's eligibility category, `none` for those
    /// without a prescription.
    pub by_eligibility: BTreeMap<String, u64>,
    /// Handovers to households in a priority neighbourhood (QPV).
    pub in_qpv: u64,
    /// Handovers to households in a rural revitalisation zone (ZRR).
    pub in_zrr: u64,
    pub training: TrainingFigures,
}

/// Beginner training prescribed with devices, for the households of the
/// territory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TrainingFigures {
    /// Prescriptions issued in the period that include training.
    pub prescribed: u64,
    /// Prescriptions whose household attended a session in the period.
    pub attended: u64,
    /// Sessions missed in the period.
    pub sessions_missed: u64,
}

/// Computes the figures. A non-empty `workshops` set limits them to devices
/// held by these organisations. The holder is the one at the handover for
/// handover figures, at reception for donations and at the cutoff otherwise.
pub fn compute_figures(
    fold: &AuditFold,
    reference_date: NaiveDate,
    workshops: &BTreeSet<String>,
) -> Figures {
    let scope = Scope {
        workshops: workshops.clone(),
        ..Scope::default()
    };
    compute_figures_in(fold, reference_date, &scope).0
}

/// Computes the figures of a [`Scope`]. A handover with a prescription
/// counts when the household's commune is in the scope's territory. Other
/// handovers, donations, stock and outcomes count by the workshop list.
/// With a period, the flows (handovers, donations, outcomes, training)
/// count only what happened in it. Loans and stock are as of
/// `reference_date`.
pub fn compute_figures_in(
    fold: &AuditFold,
    reference_date: NaiveDate,
    scope: &Scope,
) -> (Figures, HouseholdFigures) {
    let in_scope = |holder: &str| scope.includes_workshop(holder);
    let in_period = |date: NaiveDate| scope.includes_date(date);
    let mut figures = Figures::default();
    let mut household_figures = HouseholdFigures::default();
    let mut households = BTreeSet::new();
    let mut batches = BTreeSet::new();
    let mut handed_over_by_category: BTreeMap<Category, u64> = BTreeMap::new();
    let mut lead_times = Vec::new();
    let mut stock_ages = Vec::new();
    for history in fold.devices.values() {
        let device = &history.device;
        if in_scope(&history.received_by) && in_period(batch_day(fold, history)) {
            figures.donated_devices += 1;
            batches.insert(device.donation_id);
        }
        let handovers: Vec<(&HandoverRecord, CountedBy)> = history
            .handovers
            .iter()
            .filter_map(|h| scope.counts_handover(fold, h).map(|by| (h, by)))
            .collect();
        for (handover, counted_by) in &handovers {
            if !in_period(handover.date) {
                continue;
            }
            count_handover(
                &mut figures,
                device.category,
                &handover.holder,
                handover.date,
            );
            let record = handover
                .prescription_id
                .and_then(|id| fold.prescriptions.get(&id));
            count_household(&mut household_figures, *counted_by, record);
            households.insert(handover.household_id);
        }
        let first = handovers.first().map(|(handover, _)| *handover);
        if let Some(first) = first.filter(|h| in_period(h.date)) {
            figures.devices_handed_over += 1;
            if matches!(device.category, Category::Laptop | Category::Desktop) {
                figures.computers_handed_over += 1;
            }
            *handed_over_by_category.entry(device.category).or_default() += 1;
            let start = batch_day(fold, history);
            lead_times.push((first.date - start).num_days());
        }
        if in_scope(&device.holder) {
            count_status(&mut figures, history, reference_date, &mut stock_ages);
            if scope.period.is_some() && !ended_in_period(history, scope) {
                uncount_outcome(&mut figures, history);
            }
        }
    }
    household_figures.training = count_training(fold, scope);
    figures.households_equipped = households.len() as u64;
    figures.donation_batches = batches.len() as u64;
    figures.outcomes.reused = figures.devices_handed_over;
    figures.lead_time = day_stats(lead_times);
    figures.stock_age = day_stats(stock_ages);
    let by_category: Vec<(Category, u64)> = handed_over_by_category.into_iter().collect();
    figures.impact = Some(compute_impact(&by_category));
    (figures, household_figures)
}

fn count_handover(figures: &mut Figures, category: Category, holder: &str, date: NaiveDate) {
    figures.handovers += 1;
    let periods = &mut figures.handovers_by_period;
    let quarter = (date.month() - 1) / 3 + 1;
    *periods
        .month
        .entry(date.format("%Y-%m").to_string())
        .or_default() += 1;
    *periods
        .quarter
        .entry(format!("{}-Q{quarter}", date.year()))
        .or_default() += 1;
    *periods.year.entry(date.year().to_string()).or_default() += 1;
    *figures
        .handovers_by_category
        .entry(category.as_str().to_string())
        .or_default() += 1;
    *figures
        .handovers_by_workshop
        .entry(holder.to_string())
        .or_default() += 1;
}

/// Adds a counted handover to the counts by rule, eligibility and priority
/// area.
fn count_household(
    figures: &mut HouseholdFigures,
    counted_by: CountedBy,
    record: Option<&PrescriptionRecord>,
) {
    match counted_by {
        CountedBy::HouseholdCommune => figures.counted_by_household_commune += 1,
        CountedBy::WorkshopList => figures.counted_by_workshop_list += 1,
    }
    let eligibility = record.map_or("none", |r| r.eligibility.as_str());
    *figures
        .by_eligibility
        .entry(eligibility.to_string())
        .or_default() += 1;
    if let Some(record) = record {
        figures.in_qpv += u64::from(record.household.qpv);
        figures.in_zrr += u64::from(record.household.zrr);
    }
}

/// Returns whether a recycled, dismantled or written-off device took that final
/// step inside the scope's period. The final step is the device's last one,
/// because such a device takes no further step.
fn ended_in_period(history: &DeviceHistory, scope: &Scope) -> bool {
    history
        .steps
        .last()
        .is_some_and(|step| scope.includes_date(step.date))
}

/// Removes a final outcome that [`count_status`] counted but that happened
/// outside the period.
fn uncount_outcome(figures: &mut Figures, history: &DeviceHistory) {
    let outcomes = &mut figures.outcomes;
    match history.device.status {
        DeviceStatus::Recycled => {
            outcomes.recycled -= 1;
            outcomes.recycled_weight_grams -= history.recycled_weight_grams;
        }
        DeviceStatus::Dismantled => outcomes.dismantled -= 1,
        DeviceStatus::WrittenOff => outcomes.written_off -= 1,
        _ => {}
    }
}

/// Counts the training of the prescriptions whose household is in the
/// scope's territory (every prescription when the scope has none).
fn count_training(fold: &AuditFold, scope: &Scope) -> TrainingFigures {
    let mut training = TrainingFigures::default();
    for record in fold.prescriptions.values() {
        if !scope.includes_household(&record.household) {
            continue;
        }
        let issued = scope.includes_date(record.issued_on);
        training.prescribed += u64::from(record.training_prescribed && issued);
        let attended = record
            .training_attended_on
            .iter()
            .any(|day| scope.includes_date(*day));
        training.attended += u64::from(attended);
        training.sessions_missed += record
            .training_missed_on
            .iter()
            .filter(|day| scope.includes_date(**day))
            .count() as u64;
    }
    training
}

/// Counts the device's loans and its status as of the reference date.
fn count_status(
    figures: &mut Figures,
    history: &DeviceHistory,
    reference_date: NaiveDate,
    stock_ages: &mut Vec<i64>,
) {
    let device = &history.device;
    figures.loans_returned += history.loans_returned;
    match device.status {
        DeviceStatus::HandedOver => {
            if let Some(HandoverMode::Loan { due_on }) = device.handover_mode {
                figures.loans_active += 1;
                if due_on < reference_date {
                    figures.loans_overdue += 1;
                }
            }
        }
        DeviceStatus::InStock => {
            figures.in_stock += 1;
            if let Some(stocked_on) = history.stocked_on {
                stock_ages.push((reference_date - stocked_on).num_days().max(0));
            }
        }
        DeviceStatus::Reserved => figures.reserved += 1,
        DeviceStatus::Recycled => {
            figures.outcomes.recycled += 1;
            figures.outcomes.recycled_weight_grams += history.recycled_weight_grams;
        }
        DeviceStatus::Dismantled => figures.outcomes.dismantled += 1,
        DeviceStatus::WrittenOff => figures.outcomes.written_off += 1,
        _ => {}
    }
}

/// Returns the day the device's batch was received, or the day of the
/// device's `received` event when the batch is not in the replayed log.
fn batch_day(fold: &AuditFold, history: &DeviceHistory) -> NaiveDate {
    fold.donations
        .get(&history.device.donation_id)
        .map_or(history.received_on, |batch| batch.received_on)
}

/// Summarises durations; median and mean are rounded half up to a tenth.
pub fn day_stats(mut days: Vec<i64>) -> DayStats {
    if days.is_empty() {
        return DayStats::default();
    }
    days.sort_unstable();
    let count = days.len() as i64;
    let middle = days.len() / 2;
    let median_tenths = if days.len() % 2 == 1 {
        days[middle] * 10
    } else {
        (days[middle - 1] + days[middle]) * 5
    };
    let sum: i64 = days.iter().sum();
    let mean_tenths = (sum * 20 + count) / (count * 2);
    DayStats {
        count: count as u64,
        median_days: Some(median_tenths as f64 / 10.0),
        mean_days: Some(mean_tenths as f64 / 10.0),
        max_days: days.last().copied(),
    }
}
