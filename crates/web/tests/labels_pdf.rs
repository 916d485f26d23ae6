//! Label PDFs rendered and scanned as a workshop would print them.
//!
//! These tests need `pdftoppm` (Debian package poppler-utils) and `zbarimg`
//! (zbar-tools) on PATH. A missing tool fails the test with the command that
//! installs it: the scan checks are the point of this file, so nothing skips.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use filiere_domain::DeviceCode;
use filiere_web::labels::{
    calibration_pdf, labels_pdf, labels_zpl, qr_payload, LabelData, MmRect, PrintOptions, Template,
    TemplateCatalog,
};
use lopdf::Document;

/// Resolution of every rendering, in dots per inch.
const DPI: f32 = 300.0;

const POINTS_PER_MM: f32 = 72.0 / 25.4;

/// A directory under the system temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("filiere-labels-{}-{name}", std::process::id()));
        fs::create_dir_all(&dir).expect("create scratch directory");
        Self(dir)
    }

    fn write(&self, file: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(file);
        fs::write(&path, bytes).expect("write scratch file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs `tool`, failing the test with install instructions when it is not
/// on PATH.
fn run(tool: &str, package: &str, args: &[String]) -> Output {
    match Command::new(tool).args(args).output() {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
            "{tool} not found on PATH: install it with `apt-get install -y {package}`; \
             the label tests need it to render and scan PDFs"
        ),
        Err(error) => panic!("failed to run {tool}: {error}"),
    }
}

fn pixels(mm: f32) -> i64 {
    (mm / 25.4 * DPI).round() as i64
}

/// Renders the part `rect` of page `page` (1-based) of `pdf` to a PNG file.
fn render_png(pdf: &Path, page: usize, rect: MmRect, out_prefix: &Path) -> PathBuf {
    let mut args: Vec<String> = ["-r", "300", "-png", "-singlefile"]
        .map(String::from)
        .to_vec();
    args.extend(["-f".into(), page.to_string(), "-l".into(), page.to_string()]);
    let geometry = [
        ("-x", rect.x),
        ("-y", rect.y),
        ("-W", rect.width),
        ("-H", rect.height),
    ];
    for (flag, mm) in geometry {
        args.extend([flag.to_string(), pixels(mm).to_string()]);
    }
    args.extend([pdf.display().to_string(), out_prefix.display().to_string()]);
    let output = run("pdftoppm", "poppler-utils", &args);
    assert!(
        output.status.success(),
        "pdftoppm failed on page {page} of {}: {}",
        pdf.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    out_prefix.with_extension("png")
}

/// Decodes the barcodes of `png`: `None` when zbarimg finds none.
fn scan(png: &Path) -> Option<String> {
    let output = run(
        "zbarimg",
        "zbar-tools",
        &["--raw".into(), "-q".into(), png.display().to_string()],
    );
    match output.status.code() {
        Some(0) => Some(
            String::from_utf8_lossy(&output.stdout)
                .trim_end()
                .to_string(),
        ),
        // zbarimg exits with 4 when the image contains no barcode.
        Some(4) => None,
        _ => panic!(
            "zbarimg failed on {}: {}",
            png.display(),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// Renders and scans the label cell `cell` (0-based) of page `page`.
fn scan_cell(
    scratch: &Scratch,
    pdf: &Path,
    template: &Template,
    page: usize,
    cell: usize,
) -> Option<String> {
    let prefix = scratch.0.join(format!("page{page}-cell{cell}"));
    let png = render_png(pdf, page, template.cell(cell), &prefix);
    scan(&png)
}

/// `count` labels with distinct, valid codes.
fn sample_labels(count: usize) -> Vec<LabelData> {
    (0..count as u32)
        .map(|i| {
            let code = DeviceCode::from_random([i % 27, (i / 27) % 27, 3, 5, 8, 13]);
            LabelData {
                url: format!("https://filiere.example.org/d/{code}"),
                code: code.to_string(),
                category: "Ordinateur portable".to_string(),
                model: "Lenovo ThinkPad T480s Intel Core i5-8350U".to_string(),
                workshop: "Atelier Émile Zola — Montreuil".to_string(),
            }
        })
        .collect()
}

fn catalog() -> TemplateCatalog {
    TemplateCatalog::builtin().expect("built-in templates parse")
}

/// Pages of `pdf` in order, each with its object id.
fn pages(pdf: &Document) -> Vec<lopdf::ObjectId> {
    pdf.get_pages().into_values().collect()
}

#[test]
fn every_template_scans() {
    for template in catalog().templates() {
        let per_page = template.labels_per_page();
        // Sheets: one full sheet and two labels on a second one.
        let count = if per_page > 1 { per_page + 2 } else { 3 };
        let labels = sample_labels(count);
        let bytes = labels_pdf(template, &labels, &PrintOptions::default()).unwrap();
        let scratch = Scratch::new(&template.name);
        let pdf = scratch.write("labels.pdf", &bytes);

        let page_count = pages(&Document::load_mem(&bytes).unwrap()).len();
        assert_eq!(
            page_count,
            count.div_ceil(per_page),
            "page count of {}",
            template.name
        );
        for (index, label) in labels.iter().enumerate() {
            let (page, cell) = (index / per_page + 1, index % per_page);
            let decoded = scan_cell(&scratch, &pdf, template, page, cell);
            assert_eq!(
                decoded.as_deref(),
                Some(qr_payload(&label.url).as_str()),
                "template {}, page {page}, cell {}",
                template.name,
                cell + 1
            );
        }
    }
}

#[test]
fn start_position_skips_cells() {
    let catalog = catalog();
    let template = catalog.get("avery-l7160").unwrap();
    let labels = sample_labels(3);
    let options = PrintOptions {
        start_position: 5,
        ..PrintOptions::default()
    };
    let bytes = labels_pdf(template, &labels, &options).unwrap();
    let scratch = Scratch::new("start");
    let pdf = scratch.write("labels.pdf", &bytes);

    for cell in 0..4 {
        assert_eq!(
            scan_cell(&scratch, &pdf, template, 1, cell),
            None,
            "cell {} must stay empty",
            cell + 1
        );
    }
    for (offset, label) in labels.iter().enumerate() {
        let decoded = scan_cell(&scratch, &pdf, template, 1, 4 + offset);
        assert_eq!(
            decoded.as_deref(),
            Some(qr_payload(&label.url).as_str()),
            "cell {}",
            5 + offset
        );
    }
    assert_eq!(
        scan_cell(&scratch, &pdf, template, 1, 7),
        None,
        "cell 8 must stay empty"
    );
}

#[test]
fn start_position_fills_second_sheet() {
    let catalog = catalog();
    let template = catalog.get("avery-l7163").unwrap();
    let options = PrintOptions {
        start_position: 14,
        ..PrintOptions::default()
    };
    let bytes = labels_pdf(template, &sample_labels(2), &options).unwrap();
    assert_eq!(pages(&Document::load_mem(&bytes).unwrap()).len(), 2);
}

#[test]
fn media_box_matches_template() {
    for template in catalog().templates() {
        let bytes = labels_pdf(template, &sample_labels(2), &PrintOptions::default()).unwrap();
        let pdf = Document::load_mem(&bytes).unwrap();
        let (width, height) = template.page_size();
        for page in pages(&pdf) {
            let media_box = pdf.get_dictionary(page).unwrap().get(b"MediaBox").unwrap();
            let values: Vec<f32> = media_box
                .as_array()
                .unwrap()
                .iter()
                .map(|value| value.as_float().unwrap())
                .collect();
            let expected = [0.0, 0.0, width * POINTS_PER_MM, height * POINTS_PER_MM];
            for (value, expected) in values.iter().zip(expected) {
                assert!(
                    (value - expected).abs() < 0.01,
                    "{}: MediaBox {values:?}, expected {expected}",
                    template.name
                );
            }
            assert_eq!(values.len(), 4, "{}", template.name);
        }
    }
}

#[test]
fn print_scaling_disabled() {
    let catalog = catalog();
    let template = catalog.get("avery-l7651").unwrap();
    let outputs = [
        labels_pdf(template, &sample_labels(1), &PrintOptions::default()).unwrap(),
        calibration_pdf(template, &PrintOptions::default()).unwrap(),
    ];
    for bytes in outputs {
        let pdf = Document::load_mem(&bytes).unwrap();
        let preferences = pdf.catalog().unwrap().get(b"ViewerPreferences").unwrap();
        let scaling = preferences.as_dict().unwrap().get(b"PrintScaling").unwrap();
        assert_eq!(scaling.as_name().unwrap(), b"None");
    }
}

/// A greyscale image as rendered by `pdftoppm -gray` (binary PGM).
struct GreyImage {
    width: usize,
    pixels: Vec<u8>,
}

impl GreyImage {
    fn render(scratch: &Scratch, pdf: &Path) -> Self {
        let prefix = scratch.0.join("page");
        let args = ["-r", "300", "-gray", "-singlefile", "-f", "1", "-l", "1"]
            .map(String::from)
            .to_vec();
        let args = [
            args,
            vec![pdf.display().to_string(), prefix.display().to_string()],
        ]
        .concat();
        let output = run("pdftoppm", "poppler-utils", &args);
        assert!(
            output.status.success(),
            "pdftoppm failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Self::parse(&fs::read(prefix.with_extension("pgm")).unwrap())
    }

    /// Parses a binary PGM: "P5", width, height and maximum value separated
    /// by white space, one white space character, then one byte per pixel.
    fn parse(bytes: &[u8]) -> Self {
        let mut fields = Vec::new();
        let mut position = 0;
        while fields.len() < 4 {
            while bytes[position].is_ascii_whitespace() {
                position += 1;
            }
            let start = position;
            while !bytes[position].is_ascii_whitespace() {
                position += 1;
            }
            fields.push(String::from_utf8_lossy(&bytes[start..position]).to_string());
        }
        assert_eq!(fields[0], "P5", "pdftoppm -gray must write binary PGM");
        let width: usize = fields[1].parse().unwrap();
        let height: usize = fields[2].parse().unwrap();
        let pixels = bytes[position + 1..].to_vec();
        assert_eq!(pixels.len(), width * height);
        Self { width, pixels }
    }

    fn height(&self) -> usize {
        self.pixels.len() / self.width
    }

    /// Returns the maximum length of a run of dark pixels along the line of
    /// `count` pixels that starts at `start` and advances by `step` pixels.
    fn longest_dark_run(&self, start: usize, step: usize, count: usize) -> usize {
        let (mut longest, mut current) = (0, 0);
        for index in 0..count {
            let dark = self.pixels[start + index * step] < 192;
            current = if dark { current + 1 } else { 0 };
            longest = longest.max(current);
        }
        longest
    }

    /// Width of the dark shape across rows `rows`: the shortest of their
    /// longest dark runs, because a label outline that crosses the shape
    /// lengthens the run of the row it lies on.
    fn shape_width(&self, rows: std::ops::Range<usize>) -> usize {
        rows.map(|y| self.longest_dark_run(y * self.width, 1, self.width))
            .min()
            .unwrap()
    }

    /// Height of the dark shape across columns `columns`, measured like
    /// [`GreyImage::shape_width`].
    fn shape_height(&self, columns: std::ops::Range<usize>) -> usize {
        columns
            .map(|x| self.longest_dark_run(x, self.width, self.height()))
            .min()
            .unwrap()
    }
}

fn assert_length(measured: usize, expected_mm: f32, shape: &str) {
    let expected = expected_mm / 25.4 * DPI;
    let error = (measured as f32 - expected).abs() / expected;
    assert!(
        error <= 0.01,
        "{shape}: {measured} px at 300 dpi, expected {expected:.0} px ± 1 %"
    );
}

#[test]
fn calibration_square_is_100_mm() {
    for name in ["avery-l7160", "avery-5160"] {
        let catalog = catalog();
        let template = catalog.get(name).unwrap();
        let scratch = Scratch::new(&format!("calibration-{name}"));
        let bytes = calibration_pdf(template, &PrintOptions::default()).unwrap();
        let pdf = scratch.write("calibration.pdf", &bytes);
        let image = GreyImage::render(&scratch, &pdf);

        // The square is centred on the page: measure across its middle half.
        let (width, height) = template.page_size();
        let (centre_x, centre_y) = (pixels(width / 2.0) as usize, pixels(height / 2.0) as usize);
        let quarter = pixels(25.0) as usize;
        let rows = centre_y - quarter..centre_y + quarter;
        let columns = centre_x - quarter..centre_x + quarter;
        assert_length(
            image.shape_width(rows),
            100.0,
            &format!("{name} square width"),
        );
        assert_length(
            image.shape_height(columns),
            100.0,
            &format!("{name} square height"),
        );
    }
}

#[test]
fn calibration_bar_on_roll() {
    let catalog = catalog();
    let template = catalog.get("brother-dk-11209").unwrap();
    let scratch = Scratch::new("calibration-roll");
    let bytes = calibration_pdf(template, &PrintOptions::default()).unwrap();
    let pdf = scratch.write("calibration.pdf", &bytes);
    let image = GreyImage::render(&scratch, &pdf);

    // The bar starts 20 % down the printable area and is 4 mm high.
    let area = template.content_area(0);
    let top = pixels(area.y + area.height * 0.2) as usize;
    let rows = top + 5..top + pixels(4.0) as usize - 5;
    assert_length(image.shape_width(rows), 50.0, "brother-dk-11209 bar");
}

#[test]
fn zpl_structure() {
    let catalog = catalog();
    let template = catalog.get("zebra-2x1").unwrap();
    let labels = sample_labels(3);
    let zpl = labels_zpl(template, &labels).unwrap();

    assert!(zpl.starts_with("^XA"), "{zpl}");
    assert!(zpl.trim_end().ends_with("^XZ"), "{zpl}");
    assert_eq!(zpl.matches("^XA").count(), 3);
    assert_eq!(zpl.matches("^XZ").count(), 3);
    // 2 x 1 inch at 203 dpi.
    assert_eq!(zpl.matches("^PW406").count(), 3, "{zpl}");
    assert_eq!(zpl.matches("^LL203").count(), 3, "{zpl}");
    assert_eq!(zpl.matches("^BQN,2,").count(), 3, "{zpl}");
    for (format, label) in zpl.split_inclusive("^XZ\n").zip(&labels) {
        assert!(
            format.contains(&format!("^FDQA,{}^FS", qr_payload(&label.url))),
            "{format}"
        );
        assert!(
            format.contains(&format!("^FD{}^FS", label.code)),
            "{format}"
        );
        assert!(format.contains("^FDLenovo"), "{format}");
        assert!(format.contains("^FDOrdinateur"), "{format}");
        // Every text field ends above the bottom of the 203-dot label.
        for field in format.split("^FO").skip(2) {
            let (position, rest) = field.split_once("^A0N,").unwrap();
            let top: u32 = position.split(',').nth(1).unwrap().parse().unwrap();
            let height: u32 = rest.split(',').next().unwrap().parse().unwrap();
            assert!(
                top + height <= 203,
                "field at {top} of {height} dots: {format}"
            );
        }
        let magnification: u32 = format.split("^BQN,2,").nth(1).unwrap()[..2]
            .trim_end_matches('^')
            .parse()
            .unwrap();
        // Modules must stay at or above 0.33 mm: 3 dots at 203 dpi.
        assert!((3..=10).contains(&magnification), "{format}");
    }
}
