//! 调标批次 through the app: a 高龄津贴 beneficiary turning 90 is re-priced in the month
//! the start rule names, once; the director's sign-off applies the calculator's amount
//! with an audit record per enrolment and the payroll pays it; other roles and other
//! townships are refused and change nothing; a month already paid at the old amount gets
//! its difference as approved back pay (调标补差), and a lower amount for a month paid is
//! refused. Every case runs on SQLite, and on PostgreSQL when
//! `MINZHENG_TEST_POSTGRES_URL` is set.

use chrono::NaiveDate;
use minzheng_app::testing::payroll::{self as fixtures, FixtureEnrolment};
use minzheng_app::testing::TestDb;
use minzheng_app::{App, Error};
use minzheng_domain::calculators::old_age_allowance;
use minzheng_domain::params::{AgeStartRule, NewParam, ParamName};
use minzheng_domain::payroll::{BackPayStatus, GenerateRequest, LineFilter, LineKind};
use minzheng_domain::repricing::{RepricingReview, RepricingStatus};
use minzheng_domain::{
    Actor, DivisionCode, Fen, IdNumber, Program, Role, Scope, UrbanRural, YearMonth,
};

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
    turning_ninety_moves_band_in_the_month_after_the_birthday_once,
    with_the_same_month_rule_the_band_moves_in_the_birthday_month,
    two_preparations_at_once_list_each_enrolment_once,
    sign_off_applies_the_calculators_amount_and_the_payroll_pays_it,
    other_roles_and_townships_are_refused_and_change_nothing,
    a_month_already_paid_gets_its_difference_as_back_pay,
    a_lower_amount_for_a_month_paid_is_refused,
);

const VILLAGE: &str = "511802001001";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn month(s: &str) -> YearMonth {
    YearMonth::parse(s).unwrap()
}

fn id(first17: &str) -> String {
    let c = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    format!("{first17}{c}")
}

fn sys() -> Actor {
    Actor::system("t")
}

/// 周桂英, born 15 March 1936: 90 on 15 March 2026, paid the 80–89 band (60 元) since 2025.
async fn seeded_with_nonagenarian(db: &TestDb) -> (&App, i64) {
    let app = &db.app;
    app.demo().ensure().await.expect("seed demo");
    let eid = fixtures::enrol(
        app,
        &FixtureEnrolment::new(
            Program::OldAgeAllowance,
            VILLAGE,
            "周桂英",
            &id("51180219360315002"),
            6_000,
            "2025-01",
        ),
    )
    .await
    .unwrap();
    (app, eid)
}

/// The lines of `eid` in the batches of `month` in the actor's view.
async fn lines_of(app: &App, eid: i64) -> Vec<(RepricingReview, usize)> {
    let mut out = Vec::new();
    for b in app.repricing().list(&sys(), None).await.unwrap() {
        let r = app.repricing().review(&sys(), b.id).await.unwrap();
        let n = r.lines.iter().filter(|l| l.enrolment_id == eid).count();
        if n > 0 {
            out.push((r, n));
        }
    }
    out
}

async fn monthly_of(app: &App, eid: i64) -> Fen {
    let (all, _) = app
        .cases()
        .enrolments(&sys(), &Default::default())
        .await
        .unwrap();
    all.into_iter()
        .find(|e| e.id == eid)
        .expect("the enrolment")
        .monthly_fen
}

