//! Evidence files from the pages and the API: reading a multipart upload,
//! recording it file by file, describing each file's result in French, and
//! serving a stored file back with its hash checked.

use std::str::FromStr;

use axum::extract::Multipart;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use filiere_domain::access::Action;
use filiere_domain::types::Outcome;
use filiere_domain::{Device, DeviceCode, DeviceEvent, DeviceId};
use filiere_store::evidence::EvidenceFile;
use filiere_store::evidence_import::{
    EvidenceBatch, EvidenceError, EvidenceErrorKind, EvidenceUpload, FileOutcome, FileRejection,
};
use filiere_store::StoreError;

use crate::auth::Caller;
use crate::errors::AppError;
use crate::recording::{catch_up, web_context};
use crate::server::AppState;

/// Largest evidence upload accepted, all files together, in bytes. A
/// Workbench snapshot or an `lshw -json` report is well under 1 MiB; a
/// verbose nwipe log of many disks may reach a few MiB.
pub const UPLOAD_LIMIT_BYTES: usize = 32 * 1024 * 1024;

/// Builds the 413 of an upload over [`UPLOAD_LIMIT_BYTES`].
pub fn upload_too_large() -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "Envoi trop volumineux : {} Mio au plus pour l'ensemble des fichiers. Rien n'a été \
             enregistré. Envoyez les rapports en plusieurs fois.",
            UPLOAD_LIMIT_BYTES / (1024 * 1024)
        ),
    )
}

/// Files and options of one upload.
pub struct UploadForm {
    pub uploads: Vec<EvidenceUpload>,
    /// Functional test result recorded with a hardware report.
    pub functional_test: Option<Outcome>,
}

/// Fields of the upload form besides the files.
const TEST_FIELD: &str = "test";
const IGNORED_FIELDS: [&str; 1] = [crate::auth::csrf::FIELD];

/// Reads every part of a multipart body: parts with a file name are files,
/// `test` is the functional test result (`passed` or `failed`), and any other
/// field is rejected with 400.
pub async fn read_upload_form(mut multipart: Multipart) -> Result<UploadForm, AppError> {
    let mut uploads = Vec::new();
    let mut functional_test = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return Err(multipart_error(&error)),
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        match file_name {
            Some(file_name) => {
                let bytes = field.bytes().await.map_err(|e| multipart_error(&e))?;
                // A browser sends an empty part without a name for a file
                // input left empty.
                if file_name.is_empty() && bytes.is_empty() {
                    continue;
                }
                let file_name = if file_name.is_empty() {
                    format!("fichier {}", uploads.len() + 1)
                } else {
                    file_name
                };
                uploads.push(EvidenceUpload {
                    file_name,
                    bytes: bytes.to_vec(),
                });
            }
            None if name == TEST_FIELD => {
                let value = field.text().await.map_err(|e| multipart_error(&e))?;
                functional_test = parse_test(&value)?;
            }
            None if IGNORED_FIELDS.contains(&name.as_str()) => {
                field.bytes().await.map_err(|e| multipart_error(&e))?;
            }
            None => {
                return Err(AppError::bad_request(
                    "unknown_field",
                    format!(
                        "Champ « {name} » inconnu dans l'envoi. Champs acceptés : des fichiers, et \
                         « test » (passed ou failed)."
                    ),
                ))
            }
        }
    }
    if uploads.is_empty() {
        return Err(AppError::bad_request(
            "no_file",
            "Aucun fichier reçu : choisissez un ou plusieurs rapports (lshw, smartctl, nwipe, \
             ShredOS ou Workbench).",
        ));
    }
    Ok(UploadForm {
        uploads,
        functional_test,
    })
}

fn parse_test(value: &str) -> Result<Option<Outcome>, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    Outcome::from_str(value).map(Some).map_err(|_| {
        AppError::bad_request(
            "invalid_test",
            format!("Résultat de test « {value} » invalide : passed (réussi) ou failed (échoué)."),
        )
    })
}

fn multipart_error(error: &axum::extract::multipart::MultipartError) -> AppError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return upload_too_large();
    }
    AppError::bad_request(
        "invalid_multipart",
        "Envoi illisible : le corps doit être au format multipart/form-data avec un ou plusieurs \
         fichiers. Renvoyez les fichiers.",
    )
    .with_detail(error.body_text())
}

