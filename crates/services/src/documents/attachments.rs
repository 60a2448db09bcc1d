//! Attachments: stored as content-addressed blobs, their type sniffed from the
//! bytes (never trusted from the client), their text extracted for search, and
//! served only to people who may read the document.

use bytes::Bytes;
use lienthong_domain::access;
use lienthong_store::{time, BlobId, BlobStore, Db, WriteTx};
use sqlx::Row;

use super::Attachment;
use crate::auth::Principal;
use crate::ServiceError;

/// The largest attachment accepted (the web layer rejects larger bodies before
/// reading them).
pub const MAX_ATTACHMENT_BYTES: usize = 50 * 1024 * 1024;

/// A file as received.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Bytes,
    /// What the client said the file is, checked against the content.
    pub claimed_type: Option<String>,
}

/// A file after it was stored.
pub(crate) struct Stored {
    file_name: String,
    sha256: String,
    content_type: String,
    size: i64,
    text: Option<String>,
}

/// What the bytes really are (from their content), and their text for search.
/// A file whose text cannot be extracted is still stored; it is just not searchable
/// by content.
fn inspect(bytes: &[u8]) -> (String, Option<String>) {
    let kind = lienthong_files::sniff(bytes);
    let text = if kind.is_extractable() {
        match lienthong_files::extract_text(kind, bytes, &lienthong_files::Limits::default()) {
            Ok(t) if !t.trim().is_empty() => Some(t),
            Ok(_) => None,
            Err(e) => {
                tracing::info!(error = %e, kind = ?kind, "no text extracted from an attachment");
                None
            }
        }
    } else {
        None
    };
    (kind.mime().to_owned(), text)
}

fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.is_empty() {
        "tep-dinh-kem".to_owned()
    } else {
        cleaned
    }
}

/// Checks and stores every upload; nothing is written to the database yet.
pub(crate) async fn store_all(
    blobs: &BlobStore,
    uploads: &[Upload],
) -> Result<Vec<Stored>, ServiceError> {
    let mut out = Vec::with_capacity(uploads.len());
    for u in uploads {
        if u.bytes.is_empty() {
            return Err(ServiceError::Invalid {
                field: "attachments",
                code: "error.file_empty",
            });
        }
        if u.bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(ServiceError::Invalid {
                field: "attachments",
                code: "error.file_too_large",
            });
        }
        let bytes = u.bytes.clone();
        let (content_type, text) = tokio::task::spawn_blocking(move || inspect(&bytes))
            .await
            .map_err(|_| ServiceError::Conflict("file inspection failed"))?;
        if u.claimed_type
            .as_deref()
            .is_some_and(|c| c == "application/pdf")
            && content_type != "application/pdf"
        {
            return Err(ServiceError::Invalid {
                field: "attachments",
                code: "error.file_not_pdf",
            });
        }
        let id = blobs
            .put(u.bytes.clone())
            .await
            .map_err(|e| ServiceError::Conflict(blob_error(e)))?;
        out.push(Stored {
            file_name: clean_file_name(&u.file_name),
            sha256: id.as_str().to_owned(),
            content_type,
            size: u.bytes.len() as i64,
            text,
        });
    }
    Ok(out)
}

fn blob_error(e: lienthong_store::BlobError) -> &'static str {
    tracing::error!(error = %e, "blob store");
    "blob store unavailable"
}

pub(crate) async fn insert_rows(
    tx: &mut WriteTx,
    document_id: i64,
    files: &[Stored],
) -> Result<(), ServiceError> {
    insert_rows_from(tx, document_id, files, 0).await
}

async fn insert_rows_from(
    tx: &mut WriteTx,
    document_id: i64,
    files: &[Stored],
    first: i64,
) -> Result<(), ServiceError> {
    let now = time::now();
    for (i, f) in files.iter().enumerate() {
        let position = first + i as i64;
        sqlx::query(
            "INSERT INTO blobs (sha256, size, content_type, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&f.sha256)
        .bind(f.size)
        .bind(&f.content_type)
        .bind(&now)
        .execute(tx.conn())
        .await?;
        if let Some(text) = &f.text {
            sqlx::query("INSERT INTO blob_texts (sha256, text) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING")
                .bind(&f.sha256)
                .bind(text)
                .execute(tx.conn())
                .await?;
        }
        sqlx::query(
            "INSERT INTO attachments (document_id, position, file_name, blob_sha256, content_type, size, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(document_id)
        .bind(position)
        .bind(&f.file_name)
        .bind(&f.sha256)
        .bind(&f.content_type)
        .bind(f.size)
        .bind(&now)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Adds files after a document's existing attachments; returns their names.
pub(crate) async fn append_rows(
    tx: &mut WriteTx,
    document_id: i64,
    files: &[Stored],
) -> Result<Vec<String>, ServiceError> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let next: i64 = sqlx::query(
        "SELECT COALESCE(MAX(position) + 1, 0) FROM attachments WHERE document_id = $1",
    )
    .bind(document_id)
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    insert_rows_from(tx, document_id, files, next).await?;
    Ok(files.iter().map(|f| f.file_name.clone()).collect())
}

/// An attachment's metadata and bytes, for someone who may read its document.
pub async fn attachment(
    db: &Db,
    blobs: &BlobStore,
    who: &Principal,
    document_id: i64,
    attachment_id: i64,
) -> Result<(Attachment, Bytes), ServiceError> {
    let row = sqlx::query(
        "SELECT a.id, a.file_name, a.content_type, a.size, a.blob_sha256, d.agency_id, d.classification
         FROM attachments a JOIN documents d ON d.id = a.document_id
         WHERE a.id = $1 AND a.document_id = $2",
    )
    .bind(attachment_id)
    .bind(document_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(ServiceError::NotFound)?;
    let agency: i64 = row.try_get(5)?;
    let classified = row.try_get::<String, _>(6)? != "normal";
    let readers = super::queries::readers(db, document_id).await?;
    if !access::may_read_document(
        &who.memberships(),
        who.person.id,
        agency,
        classified,
        &readers,
    ) {
        // Not "forbidden": a classified document's existence is not revealed.
        return Err(ServiceError::NotFound);
    }
    let meta = Attachment {
        id: row.try_get(0)?,
        file_name: row.try_get(1)?,
        content_type: row.try_get(2)?,
        size: row.try_get(3)?,
        sha256: row.try_get(4)?,
    };
    let id = BlobId::parse(&meta.sha256)
        .map_err(|_| ServiceError::Conflict("stored blob id is malformed"))?;
    let bytes = blobs
        .get(&id)
        .await
        .map_err(|e| ServiceError::Conflict(blob_error(e)))?;
    Ok((meta, bytes))
}

#[cfg(test)]
mod tests {
    use super::clean_file_name;

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(
            clean_file_name("C:\\Users\\vt\\Quyết định 12.pdf"),
            "Quyết định 12.pdf"
        );
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\u{0}b\nc.pdf"), "abc.pdf");
        assert_eq!(clean_file_name("  "), "tep-dinh-kem");
        assert_eq!(clean_file_name(&"x".repeat(300)).chars().count(), 200);
    }
}
