//! The read replica (`serve --read-database-url`): an application over a PostgreSQL
//! primary and a streaming replica of it reads the searches, household lists, statistics,
//! exports and public notice boards from the replica, and writes — with the reads a page
//! shows right after a change — on the primary. Runs when both
//! `MINZHENG_TEST_POSTGRES_URL` and `MINZHENG_TEST_POSTGRES_REPLICA_URL` are set
//! (`scripts/pg-replica start` makes the replica); listed as ignored otherwise, and a
//! failure under CI when either is missing.
//!
//! The replica's replay is paused while the primary is changed, so what each read returns
//! shows where it was read: the replica still answers as before the change, the primary
//! already with it.

use chrono::NaiveDate;
use minzheng_app::testing::{
    begin_write_on_reader, pause_replica, resume_replica, wait_for_replica, write_on_reader, TestDb,
};
use minzheng_app::App;
use minzheng_domain::cases::CaseFilter;
use minzheng_domain::payroll::LedgerFilter;
use minzheng_domain::registry::{HouseholdFilter, NewHousehold};
use minzheng_domain::{Actor, DivisionCode, IdNumber, Role, Scope, YearMonth};

/// The tests of this file pause the one replica's replay: one at a time.
static REPLICA: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const NAME: &str = "司马镜";
const VILLAGE: &str = "511802001001";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn city() -> DivisionCode {
    DivisionCode::parse_native("5118").unwrap()
}

/// A valid ID number born on 1980-01-01.
fn id_number(seq: u32) -> String {
    let first = format!("51180219800101{seq:03}");
    let c = IdNumber::check_char(first.as_bytes()).unwrap();
    format!("{first}{}", c as char)
}

/// The demo city (registry, cases with notices on the boards, a paid and reconciled payroll
/// month, deaths with recoveries), seeded through `app`, whose writes go to the primary.
async fn seed(app: &App) {
    app.demo().ensure().await.expect("seed demo");
    app.demo().registry(3000, 2026).await.unwrap();
    assert!(app.demo().cases(today()).await.unwrap() > 0);
    assert!(app.demo().payroll_enrolments().await.unwrap() > 0);
    let last = YearMonth::of(today()).prev();
    assert!(app.demo().payroll_history(last).await.unwrap() > 0);
    app.demo().deaths(last, today()).await.unwrap();
}

/// What the reads routed to the replica answer, as comparable text.
#[derive(Debug, PartialEq)]
struct Reads {
    searched: usize,
    listed: i64,
    dashboard: String,
    public_board: usize,
    ledger: String,
    statistics: String,
}

