//! The actions on a document and on its tasks, shared by the pages (a form) and
//! the API (a JSON body): both become `Fields`, and one function per subject
//! calls the service's use case. An unknown action is `NotFound`.

use chrono::NaiveDate;
use lienthong_domain::document::{Classification, DocumentType, Subject, Urgency};
use lienthong_services::auth::Principal;
use lienthong_services::documents::outgoing::{self, Decision, NewDraft, Recipient};
use lienthong_services::documents::workflow::{self, Assign, Target};
use lienthong_services::documents::Upload;
use lienthong_services::{exchange, org, ServiceError};
use lienthong_store::time;

use crate::http::form::parse_date_field;
use crate::AppState;

/// Named values from a form (repeated names for multi-selects) or a JSON object
/// (arrays become repeated values).
#[derive(Debug, Default, Clone)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn from_json(v: &serde_json::Value) -> Self {
        let mut out = Vec::new();
        if let Some(obj) = v.as_object() {
            for (k, v) in obj {
                let mut push = |x: &serde_json::Value| match x {
                    serde_json::Value::String(s) => out.push((k.clone(), s.clone())),
                    serde_json::Value::Bool(b) => {
                        out.push((k.clone(), if *b { "1".into() } else { String::new() }))
                    }
                    serde_json::Value::Null => {}
                    other => out.push((k.clone(), other.to_string())),
                };
                match v {
                    serde_json::Value::Array(items) => items.iter().for_each(&mut push),
                    single => push(single),
                }
            }
        }
        Fields(out)
    }

    pub fn one(&self, k: &str) -> String {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    pub fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }

    fn id(&self, k: &'static str) -> Result<i64, ServiceError> {
        self.one(k).parse().map_err(|_| ServiceError::Invalid {
            field: k,
            code: "error.required",
        })
    }

    fn ids(&self, k: &str) -> Vec<i64> {
        self.all(k).iter().filter_map(|v| v.parse().ok()).collect()
    }

    fn date(&self, k: &'static str, required: bool) -> Result<Option<NaiveDate>, ServiceError> {
        match parse_date_field(&self.one(k)) {
            Ok(None) if required => Err(ServiceError::Invalid {
                field: k,
                code: "error.required",
            }),
            Ok(d) => Ok(d),
            Err(_) => Err(ServiceError::Invalid {
                field: k,
                code: "error.date",
            }),
        }
    }

    /// `p:12` (a person) or `u:7` (a unit), as the assignment selects send them.
    fn targets(&self, k: &'static str) -> Result<Vec<Target>, ServiceError> {
        self.all(k)
            .iter()
            .map(|v| {
                let (kind, id) = v.split_once(':').ok_or(ServiceError::Invalid {
                    field: k,
                    code: "error.bad_form",
                })?;
                let id: i64 = id.parse().map_err(|_| ServiceError::Invalid {
                    field: k,
                    code: "error.bad_form",
                })?;
                match kind {
                    "p" => Ok(Target::Person(id)),
                    "u" => Ok(Target::Unit(id)),
                    _ => Err(ServiceError::Invalid {
                        field: k,
                        code: "error.bad_form",
                    }),
                }
            })
            .collect()
    }
}

/// Performs `action` on document `id`; returns the message key to show.
pub async fn on_document(
    state: &AppState,
    who: &Principal,
    id: i64,
    action: &str,
    f: &Fields,
) -> Result<&'static str, ServiceError> {
    let db = &state.db;
    match action {
        "forward" => workflow::forward_to_leader(db, who, id, f.id("leader_id")?)
            .await
            .map(|_| "actions.forwarded"),
        "assign" => {
            let lead = f
                .targets("lead")?
                .into_iter()
                .next()
                .ok_or(ServiceError::Invalid {
                    field: "lead",
                    code: "error.required",
                })?;
            let a = Assign {
                instruction: f.one("instruction"),
                lead,
                coordinate: f.targets("coordinate")?,
                inform: f.targets("inform")?,
                deadline: f.date("deadline", false)?,
            };
            workflow::assign(db, who, id, &a)
                .await
                .map(|_| "actions.assigned")
        }
        "submit" => outgoing::submit_for_review(db, who, id, f.id("reviewer_id")?)
            .await
            .map(|_| "actions.submitted"),
        "review" => {
            let decision = decision(f, true)?;
            outgoing::review(db, who, id, decision)
                .await
                .map(|_| "actions.reviewed")
        }
        "approve" => {
            let decision = decision(f, false)?;
            outgoing::approve(db, who, id, decision)
                .await
                .map(|_| "actions.approved")
        }
        "issue" => outgoing::issue(db, &state.blobs, &state.keys, who, id)
            .await
            .map(|_| "actions.issued"),
        // Thu hồi, cập nhật, thay thế: sent again by exchange with the Bussiness block.
        "recall" => {
            let kind = exchange::RequestKind::parse(&f.one("kind"))?;
            exchange::recall(db, &state.blobs, who, id, kind, &f.one("reason"))
                .await
                .map(|_| "actions.recall_sent")
        }
        _ => Err(ServiceError::NotFound),
    }
}

fn decision(f: &Fields, needs_approver: bool) -> Result<Decision, ServiceError> {
    match f.one("decision").as_str() {
        "return" => Ok(Decision::Return {
            comment: f.one("comment"),
        }),
        "accept" => Ok(Decision::Accept {
            approver_id: if needs_approver {
                Some(f.id("approver_id")?)
            } else {
                None
            },
        }),
        _ => Err(ServiceError::Invalid {
            field: "decision",
            code: "error.required",
        }),
    }
}

