//! Parser for `lshw -json`: the hardware inventory of one machine.
//!
//! lshw prints a tree of nodes, each with a `class` (system, processor,
//! memory, disk, power, display, network...), optional `product`, `vendor`,
//! `serial`, `size` and `logicalname` fields, a `configuration` map and a
//! `capabilities` map, and its sub-nodes in `children`. The root node is the
//! machine itself. The quirks of real files (several top-level objects,
//! trailing commas, a top-level array, dropped `children` openers) are
//! handled in the `lenient` submodule.

mod lenient;
pub(crate) mod node;
mod storage;

use serde_json::Value;

use crate::{Battery, EvidenceError, HardwareReport, SystemIdentity};
use node::{number, serial_or_none, text};

/// Parses the bytes of an `lshw -json` file.
///
/// Invalid UTF-8 sequences are replaced with U+FFFD, so a mangled vendor
/// string does not reject the whole file. Fails with the line and column of
/// the first token that cannot be read, or with location "file" when the
/// JSON contains no lshw node.
pub fn parse_lshw(bytes: &[u8]) -> Result<HardwareReport, EvidenceError> {
    let text = String::from_utf8_lossy(bytes);
    parse_lshw_text(&text)
}

/// Parses lshw output held in a string, such as Workbench's `data.lshw`.
pub(crate) fn parse_lshw_text(text: &str) -> Result<HardwareReport, EvidenceError> {
    let document = lenient::read_document(text)?;
    let mut report = report_from_values(&document.values)?;
    if document.restored_children {
        report.repairs.push(
            "the lshw output left out every \"children\" : [ opener and its closing ], \
             so the tree was rebuilt from the remaining braces"
                .to_string(),
        );
    }
    Ok(report)
}

/// Builds a report from lshw output already parsed as JSON: one root node,
/// an array of nodes, or several of either.
pub(crate) fn report_from_values(values: &[Value]) -> Result<HardwareReport, EvidenceError> {
    let roots = top_level_nodes(values);
    if roots.is_empty() {
        return Err(EvidenceError::new(
            "file",
            "no lshw node found: the JSON has no object with a \"class\" field. \
             Import the output of `lshw -json`",
        ));
    }
    let mut collector = Collector::default();
    if let Some(system) = roots
        .iter()
        .find(|node| text(node, "class") == Some("system"))
    {
        collector.report.system = system_identity(system);
    }
    for root in &roots {
        collector.collect(root, &Context::default());
    }
    let mut report = collector.report;
    report.memory_bytes = (collector.memory_bytes > 0).then_some(collector.memory_bytes);
    Ok(report)
}

/// Top-level lshw nodes, with top-level arrays flattened.
fn top_level_nodes(values: &[Value]) -> Vec<&Value> {
    let mut nodes = Vec::new();
    for value in values {
        match value {
            Value::Array(items) => nodes.extend(items.iter().filter(|item| is_node(item))),
            other if is_node(other) => nodes.push(other),
            _ => {}
        }
    }
    nodes
}

fn is_node(value: &Value) -> bool {
    value.get("class").is_some_and(Value::is_string)
}

fn system_identity(root: &Value) -> SystemIdentity {
    let raw_serial = node::raw_text(root, "serial")
        .unwrap_or_default()
        .to_string();
    SystemIdentity {
        vendor: text(root, "vendor").unwrap_or_default().to_string(),
        // lshw appends the SKU in brackets, as in "Latitude E6440 (Latitude E6440)".
        product: text(root, "product").unwrap_or_default().to_string(),
        serial: serial_or_none(&raw_serial),
        raw_serial,
        chassis: root
            .get("configuration")
            .and_then(|configuration| text(configuration, "chassis"))
            .map(str::to_string),
    }
}

/// Facts about the ancestors of a node, passed down the walk.
#[derive(Clone, Copy, Default)]
pub(crate) struct Context<'a> {
    pub parent: Option<&'a Value>,
    /// True below a node on a USB bus, such as a USB mass-storage device.
    pub under_usb: bool,
}

/// Walks the tree and gathers the report.
#[derive(Default)]
struct Collector {
    report: HardwareReport,
    memory_bytes: u64,
    /// Slot and serial (CPUID signature) of each processor package kept.
    packages: Vec<(String, String)>,
}

impl Collector {
    fn collect(&mut self, node: &Value, context: &Context<'_>) {
        let report = &mut self.report;
        match text(node, "class").unwrap_or_default() {
            "processor" => self.add_processor(node),
            "memory" => self.add_memory(node),
            "disk" => report.storage.extend(storage::from_disk(node, context)),
            "storage" => report.storage.extend(storage::from_controller(node)),
            "power" => add_battery(node, report),
            "display" if report.display.is_none() => {
                report.display = text(node, "product").map(str::to_string);
            }
            "network" => add_network_serial(node, report),
            _ => {}
        }
        let child_context = Context {
            parent: Some(node),
            under_usb: context.under_usb
                || text(node, "businfo").is_some_and(|bus| bus.starts_with("usb@")),
        };
        for child in node::children(node) {
            self.collect(child, &child_context);
        }
    }

