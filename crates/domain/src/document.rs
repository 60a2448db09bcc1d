//! Documents (văn bản) under Nghị định 30/2020/NĐ-CP: types and their
//! abbreviations, urgency, classification, the number-and-symbol (số, ký hiệu),
//! and which numbering series a document takes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// Incoming (văn bản đến) or outgoing (văn bản đi).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Incoming,
    Outgoing,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Incoming => "incoming",
            Direction::Outgoing => "outgoing",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "incoming" => Some(Direction::Incoming),
            "outgoing" => Some(Direction::Outgoing),
            _ => None,
        }
    }
}

/// The document types of ND 30/2020 Appendix III with their abbreviations.
/// `Cv` (công văn) and `ThuCong` (thư công) have no abbreviation in a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DocumentType {
    NghiQuyet,
    QuyetDinh,
    ChiThi,
    QuyChe,
    QuyDinh,
    ThongCao,
    ThongBao,
    HuongDan,
    ChuongTrinh,
    KeHoach,
    PhuongAn,
    DeAn,
    DuAn,
    BaoCao,
    BienBan,
    ToTrinh,
    HopDong,
    CongDien,
    BanGhiNho,
    BanThoaThuan,
    GiayUyQuyen,
    GiayMoi,
    GiayGioiThieu,
    GiayNghiPhep,
    PhieuGui,
    PhieuChuyen,
    PhieuBao,
    ThuCong,
    CongVan,
}

impl DocumentType {
    pub const ALL: [DocumentType; 29] = [
        DocumentType::NghiQuyet,
        DocumentType::QuyetDinh,
        DocumentType::ChiThi,
        DocumentType::QuyChe,
        DocumentType::QuyDinh,
        DocumentType::ThongCao,
        DocumentType::ThongBao,
        DocumentType::HuongDan,
        DocumentType::ChuongTrinh,
        DocumentType::KeHoach,
        DocumentType::PhuongAn,
        DocumentType::DeAn,
        DocumentType::DuAn,
        DocumentType::BaoCao,
        DocumentType::BienBan,
        DocumentType::ToTrinh,
        DocumentType::HopDong,
        DocumentType::CongDien,
        DocumentType::BanGhiNho,
        DocumentType::BanThoaThuan,
        DocumentType::GiayUyQuyen,
        DocumentType::GiayMoi,
        DocumentType::GiayGioiThieu,
        DocumentType::GiayNghiPhep,
        DocumentType::PhieuGui,
        DocumentType::PhieuChuyen,
        DocumentType::PhieuBao,
        DocumentType::ThuCong,
        DocumentType::CongVan,
    ];

