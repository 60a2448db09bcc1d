//! What a clerk types (or an integration sends) to register an incoming document,
//! as text, and its parsing into the domain's types with an error per field.

use bytes::Bytes;
use chrono::NaiveDate;
use lienthong_domain::document::{
    agency_name_key, Classification, DocumentSymbol, DocumentType, Subject, Urgency,
};
use lienthong_domain::{ErrorCode, OrgCode};
use lienthong_services::documents::{Issuer, NewIncoming, Upload};
use lienthong_services::org;
use lienthong_store::time;
use serde::Deserialize;

use crate::http::form::{parse_date_field, FieldErrors};
use crate::http::multipart::CsrfMultipart;
use crate::http::PageError;
use crate::AppState;

#[derive(Debug, Clone, Default)]
pub struct IncomingInput {
    pub register_id: Option<i64>,
    pub issuer_agency_id: Option<i64>,
    pub issuer: String,
    pub issuer_code: String,
    pub symbol: String,
    pub issued_on: String,
    pub doc_type: String,
    pub subject: String,
    pub urgency: String,
    pub classification: String,
    pub page_count: String,
    pub due_on: String,
    pub signer: String,
    pub arrived_on: String,
    pub note: String,
    pub allow_duplicate: bool,
    pub readers: Vec<i64>,
    pub uploads: Vec<Upload>,
}

/// The JSON body of `POST /api/v1/documents/incoming`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiIncoming {
    pub issuer: Option<String>,
    pub issuer_code: Option<String>,
    pub symbol: String,
    pub issued_on: String,
    #[serde(rename = "type")]
    pub doc_type: String,
    pub subject: String,
    pub urgency: Option<String>,
    pub classification: Option<String>,
    pub page_count: Option<i64>,
    pub due_on: Option<String>,
    pub signer: Option<String>,
    pub arrived_on: Option<String>,
    pub note: Option<String>,
    pub register_id: Option<i64>,
    #[serde(default)]
    pub allow_duplicate: bool,
    #[serde(default)]
    pub readers: Vec<i64>,
    #[serde(default)]
    pub attachments: Vec<ApiAttachment>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiAttachment {
    pub file_name: String,
    pub content_base64: String,
    pub content_type: Option<String>,
}

impl IncomingInput {
    pub fn blank(today: NaiveDate) -> Self {
        IncomingInput {
            arrived_on: time::date(today),
            urgency: "normal".into(),
            classification: "normal".into(),
            doc_type: "CV".into(),
            ..Default::default()
        }
    }

    pub fn from_form(f: &CsrfMultipart) -> Self {
        IncomingInput {
            register_id: f.field("register_id").parse().ok(),
            issuer_agency_id: f.field("issuer_agency_id").parse().ok(),
            issuer: f.field("issuer"),
            issuer_code: String::new(),
            symbol: f.field("symbol"),
            issued_on: f.field("issued_on"),
            doc_type: f.field("doc_type"),
            subject: f.field("subject"),
            urgency: f.field("urgency"),
            classification: f.field("classification"),
            page_count: f.field("page_count"),
            due_on: f.field("due_on"),
            signer: f.field("signer"),
            arrived_on: f.field("arrived_on"),
            note: f.field("note"),
            allow_duplicate: !f.field("allow_duplicate").is_empty(),
            readers: f
                .all("readers")
                .iter()
                .filter_map(|r| r.trim().parse().ok())
                .collect(),
            uploads: f
                .files
                .iter()
                .map(|p| Upload {
                    file_name: p.file_name.clone(),
                    bytes: p.bytes.clone(),
                    claimed_type: p.content_type.clone(),
                })
                .collect(),
        }
    }

    /// From the API's JSON; a base64 error is reported on `attachments`.
    pub fn from_api(a: ApiIncoming, today: NaiveDate, errors: &mut FieldErrors) -> Self {
        use base64::Engine;
        let mut uploads = Vec::new();
        for att in a.attachments {
            match base64::engine::general_purpose::STANDARD.decode(att.content_base64.trim()) {
                Ok(bytes) => uploads.push(Upload {
                    file_name: att.file_name,
                    bytes: Bytes::from(bytes),
                    claimed_type: att.content_type,
                }),
                Err(_) => errors.add("attachments", "error.base64"),
            }
        }
        IncomingInput {
            register_id: a.register_id,
            issuer_agency_id: None,
            issuer: a.issuer.unwrap_or_default(),
            issuer_code: a.issuer_code.unwrap_or_default(),
            symbol: a.symbol,
            issued_on: a.issued_on,
            doc_type: a.doc_type,
            subject: a.subject,
            urgency: a.urgency.unwrap_or_else(|| "normal".into()),
            classification: a.classification.unwrap_or_else(|| "normal".into()),
            page_count: a.page_count.map(|n| n.to_string()).unwrap_or_default(),
            due_on: a.due_on.unwrap_or_default(),
            signer: a.signer.unwrap_or_default(),
            arrived_on: a.arrived_on.unwrap_or_else(|| time::date(today)),
            note: a.note.unwrap_or_default(),
            allow_duplicate: a.allow_duplicate,
            readers: a.readers,
            uploads,
        }
    }

