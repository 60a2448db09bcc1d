//! The liberal reader: accepts what deployed systems send (prefixed and unprefixed
//! elements, three date forms, zone-less timestamps, empty optional elements,
//! attachments described twice), refuses what is dangerous (see [`crate::xml`]) or
//! meaningless, and says precisely which element is wrong.
//!
//! Elements are matched by local name: the namespace prefix varies between senders
//! and the Signature subtree is left to [`crate::sign`].

use std::str::FromStr;

use chrono::NaiveDate;
use lienthong_domain::OrgCode;

use crate::error::EdxmlError;
use crate::limits::Limits;
use crate::model::{
    Attachment, Business, BusinessDocType, Code, DocumentId, DocumentType, MessageHeader,
    Organization, OtherInfo, Package, PromulgationInfo, ResponseFor, SignerInfo, TraceHeader,
};
use crate::sign::{read_digesting, verify_parsed, PresumedDigest, Verified};
use crate::status::{StaffInfo, StatusCode, StatusPackage};
use crate::time::{parse_date, parse_timestamp};
use crate::xml::{parse_tree, Element};
use crate::SignatureError;

/// Reads a document package.
pub fn parse_package(input: &[u8], limits: &Limits) -> Result<Package, EdxmlError> {
    package_from_tree(&mut parse_tree(input, limits, true)?)
}

/// A document package from a tree read with its payloads decoded. The payloads are
/// moved out of the tree only once everything before them has been read, so a
/// missing MessageHeader leaves the tree whole (for [`status_from_tree`]).
pub(crate) fn package_from_tree(root: &mut Element) -> Result<Package, EdxmlError> {
    let env = envelope(root)?;
    let header = req(env, "edXMLHeader", "edXMLHeader")?;
    let mh = req(header, "MessageHeader", MISSING_MESSAGE_HEADER)?;
    let message = message_header(mh)?;
    let traces = match header.child("TraceHeaderList") {
        Some(list) => list
            .children_named("TraceHeader")
            .map(trace)
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let business = header.child("Bussiness").map(business).transpose()?;
    // The payloads are moved out of the tree, not copied.
    let attachments = match envelope_mut(root)
        .children
        .iter_mut()
        .find(|c| c.local == "edXMLBody")
    {
        Some(body) => attachments(body)?,
        None => Vec::new(),
    };
    let p = Package {
        header: message,
        traces,
        business,
        attachments,
    };
    p.check_limits()?;
    Ok(p)
}

/// A received edXML document read once for all the receiver does with it.
///
/// [`Package::parse`] and [`crate::verify()`] each read the whole input; a receiver
/// calling both tokenizes a large attachment twice and the signature check builds a
/// tree of its own. Here the input is read once (hardened as always: DTDs refused,
/// [`Limits`] applied, payloads base64-decoded), and the signature's digest is
/// worked out in that same pass for a package signed as we sign ours (others get a
/// canonicalization pass of their own). The results are those of the separate
/// functions.
///
/// ```
/// # use lienthong_edxml::*;
/// # fn demo(bytes: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// let received = Received::read(bytes, &Limits::default())?;
/// let verified = received.verify();
/// match received.contents()? {
///     Contents::Document(package) => { let _ = (package, verified?); }
///     Contents::Status(status) => { let _ = (status, verified?); }
/// }
/// # Ok(()) }
/// ```
pub struct Received<'a> {
    xml: &'a [u8],
    limits: Limits,
    root: Element,
    digest: Option<PresumedDigest>,
}

/// What a received document turned out to be.
// Made once per received package and matched at once: boxing would only add an
// allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contents {
    Document(Package),
    Status(StatusPackage),
}