/// Loads the device with `code` when the caller may `action` on it; a
/// device of another organisation is "not found".
pub async fn visible_device(
    state: &AppState,
    caller: &Caller,
    code: &DeviceCode,
    action: for<'a> fn(&'a str) -> Action<'a>,
) -> Result<Device, AppError> {
    let hidden = || AppError::device_not_found(code.as_str());
    let device = state.workshop.find_device(code).await?.ok_or_else(hidden)?;
    caller.require_or_hide(&action(&device.holder), hidden())?;
    Ok(device)
}

pub fn view_device(holder: &str) -> Action<'_> {
    Action::ViewDevice { holder }
}

pub fn record_step(holder: &str) -> Action<'_> {
    Action::RecordStep { holder }
}

/// Result of one uploaded file, for a page line or a JSON entry.
#[derive(Clone, Debug)]
pub struct ResultLine {
    pub file_name: String,
    /// `recorded`, `already_recorded`, `rejected` or `not_recorded`.
    pub status: &'static str,
    /// lshw, smartctl, nwipe or workbench, when the file was readable.
    pub kind: Option<String>,
    pub sha256: Option<String>,
    /// Line or field of the problem, for an unreadable file.
    pub location: Option<String>,
    /// French sentence shown to the person at the bench.
    pub message: String,
}

/// Outcome of an upload as shown to the caller.
pub struct UploadResult {
    pub device: Device,
    pub lines: Vec<ResultLine>,
    /// French summaries of the steps recorded.
    pub steps: Vec<String>,
}

/// Records an upload on the device with `code` and catches the projections
/// up. Each file gets its own line. Only a missing right to record steps on
/// the device, a missing device or a database failure is an error.
pub async fn import_upload(
    state: &AppState,
    caller: &Caller,
    code: &DeviceCode,
    form: UploadForm,
) -> Result<UploadResult, AppError> {
    visible_device(state, caller, code, record_step).await?;
    let context = web_context(&caller.principal, None);
    let batch = state
        .workshop
        .import_evidence_files(code, form.uploads, form.functional_test, &context)
        .await
        .map_err(|error| AppError::from(error).for_device(code.as_str()))?;
    if batch.append.is_some() {
        catch_up(state).await;
    }
    let rejected = batch
        .files
        .iter()
        .filter(|f| !matches!(f.outcome, FileOutcome::Recorded { .. }))
        .count();
    tracing::info!(
        device.code = %code,
        files = batch.files.len(),
        not_recorded = rejected,
        events = batch.events.len(),
        "evidence upload handled"
    );
    Ok(describe_batch(batch))
}

fn describe_batch(batch: EvidenceBatch) -> UploadResult {
    let failure = batch.failure.map(|error| AppError::from(error).message);
    let lines = batch
        .files
        .iter()
        .map(|file| result_line(&file.file_name, &file.outcome, &batch.events, &failure))
        .collect();
    UploadResult {
        steps: batch.events.iter().map(DeviceEvent::summary_fr).collect(),
        device: batch.device,
        lines,
    }
}

fn result_line(
    file_name: &str,
    outcome: &FileOutcome,
    events: &[DeviceEvent],
    failure: &Option<String>,
) -> ResultLine {
    let line =
        |status, kind: Option<&String>, sha256: Option<&String>, message: String| ResultLine {
            file_name: file_name.to_string(),
            status,
            kind: kind.cloned(),
            sha256: sha256.cloned(),
            location: None,
            message,
        };
    match outcome {
        FileOutcome::Recorded { kind, sha256 } => line(
            "recorded",
            Some(kind),
            Some(sha256),
            format!(
                "Enregistré : {file_name} (rapport {kind}) : {}.",
                steps_citing(events, sha256)
            ),
        ),
        FileOutcome::AlreadyRecorded { kind, sha256 } => line(
            "already_recorded",
            Some(kind),
            Some(sha256),
            format!(
                "Déjà enregistré : {file_name} (rapport {kind}, SHA-256 {}…) figure déjà dans \
                 l'historique de cet appareil ; rien de nouveau n'a été enregistré.",
                &sha256[..12.min(sha256.len())]
            ),
        ),
        FileOutcome::NotRecorded { kind, sha256 } => line(
            "not_recorded",
            Some(kind),
            Some(sha256),
            format!(
                "Non enregistré : {file_name} (rapport {kind}) : {}",
                failure
                    .as_deref()
                    .unwrap_or("l'appareil a refusé cette étape.")
            ),
        ),
        FileOutcome::Rejected(rejection) => {
            let mut rejected = line("rejected", None, None, rejection_fr(file_name, rejection));
            if let FileRejection::Unreadable(error) = rejection {
                rejected.location = Some(location_in_file(file_name, &error.location).to_string());
            }
            rejected
        }
    }
}