    /// The code stored and exchanged: the abbreviation, or `CV`/`TC` for the two
    /// types without one.
    pub fn code(self) -> &'static str {
        match self {
            DocumentType::ThuCong => "THU",
            DocumentType::CongVan => "CV",
            other => other.abbreviation().unwrap_or("CV"),
        }
    }

    /// The abbreviation printed in a symbol (`QĐ` in `15/QĐ-SKHCN`).
    pub fn abbreviation(self) -> Option<&'static str> {
        Some(match self {
            DocumentType::NghiQuyet => "NQ",
            DocumentType::QuyetDinh => "QĐ",
            DocumentType::ChiThi => "CT",
            DocumentType::QuyChe => "QC",
            DocumentType::QuyDinh => "QyĐ",
            DocumentType::ThongCao => "TC",
            DocumentType::ThongBao => "TB",
            DocumentType::HuongDan => "HD",
            DocumentType::ChuongTrinh => "CTr",
            DocumentType::KeHoach => "KH",
            DocumentType::PhuongAn => "PA",
            DocumentType::DeAn => "ĐA",
            DocumentType::DuAn => "DA",
            DocumentType::BaoCao => "BC",
            DocumentType::BienBan => "BB",
            DocumentType::ToTrinh => "TTr",
            DocumentType::HopDong => "HĐ",
            DocumentType::CongDien => "CĐ",
            DocumentType::BanGhiNho => "BGN",
            DocumentType::BanThoaThuan => "BTT",
            DocumentType::GiayUyQuyen => "GUQ",
            DocumentType::GiayMoi => "GM",
            DocumentType::GiayGioiThieu => "GGT",
            DocumentType::GiayNghiPhep => "GNP",
            DocumentType::PhieuGui => "PG",
            DocumentType::PhieuChuyen => "PC",
            DocumentType::PhieuBao => "PB",
            DocumentType::ThuCong | DocumentType::CongVan => return None,
        })
    }

    /// The message-catalogue key of the type's name (`doctype.quyet_dinh`).
    pub fn key(self) -> &'static str {
        match self {
            DocumentType::NghiQuyet => "doctype.nghi_quyet",
            DocumentType::QuyetDinh => "doctype.quyet_dinh",
            DocumentType::ChiThi => "doctype.chi_thi",
            DocumentType::QuyChe => "doctype.quy_che",
            DocumentType::QuyDinh => "doctype.quy_dinh",
            DocumentType::ThongCao => "doctype.thong_cao",
            DocumentType::ThongBao => "doctype.thong_bao",
            DocumentType::HuongDan => "doctype.huong_dan",
            DocumentType::ChuongTrinh => "doctype.chuong_trinh",
            DocumentType::KeHoach => "doctype.ke_hoach",
            DocumentType::PhuongAn => "doctype.phuong_an",
            DocumentType::DeAn => "doctype.de_an",
            DocumentType::DuAn => "doctype.du_an",
            DocumentType::BaoCao => "doctype.bao_cao",
            DocumentType::BienBan => "doctype.bien_ban",
            DocumentType::ToTrinh => "doctype.to_trinh",
            DocumentType::HopDong => "doctype.hop_dong",
            DocumentType::CongDien => "doctype.cong_dien",
            DocumentType::BanGhiNho => "doctype.ban_ghi_nho",
            DocumentType::BanThoaThuan => "doctype.ban_thoa_thuan",
            DocumentType::GiayUyQuyen => "doctype.giay_uy_quyen",
            DocumentType::GiayMoi => "doctype.giay_moi",
            DocumentType::GiayGioiThieu => "doctype.giay_gioi_thieu",
            DocumentType::GiayNghiPhep => "doctype.giay_nghi_phep",
            DocumentType::PhieuGui => "doctype.phieu_gui",
            DocumentType::PhieuChuyen => "doctype.phieu_chuyen",
            DocumentType::PhieuBao => "doctype.phieu_bao",
            DocumentType::ThuCong => "doctype.thu_cong",
            DocumentType::CongVan => "doctype.cong_van",
        }
    }

    /// The type's name as printed above the subject (tên loại văn bản).
    pub fn name_vi(self) -> &'static str {
        match self {
            DocumentType::NghiQuyet => "Nghị quyết",
            DocumentType::QuyetDinh => "Quyết định",
            DocumentType::ChiThi => "Chỉ thị",
            DocumentType::QuyChe => "Quy chế",
            DocumentType::QuyDinh => "Quy định",
            DocumentType::ThongCao => "Thông cáo",
            DocumentType::ThongBao => "Thông báo",
            DocumentType::HuongDan => "Hướng dẫn",
            DocumentType::ChuongTrinh => "Chương trình",
            DocumentType::KeHoach => "Kế hoạch",
            DocumentType::PhuongAn => "Phương án",
            DocumentType::DeAn => "Đề án",
            DocumentType::DuAn => "Dự án",
            DocumentType::BaoCao => "Báo cáo",
            DocumentType::BienBan => "Biên bản",
            DocumentType::ToTrinh => "Tờ trình",
            DocumentType::HopDong => "Hợp đồng",
            DocumentType::CongDien => "Công điện",
            DocumentType::BanGhiNho => "Bản ghi nhớ",
            DocumentType::BanThoaThuan => "Bản thỏa thuận",
            DocumentType::GiayUyQuyen => "Giấy ủy quyền",
            DocumentType::GiayMoi => "Giấy mời",
            DocumentType::GiayGioiThieu => "Giấy giới thiệu",
            DocumentType::GiayNghiPhep => "Giấy nghỉ phép",
            DocumentType::PhieuGui => "Phiếu gửi",
            DocumentType::PhieuChuyen => "Phiếu chuyển",
            DocumentType::PhieuBao => "Phiếu báo",
            DocumentType::ThuCong => "Thư công",
            DocumentType::CongVan => "Công văn",
        }
    }

    /// Accepts the code, the abbreviation with or without diacritics, or the
    /// Vietnamese name (`QĐ`, `QD`, `qđ`, `Quyết định`, `CV`, `Công văn`).
    pub fn parse(s: &str) -> Result<Self, DocumentError> {
        let t = s.trim();
        let forms = |d: DocumentType| [Some(d.code()), d.abbreviation(), Some(d.name_vi())];
        // Exact first, then ignoring case, then ignoring diacritics: ĐA (đề án) and
        // DA (dự án) differ only by a diacritic, so a looser match must not win.
        let matchers: [&dyn Fn(&str) -> bool; 3] = [
            &|f| f == t,
            &|f| f.to_lowercase() == t.to_lowercase(),
            &|f| fold(f) == fold(t),
        ];
        matchers
            .iter()
            .find_map(|m| {
                DocumentType::ALL
                    .into_iter()
                    .find(|d| forms(*d).into_iter().flatten().any(m))
            })
            .ok_or(DocumentError::Type)
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Lower-case with Vietnamese diacritics removed (đ → d), for lenient matching.
pub fn fold(s: &str) -> String {
    s.chars()
        .map(|c| {
            let lower = c.to_lowercase().next().unwrap_or(c);
            fold_char(lower)
        })
        .collect()
}

/// A comparable form of an agency's name: folded, with the abbreviations that
/// clerks type expanded (`Văn phòng UBND tỉnh` = `Văn phòng Ủy ban nhân dân tỉnh`).
pub fn agency_name_key(name: &str) -> String {
    fold(name)
        .split(|c: char| c.is_whitespace() || c == ',' || c == '.')
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "ubnd" => "uy ban nhan dan",
            "hdnd" => "hoi dong nhan dan",
            "tt&tt" | "tttt" => "thong tin va truyen thong",
            "kh&cn" | "khcn" => "khoa hoc va cong nghe",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn fold_char(c: char) -> char {
    const GROUPS: [(&str, char); 12] = [
        ("àáảãạăằắẳẵặâầấẩẫậ", 'a'),
        ("èéẻẽẹêềếểễệ", 'e'),
        ("ìíỉĩị", 'i'),
        ("òóỏõọôồốổỗộơờớởỡợ", 'o'),
        ("ùúủũụưừứửữự", 'u'),
        ("ỳýỷỹỵ", 'y'),
        ("đ", 'd'),
        ("ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ", 'a'),
        ("ÈÉẺẼẸÊỀẾỂỄỆ", 'e'),
        ("ÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ", 'o'),
        ("ÙÚỦŨỤƯỪỨỬỮỰ", 'u'),
        ("Đ", 'd'),
    ];
    GROUPS
        .iter()
        .find(|(set, _)| set.contains(c))
        .map(|(_, base)| *base)
        .unwrap_or(c)
}

/// Độ khẩn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Thường.
    Normal,
    /// Khẩn.
    Urgent,
    /// Thượng khẩn.
    VeryUrgent,
    /// Hỏa tốc.
    Flash,
}

impl Urgency {
    pub const ALL: [Urgency; 4] = [
        Urgency::Normal,
        Urgency::Urgent,
        Urgency::VeryUrgent,
        Urgency::Flash,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::Urgent => "urgent",
            Urgency::VeryUrgent => "very_urgent",
            Urgency::Flash => "flash",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DocumentError> {
        Urgency::ALL
            .into_iter()
            .find(|u| u.as_str() == s.trim())
            .ok_or(DocumentError::Urgency)
    }
}

/// Độ mật. Anything above `Normal` is a classified document: visible only to the
/// people explicitly granted, and numbered on its own series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// Thường.
    Normal,
    /// Mật.
    Confidential,
    /// Tối mật.
    Secret,
    /// Tuyệt mật.
    TopSecret,
}

impl Classification {
    pub const ALL: [Classification; 4] = [
        Classification::Normal,
        Classification::Confidential,
        Classification::Secret,
        Classification::TopSecret,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Normal => "normal",
            Classification::Confidential => "confidential",
            Classification::Secret => "secret",
            Classification::TopSecret => "top_secret",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DocumentError> {
        Classification::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or(DocumentError::Classification)
    }
    pub fn is_classified(self) -> bool {
        self != Classification::Normal
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("unknown document type")]
    Type,
    #[error("unknown urgency")]
    Urgency,
    #[error("unknown classification")]
    Classification,
    #[error("a number and symbol looks like 12/QĐ-UBND or 215/SKHCN-VP")]
    Symbol,
    #[error("the subject must not be empty and at most 500 characters")]
    Subject,
}

impl ErrorCode for DocumentError {
    fn code(&self) -> &'static str {
        match self {
            DocumentError::Type => "error.doc_type",
            DocumentError::Urgency => "error.urgency",
            DocumentError::Classification => "error.classification",
            DocumentError::Symbol => "error.symbol",
            DocumentError::Subject => "error.subject",
        }
    }
}

/// Số, ký hiệu: `12/QĐ-UBND` is number 12 with notation `QĐ-UBND`. Documents from
/// outside the province may carry the year (`123/2024/NĐ-CP`), so the notation may
/// contain further slashes. Limits from ND 30 Appendix VI: number ≤ 11 characters,
/// notation ≤ 30.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DocumentSymbol {
    number: String,
    notation: String,
}

