//! 统计月报 through the app: the figures of a small city built by hand equal the counts
//! made by hand; a locked month keeps its figures through later enrolments and sign-offs,
//! and reopening is audited and shows them; a township user sees their township only; the
//! consistency warnings fire when the ledgers disagree; the records behind a figure. Every
//! case runs on SQLite, and on PostgreSQL when `MINZHENG_TEST_POSTGRES_URL` is set.

use chrono::NaiveDate;
use minzheng_app::stats::MonthReport;
use minzheng_app::testing::payroll::{self as fixtures, FixtureEnrolment};
use minzheng_app::testing::TestDb;
use minzheng_app::{App, Error};
use minzheng_domain::payroll::{EnrolmentStatus, GenerateRequest, PaymentKind};
use minzheng_domain::registry::{NewHousehold, PersonInput};
use minzheng_domain::stats::{Records, StatItem};
use minzheng_domain::{Actor, IdNumber, Program, YearMonth};

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
    figures_equal_the_hand_counts,
    a_locked_month_keeps_its_figures_until_reopened,
    a_township_user_sees_their_township_only,
    warnings_fire_when_the_ledgers_disagree,
    back_pay_is_spent_but_not_the_months_own_payment,
    records_behind_a_figure,
);

const EAST_V1: &str = "511802001001";
const EAST_V2: &str = "511802001200";
const WEST_V: &str = "511802002001";

fn month() -> YearMonth {
    YearMonth::parse("2026-11").unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
}

/// An ID number born on `birth` (YYYYMMDD); an odd `seq` is a man, an even one a woman.
fn id(birth: &str, seq: u32) -> String {
    let first = format!("511802{birth}{seq:03}");
    let c = IdNumber::check_char(first.as_bytes()).unwrap();
    format!("{first}{}", c as char)
}

fn sys() -> Actor {
    Actor::system("t")
}

async fn household(
    app: &App,
    village: &str,
    name: &str,
    head: &str,
    urban: bool,
    work: &str,
) -> i64 {
    app.registry()
        .create(
            &sys(),
            &NewHousehold {
                head_health: "健康".into(),
                head_work_capacity: work.into(),
                village_code: village.into(),
                registration_type: if urban { "城镇" } else { "农村" }.into(),
                address: "和平路1号".into(),
                phone: "13800000000".into(),
                bank_name: "中国农业银行".into(),
                account_number: format!("6228{}", &head[6..18]),
                account_holder: name.into(),
                head_name: name.into(),
                head_id_number: head.into(),
            },
        )
        .await
        .expect("household")
        .household
        .id
}

async fn member(
    app: &App,
    household: i64,
    name: &str,
    id_number: &str,
    relation: &str,
    work: &str,
    disability: &str,
) {
    app.registry()
        .add_member(
            &sys(),
            household,
            &PersonInput {
                name: name.into(),
                id_number: id_number.into(),
                relation: relation.into(),
                health: "健康".into(),
                work_capacity: work.into(),
                disability_type: disability.into(),
                disability_grade: if disability.is_empty() { "" } else { "2" }.into(),
                ..Default::default()
            },
        )
        .await
        .expect("member");
}

fn enrolment(
    program: Program,
    village: &str,
    name: &str,
    id_number: &str,
    fen: i64,
    start: &str,
) -> FixtureEnrolment {
    FixtureEnrolment::new(program, village, name, id_number, fen, start)
}

