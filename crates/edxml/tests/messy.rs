//! What deployed systems send parses: see DOMAIN.md "Inter-agency exchange: edXML".

mod common;

use common::*;
use lienthong_edxml::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn mixed_prefixes_crlf_empty_elements_and_three_date_forms() {
    let xml = fixture("mixed_prefixes.xml");
    assert!(
        xml.windows(2).any(|w| w == b"\r\n"),
        "the fixture keeps CRLF"
    );
    let p = Package::parse(&xml, &Limits::default()).unwrap();
    let h = &p.header;
    // Surrounding space around an OrganId is tolerated.
    assert_eq!(h.from.organ_id.as_str(), "000.00.00.G22");
    assert_eq!(h.from.organ_name, "Văn phòng Chính phủ");
    // <Fax/>, <Email/>, <Website></Website>, empty OrganizationInCharge: None.
    assert_eq!(h.from.fax, None);
    assert_eq!(h.from.email, None);
    assert_eq!(h.from.website, None);
    assert_eq!(h.from.organization_in_charge, None);
    assert_eq!(h.to.len(), 1);
    assert_eq!(h.to[0].organ_id.as_str(), "000.00.00.H53");
    assert_eq!(h.code.to_string(), "7816/VPCP-TTĐT");
    // 30/09/2015, 2020-10-30 and 2015/09/30 (in DocumentId).
    assert_eq!(h.promulgation.date, date(2015, 9, 30));
    assert_eq!(h.due_date, Some(date(2020, 10, 30)));
    assert_eq!(h.document_id.as_ref().unwrap().date, date(2015, 9, 30));
    // References, entities and CDATA are resolved.
    assert_eq!(
        h.subject,
        "V/v triển khai & kết nối Liên thông <văn bản> MESSYMARK"
    );
    assert_eq!(h.content, None);
    assert_eq!(h.signer.competence, None);
    assert_eq!(h.signer.position, None);
    assert_eq!(h.signer.full_name.as_deref(), Some("Nguyễn Văn B"));
    assert_eq!(h.to_places, vec!["Như trên".to_string()]);
    assert_eq!(h.other.priority, None);
    assert_eq!(h.other.promulgation_amount, Some(1));
    assert_eq!(h.other.direction, Some(false));
    assert_eq!(h.document_type.detail, None);
    // A zone-less timestamp is Vietnam time.
    assert_eq!(p.traces.len(), 2);
    assert_eq!(
        time::format_timestamp(&p.traces[0].timestamp),
        "2018-09-28T00:00:00+07:00"
    );
    assert_eq!(p.traces[0].timestamp.offset().local_minus_utc(), 7 * 3600);
    assert_eq!(p.business, None);
    // Described twice (manifest and Attachment), payload a zip with CRLF base64 lines.
    assert_eq!(p.attachments.len(), 1);
    let a = &p.attachments[0];
    assert_eq!(a.content_id, "cid:hoso.zip");
    assert_eq!(a.name, "Hồ sơ.zip");
    assert_eq!(a.content_type, "application/zip");
    assert_eq!(a.description.as_deref(), Some("Tệp nén hồ sơ"));
    assert_eq!(a.bytes, fixture("zip_payload.bin"));
    assert!(a.bytes.starts_with(b"PK\x03\x04"));
    // What we read, we can write strictly.
    let again = Package::parse(&p.to_xml().unwrap(), &Limits::default()).unwrap();
    assert_eq!(again, p);
}

#[test]
fn signature_without_xmldsig_namespace_is_tolerated_by_the_reader() {
    let xml = fixture("signature_without_dsig_namespace.xml");
    let p = Package::parse(&xml, &Limits::default()).unwrap();
    assert_eq!(p.header.subject, "Về việc báo cáo");
    assert_eq!(p.header.promulgation.date, date(2020, 10, 30));
    assert!(p.attachments.is_empty());
    assert!(p.traces.is_empty());
    // It is still seen as the signature, and this one is bogus.
    assert!(matches!(
        verify(&xml),
        Err(SignatureError::DigestMismatch | SignatureError::BadCertificate(_))
    ));
}

