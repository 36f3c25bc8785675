//! 测算 through the app: a what-if of a higher 城市低保 standard and a higher 特困 ratio
//! writes nothing (no enrolment, batch, parameter or audit record changes) and its totals
//! are the sums of its rows; a standard rise what-if, adopted, prepares batches whose
//! lines are exactly what the what-if counted, township by township and program by
//! program; refused actors and bad 方案 are answered in Chinese and change nothing.
//! Every case runs on SQLite, and on PostgreSQL when `MINZHENG_TEST_POSTGRES_URL` is set.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use minzheng_app::testing::payroll as fixtures;
use minzheng_app::testing::TestDb;
use minzheng_app::{App, Error};
use minzheng_domain::repricing::{RepricingReason, RepricingStatus};
use minzheng_domain::whatif::{ChangeInput, ScenarioInput, WhatIfRequest, WhatIfRow};
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
    a_whatif_writes_nothing_and_its_totals_are_the_sums_of_its_rows,
    an_adopted_standard_rise_prepares_what_the_whatif_counted,
    refused_actors_and_bad_scenarios_change_nothing,
    a_whatif_read_in_many_parts_by_several_threads_gives_the_same_figures,
);

/// On the server's multi-threaded runtime, PostgreSQL's parts are computed on their own
/// threads while the next part is read (the tests above run on one thread, where they are
/// computed in turn).
mod postgres_threads {
    #[minzheng_test_services::needs_postgres]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_whatif_read_in_many_parts_by_several_threads_gives_the_same_figures() {
        let db = minzheng_app::testing::TestDb::postgres().await;
        super::a_whatif_read_in_many_parts_by_several_threads_gives_the_same_figures(&db).await;
        db.cleanup().await;
    }
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn sys() -> Actor {
    Actor::system("t")
}

fn change(program: &str, name: &str, value: &str, from: &str) -> ChangeInput {
    ChangeInput {
        program: program.into(),
        name: name.into(),
        region: "5118".into(),
        urban_rural: String::new(),
        effective_from: from.into(),
        value_json: value.into(),
        source: String::new(),
    }
}

fn scenario(name: &str, changes: Vec<ChangeInput>) -> ScenarioInput {
    ScenarioInput {
        name: name.into(),
        changes,
    }
}

async fn seeded(db: &TestDb) -> &App {
    let app = &db.app;
    app.demo().ensure().await.expect("seed demo");
    app.demo().registry(600, 7).await.unwrap();
    app.demo().cases(d("2026-11-20")).await.unwrap();
    app.demo().payroll_enrolments().await.unwrap();
    app
}

/// What a what-if must not change: enrolments and their amounts, batches, parameters and
/// the audit log.
async fn snapshot(app: &App) -> (Vec<(i64, i64)>, usize, usize, i64) {
    let (enrolments, _) = app
        .cases()
        .enrolments(&sys(), &Default::default())
        .await
        .unwrap();
    let mut amounts: Vec<(i64, i64)> = enrolments.iter().map(|e| (e.id, e.monthly_fen.0)).collect();
    amounts.sort();
    (
        amounts,
        app.repricing().list(&sys(), None).await.unwrap().len(),
        app.params().list(&sys(), None).await.unwrap().len(),
        app.audit().count(&sys()).await.unwrap(),
    )
}

fn sum(rows: &[WhatIfRow], f: impl Fn(&WhatIfRow) -> i64) -> i64 {
    rows.iter().map(f).sum()
}

