//! A multipart form (fields and files) whose `_csrf` field matches the cookie:
//! the registration form with attachments.

use axum::extract::{FromRequest, Multipart, Request};
use bytes::Bytes;
use subtle::ConstantTimeEq;

use super::cookies;
use super::PageError;

/// A file part of the form.
pub struct FilePart {
    pub file_name: String,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

pub struct CsrfMultipart {
    pub fields: Vec<(String, String)>,
    pub files: Vec<FilePart>,
}

impl CsrfMultipart {
    /// The first value of a field, trimmed; empty when absent.
    pub fn field(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for CsrfMultipart {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let cookie = cookies::get(req.headers(), cookies::CSRF).unwrap_or_default();
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|_| PageError::UnsupportedType)?;
        let mut fields = Vec::new();
        let mut files = Vec::new();
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(PageError::TooLarge)
                }
                Err(_) => return Err(PageError::BadForm),
            };
            let name = field.name().unwrap_or_default().to_owned();
            match field.file_name().map(str::to_owned) {
                Some(file_name) => {
                    let content_type = field.content_type().map(str::to_owned);
                    let bytes = field.bytes().await.map_err(|e| match e.status() {
                        axum::http::StatusCode::PAYLOAD_TOO_LARGE => PageError::TooLarge,
                        _ => PageError::BadForm,
                    })?;
                    // A file input left empty still sends a nameless, empty part.
                    if !(file_name.is_empty() && bytes.is_empty()) {
                        files.push(FilePart {
                            file_name,
                            content_type,
                            bytes,
                        });
                    }
                }
                None => {
                    let text = field.text().await.map_err(|_| PageError::BadForm)?;
                    fields.push((name, text));
                }
            }
        }
        let form = CsrfMultipart { fields, files };
        let sent = form.field("_csrf");
        if cookie.is_empty() || !bool::from(sent.as_bytes().ct_eq(cookie.as_bytes())) {
            return Err(PageError::Csrf);
        }
        Ok(form)
    }
}
