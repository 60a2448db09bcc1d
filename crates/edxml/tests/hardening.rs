//! Hostile input is refused early and cheaply; field limits hold both ways.

mod common;

use common::*;
use lienthong_edxml::*;

fn parse(xml: &str) -> Result<Package, EdxmlError> {
    Package::parse(xml.as_bytes(), &Limits::default())
}

#[test]
fn xxe_is_refused() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<edXML:edXML xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXML:edXMLEnvelope><edXML:edXMLHeader><edXML:MessageHeader><edXML:Subject>&x;</edXML:Subject></edXML:MessageHeader></edXML:edXMLHeader></edXML:edXMLEnvelope></edXML:edXML>"#;
    assert_eq!(parse(xml), Err(EdxmlError::DoctypeRefused));
    assert_eq!(
        verify(xml.as_bytes()).unwrap_err(),
        SignatureError::Xml(EdxmlError::DoctypeRefused)
    );
    // Without the DOCTYPE, the reference is simply undefined.
    let undeclared = "<edXML><edXMLEnvelope><Subject>&x;</Subject></edXMLEnvelope></edXML>";
    assert_eq!(
        parse(undeclared),
        Err(EdxmlError::UnknownEntity { name: "x".into() })
    );
}

#[test]
fn billion_laughs_is_refused() {
    let mut xml =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        xml.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    xml.push_str("]>\n<edXML>&lol9;</edXML>");
    let started = std::time::Instant::now();
    assert_eq!(parse(&xml), Err(EdxmlError::DoctypeRefused));
    assert!(started.elapsed().as_secs() < 1);
}

#[test]
fn too_deep_is_refused() {
    let depth = 65;
    let xml = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    match parse(&xml) {
        Err(EdxmlError::TooDeep { max: 64, element }) => assert_eq!(element, "a"),
        other => panic!("{other:?}"),
    }
    // The limit is configurable.
    let shallow = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    let ok_depth = "<a><b><c><d/></c></b></a>";
    assert!(!matches!(
        Package::parse(ok_depth.as_bytes(), &shallow),
        Err(EdxmlError::TooDeep { .. })
    ));
    let too = "<a><b><c><d><e/></d></c></b></a>";
    assert!(matches!(
        Package::parse(too.as_bytes(), &shallow),
        Err(EdxmlError::TooDeep { .. })
    ));
}

#[test]
fn too_large_is_refused_before_parsing() {
    let limits = Limits {
        max_input_bytes: 1000,
        ..Limits::default()
    };
    let xml = full_package().to_xml().unwrap();
    assert_eq!(
        Package::parse(&xml, &limits),
        Err(EdxmlError::TooLarge {
            max: 1000,
            found: xml.len()
        })
    );
    assert!(matches!(
        verify_with(&xml, &limits),
        Err(SignatureError::Xml(EdxmlError::TooLarge { .. }))
    ));
    // The default (64 MiB) accepts it.
    assert!(Package::parse(&xml, &Limits::default()).is_ok());
}

#[test]
fn long_text_attributes_and_many_elements_are_refused() {
    let limits = Limits {
        max_text_bytes: 100,
        max_attribute_bytes: 10,
        max_attributes: 3,
        max_elements: 20,
        ..Limits::default()
    };
    let long_text = format!("<edXML><Subject>{}</Subject></edXML>", "x".repeat(101));
    assert!(matches!(
        Package::parse(long_text.as_bytes(), &limits),
        Err(EdxmlError::TextTooLong { ref element, max: 100 }) if element == "Subject"
    ));
    let long_attr = "<edXML a=\"12345678901\"/>";
    assert!(matches!(
        Package::parse(long_attr.as_bytes(), &limits),
        Err(EdxmlError::AttributeTooLong { .. })
    ));
    let many_attrs = "<edXML a=\"1\" b=\"2\" c=\"3\" d=\"4\"/>";
    assert!(matches!(
        Package::parse(many_attrs.as_bytes(), &limits),
        Err(EdxmlError::TooManyAttributes { .. })
    ));
    let many = format!("<edXML>{}</edXML>", "<x/>".repeat(25));
    assert_eq!(
        Package::parse(many.as_bytes(), &limits),
        Err(EdxmlError::TooManyElements { max: 20 })
    );
    // Attachment payloads are bounded by the input size only.
    let mut p = full_package();
    p.attachments[0].bytes = vec![7u8; 300_000];
    let xml = p.to_xml().unwrap();
    let generous = Limits {
        max_text_bytes: 100_000,
        ..Limits::default()
    };
    assert_eq!(
        Package::parse(&xml, &generous).unwrap().attachments[0]
            .bytes
            .len(),
        300_000
    );
}

#[test]
fn malformed_and_foreign_encodings_are_refused() {
    for bad in [
        "",
        "<edXML>",
        "<edXML></edxml>",
        "<edXML a='1' a='2'/>",
        "<edXML/><edXML/>",
        "text<edXML/>",
        "<edXML>&#0;</edXML>",
        "<edXML>&#xD800;</edXML>",
    ] {
        assert!(parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        parse("<?xml version=\"1.0\" encoding=\"windows-1258\"?><edXML/>"),
        Err(EdxmlError::UnsupportedEncoding("windows-1258".into()))
    );
    assert!(Package::parse(b"<edXML>\xff\xfe</edXML>", &Limits::default()).is_err());
}

#[test]
fn field_limits_on_write() {
    let mut p = full_package();
    p.header.subject = "ệ".repeat(501);
    assert_eq!(
        p.to_xml(),
        Err(EdxmlError::FieldTooLong {
            field: "Subject",
            max: 500,
            found: 501
        })
    );
    // 500 Vietnamese characters are 1500 bytes and still fine: characters count.
    p.header.subject = "ệ".repeat(500);
    assert!(p.to_xml().is_ok());

    let mut p = full_package();
    p.header.content = Some("a".repeat(612));
    assert_eq!(
        p.to_xml(),
        Err(EdxmlError::FieldTooLong {
            field: "Content",
            max: 500,
            found: 612
        })
    );

    let mut p = full_package();
    p.header.to_places.push("n".repeat(151));
    assert_eq!(
        p.to_xml(),
        Err(EdxmlError::FieldTooLong {
            field: "ToPlaces/Place",
            max: 150,
            found: 151
        })
    );

    let mut p = full_package();
    p.attachments[0].name = format!("{}.pdf", "t".repeat(197));
    assert_eq!(
        p.to_xml(),
        Err(EdxmlError::FieldTooLong {
            field: "AttachmentName",
            max: 200,
            found: 201
        })
    );
}

#[test]
fn field_limits_on_read() {
    let xml = String::from_utf8(full_package().to_xml().unwrap()).unwrap();
    let cases = [
        (
            "Về việc triển khai liên thông văn bản SUBJMARK",
            "s".repeat(612),
            "Subject has 612 characters, more than the 500 allowed",
        ),
        (
            "Như trên;",
            "p".repeat(151),
            "ToPlaces/Place has 151 characters, more than the 150 allowed",
        ),
        (
            "123-UBND-VP.pdf",
            "ả".repeat(201),
            "AttachmentName has 201 characters, more than the 200 allowed",
        ),
    ];
    for (from, to, message) in cases {
        let err = parse(&xml.replacen(from, &to, 1)).unwrap_err();
        assert_eq!(err.to_string(), message);
    }
    let content = xml.replacen("Nội dung: ", &"c".repeat(600), 1);
    assert!(matches!(
        parse(&content),
        Err(EdxmlError::FieldTooLong {
            field: "Content",
            max: 500,
            ..
        })
    ));
}
