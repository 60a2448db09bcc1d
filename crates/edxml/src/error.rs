//! Why a gói tin edXML (edXML package) was refused or could not be written.
//!
//! The messages are sent back to the sending agency in a status package 02 (từ chối
//! tiếp nhận), so each one names the element at fault and says what was expected.

use lienthong_domain::org_code::OrgCodeError;

/// Errors reading, checking or writing an edXML package.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EdxmlError {
    #[error("the package is {found} bytes, more than the {max} bytes accepted")]
    TooLarge { max: usize, found: usize },
    #[error("element <{element}> is nested more than {max} levels deep")]
    TooDeep { element: String, max: usize },
    #[error("the package has more than {max} elements")]
    TooManyElements { max: usize },
    #[error("element <{element}> has more than {max} attributes")]
    TooManyAttributes { element: String, max: usize },
    #[error("attribute {attribute} of <{element}> is longer than {max} bytes")]
    AttributeTooLong {
        element: String,
        attribute: String,
        max: usize,
    },
    #[error("the text of <{element}> is longer than {max} bytes")]
    TextTooLong { element: String, max: usize },
    #[error(
        "DOCTYPE and entity declarations are not accepted in edXML packages (they allow \
         reading local files and memory exhaustion)"
    )]
    DoctypeRefused,
    #[error("the entity reference &{name}; is not defined (only &lt; &gt; &amp; &apos; &quot; and character references are allowed)")]
    UnknownEntity { name: String },
    #[error("the package is declared in encoding {0}; only UTF-8 is accepted")]
    UnsupportedEncoding(String),
    #[error("element <{element}> uses the namespace prefix \"{prefix}\", which is not declared")]
    UnboundPrefix { element: String, prefix: String },
    #[error("not well-formed XML at byte {position}: {reason}")]
    Malformed { position: u64, reason: String },
    #[error("this is not an edXML package: the root element is <{found}>, expected <edXML> or <edXMLEnvelope>")]
    NotEdxml { found: String },
    #[error("the required element {element} is missing or empty")]
    Missing { element: String },
    #[error("{element} has the value \"{value}\", which is not valid: {reason}")]
    Invalid {
        element: String,
        value: String,
        reason: String,
    },
    #[error("{element} \"{value}\" is not an organization identifier: {reason}")]
    BadOrganId {
        element: String,
        value: String,
        reason: OrgCodeError,
    },
    #[error("{field} has {found} characters, more than the {max} allowed")]
    FieldTooLong {
        field: &'static str,
        max: usize,
        found: usize,
    },
    #[error("{field} contains a character that XML 1.0 cannot carry (U+{code:04X})")]
    ForbiddenChar { field: &'static str, code: u32 },
    #[error("the attachment {attachment} is not valid base64: {reason}")]
    BadBase64 { attachment: String, reason: String },
    #[error("could not write the package: {0}")]
    Write(String),
}

impl EdxmlError {
    pub(crate) fn missing(element: impl Into<String>) -> Self {
        EdxmlError::Missing {
            element: element.into(),
        }
    }

    pub(crate) fn invalid(
        element: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        EdxmlError::Invalid {
            element: element.into(),
            value: value.into(),
            reason: reason.into(),
        }
    }
}

/// Errors signing a package or checking its chữ ký số (digital signature).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error(transparent)]
    Xml(#[from] EdxmlError),
    #[error("the package carries no Signature in edXMLHeader")]
    Unsigned,
    #[error("the package is already signed")]
    AlreadySigned,
    #[error("the package has {0} Signature elements; exactly one, in edXMLHeader, is accepted")]
    SeveralSignatures(usize),
    #[error("the Signature is not where edXML puts it (inside edXMLHeader)")]
    MisplacedSignature,
    #[error("the package has no edXMLHeader end tag to put the signature before")]
    NoHeader,
    #[error("Signature/{element} is missing")]
    Missing { element: &'static str },
    #[error("the {what} algorithm {uri} is not accepted")]
    UnsupportedAlgorithm { what: &'static str, uri: String },
    #[error("the signature must cover the whole package (Reference URI=\"\"), found URI=\"{0}\"")]
    UnsupportedReference(String),
    #[error("the signature has {0} Reference elements; exactly one is accepted")]
    ReferenceCount(usize),
    #[error("the transforms must be enveloped-signature then canonicalization; found {0}")]
    UnsupportedTransforms(String),
    #[error("{element} is not valid base64")]
    BadBase64 { element: &'static str },
    #[error("the certificate in KeyInfo cannot be read: {0}")]
    BadCertificate(String),
    #[error("the digest does not match: the package was changed after it was signed")]
    DigestMismatch,
    #[error("the signature value does not match the certificate in KeyInfo")]
    BadSignatureValue,
    #[error("the key does not belong to the certificate")]
    KeyCertificateMismatch,
    #[error("keys of this type cannot sign edXML packages: {0}")]
    UnsupportedKey(String),
    #[error("cryptographic failure: {0}")]
    Crypto(String),
}

impl From<openssl::error::ErrorStack> for SignatureError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        SignatureError::Crypto(e.to_string())
    }
}
