//! The home page (bàn làm việc): one panel per role the person holds. Later
//! capabilities fill the panels; a role with no work yet shows an empty panel.

use askama::Template;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use lienthong_domain::{PersonKind, Role};

use axum::extract::State;
use lienthong_services::calendar;
use lienthong_services::documents::outgoing::{self, Drafts};
use lienthong_services::documents::workflow::{self, Inbox, LateWork, Task};

use crate::http::{render, Chrome, PageError, SignedIn};
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
    to_assign: Vec<(i64, String, String)>,
    boxes: Vec<InboxBox>,
    late: Vec<(String, Vec<LateWork>)>,
}

/// One box of the inbox: (document id, symbol, subject, deadline) rows.
pub struct InboxBox {
    pub id: &'static str,
    pub key: &'static str,
    pub items: Vec<(i64, String, String, String)>,
}

fn boxes(inbox: Inbox, drafts: Drafts) -> Vec<InboxBox> {
    let tasks = |v: Vec<Task>| {
        v.into_iter()
            .map(|t| {
                (
                    t.document_id,
                    t.symbol,
                    t.subject,
                    t.deadline.unwrap_or_default(),
                )
            })
            .collect()
    };
    let docs = |v: Vec<(i64, String, String)>| {
        v.into_iter()
            .map(|(id, _, subject)| (id, String::new(), subject, String::new()))
            .collect()
    };
    let all = vec![
        InboxBox {
            id: "overdue",
            key: "inbox.overdue",
            items: tasks(inbox.overdue),
        },
        InboxBox {
            id: "due_soon",
            key: "inbox.due_soon",
            items: tasks(inbox.due_soon),
        },
        InboxBox {
            id: "to_handle",
            key: "inbox.to_handle",
            items: tasks(inbox.to_handle),
        },
        InboxBox {
            id: "to_coordinate",
            key: "inbox.to_coordinate",
            items: tasks(inbox.to_coordinate),
        },
        InboxBox {
            id: "for_information",
            key: "inbox.for_information",
            items: tasks(inbox.for_information),
        },
        InboxBox {
            id: "my_drafts",
            key: "inbox.my_drafts",
            items: docs(drafts.mine),
        },
        InboxBox {
            id: "to_review",
            key: "inbox.to_review",
            items: docs(drafts.to_review),
        },
        InboxBox {
            id: "to_approve",
            key: "inbox.to_approve",
            items: docs(drafts.to_approve),
        },
        InboxBox {
            id: "to_issue",
            key: "inbox.to_issue",
            items: docs(drafts.to_issue),
        },
    ];
    all.into_iter().filter(|b| !b.items.is_empty()).collect()
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
                    ("/exchange/arrived", "exchange.arrived"),
                    ("/documents/incoming", "documents.incoming"),
                    ("/documents/outgoing", "documents.outgoing"),
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

async fn dashboard(State(state): State<AppState>, user: SignedIn) -> Result<Response, PageError> {
    let who = &user.principal;
    let roles: Vec<Role> = who.positions.iter().map(|p| p.role).collect();
    let p = &who.person;
    let calendar = calendar::load(&state.db).await?;
    let inbox = workflow::inbox(&state.db, who, &calendar).await?;
    let drafts = outgoing::drafts(&state.db, who).await?;
    let mut late = Vec::new();
    for pos in who.positions.iter().filter(|p| p.role == Role::Leader) {
        late.push((
            pos.agency_name.clone(),
            workflow::late_work(&state.db, who, pos.agency_id, &calendar).await?,
        ));
    }
    Ok(render(DashboardPage {
        c: user.chrome(),
        full_name: p.full_name.clone(),
        positions: who.positions.clone(),
        panels: panels_for(&roles, &p.kind),
        is_staff: p.kind == PersonKind::Staff.as_str(),
        to_assign: inbox.to_assign.clone(),
        boxes: boxes(inbox, drafts),
        late,
    }))
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
