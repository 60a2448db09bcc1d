//! Shared helpers of the integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use lienthong_domain::OrgCode;
use lienthong_pki::{Ca, CaOptions, IssueRequest, KeyKind};

pub const PROVINCE: &str = "000.00.00.H62";
pub const AGENCY: &str = "000.00.11.H62";
pub const AGENCY_NAME: &str = "Sở Khoa học và Công nghệ tỉnh Bắc Ninh";
pub const CA_NAME: &str = "CA tỉnh Bắc Ninh";

pub fn code(s: &str) -> OrgCode {
    OrgCode::parse(s).unwrap()
}

pub fn options(key: KeyKind) -> CaOptions {
    CaOptions {
        name: CA_NAME.to_owned(),
        province_code: code(PROVINCE),
        key,
        valid_years: 10,
        crl_url: Some("http://ca.bacninh.gov.vn/crl.pem".to_owned()),
    }
}

pub fn new_ca(dir: &Path, key: KeyKind) -> Ca {
    Ca::init(dir, &options(key)).unwrap()
}

pub fn request(org: &str, key: KeyKind, valid_days: u32) -> IssueRequest {
    IssueRequest {
        org: code(org),
        name: AGENCY_NAME.to_owned(),
        key,
        valid_days,
    }
}

/// Runs the openssl command-line tool, an implementation independent of our code.
pub fn openssl(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl command-line tool is installed")
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}
