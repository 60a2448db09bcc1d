//! The writer's output reads back to the same package, and is the standard shape.

mod common;

use common::*;
use lienthong_edxml::*;

#[test]
fn full_package_round_trips() {
    let p = full_package();
    let xml = p.to_xml().unwrap();
    let back = Package::parse(&xml, &Limits::default()).unwrap();
    assert_eq!(back, p);
    // Every byte value survives base64.
    assert_eq!(back.attachments[1].bytes, (0..=255u8).collect::<Vec<_>>());
    assert!(back.attachments[0].bytes.starts_with(b"%PDF-1.7"));
    // Written again, the bytes are identical: the writer is deterministic.
    assert_eq!(back.to_xml().unwrap(), xml);
}

#[test]
fn output_is_the_standard_shape() {
    let xml = String::from_utf8(full_package().to_xml().unwrap()).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(xml.contains("<edXML:edXML xmlns:edXML=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">"));
    let order = [
        "<edXML:edXMLEnvelope>",
        "<edXML:edXMLHeader>",
        "<edXML:MessageHeader>",
        "<edXML:From>",
        "<edXML:To>",
        "<edXML:DocumentId>000.00.00.H53,2024/05/17,123/UBND-VP</edXML:DocumentId>",
        "<edXML:PromulgationDate>2024-05-17</edXML:PromulgationDate>",
        "<edXML:Subject>",
        "<edXML:DueDate>2024-06-01</edXML:DueDate>",
        "<edXML:ResponseFor>",
        "<edXML:TraceHeaderList>",
        "<edXML:Timestamp>2024-05-17T08:30:00+07:00</edXML:Timestamp>",
        // 01:31:02Z is written in Vietnam time.
        "<edXML:Timestamp>2024-05-17T08:31:02+07:00</edXML:Timestamp>",
        "<edXML:Bussiness>",
        "<edXML:BussinessDocType>3</edXML:BussinessDocType>",
        "</edXML:edXMLHeader>",
        "<edXML:edXMLBody>",
        "<edXML:edXMLManifest>",
        "<edXML:Reference>",
        "<edXML:ContentId>cid:vanban-1</edXML:ContentId>",
        "<edXML:AttachmentEncoded>",
        "<edXML:Attachment>",
        "<edXML:ContentTransferEncoded>",
    ];
    let mut at = 0;
    for needle in order {
        let i = xml[at..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} missing or out of order"));
        at += i;
    }
    // Escaping: & < > in text, \r as a reference.
    assert!(xml.contains("Số 1, đường Trần Hưng Đạo &amp; phố &lt;Lý&gt;"));
    assert!(xml.contains("Dòng hai&#13;\ndòng ba"));
    // Base64 lines are at most 76 characters.
    let start = xml.find("<edXML:ContentTransferEncoded>").unwrap();
    let end = xml.find("</edXML:ContentTransferEncoded>").unwrap();
    let lines: Vec<&str> = xml[start..end].lines().skip(1).collect();
    assert!(lines.len() > 10);
    assert!(lines.iter().all(|l| l.trim().len() <= 76));
    assert_eq!(lines[0].len(), 76);
}

#[test]
fn status_package_round_trips_with_every_code() {
    for code in StatusCode::ALL {
        let s = StatusPackage {
            from: Organization::new(org("000.00.11.H53"), "Sở KH&CN"),
            response_for: ResponseFor {
                organ_id: org("000.00.00.H53"),
                code: "123/UBND-VP".into(),
                promulgation_date: date(2024, 5, 17),
                document_id: Some(
                    DocumentId::parse("000.00.00.H53,2024/05/17,123/UBND-VP").unwrap(),
                ),
            },
            staff: StaffInfo {
                department: Some("Văn thư".into()),
                staff: Some("Trần Thị B".into()),
                email: Some("vanthu@example.gov.vn".into()),
                mobile: Some("0912345678".into()),
            },
            code,
            description: (code == StatusCode::Refused).then(|| "Thiếu tệp đính kèm".into()),
            timestamp: time::parse_timestamp("2024-05-17 09:00:00").unwrap(),
        };
        let xml = s.to_xml().unwrap();
        let text = String::from_utf8(xml.clone()).unwrap();
        assert!(text.contains(&format!(
            "<edXML:StatusCode>{}</edXML:StatusCode>",
            code.as_str()
        )));
        assert_eq!(StatusPackage::parse(&xml, &Limits::default()).unwrap(), s);
        assert!(s.describe().contains(code.label()));
    }
}

#[test]
fn document_id_parses_and_displays() {
    let id = DocumentId::parse("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT").unwrap();
    assert_eq!(id.organ_id.as_str(), "000.00.00.G22");
    assert_eq!(id.date, date(2015, 9, 30));
    assert_eq!(id.code, "7816/VPCP-TTĐT");
    assert_eq!(id.to_string(), "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT");
    // Other date forms are read, the standard one written.
    let id2: DocumentId = "000.00.00.G22,30/09/2015,7816/VPCP-TTĐT".parse().unwrap();
    assert_eq!(id2, id);
    // A comma inside Số/KýHiệu stays in the code part.
    assert_eq!(
        DocumentId::parse("000.00.00.G22,2015/09/30,a,b")
            .unwrap()
            .code,
        "a,b"
    );
    for bad in [
        "",
        "000.00.00.G22",
        "000.00.00.G22,2015/09/30",
        "000.00.00.G22,2015/13/30,x",
        "G22,2015/09/30,x",
        "000.00.00.G22,2015/09/30, ",
    ] {
        assert!(DocumentId::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn describe_names_the_essentials() {
    let d = full_package().describe();
    for needle in [
        "123/UBND-VP",
        "Công văn",
        "Về việc triển khai liên thông văn bản",
        "Văn phòng UBND tỉnh (000.00.00.H53)",
        "Sở Nội vụ (000.00.12.H53)",
        "Nguyễn Văn A",
        "replace (thay thế): Sai sót số ký hiệu",
        "123-UBND-VP.pdf (application/pdf, 5052 bytes)",
        "256 bytes",
    ] {
        assert!(d.contains(needle), "{needle} not in\n{d}");
    }
}

#[test]
fn writer_refuses_what_the_standard_forbids() {
    let mut p = full_package();
    p.attachments[1].content_id = "phuluc".into();
    assert!(
        matches!(p.to_xml(), Err(EdxmlError::Invalid { ref element, .. }) if element == "Reference/ContentId")
    );

    let mut p = full_package();
    p.attachments[1].content_id = p.attachments[0].content_id.clone();
    assert!(p.to_xml().is_err());

    let mut p = full_package();
    p.header.subject = "a\u{1}b".into();
    assert_eq!(
        p.to_xml(),
        Err(EdxmlError::ForbiddenChar {
            field: "Subject",
            code: 1
        })
    );

    let mut p = full_package();
    p.header.to.clear();
    assert_eq!(
        p.to_xml(),
        Err(EdxmlError::Missing {
            element: "MessageHeader/To".into()
        })
    );
}
