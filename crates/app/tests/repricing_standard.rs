//! 调整标准 through the app: the city admin adds a higher 城市低保 standard and the system
//! prepares the township batches of its effective month — exactly the enrolments whose
//! computed amount the new standard changes, at the calculator's amounts, nothing of the
//! programs the standard does not enter; a second preparation adds nothing; the county
//! approver signs (the program's approval level is the county's), the amounts are applied
//! with an audit record per enrolment and the payroll pays them; an effective month
//! already paid gets its top-up once; refused actors change nothing. Every case runs on
//! SQLite, and on PostgreSQL when `MINZHENG_TEST_POSTGRES_URL` is set.

use std::collections::HashMap;

use chrono::NaiveDate;
use minzheng_app::params::Added;
use minzheng_app::testing::payroll::{self as fixtures, FixtureEnrolment};
use minzheng_app::testing::TestDb;
use minzheng_app::{App, Error};
use minzheng_domain::cases::Enrolment;
use minzheng_domain::params::NewParam;
use minzheng_domain::payroll::{GenerateRequest, LineFilter, LineKind};
use minzheng_domain::repricing::{RepricingLine, RepricingReason, RepricingStatus};
use minzheng_domain::{Actor, Fen, Program, YearMonth};

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
    a_higher_city_dibao_standard_reprices_exactly_the_enrolments_it_changes,
    an_effective_month_already_paid_gets_its_top_up_once,
    refused_actors_change_nothing,
    an_enrolment_the_calculator_cannot_compute_is_listed_and_kept,
    enrolments_a_case_changed_or_ended_meanwhile_keep_what_the_case_set,
    signing_all_batches_together_applies_all_or_none,
);

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn month(s: &str) -> YearMonth {
    YearMonth::parse(s).unwrap()
}

fn sys() -> Actor {
    Actor::system("t")
}

/// A 城市低保 standard of `yuan` for the whole city from `from`.
fn urban_standard(yuan: &str, from: &str) -> NewParam {
    NewParam {
        program: "urban_dibao".into(),
        name: "standard".into(),
        region: "5118".into(),
        urban_rural: String::new(),
        effective_from: from.into(),
        value_json: yuan.into(),
        source: "雅府发〔2026〕1号".into(),
    }
}

async fn enrolments(app: &App) -> HashMap<i64, Enrolment> {
    let (all, _) = app
        .cases()
        .enrolments(&sys(), &Default::default())
        .await
        .unwrap();
    all.into_iter().map(|e| (e.id, e)).collect()
}

/// Every 调整标准 line of `month`, with its batch's program and id.
async fn standard_lines(app: &App, m: YearMonth) -> Vec<(i64, Program, RepricingLine)> {
    let mut out = Vec::new();
    for b in app.repricing().list(&sys(), None).await.unwrap() {
        if b.reason != RepricingReason::Standard || b.month != m {
            continue;
        }
        let r = app.repricing().review(&sys(), b.id).await.unwrap();
        out.extend(r.lines.into_iter().map(|l| (b.id, b.program, l)));
    }
    out
}

/// The calculator's amount for the enrolment on `on`, as a case computes it (from the
/// household in the registry and the case's details).
async fn computed(app: &App, e: &Enrolment, on: &str) -> Option<Fen> {
    minzheng_app::cases::testing::computed_for_enrolment(app, e, d(on)).await
}

async fn seeded(db: &TestDb) -> &App {
    let app = &db.app;
    app.demo().ensure().await.expect("seed demo");
    // A registry, the demo's cases decided by the calculator, and 低保 for the heads of
    // 东城街道 and 西城街道.
    app.demo().registry(600, 7).await.unwrap();
    app.demo().cases(d("2026-11-20")).await.unwrap();
    app.demo().payroll_enrolments().await.unwrap();
    app
}

