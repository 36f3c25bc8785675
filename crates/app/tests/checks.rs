//! The cross-checks (数据比对) through the app: each check finds the case it must and leaves
//! its look-alike alone; a re-run raises nothing twice; a finding the data no longer shows
//! closes itself; verdicts are kept (a dismissed finding is not raised again); another
//! township neither sees nor closes what is not its own. Every case runs on SQLite, and on
//! PostgreSQL when `MINZHENG_TEST_POSTGRES_URL` is set.

use chrono::NaiveDate;
use minzheng_app::testing::payroll::{self as fixtures, EnrolmentChange, FixtureEnrolment};
use minzheng_app::testing::TestDb;
use minzheng_app::{App, Error};
use minzheng_domain::checks::{CheckKind, Finding, FindingFilter, FindingState, Verdict};
use minzheng_domain::funerals::NewDeath;
use minzheng_domain::payroll::{EnrolmentStatus, GenerateRequest};
use minzheng_domain::{Actor, Program, YearMonth};

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
    each_check_finds_its_case_and_not_the_look_alike,
    reruns_raise_nothing_twice_and_findings_close_themselves,
    verdicts_are_kept_and_jurisdiction_holds,
    lists_declarations_and_birth_dates_raise_findings,
    birth_dates_are_read_every_way_they_can_be_implausible,
    a_reissue_paid_after_the_death_is_found,
);

const V1: &str = "511802001001";
const XICHENG_V: &str = "511802002001";

/// Valid ID numbers (check digits computed), born 1950.
const A: &str = "511802195001010017";
const B: &str = "511802195001010025";
const C: &str = "511802195001010033";
const D: &str = "511802195001010041";
const E: &str = "51180219500101005X";
const F: &str = "511802195001010068";
const G: &str = "511802195001010076";
const H: &str = "511802195001010084";
const I: &str = "511802195001010092";
/// The check digit of this one is wrong (…0105 is right).
const BAD_ID: &str = "511802195001010100";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
}

async fn seeded(db: &TestDb) -> &App {
    db.app.demo().ensure().await.expect("seed demo");
    &db.app
}

async fn actor_of(app: &App, username: &str) -> Actor {
    fixtures::actor(app, username).await.expect("demo login")
}

fn fixture(program: Program, village: &str, name: &str, id: &str) -> FixtureEnrolment {
    FixtureEnrolment::new(program, village, name, id, 80_000, "2026-01")
}

async fn enrol(app: &App, e: FixtureEnrolment) -> i64 {
    fixtures::enrol(app, &e).await.unwrap()
}

/// Generates, signs off and exports every program's batch of `m` in 东城街道.
async fn pay(app: &App, m: &str) {
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    let out = app
        .payroll()
        .generate(
            &staff,
            &GenerateRequest {
                month: YearMonth::parse(m).unwrap(),
                program: None,
                within: None,
            },
        )
        .await
        .unwrap();
    for b in out.created {
        app.payroll().sign_off(&director, b.id, None).await.unwrap();
        app.bank_files()
            .export(&staff, b.id, "utf8-csv")
            .await
            .unwrap();
    }
}

/// A death recorded for someone the registry does not hold (a list from another
/// department): nothing is stopped by it, so the checks must see it.
async fn died(app: &App, id: &str, name: &str, date: &str) {
    let staff = actor_of(app, "staff").await;
    app.funerals()
        .record(
            &staff,
            &NewDeath {
                id_number: id.into(),
                name: name.into(),
                death_date: date.into(),
                certificate_kind: "police".into(),
                certificate_no: format!("P-{id}"),
                ..NewDeath::default()
            },
            today(),
        )
        .await
        .unwrap();
}