async fn a_whatif_writes_nothing_and_its_totals_are_the_sums_of_its_rows(db: &TestDb) {
    let app = seeded(db).await;
    let admin = fixtures::actor(app, "admin").await.unwrap();
    let before = snapshot(app).await;
    let req = WhatIfRequest {
        scenarios: vec![
            scenario(
                "",
                vec![change("urban_dibao", "standard", "900", "2027-01-01")],
            ),
            scenario(
                "特困提高",
                vec![change("tekun", "tekun_basic_ratio", "1.6", "2027-01-01")],
            ),
            scenario(
                "两项一起",
                vec![
                    change("urban_dibao", "standard", "900", "2027-01-01"),
                    change("rural_dibao", "standard", "700", "2027-01-01"),
                ],
            ),
        ],
        within: None,
    };
    let w = app.params().whatif(&admin, &req).await.unwrap();
    assert_eq!(snapshot(app).await, before, "a what-if writes nothing");
    assert_eq!(w.scenarios.len(), 3);
    assert_eq!(w.scenarios[0].name, "方案一");
    assert_eq!(w.scenarios[1].name, "特困提高");
    let s = &w.scenarios[0];
    assert!(s.total.changed_households > 0, "{:?}", s.total);
    assert!(s.total.monthly_difference.0 > 0, "a rise costs more");
    assert_eq!(s.month, YearMonth::parse("2027-01").unwrap());
    for s in &w.scenarios {
        let t = &s.total;
        for rows in [&s.rows, &s.by_county, &s.by_program] {
            assert_eq!(sum(rows, |r| r.changed_households), t.changed_households);
            assert_eq!(sum(rows, |r| r.changed_persons), t.changed_persons);
            assert_eq!(sum(rows, |r| r.entering_households), t.entering_households);
            assert_eq!(sum(rows, |r| r.leaving_households), t.leaving_households);
            assert_eq!(sum(rows, |r| r.problems), t.problems);
            assert_eq!(sum(rows, |r| r.old_monthly.0), t.old_monthly.0);
            assert_eq!(sum(rows, |r| r.new_monthly.0), t.new_monthly.0);
            assert_eq!(
                sum(rows, |r| r.monthly_difference.0),
                t.monthly_difference.0
            );
        }
        assert_eq!(
            t.monthly_difference.0,
            t.new_monthly.0 - t.old_monthly.0 + t.entering_monthly.0 - t.leaving_monthly.0
        );
        assert_eq!(t.annual_difference.0, 12 * t.monthly_difference.0);
        assert_eq!(
            s.distribution.iter().sum::<i64>(),
            t.changed_households + t.entering_households + t.leaving_households
        );
        for r in &s.rows {
            assert!(!r.township_name.is_empty() && r.township_name != r.township_code);
            assert!(r.township_code.starts_with(&r.county_code));
        }
    }
    // Only the programs a 方案 changes: 特困's ratio moves 特困 alone.
    assert!(w.scenarios[1]
        .rows
        .iter()
        .all(|r| r.program == Some(Program::Tekun)));
    assert_eq!(w.scenarios[1].programs, [Program::Tekun]);
    // Both standards change at least as many as the city's alone.
    assert!(w.scenarios[2].total.changed_households >= w.scenarios[0].total.changed_households);
    // The workbook is made and still nothing is written.
    let wb = app.params().whatif_workbook(&admin, &req).await.unwrap();
    assert!(wb.bytes.starts_with(b"PK"));
    assert_eq!(snapshot(app).await, before);
}