async fn a_higher_city_dibao_standard_reprices_exactly_the_enrolments_it_changes(db: &TestDb) {
    let app = seeded(db).await;
    let admin = fixtures::actor(app, "admin").await.unwrap();
    let approver = fixtures::actor(app, "approver").await.unwrap();
    let director = fixtures::actor(app, "director").await.unwrap();
    let before = enrolments(app).await;
    let Added {
        repricing_month,
        repricing,
        repricing_error,
        ..
    } = app
        .params()
        .add_and_reprice(&admin, &urban_standard("900", "2027-01-01"))
        .await
        .unwrap();
    assert_eq!(repricing_error, None);
    assert_eq!(repricing_month, Some(month("2027-01")));
    let prepared = repricing.expect("prepared");
    assert!(prepared.added > 0, "{prepared:?}");
    let lines = standard_lines(app, month("2027-01")).await;
    assert_eq!(lines.len() as i64, prepared.added);
    let followed = [
        Program::UrbanDibao,
        Program::SinglePersonDibao,
        Program::Tekun,
    ];
    let mut checked = 0;
    for (_, program, l) in &lines {
        assert!(followed.contains(program), "{program:?}");
        let e = &before[&l.enrolment_id];
        assert_eq!(e.program, *program);
        assert_eq!(l.old_amount, e.monthly_fen);
        assert_ne!(l.new_amount, l.old_amount);
        // The amount is the calculator's, as a case computes it, for January.
        if l.problem.is_none() {
            let c = computed(app, e, "2027-01-01").await.expect("computable");
            assert_eq!(l.new_amount, c, "{}", l.beneficiary_name);
            checked += 1;
        }
    }
    assert!(checked > 0);
    // Every 城市低保 enrolment the new standard moves is listed; the others are not.
    let mut urban = 0;
    for e in before.values() {
        let listed = lines.iter().any(|(_, _, l)| l.enrolment_id == e.id);
        if !followed.contains(&e.program) {
            assert!(
                !listed,
                "{:?} is not priced by the 城市低保 standard",
                e.program
            );
            continue;
        }
        if e.program != Program::UrbanDibao || !e.status.is_held() {
            continue;
        }
        let (Some(new), Some(old)) = (
            computed(app, e, "2027-01-01").await,
            computed(app, e, "2026-12-31").await,
        ) else {
            continue;
        };
        assert_eq!(listed, new != old && new != e.monthly_fen, "{e:?}");
        urban += 1;
    }
    assert!(urban > 0);
    assert!(lines
        .iter()
        .any(|(_, p, l)| *p == Program::UrbanDibao && l.applies()));
    // Preparing again adds nothing.
    let again = app
        .repricing()
        .prepare_standard(&admin, Program::UrbanDibao, month("2027-01"), None)
        .await
        .unwrap();
    assert_eq!(again.added, 0);
    // The county approves 城市低保: its approver signs, not the township director.
    let (batch_id, _, _) = lines
        .iter()
        .find(|(_, p, l)| {
            *p == Program::UrbanDibao && l.applies() && l.township_code.starts_with("511802")
        })
        .expect("a 城市低保 line in 雨城区")
        .clone();
    let batch = app.repricing().review(&sys(), batch_id).await.unwrap();
    assert!(matches!(
        app.repricing()
            .sign_off(&director, batch_id, d("2027-01-02"))
            .await,
        Err(Error::Forbidden(_))
    ));
    let done = app
        .repricing()
        .sign_off(&approver, batch_id, d("2027-01-02"))
        .await
        .unwrap();
    assert_eq!(done.batch.status, RepricingStatus::Applied);
    let after = enrolments(app).await;
    let mut applied = 0;
    for l in &batch.lines {
        let now = after[&l.enrolment_id].monthly_fen;
        if l.applies() {
            applied += 1;
            assert_eq!(now, l.new_amount);
            let actions = fixtures::audit_actions(app, "enrolment", &l.enrolment_id.to_string())
                .await
                .unwrap();
            assert!(actions.iter().any(|a| a == "repricing.apply"));
        } else {
            assert_eq!(
                now, l.old_amount,
                "a line at 0 or not computed is not applied"
            );
        }
    }
    assert_eq!(done.applied, applied);
    assert!(fixtures::audit_intact(app).await.unwrap());
    // Enrolments of other programs are untouched.
    for (id, e) in &before {
        if !followed.contains(&e.program) {
            assert_eq!(after[id].monthly_fen, e.monthly_fen);
        }
    }
    // January's payroll pays the new amounts.
    let out = app
        .payroll()
        .generate(
            &sys(),
            &GenerateRequest {
                month: month("2027-01"),
                program: Some(Program::UrbanDibao),
                within: Some(batch.batch.township_code.clone()),
            },
        )
        .await
        .unwrap();
    let pb = &out.created[0];
    let paid = app
        .payroll()
        .lines(&sys(), pb.id, &LineFilter::default())
        .await
        .unwrap()
        .0;
    for l in batch.lines.iter().filter(|l| l.applies()) {
        let line = paid
            .iter()
            .find(|p| p.enrolment_id == l.enrolment_id && p.kind == LineKind::Regular)
            .expect("paid in January");
        assert_eq!(line.amount, l.new_amount);
    }
}

