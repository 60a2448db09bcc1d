//! Test databases: a fresh SQLite file, and PostgreSQL in a fresh schema when
//! `TEST_DATABASE_URL` is set. Every storage test runs on each.

use lienthong_store::Db;

pub struct TestDb {
    pub db: Db,
    pub name: &'static str,
    _dir: Option<tempfile::TempDir>,
}

pub async fn databases() -> Vec<TestDb> {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_sqlite(dir.path()).await.unwrap();
    db.migrate().await.unwrap();
    let mut out = vec![TestDb {
        db,
        name: "sqlite",
        _dir: Some(dir),
    }];
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        let schema = format!("lt_unit_{}", hex::encode(rand::random::<[u8; 6]>()));
        let db = Db::connect_in_schema(&url, Some(&schema)).await.unwrap();
        db.migrate().await.unwrap();
        out.push(TestDb {
            db,
            name: "postgres",
            _dir: None,
        });
    }
    out
}

/// A test database with the demo province loaded (each backend).
pub async fn demo_databases() -> Vec<TestDb> {
    let dbs = databases().await;
    for t in &dbs {
        crate::demo::load(&t.db).await.unwrap();
    }
    dbs
}

/// The principal of a demo person as of today.
pub async fn principal(db: &Db, username: &str) -> crate::auth::Principal {
    let person = crate::people::by_username(db, username)
        .await
        .unwrap()
        .unwrap();
    let positions = crate::people::positions(db, person.id, Some(lienthong_store::time::today()))
        .await
        .unwrap();
    crate::auth::Principal { person, positions }
}