/// The small city (雨城区: 东城街道 and 西城街道), November 2026:
///
/// | household | township | program | members |
/// |---|---|---|---|
/// | 张大山 | 东城 | 城市低保 since 2026-01, 600 元 | himself (1970, m), 王小兰 (1972, f, 肢体残疾), 张小宝 (2015, m, 无劳动能力) |
/// | 李桂英 | 东城 | 农村低保 from 2026-11 (new), 400 元 | herself (1950, f, 无劳动能力) |
/// | 赵铁柱 | 西城 | 农村低保 2026-03 … 2026-11 (stopped), 300 元 | himself (1980, m), 赵二柱 (1985, m, 部分丧失劳动能力) |
/// | 钱老汉 | 东城 | 高龄津贴, 86 years old, 100 元 | — |
/// | 孙奶奶 | 西城 | 高龄津贴, 101 years old, 500 元 | — |
/// | 周五保 | 东城 | 特困 集中供养, self-reliant, 900 元 | — |
/// | 吴急难 | 东城 | 临时救助 once in 2026-11, 800 元 | — |
/// | 郑看病 | 东城 | 医疗救助 once in 2026-10 (not this month) | — |
///
/// The month's payroll is generated; 东城's batches are signed off, 西城's stay drafts.
async fn build_city(db: &TestDb) -> &App {
    let app = &db.app;
    app.demo().ensure().await.expect("seed demo");
    let zhang = id("19700101", 11);
    let h1 = household(app, EAST_V1, "张大山", &zhang, true, "有劳动能力").await;
    member(
        app,
        h1,
        "王小兰",
        &id("19720202", 12),
        "配偶",
        "有劳动能力",
        "肢体残疾",
    )
    .await;
    member(
        app,
        h1,
        "张小宝",
        &id("20150303", 13),
        "子女",
        "无劳动能力",
        "",
    )
    .await;
    fixtures::enrol(
        app,
        &enrolment(
            Program::UrbanDibao,
            EAST_V1,
            "张大山",
            &zhang,
            60_000,
            "2026-01",
        ),
    )
    .await
    .unwrap();

    let li = id("19500505", 22);
    household(app, EAST_V2, "李桂英", &li, false, "无劳动能力").await;
    fixtures::enrol(
        app,
        &enrolment(
            Program::RuralDibao,
            EAST_V2,
            "李桂英",
            &li,
            40_000,
            "2026-11",
        ),
    )
    .await
    .unwrap();

    let zhao = id("19800808", 31);
    let h3 = household(app, WEST_V, "赵铁柱", &zhao, false, "有劳动能力").await;
    member(
        app,
        h3,
        "赵二柱",
        &id("19850909", 33),
        "兄弟姐妹",
        "部分丧失劳动能力",
        "",
    )
    .await;
    let mut stopped = enrolment(
        Program::RuralDibao,
        WEST_V,
        "赵铁柱",
        &zhao,
        30_000,
        "2026-03",
    );
    stopped.end_month = Some(month());
    stopped.status = EnrolmentStatus::Ended;
    fixtures::enrol(app, &stopped).await.unwrap();

    let qian = id("19400501", 41);
    fixtures::enrol(
        app,
        &enrolment(
            Program::OldAgeAllowance,
            EAST_V1,
            "钱老汉",
            &qian,
            10_000,
            "2026-01",
        ),
    )
    .await
    .unwrap();
    let sun = id("19250301", 52);
    fixtures::enrol(
        app,
        &enrolment(
            Program::OldAgeAllowance,
            WEST_V,
            "孙奶奶",
            &sun,
            50_000,
            "2026-01",
        ),
    )
    .await
    .unwrap();

    let zhou = id("19600606", 61);
    let tekun = fixtures::enrol(
        app,
        &enrolment(Program::Tekun, EAST_V1, "周五保", &zhou, 90_000, "2026-02"),
    )
    .await
    .unwrap();
    fixtures::attach_case_details(
        app,
        tekun,
        "TK-1",
        r#"{"support_mode":"centralized","assessment":{"eating":true,"dressing":true,"bed_transfer":true,"toileting":true,"indoor_walking":true,"bathing":true}}"#,
    )
    .await
    .unwrap();

    let wu = id("19900707", 71);
    let mut once = enrolment(
        Program::TemporaryAssistance,
        EAST_V2,
        "吴急难",
        &wu,
        80_000,
        "2026-11",
    );
    once.payment = PaymentKind::Once;
    fixtures::enrol(app, &once).await.unwrap();
    let zheng = id("19911010", 81);
    let mut earlier = enrolment(
        Program::MedicalAssistance,
        EAST_V2,
        "郑看病",
        &zheng,
        70_000,
        "2026-10",
    );
    earlier.payment = PaymentKind::Once;
    fixtures::enrol(app, &earlier).await.unwrap();

    let out = app
        .payroll()
        .generate(
            &sys(),
            &GenerateRequest {
                month: month(),
                program: None,
                within: None,
            },
        )
        .await
        .expect("generate");
    for b in out
        .created
        .iter()
        .filter(|b| b.township_code == "511802001")
    {
        app.payroll()
            .sign_off(&sys(), b.id, None)
            .await
            .expect("sign off");
    }
    app
}

