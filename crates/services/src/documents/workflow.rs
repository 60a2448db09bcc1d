//! Work administration (điều hành) on an incoming document: the clerk forwards it
//! to a leader; the leader writes an instruction (bút phê) and assigns one lead
//! (chủ trì), coordinating (phối hợp) and for-information (để biết) people or
//! units with a deadline; unit heads split their unit's share; specialists record
//! progress, ask for more time, and complete with a result. Every step is a
//! timeline event and an audit entry.

use chrono::NaiveDate;
use lienthong_domain::access;
use lienthong_domain::calendar::WorkingCalendar;
use lienthong_domain::Role;
use lienthong_edxml::StatusCode;
use lienthong_store::{time, Db, WriteTx};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::register::add_event;
use crate::auth::Principal;
use crate::ServiceError;

/// Who a task goes to: a person, or a unit whose head splits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Target {
    Person(i64),
    Unit(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskRole {
    /// Chủ trì: answers for the result.
    Lead,
    /// Phối hợp: contributes.
    Coordinate,
    /// Để biết: reads, nothing to hand in.
    Inform,
}

impl TaskRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskRole::Lead => "lead",
            TaskRole::Coordinate => "coordinate",
            TaskRole::Inform => "inform",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Assign {
    pub instruction: String,
    pub lead: Target,
    pub coordinate: Vec<Target>,
    pub inform: Vec<Target>,
    pub deadline: Option<NaiveDate>,
}

/// One task as shown in an inbox or on the document page.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: i64,
    pub document_id: i64,
    pub symbol: String,
    pub subject: String,
    pub role: String,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
    pub instruction: String,
    pub deadline: Option<String>,
    pub status: String,
    pub result: String,
    pub assigned_by: String,
    pub assigned_by_id: i64,
}

/// Whether `who` is the one to act on a task: its person, or the head of its unit.
pub fn may_act(who: &Principal, person_id: Option<i64>, unit_id: Option<i64>) -> bool {
    match (person_id, unit_id) {
        (Some(p), _) => p == who.person.id,
        (None, Some(u)) => who
            .positions
            .iter()
            .any(|p| p.role == Role::UnitHead && p.unit_id == Some(u)),
        _ => false,
    }
}

/// Whether `who` may take a task back, reassign it or grant it more time: the
/// leader who assigned it, or any leader of the agency.
pub fn may_manage(who: &Principal, assigned_by: i64, agency_id: i64) -> bool {
    assigned_by == who.person.id || access::has_role_in(&who.memberships(), agency_id, Role::Leader)
}

