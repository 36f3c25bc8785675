//! 备份与恢复: a backup taken while another task keeps writing is a consistent copy that
//! restores with its audit chain intact and the same counts; a damaged file, a file that is
//! not a database, a backup whose audit log was tampered with, and an existing database
//! without `replace` are refused and change nothing; PostgreSQL is refused with the way to
//! back it up.

use minzheng_app::backup::{nightly_file, restore, rotate};
use minzheng_app::testing::{tamper_audit_at, AuditTamper, TestDb};
use minzheng_app::App;
use minzheng_domain::registry::NewHousehold;
use minzheng_domain::{Actor, IdNumber};

fn id(n: u32) -> String {
    let first17 = format!("51180219700101{n:03}");
    let c = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    format!("{first17}{c}")
}

async fn add_household(app: &App, n: u32) {
    app.registry()
        .create(
            &Actor::system("t"),
            &NewHousehold {
                head_health: "健康".into(),
                head_work_capacity: "有劳动能力".into(),
                village_code: "511802001001".into(),
                registration_type: "农村".into(),
                head_name: format!("备份{n}"),
                head_id_number: id(n),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_restores_whole() {
    let db = TestDb::sqlite().await;
    db.app.demo().ensure().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    // Households keep arriving while the backup is taken.
    let writer = {
        let app = db.app.clone();
        tokio::spawn(async move {
            for n in 0..40 {
                add_household(&app, n).await;
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let taken = db.app.backup(&file).await.unwrap();
    writer.await.unwrap();
    assert!(taken.households > 0 && taken.audit_records > 0);
    // A second backup to the same file is refused.
    assert!(db.app.backup(&file).await.is_err());

    let target = dir.path().join("restored.db");
    let url = format!("sqlite://{}", target.display());
    let back = restore(&file, &url, false).await.unwrap();
    assert_eq!(
        (back.households, back.persons, back.audit_records),
        (taken.households, taken.persons, taken.audit_records)
    );
    // The restored database opens, migrates, and its chain verifies; the counts match.
    let app = App::open(&url).await.unwrap();
    let v = app.audit().verify().await.unwrap();
    assert!(v.first_break.is_none());
    assert_eq!(v.records as i64, taken.audit_records);
    app.close().await;

    // An existing database is replaced only when asked, and kept aside.
    let e = restore(&file, &url, false).await.unwrap_err();
    assert!(e.to_string().contains("--replace"), "{e}");
    restore(&file, &url, true).await.unwrap();
    assert!(dir.path().join("restored.db.before-restore").exists());

    // The live database recorded the backup.
    let trail = minzheng_app::testing::payroll::audit_actions(&db.app, "database", "")
        .await
        .unwrap();
    assert!(trail.contains(&"database.backup".to_string()), "{trail:?}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_foreign_and_tampered_backups_change_nothing() {
    let db = TestDb::sqlite().await;
    db.app.demo().ensure().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("good.db");
    db.app.backup(&file).await.unwrap();
    let target = dir.path().join("target.db");
    let url = format!("sqlite://{}", target.display());

    // Not a database at all.
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "这不是数据库").unwrap();
    let e = restore(&text, &url, false).await.unwrap_err();
    assert!(e.to_string().contains("不是minzheng的数据库备份"), "{e}");

    // Damaged: the pages after the first overwritten.
    let mut bytes = std::fs::read(&file).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len / 3..len / 3 + 65_536.min(len / 2)] {
        *b = 0x5a;
    }
    let damaged = dir.path().join("damaged.db");
    std::fs::write(&damaged, &bytes).unwrap();
    let e = match restore(&damaged, &url, false).await {
        Ok(_) => panic!("the damaged backup was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("损坏") || e.contains("不是minzheng"), "{e}");

    // A backup whose audit log was edited afterwards.
    let tampered = dir.path().join("tampered.db");
    std::fs::copy(&file, &tampered).unwrap();
    tamper_audit_at(
        &format!("sqlite://{}", tampered.display()),
        AuditTamper::SetActor(1, "someone"),
    )
    .await;
    let e = restore(&tampered, &url, false).await.unwrap_err();
    assert!(e.to_string().contains("操作日志校验未通过"), "{e}");

    // Nothing was written where the database would go.
    assert!(!target.exists());
    assert!(!dir.path().join("target.db.restoring").exists());
    db.cleanup().await;
}

#[minzheng_test_services::needs_postgres]
#[tokio::test]
async fn postgres_is_backed_up_with_its_own_tools() {
    let db = TestDb::postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let e = db.app.backup(&dir.path().join("x.db")).await.unwrap_err();
    assert!(e.to_string().contains("pg_dump"), "{e}");
    assert!(!dir.path().join("x.db").exists());
    let e = restore(&dir.path().join("x.db"), &db.url, false)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("pg_restore"), "{e}");
    db.cleanup().await;
}

#[test]
fn nightly_backups_keep_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    for d in 1..=5 {
        let on = chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        std::fs::write(nightly_file(dir.path(), on), b"x").unwrap();
    }
    std::fs::write(dir.path().join("other.db"), b"x").unwrap();
    let removed = rotate(dir.path(), 3).unwrap();
    assert_eq!(removed.len(), 2);
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "minzheng-20261203.db",
            "minzheng-20261204.db",
            "minzheng-20261205.db",
            "other.db"
        ]
    );
}