async fn turning_ninety_moves_band_in_the_month_after_the_birthday_once(db: &TestDb) {
    let (app, eid) = seeded_with_nonagenarian(db).await;
    let r = app.repricing();
    // The demo's start rule: the band applies from the month after the birthday month.
    let march = r
        .prepare_age_bands(&sys(), month("2026-03"), None, d("2026-03-01"))
        .await
        .unwrap();
    assert!(march.considered > 0);
    assert!(lines_of(app, eid).await.is_empty(), "March is still 80–89");
    let april = r
        .prepare_age_bands(&sys(), month("2026-04"), None, d("2026-04-01"))
        .await
        .unwrap();
    assert!(april.added >= 1);
    let found = lines_of(app, eid).await;
    assert_eq!(found.len(), 1);
    let (review, n) = &found[0];
    assert_eq!(*n, 1);
    assert_eq!(review.batch.month, month("2026-04"));
    assert_eq!(review.batch.status, RepricingStatus::Pending);
    assert_eq!(review.batch.township_code, "511802001");
    let line = review.lines.iter().find(|l| l.enrolment_id == eid).unwrap();
    assert_eq!(
        (line.old_amount, line.new_amount),
        (Fen(6_000), Fen(12_000))
    );
    assert_eq!(line.difference(), Fen(6_000));
    assert!(line
        .explanation
        .steps
        .iter()
        .any(|s| s.label == "计算年龄" && s.value == "90周岁"));
    // Again for April, and for May while April waits: nothing is added.
    let again = r
        .prepare_age_bands(&sys(), month("2026-04"), None, d("2026-04-01"))
        .await
        .unwrap();
    assert_eq!(again.added, 0);
    assert!(again.batches.is_empty());
    r.prepare_age_bands(&sys(), month("2026-05"), None, d("2026-05-01"))
        .await
        .unwrap();
    let found = lines_of(app, eid).await;
    assert_eq!(found.len(), 1, "one line in one batch");
    assert_eq!(found[0].1, 1);
    // Nothing is paid differently before the sign-off.
    assert_eq!(monthly_of(app, eid).await, Fen(6_000));
}

async fn with_the_same_month_rule_the_band_moves_in_the_birthday_month(db: &TestDb) {
    let (app, eid) = seeded_with_nonagenarian(db).await;
    // The city rules that a band applies from the month the age is reached, from 2026.
    app.params()
        .add(
            &sys(),
            &NewParam {
                program: "old_age_allowance".into(),
                name: "age_start_rule".into(),
                region: "5118".into(),
                urban_rural: String::new(),
                effective_from: "2026-01-01".into(),
                value_json: "\"same_month\"".into(),
                source: "市民政局通知".into(),
            },
        )
        .await
        .unwrap();
    let r = app.repricing();
    r.prepare_age_bands(&sys(), month("2026-02"), None, d("2026-02-01"))
        .await
        .unwrap();
    assert!(
        lines_of(app, eid).await.is_empty(),
        "February is still 80–89"
    );
    r.prepare_age_bands(&sys(), month("2026-03"), None, d("2026-03-01"))
        .await
        .unwrap();
    let found = lines_of(app, eid).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0.batch.month, month("2026-03"));
    let line = found[0]
        .0
        .lines
        .iter()
        .find(|l| l.enrolment_id == eid)
        .unwrap();
    assert_eq!(line.new_amount, Fen(12_000));
    assert!(line
        .explanation
        .inputs
        .iter()
        .any(|i| i.value == "达到年龄当月起"));
}

async fn two_preparations_at_once_list_each_enrolment_once(db: &TestDb) {
    let (app, eid) = seeded_with_nonagenarian(db).await;
    let staff = fixtures::actor(app, "staff").await.unwrap();
    let (system, r) = (sys(), app.repricing());
    let (april, on) = (month("2026-04"), d("2026-04-01"));
    let (a, b) = tokio::join!(
        r.prepare_age_bands(&system, april, None, on),
        r.prepare_age_bands(&staff, april, None, on),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.added + b.added >= 1);
    let found = lines_of(app, eid).await;
    assert_eq!(found.len(), 1, "one batch");
    assert_eq!(found[0].1, 1, "one line");
    let pending = app
        .repricing()
        .list(&sys(), Some(RepricingStatus::Pending))
        .await
        .unwrap();
    let dongcheng = pending
        .iter()
        .filter(|b| b.township_code == "511802001")
        .count();
    assert_eq!(dongcheng, 1);
}

