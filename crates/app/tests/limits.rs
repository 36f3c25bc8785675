//! Ledger imports of hostile files: every member of the zip-bomb family (one endless cell,
//! an endless shared string, endlessly many shared strings, endless nesting, endless rows,
//! a cell in the last column, a part that unpacks without end), an endless CSV line, a
//! file with endless problems, and Excel 97–2003 files whose cells span the sheet or whose
//! sectors chain in a circle. Each file also holds valid households; each is refused whole
//! with a Chinese message naming the limit, nothing is written, and its job ends `failed`.
//! An import that panics, or whose result the database refuses to store, also ends
//! `failed` with its reason. The files are made by `minzheng_app::testing::hostile`. SQLite
//! always, PostgreSQL when `MINZHENG_TEST_POSTGRES_URL` is set.

use chrono::Utc;
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::formats::ledger::ledger_csv;
use minzheng_app::formats::limits::InputLimits;
use minzheng_app::formats::synthetic::generate_ledger;
use minzheng_app::registry::import::{ImportInput, ImportOptions};
use minzheng_app::testing::{hostile, inject_import_fault, ImportFault, TestDb};
use minzheng_app::App;
use minzheng_domain::jobs::JobStatus;
use minzheng_domain::registry::HouseholdFilter;
use minzheng_domain::Actor;

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

both!(
    a_huge_cell_is_refused,
    a_huge_shared_string_is_refused,
    too_many_shared_strings_are_refused,
    deeply_nested_xml_is_refused,
    a_part_that_unpacks_without_end_is_refused,
    too_many_rows_and_a_far_column_are_refused,
    an_oversized_csv_line_is_refused,
    a_file_of_endless_problems_is_refused,
    xls_files_beyond_the_limits_are_refused,
    an_import_that_panics_ends_failed,
    a_result_the_database_refuses_still_ends_the_job,
);

const MIB: u64 = 1 << 20;

async fn seeded(db: &TestDb) -> &App {
    db.app.demo().ensure().await.expect("seed demo");
    &db.app
}

async fn staff(app: &App) -> Actor {
    app.users()
        .authenticate("staff", DEMO_PASSWORD, Utc::now())
        .await
        .unwrap()
        .expect("demo login works")
        .actor()
        .unwrap()
}

/// Three households that would import on their own.
fn valid() -> Vec<Vec<String>> {
    generate_ledger(3, 7, &["511802001001".to_string()])
}

fn is_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Imports `data` as the file `name` through a job (as the command line does) and checks
/// that it is refused whole: one file-wide problem containing every `expect`, nothing
/// written, the job `failed` with the same reason in its report. Returns the reason.
async fn refused(app: &App, name: &str, data: Vec<u8>, expect: &[&str]) -> String {
    let staff = staff(app).await;
    let (id, report) = app
        .jobs()
        .import(
            &staff,
            &ImportInput::Bytes {
                name: name.into(),
                data,
            },
            &ImportOptions::default(),
            &mut |_| {},
        )
        .await
        .expect("a refusal is a report, not an error");
    assert!(!report.written);
    assert_eq!(report.issues.len(), 1, "{:?}", report.issues);
    let reason = report.issues[0].reason.clone();
    assert!(is_chinese(&reason), "{reason}");
    for e in expect {
        assert!(reason.contains(e), "{e:?} not in {reason}");
    }
    let (_, households) = app
        .registry()
        .list(&staff, &HouseholdFilter::default())
        .await
        .unwrap();
    assert_eq!(households, 0, "nothing is written");
    let job = app.jobs().get(&staff, id).await.unwrap();
    assert_eq!(job.status, JobStatus::Failed, "{}", job.message);
    assert!(job.message.contains("未写入任何数据"), "{}", job.message);
    let stored = job.report.expect("the report is stored with the job");
    assert_eq!(stored.issues[0].reason, reason);
    reason
}

async fn a_huge_cell_is_refused(db: &TestDb) {
    let app = seeded(db).await;
    // 64 MB of one cell in a file of a few hundred KB.
    let bomb = hostile::huge_cell(&valid(), 64 * MIB);
    assert!(bomb.len() < MIB as usize);
    let cell = format!("单元格C{}", valid().len() + 2);
    refused(app, "台账.xlsx", bomb, &[&cell, "128KB", "max_cell_bytes"]).await;
    // The same in a sheet whose part is not named as XML.
    refused(
        app,
        "台账.xlsx",
        hostile::huge_cell_in_a_disguised_sheet(&valid(), 64 * MIB),
        &["xl/worksheets/data.bin", &cell, "max_cell_bytes"],
    )
    .await;
}

async fn a_huge_shared_string_is_refused(db: &TestDb) {
    let app = seeded(db).await;
    refused(
        app,
        "台账.xlsx",
        hostile::huge_shared_string(&valid(), 64 * MIB),
        &["sharedStrings.xml", "第1条共享字符串", "max_cell_bytes"],
    )
    .await;
}

async fn too_many_shared_strings_are_refused(db: &TestDb) {
    let app = seeded(db).await;
    let limit = InputLimits::default().max_shared_strings;
    refused(
        app,
        "台账.xlsx",
        hostile::many_shared_strings(&valid(), limit + 1),
        &["共享字符串", "2000000", "max_shared_strings"],
    )
    .await;
    // Many small strings that together pass the text limit: a lower count limit.
    let few = app.clone().with_limits(InputLimits {
        max_shared_strings: 1000,
        ..Default::default()
    });
    refused(
        &few,
        "台账.xlsx",
        hostile::many_shared_strings(&valid(), 1001),
        &["1000", "max_shared_strings"],
    )
    .await;
}

