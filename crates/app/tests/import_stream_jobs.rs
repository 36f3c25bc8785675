//! The streaming ledger import and its jobs: a file read from disk (UTF-8 across read-buffer
//! boundaries, GBK, xlsx) imports every field exactly (checked by exporting it back), a
//! re-import only updates, households split across the file stay one household, a bad
//! member leaves its household out under `valid_only`, and import jobs are recorded in the
//! `jobs` table (and marked failed when a restart cut them off); jobs started from the
//! command line are listed to the importers of their jurisdiction. SQLite always,
//! PostgreSQL when `MINZHENG_TEST_POSTGRES_URL` is set. No timings are asserted. (What a
//! large import leaves in SQLite — its indexes rebuilt, integrity — is checked in the
//! app's `registry_import` suite.)

use chrono::Utc;
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::formats::ledger::{ledger_csv, ledger_xlsx};
use minzheng_app::formats::synthetic::generate_ledger;
use minzheng_app::registry::import::{ImportInput, ImportOptions};
use minzheng_app::testing::TestDb;
use minzheng_app::App;
use minzheng_app::Error;
use minzheng_domain::jobs::{JobKind, JobStatus, JOB_INTERRUPTED};
use minzheng_domain::registry::{Column, ImportReport};
use minzheng_domain::Actor;
use minzheng_domain::{DivisionCode, Scope};

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

