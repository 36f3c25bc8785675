//! Monthly payroll through the app: generation (idempotent, concurrent, arrears and stops),
//! the month-over-month review, sign-off, bank files, return files (reconciled or refused),
//! payment exceptions re-issued once, the funds ledger and jurisdiction. Every case runs on
//! SQLite, and on PostgreSQL when `MINZHENG_TEST_POSTGRES_URL` is set.

use minzheng_app::testing::payroll::{self as fixtures, EnrolmentChange, FixtureEnrolment};
use minzheng_app::testing::TestDb;
use minzheng_app::{App, Error};
use minzheng_domain::payroll::{
    BackPayStatus, BatchFilter, BatchStatus, DiffChange, EnrolmentStatus, ExceptionCorrection,
    ExceptionStatus, GenerateRequest, LedgerFilter, LineFilter, LineKind, LineStatus, NewBackPay,
    PaymentException, PaymentKind, PayrollBatch, PayrollLine,
};
use minzheng_domain::{Actor, Fen, Program, Scope, YearMonth};
use sha2::Digest;

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
    generation_follows_enrolments_and_is_idempotent,
    concurrent_generations_make_one_set_of_batches,
    a_month_is_paid_once_across_townships_and_enrolments,
    a_stopped_enrolment_is_paid_through_its_end_month,
    a_draft_left_without_payees_is_removed_on_regeneration,
    back_pay_overtaken_by_its_month_is_marked_and_not_paid,
    a_guardians_card_keeps_its_holder_through_return_and_correction,
    a_correction_leaves_a_household_that_moved_away_alone,
    the_months_overview_counts_within_the_scope,
    review_shows_new_stopped_and_changed_with_reasons,
    back_pay_is_paid_once_in_the_next_batch,
    sign_off_and_bank_files,
    bank_files_are_inert_in_every_template,
    back_pay_cites_only_a_case_of_its_beneficiary,
    return_files_reconcile_or_are_refused_whole,
    exceptions_are_corrected_and_reissued_once,
    jurisdiction_and_roles,
    lists_filter_batches_and_lines_by_their_codes,
    a_city_wide_generation_gives_back_its_page_cache,
    a_village_assistant_reads_only_their_villages_lines,
    closing_at_the_store_refuses_a_batch_not_reconciled,
    a_back_pay_request_is_a_duplicate_only_by_its_unique_key,
    demo_enrolments_make_a_payable_month,
    excel_97_return_files_are_read,
    hostile_return_files_are_refused_and_change_nothing,
    the_months_drafts_are_signed_off_together_or_not_at_all,
    bank_templates_are_kept_from_their_form,
);

const DONGCHENG: &str = "511802001";
const V1: &str = "511802001001";
const V2: &str = "511802001200";
const XICHENG_V: &str = "511802002001";

async fn seeded(db: &TestDb) -> &App {
    db.app.demo().ensure().await.expect("seed demo");
    &db.app
}

async fn actor_of(app: &App, username: &str) -> Actor {
    fixtures::actor(app, username)
        .await
        .expect("demo login works")
}

/// The system (command line), which sees the whole city.
fn sys() -> Actor {
    Actor::system("t")
}

/// The system working within one division only.
fn within(code: &str) -> Actor {
    Actor {
        scope: Scope::of(minzheng_domain::DivisionCode::parse_native(code).unwrap()),
        ..sys()
    }
}

fn id_no(n: u32) -> String {
    format!("51180219800101{n:03}X")
}

fn month(s: &str) -> YearMonth {
    YearMonth::parse(s).unwrap()
}

fn req(m: &str) -> GenerateRequest {
    GenerateRequest {
        month: month(m),
        program: None,
        within: None,
    }
}

async fn enrol(app: &App, e: FixtureEnrolment) -> i64 {
    fixtures::enrol(app, &e).await.unwrap()
}

fn dibao(v: &str, name: &str, n: u32, fen: i64, start: &str) -> FixtureEnrolment {
    FixtureEnrolment::new(Program::UrbanDibao, v, name, &id_no(n), fen, start)
}