impl DocumentSymbol {
    pub fn parse(input: &str) -> Result<Self, DocumentError> {
        let mut s = input.trim();
        for prefix in ["Số:", "số:", "Số", "So:"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest.trim();
                break;
            }
        }
        let (number, notation) = s.split_once('/').ok_or(DocumentError::Symbol)?;
        let (number, notation) = (number.trim(), notation.trim());
        let number_ok =
            !number.is_empty() && number.len() <= 11 && number.chars().all(|c| c.is_ascii_digit());
        let notation_ok = !notation.is_empty()
            && notation.chars().count() <= 30
            && notation.chars().any(|c| c.is_alphabetic())
            && notation
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '/' | '&' | '.'))
            && !notation.starts_with(['-', '/'])
            && !notation.ends_with(['-', '/']);
        if !number_ok || !notation_ok {
            return Err(DocumentError::Symbol);
        }
        Ok(DocumentSymbol {
            number: number.to_owned(),
            notation: notation.to_owned(),
        })
    }

    /// Builds the symbol of an outgoing document (ND 30 Appendix I):
    /// `15/QĐ-SKHCN`, or for a công văn `215/SKHCN-VP` (issuer, then drafting unit).
    pub fn for_outgoing(
        number: u32,
        doc_type: DocumentType,
        issuer: &str,
        drafting_unit: &str,
    ) -> Self {
        let notation = match doc_type.abbreviation() {
            Some(abbr) => format!("{abbr}-{issuer}"),
            None if drafting_unit.is_empty() => issuer.to_owned(),
            None => format!("{issuer}-{drafting_unit}"),
        };
        DocumentSymbol {
            number: number.to_string(),
            notation,
        }
    }

    pub fn number(&self) -> &str {
        &self.number
    }

    pub fn notation(&self) -> &str {
        &self.notation
    }

    /// The same symbol written with or without diacritics compares equal (`QD` vs `QĐ`).
    pub fn folded(&self) -> String {
        format!(
            "{}/{}",
            self.number.trim_start_matches('0'),
            fold(&self.notation)
        )
    }
}

