//! Behaviour of the search index on real Vietnamese text (three provincial press articles
//! in `tests/corpus`, one document per paragraph) plus hand-made documents.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use lienthong_search::{Query, Results, SearchDoc, SearchIndex, Viewer};

const BAC_GIANG: i64 = 1;
const BINH_THUAN: i64 = 2;
const VINH_LONG: i64 = 3;

/// Person 1 works at Bắc Giang and has been granted document 6 of Bình Thuận.
const CLERK: i64 = 1;
/// Person 77 is the only reader of the classified document 5.
const CLEARED: i64 = 77;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn corpus() -> Vec<SearchDoc> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    let files = [
        ("article-bacgiang-2009.txt", BAC_GIANG, "Bắc Giang", 2009),
        ("article-binhthuan-2014.txt", BINH_THUAN, "Bình Thuận", 2014),
        ("article-vinhlong-2010.txt", VINH_LONG, "Vĩnh Long", 2010),
    ];
    let mut docs = Vec::new();
    for (file, agency, province, year) in files {
        let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        let paragraphs = text
            .lines()
            .map(str::trim)
            .filter(|p| p.chars().count() >= 30);
        for (i, paragraph) in paragraphs.enumerate() {
            let title: Vec<&str> = paragraph.split_whitespace().take(10).collect();
            docs.push(SearchDoc {
                id: 1000 * agency + i as i64,
                agency_id: agency,
                title: title.join(" "),
                symbol: format!("{}/BC-STTTT", i + 1),
                issuer: format!("Sở Thông tin và Truyền thông tỉnh {province}"),
                doc_type: "BC".into(),
                direction: "incoming".into(),
                issued_on: NaiveDate::from_ymd_opt(year, 1, 1 + i as u32 % 28),
                body: paragraph.to_string(),
                classified: false,
                readers: vec![],
            });
        }
    }
    assert!(docs.len() > 40, "corpus too small: {}", docs.len());
    docs
}

fn doc(id: i64, agency: i64, title: &str, symbol: &str, body: &str) -> SearchDoc {
    SearchDoc {
        id,
        agency_id: agency,
        title: title.into(),
        symbol: symbol.into(),
        issuer: "Ủy ban nhân dân tỉnh Bắc Giang".into(),
        doc_type: "CV".into(),
        direction: "incoming".into(),
        issued_on: Some(day("2025-01-15")),
        body: body.into(),
        classified: false,
        readers: vec![],
    }
}

fn hand_made() -> Vec<SearchDoc> {
    vec![
        SearchDoc {
            doc_type: "QĐ".into(),
            direction: "outgoing".into(),
            issued_on: Some(day("2025-03-10")),
            ..doc(
                1,
                BAC_GIANG,
                "Quyết định phê duyệt Kế hoạch chuyển đổi số tỉnh Bắc Giang năm 2025",
                "12/QĐ-UBND",
                "Ủy ban nhân dân tỉnh ban hành Kế hoạch chuyển đổi số năm 2025, \
                 trọng tâm là dữ liệu số và dịch vụ công trực tuyến.",
            )
        },
        doc(
            2,
            BAC_GIANG,
            "Công văn về việc đồng bộ dữ liệu dân cư",
            "45/UBND-VX",
            "Đề nghị các sở đồng bộ dữ liệu trước ngày 30.",
        ),
        doc(
            3,
            BAC_GIANG,
            "Thông báo lịch trực Tết khu phố Đông",
            "46/TB-UBND",
            "Phân công trực Tết tại khu phố Đông.",
        ),
        doc(
            4,
            BAC_GIANG,
            "Báo cáo dòng tiền quý I",
            "47/BC-STC",
            "Báo cáo dòng tiền ngân sách quý I.",
        ),
        SearchDoc {
            classified: true,
            readers: vec![CLEARED],
            ..doc(
                5,
                BAC_GIANG,
                "MẬT: phương án chuyển đổi số hạ tầng quân sự",
                "5/PA-BCH",
                "Nội dung mật về chuyển đổi số.",
            )
        },
        SearchDoc {
            readers: vec![CLERK],
            ..doc(
                6,
                BINH_THUAN,
                "Công văn Bình Thuận gửi riêng về chuyển đổi số",
                "99/STTTT-CNTT",
                "Chia sẻ kinh nghiệm chuyển đổi số.",
            )
        },
        doc(
            7,
            BAC_GIANG,
            "Kế hoạch tuyên truyền năm 2025",
            "48/KH-STTTT",
            "Tuyên truyền về chuyển đổi số trong trường học.",
        ),
        doc(
            8,
            BAC_GIANG,
            "<script>alert('x')</script> Quyết định khen thưởng & kỷ luật",
            "120/QĐ-UBND",
            "",
        ),
        doc(
            9,
            BAC_GIANG,
            "Quyết định về số 12 và UBND",
            "12/QĐ-STTTT",
            "Quyết định số 12 của QĐ UBND nhắc lại 12/QĐ-UBND.",
        ),
    ]
}

