//! Registers exported as tables: CSV, XLSX and printable PDF.
//!
//! A [`Table`] is a title, a subtitle and rows of strings under named
//! columns (the columns of the incoming or outgoing register, for example).
//! A row shorter than the header is padded with empty cells; a longer one
//! keeps its extra cells under untitled columns, so nothing is lost.

use std::io::Write;

use rust_xlsxwriter::{
    Color, DocProperties, Format, FormatAlign, FormatBorder, Workbook, XlsxError,
};
use serde::{Deserialize, Serialize};

/// A register (or any list) ready to export.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// e.g. "SỔ ĐĂNG KÝ VĂN BẢN ĐI".
    pub title: String,
    /// e.g. agency, period; may be empty.
    pub subtitle: String,
    /// Column headers.
    pub columns: Vec<String>,
    /// Cells, row by row.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Number of columns: the header's, or the longest row's if longer.
    fn width(&self) -> usize {
        self.rows
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(0)
            .max(self.columns.len())
    }

    fn header(&self, col: usize) -> &str {
        self.columns.get(col).map(String::as_str).unwrap_or("")
    }
}

fn cell(row: &[String], col: usize) -> &str {
    row.get(col).map(String::as_str).unwrap_or("")
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The table does not fit the format (XLSX: 1,048,576 rows, 16,384 columns).
    #[error("table too large: {0}")]
    TooLarge(String),
    /// rust_xlsxwriter refused the workbook.
    #[error("XLSX: {0}")]
    Xlsx(#[from] XlsxError),
    /// The embedded font could not be read or subset.
    #[error("PDF font: {0}")]
    Font(String),
    /// Compressing a PDF stream failed.
    #[error("PDF: {0}")]
    Pdf(#[from] std::io::Error),
}

// ---------------------------------------------------------------- CSV

/// CSV as Excel opens it: UTF-8 with a byte-order mark (without it Excel
/// reads Vietnamese as mojibake), comma-separated, CRLF line ends, fields
/// quoted per RFC 4180 when they hold a comma, a quote or a line break.
///
/// Only the header and the rows are written (no title), so the file stays a
/// plain data file. Cells that spreadsheet software would run as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or carriage return) get a leading
/// `'` (OWASP "CSV injection").
pub fn to_csv(table: &Table) -> Vec<u8> {
    let width = table.width();
    let mut out = Vec::with_capacity(64 + table.rows.len() * width * 16);
    out.extend_from_slice(b"\xef\xbb\xbf");
    let mut record = |cells: &mut dyn Iterator<Item = &str>| {
        for (i, c) in cells.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            csv_field(&mut out, c);
        }
        out.extend_from_slice(b"\r\n");
    };
    record(&mut (0..width).map(|c| table.header(c)));
    for row in &table.rows {
        record(&mut (0..width).map(|c| cell(row, c)));
    }
    out
}

fn csv_field(out: &mut Vec<u8>, value: &str) {
    let guard = matches!(
        value.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    );
    let quote = value.contains([',', '"', '\r', '\n']);
    if quote {
        out.push(b'"');
    }
    if guard {
        out.push(b'\'');
    }
    for b in value.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    if quote {
        out.push(b'"');
    }
}

// ---------------------------------------------------------------- XLSX

const XLSX_MAX_ROWS: usize = 1_048_576;
const XLSX_MAX_COLS: usize = 16_384;
const XLSX_MAX_CELL_CHARS: usize = 32_767;

/// An Excel workbook with one sheet: the title and subtitle on top, then a
/// bold, shaded header row that stays frozen while scrolling, an autofilter,
/// wrapped cells with borders, column widths from the content, and print
/// setup for A4 landscape (header row repeated, "Trang n/m" footer).
///
/// Every cell is written as text: register numbers like `05/QĐ-UBND` and
/// dates must come back exactly, and text cells are never formulas.
pub fn to_xlsx(table: &Table) -> Result<Vec<u8>, ExportError> {
    let width = table.width().max(1);
    if width > XLSX_MAX_COLS {
        return Err(ExportError::TooLarge(format!(
            "{width} columns (Excel allows {XLSX_MAX_COLS})"
        )));
    }
    if table.rows.len() + 3 > XLSX_MAX_ROWS {
        return Err(ExportError::TooLarge(format!(
            "{} rows (Excel allows {XLSX_MAX_ROWS})",
            table.rows.len()
        )));
    }
    let last_col = (width - 1) as u16;

    let title_fmt = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center);
    let subtitle_fmt = Format::new().set_italic().set_align(FormatAlign::Center);
    let header_fmt = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xD9E1F2));
    let cell_fmt = Format::new()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin);

    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(table.title.as_str())
            .set_subject(table.subtitle.as_str()),
    );
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name(&table.title))?;

    let mut row: u32 = 0;
    for (text, fmt) in [(&table.title, &title_fmt), (&table.subtitle, &subtitle_fmt)] {
        if text.is_empty() {
            continue;
        }
        let text = clip_chars(text, XLSX_MAX_CELL_CHARS);
        if last_col > 0 {
            sheet.merge_range(row, 0, row, last_col, text, fmt)?;
        } else {
            sheet.write_string_with_format(row, 0, text, fmt)?;
        }
        row += 1;
    }
    let header_row = row;
    for col in 0..width {
        sheet.write_string_with_format(
            header_row,
            col as u16,
            clip_chars(table.header(col), XLSX_MAX_CELL_CHARS),
            &header_fmt,
        )?;
    }
    for (i, cells) in table.rows.iter().enumerate() {
        let r = header_row + 1 + i as u32;
        for col in 0..width {
            sheet.write_string_with_format(
                r,
                col as u16,
                clip_chars(cell(cells, col), XLSX_MAX_CELL_CHARS),
                &cell_fmt,
            )?;
        }
    }
    for col in 0..width {
        sheet.set_column_width(col as u16, column_chars(table, col))?;
    }
    let last_row = header_row + table.rows.len() as u32;
    sheet.set_freeze_panes(header_row + 1, 0)?;
    sheet.autofilter(header_row, 0, last_row, last_col)?;
    sheet.set_repeat_rows(header_row, header_row)?;
    sheet
        .set_landscape()
        .set_paper_size(9) // A4
        .set_print_fit_to_pages(1, 0)
        .set_footer("&CTrang &P/&N");
    Ok(workbook.save_to_buffer()?)
}

