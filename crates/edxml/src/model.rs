//! The gói tin edXML (edXML package) as data: a văn bản (document) sent by a cơ quan
//! gửi (sending agency) to one or more cơ quan nhận (receiving agencies).
//!
//! Optional elements are `Option`/empty `Vec`: deployed systems send `<Fax/>` and
//! empty SignerInfo fields, and the reader maps an empty element to `None`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate};
use lienthong_domain::OrgCode;

use crate::error::EdxmlError;
use crate::limits::{
    MAX_ATTACHMENT_NAME_CHARS, MAX_CONTENT_CHARS, MAX_SUBJECT_CHARS, MAX_TO_PLACE_CHARS,
};
use crate::time;

/// A whole package: header, trace, business block and tệp đính kèm (attachments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub header: MessageHeader,
    /// TraceHeaderList: one entry per hop the package went through.
    pub traces: Vec<TraceHeader>,
    /// Bussiness (sic): what this package does to an earlier one (new, recall…).
    pub business: Option<Business>,
    pub attachments: Vec<Attachment>,
}

/// MessageHeader: the metadata of the văn bản.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHeader {
    /// Cơ quan gửi.
    pub from: Organization,
    /// Cơ quan nhận (one To element each).
    pub to: Vec<Organization>,
    /// Mã định danh văn bản.
    pub document_id: Option<DocumentId>,
    /// Số, ký hiệu văn bản.
    pub code: Code,
    /// Nơi và ngày ban hành.
    pub promulgation: PromulgationInfo,
    /// Loại văn bản.
    pub document_type: DocumentType,
    /// Trích yếu nội dung.
    pub subject: String,
    pub content: Option<String>,
    /// Người ký.
    pub signer: SignerInfo,
    /// Hạn xử lý.
    pub due_date: Option<NaiveDate>,
    /// Nơi nhận as printed on the document (ToPlaces/Place).
    pub to_places: Vec<String>,
    pub other: OtherInfo,
    /// Văn bản chỉ đạo or not, as the sender codes it.
    pub steering_type: Option<String>,
    /// The documents this one answers (văn bản trả lời).
    pub response_for: Vec<ResponseFor>,
}

/// A cơ quan, tổ chức (agency) as it appears in From, To and status packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// Mã định danh (OrganId).
    pub organ_id: OrgCode,
    /// Cơ quan chủ quản (OrganizationInCharge).
    pub organization_in_charge: Option<String>,
    /// Tên cơ quan.
    pub organ_name: String,
    /// Địa chỉ (OrganAdd).
    pub organ_add: Option<String>,
    pub email: Option<String>,
    pub telephone: Option<String>,
    pub fax: Option<String>,
    pub website: Option<String>,
}

impl Organization {
    /// An organization known only by code and name.
    pub fn new(organ_id: OrgCode, organ_name: impl Into<String>) -> Self {
        Organization {
            organ_id,
            organization_in_charge: None,
            organ_name: organ_name.into(),
            organ_add: None,
            email: None,
            telephone: None,
            fax: None,
            website: None,
        }
    }
}

/// Mã định danh văn bản: `OrganId,yyyy/MM/dd,Số/KýHiệu`,
/// e.g. `000.00.00.G22,2015/09/30,7816/VPCP-TTĐT`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentId {
    pub organ_id: OrgCode,
    pub date: NaiveDate,
    /// Số/ký hiệu, e.g. `7816/VPCP-TTĐT`.
    pub code: String,
}

impl DocumentId {
    /// Reads the three comma-separated parts; the date may be in any of the
    /// forms deployed systems send (see [`crate::time`]).
    pub fn parse(s: &str) -> Result<Self, EdxmlError> {
        let bad = |reason: &str| EdxmlError::invalid("DocumentId", s, reason);
        let mut parts = s.trim().splitn(3, ',');
        let (Some(org), Some(date), Some(code)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected OrganId,yyyy/MM/dd,Số/KýHiệu"));
        };
        let organ_id = OrgCode::parse(org).map_err(|e| EdxmlError::BadOrganId {
            element: "DocumentId".into(),
            value: org.into(),
            reason: e,
        })?;
        let date = time::parse_date(date.trim())
            .ok_or_else(|| bad("the date is not yyyy/MM/dd, yyyy-MM-dd or dd/MM/yyyy"))?;
        let code = code.trim();
        if code.is_empty() {
            return Err(bad("the Số/KýHiệu part is empty"));
        }
        Ok(DocumentId {
            organ_id,
            date,
            code: code.to_owned(),
        })
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{},{},{}",
            self.organ_id,
            self.date.format("%Y/%m/%d"),
            self.code
        )
    }
}

