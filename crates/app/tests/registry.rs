//! The registry suite (households, persons, import, export): every case on SQLite, and on
//! PostgreSQL when `MINZHENG_TEST_POSTGRES_URL` is set.

use chrono::Utc;
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::formats::ledger::{import_template, ledger_csv, ledger_xlsx};
use minzheng_app::formats::synthetic::generate_ledger;
use minzheng_app::registry::import::{ImportInput, ImportOptions};
use minzheng_app::testing::TestDb;
use minzheng_app::App;
use minzheng_app::Error;
use minzheng_domain::registry::{
    AssetInput, Column, HouseholdFilter, HouseholdUpdate, ImportReport, IncomeInput, NewHousehold,
    PersonInput,
};
use minzheng_domain::{Actor, Scope};
use minzheng_domain::{Fen, IdNumber};

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
    households_are_scoped_validated_and_audited,
    search_by_name_pinyin_and_id,
    every_search_kind_finds_its_persons_inside_the_jurisdiction_only,
    members_move_between_households_with_history,
    import_all_formats_and_reimport_creates_no_duplicates,
    bad_ledgers_are_refused_and_change_nothing,
    valid_only_writes_the_good_households,
    export_masks_for_roles_and_is_audited,
    identity_conflicts_are_refused_in_the_import_and_the_member_form,
    ledger_exports_are_inert_and_read_back,
    a_corrupt_utf8_ledger_is_named_as_such,
    a_child_born_today_in_beijing_is_registered_at_any_hour,
);

const VILLAGE: &str = "511802001001";
const VILLAGE2: &str = "511802001002";
const FOREIGN_VILLAGE: &str = "511802002001";

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

fn new_household(village: &str, name: &str, id_number: &str) -> NewHousehold {
    NewHousehold {
        head_health: "健康".into(),
        head_work_capacity: "有劳动能力".into(),
        village_code: village.into(),
        registration_type: "农村".into(),
        address: "和平路1号".into(),
        phone: "13800000000".into(),
        bank_name: "中国农业银行".into(),
        account_number: "6228480000000000001".into(),
        account_holder: name.into(),
        head_name: name.into(),
        head_id_number: id_number.into(),
    }
}

fn member(name: &str, id_number: &str, relation: &str) -> PersonInput {
    PersonInput {
        health: "健康".into(),
        work_capacity: "有劳动能力".into(),
        name: name.into(),
        id_number: id_number.into(),
        relation: relation.into(),
        ..Default::default()
    }
}

/// The system (the whole city), or an actor of the system's rights inside `scope`.
fn system_in(scope: Scope) -> Actor {
    Actor {
        scope,
        ..Actor::system("t")
    }
}

async fn count(db: &TestDb, table: &str) -> i64 {
    let (_, n) = match table {
        "households" => db
            .app
            .registry()
            .list(&Actor::system("t"), &HouseholdFilter::default())
            .await
            .unwrap(),
        _ => unreachable!(),
    };
    n
}

