//! Importing incoming documents in bulk (nhập sổ văn bản đến hàng loạt): a whole
//! batch registered in one write transaction, under the rules of
//! [`register_incoming`](super::register_incoming): only a clerk of the agency, the
//! same registers and yearly numbering (gapless, in batch order), the same duplicate
//! check, a timeline event and a search-queue row per document. The batch is audited
//! once. Attachments are not imported (register those documents one by one).
//!
//! Either the whole batch is registered or nothing is: a refused item refuses the batch.

use std::collections::{HashMap, HashSet};

use lienthong_domain::access;
use lienthong_domain::document::Direction;
use lienthong_domain::Role;
use lienthong_store::{Db, WriteTx};
use serde_json::json;
use sqlx::Row;

use super::register::{insert_numbered, registers, NewIncoming, Registered, ToInsert};
use crate::auth::Principal;
use crate::ServiceError;

/// Pairs (số/ký hiệu, issuer) looked up per duplicate query.
const DUPLICATE_CHUNK: usize = 200;

/// An item of a batch, checked and with its duplicate identity worked out.
struct Item {
    new: NewIncoming,
    symbol_folded: String,
    issuer_key: String,
}

/// Registers `batch` in the agency's incoming registers, in order, in one write
/// transaction; returns what each item got, in the same order.
///
/// Refused as a whole (nothing written, no number taken) when:
/// * `who` is not a clerk of `agency_id`: [`ServiceError::Forbidden`];
/// * an item has attachments: [`ServiceError::Invalid`] on `attachments`;
/// * an item's dates are impossible: [`ServiceError::Invalid`] on `due_on` or
///   `arrived_on`, as for one document;
/// * an item names a register that is not one of the agency's incoming registers, or
///   one of the other classification: [`ServiceError::Invalid`] on `register_id`;
/// * an item without `allow_duplicate` has the số/ký hiệu and issuer of a registered
///   document: [`ServiceError::Duplicate`] with that document's ids (the first such
///   item's), or of an earlier item of the batch: [`ServiceError::Invalid`] on `symbol`
///   (code `error.duplicate_in_batch`).
///
/// An empty batch registers nothing and writes nothing.
pub async fn import_incoming(
    db: &Db,
    who: &Principal,
    agency_id: i64,
    batch: Vec<NewIncoming>,
) -> Result<Vec<Registered>, ServiceError> {
    if !access::has_role_in(&who.memberships(), agency_id, Role::Clerk) {
        return Err(ServiceError::Forbidden);
    }
    let items = check(batch)?;
    if items.is_empty() {
        return Ok(Vec::new());
    }
    // The two default registers, created (in their own transaction) the first time,
    // as registering one document does.
    registers(db, agency_id, Direction::Incoming).await?;

    let mut tx = db.write().await?;
    let register_of = register_choice(&mut tx, agency_id, &items).await?;
    refuse_duplicates(&mut tx, agency_id, &items).await?;

    let to_insert: Vec<ToInsert<'_>> = items
        .iter()
        .zip(register_of)
        .map(|(item, register_id)| ToInsert {
            register_id,
            new: &item.new,
            files: &[],
        })
        .collect();
    let out: Vec<Registered> = insert_numbered(&mut tx, who, agency_id, &to_insert, true)
        .await?
        .into_iter()
        .map(|(registered, _)| registered)
        .collect();

    let (first, last) = (&out[0], &out[out.len() - 1]);
    let mut used: Vec<i64> = out.iter().map(|r| r.register_id).collect();
    used.sort_unstable();
    used.dedup();
    // Counts and numbers only: classified subjects stay out of the audit log.
    tx.audit(
        &who.actor(),
        "document.import_incoming",
        "agency",
        agency_id,
        json!({
            "count": out.len(),
            "first_number": first.arrival_number,
            "first_year": first.year,
            "first_id": first.id,
            "last_number": last.arrival_number,
            "last_year": last.year,
            "last_id": last.id,
            "registers": used,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// Checks what needs no database, in batch order.
fn check(batch: Vec<NewIncoming>) -> Result<Vec<Item>, ServiceError> {
    let mut seen = HashSet::new();
    let mut items = Vec::with_capacity(batch.len());
    for new in batch {
        if !new.attachments.is_empty() {
            return Err(ServiceError::Invalid {
                field: "attachments",
                code: "error.import_attachments",
            });
        }
        if new.due_on.is_some_and(|due| due < new.issued_on) {
            return Err(ServiceError::Invalid {
                field: "due_on",
                code: "error.due_before_issue",
            });
        }
        if new.arrived_on < new.issued_on {
            return Err(ServiceError::Invalid {
                field: "arrived_on",
                code: "error.arrival_before_issue",
            });
        }
        let item = Item {
            symbol_folded: new.symbol.folded(),
            issuer_key: new.issuer.key(),
            new,
        };
        // An earlier item counts even when it was itself allowed as a duplicate: one
        // by one, it would have been registered by the time this one is checked.
        let first = seen.insert((item.symbol_folded.clone(), item.issuer_key.clone()));
        if !first && !item.new.allow_duplicate {
            return Err(ServiceError::Invalid {
                field: "symbol",
                code: "error.duplicate_in_batch",
            });
        }
        items.push(item);
    }
    Ok(items)
}

/// The register each item is numbered in: the one asked for, checked, or the
/// agency's first ordinary (or classified) incoming register.
async fn register_choice(
    tx: &mut WriteTx,
    agency_id: i64,
    items: &[Item],
) -> Result<Vec<i64>, ServiceError> {
    let rows = sqlx::query(
        "SELECT id, classified FROM registers WHERE agency_id = $1 AND direction = 'incoming' ORDER BY id",
    )
    .bind(agency_id)
    .fetch_all(tx.conn())
    .await?;
    let mut classified_of = HashMap::with_capacity(rows.len());
    let (mut ordinary, mut secret) = (None, None);
    for r in &rows {
        let id: i64 = r.try_get(0)?;
        let classified = r.try_get::<i64, _>(1)? != 0;
        classified_of.insert(id, classified);
        let default = if classified {
            &mut secret
        } else {
            &mut ordinary
        };
        default.get_or_insert(id);
    }
    items
        .iter()
        .map(|item| {
            let classified = item.new.classification.is_classified();
            let id = match item.new.register_id {
                Some(id) => id,
                None => {
                    if classified { secret } else { ordinary }.ok_or(ServiceError::Invalid {
                        field: "register_id",
                        code: "error.register",
                    })?
                }
            };
            match classified_of.get(&id) {
                None => Err(ServiceError::Invalid {
                    field: "register_id",
                    code: "error.register",
                }),
                Some(&c) if c != classified => Err(ServiceError::Invalid {
                    field: "register_id",
                    code: "error.register_classification",
                }),
                Some(_) => Ok(id),
            }
        })
        .collect()
}

/// Refuses the batch when an item (without `allow_duplicate`) has the số/ký hiệu and
/// issuer of a document already registered in the agency. Looked up a chunk of items
/// at a time, before anything of the batch is written.
async fn refuse_duplicates(
    tx: &mut WriteTx,
    agency_id: i64,
    items: &[Item],
) -> Result<(), ServiceError> {
    let checked: Vec<&Item> = items.iter().filter(|i| !i.new.allow_duplicate).collect();
    for chunk in checked.chunks(DUPLICATE_CHUNK) {
        let mut symbols: Vec<&str> = chunk.iter().map(|i| i.symbol_folded.as_str()).collect();
        let mut issuers: Vec<&str> = chunk.iter().map(|i| i.issuer_key.as_str()).collect();
        symbols.sort_unstable();
        symbols.dedup();
        issuers.sort_unstable();
        issuers.dedup();
        let list = |from: usize, n: usize| {
            (from..from + n)
                .map(|p| format!("${p}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // Both columns are in the `documents_duplicates` index: the lookup probes it
        // once per pair of values; the exact pairs are picked out below.
        let sql = format!(
            "SELECT id, symbol_folded, issuer_key FROM documents
             WHERE agency_id = $1 AND direction = 'incoming'
               AND symbol_folded IN ({}) AND issuer_key IN ({}) ORDER BY id",
            list(2, symbols.len()),
            list(2 + symbols.len(), issuers.len())
        );
        let mut query = sqlx::query(&sql).bind(agency_id);
        for s in symbols.iter().chain(issuers.iter()) {
            query = query.bind(*s);
        }
        let mut found: HashMap<(String, String), Vec<i64>> = HashMap::new();
        for r in query.fetch_all(tx.conn()).await? {
            found
                .entry((r.try_get(1)?, r.try_get(2)?))
                .or_default()
                .push(r.try_get(0)?);
        }
        if found.is_empty() {
            continue;
        }
        for item in chunk {
            let key = (item.symbol_folded.clone(), item.issuer_key.clone());
            if let Some(ids) = found.remove(&key) {
                return Err(ServiceError::Duplicate(ids));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use lienthong_domain::document::{
        Classification, DocumentSymbol, DocumentType, Subject, Urgency,
    };
    use lienthong_store::BlobStore;

    use super::*;
    use crate::documents::{register_incoming, Issuer, Upload};
    use crate::testing::{demo_databases, principal};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn incoming(symbol: &str, arrived: &str) -> NewIncoming {
        NewIncoming {
            register_id: None,
            issuer: Issuer {
                agency_id: None,
                name: "Văn phòng UBND tỉnh".into(),
            },
            symbol: DocumentSymbol::parse(symbol).unwrap(),
            issued_on: d(arrived),
            doc_type: DocumentType::CongVan,
            subject: Subject::parse("Về việc nhập sổ văn bản đến hàng loạt").unwrap(),
            urgency: Urgency::Normal,
            classification: Classification::Normal,
            page_count: Some(1),
            due_on: None,
            signer_name: "Trần Thị B".into(),
            arrived_on: d(arrived),
            note: String::new(),
            allow_duplicate: false,
            readers: vec![],
            attachments: vec![],
        }
    }

    fn batch(from: usize, n: usize, arrived: &str) -> Vec<NewIncoming> {
        (from..from + n)
            .map(|i| incoming(&format!("{i}/UBND-VP"), arrived))
            .collect()
    }

    async fn count(db: &Db, sql: &str) -> i64 {
        sqlx::query(sql)
            .fetch_one(db.pool())
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }

    /// Row counts of everything an import writes.
    async fn footprint(db: &Db) -> Vec<i64> {
        let mut out = Vec::new();
        for table in [
            "documents",
            "document_events",
            "document_readers",
            "search_queue",
            "audit_log",
            "register_counters",
        ] {
            out.push(count(db, &format!("SELECT COUNT(*) FROM {table}")).await);
        }
        out.push(
            count(
                db,
                "SELECT CAST(COALESCE(SUM(last_number), 0) AS BIGINT) FROM register_counters",
            )
            .await,
        );
        out
    }

    async fn agency_of(db: &Db, username: &str) -> i64 {
        principal(db, username).await.positions[0].agency_id
    }

    #[tokio::test]
    async fn numbers_are_consecutive_and_continue_the_register() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::filesystem(dir.path()).unwrap();
        for t in demo_databases().await {
            let clerk = principal(&t.db, "vanthu.skhcn").await;
            let agency = agency_of(&t.db, "vanthu.skhcn").await;
            let one = register_incoming(
                &t.db,
                &blobs,
                &clerk,
                agency,
                incoming("1/UBND-VP", "2026-03-02"),
            )
            .await
            .unwrap();
            let audit_before = count(&t.db, "SELECT COUNT(*) FROM audit_log").await;

            let mut items = batch(2, 50, "2026-03-03");
            let mut secret = incoming("900/UBND-VP", "2026-03-03");
            secret.classification = Classification::Confidential;
            items.insert(10, secret);
            let got = import_incoming(&t.db, &clerk, agency, items).await.unwrap();
            assert_eq!(got.len(), 51, "{}", t.name);

            let ordinary: Vec<&Registered> = got
                .iter()
                .filter(|r| r.register_id == one.register_id)
                .collect();
            let numbers: Vec<i64> = ordinary.iter().map(|r| r.arrival_number).collect();
            let expected: Vec<i64> = (one.arrival_number + 1..=one.arrival_number + 50).collect();
            assert_eq!(numbers, expected, "{}: consecutive, in batch order", t.name);
            assert!(ordinary.iter().all(|r| r.year == 2026));
            let classified = &got[10];
            assert_ne!(classified.register_id, one.register_id);
            assert_eq!(
                classified.arrival_number, 1,
                "classified items are numbered in the classified register"
            );

            // The register goes on after the batch.
            let next = register_incoming(
                &t.db,
                &blobs,
                &clerk,
                agency,
                incoming("100/UBND-VP", "2026-03-04"),
            )
            .await
            .unwrap();
            assert_eq!(next.arrival_number, one.arrival_number + 51);

            // One audit entry for the batch; one timeline event per document.
            let entries = sqlx::query(
                "SELECT action, changes FROM audit_log WHERE seq > (SELECT MAX(seq) FROM audit_log) - 2 ORDER BY seq",
            )
            .fetch_all(t.db.pool())
            .await
            .unwrap();
            let import = &entries[0];
            assert_eq!(
                import.try_get::<String, _>(0).unwrap(),
                "document.import_incoming"
            );
            let changes: serde_json::Value =
                serde_json::from_str(&import.try_get::<String, _>(1).unwrap()).unwrap();
            assert_eq!(changes["count"], 51);
            assert_eq!(changes["first_number"], one.arrival_number + 1);
            assert_eq!(changes["last_number"], one.arrival_number + 50);
            assert_eq!(
                count(&t.db, "SELECT COUNT(*) FROM audit_log").await,
                audit_before + 2,
                "the batch and the single registration after it"
            );
            for r in &got {
                let doc = crate::documents::get(&t.db, &clerk, r.id).await.unwrap();
                assert_eq!(doc.number, Some(r.arrival_number));
                assert_eq!(doc.events.len(), 1);
                assert_eq!(doc.events[0].kind, "registered");
            }
            let specialist = principal(&t.db, "chuyenvien.skhcn").await;
            assert!(matches!(
                crate::documents::get(&t.db, &specialist, classified.id).await,
                Err(ServiceError::NotFound)
            ));
        }
    }

    #[tokio::test]
    async fn search_queue_rows_are_written() {
        for t in demo_databases().await {
            let clerk = principal(&t.db, "vanthu.skhcn").await;
            let agency = agency_of(&t.db, "vanthu.skhcn").await;
            sqlx::query("DELETE FROM search_queue")
                .execute(t.db.pool())
                .await
                .unwrap();
            let got = import_incoming(&t.db, &clerk, agency, batch(1, 20, "2026-05-04"))
                .await
                .unwrap();
            let mut queued: Vec<i64> =
                sqlx::query("SELECT document_id FROM search_queue ORDER BY document_id")
                    .fetch_all(t.db.pool())
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.try_get(0).unwrap())
                    .collect();
            queued.sort_unstable();
            let mut ids: Vec<i64> = got.iter().map(|r| r.id).collect();
            ids.sort_unstable();
            assert_eq!(queued, ids, "{}", t.name);
        }
    }

    #[tokio::test]
    async fn a_forbidden_person_changes_nothing() {
        for t in demo_databases().await {
            let agency = agency_of(&t.db, "vanthu.skhcn").await;
            let before = footprint(&t.db).await;
            for outsider in ["chuyenvien.skhcn", "giamdoc.skhcn", "vanthu.xa", "admin"] {
                let p = principal(&t.db, outsider).await;
                let r = import_incoming(&t.db, &p, agency, batch(1, 5, "2026-04-01")).await;
                assert!(
                    matches!(r, Err(ServiceError::Forbidden)),
                    "{}: {outsider} may not import",
                    t.name
                );
            }
            assert_eq!(footprint(&t.db).await, before, "{}", t.name);
        }
    }

    #[tokio::test]
    async fn a_refused_item_refuses_the_whole_batch() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::filesystem(dir.path()).unwrap();
        for t in demo_databases().await {
            let clerk = principal(&t.db, "vanthu.skhcn").await;
            let agency = agency_of(&t.db, "vanthu.skhcn").await;
            let existing = register_incoming(
                &t.db,
                &blobs,
                &clerk,
                agency,
                incoming("7/UBND-VP", "2026-06-01"),
            )
            .await
            .unwrap();
            let before = footprint(&t.db).await;

            let mut with_file = batch(100, 3, "2026-06-02");
            with_file[1].attachments.push(Upload {
                file_name: "a.pdf".into(),
                bytes: bytes::Bytes::from_static(b"%PDF-1.4\n"),
                claimed_type: None,
            });
            assert!(matches!(
                import_incoming(&t.db, &clerk, agency, with_file).await,
                Err(ServiceError::Invalid {
                    field: "attachments",
                    ..
                })
            ));

            let mut late = batch(100, 3, "2026-06-02");
            late[2].issued_on = d("2026-06-03");
            assert!(matches!(
                import_incoming(&t.db, &clerk, agency, late).await,
                Err(ServiceError::Invalid {
                    field: "arrived_on",
                    ..
                })
            ));

            // The same số/ký hiệu from the same issuer (written with a leading zero).
            let mut dup = batch(100, 3, "2026-06-02");
            dup.push(incoming("07/UBND-VP", "2026-06-02"));
            match import_incoming(&t.db, &clerk, agency, dup).await {
                Err(ServiceError::Duplicate(ids)) => assert_eq!(ids, vec![existing.id]),
                other => panic!("{}: expected a duplicate, got {other:?}", t.name),
            }
            let mut forced = incoming("200/UBND-VP", "2026-06-02");
            forced.allow_duplicate = true;
            for first in [incoming("200/UBND-VP", "2026-06-02"), forced] {
                let twice = vec![first, incoming("200/UBND-VP", "2026-06-02")];
                assert!(matches!(
                    import_incoming(&t.db, &clerk, agency, twice).await,
                    Err(ServiceError::Invalid {
                        field: "symbol",
                        ..
                    })
                ));
            }
            let mut other_agency = batch(100, 1, "2026-06-02");
            other_agency[0].register_id = Some(-1);
            assert!(matches!(
                import_incoming(&t.db, &clerk, agency, other_agency).await,
                Err(ServiceError::Invalid {
                    field: "register_id",
                    ..
                })
            ));
            assert_eq!(
                footprint(&t.db).await,
                before,
                "{}: nothing written",
                t.name
            );

            // Allowed duplicates go in, numbered right after the existing one.
            let mut allowed = incoming("7/UBND-VP", "2026-06-02");
            allowed.allow_duplicate = true;
            let mut again = allowed.clone();
            again.note = "bản thứ hai".into();
            let got = import_incoming(&t.db, &clerk, agency, vec![allowed, again])
                .await
                .unwrap();
            assert_eq!(
                got.iter().map(|r| r.arrival_number).collect::<Vec<_>>(),
                vec![existing.arrival_number + 1, existing.arrival_number + 2],
                "{}: refused batches burnt no number",
                t.name
            );
            assert!(import_incoming(&t.db, &clerk, agency, Vec::new())
                .await
                .unwrap()
                .is_empty());
        }
    }
}