/// Names the steps that cite the file `sha256`, in French.
fn steps_citing(events: &[DeviceEvent], sha256: &str) -> String {
    let diagnosed = events.iter().any(|event| match event {
        DeviceEvent::Diagnosed(d) => d.evidence_sha256.iter().any(|s| s == sha256),
        _ => false,
    });
    let erasures = events
        .iter()
        .filter(|event| match event {
            DeviceEvent::DataErased(e) => e.evidence_sha256.as_deref() == Some(sha256),
            _ => false,
        })
        .count();
    match (diagnosed, erasures) {
        (true, 0) => "diagnostic".to_string(),
        (true, n) => format!("diagnostic et {n} effacement(s)"),
        (false, n) => format!("{n} effacement(s)"),
    }
}

/// Location of a problem without the file name that the parser puts first:
/// "line 12, column 3" for "rapport.json, line 12, column 3", and "file"
/// for a location that is the file name alone.
fn location_in_file<'a>(file_name: &str, location: &'a str) -> &'a str {
    match location.strip_prefix(file_name) {
        Some(rest) => {
            let rest = rest.trim_start_matches(',').trim_start();
            if rest.is_empty() {
                "file"
            } else {
                rest
            }
        }
        None => location,
    }
}

/// Location in French: "ligne 12, colonne 3", "champ model_name", "fichier".
fn location_fr(location: &str) -> String {
    location
        .split(", ")
        .map(|part| {
            if let Some(line) = part.strip_prefix("line ") {
                format!("ligne {line}")
            } else if let Some(column) = part.strip_prefix("column ") {
                format!("colonne {column}")
            } else if let Some(field) = part.strip_prefix("field ") {
                format!("champ {field}")
            } else if part == "file" {
                "fichier".to_string()
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Describes in French why a file cannot be read, naming the file once, with
/// the line or field and what to do.
fn unreadable_fr(file_name: &str, error: &EvidenceError) -> String {
    let location = location_fr(location_in_file(file_name, &error.location));
    let nothing = "Rien n'a été enregistré pour ce fichier";
    match error.kind {
        EvidenceErrorKind::NotEvidence => format!(
            "Refusé : {file_name} n'est pas un rapport que Filière sait lire. {nothing} ; \
             envoyez la sortie de lshw -json ou de smartctl --json, un journal nwipe ou ShredOS, \
             ou un instantané eReuse Workbench."
        ),
        EvidenceErrorKind::Empty => format!(
            "Refusé : {file_name} est vide. {nothing} ; envoyez le fichier complet écrit par \
             l'outil."
        ),
        EvidenceErrorKind::InvalidJson => format!(
            "Refusé : {file_name} contient du JSON invalide ({location}) : le fichier est \
             tronqué ou abîmé. {nothing} ; recopiez le fichier en entier depuis la machine, ou \
             relancez l'outil. Détail technique : {}.",
            error.reason
        ),
        EvidenceErrorKind::MissingField => format!(
            "Refusé : il manque à {file_name} une donnée nécessaire ({location}). {nothing} ; \
             relancez l'outil avec les options indiquées. Détail technique : {}.",
            error.reason
        ),
        EvidenceErrorKind::Other => format!(
            "Refusé : {file_name} ne peut pas être utilisé ({location}). {nothing} ; vérifiez \
             qu'il s'agit d'un rapport lshw -json, smartctl --json, nwipe, ShredOS ou Workbench \
             complet. Détail technique : {}.",
            error.reason
        ),
    }
}

fn rejection_fr(file_name: &str, rejection: &FileRejection) -> String {
    match rejection {
        FileRejection::Unreadable(error) => unreadable_fr(file_name, error),
        FileRejection::OtherMachine {
            report_serial,
            device_serial,
        } => format!(
            "Refusé : {file_name} est le rapport de la machine de n° de série {report_serial}, \
             mais cet appareil a le n° de série {device_serial}. Rien n'a été enregistré pour ce \
             fichier ; importez-le sur l'appareil de n° de série {report_serial}."
        ),
        FileRejection::OtherMachineDisks {
            report_system,
            report_serial,
            device_serial,
            report_disks,
            device_disks,
        } => format!(
            "Refusé : {file_name} est le rapport de la machine {report_system} ({}), et cet \
             appareil a {} ; ses disques ({}) ne sont aucun des supports de stockage de cet \
             appareil ({}). Rien n'a été enregistré pour ce fichier ; importez-le sur \
             l'appareil qui contient ces disques.",
            report_serial
                .as_deref()
                .map_or("sans n° de série".to_string(), |s| format!(
                    "n° de série {s}"
                )),
            device_serial
                .as_deref()
                .map_or("pas de n° de série".to_string(), |s| format!(
                    "le n° de série {s}"
                )),
            report_disks.join(", "),
            device_disks.join(", ")
        ),
        FileRejection::OtherDisks {
            report_disks,
            device_disks,
        } => format!(
            "Refusé : les disques de {file_name} ({}) ne sont pas ceux de cet appareil ({}). Rien \
             n'a été enregistré pour ce fichier ; importez-le sur l'appareil qui contient ces \
             disques, ou, s'ils sont bien dans cet appareil, importez d'abord son inventaire \
             (lshw ou Workbench).",
            report_disks.join(", "),
            device_disks.join(", ")
        ),
        FileRejection::DiskWithoutSerial {
            disks,
            device_disks,
        } => format!(
            "Refusé : le journal {file_name} ne donne pas le n° de série du disque {}, donc \
             l'effacement ne peut être rattaché à aucun support de stockage de cet appareil \
             ({}). Rien n'a été enregistré pour ce fichier ; effacez à nouveau le disque avec une \
             version de nwipe qui journalise les n° de série, ou saisissez l'effacement à la main \
             en choisissant le support.",
            disks.join(", "),
            if device_disks.is_empty() {
                "aucun support connu".to_string()
            } else {
                device_disks.join(", ")
            }
        ),
        FileRejection::NoStorageUnit { report_disks } => format!(
            "Refusé : cet appareil n'a encore aucun support de stockage connu, donc les \
             effacements de {file_name} ({}) ne peuvent être rattachés à aucun. Rien n'a été \
             enregistré pour ce fichier ; importez d'abord l'inventaire de l'appareil (lshw ou \
             Workbench), ou envoyez-le avec ce journal.",
            report_disks.join(", ")
        ),
    }
}

/// Descriptions of the evidence files cited by the device's events, oldest
/// first.
pub async fn device_files(
    state: &AppState,
    device: &Device,
) -> Result<Vec<EvidenceFile>, AppError> {
    let hashes = state.workshop.device_evidence(device).await?;
    Ok(state.store().evidence_descriptions(&hashes).await?)
}

/// Parses a SHA-256 from a URL path: 64 hex digits, any case.
pub fn parse_sha256(typed: &str) -> Result<String, AppError> {
    if typed.len() == 64 && typed.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(typed.to_ascii_lowercase());
    }
    Err(evidence_not_found(typed))
}

pub fn evidence_not_found(sha256: &str) -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "evidence_not_found",
        format!(
            "Aucun fichier de preuve « {sha256} » pour un appareil que vous pouvez consulter. \
             Vérifiez l'empreinte SHA-256 (64 caractères hexadécimaux)."
        ),
    )
}

/// Checks whether the caller may view one of the devices whose events cite
/// the evidence file `sha256`.
pub async fn may_view_evidence(
    state: &AppState,
    caller: &Caller,
    sha256: &str,
) -> Result<bool, AppError> {
    for stream_id in state.store().streams_citing_evidence(sha256).await? {
        let Some(id) = stream_id
            .strip_prefix(DeviceId::STREAM_PREFIX)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| DeviceId::from_str(rest).ok())
        else {
            continue;
        };
        if let Some(device) = state.workshop.load_device(id).await? {
            if caller.may(&view_device(&device.holder)) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Serves the stored bytes of `sha256` as an attachment, after checking
/// them against their hash. A mismatch is a 500 whose log names the file;
/// the altered bytes are never sent.
pub async fn evidence_download(state: &AppState, sha256: &str) -> Result<Response, AppError> {
    let (file, bytes) = match state.store().evidence(sha256).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(evidence_not_found(sha256)),
        Err(StoreError::Corrupt { reason, .. }) => {
            return Err(AppError::internal(format!(
                "evidence file {sha256} was not served: {reason}"
            )))
        }
        Err(other) => return Err(other.into()),
    };
    let content_type = match file.kind.as_str() {
        "nwipe" => "text/plain",
        _ => "application/json",
    };
    Ok(attachment(bytes, content_type, &file.file_name))
}

/// Builds a download response with `Content-Disposition: attachment`. The
/// plain `filename` keeps ASCII letters, digits, dots, dashes and
/// underscores; `filename*` carries the whole name in UTF-8.
pub fn attachment(bytes: Vec<u8>, content_type: &str, file_name: &str) -> Response {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = form_urlencoded::byte_serialize(file_name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}