fn index() -> SearchIndex {
    let index = SearchIndex::in_memory().unwrap();
    let mut docs = corpus();
    docs.extend(hand_made());
    index.upsert(&docs).unwrap();
    index
}

fn clerk() -> Viewer {
    Viewer {
        person_id: CLERK,
        agencies: vec![BAC_GIANG],
    }
}

fn everyone() -> Viewer {
    Viewer {
        person_id: 500,
        agencies: vec![BAC_GIANG, BINH_THUAN, VINH_LONG],
    }
}

fn all(text: &str) -> Query {
    Query {
        limit: 200,
        ..Query::text(text)
    }
}

fn ids(results: &Results) -> Vec<i64> {
    results.hits.iter().map(|h| h.id).collect()
}

fn position(results: &Results, id: i64) -> usize {
    ids(results)
        .iter()
        .position(|found| *found == id)
        .unwrap_or_else(|| panic!("{id} not found in {:?}", ids(results)))
}

fn fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
}

#[test]
fn folded_words_find_text_with_diacritics() {
    let index = index();
    let r = index.search(&everyone(), &all("quyet dinh")).unwrap();
    assert!(ids(&r).contains(&1), "{:?}", ids(&r));
    // "Quyết định số 119/QĐ-UBND" in the Bình Thuận article.
    assert!(
        ids(&r).iter().any(|id| id / 1000 == BINH_THUAN),
        "{:?}",
        ids(&r)
    );
    for hit in &r.hits {
        let text = fold(&format!("{} {}", hit.title, hit.highlight));
        assert!(text.contains("quyet") && text.contains("dinh"), "{hit:?}");
    }

    let r = index.search(&clerk(), &all("dong")).unwrap();
    assert!(ids(&r).contains(&3), "dong finds Đông: {:?}", ids(&r));
    assert!(ids(&r).contains(&2) && ids(&r).contains(&4));

    let r = index.search(&everyone(), &all("BAC GIANG")).unwrap();
    assert!(r.total >= 30, "{}", r.total);
    assert!(
        ids(&r).iter().all(|id| *id < 2000),
        "Bắc Giang paragraphs and hand-made docs only: {:?}",
        ids(&r)
    );
}

#[test]
fn same_diacritics_rank_above_folded_only_matches() {
    let index = index();
    let r = index.search(&everyone(), &all("đồng")).unwrap();
    let exact: Vec<i64> = r
        .hits
        .iter()
        .filter(|h| {
            let docs = corpus().into_iter().chain(hand_made());
            docs.filter(|d| d.id == h.id).any(|d| {
                format!("{} {}", d.title, d.body)
                    .to_lowercase()
                    .contains("đồng")
            })
        })
        .map(|h| h.id)
        .collect();
    assert!(
        exact.len() >= 5,
        "corpus has đồng chí, đồng thời, đồng thuận: {exact:?}"
    );
    let last_exact = exact.iter().map(|id| position(&r, *id)).max().unwrap();
    assert!(
        last_exact < position(&r, 3),
        "đông after every đồng: {:?}",
        ids(&r)
    );
    assert!(
        last_exact < position(&r, 4),
        "dòng after every đồng: {:?}",
        ids(&r)
    );

    let r = index.search(&clerk(), &all("đông")).unwrap();
    assert_eq!(ids(&r)[0], 3, "{:?}", ids(&r));
    let r = index.search(&clerk(), &all("dòng")).unwrap();
    assert_eq!(ids(&r)[0], 4, "{:?}", ids(&r));
}