async fn a_whatif_read_in_many_parts_by_several_threads_gives_the_same_figures(db: &TestDb) {
    let app = seeded(db).await;
    let admin = fixtures::actor(app, "admin").await.unwrap();
    let req = WhatIfRequest {
        scenarios: vec![
            scenario(
                "低保",
                vec![
                    change("urban_dibao", "standard", "900", "2027-01-01"),
                    change("rural_dibao", "standard", "760", "2027-01-01"),
                ],
            ),
            scenario(
                "特困",
                vec![change("tekun", "tekun_basic_ratio", "1.6", "2027-01-01")],
            ),
        ],
        within: None,
    };
    let whole = app.params().whatif(&admin, &req).await.unwrap();
    let figures = |w: &minzheng_app::whatif::WhatIf| {
        w.scenarios
            .iter()
            .map(|s| {
                (
                    s.considered,
                    s.total.clone(),
                    s.rows.clone(),
                    s.distribution.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert!(whole.scenarios[0].total.changed_households > 0);
    assert!(whole.scenarios[0].total.entering_households > 0);
    // 600 households in parts of 7, 50 and 599: the parts are shared out between the
    // reading threads, the last part is short.
    for part in [7, 50, 599] {
        let parted = minzheng_app::testing::whatif_in_parts(app, &admin, &req, part)
            .await
            .unwrap();
        assert_eq!(figures(&parted), figures(&whole), "parts of {part}");
    }
    // Inside one county the rows read are kept to it, in parts as whole.
    let county = whole.scenarios[0].rows[0].county_code.clone();
    let req = WhatIfRequest {
        within: Some(county.clone()),
        ..req
    };
    let whole = app.params().whatif(&admin, &req).await.unwrap();
    assert!(whole.scenarios[0].total.changed_households > 0);
    assert!(whole.scenarios[0]
        .rows
        .iter()
        .all(|r| r.county_code == county));
    let parted = minzheng_app::testing::whatif_in_parts(app, &admin, &req, 7)
        .await
        .unwrap();
    assert_eq!(figures(&parted), figures(&whole), "a county in parts of 7");
}

async fn an_adopted_standard_rise_prepares_what_the_whatif_counted(db: &TestDb) {
    let app = seeded(db).await;
    let admin = fixtures::actor(app, "admin").await.unwrap();
    let raise = scenario(
        "提高城市低保",
        vec![change("urban_dibao", "standard", "900", "2027-01-01")],
    );
    let req = WhatIfRequest {
        scenarios: vec![raise.clone()],
        within: None,
    };
    let w = app.params().whatif(&admin, &req).await.unwrap();
    let s = &w.scenarios[0];
    assert!(s.total.changed_households > 0);
    let adopted = app.params().adopt(&admin, &raise).await.unwrap();
    assert_eq!(adopted.errors, Vec::<String>::new());
    assert_eq!(adopted.ids.len(), 1);
    assert_eq!(adopted.month, YearMonth::parse("2027-01").unwrap());
    // Per township and program: the batch's lines the sign-off applies are the what-if's
    // changed enrolments, at the same amounts; its lines at 0 or not computed are the
    // what-if's leaving and problem enrolments.
    let mut batches: BTreeMap<(String, Program), (i64, i64, i64, i64)> = BTreeMap::new();
    for b in app.repricing().list(&sys(), None).await.unwrap() {
        assert_eq!(b.status, RepricingStatus::Pending);
        assert_eq!(b.reason, RepricingReason::Standard);
        let r = app.repricing().review(&sys(), b.id).await.unwrap();
        let e = batches
            .entry((b.township_code.clone(), b.program))
            .or_default();
        for l in &r.lines {
            if l.applies() {
                e.0 += 1;
                e.1 += l.old_amount.0;
                e.2 += l.new_amount.0;
            } else {
                e.3 += 1;
            }
        }
    }
    let mut whatif: BTreeMap<(String, Program), (i64, i64, i64, i64)> = BTreeMap::new();
    for r in &s.rows {
        let key = (r.township_code.clone(), r.program.unwrap());
        let v = (
            r.changed_households,
            r.old_monthly.0,
            r.new_monthly.0,
            r.leaving_households + r.problems,
        );
        if v != (0, 0, 0, 0) {
            whatif.insert(key, v);
        }
    }
    assert!(!batches.is_empty());
    assert_eq!(whatif, batches);
    let lines: i64 = batches.values().map(|v| v.0 + v.3).sum();
    assert_eq!(adopted.added, lines);
    // Signing a batch records each enrolment in one unbroken chain.
    let approver = fixtures::actor(app, "approver").await.unwrap();
    let first = app.repricing().list(&sys(), None).await.unwrap().remove(0);
    let audited = app.audit().count(&sys()).await.unwrap();
    let signed = app
        .repricing()
        .sign_off(&approver, first.id, d("2027-01-05"))
        .await
        .unwrap();
    assert!(signed.applied > 0);
    assert_eq!(
        app.audit().count(&sys()).await.unwrap(),
        audited + signed.applied as i64 + signed.top_up_count as i64 + 1
    );
    let chain = app.audit().verify().await.unwrap();
    assert!(chain.first_break.is_none(), "{chain:?}");
    // The value is the real parameter now: the same what-if again changes nothing more.
    let again = app.params().whatif(&admin, &req).await;
    assert!(
        matches!(&again, Err(Error::Validation { message, .. }) if message.contains("不能重复")),
        "{again:?}"
    );
    let _ = Fen(0);
}

async fn refused_actors_and_bad_scenarios_change_nothing(db: &TestDb) {
    let app = seeded(db).await;
    let admin = fixtures::actor(app, "admin").await.unwrap();
    let director = fixtures::actor(app, "director").await.unwrap();
    let before = snapshot(app).await;
    let raise = scenario(
        "",
        vec![change("urban_dibao", "standard", "900", "2027-01-01")],
    );
    let req = WhatIfRequest {
        scenarios: vec![raise.clone()],
        within: None,
    };
    assert!(matches!(
        app.params().whatif(&director, &req).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        app.params().adopt(&director, &raise).await,
        Err(Error::Forbidden(_))
    ));
    let bad = scenario(
        "",
        vec![change("urban_dibao", "standard", "九百", "2027-01-01")],
    );
    match app
        .params()
        .whatif(
            &admin,
            &WhatIfRequest {
                scenarios: vec![bad.clone()],
                within: None,
            },
        )
        .await
    {
        Err(Error::Validation { fields, .. }) => {
            assert!(
                fields.contains_key("scenarios[0].changes[0].value_json"),
                "{fields:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        app.params().adopt(&admin, &bad).await,
        Err(Error::Validation { .. })
    ));
    let elsewhere = WhatIfRequest {
        scenarios: vec![raise],
        within: Some("5101".into()),
    };
    assert!(matches!(
        app.params().whatif(&admin, &elsewhere).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(snapshot(app).await, before);
}