async fn sign_off_applies_the_calculators_amount_and_the_payroll_pays_it(db: &TestDb) {
    let (app, eid) = seeded_with_nonagenarian(db).await;
    let director = fixtures::actor(app, "director").await.unwrap();
    let staff = fixtures::actor(app, "staff").await.unwrap();
    // The township's staff prepare April for their township.
    let prepared = app
        .repricing()
        .prepare_age_bands(&staff, month("2026-04"), None, d("2026-04-01"))
        .await
        .unwrap();
    let batch = prepared
        .batches
        .iter()
        .find(|b| b.township_code == "511802001")
        .expect("a batch for 东城街道")
        .clone();
    // Not before April.
    assert!(matches!(
        app.repricing()
            .sign_off(&director, batch.id, d("2026-03-31"))
            .await,
        Err(Error::Conflict(_))
    ));
    let done = app
        .repricing()
        .sign_off(&director, batch.id, d("2026-04-02"))
        .await
        .unwrap();
    assert_eq!(done.batch.status, RepricingStatus::Applied);
    assert_eq!(done.applied as i64, batch.line_count - batch.zero_count);
    // The amount is the calculator's, with the parameters in force in April.
    let params = app.params().set(&sys()).await.unwrap();
    let region = DivisionCode::parse_native(VILLAGE).unwrap();
    let qy = params.at(&region, Some(UrbanRural::Rural), d("2026-04-01"));
    let calc = old_age_allowance(
        &IdNumber::parse(&id("51180219360315002"), d("2026-04-01")).unwrap(),
        month("2026-04"),
        &qy.age_bands(Program::OldAgeAllowance, ParamName::AgeBands)
            .unwrap(),
        qy.age_start_rule(Program::OldAgeAllowance, ParamName::AgeStartRule)
            .unwrap_or(AgeStartRule::NextMonth),
    )
    .unwrap();
    assert_eq!(monthly_of(app, eid).await, calc.amount);
    assert_eq!(calc.amount, Fen(12_000));
    // Every applied enrolment has its audit record, with the old and new amount.
    let trail = fixtures::audit_trail(app, "enrolment", &eid.to_string())
        .await
        .unwrap();
    let rec = trail
        .iter()
        .find(|a| a.action == "repricing.apply")
        .expect("audited");
    assert_eq!(rec.actor, "director");
    for line in app
        .repricing()
        .review(&sys(), batch.id)
        .await
        .unwrap()
        .lines
    {
        if line.needs_decision() {
            continue;
        }
        let actions = fixtures::audit_actions(app, "enrolment", &line.enrolment_id.to_string())
            .await
            .unwrap();
        assert!(actions.iter().any(|a| a == "repricing.apply"), "{line:?}");
    }
    assert!(fixtures::audit_intact(app).await.unwrap());
    // Signed once.
    assert!(matches!(
        app.repricing()
            .sign_off(&director, batch.id, d("2026-04-02"))
            .await,
        Err(Error::Conflict(_))
    ));
    // May adds nothing: the enrolment pays its band.
    app.repricing()
        .prepare_age_bands(&staff, month("2026-05"), None, d("2026-05-01"))
        .await
        .unwrap();
    assert_eq!(lines_of(app, eid).await.len(), 1);
    // April's payroll pays the new amount.
    let out = app
        .payroll()
        .generate(
            &sys(),
            &GenerateRequest {
                month: month("2026-04"),
                program: Some(Program::OldAgeAllowance),
                within: Some("511802001".into()),
            },
        )
        .await
        .unwrap();
    let b = &out.created[0];
    let lines = app
        .payroll()
        .lines(&sys(), b.id, &LineFilter::default())
        .await
        .unwrap()
        .0;
    let line = lines
        .iter()
        .find(|l| l.enrolment_id == eid && l.kind == LineKind::Regular)
        .unwrap();
    assert_eq!(line.amount, Fen(12_000));
}