async fn deeply_nested_xml_is_refused(db: &TestDb) {
    let app = seeded(db).await;
    refused(
        app,
        "台账.xlsx",
        hostile::deep_xml(&valid(), 1_000_000),
        &["worksheets/sheet1.xml", "64层", "max_xml_depth"],
    )
    .await;
}

async fn a_part_that_unpacks_without_end_is_refused(db: &TestDb) {
    let app = seeded(db).await;
    // The same check as the 1 GB default, with a smaller limit to keep the test quick.
    let small = app.clone().with_limits(InputLimits {
        max_unpacked_bytes: 32 * MIB,
        ..Default::default()
    });
    refused(
        &small,
        "台账.xlsx",
        hostile::padded(&valid(), 48 * MIB),
        &["解压后", "32MB", "max_unpacked_bytes"],
    )
    .await;
    // Within the limit, the same workbook imports.
    let staff = staff(app).await;
    let r = small
        .registry()
        .import(
            &staff,
            &ImportInput::Bytes {
                name: "台账.xlsx".into(),
                data: hostile::padded(&valid(), 16 * MIB),
            },
            &ImportOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(r.written, "{:?}", r.issues);
}

async fn too_many_rows_and_a_far_column_are_refused(db: &TestDb) {
    let app = seeded(db).await;
    let rows = InputLimits::default().max_rows;
    refused(
        app,
        "台账.xlsx",
        hostile::many_rows(&valid(), rows),
        &["行数", "1048576", "max_rows"],
    )
    .await;
    let at = format!("第{}行第16384列", valid().len() + 2);
    refused(
        app,
        "台账.xlsx",
        hostile::far_column(&valid(), 10),
        &[&at, "256列", "max_columns"],
    )
    .await;
    // CSV rows count the same way.
    let few = app.clone().with_limits(InputLimits {
        max_rows: 3,
        ..Default::default()
    });
    refused(
        &few,
        "台账.csv",
        ledger_csv(&valid()).unwrap(),
        &["行数", "max_rows"],
    )
    .await;
}

async fn an_oversized_csv_line_is_refused(db: &TestDb) {
    let app = seeded(db).await;
    let at = format!("第{}行起", valid().len() + 2);
    refused(
        app,
        "台账.csv",
        hostile::long_csv_line(&valid(), 4 * MIB),
        &[&at, "256KB", "max_line_bytes"],
    )
    .await;
}

async fn a_file_of_endless_problems_is_refused(db: &TestDb) {
    let app = seeded(db).await;
    // Rows of nothing a ledger holds: each has several problems.
    let mut data = ledger_csv(&valid()).unwrap();
    for i in 0..40_000 {
        data.extend(format!("x{i},y,z,1,2,3\n").as_bytes());
    }
    refused(
        app,
        "台账.csv",
        data,
        &["已停止校验", "100000处", "max_issues"],
    )
    .await;
}

async fn xls_files_beyond_the_limits_are_refused(db: &TestDb) {
    let app = seeded(db).await;
    refused(
        app,
        "台账.xls",
        hostile::xls_far_corner(),
        &["整表读入", "max_cells"],
    )
    .await;
    refused(
        app,
        "台账.xls",
        hostile::xls_looping_directory(),
        &["扇区链首尾相连"],
    )
    .await;
    // A small one is read (and refused only for having no header).
    let staff = staff(app).await;
    let r = app
        .registry()
        .import(
            &staff,
            &ImportInput::Bytes {
                name: "台账.xls".into(),
                data: hostile::xls_small(),
            },
            &ImportOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(
        r.issues[0].reason.contains("没有找到表头"),
        "{:?}",
        r.issues
    );
}

async fn an_import_that_panics_ends_failed(db: &TestDb) {
    let app = seeded(db).await;
    let staff = staff(app).await;
    let name = "panic.csv";
    inject_import_fault(name, ImportFault::PanicWhileReading);
    let input = ImportInput::Bytes {
        name: name.into(),
        data: ledger_csv(&valid()).unwrap(),
    };
    // From the command line, and from the server's own task.
    let e = app
        .jobs()
        .import(&staff, &input, &ImportOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("导入过程异常中止"), "{e}");
    let e = app
        .jobs()
        .start_import(&staff, input, ImportOptions::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("导入过程异常中止"), "{e}");
    let jobs = app.jobs().list(&staff, 10).await.unwrap();
    let mine: Vec<_> = jobs.iter().filter(|j| j.file_name == name).collect();
    assert_eq!(mine.len(), 2);
    for job in mine {
        assert_eq!(job.status, JobStatus::Failed);
        assert!(job.message.contains("导入过程异常中止"), "{}", job.message);
    }
    let (_, households) = app
        .registry()
        .list(&staff, &HouseholdFilter::default())
        .await
        .unwrap();
    assert_eq!(households, 0);
}

async fn a_result_the_database_refuses_still_ends_the_job(db: &TestDb) {
    let app = seeded(db).await;
    let staff = staff(app).await;
    let name = "refused.csv".to_string();
    inject_import_fault(&name, ImportFault::ResultRefused);
    let (id, report) = app
        .jobs()
        .import(
            &staff,
            &ImportInput::Bytes {
                name,
                data: ledger_csv(&valid()).unwrap(),
            },
            &ImportOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
    // The import itself succeeded; its job says so, and why its report is missing.
    assert!(report.written);
    let job = app.jobs().get(&staff, id).await.unwrap();
    assert_eq!(job.status, JobStatus::Succeeded);
    assert!(
        job.message.contains("导入完成") && job.message.contains("导入报告未能保存"),
        "{}",
        job.message
    );
    assert!(job.report.is_none());
}