#[test]
fn exact_spelling_wins_whatever_the_tone_placement() {
    let index = SearchIndex::in_memory().unwrap();
    index
        .upsert(&[
            doc(1, 1, "Ban Thường vụ Tỉnh uỷ", "", ""),
            doc(2, 1, "Ban Thường vụ Tỉnh ủy", "", ""),
            doc(3, 1, "Ban Thường vụ Tỉnh ụy", "", ""),
        ])
        .unwrap();
    let viewer = Viewer {
        person_id: 1,
        agencies: vec![1],
    };
    let r = index.search(&viewer, &all("tỉnh ủy")).unwrap();
    assert_eq!(r.total, 3);
    assert_eq!(
        ids(&r)[2],
        3,
        "uỷ and ủy are the same spelling: {:?}",
        ids(&r)
    );
}

#[test]
fn quoted_phrase_matches_only_the_phrase() {
    let index = index();
    // Document 7 has all the words, but not together.
    let r = index
        .search(&clerk(), &all("kế hoạch chuyển đổi số"))
        .unwrap();
    assert!(
        ids(&r).contains(&1) && ids(&r).contains(&7),
        "{:?}",
        ids(&r)
    );
    assert!(
        position(&r, 1) < position(&r, 7),
        "adjacent words rank first"
    );

    for text in [
        "\"kế hoạch chuyển đổi số\"",
        "\"ke hoach chuyen doi so\"",
        "“Kế hoạch chuyển đổi số”",
    ] {
        let r = index.search(&clerk(), &all(text)).unwrap();
        assert_eq!(ids(&r), [1], "{text}");
        assert!(r.hits[0]
            .highlight
            .contains("<mark>Kế hoạch chuyển đổi số</mark>"));
    }

    let r = index.search(&everyone(), &all("\"ke hoach\"")).unwrap();
    assert!(r.total >= 4, "{:?}", ids(&r));
    for hit in &r.hits {
        let d = corpus()
            .into_iter()
            .chain(hand_made())
            .find(|d| d.id == hit.id)
            .unwrap();
        assert!(
            fold(&format!("{} {}", d.title, d.body)).contains("ke hoach"),
            "{hit:?}"
        );
    }

    // A phrase and a word together.
    let r = index
        .search(&clerk(), &all("\"chuyển đổi số\" tuyên truyền"))
        .unwrap();
    assert_eq!(ids(&r), [7]);
}

#[test]
fn filters_agency_type_direction_and_dates() {
    let index = index();
    let q = |f: fn(&mut Query)| {
        let mut q = all("");
        f(&mut q);
        ids(&index.search(&everyone(), &q).unwrap())
    };
    let by_agency = q(|q| q.agency = Some(VINH_LONG));
    assert!(!by_agency.is_empty() && by_agency.iter().all(|id| id / 1000 == VINH_LONG));

    assert_eq!(q(|q| q.doc_type = Some("QĐ".into())), [1]);
    assert_eq!(q(|q| q.direction = Some("outgoing".into())), [1]);
    assert_eq!(q(|q| q.direction = Some(" outgoing ".into())), [1]);
    assert_eq!(
        q(|q| q.doc_type = Some("".into())),
        q(|_| {}),
        "empty filters nothing"
    );
    let cv = q(|q| q.doc_type = Some("CV".into()));
    assert!(cv.contains(&2) && !cv.contains(&1) && !cv.contains(&1000));

    let in_2010 = q(|q| {
        q.from = Some(day("2010-01-01"));
        q.to = Some(day("2010-12-31"));
    });
    assert!(!in_2010.is_empty() && in_2010.iter().all(|id| id / 1000 == VINH_LONG));
    // Bounds are inclusive.
    assert_eq!(
        q(|q| {
            q.from = Some(day("2025-03-10"));
            q.to = Some(day("2025-03-10"));
        }),
        [1]
    );
    assert_eq!(q(|q| q.from = Some(day("2025-03-01"))), [1]);
    let before = q(|q| q.to = Some(day("2009-01-01")));
    assert!(before.contains(&1000) && before.iter().all(|id| id / 1000 == BAC_GIANG));
    assert!(q(|q| {
        q.from = Some(day("2025-01-01"));
        q.to = Some(day("2024-01-01"));
    })
    .is_empty());

    // Filters combine with text.
    let r = index
        .search(
            &everyone(),
            &Query {
                agency: Some(BINH_THUAN),
                ..all("quyết định")
            },
        )
        .unwrap();
    assert!(r.total >= 1 && ids(&r).iter().all(|id| id / 1000 == BINH_THUAN || *id == 6));
}