async fn lines(app: &App, b: &PayrollBatch) -> Vec<PayrollLine> {
    app.payroll()
        .lines(
            &sys(),
            b.id,
            &LineFilter {
                limit: Some(5000),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .0
}

async fn audit_actions(app: &App, entity_type: &str, id: &str) -> Vec<String> {
    fixtures::audit_actions(app, entity_type, id).await.unwrap()
}

/// Who is paid in 2026-11: active, grace within its period (its last month, 2026-11,
/// included), a one-off this month; not the suspended, the ended, the expired grace, the
/// future start, the one-off of another month.
async fn generation_follows_enrolments_and_is_idempotent(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    enrol(app, dibao(V1, "甲", 1, 50_000, "2026-01")).await;
    enrol(app, dibao(V2, "乙", 2, 42_000, "2026-11")).await;
    let mut grace = dibao(V1, "丙", 3, 10_000, "2026-01");
    grace.status = EnrolmentStatus::Grace;
    grace.grace_until = Some(month("2026-12"));
    enrol(app, grace).await;
    let mut last_grace_month = dibao(V1, "癸", 11, 10_000, "2026-01");
    last_grace_month.status = EnrolmentStatus::Grace;
    last_grace_month.grace_until = Some(month("2026-11"));
    enrol(app, last_grace_month).await;
    let mut expired = dibao(V1, "丁", 4, 10_000, "2026-01");
    expired.status = EnrolmentStatus::Grace;
    expired.grace_until = Some(month("2026-10"));
    enrol(app, expired).await;
    let mut suspended = dibao(V1, "戊", 5, 10_000, "2026-01");
    suspended.status = EnrolmentStatus::Suspended;
    enrol(app, suspended).await;
    let mut ended = dibao(V1, "己", 6, 10_000, "2026-01");
    ended.end_month = Some(month("2026-10"));
    enrol(app, ended).await;
    enrol(app, dibao(V1, "庚", 7, 10_000, "2026-12")).await;
    let mut once = FixtureEnrolment::new(
        Program::TemporaryAssistance,
        V1,
        "辛",
        &id_no(8),
        200_000,
        "2026-11",
    );
    once.payment = PaymentKind::Once;
    enrol(app, once.clone()).await;
    once.id_number = id_no(9);
    once.name = "壬".into();
    once.start_month = month("2026-10");
    enrol(app, once).await;
    enrol(app, dibao(XICHENG_V, "西城甲", 10, 30_000, "2026-01")).await;

    let out = app
        .payroll()
        .generate(&staff, &req("2026-11"))
        .await
        .unwrap();
    assert!(out.existing.is_empty());
    let programs: Vec<&str> = out.created.iter().map(|b| b.program.as_str()).collect();
    assert_eq!(
        programs,
        ["temporary_assistance", "urban_dibao"],
        "东城 only"
    );
    assert!(out.created.iter().all(|b| b.township_code == DONGCHENG));
    let dibao_batch = out
        .created
        .iter()
        .find(|b| b.program == Program::UrbanDibao)
        .unwrap();
    let mut names: Vec<String> = lines(app, dibao_batch)
        .await
        .into_iter()
        .map(|l| l.beneficiary_name)
        .collect();
    names.sort();
    assert_eq!(names, ["丙", "乙", "甲", "癸"]);
    assert_eq!(dibao_batch.planned, Fen(112_000));
    assert_eq!(dibao_batch.status, BatchStatus::Draft);
    assert_eq!(dibao_batch.batch_no, "202611-511802001-urban_dibao");
    assert_eq!(out.lines, 5);
    assert_eq!(
        audit_actions(app, "payroll_batch", &dibao_batch.id.to_string()).await,
        ["payroll.generate"]
    );

    // Again: the same batches come back and nothing is added.
    let again = app
        .payroll()
        .generate(&staff, &req("2026-11"))
        .await
        .unwrap();
    assert!(again.created.is_empty());
    assert_eq!(again.existing.len(), 2);
    assert_eq!(again.lines, 0);
    let b = app.payroll().get(&sys(), dibao_batch.id).await.unwrap();
    assert_eq!(b.line_count, 4);

    // City-wide from the command line: 西城 is added, 东城 returned as it was.
    let all = app
        .payroll()
        .generate(&Actor::system("cli"), &req("2026-11"))
        .await
        .unwrap();
    assert_eq!(all.created.len(), 1);
    assert_eq!(all.created[0].township_code, "511802002");
    assert_eq!(all.existing.len(), 2);

    // Only one program.
    let mut one = req("2026-12");
    one.program = Some(Program::TemporaryAssistance);
    let none = app.payroll().generate(&staff, &one).await.unwrap();
    assert!(none.created.is_empty(), "no one-off payment in December");
}

/// A beneficiary who moved township within the month, or who holds two enrolments of the
/// same program, is paid once for the month: the line meeting an earlier one is skipped (on
/// PostgreSQL through the fallback from the plain insert), the rest of the month goes in.
async fn a_month_is_paid_once_across_townships_and_enrolments(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    enrol(app, dibao(V1, "甲", 1, 50_000, "2026-01")).await;
    let dongcheng = app
        .payroll()
        .generate(&staff, &req("2026-11"))
        .await
        .unwrap();
    assert_eq!(dongcheng.lines, 1);
    // 甲 moves to 西城 and is enrolled there from November; 乙 is enrolled twice there.
    enrol(app, dibao(XICHENG_V, "甲", 1, 50_000, "2026-11")).await;
    enrol(app, dibao(XICHENG_V, "乙", 2, 30_000, "2026-01")).await;
    enrol(app, dibao(XICHENG_V, "乙", 2, 30_000, "2026-06")).await;
    enrol(app, dibao(XICHENG_V, "丙", 3, 20_000, "2026-01")).await;
    let nov = app
        .payroll()
        .generate(&Actor::system("cli"), &req("2026-11"))
        .await
        .unwrap();
    assert_eq!(nov.existing.len(), 1, "东城 returned as it was");
    assert_eq!(nov.created.len(), 1);
    let xicheng = &nov.created[0];
    assert_eq!(xicheng.township_code, "511802002");
    // 甲 was paid for November in 东城; 乙 once.
    let mut names: Vec<String> = lines(app, xicheng)
        .await
        .into_iter()
        .map(|l| l.beneficiary_name)
        .collect();
    names.sort();
    assert_eq!(names, ["丙", "乙"]);
    assert_eq!(xicheng.planned, Fen(50_000));
    // December, both townships in one run: 甲 is paid once, by one of the two.
    let dec = app
        .payroll()
        .generate(&Actor::system("cli"), &req("2026-12"))
        .await
        .unwrap();
    let mut names = Vec::new();
    for b in &dec.created {
        names.extend(lines(app, b).await.into_iter().map(|l| l.beneficiary_name));
    }
    names.sort();
    assert_eq!(names, ["丙", "乙", "甲"]);
    assert_eq!(dec.lines, 3);
    assert_eq!(dec.planned, Fen(100_000));
}

/// 停发 takes effect after the decision month: an enrolment ended in November (status ended,
/// end month November) is paid for November, whether the month is generated before or after
/// the decision, and not for December.
async fn a_stopped_enrolment_is_paid_through_its_end_month(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let mut stopped = dibao(V1, "甲", 1, 50_000, "2026-01");
    stopped.status = EnrolmentStatus::Ended;
    stopped.end_month = Some(month("2026-11"));
    enrol(app, stopped).await;
    let mut long_ago = dibao(V1, "乙", 2, 30_000, "2026-01");
    long_ago.status = EnrolmentStatus::Ended;
    long_ago.end_month = Some(month("2026-10"));
    enrol(app, long_ago).await;
    let nov = app
        .payroll()
        .generate(&staff, &req("2026-11"))
        .await
        .unwrap();
    assert_eq!(
        nov.created.len(),
        1,
        "a batch for the stopped enrolment's last month"
    );
    let names: Vec<String> = lines(app, &nov.created[0])
        .await
        .into_iter()
        .map(|l| l.beneficiary_name)
        .collect();
    assert_eq!(names, ["甲"]);
    assert_eq!(nov.planned, Fen(50_000));
    let dec = app
        .payroll()
        .generate(&staff, &req("2026-12"))
        .await
        .unwrap();
    assert!(dec.created.is_empty(), "nothing payable in December");
    assert_eq!(dec.lines, 0);
}

/// A draft whose payees are all gone when it is regenerated is removed (both backends keep
/// no batch with counters but no lines).
async fn a_draft_left_without_payees_is_removed_on_regeneration(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let id = enrol(app, dibao(V1, "甲", 1, 50_000, "2026-01")).await;
    let b = app
        .payroll()
        .generate(&staff, &req("2026-11"))
        .await
        .unwrap()
        .created[0]
        .clone();
    assert_eq!((b.line_count, b.planned), (1, Fen(50_000)));
    fixtures::change_enrolment(
        app,
        id,
        &EnrolmentChange {
            status: Some(EnrolmentStatus::Suspended),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(app
        .payroll()
        .regenerate(&staff, b.id)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        app.payroll().get(&sys(), b.id).await,
        Err(Error::NotFound(_))
    ));
    let ledger = app
        .payroll()
        .ledger(&sys(), &LedgerFilter::default())
        .await
        .unwrap();
    assert!(
        ledger.iter().all(|r| r.planned == Fen(0)),
        "no planned money left for the removed batch"
    );
    assert_eq!(
        audit_actions(app, "payroll_batch", &b.id.to_string()).await,
        ["payroll.regenerate", "payroll.generate"]
    );
}

/// Back pay approved for a month whose own batch is generated afterwards: the month's
/// regular line pays it, and the next generation marks the back pay as superseded instead of
/// leaving it approved forever. A director may not approve their own request.
async fn back_pay_overtaken_by_its_month_is_marked_and_not_paid(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    let id = enrol(app, dibao(V1, "甲", 1, 50_000, "2026-01")).await;
    let ask = NewBackPay {
        enrolment_id: id,
        period: "2026-10".into(),
        amount: String::new(),
        reason: "审批滞后，补发".into(),
        case_id: None,
    };
    let own = app
        .payroll()
        .request_back_pay(&director, &ask)
        .await
        .unwrap();
    assert!(
        matches!(
            app.payroll().decide_back_pay(&director, own.id, true).await,
            Err(Error::Forbidden(_))
        ),
        "not one's own request"
    );
    assert_eq!(
        app.payroll().back_pay(&sys(), own.id).await.unwrap().status,
        BackPayStatus::Pending
    );
    fixtures::set_requested_by(app, own.id, "staff")
        .await
        .unwrap();
    app.payroll()
        .decide_back_pay(&director, own.id, true)
        .await
        .unwrap();
    let oct = app
        .payroll()
        .generate(&staff, &req("2026-10"))
        .await
        .unwrap();
    assert_eq!(
        (oct.lines, oct.planned),
        (1, Fen(50_000)),
        "October's own line"
    );
    let nov = app
        .payroll()
        .generate(&staff, &req("2026-11"))
        .await
        .unwrap();
    assert_eq!(nov.created.len(), 1);
    let b = &nov.created[0];
    assert_eq!(
        (b.line_count, b.planned, b.back_pay),
        (1, Fen(50_000), Fen(0))
    );
    let kinds: Vec<(LineKind, YearMonth)> = lines(app, b)
        .await
        .into_iter()
        .map(|l| (l.kind, l.period))
        .collect();
    assert_eq!(kinds, [(LineKind::Regular, month("2026-11"))]);
    let a = app.payroll().back_pay(&sys(), own.id).await.unwrap();
    assert_eq!(a.status, BackPayStatus::Superseded);
    assert!(a.line_id.is_none());
    assert_eq!(
        audit_actions(app, "payroll_adjustment", &own.id.to_string())
            .await
            .first()
            .map(String::as_str),
        Some("payroll.back_pay.include")
    );
}

/// A card held by a guardian: the bank's return names the holder (户名) and is accepted; a
/// correction of the account number alone keeps the holder, for the re-issue and the
/// household's later months.
async fn a_guardians_card_keeps_its_holder_through_return_and_correction(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    enrol(app, dibao(V1, "甲", 1, 50_000, "2026-01")).await;
    fixtures::set_account_holder(app, &id_no(1), "甲的监护人")
        .await
        .unwrap();
    let b = signed_and_exported(app, "2026-11").await;
    let line = lines(app, &b).await.remove(0);
    assert_eq!(line.account_holder, "甲的监护人");
    let file = format!(
        "明细号,户名,金额(元),处理结果,失败原因\n{},甲的监护人,500.00,交易不成功,账号不存在\n",
        line.id
    );
    let out = app
        .bank_files()
        .import_return(&staff, b.id, "回盘.csv", file.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        (out.paid_count, out.failed_count),
        (0, 1),
        "不成功 is a failure"
    );
    let fixed = correct_the_open_exception(app, &staff, "6210987654321000").await;
    assert_eq!(fixed.account_holder.as_deref(), Some("甲的监护人"));
    let dec = app
        .payroll()
        .generate(&staff, &req("2026-12"))
        .await
        .unwrap();
    let holders: Vec<(LineKind, String, String)> = lines(app, &dec.created[0])
        .await
        .into_iter()
        .map(|l| (l.kind, l.account_number, l.account_holder))
        .collect();
    let corrected = ("6210987654321000".to_string(), "甲的监护人".to_string());
    assert_eq!(holders.len(), 2);
    for (kind, account, holder) in holders {
        assert_eq!((account, holder), corrected.clone(), "{kind}");
    }
}

/// The dashboard's overview of a month: batches by state and the planned amount, open 退票
/// and pending 补发, counted within the scope only.
async fn the_months_overview_counts_within_the_scope(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    let dongcheng = within(DONGCHENG);
    let empty = app
        .payroll()
        .overview(&dongcheng, month("2026-11"))
        .await
        .unwrap();
    assert_eq!((empty.batches, empty.planned), (0, Fen(0)));
    enrol(app, dibao(V1, "甲", 1, 50_000, "2026-01")).await;
    enrol(app, dibao(XICHENG_V, "西城甲", 2, 30_000, "2026-01")).await;
    let mut once = FixtureEnrolment::new(
        Program::TemporaryAssistance,
        V1,
        "乙",
        &id_no(3),
        20_000,
        "2026-11",
    );
    once.payment = PaymentKind::Once;
    enrol(app, once).await;
    let out = app
        .payroll()
        .generate(&Actor::system("cli"), &req("2026-11"))
        .await
        .unwrap();
    assert_eq!(out.created.len(), 3);
    let dibao_batch = out
        .created
        .iter()
        .find(|b| b.township_code == DONGCHENG && b.program == Program::UrbanDibao)
        .unwrap();
    app.payroll()
        .sign_off(&director, dibao_batch.id, None)
        .await
        .unwrap();
    let late = enrol(app, dibao(V1, "丙", 4, 10_000, "2026-09")).await;
    app.payroll()
        .request_back_pay(
            &staff,
            &NewBackPay {
                enrolment_id: late,
                period: "2026-10".into(),
                amount: String::new(),
                reason: "审批滞后".into(),
                case_id: None,
            },
        )
        .await
        .unwrap();
    let o = app
        .payroll()
        .overview(&dongcheng, month("2026-11"))
        .await
        .unwrap();
    assert_eq!(o.month, month("2026-11"));
    assert_eq!(
        (o.batches, o.drafts, o.signed_off, o.exported),
        (2, 1, 1, 0)
    );
    assert_eq!(o.planned, Fen(70_000), "东城's two batches only");
    assert_eq!((o.open_exceptions, o.pending_back_pay), (0, 1));
    let city = app
        .payroll()
        .overview(&sys(), month("2026-11"))
        .await
        .unwrap();
    assert_eq!((city.batches, city.planned), (3, Fen(100_000)));
    let other = app
        .payroll()
        .overview(&dongcheng, month("2026-12"))
        .await
        .unwrap();
    assert_eq!(other.batches, 0);
}

/// A 退票 corrected by 东城's clerk after the household moved to 西城: the exception is
/// corrected (it is 东城's), the household's account — now 西城's record — is not touched.
async fn a_correction_leaves_a_household_that_moved_away_alone(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    enrol(app, dibao(V1, "甲", 1, 50_000, "2026-01")).await;
    let b = signed_and_exported(app, "2026-11").await;
    let line = lines(app, &b).await.remove(0);
    let file = format!(
        "明细号,姓名,金额(元),处理结果,失败原因\n{},甲,500.00,失败,账户冻结\n",
        line.id
    );
    app.bank_files()
        .import_return(&staff, b.id, "回盘.csv", file.as_bytes())
        .await
        .unwrap();
    fixtures::move_household(app, &id_no(1), XICHENG_V)
        .await
        .unwrap();
    let fixed = correct_the_open_exception(app, &staff, "6210987654321000").await;
    assert_eq!(fixed.status, ExceptionStatus::Ready);
    assert!(
        has_account(app, &id_no(1), &line.account_number).await,
        "西城's household keeps its account"
    );
}

/// Corrects the one open 退票 with a new account number alone; returns it corrected.
async fn correct_the_open_exception(app: &App, clerk: &Actor, account: &str) -> PaymentException {
    let open = app
        .payroll()
        .exceptions(&sys(), Some("open"))
        .await
        .unwrap();
    assert_eq!(open.len(), 1, "one open 退票");
    app.payroll()
        .correct_exception(
            clerk,
            open[0].id,
            &ExceptionCorrection {
                account_number: account.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

/// Whether the household headed by `id_number` has `account` on record (a fixture household
/// has no members for the registry search to find it by).
async fn has_account(app: &App, id_number: &str, account: &str) -> bool {
    fixtures::has_account(app, id_number, account)
        .await
        .unwrap()
}

/// Two generations at once, each on its own connection pool: one set of batches and lines,
/// and neither fails.
async fn concurrent_generations_make_one_set_of_batches(db: &TestDb) {
    let app = seeded(db).await;
    app.payroll_bench()
        .enrolments(2_000, "511802", "2026-01")
        .await
        .unwrap();
    let a = App::connect(&db.url).await.unwrap();
    let b = App::connect(&db.url).await.unwrap();
    let run = |s: App| {
        tokio::spawn(async move {
            s.payroll()
                .generate(&Actor::system("cli"), &req("2026-11"))
                .await
        })
    };
    let (ta, tb) = (run(a.clone()), run(b.clone()));
    let (ra, rb) = (ta.await.unwrap().unwrap(), tb.await.unwrap().unwrap());
    let created = ra.created.len() + rb.created.len();
    assert!(created > 0);
    assert_eq!(ra.created.len() + ra.existing.len(), created);
    assert_eq!(rb.created.len() + rb.existing.len(), created);
    assert_eq!(ra.lines + rb.lines, 2_000, "each enrolment once");
    let batches = app
        .payroll()
        .list(
            &sys(),
            &BatchFilter {
                month: Some("2026-11".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(batches.len(), created);
    assert_eq!(batches.iter().map(|b| b.line_count).sum::<i64>(), 2_000);
    // Lines are written (and listed) in ID-number order, which is not the enrolment order:
    // the fixture scatters ID numbers as real ones are.
    let mut scattered = false;
    for b in &batches {
        let ls = lines(app, b).await;
        assert_eq!(ls.len() as i64, b.line_count);
        let ids: Vec<&str> = ls
            .iter()
            .map(|l| l.beneficiary_id_number.as_str())
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "batch {} in ID order",
            b.id
        );
        scattered |= ls.windows(2).any(|w| w[0].enrolment_id > w[1].enrolment_id);
    }
    assert!(scattered, "ID order differs from enrolment order somewhere");
    a.close().await;
    b.close().await;
}

/// October → November: one new (by a case), one stopped (ended by a case), one whose
/// amount changed, one unchanged.
async fn review_shows_new_stopped_and_changed_with_reasons(db: &TestDb) {
    let app = seeded(db).await;
    let cli = Actor::system("cli");
    let same = enrol(app, dibao(V1, "不变", 1, 50_000, "2026-01")).await;
    let stop = enrol(app, dibao(V1, "停发", 2, 40_000, "2026-01")).await;
    let change = enrol(app, dibao(V1, "调整", 3, 30_000, "2026-01")).await;
    app.payroll().generate(&cli, &req("2026-10")).await.unwrap();

    let h = fixtures::household_of(app, stop).await.unwrap();
    fixtures::case(
        app,
        "DB2026-0002",
        "review",
        Program::UrbanDibao,
        h,
        Some(stop),
    )
    .await
    .unwrap();
    fixtures::change_enrolment(
        app,
        stop,
        &EnrolmentChange {
            status: Some(EnrolmentStatus::Ended),
            end_month: Some(month("2026-10")),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let h = fixtures::household_of(app, change).await.unwrap();
    fixtures::case(
        app,
        "DB2026-0003",
        "change",
        Program::UrbanDibao,
        h,
        Some(change),
    )
    .await
    .unwrap();
    fixtures::change_enrolment(
        app,
        change,
        &EnrolmentChange {
            monthly_fen: Some(35_000),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut fresh = dibao(V2, "新增", 4, 60_000, "2026-11");
    let h = fixtures::household_of(app, same).await.unwrap();
    fresh.case_id = Some(
        fixtures::case(app, "DB2026-0004", "new", Program::UrbanDibao, h, None)
            .await
            .unwrap(),
    );
    enrol(app, fresh).await;

    let nov = app.payroll().generate(&cli, &req("2026-11")).await.unwrap();
    let batch = &nov.created[0];
    let diff = app.payroll().diff(&sys(), batch.id).await.unwrap();
    assert_eq!(diff.previous_month, month("2026-10"));
    assert_eq!(
        (
            diff.new_count,
            diff.stopped_count,
            diff.changed_count,
            diff.unchanged_count
        ),
        (1, 1, 1, 1)
    );
    let entry = |c: DiffChange| diff.entries.iter().find(|e| e.change == c).unwrap();
    assert_eq!(entry(DiffChange::New).beneficiary_name, "新增");
    assert_eq!(
        entry(DiffChange::New).case_no.as_deref(),
        Some("DB2026-0004")
    );
    assert!(
        entry(DiffChange::New)
            .reason
            .contains("新申请案件DB2026-0004"),
        "{}",
        entry(DiffChange::New).reason
    );
    assert_eq!(entry(DiffChange::Stopped).beneficiary_name, "停发");
    assert!(entry(DiffChange::Stopped)
        .reason
        .contains("复核案件DB2026-0002"));
    assert!(
        entry(DiffChange::Stopped)
            .reason
            .contains("已终止保障（2026-10止）"),
        "{}",
        entry(DiffChange::Stopped).reason
    );
    assert_eq!(entry(DiffChange::Changed).previous, Some(Fen(30_000)));
    assert_eq!(entry(DiffChange::Changed).current, Some(Fen(35_000)));
    assert!(entry(DiffChange::Changed)
        .reason
        .contains("变更案件DB2026-0003"));
}

/// A late approval: the enrolment starts in September but is entered in November. Back pay
/// for September and October is requested, approved and paid once in November's batch;
/// asking again, or for a month already paid, is refused.
async fn back_pay_is_paid_once_in_the_next_batch(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    let paid = enrol(app, dibao(V1, "早到", 1, 50_000, "2026-01")).await;
    app.payroll()
        .generate(&staff, &req("2026-10"))
        .await
        .unwrap();
    let late = enrol(app, dibao(V1, "迟到", 2, 40_000, "2026-09")).await;
    let ask = |enrolment_id: i64, period: &str| NewBackPay {
        enrolment_id,
        period: period.into(),
        amount: String::new(),
        reason: "审批滞后，补发".into(),
        case_id: None,
    };
    let sep = app
        .payroll()
        .request_back_pay(&staff, &ask(late, "2026-09"))
        .await
        .unwrap();
    let oct = app
        .payroll()
        .request_back_pay(&staff, &ask(late, "2026-10"))
        .await
        .unwrap();
    assert_eq!(sep.amount, Fen(40_000));
    assert!(matches!(
        app.payroll()
            .request_back_pay(&staff, &ask(late, "2026-09"))
            .await,
        Err(Error::Conflict(_))
    ));
    assert!(
        matches!(
            app.payroll()
                .request_back_pay(&staff, &ask(paid, "2026-10"))
                .await,
            Err(Error::Conflict(_))
        ),
        "October was paid to 早到 already"
    );
    assert!(
        matches!(
            app.payroll()
                .request_back_pay(&staff, &ask(late, "2026-08"))
                .await,
            Err(Error::Validation { .. })
        ),
        "before the start"
    );
    assert!(matches!(
        app.payroll().decide_back_pay(&staff, sep.id, true).await,
        Err(Error::Forbidden(_))
    ));
    app.payroll()
        .decide_back_pay(&director, sep.id, true)
        .await
        .unwrap();
    app.payroll()
        .decide_back_pay(&director, oct.id, true)
        .await
        .unwrap();

    let nov = app
        .payroll()
        .generate(&staff, &req("2026-11"))
        .await
        .unwrap();
    let batch = &nov.created[0];
    let all = lines(app, batch).await;
    let mut mine: Vec<(LineKind, YearMonth, i64)> = all
        .iter()
        .filter(|l| l.enrolment_id == late)
        .map(|l| (l.kind, l.period, l.amount.0))
        .collect();
    mine.sort_by_key(|(kind, period, _)| (kind.as_str(), *period));
    assert_eq!(
        mine,
        [
            (LineKind::BackPay, month("2026-09"), 40_000),
            (LineKind::BackPay, month("2026-10"), 40_000),
            (LineKind::Regular, month("2026-11"), 40_000),
        ]
    );
    assert_eq!(batch.back_pay, Fen(80_000));
    let sep = app.payroll().back_pay(&sys(), sep.id).await.unwrap();
    assert_eq!(sep.status, BackPayStatus::Included);
    assert!(sep.line_id.is_some());
    assert_eq!(
        audit_actions(app, "payroll_adjustment", &sep.id.to_string()).await,
        [
            "payroll.back_pay.include",
            "payroll.back_pay.decide",
            "payroll.back_pay.request"
        ]
    );
    // December: no second back pay.
    let dec = app
        .payroll()
        .generate(&staff, &req("2026-12"))
        .await
        .unwrap();
    assert_eq!(dec.created[0].back_pay, Fen(0));
    assert!(matches!(
        app.payroll()
            .request_back_pay(&staff, &ask(late, "2026-10"))
            .await,
        Err(Error::Conflict(_))
    ));
}

/// The village assistant (杨洋, village V1) reads the township's batch of the month with
/// the village's own lines, their sum and their count by the bank's answer, never V2's.
async fn a_village_assistant_reads_only_their_villages_lines(db: &TestDb) {
    let app = seeded(db).await;
    enrol(app, dibao(V1, "张三", 1, 50_000, "2026-01")).await;
    enrol(app, dibao(V1, "李四", 2, 42_050, "2026-01")).await;
    enrol(app, dibao(V2, "王五", 3, 30_000, "2026-01")).await;
    app.payroll()
        .generate(&sys(), &req("2026-11"))
        .await
        .unwrap();
    let assistant = actor_of(app, "assistant").await;
    let v = app
        .payroll()
        .village(&assistant, month("2026-11"))
        .await
        .unwrap();
    assert_eq!(v.village_code, V1);
    assert_eq!(v.batches.len(), 1);
    let b = &v.batches[0];
    let mut names: Vec<&str> = b
        .lines
        .iter()
        .map(|l| l.beneficiary_name.as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["张三", "李四"]);
    assert!(b.lines.iter().all(|l| l.village_code == V1));
    assert_eq!(b.planned, Fen(92_050), "500.00 + 420.50, not 王五's 300.00");
    assert_eq!((b.paid_count, b.failed_count, b.pending_count), (0, 0, 2));
}

/// The store tells a second request for the same month (its unique key: no id, the use
/// case says 已有补发申请) from a write that failed for another reason (an enrolment that
/// is not there): that one is an error, not a duplicate.
async fn a_back_pay_request_is_a_duplicate_only_by_its_unique_key(db: &TestDb) {
    use minzheng_domain::payroll::{BackPayEnrolment, BackPayRequest};
    let app = seeded(db).await;
    let id = enrol(app, dibao(V1, "张三", 1, 50_000, "2026-01")).await;
    let e = BackPayEnrolment {
        id,
        program: Program::UrbanDibao,
        township_code: DONGCHENG.into(),
        beneficiary_id_number: id_no(1),
        monthly: Fen(50_000),
        year_end_extra: Fen(0),
        start_month: month("2026-01"),
        end_month: None,
        payment: PaymentKind::Monthly,
    };
    let r = BackPayRequest {
        period: month("2026-03"),
        amount: Fen(50_000),
        reason: "审批滞后".into(),
    };
    let now = "2026-12-01T00:00:00Z";
    let mut tx = db.store().begin_write().await.unwrap();
    let first = minzheng_store::payroll::insert_back_pay(&mut tx, &e, &r, None, "staff", now)
        .await
        .unwrap();
    let first = first.unwrap();
    tx.commit().await.unwrap();
    // The back-pay list shows it, within the scope only.
    let listed: Vec<(i64, YearMonth)> = app
        .payroll()
        .back_pay_list(&within(DONGCHENG))
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.id, a.period))
        .collect();
    assert_eq!(listed, [(first, month("2026-03"))]);
    assert!(app
        .payroll()
        .back_pay_list(&within("511802002"))
        .await
        .unwrap()
        .is_empty());
    // Deciding re-checks at its write that the request is still pending.
    let mut tx = db.store().begin_write().await.unwrap();
    for (n, expected) in [(1, true), (2, false)] {
        let decided = minzheng_store::payroll::decide_back_pay(
            &mut tx,
            first,
            BackPayStatus::Approved,
            "director",
            now,
        )
        .await
        .unwrap();
        assert_eq!(
            decided, expected,
            "decision {n}: only a pending request is decided"
        );
    }
    tx.commit().await.unwrap();
    let mut tx = db.store().begin_write().await.unwrap();
    let again = minzheng_store::payroll::insert_back_pay(&mut tx, &e, &r, None, "staff", now)
        .await
        .unwrap();
    assert_eq!(again, None, "the same month again is the duplicate");
    drop(tx);
    let gone = BackPayEnrolment {
        id: id + 1_000_000,
        ..e
    };
    let mut tx = db.store().begin_write().await.unwrap();
    let failed =
        minzheng_store::payroll::insert_back_pay(&mut tx, &gone, &r, None, "staff", now).await;
    assert!(failed.is_err(), "not a duplicate: {failed:?}");
}

/// Closing and regenerating re-check the batch's state at their write: a batch that is
/// not (or no longer) reconciled is not closed, one no longer a draft is not refilled,
/// whoever read it otherwise before.
async fn closing_at_the_store_refuses_a_batch_not_reconciled(db: &TestDb) {
    let app = seeded(db).await;
    enrol(app, dibao(V1, "张三", 1, 50_000, "2026-01")).await;
    let b = signed_and_exported(app, "2026-11").await;
    let mut tx = db.store().begin_write().await.unwrap();
    let closed = minzheng_store::payroll::close(&mut tx, b.id, "director", "2026-12-01T00:00:00Z")
        .await
        .unwrap();
    assert!(!closed, "an exported batch is not closed");
    // Nor is a batch signed off meanwhile refilled as a draft.
    let restarted = minzheng_store::payroll::restart_draft(
        &mut tx,
        b.id,
        &minzheng_store::payroll::generation_token(),
        "staff",
        "2026-12-01T00:00:00Z",
    )
    .await
    .unwrap();
    assert!(!restarted, "an exported batch is not regenerated");
    tx.commit().await.unwrap();
    assert_eq!(
        app.payroll().get(&sys(), b.id).await.unwrap().status,
        BatchStatus::Exported
    );
}

/// A city-wide generation enlarges its SQLite connection's page cache for the fill and
/// gives it back before the connection returns to the pool: afterwards every pooled
/// connection has the pool's share of the cache budget again, as before. (PostgreSQL has
/// no per-connection page cache; the list is empty there.)
async fn a_city_wide_generation_gives_back_its_page_cache(db: &TestDb) {
    let app = seeded(db).await;
    enrol(app, dibao(V1, "张三", 1, 50_000, "2026-01")).await;
    let before = db.store().pooled_cache_sizes().await.unwrap();
    if !db.store().is_postgres() {
        assert!(!before.is_empty());
        assert!(before.iter().all(|&s| s == before[0]), "{before:?}");
    }
    let out = app
        .payroll()
        .generate(&sys(), &req("2026-11"))
        .await
        .unwrap();
    assert_eq!(out.created.len(), 1, "the fill ran");
    assert_eq!(db.store().pooled_cache_sizes().await.unwrap(), before);
}

/// The batch list filters by program and status, a batch's lines by status and kind; a
/// code no word has lists nothing rather than everything.
async fn lists_filter_batches_and_lines_by_their_codes(db: &TestDb) {
    let app = seeded(db).await;
    enrol(app, dibao(V1, "张三", 1, 50_000, "2026-01")).await;
    enrol(
        app,
        FixtureEnrolment::new(Program::Tekun, V1, "李四", &id_no(2), 60_000, "2026-01"),
    )
    .await;
    let out = app
        .payroll()
        .generate(&sys(), &req("2026-11"))
        .await
        .unwrap();
    assert_eq!(out.created.len(), 2);
    let dibao_batch = out
        .created
        .iter()
        .find(|b| b.program == Program::UrbanDibao)
        .unwrap()
        .id;
    app.payroll()
        .sign_off(&sys(), dibao_batch, None)
        .await
        .unwrap();
    let listed = |program: Option<&str>, status: Option<&str>| {
        let f = BatchFilter {
            month: Some("2026-11".into()),
            program: program.map(str::to_string),
            status: status.map(str::to_string),
            within: None,
        };
        async move {
            let mut v: Vec<(Program, BatchStatus)> = app
                .payroll()
                .list(&sys(), &f)
                .await
                .unwrap()
                .into_iter()
                .map(|b| (b.program, b.status))
                .collect();
            v.sort_by_key(|(p, _)| p.as_str());
            v
        }
    };
    let signed = (Program::UrbanDibao, BatchStatus::SignedOff);
    let draft = (Program::Tekun, BatchStatus::Draft);
    assert_eq!(listed(None, None).await, [draft, signed]);
    assert_eq!(listed(Some("urban_dibao"), None).await, [signed]);
    assert_eq!(listed(Some("tekun"), None).await, [draft]);
    assert_eq!(listed(None, Some("signed_off")).await, [signed]);
    assert_eq!(listed(None, Some("draft")).await, [draft]);
    assert_eq!(listed(Some("tekun"), Some("signed_off")).await, []);
    assert_eq!(listed(Some("no_such_program"), None).await, []);
    assert_eq!(listed(None, Some("no_such_status")).await, []);

    let counted = |status: Option<&str>, kind: Option<&str>| {
        let f = LineFilter {
            status: status.map(str::to_string),
            kind: kind.map(str::to_string),
            ..Default::default()
        };
        async move {
            let (items, total) = app.payroll().lines(&sys(), dibao_batch, &f).await.unwrap();
            assert_eq!(items.len() as i64, total);
            total
        }
    };
    assert_eq!(counted(None, None).await, 1);
    assert_eq!(counted(Some("planned"), None).await, 1);
    assert_eq!(counted(Some("paid"), None).await, 0);
    assert_eq!(counted(None, Some("regular")).await, 1);
    assert_eq!(counted(None, Some("back_pay")).await, 0);
    assert_eq!(counted(Some("planned"), Some("regular")).await, 1);
    assert_eq!(counted(Some("no_such_status"), None).await, 0);
    assert_eq!(counted(None, Some("no_such_kind")).await, 0);
}

async fn signed_and_exported(app: &App, m: &str) -> PayrollBatch {
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    let out = app.payroll().generate(&staff, &req(m)).await.unwrap();
    let b = out
        .created
        .into_iter()
        .chain(out.existing)
        .find(|b| b.program == Program::UrbanDibao)
        .unwrap();
    app.payroll().sign_off(&director, b.id, None).await.unwrap();
    app.bank_files()
        .export(&staff, b.id, "utf8-csv")
        .await
        .unwrap();
    app.payroll().get(&sys(), b.id).await.unwrap()
}

/// A name, bank or holder that a spreadsheet would run as a formula reaches no bank file
/// as one, whatever the template: CSV cells get a leading apostrophe, workbook cells stay
/// strings; the amount stays a number.
async fn bank_files_are_inert_in_every_template(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    let admin = actor_of(app, "admin").await;
    let hostile = "=HYPERLINK(\"http://evil.example/x\",\"点此领取\")";
    let mut e = dibao(V1, hostile, 1, 50_000, "2026-01");
    e.bank_name = "@SUM(1+1)".into();
    let id_number = e.id_number.clone();
    enrol(app, e).await;
    fixtures::set_account_holder(app, &id_number, "+1-2")
        .await
        .unwrap();
    // Every column, in both encodings and in a workbook.
    let all = "batch_no,line_no,item,item_name,period,division,name,id_number,bank,account,holder,amount,remark";
    for (code, format, encoding) in [
        ("all-gbk", "csv", "gbk"),
        ("all-utf8", "csv", "utf-8"),
        ("all-xlsx", "xlsx", "utf-8"),
    ] {
        app.bank_files()
            .save_template(
                &admin,
                &minzheng_domain::payroll::BankTemplateInput {
                    code: code.into(),
                    name: format!("全部列{code}"),
                    format: format.into(),
                    encoding: encoding.into(),
                    columns: all.into(),
                    totals_line: true,
                    amount_unit: "yuan".into(),
                    file_name: "{bank}_{batch_no}.{ext}".into(),
                    active: true,
                },
            )
            .await
            .unwrap();
    }
    let b = app
        .payroll()
        .generate(&staff, &req("2026-11"))
        .await
        .unwrap()
        .created[0]
        .clone();
    app.payroll()
        .sign_off(&director, b.id, Some(&b.generated_at))
        .await
        .unwrap();
    let templates = app.bank_files().templates(&staff).await.unwrap();
    assert!(templates.len() >= 6);
    for t in templates {
        let f = app
            .bank_files()
            .export(&staff, b.id, &t.code)
            .await
            .unwrap();
        let cells: Vec<String> = if f.file_name.ends_with(".csv") {
            let text = if f.content_type.contains("gb18030") {
                encoding_rs::GB18030.decode(&f.bytes).0.into_owned()
            } else {
                String::from_utf8(f.bytes.clone()).unwrap()
            };
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text.as_bytes());
            r.records()
                .flat_map(|rec| rec.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
                .collect()
        } else {
            use calamine::{Data, Reader, Xlsx};
            let mut wb: Xlsx<_> =
                calamine::open_workbook_from_rs(std::io::Cursor::new(f.bytes.clone())).unwrap();
            let name = wb.sheet_names()[0].clone();
            let formulas = wb.worksheet_formula(&name).unwrap();
            assert!(
                formulas.used_cells().all(|(_, _, f)| f.is_empty()),
                "{}: no formulas",
                t.code
            );
            let range = wb.worksheet_range(&name).unwrap();
            range
                .used_cells()
                .map(|(_, _, c)| match c {
                    // In a workbook the text is a string cell (with the quote prefix).
                    Data::String(s) if s.starts_with(['=', '@', '+']) => format!("'{s}"),
                    Data::Float(x) => x.to_string(),
                    other => other.to_string(),
                })
                .collect()
        };
        for c in &cells {
            assert!(
                !c.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{}: cell {c:?} would be a formula",
                t.code
            );
        }
        assert!(
            cells.iter().any(|c| c == &format!("'{hostile}")),
            "{}: {cells:?}",
            t.code
        );
        if t.columns
            .contains(&minzheng_domain::payroll::BankColumn::Bank)
        {
            assert!(cells.iter().any(|c| c == "'@SUM(1+1)"), "{}", t.code);
        }
        if t.columns
            .contains(&minzheng_domain::payroll::BankColumn::Holder)
        {
            assert!(cells.iter().any(|c| c == "'+1-2"), "{}", t.code);
        }
        // The amount is still a plain number.
        assert!(
            cells
                .iter()
                .any(|c| c == "500.00" || c == "500" || c == "50000"),
            "{}: {cells:?}",
            t.code
        );
    }
}

/// Draft → signed off (director only) → exported; files per template; every export audited.
async fn sign_off_and_bank_files(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    enrol(app, dibao(V1, "张三", 1, 50_000, "2026-01")).await;
    enrol(app, dibao(V2, "李四", 2, 42_050, "2026-01")).await;
    let b = app
        .payroll()
        .generate(&staff, &req("2026-11"))
        .await
        .unwrap()
        .created[0]
        .clone();
    assert!(
        matches!(
            app.bank_files().export(&staff, b.id, "rcb-gbk").await,
            Err(Error::Conflict(_))
        ),
        "not signed off yet"
    );
    assert!(matches!(
        app.payroll().sign_off(&staff, b.id, None).await,
        Err(Error::Forbidden(_))
    ));
    // A draft can be regenerated (here: nothing changed).
    let re = app
        .payroll()
        .regenerate(&staff, b.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(re.line_count, 2);
    // The director signs what they reviewed: the page before the regeneration is stale.
    assert!(matches!(
        app.payroll().sign_off(&director, b.id, Some(&b.generated_at)).await,
        Err(Error::Conflict(ref m)) if m.contains("重新生成")
    ));
    // A line without an account is not sent to the bank.
    fixtures::clear_line_account(app, b.id, "李四")
        .await
        .unwrap();
    assert!(matches!(
        app.payroll().sign_off(&director, b.id, Some(&re.generated_at)).await,
        Err(Error::Conflict(ref m)) if m.contains("1笔明细缺少银行账号")
    ));
    let re = app
        .payroll()
        .regenerate(&staff, b.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        app.payroll().get(&sys(), b.id).await.unwrap().status,
        BatchStatus::Draft
    );
    let signed = app
        .payroll()
        .sign_off(&director, b.id, Some(&re.generated_at))
        .await
        .unwrap();
    assert_eq!(signed.status, BatchStatus::SignedOff);
    assert_eq!(signed.signed_off_by.as_deref(), Some("director"));
    assert!(matches!(
        app.payroll().sign_off(&director, b.id, None).await,
        Err(Error::Conflict(_))
    ));
    assert!(
        matches!(
            app.payroll().regenerate(&staff, b.id).await,
            Err(Error::Conflict(_))
        ),
        "only a draft can be regenerated"
    );

    let gbk = app
        .bank_files()
        .export(&staff, b.id, "rcb-gbk")
        .await
        .unwrap();
    assert!(gbk.file_name.ends_with(".csv"), "{}", gbk.file_name);
    let (text, _, bad) = encoding_rs::GB18030.decode(&gbk.bytes);
    assert!(!bad);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 4, "{text}");
    assert_eq!(
        rows[0],
        "批次号,明细号,项目代码,所属期,区划代码,姓名,证件号码,账号,金额(元),摘要"
    );
    assert!(rows[1].contains("202611-511802001-urban_dibao"));
    assert!(rows[1].contains(",202611,511802001001,张三,"));
    assert!(rows[1].contains(",500.00,城市最低生活保障2026年11月"));
    assert!(rows[3].starts_with("合计,"), "{}", rows[3]);
    assert!(
        rows[3].contains("共2笔") && rows[3].contains("920.50"),
        "{}",
        rows[3]
    );
    assert_eq!(gbk.total, Fen(92_050));

    let x = app
        .bank_files()
        .export(&staff, b.id, "psbc-xlsx")
        .await
        .unwrap();
    assert!(x.file_name.contains("东城街道") && x.file_name.ends_with(".xlsx"));
    {
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(x.bytes.clone())).unwrap();
        let range = wb.worksheet_range("代发明细").unwrap();
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[1][6], id_no(1), "ID numbers stay text");
        assert_eq!(rows[3][0], "合计");
    }
    let after = app.payroll().get(&sys(), b.id).await.unwrap();
    assert_eq!(after.status, BatchStatus::Exported);
    assert_eq!(after.export_count, 2);
    let actions = audit_actions(app, "payroll_batch", &b.id.to_string()).await;
    assert_eq!(
        actions,
        [
            "payroll.bank_file",
            "payroll.bank_file",
            "payroll.sign_off",
            "payroll.regenerate",
            "payroll.regenerate",
            "payroll.generate"
        ]
    );
    assert!(matches!(
        app.bank_files().export(&staff, b.id, "no-such").await,
        Err(Error::Validation { .. })
    ));
    // The batch page's bank files, newest first: who made each, with which template, its
    // name, lines and total. Another township's clerk does not see the batch.
    let files = app.bank_files().downloads(&staff, b.id).await.unwrap();
    assert_eq!(
        files
            .iter()
            .map(|f| (
                f.actor.as_str(),
                f.template.as_str(),
                f.file_name.as_str(),
                f.lines,
                f.total
            ))
            .collect::<Vec<_>>(),
        [
            ("staff", "psbc-xlsx", x.file_name.as_str(), 2, Fen(92_050)),
            ("staff", "rcb-gbk", gbk.file_name.as_str(), 2, Fen(92_050)),
        ]
    );
    let staff2 = actor_of(app, "staff2").await;
    assert!(matches!(
        app.bank_files().downloads(&staff2, b.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(fixtures::audit_intact(app).await.unwrap());
}

fn template_input(
    code: &str,
    name: &str,
    active: bool,
) -> minzheng_domain::payroll::BankTemplateInput {
    minzheng_domain::payroll::BankTemplateInput {
        code: code.into(),
        name: name.into(),
        format: "csv".into(),
        encoding: "utf-8".into(),
        columns: "name,id_number,account,amount".into(),
        totals_line: false,
        amount_unit: "yuan".into(),
        file_name: "{batch_no}.{ext}".into(),
        active,
    }
}

/// The city administrator's template form: a new template may not take an existing code,
/// the one being edited keeps its own, and a template switched off is no longer offered
/// for export.
async fn bank_templates_are_kept_from_their_form(db: &TestDb) {
    let app = seeded(db).await;
    let admin = actor_of(app, "admin").await;
    let staff = actor_of(app, "staff").await;
    let files = app.bank_files();
    let offered = |t: Vec<minzheng_domain::payroll::BankTemplate>| {
        t.into_iter().map(|t| t.code).collect::<Vec<_>>()
    };
    let before = offered(files.active_templates(&staff).await.unwrap());
    assert!(before.contains(&"rcb-gbk".to_string()), "{before:?}");
    assert_eq!(
        before.len(),
        files
            .templates(&staff)
            .await
            .unwrap()
            .iter()
            .filter(|t| t.active)
            .count()
    );
    assert!(matches!(
        files
            .save_template_form(&staff, &template_input("town", "乡镇模板", true), "")
            .await,
        Err(Error::Forbidden(_))
    ));
    let new = files
        .save_template_form(&admin, &template_input("city-bank", "市商业银行", true), "")
        .await
        .unwrap();
    assert_eq!(
        (new.code.as_str(), new.name.as_str()),
        ("city-bank", "市商业银行")
    );
    assert!(offered(files.active_templates(&staff).await.unwrap()).contains(&"city-bank".into()));
    // A second new template of the same code, or another template's edit taking it, is
    // refused on the code field and changes nothing.
    for editing in ["", "rcb-gbk"] {
        match files
            .save_template_form(&admin, &template_input("city-bank", "重名", true), editing)
            .await
        {
            Err(Error::Validation { fields, .. }) => {
                assert!(fields["code"].contains("已被使用"), "{fields:?}")
            }
            other => panic!("expected the code refused, got {other:?}"),
        }
    }
    // Its own edit keeps the code: switched off, it is kept but no longer offered.
    let off = files
        .save_template_form(
            &admin,
            &template_input("city-bank", "市商业银行（停用）", false),
            "city-bank",
        )
        .await
        .unwrap();
    assert!(!off.active);
    let all = files.templates(&staff).await.unwrap();
    let kept = all.iter().find(|t| t.code == "city-bank").unwrap();
    assert_eq!(
        (kept.name.as_str(), kept.active),
        ("市商业银行（停用）", false)
    );
    assert_eq!(
        offered(files.active_templates(&staff).await.unwrap()),
        before
    );
}

fn return_csv(rows: &[(i64, &str, &str, &str, &str)], totals: Option<(usize, &str)>) -> Vec<u8> {
    let mut s = String::from("明细号,姓名,金额(元),处理结果,失败原因,银行流水号\n");
    for (id, name, amount, status, reason) in rows {
        s.push_str(&format!("{id},{name},{amount},{status},{reason},T{id}\n"));
    }
    if let Some((n, total)) = totals {
        s.push_str(&format!("合计,共{n}笔,{total},,,\n"));
    }
    encoding_rs::GBK.encode(&s).0.into_owned()
}

async fn assert_untouched(app: &App, b: &PayrollBatch) {
    let now = app.payroll().get(&sys(), b.id).await.unwrap();
    assert_eq!(now.returned_count, 0);
    assert_eq!(now.status, BatchStatus::Exported);
    assert!(lines(app, b)
        .await
        .iter()
        .all(|l| l.status == LineStatus::Planned));
    assert!(app
        .payroll()
        .exceptions(&sys(), None)
        .await
        .unwrap()
        .is_empty());
}

/// Refusals (unknown line, duplicate, wrong amount, totals that do not add up, unreadable
/// result, failure without reason) apply nothing; a partial file is accepted, the rest
/// later reconciles the batch; failures become exceptions.
async fn return_files_reconcile_or_are_refused_whole(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    enrol(app, dibao(V1, "张三", 1, 50_000, "2026-01")).await;
    enrol(app, dibao(V1, "李四", 2, 42_050, "2026-01")).await;
    enrol(app, dibao(V2, "王五", 3, 30_000, "2026-01")).await;
    let b = signed_and_exported(app, "2026-11").await;
    let l = lines(app, &b).await;
    let (a, c, d) = (l[0].id, l[1].id, l[2].id);
    let refused = [
        (
            return_csv(
                &[
                    (a, "张三", "500.00", "成功", ""),
                    (999_999, "某某", "1.00", "成功", ""),
                ],
                None,
            ),
            "不属于本批次",
        ),
        (
            return_csv(
                &[
                    (a, "张三", "500.00", "成功", ""),
                    (a, "张三", "500.00", "成功", ""),
                ],
                None,
            ),
            "重复",
        ),
        (
            return_csv(&[(a, "张三", "500.01", "成功", "")], None),
            "不符",
        ),
        (
            return_csv(&[(a, "李四", "500.00", "成功", "")], None),
            "姓名",
        ),
        (
            return_csv(
                &[
                    (a, "张三", "500.00", "成功", ""),
                    (c, "李四", "420.50", "成功", ""),
                ],
                Some((2, "920.00")),
            ),
            "合计金额",
        ),
        (
            return_csv(&[(a, "张三", "500.00", "成功", "")], Some((2, "500.00"))),
            "笔数",
        ),
        (
            return_csv(&[(a, "张三", "500.00", "处理中", "")], None),
            "无法识别",
        ),
        (
            return_csv(&[(a, "张三", "500.00", "失败", "")], None),
            "失败原因",
        ),
    ];
    for (file, why) in refused {
        match app
            .bank_files()
            .import_return(&staff, b.id, "回盘.csv", &file)
            .await
        {
            Err(Error::Validation { message, .. }) => {
                assert!(message.contains(why), "{why}: {message}")
            }
            other => panic!("{why}: expected a refusal, got {other:?}"),
        }
        assert_untouched(app, &b).await;
    }
    // A partial return: two lines, one failed.
    let part = return_csv(
        &[
            (a, "张三", "500.00", "成功", ""),
            (c, "李四", "420.50", "失败", "户名不符"),
        ],
        Some((2, "920.50")),
    );
    let out = app
        .bank_files()
        .import_return(&staff, b.id, "回盘1.csv", &part)
        .await
        .unwrap();
    assert_eq!(
        (out.paid_count, out.failed_count, out.complete),
        (1, 1, false)
    );
    assert_eq!(out.batch.status, BatchStatus::Exported);
    assert!(out.batch.partially_reconciled());
    // Each answered line keeps the bank's transaction number, and a failed one its reason.
    let answered: Vec<(i64, Option<String>, Option<String>)> = lines(app, &b)
        .await
        .into_iter()
        .filter(|l| l.id == a || l.id == c)
        .map(|l| (l.id, l.bank_txn_id, l.fail_reason))
        .collect();
    assert_eq!(
        answered,
        [
            (a, Some(format!("T{a}")), None),
            (c, Some(format!("T{c}")), Some("户名不符".to_string())),
        ]
    );
    // No new bank file once the bank has answered for some lines: it could pay them again.
    let exports = out.batch.export_count;
    assert!(matches!(
        app.bank_files().export(&staff, b.id, "utf8-csv").await,
        Err(Error::Conflict(ref m)) if m.contains("已导入银行回盘")
    ));
    assert_eq!(
        app.payroll().get(&sys(), b.id).await.unwrap().export_count,
        exports
    );
    // An export that read the batch before the bank's answer came in is refused at its
    // write too.
    {
        let mut tx = db.store().begin_write().await.unwrap();
        let counted = minzheng_store::payroll::mark_exported(&mut tx, b.id, "2026-12-01T00:00:00Z")
            .await
            .unwrap();
        assert!(
            !counted,
            "no bank file is counted once the bank has answered"
        );
    }
    // The same lines again are refused.
    let again = app
        .bank_files()
        .import_return(&staff, b.id, "回盘1.csv", &part)
        .await;
    assert!(
        matches!(again, Err(Error::Validation { ref message, .. }) if message.contains("已于此前回盘"))
    );
    // The rest.
    let rest = return_csv(&[(d, "王五", "300.00", "成功", "")], None);
    let out = app
        .bank_files()
        .import_return(&staff, b.id, "回盘2.csv", &rest)
        .await
        .unwrap();
    assert!(out.complete);
    assert_eq!(out.batch.status, BatchStatus::Reconciled);
    assert_eq!(out.batch.paid, Fen(80_000));
    assert_eq!(out.batch.failed, Fen(42_050));
    assert_eq!(out.batch.paid.0 + out.batch.failed.0, out.batch.planned.0);
    // The batch keeps each accepted return file, newest first, with the SHA-256 of its
    // bytes; the refused files, and the repeat of the first, left no record.
    let sha = |data: &[u8]| hex::encode(sha2::Sha256::digest(data));
    let kept: Vec<_> = app
        .bank_files()
        .return_files(&staff, b.id)
        .await
        .unwrap()
        .into_iter()
        .map(|f| {
            assert!(f.imported_at.starts_with("20"), "{}", f.imported_at);
            (
                f.file_name,
                f.sha256,
                (f.lines, f.paid_count, f.paid, f.failed_count, f.failed),
                f.imported_by,
            )
        })
        .collect();
    assert_eq!(
        kept,
        [
            (
                "回盘2.csv".to_string(),
                sha(&rest),
                (1, 1, Fen(30_000), 0, Fen(0)),
                staff.username.clone()
            ),
            (
                "回盘1.csv".to_string(),
                sha(&part),
                (2, 1, Fen(50_000), 1, Fen(42_050)),
                staff.username.clone()
            ),
        ]
    );
    // A return that read the batch as exported before this one reconciled it is not
    // counted at its write.
    {
        let mut tx = db.store().begin_write().await.unwrap();
        let one = minzheng_store::payroll::ReturnCounts {
            lines: 1,
            paid_count: 1,
            paid: Fen(30_000),
            failed_count: 0,
            failed: Fen(0),
        };
        let counted =
            minzheng_store::payroll::count_return(&mut tx, b.id, &one, "2026-12-01T00:00:00Z")
                .await
                .unwrap();
        assert!(!counted, "a reconciled batch counts no more returns");
    }
    assert!(matches!(
        app.bank_files()
            .import_return(&staff, b.id, "回盘2.csv", &rest)
            .await,
        Err(Error::Conflict(_))
    ));
    let ex = app
        .payroll()
        .exceptions(&sys(), Some("open"))
        .await
        .unwrap();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].line_id, c);
    assert_eq!(ex[0].fail_reason, "户名不符");
    let closed = app.payroll().close(&director, b.id).await.unwrap();
    assert_eq!(closed.status, BatchStatus::Closed);
}

/// A failed November payment is corrected (new account) and re-issued in December's batch
/// with November as its period, once; December's own payment goes to the new account too.
async fn exceptions_are_corrected_and_reissued_once(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    enrol(app, dibao(V1, "张三", 1, 50_000, "2026-01")).await;
    let b = signed_and_exported(app, "2026-11").await;
    let l = lines(app, &b).await;
    let file = return_csv(&[(l[0].id, "张三", "500.00", "失败", "账户冻结")], None);
    app.bank_files()
        .import_return(&staff, b.id, "回盘.csv", &file)
        .await
        .unwrap();
    let x = app
        .payroll()
        .exceptions(&sys(), Some("open"))
        .await
        .unwrap()[0]
        .clone();
    // Not re-issued before it is corrected.
    let dec = app
        .payroll()
        .generate(&staff, &req("2026-12"))
        .await
        .unwrap();
    assert_eq!(dec.created[0].reissue_count, 0);
    assert!(matches!(
        app.payroll()
            .correct_exception(
                &staff,
                x.id,
                &ExceptionCorrection {
                    account_number: "abc".into(),
                    ..Default::default()
                }
            )
            .await,
        Err(Error::Validation { .. })
    ));
    let waiting =
        |o: minzheng_domain::payroll::PayrollOverview| (o.open_exceptions, o.ready_exceptions);
    let o = app
        .payroll()
        .overview(&sys(), month("2026-12"))
        .await
        .unwrap();
    assert_eq!(waiting(o), (1, 0), "open, waiting for its correction");
    let fixed = app
        .payroll()
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
    assert_eq!(fixed.status, ExceptionStatus::Ready);
    let o = app
        .payroll()
        .overview(&sys(), month("2026-12"))
        .await
        .unwrap();
    assert_eq!(waiting(o), (0, 1), "corrected, waiting for its re-issue");
    // December's draft is regenerated: now with the re-issue, and the new account.
    let dec = app
        .payroll()
        .regenerate(&staff, dec.created[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dec.reissue_count, 1);
    assert_eq!(dec.reissue, Fen(50_000));
    let dl = lines(app, &dec).await;
    let re = dl.iter().find(|l| l.kind == LineKind::Reissue).unwrap();
    assert_eq!(re.period, month("2026-11"));
    assert_eq!(re.reissue_of, Some(l[0].id));
    assert_eq!(re.account_number, "6210987654321000");
    assert_eq!(re.bank_name, "中国邮政储蓄银行");
    let regular = dl.iter().find(|l| l.kind == LineKind::Regular).unwrap();
    assert_eq!(
        regular.account_number, "6210987654321000",
        "the household's account was corrected"
    );
    let x = app.payroll().exception(&sys(), x.id).await.unwrap();
    assert_eq!(x.status, ExceptionStatus::Reissued);
    assert_eq!(x.reissue_line_id, Some(re.id));
    // The fund ledger's month and program filters keep to what they name; an empty field
    // (a form's blank choice) filters nothing.
    let ledger = |from: &str, to: &str, program: &str| {
        let f = LedgerFilter {
            from: Some(from.into()),
            to: Some(to.into()),
            program: Some(program.into()),
            within: None,
        };
        async move {
            app.payroll()
                .ledger(&sys(), &f)
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.month.to_string(), r.program, r.lines))
                .collect::<Vec<_>>()
        }
    };
    let nov = ("2026-11".to_string(), Program::UrbanDibao, l.len() as i64);
    let december = ("2026-12".to_string(), Program::UrbanDibao, dl.len() as i64);
    let both = vec![nov.clone(), december.clone()];
    assert_eq!(ledger("", "", "").await, both);
    assert_eq!(ledger("2026-12", "", "").await, vec![december]);
    assert_eq!(ledger("", "2026-11", "").await, vec![nov]);
    assert_eq!(ledger("", "", "urban_dibao").await, both);
    assert_eq!(ledger("", "", "tekun").await, []);
    let trail = audit_actions(app, "payment_exception", &x.id.to_string()).await;
    assert_eq!(
        trail.first().map(String::as_str),
        Some("payroll.exception.reissue")
    );
    assert!(
        trail.iter().any(|a| a == "payroll.exception.correct"),
        "{trail:?}"
    );
    // Regenerated once more: the re-issue is released and taken again, both on record.
    let again = app
        .payroll()
        .regenerate(&staff, dec.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.reissue_count, 1);
    let trail = audit_actions(app, "payment_exception", &x.id.to_string()).await;
    assert_eq!(
        trail[..3],
        [
            "payroll.exception.reissue",
            "payroll.exception.release",
            "payroll.exception.reissue"
        ]
    );
    let x = app.payroll().exception(&sys(), x.id).await.unwrap();
    assert_eq!(x.status, ExceptionStatus::Reissued);
    assert!(matches!(
        app.payroll()
            .correct_exception(
                &staff,
                x.id,
                &ExceptionCorrection {
                    account_number: "6210987654321000".into(),
                    ..Default::default()
                }
            )
            .await,
        Err(Error::Conflict(_))
    ));
    // January: no second re-issue.
    let jan = app
        .payroll()
        .generate(&staff, &req("2027-01"))
        .await
        .unwrap();
    assert_eq!(jan.created[0].reissue_count, 0);
    // The hard guarantee: a second November line for the same person cannot exist.
    let dup =
        fixtures::insert_back_pay_line(app, dec.id, month("2026-11"), V1, "张三", &id_no(1)).await;
    assert!(dup.is_err(), "unique (beneficiary, program, period)");
    // The ledger: November planned 500, failed 500; December re-issued 500.
    app.payroll()
        .sign_off(&director, dec.id, None)
        .await
        .unwrap();
    let ledger = app
        .payroll()
        .ledger(&sys(), &LedgerFilter::default())
        .await
        .unwrap();
    let nov = ledger.iter().find(|r| r.month == month("2026-11")).unwrap();
    assert_eq!(
        (nov.planned, nov.paid, nov.failed),
        (Fen(50_000), Fen(0), Fen(50_000))
    );
    let decl = ledger.iter().find(|r| r.month == month("2026-12")).unwrap();
    assert_eq!(
        (decl.planned, decl.reissued, decl.reissue_count),
        (Fen(100_000), Fen(50_000), 1)
    );
}

/// Other townships' batches are not found; roles that may not act are forbidden.
/// 西城's clerk gets 404 for 东城's draft batch — reading, signing off, regenerating,
/// closing, exporting, returning — and for generating 东城's month; inside the county the
/// approver sees it but may not sign it off (403), the auditor and the village assistant may
/// not generate (403). Afterwards the batch, its lines and its audit trail are as they were.
async fn jurisdiction_and_roles(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let staff2 = actor_of(app, "staff2").await;
    let auditor = actor_of(app, "auditor").await;
    let approver = actor_of(app, "approver").await;
    let assistant = actor_of(app, "assistant").await;
    enrol(app, dibao(V1, "张三", 1, 50_000, "2026-01")).await;
    let b = app
        .payroll()
        .generate(&staff, &req("2026-11"))
        .await
        .unwrap()
        .created[0]
        .clone();
    let lines_before = lines(app, &b).await;
    let trail_before = audit_actions(app, "payroll_batch", &b.id.to_string()).await;
    assert!(matches!(
        app.payroll().get(&staff2, b.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        app.payroll().sign_off(&staff2, b.id, None).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        app.payroll().regenerate(&staff2, b.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        app.payroll().close(&staff2, b.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        app.bank_files().export(&staff2, b.id, "utf8-csv").await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        app.bank_files().downloads(&staff2, b.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        app.bank_files().return_files(&staff2, b.id).await,
        Err(Error::NotFound(_))
    ));
    let file = format!(
        "明细号,姓名,金额(分),处理结果,失败原因\n{},张三,50000,失败,账户冻结\n",
        lines_before[0].id
    );
    assert!(matches!(
        app.bank_files()
            .import_return(&staff2, b.id, "回盘.csv", file.as_bytes())
            .await,
        Err(Error::NotFound(_))
    ));
    assert!(app
        .payroll()
        .list(&staff2, &BatchFilter::default())
        .await
        .unwrap()
        .is_empty());
    // Generating 东城 from 西城 is refused as not found.
    let mut other = req("2026-11");
    other.within = Some(DONGCHENG.into());
    assert!(matches!(
        app.payroll().generate(&staff2, &other).await,
        Err(Error::NotFound(_))
    ));
    // The county sees it but does not sign off a township's payroll; the auditor reads only.
    assert_eq!(app.payroll().get(&approver, b.id).await.unwrap().id, b.id);
    assert!(matches!(
        app.payroll().sign_off(&approver, b.id, None).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        app.payroll().generate(&auditor, &req("2026-12")).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        app.payroll().generate(&assistant, &req("2026-12")).await,
        Err(Error::Forbidden(_))
    ));
    assert_eq!(
        app.payroll()
            .ledger(&auditor, &LedgerFilter::default())
            .await
            .unwrap()
            .len(),
        1
    );
    // 东城's batch is as it was: still a draft of the same generation, the same lines, and
    // nothing in its audit trail but its generation.
    let now = app.payroll().get(&sys(), b.id).await.unwrap();
    assert_eq!(
        serde_json::to_value(&now).unwrap(),
        serde_json::to_value(&b).unwrap()
    );
    assert_eq!(now.status, BatchStatus::Draft);
    assert_eq!(
        serde_json::to_value(lines(app, &b).await).unwrap(),
        serde_json::to_value(&lines_before).unwrap()
    );
    assert_eq!(
        audit_actions(app, "payroll_batch", &b.id.to_string()).await,
        trail_before
    );
    assert!(app
        .payroll()
        .exceptions(&sys(), None)
        .await
        .unwrap()
        .is_empty());
    // Nor was a batch made for December by the roles refused.
    assert_eq!(
        app.payroll()
            .list(&sys(), &BatchFilter::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

/// The demo, in `serve --demo`'s order (registry, cases, payroll): registry households of 东城
/// and 西城 become 低保 enrolments with accounts beside the cases' own enrolments, a month
/// generates for both townships and every batch can be signed off (every line has an
/// account); seeding twice adds nothing.
async fn demo_enrolments_make_a_payable_month(db: &TestDb) {
    let app = seeded(db).await;
    app.demo().registry(600, 7).await.unwrap();
    let from_cases = app
        .demo()
        .cases(chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap())
        .await
        .unwrap();
    assert!(from_cases > 0);
    let added = app.demo().payroll_enrolments().await.unwrap();
    assert!(
        added > 0,
        "the cases' enrolments do not stop the payroll demo"
    );
    assert_eq!(app.demo().payroll_enrolments().await.unwrap(), 0);
    // Last month's history: reconciled, one 退票 in 东城; only once.
    let n = app.demo().payroll_history(month("2026-10")).await.unwrap();
    assert!(n >= 2, "{n}");
    assert_eq!(
        app.demo().payroll_history(month("2026-10")).await.unwrap(),
        0
    );
    let oct = app
        .payroll()
        .list(&sys(), &BatchFilter::default())
        .await
        .unwrap();
    assert_eq!(oct.len(), n);
    assert!(oct
        .iter()
        .all(|b| b.status == BatchStatus::Reconciled && b.month == month("2026-10")));
    let open = app
        .payroll()
        .exceptions(&sys(), Some("open"))
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].township_code, DONGCHENG);
    let out = app
        .payroll()
        .generate(&Actor::system("t"), &req("2026-11"))
        .await
        .unwrap();
    assert!(
        out.lines >= added,
        "{} lines, {added} demo enrolments",
        out.lines
    );
    for b in &out.created {
        app.payroll()
            .sign_off(&Actor::system("t"), b.id, None)
            .await
            .unwrap_or_else(|e| panic!("{} signs off: {e}", b.batch_no));
    }
    let towns: std::collections::BTreeSet<&str> = out
        .created
        .iter()
        .map(|b| b.township_code.as_str())
        .collect();
    assert!(
        towns.contains("511802001") && towns.contains("511802002"),
        "{towns:?}"
    );
    for b in &out.created {
        assert!(lines(app, b)
            .await
            .iter()
            .all(|l| l.account_number.len() >= 16 && l.amount.0 > 0));
    }
}

/// Many banks still send Excel 97–2003 (.xls) return files. The fixture was written by
/// xlwt as a bank's export holds it (line number and amount as numbers) for the first line
/// of a fresh database: 张三, 500.00 元, failed (账户冻结).
async fn excel_97_return_files_are_read(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    enrol(app, dibao(V1, "张三", 1, 50_000, "2026-01")).await;
    let b = signed_and_exported(app, "2026-11").await;
    let l = lines(app, &b).await;
    assert_eq!(l[0].id, 1, "the fixture names line 1");
    // An .xls that is not a workbook is refused, and nothing changes.
    let e = app
        .bank_files()
        .import_return(
            &staff,
            b.id,
            "回盘.xls",
            &return_csv(&[(1, "张三", "500.00", "成功", "")], None),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("不是Excel工作簿"), "{e}");
    assert_untouched(app, &b).await;
    let xls = include_bytes!("data/return-line1-failed.xls");
    app.bank_files()
        .import_return(&staff, b.id, "回盘.xls", xls)
        .await
        .unwrap();
    let l = lines(app, &b).await;
    assert_eq!(l[0].status, LineStatus::Failed);
    let x = app
        .payroll()
        .exceptions(&sys(), Some("open"))
        .await
        .unwrap();
    assert_eq!(x.len(), 1);
    assert!(x[0].fail_reason.contains("账户冻结"), "{:?}", x[0]);
}

/// A back-pay request may cite a case only if the case exists, is inside the clerk's
/// jurisdiction and is about the same beneficiary; otherwise it is refused on the field and
/// nothing is written. A batch narrowed to a division that does not exist is not found.
async fn back_pay_cites_only_a_case_of_its_beneficiary(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let late = enrol(app, dibao(V1, "丙", 4, 10_000, "2026-09")).await;
    let other = enrol(app, dibao(V1, "丁", 5, 10_000, "2026-09")).await;
    let other_household = fixtures::household_of(app, other).await.unwrap();
    let others_case = fixtures::case(
        app,
        "QT-2026-0001",
        "new",
        Program::UrbanDibao,
        other_household,
        Some(other),
    )
    .await
    .unwrap();
    let household = fixtures::household_of(app, late).await.unwrap();
    let own_case = fixtures::case(
        app,
        "QT-2026-0002",
        "new",
        Program::UrbanDibao,
        household,
        Some(late),
    )
    .await
    .unwrap();
    let ask = |case_id: Option<i64>| NewBackPay {
        enrolment_id: late,
        period: "2026-10".into(),
        amount: String::new(),
        reason: "审批滞后".into(),
        case_id,
    };
    let audits = fixtures::audit_actions(app, "payroll_adjustment", "1")
        .await
        .unwrap()
        .len();
    for bad in [999_999, others_case] {
        let e = app
            .payroll()
            .request_back_pay(&staff, &ask(Some(bad)))
            .await
            .unwrap_err();
        match &e {
            Error::Validation { fields, .. } => {
                assert!(fields["case_id"].contains("不是该保障对象的案件"), "{e}")
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(app
        .payroll()
        .back_pay_list(&staff)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        fixtures::audit_actions(app, "payroll_adjustment", "1")
            .await
            .unwrap()
            .len(),
        audits
    );
    app.payroll()
        .request_back_pay(&staff, &ask(Some(own_case)))
        .await
        .unwrap();
    // Generation narrowed to a division code that is no division.
    let mut r = req("2026-11");
    r.within = Some("511802001999".into());
    assert!(matches!(
        app.payroll().generate(&staff, &r).await,
        Err(Error::NotFound(_))
    ));
}

/// Return files are read whole, so they are checked against the input limits first: a
/// workbook with an endless cell, an .xls whose cells span its sheet, a CSV with an
/// endless line or beyond the columns — each refused with the limit named, nothing
/// changed; the file a bank would send still reconciles afterwards.
async fn hostile_return_files_are_refused_and_change_nothing(db: &TestDb) {
    use minzheng_app::testing::hostile;
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    enrol(app, dibao(V1, "张三", 1, 50_000, "2026-01")).await;
    let b = signed_and_exported(app, "2026-11").await;
    let refused = |e: Error, expect: &[&str]| match e {
        Error::Validation { fields, .. } => {
            for x in expect {
                assert!(
                    fields["file"].contains(x),
                    "{x:?} not in {}",
                    fields["file"]
                );
            }
        }
        other => panic!("expected the file refused, got {other:?}"),
    };
    let mut wide = String::from("明细号,姓名,金额(元),处理结果");
    wide.push_str(&",".repeat(300));
    wide.push_str("x\n1,张三,500.00,成功\n");
    for (name, data, expect) in [
        (
            "回盘.xlsx",
            hostile::huge_cell(&[], 32 << 20),
            &["单元格C2", "max_cell_bytes"][..],
        ),
        (
            "回盘.xls",
            hostile::xls_far_corner(),
            &["整表读入", "max_cells"][..],
        ),
        (
            "回盘.csv",
            {
                let mut d = return_csv(&[(1, "张三", "500.00", "成功", "")], None);
                d.extend(vec![b'9'; 1 << 20]);
                d
            },
            &["回盘文件第3行起", "max_line_bytes"][..],
        ),
        (
            "回盘.csv",
            wide.into_bytes(),
            &["回盘文件第1行第304列", "max_columns"][..],
        ),
    ] {
        let e = app
            .bank_files()
            .import_return(&staff, b.id, name, &data)
            .await
            .unwrap_err();
        refused(e, expect);
        assert_untouched(app, &b).await;
    }
    app.bank_files()
        .import_return(
            &staff,
            b.id,
            "回盘.csv",
            &return_csv(&[(1, "张三", "500.00", "成功", "")], None),
        )
        .await
        .unwrap();
}

/// PostgreSQL partitions payroll lines and the audit log by year: a month of a year beyond
/// the ones the migration made gets its year's partition (and the next) before its lines
/// are written, the lines land there and are read back as before; audit records of three
/// years (one with no partition of its own, kept by the default partition) form one chain
/// that verifies in sequence order across the partitions, and a break in any of them is
/// found.
#[minzheng_test_services::needs_postgres]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partitions_by_year_hold_lines_and_one_audit_chain() {
    let db = TestDb::postgres().await;
    let app = seeded(&db).await;
    let staff = actor_of(app, "staff").await;
    enrol(app, dibao(V1, "甲", 1, 50_000, "2026-01")).await;
    let before: Vec<String> = db
        .partitions("payroll_lines")
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(before.contains(&"payroll_lines_default".to_string()));
    assert!(!before.contains(&"payroll_lines_2040".to_string()));
    let out = app
        .payroll()
        .generate(&staff, &req("2040-03"))
        .await
        .unwrap();
    assert_eq!(out.lines, 1);
    let after = db.partitions("payroll_lines").await;
    let count = |name: &str| after.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
    assert_eq!(count("payroll_lines_2040"), Some(1), "{after:?}");
    assert_eq!(count("payroll_lines_2041"), Some(0));
    assert_eq!(count("payroll_lines_default"), Some(0));
    let batch = &out.created[0];
    let read = lines(app, batch).await;
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].beneficiary_name, "甲");
    assert_eq!(read[0].amount, Fen(50_000));

    // The audit chain across partitions: a record of 2040 (partition made above), one of
    // 2050 (none: the default partition), then today's.
    db.append_audit_at("2040-06-01T00:00:00.000000Z", "a").await;
    let far = db.append_audit_at("2050-06-01T00:00:00.000000Z", "b").await;
    enrol(app, dibao(V2, "乙", 2, 30_000, "2026-01")).await;
    let audit = db.partitions("audit_log").await;
    let held = |name: &str| audit.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
    assert_eq!(held("audit_log_2040"), Some(1), "{audit:?}");
    assert_eq!(held("audit_log_default"), Some(1));
    assert!(audit.iter().filter(|(_, c)| *c > 0).count() >= 3);
    let v = app.audit().verify().await.unwrap();
    assert!(v.first_break.is_none(), "{:?}", v.first_break);
    db.tamper_audit(minzheng_app::testing::AuditTamper::SetActor(far, "某人"))
        .await;
    let v = app.audit().verify().await.unwrap();
    assert_eq!(v.first_break.map(|b| b.seq), Some(far));
    db.cleanup().await;
}

/// The month's review: the director signs all of the township's drafts at once, each as
/// reviewed. One stale batch (regenerated since the review), one of another township, or
/// an empty selection signs nothing; the right selection signs every batch.
async fn the_months_drafts_are_signed_off_together_or_not_at_all(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let staff2 = actor_of(app, "staff2").await;
    let director = actor_of(app, "director").await;
    enrol(app, dibao(V1, "张三", 1, 50_000, "2026-01")).await;
    enrol(
        app,
        FixtureEnrolment::new(
            Program::RuralDibao,
            V2,
            "李四",
            &id_no(2),
            42_050,
            "2026-01",
        ),
    )
    .await;
    enrol(app, dibao(XICHENG_V, "王五", 3, 30_000, "2026-01")).await;
    let ours = app
        .payroll()
        .generate(&staff, &req("2026-11"))
        .await
        .unwrap();
    assert_eq!(ours.created.len(), 2, "two programs, two drafts");
    let theirs = app
        .payroll()
        .generate(&staff2, &req("2026-11"))
        .await
        .unwrap();
    let reviewed: Vec<(i64, String)> = ours
        .created
        .iter()
        .map(|b| (b.id, b.generated_at.clone()))
        .collect();
    let statuses = |ids: Vec<i64>| async move {
        let mut out = Vec::new();
        for id in ids {
            out.push(app.payroll().get(&sys(), id).await.unwrap().status);
        }
        out
    };
    let all_ids: Vec<i64> = ours
        .created
        .iter()
        .chain(&theirs.created)
        .map(|b| b.id)
        .collect();

    assert!(matches!(
        app.payroll().sign_off_all(&director, &[]).await,
        Err(Error::Validation { .. })
    ));
    // Another township's batch among them: not found, nothing signed.
    let mut with_foreign = reviewed.clone();
    with_foreign.push((theirs.created[0].id, theirs.created[0].generated_at.clone()));
    assert!(matches!(
        app.payroll().sign_off_all(&director, &with_foreign).await,
        Err(Error::NotFound(_))
    ));
    // The second batch was regenerated after the review: refused by name, nothing signed.
    let stale = ours.created[1].clone();
    app.payroll().regenerate(&staff, stale.id).await.unwrap();
    match app.payroll().sign_off_all(&director, &reviewed).await {
        Err(Error::Conflict(m)) => {
            assert!(m.contains(&stale.batch_no) && m.contains("重新生成"), "{m}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        statuses(all_ids.clone()).await,
        [BatchStatus::Draft, BatchStatus::Draft, BatchStatus::Draft]
    );
    // The clerk may not sign.
    assert!(matches!(
        app.payroll().sign_off_all(&staff, &reviewed).await,
        Err(Error::Forbidden(_))
    ));
    // Reviewed as they are now: both signed, the other township's left alone.
    let fresh: Vec<(i64, String)> = {
        let mut v = Vec::new();
        for b in &ours.created {
            let now = app.payroll().get(&sys(), b.id).await.unwrap();
            v.push((now.id, now.generated_at));
        }
        v
    };
    let signed = app.payroll().sign_off_all(&director, &fresh).await.unwrap();
    assert_eq!(signed.len(), 2);
    assert_eq!(
        statuses(all_ids).await,
        [
            BatchStatus::SignedOff,
            BatchStatus::SignedOff,
            BatchStatus::Draft
        ]
    );
}
