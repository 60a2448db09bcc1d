//! Demo documents: three real provincial portal articles (corpus/) arrive at the
//! Department of Science and Technology as reports, with the article attached,
//! so that registers, inboxes and search have something true to show. One is
//! assigned with a deadline; one has been answered by an issued reply.

use bytes::Bytes;
use chrono::Duration;
use lienthong_domain::document::{Classification, DocumentSymbol, DocumentType, Subject, Urgency};
use lienthong_store::{time, BlobStore, Db};

use crate::auth::{self, Principal};
use crate::documents::outgoing::{self, Decision, NewDraft, Recipient};
use crate::documents::workflow::{self, Assign, Target};
use crate::documents::{self, Issuer, NewIncoming, Upload};
use crate::{calendar, people, ServiceError};

const ARTICLES: [(&str, &str, &str); 3] = [
    (
        "article-vinhlong-2010.txt",
        include_str!("corpus/article-vinhlong-2010.txt"),
        "Sở Thông tin và Truyền thông tỉnh Vĩnh Long",
    ),
    (
        "article-binhthuan-2014.txt",
        include_str!("corpus/article-binhthuan-2014.txt"),
        "Sở Thông tin và Truyền thông tỉnh Bình Thuận",
    ),
    (
        "article-bacgiang-2009.txt",
        include_str!("corpus/article-bacgiang-2009.txt"),
        "Sở Thông tin và Truyền thông tỉnh Bắc Giang",
    ),
];

async fn who(db: &Db, username: &str) -> Result<Principal, ServiceError> {
    let person = people::by_username(db, username)
        .await?
        .ok_or(ServiceError::NotFound)?;
    auth::principal(db, person.id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// The first non-empty line of an article, as a subject.
fn title(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.chars().count() > 20)
        .unwrap_or("Báo cáo");
    line.chars().take(480).collect()
}

/// Adds the demo documents if the department has no document yet; returns how many.
pub async fn load(
    db: &Db,
    blobs: &BlobStore,
    keys: &crate::exchange::KeyStore,
) -> Result<usize, ServiceError> {
    let clerk = who(db, "vanthu.skhcn").await?;
    let leader = who(db, "giamdoc.skhcn").await?;
    let head = who(db, "truongphong.skhcn").await?;
    let specialist = who(db, "chuyenvien.skhcn").await?;
    let agency = clerk
        .positions
        .first()
        .map(|p| p.agency_id)
        .ok_or(ServiceError::NotFound)?;
    let (existing, _) = documents::list_register(
        db,
        &clerk,
        agency,
        lienthong_domain::document::Direction::Incoming,
        &Default::default(),
    )
    .await?;
    if !existing.is_empty() {
        return Ok(0);
    }
    let today = time::today();
    let mut ids = Vec::new();
    for (i, (file, text, issuer)) in ARTICLES.iter().enumerate() {
        let new = NewIncoming {
            register_id: None,
            issuer: Issuer {
                agency_id: None,
                name: (*issuer).to_owned(),
            },
            symbol: DocumentSymbol::parse(&format!("{}/BC-STTTT", 10 + i))
                .map_err(|e| ServiceError::invalid("symbol", e))?,
            issued_on: today - Duration::days(9 - i as i64),
            doc_type: DocumentType::BaoCao,
            subject: Subject::parse(&title(text))
                .map_err(|e| ServiceError::invalid("subject", e))?,
            urgency: if i == 0 {
                Urgency::Urgent
            } else {
                Urgency::Normal
            },
            classification: Classification::Normal,
            page_count: Some(3),
            due_on: None,
            signer_name: "Giám đốc".into(),
            arrived_on: today - Duration::days(7 - i as i64),
            note: String::new(),
            allow_duplicate: false,
            readers: vec![],
            attachments: vec![Upload {
                file_name: (*file).to_owned(),
                bytes: Bytes::from_static(text.as_bytes()),
                claimed_type: None,
            }],
        };
        ids.push(
            documents::register_incoming(db, blobs, &clerk, agency, new)
                .await?
                .id,
        );
    }
    let deadline = calendar::load(db).await?.add_working_days(today, 5);
    // The first is with the specialist, due in five working days.
    workflow::forward_to_leader(db, &clerk, ids[0], leader.person.id).await?;
    let assignment = Assign {
        instruction:
            "Giao chuyên viên tham mưu báo cáo kinh nghiệm chuyển đổi số, trình trước hạn.".into(),
        lead: Target::Person(specialist.person.id),
        coordinate: vec![],
        inform: vec![Target::Person(head.person.id)],
        deadline: Some(deadline),
    };
    workflow::assign(db, &leader, ids[0], &assignment).await?;
    // The second has been answered: the reply was drafted, reviewed, approved and issued.
    let task = workflow::assign(
        db,
        &leader,
        ids[1],
        &Assign {
            inform: vec![],
            ..assignment.clone()
        },
    )
    .await?[0];
    let long_ho = crate::org::id_by_code(
        db,
        &lienthong_domain::OrgCode::parse(super::province::LONG_HO_CODE)
            .map_err(|e| ServiceError::invalid("code", e))?,
    )
    .await?;
    let draft = NewDraft {
        doc_type: DocumentType::CongVan,
        legal_normative: false,
        subject: Subject::parse("Về việc trao đổi kinh nghiệm triển khai chính quyền điện tử")
            .map_err(|e| ServiceError::invalid("subject", e))?,
        urgency: Urgency::Normal,
        classification: Classification::Normal,
        drafting_unit_id: specialist.positions.first().and_then(|p| p.unit_id),
        in_reply_to: Some(ids[1]),
        // Xã Long Hồ is on this system: the reply reaches its clerk (vanthu.xa)
        // as a signed edXML package, and its statuses come back.
        recipients: vec![
            Recipient {
                agency_id: None,
                name: ARTICLES[1].2.to_owned(),
            },
            Recipient {
                agency_id: long_ho,
                name: super::province::LONG_HO_NAME.to_owned(),
            },
        ],
        signer_name: leader.person.full_name.clone(),
        page_count: Some(1),
        copies: Some(2),
        retained_copy: "Lưu: VT".into(),
        note: String::new(),
        attachments: vec![],
    };
    let reply = outgoing::create_draft(db, blobs, &specialist, agency, draft).await?;
    outgoing::submit_for_review(db, &specialist, reply, head.person.id).await?;
    outgoing::review(
        db,
        &head,
        reply,
        Decision::Accept {
            approver_id: Some(leader.person.id),
        },
    )
    .await?;
    outgoing::approve(db, &leader, reply, Decision::Accept { approver_id: None }).await?;
    outgoing::issue(db, blobs, keys, &clerk, reply).await?;
    workflow::complete(
        db,
        &specialist,
        task,
        "Đã có công văn trả lời.",
        Some(reply),
    )
    .await?;
    Ok(ids.len() + 1)
}