impl FromStr for DocumentId {
    type Err = EdxmlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DocumentId::parse(s)
    }
}

/// Số (CodeNumber) and ký hiệu (CodeNotation) of a văn bản.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Code {
    /// Số, e.g. `7816`.
    pub number: String,
    /// Ký hiệu, e.g. `VPCP-TTĐT`.
    pub notation: String,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.number.is_empty(), self.notation.is_empty()) {
            (false, false) => write!(f, "{}/{}", self.number, self.notation),
            (false, true) => f.write_str(&self.number),
            _ => f.write_str(&self.notation),
        }
    }
}

/// Địa danh (Place) and ngày ban hành (PromulgationDate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromulgationInfo {
    pub place: String,
    pub date: NaiveDate,
}

/// Loại văn bản: Type (1 quy phạm pháp luật, 2 hành chính), TypeDetail and TypeName.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocumentType {
    pub kind: String,
    pub detail: Option<String>,
    pub name: String,
}

/// Người ký: thẩm quyền (Competence), chức vụ (Position), họ tên (FullName).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignerInfo {
    pub competence: Option<String>,
    pub position: Option<String>,
    pub full_name: Option<String>,
}

/// OtherInfo: độ khẩn, phạm vi ban hành, ký hiệu người đánh máy, số bản, số trang…
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OtherInfo {
    /// Độ khẩn (0 thường, 1 khẩn, 2 thượng khẩn, 3 hỏa tốc, 4 hỏa tốc hẹn giờ).
    pub priority: Option<u8>,
    pub sphere_of_promulgation: Option<String>,
    pub typer_notation: Option<String>,
    pub promulgation_amount: Option<u32>,
    pub page_amount: Option<u32>,
    /// Văn bản chỉ đạo (Direction).
    pub direction: Option<bool>,
    /// Phụ lục (Appendixes/Appendix).
    pub appendixes: Vec<String>,
}

/// ResponseFor: the văn bản this one replies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseFor {
    pub organ_id: OrgCode,
    /// Số/ký hiệu of the earlier document.
    pub code: String,
    pub promulgation_date: NaiveDate,
    pub document_id: Option<DocumentId>,
}

/// One hop of the package (TraceHeader): who handled it, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceHeader {
    pub organ_id: OrgCode,
    pub timestamp: DateTime<FixedOffset>,
}

/// BussinessDocType: what the package does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BusinessDocType {
    /// 0: văn bản mới.
    New,
    /// 1: thu hồi (recall an earlier package).
    Recall,
    /// 2: cập nhật (update an earlier package).
    Update,
    /// 3: thay thế (replace an earlier package).
    Replace,
}

impl BusinessDocType {
    pub fn code(self) -> u8 {
        match self {
            BusinessDocType::New => 0,
            BusinessDocType::Recall => 1,
            BusinessDocType::Update => 2,
            BusinessDocType::Replace => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(BusinessDocType::New),
            1 => Some(BusinessDocType::Recall),
            2 => Some(BusinessDocType::Update),
            3 => Some(BusinessDocType::Replace),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BusinessDocType::New => "new (văn bản mới)",
            BusinessDocType::Recall => "recall (thu hồi)",
            BusinessDocType::Update => "update (cập nhật)",
            BusinessDocType::Replace => "replace (thay thế)",
        }
    }
}

/// The Bussiness block (the standard's spelling).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Business {
    pub doc_type: BusinessDocType,
    /// BussinessDocReason: why it is recalled, updated or replaced.
    pub reason: Option<String>,
}

/// A tệp đính kèm: the signed PDF of the văn bản, its appendices, zip files…
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// `cid:…`, the link between the manifest Reference and the payload.
    pub content_id: String,
    pub content_type: String,
    pub description: Option<String>,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Counts characters (not bytes: Vietnamese letters take 2–3 bytes in UTF-8).
pub(crate) fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), EdxmlError> {
    let found = value.chars().count();
    if found > max {
        return Err(EdxmlError::FieldTooLong { field, max, found });
    }
    Ok(())
}

impl Package {
    /// The field limits of the deployed validators; applied on read and on write.
    pub fn check_limits(&self) -> Result<(), EdxmlError> {
        let h = &self.header;
        check_len("Subject", &h.subject, MAX_SUBJECT_CHARS)?;
        if let Some(c) = &h.content {
            check_len("Content", c, MAX_CONTENT_CHARS)?;
        }
        for p in &h.to_places {
            check_len("ToPlaces/Place", p, MAX_TO_PLACE_CHARS)?;
        }
        for a in &self.attachments {
            check_len("AttachmentName", &a.name, MAX_ATTACHMENT_NAME_CHARS)?;
        }
        Ok(())
    }
}
