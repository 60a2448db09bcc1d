//! Organization identifier (mã định danh), QCVN 102:2016/BTTTT and QĐ 20/2020/QĐ-TTg.
//!
//! Thirteen characters `ddd.dd.dd.Xdd`, read right to left: level 1 is a letter and
//! two digits (`H41` = a provincial People's Committee), then levels 2, 3 and 4 as
//! digit groups; a group of zeros means "this level itself".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgCodeError {
    #[error("an organization identifier has 13 characters (ddd.dd.dd.Xdd), this one has {0}")]
    Length(usize),
    #[error("an organization identifier looks like ddd.dd.dd.Xdd, e.g. 000.00.11.H53")]
    Shape,
}

impl ErrorCode for OrgCodeError {
    fn code(&self) -> &'static str {
        "error.org_code"
    }
}

impl OrgCode {
    pub fn parse(input: &str) -> Result<Self, OrgCodeError> {
        let s = input.trim();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 13 {
            return Err(OrgCodeError::Length(chars.len()));
        }
        for (i, c) in chars.iter().enumerate() {
            let ok = match i {
                3 | 6 | 9 => *c == '.',
                10 => c.is_ascii_uppercase(),
                _ => c.is_ascii_digit(),
            };
            if !ok {
                return Err(OrgCodeError::Shape);
            }
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Level 1: the letter-and-digits group on the right (`H53`), which names the
    /// province, ministry or Party body the agency belongs to.
    pub fn level1(&self) -> &str {
        &self.0[10..]
    }

    /// Level 2 (`dd` before level 1), level 3 and level 4 groups, right to left.
    pub fn levels(&self) -> [&str; 4] {
        [&self.0[10..], &self.0[7..9], &self.0[4..6], &self.0[0..3]]
    }

    /// Whether `self` lies inside `other` by code alone: every non-zero group of
    /// `other` is the same in `self` (e.g. `000.00.11.H53` lies in `000.00.00.H53`).
    pub fn is_within(&self, other: &OrgCode) -> bool {
        self.levels()
            .iter()
            .zip(other.levels().iter())
            .all(|(mine, theirs)| theirs.chars().all(|c| c == '0') || mine == theirs)
    }
}

impl fmt::Display for OrgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for OrgCode {
    type Err = OrgCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for OrgCode {
    type Error = OrgCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<OrgCode> for String {
    fn from(c: OrgCode) -> String {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_examples() {
        for s in [
            "000.00.00.H41",
            "000.00.11.H53",
            "000.00.00.G12",
            "123.45.67.A01",
        ] {
            assert_eq!(OrgCode::parse(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn trims_surrounding_space() {
        assert_eq!(
            OrgCode::parse(" 000.00.11.H53 ").unwrap().as_str(),
            "000.00.11.H53"
        );
    }

    #[test]
    fn rejects_wrong_length() {
        assert_eq!(
            OrgCode::parse("000.00.11.H5"),
            Err(OrgCodeError::Length(12))
        );
        assert_eq!(OrgCode::parse(""), Err(OrgCodeError::Length(0)));
        assert_eq!(
            OrgCode::parse("000.00.11.H533"),
            Err(OrgCodeError::Length(14))
        );
    }

    #[test]
    fn rejects_every_misplaced_character() {
        let good = "000.00.11.H53";
        for i in 0..good.len() {
            for bad in ['x', '.', '5', 'H', 'h', ' '] {
                let mut s: Vec<char> = good.chars().collect();
                if s[i] == bad {
                    continue;
                }
                let expected_ok = match i {
                    3 | 6 | 9 => bad == '.',
                    10 => bad.is_ascii_uppercase(),
                    _ => bad.is_ascii_digit(),
                };
                s[i] = bad;
                let s: String = s.into_iter().collect();
                assert_eq!(OrgCode::parse(&s).is_ok(), expected_ok, "{s}");
            }
        }
    }

    #[test]
    fn rejects_non_ascii_digits_and_lowercase_letter() {
        assert!(OrgCode::parse("000.00.11.h53").is_err());
        assert!(OrgCode::parse("０00.00.11.H53").is_err());
    }

    #[test]
    fn levels_read_right_to_left() {
        let c = OrgCode::parse("001.02.11.H53").unwrap();
        assert_eq!(c.levels(), ["H53", "11", "02", "001"]);
        assert_eq!(c.level1(), "H53");
    }

    #[test]
    fn within_by_code() {
        let province = OrgCode::parse("000.00.00.H53").unwrap();
        let dept = OrgCode::parse("000.00.11.H53").unwrap();
        let unit = OrgCode::parse("000.01.11.H53").unwrap();
        let other = OrgCode::parse("000.00.11.H41").unwrap();
        assert!(dept.is_within(&province));
        assert!(unit.is_within(&dept));
        assert!(unit.is_within(&province));
        assert!(!province.is_within(&dept));
        assert!(!other.is_within(&province));
        assert!(dept.is_within(&dept));
    }

    #[test]
    fn serde_round_trip_validates() {
        let c: OrgCode = serde_json::from_str("\"000.00.11.H53\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"000.00.11.H53\"");
        assert!(serde_json::from_str::<OrgCode>("\"nope\"").is_err());
    }
}
