//! Gói tin trạng thái (status packages): what the receiving agency did with a văn
//! bản, sent back to the cơ quan gửi. Read and written by [`crate::read`] and
//! [`crate::write`] like document packages.

use std::fmt;

use chrono::{DateTime, FixedOffset};

use crate::model::{Organization, ResponseFor};

/// A status package: From, ResponseFor, StaffInfo, StatusCode, Description, Timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusPackage {
    /// The agency reporting the status (the receiver of the document).
    pub from: Organization,
    /// The document the status is about.
    pub response_for: ResponseFor,
    pub staff: StaffInfo,
    pub code: StatusCode,
    /// Lý do / ghi chú: for 02 (refused) the reason sent back to the sender.
    pub description: Option<String>,
    pub timestamp: DateTime<FixedOffset>,
}

/// Cán bộ xử lý: the person and unit who set the status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaffInfo {
    pub department: Option<String>,
    pub staff: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<String>,
}

/// StatusCode, written as two digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// 01 đã đến: the package arrived.
    Arrived,
    /// 02 từ chối tiếp nhận: refused (the reason is in Description).
    Refused,
    /// 03 đã tiếp nhận: accepted and registered (vào sổ).
    Accepted,
    /// 04 phân công: assigned to a unit or person.
    Assigned,
    /// 05 đang xử lý: being processed.
    Processing,
    /// 06 hoàn thành: finished.
    Finished,
    /// 13 lấy lại: taken back by the sender.
    TakenBack,
    /// 15 đồng ý cập nhật/thu hồi: agrees to update or recall.
    AgreesToUpdate,
    /// 16 từ chối cập nhật/thu hồi: refuses update or recall.
    RefusesUpdate,
}

impl StatusCode {
    pub const ALL: [StatusCode; 9] = [
        StatusCode::Arrived,
        StatusCode::Refused,
        StatusCode::Accepted,
        StatusCode::Assigned,
        StatusCode::Processing,
        StatusCode::Finished,
        StatusCode::TakenBack,
        StatusCode::AgreesToUpdate,
        StatusCode::RefusesUpdate,
    ];

    /// The two-digit text form (`01`…`16`).
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCode::Arrived => "01",
            StatusCode::Refused => "02",
            StatusCode::Accepted => "03",
            StatusCode::Assigned => "04",
            StatusCode::Processing => "05",
            StatusCode::Finished => "06",
            StatusCode::TakenBack => "13",
            StatusCode::AgreesToUpdate => "15",
            StatusCode::RefusesUpdate => "16",
        }
    }

    /// Reads `01` as well as `1` (some senders drop the leading zero).
    pub fn parse(s: &str) -> Option<Self> {
        let n: u8 = s.trim().parse().ok()?;
        StatusCode::ALL
            .into_iter()
            .find(|c| c.as_str().parse::<u8>().ok() == Some(n))
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusCode::Arrived => "arrived (đã đến)",
            StatusCode::Refused => "refused (từ chối tiếp nhận)",
            StatusCode::Accepted => "accepted (đã tiếp nhận)",
            StatusCode::Assigned => "assigned (phân công)",
            StatusCode::Processing => "processing (đang xử lý)",
            StatusCode::Finished => "finished (hoàn thành)",
            StatusCode::TakenBack => "taken back (lấy lại)",
            StatusCode::AgreesToUpdate => "agrees to update/recall",
            StatusCode::RefusesUpdate => "refuses update/recall",
        }
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_digit_codes_round_trip() {
        for c in StatusCode::ALL {
            assert_eq!(c.as_str().len(), 2);
            assert_eq!(StatusCode::parse(c.as_str()), Some(c));
        }
        assert_eq!(StatusCode::parse("3"), Some(StatusCode::Accepted));
        assert_eq!(StatusCode::parse("16"), Some(StatusCode::RefusesUpdate));
        assert_eq!(StatusCode::parse("07"), None);
        assert_eq!(StatusCode::parse("x"), None);
    }
}
