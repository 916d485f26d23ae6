//! Tests of the lshw parser on real `lshw -json` files and on synthetic
//! inputs for each quirk of real lshw output.

use std::path::PathBuf;

use filiere_domain::types::StorageKind;
use filiere_evidence::lshw::parse_lshw;
use filiere_evidence::HardwareReport;

/// Expected result per fixture: system serial as reported, whether that
/// serial is an identity (false for a placeholder), and number of storage
/// units.
#[rustfmt::skip]
const EXPECTED: &[(&str, &str, bool, usize)] = &[
    ("acer-aspire-5737z.lshw.json", "LXAZ70X0669112B8DB1601", true, 3),
    ("asus-all-series-placeholder-serial.lshw.json", "System Serial Number", false, 1),
    ("asus-e200ha.lshw.json", "G6NLCX01Z49224G", true, 2),
    ("asus-eeepc-1000h.lshw.json", "8BOAAQ191999", true, 2),
    ("asus-eeepc-1001pxd.lshw.json", "B8OAAS048286", true, 2),
    ("dell-latitude-e5530.lshw.json", "D8FTRY1", true, 2),
    ("dell-latitude-e6440.lshw.json", "FJBQVZ1", true, 1),
    ("dell-optiplex-745.lshw.json", "HQ5583J", true, 1),
    ("dell-optiplex-gx520.lshw.json", "6G0772J", true, 1),
    ("dell-vostro-260.lshw.json", "1Q63F5J", true, 1),
    ("generic-core2-to-be-filled-by-oem.lshw.json", "System Serial Number", false, 1),
    ("generic-desktop-no-serial.reserialised.lshw.json", "System Serial Number", false, 2),
    ("hp-compaq-8100-elite-sff.lshw.json", "CZC0408YPV", true, 1),
    ("hp-compaq-dc7900-sff.lshw.json", "CZC901381R", true, 4),
    ("hp-pavilion-dv4000.lshw.json", "2CE5270ZWC", true, 2),
    ("hp-probook-430-g4.lshw.json", "5CD7314HDY", true, 1),
    ("intel-nuc6cayh.lshw.json", "G6AY80800F4D", true, 3),
    ("lenovo-415522g.lshw.json", "S4T6208", true, 2),
    ("lenovo-7220w3t.lshw.json", "S4R6062", true, 1),
    ("lenovo-thinkcentre-edge-3493bag.lshw.json", "PB357N0", true, 2),
    ("lenovo-thinkpad-x1-carbon-5th.lshw.json", "PF0QMY5N", true, 1),
    ("nec-powermate-mlxxx.lshw.json", "SN 123456789ABC", false, 1),
    ("qemu-vm-INVALID-missing-children.lshw.json", "", false, 1),
    ("toshiba-portege-r700.lshw.json", "YA059622H", true, 1),
    ("virtualbox-no-hdd-usb-stick.lshw.json", "0", false, 1),
];

/// Fixtures that parse only after the dropped-children repair.
const REPAIRED: &[&str] = &["qemu-vm-INVALID-missing-children.lshw.json"];

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lshw")
}

fn parse_fixture(file: &str) -> HardwareReport {
    let bytes = std::fs::read(fixture_dir().join(file)).expect("fixture is readable");
    parse_lshw(&bytes).unwrap_or_else(|error| panic!("{file}: {error}"))
}

fn parse_text(text: &str) -> HardwareReport {
    parse_lshw(text.as_bytes()).unwrap_or_else(|error| panic!("{error}\n{text}"))
}