    /// Parses every field, collecting one error per field; `None` if any failed.
    pub async fn parse(
        &self,
        state: &AppState,
        errors: &mut FieldErrors,
    ) -> Result<Option<NewIncoming>, PageError> {
        let symbol = DocumentSymbol::parse(&self.symbol)
            .map_err(|e| errors.add("symbol", e.code()))
            .ok();
        let doc_type = DocumentType::parse(&self.doc_type)
            .map_err(|e| errors.add("doc_type", e.code()))
            .ok();
        let subject = Subject::parse(&self.subject)
            .map_err(|e| errors.add("subject", e.code()))
            .ok();
        let urgency = Urgency::parse(&self.urgency)
            .map_err(|e| errors.add("urgency", e.code()))
            .ok();
        let classification = Classification::parse(&self.classification)
            .map_err(|e| errors.add("classification", e.code()))
            .ok();
        let mut date =
            |field: &'static str, value: &str, required: bool| match parse_date_field(value) {
                Ok(Some(d)) => Some(d),
                Ok(None) => {
                    if required {
                        errors.add(field, "error.required");
                    }
                    None
                }
                Err(crate::http::form::InvalidDate) => {
                    errors.add(field, "error.date");
                    None
                }
            };
        let issued_on = date("issued_on", &self.issued_on, true);
        let arrived_on = date("arrived_on", &self.arrived_on, true);
        let due_on = date("due_on", &self.due_on, false);
        let page_count = match self.page_count.trim() {
            "" => None,
            n => match n.parse::<i64>() {
                Ok(v) if (1..=100_000).contains(&v) => Some(v),
                _ => {
                    errors.add("page_count", "error.page_count");
                    None
                }
            },
        };
        let issuer = self.issuer(state, errors).await?;
        Ok(
            match (
                symbol,
                doc_type,
                subject,
                urgency,
                classification,
                issued_on,
                arrived_on,
                issuer,
            ) {
                (
                    Some(symbol),
                    Some(doc_type),
                    Some(subject),
                    Some(urgency),
                    Some(classification),
                    Some(issued_on),
                    Some(arrived_on),
                    Some(issuer),
                ) if errors.is_empty() => Some(NewIncoming {
                    register_id: self.register_id,
                    issuer,
                    symbol,
                    issued_on,
                    doc_type,
                    subject,
                    urgency,
                    classification,
                    page_count,
                    due_on,
                    signer_name: self.signer.trim().to_owned(),
                    arrived_on,
                    note: self.note.trim().to_owned(),
                    allow_duplicate: self.allow_duplicate,
                    readers: self.readers.clone(),
                    attachments: self.uploads.clone(),
                }),
                _ => None,
            },
        )
    }

    /// The issuer: an agency of the province picked from the list or named by its
    /// code or exact name, otherwise an outside agency known by name.
    async fn issuer(
        &self,
        state: &AppState,
        errors: &mut FieldErrors,
    ) -> Result<Option<Issuer>, PageError> {
        let today = time::today();
        if let Some(id) = self.issuer_agency_id {
            return match org::get(&state.db, id, today).await {
                Ok(a) => Ok(Some(Issuer {
                    agency_id: Some(a.id),
                    name: a.name,
                })),
                Err(_) => {
                    errors.add("issuer", "error.issuer");
                    Ok(None)
                }
            };
        }
        if !self.issuer_code.trim().is_empty() {
            let found = match OrgCode::parse(&self.issuer_code) {
                Ok(code) => org::id_by_code(&state.db, &code).await?,
                Err(e) => {
                    errors.add("issuer", e.code());
                    return Ok(None);
                }
            };
            return match found {
                Some(id) => Ok(Some(Issuer {
                    agency_id: Some(id),
                    name: org::get(&state.db, id, today).await?.name,
                })),
                None => {
                    errors.add("issuer", "error.issuer");
                    Ok(None)
                }
            };
        }
        let name = self.issuer.trim();
        if name.is_empty() || name.chars().count() > 250 {
            errors.add("issuer", "error.issuer");
            return Ok(None);
        }
        let key = agency_name_key(name);
        let known = org::list(&state.db, today, false)
            .await?
            .into_iter()
            .find(|a| agency_name_key(&a.name) == key);
        Ok(Some(match known {
            Some(a) => Issuer {
                agency_id: Some(a.id),
                name: a.name,
            },
            None => Issuer {
                agency_id: None,
                name: name.to_owned(),
            },
        }))
    }
}
