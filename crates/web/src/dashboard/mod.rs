//! The home page (bàn làm việc): one panel per role the person holds. Later
//! capabilities fill the panels; a role with no work yet shows an empty panel.

use askama::Template;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use lienthong_domain::{PersonKind, Role};

use crate::http::{render, Chrome, SignedIn};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(dashboard))
}

pub struct Panel {
    /// `data-panel` attribute: the role's name, or `citizen`.
    pub id: &'static str,
    pub title_key: &'static str,
    pub empty_key: &'static str,
    pub links: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "dashboard/dashboard.html")]
struct DashboardPage {
    c: Chrome,
    full_name: String,
    positions: Vec<lienthong_services::people::Position>,
    panels: Vec<Panel>,
    is_staff: bool,
}

/// The panels for a set of roles, in a fixed order, each once.
pub fn panels_for(roles: &[Role], kind: &str) -> Vec<Panel> {
    let mut out = Vec::new();
    if kind != PersonKind::Staff.as_str() {
        out.push(Panel {
            id: "citizen",
            title_key: "dashboard.citizen",
            empty_key: "dashboard.citizen_empty",
            links: vec![],
        });
        return out;
    }
    for role in Role::ALL {
        if !roles.contains(&role) {
            continue;
        }
        let (title_key, links) = match role {
            Role::Admin => (
                "dashboard.admin",
                vec![
                    ("/admin/agencies", "nav.agencies"),
                    ("/admin/reorganise", "agencies.reorganise"),
                    ("/admin/audit", "nav.audit"),
                ],
            ),
            Role::Clerk => (
                "dashboard.clerk",
                vec![
                    ("/documents/incoming/new", "documents.new_incoming"),
                    ("/documents/incoming", "documents.incoming"),
                ],
            ),
            Role::Leader => (
                "dashboard.leader",
                vec![("/documents/incoming", "documents.incoming")],
            ),
            Role::UnitHead => (
                "dashboard.unit_head",
                vec![("/documents/incoming", "documents.incoming")],
            ),
            Role::Specialist => (
                "dashboard.specialist",
                vec![("/documents/incoming", "documents.incoming")],
            ),
            Role::OneStopOfficer => ("dashboard.one_stop_officer", vec![]),
            Role::Editor => ("dashboard.editor", vec![]),
        };
        out.push(Panel {
            id: role.as_str(),
            title_key,
            empty_key: "dashboard.empty",
            links,
        });
    }
    out
}

async fn dashboard(user: SignedIn) -> Response {
    let roles: Vec<Role> = user.principal.positions.iter().map(|p| p.role).collect();
    let p = &user.principal.person;
    render(DashboardPage {
        c: user.chrome(),
        full_name: p.full_name.clone(),
        positions: user.principal.positions.clone(),
        panels: panels_for(&roles, &p.kind),
        is_staff: p.kind == PersonKind::Staff.as_str(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_panel_per_role_in_fixed_order() {
        let ids: Vec<_> = panels_for(&[Role::Leader, Role::Clerk, Role::Clerk], "staff")
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(ids, ["clerk", "leader"]);
        assert!(panels_for(&[], "staff").is_empty());
        let ids: Vec<_> = panels_for(&Role::ALL, "staff")
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(ids.len(), Role::ALL.len());
    }

    #[test]
    fn citizens_see_their_dossiers_only() {
        let ids: Vec<_> = panels_for(&[Role::Admin], "citizen")
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(ids, ["citizen"]);
    }
}