#[test]
fn every_fixture_has_expected_outcome() {
    let mut files: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("fixture folder exists")
        .map(|entry| {
            entry
                .expect("folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    let listed: Vec<&str> = EXPECTED.iter().map(|(file, ..)| *file).collect();
    assert_eq!(
        files, listed,
        "every fixture needs a row in EXPECTED, in name order"
    );

    for &(file, raw_serial, is_identity, storage_units) in EXPECTED {
        let report = parse_fixture(file);
        let serial = is_identity.then_some(raw_serial);
        assert_eq!(report.system.raw_serial, raw_serial, "{file}: raw serial");
        assert_eq!(report.system.serial.as_deref(), serial, "{file}: serial");
        assert_eq!(report.storage.len(), storage_units, "{file}: storage units");
        let repaired = REPAIRED.contains(&file);
        assert_eq!(!report.repairs.is_empty(), repaired, "{file}: repairs");
        assert!(!report.system.vendor.is_empty(), "{file}: vendor");
        assert_eq!(report.cpus.len(), 1, "{file}: processors");
        assert!(report.memory_bytes.is_some(), "{file}: memory");
        for disk in &report.storage {
            let model = &disk.model;
            assert!(disk.logical_name.is_some(), "{file}: {model} logical name");
        }
    }
}

#[test]
fn dell_e6440_identity_and_disk() {
    let report = parse_fixture("dell-latitude-e6440.lshw.json");
    assert_eq!(report.system.vendor, "Dell Inc.");
    assert_eq!(report.system.product, "Latitude E6440 (Latitude E6440)");
    assert_eq!(report.system.serial.as_deref(), Some("FJBQVZ1"));
    assert_eq!(report.system.chassis.as_deref(), Some("laptop"));
    assert_eq!(report.cpus, ["Intel(R) Core(TM) i7-4600M CPU @ 2.90GHz"]);
    assert_eq!(report.memory_bytes, Some(8 << 30));
    let disk = &report.storage[0];
    assert_eq!(disk.model, "Crucial_CT525MX3");
    assert_eq!(disk.serial.as_deref(), Some("164014297BCC"));
    assert_eq!(disk.size_bytes, Some(525_112_713_216));
    assert_eq!(disk.logical_name.as_deref(), Some("/dev/sda"));
    assert_eq!(
        report.network_serials,
        [
            "00:00:5e:00:53:0e",
            "00:00:5e:00:53:0f",
            "00:00:5e:00:53:10"
        ]
    );
}

#[test]
fn power_supply_is_not_battery() {
    let report = parse_fixture("dell-latitude-e6440.lshw.json");
    assert_eq!(report.battery, None);
}

#[test]
fn placeholder_serial_kept_raw() {
    let report = parse_fixture("asus-all-series-placeholder-serial.lshw.json");
    assert_eq!(report.system.serial, None);
    assert_eq!(report.system.raw_serial, "System Serial Number");
    assert_eq!(report.memory_bytes, Some(4 << 30), "sum of the banks");
}

#[test]
fn virtualbox_usb_stick_is_flash() {
    let report = parse_fixture("virtualbox-no-hdd-usb-stick.lshw.json");
    let stick = &report.storage[0];
    assert_eq!(stick.kind, StorageKind::Flash);
    assert_eq!(stick.model, "TransMemory", "model of the USB device node");
    assert_eq!(stick.vendor.as_deref(), Some("TOSHIBA"));
    assert_eq!(stick.serial.as_deref(), Some("7427EAB351F9C02108B22CDD"));
    assert_eq!(stick.size_bytes, None);
    assert_eq!(report.system.raw_serial, "0");
}

#[test]
fn x1_carbon_has_nvme_disk() {
    let report = parse_fixture("lenovo-thinkpad-x1-carbon-5th.lshw.json");
    let disk = &report.storage[0];
    assert_eq!(disk.kind, StorageKind::Nvme);
    assert_eq!(disk.model, "SAMSUNG MZVLW1T0HMLH-000L7");
    assert_eq!(disk.serial.as_deref(), Some("S35ANX0J"));
    assert_eq!(disk.size_bytes, Some(1_024_209_543_168));
    assert_eq!(disk.logical_name.as_deref(), Some("/dev/nvme0n1"));
}

#[test]
fn lshw_battery_has_design_capacity() {
    let report = parse_fixture("lenovo-thinkpad-x1-carbon-5th.lshw.json");
    let battery = report.battery.expect("the X1 Carbon has a battery");
    assert_eq!(battery.design_capacity_mwh, Some(57_000));
    assert_eq!(battery.full_capacity_mwh, None, "lshw does not report it");
    assert_eq!(battery.wear_percent, None);
}

#[test]
fn battery_wear_computed() {
    let text = r#"{"id": "laptop", "class": "system", "vendor": "LENOVO", "children": [
        {"id": "battery", "class": "power", "product": "01AV429", "units": "mWh",
         "capacity": 57000, "configuration": {"voltage": "11,6V", "full_capacity": "45.6 Wh"}}]}"#;
    let battery = parse_text(text).battery.expect("battery");
    assert_eq!(battery.design_capacity_mwh, Some(57_000));
    assert_eq!(battery.full_capacity_mwh, Some(45_600));
    assert_eq!(battery.wear_percent, Some(20));
}

#[test]
fn usb_sticks_and_card_readers() {
    let acer = parse_fixture("acer-aspire-5737z.lshw.json");
    let kinds: Vec<StorageKind> = acer.storage.iter().map(|disk| disk.kind).collect();
    assert_eq!(
        kinds,
        [StorageKind::Flash, StorageKind::Flash, StorageKind::Other]
    );
    let lenovo = parse_fixture("lenovo-415522g.lshw.json");
    let models: Vec<&str> = lenovo
        .storage
        .iter()
        .map(|disk| disk.model.as_str())
        .collect();
    assert_eq!(
        models,
        ["WDC WDS120G1G0A-", "ST160LM000 HM161"],
        "empty card-reader slots skipped"
    );
}

#[test]
fn ssd_named_in_product() {
    let report = parse_fixture("asus-eeepc-1000h.lshw.json");
    let disk = report
        .storage
        .iter()
        .find(|disk| disk.model == "TS32GSSD370S")
        .expect("SSD");
    assert_eq!(disk.kind, StorageKind::Ssd);
}

#[test]
fn duplicate_cpu_entries_merged() {
    let report = parse_fixture("toshiba-portege-r700.lshw.json");
    assert_eq!(
        report.cpus,
        ["Intel(R) Core(TM) i5 CPU       M 560  @ 2.67GHz"]
    );
}

#[test]
fn flash_memory_not_counted() {
    let report = parse_fixture("hp-compaq-8100-elite-sff.lshw.json");
    assert_eq!(report.memory_bytes, Some(8 << 30));
}

#[test]
fn missing_children_output_repaired() {
    let report = parse_fixture("qemu-vm-INVALID-missing-children.lshw.json");
    assert_eq!(report.repairs.len(), 1);
    assert!(
        report.repairs[0].contains("\"children\""),
        "{:?}",
        report.repairs
    );
    assert_eq!(report.system.vendor, "QEMU");
    assert_eq!(report.cpus, ["Intel(R) Core(TM) i7-7500U CPU @ 2.70GHz"]);
    assert_eq!(report.memory_bytes, Some(4 << 30));
    assert_eq!(report.storage[0].model, "QEMU HARDDISK");
    assert_eq!(report.storage[0].size_bytes, Some(42_949_673_472));
    assert_eq!(report.network_serials, ["00:00:5e:00:53:27"]);
}

const SYSTEM: &str = r#"{"id": "pc", "class": "system", "vendor": "Acme", "serial": "ACME0001"}"#;
const DISK: &str = r#"{"id": "disk", "class": "disk", "product": "ST3160815AS", "serial": "6RX7AWEZ",
    "size": 160041885696, "logicalname": "/dev/sda", "capabilities": {"7200rpm": "7200 rotations per minute"}}"#;

