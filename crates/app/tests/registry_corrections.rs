//! Corrections of the registry: members' circumstances, incomes and assets edited and
//! removed with a reason, each one audit record in the household's history; refusals
//! (no reason, another jurisdiction, a read-only role, the head, a person with a history)
//! leave everything as it was; a correction that changes what the calculator gives an
//! enrolled household says so. Every case on SQLite, and on PostgreSQL when
//! `MINZHENG_TEST_POSTGRES_URL` is set.

use chrono::Utc;
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::payroll::testing::{enrol, FixtureEnrolment};
use minzheng_app::testing::TestDb;
use minzheng_app::{App, Error};
use minzheng_domain::registry::{
    AssetInput, Health, HouseholdDetail, IncomeInput, MemberCorrection, NewHousehold, PersonInput,
    Removal, WorkCapacity,
};
use minzheng_domain::{Actor, Fen, IdNumber, Program};
use serde_json::Value;

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
    members_incomes_and_assets_are_corrected_with_their_reason_in_the_history,
    refused_corrections_change_nothing,
    the_head_and_members_with_a_history_cannot_be_removed,
    a_correction_that_changes_an_enrolled_amount_says_so,
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

/// A valid ID number for a birth date (YYYYMMDD) and a sequence.
fn id(birth: &str, seq: u32) -> String {
    let first = format!("511802{birth}{seq:03}");
    let c = IdNumber::check_char(first.as_bytes()).unwrap();
    format!("{first}{}", c as char)
}

