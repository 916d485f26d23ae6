//! Matching devices to an accepted prescription: which in-stock devices fit
//! the household's need, best first.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::code::DeviceCode;
use crate::device::DeviceStatus;
use crate::types::{Autonomy, Category, Grade};

use super::command::{PrescriptionStatus, PrescriptionStep};
use super::error::PrescriptionError;
use super::Prescription;

/// Facts about one device that matching uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CandidateDevice {
    pub code: DeviceCode,
    pub category: Category,
    /// Cosmetic grade; `None` before grading.
    pub grade: Option<Grade>,
    /// Autonomy of the people the device is prepared for; `None` before
    /// grading.
    pub autonomy: Option<Autonomy>,
    /// Whether every readiness rule for a household is met (see
    /// [`crate::Device::readiness_gaps`]).
    pub ready: bool,
    pub status: DeviceStatus,
    /// When the device was last put in stock.
    pub in_stock_since: DateTime<Utc>,
}

/// Returns the in-stock, ready devices of the category `prescription` needs,
/// best first. Devices prepared for the household's autonomy level come
/// first, so a beginner gets beginner devices first. Between two levels
/// equally close to the household's, the one for less autonomous people
/// wins. Grade A, B, C breaks ties, then the longest time in stock.
/// Ungraded devices come last. Fails unless the prescription is accepted
/// and waits for a device.
pub fn match_devices(
    prescription: &Prescription,
    candidates: Vec<CandidateDevice>,
) -> Result<Vec<CandidateDevice>, PrescriptionError> {
    if prescription.status != PrescriptionStatus::Accepted {
        return Err(prescription.step_not_allowed(PrescriptionStep::Reserve));
    }
    let needed = prescription.issued.need.category;
    let level = prescription.issued.skills.autonomy();
    let mut matches: Vec<CandidateDevice> = candidates
        .into_iter()
        .filter(|device| {
            device.status == DeviceStatus::InStock && device.ready && device.category == needed
        })
        .collect();
    matches.sort_by(|a, b| {
        rank(a, level)
            .cmp(&rank(b, level))
            .then_with(|| a.code.cmp(&b.code))
    });
    Ok(matches)
}

/// Sort key of a device for a household of `level`; lower is better.
fn rank(device: &CandidateDevice, level: Autonomy) -> (u8, u8, u8, DateTime<Utc>) {
    let (distance, simpler_first) = match device.autonomy {
        Some(autonomy) => (
            autonomy_rank(autonomy).abs_diff(autonomy_rank(level)),
            autonomy_rank(autonomy),
        ),
        None => (u8::MAX, u8::MAX),
    };
    let grade = match device.grade {
        Some(Grade::A) => 0,
        Some(Grade::B) => 1,
        Some(Grade::C) => 2,
        None => 3,
    };
    (distance, simpler_first, grade, device.in_stock_since)
}

fn autonomy_rank(autonomy: Autonomy) -> u8 {
    match autonomy {
        Autonomy::Beginner => 0,
        Autonomy::Intermediate => 1,
        Autonomy::Autonomous => 2,
    }
}