async fn actor(app: &App, username: &str) -> Actor {
    fixtures::actor(app, username)
        .await
        .expect("demo login works")
}

fn values(r: &MonthReport, items: &[StatItem]) -> Vec<i64> {
    items.iter().map(|i| r.total(*i)).collect()
}

async fn figures_equal_the_hand_counts(db: &TestDb) {
    let app = build_city(db).await;
    let admin = actor(app, "admin").await;
    let r = app.stats().month(&admin, month(), None).await.unwrap();
    assert_eq!(r.scope_code, "5118");
    assert!(r.locked.is_none());
    use StatItem as I;
    // 城市低保: 张大山's household of three, paid 600 元 (signed off).
    assert_eq!(
        values(
            &r,
            &[
                I::UrbanHouseholds,
                I::UrbanPersons,
                I::UrbanNew,
                I::UrbanExited,
                I::UrbanFen
            ]
        ),
        vec![1, 3, 0, 0, 60_000]
    );
    // 农村低保: 李桂英 (new) and 赵铁柱's household of two (its last month); only 东城's
    // 400 元 is signed off.
    assert_eq!(
        values(
            &r,
            &[
                I::RuralHouseholds,
                I::RuralPersons,
                I::RuralNew,
                I::RuralExited,
                I::RuralFen
            ]
        ),
        vec![2, 3, 1, 1, 40_000]
    );
    assert_eq!(
        values(
            &r,
            &[
                I::TekunPersons,
                I::TekunCentralized,
                I::TekunDispersed,
                I::TekunSelfReliant,
                I::TekunPartial,
                I::TekunFull,
                I::TekunFen
            ]
        ),
        vec![1, 1, 0, 1, 0, 0, 90_000]
    );
    assert_eq!(
        values(
            &r,
            &[
                I::TemporaryTimes,
                I::TemporaryFen,
                I::MedicalTimes,
                I::MedicalFen,
                I::EducationTimes
            ]
        ),
        vec![1, 80_000, 0, 0, 0]
    );
    // 钱老汉 is 86, 孙奶奶 101; only 东城's 100 元 is signed off.
    assert_eq!(
        values(&r, &[I::OldAge80, I::OldAge90, I::OldAge100, I::OldAgeFen]),
        vec![1, 0, 1, 10_000]
    );
    // The six 低保 persons: 张小宝 is a minor, 李桂英 is 76; four men, two women; 王小兰
    // is disabled; 张小宝 and 李桂英 cannot work, 赵二柱 partly.
    assert_eq!(
        values(
            &r,
            &[
                I::CaseMinors,
                I::CaseAdults,
                I::CaseElderly,
                I::CaseMale,
                I::CaseFemale,
                I::CaseDisabled,
                I::CaseWorkFull,
                I::CaseWorkPartial,
                I::CaseWorkNone
            ]
        ),
        vec![1, 4, 1, 4, 2, 1, 3, 1, 2]
    );
    // The city's columns are its counties; 雨城区 holds everything.
    let yucheng = r.columns.iter().position(|c| c.code == "511802").unwrap();
    let row = r
        .rows
        .iter()
        .find(|x| x.item == I::RuralHouseholds)
        .unwrap();
    assert_eq!(row.values[yucheng], 2);
    assert_eq!(row.values.iter().sum::<i64>(), 2);

    // The county's columns are its townships.
    let county = app
        .stats()
        .month(&admin, month(), Some("511802"))
        .await
        .unwrap();
    let east = county
        .columns
        .iter()
        .position(|c| c.code == "511802001")
        .unwrap();
    let west = county
        .columns
        .iter()
        .position(|c| c.code == "511802002")
        .unwrap();
    let row = county
        .rows
        .iter()
        .find(|x| x.item == I::RuralPersons)
        .unwrap();
    assert_eq!((row.values[east], row.values[west]), (1, 2));

    // The workbook carries the same layout.
    let w = app
        .stats()
        .workbook(&admin, month(), Some("511802"))
        .await
        .unwrap();
    assert!(w.file_name.contains("雨城区统计月报"), "{}", w.file_name);
    assert!(w.bytes.starts_with(b"PK"));
}