async fn an_effective_month_already_paid_gets_its_top_up_once(db: &TestDb) {
    let app = seeded(db).await;
    let admin = fixtures::actor(app, "admin").await.unwrap();
    let approver = fixtures::actor(app, "approver").await.unwrap();
    let director = fixtures::actor(app, "director").await.unwrap();
    // October is paid at the old standard.
    let october = app
        .payroll()
        .generate(
            &sys(),
            &GenerateRequest {
                month: month("2026-10"),
                program: Some(Program::UrbanDibao),
                within: Some("511802001".into()),
            },
        )
        .await
        .unwrap()
        .created;
    let Some(october) = october.into_iter().find(|b| b.township_code == "511802001") else {
        panic!("东城街道 has 城市低保 enrolments to pay");
    };
    app.payroll()
        .sign_off(&director, october.id, None)
        .await
        .unwrap();
    let paid: HashMap<i64, Fen> = app
        .payroll()
        .lines(&sys(), october.id, &LineFilter::default())
        .await
        .unwrap()
        .0
        .into_iter()
        .map(|l| (l.enrolment_id, l.amount))
        .collect();
    app.params()
        .add_and_reprice(&admin, &urban_standard("900", "2026-10-01"))
        .await
        .unwrap();
    let lines = standard_lines(app, month("2026-10")).await;
    let (batch_id, _, _) = lines
        .iter()
        .find(|(_, p, l)| {
            *p == Program::UrbanDibao && l.applies() && l.township_code == "511802001"
        })
        .expect("a 城市低保 line in 东城街道")
        .clone();
    let done = app
        .repricing()
        .sign_off(&approver, batch_id, d("2026-12-05"))
        .await
        .unwrap();
    // October's difference is approved back pay of each applied enrolment paid in October.
    let batch = app.repricing().review(&sys(), batch_id).await.unwrap();
    let top_ups: Vec<_> = app
        .payroll()
        .back_pay_list(&sys())
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.period == month("2026-10") && a.reason.contains("调标补差"))
        .collect();
    let mut expected = 0;
    for l in batch.lines.iter().filter(|l| l.applies()) {
        let Some(was) = paid.get(&l.enrolment_id) else {
            continue;
        };
        expected += 1;
        let mine: Vec<_> = top_ups
            .iter()
            .filter(|a| a.enrolment_id == l.enrolment_id)
            .collect();
        assert_eq!(mine.len(), 1, "{}", l.beneficiary_name);
        assert_eq!(mine[0].amount, Fen(l.new_amount.0 - was.0));
    }
    assert!(expected > 0);
    assert!(done.top_up_count >= expected);
    // Once: a second preparation adds nothing, the batch is not signed again.
    let again = app
        .repricing()
        .prepare_standard(&admin, Program::UrbanDibao, month("2026-10"), None)
        .await
        .unwrap();
    assert_eq!(again.added, 0);
    assert!(matches!(
        app.repricing()
            .sign_off(&approver, batch_id, d("2026-12-05"))
            .await,
        Err(Error::Conflict(_))
    ));
    let count = app
        .payroll()
        .back_pay_list(&sys())
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.period == month("2026-10") && a.reason.contains("调标补差"))
        .count();
    assert_eq!(count, top_ups.len());
}