impl fmt::Display for DocumentSymbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.number, self.notation)
    }
}

/// Trích yếu: what the document is about, ≤ 500 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject(String);

impl Subject {
    pub fn parse(s: &str) -> Result<Self, DocumentError> {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 500 {
            return Err(DocumentError::Subject);
        }
        Ok(Subject(t.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which yearly series of a register a document is numbered on (ND 30 art. 15):
/// classified documents have their own series; legal normative documents
/// (văn bản quy phạm pháp luật) one per type; everything else shares one.
pub fn numbering_series(
    doc_type: DocumentType,
    legal_normative: bool,
    classification: Classification,
) -> String {
    if classification.is_classified() {
        "MAT".to_owned()
    } else if legal_normative {
        format!("QPPL-{}", doc_type.code())
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_by_code_abbreviation_and_name() {
        for t in DocumentType::ALL {
            assert_eq!(DocumentType::parse(t.code()), Ok(t), "{t:?}");
            assert_eq!(DocumentType::parse(t.name_vi()), Ok(t), "{t:?}");
            if let Some(a) = t.abbreviation() {
                assert_eq!(DocumentType::parse(a), Ok(t), "{a}");
            }
        }
        assert_eq!(DocumentType::parse("QD"), Ok(DocumentType::QuyetDinh));
        assert_eq!(DocumentType::parse("qđ"), Ok(DocumentType::QuyetDinh));
        assert_eq!(
            DocumentType::parse(" quyet dinh "),
            Ok(DocumentType::QuyetDinh)
        );
        assert_eq!(DocumentType::parse("QyĐ"), Ok(DocumentType::QuyDinh));
        assert_eq!(DocumentType::parse("Công văn"), Ok(DocumentType::CongVan));
        assert_eq!(DocumentType::parse("XYZ"), Err(DocumentError::Type));
        let mut codes: Vec<_> = DocumentType::ALL.iter().map(|t| t.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), DocumentType::ALL.len(), "codes are unique");
        // Codes must stay distinct after folding too (ĐA vs DA are different types).
        assert_ne!(DocumentType::parse("ĐA"), DocumentType::parse("DA"));
    }

    #[test]
    fn symbols_parse_as_written_in_the_wild() {
        let s = DocumentSymbol::parse("12/QĐ-UBND").unwrap();
        assert_eq!((s.number(), s.notation()), ("12", "QĐ-UBND"));
        assert_eq!(
            DocumentSymbol::parse("Số: 215/SKHCN-VP")
                .unwrap()
                .to_string(),
            "215/SKHCN-VP"
        );
        assert_eq!(
            DocumentSymbol::parse(" 7816/VPCP-TTĐT ")
                .unwrap()
                .notation(),
            "VPCP-TTĐT"
        );
        assert_eq!(
            DocumentSymbol::parse("123/2024/NĐ-CP").unwrap().notation(),
            "2024/NĐ-CP"
        );
        assert_eq!(
            DocumentSymbol::parse("01/TTr-STTTT&SKHCN")
                .unwrap()
                .number(),
            "01"
        );
        for bad in [
            "",
            "12",
            "/QĐ-UBND",
            "12/",
            "QĐ/UBND",
            "12/QĐ UBND",
            "12/-UBND",
            "12/2024",
            "123456789012/QĐ",
            "12/QĐ-",
            "a1/QĐ",
        ] {
            assert_eq!(
                DocumentSymbol::parse(bad),
                Err(DocumentError::Symbol),
                "{bad:?}"
            );
        }
        let long = format!("1/{}", "A".repeat(31));
        assert!(DocumentSymbol::parse(&long).is_err());
    }

    #[test]
    fn folded_symbols_match_across_diacritics_and_leading_zeros() {
        let a = DocumentSymbol::parse("012/QĐ-UBND").unwrap();
        let b = DocumentSymbol::parse("12/QD-UBND").unwrap();
        assert_eq!(a.folded(), b.folded());
        assert_ne!(
            a.folded(),
            DocumentSymbol::parse("12/QĐ-SKHCN").unwrap().folded()
        );
    }

    #[test]
    fn outgoing_symbols_follow_nd30() {
        assert_eq!(
            DocumentSymbol::for_outgoing(15, DocumentType::QuyetDinh, "SKHCN", "VP").to_string(),
            "15/QĐ-SKHCN"
        );
        assert_eq!(
            DocumentSymbol::for_outgoing(215, DocumentType::CongVan, "SKHCN", "VP").to_string(),
            "215/SKHCN-VP"
        );
        assert_eq!(
            DocumentSymbol::for_outgoing(3, DocumentType::CongVan, "UBND", "").to_string(),
            "3/UBND"
        );
        assert_eq!(
            DocumentSymbol::for_outgoing(9, DocumentType::ToTrinh, "SKHCN", "VP").to_string(),
            "9/TTr-SKHCN"
        );
        for t in DocumentType::ALL {
            let built = DocumentSymbol::for_outgoing(1, t, "SKHCN", "VP");
            assert_eq!(
                DocumentSymbol::parse(&built.to_string()),
                Ok(built),
                "{t:?} symbols parse back"
            );
        }
    }

    #[test]
    fn numbering_series() {
        use super::numbering_series as series;
        assert_eq!(
            series(DocumentType::CongVan, false, Classification::Normal),
            ""
        );
        assert_eq!(
            series(DocumentType::QuyetDinh, false, Classification::Normal),
            ""
        );
        assert_eq!(
            series(DocumentType::QuyetDinh, true, Classification::Normal),
            "QPPL-QĐ"
        );
        assert_eq!(
            series(DocumentType::NghiQuyet, true, Classification::Normal),
            "QPPL-NQ"
        );
        for c in [
            Classification::Confidential,
            Classification::Secret,
            Classification::TopSecret,
        ] {
            assert_eq!(series(DocumentType::QuyetDinh, true, c), "MAT");
            assert!(c.is_classified());
        }
        assert!(!Classification::Normal.is_classified());
    }

    #[test]
    fn enums_round_trip() {
        for u in Urgency::ALL {
            assert_eq!(Urgency::parse(u.as_str()), Ok(u));
        }
        for c in Classification::ALL {
            assert_eq!(Classification::parse(c.as_str()), Ok(c));
        }
        assert!(Urgency::parse("asap").is_err());
        assert!(Classification::parse("hidden").is_err());
        assert_eq!(Direction::parse("incoming"), Some(Direction::Incoming));
        assert_eq!(Direction::parse("sideways"), None);
    }

    #[test]
    fn subjects_and_folding() {
        assert!(Subject::parse("  ").is_err());
        assert!(Subject::parse(&"ữ".repeat(500)).is_ok());
        assert!(Subject::parse(&"ữ".repeat(501)).is_err());
        assert_eq!(fold("Quyết Định ĐÔNG"), "quyet dinh dong");
        assert_eq!(
            agency_name_key("Văn phòng UBND tỉnh"),
            agency_name_key("Văn phòng Ủy ban nhân dân  tỉnh")
        );
        assert_eq!(
            agency_name_key("Sở KH&CN"),
            agency_name_key("Sở Khoa học và Công nghệ")
        );
        assert_ne!(agency_name_key("Sở Y tế"), agency_name_key("Sở Tài chính"));
    }
}
