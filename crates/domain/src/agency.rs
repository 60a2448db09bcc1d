//! Agencies (cơ quan) and reorganisation (sắp xếp, tổ chức lại).
//!
//! The hierarchy is data: an agency has a parent as of a date, never a fixed level.
//! Agencies merge, split, move and get renamed with an effective date; the rules
//! that a reorganisation must satisfy live here, the storage of it in the services.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// What sort of agency this is. Only informative: rules never depend on depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    /// UBND tỉnh: the province's People's Committee.
    ProvincialCommittee,
    /// Sở / ban ngành: a specialised department.
    Department,
    /// Trung tâm Phục vụ hành chính công: public administrative service centre.
    ServiceCentre,
    /// UBND huyện: a district (abolished on 2025-07-01, kept for history).
    District,
    /// UBND xã: a commune.
    Commune,
    /// UBND phường: a ward.
    Ward,
    /// Anything else (a public service unit, an agency outside the province…).
    Other,
}

impl AgencyKind {
    pub const ALL: [AgencyKind; 7] = [
        AgencyKind::ProvincialCommittee,
        AgencyKind::Department,
        AgencyKind::ServiceCentre,
        AgencyKind::District,
        AgencyKind::Commune,
        AgencyKind::Ward,
        AgencyKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgencyKind::ProvincialCommittee => "provincial_committee",
            AgencyKind::Department => "department",
            AgencyKind::ServiceCentre => "service_centre",
            AgencyKind::District => "district",
            AgencyKind::Commune => "commune",
            AgencyKind::Ward => "ward",
            AgencyKind::Other => "other",
        }
    }
}

impl fmt::Display for AgencyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AgencyKind {
    type Err = AgencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AgencyKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(AgencyError::UnknownKind)
    }
}

/// The four changes an administrator records when the map of agencies changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReorganisationKind {
    /// Sáp nhập: one or more agencies end and a successor takes over their people,
    /// units and open work (Sở TT&TT → Sở KH&CN on 2025-03-01).
    Merge,
    /// Chia tách / giải thể: one agency ends and several successors take over; its
    /// people and units go to the first successor (the districts on 2025-07-01).
    Split,
    /// Đổi tên: the agency goes on under a new name.
    Rename,
    /// Điều chuyển: the agency goes on under a new parent.
    Move,
}

impl ReorganisationKind {
    pub const ALL: [ReorganisationKind; 4] = [
        ReorganisationKind::Merge,
        ReorganisationKind::Split,
        ReorganisationKind::Rename,
        ReorganisationKind::Move,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReorganisationKind::Merge => "merge",
            ReorganisationKind::Split => "split",
            ReorganisationKind::Rename => "rename",
            ReorganisationKind::Move => "move",
        }
    }
}

impl FromStr for ReorganisationKind {
    type Err = AgencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReorganisationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(AgencyError::UnknownReorganisation)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgencyError {
    #[error("unknown kind of agency")]
    UnknownKind,
    #[error("unknown kind of reorganisation")]
    UnknownReorganisation,
    #[error("an agency name must not be empty and at most 250 characters")]
    Name,
    #[error("a short name is 1 to 20 letters or digits, such as SKHCN")]
    ShortName,
    #[error("a merge needs at least one agency that ends and exactly one successor")]
    MergeShape,
    #[error("a split needs exactly one agency that ends and at least two successors")]
    SplitShape,
    #[error("a rename or a move concerns exactly one agency and names no successor")]
    SingleShape,
    #[error("an agency cannot be its own successor")]
    OwnSuccessor,
    #[error("the same agency is listed twice")]
    Duplicate,
    #[error("a rename needs a new name")]
    NewNameMissing,
    #[error("a move needs a new parent")]
    NewParentMissing,
    #[error("an agency cannot be placed under itself or one of its own sub-agencies")]
    Cycle,
    #[error("the effective date must fall while every agency concerned exists")]
    NotInForce,
}

impl ErrorCode for AgencyError {
    fn code(&self) -> &'static str {
        match self {
            AgencyError::UnknownKind => "error.agency_kind",
            AgencyError::UnknownReorganisation => "error.reorg_kind",
            AgencyError::Name => "error.agency_name",
            AgencyError::ShortName => "error.short_name",
            AgencyError::MergeShape => "error.reorg_merge_shape",
            AgencyError::SplitShape => "error.reorg_split_shape",
            AgencyError::SingleShape => "error.reorg_single_shape",
            AgencyError::OwnSuccessor => "error.reorg_own_successor",
            AgencyError::Duplicate => "error.reorg_duplicate",
            AgencyError::NewNameMissing => "error.reorg_new_name",
            AgencyError::NewParentMissing => "error.reorg_new_parent",
            AgencyError::Cycle => "error.reorg_cycle",
            AgencyError::NotInForce => "error.reorg_not_in_force",
        }
    }
}

