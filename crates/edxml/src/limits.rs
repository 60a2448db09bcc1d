//! Bounds on what a received package may cost us, and the field limits of the
//! deployed validators (giới hạn độ dài trường).

/// Resource bounds applied while reading XML (packages, status packages and the
/// canonicalization pass of signature checks). Defaults suit the national exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The whole package, attachments included.
    pub max_input_bytes: usize,
    /// Nesting of elements.
    pub max_depth: usize,
    /// Elements in the whole package.
    pub max_elements: usize,
    /// Attributes on one element (namespace declarations included).
    pub max_attributes: usize,
    /// One attribute value, in bytes.
    pub max_attribute_bytes: usize,
    /// The text of one element, in bytes. Attachment payloads are bounded by
    /// `max_input_bytes` only.
    pub max_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 64 * 1024 * 1024,
            max_depth: 64,
            max_elements: 100_000,
            max_attributes: 64,
            max_attribute_bytes: 16 * 1024,
            max_text_bytes: 1024 * 1024,
        }
    }
}

/// Trích yếu (Subject) and Content: at most this many characters.
pub const MAX_SUBJECT_CHARS: usize = 500;
/// Content (nội dung): at most this many characters.
pub const MAX_CONTENT_CHARS: usize = 500;
/// One nơi nhận (ToPlaces/Place): at most this many characters.
pub const MAX_TO_PLACE_CHARS: usize = 150;
/// Tên tệp đính kèm (AttachmentName): at most this many characters.
pub const MAX_ATTACHMENT_NAME_CHARS: usize = 200;
