//! The visible mark: the signature widget's appearance stream (`/AP /N`), a
//! form XObject with the agency name and the signing time in Noto Sans.
//!
//! The font is lienthong-files' Noto Sans ([`FontUse`]), embedded as its PDF
//! export does it: a subset, Type0 / CIDFontType2, Identity-H, with a ToUnicode
//! map so the text can be searched and copied.

use std::io::Write;

use lienthong_files::font::FontUse;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Chunk, Content, Filter, Finish, Name, Rect, Ref, Str};
use unicode_normalization::UnicodeNormalization;

use crate::PdfSignError;

/// Text size of the mark, in points: small, as Phụ lục I asks.
pub(crate) const SIZE: f32 = 7.0;
const LINE: f32 = 1.3;
const PAD: f32 = 2.0;

/// The objects of one appearance, each as its own chunk so that the caller
/// knows where every object starts.
pub(crate) struct Appearance {
    /// (object, bytes of the object).
    pub objects: Vec<(Ref, Chunk)>,
    /// Width and height of the form, in points.
    pub width: f32,
    pub height: f32,
}

/// Printable text: NFC (Noto Sans has one glyph per precomposed Vietnamese
/// letter), control characters dropped, whitespace runs as one space.
fn clean(s: &str) -> String {
    let s: String = s.nfc().filter(|c| !c.is_control()).collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, PdfSignError> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data)
        .map_err(|e| PdfSignError::Font(e.to_string()))?;
    enc.finish().map_err(|e| PdfSignError::Font(e.to_string()))
}

/// The appearance for `lines` (top to bottom, right-aligned), its form
/// XObject numbered `form` (turned by `matrix` on rotated pages) and its
/// font objects numbered from `alloc`.
pub(crate) fn build(
    lines: &[String],
    form: Ref,
    matrix: Option<[f32; 6]>,
    alloc: &mut dyn FnMut() -> Ref,
) -> Result<Appearance, PdfSignError> {
    let mut font = FontUse::regular().map_err(|e| PdfSignError::Font(e.to_string()))?;
    let lines: Vec<String> = lines.iter().map(|l| clean(l)).collect();
    let text_w = lines
        .iter()
        .map(|l| font.width(l, SIZE))
        .fold(0.0f32, f32::max);
    let width = (text_w + 2.0 * PAD).ceil();
    let line_h = SIZE * LINE;
    let height = (lines.len() as f32 * line_h + 2.0 * PAD).ceil();
    let glyphs: Vec<Vec<u16>> = lines.iter().map(|l| font.encode(l)).collect();

    let type0 = alloc();
    let cid = alloc();
    let descriptor = alloc();
    let file = alloc();
    let cmap = alloc();

    let mut remapper = subsetter::GlyphRemapper::new();
    for gid in font.used.keys() {
        remapper.remap(*gid);
    }
    let subset = subsetter::subset(font.data, 0, &remapper)
        .map_err(|e| PdfSignError::Font(e.to_string()))?;

    let mut content = Content::new();
    content.set_fill_gray(0.0);
    content.begin_text();
    content.set_font(Name(b"F1"), SIZE);
    for (i, (line, gids)) in lines.iter().zip(&glyphs).enumerate() {
        let x = width - PAD - font.width(line, SIZE);
        // Baseline: a fifth of the size above the bottom of the line.
        let y = height - PAD - (i as f32 + 1.0) * line_h + SIZE * 0.3;
        let mut bytes = Vec::with_capacity(gids.len() * 2);
        for gid in gids {
            bytes.extend_from_slice(&remapper.get(*gid).unwrap_or(0).to_be_bytes());
        }
        content.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y]);
        content.show(Str(&bytes));
    }
    content.end_text();
    let content = content.finish();

    let mut objects = Vec::new();

    let mut chunk = Chunk::new();
    {
        let mut xobject = chunk.form_xobject(form, &content);
        xobject.bbox(Rect::new(0.0, 0.0, width, height));
        if let Some(m) = matrix {
            xobject.matrix(m);
        }
        xobject.resources().fonts().pair(Name(b"F1"), type0);
        xobject.finish();
    }
    objects.push((form, chunk));

    // Subset tag: six capitals from the glyph set, as PDF asks of subsets.
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

    let mut chunk = Chunk::new();
    chunk
        .type0_font(type0)
        .base_font(Name(base_font.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);
    objects.push((type0, chunk));

    let scale = 1000.0 * font.scale();
    let widths: Vec<f32> = remapper
        .remapped_gids()
        .map(|gid| font.advance(gid) * 1000.0)
        .collect();
    let mut chunk = Chunk::new();
    {
        let mut c = chunk.cid_font(cid);
        c.subtype(CidFontType::Type2)
            .base_font(Name(base_font.as_bytes()))
            .system_info(system_info)
            .font_descriptor(descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        c.widths().consecutive(0, widths);
        c.finish();
    }
    objects.push((cid, chunk));

    let face = &font.face;
    let bbox = face.global_bounding_box();
    let mut chunk = Chunk::new();
    chunk
        .font_descriptor(descriptor)
        .name(Name(base_font.as_bytes()))
        .flags(FontFlags::SYMBOLIC)
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
        .stem_v(80.0)
        .font_file2(file);
    objects.push((descriptor, chunk));

    let compressed = deflate(&subset)?;
    let mut chunk = Chunk::new();
    chunk
        .stream(file, &compressed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), subset.len() as i32);
    objects.push((file, chunk));

    let mut unicode = UnicodeCmap::new(Name(b"Custom"), system_info);
    for (gid, c) in &font.used {
        if let Some(new) = remapper.get(*gid) {
            unicode.pair(new, *c);
        }
    }
    let cmap_data = deflate(&unicode.finish())?;
    let mut chunk = Chunk::new();
    chunk.stream(cmap, &cmap_data).filter(Filter::FlateDecode);
    objects.push((cmap, chunk));

    Ok(Appearance {
        objects,
        width,
        height,
    })
}
