//! R1: a database made before name keys were NFKC + case fold (migrations 0001–0008, keys made
//! by full-Unicode lowercase) is re-keyed when the store opens it: every key becomes the key of
//! its name, and of two names that now collide the younger is renamed `name 2` and the rename
//! audited, on both backends. Opening it again changes nothing.

use super::TestDb;
use chrono::{DateTime, Utc};
use guildhall::domain::names::{NAME_KEY_VERSION, OrgName, name_key};
use sqlx::types::Json;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The rows written at the old schema: (table, id, org, name, seconds after the epoch).
struct Old {
    rows: Vec<(&'static str, Uuid, Uuid, &'static str, i64)>,
}

/// Two organizations (one of them holds the look-alikes), and look-alike pairs in every table:
/// fullwidth beside ASCII, composed beside decomposed, one with a zero-width space; `Straße`
/// only changes key; `Web` in the second organization is another scope.
fn old_rows() -> (Old, Uuid) {
    let (acme, cafe) = (Uuid::from_u128(1), Uuid::from_u128(3));
    let id = |n: u128| Uuid::from_u128(n);
    let rows = vec![
        ("orgs", acme, acme, "ACME", 1),
        ("orgs", id(2), id(2), "\u{FF21}\u{FF23}\u{FF2D}\u{FF25}", 2),
        ("orgs", cafe, cafe, "Caf\u{E9}", 3),
        ("orgs", id(4), id(4), "Cafe\u{301}", 4),
        ("orgs", id(5), id(5), "Stra\u{DF}e", 5),
        ("orgs", id(6), id(6), "Plain", 6),
        ("projects", id(10), acme, "Web", 10),
        ("projects", id(11), acme, "\u{FF37}\u{FF45}\u{FF42}", 11),
        ("projects", id(12), cafe, "web", 12),
        ("groups", id(20), acme, "Ops", 20),
        ("groups", id(21), acme, "OPS\u{200B}", 21),
        ("custom_roles", id(30), acme, "Deploy", 30),
        ("custom_roles", id(31), acme, "\u{FF24}eploy", 31),
    ];
    (Old { rows }, acme)
}

/// What every row is called after re-keying.
fn expected_names() -> BTreeMap<Uuid, &'static str> {
    let id = |n: u128| Uuid::from_u128(n);
    BTreeMap::from([
        (id(1), "ACME"),
        (id(2), "\u{FF21}\u{FF23}\u{FF2D}\u{FF25} 2"),
        (id(3), "Caf\u{E9}"),
        (id(4), "Cafe\u{301} 2"),
        (id(5), "Stra\u{DF}e"),
        (id(6), "Plain"),
        (id(10), "Web"),
        (id(11), "\u{FF37}\u{FF45}\u{FF42} 2"),
        (id(12), "web"),
        (id(20), "Ops"),
        (id(21), "OPS\u{200B} 2"),
        (id(30), "Deploy"),
        (id(31), "\u{FF24}eploy 2"),
    ])
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("time")
}

/// Migrations 0001–0008 only: what a server before this change left.
async fn old_schema(backend: &str) -> sqlx::migrate::Migrator {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    for entry in std::fs::read_dir(&source).expect("migrations") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let number: u32 = name[..4].parse().expect("numbered");
        if number <= 8 {
            std::fs::copy(&path, dir.path().join(&name)).expect("copy");
        }
    }
    let migrator = sqlx::migrate::Migrator::new(dir.path())
        .await
        .expect("old migrations");
    assert_eq!(migrator.iter().count(), 8);
    migrator
}