async fn refused_actors_change_nothing(db: &TestDb) {
    let app = seeded(db).await;
    let admin = fixtures::actor(app, "admin").await.unwrap();
    let staff = fixtures::actor(app, "staff").await.unwrap();
    let staff2 = fixtures::actor(app, "staff2").await.unwrap();
    let assistant = fixtures::actor(app, "assistant").await.unwrap();
    let director = fixtures::actor(app, "director").await.unwrap();
    let before = enrolments(app).await;
    // Only the city admin sets standards.
    assert!(matches!(
        app.params()
            .add_and_reprice(&staff, &urban_standard("900", "2027-01-01"))
            .await,
        Err(Error::Forbidden(_))
    ));
    assert!(standard_lines(app, month("2027-01")).await.is_empty());
    // The standard in place, without its batches (added the plain way).
    app.params()
        .add(&admin, &urban_standard("900", "2027-01-01"))
        .await
        .unwrap();
    assert!(matches!(
        app.repricing()
            .prepare_standard(&assistant, Program::UrbanDibao, month("2027-01"), None)
            .await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        app.repricing()
            .prepare_standard(
                &staff2,
                Program::UrbanDibao,
                month("2027-01"),
                Some("511802001")
            )
            .await,
        Err(Error::NotFound(_))
    ));
    assert!(standard_lines(app, month("2027-01")).await.is_empty());
    // The township's staff prepare their own township.
    let mine = app
        .repricing()
        .prepare_standard(&staff, Program::UrbanDibao, month("2027-01"), None)
        .await
        .unwrap();
    assert!(mine.batches.iter().all(|b| b.township_code == "511802001"));
    for b in &mine.batches {
        for who in [&staff, &director] {
            assert!(matches!(
                app.repricing().sign_off(who, b.id, d("2027-01-02")).await,
                Err(Error::Forbidden(_))
            ));
            assert!(matches!(
                app.repricing().void(who, b.id).await,
                Err(Error::Forbidden(_))
            ));
        }
        assert!(matches!(
            app.repricing().review(&staff2, b.id).await,
            Err(Error::NotFound(_))
        ));
        let still = app.repricing().review(&sys(), b.id).await.unwrap();
        assert_eq!(still.batch.status, RepricingStatus::Pending);
    }
    let after = enrolments(app).await;
    for (id, e) in &before {
        assert_eq!(after[id].monthly_fen, e.monthly_fen);
    }
}

async fn an_enrolment_the_calculator_cannot_compute_is_listed_and_kept(db: &TestDb) {
    let app = seeded(db).await;
    let admin = fixtures::actor(app, "admin").await.unwrap();
    let approver = fixtures::actor(app, "approver").await.unwrap();
    // 孙小梅's household has no members in the registry: nothing to compute 低保 from.
    let eid = fixtures::enrol(
        app,
        &FixtureEnrolment::new(
            Program::UrbanDibao,
            "511802001001",
            "孙小梅",
            "511802198001010021",
            50_000,
            "2026-01",
        ),
    )
    .await
    .unwrap();
    let prepared = app
        .params()
        .add_and_reprice(&admin, &urban_standard("900", "2027-01-01"))
        .await
        .unwrap()
        .repricing
        .unwrap();
    let (batch_id, _, line) = standard_lines(app, month("2027-01"))
        .await
        .into_iter()
        .find(|(_, _, l)| l.enrolment_id == eid)
        .expect("listed");
    let why = line.problem.clone().expect("the reason");
    assert!(!why.is_empty());
    assert_eq!(
        (line.old_amount, line.new_amount),
        (Fen(50_000), Fen(50_000))
    );
    assert!(!line.applies() && !line.needs_decision());
    let batch = prepared
        .batches
        .iter()
        .find(|b| b.id == batch_id)
        .expect("the batch prepared");
    assert!(batch.problem_count >= 1);
    // Preparing again does not list her twice; signing leaves her amount as it was.
    let again = app
        .repricing()
        .prepare_standard(&admin, Program::UrbanDibao, month("2027-01"), None)
        .await
        .unwrap();
    assert_eq!(again.added, 0);
    let done = app
        .repricing()
        .sign_off(&approver, batch_id, d("2027-01-02"))
        .await
        .unwrap();
    assert_eq!(done.batch.status, RepricingStatus::Applied);
    assert_eq!(enrolments(app).await[&eid].monthly_fen, Fen(50_000));
    let actions = fixtures::audit_actions(app, "enrolment", &eid.to_string())
        .await
        .unwrap();
    assert!(!actions.iter().any(|a| a == "repricing.apply"));
}