/// An agency's display name (tên cơ quan), 1 to 250 characters once trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyName(String);

impl AgencyName {
    pub fn parse(s: &str) -> Result<Self, AgencyError> {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 250 {
            return Err(AgencyError::Name);
        }
        Ok(Self(t.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The abbreviation that appears in document symbols (`15/QĐ-SKHCN`, `215/SKHCN-VP`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortName(String);

impl ShortName {
    pub fn parse(s: &str) -> Result<Self, AgencyError> {
        let t = s.trim();
        let n = t.chars().count();
        if n == 0 || n > 20 || !t.chars().all(|c| c.is_alphanumeric() || c == '&') {
            return Err(AgencyError::ShortName);
        }
        Ok(Self(t.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The validity of an agency: from its founding date, up to (not including) the
/// day it ended, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

impl Validity {
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && self.to.is_none_or(|to| day < to)
    }
}

/// A reorganisation as an administrator asks for it, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReorganisationRequest {
    pub kind: ReorganisationKind,
    pub effective_on: NaiveDate,
    /// The agencies that end (merge, split) or change (rename, move).
    pub subjects: Vec<i64>,
    /// The successors of a merge or a split, the first one primary.
    pub successors: Vec<i64>,
    pub new_name: Option<AgencyName>,
    pub new_parent: Option<i64>,
}

/// Facts about the agencies concerned, read from storage for [`check_reorganisation`].
pub struct ReorganisationFacts<'a> {
    /// Validity of every agency named as subject, successor or new parent.
    pub validity: &'a dyn Fn(i64) -> Option<Validity>,
    /// Every agency under the subject (for a move), as of the effective date.
    pub descendants_of_subject: &'a [i64],
}

/// Checks that a reorganisation makes sense before anything is written.
pub fn check_reorganisation(
    req: &ReorganisationRequest,
    facts: &ReorganisationFacts<'_>,
) -> Result<(), AgencyError> {
    let mut all: Vec<i64> = req
        .subjects
        .iter()
        .chain(&req.successors)
        .copied()
        .collect();
    all.sort_unstable();
    if all.windows(2).any(|w| w[0] == w[1]) {
        return match req.subjects.iter().any(|s| req.successors.contains(s)) {
            true => Err(AgencyError::OwnSuccessor),
            false => Err(AgencyError::Duplicate),
        };
    }
    match req.kind {
        ReorganisationKind::Merge => {
            if req.subjects.is_empty() || req.successors.len() != 1 {
                return Err(AgencyError::MergeShape);
            }
        }
        ReorganisationKind::Split => {
            if req.subjects.len() != 1 || req.successors.len() < 2 {
                return Err(AgencyError::SplitShape);
            }
        }
        ReorganisationKind::Rename => {
            if req.subjects.len() != 1 || !req.successors.is_empty() {
                return Err(AgencyError::SingleShape);
            }
            if req.new_name.is_none() {
                return Err(AgencyError::NewNameMissing);
            }
        }
        ReorganisationKind::Move => {
            if req.subjects.len() != 1 || !req.successors.is_empty() {
                return Err(AgencyError::SingleShape);
            }
            let Some(parent) = req.new_parent else {
                return Err(AgencyError::NewParentMissing);
            };
            if req.subjects.contains(&parent) || facts.descendants_of_subject.contains(&parent) {
                return Err(AgencyError::Cycle);
            }
            all.push(parent);
        }
    }
    // Every agency concerned must exist on the effective date; a successor may be
    // founded on that very day.
    let in_force = |id: i64| (facts.validity)(id).is_some_and(|v| v.contains(req.effective_on));
    if !all.into_iter().all(in_force) {
        return Err(AgencyError::NotInForce);
    }
    Ok(())
}

/// Who carries on the work of an ended agency today: its successors, where a
/// successor has itself ended since (a commune merged in one reorganisation, its
/// successor merged again in the next), that one's successors in its place, the
/// primary line first, each agency once. Empty when no line reaches an agency that
/// has not ended.
pub fn current_successors(
    agency: i64,
    successors: &dyn Fn(i64) -> Vec<i64>,
    ended: &dyn Fn(i64) -> bool,
) -> Vec<i64> {
    let mut found = Vec::new();
    let mut seen = std::collections::HashSet::from([agency]);
    // Depth first, so that the primary successor's own successors come before the
    // second successor of the first reorganisation.
    let mut next: Vec<i64> = successors(agency).into_iter().rev().collect();
    while let Some(id) = next.pop() {
        if !seen.insert(id) {
            continue;
        }
        if ended(id) {
            next.extend(successors(id).into_iter().rev());
        } else {
            found.push(id);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn req(
        kind: ReorganisationKind,
        subjects: &[i64],
        successors: &[i64],
    ) -> ReorganisationRequest {
        ReorganisationRequest {
            kind,
            effective_on: d("2025-03-01"),
            subjects: subjects.to_vec(),
            successors: successors.to_vec(),
            new_name: None,
            new_parent: None,
        }
    }

    fn always(_: i64) -> Option<Validity> {
        Some(Validity {
            from: d("2000-01-01"),
            to: None,
        })
    }

    fn check(r: &ReorganisationRequest) -> Result<(), AgencyError> {
        check_reorganisation(
            r,
            &ReorganisationFacts {
                validity: &always,
                descendants_of_subject: &[],
            },
        )
    }

    #[test]
    fn merge_shapes() {
        use ReorganisationKind::Merge;
        assert_eq!(check(&req(Merge, &[1], &[2])), Ok(()));
        assert_eq!(check(&req(Merge, &[1, 3], &[2])), Ok(()));
        assert_eq!(check(&req(Merge, &[], &[2])), Err(AgencyError::MergeShape));
        assert_eq!(check(&req(Merge, &[1], &[])), Err(AgencyError::MergeShape));
        assert_eq!(
            check(&req(Merge, &[1], &[2, 3])),
            Err(AgencyError::MergeShape)
        );
        assert_eq!(
            check(&req(Merge, &[1], &[1])),
            Err(AgencyError::OwnSuccessor)
        );
        assert_eq!(
            check(&req(Merge, &[1, 1], &[2])),
            Err(AgencyError::Duplicate)
        );
    }

    #[test]
    fn split_shapes() {
        use ReorganisationKind::Split;
        assert_eq!(check(&req(Split, &[1], &[2, 3])), Ok(()));
        assert_eq!(check(&req(Split, &[1], &[2])), Err(AgencyError::SplitShape));
        assert_eq!(
            check(&req(Split, &[1, 4], &[2, 3])),
            Err(AgencyError::SplitShape)
        );
        assert_eq!(
            check(&req(Split, &[1], &[2, 1])),
            Err(AgencyError::OwnSuccessor)
        );
    }

    #[test]
    fn rename_needs_a_name_and_one_subject() {
        use ReorganisationKind::Rename;
        let mut r = req(Rename, &[1], &[]);
        assert_eq!(check(&r), Err(AgencyError::NewNameMissing));
        r.new_name = Some(AgencyName::parse("Sở Khoa học và Công nghệ").unwrap());
        assert_eq!(check(&r), Ok(()));
        r.successors = vec![2];
        assert_eq!(check(&r), Err(AgencyError::SingleShape));
    }

    #[test]
    fn move_needs_a_parent_outside_its_own_subtree() {
        use ReorganisationKind::Move;
        let mut r = req(Move, &[5], &[]);
        assert_eq!(check(&r), Err(AgencyError::NewParentMissing));
        r.new_parent = Some(5);
        assert_eq!(check(&r), Err(AgencyError::Cycle));
        r.new_parent = Some(7);
        let facts = ReorganisationFacts {
            validity: &always,
            descendants_of_subject: &[6, 7],
        };
        assert_eq!(check_reorganisation(&r, &facts), Err(AgencyError::Cycle));
        r.new_parent = Some(1);
        assert_eq!(check_reorganisation(&r, &facts), Ok(()));
    }

    #[test]
    fn every_agency_must_exist_on_the_effective_date() {
        use ReorganisationKind::Merge;
        let ended = |id: i64| {
            Some(match id {
                1 => Validity {
                    from: d("2000-01-01"),
                    to: Some(d("2025-03-01")),
                },
                _ => Validity {
                    from: d("2025-03-01"),
                    to: None,
                },
            })
        };
        let facts = ReorganisationFacts {
            validity: &ended,
            descendants_of_subject: &[],
        };
        assert_eq!(
            check_reorganisation(&req(Merge, &[1], &[2]), &facts),
            Err(AgencyError::NotInForce)
        );
        assert_eq!(
            check_reorganisation(&req(Merge, &[3], &[2]), &facts),
            Ok(())
        );
        let unknown = |_: i64| None;
        let facts = ReorganisationFacts {
            validity: &unknown,
            descendants_of_subject: &[],
        };
        assert_eq!(
            check_reorganisation(&req(Merge, &[3], &[2]), &facts),
            Err(AgencyError::NotInForce)
        );
    }

    #[test]
    fn validity_is_half_open() {
        let v = Validity {
            from: d("2020-01-01"),
            to: Some(d("2025-07-01")),
        };
        assert!(!v.contains(d("2019-12-31")));
        assert!(v.contains(d("2020-01-01")));
        assert!(v.contains(d("2025-06-30")));
        assert!(!v.contains(d("2025-07-01")));
        assert!(Validity {
            from: d("2020-01-01"),
            to: None
        }
        .contains(d("2999-01-01")));
    }

    #[test]
    fn names_and_short_names() {
        assert!(AgencyName::parse("  ").is_err());
        assert_eq!(AgencyName::parse(" Sở Y tế ").unwrap().as_str(), "Sở Y tế");
        assert!(AgencyName::parse(&"x".repeat(251)).is_err());
        assert_eq!(ShortName::parse("SKHCN").unwrap().as_str(), "SKHCN");
        assert_eq!(ShortName::parse("TT&TT").unwrap().as_str(), "TT&TT");
        assert!(ShortName::parse("S KH").is_err());
        assert!(ShortName::parse("").is_err());
        assert!(ShortName::parse(&"A".repeat(21)).is_err());
    }

    #[test]
    fn kinds_round_trip() {
        for k in AgencyKind::ALL {
            assert_eq!(k.as_str().parse::<AgencyKind>().unwrap(), k);
        }
        for k in ReorganisationKind::ALL {
            assert_eq!(k.as_str().parse::<ReorganisationKind>().unwrap(), k);
        }
        assert!("galaxy".parse::<AgencyKind>().is_err());
    }

    /// `current_successors` over a successor table given as (agency, successors),
    /// with the ended agencies listed.
    fn successors_today(edges: &[(i64, &[i64])], ended: &[i64], of: i64) -> Vec<i64> {
        let successors = |id: i64| {
            edges
                .iter()
                .find(|(a, _)| *a == id)
                .map(|(_, s)| s.to_vec())
                .unwrap_or_default()
        };
        current_successors(of, &successors, &|id| ended.contains(&id))
    }

    #[test]
    fn an_agency_merged_once_is_carried_on_by_its_successor() {
        assert_eq!(successors_today(&[(1, &[2])], &[1], 1), vec![2]);
        assert_eq!(successors_today(&[(1, &[2, 3])], &[1], 1), vec![2, 3]);
    }

    #[test]
    fn a_successor_that_ended_since_is_replaced_by_its_own() {
        // 1 merged into 2; 2 later split into 3 and 4.
        assert_eq!(
            successors_today(&[(1, &[2]), (2, &[3, 4])], &[1, 2], 1),
            vec![3, 4]
        );
        // Three reorganisations deep.
        assert_eq!(
            successors_today(&[(1, &[2]), (2, &[3]), (3, &[4])], &[1, 2, 3], 1),
            vec![4]
        );
    }

    #[test]
    fn the_primary_line_comes_first_and_each_agency_once() {
        // 1 split into 2 (primary) and 3; 2 later merged into 4, and so did 3.
        let edges: &[(i64, &[i64])] = &[(1, &[2, 3]), (2, &[4, 5]), (3, &[4])];
        assert_eq!(successors_today(edges, &[1, 2, 3], 1), vec![4, 5]);
        // 1 split into 2 and 3; only 2 ended since, into 4.
        let edges: &[(i64, &[i64])] = &[(1, &[2, 3]), (2, &[4])];
        assert_eq!(successors_today(edges, &[1, 2], 1), vec![4, 3]);
    }

    #[test]
    fn a_line_that_ends_with_no_agency_names_none() {
        assert!(successors_today(&[], &[1], 1).is_empty());
        // 2 ended with no successor recorded.
        assert!(successors_today(&[(1, &[2])], &[1, 2], 1).is_empty());
    }

    #[test]
    fn a_cycle_in_the_successor_table_ends() {
        // Not something a reorganisation can record, but a table edited by hand can.
        assert_eq!(
            successors_today(&[(1, &[2]), (2, &[1])], &[1, 2], 1),
            Vec::<i64>::new()
        );
        assert_eq!(
            successors_today(&[(1, &[2]), (2, &[1, 3])], &[1, 2], 1),
            vec![3]
        );
    }
}
