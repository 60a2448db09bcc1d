//! People: staff of agencies, citizens (công dân) and businesses (doanh nghiệp).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    /// Cán bộ, công chức: works in one or more agencies.
    Staff,
    /// Công dân: submits dossiers, reads the portal.
    Citizen,
    /// Doanh nghiệp: an organisation's account for dossiers.
    Business,
}

impl PersonKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonKind::Staff => "staff",
            PersonKind::Citizen => "citizen",
            PersonKind::Business => "business",
        }
    }
    pub fn parse(s: &str) -> Result<Self, PersonError> {
        match s {
            "staff" => Ok(PersonKind::Staff),
            "citizen" => Ok(PersonKind::Citizen),
            "business" => Ok(PersonKind::Business),
            _ => Err(PersonError::Kind),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonError {
    #[error("a user name is 3 to 64 lower-case letters, digits, dots, dashes or underscores")]
    Username,
    #[error("a password has at least 10 and at most 256 characters")]
    PasswordLength,
    #[error("a full name must not be empty and at most 200 characters")]
    FullName,
    #[error("this does not look like an e-mail address")]
    Email,
    #[error("unknown kind of account")]
    Kind,
}

impl ErrorCode for PersonError {
    fn code(&self) -> &'static str {
        match self {
            PersonError::Username => "error.username",
            PersonError::PasswordLength => "error.password_length",
            PersonError::FullName => "error.full_name",
            PersonError::Email => "error.email",
            PersonError::Kind => "error.person_kind",
        }
    }
}

/// A sign-in name (tên đăng nhập) such as `vanthu.skhcn`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, PersonError> {
        let t = s.trim().to_lowercase();
        let n = t.len();
        let ok_char =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_');
        if !(3..=64).contains(&n) || !t.chars().all(ok_char) {
            return Err(PersonError::Username);
        }
        Ok(Self(t))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password, checked for length only: long passphrases beat composition rules.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(s: &str) -> Result<Self, PersonError> {
        let n = s.chars().count();
        if !(10..=256).contains(&n) {
            return Err(PersonError::PasswordLength);
        }
        Ok(Self(s.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullName(String);

impl FullName {
    pub fn parse(s: &str) -> Result<Self, PersonError> {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 200 {
            return Err(PersonError::FullName);
        }
        Ok(Self(t.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, PersonError> {
        let t = s.trim();
        let Some((local, domain)) = t.split_once('@') else {
            return Err(PersonError::Email);
        };
        let ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && t.len() <= 254
            && !t.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(PersonError::Email);
        }
        Ok(Self(t.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(
            Username::parse("vanthu.skhcn").unwrap().as_str(),
            "vanthu.skhcn"
        );
        assert_eq!(
            Username::parse(" VanThu.SKHCN ").unwrap().as_str(),
            "vanthu.skhcn"
        );
        assert_eq!(Username::parse("a_b-c.1").unwrap().as_str(), "a_b-c.1");
        for bad in ["ab", "", "văn.thư", "a b", "a/b", &"a".repeat(65)] {
            assert_eq!(Username::parse(bad), Err(PersonError::Username), "{bad}");
        }
        assert!(Username::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(Password::parse("lienthong-demo").is_ok());
        assert!(Password::parse("ngắn").is_err());
        assert!(Password::parse("đđđđđđđđđđ").is_ok());
        assert!(Password::parse("đđđđđđđđđ").is_err());
        assert!(Password::parse(&"x".repeat(257)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("lienthong-demo").unwrap()),
            "Password(***)"
        );
    }

    #[test]
    fn names_and_emails() {
        assert_eq!(
            FullName::parse(" Nguyễn Văn A ").unwrap().as_str(),
            "Nguyễn Văn A"
        );
        assert!(FullName::parse(" ").is_err());
        assert!(Email::parse("vanthu@skhcn.vinhlong.gov.vn").is_ok());
        for bad in [
            "", "a", "a@b", "@b.vn", "a@.vn", "a@b.", "a b@c.vn", "a@b@c.vn",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kinds() {
        for k in [PersonKind::Staff, PersonKind::Citizen, PersonKind::Business] {
            assert_eq!(PersonKind::parse(k.as_str()), Ok(k));
        }
        assert!(PersonKind::parse("alien").is_err());
    }
}