/// A column width in Excel "characters": the longest line in the column
/// (words may wrap past 50), at least the longest header word.
fn column_chars(table: &Table, col: usize) -> f64 {
    let longest_line = |s: &str| s.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let longest_word = |s: &str| {
        s.split_whitespace()
            .map(|w| w.chars().count())
            .max()
            .unwrap_or(0)
    };
    let mut chars = longest_word(table.header(col)).max(longest_line(table.header(col)).min(20));
    for row in &table.rows {
        chars = chars.max(longest_line(cell(row, col)).min(50));
    }
    (chars as f64 + 2.0).clamp(6.0, 52.0)
}

/// A valid sheet name from the title: at most 31 characters, none of
/// `[]:*?/\`, not starting or ending with an apostrophe.
fn sheet_name(title: &str) -> String {
    let cleaned: String = title
        .chars()
        .map(|c| {
            if "[]:*?/\\".contains(c) || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect();
    let name: String = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let name: String = name.chars().take(31).collect();
    let name = name.trim_matches(|c: char| c == '\'' || c.is_whitespace());
    if name.is_empty() || name.eq_ignore_ascii_case("history") {
        "Sheet1".to_owned()
    } else {
        name.to_owned()
    }
}

fn clip_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

// ---------------------------------------------------------------- PDF

pub use pdf::to_pdf;

mod pdf {
    use super::*;
    use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
    use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
    use unicode_normalization::UnicodeNormalization;

    use crate::font::{FontError, FontUse};

    // A4 landscape, in points.
    const PAGE_W: f32 = 841.89;
    const PAGE_H: f32 = 595.28;
    const MARGIN_X: f32 = 28.0;
    const MARGIN_TOP: f32 = 28.0;
    const MARGIN_BOTTOM: f32 = 36.0;
    const BODY_SIZE: f32 = 8.5;
    const TITLE_SIZE: f32 = 14.0;
    const SUBTITLE_SIZE: f32 = 10.0;
    const FOOTER_SIZE: f32 = 8.0;
    const LINE: f32 = 1.3; // line height, in font sizes
    const PAD_X: f32 = 3.0;
    const PAD_Y: f32 = 2.5;
    const MIN_COL: f32 = 22.0;
    const HEADER_GRAY: f32 = 0.86;
    const MAX_HEADER_LINES: usize = 6;

    /// Cell text made printable: NFC (one glyph per Vietnamese letter),
    /// tabs as spaces, control and zero-width characters dropped.
    fn clean(s: &str) -> String {
        s.nfc()
            .filter_map(|c| match c {
                '\t' => Some(' '),
                '\n' => Some('\n'),
                // Invisible format characters the font has no glyph for.
                '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}' => None,
                c if c.is_control() => None,
                c => Some(c),
            })
            .collect()
    }

    /// Break `text` into lines no wider than `max_w`: at spaces where
    /// possible, inside a word when the word alone is too wide.
    fn wrap(font: &FontUse, text: &str, size: f32, max_w: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if font.width(&candidate, size) <= max_w {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if font.width(word, size) <= max_w {
                    line = word.to_owned();
                    continue;
                }
                // A word wider than the column: cut it.
                for c in word.chars() {
                    let mut next = line.clone();
                    next.push(c);
                    if !line.is_empty() && font.width(&next, size) > max_w {
                        lines.push(std::mem::replace(&mut line, c.to_string()));
                    } else {
                        line = next;
                    }
                }
            }
            lines.push(line);
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
        lines
    }

    enum Item {
        Text {
            x: f32,
            y: f32,
            size: f32,
            bold: bool,
            text: String,
        },
        /// A cell: optional fill, always a border.
        Cell {
            x: f32,
            y: f32,
            w: f32,
            h: f32,
            fill: bool,
        },
    }

    #[derive(Default)]
    struct Page {
        items: Vec<Item>,
    }

    /// Column widths: each column gets at least its longest word (within
    /// reason), then the rest of the line is shared in proportion to how much
    /// more each column would like.
    fn column_widths(table: &Table, width: usize, regular: &FontUse, bold: &FontUse) -> Vec<f32> {
        let avail = PAGE_W - 2.0 * MARGIN_X;
        let mut natural = vec![0f32; width];
        let mut minimum = vec![0f32; width];
        let mut measure = |col: usize, text: &str, font: &FontUse| {
            let text = clean(text);
            for line in text.split('\n') {
                natural[col] = natural[col].max(font.width(line, BODY_SIZE));
                for word in line.split_whitespace() {
                    minimum[col] = minimum[col].max(font.width(word, BODY_SIZE));
                }
            }
        };
        for col in 0..width {
            measure(col, table.header(col), bold);
        }
        for row in &table.rows {
            for col in 0..width {
                measure(col, cell(row, col), regular);
            }
        }
        let cap = (avail / width as f32).max(avail * 0.25);
        for col in 0..width {
            minimum[col] = (minimum[col] + 2.0 * PAD_X).clamp(MIN_COL, cap);
            natural[col] = (natural[col] + 2.0 * PAD_X).max(minimum[col]);
        }
        let sum_min: f32 = minimum.iter().sum();
        let sum_nat: f32 = natural.iter().sum();
        if sum_nat <= avail {
            let k = avail / sum_nat.max(1.0);
            natural.iter().map(|w| w * k).collect()
        } else if sum_min >= avail {
            let k = avail / sum_min.max(1.0);
            minimum.iter().map(|w| w * k).collect()
        } else {
            let k = (avail - sum_min) / (sum_nat - sum_min);
            (0..width)
                .map(|c| minimum[c] + (natural[c] - minimum[c]) * k)
                .collect()
        }
    }

    /// Lay the table out on pages.
    fn layout(table: &Table, regular: &FontUse, bold: &FontUse) -> Vec<Page> {
        let width = table.width().max(1);
        let widths = column_widths(table, width, regular, bold);
        let line_h = BODY_SIZE * LINE;
        let bottom = MARGIN_BOTTOM;

        let wrap_row =
            |cells: &mut dyn Iterator<Item = &str>, font: &FontUse| -> Vec<Vec<String>> {
                cells
                    .zip(&widths)
                    .map(|(text, w)| wrap(font, &clean(text), BODY_SIZE, w - 2.0 * PAD_X))
                    .collect()
            };
        let mut header = wrap_row(&mut (0..width).map(|c| table.header(c)), bold);
        for lines in &mut header {
            if lines.len() > MAX_HEADER_LINES {
                lines.truncate(MAX_HEADER_LINES);
                if let Some(last) = lines.last_mut() {
                    last.push('…');
                }
            }
        }
        let header_lines = header.iter().map(Vec::len).max().unwrap_or(1);
        let header_h = header_lines as f32 * line_h + 2.0 * PAD_Y;

        let mut pages: Vec<Page> = Vec::new();
        let mut page = Page::default();
        let mut y = PAGE_H - MARGIN_TOP;

        // Title block, first page only.
        let text_w = PAGE_W - 2.0 * MARGIN_X;
        for (text, size, font, is_bold) in [
            (&table.title, TITLE_SIZE, bold, true),
            (&table.subtitle, SUBTITLE_SIZE, regular, false),
        ] {
            if text.trim().is_empty() {
                continue;
            }
            for line in wrap(font, &clean(text), size, text_w) {
                y -= size * LINE;
                let w = font.width(&line, size);
                page.items.push(Item::Text {
                    x: (PAGE_W - w) / 2.0,
                    y: y + size * 0.25,
                    size,
                    bold: is_bold,
                    text: line,
                });
            }
            y -= size * 0.3;
        }
        if y < PAGE_H - MARGIN_TOP {
            y -= 8.0;
        }

        let put_row = |page: &mut Page, y: f32, lines: &[&[String]], h: f32, is_header: bool| {
            let mut x = MARGIN_X;
            for (col, w) in widths.iter().enumerate() {
                page.items.push(Item::Cell {
                    x,
                    y: y - h,
                    w: *w,
                    h,
                    fill: is_header,
                });
                let cell_lines = lines.get(col).copied().unwrap_or(&[]);
                for (i, line) in cell_lines.iter().enumerate() {
                    if line.is_empty() {
                        continue;
                    }
                    page.items.push(Item::Text {
                        x: x + PAD_X,
                        y: y - PAD_Y - i as f32 * line_h - BODY_SIZE * 1.02,
                        size: BODY_SIZE,
                        bold: is_header,
                        text: line.clone(),
                    });
                }
                x += w;
            }
        };
        let header_slices: Vec<&[String]> = header.iter().map(Vec::as_slice).collect();
        put_row(&mut page, y, &header_slices, header_h, true);
        y -= header_h;
        // Lines of one row that fit on a page holding only the header.
        let fresh_fit = ((PAGE_H - MARGIN_TOP - header_h - bottom - 2.0 * PAD_Y) / line_h)
            .floor()
            .max(1.0) as usize;
        // Nothing but the header on this page yet (page 1 has the title too).
        let mut fresh = y >= PAGE_H - MARGIN_TOP - header_h;

        for row in &table.rows {
            let cells = wrap_row(&mut (0..width).map(|c| cell(row, c)), regular);
            let total = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let mut done = 0usize; // lines of this row already placed
            while done < total {
                let fit = ((y - bottom - 2.0 * PAD_Y) / line_h).floor().max(0.0) as usize;
                let left = total - done;
                let move_on = !fresh && (fit == 0 || (fit < left && left <= fresh_fit));
                if move_on {
                    // Continue on a new page, under the repeated header.
                    pages.push(std::mem::take(&mut page));
                    y = PAGE_H - MARGIN_TOP;
                    put_row(&mut page, y, &header_slices, header_h, true);
                    y -= header_h;
                    fresh = true;
                    continue;
                }
                // All of it, or (a row taller than a page) as much as fits;
                // at least one line, so layout always moves forward.
                let take = left.min(fit).max(1);
                let slices: Vec<&[String]> = cells
                    .iter()
                    .map(|c| {
                        let start = done.min(c.len());
                        let end = (done + take).min(c.len());
                        &c[start..end]
                    })
                    .collect();
                let h = take as f32 * line_h + 2.0 * PAD_Y;
                put_row(&mut page, y, &slices, h, false);
                y -= h;
                done += take;
                fresh = false;
            }
        }
        pages.push(page);

        let n = pages.len();
        for (i, page) in pages.iter_mut().enumerate() {
            let text = format!("Trang {}/{}", i + 1, n);
            let w = regular.width(&text, FOOTER_SIZE);
            page.items.push(Item::Text {
                x: (PAGE_W - w) / 2.0,
                y: MARGIN_BOTTOM / 2.0,
                size: FOOTER_SIZE,
                bold: false,
                text,
            });
        }
        pages
    }

    fn deflate(data: &[u8]) -> Result<Vec<u8>, ExportError> {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data)?;
        Ok(enc.finish()?)
    }

    /// A printable PDF of the table: A4 landscape, the title and subtitle on
    /// the first page, the column headers repeated on every page, cells
    /// wrapped to their column, "Trang 1/3" at the foot of each page.
    ///
    /// Text is set in Noto Sans (embedded, subset) with a ToUnicode map, so
    /// Vietnamese prints correctly and can be searched and copied.
    pub fn to_pdf(table: &Table) -> Result<Vec<u8>, ExportError> {
        let font_error = |e: FontError| ExportError::Font(e.to_string());
        let mut regular = FontUse::regular().map_err(font_error)?;
        let mut bold = FontUse::bold().map_err(font_error)?;
        let pages = layout(table, &regular, &bold);

        // Encode all text first, so the subsets know every glyph.
        let encoded: Vec<Vec<Vec<u16>>> = pages
            .iter()
            .map(|p| {
                p.items
                    .iter()
                    .map(|item| match item {
                        Item::Text {
                            bold: true, text, ..
                        } => bold.encode(text),
                        Item::Text { text, .. } => regular.encode(text),
                        Item::Cell { .. } => Vec::new(),
                    })
                    .collect()
            })
            .collect();

        let mut pdf = Pdf::new();
        let mut next = 1;
        let mut alloc = || {
            let r = Ref::new(next);
            next += 1;
            r
        };
        let catalog_id = alloc();
        let tree_id = alloc();
        let info_id = alloc();
        let font_ids: Vec<Ref> = (0..2).map(|_| alloc()).collect();

        let mut remappers = Vec::new();
        for (font, type0_id) in [(&regular, font_ids[0]), (&bold, font_ids[1])] {
            let remapper = write_font(&mut pdf, font, type0_id, &mut alloc)?;
            remappers.push(remapper);
        }

        let page_ids: Vec<Ref> = (0..pages.len()).map(|_| alloc()).collect();
        for ((page, glyphs), page_id) in pages.iter().zip(&encoded).zip(&page_ids) {
            let content_id = alloc();
            let mut content = Content::new();
            // Cells first (fills, then borders), then all text on top.
            content.set_line_width(0.5);
            content.set_stroke_gray(0.35);
            content.set_fill_gray(HEADER_GRAY);
            for item in &page.items {
                if let Item::Cell {
                    x,
                    y,
                    w,
                    h,
                    fill: true,
                } = *item
                {
                    content.rect(x, y, w, h);
                }
            }
            content.fill_nonzero();
            for item in &page.items {
                if let Item::Cell { x, y, w, h, .. } = *item {
                    content.rect(x, y, w, h);
                }
            }
            content.stroke();
            content.set_fill_gray(0.0);
            content.begin_text();
            for (item, gids) in page.items.iter().zip(glyphs) {
                let Item::Text {
                    x,
                    y,
                    size,
                    bold: is_bold,
                    ..
                } = *item
                else {
                    continue;
                };
                let (name, remapper) = if is_bold {
                    (Name(b"F2"), &remappers[1])
                } else {
                    (Name(b"F1"), &remappers[0])
                };
                let mut bytes = Vec::with_capacity(gids.len() * 2);
                for gid in gids {
                    let cid = remapper.get(*gid).unwrap_or(0);
                    bytes.extend_from_slice(&cid.to_be_bytes());
                }
                content.set_font(name, size);
                content.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y]);
                content.show(Str(&bytes));
            }
            content.end_text();
            let data = deflate(&content.finish())?;
            pdf.stream(content_id, &data).filter(Filter::FlateDecode);

            let mut p = pdf.page(*page_id);
            p.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
            p.parent(tree_id);
            p.contents(content_id);
            let mut resources = p.resources();
            resources
                .fonts()
                .pair(Name(b"F1"), font_ids[0])
                .pair(Name(b"F2"), font_ids[1]);
            resources.finish();
            p.finish();
        }
        pdf.pages(tree_id)
            .kids(page_ids.iter().copied())
            .count(page_ids.len() as i32);
        let mut catalog = pdf.catalog(catalog_id);
        catalog.pages(tree_id);
        catalog.lang(TextStr("vi"));
        catalog.finish();
        let mut info = pdf.document_info(info_id);
        if !table.title.is_empty() {
            info.title(TextStr(&table.title));
        }
        if !table.subtitle.is_empty() {
            info.subject(TextStr(&table.subtitle));
        }
        info.producer(TextStr("Liên Thông"));
        info.finish();
        Ok(pdf.finish())
    }

    /// Embed `font` as a Type0 / CIDFontType2 font, subset to the glyphs the
    /// document uses, CIDs = glyph ids in the subset, with a ToUnicode map.
    fn write_font(
        pdf: &mut Pdf,
        font: &FontUse,
        type0_id: Ref,
        alloc: &mut dyn FnMut() -> Ref,
    ) -> Result<subsetter::GlyphRemapper, ExportError> {
        let cid_id = alloc();
        let descriptor_id = alloc();
        let file_id = alloc();
        let cmap_id = alloc();

        let mut remapper = subsetter::GlyphRemapper::new();
        for gid in font.used.keys() {
            remapper.remap(*gid);
        }
        let subset = subsetter::subset(font.data, 0, &remapper)
            .map_err(|e| ExportError::Font(e.to_string()))?;

        // Subset tag: six capitals derived from the glyph set.
        let mut hash: u32 = 2_166_136_261;
        for gid in font.used.keys() {
            for b in gid.to_be_bytes() {
                hash = (hash ^ u32::from(b)).wrapping_mul(16_777_619);
            }
        }
        let tag: String = (0..6)
            .map(|i| char::from(b'A' + ((hash >> (i * 5)) % 26) as u8))
            .collect();
        let base_font = format!("{tag}+{}", font.ps_name);

        let system_info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };

        pdf.type0_font(type0_id)
            .base_font(Name(base_font.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_id)
            .to_unicode(cmap_id);

        let scale = 1000.0 * font.scale();
        let widths: Vec<f32> = remapper
            .remapped_gids()
            .map(|gid| font.advance(gid) * 1000.0)
            .collect();
        let mut cid = pdf.cid_font(cid_id);
        cid.subtype(CidFontType::Type2)
            .base_font(Name(base_font.as_bytes()))
            .system_info(system_info)
            .font_descriptor(descriptor_id)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, widths);
        cid.finish();

        let face = &font.face;
        let bbox = face.global_bounding_box();
        let mut flags = FontFlags::SYMBOLIC;
        if font.bold {
            flags |= FontFlags::FORCE_BOLD;
        }
        pdf.font_descriptor(descriptor_id)
            .name(Name(base_font.as_bytes()))
            .flags(flags)
            .bbox(Rect::new(
                f32::from(bbox.x_min) * scale,
                f32::from(bbox.y_min) * scale,
                f32::from(bbox.x_max) * scale,
                f32::from(bbox.y_max) * scale,
            ))
            .italic_angle(0.0)
            .ascent(f32::from(face.ascender()) * scale)
            .descent(f32::from(face.descender()) * scale)
            .cap_height(f32::from(face.capital_height().unwrap_or(face.ascender())) * scale)
            .stem_v(if font.bold { 140.0 } else { 80.0 })
            .font_file2(file_id);

        let compressed = deflate(&subset)?;
        pdf.stream(file_id, &compressed)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), subset.len() as i32);

        let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
        for (gid, c) in &font.used {
            if let Some(new) = remapper.get(*gid) {
                cmap.pair(new, *c);
            }
        }
        let cmap_data = deflate(&cmap.finish())?;
        pdf.stream(cmap_id, &cmap_data).filter(Filter::FlateDecode);
        Ok(remapper)
    }
}
