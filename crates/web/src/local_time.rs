//! Times on pages, shown in the workshop's time zone.
//!
//! The log stores every time in UTC. Pages show them in the zone named by
//! [`TIME_ZONE_VARIABLE`] (an IANA name such as `Europe/Paris` or
//! `Indian/Reunion`, for workshops overseas), `Europe/Paris` by default.
//! Documents meant as evidence (certificates, reports) keep UTC, so that the
//! same log gives the same bytes wherever they are printed.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Environment variable naming the time zone of pages.
pub const TIME_ZONE_VARIABLE: &str = "FILIERE_TIME_ZONE";
const DEFAULT_TIME_ZONE: Tz = chrono_tz::Europe::Paris;

static TIME_ZONE: OnceLock<Tz> = OnceLock::new();

/// Reads [`TIME_ZONE_VARIABLE`] once. Returns an error naming the value when
/// it is not an IANA time zone name; the zone then stays `Europe/Paris`.
pub fn configure_from_env() -> Result<Tz, String> {
    let zone = match std::env::var(TIME_ZONE_VARIABLE) {
        Ok(name) if !name.trim().is_empty() => parse_zone(&name)?,
        _ => DEFAULT_TIME_ZONE,
    };
    Ok(*TIME_ZONE.get_or_init(|| zone))
}

fn parse_zone(name: &str) -> Result<Tz, String> {
    name.trim().parse::<Tz>().map_err(|_| {
        format!(
            "invalid {TIME_ZONE_VARIABLE} '{name}': expected an IANA time zone name such as \
             Europe/Paris or America/Cayenne"
        )
    })
}

fn zone() -> Tz {
    *TIME_ZONE.get_or_init(|| DEFAULT_TIME_ZONE)
}

/// Formats `time` as a French date and time in the pages' zone, with the
/// zone's abbreviation, such as `07/02/2025 15:05 CET`.
pub fn format_local(time: DateTime<Utc>) -> String {
    format_in(time, zone())
}

fn format_in(time: DateTime<Utc>, zone: Tz) -> String {
    time.with_timezone(&zone)
        .format("%d/%m/%Y %H:%M %Z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn utc(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(year, month, day)
            .unwrap()
            .and_hms_opt(hour, 5, 0)
            .unwrap()
            .and_utc()
    }

    #[test]
    fn paris_winter_and_summer() {
        let paris = chrono_tz::Europe::Paris;
        assert_eq!(
            format_in(utc(2025, 2, 7, 14), paris),
            "07/02/2025 15:05 CET"
        );
        assert_eq!(
            format_in(utc(2025, 7, 7, 14), paris),
            "07/07/2025 16:05 CEST"
        );
    }

    #[test]
    fn overseas_zone() {
        let reunion = parse_zone("Indian/Reunion").unwrap();
        assert_eq!(
            format_in(utc(2025, 2, 7, 22), reunion),
            "08/02/2025 02:05 +04"
        );
    }

    #[test]
    fn unknown_zone_named() {
        let error = parse_zone("Europe/Pariss").unwrap_err();
        assert!(error.contains("'Europe/Pariss'"), "{error}");
    }
}