async fn all_findings(app: &App, actor: &Actor) -> Vec<Finding> {
    app.checks()
        .findings(
            actor,
            &FindingFilter {
                state: None,
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .0
}

fn of(findings: &[Finding], kind: CheckKind) -> Vec<String> {
    let mut v: Vec<String> = findings
        .iter()
        .filter(|f| f.kind == kind && f.state.under_way())
        .map(|f| f.name.clone())
        .collect();
    v.sort();
    v
}

/// The situation every test starts from.
async fn situation(app: &App) {
    // 甲 died in September, still enrolled, paid October and November.
    enrol(app, fixture(Program::Tekun, V1, "甲", A)).await;
    // 乙 died on 20 November: November is paid in full (not after the death), but the
    // enrolment is still live.
    enrol(app, fixture(Program::Tekun, V1, "乙", B)).await;
    // 丙 died on 20 November and his enrolment ended with November: nothing to find.
    let c = enrol(app, fixture(Program::Tekun, V1, "丙", C)).await;
    fixtures::change_enrolment(
        app,
        c,
        &EnrolmentChange {
            status: Some(EnrolmentStatus::Ended),
            end_month: Some(YearMonth::parse("2026-11").unwrap()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // 丁: 特困 in 东城 and again in 西城.
    enrol(app, fixture(Program::Tekun, V1, "丁", D)).await;
    enrol(app, fixture(Program::Tekun, XICHENG_V, "丁", D)).await;
    // 戊: 特困 and 高龄津贴 — two programs that go together.
    enrol(app, fixture(Program::Tekun, V1, "戊", E)).await;
    enrol(app, fixture(Program::OldAgeAllowance, V1, "戊", E)).await;
    // 己: 农村低保 and 特困 — two that exclude each other.
    enrol(app, fixture(Program::RuralDibao, V1, "己", F)).await;
    enrol(app, fixture(Program::Tekun, V1, "己", F)).await;
    // 庚 and 辛 are paid into one account; 壬 into their own.
    let mut g = fixture(Program::RuralDibao, V1, "庚", G);
    g.account_number = "6228481111222233334".into();
    enrol(app, g).await;
    let mut h = fixture(Program::RuralDibao, V1, "辛", H);
    h.account_number = "6228481111222233334".into();
    enrol(app, h).await;
    // 壬's review was due in October; 甲's others are not planned.
    let mut i = fixture(Program::RuralDibao, V1, "壬", I);
    i.next_review_on = NaiveDate::from_ymd_opt(2026, 10, 1);
    enrol(app, i).await;
    // A review due next year is not overdue.
    let mut later = fixture(Program::OldAgeAllowance, V1, "甲", A);
    later.next_review_on = NaiveDate::from_ymd_opt(2027, 3, 1);
    enrol(app, later).await;
    // 癸's ID number fails its check digit.
    enrol(app, fixture(Program::OldAgeAllowance, V1, "癸", BAD_ID)).await;

    pay(app, "2026-10").await;
    pay(app, "2026-11").await;
    died(app, A, "甲", "2026-09-15").await;
    died(app, B, "乙", "2026-11-20").await;
    died(app, C, "丙", "2026-11-20").await;
}

async fn each_check_finds_its_case_and_not_the_look_alike(db: &TestDb) {
    let app = seeded(db).await;
    situation(app).await;
    let staff = actor_of(app, "staff").await;
    let report = app.checks().run(&staff, today()).await.unwrap();
    assert!(report.found() > 0);
    let found = all_findings(app, &staff).await;
    // 甲's two 特困 months and two 高龄津贴 months after September; none of 乙's or 丙's.
    let paid = of(&found, CheckKind::PaidAfterDeath);
    assert_eq!(paid, ["甲", "甲", "甲", "甲"], "{found:#?}");
    assert_eq!(
        of(&found, CheckKind::EnrolledAfterDeath),
        ["乙", "甲", "甲"]
    );
    // 丁 is the township's own in 东城 (the first enrolment); 戊 is not a duplicate.
    assert_eq!(of(&found, CheckKind::DuplicateEnrolment), ["丁"]);
    assert_eq!(of(&found, CheckKind::ExclusivePrograms), ["己"]);
    assert_eq!(of(&found, CheckKind::SharedAccount).len(), 1);
    assert_eq!(of(&found, CheckKind::ReviewOverdue), ["壬"]);
    assert_eq!(of(&found, CheckKind::InvalidIdNumber), ["癸"]);
    // The evidence reads as words.
    let f = found
        .iter()
        .find(|f| f.kind == CheckKind::PaidAfterDeath)
        .unwrap();
    let words = f.describe();
    assert!(words.contains("2026-09-15"), "{words}");
    assert!(words.contains("800.00"), "{words}");
    let shared = found
        .iter()
        .find(|f| f.kind == CheckKind::SharedAccount)
        .unwrap()
        .describe();
    assert!(shared.contains("2户") && shared.contains("庚"), "{shared}");
    // The dashboard's counts agree.
    let counts = app.checks().counts(&staff).await.unwrap();
    let open: i64 = counts.iter().map(|c| c.open).sum();
    assert_eq!(open as usize, found.len());
}

async fn reruns_raise_nothing_twice_and_findings_close_themselves(db: &TestDb) {
    let app = seeded(db).await;
    situation(app).await;
    let staff = actor_of(app, "staff").await;
    let first = app.checks().run(&staff, today()).await.unwrap();
    let again = app.checks().run(&staff, today()).await.unwrap();
    assert_eq!(again.found(), first.found());
    assert_eq!(again.new_findings(), 0);
    assert_eq!(all_findings(app, &staff).await.len() as i64, first.found());
    // 乙's enrolment ends with November: his finding closes itself on the next run.
    let b = app
        .cases()
        .enrolments(&staff, &Default::default())
        .await
        .unwrap()
        .0
        .into_iter()
        .find(|e| e.beneficiary_name == "乙")
        .unwrap();
    fixtures::change_enrolment(
        app,
        b.id,
        &EnrolmentChange {
            status: Some(EnrolmentStatus::Ended),
            end_month: Some(YearMonth::parse("2026-11").unwrap()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let third = app.checks().run(&staff, today()).await.unwrap();
    let closed: i64 = third.checks.iter().map(|c| c.closed).sum();
    assert_eq!(closed, 1);
    let found = all_findings(app, &staff).await;
    assert_eq!(of(&found, CheckKind::EnrolledAfterDeath), ["甲", "甲"]);
    let b_finding = found
        .iter()
        .find(|f| f.kind == CheckKind::EnrolledAfterDeath && f.name == "乙")
        .unwrap();
    assert_eq!(b_finding.state, FindingState::Closed);
}

async fn verdicts_are_kept_and_jurisdiction_holds(db: &TestDb) {
    let app = seeded(db).await;
    situation(app).await;
    let staff = actor_of(app, "staff").await;
    let staff2 = actor_of(app, "staff2").await;
    // 西城's clerk runs the checks for 西城: the duplicate's second enrolment is there, but
    // the finding belongs to 东城 (its first), so 西城 sees nothing of 东城's.
    app.checks().run(&staff2, today()).await.unwrap();
    let theirs = all_findings(app, &staff2).await;
    assert!(
        theirs.iter().all(|f| f.township_code == "511802002"),
        "{theirs:#?}"
    );
    assert!(of(&theirs, CheckKind::DuplicateEnrolment).is_empty());
    app.checks().run(&staff, today()).await.unwrap();
    let found = all_findings(app, &staff).await;
    let excl = found
        .iter()
        .find(|f| f.kind == CheckKind::ExclusivePrograms)
        .unwrap();
    // Not another township's, not without a note, not for the auditor.
    assert!(matches!(
        app.checks().finding(&staff2, excl.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        app.checks()
            .verdict(&staff, excl.id, Verdict::Dismiss, " ")
            .await,
        Err(Error::Validation { .. })
    ));
    let auditor = actor_of(app, "auditor").await;
    assert!(matches!(
        app.checks()
            .verdict(&auditor, excl.id, Verdict::Dismiss, "x")
            .await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        app.checks().run(&auditor, today()).await,
        Err(Error::Forbidden(_))
    ));
    // The auditor reads the worklist with ID numbers masked, on the page and in the workbook.
    let seen = all_findings(app, &auditor).await;
    assert!(seen
        .iter()
        .all(|f| f.id_number.is_empty() || f.id_number.contains('*')));
    let w = app
        .checks()
        .findings_workbook(&auditor, &FindingFilter::default())
        .await
        .unwrap();
    let cells = sheet(&w.bytes);
    assert_eq!(
        cells.len(),
        seen.len() + 1,
        "a header and a row per finding"
    );
    assert_eq!(cells[0][4], "身份证号码");
    for row in &cells[1..] {
        assert!(row[4].is_empty() || row[4].contains('*'), "{row:?}");
        assert!(!row[5].is_empty(), "the evidence in words: {row:?}");
    }
    let full = app
        .checks()
        .findings_workbook(&staff, &FindingFilter::default())
        .await
        .unwrap();
    assert!(
        sheet(&full.bytes)[1..].iter().any(|r| r[4] == F),
        "the clerk sees ID numbers in full"
    );
    // Dismissed: kept with its note, and not raised again.
    let f = app
        .checks()
        .verdict(
            &staff,
            excl.id,
            Verdict::Dismiss,
            "经核实，特困认定前已停发低保",
        )
        .await
        .unwrap();
    assert_eq!(f.state, FindingState::Dismissed);
    assert_eq!(f.resolved_by.as_deref(), Some("staff"));
    let rerun = app.checks().run(&staff, today()).await.unwrap();
    assert_eq!(rerun.new_findings(), 0);
    let excl_now: Vec<_> = all_findings(app, &staff)
        .await
        .into_iter()
        .filter(|f| f.kind == CheckKind::ExclusivePrograms)
        .collect();
    assert_eq!(excl_now.len(), 1);
    assert_eq!(excl_now[0].state, FindingState::Dismissed);
    // Confirmed, then handled.
    let dup = found
        .iter()
        .find(|f| f.kind == CheckKind::DuplicateEnrolment)
        .unwrap();
    app.checks()
        .verdict(&staff, dup.id, Verdict::Confirm, "西城重复在保")
        .await
        .unwrap();
    let done = app
        .checks()
        .verdict(&staff, dup.id, Verdict::Handle, "西城已停发")
        .await
        .unwrap();
    assert_eq!(done.state, FindingState::Handled);
    assert!(matches!(
        app.checks()
            .verdict(&staff, dup.id, Verdict::Confirm, "x")
            .await,
        Err(Error::Conflict(_))
    ));
    assert!(fixtures::audit_intact(app).await.unwrap());
}

/// The first worksheet's cells as text, row by row.
fn sheet(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("a workbook");
    let range = wb
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// Adds a member to the household of an enrolment.
async fn member(app: &App, enrolment: i64, name: &str, id: &str) {
    use minzheng_domain::registry::PersonInput;
    let hid = fixtures::household_of(app, enrolment).await.unwrap();
    app.registry()
        .add_member(
            &Actor::system("t"),
            hid,
            &PersonInput {
                health: "健康".into(),
                work_capacity: "有劳动能力".into(),
                name: name.into(),
                id_number: id.into(),
                relation: "配偶".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

/// Other departments' lists (one refused whole for an identity conflict), a cadre's
/// declared relative, and birth dates: each check finds its case and not the look-alike.
async fn lists_declarations_and_birth_dates_raise_findings(db: &TestDb) {
    use minzheng_domain::lists::ListKind;
    use minzheng_domain::relatives::NewDeclaration;
    let app = seeded(db).await;
    situation(app).await;
    let staff = actor_of(app, "staff").await;
    let admin = actor_of(app, "admin").await;
    let enrolments = app
        .cases()
        .enrolments(&staff, &Default::default())
        .await
        .unwrap()
        .0;
    let of_name = |n: &str| {
        enrolments
            .iter()
            .find(|e| e.beneficiary_name == n)
            .unwrap()
            .id
    };
    // 辛's wife 子 has a car and is a cadre's sister; 壬's mother 丑 is 86 and 寅 only 66.
    member(app, of_name("辛"), "子", "511802195501010013").await;
    member(app, of_name("壬"), "丑", "511802194001010012").await;
    member(app, of_name("壬"), "寅", "511802196001010011").await;
    // 辛's household now earns 10,000 元 a month for one member; 壬's 500 for two.
    for (who, amount) in [("辛", "10000"), ("壬", "500")] {
        let hid = fixtures::household_of(app, of_name(who)).await.unwrap();
        app.registry()
            .add_income(
                &Actor::system("t"),
                hid,
                &minzheng_domain::registry::IncomeInput {
                    kind: "工资性收入".into(),
                    amount: amount.into(),
                    period: "每月".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let on = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let vehicles = "身份证号码,姓名,登记日期,号牌号码及车型\n\
        511802195501010013,子,2026-05-01,川T12345 小型轿车\n\
        511802197001010016,卯,2026-05-02,川T54321 小型轿车\n";
    // A township clerk does not import other departments' lists.
    assert!(matches!(
        app.lists()
            .import(
                &staff,
                ListKind::Vehicle,
                on,
                "车辆.csv",
                vehicles.as_bytes(),
                today()
            )
            .await,
        Err(Error::Forbidden(_))
    ));
    // An ID number registered under another name refuses the whole list.
    let conflict = vehicles.replace(",子,", ",别人,");
    let e = app
        .lists()
        .import(
            &admin,
            ListKind::Vehicle,
            on,
            "车辆.csv",
            conflict.as_bytes(),
            today(),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("第2行") && e.to_string().contains("不一致"),
        "{e}"
    );
    assert!(app.lists().batches(&admin).await.unwrap().is_empty());
    let b = app
        .lists()
        .import(
            &admin,
            ListKind::Vehicle,
            on,
            "车辆.csv",
            vehicles.as_bytes(),
            today(),
        )
        .await
        .unwrap();
    assert_eq!(b.rows, 2);
    // The police report 壬 dead in September: October and November were paid.
    let deaths = "身份证号码,姓名,死亡日期,注销原因\n511802195001010092,壬,2026-09-10,死亡注销\n";
    app.lists()
        .import(
            &admin,
            ListKind::PoliceDeath,
            on,
            "公安.csv",
            deaths.as_bytes(),
            today(),
        )
        .await
        .unwrap();
    // The township's view of the city's lists.
    assert_eq!(app.lists().batches(&staff).await.unwrap().len(), 2);
    // A village cadre declares his sister 子.
    app.relatives()
        .declare(
            &staff,
            &NewDeclaration {
                declarant_name: "赵刚".into(),
                declarant_id_number: "511802196501010018".into(),
                post: "village_committee".into(),
                division_code: V1.into(),
                relative_name: "子".into(),
                relative_id_number: "511802195501010013".into(),
                relation: "sibling".into(),
                ..Default::default()
            },
            today(),
        )
        .await
        .unwrap();
    app.checks().run(&staff, today()).await.unwrap();
    let found = all_findings(app, &staff).await;
    assert_eq!(of(&found, CheckKind::ListMatch), ["子"], "{found:#?}");
    assert_eq!(of(&found, CheckKind::UnfiledRelative), ["子"]);
    assert_eq!(of(&found, CheckKind::IncomeAboveStandard), ["辛"]);
    let income = found
        .iter()
        .find(|f| f.kind == CheckKind::IncomeAboveStandard)
        .unwrap()
        .describe();
    assert!(
        income.contains("630.00") && income.contains("（1人）"),
        "{income}"
    );
    assert_eq!(
        of(&found, CheckKind::PaidAfterDeath)
            .iter()
            .filter(|n| *n == "壬")
            .count(),
        2
    );
    assert!(of(&found, CheckKind::EnrolledAfterDeath).contains(&"壬".to_string()));
    let old = of(&found, CheckKind::OldAgeNotEnrolled);
    assert!(
        old.contains(&"丑".to_string()) && !old.contains(&"寅".to_string()),
        "{old:?}"
    );
    // 戊, 甲 and 癸 draw 高龄津贴 at 76 (癸's wrong check digit is the other check's
    // finding; his birth date still reads); 乙's 特困 at 76 is no look-alike.
    assert_eq!(of(&found, CheckKind::ImplausibleBirth), ["戊", "甲", "癸"]);
    let words: Vec<String> = found
        .iter()
        .filter(|f| matches!(f.kind, CheckKind::ListMatch | CheckKind::UnfiledRelative))
        .map(|f| f.describe())
        .collect();
    assert!(
        words
            .iter()
            .any(|w| w.contains("车辆登记") && w.contains("川T12345")),
        "{words:?}"
    );
    assert!(
        words.iter().any(|w| w.contains("村委会成员赵刚的兄弟姐妹")),
        "{words:?}"
    );
    // The registry is untouched by the lists: 壬 is not marked dead, 子 keeps her name.
    assert!(fixtures::audit_intact(app).await.unwrap());
}

/// Each way a birth date can be implausible is found, with its reason, and its look-alike
/// is not: born after today, more than 120 years ago, after the month the enrolment began
/// (born within that month is no finding), too young for 高龄津贴.
async fn birth_dates_are_read_every_way_they_can_be_implausible(db: &TestDb) {
    let app = seeded(db).await;
    // Valid ID numbers (check digits computed); every enrolment began 2026-01.
    for (program, name, id) in [
        (Program::Tekun, "未来", "511802202703010110"),
        (Program::Tekun, "太老", "511802190205010112"),
        (Program::Tekun, "后生", "511802202605010117"),
        (Program::Tekun, "百岁", "511802190701010111"),
        (Program::Tekun, "年前", "511802202512310110"),
        (Program::Tekun, "当月", "511802202601150112"),
        (Program::OldAgeAllowance, "年轻", A),
        (Program::OldAgeAllowance, "高龄", "511802194001010012"),
    ] {
        enrol(app, fixture(program, V1, name, id)).await;
    }
    let staff = actor_of(app, "staff").await;
    app.checks()
        .run_only(&staff, &[CheckKind::ImplausibleBirth], today())
        .await
        .unwrap();
    let mut why: Vec<(String, String)> = all_findings(app, &staff)
        .await
        .into_iter()
        .filter(|f| f.kind == CheckKind::ImplausibleBirth)
        .map(|f| {
            (
                f.name.clone(),
                f.evidence["why"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    why.sort();
    let want = [
        ("后生", "born_after_start"),
        ("太老", "too_old"),
        ("年轻", "too_young"),
        ("未来", "future"),
    ];
    let mut want: Vec<(String, String)> = want
        .iter()
        .map(|(n, w)| (n.to_string(), w.to_string()))
        .collect();
    want.sort();
    assert_eq!(why, want);
}

/// A line re-issued after the death (the month's first payment failed and was sent again)
/// is paid after the death like any other.
async fn a_reissue_paid_after_the_death_is_found(db: &TestDb) {
    use minzheng_domain::payroll::{ExceptionCorrection, LineFilter, LineKind};
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    enrol(app, fixture(Program::Tekun, V1, "甲", A)).await;
    pay(app, "2026-11").await;
    let sys = Actor::system("t");
    let nov = app
        .payroll()
        .list(&sys, &Default::default())
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.month.to_string() == "2026-11")
        .unwrap();
    let line = app
        .payroll()
        .lines(&sys, nov.id, &LineFilter::default())
        .await
        .unwrap()
        .0[0]
        .clone();
    let file = format!(
        "明细号,姓名,金额(元),处理结果,失败原因,银行流水号\n{},甲,800.00,失败,账户冻结,T1\n",
        line.id
    );
    app.bank_files()
        .import_return(&staff, nov.id, "回盘.csv", file.as_bytes())
        .await
        .unwrap();
    let x = app.payroll().exceptions(&sys, Some("open")).await.unwrap()[0].clone();
    app.payroll()
        .correct_exception(
            &staff,
            x.id,
            &ExceptionCorrection {
                bank_name: "中国邮政储蓄银行".into(),
                account_number: "6210 9876 5432 1000".into(),
                account_holder: String::new(),
                note: "本人到所更换社保卡".into(),
            },
        )
        .await
        .unwrap();
    let dec = app
        .payroll()
        .generate(
            &staff,
            &GenerateRequest {
                month: YearMonth::parse("2026-12").unwrap(),
                program: None,
                within: None,
            },
        )
        .await
        .unwrap();
    for b in &dec.created {
        app.payroll().sign_off(&director, b.id, None).await.unwrap();
    }
    let reissue = app
        .payroll()
        .lines(&sys, dec.created[0].id, &LineFilter::default())
        .await
        .unwrap()
        .0
        .into_iter()
        .find(|l| l.kind == LineKind::Reissue)
        .expect("November re-issued in December");
    died(app, A, "甲", "2026-10-15").await;
    app.checks()
        .run_only(&staff, &[CheckKind::PaidAfterDeath], today())
        .await
        .unwrap();
    let mut keys: Vec<String> = all_findings(app, &staff)
        .await
        .into_iter()
        .filter(|f| f.kind == CheckKind::PaidAfterDeath)
        .map(|f| f.subject_key)
        .collect();
    keys.sort();
    // December's own line and November's re-issue; not November's failed first payment.
    let dec_line = app
        .payroll()
        .lines(&sys, dec.created[0].id, &LineFilter::default())
        .await
        .unwrap()
        .0
        .into_iter()
        .find(|l| l.kind == LineKind::Regular)
        .unwrap();
    let mut want = vec![
        format!("line:{}", reissue.id),
        format!("line:{}", dec_line.id),
    ];
    want.sort();
    assert_eq!(keys, want);
    assert!(!keys.contains(&format!("line:{}", line.id)));
}
