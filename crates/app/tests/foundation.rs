//! The behavioural store suite: every case runs on SQLite, and on PostgreSQL when
//! `MINZHENG_TEST_POSTGRES_URL` is set (each case in its own fresh database).

use std::path::Path;

use chrono::{Duration, Utc};
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::formats::divisions::DivisionSource;
use minzheng_app::testing::{AuditTamper, TestDb};
use minzheng_app::{App, Error};
use minzheng_domain::offices::{OfficeFilter, OfficeUpdate};
use minzheng_domain::users::{AuthError, NewUser, UserUpdate};
use minzheng_domain::{Actor, DivisionCode, Scope};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
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
                #[tokio::test]
                async fn $name() {
                    let db = minzheng_app::testing::TestDb::postgres().await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

both!(
    every_demo_login_works,
    migrations_are_idempotent,
    demo_city_imports_and_reimport_changes_nothing,
    malformed_division_files_change_nothing,
    only_filter_imports_a_subtree,
    users_are_validated_and_audited,
    sign_in_locks_after_five_failures,
    a_lock_holds_only_for_the_address_that_failed,
    a_flood_from_one_address_is_refused_and_audited_once,
    changing_ones_password_ends_ones_other_sessions,
    sessions_expire_when_idle,
    jurisdiction_limits_reads_and_writes,
    audit_chain_detects_tampering,
    concurrent_writes_keep_one_chain,
);

fn system() -> Actor {
    Actor::system("test")
}

async fn seeded(db: &TestDb) -> &App {
    db.app.demo().ensure().await.expect("seed demo");
    &db.app
}

/// An actor with the system's rights working inside `scope`: to see what a read returns
/// within a jurisdiction, whatever the role.
fn within(scope: &Scope) -> Actor {
    Actor {
        scope: scope.clone(),
        ..system()
    }
}

async fn actor_of(app: &App, username: &str) -> Actor {
    let user = app
        .users()
        .authenticate(username, DEMO_PASSWORD, Utc::now())
        .await
        .unwrap()
        .expect("demo login works");
    user.actor().unwrap()
}

async fn every_demo_login_works(db: &TestDb) {
    let logins = db.app.demo().ensure().await.unwrap();
    assert_eq!(logins.len(), 7);
    let roles: std::collections::HashSet<_> = logins.iter().map(|l| l.role).collect();
    assert_eq!(roles.len(), 6, "one account for every role");
    for l in &logins {
        let user = db
            .app
            .users()
            .authenticate(&l.username, DEMO_PASSWORD, Utc::now())
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{}: {e}", l.username));
        assert_eq!(user.role, l.role);
        assert_eq!(user.scope_code, l.scope_code);
        assert!(!l.scope_name.is_empty());
    }
    // Seeding again changes nothing.
    let audit = db.app.audit().count(&system()).await.unwrap();
    db.app.demo().ensure().await.unwrap();
    assert_eq!(db.app.audit().count(&system()).await.unwrap(), audit);
}

async fn migrations_are_idempotent(db: &TestDb) {
    assert_eq!(db.app.migrate().await.unwrap(), 0);
    db.app.ping().await.unwrap();
}

async fn demo_city_imports_and_reimport_changes_nothing(db: &TestDb) {
    let store = seeded(db).await;
    let stats = store.divisions().stats(&system()).await.unwrap();
    let counts: Vec<i64> = stats.iter().map(|l| l.count).collect();
    assert_eq!(counts, vec![1, 1, 8, 96, 659]);
    let (offices, total) = db
        .app
        .offices()
        .list(
            &Actor::system("t"),
            &OfficeFilter {
                limit: Some(500),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(total, 96);
    let dongcheng = offices
        .iter()
        .find(|o| o.township_code == "511802001")
        .unwrap();
    assert_eq!(dongcheng.name, "东城街道民政办公室");
    assert_eq!(dongcheng.second_name, "东城街道社会救助工作站");
    assert_eq!(dongcheng.county_name, "雨城区");
    assert!(dongcheng.village_count > 0);

    let again = store
        .divisions()
        .import(&system(), &DivisionSource::DemoCity, None, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(again.inserted, 0);
    assert_eq!(again.updated, 0);
    assert_eq!(again.offices_created, 0);
    assert_eq!(again.rows_read, 765);
    let counts_after: Vec<i64> = store
        .divisions()
        .stats(&system())
        .await
        .unwrap()
        .iter()
        .map(|l| l.count)
        .collect();
    assert_eq!(counts_after, counts);
}

/// Writes a small dataset in the national layout into `dir`.
fn write_dataset(dir: &Path, villages: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("provinces.csv"), "code,name\n51,\"四川省\"\n").unwrap();
    std::fs::write(
        dir.join("cities.csv"),
        "code,name,provinceCode\n5118,\"雅安市\",51\n5101,\"成都市\",51\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("areas.csv"),
        "code,name,cityCode,provinceCode\n511802,\"雨城区\",5118,51\n510104,\"锦江区\",5101,51\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("streets.csv"),
        "code,name,areaCode,provinceCode,cityCode\n511802001,\"东城街道\",511802,51,5118\n510104020,\"春熙路街道\",510104,51,5101\n",
    )
    .unwrap();
    std::fs::write(dir.join("villages.csv"), villages).unwrap();
}

const GOOD_VILLAGES: &str = "code,name,streetCode,provinceCode,cityCode,areaCode\n511802001001,\"仓坪社区居民委员会\",511802001,51,5118,511802\n510104020001,\"和平社区居民委员会\",510104020,51,5101,510104\n";

async fn count_divisions(store: &App) -> i64 {
    store
        .divisions()
        .stats(&system())
        .await
        .unwrap()
        .iter()
        .map(|l| l.count)
        .sum()
}

async fn malformed_division_files_change_nothing(db: &TestDb) {
    let store = &db.app;
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("bad-code", "code,name,streetCode,provinceCode,cityCode,areaCode\n51180200100X,\"坏代码\",511802001,51,5118,511802\n", "第2行"),
        ("wrong-level", "code,name,streetCode,provinceCode,cityCode,areaCode\n511802001,\"级别不对\",511802001,51,5118,511802\n", "不是村(社区)级代码"),
        ("wrong-parent", "code,name,streetCode,provinceCode,cityCode,areaCode\n511802001001,\"上级不符\",511802002,51,5118,511802\n", "上级代码"),
        ("orphan", "code,name,streetCode,provinceCode,cityCode,areaCode\n511802009001,\"无上级\",511802009,51,5118,511802\n", "不存在"),
        ("empty-name", "code,name,streetCode,provinceCode,cityCode,areaCode\n511802001001,\"\",511802001,51,5118,511802\n", "名称"),
        ("no-header", "511802001001,\"x\",511802001,51,5118,511802\n", "表头"),
    ];
    for (label, villages, expect) in cases {
        let dir = tmp.path().join(label);
        write_dataset(&dir, villages);
        let err = store
            .divisions()
            .import(&system(), &DivisionSource::Dir(dir), None, &mut |_| {})
            .await
            .expect_err(label);
        let msg = err.to_string();
        assert!(msg.contains(expect), "{label}: {msg}");
        assert!(matches!(err, Error::Validation { .. }), "{label}");
        assert_eq!(count_divisions(store).await, 0, "{label} left rows behind");
    }
    // A missing file is named.
    let dir = tmp.path().join("missing");
    write_dataset(&dir, GOOD_VILLAGES);
    std::fs::remove_file(dir.join("areas.csv")).unwrap();
    let err = store
        .divisions()
        .import(&system(), &DivisionSource::Dir(dir), None, &mut |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("areas.csv"), "{err}");
    assert_eq!(count_divisions(store).await, 0);
    // Signed-in users cannot import at all.
    let mut actor = system();
    actor.role = Some(minzheng_domain::Role::CityAdmin);
    assert!(matches!(
        store
            .divisions()
            .import(&actor, &DivisionSource::DemoCity, None, &mut |_| {})
            .await,
        Err(Error::Forbidden(_))
    ));
}

async fn only_filter_imports_a_subtree(db: &TestDb) {
    let store = &db.app;
    let tmp = tempfile::tempdir().unwrap();
    write_dataset(tmp.path(), GOOD_VILLAGES);
    // gzip one file to prove both forms are read.
    let plain = std::fs::read(tmp.path().join("villages.csv")).unwrap();
    let gz = std::fs::File::create(tmp.path().join("villages.csv.gz")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &plain).unwrap();
    enc.finish().unwrap();
    std::fs::remove_file(tmp.path().join("villages.csv")).unwrap();

    let only = DivisionCode::parse("5118").unwrap();
    let stats = store
        .divisions()
        .import(
            &system(),
            &DivisionSource::Dir(tmp.path().into()),
            Some(&only),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(
        stats.inserted, 5,
        "province, city, county, township, village of 雅安"
    );
    assert_eq!(stats.offices_created, 1);
    assert!(store.divisions().get(&system(), "5101").await.is_err());
    assert!(store
        .divisions()
        .get(&system(), "511802001001")
        .await
        .is_ok());
    // The whole file then adds only what is missing.
    let all = store
        .divisions()
        .import(
            &system(),
            &DivisionSource::Dir(tmp.path().into()),
            None,
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(all.inserted, 4);
    assert_eq!(all.updated, 0);
    assert_eq!(all.offices_created, 1);
}

async fn users_are_validated_and_audited(db: &TestDb) {
    let store = seeded(db).await;
    let admin = actor_of(store, "admin").await;
    let good = NewUser {
        username: "clerk1".into(),
        display_name: "孙丽".into(),
        role: "township-staff".into(),
        scope_code: "511803002".into(),
        password: "Abcdef12".into(),
    };
    let before = store.audit().count(&system()).await.unwrap();
    let bad = |f: &dyn Fn(&mut NewUser)| {
        let mut u = good.clone();
        f(&mut u);
        u
    };
    let cases: Vec<(NewUser, &str)> = vec![
        (bad(&|u| u.password = "short1A".into()), "password"),
        (bad(&|u| u.password = "alllowercase".into()), "password"),
        (bad(&|u| u.username = "a b".into()), "username"),
        (bad(&|u| u.role = "king".into()), "role"),
        (bad(&|u| u.scope_code = "5101001".into()), "scope_code"),
        (bad(&|u| u.scope_code = "510104020".into()), "scope_code"),
        (bad(&|u| u.scope_code = "5118".into()), "scope_code"),
        (bad(&|u| u.username = "admin".into()), "username"),
    ];
    for (u, field) in cases {
        match store.users().create(&admin, &u).await {
            Err(Error::Validation { fields, .. }) => {
                assert!(fields.contains_key(field), "{field}: {fields:?}")
            }
            other => panic!("{field}: expected validation error, got {other:?}"),
        }
    }
    assert_eq!(
        store.audit().count(&system()).await.unwrap(),
        before,
        "refused changes leave no audit record"
    );
    let created = store.users().create(&admin, &good).await.unwrap();
    assert_eq!(created.scope_name, "蒙阳街道");
    let entries = store
        .audit()
        .list(&admin, Some(("user", &created.id.to_string())), 10, 0)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "user.create");
    assert_eq!(entries[0].actor, "admin");
    assert!(!entries[0]
        .after_json
        .as_deref()
        .unwrap()
        .contains("Abcdef12"));

    // Non-admins cannot create or change users.
    let director = actor_of(store, "director").await;
    assert!(matches!(
        store
            .users()
            .create(
                &director,
                &NewUser {
                    username: "x123".into(),
                    ..good.clone()
                }
            )
            .await,
        Err(Error::Forbidden(_))
    ));
    assert!(store
        .users()
        .update(
            &director,
            created.id,
            &UserUpdate {
                active: Some(false),
                ..Default::default()
            }
        )
        .await
        .is_err());
    // Deactivation stops sign-in.
    store
        .users()
        .update(
            &admin,
            created.id,
            &UserUpdate {
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .users()
            .authenticate("clerk1", "Abcdef12", Utc::now())
            .await
            .unwrap()
            .unwrap_err(),
        AuthError::Inactive
    );
}

async fn sign_in_locks_after_five_failures(db: &TestDb) {
    let store = seeded(db).await;
    let now = Utc::now();
    for _ in 0..5 {
        assert_eq!(
            store
                .users()
                .authenticate("staff", "wrong-Password1", now)
                .await
                .unwrap()
                .unwrap_err(),
            AuthError::BadCredentials
        );
    }
    assert!(matches!(
        store
            .users()
            .authenticate("staff", DEMO_PASSWORD, now)
            .await
            .unwrap(),
        Err(AuthError::Locked { .. })
    ));
    assert!(matches!(
        store
            .users()
            .authenticate("staff", DEMO_PASSWORD, now + Duration::minutes(14))
            .await
            .unwrap(),
        Err(AuthError::Locked { .. })
    ));
    assert!(store
        .users()
        .authenticate("staff", DEMO_PASSWORD, now + Duration::minutes(16))
        .await
        .unwrap()
        .is_ok());
    // Unknown users fail the same way and are audited too.
    assert_eq!(
        store
            .users()
            .authenticate("nobody", "x", now)
            .await
            .unwrap()
            .unwrap_err(),
        AuthError::BadCredentials
    );
    let auditor = actor_of(store, "admin").await;
    let all = store
        .audit()
        .list(
            &Actor {
                scope: Scope::all(),
                ..auditor
            },
            None,
            100,
            0,
        )
        .await
        .unwrap();
    let failures = all
        .iter()
        .filter(|e| e.action == "auth.signin_failed")
        .count();
    assert_eq!(failures, 5 + 2 + 1);
    assert!(all
        .iter()
        .any(|e| e.action == "auth.signin" && e.actor == "staff"));
}

async fn sessions_expire_when_idle(db: &TestDb) {
    let store = seeded(db).await;
    let user = store
        .users()
        .authenticate("staff", DEMO_PASSWORD, Utc::now())
        .await
        .unwrap()
        .unwrap();
    let t0 = Utc::now();
    let (token, csrf) = store.users().open_session(user.id, t0).await.unwrap();
    let idle = Duration::minutes(30);
    let s = store
        .users()
        .session(&token, t0 + Duration::minutes(29), idle)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.user.username, "staff");
    assert_eq!(s.csrf_token, csrf);
    // Activity at 29 minutes moved the idle clock.
    assert!(store
        .users()
        .session(&token, t0 + Duration::minutes(58), idle)
        .await
        .unwrap()
        .is_some());
    assert!(store
        .users()
        .session(&token, t0 + Duration::minutes(89), idle)
        .await
        .unwrap()
        .is_none());
    assert!(
        store
            .users()
            .session(&token, t0, idle)
            .await
            .unwrap()
            .is_none(),
        "expired sessions are deleted"
    );
    assert!(store
        .users()
        .session("not-a-token", t0, idle)
        .await
        .unwrap()
        .is_none());
    let (token2, _) = store.users().open_session(user.id, t0).await.unwrap();
    store.users().end_session(&token2).await.unwrap();
    assert!(store
        .users()
        .session(&token2, t0, idle)
        .await
        .unwrap()
        .is_none());
}

async fn jurisdiction_limits_reads_and_writes(db: &TestDb) {
    let store = seeded(db).await;
    let staff = actor_of(store, "staff").await; // 东城街道 511802001
    let assistant = actor_of(store, "assistant").await; // a village of 东城街道
    let auditor = actor_of(store, "auditor").await;
    let approver = actor_of(store, "approver").await; // 雨城区
    let upd = OfficeUpdate {
        phone: "0835-1234567".into(),
        address: "东城街道办事处".into(),
    };

    // Reads.
    assert!(db.app.offices().get(&staff, "511802001").await.is_ok());
    assert!(matches!(
        db.app.offices().get(&staff, "511802002").await,
        Err(Error::NotFound(_))
    ));
    assert!(db.app.offices().get(&assistant, "511802001").await.is_ok());
    assert!(matches!(
        db.app.offices().get(&assistant, "511802002").await,
        Err(Error::NotFound(_))
    ));
    let (list, total) = db
        .app
        .offices()
        .list(&staff, &OfficeFilter::default())
        .await
        .unwrap();
    assert_eq!((list.len(), total), (1, 1));
    let (_, county_total) = db
        .app
        .offices()
        .list(&approver, &OfficeFilter::default())
        .await
        .unwrap();
    assert!(county_total > 1 && county_total < 96);
    assert!(matches!(
        store.divisions().get(&staff, "511802002").await,
        Err(Error::NotFound(_))
    ));
    assert!(
        store.divisions().get(&staff, "511802").await.is_ok(),
        "ancestors are visible"
    );
    let kids = store
        .divisions()
        .children(&staff, Some("511802"))
        .await
        .unwrap();
    assert_eq!(kids.len(), 1, "only the own township under the county");
    assert!(store
        .divisions()
        .search(&staff, "西城", 50)
        .await
        .unwrap()
        .is_empty());
    assert!(!store
        .divisions()
        .search(&approver, "西城", 50)
        .await
        .unwrap()
        .is_empty());
    let users = store.users().list(&within(&staff.scope)).await.unwrap();
    assert!(users.iter().all(|u| u.scope_code.starts_with("511802001")));
    let staff2 = store
        .users()
        .list(&system())
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "staff2")
        .unwrap();
    assert!(matches!(
        store.users().get(&within(&staff.scope), staff2.id).await,
        Err(Error::NotFound(_))
    ));

    // Writes: another township's office is not found (404), the own township's office is
    // forbidden to roles that may not edit it (403); both read as before afterwards.
    let office = |code: &'static str| async move {
        let o = db
            .app
            .offices()
            .get(&Actor::system("t"), code)
            .await
            .unwrap();
        (o.phone, o.address)
    };
    let (xicheng_before, dongcheng_before) = (office("511802002").await, office("511802001").await);
    assert!(matches!(
        db.app.offices().update(&staff, "511802002", &upd).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        db.app.offices().update(&assistant, "511802001", &upd).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        db.app.offices().update(&auditor, "511802001", &upd).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        store.audit().list(&staff, None, 10, 0).await,
        Err(Error::Forbidden(_))
    ));
    assert_eq!(office("511802002").await, xicheng_before);
    assert_eq!(office("511802001").await, dongcheng_before);
    let updated = db
        .app
        .offices()
        .update(&staff, "511802001", &upd)
        .await
        .unwrap();
    assert_eq!(updated.phone, "0835-1234567");
    assert_eq!(
        db.app
            .offices()
            .get(&Actor::system("t"), "511802002")
            .await
            .unwrap()
            .phone,
        xicheng_before.0
    );
    // Bad input is refused and changes nothing.
    let err = db
        .app
        .offices()
        .update(
            &staff,
            "511802001",
            &OfficeUpdate {
                phone: "电话号码".into(),
                address: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation { ref fields, .. } if fields.contains_key("phone")));
    assert_eq!(
        db.app
            .offices()
            .get(&staff, "511802001")
            .await
            .unwrap()
            .phone,
        "0835-1234567"
    );
    // The auditor at city level sees the change; the staff's audit is scoped.
    let trail = store
        .audit()
        .list(&auditor, Some(("office", "511802001")), 10, 0)
        .await
        .unwrap();
    assert!(trail
        .iter()
        .any(|e| e.action == "office.update" && e.actor == "staff"));
}

async fn audit_chain_detects_tampering(db: &TestDb) {
    let store = seeded(db).await;
    let v = store.audit().verify().await.unwrap();
    assert!(v.first_break.is_none());
    assert!(v.records > 10);
    // Edit one record's content.
    db.tamper_audit(AuditTamper::SetAfter(5, "{\"phone\":\"110\"}"))
        .await;
    let v = store.audit().verify().await.unwrap();
    assert_eq!(v.first_break.as_ref().unwrap().seq, 5);
    assert_eq!(v.records, 4);
    // Recomputing that record's own hash moves the break to the next record.
    let entry = store
        .audit()
        .list(&Actor::system("t"), None, 500, 0)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.seq == 5)
        .unwrap();
    db.tamper_audit(AuditTamper::SetHash(5, &entry.expected_hash()))
        .await;
    assert_eq!(
        store
            .audit()
            .verify()
            .await
            .unwrap()
            .first_break
            .unwrap()
            .seq,
        6
    );
    // A deleted record is found too.
    db.tamper_audit(AuditTamper::Delete(3)).await;
    assert_eq!(
        store
            .audit()
            .verify()
            .await
            .unwrap()
            .first_break
            .unwrap()
            .seq,
        3
    );
}