/// SQLite only: a large import builds the random-order indexes after its rows (the app's
/// `registry_import` suite checks what the rebuilt indexes and the rows look like).
#[tokio::test]
async fn large_sqlite_import_rebuilds_its_indexes() {
    let db = TestDb::sqlite().await;
    let app = seeded(&db).await;
    let staff = actor_of(app, "staff").await;
    // Over 50,000 new persons into an empty table: the deferred path.
    let rows = ledger(16_000, 8);
    assert!(rows.len() > 50_000);
    let mut phases = Vec::new();
    let r = db
        .app
        .registry()
        .import(
            &staff,
            &ImportInput::Bytes {
                name: "big.csv".into(),
                data: ledger_csv(&rows).unwrap(),
            },
            &ImportOptions::default(),
            &mut |p| {
                if phases.last() != Some(&p.phase) {
                    phases.push(p.phase)
                }
            },
        )
        .await
        .unwrap();
    assert!(r.written, "{:?}", &r.issues[..r.issues.len().min(3)]);
    assert_eq!(phases, ["校验", "核对", "写入", "建立索引"]);
    assert_eq!(r.persons_created, rows.len());
    // Searches use them; a re-import finds every person again.
    let id = &rows[777][col(Column::IdNumber)];
    assert_eq!(
        db.app.registry().search(&staff, id, 5).await.unwrap().len(),
        1
    );
    let r = db
        .app
        .registry()
        .import(
            &staff,
            &ImportInput::Bytes {
                name: "part.csv".into(),
                data: ledger_csv(&rows[..3000]).unwrap(),
            },
            &ImportOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!((r.persons_created, r.persons_updated), (0, 3000));
    db.cleanup().await;
}

both!(
    streamed_files_import_every_field_and_reimport_only_updates,
    valid_only_leaves_out_a_household_with_a_bad_member,
    import_jobs_are_recorded_in_the_jobs_table,
    command_line_jobs_are_listed_to_the_importers_of_their_scope,
);

const VILLAGE: &str = "511802001001";
const VILLAGE2: &str = "511802001002";

async fn seeded(db: &TestDb) -> &App {
    db.app.demo().ensure().await.expect("seed demo");
    &db.app
}

async fn actor_of(app: &App, username: &str) -> Actor {
    app.users()
        .authenticate(username, DEMO_PASSWORD, Utc::now())
        .await
        .unwrap()
        .expect("demo login works")
        .actor()
        .unwrap()
}

fn col(c: Column) -> usize {
    Column::ALL.iter().position(|x| *x == c).unwrap()
}

fn ledger(n: usize, seed: u64) -> Vec<Vec<String>> {
    generate_ledger(n, seed, &[VILLAGE.to_string(), VILLAGE2.to_string()])
}

fn sorted(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.sort_by(|a, b| a[col(Column::IdNumber)].cmp(&b[col(Column::IdNumber)]));
    rows
}

async fn import_path(db: &TestDb, actor: &Actor, path: &std::path::Path) -> ImportReport {
    db.app
        .registry()
        .import(
            actor,
            &ImportInput::Path(path.to_path_buf()),
            &ImportOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap()
}

async fn streamed_files_import_every_field_and_reimport_only_updates(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    // 2,000 households: the CSV is larger than the 1 MB read buffer, so multi-byte
    // characters straddle buffer boundaries while the encoding is detected.
    let rows = ledger(2000, 21);
    // Members before their heads and households interleaved: rows ordered by ID number.
    let shuffled = sorted(rows.clone());
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("台账.csv");
    let utf8 = ledger_csv(&shuffled).unwrap()[3..].to_vec(); // without the BOM
    assert!(utf8.len() > 1 << 20, "{} bytes", utf8.len());
    std::fs::write(&csv, &utf8).unwrap();
    let r = import_path(db, &staff, &csv).await;
    assert!(
        r.issues.is_empty(),
        "{:?}",
        &r.issues[..r.issues.len().min(5)]
    );
    assert!(r.written);
    assert_eq!(r.encoding.as_deref(), Some("UTF-8"));
    assert_eq!(r.rows_read, rows.len());
    assert_eq!(r.households_created, 2000);
    assert_eq!(r.persons_created, rows.len());
    // Every field comes back out exactly as it went in.
    let (exported, households) = db.app.registry().export(&staff, None).await.unwrap();
    assert_eq!(households, 2000);
    assert_eq!(sorted(exported.clone()), shuffled);

    // The same ledger as GBK from disk, then as xlsx: updates only, nothing duplicated.
    let gbk = dir.path().join("台账-gbk.csv");
    let text = String::from_utf8(utf8).unwrap();
    std::fs::write(&gbk, encoding_rs::GBK.encode(&text).0).unwrap();
    let r = import_path(db, &staff, &gbk).await;
    assert!(
        r.issues.is_empty(),
        "{:?}",
        &r.issues[..r.issues.len().min(5)]
    );
    assert_eq!(r.encoding.as_deref(), Some("GBK/GB18030"));
    assert_eq!((r.households_created, r.persons_created), (0, 0));
    assert_eq!(r.households_updated, 2000);
    assert_eq!(r.persons_updated, rows.len());
    assert_eq!(r.persons_moved, 0);
    let xlsx = dir.path().join("台账.xlsx");
    std::fs::write(&xlsx, ledger_xlsx(&rows[..600]).unwrap()).unwrap();
    let r = import_path(db, &staff, &xlsx).await;
    assert!(
        r.issues.is_empty(),
        "{:?}",
        &r.issues[..r.issues.len().min(5)]
    );
    assert_eq!(r.sheet.as_deref(), Some("家庭成员"));
    assert_eq!((r.persons_created, r.persons_updated), (0, 600));
    let (again, households) = db.app.registry().export(&staff, None).await.unwrap();
    assert_eq!(households, 2000);
    assert_eq!(sorted(again), shuffled, "re-imports changed nothing");

    // A child moved to another household (whose head is older) in the file: one move.
    let mut moved = rows[..600].to_vec();
    let birth = |id: &str| id[6..14].to_string();
    let (k, target) = moved
        .iter()
        .enumerate()
        .filter(|(_, r)| r[col(Column::Relation)] == "子女")
        .find_map(|(k, child)| {
            moved
                .iter()
                .find(|h| {
                    h[col(Column::Relation)] == "户主"
                        && h[col(Column::HeadId)] != child[col(Column::HeadId)]
                        && birth(&h[col(Column::IdNumber)]) < birth(&child[col(Column::IdNumber)])
                })
                .map(|h| (k, h.clone()))
        })
        .expect("a child and an older head elsewhere");
    let target_head = target[col(Column::HeadId)].clone();
    moved[k][col(Column::HeadId)] = target_head.clone();
    moved[k][col(Column::Village)] = target[col(Column::Village)].clone();
    let r = db
        .app
        .registry()
        .import(
            &staff,
            &ImportInput::Bytes {
                name: "moved.csv".into(),
                data: ledger_csv(&moved).unwrap(),
            },
            &ImportOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(r.issues.is_empty(), "{:?}", r.issues);
    assert_eq!((r.persons_moved, r.persons_created), (1, 0));
    let id = &moved[k][col(Column::IdNumber)];
    let p = &db.app.registry().search(&staff, id, 5).await.unwrap()[0];
    let d = db.app.registry().get(&staff, p.household_id).await.unwrap();
    assert_eq!(d.household.head_id_number, target_head);
    let audit = app.audit().verify().await.unwrap();
    assert!(audit.first_break.is_none(), "{:?}", audit.first_break);
    let imports = app
        .audit()
        .list(&Actor::system("t"), None, 100, 0)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "registry.import")
        .count();
    assert_eq!(imports, 4, "one audit record per import");
}

async fn valid_only_leaves_out_a_household_with_a_bad_member(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let mut rows = ledger(8, 5);
    // A member (not the head) with a broken ID number.
    let k = rows
        .iter()
        .position(|r| r[col(Column::Relation)] != "户主")
        .expect("a member");
    let bad_head = rows[k][col(Column::HeadId)].clone();
    let members = rows
        .iter()
        .filter(|r| r[col(Column::HeadId)] == bad_head)
        .count();
    rows[k][col(Column::IdNumber)] = "511802197001010000".into();
    let r = db
        .app
        .registry()
        .import(
            &staff,
            &ImportInput::Bytes {
                name: "x.csv".into(),
                data: ledger_csv(&rows).unwrap(),
            },
            &ImportOptions {
                valid_only: true,
                ..Default::default()
            },
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(r.written);
    assert_eq!(r.households_created, 7, "{:?}", r.issues);
    assert!(r
        .issues
        .iter()
        .any(|i| i.row == k + 2 && i.reason.contains("校验码")));
    assert_eq!(
        r.issues
            .iter()
            .filter(|i| i.reason.contains("整户未导入"))
            .count(),
        members - 1
    );
    assert!(db
        .app
        .registry()
        .search(&staff, &bad_head, 5)
        .await
        .unwrap()
        .is_empty());
}

async fn import_jobs_are_recorded_in_the_jobs_table(db: &TestDb) {
    let app = seeded(db).await;
    let jobs = db.app.jobs();
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    let rows = ledger(20, 6);
    let id = jobs
        .start(&staff, JobKind::RegistryImport, "台账.csv")
        .await
        .unwrap();
    let job = jobs.get(&staff, id).await.unwrap();
    assert_eq!(job.status, JobStatus::Running);
    assert_eq!(job.file_name, "台账.csv");
    // Only the user who started a job sees it.
    assert!(matches!(
        jobs.get(&director, id).await,
        Err(Error::NotFound(_))
    ));
    let mut seen = 0;
    let r = jobs
        .run_import(
            &staff,
            id,
            &ImportInput::Bytes {
                name: "台账.csv".into(),
                data: ledger_csv(&rows).unwrap(),
            },
            &ImportOptions::default(),
            &mut |_| seen += 1,
        )
        .await
        .unwrap();
    assert!(r.written && seen > 0);
    let job = jobs.get(&staff, id).await.unwrap();
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(
        (job.done, job.total),
        (rows.len() as u64, rows.len() as u64)
    );
    assert!(job.message.contains("导入完成"), "{}", job.message);
    let report = job.report.clone().expect("the report is stored");
    assert_eq!(report.persons_created, rows.len());
    assert_eq!(report.households_created, 20);

    // A refused file: the job fails, with the report of what is wrong.
    let mut bad = rows.clone();
    bad[0][col(Column::Name)] = String::new();
    let id2 = jobs
        .start(&staff, JobKind::RegistryImport, "bad.csv")
        .await
        .unwrap();
    let r = jobs
        .run_import(
            &staff,
            id2,
            &ImportInput::Bytes {
                name: "bad.csv".into(),
                data: ledger_csv(&bad).unwrap(),
            },
            &ImportOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(!r.written);
    let job = jobs.get(&staff, id2).await.unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.issues_total, r.issues.len());
    assert!(job.issues_total >= 1);
    assert_eq!(job.total, rows.len() as u64);
    assert!(job.report.is_some() && job.error.is_none());

    // An import that cannot run at all (a read-only role): the job fails with the reason.
    let auditor = actor_of(app, "auditor").await;
    let id4 = jobs
        .start(&auditor, JobKind::RegistryImport, "只读.csv")
        .await
        .unwrap();
    let err = jobs
        .run_import(
            &auditor,
            id4,
            &ImportInput::Bytes {
                name: "只读.csv".into(),
                data: ledger_csv(&rows).unwrap(),
            },
            &ImportOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)));
    let job = jobs.get(&auditor, id4).await.unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert!(job.report.is_none());
    assert!(
        job.error.as_deref().is_some_and(|e| e.contains("只能查看")),
        "{:?}",
        job.error
    );

    // A job still running when the server starts again was cut off.
    let id3 = jobs
        .start(&staff, JobKind::RegistryImport, "big.csv")
        .await
        .unwrap();
    assert!(jobs.record_progress(id3, 5000, 20000).await.unwrap());
    let job = jobs.get(&staff, id3).await.unwrap();
    assert_eq!((job.done, job.total), (5000, 20000));
    assert_eq!(jobs.fail_interrupted().await.unwrap(), 1);
    let job = jobs.get(&staff, id3).await.unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.message, JOB_INTERRUPTED);
    assert_eq!(job.error.as_deref(), Some(JOB_INTERRUPTED));
    // Finished jobs are left alone; the list is newest first.
    let list = jobs.list(&staff, 10).await.unwrap();
    assert_eq!(
        list.iter()
            .map(|j| (j.id, j.status.as_str()))
            .collect::<Vec<_>>(),
        vec![(id3, "failed"), (id2, "failed"), (id, "succeeded")]
    );
    assert!(jobs.list(&director, 10).await.unwrap().is_empty());
}

