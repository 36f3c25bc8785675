//! The audit log read as a clerk or an auditor reads it: filtered by who acted, what was
//! done, on what and between which Beijing days; ID numbers in the recorded changes masked; the filtered log exported as a workbook, the export
//! itself recorded. Every case runs on SQLite, and on PostgreSQL when
//! `MINZHENG_TEST_POSTGRES_URL` is set.

use chrono::{Duration, Utc};
use minzheng_app::testing::payroll as fixtures;
use minzheng_app::testing::TestDb;
use minzheng_app::App;
use minzheng_domain::audit::{AuditFilter, AuditFilterForm};
use minzheng_domain::registry::NewHousehold;
use minzheng_domain::{Actor, IdNumber};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = minzheng_app::testing::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[minzheng_test_services::needs_postgres]
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = minzheng_app::testing::TestDb::postgres().await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

both!(the_log_is_filtered_masked_and_exported);

fn id18(first17: &str) -> String {
    let c = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    format!("{first17}{c}")
}

async fn actor(app: &App, username: &str) -> Actor {
    fixtures::actor(app, username).await.expect("demo login")
}

fn filter(f: AuditFilterForm) -> AuditFilter {
    f.parse().expect("a valid filter")
}

async fn the_log_is_filtered_masked_and_exported(db: &TestDb) {
    let app = &db.app;
    app.demo().ensure().await.expect("seed demo");
    let staff = actor(app, "staff").await;
    let admin = actor(app, "admin").await;
    let auditor = actor(app, "auditor").await;
    let head = id18("51180219620415135");
    let h = app
        .registry()
        .create(
            &staff,
            &NewHousehold {
                village_code: "511802001001".into(),
                registration_type: "rural".into(),
                head_name: "马德胜".into(),
                head_id_number: head.clone(),
                head_health: "慢性病".into(),
                head_work_capacity: "部分丧失劳动能力".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let hid = h.household.id.to_string();
    // By who acted and what was done: exactly the clerk's registration.
    let by_staff = filter(AuditFilterForm {
        actor: "staff".into(),
        action: "household.create".into(),
        ..Default::default()
    });
    let found = app.audit().search(&admin, &by_staff, 50, 0).await.unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].entity_id, hid);
    assert_eq!(
        app.audit().count_matching(&admin, &by_staff).await.unwrap(),
        1
    );
    // By the object: its type and number.
    let on_it = filter(AuditFilterForm {
        entity_type: "household".into(),
        entity_id: hid.clone(),
        ..Default::default()
    });
    let on = app.audit().search(&admin, &on_it, 50, 0).await.unwrap();
    assert!(!on.is_empty() && on.iter().all(|e| e.entity_id == hid));
    // By Beijing days: yesterday to tomorrow holds it, the day after tomorrow on does not.
    let beijing = (Utc::now() + Duration::hours(8)).date_naive();
    let days = |from: chrono::NaiveDate, to: Option<chrono::NaiveDate>| {
        filter(AuditFilterForm {
            actor: "staff".into(),
            action: "household.create".into(),
            from: from.to_string(),
            to: to.map(|d| d.to_string()).unwrap_or_default(),
            ..Default::default()
        })
    };
    let around = days(
        beijing - Duration::days(1),
        Some(beijing + Duration::days(1)),
    );
    assert_eq!(
        app.audit().count_matching(&admin, &around).await.unwrap(),
        1
    );
    let later = days(beijing + Duration::days(2), None);
    assert_eq!(app.audit().count_matching(&admin, &later).await.unwrap(), 0);
    // The log holds ID numbers masked (first 6 and last 4), whoever reads it.
    for reader in [&admin, &auditor] {
        let e = &app.audit().search(reader, &by_staff, 5, 0).await.unwrap()[0];
        let after = e.after_json.as_deref().unwrap();
        assert!(!after.contains(&head), "{after}");
        assert!(after.contains(&minzheng_domain::mask_id(&head)), "{after}");
    }
    // A clerk does not read the log at all.
    assert!(matches!(
        app.audit().search(&staff, &by_staff, 5, 0).await,
        Err(minzheng_app::Error::Forbidden(_))
    ));
    // The export holds what the filter selects, masked as the page is, and is recorded.
    let before = app.audit().count(&Actor::system("t")).await.unwrap();
    let w = app
        .audit()
        .workbook(&auditor, &by_staff, |e| {
            [e.actor.clone(), e.action.clone(), e.entity_id.clone()]
        })
        .await
        .unwrap();
    assert_eq!(w.file_name, "操作日志.xlsx");
    let text = String::from_utf8_lossy(&unzipped_sheet(&w.bytes)).to_string();
    assert!(text.contains(&hid) && !text.contains(&head), "{text}");
    assert_eq!(
        app.audit().count(&Actor::system("t")).await.unwrap(),
        before + 1
    );
    let exports = filter(AuditFilterForm {
        action: "audit.export".into(),
        actor: "auditor".into(),
        ..Default::default()
    });
    assert_eq!(
        app.audit().count_matching(&admin, &exports).await.unwrap(),
        1
    );
}

/// The shared strings and first sheet of an xlsx, concatenated (enough to search text).
fn unzipped_sheet(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an xlsx");
    let mut out = Vec::new();
    for name in ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"] {
        if let Ok(mut f) = zip.by_name(name) {
            f.read_to_end(&mut out).unwrap();
        }
    }
    out
}