async fn reads(app: &App) -> Reads {
    let sys = Actor::system("t");
    let searched = app.registry().search(&sys, NAME, 20).await.unwrap().len();
    let listed = app
        .registry()
        .page(
            &sys,
            &HouseholdFilter {
                q: Some(NAME.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .total;
    let dashboard = serde_json::to_string(&app.dashboard().counts(&sys).await.unwrap()).unwrap();
    let public_board = app.notices().public(&city(), today()).await.unwrap().len();
    let ledger = format!(
        "{:?}",
        app.payroll()
            .ledger(&sys, &LedgerFilter::default())
            .await
            .unwrap()
    );
    let statistics = format!(
        "{:?} {:?} {:?} {:?} {:?} {:?}",
        app.cases().counts(&sys).await.unwrap(),
        app.cases().due(&sys, today()).await.unwrap().len(),
        app.payroll()
            .overview(&sys, YearMonth::of(today()).prev())
            .await
            .unwrap(),
        app.checks().counts(&sys).await.unwrap(),
        app.dashboard().recoveries(&sys).await.unwrap(),
        app.divisions().stats(&sys).await.unwrap(),
    );
    Reads {
        searched,
        listed,
        dashboard,
        public_board,
        ledger,
        statistics,
    }
}

/// Whether the registry export (read where exports are read, audited on the primary)
/// holds the household made by the test.
async fn exported(app: &App) -> bool {
    let (rows, _) = app
        .registry()
        .export(&Actor::system("t"), Some("511802"))
        .await
        .unwrap();
    rows.iter().any(|r| r.iter().any(|c| c == NAME))
}

/// A case of the demo awaiting its notice, its village, and a clerk of its township.
async fn case_to_publish(app: &App) -> (i64, String, Actor) {
    let (cases, _) = app
        .cases()
        .list(
            &Actor::system("t"),
            &CaseFilter {
                state: Some("prelim_opinion".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let c = cases.first().expect("a demo case awaits its notice");
    let clerk = Actor {
        user_id: None,
        username: "replica-test".into(),
        role: Some(Role::TownshipStaff),
        scope: Scope::of(DivisionCode::parse_native(&c.township_code).unwrap()),
    };
    (c.id, c.village_code.clone(), clerk)
}

#[minzheng_test_services::needs_replica]
#[tokio::test]
async fn lagging_reads_come_from_the_replica_and_writes_go_to_the_primary() {
    let _one = REPLICA.lock().await;
    let db = TestDb::postgres().await;
    let app = db
        .with_replica()
        .await
        .expect("a PostgreSQL database has a replica");
    assert!(app.has_read_replica());
    assert_eq!(app.read_replica_in_recovery().await.unwrap(), Some(true));
    // `db.app` is the same primary without a replica: every read there is the primary's.
    let primary = &db.app;
    seed(&app).await;
    wait_for_replica(&app).await;
    let before = reads(&app).await;
    assert_eq!(before, reads(primary).await, "caught up: the same answers");
    assert_eq!((before.searched, before.listed), (0, 0));
    let sys = Actor::system("t");
    let (case_id, board, publisher) = case_to_publish(primary).await;

    pause_replica(&app).await;
    // Writes through the application with a replica succeed: they go to the primary.
    let created = app
        .registry()
        .create(
            &sys,
            &NewHousehold {
                head_health: "健康".into(),
                head_work_capacity: "有劳动能力".into(),
                village_code: VILLAGE.into(),
                registration_type: "农村".into(),
                address: "和平路9号".into(),
                phone: "13800000009".into(),
                bank_name: "中国农业银行".into(),
                account_number: "6228480000000000009".into(),
                account_holder: NAME.into(),
                head_name: NAME.into(),
                head_id_number: id_number(11),
            },
        )
        .await;
    let published = app
        .notices()
        .publish(&publisher, &board, &[case_id], today())
        .await;
    let workbook = app
        .payroll()
        .ledger_workbook(&sys, &LedgerFilter::default())
        .await;
    // The page a clerk lands on after saving reads the primary: the household is there.
    let shown = match &created {
        Ok(d) => app.registry().get(&sys, d.household.id).await.ok(),
        Err(_) => None,
    };
    let staff_boards = app.notices().list(&publisher).await.map(|b| b.len());
    let paused = reads(&app).await;
    let on_primary = reads(primary).await;
    let exported_paused = exported(&app).await;
    let exported_primary = exported(primary).await;
    resume_replica(&app).await;

    let created = created.expect("a write through the application with a replica");
    published.expect("a notice published through the application with a replica");
    assert!(workbook
        .expect("the funds ledger workbook")
        .bytes
        .starts_with(b"PK"));
    assert_eq!(shown.map(|d| d.household.head_name), Some(NAME.to_string()));
    assert!(
        staff_boards.unwrap() > 0,
        "the staff's boards read the primary"
    );
    // Meanwhile the replica answered as before every change: those reads are the replica's.
    assert_eq!(paused, before, "searches, lists, statistics, boards");
    assert!(!exported_paused && exported_primary, "the export");
    assert_eq!((on_primary.searched, on_primary.listed), (1, 1));
    assert_eq!(on_primary.public_board, before.public_board + 1);
    assert_ne!(on_primary.dashboard, before.dashboard);
    // Caught up, the replica answers as the primary does.
    let after = reads(&app).await;
    assert_eq!(after, reads(primary).await);
    assert_eq!((after.searched, after.listed), (1, 1));
    assert!(exported(&app).await);
    let found = app.registry().search(&sys, NAME, 20).await.unwrap();
    assert_eq!(found[0].household_id, created.household.id);
    // The other exports read the replica and audit on the primary.
    assert!(app
        .checks()
        .findings_workbook(&sys, &Default::default())
        .await
        .unwrap()
        .bytes
        .starts_with(b"PK"));
    assert!(app
        .standards()
        .export_xlsx(&sys, None, None, today())
        .await
        .unwrap()
        .starts_with(b"PK"));
    let audit = primary.audit().list(&sys, None, 3, 0).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["standards.export", "checks.export", "registry.export"],
        "every export audited on the primary"
    );
    assert!(primary
        .audit()
        .verify()
        .await
        .unwrap()
        .first_break
        .is_none());
    app.close().await;
    db.cleanup().await;
}

/// The replica is never written: its connections are read-only on the server (a write
/// past the store's own refusal is refused there), and a write transaction on it — which
/// migrations would need too — is refused before the server is asked.
#[minzheng_test_services::needs_replica]
#[tokio::test]
async fn the_replica_refuses_writes() {
    let _one = REPLICA.lock().await;
    let db = TestDb::postgres().await;
    let app = db
        .with_replica()
        .await
        .expect("a PostgreSQL database has a replica");
    let e = write_on_reader(&app).await.unwrap_err();
    assert!(
        e.detail().contains("read-only transaction"),
        "{}",
        e.detail()
    );
    let e = begin_write_on_reader(&app).await.unwrap_err();
    assert!(e.to_string().contains("只读副本不能写入"), "{e}");
    // The primary takes writes; the replica still answers reads.
    app.demo().ensure().await.expect("writes go to the primary");
    wait_for_replica(&app).await;
    let levels = app.divisions().stats(&Actor::system("t")).await.unwrap();
    assert!(levels.iter().any(|l| l.count > 0), "{levels:?}");
    // Without a replica, the reads fall back on the primary.
    assert!(!db.app.has_read_replica());
    assert_eq!(db.app.read_replica_in_recovery().await.unwrap(), None);
    app.close().await;
    db.cleanup().await;
}