#[test]
fn classified_documents_are_invisible_to_others() {
    let index = index();
    // Document 5 is classified, of the clerk's own agency, and its title has the words.
    let r = index.search(&clerk(), &all("chuyển đổi số")).unwrap();
    assert!(!ids(&r).contains(&5), "{:?}", ids(&r));
    assert_eq!(r.total, r.hits.len(), "total counts only what may be seen");
    assert!(r
        .hits
        .iter()
        .all(|h| !h.highlight.contains("MẬT") && !h.highlight.contains("quân sự")));
    // Granted explicitly: the other agency's document 6.
    assert!(ids(&r).contains(&1) && ids(&r).contains(&6) && ids(&r).contains(&7));
    // Bắc Giang paragraphs have the words too; nothing else of Bình Thuận.
    assert!(
        ids(&r)
            .iter()
            .all(|id| *id < 1000 || id / 1000 == BAC_GIANG),
        "{:?}",
        ids(&r)
    );

    let q = all("\"hạ tầng quân sự\"");
    assert_eq!(index.search(&clerk(), &q).unwrap(), Results::default());
    assert_eq!(index.search(&everyone(), &q).unwrap(), Results::default());
    let count_only = Query {
        limit: 0,
        ..all("\"quân sự\" mật")
    };
    assert_eq!(index.search(&clerk(), &count_only).unwrap().total, 0);
    // Not even by its symbol, nor when listing everything.
    assert_eq!(index.search(&clerk(), &all("5/PA-BCH")).unwrap().total, 0);
    assert!(!ids(&index.search(&clerk(), &all("")).unwrap()).contains(&5));

    // Its reader finds it, even without belonging to any agency.
    let cleared = Viewer {
        person_id: CLEARED,
        agencies: vec![],
    };
    let r = index.search(&cleared, &all("chuyển đổi số")).unwrap();
    assert_eq!(ids(&r), [5]);
    assert!(r.hits[0].highlight.contains("<mark>chuyển đổi số</mark>"));

    // Other agencies' unclassified documents are not visible either.
    let r = index.search(&clerk(), &all("Vĩnh Long")).unwrap();
    assert_eq!(r.total, 0, "{:?}", ids(&r));
    let nobody = Viewer {
        person_id: 999,
        agencies: vec![],
    };
    assert_eq!(index.search(&nobody, &all("")).unwrap().total, 0);
}

#[test]
fn bad_syntax_is_read_as_plain_words() {
    let index = index();
    let plain = index.search(&clerk(), &all("quyết định")).unwrap();
    assert!(plain.total >= 3);
    for text in [
        "quyết định AND (",
        "\"quyết định",
        "quyết định\"",
        "quyết: định*",
        ": quyết định :",
        "(quyết) || định)",
        "quyết AND định OR",
        "+quyết -định",
        "quyết ~ định [ { ] }",
    ] {
        let r = index.search(&clerk(), &all(text)).unwrap();
        assert_eq!(ids(&r), ids(&plain), "{text}");
    }
    // Unknown field names are words like any other: nothing has "title" in it here.
    assert_eq!(
        index
            .search(&clerk(), &all("title:quyết định"))
            .unwrap()
            .total,
        0
    );
    for text in [
        "*", ":", "AND (", "\"", "\"\"\"", "( ) [ ]", "-", "NOT", "/", "a:b:c",
    ] {
        let r = index.search(&clerk(), &all(text));
        assert!(r.is_ok(), "{text}: {r:?}");
    }
}

