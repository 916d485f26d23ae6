//! Storage units in an lshw tree.
//!
//! lshw writes a `disk` node per drive. A few shapes need care:
//! - a removable drive has a `medium` child with the same logical name,
//!   which is not a second drive;
//! - an NVMe drive is a `storage` node (model, serial) with a `namespace`
//!   disk child (size, `/dev/nvme0n1`); older lshw releases print the
//!   `storage` node alone;
//! - a USB stick is a `storage` node on a `usb@` bus (model, serial) with a
//!   disk child that may have neither;
//! - an empty card-reader slot and an optical drive are `disk` nodes too,
//!   without a size.

use filiere_domain::types::StorageKind;
use serde_json::Value;

use super::node::{
    capabilities, children, has_capability, logical_names, number, serial_or_none, text,
};
use super::Context;
use crate::StorageDevice;

/// Prefixes of the block devices that are drives (not optical drives).
const BLOCK_DEVICE_PREFIXES: &[&str] = &[
    "/dev/sd",
    "/dev/nvme",
    "/dev/mmcblk",
    "/dev/hd",
    "/dev/vd",
    "/dev/xvd",
];

/// Reads a `disk` node; `None` for a medium, an optical drive or an empty
/// card-reader slot.
pub(super) fn from_disk(node: &Value, context: &Context<'_>) -> Option<StorageDevice> {
    let parent = context.parent;
    if parent.is_some_and(|parent| text(parent, "class") == Some("disk")) || is_optical(node) {
        return None;
    }
    let names = logical_names(node);
    let is_block_device = names.iter().any(|name| {
        BLOCK_DEVICE_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix))
    });
    let size = number(node, "size")
        .or_else(|| medium_size(node))
        .filter(|size| *size > 0);
    let removable = has_capability(node, "removable");
    if size.is_none() && (removable || !is_block_device) {
        return None;
    }
    // The USB or NVMe device node carries the model and serial of its disk.
    let device = parent.filter(|parent| is_usb_device(parent) || is_nvme_controller(parent));
    let field = |key: &str| text(node, key).or_else(|| device.and_then(|device| text(device, key)));
    Some(StorageDevice {
        model: field("product").unwrap_or_default().to_string(),
        vendor: field("vendor").map(str::to_string),
        serial: field("serial").and_then(serial_or_none),
        size_bytes: size,
        kind: disk_kind(node, device, context.under_usb, &names),
        logical_name: device_name(&names),
    })
}

/// Reads an NVMe controller that lshw printed without its namespace disk.
pub(super) fn from_controller(node: &Value) -> Option<StorageDevice> {
    let has_disk = children(node).any(|child| text(child, "class") == Some("disk"));
    if has_disk || !is_nvme_controller(node) {
        return None;
    }
    Some(StorageDevice {
        model: text(node, "product").unwrap_or_default().to_string(),
        vendor: text(node, "vendor").map(str::to_string),
        serial: text(node, "serial").and_then(serial_or_none),
        size_bytes: number(node, "size").filter(|size| *size > 0),
        kind: StorageKind::Nvme,
        logical_name: device_name(&logical_names(node)),
    })
}

fn device_name(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find(|name| name.starts_with("/dev/"))
        .map(|name| name.to_string())
}

/// Size of the `medium` child, for drives whose own node has none.
fn medium_size(node: &Value) -> Option<u64> {
    children(node)
        .filter(|child| text(child, "class") == Some("disk"))
        .find_map(|child| number(child, "size"))
}

fn is_optical(node: &Value) -> bool {
    let optical_name = logical_names(node)
        .iter()
        .any(|name| name.starts_with("/dev/sr") || name.starts_with("/dev/cdrom"));
    let optical_capability = ["cd-r", "cd-rw", "dvd", "dvd-r", "dvd-ram", "bd"]
        .iter()
        .any(|capability| has_capability(node, capability));
    let optical_id = text(node, "id").is_some_and(|id| id.starts_with("cdrom"));
    optical_name || optical_capability || optical_id
}

fn is_usb_device(node: &Value) -> bool {
    text(node, "businfo").is_some_and(|bus| bus.starts_with("usb@"))
}

fn is_nvme_controller(node: &Value) -> bool {
    let nvme_name = logical_names(node)
        .iter()
        .any(|name| name.starts_with("/dev/nvme"));
    let nvme_capability = has_capability(node, "nvme") || has_capability(node, "nvm_express");
    let nvme_description = text(node, "description").is_some_and(|text| text.contains("NVMe"));
    text(node, "class") == Some("storage") && (nvme_name || nvme_capability || nvme_description)
}

/// Classifies a drive, from the most specific evidence to the least: the
/// bus (NVMe, MMC), a rotation report, "SSD" in the name, a USB bus.
/// Most SATA drives in the lshw files of 2018 and 2019 carry none of these,
/// so they are `Other`: those lshw releases did not report rotation.
fn disk_kind(node: &Value, device: Option<&Value>, under_usb: bool, names: &[&str]) -> StorageKind {
    let bus = text(node, "businfo").unwrap_or_default();
    let words = [
        text(node, "product"),
        text(node, "description"),
        device.and_then(|d| text(d, "product")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
    .to_lowercase();
    let nvme_device = device.is_some_and(is_nvme_controller);
    if nvme_device
        || bus.starts_with("nvme@")
        || words.contains("nvme")
        || names.iter().any(|n| n.starts_with("/dev/nvme"))
    {
        StorageKind::Nvme
    } else if bus.starts_with("mmc@") || names.iter().any(|name| name.starts_with("/dev/mmcblk")) {
        StorageKind::Emmc
    } else if is_rotational(node) {
        StorageKind::Hdd
    } else if words.contains("ssd")
        || words.contains("solid state")
        || words.contains("solid-state")
    {
        StorageKind::Ssd
    } else if under_usb {
        StorageKind::Flash
    } else {
        StorageKind::Other
    }
}

/// Checks whether lshw reports the drive as spinning: a `rotational` capability, a
/// `rotation` setting other than 0, or a speed capability such as `7200rpm`.
fn is_rotational(node: &Value) -> bool {
    let rotation = node
        .get("configuration")
        .and_then(|configuration| text(configuration, "rotation"))
        .is_some_and(|rotation| {
            rotation
                .trim_start_matches('0')
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        });
    let speed = capabilities(node).any(|capability| {
        capability
            .strip_suffix("rpm")
            .is_some_and(|digits| !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
    });
    has_capability(node, "rotational") || rotation || speed
}