/// Between the preparation and the sign-off a case changes one enrolment's amount and
/// ends another: each sign-off leaves its enrolment as the case set it, names it, applies
/// the batch's other lines and audits only what it applied.
async fn enrolments_a_case_changed_or_ended_meanwhile_keep_what_the_case_set(db: &TestDb) {
    let app = seeded(db).await;
    let admin = fixtures::actor(app, "admin").await.unwrap();
    let approver = fixtures::actor(app, "approver").await.unwrap();
    let director = fixtures::actor(app, "director").await.unwrap();
    app.params()
        .add_and_reprice(&admin, &urban_standard("900", "2027-01-01"))
        .await
        .unwrap();
    let lines = standard_lines(app, month("2027-01")).await;
    let mut batches: Vec<i64> = lines
        .iter()
        .filter(|(_, _, l)| l.applies())
        .map(|(b, _, _)| *b)
        .collect();
    batches.dedup();
    assert!(batches.len() >= 2, "{batches:?}");
    for (i, batch_id) in batches.into_iter().take(2).enumerate() {
        let review = app.repricing().review(&sys(), batch_id).await.unwrap();
        let applying: Vec<&RepricingLine> = review.lines.iter().filter(|l| l.applies()).collect();
        let target = applying[0];
        let ends = i == 1;
        let case_amount = Fen(target.old_amount.0 + 1_234);
        let change = if ends {
            fixtures::EnrolmentChange {
                status: Some(minzheng_domain::cases::EnrolmentStatus::Ended),
                ..Default::default()
            }
        } else {
            fixtures::EnrolmentChange {
                monthly_fen: Some(case_amount.0),
                ..Default::default()
            }
        };
        fixtures::change_enrolment(app, target.enrolment_id, &change)
            .await
            .unwrap();
        let signer = match app.repricing().may_sign(&approver, &review.batch).await {
            Ok(true) => &approver,
            _ => &director,
        };
        let done = app
            .repricing()
            .sign_off(signer, batch_id, d("2027-01-02"))
            .await
            .unwrap();
        assert_eq!(
            done.changed_meanwhile,
            std::slice::from_ref(&target.beneficiary_name)
        );
        assert_eq!(done.applied, applying.len() - 1);
        let after = enrolments(app).await;
        let kept = if ends { target.old_amount } else { case_amount };
        assert_eq!(after[&target.enrolment_id].monthly_fen, kept);
        for l in &applying[1..] {
            assert_eq!(after[&l.enrolment_id].monthly_fen, l.new_amount);
        }
        for l in &applying {
            let actions = fixtures::audit_actions(app, "enrolment", &l.enrolment_id.to_string())
                .await
                .unwrap();
            assert_eq!(
                actions.iter().any(|a| a == "repricing.apply"),
                l.enrolment_id != target.enrolment_id,
                "{}",
                l.beneficiary_name
            );
        }
    }
    assert!(fixtures::audit_intact(app).await.unwrap());
}