async fn persons(db: &TestDb) -> usize {
    let (hh, _) = db
        .app
        .registry()
        .list(
            &Actor::system("t"),
            &HouseholdFilter {
                limit: Some(500),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    hh.iter().map(|h| h.member_count as usize).sum()
}

async fn households_are_scoped_validated_and_audited(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let staff2 = actor_of(app, "staff2").await;
    let auditor = actor_of(app, "auditor").await;
    let assistant = actor_of(app, "assistant").await;

    // Field-level Chinese validation; nothing written.
    let bad = NewHousehold {
        head_health: "健康".into(),
        head_work_capacity: "有劳动能力".into(),
        village_code: FOREIGN_VILLAGE.into(),
        registration_type: "外星".into(),
        head_id_number: "1.10105E+17".into(),
        phone: "abc".into(),
        ..Default::default()
    };
    match db.app.registry().create(&staff, &bad).await {
        Err(Error::Validation { fields, .. }) => {
            assert!(fields["village_code"].contains("管辖范围"), "{fields:?}");
            assert!(fields["registration_type"].contains("无法识别"));
            assert!(fields["head_id_number"].contains("文本"));
            assert!(fields["head_name"].contains("姓名"));
            assert!(fields["phone"].contains("联系电话"));
        }
        other => panic!("expected validation, got {other:?}"),
    }
    assert_eq!(count(db, "households").await, 0);

    let head = id("19700101", 11);
    let h = db
        .app
        .registry()
        .create(&staff, &new_household(VILLAGE, "张三", &head))
        .await
        .unwrap();
    assert_eq!(h.members.len(), 1);
    assert_eq!(h.members[0].gender, "男");
    assert_eq!(h.members[0].birth_date, "1970-01-01");
    let hid = h.household.id;

    // One record per person city-wide.
    match db
        .app
        .registry()
        .create(&staff, &new_household(VILLAGE2, "张三", &head))
        .await
    {
        Err(Error::Validation { fields, .. }) => {
            assert!(fields["head_id_number"].contains("已登记"))
        }
        other => panic!("duplicate head accepted: {other:?}"),
    }

    // Another township: not found; auditor: forbidden; village assistant of this village: ok.
    assert!(matches!(
        db.app.registry().get(&staff2, hid).await,
        Err(Error::NotFound(_))
    ));
    let upd = HouseholdUpdate {
        village_code: VILLAGE.into(),
        registration_type: "城镇".into(),
        address: "新华街2号".into(),
        phone: "0835-2222222".into(),
        ..Default::default()
    };
    assert!(matches!(
        db.app.registry().update(&staff2, hid, &upd).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        db.app.registry().update(&auditor, hid, &upd).await,
        Err(Error::Forbidden(_))
    ));
    let after = db
        .app
        .registry()
        .update(&assistant, hid, &upd)
        .await
        .unwrap();
    assert_eq!(after.household.address, "新华街2号");
    assert_eq!(after.household.registration_type.as_str(), "urban");
    // The assistant may not move the household to another village.
    let mut away = upd.clone();
    away.village_code = VILLAGE2.into();
    assert!(matches!(
        db.app.registry().update(&assistant, hid, &away).await,
        Err(Error::Validation { .. })
    ));

    // Incomes and assets, validated in yuan.
    match db
        .app
        .registry()
        .add_income(
            &staff,
            hid,
            &IncomeInput {
                kind: "工资性收入".into(),
                amount: "-5".into(),
                ..Default::default()
            },
        )
        .await
    {
        Err(Error::Validation { fields, .. }) => assert!(fields["amount"].contains("负数")),
        other => panic!("{other:?}"),
    }
    let d = db
        .app
        .registry()
        .add_income(
            &staff,
            hid,
            &IncomeInput {
                person_id: h.members[0].id.to_string(),
                kind: "工资性收入".into(),
                amount: "2,500.50".into(),
                period: "每月".into(),
                start_month: "2025-01".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(d.incomes[0].amount_fen, Fen(250_050));
    let d = db
        .app
        .registry()
        .add_asset(
            &staff,
            hid,
            &AssetInput {
                kind: "存款".into(),
                value: "10000".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(d.assets[0].value_fen, Fen(1_000_000));

    // Change history from the audit log, with masked ID numbers.
    let hist = db.app.registry().history(&staff, hid).await.unwrap();
    let actions: Vec<&str> = hist.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "asset.add",
            "income.add",
            "household.update",
            "household.create"
        ]
    );
    assert!(hist
        .iter()
        .all(|e| !e.after_json.clone().unwrap_or_default().contains(&head)));
    assert!(app.audit().verify().await.unwrap().first_break.is_none());
}

async fn search_by_name_pinyin_and_id(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let staff2 = actor_of(app, "staff2").await;
    let head = id("19800202", 21);
    db.app
        .registry()
        .create(&staff, &new_household(VILLAGE, "张三", &head))
        .await
        .unwrap();
    db.app
        .registry()
        .create(&staff, &new_household(VILLAGE, "李四", &id("19810303", 31)))
        .await
        .unwrap();
    for term in ["zs", "ZS", "zhangsan", "zhang", "张三", "张", &head] {
        let found = db.app.registry().search(&staff, term, 20).await.unwrap();
        assert_eq!(found.len(), 1, "{term}");
        assert_eq!(found[0].name, "张三");
    }
    let last4 = &head[14..];
    let found = db
        .app
        .registry()
        .search(&staff, &format!("{last4}张三"), 20)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let found = db
        .app
        .registry()
        .search(&staff, &format!("{last4}李四"), 20)
        .await
        .unwrap();
    assert!(found.is_empty());
    // The household list filters by the same search, by village and registration type.
    let (list, total) = db
        .app
        .registry()
        .list(
            &staff,
            &HouseholdFilter {
                q: Some("ls".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((total, list[0].head_name.as_str()), (1, "李四"));
    let (_, total) = db
        .app
        .registry()
        .list(
            &staff,
            &HouseholdFilter {
                village: Some(VILLAGE2.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(total, 0);
    let (_, total) = db
        .app
        .registry()
        .list(
            &staff,
            &HouseholdFilter {
                registration_type: Some("农村".into()),
                status: Some("正常".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(total, 2);
    // Out of scope: nothing.
    assert!(db
        .app
        .registry()
        .search(&staff2, "zs", 20)
        .await
        .unwrap()
        .is_empty());

    // Name parts, city-wide and county-wide (where SQLite also narrows by the name's
    // initials) and in the township: the same persons.
    for (name, birth, seq) in [
        ("王秀英", "19700101", 41),
        ("阿依古丽·买买提", "19900505", 52),
    ] {
        db.app
            .registry()
            .create(&staff, &new_household(VILLAGE, name, &id(birth, seq)))
            .await
            .unwrap();
    }
    let county = Scope::of(minzheng_domain::DivisionCode::parse(&VILLAGE[..6]).unwrap());
    for scope in [Scope::all(), county, staff.scope.clone()] {
        for (term, want) in [
            ("秀英", vec!["王秀英"]),
            ("王秀", vec!["王秀英"]),
            ("英", vec!["王秀英"]),
            ("三", vec!["张三"]),
            ("古丽·买", vec!["阿依古丽·买买提"]),
            ("·", vec!["阿依古丽·买买提"]),
            ("丽买", vec![]),
            ("三秀", vec![]),
        ] {
            let found = db
                .app
                .registry()
                .search(&system_in(scope.clone()), term, 20)
                .await
                .unwrap();
            let names: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(names, want, "{term} in {scope:?}");
        }
    }
}

/// Names of the persons a search finds, in its order.
async fn found(app: &App, actor: &Actor, term: &str) -> Vec<String> {
    app.registry()
        .search(actor, term, 20)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect()
}

/// Head names of the households a list search finds, its total and whether it stopped
/// counting.
async fn households_found(
    app: &App,
    actor: &Actor,
    term: &str,
    limit: i64,
    offset: i64,
) -> (Vec<String>, i64, bool) {
    let page = app
        .registry()
        .page(
            actor,
            &HouseholdFilter {
                q: Some(term.into()),
                limit: Some(limit),
                offset: Some(offset),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let heads = page.items.into_iter().map(|h| h.head_name).collect();
    (heads, page.total, page.total_capped)
}

/// Each kind of search term (part of a name at its start, middle or end, full pinyin,
/// initials, full ID number, last four alone, last four + name) finds the persons it
/// should in the searcher's township and nothing of another township's, and follows
/// renamed persons and households moved between townships.
async fn every_search_kind_finds_its_persons_inside_the_jurisdiction_only(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let staff2 = actor_of(app, "staff2").await;
    let city = system_in(Scope::all());
    let (a, b, c, d, e) = (
        id("19600101", 101),
        id("19620202", 102),
        id("19700303", 103),
        id("19750404", 104),
        id("19800505", 105),
    );
    let h1 = app
        .registry()
        .create(&staff, &new_household(VILLAGE, "张三丰", &a))
        .await
        .unwrap()
        .household
        .id;
    let nana = app
        .registry()
        .add_member(&staff, h1, &member("李娜娜", &b, "配偶"))
        .await
        .unwrap()
        .members
        .into_iter()
        .find(|m| m.name == "李娜娜")
        .unwrap()
        .id;
    let h2 = app
        .registry()
        .create(&staff, &new_household(VILLAGE2, "张伟", &c))
        .await
        .unwrap()
        .household
        .id;
    let h3 = app
        .registry()
        .create(&staff2, &new_household(FOREIGN_VILLAGE, "张伟", &d))
        .await
        .unwrap()
        .household
        .id;
    app.registry()
        .add_member(&staff2, h3, &member("王秀英", &e, "配偶"))
        .await
        .unwrap();

    let last4 = |id: &str| id[14..].to_string();
    for (term, want) in [
        // Part of a name: listed by the name from the match on (三丰 < 伟), each person
        // once however often the part occurs in the name.
        ("张", vec!["张三丰", "张伟"]),
        ("三丰", vec!["张三丰"]),
        ("丰", vec!["张三丰"]),
        ("娜", vec!["李娜娜"]),
        ("娜娜", vec!["李娜娜"]),
        ("秀英", vec![]),
        ("丰张", vec![]),
        // Pinyin: full spellings first, then initials.
        ("zhang", vec!["张三丰", "张伟"]),
        ("ZhangW", vec!["张伟"]),
        ("zsf", vec!["张三丰"]),
        ("zw", vec!["张伟"]),
        ("lnn", vec!["李娜娜"]),
        ("wxy", vec![]),
        // ID numbers: full, last four alone, last four with the name.
        (c.as_str(), vec!["张伟"]),
        (d.as_str(), vec![]),
        (&last4(&b), vec!["李娜娜"]),
        (&last4(&d), vec![]),
        (&format!("{}张伟", last4(&c)), vec!["张伟"]),
        (&format!("张伟 {}", last4(&c).to_lowercase()), vec!["张伟"]),
        (&format!("{}张伟", last4(&d)), vec![]),
        (&format!("{}张三丰", last4(&c)), vec![]),
    ] {
        assert_eq!(found(app, &staff, term).await, want, "{term}");
    }
    // The other township sees only its own.
    assert_eq!(found(app, &staff2, "张").await, ["张伟"]);
    assert_eq!(found(app, &staff2, "秀").await, ["王秀英"]);
    assert_eq!(found(app, &staff2, &d).await, ["张伟"]);
    for term in [
        "娜",
        "zsf",
        a.as_str(),
        &last4(&a),
        &format!("{}张三丰", last4(&a)),
    ] {
        assert!(found(app, &staff2, term).await.is_empty(), "{term}");
    }
    // The city sees both townships' 张伟, in the order they were registered.
    let both = app.registry().search(&city, "张伟", 20).await.unwrap();
    let ids: Vec<&str> = both.iter().map(|p| p.id_number.as_str()).collect();
    assert_eq!(ids, [c.as_str(), d.as_str()]);

    // The household list: households of the matching persons, in the order of their first
    // matching member, counted to the end of the page.
    assert_eq!(
        households_found(app, &staff, "张", 20, 0).await,
        (vec!["张三丰".to_string(), "张伟".to_string()], 2, false)
    );
    assert_eq!(
        households_found(app, &staff, "张", 1, 0).await,
        (vec!["张三丰".to_string()], 1, true)
    );
    assert_eq!(
        households_found(app, &staff, "张", 1, 1).await,
        (vec!["张伟".to_string()], 2, false)
    );
    assert_eq!(
        households_found(app, &staff, "lnn", 20, 0).await,
        (vec!["张三丰".to_string()], 1, false)
    );
    assert_eq!(households_found(app, &staff, &d, 20, 0).await.1, 0);
    assert_eq!(
        households_found(app, &staff2, "张", 20, 0).await,
        (vec!["张伟".to_string()], 1, false)
    );
    let (list, total) = app
        .registry()
        .list(
            &staff,
            &HouseholdFilter {
                q: Some("张".into()),
                village: Some(VILLAGE2.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((list[0].id, total), (h2, 1));

    // A renamed person is found by the new name only.
    app.registry()
        .update_person(&staff, nana, &member("李娜", &b, "配偶"))
        .await
        .unwrap();
    assert!(found(app, &staff, "娜娜").await.is_empty());
    assert_eq!(found(app, &staff, "李娜").await, ["李娜"]);
    assert_eq!(found(app, &staff, "ln").await, ["李娜"]);
    // A household moved to the other township is found there, and no longer here.
    app.registry()
        .update(
            &city,
            h2,
            &HouseholdUpdate {
                village_code: FOREIGN_VILLAGE.into(),
                registration_type: "农村".into(),
                address: "和平路1号".into(),
                status: "正常".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found(app, &staff, "张").await, ["张三丰"]);
    assert!(found(app, &staff, &format!("{}张伟", last4(&c)))
        .await
        .is_empty());
    assert_eq!(found(app, &staff2, "张伟").await, ["张伟", "张伟"]);
    assert_eq!(found(app, &staff2, &last4(&c)).await, ["张伟"]);
}

async fn members_move_between_households_with_history(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let a = db
        .app
        .registry()
        .create(&staff, &new_household(VILLAGE, "王五", &id("19600101", 11)))
        .await
        .unwrap()
        .household
        .id;
    let b = db
        .app
        .registry()
        .create(
            &staff,
            &new_household(VILLAGE2, "赵六", &id("19650101", 11)),
        )
        .await
        .unwrap()
        .household
        .id;
    let kid = id("19900505", 22);
    // Bad relation: a child older than the head is accepted per-person, but relation is checked.
    match db
        .app
        .registry()
        .add_member(&staff, a, &member("王小", &kid, "孙悟空"))
        .await
    {
        Err(Error::Validation { fields, .. }) => assert!(fields["relation"].contains("可选")),
        other => panic!("{other:?}"),
    }
    let d = db
        .app
        .registry()
        .add_member(&staff, a, &member("王小", &kid, "子女"))
        .await
        .unwrap();
    assert_eq!(d.members.len(), 2);
    let pid = d.members.iter().find(|m| m.name == "王小").unwrap().id;
    // Excluded member needs a reason.
    let mut p = member("王小", &kid, "子女");
    p.counted = "否".into();
    match db.app.registry().update_person(&staff, pid, &p).await {
        Err(Error::Validation { fields, .. }) => {
            assert!(fields["exclusion_reason"].contains("原因"))
        }
        other => panic!("{other:?}"),
    }
    p.exclusion_reason = "现役义务兵".into();
    let d = db
        .app
        .registry()
        .update_person(&staff, pid, &p)
        .await
        .unwrap();
    assert!(!d.members.iter().find(|m| m.id == pid).unwrap().counted);
    // Moving keeps one record and leaves a trail in both households' history.
    let d = db
        .app
        .registry()
        .add_member(&staff, b, &member("王小", &kid, "其他"))
        .await
        .unwrap();
    assert_eq!(d.members.len(), 2);
    assert_eq!(d.members.iter().find(|m| m.name == "王小").unwrap().id, pid);
    let from = db.app.registry().get(&staff, a).await.unwrap();
    assert_eq!(from.members.len(), 1);
    let ha = db.app.registry().history(&staff, a).await.unwrap();
    assert_eq!(ha[0].action, "person.move_out");
    let hb = db.app.registry().history(&staff, b).await.unwrap();
    assert_eq!(hb[0].action, "person.move_in");
    // Another township cannot pull the person over.
    let staff2 = actor_of(app, "staff2").await;
    let c = db
        .app
        .registry()
        .create(
            &staff2,
            &new_household(FOREIGN_VILLAGE, "钱七", &id("19700707", 11)),
        )
        .await
        .unwrap()
        .household
        .id;
    match db
        .app
        .registry()
        .add_member(&staff2, c, &member("王小", &kid, "其他"))
        .await
    {
        Err(Error::Validation { fields, .. }) => {
            assert!(fields["id_number"].contains("其他辖区"))
        }
        other => panic!("{other:?}"),
    }
}

/// On a Citus cluster a row's county is its shard: an import whose ledger moves its
/// households to another county's village is refused whole, in words, and nothing moves.
#[minzheng_test_services::needs_citus]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_refuses_an_import_that_moves_households_to_another_county() {
    let db = TestDb::citus().await;
    seeded(&db).await;
    let city = Actor::system("t");
    let mut rows = ledger(3, 7);
    let r = import(&db, &city, "台账.csv", ledger_csv(&rows).unwrap()).await;
    assert!(r.written && r.issues.is_empty(), "{:?}", r.issues);
    let mingshan = system_in(Scope::of(
        minzheng_domain::DivisionCode::parse("511803").unwrap(),
    ));
    let before = db.app.registry().counts(&mingshan).await.unwrap();
    for row in &mut rows {
        row[col(Column::Village)] = "511803001001".into();
    }
    let moved = db
        .app
        .registry()
        .import(
            &city,
            &ImportInput::Bytes {
                name: "迁往名山区.csv".into(),
                data: ledger_csv(&rows).unwrap(),
            },
            &ImportOptions::default(),
            &mut |_| {},
        )
        .await;
    match moved {
        Err(e) => assert!(e.to_string().contains("户将迁往其他县（区）"), "{e}"),
        Ok(r) => panic!("the move was imported: {r:?}"),
    }
    assert_eq!(db.app.registry().counts(&mingshan).await.unwrap(), before);
    db.cleanup().await;
}

fn col(c: Column) -> usize {
    Column::ALL.iter().position(|x| *x == c).unwrap()
}

/// A small generated ledger inside the staff's township.
fn ledger(n: usize, seed: u64) -> Vec<Vec<String>> {
    generate_ledger(n, seed, &[VILLAGE.to_string(), VILLAGE2.to_string()])
}

async fn import(db: &TestDb, actor: &Actor, name: &str, data: Vec<u8>) -> ImportReport {
    import_with(db, actor, name, data, ImportOptions::default()).await
}

async fn import_with(
    db: &TestDb,
    actor: &Actor,
    name: &str,
    data: Vec<u8>,
    opts: ImportOptions,
) -> ImportReport {
    db.app
        .registry()
        .import(
            actor,
            &ImportInput::Bytes {
                name: name.into(),
                data,
            },
            &opts,
            &mut |_| {},
        )
        .await
        .unwrap()
}

fn gbk_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let utf8 = ledger_csv(rows).unwrap();
    let text = std::str::from_utf8(&utf8[3..]).unwrap();
    encoding_rs::GBK.encode(text).0.into_owned()
}

async fn import_all_formats_and_reimport_creates_no_duplicates(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let rows = ledger(12, 1);
    let r = import(db, &staff, "台账.csv", ledger_csv(&rows).unwrap()).await;
    assert!(r.issues.is_empty(), "{:?}", r.issues);
    assert!(r.written);
    assert_eq!(r.households_created, 12);
    assert_eq!(r.persons_created, rows.len());
    assert_eq!(r.encoding.as_deref(), Some("UTF-8(BOM)"));
    assert_eq!(persons(db).await, rows.len());
    // The same file again, as GBK CSV and as xlsx: updates only.
    let r = import(db, &staff, "台账-gbk.csv", gbk_csv(&rows)).await;
    assert!(r.issues.is_empty(), "{:?}", r.issues);
    assert_eq!(r.encoding.as_deref(), Some("GBK/GB18030"));
    assert_eq!((r.households_created, r.persons_created), (0, 0));
    assert_eq!(r.persons_updated, rows.len());
    let r = import(db, &staff, "台账.xlsx", ledger_xlsx(&rows).unwrap()).await;
    assert!(r.issues.is_empty(), "{:?}", r.issues);
    assert_eq!(r.persons_created, 0);
    assert_eq!(count(db, "households").await, 12);
    assert_eq!(persons(db).await, rows.len());
    // And as Excel 97–2003 (.xls): the same ledger written by xlwt (text-formatted ID,
    // code and account columns, amounts as numbers), as an office's old sheets are.
    let xls = include_bytes!("data/ledger-12-households-seed-1.xls").to_vec();
    let r = import(db, &staff, "台账.xls", xls).await;
    assert!(r.issues.is_empty(), "{:?}", r.issues);
    assert_eq!(r.rows_read, rows.len());
    assert_eq!(
        (r.households_created, r.persons_created, r.persons_updated),
        (0, 0, rows.len()),
        "the fixture is ledger(12, 1); regenerate it if the generator changed"
    );
    assert_eq!(persons(db).await, rows.len());
    // Incomes were replaced, not duplicated.
    let (hh, _) = db
        .app
        .registry()
        .list(&staff, &HouseholdFilter::default())
        .await
        .unwrap();
    let d = db.app.registry().get(&staff, hh[0].id).await.unwrap();
    let wage_rows = rows
        .iter()
        .filter(|r| r[col(Column::HeadId)] == d.household.head_id_number)
        .map(|r| {
            [
                Column::WageMonthly,
                Column::BusinessMonthly,
                Column::TransferMonthly,
                Column::OtherAnnual,
            ]
            .iter()
            .filter(|c| !r[col(**c)].is_empty())
            .count()
        })
        .sum::<usize>();
    assert_eq!(d.incomes.len(), wage_rows);
    // UTF-8 without BOM, and a new file: a second batch adds households.
    let more = ledger(3, 2);
    let plain = ledger_csv(&more).unwrap()[3..].to_vec();
    let r = import(db, &staff, "more.csv", plain).await;
    assert!(r.issues.is_empty(), "{:?}", r.issues);
    assert_eq!(r.encoding.as_deref(), Some("UTF-8"));
    assert_eq!(r.households_created, 3);
    // One summary audit record per import.
    let n_imports = app
        .audit()
        .list(&Actor::system("t"), None, 100, 0)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "registry.import")
        .count();
    assert_eq!(n_imports, 5);
    // The template itself imports as an empty ledger: header found, no rows.
    let r = import(db, &staff, "模板.xlsx", import_template().unwrap()).await;
    assert_eq!(r.issues.len(), 1);
    assert!(r.issues[0].reason.contains("只有表头"), "{:?}", r.issues);
}

fn xlsx_with(f: impl FnOnce(&mut rust_xlsxwriter::Workbook)) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    f(&mut wb);
    wb.save_to_buffer().unwrap()
}

fn write_rows(ws: &mut rust_xlsxwriter::Worksheet, first: u32, rows: &[Vec<String>]) {
    for (j, c) in Column::ALL.iter().enumerate() {
        ws.write_string(first, j as u16, c.header()).unwrap();
    }
    for (i, r) in rows.iter().enumerate() {
        for (j, v) in r.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(first + 1 + i as u32, j as u16, v).unwrap();
            }
        }
    }
}

async fn bad_ledgers_are_refused_and_change_nothing(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let rows = ledger(4, 3);
    let header: String = Column::ALL
        .iter()
        .map(|c| c.header())
        .collect::<Vec<_>>()
        .join(",");
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("huge.csv");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(200 * 1024 * 1024)
        .unwrap();

    let mut renamed_headers = rows.clone();
    renamed_headers.insert(0, Vec::new());
    let mut dup = rows.clone();
    dup.push(rows[1].clone());
    let mut foreign = rows.clone();
    for r in foreign.iter_mut() {
        r[col(Column::Village)] = FOREIGN_VILLAGE.into();
    }
    let mut bad_id = rows.clone();
    bad_id[0][col(Column::IdNumber)] = "511802197001010000".into();
    let mut sci = rows.clone();
    sci[1][col(Column::IdNumber)] = "5.11802E+17".into();
    let mut no_head = rows.clone();
    let big_household = rows
        .iter()
        .map(|r| r[col(Column::HeadId)].clone())
        .find(|h| rows.iter().filter(|r| &r[col(Column::HeadId)] == h).count() > 1)
        .expect("a household with members");
    no_head
        .retain(|r| r[col(Column::Relation)] != "户主" || r[col(Column::HeadId)] != big_household);
    let mut bad_date = rows.clone();
    bad_date[0][col(Column::Status)] = "死亡".into();
    bad_date[0][col(Column::StatusDate)] = "去年".into();

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.csv", Vec::new(), "空的"),
        (
            "blank.xlsx",
            xlsx_with(|wb| {
                wb.add_worksheet();
            }),
            "空的",
        ),
        (
            "header-only.csv",
            format!("{header}\n").into_bytes(),
            "只有表头",
        ),
        (
            "misnamed.csv",
            "名字,号码,关系\n张三,1,户主\n".as_bytes().to_vec(),
            "没有找到表头",
        ),
        (
            "missing.csv",
            "户主身份证号,姓名,与户主关系\n1,张三,户主\n"
                .as_bytes()
                .to_vec(),
            "缺少必填列：村(社区)代码、身份证号",
        ),
        (
            "fake.xlsx",
            b"this is not a spreadsheet at all".to_vec(),
            "不是有效的Excel",
        ),
        (
            "fake.xls",
            b"<html>not excel</html>".to_vec(),
            "不是有效的Excel",
        ),
        ("data.pdf", b"%PDF-1.4".to_vec(), "不支持的文件类型"),
        ("dup.csv", ledger_csv(&dup).unwrap(), "出现了两次"),
        (
            "foreign.csv",
            ledger_csv(&foreign).unwrap(),
            "不在您的管辖范围内",
        ),
        ("bad-id.csv", ledger_csv(&bad_id).unwrap(), "校验码错误"),
        ("sci.csv", ledger_csv(&sci).unwrap(), "设置为“文本”"),
        ("no-head.csv", ledger_csv(&no_head).unwrap(), "没有“户主”"),
        ("bad-date.csv", ledger_csv(&bad_date).unwrap(), "无法识别"),
        (
            "merged.xlsx",
            xlsx_with(|wb| {
                let ws = wb.add_worksheet();
                write_rows(ws, 0, &rows);
                // Merge 姓名 and 身份证号 headers into one cell.
                let n = col(Column::Name) as u16;
                ws.merge_range(0, n, 0, n + 1, "姓名", &rust_xlsxwriter::Format::new())
                    .unwrap();
            }),
            "合并单元格",
        ),
        (
            "numeric-id.xlsx",
            xlsx_with(|wb| {
                let ws = wb.add_worksheet();
                write_rows(ws, 0, &rows);
                ws.write_number(1, col(Column::IdNumber) as u16, 5.11802197001e17)
                    .unwrap();
            }),
            "存成了数字",
        ),
        (
            "formula.xlsx",
            xlsx_with(|wb| {
                let ws = wb.add_worksheet();
                write_rows(ws, 0, &rows);
                ws.write_formula(1, col(Column::IdNumber) as u16, "=A2&\"\"")
                    .unwrap();
            }),
            "公式",
        ),
    ];
    for (name, data, expect) in cases {
        let r = import(db, &staff, name, data).await;
        assert!(!r.written, "{name}");
        assert!(
            r.issues.iter().any(|i| i.reason.contains(expect)),
            "{name}: expected “{expect}” in {:?}",
            r.issues
        );
        assert!(
            r.issues.iter().all(|i| i
                .reason
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
            "{name}: reasons are Chinese"
        );
        assert_eq!(count(db, "households").await, 0, "{name} wrote nothing");
    }
    // 200 MB: refused by the size limit before it is read.
    let r = db
        .app
        .registry()
        .import(
            &staff,
            &ImportInput::Path(big),
            &ImportOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(r.issues[0].reason.contains("超过上限"), "{:?}", r.issues);
    // A configurable limit.
    let r = import_with(
        db,
        &staff,
        "small.csv",
        ledger_csv(&rows).unwrap(),
        ImportOptions {
            max_bytes: 100,
            ..Default::default()
        },
    )
    .await;
    assert!(r.issues[0].reason.contains("超过上限"));

    // Survivable oddities: title row above the header, another sheet first, trailing blank
    // rows, header variants, full-width IDs with spaces, dates in every spelling, formulas
    // with a computed value.
    let mut odd = rows.clone();
    let id0 = odd[0][col(Column::IdNumber)].clone();
    odd[0][col(Column::IdNumber)] = id0
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
            c => c,
        })
        .collect::<String>()
        .replacen('１', "１ ", 1);
    let dates = ["2024-01-05", "2024/1/5", "2024年1月5日", "20240105"];
    for (i, d) in dates.iter().enumerate() {
        odd[i + 1][col(Column::Status)] = "迁出".into();
        odd[i + 1][col(Column::StatusDate)] = (*d).into();
    }
    let data = xlsx_with(|wb| {
        let help = wb.add_worksheet();
        help.set_name("说明").unwrap();
        help.write_string(0, 0, "本表为测试台账").unwrap();
        let ws = wb.add_worksheet();
        ws.set_name("台账").unwrap();
        ws.merge_range(
            0,
            0,
            0,
            8,
            "东城街道家庭成员台账",
            &rust_xlsxwriter::Format::new(),
        )
        .unwrap();
        write_rows(ws, 1, &odd);
        ws.write_string(1, col(Column::IdNumber) as u16, "公民身份号码")
            .unwrap();
        // Excel serial date 45296 = 2024-01-05.
        ws.write_number(2 + 5, col(Column::StatusDate) as u16, 45296.0)
            .unwrap();
        ws.write_string(2 + 5, col(Column::Status) as u16, "迁出")
            .unwrap();
        let hc = col(Column::Phone) as u16;
        ws.write_formula(
            2,
            hc,
            rust_xlsxwriter::Formula::new("=\"13800000000\"").set_result("13800000000"),
        )
        .unwrap();
        for extra in 0..5 {
            ws.write_string(2 + odd.len() as u32 + extra, 0, "")
                .unwrap();
        }
    });
    let r = import(db, &staff, "odd.xlsx", data).await;
    assert!(r.issues.is_empty(), "{:?}", r.issues);
    assert!(r.written);
    assert_eq!(r.sheet.as_deref(), Some("台账"));
    assert_eq!(r.rows_read, odd.len());
    let found = db.app.registry().search(&staff, &id0, 5).await.unwrap();
    assert_eq!(found.len(), 1, "full-width ID normalized");
    let moved = db
        .app
        .registry()
        .search(&staff, &rows[1][col(Column::IdNumber)], 5)
        .await
        .unwrap();
    assert_eq!(moved[0].status_date.as_deref(), Some("2024-01-05"));
}

async fn valid_only_writes_the_good_households(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let mut rows = ledger(5, 4);
    let bad_head = rows[0][col(Column::HeadId)].clone();
    rows[0][col(Column::Name)] = String::new();
    let opts = ImportOptions {
        valid_only: true,
        ..Default::default()
    };
    let dry = import_with(
        db,
        &staff,
        "x.csv",
        ledger_csv(&rows).unwrap(),
        ImportOptions {
            dry_run: true,
            ..opts.clone()
        },
    )
    .await;
    assert!(!dry.written);
    assert_eq!(count(db, "households").await, 0);
    let r = import_with(db, &staff, "x.csv", ledger_csv(&rows).unwrap(), opts).await;
    assert!(r.written);
    assert_eq!(r.households_created, 4);
    assert!(r
        .issues
        .iter()
        .any(|i| i.row == 2 && i.reason.contains("姓名")));
    let others = rows
        .iter()
        .filter(|r| r[col(Column::HeadId)] == bad_head)
        .count();
    assert_eq!(
        r.issues
            .iter()
            .filter(|i| i.reason.contains("整户未导入"))
            .count(),
        others - 1
    );
    assert_eq!(count(db, "households").await, 4);
}

async fn export_masks_for_roles_and_is_audited(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let assistant = actor_of(app, "assistant").await;
    let rows = ledger(6, 5);
    let r = import(db, &staff, "x.csv", ledger_csv(&rows).unwrap()).await;
    assert!(r.written, "{:?}", r.issues);
    let (full, n) = db.app.registry().export(&staff, None).await.unwrap();
    assert_eq!(full.len(), rows.len());
    assert_eq!(n, 6);
    let ids = |rs: &Vec<Vec<String>>| {
        let mut v: Vec<String> = rs
            .iter()
            .map(|r| r[col(Column::IdNumber)].clone())
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&full), ids(&rows));
    // The export re-imports as-is (same layout), changing nothing.
    let again = import(db, &staff, "export.xlsx", ledger_xlsx(&full).unwrap()).await;
    assert!(again.issues.is_empty(), "{:?}", again.issues);
    assert_eq!(again.persons_created, 0);
    // A village assistant sees only their village, masked.
    let (masked, _) = db.app.registry().export(&assistant, None).await.unwrap();
    assert!(masked.iter().all(
        |r| r[col(Column::IdNumber)].contains("********") && r[col(Column::Village)] == VILLAGE
    ));
    // Out-of-scope narrowing is refused.
    assert!(matches!(
        db.app.registry().export(&staff, Some("511802002")).await,
        Err(Error::NotFound(_))
    ));
    let exports = app
        .audit()
        .list(&Actor::system("t"), None, 100, 0)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "registry.export")
        .count();
    assert_eq!(exports, 2);
}

/// A registered ID number that comes with another name — in a ledger row or on the member
/// form — is an identity conflict: refused with the registered name, nothing renamed or
/// moved.
async fn identity_conflicts_are_refused_in_the_import_and_the_member_form(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let rows = ledger(4, 5);
    let r = import(db, &staff, "台账.csv", ledger_csv(&rows).unwrap()).await;
    assert!(r.written, "{:?}", r.issues);
    let before = persons(db).await;
    // The same ledger with one member renamed.
    let k = rows
        .iter()
        .position(|r| r[col(Column::Relation)] != "户主")
        .expect("a member who is not the head");
    let registered = rows[k][col(Column::Name)].clone();
    let mut renamed = rows.clone();
    renamed[k][col(Column::Name)] = "冒名顶替".into();
    let r = import(db, &staff, "改名.csv", ledger_csv(&renamed).unwrap()).await;
    assert!(!r.written);
    let issue = r
        .issues
        .iter()
        .find(|i| i.column == Column::Name.header())
        .unwrap_or_else(|| panic!("no name issue: {:?}", r.issues));
    assert!(issue.reason.contains(&registered), "{}", issue.reason);
    assert!(issue.reason.contains("不会自动改名"), "{}", issue.reason);
    assert_eq!(persons(db).await, before);
    let id_number = rows[k][col(Column::IdNumber)].clone();
    let found = app.registry().search(&staff, &id_number, 1).await.unwrap();
    assert_eq!(found[0].name, registered);
    // The member form: another household adding the same ID number under another name.
    let other = app
        .registry()
        .create(
            &staff,
            &new_household(VILLAGE2, "赵六", &id("19650101", 11)),
        )
        .await
        .unwrap()
        .household
        .id;
    match app
        .registry()
        .add_member(&staff, other, &member("冒名顶替", &id_number, "子女"))
        .await
    {
        Err(Error::Validation { fields, .. }) => {
            assert!(fields["name"].contains(&registered), "{fields:?}");
        }
        other => panic!("expected an identity conflict, got {other:?}"),
    }
    let still = app.registry().search(&staff, &id_number, 1).await.unwrap();
    assert_eq!(still[0].name, registered);
    assert_ne!(still[0].household_id, other);
}

/// Text a spreadsheet would run as a formula leaves in the ledger export inert (a leading
/// apostrophe in CSV, a string cell in the workbook), and the export still imports back
/// unchanged.
async fn ledger_exports_are_inert_and_read_back(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let mut rows = ledger(3, 11);
    let hostile = [
        "=HYPERLINK(\"http://evil.example\",\"点此\")",
        "+1+2",
        "@SUM(A1)",
    ];
    let mut heads = 0;
    for r in rows.iter_mut() {
        if r[col(Column::Relation)] == "户主" {
            r[col(Column::Address)] = hostile[heads % hostile.len()].to_string();
            heads += 1;
        }
    }
    assert_eq!(heads, 3);
    let r = import(db, &staff, "x.csv", ledger_csv(&rows).unwrap()).await;
    assert!(r.written, "{:?}", r.issues);
    let (full, _) = db.app.registry().export(&staff, None).await.unwrap();
    let mut addresses: Vec<String> = full
        .iter()
        .map(|r| r[col(Column::Address)].clone())
        .filter(|a| !a.is_empty())
        .collect();
    addresses.sort();
    let mut want: Vec<String> = hostile.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(addresses, want, "stored as typed");
    let csv = ledger_csv(&full).unwrap();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&csv[3..]);
    for rec in rdr.records() {
        for cell in rec.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "CSV cell {cell:?} would be a formula"
            );
        }
    }
    assert_eq!(
        String::from_utf8_lossy(&csv).matches("'=HYPERLINK").count(),
        1
    );
    // Both exports import back as they were: nothing new, nothing changed.
    for (name, data) in [
        ("export.csv", csv),
        ("export.xlsx", ledger_xlsx(&full).unwrap()),
    ] {
        let again = import(db, &staff, name, data).await;
        assert!(again.issues.is_empty(), "{name}: {:?}", again.issues);
        assert_eq!(again.persons_created, 0);
        let (after, _) = db.app.registry().export(&staff, None).await.unwrap();
        assert_eq!(after, full, "{name}");
    }
}

/// A UTF-8 ledger with one byte that is not UTF-8 is refused as such, naming the line,
/// instead of being read as GB18030 and reported as having no header.
async fn a_corrupt_utf8_ledger_is_named_as_such(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let rows = ledger(3, 12);
    let plain = ledger_csv(&rows).unwrap()[3..].to_vec(); // without the BOM
                                                          // One stray byte in the third line.
    let mut bad = Vec::new();
    let mut line = 1;
    for b in plain {
        bad.push(b);
        if b == b'\n' {
            line += 1;
            if line == 3 {
                bad.push(0xFF);
            }
        }
    }
    let r = import(db, &staff, "台账.csv", bad.clone()).await;
    assert!(!r.written);
    assert_eq!(r.issues.len(), 1, "{:?}", r.issues);
    let reason = &r.issues[0].reason;
    assert!(!reason.contains("表头"), "{reason}");
    assert!(
        reason.contains("UTF-8") && reason.contains("第3行"),
        "{reason}"
    );
    // With the BOM the same.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&bad);
    let r = import(db, &staff, "台账.csv", bom).await;
    let reason = &r.issues[0].reason;
    assert!(
        reason.contains("UTF-8") && reason.contains("第3行"),
        "{reason}"
    );
    // Bytes that are neither UTF-8 nor GB18030 say so.
    let mut junk = b"id,name\n".to_vec();
    junk.extend_from_slice(b"\x81\x20\xff\xfe,\x80\n");
    let r = import(db, &staff, "台账.csv", junk).await;
    let reason = &r.issues[0].reason;
    assert!(
        reason.contains("既不是") && reason.contains("GB18030") && reason.contains("第2行"),
        "{reason}"
    );
    assert_eq!(count(db, "households").await, 0);
}

/// A child born today (in Beijing) is added to the household the same day, whatever the
/// hour: the registry dates ID numbers by the Beijing day, which before 08:00 is a day ahead
/// of UTC's. (Run the suite under `faketime`, docs/testing.md, to try it after midnight.)
async fn a_child_born_today_in_beijing_is_registered_at_any_hour(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let h = app
        .registry()
        .create(&staff, &new_household(VILLAGE, "周父", &id("19900101", 11)))
        .await
        .unwrap()
        .household
        .id;
    // Read before the request: the registry's day is this one or, past midnight, the next.
    let today = beijing_today();
    let added = app
        .registry()
        .add_member(&staff, h, &member("周小宝", &id(&today, 12), "子"))
        .await
        .unwrap_or_else(|e| panic!("a child born on {today} is refused: {e}"));
    assert!(added.members.iter().any(|m| m.name == "周小宝"));
}

/// Today's date in Beijing (UTC+8), as YYYYMMDD.
fn beijing_today() -> String {
    (Utc::now() + chrono::Duration::hours(8))
        .format("%Y%m%d")
        .to_string()
}
