//! The async entry points: read the log as of its current head and build a
//! document's data. Web handlers and the command line call these, then
//! render the result with the PDF or CSV functions.

use std::collections::HashMap;

use filiere_domain::{DeviceCode, DonationId};
use filiere_store::workshop::{Workshop, CODE_KEY};
use filiere_store::{EventStore, StoreError};

use super::certificate::{build_certificate, CertificateSet, ErasureCertificate, EvidenceCheck};
use super::error::DocumentError;
use super::reuse::{build_item, ReuseReport};
use super::source::{device_events, donation_device_ids, load_donation, LogSnapshot};

/// Gathers the erasure certificate of the device with `code`.
pub async fn device_certificate(
    workshop: &Workshop,
    code: &DeviceCode,
) -> Result<CertificateSet, DocumentError> {
    let store = workshop.store();
    let log = LogSnapshot::current(store).await?;
    let not_found = || DocumentError::DeviceNotFound(code.to_string());
    let stream_id = store
        .stream_for_key(CODE_KEY, code.as_str())
        .await?
        .ok_or_else(not_found)?;
    let events = device_events(store, &stream_id, &log).await?;
    if events.is_empty() {
        // The code was assigned after the head was read.
        return Err(not_found());
    }
    let mut certificate = build_certificate(&events)?;
    let donation = load_donation(store, certificate.donation_id, &log).await?;
    certificate.donor_name = donation.donor_name;
    let mut certificates = vec![certificate];
    check_evidence(store, &mut certificates).await?;
    Ok(CertificateSet {
        log,
        donation: None,
        certificates,
    })
}

/// Gathers the erasure certificates of every device of a donation batch, in
/// code order. The stock projection must have applied the batch.
pub async fn donation_certificates(
    workshop: &Workshop,
    donation_id: DonationId,
) -> Result<CertificateSet, DocumentError> {
    let store = workshop.store();
    let log = LogSnapshot::current(store).await?;
    let donation = load_donation(store, donation_id, &log).await?;
    let mut certificates = Vec::new();
    for device_id in donation_device_ids(store, &donation).await? {
        let events = device_events(store, &device_id.stream_id(), &log).await?;
        let mut certificate = build_certificate(&events)?;
        certificate.donor_name = donation.donor_name.clone();
        certificates.push(certificate);
    }
    check_evidence(store, &mut certificates).await?;
    Ok(CertificateSet {
        log,
        donation: Some(donation),
        certificates,
    })
}

/// Gathers the reuse report of a donation batch. The stock projection must
/// have applied the batch.
pub async fn reuse_report(
    workshop: &Workshop,
    donation_id: DonationId,
) -> Result<ReuseReport, DocumentError> {
    let store = workshop.store();
    let log = LogSnapshot::current(store).await?;
    let donation = load_donation(store, donation_id, &log).await?;
    let mut items = Vec::new();
    for device_id in donation_device_ids(store, &donation).await? {
        let events = device_events(store, &device_id.stream_id(), &log).await?;
        items.push(build_item(&events)?);
    }
    Ok(ReuseReport::new(log, donation, items))
}

/// Reads back each evidence file the certificates cite and checks its hash,
/// once per file.
pub(super) async fn check_evidence(
    store: &EventStore,
    certificates: &mut [ErasureCertificate],
) -> Result<(), DocumentError> {
    let mut checked: HashMap<String, EvidenceCheck> = HashMap::new();
    let lines = certificates.iter_mut().flat_map(|c| c.lines.iter_mut());
    for evidence in lines.filter_map(|line| line.evidence.as_mut()) {
        if let Some(check) = checked.get(&evidence.sha256) {
            evidence.check = check.clone();
            continue;
        }
        let check = match store.evidence(&evidence.sha256).await {
            Ok(Some((file, _))) => EvidenceCheck::Verified {
                kind: file.kind,
                file_name: file.file_name,
            },
            Ok(None) => EvidenceCheck::Missing,
            Err(StoreError::Corrupt { reason, .. }) => {
                tracing::warn!(
                    sha256 = %evidence.sha256,
                    %reason,
                    "evidence file no longer matches its SHA-256; the certificate marks it as altered"
                );
                EvidenceCheck::Altered
            }
            Err(other) => return Err(other.into()),
        };
        checked.insert(evidence.sha256.clone(), check.clone());
        evidence.check = check;
    }
    Ok(())
}