async fn a_locked_month_keeps_its_figures_until_reopened(db: &TestDb) {
    let app = build_city(db).await;
    let admin = actor(app, "admin").await;
    let director = actor(app, "director").await;

    // Only the city administrator locks; not a month yet to come.
    assert!(matches!(
        app.stats().lock(&director, month(), today()).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        app.stats()
            .lock(&admin, YearMonth::parse("2027-01").unwrap(), today())
            .await,
        Err(Error::Validation { .. })
    ));
    let locked = app.stats().lock(&admin, month(), today()).await.unwrap();
    assert!(locked.locked.is_some());
    assert_eq!(locked.total(StatItem::UrbanHouseholds), 1);
    assert!(matches!(
        app.stats().lock(&admin, month(), today()).await,
        Err(Error::Conflict(_))
    ));

    // A new enrolment and 西城's sign-off after the lock change nothing reported.
    let late = id("19750303", 91);
    fixtures::enrol(
        app,
        &enrolment(
            Program::UrbanDibao,
            EAST_V1,
            "孙新来",
            &late,
            50_000,
            "2026-11",
        ),
    )
    .await
    .unwrap();
    app.payroll()
        .generate(
            &sys(),
            &GenerateRequest {
                month: month(),
                program: None,
                within: None,
            },
        )
        .await
        .unwrap();
    for b in novembers_batches(app)
        .await
        .iter()
        .filter(|b| b.status == minzheng_domain::payroll::BatchStatus::Draft)
    {
        app.payroll().sign_off(&sys(), b.id, None).await.unwrap();
    }
    let after = app.stats().month(&admin, month(), None).await.unwrap();
    assert_eq!(after.total(StatItem::UrbanHouseholds), 1);
    assert_eq!(after.total(StatItem::RuralFen), 40_000);
    assert_eq!(
        after
            .rows
            .iter()
            .map(|r| (r.item, r.total))
            .collect::<Vec<_>>(),
        locked
            .rows
            .iter()
            .map(|r| (r.item, r.total))
            .collect::<Vec<_>>()
    );

    // Reopening needs a reason, is audited, and then shows the ledgers as they are.
    assert!(matches!(
        app.stats().reopen(&admin, month(), "  ").await,
        Err(Error::Validation { .. })
    ));
    assert!(matches!(
        app.stats().reopen(&director, month(), "更正").await,
        Err(Error::Forbidden(_))
    ));
    let reopened = app
        .stats()
        .reopen(&admin, month(), "补录孙新来的低保")
        .await
        .unwrap();
    assert!(reopened.locked.is_none());
    assert_eq!(reopened.total(StatItem::UrbanHouseholds), 2);
    assert_eq!(reopened.total(StatItem::RuralFen), 70_000);
    let trail = fixtures::audit_trail(app, "stats_month", "2026-11")
        .await
        .unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["stats.reopen", "stats.lock"]);
    assert!(trail[0]
        .after_json
        .as_deref()
        .unwrap_or("")
        .contains("补录孙新来的低保"));
    assert!(matches!(
        app.stats().reopen(&admin, month(), "再次").await,
        Err(Error::Conflict(_))
    ));
}

