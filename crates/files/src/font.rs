//! Noto Sans for the PDFs we write (register exports, the signature mark): glyph
//! lookup and widths, and a record of the glyphs a document used, from which the
//! caller embeds a subset with its ToUnicode map. Noto Sans has one glyph per
//! precomposed Vietnamese letter, so NFC text prints correctly.

use std::collections::BTreeMap;

use ttf_parser::{Face, GlyphId};

/// Noto Sans Regular and Bold, SIL OFL 1.1 (see fonts/OFL.txt).
pub static NOTO_SANS_REGULAR: &[u8] = include_bytes!("../fonts/NotoSans-Regular.ttf");
pub static NOTO_SANS_BOLD: &[u8] = include_bytes!("../fonts/NotoSans-Bold.ttf");

/// The font file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("font: {0}")]
pub struct FontError(String);

/// One embedded font: the parsed face plus what the document used of it.
pub struct FontUse {
    pub face: Face<'static>,
    pub data: &'static [u8],
    /// The PostScript name the subset is named after.
    pub ps_name: &'static str,
    pub bold: bool,
    /// Original glyph id → the character it was used for.
    pub used: BTreeMap<u16, char>,
    fallback: u16,
}

impl FontUse {
    pub fn new(data: &'static [u8], ps_name: &'static str, bold: bool) -> Result<Self, FontError> {
        let face = Face::parse(data, 0).map_err(|e| FontError(e.to_string()))?;
        let fallback = face.glyph_index('?').map(|g| g.0).unwrap_or(0);
        Ok(FontUse {
            face,
            data,
            ps_name,
            bold,
            used: BTreeMap::new(),
            fallback,
        })
    }

    /// Noto Sans Regular.
    pub fn regular() -> Result<Self, FontError> {
        FontUse::new(NOTO_SANS_REGULAR, "NotoSans-Regular", false)
    }

    /// Noto Sans Bold.
    pub fn bold() -> Result<Self, FontError> {
        FontUse::new(NOTO_SANS_BOLD, "NotoSans-Bold", true)
    }

    /// Font units to text space (1 = the font size).
    pub fn scale(&self) -> f32 {
        1.0 / f32::from(self.face.units_per_em().max(1))
    }

    /// The glyph of `c`, or of `?` when the font has none.
    pub fn glyph(&self, c: char) -> u16 {
        self.face
            .glyph_index(c)
            .map(|g| g.0)
            .unwrap_or(self.fallback)
    }

    /// The advance of a glyph, in text space.
    pub fn advance(&self, gid: u16) -> f32 {
        f32::from(self.face.glyph_hor_advance(GlyphId(gid)).unwrap_or(0)) * self.scale()
    }

    /// Width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c)))
            .sum::<f32>()
            * size
    }

    /// Glyph ids of `text`, recording each for the subset and ToUnicode map.
    pub fn encode(&mut self, text: &str) -> Vec<u16> {
        text.chars()
            .map(|c| {
                let gid = self.glyph(c);
                let c = if gid == self.fallback { '?' } else { c };
                self.used.entry(gid).or_insert(c);
                gid
            })
            .collect()
    }
}
