//! Hardware from the `device` and `components` of Workbench 11 and 2018
//! snapshots.
//!
//! Workbench chose these components itself, and it leaves out the USB stick
//! it booted from, so its lists replace what lshw reports. The embedded lshw
//! tree of Workbench 11 fills what the components lack: the battery,
//! identity fields left null and disk logical names.

use filiere_domain::serial::SerialNumber;
use filiere_domain::types::StorageKind;
use serde_json::Value;

use crate::lshw::node::{raw_text, serial_or_none};
use crate::{lshw, HardwareReport, StorageDevice, SystemIdentity};

/// Bytes in a mebibyte, the unit of `RamModule.size` in both formats and of
/// disk sizes in the 2018 format.
const MIB: f64 = 1_048_576.0;

/// Keys and units that differ between the two formats.
struct Layout {
    /// Key holding the component type: `type` (11) or `@type` (2018).
    type_key: &'static str,
    /// Key of `device` holding the chassis: `chassis` (11) or `type` (2018).
    chassis_key: &'static str,
    /// Bytes per unit of a disk `size`: MB in Workbench 11 (a 500 GB drive
    /// is 500107.862016), MiB in the 2018 format (a 160 GB drive is 152627).
    disk_unit_bytes: f64,
}

const WORKBENCH_11: Layout = Layout {
    type_key: "type",
    chassis_key: "chassis",
    disk_unit_bytes: 1_000_000.0,
};

const LEGACY_2018: Layout = Layout {
    type_key: "@type",
    chassis_key: "type",
    disk_unit_bytes: MIB,
};

const STORAGE_TYPES: &[&str] = &["HardDrive", "SolidStateDrive", "DataStorage"];

/// Builds the inventory of a Workbench 11 snapshot from its components and
/// its `debug.lshw` tree.
pub(super) fn hardware_11(root: &Value, warnings: &mut Vec<String>) -> HardwareReport {
    let embedded = match root.pointer("/debug/lshw") {
        Some(Value::String(output)) => Some(lshw::parse_lshw_text(output)),
        Some(value @ (Value::Object(_) | Value::Array(_))) => {
            Some(lshw::report_from_values(std::slice::from_ref(value)))
        }
        _ => None,
    };
    let base = match embedded {
        Some(Ok(report)) => report,
        Some(Err(error)) => {
            warnings.push(format!(
                "field debug.lshw could not be read ({error}), so the inventory comes from the \
                 components only"
            ));
            HardwareReport::default()
        }
        None => HardwareReport::default(),
    };
    if has_erasure_action(root) {
        // NOTE: no Workbench 11 snapshot with an erasure was available to
        // learn its fields from, so such erasures are reported, not read.
        warnings.push(
            "the snapshot records disk erasures as component actions, which Filière does not \
             read from Workbench 11 snapshots. Import the erasure tool's own log"
                .to_string(),
        );
    }
    apply_components(root, base, &WORKBENCH_11)
}

/// Builds the inventory of a 2018 snapshot, which embeds no lshw tree.
pub(super) fn hardware_2018(root: &Value) -> HardwareReport {
    apply_components(root, HardwareReport::default(), &LEGACY_2018)
}

fn apply_components(root: &Value, base: HardwareReport, layout: &Layout) -> HardwareReport {
    let mut report = base;
    if let Some(device) = root.get("device") {
        apply_identity(&mut report.system, device, layout);
    }
    let components: &[Value] = root
        .get("components")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let of_type = |names: &'static [&'static str]| {
        components.iter().filter(move |component| {
            text(component, layout.type_key).is_some_and(|kind| names.contains(&kind))
        })
    };

    let cpus: Vec<String> = of_type(&["Processor"])
        .filter_map(|cpu| text(cpu, "model"))
        .map(str::to_string)
        .collect();
    if !cpus.is_empty() {
        report.cpus = cpus;
    }
    let memory: f64 = of_type(&["RamModule"])
        .filter_map(|module| module.get("size")?.as_f64())
        .sum();
    if memory > 0.0 {
        report.memory_bytes = to_bytes(memory, MIB);
    }
    report.storage = of_type(STORAGE_TYPES)
        .map(|disk| storage_device(disk, layout, &report.storage))
        .collect();
    let display = of_type(&["Display"])
        .chain(of_type(&["GraphicCard"]))
        .find_map(|card| text(card, "model"));
    if let Some(display) = display {
        report.display = Some(display.to_string());
    }
    let serials: Vec<String> = of_type(&["NetworkAdapter"])
        .filter_map(|adapter| text(adapter, "serialNumber"))
        .map(str::to_string)
        .collect();
    if !serials.is_empty() {
        report.network_serials = serials;
    }
    report
}