#[test]
fn attachment_described_only_inside_attachment_and_matched_by_position() {
    let xml = r#"<edXMLEnvelope xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLHeader><MessageHeader>
<From><OrganId>000.00.00.H53</OrganId><OrganName>A</OrganName></From>
<PromulgationInfo><PromulgationDate>2020-10-30</PromulgationDate></PromulgationInfo>
<Subject>S</Subject></MessageHeader></edXMLHeader>
<edXMLBody><edXMLManifest><Reference><ContentType>text/plain</ContentType><AttachmentName>a.txt</AttachmentName></Reference></edXMLManifest>
<AttachmentEncoded><Attachment><ContentTransferEncoded>aGVsbG8</ContentTransferEncoded></Attachment>
<Attachment ContentId="cid:b"><AttachmentName>b.bin</AttachmentName><ContentTransferEncoded/></Attachment></AttachmentEncoded></edXMLBody></edXMLEnvelope>"#;
    let p = Package::parse(xml.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(p.attachments.len(), 2);
    // No padding, matched to the manifest by position.
    assert_eq!(p.attachments[0].bytes, b"hello");
    assert_eq!(p.attachments[0].name, "a.txt");
    assert_eq!(p.attachments[0].content_type, "text/plain");
    assert_eq!(p.attachments[1].content_id, "cid:b");
    assert_eq!(p.attachments[1].name, "b.bin");
    assert!(p.attachments[1].bytes.is_empty());
}

#[test]
fn refusals_name_the_element() {
    let base = String::from_utf8(fixture("mixed_prefixes.xml")).unwrap();
    let cases = [
        (
            base.replacen(
                "<OrganId> 000.00.00.G22 </OrganId>",
                "<OrganId>G22</OrganId>",
                1,
            ),
            "MessageHeader/From/OrganId \"G22\" is not an organization identifier",
        ),
        (
            base.replacen(
                "<PromulgationDate>30/09/2015",
                "<PromulgationDate>30.09.2015",
                1,
            ),
            "MessageHeader/PromulgationInfo/PromulgationDate has the value \"30.09.2015\"",
        ),
        (
            base.replacen("<Timestamp>2018/09/28 00:00:00", "<Timestamp>hôm qua", 1),
            "TraceHeader/Timestamp has the value \"hôm qua\"",
        ),
        (
            base.replacen("<Subject>", "<Subject2>", 1)
                .replacen("</Subject>", "</Subject2>", 1),
            "the required element MessageHeader/Subject is missing or empty",
        ),
        (
            base.replacen("<Direction>False", "<Direction>maybe", 1),
            "OtherInfo/Direction",
        ),
        (
            base.replacen(
                "<ContentTransferEncoded>\r\n",
                "<ContentTransferEncoded>\r\n!!",
                1,
            ),
            "the attachment Hồ sơ.zip is not valid base64",
        ),
    ];
    for (xml, expected) in cases {
        let err = Package::parse(xml.as_bytes(), &Limits::default()).unwrap_err();
        assert!(err.to_string().contains(expected), "{err} / {expected}");
    }
    let not = Package::parse(b"<html><body/></html>", &Limits::default()).unwrap_err();
    assert_eq!(
        not,
        EdxmlError::NotEdxml {
            found: "html".into()
        }
    );
}

#[test]
fn business_block_codes() {
    let mut p = full_package();
    for t in [
        BusinessDocType::New,
        BusinessDocType::Recall,
        BusinessDocType::Update,
        BusinessDocType::Replace,
    ] {
        p.business = Some(Business {
            doc_type: t,
            reason: None,
        });
        let back = Package::parse(&p.to_xml().unwrap(), &Limits::default()).unwrap();
        assert_eq!(back.business.unwrap().doc_type, t);
    }
    let xml = String::from_utf8(p.to_xml().unwrap())
        .unwrap()
        .replace("<edXML:BussinessDocType>3<", "<edXML:BussinessDocType>7<");
    let err = Package::parse(xml.as_bytes(), &Limits::default()).unwrap_err();
    assert!(
        err.to_string().contains("Bussiness/BussinessDocType"),
        "{err}"
    );
}
