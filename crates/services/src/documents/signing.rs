//! The agency's digital signature (chữ ký số của cơ quan) on an issued document's PDF
//! files (PAdES, with the agency's name and the signing time at the top right of page
//! one). The files are signed and stored before the issuing transaction (blob first,
//! then the row), and the transaction points the attachments at the signed versions.

use chrono::{FixedOffset, Utc};
use lienthong_pdfsign::{sign_pdf, Mark};
use lienthong_store::{time, BlobId, BlobStore, Db, WriteTx};
use sqlx::Row;

use crate::exchange::KeyStore;
use crate::ServiceError;

/// A signed version of one attachment, stored and waiting for the transaction.
pub(crate) struct SignedFile {
    position: i64,
    file_name: String,
    original: String,
    sha256: String,
    size: i64,
}

impl SignedFile {
    pub(crate) fn file_name(&self) -> &str {
        &self.file_name
    }
}

/// What signing did: the signed files, and those that could not be signed (a
/// damaged or encrypted PDF) with the reason, which the issuing event records: the
/// document still goes out, its package signed as a whole.
#[derive(Default)]
pub(crate) struct Signing {
    pub signed: Vec<SignedFile>,
    pub not_signed: Vec<(String, String)>,
}

/// Signs every PDF attached to `document_id` as its agency; nothing to sign when the
/// agency has no key on this system (the document is then issued unsigned, as on
/// paper, and the exchange says why it cannot send it).
pub(crate) async fn sign_pdfs(
    db: &Db,
    blobs: &BlobStore,
    keys: &KeyStore,
    document_id: i64,
) -> Result<Signing, ServiceError> {
    let agency = sqlx::query(
        "SELECT a.code, (SELECT v.name FROM agency_versions v WHERE v.agency_id = a.id AND v.valid_from <= $2
                         ORDER BY v.valid_from DESC LIMIT 1)
         FROM documents d JOIN agencies a ON a.id = d.agency_id WHERE d.id = $1",
    )
    .bind(document_id)
    .bind(time::date(time::today()))
    .fetch_optional(db.pool())
    .await?
    .ok_or(ServiceError::NotFound)?;
    let code: String = agency.try_get(0)?;
    let name: Option<String> = agency.try_get(1)?;
    let Some(signer) = lienthong_domain::OrgCode::parse(&code)
        .ok()
        .and_then(|code| keys.signer(&code))
    else {
        return Ok(Signing::default());
    };
    let files = sqlx::query(
        "SELECT position, file_name, blob_sha256 FROM attachments
         WHERE document_id = $1 AND content_type = 'application/pdf' ORDER BY position",
    )
    .bind(document_id)
    .fetch_all(db.pool())
    .await?;
    let vietnam = FixedOffset::east_opt(7 * 3600).ok_or(ServiceError::Conflict("time zone"))?;
    let mark = Mark {
        agency_name: name.unwrap_or_default(),
        signed_at: Utc::now().with_timezone(&vietnam),
        reason: None,
        location: None,
    };
    let mut out = Signing::default();
    for f in files {
        let file_name: String = f.try_get(1)?;
        let original: String = f.try_get(2)?;
        let id = BlobId::parse(&original).map_err(|_| ServiceError::Conflict("bad blob id"))?;
        let pdf = blobs.get(&id).await.map_err(blob_unavailable)?;
        let (key, cert, chain, mark) = (
            signer.key.clone(),
            signer.cert.clone(),
            signer.chain.clone(),
            mark.clone(),
        );
        let signed =
            match tokio::task::spawn_blocking(move || sign_pdf(&pdf, &key, &cert, &chain, &mark))
                .await
                .map_err(|_| ServiceError::Conflict("signing failed"))?
            {
                Ok(signed) => signed,
                Err(e) => {
                    tracing::warn!(document_id, error = %e, "cannot sign an attached PDF");
                    out.not_signed.push((file_name, e.to_string()));
                    continue;
                }
            };
        let size = signed.len() as i64;
        let stored = blobs.put(signed.into()).await.map_err(blob_unavailable)?;
        out.signed.push(SignedFile {
            position: f.try_get(0)?,
            file_name,
            original,
            sha256: stored.as_str().to_owned(),
            size,
        });
    }
    Ok(out)
}

fn blob_unavailable(e: lienthong_store::BlobError) -> ServiceError {
    tracing::error!(error = %e, "blob store");
    ServiceError::Conflict("blob store unavailable")
}

/// In the issuing transaction: the attachments become their signed versions (same
/// name, same extracted text). An attachment changed since it was signed keeps its
/// bytes and is reported.
pub(crate) async fn swap_in(
    tx: &mut WriteTx,
    document_id: i64,
    files: &[SignedFile],
) -> Result<(), ServiceError> {
    let now = time::now();
    for f in files {
        sqlx::query(
            "INSERT INTO blobs (sha256, size, content_type, created_at) VALUES ($1, $2, 'application/pdf', $3)
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&f.sha256)
        .bind(f.size)
        .bind(&now)
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "INSERT INTO blob_texts (sha256, text) SELECT $1, text FROM blob_texts WHERE sha256 = $2
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&f.sha256)
        .bind(&f.original)
        .execute(tx.conn())
        .await?;
        let changed = sqlx::query(
            "UPDATE attachments SET blob_sha256 = $1, size = $2
             WHERE document_id = $3 AND position = $4 AND blob_sha256 = $5",
        )
        .bind(&f.sha256)
        .bind(f.size)
        .bind(document_id)
        .bind(f.position)
        .bind(&f.original)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(ServiceError::Conflict(
                "an attachment changed while it was signed",
            ));
        }
    }
    Ok(())
}