/// Takes vendor, model, serial and chassis from `device`, keeping the lshw
/// values where Workbench wrote null.
fn apply_identity(system: &mut SystemIdentity, device: &Value, layout: &Layout) {
    if let Some(vendor) = text(device, "manufacturer") {
        system.vendor = vendor.to_string();
    }
    if let Some(model) = text(device, "model") {
        system.product = model.to_string();
    }
    if let Some(raw) = raw_text(device, "serialNumber") {
        system.serial = serial_or_none(raw);
        system.raw_serial = raw.to_string();
    }
    if let Some(chassis) = text(device, layout.chassis_key) {
        system.chassis = Some(chassis.to_string());
    }
}

/// Reads a disk component. The lshw disk with the same serial, when there
/// is one, gives the logical name, and the kind of a generic `DataStorage`.
fn storage_device(disk: &Value, layout: &Layout, from_lshw: &[StorageDevice]) -> StorageDevice {
    let serial = text(disk, "serialNumber").and_then(serial_or_none);
    let twin = serial.as_deref().and_then(|serial| {
        let key = match_key(serial);
        from_lshw
            .iter()
            .find(|device| device.serial.as_deref().map(match_key) == Some(key.clone()))
    });
    StorageDevice {
        model: text(disk, "model").unwrap_or_default().to_string(),
        vendor: text(disk, "manufacturer").map(str::to_string),
        serial,
        size_bytes: disk
            .get("size")
            .and_then(Value::as_f64)
            .and_then(|size| to_bytes(size, layout.disk_unit_bytes)),
        kind: component_kind(disk, layout, twin),
        logical_name: twin.and_then(|device| device.logical_name.clone()),
    }
}

/// Workbench's own type wins for hard drives and SSDs, except an NVMe
/// interface. A generic `DataStorage` takes the lshw kind.
fn component_kind(disk: &Value, layout: &Layout, twin: Option<&StorageDevice>) -> StorageKind {
    let interface = text(disk, "interface")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if interface.contains("nvme") {
        return StorageKind::Nvme;
    }
    match text(disk, layout.type_key) {
        Some("HardDrive") => StorageKind::Hdd,
        Some("SolidStateDrive") => StorageKind::Ssd,
        _ if interface.contains("usb") => StorageKind::Flash,
        _ => twin.map_or(StorageKind::Other, |device| device.kind),
    }
}

fn has_erasure_action(root: &Value) -> bool {
    let components = root
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    components
        .filter_map(|component| component.get("actions")?.as_array())
        .flatten()
        .any(|action| text(action, "type").is_some_and(|kind| kind.starts_with("Erase")))
}

fn match_key(serial: &str) -> String {
    SerialNumber::parse(serial)
        .ok()
        .flatten()
        .map_or_else(|| serial.to_string(), |serial| serial.match_key())
}

/// Converts a size in `unit_bytes` units to bytes, rounded; `None` for zero,
/// a negative value or one too large for `u64`.
fn to_bytes(size: f64, unit_bytes: f64) -> Option<u64> {
    let bytes = (size * unit_bytes).round();
    (bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    let text = value.get(key)?.as_str()?.trim();
    (!text.is_empty()).then_some(text)
}
