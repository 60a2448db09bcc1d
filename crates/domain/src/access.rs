//! Who may do what where (phân quyền). Pure rules over a person's memberships and
//! the ancestry of the agency they want to act on.

use serde::Serialize;

use crate::Role;

/// One role held by a person in one agency (optionally inside one of its units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub agency_id: i64,
    pub unit_id: Option<i64>,
    pub role: Role,
}

/// Whether the person holds `role` in exactly this agency.
pub fn has_role_in(memberships: &[Membership], agency_id: i64, role: Role) -> bool {
    memberships
        .iter()
        .any(|m| m.agency_id == agency_id && m.role == role)
}

/// Whether the person holds any role in exactly this agency.
pub fn is_member_of(memberships: &[Membership], agency_id: i64) -> bool {
    memberships.iter().any(|m| m.agency_id == agency_id)
}

/// An administrator manages their own agency and every agency below it.
/// `ancestry` is the target agency followed by its parents up to the root.
pub fn may_administer(memberships: &[Membership], ancestry: &[i64]) -> bool {
    ancestry
        .iter()
        .any(|a| has_role_in(memberships, *a, Role::Admin))
}

/// Staff see their own agency's data; administrators see their whole subtree.
/// Nobody sees a sibling's or a parent's data through membership alone.
pub fn may_view_agency(memberships: &[Membership], ancestry: &[i64]) -> bool {
    match ancestry.first() {
        Some(target) => is_member_of(memberships, *target) || may_administer(memberships, ancestry),
        None => false,
    }
}

/// Whether the person administers at least one agency (sees the admin menu).
pub fn is_any_admin(memberships: &[Membership]) -> bool {
    memberships.iter().any(|m| m.role == Role::Admin)
}

/// Who may read a document (and know that it exists). A classified document is
/// readable only by the people explicitly granted; any other document by the
/// staff of the agency it belongs to.
pub fn may_read_document(
    memberships: &[Membership],
    person_id: i64,
    document_agency: i64,
    classified: bool,
    readers: &[i64],
) -> bool {
    if classified {
        readers.contains(&person_id)
    } else {
        is_member_of(memberships, document_agency) || readers.contains(&person_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVINCE: i64 = 1;
    const DEPT: i64 = 2;
    const OTHER_DEPT: i64 = 3;
    const COMMUNE: i64 = 4;

    fn m(agency_id: i64, role: Role) -> Membership {
        Membership {
            agency_id,
            unit_id: None,
            role,
        }
    }

    #[test]
    fn province_admin_administers_everything_below() {
        let admin = [m(PROVINCE, Role::Admin)];
        assert!(may_administer(&admin, &[PROVINCE]));
        assert!(may_administer(&admin, &[DEPT, PROVINCE]));
        assert!(may_administer(&admin, &[COMMUNE, PROVINCE]));
        assert!(may_view_agency(&admin, &[COMMUNE, PROVINCE]));
        assert!(is_any_admin(&admin));
    }

    #[test]
    fn department_admin_administers_only_its_department() {
        let admin = [m(DEPT, Role::Admin)];
        assert!(may_administer(&admin, &[DEPT, PROVINCE]));
        assert!(!may_administer(&admin, &[PROVINCE]));
        assert!(!may_administer(&admin, &[OTHER_DEPT, PROVINCE]));
        assert!(!may_view_agency(&admin, &[OTHER_DEPT, PROVINCE]));
    }

    #[test]
    fn staff_see_their_own_agency_only_and_administer_nothing() {
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Admin) {
            let clerk = [m(DEPT, role)];
            assert!(may_view_agency(&clerk, &[DEPT, PROVINCE]), "{role}");
            assert!(!may_view_agency(&clerk, &[OTHER_DEPT, PROVINCE]), "{role}");
            assert!(!may_view_agency(&clerk, &[PROVINCE]), "{role}");
            assert!(!may_view_agency(&clerk, &[COMMUNE, PROVINCE]), "{role}");
            assert!(!may_administer(&clerk, &[DEPT, PROVINCE]), "{role}");
            assert!(!is_any_admin(&clerk));
        }
    }

    #[test]
    fn nobody_sees_an_agency_without_ancestry_or_memberships() {
        assert!(!may_view_agency(&[], &[DEPT, PROVINCE]));
        assert!(!may_view_agency(&[m(DEPT, Role::Admin)], &[]));
    }

    #[test]
    fn documents_are_read_by_their_agency_and_classified_ones_by_readers_only() {
        let clerk = [m(DEPT, Role::Clerk)];
        let admin = [m(PROVINCE, Role::Admin)];
        assert!(may_read_document(&clerk, 7, DEPT, false, &[]));
        assert!(!may_read_document(&clerk, 7, OTHER_DEPT, false, &[]));
        assert!(
            may_read_document(&clerk, 7, OTHER_DEPT, false, &[7]),
            "a reader may be granted across agencies"
        );
        assert!(
            !may_read_document(&clerk, 7, DEPT, true, &[]),
            "membership is not enough for classified"
        );
        assert!(may_read_document(&clerk, 7, DEPT, true, &[7]));
        assert!(
            !may_read_document(&admin, 1, DEPT, false, &[]),
            "administering is not reading"
        );
        assert!(!may_read_document(&admin, 1, DEPT, true, &[]));
    }

    #[test]
    fn roles_are_per_agency() {
        let ms = [m(DEPT, Role::Clerk), m(COMMUNE, Role::Leader)];
        assert!(has_role_in(&ms, DEPT, Role::Clerk));
        assert!(!has_role_in(&ms, DEPT, Role::Leader));
        assert!(has_role_in(&ms, COMMUNE, Role::Leader));
        assert!(is_member_of(&ms, COMMUNE));
        assert!(!is_member_of(&ms, PROVINCE));
    }
}
