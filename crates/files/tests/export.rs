//! Register exports read back by independent readers: calamine for XLSX,
//! poppler's pdftotext/pdftoppm for PDF (skipped with a message when
//! poppler-utils is not installed), and our own extractor.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use lienthong_files::{extract_text, sniff, to_csv, to_pdf, to_xlsx, FileKind, Limits, Table};

/// Columns of the outgoing register (sổ đăng ký văn bản đi), NĐ 30/2020.
fn outgoing_columns() -> Vec<String> {
    [
        "Số, ký hiệu văn bản",
        "Ngày tháng văn bản",
        "Tên loại và trích yếu nội dung",
        "Người ký",
        "Nơi nhận văn bản",
        "Đơn vị, người nhận bản lưu",
        "Số lượng bản",
        "Ngày chuyển",
        "Ký nhận",
        "Ghi chú",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn outgoing_register(rows: usize) -> Table {
    let subjects = [
        "Quyết định về việc chuyển đổi số trong cơ quan nhà nước tỉnh Đồng Tháp",
        "Công văn gửi Sở Khoa học và Công nghệ về việc triển khai hệ thống quản lý văn bản và điều hành, kết nối liên thông với Trục liên thông văn bản quốc gia",
        "Kế hoạch ứng dụng công nghệ thông tin năm 2025",
        "Báo cáo tình hình thực hiện thủ tục hành chính tại Trung tâm Phục vụ hành chính công",
    ];
    let signers = [
        "Nguyễn Văn Ấn",
        "Trần Thị Ửng",
        "Lê Đức Thọ",
        "Phạm Thị Yến",
    ];
    Table {
        title: "SỔ ĐĂNG KÝ VĂN BẢN ĐI".into(),
        subtitle: "Sở Khoa học và Công nghệ tỉnh Đồng Tháp — năm 2025".into(),
        columns: outgoing_columns(),
        rows: (0..rows)
            .map(|i| {
                vec![
                    format!("{:02}/QĐ-SKHCN", i + 1),
                    format!("{:02}/{:02}/2025", i % 28 + 1, i % 12 + 1),
                    subjects[i % subjects.len()].to_string(),
                    signers[i % signers.len()].to_string(),
                    "UBND tỉnh; Văn phòng UBND tỉnh; Các phòng, ban".to_string(),
                    "Văn phòng".to_string(),
                    format!("{}", i % 5 + 1),
                    format!("{:02}/{:02}/2025", i % 28 + 1, i % 12 + 1),
                    String::new(),
                    if i % 7 == 0 {
                        "Khẩn".into()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect(),
    }
}

/// The incoming register (sổ đăng ký văn bản đến), columns as labelled on screen.
fn incoming_register(rows: usize) -> Table {
    let authors = [
        "Sở Khoa học và Công nghệ",
        "UBND tỉnh Đồng Tháp",
        "Bộ Khoa học và Công nghệ",
    ];
    Table {
        title: "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN".into(),
        subtitle: "Văn phòng UBND tỉnh Đồng Tháp — từ 01/01/2025 đến 31/03/2025".into(),
        columns: [
            "Ngày đến",
            "Số đến",
            "Tác giả",
            "Số, ký hiệu",
            "Ngày tháng",
            "Trích yếu",
            "Đơn vị hoặc người nhận",
            "Ngày chuyển",
            "Ký nhận",
            "Ghi chú",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows: (0..rows)
            .map(|i| {
                vec![
                    format!("{:02}/01/2025", i % 28 + 1),
                    format!("{}", i + 1),
                    authors[i % authors.len()].to_string(),
                    format!("{}/SKHCN-VP", 200 + i),
                    format!("{:02}/01/2025", i % 28 + 1),
                    "Về việc đôn đốc triển khai Đề án 06 và chuyển đổi số năm 2025".to_string(),
                    "Phòng Kinh tế; ông Nguyễn Văn Ấn".to_string(),
                    format!("{:02}/01/2025", i % 28 + 1),
                    String::new(),
                    if i % 5 == 0 {
                        "Thượng khẩn".into()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect(),
    }
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/files-test");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn clip(s: &str) -> String {
    s.chars().take(1500).collect()
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn tool_available(tool: &str) -> bool {
    Command::new(tool).arg("-v").output().is_ok()
}

/// pdftotext of a PDF file, or None (with a message) without poppler-utils.
fn pdftotext(path: &Path, test: &str) -> Option<String> {
    if !tool_available("pdftotext") {
        eprintln!(
            "SKIPPED the pdftotext part of {test}: pdftotext is not installed \
             (apt-get install -y poppler-utils)"
        );
        return None;
    }
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

fn page_count(pdf: &[u8]) -> usize {
    pdf_extract::Document::load_mem(pdf)
        .unwrap()
        .get_pages()
        .len()
}

// ---------------------------------------------------------------- CSV

/// Minimal RFC 4180 reader for the round trip.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

#[test]
fn csv_bom_quoting_and_injection() {
    let table = Table {
        title: "Sổ đăng ký văn bản đến".into(),
        subtitle: String::new(),
        columns: vec!["Số đến".into(), "Trích yếu".into(), "Ghi chú".into()],
        rows: vec![
            vec![
                "1".into(),
                "Về việc A, B và \"C\"".into(),
                "dòng 1\ndòng 2".into(),
            ],
            vec![
                "=HYPERLINK(\"http://x\")".into(),
                "+84 277".into(),
                "-1".into(),
            ],
            vec!["@SUM(A1)".into(), "\tTab".into()],
            vec!["4".into(), "Đồng Tháp".into(), "x".into(), "thừa".into()],
        ],
    };
    let bytes = to_csv(&table);
    assert!(bytes.starts_with(b"\xef\xbb\xbf"), "BOM first");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.starts_with("Số đến,Trích yếu,Ghi chú,\r\n"), "{text}");
    assert!(text.contains("\"Về việc A, B và \"\"C\"\"\""), "{text}");
    assert!(text.contains("\"dòng 1\ndòng 2\""));
    assert!(text.ends_with("\r\n"));
    let rows = parse_csv(text);
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0], ["Số đến", "Trích yếu", "Ghi chú", ""]);
    assert_eq!(
        rows[1],
        ["1", "Về việc A, B và \"C\"", "dòng 1\ndòng 2", ""]
    );
    // Formula injection: a leading quote, inside the RFC 4180 quotes if any.
    assert_eq!(
        rows[2],
        ["'=HYPERLINK(\"http://x\")", "'+84 277", "'-1", ""]
    );
    assert_eq!(rows[3], ["'@SUM(A1)", "'\tTab", "", ""]);
    // A row longer than the header keeps its extra cell.
    assert_eq!(rows[4], ["4", "Đồng Tháp", "x", "thừa"]);
    assert_eq!(sniff(&bytes), FileKind::PlainText);
}

// ---------------------------------------------------------------- XLSX

#[test]
fn xlsx_reads_back_with_calamine() {
    let mut table = outgoing_register(30);
    table.rows[3][9] = "=1+1".into(); // stays text, never a formula
    let bytes = to_xlsx(&table).unwrap();
    assert_eq!(sniff(&bytes), FileKind::Xlsx);
    std::fs::write(out_dir().join("so-van-ban-di.xlsx"), &bytes).unwrap();

    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
    let names = wb.sheet_names();
    assert_eq!(names, ["SỔ ĐĂNG KÝ VĂN BẢN ĐI"]);
    let range = wb.worksheet_range(&names[0]).unwrap();
    let get = |r: u32, c: u32| match range.get_value((r, c)) {
        Some(Data::String(s)) => s.clone(),
        Some(Data::Empty) | None => String::new(),
        Some(other) => panic!("({r},{c}) is not text: {other:?}"),
    };
    assert_eq!(get(0, 0), table.title);
    assert_eq!(get(1, 0), table.subtitle);
    for (c, name) in table.columns.iter().enumerate() {
        assert_eq!(&get(2, c as u32), name);
    }
    for (r, row) in table.rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            assert_eq!(&get(3 + r as u32, c as u32), value, "row {r} col {c}");
        }
    }
    assert_eq!(range.end(), Some((32, 9)));

    // Frozen header, bold header font, wrapped cells, A4 landscape.
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut sheet = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut sheet)
        .unwrap();
    assert!(
        sheet.contains(
            r#"<pane ySplit="3" topLeftCell="A4" activePane="bottomLeft" state="frozen"/>"#
        ),
        "{}",
        clip(&sheet)
    );
    assert!(sheet.contains(r#"paperSize="9""#) && sheet.contains(r#"orientation="landscape""#));
    assert!(sheet.contains("<autoFilter"));
    let mut styles = String::new();
    zip.by_name("xl/styles.xml")
        .unwrap()
        .read_to_string(&mut styles)
        .unwrap();
    assert!(styles.contains("<b/>"));
    assert!(styles.contains(r#"wrapText="1""#));
    // <col min="9" max="10" width="9.7"/>: one width per column.
    let attr = |c: &str, name: &str| -> f64 {
        let v = c.split(&format!("{name}=\"")).nth(1).unwrap();
        v.split('"').next().unwrap().parse().unwrap()
    };
    let widths: Vec<f64> = sheet
        .split("<col ")
        .skip(1)
        .flat_map(|c| {
            let n = (attr(c, "max") - attr(c, "min")) as usize + 1;
            std::iter::repeat_n(attr(c, "width"), n)
        })
        .collect();
    assert_eq!(widths.len(), 10, "{}", clip(&sheet));
    assert!(
        widths.iter().all(|w| (6.0..=53.0).contains(w)),
        "{widths:?}"
    );
    // The long "trích yếu" column is wider than the "số lượng bản" one.
    assert!(widths[2] > widths[6], "{widths:?}");
}

#[test]
fn xlsx_without_title_or_rows() {
    let table = Table {
        columns: vec!["A".into()],
        ..Table::default()
    };
    let bytes = to_xlsx(&table).unwrap();
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert_eq!(wb.sheet_names(), ["Sheet1"]);
    let range = wb.worksheet_range("Sheet1").unwrap();
    assert_eq!(range.get_value((0, 0)), Some(&Data::String("A".into())));
}

// ---------------------------------------------------------------- PDF

#[test]
fn pdf_keeps_vietnamese_for_our_extractor_and_pdftotext() {
    let table = incoming_register(40);
    let pdf = to_pdf(&table).unwrap();
    assert_eq!(sniff(&pdf), FileKind::Pdf);
    let path = out_dir().join("so-van-ban-den-40.pdf");
    std::fs::write(&path, &pdf).unwrap();

    let pages = page_count(&pdf);
    assert!(pages >= 2, "{pages} pages");
    let first = format!("Trang 1/{pages}");
    let last = format!("Trang {pages}/{pages}");
    let expected = [
        "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN",
        "Văn phòng UBND tỉnh Đồng Tháp — từ 01/01/2025 đến 31/03/2025",
        "Sở Khoa học và Công nghệ",
        "Trích yếu",
        "Đồng Tháp",
        "Đơn vị hoặc người nhận",
        "Về việc đôn đốc triển khai Đề án 06 và chuyển đổi số năm 2025",
        "Phòng Kinh tế; ông Nguyễn Văn Ấn",
        "Thượng khẩn",
        "239/SKHCN-VP",
        &first,
        &last,
    ];
    let ours = squash(&extract_text(FileKind::Pdf, &pdf, &Limits::default()).unwrap());
    for s in expected {
        assert!(
            ours.contains(s),
            "our extractor lost {s:?}: {}",
            clip(&ours)
        );
    }
    if let Some(text) = pdftotext(
        &path,
        "pdf_keeps_vietnamese_for_our_extractor_and_pdftotext",
    ) {
        let text = squash(&text);
        for s in expected {
            assert!(text.contains(s), "pdftotext lost {s:?}: {}", clip(&text));
        }
    }
}

#[test]
fn pdf_of_500_rows_has_many_pages_each_with_header_and_page_number() {
    let table = outgoing_register(500);
    let pdf = to_pdf(&table).unwrap();
    let path = out_dir().join("so-van-ban-di-500.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let pages = page_count(&pdf);
    assert!(pages > 10, "{pages} pages");

    let doc = pdf_extract::Document::load_mem(&pdf).unwrap();
    let per_page = pdf_extract::extract_text_from_mem_by_pages(&pdf).unwrap();
    assert_eq!(per_page.len(), pages);
    for (i, text) in per_page.iter().enumerate() {
        let text = squash(text);
        assert!(
            text.contains("Tên loại và trích yếu nội dung"),
            "page {}: no header",
            i + 1
        );
        assert!(
            text.contains(&format!("Trang {}/{pages}", i + 1)),
            "page {}: {text}",
            i + 1
        );
    }
    drop(doc);
    // Every row made it, in order.
    let all = squash(&extract_text(FileKind::Pdf, &pdf, &Limits::default()).unwrap());
    let mut at = 0;
    for i in 1..=500 {
        let needle = format!("{i:02}/QĐ-SKHCN");
        let found = all[at..]
            .find(&needle)
            .unwrap_or_else(|| panic!("{needle} missing"));
        at += found + needle.len();
    }
    assert!(
        pdf.len() < 1_500_000,
        "subset fonts keep it small: {} bytes",
        pdf.len()
    );

    if let Some(text) = pdftotext(
        &path,
        "pdf_of_500_rows_has_many_pages_each_with_header_and_page_number",
    ) {
        assert_eq!(text.matches('\u{c}').count(), pages, "pdftotext pages");
        let text = squash(&text);
        assert!(text.contains(&format!("Trang {pages}/{pages}")));
        assert!(text.contains("500/QĐ-SKHCN"));
    }

    // Page 1 as a picture for a person to look at.
    if tool_available("pdftoppm") {
        let prefix = out_dir().join("so-van-ban-di-500-page");
        let status = Command::new("pdftoppm")
            .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&path)
            .arg(&prefix)
            .status()
            .unwrap();
        assert!(status.success());
        let png = std::fs::read(prefix.with_extension("png")).unwrap();
        assert_eq!(sniff(&png), FileKind::Png);
    } else {
        eprintln!("SKIPPED rendering page 1: pdftoppm is not installed (apt-get install -y poppler-utils)");
    }
}

#[test]
fn pdf_row_taller_than_a_page_is_split() {
    let long: String = (0..1500)
        .map(|i| format!("từ{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let table = Table {
        title: "Kiểm tra".into(),
        subtitle: String::new(),
        columns: vec!["Số".into(), "Nội dung".into()],
        rows: vec![
            vec!["1".into(), long],
            vec!["2".into(), "Cuối cùng".into()],
            // A single word far wider than its column is cut, not overflowed.
            vec!["3".into(), "x".repeat(2000)],
        ],
    };
    let pdf = to_pdf(&table).unwrap();
    assert!(page_count(&pdf) >= 2);
    let text = squash(&extract_text(FileKind::Pdf, &pdf, &Limits::default()).unwrap());
    assert!(text.contains("từ0 từ1 từ2"));
    assert!(text.contains("từ1499"));
    assert!(text.contains("Cuối cùng"));
}

#[test]
fn pdf_edge_cases() {
    // Nothing at all: still one valid page.
    let pdf = to_pdf(&Table::default()).unwrap();
    assert_eq!(page_count(&pdf), 1);
    // Characters the font lacks become "?" instead of failing; NFD input is
    // composed so each Vietnamese letter is one glyph.
    let table = Table {
        title: "Quye\u{302}\u{301}t đi\u{323}nh".into(),
        subtitle: "Khmer ភាសាខ្មែរ, emoji 🙂".into(),
        columns: vec!["A\tB".into()],
        rows: vec![vec!["c\u{0}d\r\ne".into()]],
    };
    let pdf = to_pdf(&table).unwrap();
    let text = extract_text(FileKind::Pdf, &pdf, &Limits::default()).unwrap();
    assert!(text.contains("Quyết định"), "{text}");
    assert!(text.contains("emoji ?"), "{text}");

    // Absurd shapes still finish: a header taller than a page, 300 columns.
    let huge_header = Table {
        title: "T".repeat(3000),
        subtitle: String::new(),
        columns: vec!["tiêu đề ".repeat(3000), "B".into()],
        rows: vec![vec!["1".into(), "2".into()]; 5],
    };
    let pdf = to_pdf(&huge_header).unwrap();
    assert!(page_count(&pdf) >= 1);
    let wide = Table {
        title: "Rộng".into(),
        subtitle: String::new(),
        columns: (0..300).map(|i| format!("Cột {i}")).collect(),
        rows: vec![(0..300).map(|i| format!("giá trị {i}")).collect(); 3],
    };
    let pdf = to_pdf(&wide).unwrap();
    assert!(page_count(&pdf) >= 1);
}