impl<'a> Received<'a> {
    /// Reads `xml`: the errors are those of [`Package::parse`] that concern the XML
    /// itself (well-formedness, DTDs, limits).
    pub fn read(xml: &'a [u8], limits: &Limits) -> Result<Received<'a>, EdxmlError> {
        let (root, digest) = read_digesting(xml, limits, true)?;
        Ok(Received {
            xml,
            limits: limits.clone(),
            root,
            digest,
        })
    }

    /// The check of [`crate::verify_with`], with the limits given to [`Received::read`].
    pub fn verify(&self) -> Result<Verified, SignatureError> {
        verify_parsed(self.xml, &self.root, &self.limits, self.digest.as_ref())
    }

    /// The document package, as [`Package::parse`] reads it (the attachments are
    /// moved out, not copied).
    pub fn package(mut self) -> Result<Package, EdxmlError> {
        package_from_tree(&mut self.root)
    }

    /// The status package, as [`StatusPackage::parse`] reads it.
    pub fn status(&self) -> Result<StatusPackage, EdxmlError> {
        status_from_tree(&self.root)
    }

    /// The document package or, when edXMLHeader has no MessageHeader, the status
    /// package: what the exchange accepts, in one call.
    pub fn contents(mut self) -> Result<Contents, EdxmlError> {
        match package_from_tree(&mut self.root) {
            Ok(p) => Ok(Contents::Document(p)),
            Err(EdxmlError::Missing { element }) if element == MISSING_MESSAGE_HEADER => {
                status_from_tree(&self.root).map(Contents::Status)
            }
            Err(e) => Err(e),
        }
    }
}

const MISSING_MESSAGE_HEADER: &str = "edXMLHeader/MessageHeader";

/// Reads a status package.
pub fn parse_status(input: &[u8], limits: &Limits) -> Result<StatusPackage, EdxmlError> {
    status_from_tree(&parse_tree(input, limits, true)?)
}

/// A status package from a tree.
pub(crate) fn status_from_tree(root: &Element) -> Result<StatusPackage, EdxmlError> {
    let env = envelope(root)?;
    let header = req(env, "edXMLHeader", "edXMLHeader")?;
    let st = req(header, "Status", "edXMLHeader/Status")?;
    let code_text = text_req(st, "StatusCode", "Status/StatusCode")?;
    let code = StatusCode::parse(&code_text).ok_or_else(|| {
        EdxmlError::invalid(
            "Status/StatusCode",
            &code_text,
            "known codes are 01-06, 13, 15 and 16",
        )
    })?;
    let staff = st
        .child("StaffInfo")
        .map(|s| StaffInfo {
            department: text_opt(s, "Department"),
            staff: text_opt(s, "Staff"),
            email: text_opt(s, "Email"),
            mobile: text_opt(s, "Mobile"),
        })
        .unwrap_or_default();
    Ok(StatusPackage {
        from: organization(req(st, "From", "Status/From")?, "Status/From")?,
        response_for: response_for(
            req(st, "ResponseFor", "Status/ResponseFor")?,
            "Status/ResponseFor",
        )?,
        staff,
        code,
        description: text_opt(st, "Description"),
        timestamp: timestamp_req(st, "Timestamp", "Status/Timestamp")?,
    })
}

/// The edXMLEnvelope, whether wrapped in `edXML` (as we write) or the root itself.
fn envelope(root: &Element) -> Result<&Element, EdxmlError> {
    match root.local.as_str() {
        "edXMLEnvelope" => Ok(root),
        "edXML" => match root.child("edXMLEnvelope") {
            Some(env) => Ok(env),
            None if root.child("edXMLHeader").is_some() => Ok(root),
            None => Err(EdxmlError::missing("edXML/edXMLEnvelope")),
        },
        _ => Err(EdxmlError::NotEdxml {
            found: root.qname(),
        }),
    }
}

fn envelope_mut(root: &mut Element) -> &mut Element {
    // `envelope` has already accepted the shape; only the wrapping is undone here.
    let wrapped = root.local == "edXML" && root.child("edXMLEnvelope").is_some();
    match root
        .children
        .iter()
        .position(|c| c.local == "edXMLEnvelope")
    {
        Some(i) if wrapped => &mut root.children[i],
        _ => root,
    }
}

fn req<'e>(parent: &'e Element, local: &str, path: &str) -> Result<&'e Element, EdxmlError> {
    parent.child(local).ok_or_else(|| EdxmlError::missing(path))
}

fn text_opt(parent: &Element, local: &str) -> Option<String> {
    parent
        .child(local)
        .and_then(Element::value)
        .map(str::to_owned)
}

fn text_req(parent: &Element, local: &str, path: &str) -> Result<String, EdxmlError> {
    text_opt(parent, local).ok_or_else(|| EdxmlError::missing(path))
}

fn org_id(value: &str, path: &str) -> Result<OrgCode, EdxmlError> {
    OrgCode::parse(value).map_err(|e| EdxmlError::BadOrganId {
        element: path.to_owned(),
        value: value.to_owned(),
        reason: e,
    })
}

fn org_id_req(parent: &Element, path: &str) -> Result<OrgCode, EdxmlError> {
    let p = format!("{path}/OrganId");
    org_id(&text_req(parent, "OrganId", &p)?, &p)
}

fn date_opt(parent: &Element, local: &str, path: &str) -> Result<Option<NaiveDate>, EdxmlError> {
    match text_opt(parent, local) {
        None => Ok(None),
        Some(s) => parse_date(&s).map(Some).ok_or_else(|| {
            EdxmlError::invalid(
                path,
                s,
                "expected a date like 2020-10-30, 30/10/2020 or 2020/10/30",
            )
        }),
    }
}