async fn other_roles_and_townships_are_refused_and_change_nothing(db: &TestDb) {
    let (app, eid) = seeded_with_nonagenarian(db).await;
    let staff = fixtures::actor(app, "staff").await.unwrap();
    let assistant = fixtures::actor(app, "assistant").await.unwrap();
    let auditor = fixtures::actor(app, "auditor").await.unwrap();
    let elsewhere = Actor {
        user_id: None,
        username: "xc_director".into(),
        role: Some(Role::TownshipDirector),
        scope: Scope::of(DivisionCode::parse_native("511802002").unwrap()),
    };
    assert!(matches!(
        app.repricing()
            .prepare_age_bands(&assistant, month("2026-04"), None, d("2026-04-01"))
            .await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        app.repricing()
            .prepare_age_bands(&staff, month("2026-04"), Some("511802002"), d("2026-04-01"))
            .await,
        Err(Error::NotFound(_))
    ));
    let prepared = app
        .repricing()
        .prepare_age_bands(&staff, month("2026-04"), None, d("2026-04-01"))
        .await
        .unwrap();
    let batch = prepared.batches[0].clone();
    for who in [&staff, &auditor] {
        assert!(
            matches!(
                app.repricing()
                    .sign_off(who, batch.id, d("2026-04-02"))
                    .await,
                Err(Error::Forbidden(_))
            ),
            "{who:?}"
        );
        assert!(matches!(
            app.repricing().void(who, batch.id).await,
            Err(Error::Forbidden(_))
        ));
    }
    // Another township's director does not see the batch at all.
    assert!(matches!(
        app.repricing().review(&elsewhere, batch.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        app.repricing()
            .sign_off(&elsewhere, batch.id, d("2026-04-02"))
            .await,
        Err(Error::NotFound(_))
    ));
    assert!(app
        .repricing()
        .list(&elsewhere, None)
        .await
        .unwrap()
        .is_empty());
    let still = app.repricing().review(&sys(), batch.id).await.unwrap();
    assert_eq!(still.batch.status, RepricingStatus::Pending);
    assert_eq!(monthly_of(app, eid).await, Fen(6_000));
    let actions = fixtures::audit_actions(app, "enrolment", &eid.to_string())
        .await
        .unwrap();
    assert!(!actions.iter().any(|a| a.starts_with("repricing")));
    // The auditor sees the batch, with ID numbers masked.
    let seen = app.repricing().review(&auditor, batch.id).await.unwrap();
    assert!(seen
        .lines
        .iter()
        .all(|l| l.beneficiary_id_number.contains('*')));
}

async fn a_month_already_paid_gets_its_difference_as_back_pay(db: &TestDb) {
    let (app, eid) = seeded_with_nonagenarian(db).await;
    let director = fixtures::actor(app, "director").await.unwrap();
    let staff = fixtures::actor(app, "staff").await.unwrap();
    let generate = |m: &'static str| async move {
        app.payroll()
            .generate(
                &sys(),
                &GenerateRequest {
                    month: month(m),
                    program: Some(Program::OldAgeAllowance),
                    within: Some("511802001".into()),
                },
            )
            .await
            .unwrap()
            .created
            .into_iter()
            .find(|b| b.township_code == "511802001")
            .unwrap()
    };
    // April is paid at the old amount before the batch is signed; May is a draft.
    let april = generate("2026-04").await;
    app.payroll()
        .sign_off(&director, april.id, None)
        .await
        .unwrap();
    let may_draft = generate("2026-05").await;
    let prepared = app
        .repricing()
        .prepare_age_bands(&staff, month("2026-04"), None, d("2026-04-01"))
        .await
        .unwrap();
    let batch = prepared.batches[0].clone();
    let done = app
        .repricing()
        .sign_off(&director, batch.id, d("2026-05-02"))
        .await
        .unwrap();
    assert_eq!(monthly_of(app, eid).await, Fen(12_000));
    assert_eq!(done.drafts_to_regenerate, vec![may_draft.id]);
    // April's difference, 60 元, is approved back pay (调标补差), asked for by whoever
    // prepared the batch and approved by the director.
    assert!(done.top_up_count >= 1);
    let top_up = app
        .payroll()
        .back_pay_list(&sys())
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.enrolment_id == eid)
        .expect("a top-up for April");
    assert_eq!(top_up.period, month("2026-04"));
    assert_eq!(top_up.amount, Fen(6_000));
    assert_eq!(top_up.status, BackPayStatus::Approved);
    assert_eq!(top_up.requested_by, "staff");
    assert_eq!(top_up.decided_by.as_deref(), Some("director"));
    assert!(top_up.reason.contains("调标补差"), "{}", top_up.reason);
    let actions = fixtures::audit_actions(app, "payroll_adjustment", &top_up.id.to_string())
        .await
        .unwrap();
    assert_eq!(actions, ["payroll.back_pay.top_up"]);
    // May, generated again, pays the new amount and April's difference beside April's line.
    let may = app
        .payroll()
        .regenerate(&staff, may_draft.id)
        .await
        .unwrap()
        .expect("May keeps its lines");
    let lines = app
        .payroll()
        .lines(&sys(), may.id, &LineFilter::default())
        .await
        .unwrap()
        .0;
    let mine: Vec<_> = lines.iter().filter(|l| l.enrolment_id == eid).collect();
    let regular = mine.iter().find(|l| l.kind == LineKind::Regular).unwrap();
    assert_eq!(
        (regular.period, regular.amount),
        (month("2026-05"), Fen(12_000))
    );
    let diff = mine.iter().find(|l| l.kind == LineKind::TopUp).unwrap();
    assert_eq!((diff.period, diff.amount), (month("2026-04"), Fen(6_000)));
    // April in all: 60 元 paid with April, 60 元 with May — the 90–99 band.
    let april_lines = app
        .payroll()
        .lines(&sys(), april.id, &LineFilter::default())
        .await
        .unwrap()
        .0;
    let april_paid = april_lines
        .iter()
        .find(|l| l.enrolment_id == eid)
        .unwrap()
        .amount;
    assert_eq!(Fen(april_paid.0 + diff.amount.0), Fen(12_000));
}