async fn document_agency(
    tx: &mut WriteTx,
    document_id: i64,
) -> Result<(i64, String), ServiceError> {
    let row = sqlx::query(
        "SELECT agency_id, status FROM documents WHERE id = $1 AND direction = 'incoming'",
    )
    .bind(document_id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(ServiceError::NotFound)?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// Whether a person holds `role` (or any role, with `None`) in the agency today.
async fn holds(
    tx: &mut WriteTx,
    person: i64,
    agency: i64,
    role: Option<Role>,
) -> Result<bool, ServiceError> {
    let today = time::date(time::today());
    let row = sqlx::query(
        "SELECT 1 FROM memberships WHERE person_id = $1 AND agency_id = $2 AND ($3 IS NULL OR role = $3)
           AND valid_from <= $4 AND (valid_to IS NULL OR valid_to > $4) LIMIT 1",
    )
    .bind(person)
    .bind(agency)
    .bind(role.map(Role::as_str))
    .bind(&today)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.is_some())
}

/// Checks a task's target lies inside the agency (a person of it, a unit of it).
async fn check_target(
    tx: &mut WriteTx,
    agency: i64,
    target: Target,
    field: &'static str,
) -> Result<(), ServiceError> {
    let ok = match target {
        Target::Person(p) => holds(tx, p, agency, None).await?,
        Target::Unit(u) => {
            let today = time::date(time::today());
            sqlx::query("SELECT 1 FROM units WHERE id = $1 AND agency_id = $2 AND (valid_to IS NULL OR valid_to > $3)")
                .bind(u)
                .bind(agency)
                .bind(&today)
                .fetch_optional(tx.conn())
                .await?
                .is_some()
        }
    };
    if ok {
        Ok(())
    } else {
        Err(ServiceError::Invalid {
            field,
            code: "error.assignee_outside_agency",
        })
    }
}

async fn set_status(tx: &mut WriteTx, document_id: i64, status: &str) -> Result<(), ServiceError> {
    sqlx::query("UPDATE documents SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status)
        .bind(time::now())
        .bind(document_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The clerk hands a registered document to a leader of the agency.
pub async fn forward_to_leader(
    db: &Db,
    who: &Principal,
    document_id: i64,
    leader_id: i64,
) -> Result<(), ServiceError> {
    let mut tx = db.write().await?;
    let (agency, _) = document_agency(&mut tx, document_id).await?;
    if !access::has_role_in(&who.memberships(), agency, Role::Clerk) {
        return Err(ServiceError::Forbidden);
    }
    if !holds(&mut tx, leader_id, agency, Some(Role::Leader)).await? {
        return Err(ServiceError::Invalid {
            field: "leader_id",
            code: "error.not_a_leader",
        });
    }
    sqlx::query("UPDATE documents SET submitted_to = $1 WHERE id = $2")
        .bind(leader_id)
        .bind(document_id)
        .execute(tx.conn())
        .await?;
    set_status(&mut tx, document_id, "submitted").await?;
    let detail = json!({"leader_id": leader_id});
    add_event(&mut tx, document_id, who, "forwarded", &detail).await?;
    tx.audit(
        &who.actor(),
        "document.forward",
        "document",
        document_id,
        detail,
    )
    .await?;
    tx.commit().await.map_err(Into::into)
}

/// One task to write: who gives what to whom, under which parent task.
struct NewTask<'a> {
    document_id: i64,
    parent: Option<i64>,
    role: TaskRole,
    target: Target,
    instruction: &'a str,
    deadline: Option<NaiveDate>,
    by: i64,
}

async fn insert_task(tx: &mut WriteTx, t: NewTask<'_>) -> Result<i64, ServiceError> {
    let NewTask {
        document_id,
        parent,
        role,
        target,
        instruction,
        deadline,
        by,
    } = t;
    let (person, unit) = match target {
        Target::Person(p) => (Some(p), None),
        Target::Unit(u) => (None, Some(u)),
    };
    let id: i64 = sqlx::query(
        "INSERT INTO assignments (document_id, parent_id, role, person_id, unit_id, instruction, deadline, assigned_by,
            status, result, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', '', $9) RETURNING id",
    )
    .bind(document_id)
    .bind(parent)
    .bind(role.as_str())
    .bind(person)
    .bind(unit)
    .bind(instruction)
    .bind(deadline.map(time::date))
    .bind(by)
    .bind(time::now())
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    Ok(id)
}

/// A leader assigns the document. One lead; coordinating and for-information
/// targets are optional; every target must belong to the document's agency.
pub async fn assign(
    db: &Db,
    who: &Principal,
    document_id: i64,
    a: &Assign,
) -> Result<Vec<i64>, ServiceError> {
    let instruction = a.instruction.trim();
    if instruction.chars().count() > 2000 {
        return Err(ServiceError::Invalid {
            field: "instruction",
            code: "error.too_long",
        });
    }
    if a.deadline.is_some_and(|d| d < time::today()) {
        return Err(ServiceError::Invalid {
            field: "deadline",
            code: "error.deadline_past",
        });
    }
    let mut tx = db.write().await?;
    let (agency, _) = document_agency(&mut tx, document_id).await?;
    if !access::has_role_in(&who.memberships(), agency, Role::Leader) {
        return Err(ServiceError::Forbidden);
    }
    check_target(&mut tx, agency, a.lead, "lead").await?;
    for t in &a.coordinate {
        check_target(&mut tx, agency, *t, "coordinate").await?;
    }
    for t in &a.inform {
        check_target(&mut tx, agency, *t, "inform").await?;
    }
    let mut ids = vec![
        insert_task(
            &mut tx,
            NewTask {
                document_id,
                parent: None,
                role: TaskRole::Lead,
                target: a.lead,
                instruction,
                deadline: a.deadline,
                by: who.person.id,
            },
        )
        .await?,
    ];
    for t in &a.coordinate {
        ids.push(
            insert_task(
                &mut tx,
                NewTask {
                    document_id,
                    parent: None,
                    role: TaskRole::Coordinate,
                    target: *t,
                    instruction,
                    deadline: a.deadline,
                    by: who.person.id,
                },
            )
            .await?,
        );
    }
    for t in &a.inform {
        ids.push(
            insert_task(
                &mut tx,
                NewTask {
                    document_id,
                    parent: None,
                    role: TaskRole::Inform,
                    target: *t,
                    instruction,
                    deadline: None,
                    by: who.person.id,
                },
            )
            .await?,
        );
    }
    set_status(&mut tx, document_id, "assigned").await?;
    let detail = json!({"instruction": instruction, "lead": a.lead, "coordinate": a.coordinate, "inform": a.inform,
                        "deadline": a.deadline.map(time::date), "tasks": ids});
    add_event(&mut tx, document_id, who, "assigned", &detail).await?;
    // A document that arrived by exchange: its sender hears it is assigned (04).
    crate::exchange::report(&mut tx, who, document_id, StatusCode::Assigned).await?;
    tx.audit(
        &who.actor(),
        "document.assign",
        "document",
        document_id,
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(ids)
}

struct TaskRow {
    document_id: i64,
    agency_id: i64,
    role: String,
    person_id: Option<i64>,
    unit_id: Option<i64>,
    assigned_by: i64,
    status: String,
    deadline: Option<String>,
    instruction: String,
}

async fn task_row(tx: &mut WriteTx, task_id: i64) -> Result<TaskRow, ServiceError> {
    let r = sqlx::query(
        "SELECT a.document_id, d.agency_id, a.role, a.person_id, a.unit_id, a.assigned_by, a.status, a.deadline, a.instruction
         FROM assignments a JOIN documents d ON d.id = a.document_id WHERE a.id = $1",
    )
    .bind(task_id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(ServiceError::NotFound)?;
    Ok(TaskRow {
        document_id: r.try_get(0)?,
        agency_id: r.try_get(1)?,
        role: r.try_get(2)?,
        person_id: r.try_get(3)?,
        unit_id: r.try_get(4)?,
        assigned_by: r.try_get(5)?,
        status: r.try_get(6)?,
        deadline: r.try_get(7)?,
        instruction: r.try_get(8)?,
    })
}

/// Whether `who` is the one who must act on a task: its person, or the head of its unit.
fn acts_on(who: &Principal, t: &TaskRow) -> bool {
    match (t.person_id, t.unit_id) {
        (Some(p), _) => p == who.person.id,
        (None, Some(u)) => who
            .positions
            .iter()
            .any(|p| p.role == Role::UnitHead && p.unit_id == Some(u)),
        _ => false,
    }
}

fn role_of(s: &str) -> TaskRole {
    match s {
        "lead" => TaskRole::Lead,
        "coordinate" => TaskRole::Coordinate,
        _ => TaskRole::Inform,
    }
}

/// A unit head splits their unit's task among people of the unit; the first gets
/// the task's own role, the others coordinate.
pub async fn split(
    db: &Db,
    who: &Principal,
    task_id: i64,
    people: &[i64],
    note: &str,
) -> Result<Vec<i64>, ServiceError> {
    let mut tx = db.write().await?;
    let t = task_row(&mut tx, task_id).await?;
    let Some(unit) = t.unit_id else {
        return Err(ServiceError::Invalid {
            field: "task",
            code: "error.not_a_unit_task",
        });
    };
    if !acts_on(who, &t) || t.status != "open" {
        return Err(ServiceError::Forbidden);
    }
    if people.is_empty() {
        return Err(ServiceError::Invalid {
            field: "people",
            code: "error.required",
        });
    }
    let today = time::date(time::today());
    let mut ids = Vec::new();
    for (i, person) in people.iter().enumerate() {
        let in_unit = sqlx::query(
            "SELECT 1 FROM memberships WHERE person_id = $1 AND unit_id = $2 AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $3)",
        )
        .bind(person)
        .bind(unit)
        .bind(&today)
        .fetch_optional(tx.conn())
        .await?;
        if in_unit.is_none() {
            return Err(ServiceError::Invalid {
                field: "people",
                code: "error.assignee_outside_unit",
            });
        }
        let role = if i == 0 {
            role_of(&t.role)
        } else {
            TaskRole::Coordinate
        };
        let instruction = if note.trim().is_empty() {
            t.instruction.clone()
        } else {
            note.trim().to_owned()
        };
        let deadline = t.deadline.as_deref().and_then(time::parse_date);
        ids.push(
            insert_task(
                &mut tx,
                NewTask {
                    document_id: t.document_id,
                    parent: Some(task_id),
                    role,
                    target: Target::Person(*person),
                    instruction: &instruction,
                    deadline,
                    by: who.person.id,
                },
            )
            .await?,
        );
    }
    let detail = json!({"task": task_id, "people": people, "tasks": ids});
    add_event(&mut tx, t.document_id, who, "split", &detail).await?;
    tx.audit(&who.actor(), "task.split", "assignment", task_id, detail)
        .await?;
    tx.commit().await?;
    Ok(ids)
}

/// A step on a task: an opinion or progress note, with files if any (they are
/// added to the document's attachments).
pub async fn record_progress(
    db: &Db,
    blobs: &lienthong_store::BlobStore,
    who: &Principal,
    task_id: i64,
    note: &str,
    files: &[super::Upload],
) -> Result<(), ServiceError> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 4000 {
        return Err(ServiceError::Invalid {
            field: "note",
            code: "error.note",
        });
    }
    let stored = super::attachments::store_all(blobs, files).await?;
    let mut tx = db.write().await?;
    let t = task_row(&mut tx, task_id).await?;
    if !acts_on(who, &t) || t.status != "open" {
        return Err(ServiceError::Forbidden);
    }
    let names = super::attachments::append_rows(&mut tx, t.document_id, &stored).await?;
    let detail = json!({"task": task_id, "note": note, "files": names});
    add_event(&mut tx, t.document_id, who, "progress", &detail).await?;
    if t.role == "lead" {
        set_status(&mut tx, t.document_id, "in_progress").await?;
        crate::exchange::report(&mut tx, who, t.document_id, StatusCode::Processing).await?;
    }
    if !names.is_empty() {
        crate::search::enqueue(&mut tx, t.document_id).await?;
    }
    tx.audit(&who.actor(), "task.progress", "assignment", task_id, detail)
        .await?;
    tx.commit().await.map_err(Into::into)
}

pub async fn request_extension(
    db: &Db,
    who: &Principal,
    task_id: i64,
    until: NaiveDate,
    reason: &str,
) -> Result<(), ServiceError> {
    let mut tx = db.write().await?;
    let t = task_row(&mut tx, task_id).await?;
    if !acts_on(who, &t) || t.status != "open" {
        return Err(ServiceError::Forbidden);
    }
    if t.deadline
        .as_deref()
        .and_then(time::parse_date)
        .is_some_and(|d| until <= d)
    {
        return Err(ServiceError::Invalid {
            field: "until",
            code: "error.extension_not_later",
        });
    }
    let detail = json!({"task": task_id, "until": time::date(until), "reason": reason.trim()});
    add_event(&mut tx, t.document_id, who, "extension_requested", &detail).await?;
    tx.audit(
        &who.actor(),
        "task.extension_request",
        "assignment",
        task_id,
        detail,
    )
    .await?;
    tx.commit().await.map_err(Into::into)
}

/// The leader who assigned (or any leader of the agency) grants more time.
pub async fn grant_extension(
    db: &Db,
    who: &Principal,
    task_id: i64,
    until: NaiveDate,
) -> Result<(), ServiceError> {
    let mut tx = db.write().await?;
    let t = task_row(&mut tx, task_id).await?;
    if !(t.assigned_by == who.person.id
        || access::has_role_in(&who.memberships(), t.agency_id, Role::Leader))
    {
        return Err(ServiceError::Forbidden);
    }
    sqlx::query("UPDATE assignments SET deadline = $1 WHERE id = $2 OR parent_id = $2")
        .bind(time::date(until))
        .bind(task_id)
        .execute(tx.conn())
        .await?;
    let detail = json!({"task": task_id, "until": time::date(until), "was": t.deadline});
    add_event(&mut tx, t.document_id, who, "extension_granted", &detail).await?;
    tx.audit(
        &who.actor(),
        "task.extension_grant",
        "assignment",
        task_id,
        detail,
    )
    .await?;
    tx.commit().await.map_err(Into::into)
}

/// Closes a task with its result, optionally naming the outgoing reply. When the
/// lead task closes, the document is done.
pub async fn complete(
    db: &Db,
    who: &Principal,
    task_id: i64,
    result: &str,
    reply: Option<i64>,
) -> Result<(), ServiceError> {
    let result = result.trim();
    if result.is_empty() {
        return Err(ServiceError::Invalid {
            field: "result",
            code: "error.required",
        });
    }
    let mut tx = db.write().await?;
    let t = task_row(&mut tx, task_id).await?;
    if !acts_on(who, &t) || t.status != "open" {
        return Err(ServiceError::Forbidden);
    }
    if let Some(r) = reply {
        let ok = sqlx::query(
            "SELECT 1 FROM documents WHERE id = $1 AND agency_id = $2 AND direction = 'outgoing'",
        )
        .bind(r)
        .bind(t.agency_id)
        .fetch_optional(tx.conn())
        .await?;
        if ok.is_none() {
            return Err(ServiceError::Invalid {
                field: "reply",
                code: "error.reply_not_outgoing",
            });
        }
    }
    sqlx::query("UPDATE assignments SET status = 'done', result = $1, reply_document_id = $2, closed_at = $3 WHERE id = $4")
        .bind(result)
        .bind(reply)
        .bind(time::now())
        .bind(task_id)
        .execute(tx.conn())
        .await?;
    // The lead's work done (its own task, or a unit task whose lead person finished): the document is done.
    if t.role == "lead" {
        let open_leads = sqlx::query(
            "SELECT COUNT(*) FROM assignments WHERE document_id = $1 AND role = 'lead' AND status = 'open'",
        )
        .bind(t.document_id)
        .fetch_one(tx.conn())
        .await?
        .try_get::<i64, _>(0)?;
        // A unit's lead task closes with the lead person's task under it.
        sqlx::query("UPDATE assignments SET status = 'done', result = $1, closed_at = $2 WHERE id IN (SELECT parent_id FROM assignments WHERE id = $3) AND status = 'open'")
            .bind(result)
            .bind(time::now())
            .bind(task_id)
            .execute(tx.conn())
            .await?;
        if open_leads <= 1 {
            set_status(&mut tx, t.document_id, "done").await?;
            crate::exchange::report(&mut tx, who, t.document_id, StatusCode::Finished).await?;
        }
    }
    let detail = json!({"task": task_id, "result": result, "reply": reply});
    add_event(&mut tx, t.document_id, who, "completed", &detail).await?;
    tx.audit(&who.actor(), "task.complete", "assignment", task_id, detail)
        .await?;
    tx.commit().await.map_err(Into::into)
}

/// The assigning leader takes a task back, or gives it to someone else instead.
pub async fn take_back(
    db: &Db,
    who: &Principal,
    task_id: i64,
    reassign_to: Option<Target>,
) -> Result<Option<i64>, ServiceError> {
    let mut tx = db.write().await?;
    let t = task_row(&mut tx, task_id).await?;
    if !(t.assigned_by == who.person.id
        || access::has_role_in(&who.memberships(), t.agency_id, Role::Leader))
    {
        return Err(ServiceError::Forbidden);
    }
    if t.status != "open" {
        return Err(ServiceError::Conflict("task already closed"));
    }
    if let Some(target) = reassign_to {
        check_target(&mut tx, t.agency_id, target, "target").await?;
    }
    let status = if reassign_to.is_some() {
        "reassigned"
    } else {
        "taken_back"
    };
    sqlx::query("UPDATE assignments SET status = $1, closed_at = $2 WHERE id = $3")
        .bind(status)
        .bind(time::now())
        .bind(task_id)
        .execute(tx.conn())
        .await?;
    let new_id = match reassign_to {
        Some(target) => {
            let deadline = t.deadline.as_deref().and_then(time::parse_date);
            Some(
                insert_task(
                    &mut tx,
                    NewTask {
                        document_id: t.document_id,
                        parent: None,
                        role: role_of(&t.role),
                        target,
                        instruction: &t.instruction,
                        deadline,
                        by: who.person.id,
                    },
                )
                .await?,
            )
        }
        None => None,
    };
    let detail = json!({"task": task_id, "reassigned_to": reassign_to, "new_task": new_id});
    add_event(&mut tx, t.document_id, who, status, &detail).await?;
    tx.audit(
        &who.actor(),
        &format!("task.{status}"),
        "assignment",
        task_id,
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(new_id)
}

const TASK_COLUMNS: &str =
    "a.id, a.document_id, d.symbol, d.subject, a.role, a.person_id, p.full_name, a.unit_id, u.name,
    a.instruction, a.deadline, a.status, a.result, b.full_name, a.assigned_by";
const TASK_FROM: &str = "FROM assignments a
    JOIN documents d ON d.id = a.document_id
    JOIN people b ON b.id = a.assigned_by
    LEFT JOIN people p ON p.id = a.person_id
    LEFT JOIN units u ON u.id = a.unit_id";

fn task_from_row(r: &sqlx::any::AnyRow) -> Result<Task, sqlx::Error> {
    Ok(Task {
        id: r.try_get(0)?,
        document_id: r.try_get(1)?,
        symbol: r.try_get(2)?,
        subject: r.try_get(3)?,
        role: r.try_get(4)?,
        person_id: r.try_get(5)?,
        person_name: r.try_get(6)?,
        unit_id: r.try_get(7)?,
        unit_name: r.try_get(8)?,
        instruction: r.try_get(9)?,
        deadline: r.try_get(10)?,
        status: r.try_get(11)?,
        result: r.try_get(12)?,
        assigned_by: r.try_get(13)?,
        assigned_by_id: r.try_get(14)?,
    })
}

/// Every task on a document, in order (for its page; the caller checked reading).
pub async fn tasks_of(db: &Db, document_id: i64) -> Result<Vec<Task>, ServiceError> {
    let sql = format!("SELECT {TASK_COLUMNS} {TASK_FROM} WHERE a.document_id = $1 ORDER BY a.id");
    let rows = sqlx::query(&sql)
        .bind(document_id)
        .fetch_all(db.pool())
        .await?;
    Ok(rows.iter().map(task_from_row).collect::<Result<_, _>>()?)
}

/// A person's open work, sorted into the boxes of their inbox.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inbox {
    pub to_handle: Vec<Task>,
    pub to_coordinate: Vec<Task>,
    pub for_information: Vec<Task>,
    pub overdue: Vec<Task>,
    /// Due within three working days (not yet overdue).
    pub due_soon: Vec<Task>,
    /// Documents a clerk forwarded to this leader, not yet assigned.
    pub to_assign: Vec<(i64, String, String)>,
}

pub const DUE_SOON_WORKING_DAYS: u32 = 3;

pub async fn inbox(
    db: &Db,
    who: &Principal,
    calendar: &WorkingCalendar,
) -> Result<Inbox, ServiceError> {
    let today = time::today();
    let soon = time::date(calendar.add_working_days(today, DUE_SOON_WORKING_DAYS));
    let today_s = time::date(today);
    let head_of: Vec<i64> = who
        .positions
        .iter()
        .filter(|p| p.role == Role::UnitHead)
        .filter_map(|p| p.unit_id)
        .collect();
    let units = if head_of.is_empty() {
        "-1".to_owned()
    } else {
        head_of
            .iter()
            .map(|u| u.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let sql = format!(
        "SELECT {TASK_COLUMNS} {TASK_FROM}
         WHERE a.status = 'open' AND (a.person_id = $1 OR (a.person_id IS NULL AND a.unit_id IN ({units})))
         ORDER BY a.deadline IS NULL, a.deadline, a.id"
    );
    let rows = sqlx::query(&sql)
        .bind(who.person.id)
        .fetch_all(db.pool())
        .await?;
    let mut out = Inbox::default();
    for r in &rows {
        let t = task_from_row(r)?;
        let overdue = t.role != "inform" && t.deadline.as_ref().is_some_and(|d| *d < today_s);
        let due_soon =
            t.role != "inform" && !overdue && t.deadline.as_ref().is_some_and(|d| *d <= soon);
        if overdue {
            out.overdue.push(t.clone());
        }
        if due_soon {
            out.due_soon.push(t.clone());
        }
        match t.role.as_str() {
            "lead" => out.to_handle.push(t),
            "coordinate" => out.to_coordinate.push(t),
            _ => out.for_information.push(t),
        }
    }
    let forwarded = sqlx::query(
        "SELECT id, symbol, subject FROM documents WHERE submitted_to = $1 AND status = 'submitted' ORDER BY id",
    )
    .bind(who.person.id)
    .fetch_all(db.pool())
    .await?;
    for r in forwarded {
        out.to_assign
            .push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?));
    }
    Ok(out)
}

/// Overdue and near-due work of an agency, by unit and by person, for its leaders.
#[derive(Debug, Clone, Serialize)]
pub struct LateWork {
    pub unit: String,
    pub person: String,
    pub overdue: i64,
    pub due_soon: i64,
}

pub async fn late_work(
    db: &Db,
    who: &Principal,
    agency_id: i64,
    calendar: &WorkingCalendar,
) -> Result<Vec<LateWork>, ServiceError> {
    if !access::has_role_in(&who.memberships(), agency_id, Role::Leader) {
        return Err(ServiceError::Forbidden);
    }
    let today = time::today();
    let soon = time::date(calendar.add_working_days(today, DUE_SOON_WORKING_DAYS));
    let rows = sqlx::query(
        "SELECT COALESCE(u.name, mu.name, ''), COALESCE(p.full_name, ''),
                SUM(CASE WHEN a.deadline < $2 THEN 1 ELSE 0 END),
                SUM(CASE WHEN a.deadline >= $2 AND a.deadline <= $3 THEN 1 ELSE 0 END)
         FROM assignments a
         JOIN documents d ON d.id = a.document_id
         LEFT JOIN units u ON u.id = a.unit_id
         LEFT JOIN people p ON p.id = a.person_id
         LEFT JOIN memberships m ON m.person_id = a.person_id AND m.agency_id = d.agency_id AND m.valid_to IS NULL
         LEFT JOIN units mu ON mu.id = m.unit_id
         WHERE d.agency_id = $1 AND a.status = 'open' AND a.role <> 'inform' AND a.deadline IS NOT NULL AND a.deadline <= $3
         GROUP BY COALESCE(u.name, mu.name, ''), COALESCE(p.full_name, '')
         ORDER BY 3 DESC, 4 DESC",
    )
    .bind(agency_id)
    .bind(time::date(today))
    .bind(soon)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LateWork {
                unit: r.try_get(0)?,
                person: r.try_get(1)?,
                overdue: r.try_get::<Option<i64>, _>(2)?.unwrap_or(0),
                due_soon: r.try_get::<Option<i64>, _>(3)?.unwrap_or(0),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The document a task belongs to.
pub async fn task_document(db: &Db, task_id: i64) -> Result<i64, ServiceError> {
    let row = sqlx::query("SELECT document_id FROM assignments WHERE id = $1")
        .bind(task_id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(row.try_get(0)?)
}