async fn a_township_user_sees_their_township_only(db: &TestDb) {
    let app = build_city(db).await;
    let staff = actor(app, "staff").await; // 东城街道
    let staff2 = actor(app, "staff2").await; // 西城街道
    let r = app.stats().month(&staff, month(), None).await.unwrap();
    assert_eq!(r.scope_code, "511802001");
    assert!(r.columns.is_empty());
    assert_eq!(r.townships, 1);
    assert_eq!(
        values(
            &r,
            &[
                StatItem::RuralHouseholds,
                StatItem::RuralPersons,
                StatItem::OldAge100
            ]
        ),
        vec![1, 1, 0]
    );
    let west = app.stats().month(&staff2, month(), None).await.unwrap();
    assert_eq!(
        values(
            &west,
            &[
                StatItem::RuralHouseholds,
                StatItem::RuralPersons,
                StatItem::OldAge100
            ]
        ),
        vec![1, 2, 1]
    );
    // Another township, the county above: not found.
    for other in ["511802002", "511802"] {
        assert!(
            matches!(
                app.stats().month(&staff, month(), Some(other)).await,
                Err(Error::NotFound(_))
            ),
            "{other}"
        );
        assert!(matches!(
            app.stats()
                .records(&staff, month(), Some(other), StatItem::RuralHouseholds)
                .await,
            Err(Error::NotFound(_))
        ));
    }
    // A village assistant does not read the statistics.
    let assistant = actor(app, "assistant").await;
    assert!(matches!(
        app.stats().month(&assistant, month(), None).await,
        Err(Error::Forbidden(_))
    ));
    // The auditor reads them, city-wide.
    let auditor = actor(app, "auditor").await;
    let a = app.stats().month(&auditor, month(), None).await.unwrap();
    assert_eq!(a.total(StatItem::RuralHouseholds), 2);
}

async fn warnings_fire_when_the_ledgers_disagree(db: &TestDb) {
    let app = build_city(db).await;
    let approver = actor(app, "approver").await; // 雨城区
    let r = app.stats().month(&approver, month(), None).await.unwrap();
    let messages: Vec<&str> = r.warnings.iter().map(|w| w.message.as_str()).collect();
    // 西城's batches are drafts.
    assert!(
        messages.contains(&"西城街道农村低保本月应发300.00元，发放批次尚未签发，支出按0计"),
        "{messages:?}"
    );
    assert!(messages.contains(&"西城街道高龄津贴本月应发500.00元，发放批次尚未签发，支出按0计"));
    // Every other township of the county has no figures at all.
    assert!(messages
        .iter()
        .any(|m| m.ends_with("本月没有任何统计数据，请核实是否漏报")));
    assert!(
        !messages.iter().any(|m| m.starts_with("东城街道")),
        "{messages:?}"
    );
    // A 城市低保 household without registered members (no 城市低保 batch either); a 特困
    // enrolment without a case, after 东城's sign-off.
    fixtures::enrol(
        app,
        &enrolment(
            Program::UrbanDibao,
            WEST_V,
            "无成员",
            &id("19660606", 95),
            20_000,
            "2026-05",
        ),
    )
    .await
    .unwrap();
    fixtures::enrol(
        app,
        &enrolment(
            Program::Tekun,
            EAST_V2,
            "无案件",
            &id("19560606", 97),
            90_000,
            "2026-05",
        ),
    )
    .await
    .unwrap();
    let r = app.stats().month(&approver, month(), None).await.unwrap();
    let messages: Vec<&str> = r.warnings.iter().map(|w| w.message.as_str()).collect();
    for m in [
        "西城街道城市低保人数（0人）少于户数（1户），请核实家庭成员登记",
        "西城街道城市低保本月应发200.00元，尚未生成发放批次，支出按0计",
        "东城街道有1名特困人员未登记供养方式",
        "东城街道特困人员本月已签发的当月发放900.00元与在保对象应发1,800.00元不一致",
    ] {
        assert!(messages.contains(&m), "{m}: {messages:?}");
    }
}