#[test]
fn highlights_are_marked_and_html_safe() {
    let index = index();
    let r = index.search(&clerk(), &all("khen thưởng kỷ luật")).unwrap();
    assert_eq!(ids(&r), [8]);
    let h = &r.hits[0].highlight;
    assert!(h.contains("<mark>khen thưởng</mark>"), "{h}");
    assert!(
        h.contains("&lt;script&gt;") && !h.contains("<script>"),
        "{h}"
    );
    assert!(h.contains("&amp;"), "{h}");
    assert_eq!(
        r.hits[0].title,
        "<script>alert('x')</script> Quyết định khen thưởng & kỷ luật"
    );

    // Body fragment, with the folded match marked in its written form.
    let r = index.search(&everyone(), &all("ung dung cntt")).unwrap();
    assert!(r.total >= 1);
    for hit in &r.hits {
        assert!(hit.highlight.contains("<mark>"), "{hit:?}");
        let visible = hit.highlight.replace("<mark>", "").replace("</mark>", "");
        assert!(visible.chars().count() <= 330, "short: {visible}");
    }
    assert!(r
        .hits
        .iter()
        .any(|h| h.highlight.contains("<mark>ứng dụng CNTT</mark>")));
}

#[test]
fn symbols_are_found_with_or_without_diacritics() {
    let index = index();
    for text in [
        "12/QĐ-UBND",
        "12/QD-UBND",
        "12/qđ-ubnd",
        " 12 / QĐ – UBND ",
        "\"12/QĐ-UBND\"",
    ] {
        let r = index.search(&clerk(), &all(text)).unwrap();
        assert_eq!(r.hits[0].id, 1, "{text}: {:?}", ids(&r));
        assert_eq!(r.hits[0].symbol, "12/QĐ-UBND");
    }
    // The words of a symbol are searchable too.
    let r = index.search(&clerk(), &all("QD-UBND")).unwrap();
    assert!(
        ids(&r).contains(&1) && ids(&r).contains(&8),
        "{:?}",
        ids(&r)
    );
    let r = index.search(&everyone(), &all("119/QĐ-UBND")).unwrap();
    assert!(r.total >= 1 && ids(&r).iter().all(|id| id / 1000 == BINH_THUAN));
}

#[test]
fn pages_and_counts() {
    let index = index();
    let q = all("thông tin");
    let every = index.search(&everyone(), &q).unwrap();
    assert!(every.total > 20, "{}", every.total);
    let first = index
        .search(
            &everyone(),
            &Query {
                limit: 10,
                ..q.clone()
            },
        )
        .unwrap();
    let second = index
        .search(
            &everyone(),
            &Query {
                limit: 10,
                offset: 10,
                ..q.clone()
            },
        )
        .unwrap();
    assert_eq!((first.total, second.total), (every.total, every.total));
    assert_eq!(ids(&first), ids(&every)[..10]);
    assert_eq!(ids(&second), ids(&every)[10..20]);
    let counted = index
        .search(
            &everyone(),
            &Query {
                limit: 0,
                ..q.clone()
            },
        )
        .unwrap();
    assert_eq!((counted.hits.len(), counted.total), (0, every.total));
    let beyond = index
        .search(
            &everyone(),
            &Query {
                offset: 100_000,
                ..q
            },
        )
        .unwrap();
    assert!(beyond.hits.is_empty());
}

#[test]
fn empty_text_lists_newest_first() {
    let index = index();
    let r = index.search(&clerk(), &all("")).unwrap();
    assert_eq!(r.hits[0].id, 1, "issued 2025-03-10, the newest");
    assert!(r
        .hits
        .iter()
        .all(|h| h.score == 0.0 && !h.highlight.contains("<mark>")));
    let r = index.search(&clerk(), &Query::default()).unwrap();
    assert_eq!(r.hits.len(), 20);
}

#[test]
fn decomposed_unicode_query_finds_the_same() {
    use unicode_normalization::UnicodeNormalization;
    let index = index();
    let composed = index.search(&clerk(), &all("đồng bộ dữ liệu")).unwrap();
    let decomposed: String = "đồng bộ dữ liệu".nfd().collect();
    assert_eq!(index.search(&clerk(), &all(&decomposed)).unwrap(), composed);
    assert_eq!(ids(&composed), [2]);
}