fn date_req(parent: &Element, local: &str, path: &str) -> Result<NaiveDate, EdxmlError> {
    date_opt(parent, local, path)?.ok_or_else(|| EdxmlError::missing(path))
}

fn timestamp_req(
    parent: &Element,
    local: &str,
    path: &str,
) -> Result<chrono::DateTime<chrono::FixedOffset>, EdxmlError> {
    let s = text_req(parent, local, path)?;
    parse_timestamp(&s).ok_or_else(|| {
        EdxmlError::invalid(
            path,
            s,
            "expected a timestamp like 2018-09-28T08:30:00+07:00 or 2018/09/28 08:30:00",
        )
    })
}

fn num_opt<T: FromStr>(parent: &Element, local: &str, path: &str) -> Result<Option<T>, EdxmlError> {
    match text_opt(parent, local) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| EdxmlError::invalid(path, s, "expected a whole number")),
    }
}

fn organization(e: &Element, path: &str) -> Result<Organization, EdxmlError> {
    Ok(Organization {
        organ_id: org_id_req(e, path)?,
        organization_in_charge: text_opt(e, "OrganizationInCharge"),
        organ_name: text_opt(e, "OrganName").unwrap_or_default(),
        organ_add: text_opt(e, "OrganAdd"),
        email: text_opt(e, "Email"),
        telephone: text_opt(e, "Telephone"),
        fax: text_opt(e, "Fax"),
        website: text_opt(e, "Website"),
    })
}

fn response_for(e: &Element, path: &str) -> Result<ResponseFor, EdxmlError> {
    Ok(ResponseFor {
        organ_id: org_id_req(e, path)?,
        code: text_opt(e, "Code").unwrap_or_default(),
        promulgation_date: date_req(e, "PromulgationDate", &format!("{path}/PromulgationDate"))?,
        document_id: text_opt(e, "DocumentId")
            .map(|s| DocumentId::parse(&s))
            .transpose()?,
    })
}