#[test]
fn concatenated_objects_are_read() {
    for separator in ["", "\n", "\n\n", ",", " ,\n"] {
        let report = parse_text(&format!("{SYSTEM}{separator}{DISK}"));
        assert_eq!(report.system.vendor, "Acme", "separator {separator:?}");
        assert_eq!(report.storage.len(), 1, "separator {separator:?}");
        assert_eq!(
            report.storage[0].kind,
            StorageKind::Hdd,
            "separator {separator:?}"
        );
    }
}

#[test]
fn disk_nodes_without_system() {
    let report = parse_text(&format!("{DISK}\n{DISK}"));
    assert_eq!(report.system.vendor, "");
    assert_eq!(report.storage.len(), 2);
}

#[test]
fn trailing_commas_are_accepted() {
    let text = r#"{"id": "pc", "class": "system", "vendor": "Acme",
        "children": [
            {"id": "disk", "class": "disk", "product": "X SSD", "size": 1000, "logicalname": "/dev/sda",},
        ],
    }"#;
    let report = parse_text(text);
    assert_eq!(report.system.vendor, "Acme");
    assert_eq!(report.storage.len(), 1);
    assert_eq!(report.storage[0].kind, StorageKind::Ssd);
    assert!(report.repairs.is_empty());
}

#[test]
fn top_level_array_is_read() {
    let report = parse_text(&format!("[\n{SYSTEM},\n{DISK}\n]\n"));
    assert_eq!(report.system.serial.as_deref(), Some("ACME0001"));
    assert_eq!(report.storage.len(), 1);
}

