//! The quarterly report: progress toward the territory's share as of the
//! quarter's last day, and the flows of the quarter itself (handovers,
//! donations, outcomes, training), both from one replay of the log.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

use super::figures::{compute_figures_in, Figures, HouseholdFigures};
use super::replay::Replay;
use super::report::{build_report, scope_of, Report};
use super::target::ResolvedTarget;

/// A calendar quarter, written `2026-Q3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub number: u32,
}

/// Error of choosing a quarter or its cutoff date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuarterError {
    #[error("invalid quarter '{0}': write the year, a dash, Q and a number from 1 to 4, such as 2026-Q3")]
    Invalid(String),
    #[error(
        "quarter {quarter} has not started yet (today is {today}): choose a quarter up to \
         {current}"
    )]
    NotStarted {
        quarter: Quarter,
        today: NaiveDate,
        current: Quarter,
    },
    #[error(
        "date {as_of} is outside quarter {quarter}: give a date from {first} to {last}, or omit \
         --as-of to use the quarter's last day"
    )]
    OutsideQuarter {
        as_of: NaiveDate,
        quarter: Quarter,
        first: NaiveDate,
        last: NaiveDate,
    },
}

impl Quarter {
    /// Returns the quarter that contains `date`.
    pub fn containing(date: NaiveDate) -> Quarter {
        Quarter {
            year: date.year(),
            number: (date.month() - 1) / 3 + 1,
        }
    }

    pub fn first_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.first_month(), 1).expect("quarters start on a day")
    }

    pub fn last_day(&self) -> NaiveDate {
        let next = if self.number == 4 {
            NaiveDate::from_ymd_opt(self.year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(self.year, self.first_month() + 3, 1)
        };
        next.and_then(|day| day.pred_opt())
            .expect("quarters end on a day")
    }

    /// Months of the quarter as `YYYY-MM`, the keys of the monthly counts.
    pub fn months(&self) -> [String; 3] {
        let first = self.first_month();
        [0, 1, 2].map(|offset| format!("{}-{:02}", self.year, first + offset))
    }

    /// French name, such as « 3e trimestre 2026 ».
    pub fn label_fr(&self) -> String {
        let ordinal = if self.number == 1 { "1er" } else { "" };
        if ordinal.is_empty() {
            format!("{}e trimestre {}", self.number, self.year)
        } else {
            format!("{ordinal} trimestre {}", self.year)
        }
    }

    /// Returns the day the report is computed as of: `as_of` when given,
    /// else the quarter's last day, or today while the quarter is running.
    pub fn cutoff_day(
        &self,
        as_of: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<NaiveDate, QuarterError> {
        if self.first_day() > today {
            return Err(QuarterError::NotStarted {
                quarter: *self,
                today,
                current: Quarter::containing(today),
            });
        }
        match as_of {
            Some(date) if date < self.first_day() || date > self.last_day() => {
                Err(QuarterError::OutsideQuarter {
                    as_of: date,
                    quarter: *self,
                    first: self.first_day(),
                    last: self.last_day(),
                })
            }
            Some(date) => Ok(date),
            None => Ok(self.last_day().min(today)),
        }
    }

    fn first_month(&self) -> u32 {
        (self.number - 1) * 3 + 1
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

impl FromStr for Quarter {
    type Err = QuarterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || QuarterError::Invalid(s.to_string());
        let (year, number) = s.trim().split_once('-').ok_or_else(invalid)?;
        let number = number
            .strip_prefix(['Q', 'q'])
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| (1..=4).contains(n))
            .ok_or_else(invalid)?;
        let year = year
            .parse::<i32>()
            .ok()
            .filter(|y| (1000..=9999).contains(y))
            .ok_or_else(invalid)?;
        Ok(Quarter { year, number })
    }
}

/// The report of one quarter.
#[derive(Clone, Debug, PartialEq)]
pub struct QuarterlyReport {
    pub quarter: Quarter,
    /// Cumulative figures and progress as of the replay's date.
    pub report: Report,
    /// Flows of the quarter up to the replay's date. Loans and stock are as
    /// of that date.
    pub figures: Figures,
    pub households: HouseholdFigures,
    /// False while the replay stops before the quarter's last day.
    pub complete: bool,
}

/// Computes the quarterly report from a replay as of a day of `quarter`.
pub fn build_quarterly_report(
    replay: &Replay,
    target: Option<ResolvedTarget>,
    quarter: Quarter,
) -> QuarterlyReport {
    let mut scope = scope_of(&target);
    scope.period = Some((quarter.first_day(), quarter.last_day()));
    let (figures, households) = compute_figures_in(&replay.fold, replay.reference_date, &scope);
    QuarterlyReport {
        quarter,
        report: build_report(replay, target),
        figures,
        households,
        complete: replay.reference_date >= quarter.last_day(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn quarter_parses_and_bounds() {
        let quarter: Quarter = "2026-q3".parse().unwrap();
        assert_eq!(quarter.to_string(), "2026-Q3");
        assert_eq!(quarter.first_day(), day("2026-07-01"));
        assert_eq!(quarter.last_day(), day("2026-09-30"));
        assert_eq!(quarter.months()[2], "2026-09");
        let fourth: Quarter = "2025-Q4".parse().unwrap();
        assert_eq!(fourth.last_day(), day("2025-12-31"));
        assert_eq!(
            "2026-Q1".parse::<Quarter>().unwrap().label_fr(),
            "1er trimestre 2026"
        );
    }

    #[test]
    fn invalid_quarters_rejected() {
        for text in ["2026-Q5", "2026-Q0", "2026Q3", "26-Q3", "2026-T3", ""] {
            let error = text.parse::<Quarter>().unwrap_err();
            assert!(error.to_string().contains("2026-Q3"), "{text}: {error}");
        }
    }

    #[test]
    fn cutoff_day_checks_quarter() {
        let quarter: Quarter = "2026-Q3".parse().unwrap();
        let today = day("2026-12-04");
        assert_eq!(quarter.cutoff_day(None, today).unwrap(), day("2026-09-30"));
        let running = quarter.cutoff_day(None, day("2026-08-15")).unwrap();
        assert_eq!(running, day("2026-08-15"));
        let inside = quarter.cutoff_day(Some(day("2026-08-01")), today).unwrap();
        assert_eq!(inside, day("2026-08-01"));
        let outside = quarter.cutoff_day(Some(day("2026-10-01")), today);
        assert!(matches!(outside, Err(QuarterError::OutsideQuarter { .. })));
        let future = quarter.cutoff_day(None, day("2026-06-30")).unwrap_err();
        assert!(future.to_string().contains("2026-Q2"), "{future}");
    }
}