fn message_header(mh: &Element) -> Result<MessageHeader, EdxmlError> {
    const M: &str = "MessageHeader";
    let from = organization(req(mh, "From", "MessageHeader/From")?, "MessageHeader/From")?;
    let to = mh
        .children_named("To")
        .map(|t| organization(t, "MessageHeader/To"))
        .collect::<Result<Vec<_>, _>>()?;
    let code = mh
        .child("Code")
        .map(|c| Code {
            number: text_opt(c, "CodeNumber").unwrap_or_default(),
            notation: text_opt(c, "CodeNotation").unwrap_or_default(),
        })
        .unwrap_or_default();
    let pi = req(mh, "PromulgationInfo", "MessageHeader/PromulgationInfo")?;
    let promulgation = PromulgationInfo {
        place: text_opt(pi, "Place").unwrap_or_default(),
        date: date_req(
            pi,
            "PromulgationDate",
            "MessageHeader/PromulgationInfo/PromulgationDate",
        )?,
    };
    let document_type = mh
        .child("DocumentType")
        .map(|d| DocumentType {
            kind: text_opt(d, "Type").unwrap_or_default(),
            detail: text_opt(d, "TypeDetail"),
            name: text_opt(d, "TypeName").unwrap_or_default(),
        })
        .unwrap_or_default();
    let signer = mh
        .child("SignerInfo")
        .map(|s| SignerInfo {
            competence: text_opt(s, "Competence"),
            position: text_opt(s, "Position"),
            full_name: text_opt(s, "FullName"),
        })
        .unwrap_or_default();
    let to_places = mh
        .child("ToPlaces")
        .map(|tp| {
            tp.children_named("Place")
                .filter_map(Element::value)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let other = match mh.child("OtherInfo") {
        None => OtherInfo::default(),
        Some(oi) => OtherInfo {
            priority: num_opt(oi, "Priority", "OtherInfo/Priority")?,
            sphere_of_promulgation: text_opt(oi, "SphereOfPromulgation"),
            typer_notation: text_opt(oi, "TyperNotation"),
            promulgation_amount: num_opt(oi, "PromulgationAmount", "OtherInfo/PromulgationAmount")?,
            page_amount: num_opt(oi, "PageAmount", "OtherInfo/PageAmount")?,
            direction: match text_opt(oi, "Direction") {
                None => None,
                Some(s) => Some(match s.to_ascii_lowercase().as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(EdxmlError::invalid(
                            "OtherInfo/Direction",
                            s,
                            "expected true or false",
                        ))
                    }
                }),
            },
            appendixes: oi
                .child("Appendixes")
                .map(|a| {
                    a.children_named("Appendix")
                        .filter_map(Element::value)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        },
    };
    Ok(MessageHeader {
        from,
        to,
        document_id: text_opt(mh, "DocumentId")
            .map(|s| DocumentId::parse(&s))
            .transpose()?,
        code,
        promulgation,
        document_type,
        subject: text_req(mh, "Subject", &format!("{M}/Subject"))?,
        content: text_opt(mh, "Content"),
        signer,
        due_date: date_opt(mh, "DueDate", "MessageHeader/DueDate")?,
        to_places,
        other,
        steering_type: text_opt(mh, "SteeringType"),
        response_for: mh
            .children_named("ResponseFor")
            .map(|r| response_for(r, "MessageHeader/ResponseFor"))
            .collect::<Result<_, _>>()?,
    })
}

fn trace(t: &Element) -> Result<TraceHeader, EdxmlError> {
    Ok(TraceHeader {
        organ_id: org_id_req(t, "TraceHeader")?,
        timestamp: timestamp_req(t, "Timestamp", "TraceHeader/Timestamp")?,
    })
}

fn business(b: &Element) -> Result<Business, EdxmlError> {
    let doc_type = match text_opt(b, "BussinessDocType") {
        None => BusinessDocType::New,
        Some(s) => s
            .parse::<u8>()
            .ok()
            .and_then(BusinessDocType::from_code)
            .ok_or_else(|| {
                EdxmlError::invalid(
                    "Bussiness/BussinessDocType",
                    s,
                    "expected 0 (new), 1 (recall), 2 (update) or 3 (replace)",
                )
            })?,
    };
    Ok(Business {
        doc_type,
        reason: text_opt(b, "BussinessDocReason"),
    })
}

/// What the manifest or the Attachment element itself says about an attachment.
#[derive(Default)]
struct Described {
    content_id: Option<String>,
    content_type: Option<String>,
    description: Option<String>,
    name: Option<String>,
}

fn described(e: &Element) -> Described {
    Described {
        content_id: text_opt(e, "ContentId").or_else(|| {
            e.attr("ContentId")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        }),
        content_type: text_opt(e, "ContentType"),
        description: text_opt(e, "Description"),
        name: text_opt(e, "AttachmentName"),
    }
}

fn attachments(body: &mut Element) -> Result<Vec<Attachment>, EdxmlError> {
    let refs: Vec<Described> = body
        .child("edXMLManifest")
        .map(|m| m.children_named("Reference").map(described).collect())
        .unwrap_or_default();
    let payloads: Vec<&mut Element> = body
        .children
        .iter_mut()
        .find(|c| c.local == "AttachmentEncoded")
        .map(|a| {
            a.children
                .iter_mut()
                .filter(|c| c.local == "Attachment")
                .collect()
        })
        .unwrap_or_default();
    let mut used = vec![false; refs.len()];
    let mut out = Vec::with_capacity(payloads.len());
    for (i, att) in payloads.into_iter().enumerate() {
        let own = described(att);
        // Match the manifest by content id, else by position.
        let idx = match &own.content_id {
            Some(cid) => refs.iter().position(|r| r.content_id.as_ref() == Some(cid)),
            None => (i < refs.len()).then_some(i),
        };
        let empty = Described::default();
        let r = match idx {
            Some(k) => {
                used[k] = true;
                &refs[k]
            }
            None => &empty,
        };
        let content_id = own
            .content_id
            .clone()
            .or_else(|| r.content_id.clone())
            .unwrap_or_else(|| format!("cid:{}", i + 1));
        let name = r
            .name
            .clone()
            .or(own.name)
            .ok_or_else(|| EdxmlError::missing(format!("AttachmentName of {content_id}")))?;
        let payload = att
            .children
            .iter_mut()
            .find(|c| c.local == "ContentTransferEncoded")
            .ok_or_else(|| {
                EdxmlError::missing(format!("Attachment {content_id}/ContentTransferEncoded"))
            })?;
        let bytes = match payload.binary.take() {
            Some(Ok(b)) => b,
            Some(Err(reason)) => {
                return Err(EdxmlError::BadBase64 {
                    attachment: name,
                    reason,
                })
            }
            None => Vec::new(),
        };
        out.push(Attachment {
            content_id,
            content_type: r
                .content_type
                .clone()
                .or(own.content_type)
                .unwrap_or_else(|| "application/octet-stream".into()),
            description: r.description.clone().or(own.description),
            name,
            bytes,
        });
    }
    if let Some(k) = used.iter().position(|u| !u) {
        let cid = refs[k].content_id.clone().unwrap_or_default();
        return Err(EdxmlError::missing(format!(
            "AttachmentEncoded/Attachment for the manifest Reference {cid}"
        )));
    }
    Ok(out)
}