#[test]
fn blank_lines_and_bom_accepted() {
    let report = parse_text(&format!("\u{feff}\n\n{SYSTEM}\n\n\n"));
    assert_eq!(report.system.vendor, "Acme");
}

#[test]
fn truncated_file_names_position() {
    let error = parse_lshw(b"{\n  \"class\" : \"system\",\n  \"vendor\" : ").unwrap_err();
    assert_eq!(error.location, "line 3, column 14");
    assert!(error.reason.starts_with("invalid JSON"), "{error}");
    assert!(error.reason.contains("Re-run `lshw -json`"), "{error}");
}

#[test]
fn unrepairable_broken_output_explained() {
    let bytes =
        std::fs::read(fixture_dir().join("qemu-vm-INVALID-missing-children.lshw.json")).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let cut = text.find("\"SeaBIOS\"").expect("firmware vendor") + 4;
    let error = parse_lshw(&text.as_bytes()[..cut]).unwrap_err();
    assert_eq!(error.location, "line 29, column 22");
    assert!(error.reason.contains("a string is not closed"), "{error}");
    assert!(
        error.reason.contains("drops every \"children\" : [ opener"),
        "{error}"
    );
    assert!(error.reason.contains("-sanitize"), "{error}");
}

#[test]
fn unexpected_character_rejected() {
    let error = parse_lshw(b"{\"class\": \"system\", 'vendor': 1}").unwrap_err();
    assert_eq!(error.location, "line 1, column 21");
    assert!(
        error.reason.contains("unexpected character '\\''"),
        "{error}"
    );
}

#[test]
fn json_without_lshw_node_rejected() {
    let error = parse_lshw(br#"{"smartctl": {"version": [7, 2]}}"#).unwrap_err();
    assert_eq!(error.location, "file");
    assert!(error.reason.contains("no lshw node"), "{error}");
}

#[test]
fn empty_file_rejected() {
    let error = parse_lshw(b" \n ").unwrap_err();
    assert_eq!(error.location, "file");
    assert_eq!(error.reason, "the file is empty");
}

#[test]
fn deep_nesting_rejected() {
    for opener in ["[", "{\"a\":"] {
        let error = parse_lshw(opener.repeat(100_000).as_bytes()).unwrap_err();
        assert!(error.reason.contains("deeper than 128"), "{error}");
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut inputs: Vec<Vec<u8>> = (0..=255u8).map(|byte| vec![byte]).collect();
    let mut state: u32 = 12345;
    for length in 1..200 {
        let bytes = (0..length)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                b"{}[],:\" \\nx0-1e.tfl"[(state >> 16) as usize % 19]
            })
            .collect();
        inputs.push(bytes);
    }
    for file in [
        "qemu-vm-INVALID-missing-children.lshw.json",
        "dell-latitude-e6440.lshw.json",
    ] {
        let bytes = std::fs::read(fixture_dir().join(file)).unwrap();
        inputs.extend(
            (0..bytes.len())
                .step_by(193)
                .map(|end| bytes[..end].to_vec()),
        );
    }
    for input in &inputs {
        let _ = parse_lshw(input);
    }
}
