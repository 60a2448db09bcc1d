//! Signing in (đăng nhập): passwords, server-side sessions, API tokens and the
//! throttling of repeated failures. Sessions and throttling live in the database,
//! so any number of server processes can share them.

pub mod password;
mod throttle;

use chrono::{Duration, Utc};
use lienthong_domain::{Membership, Password};
use lienthong_store::{time, Actor, Db};
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::people::{self, Person, Position};
use crate::ServiceError;

pub use throttle::{ACCOUNT_LIMIT, ADDRESS_LIMIT, WINDOW_MINUTES};

/// A session lasts a working day; signing in again opens a new one.
pub const SESSION_HOURS: i64 = 12;
/// API tokens are for integrations and last longer.
pub const TOKEN_DAYS: i64 = 30;

/// The signed-in person and what they may do today.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    pub person: Person,
    pub positions: Vec<Position>,
}

impl Principal {
    pub fn memberships(&self) -> Vec<Membership> {
        self.positions.iter().map(Position::membership).collect()
    }

    pub fn actor(&self) -> Actor {
        self.person.actor()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong user name or wrong password: deliberately the same answer for both.
    #[error("wrong user name or password")]
    Invalid,
    #[error("too many failed attempts; try again later")]
    Throttled,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<sqlx::Error> for SignInError {
    fn from(e: sqlx::Error) -> Self {
        SignInError::Service(e.into())
    }
}

impl From<lienthong_store::StoreError> for SignInError {
    fn from(e: lienthong_store::StoreError) -> Self {
        SignInError::Service(e.into())
    }
}

/// Checks a user name and password, counting failures per account and per address.
pub async fn check_credentials(
    db: &Db,
    username: &str,
    candidate: &str,
    address: &str,
) -> Result<Person, SignInError> {
    let username = username.trim().to_lowercase();
    let keys = [format!("account:{username}"), format!("address:{address}")];
    if throttle::is_locked(db, &keys[0], ACCOUNT_LIMIT).await?
        || throttle::is_locked(db, &keys[1], ADDRESS_LIMIT).await?
    {
        return Err(SignInError::Throttled);
    }
    let found =
        sqlx::query("SELECT id, password_hash, disabled_at FROM people WHERE username = $1")
            .bind(&username)
            .fetch_optional(db.pool())
            .await?;
    let (id, hash, disabled) = match &found {
        Some(r) => (
            r.try_get::<i64, _>(0)?,
            r.try_get::<String, _>(1)?,
            r.try_get::<Option<String>, _>(2)?,
        ),
        None => (0, password::decoy_hash().to_owned(), None),
    };
    let candidate = candidate.to_owned();
    let ok = tokio::task::spawn_blocking(move || password::verify(&hash, &candidate))
        .await
        .unwrap_or(false);
    if !ok || found.is_none() || disabled.is_some() {
        let mut tx = db.write().await?;
        for key in &keys {
            throttle::record_failure(&mut tx, key).await?;
        }
        tx.audit(
            &Actor::system(&username),
            "auth.sign_in_failed",
            "person",
            &username,
            json!({"address": address}),
        )
        .await?;
        tx.commit().await?;
        return Err(SignInError::Invalid);
    }
    Ok(people::get(db, id).await?)
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Only a hash of a session or token secret is stored: a leaked database copy
/// cannot be replayed as a cookie.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Opens a session for a person whose credentials were checked; returns the cookie value.
pub async fn open_session(db: &Db, person: &Person, address: &str) -> Result<String, ServiceError> {
    let secret = new_secret();
    let now = Utc::now();
    let mut tx = db.write().await?;
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(time::timestamp(now))
        .execute(tx.conn())
        .await?;
    sqlx::query("INSERT INTO sessions (id_hash, person_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $3)")
        .bind(secret_hash(&secret))
        .bind(person.id)
        .bind(time::timestamp(now))
        .bind(time::timestamp(now + Duration::hours(SESSION_HOURS)))
        .execute(tx.conn())
        .await?;
    throttle::clear(&mut tx, &format!("account:{}", person.username)).await?;
    tx.audit(
        &person.actor(),
        "auth.sign_in",
        "person",
        person.id,
        json!({"address": address}),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

pub async fn close_session(
    db: &Db,
    principal: &Principal,
    secret: &str,
) -> Result<(), ServiceError> {
    let mut tx = db.write().await?;
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(secret_hash(secret))
        .execute(tx.conn())
        .await?;
    tx.audit(
        &principal.actor(),
        "auth.sign_out",
        "person",
        principal.person.id,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The person behind a session cookie, if the session is open.
pub async fn session_principal(db: &Db, secret: &str) -> Result<Option<Principal>, ServiceError> {
    principal_behind(
        db,
        "SELECT person_id FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        secret,
    )
    .await
}

pub async fn issue_api_token(db: &Db, person: &Person) -> Result<String, ServiceError> {
    let secret = new_secret();
    let now = Utc::now();
    let mut tx = db.write().await?;
    sqlx::query("INSERT INTO api_tokens (token_hash, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(secret_hash(&secret))
        .bind(person.id)
        .bind(time::timestamp(now))
        .bind(time::timestamp(now + Duration::days(TOKEN_DAYS)))
        .execute(tx.conn())
        .await?;
    tx.audit(
        &person.actor(),
        "auth.token_issue",
        "person",
        person.id,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// The person behind a bearer token, if the token is valid.
pub async fn token_principal(db: &Db, secret: &str) -> Result<Option<Principal>, ServiceError> {
    principal_behind(
        db,
        "SELECT person_id FROM api_tokens WHERE token_hash = $1 AND expires_at > $2",
        secret,
    )
    .await
}

/// Looks a secret up by its hash with `sql` (binding the hash and now).
async fn principal_behind(
    db: &Db,
    sql: &str,
    secret: &str,
) -> Result<Option<Principal>, ServiceError> {
    let row = sqlx::query(sql)
        .bind(secret_hash(secret))
        .bind(time::now())
        .fetch_optional(db.pool())
        .await?;
    match row {
        Some(r) => principal(db, r.try_get(0)?).await,
        None => Ok(None),
    }
}

/// The principal of a person today (none when the account is disabled).
pub async fn principal(db: &Db, person_id: i64) -> Result<Option<Principal>, ServiceError> {
    let person = people::get(db, person_id).await?;
    if person.disabled {
        return Ok(None);
    }
    let positions = people::positions(db, person_id, Some(time::today())).await?;
    Ok(Some(Principal { person, positions }))
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("the current password is wrong")]
    WrongCurrent,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// A person changes their own password: the current one must be right.
pub async fn change_password(
    db: &Db,
    principal: &Principal,
    current: &str,
    new: &Password,
) -> Result<(), PasswordChangeError> {
    let row = sqlx::query("SELECT password_hash FROM people WHERE id = $1")
        .bind(principal.person.id)
        .fetch_one(db.pool())
        .await
        .map_err(ServiceError::from)?;
    let hash: String = row.try_get(0).map_err(ServiceError::from)?;
    let current = current.to_owned();
    let ok = tokio::task::spawn_blocking(move || password::verify(&hash, &current))
        .await
        .unwrap_or(false);
    if !ok {
        return Err(PasswordChangeError::WrongCurrent);
    }
    people::set_password(db, &principal.actor(), principal.person.id, new).await?;
    Ok(())
}