/// A household of `village` headed by `name`, with a spouse, a monthly wage of the
/// spouse and a deposit of the household.
async fn household(
    app: &App,
    staff: &Actor,
    village: &str,
    name: &str,
    seq: u32,
) -> HouseholdDetail {
    let h = app
        .registry()
        .create(
            staff,
            &NewHousehold {
                village_code: village.into(),
                registration_type: "农村".into(),
                head_name: name.into(),
                head_id_number: id("19600101", seq),
                head_health: "慢性病".into(),
                head_work_capacity: "部分丧失劳动能力".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let hid = h.household.id;
    let d = app
        .registry()
        .add_member(
            staff,
            hid,
            &PersonInput {
                name: format!("{name}妻"),
                id_number: id("19620202", seq + 1),
                relation: "配偶".into(),
                health: "健康".into(),
                work_capacity: "有劳动能力".into(),
                employment: "务工".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let spouse = d
        .members
        .iter()
        .find(|m| m.name.ends_with('妻'))
        .unwrap()
        .id;
    app.registry()
        .add_income(
            staff,
            hid,
            &IncomeInput {
                person_id: spouse.to_string(),
                kind: "工资".into(),
                amount: "800".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.registry()
        .add_asset(
            staff,
            hid,
            &AssetInput {
                kind: "存款".into(),
                value: "10000".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

fn spouse(d: &HouseholdDetail) -> i64 {
    d.members
        .iter()
        .find(|m| m.name.ends_with('妻'))
        .unwrap()
        .id
}

fn head(d: &HouseholdDetail) -> i64 {
    d.members
        .iter()
        .find(|m| m.relation.as_str() == "head")
        .unwrap()
        .id
}

/// The household's audit records: (action, before, after), newest first.
async fn history(app: &App, hid: i64) -> Vec<(String, Value, Value)> {
    let parse = |s: &Option<String>| {
        s.as_deref()
            .map(|s| serde_json::from_str(s).unwrap())
            .unwrap_or(Value::Null)
    };
    app.registry()
        .history(&Actor::system("t"), hid)
        .await
        .unwrap()
        .iter()
        .map(|e| {
            (
                e.action.clone(),
                parse(&e.before_json),
                parse(&e.after_json),
            )
        })
        .collect()
}

async fn read(app: &App, hid: i64) -> HouseholdDetail {
    app.registry().get(&Actor::system("t"), hid).await.unwrap()
}

fn correction(health: &str, capacity: &str, reason: &str) -> MemberCorrection {
    MemberCorrection {
        counted: "是".into(),
        disability_type: "无".into(),
        health: health.into(),
        work_capacity: capacity.into(),
        employment: "务工".into(),
        reason: reason.into(),
        ..Default::default()
    }
}

async fn members_incomes_and_assets_are_corrected_with_their_reason_in_the_history(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let d = household(app, &staff, VILLAGE, "孙立", 1).await;
    let hid = d.household.id;
    let before = history(app, hid).await.len();

    // The spouse's health and work capacity.
    let c = app
        .registry()
        .update_member(
            &staff,
            hid,
            spouse(&d),
            &correction(
                "重特大疾病",
                "无劳动能力",
                "入户核查发现患尿毒症，需长期透析",
            ),
        )
        .await
        .unwrap();
    let m = c.household.member(spouse(&d)).unwrap();
    assert_eq!(
        (m.health, m.work_capacity),
        (Health::Serious, WorkCapacity::None)
    );
    assert_eq!(m.name, "孙立妻", "the name stays");
    assert!(c.amount_changes.is_empty(), "not enrolled");
    let h = history(app, hid).await;
    assert_eq!(h.len(), before + 1, "one audit record");
    let (action, b, a) = &h[0];
    assert_eq!(action, "person.correct");
    assert_eq!(b["health"], "healthy");
    assert_eq!(a["health"], "serious");
    assert_eq!(a["reason"], "入户核查发现患尿毒症，需长期透析");

    // The head's too: a head is corrected like any member.
    let c = app
        .registry()
        .update_member(
            &staff,
            hid,
            head(&d),
            &correction("健康", "有劳动能力", "复查已痊愈"),
        )
        .await
        .unwrap();
    assert_eq!(
        c.household.member(head(&d)).unwrap().health,
        Health::Healthy
    );

    // The income and the asset.
    let income = d.incomes[0].id;
    let c = app
        .registry()
        .update_income(
            &staff,
            hid,
            income,
            &IncomeInput {
                person_id: spouse(&d).to_string(),
                kind: "工资性收入".into(),
                amount: "600".into(),
                period: "每月".into(),
                reason: "工资条核实为600元".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(c.household.incomes[0].amount_fen, Fen(60_000));
    let (action, b, a) = &history(app, hid).await[0];
    assert_eq!(action, "income.update");
    assert_eq!(
        (b["amount_fen"].as_i64(), a["amount_fen"].as_i64()),
        (Some(80_000), Some(60_000))
    );
    assert_eq!(a["reason"], "工资条核实为600元");
    let asset = d.assets[0].id;
    let c = app
        .registry()
        .update_asset(
            &staff,
            hid,
            asset,
            &AssetInput {
                kind: "存款".into(),
                value: "5000".into(),
                reason: "银行流水核实".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(c.household.assets[0].value_fen, Fen(500_000));
    assert_eq!(history(app, hid).await[0].2["reason"], "银行流水核实");

    // Removals: the income, the asset, then the spouse (nothing left in her name).
    let n = history(app, hid).await.len();
    let reason = Removal {
        reason: "重复登记".into(),
    };
    let c = app
        .registry()
        .remove_income(&staff, hid, income, &reason)
        .await
        .unwrap();
    assert!(c.household.incomes.is_empty());
    let c = app
        .registry()
        .remove_asset(&staff, hid, asset, &reason)
        .await
        .unwrap();
    assert!(c.household.assets.is_empty());
    let c = app
        .registry()
        .remove_member(&staff, hid, spouse(&d), &reason)
        .await
        .unwrap();
    assert_eq!(c.household.members.len(), 1);
    let h = history(app, hid).await;
    assert_eq!(h.len(), n + 3);
    let actions: Vec<&str> = h[..3].iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(actions, ["person.remove", "asset.remove", "income.remove"]);
    for (_, b, a) in &h[..3] {
        assert_eq!(a["reason"], "重复登记");
        assert!(b.is_object(), "the record as it was is kept: {b}");
    }
    assert_eq!(h[0].1["name"], "孙立妻");
    // The removed person is free to be registered again.
    app.registry()
        .add_member(
            &staff,
            hid,
            &PersonInput {
                name: "孙立妻".into(),
                id_number: id("19620202", 2),
                relation: "配偶".into(),
                health: "健康".into(),
                work_capacity: "有劳动能力".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

async fn refused_corrections_change_nothing(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let d = household(app, &staff, VILLAGE2, "钱多", 11).await;
    let hid = d.household.id;
    let (income, asset, person) = (d.incomes[0].id, d.assets[0].id, spouse(&d));
    let before = history(app, hid).await.len();
    let status = |e: &Error| minzheng_web_status(e);

    // No reason, no health: 422 with each field named.
    let e = app
        .registry()
        .update_member(&staff, hid, person, &correction("", "无劳动能力", " "))
        .await
        .unwrap_err();
    assert_eq!(status(&e), 422);
    match &e {
        Error::Validation { fields, .. } => {
            assert_eq!(fields["reason"], "请填写修改原因");
            assert_eq!(fields["health"], "请选择健康状况");
        }
        e => panic!("{e:?}"),
    }
    let e = app
        .registry()
        .update_income(
            &staff,
            hid,
            income,
            &IncomeInput {
                kind: "工资".into(),
                amount: "1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(status(&e), 422);
    for e in [
        app.registry()
            .remove_member(&staff, hid, person, &Removal::default())
            .await
            .unwrap_err(),
        app.registry()
            .remove_income(&staff, hid, income, &Removal::default())
            .await
            .unwrap_err(),
        app.registry()
            .remove_asset(&staff, hid, asset, &Removal::default())
            .await
            .unwrap_err(),
    ] {
        match &e {
            Error::Validation { fields, .. } => assert_eq!(fields["reason"], "请填写删除原因"),
            e => panic!("{e:?}"),
        }
    }
    unchanged(app, &d, person, before).await;

    // Another township, and a village assistant of another village: not found.
    let ok = correction("健康", "有劳动能力", "核实");
    for who in ["staff2", "assistant"] {
        let other = actor_of(app, who).await;
        let e = app
            .registry()
            .update_member(&other, hid, person, &ok)
            .await
            .unwrap_err();
        assert_eq!(status(&e), 404, "{who}");
        let e = app
            .registry()
            .remove_asset(&other, hid, asset, &Removal { reason: "x".into() })
            .await
            .unwrap_err();
        assert_eq!(status(&e), 404, "{who}");
    }
    // A row of another household is not found through this one.
    let other = household(app, &staff, VILLAGE2, "赵有", 21).await;
    let e = app
        .registry()
        .update_member(&staff, other.household.id, person, &ok)
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404);
    let e = app
        .registry()
        .remove_income(
            &staff,
            other.household.id,
            income,
            &Removal { reason: "x".into() },
        )
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404);
    // The auditor sees the household but may not change it.
    let auditor = actor_of(app, "auditor").await;
    let e = app
        .registry()
        .update_member(&auditor, hid, person, &ok)
        .await
        .unwrap_err();
    assert_eq!(status(&e), 403);
    let e = app
        .registry()
        .remove_income(&auditor, hid, income, &Removal { reason: "x".into() })
        .await
        .unwrap_err();
    assert_eq!(status(&e), 403);
    unchanged(app, &d, person, before).await;
}

/// The household reads as `d` did, and its history is as long as `before`.
async fn unchanged(app: &App, d: &HouseholdDetail, person: i64, before: usize) {
    let hid = d.household.id;
    let now = read(app, hid).await;
    let m = now.member(person).unwrap();
    let was = d.member(person).unwrap();
    assert_eq!((m.health, m.work_capacity), (was.health, was.work_capacity));
    assert_eq!(now.incomes[0].amount_fen, d.incomes[0].amount_fen);
    assert_eq!(now.assets[0].value_fen, d.assets[0].value_fen);
    assert_eq!(now.members.len(), d.members.len());
    assert_eq!(history(app, hid).await.len(), before, "nothing audited");
}

/// The HTTP status an error answers with (as the web maps it).
fn minzheng_web_status(e: &Error) -> u16 {
    match e {
        Error::NotFound(_) => 404,
        Error::Forbidden(_) => 403,
        Error::Validation { .. } => 422,
        Error::Conflict(_) => 409,
        _ => 500,
    }
}

async fn the_head_and_members_with_a_history_cannot_be_removed(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let d = household(app, &staff, VILLAGE, "周全", 31).await;
    let hid = d.household.id;
    let why = Removal {
        reason: "录入错误".into(),
    };
    let before = history(app, hid).await.len();
    match app
        .registry()
        .remove_member(&staff, hid, head(&d), &why)
        .await
    {
        Err(Error::Conflict(m)) => assert!(m.contains("更换户主"), "{m}"),
        r => panic!("{r:?}"),
    }
    // The spouse has a wage registered in her name.
    match app
        .registry()
        .remove_member(&staff, hid, spouse(&d), &why)
        .await
    {
        Err(Error::Conflict(m)) => assert!(m.contains("收入或财产"), "{m}"),
        r => panic!("{r:?}"),
    }
    // A member who moved here from another household has a history: she is marked 迁出
    // or 死亡 when she leaves, never removed.
    let other = household(app, &staff, VILLAGE, "郑和", 35).await;
    let moved = app
        .registry()
        .add_member(
            &staff,
            other.household.id,
            &PersonInput {
                name: "周全妻".into(),
                id_number: id("19620202", 32),
                relation: "其他".into(),
                health: "健康".into(),
                work_capacity: "有劳动能力".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let her = moved
        .members
        .iter()
        .find(|m| m.name == "周全妻")
        .unwrap()
        .id;
    let before_other = history(app, other.household.id).await.len();
    match app
        .registry()
        .remove_member(&staff, other.household.id, her, &why)
        .await
    {
        Err(Error::Conflict(m)) => assert!(m.contains("迁出") && m.contains("死亡"), "{m}"),
        r => panic!("{r:?}"),
    }
    assert_eq!(read(app, other.household.id).await.members.len(), 3);
    assert_eq!(history(app, other.household.id).await.len(), before_other);
    assert_eq!(
        read(app, hid).await.members.len(),
        1,
        "she moved out of 周全's"
    );
    assert_eq!(
        history(app, hid).await.len(),
        before + 1,
        "the move out only"
    );
}

async fn a_correction_that_changes_an_enrolled_amount_says_so(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let d = household(app, &staff, VILLAGE, "吴保", 41).await;
    let hid = d.household.id;
    let head_id = read(app, hid).await.household.head_id_number;
    let enrolment = enrol(
        app,
        &FixtureEnrolment::new(
            Program::RuralDibao,
            VILLAGE,
            "吴保",
            &head_id,
            30_000,
            "2026-01",
        ),
    )
    .await
    .unwrap();
    // The wage falls from 800 to 200 yuan a month: the computed amount rises.
    let c = app
        .registry()
        .update_income(
            &staff,
            hid,
            d.incomes[0].id,
            &IncomeInput {
                person_id: spouse(&d).to_string(),
                kind: "工资".into(),
                amount: "200".into(),
                reason: "已失业，仅打零工".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(c.amount_changes.len(), 1, "{:?}", c.amount_changes);
    let a = &c.amount_changes[0];
    assert_eq!(a.enrolment_id, enrolment);
    assert_eq!(a.monthly_fen, Fen(30_000));
    assert!(a.after_fen > a.before_fen, "{a:?}");
    // The household page offers the change case for it.
    let review = app
        .registry()
        .amounts_to_review(&staff, hid, &[enrolment])
        .await
        .unwrap();
    assert_eq!(review.len(), 1);
    assert_eq!(review[0].1, a.after_fen);
    // A note corrected changes no amount.
    let c = app
        .registry()
        .update_income(
            &staff,
            hid,
            d.incomes[0].id,
            &IncomeInput {
                person_id: spouse(&d).to_string(),
                kind: "工资".into(),
                amount: "200".into(),
                note: "零工".into(),
                reason: "补充备注".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(c.amount_changes.is_empty());
}