async fn concurrent_writes_keep_one_chain(db: &TestDb) {
    let store = seeded(db).await;
    let staff = actor_of(store, "staff").await;
    let staff2 = actor_of(store, "staff2").await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (s, a, code) = if i % 2 == 0 {
            (db.app.clone(), staff.clone(), "511802001")
        } else {
            (db.app.clone(), staff2.clone(), "511802002")
        };
        tasks.push(tokio::spawn(async move {
            s.offices()
                .update(
                    &a,
                    code,
                    &OfficeUpdate {
                        phone: format!("0835-{:07}", i),
                        address: String::new(),
                    },
                )
                .await
                .map(|_| ())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let v = store.audit().verify().await.unwrap();
    assert!(v.first_break.is_none(), "{:?}", v.first_break);
}

/// Five wrong passwords lock a name for the address that sent them, not everywhere; an
/// unknown name gets exactly the same answers; `unlock` lifts the lock and is audited.
async fn a_lock_holds_only_for_the_address_that_failed(db: &TestDb) {
    let app = seeded(db).await;
    let users = app.users();
    let now = Utc::now();
    let attacker = "203.0.113.9";
    let mut answers = Vec::new();
    for name in ["admin", "no-such-user"] {
        let mut a = Vec::new();
        for _ in 0..6 {
            a.push(
                users
                    .authenticate_from(name, "Wrong-Pass-1", attacker, now)
                    .await
                    .unwrap()
                    .unwrap_err(),
            );
        }
        answers.push(a);
    }
    assert_eq!(
        answers[0], answers[1],
        "the answers do not tell which names exist"
    );
    assert!(answers[0][..5]
        .iter()
        .all(|e| *e == AuthError::BadCredentials));
    assert!(matches!(answers[0][5], AuthError::Locked { .. }));
    // Meanwhile the administrator signs in from the office.
    assert!(users
        .authenticate_from("admin", DEMO_PASSWORD, "198.51.100.7", now)
        .await
        .unwrap()
        .is_ok());
    // From the attacker's address even the right password waits for the lock.
    assert!(matches!(
        users
            .authenticate_from("admin", DEMO_PASSWORD, attacker, now)
            .await
            .unwrap(),
        Err(AuthError::Locked { .. })
    ));
    // The command line lifts it (audited); an unknown name is not found.
    users.unlock(&Actor::system("cli"), "admin").await.unwrap();
    assert!(matches!(
        users.unlock(&Actor::system("cli"), "no-such-user").await,
        Err(Error::NotFound(_))
    ));
    let staff = actor_of(app, "staff").await;
    assert!(matches!(
        users.unlock(&staff, "admin").await,
        Err(Error::Forbidden(_))
    ));
    assert!(users
        .authenticate_from("admin", DEMO_PASSWORD, attacker, now)
        .await
        .unwrap()
        .is_ok());
    let log = app.audit().list(&system(), None, 200, 0).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "user.unlock").count(), 1);
}

/// One address sending failure after failure is refused after its allowance, with a
/// Chinese message, without a password check or an audit row each; other addresses are
/// unaffected, and the window's end lets it try again.
async fn a_flood_from_one_address_is_refused_and_audited_once(db: &TestDb) {
    use minzheng_domain::users::ADDRESS_FAILURES_PER_WINDOW;
    let app = seeded(db).await;
    let users = app.users();
    let now = Utc::now();
    let flood = "192.0.2.1";
    let before = app.audit().count(&system()).await.unwrap();
    for i in 0..ADDRESS_FAILURES_PER_WINDOW {
        assert_eq!(
            users
                .authenticate_from(&format!("guess{i}"), "Wrong-Pass-1", flood, now)
                .await
                .unwrap()
                .unwrap_err(),
            AuthError::BadCredentials
        );
    }
    for _ in 0..200 {
        let e = users
            .authenticate_from("staff", DEMO_PASSWORD, flood, now)
            .await
            .unwrap()
            .unwrap_err();
        assert!(matches!(e, AuthError::Throttled { .. }), "{e:?}");
        assert!(e.to_string().contains("登录失败次数过多"), "{e}");
    }
    let after = app.audit().count(&system()).await.unwrap();
    assert_eq!(
        after - before,
        ADDRESS_FAILURES_PER_WINDOW as i64 + 1,
        "each failure, then one record for the whole refusal"
    );
    assert!(users
        .authenticate_from("staff", DEMO_PASSWORD, "192.0.2.2", now)
        .await
        .unwrap()
        .is_ok());
    assert!(users
        .authenticate_from("staff", DEMO_PASSWORD, flood, now + Duration::minutes(16))
        .await
        .unwrap()
        .is_ok());
}

/// Changing one's own password ends one's other sessions (a stolen one among them) and
/// keeps the one that made the change; other users' sessions stay; a common password is
/// refused.
async fn changing_ones_password_ends_ones_other_sessions(db: &TestDb) {
    let app = seeded(db).await;
    let users = app.users();
    let now = Utc::now();
    let idle = Duration::minutes(30);
    let staff = users
        .authenticate("staff", DEMO_PASSWORD, now)
        .await
        .unwrap()
        .unwrap();
    let director = users
        .authenticate("director", DEMO_PASSWORD, now)
        .await
        .unwrap()
        .unwrap();
    let (mine, _) = users.open_session(staff.id, now).await.unwrap();
    let (other, _) = users.open_session(staff.id, now).await.unwrap();
    let (theirs, _) = users.open_session(director.id, now).await.unwrap();
    let actor = staff.actor().unwrap();
    let e = users
        .change_own_password(&actor, DEMO_PASSWORD, "Password1", Some(&mine))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("过于常见"), "{e}");
    assert!(users.session(&other, now, idle).await.unwrap().is_some());
    users
        .change_own_password(&actor, DEMO_PASSWORD, "Lan-Shan-2031", Some(&mine))
        .await
        .unwrap();
    assert!(users.session(&mine, now, idle).await.unwrap().is_some());
    assert!(users.session(&other, now, idle).await.unwrap().is_none());
    assert!(users.session(&theirs, now, idle).await.unwrap().is_some());
    assert!(users
        .authenticate("staff", "Lan-Shan-2031", now)
        .await
        .unwrap()
        .is_ok());
}