async fn a_lower_amount_for_a_month_paid_is_refused(db: &TestDb) {
    let app = &db.app;
    app.demo().ensure().await.expect("seed demo");
    let director = fixtures::actor(app, "director").await.unwrap();
    // 吴秀兰, 96, is paid 150 元 where her band (90–99) pays 120 元; April is paid already.
    let eid = fixtures::enrol(
        app,
        &FixtureEnrolment::new(
            Program::OldAgeAllowance,
            VILLAGE,
            "吴秀兰",
            &id("51180219300101004"),
            15_000,
            "2025-01",
        ),
    )
    .await
    .unwrap();
    let april = app
        .payroll()
        .generate(
            &sys(),
            &GenerateRequest {
                month: month("2026-04"),
                program: Some(Program::OldAgeAllowance),
                within: Some("511802001".into()),
            },
        )
        .await
        .unwrap()
        .created[0]
        .clone();
    app.payroll()
        .sign_off(&director, april.id, None)
        .await
        .unwrap();
    let prepared = app
        .repricing()
        .prepare_age_bands(&sys(), month("2026-04"), Some("511802001"), d("2026-04-01"))
        .await
        .unwrap();
    let batch = prepared.batches[0].clone();
    match app
        .repricing()
        .sign_off(&director, batch.id, d("2026-05-02"))
        .await
    {
        Err(Error::Conflict(m)) => assert!(m.contains("吴秀兰（2026-04）"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(monthly_of(app, eid).await, Fen(15_000));
    let still = app.repricing().review(&sys(), batch.id).await.unwrap();
    assert_eq!(still.batch.status, RepricingStatus::Pending);
    // Voided, it frees the enrolment for a new batch.
    let voided = app.repricing().void(&director, batch.id).await.unwrap();
    assert_eq!(voided.status, RepricingStatus::Void);
    let again = app
        .repricing()
        .prepare_age_bands(&sys(), month("2026-04"), Some("511802001"), d("2026-04-01"))
        .await
        .unwrap();
    assert!(again.added >= 1);
}