    /// Adds a physical processor. lshw also lists empty sockets
    /// (`disabled`), logical CPUs (no product) and PCI co-processors (bus
    /// `pci@...`), which are skipped. Some machines also get a `cpu:N` node
    /// per core, with no product or with the slot and CPUID signature of
    /// `cpu:0`, and those are skipped too.
    fn add_processor(&mut self, node: &Value) {
        let on_pci = text(node, "businfo").is_some_and(|bus| bus.starts_with("pci@"));
        let disabled = node.get("disabled").and_then(Value::as_bool) == Some(true);
        let Some(product) = text(node, "product").filter(|_| !on_pci && !disabled) else {
            return;
        };
        if let (Some(slot), Some(serial)) = (text(node, "slot"), text(node, "serial")) {
            let package = (slot.to_string(), serial.to_string());
            if self.packages.contains(&package) {
                return;
            }
            self.packages.push(package);
        }
        self.report.cpus.push(product.to_string());
    }

    /// Adds installed memory. lshw gives the total in the `size` of the
    /// "System Memory" node (id `memory` or `memory:N`, sometimes with no
    /// description). When that node has no size, its `bank` children carry
    /// the size of each module. "Flash Memory" nodes contain the firmware.
    fn add_memory(&mut self, node: &Value) {
        let id = text(node, "id").unwrap_or_default();
        let is_memory_id = id == "memory" || id.starts_with("memory:");
        let on_pci = text(node, "businfo").is_some_and(|bus| bus.starts_with("pci@"));
        let described_as_other = text(node, "description")
            .is_some_and(|description| !description.eq_ignore_ascii_case("system memory"));
        if !is_memory_id || on_pci || described_as_other {
            return;
        }
        let size = number(node, "size").unwrap_or_else(|| {
            node::children(node)
                .filter(|bank| text(bank, "id").is_some_and(|id| id.starts_with("bank")))
                .filter_map(|bank| number(bank, "size"))
                .fold(0u64, u64::saturating_add)
        });
        self.memory_bytes = self.memory_bytes.saturating_add(size);
    }
}

fn add_network_serial(node: &Value, report: &mut HardwareReport) {
    if let Some(serial) = text(node, "serial") {
        if !report.network_serials.iter().any(|known| known == serial) {
            report.network_serials.push(serial.to_string());
        }
    }
}

/// Keeps the first battery, or a later one that reports a capacity when
/// the first does not. lshw reads batteries from DMI type 22 (node id
/// `battery`); the other `power` nodes are power supplies (DMI type 39).
fn add_battery(node: &Value, report: &mut HardwareReport) {
    let id = text(node, "id").unwrap_or_default();
    let description = text(node, "description").unwrap_or_default();
    if !(id.starts_with("battery") || description.to_lowercase().contains("battery")) {
        return;
    }
    let battery = battery(node);
    let replace = match &report.battery {
        None => true,
        Some(known) => known.design_capacity_mwh.is_none() && battery.design_capacity_mwh.is_some(),
    };
    if replace {
        report.battery = Some(battery);
    }
}

/// Reads a battery node. lshw reads batteries from the DMI table only
/// (`src/core/dmi.cc`) and writes the design capacity in `capacity` (unit
/// `mWh`), with no current full-charge capacity, so the wear of a battery in
/// plain lshw output is unknown.
///
/// NOTE: the configuration keys `design_capacity` and `full_capacity` (or
/// `last_full_capacity`) are read for outputs that other tools enriched;
/// lshw itself is not known to write them.
fn battery(node: &Value) -> Battery {
    let configuration = node.get("configuration");
    let config_energy = |key: &str| {
        configuration
            .and_then(|map| map.get(key))
            .and_then(node::energy_mwh)
    };
    let unit_is_mwh = text(node, "units").is_none_or(|unit| unit.eq_ignore_ascii_case("mwh"));
    let design = config_energy("design_capacity")
        .or_else(|| number(node, "capacity").filter(|_| unit_is_mwh))
        .filter(|value| *value > 0);
    let full = config_energy("full_capacity").or_else(|| config_energy("last_full_capacity"));
    Battery {
        design_capacity_mwh: design,
        full_capacity_mwh: full,
        wear_percent: wear_percent(design, full),
    }
}

/// Capacity lost, in percent of the design capacity, rounded to the nearest
/// unit. It is 0 when the battery keeps its design capacity or more.
fn wear_percent(design: Option<u64>, full: Option<u64>) -> Option<u8> {
    let (design, full) = (design?, full?);
    if design == 0 {
        return None;
    }
    let lost = design.saturating_sub(full);
    let percent = (u128::from(lost) * 100 + u128::from(design) / 2) / u128::from(design);
    u8::try_from(percent.min(100)).ok()
}