/// An import from the command line is a job too: the importers whose jurisdiction contains
/// its scope see it (ID numbers in its report masked for roles that may not see them in
/// full); others do not.
async fn command_line_jobs_are_listed_to_the_importers_of_their_scope(db: &TestDb) {
    let app = seeded(db).await;
    let jobs = db.app.jobs();
    let cli = Actor {
        scope: Scope::of(DivisionCode::parse_native(VILLAGE).unwrap()),
        ..Actor::system("cli")
    };
    let mut rows = generate_ledger(4, 9, &[VILLAGE.to_string()]);
    rows.push(rows[1].clone());
    let dup = rows[1][col(Column::IdNumber)].clone();
    let (id, r) = jobs
        .import(
            &cli,
            &ImportInput::Bytes {
                name: "命令行.csv".into(),
                data: ledger_csv(&rows).unwrap(),
            },
            &ImportOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(!r.written && r.issues.iter().any(|i| i.value == dup));
    let seen = |list: Vec<minzheng_domain::jobs::JobState>| list.into_iter().find(|j| j.id == id);
    // The township's staff (who may see ID numbers): listed, in full.
    let staff = actor_of(app, "staff").await;
    let job = seen(jobs.list(&staff, 10).await.unwrap()).expect("staff sees the job");
    assert_eq!(job.owner, minzheng_domain::jobs::COMMAND_LINE);
    assert_eq!(job.status, JobStatus::Failed);
    let report = job.report.expect("report");
    assert!(report.issues.iter().any(|i| i.value == dup));
    // The village assistant (who may import but sees ID numbers masked): masked.
    let assistant = actor_of(app, "assistant").await;
    let job = jobs.get(&assistant, id).await.unwrap();
    let report = job.report.expect("report");
    assert!(report.issues.iter().all(|i| i.value != dup));
    assert!(report
        .issues
        .iter()
        .any(|i| i.value == format!("{}********{}", &dup[..6], &dup[14..])));
    // Another township's staff and the auditor (who may not import): not listed.
    for other in ["staff2", "auditor"] {
        let a = actor_of(app, other).await;
        assert!(seen(jobs.list(&a, 10).await.unwrap()).is_none(), "{other}");
        assert!(matches!(jobs.get(&a, id).await, Err(Error::NotFound(_))));
    }
    // The command line lists every job.
    assert!(seen(jobs.list(&Actor::system("cli"), 10).await.unwrap()).is_some());
}
