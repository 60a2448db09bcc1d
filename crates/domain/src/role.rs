//! The roles a person holds in an agency (vai trò).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a person may do inside one agency. A person may hold several roles in
/// several agencies at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Quản trị: manages the agency's units and people (and, at the province's
    /// People's Committee, the whole province).
    Admin,
    /// Văn thư: registers incoming documents, numbers and issues outgoing ones.
    Clerk,
    /// Lãnh đạo (giám đốc, chủ tịch…): assigns work, approves and signs.
    Leader,
    /// Trưởng phòng: splits work inside a unit, reviews drafts.
    UnitHead,
    /// Chuyên viên: handles documents and dossiers, drafts replies.
    Specialist,
    /// Cán bộ một cửa: receives citizens' dossiers at the counter.
    OneStopOfficer,
    /// Biên tập viên: writes and publishes portal articles.
    Editor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Clerk,
        Role::Leader,
        Role::UnitHead,
        Role::Specialist,
        Role::OneStopOfficer,
        Role::Editor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clerk => "clerk",
            Role::Leader => "leader",
            Role::UnitHead => "unit_head",
            Role::Specialist => "specialist",
            Role::OneStopOfficer => "one_stop_officer",
            Role::Editor => "editor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
    }

    #[test]
    fn unknown_role_is_an_error() {
        assert_eq!("boss".parse::<Role>(), Err(UnknownRole("boss".into())));
        assert!("Admin".parse::<Role>().is_err());
    }
}