/// The city's payroll batches of November 2026.
async fn novembers_batches(app: &App) -> Vec<minzheng_domain::payroll::PayrollBatch> {
    app.payroll()
        .list(
            &sys(),
            &minzheng_domain::payroll::BatchFilter {
                month: Some("2026-11".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

/// A line of back pay in a signed-off batch is money spent in the month, but not the
/// month's own payment: the spending grows by it, and the check of the month's own lines
/// against what the enrolments are due still agrees.
async fn back_pay_is_spent_but_not_the_months_own_payment(db: &TestDb) {
    let app = build_city(db).await;
    let approver = actor(app, "approver").await;
    let before = app.stats().month(&approver, month(), None).await.unwrap();
    let batches = novembers_batches(app).await;
    let urban = batches
        .iter()
        .find(|b| b.township_code == "511802001" && b.program == Program::UrbanDibao)
        .expect("东城's signed-off 城市低保 batch");
    // 500.00 元 for October, to a beneficiary of the batch's township.
    fixtures::insert_back_pay_line(
        app,
        urban.id,
        YearMonth::parse("2026-10").unwrap(),
        EAST_V1,
        "补发对象",
        &id("19800303", 31),
    )
    .await
    .unwrap();
    let after = app.stats().month(&approver, month(), None).await.unwrap();
    assert_eq!(
        after.total(StatItem::UrbanFen),
        before.total(StatItem::UrbanFen) + 50_000
    );
    let messages: Vec<&str> = after.warnings.iter().map(|w| w.message.as_str()).collect();
    assert!(
        !messages.iter().any(|m| m.starts_with("东城街道")),
        "{messages:?}"
    );
}

async fn records_behind_a_figure(db: &TestDb) {
    let app = build_city(db).await;
    let admin = actor(app, "admin").await;
    let director = actor(app, "director").await;
    let l = app
        .stats()
        .records(&admin, month(), None, StatItem::RuralHouseholds)
        .await
        .unwrap();
    assert_eq!((l.total, l.value), (2, 2));
    let Records::Enrolments(items) = &l.records else {
        panic!("enrolments")
    };
    let names: Vec<&str> = items.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, vec!["李桂英", "赵铁柱"]);
    let l = app
        .stats()
        .records(&admin, month(), None, StatItem::CaseWorkNone)
        .await
        .unwrap();
    let Records::Persons(items) = &l.records else {
        panic!("persons")
    };
    let mut names: Vec<&str> = items.iter().map(|p| p.name.as_str()).collect();
    names.sort();
    assert_eq!(names, vec!["张小宝", "李桂英"]);
    let l = app
        .stats()
        .records(&admin, month(), None, StatItem::TekunCentralized)
        .await
        .unwrap();
    assert_eq!(l.total, 1);
    let l = app
        .stats()
        .records(&admin, month(), None, StatItem::OldAge100)
        .await
        .unwrap();
    let Records::Enrolments(items) = &l.records else {
        panic!("enrolments")
    };
    assert_eq!(
        items.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        vec!["孙奶奶"]
    );
    // Expenditure: the signed-off lines; a township's director sees their own, ID numbers whole.
    let l = app
        .stats()
        .records(&director, month(), None, StatItem::UrbanFen)
        .await
        .unwrap();
    let Records::Lines(items) = &l.records else {
        panic!("lines")
    };
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].amount_fen, 60_000);
    assert_eq!(items[0].id_number, id("19700101", 11));
    // The auditor sees them masked.
    let auditor = actor(app, "auditor").await;
    let l = app
        .stats()
        .records(&auditor, month(), None, StatItem::UrbanFen)
        .await
        .unwrap();
    let Records::Lines(items) = &l.records else {
        panic!("lines")
    };
    assert!(items[0].id_number.contains('*'), "{}", items[0].id_number);
}