/// Performs `action` on task `id`; returns the message key to show.
pub async fn on_task(
    state: &AppState,
    who: &Principal,
    id: i64,
    action: &str,
    f: &Fields,
    files: &[Upload],
) -> Result<&'static str, ServiceError> {
    let db = &state.db;
    match action {
        "progress" => workflow::record_progress(db, &state.blobs, who, id, &f.one("note"), files)
            .await
            .map(|_| "actions.progress"),
        "extension" => {
            let until = f.date("until", true)?.ok_or(ServiceError::Invalid {
                field: "until",
                code: "error.required",
            })?;
            workflow::request_extension(db, who, id, until, &f.one("reason"))
                .await
                .map(|_| "actions.extension_requested")
        }
        "grant-extension" => {
            let until = f.date("until", true)?.ok_or(ServiceError::Invalid {
                field: "until",
                code: "error.required",
            })?;
            workflow::grant_extension(db, who, id, until)
                .await
                .map(|_| "actions.extension_granted")
        }
        "complete" => {
            let reply = f.one("reply_id").parse::<i64>().ok();
            workflow::complete(db, who, id, &f.one("result"), reply)
                .await
                .map(|_| "actions.completed")
        }
        "split" => workflow::split(db, who, id, &f.ids("people"), &f.one("note"))
            .await
            .map(|_| "actions.split"),
        "take-back" => {
            let to = f.targets("to")?.into_iter().next();
            workflow::take_back(db, who, id, to)
                .await
                .map(|_| "actions.taken_back")
        }
        _ => Err(ServiceError::NotFound),
    }
}

/// Files sent in a JSON body as `attachments: [{"file_name", "content_base64", "content_type"?}]`.
pub fn uploads_from_json(body: &serde_json::Value) -> Result<Vec<Upload>, ServiceError> {
    use base64::Engine;
    let mut out = Vec::new();
    for a in body["attachments"].as_array().into_iter().flatten() {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(a["content_base64"].as_str().unwrap_or_default())
            .map_err(|_| ServiceError::Invalid {
                field: "attachments",
                code: "error.base64",
            })?;
        out.push(Upload {
            file_name: a["file_name"].as_str().unwrap_or_default().to_owned(),
            bytes: bytes.into(),
            claimed_type: a["content_type"].as_str().map(str::to_owned),
        });
    }
    Ok(out)
}

/// A new outgoing draft from fields and files; one error per field is enough here.
pub async fn new_draft(
    state: &AppState,
    f: &Fields,
    uploads: Vec<Upload>,
) -> Result<NewDraft, ServiceError> {
    let doc_type = DocumentType::parse(&f.one("doc_type"))
        .map_err(|e| ServiceError::invalid("doc_type", e))?;
    let subject =
        Subject::parse(&f.one("subject")).map_err(|e| ServiceError::invalid("subject", e))?;
    let urgency = Urgency::parse(&default(f.one("urgency"), "normal"))
        .map_err(|e| ServiceError::invalid("urgency", e))?;
    let classification = Classification::parse(&default(f.one("classification"), "normal"))
        .map_err(|e| ServiceError::invalid("classification", e))?;
    let today = time::today();
    let mut recipients = Vec::new();
    for id in f.ids("recipient_agencies") {
        let a = org::get(&state.db, id, today)
            .await
            .map_err(|_| ServiceError::Invalid {
                field: "recipients",
                code: "error.issuer",
            })?;
        recipients.push(Recipient {
            agency_id: Some(a.id),
            name: a.name,
        });
    }
    for line in f
        .one("recipients_other")
        .lines()
        .chain(f.all("recipients").iter().map(String::as_str))
    {
        let name = line.trim().trim_start_matches('-').trim();
        if name.chars().count() > 150 {
            return Err(ServiceError::Invalid {
                field: "recipients",
                code: "error.too_long",
            });
        }
        if !name.is_empty() {
            recipients.push(Recipient {
                agency_id: None,
                name: name.to_owned(),
            });
        }
    }
    let number =
        |k: &'static str| -> Result<Option<i64>, ServiceError> {
            match f.one(k) {
                v if v.is_empty() => Ok(None),
                v => v.parse::<i64>().ok().filter(|n| *n > 0).map(Some).ok_or(
                    ServiceError::Invalid {
                        field: k,
                        code: "error.page_count",
                    },
                ),
            }
        };
    Ok(NewDraft {
        doc_type,
        legal_normative: !f.one("legal_normative").is_empty(),
        subject,
        urgency,
        classification,
        drafting_unit_id: f.one("drafting_unit_id").parse().ok(),
        in_reply_to: f.one("in_reply_to").parse().ok(),
        recipients,
        signer_name: f.one("signer"),
        page_count: number("page_count")?,
        copies: number("copies")?,
        retained_copy: f.one("retained_copy"),
        note: f.one("note"),
        attachments: uploads,
    })
}

fn default(v: String, d: &str) -> String {
    if v.is_empty() {
        d.to_owned()
    } else {
        v
    }
}

/// The message key of a service error, for the page.
pub fn error_key(e: &ServiceError) -> &'static str {
    match e {
        ServiceError::Invalid { code, .. } => code,
        ServiceError::Forbidden => "error.forbidden",
        ServiceError::NotFound => "error.not_found",
        ServiceError::Duplicate(_) => "documents.duplicate",
        ServiceError::Conflict(_) => "error.conflict",
        ServiceError::Store(_) => "error.internal",
    }
}