/// Writes the old rows, with the keys the old server made (`to_lowercase`).
macro_rules! write_old_rows {
    ($pool:expr, $old:expr) => {{
        for (table, id, org, name, secs) in &$old.rows {
            let key = name.to_lowercase();
            let done = match *table {
                "orgs" => sqlx::query(
                    "INSERT INTO orgs (id, name, name_key, slug, personal, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(*id)
                .bind(*name)
                .bind(key)
                .bind(format!("org-{}", id.simple()))
                .bind(false)
                .bind(at(*secs))
                .execute($pool)
                .await,
                "custom_roles" => sqlx::query(
                    "INSERT INTO custom_roles (id, org_id, name, name_key, permissions, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(*id)
                .bind(*org)
                .bind(*name)
                .bind(key)
                .bind(Json(vec!["org.read"]))
                .bind(at(*secs))
                .execute($pool)
                .await,
                _ => {
                    let sql = format!(
                        "INSERT INTO {table} (id, org_id, name, name_key, created_at) \
                         VALUES ($1, $2, $3, $4, $5)"
                    );
                    sqlx::query(&sql)
                        .bind(*id)
                        .bind(*org)
                        .bind(*name)
                        .bind(key)
                        .bind(at(*secs))
                        .execute($pool)
                        .await
                }
            };
            done.expect("old row");
        }
    }};
}

/// Every (id, name, key) of the named tables, and the name key version.
macro_rules! read_back {
    ($pool:expr) => {{
        let mut rows: Vec<(Uuid, String, String)> = Vec::new();
        for table in ["orgs", "projects", "groups", "custom_roles"] {
            let sql = format!("SELECT id, name, name_key FROM {table} ORDER BY id");
            rows.extend(
                sqlx::query_as::<_, (Uuid, String, String)>(&sql)
                    .fetch_all($pool)
                    .await
                    .expect("rows"),
            );
        }
        let (version,): (i64,) = sqlx::query_as("SELECT version FROM name_key_version")
            .fetch_one($pool)
            .await
            .expect("version");
        let renames: Vec<(String, String)> = sqlx::query_as(
            "SELECT action, target_id FROM audit_events WHERE actor_kind = 'system' ORDER BY seq",
        )
        .fetch_all($pool)
        .await
        .expect("audit");
        let read: ReadBack = (rows, version, renames);
        read
    }};
}

/// What [`read_back!`] reads: every (id, name, key), the name key version, and the (action,
/// target) of every audit event Guildhall wrote itself.
type ReadBack = (Vec<(Uuid, String, String)>, i64, Vec<(String, String)>);

fn check(backend: &str, (rows, version, renames): ReadBack) {
    assert_eq!(version, NAME_KEY_VERSION, "{backend}");
    let expected = expected_names();
    assert_eq!(rows.len(), expected.len(), "{backend}");
    for (id, name, key) in &rows {
        assert_eq!(Some(&name.as_str()), expected.get(id), "{backend}: {id}");
        assert_eq!(
            *key,
            name_key(name),
            "{backend}: {name:?} keeps the old key"
        );
    }
    let mut renamed: Vec<(String, String)> = renames;
    renamed.sort();
    let id = |n: u128| Uuid::from_u128(n).to_string();
    assert_eq!(
        renamed,
        [
            ("group.renamed".to_owned(), id(21)),
            ("org.renamed".to_owned(), id(2)),
            ("org.renamed".to_owned(), id(4)),
            ("project.renamed".to_owned(), id(11)),
            ("role.updated".to_owned(), id(31)),
        ],
        "{backend}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r1_opening_an_old_sqlite_database_rekeys_its_names() {
    let db = TestDb::sqlite();
    let (old, acme) = old_rows();
    {
        let opts = db
            .url
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .expect("url");
        let pool = sqlx::SqlitePool::connect_with(opts.create_if_missing(true))
            .await
            .expect("sqlite");
        old_schema("sqlite")
            .await
            .run(&pool)
            .await
            .expect("0001-0008");
        write_old_rows!(&pool, old);
        pool.close().await;
    }
    let store = db.open().await;
    let pool = sqlx::SqlitePool::connect(&db.url).await.expect("sqlite");
    check("sqlite", read_back!(&pool));
    // The look-alike of a kept name is taken now; the renamed one's is its own.
    let mut tx = store.read().await.expect("read");
    for taken in [
        "acme",
        "\u{FF41}\u{FF43}\u{FF4D}\u{FF45}",
        "CAFE\u{301}",
        "strasse",
    ] {
        let key = OrgName::parse(taken).expect("name").key();
        assert!(tx.org_name_taken(&key).await.expect("read"), "{taken}");
    }
    assert!(
        tx.project_by_ref(guildhall::domain::ids::OrgId(acme), "ＷＥＢ")
            .await
            .expect("read")
            .is_some()
    );
    drop(tx);
    drop(store);
    // Opened again: done already, nothing changes.
    let before = read_back!(&pool);
    drop(db.open().await);
    assert_eq!(read_back!(&pool), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r1_opening_an_old_postgres_database_rekeys_its_names() {
    let db = TestDb::postgres().await;
    let (old, _) = old_rows();
    let pool = sqlx::PgPool::connect(&db.url).await.expect("postgres");
    old_schema("postgres")
        .await
        .run(&pool)
        .await
        .expect("0001-0008");
    write_old_rows!(&pool, old);
    // Two servers starting at once: one re-keys, the other finds it done.
    let (a, b) = tokio::join!(db.open(), db.open());
    check("postgres", read_back!(&pool));
    drop((a, b));
    let before = read_back!(&pool);
    drop(db.open().await);
    assert_eq!(read_back!(&pool), before);
    pool.close().await;
    db.drop_database().await;
}