#[test]
fn upsert_replaces_delete_removes_rebuild_resets() {
    let index = index();
    let before = index.num_docs();
    index
        .upsert(&[doc(
            2,
            BAC_GIANG,
            "Công văn về việc lưu trữ hồ sơ",
            "45/UBND-VX",
            "",
        )])
        .unwrap();
    assert_eq!(index.num_docs(), before);
    assert_eq!(
        index.search(&clerk(), &all("\"đồng bộ\"")).unwrap().total,
        0
    );
    assert_eq!(ids(&index.search(&clerk(), &all("lưu trữ")).unwrap()), [2]);

    index.delete(2).unwrap();
    index.delete(123_456).unwrap();
    assert_eq!(index.search(&clerk(), &all("lưu trữ")).unwrap().total, 0);
    assert_eq!(index.num_docs(), before - 1);

    let n = index.rebuild(hand_made()).unwrap();
    assert_eq!(n, hand_made().len());
    assert_eq!(index.num_docs(), n as u64);
    // The issuer of every hand-made document is in Bắc Giang; 5 is classified.
    assert_eq!(
        index.search(&everyone(), &all("Bắc Giang")).unwrap().total,
        8
    );
    index.rebuild(std::iter::empty()).unwrap();
    assert_eq!(index.num_docs(), 0);
}

#[test]
fn persists_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = SearchIndex::open(dir.path()).unwrap();
        index.upsert(&hand_made()).unwrap();
    }
    let index = SearchIndex::open(dir.path()).unwrap();
    assert_eq!(index.num_docs(), hand_made().len() as u64);
    let r = index.search(&clerk(), &all("12/QD-UBND")).unwrap();
    assert_eq!(r.hits[0].id, 1);
    assert!(dir.path().join("v2").join("meta.json").exists());
}

#[test]
fn only_one_process_writes_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let _first = SearchIndex::open(dir.path()).unwrap();
    assert!(SearchIndex::open(dir.path()).is_err());
}

/// The product promises that a document is searchable within a second of being saved.
/// Writes commit and reload the reader before returning, so it is immediate; this checks
/// it on disk (with fsync), for new, changed and deleted documents, many times over.
#[test]
fn upserted_document_is_searchable_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    index.upsert(&corpus()).unwrap();
    let viewer = clerk();
    let second = Duration::from_secs(1);
    let mut slowest = Duration::ZERO;
    for round in 0..20 {
        let id = 50_000 + round;
        let word = format!("mãsố{round}x");

        let started = Instant::now();
        index
            .upsert(&[doc(id, BAC_GIANG, &format!("Tờ trình {word}"), "", "")])
            .unwrap();
        let found = index.search(&viewer, &all(&word)).unwrap();
        let elapsed = started.elapsed();
        assert_eq!(ids(&found), [id], "round {round}: new document visible");
        assert!(elapsed < second, "round {round}: {elapsed:?}");
        slowest = slowest.max(elapsed);

        // Changed: the new text is found and the old one is not, at once.
        let started = Instant::now();
        index
            .upsert(&[doc(id, BAC_GIANG, "Tờ trình đã sửa lần hai", "", "")])
            .unwrap();
        assert_eq!(
            ids(&index.search(&viewer, &all("sửa lần hai")).unwrap()),
            [id]
        );
        assert_eq!(index.search(&viewer, &all(&word)).unwrap().total, 0);
        let elapsed = started.elapsed();
        assert!(elapsed < second, "round {round}: {elapsed:?}");
        slowest = slowest.max(elapsed);

        // Deleted: gone at once.
        let started = Instant::now();
        index.delete(id).unwrap();
        assert_eq!(index.search(&viewer, &all("sửa lần hai")).unwrap().total, 0);
        let elapsed = started.elapsed();
        assert!(elapsed < second, "round {round}: {elapsed:?}");
        slowest = slowest.max(elapsed);
    }
    eprintln!("slowest write + search on disk: {slowest:?}");
}

#[test]
fn searches_run_while_another_thread_writes() {
    let index = std::sync::Arc::new(index());
    let q = all("\"giấy mời họp\"");
    assert_eq!(index.search(&clerk(), &q).unwrap().total, 0);
    let writer = {
        let index = index.clone();
        std::thread::spawn(move || {
            for i in 0..30 {
                index
                    .upsert(&[doc(70_000 + i, BAC_GIANG, "Giấy mời họp", "", "")])
                    .unwrap();
            }
        })
    };
    let mut last = 0;
    while !writer.is_finished() {
        let total = index.search(&clerk(), &q).unwrap().total;
        assert!(total >= last, "never goes backwards");
        last = total;
    }
    writer.join().unwrap();
    assert_eq!(index.search(&clerk(), &q).unwrap().total, 30);
}