/// 签发全部: the pending batches signed together are each applied as one sign-off would
/// (amounts, an audit record per enrolment, the batch applied); with a batch among them
/// that cannot be signed (voided), the refusal names that batch and nothing is applied.
async fn signing_all_batches_together_applies_all_or_none(db: &TestDb) {
    let app = seeded(db).await;
    let admin = fixtures::actor(app, "admin").await.unwrap();
    let approver = fixtures::actor(app, "approver").await.unwrap();
    let director = fixtures::actor(app, "director").await.unwrap();
    app.params()
        .add_and_reprice(&admin, &urban_standard("900", "2027-01-01"))
        .await
        .unwrap();
    let pending = app
        .repricing()
        .list(&approver, Some(RepricingStatus::Pending))
        .await
        .unwrap();
    let mine = app.repricing().signable(&approver, &pending).await.unwrap();
    assert!(mine.len() >= 2, "{pending:?}");
    // The township director signs none of them (the county approves 城市低保).
    assert!(app
        .repricing()
        .signable(&director, &pending)
        .await
        .unwrap()
        .is_empty());
    // No batch chosen, or one that does not exist: refused.
    assert!(matches!(
        app.repricing()
            .sign_off_many(&approver, &[], d("2027-01-02"))
            .await,
        Err(Error::Validation { .. })
    ));
    assert!(matches!(
        app.repricing()
            .sign_off_many(&approver, &[mine[0], i64::MAX], d("2027-01-02"))
            .await,
        Err(Error::NotFound(_))
    ));
    let before = enrolments(app).await;
    let amounts = |m: &HashMap<i64, Enrolment>| {
        let mut v: Vec<(i64, Fen)> = m.iter().map(|(id, e)| (*id, e.monthly_fen)).collect();
        v.sort();
        v
    };
    // A voided batch among them: refused, naming it; nothing applied.
    let voided = app.repricing().void(&approver, mine[1]).await.unwrap();
    match app
        .repricing()
        .sign_off_many(&approver, &mine, d("2027-01-02"))
        .await
    {
        Err(Error::Conflict(m)) => assert!(m.contains(&voided.township_name), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(amounts(&enrolments(app).await), amounts(&before));
    let first = app.repricing().review(&sys(), mine[0]).await.unwrap().batch;
    assert_eq!(first.status, RepricingStatus::Pending);
    // Prepared again, the voided township's lines are in a new batch; both signed together.
    app.repricing()
        .prepare_standard(&admin, Program::UrbanDibao, month("2027-01"), None)
        .await
        .unwrap();
    let pending = app
        .repricing()
        .list(&approver, Some(RepricingStatus::Pending))
        .await
        .unwrap();
    let together = app.repricing().signable(&approver, &pending).await.unwrap();
    assert_eq!(together.len(), mine.len());
    assert!(!together.contains(&mine[1]));
    let done = app
        .repricing()
        .sign_off_many(&approver, &together, d("2027-01-02"))
        .await
        .unwrap();
    assert_eq!(done.len(), together.len());
    let after = enrolments(app).await;
    let mut changed = 0;
    for (d, id) in done.iter().zip(&together) {
        assert_eq!(d.batch.id, *id);
        assert_eq!(d.batch.status, RepricingStatus::Applied);
        let lines = app.repricing().review(&sys(), *id).await.unwrap().lines;
        let applying: Vec<&RepricingLine> = lines.iter().filter(|l| l.applies()).collect();
        assert_eq!(d.applied, applying.len());
        for l in applying {
            changed += 1;
            assert_eq!(after[&l.enrolment_id].monthly_fen, l.new_amount);
            let actions = fixtures::audit_actions(app, "enrolment", &l.enrolment_id.to_string())
                .await
                .unwrap();
            assert_eq!(
                actions.iter().filter(|a| *a == "repricing.apply").count(),
                1
            );
        }
    }
    assert!(changed >= 2);
    // Signed already: a second time is refused.
    assert!(matches!(
        app.repricing()
            .sign_off_many(&approver, &together, d("2027-01-02"))
            .await,
        Err(Error::Conflict(_))
    ));
    assert!(fixtures::audit_intact(app).await.unwrap());
}
