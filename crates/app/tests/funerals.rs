//! Deaths and the money (殡葬管理, 追回) through the app: a death recorded late ends the
//! person's enrolment with the month of death, takes them out of the unsigned draft, opens
//! one recovery per month already paid, and the recoveries go to 已追回 or, with the
//! director's approval, 已核销. Identity conflicts, duplicates, roles and jurisdiction are
//! refused with nothing written. Every case runs on SQLite, and on PostgreSQL when
//! `MINZHENG_TEST_POSTGRES_URL` is set.

use chrono::NaiveDate;
use minzheng_app::testing::payroll::{self as fixtures, FixtureEnrolment};
use minzheng_app::testing::TestDb;
use minzheng_app::{App, Error};
use minzheng_domain::funerals::{NewDeath, RecoveryAction, RecoveryStatus};
use minzheng_domain::payroll::{EnrolmentStatus, GenerateRequest, LineFilter, PayrollBatch};
use minzheng_domain::registry::NewHousehold;
use minzheng_domain::{Actor, Fen, Program, YearMonth};

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
    a_late_death_stops_the_money_and_opens_recoveries,
    recoveries_are_recovered_or_written_off_by_the_director,
    a_household_others_live_on_is_not_stopped,
    identity_conflicts_duplicates_roles_and_jurisdiction_change_nothing,
    an_unregistered_death_is_recorded_in_the_named_township,
    a_death_list_is_imported_whole_or_not_at_all,
    hostile_death_lists_are_refused_and_record_nothing,
);

const V1: &str = "511802001001";
const XICHENG_V: &str = "511802002001";
/// A valid ID number of someone born in 1945 (check digit computed).
const WANG: &str = "511802194501010019";
const WANG_WIFE: &str = "511802194501010027";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
}

fn month(s: &str) -> YearMonth {
    YearMonth::parse(s).unwrap()
}

async fn seeded(db: &TestDb) -> &App {
    db.app.demo().ensure().await.expect("seed demo");
    &db.app
}

async fn actor_of(app: &App, username: &str) -> Actor {
    fixtures::actor(app, username).await.expect("demo login")
}

/// A registered household of one (the head) in `village`.
async fn register(app: &App, village: &str, name: &str, id_number: &str) {
    let staff = Actor::system("t");
    app.registry()
        .create(
            &staff,
            &NewHousehold {
                head_health: "健康".into(),
                head_work_capacity: "有劳动能力".into(),
                village_code: village.into(),
                registration_type: "农村".into(),
                address: "和平路1号".into(),
                phone: "13800000000".into(),
                bank_name: "四川农信".into(),
                account_number: "6228480000000000001".into(),
                account_holder: name.into(),
                head_name: name.into(),
                head_id_number: id_number.into(),
            },
        )
        .await
        .expect("register household");
}

fn death(id_number: &str, name: &str, date: &str) -> NewDeath {
    NewDeath {
        id_number: id_number.into(),
        name: name.into(),
        death_date: date.into(),
        death_place: "家中".into(),
        certificate_kind: "medical".into(),
        certificate_no: "N2026-0001".into(),
        disposal: "cremation".into(),
        cremation_no: "H2026-0001".into(),
        funeral_home: "雅安市殡仪馆".into(),
        ..NewDeath::default()
    }
}

fn req(m: &str) -> GenerateRequest {
    GenerateRequest {
        month: month(m),
        program: Some(Program::Tekun),
        within: None,
    }
}

/// Generates, signs off and exports the month's 特困 batch of 东城街道.
async fn paid(app: &App, m: &str) -> PayrollBatch {
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    let out = app.payroll().generate(&staff, &req(m)).await.unwrap();
    let b = out.created.into_iter().chain(out.existing).next().unwrap();
    app.payroll().sign_off(&director, b.id, None).await.unwrap();
    app.bank_files()
        .export(&staff, b.id, "utf8-csv")
        .await
        .unwrap();
    b
}

async fn draft(app: &App, m: &str) -> Option<PayrollBatch> {
    let staff = actor_of(app, "staff").await;
    let out = app.payroll().generate(&staff, &req(m)).await.unwrap();
    out.created.into_iter().chain(out.existing).next()
}

async fn names_in(app: &App, b: &PayrollBatch) -> Vec<String> {
    app.payroll()
        .lines(&Actor::system("t"), b.id, &LineFilter::default())
        .await
        .unwrap()
        .0
        .into_iter()
        .map(|l| l.beneficiary_name)
        .collect()
}

/// 王大山 (特困, 800 元) died on 2026-09-15; October and November were paid, December is a
/// draft. Recording the death ends the enrolment with September, regenerates December
/// without him (his neighbour stays), and opens two recoveries of 800 元.
async fn a_late_death_stops_the_money_and_opens_recoveries(db: &TestDb) {
    let app = seeded(db).await;
    register(app, V1, "王大山", WANG).await;
    let wang = fixtures::enrol(
        app,
        &FixtureEnrolment::new(Program::Tekun, V1, "王大山", WANG, 80_000, "2026-01"),
    )
    .await
    .unwrap();
    fixtures::enrol(
        app,
        &FixtureEnrolment::new(
            Program::Tekun,
            V1,
            "李四",
            "51180219800101001X",
            80_000,
            "2026-01",
        ),
    )
    .await
    .unwrap();
    paid(app, "2026-09").await;
    paid(app, "2026-10").await;
    paid(app, "2026-11").await;
    let december = draft(app, "2026-12").await.unwrap();
    assert!(names_in(app, &december)
        .await
        .contains(&"王大山".to_string()));

    let staff = actor_of(app, "staff").await;
    let out = app
        .funerals()
        .record(&staff, &death(WANG, "王大山", "2026-09-15"), today())
        .await
        .unwrap();
    assert_eq!(out.stopped, vec![wang]);
    assert_eq!(out.regenerated, vec![december.id]);
    // A cremated 特困 beneficiary: 惠民殡葬's relief and 特困's 丧葬补助 (the demo's figures).
    assert_eq!(out.record.relief, Fen(120_000));
    assert_eq!(
        (out.record.grant, out.record.grant_program),
        (Fen(300_000), Some(Program::Tekun))
    );
    let kept = app.funerals().get(&staff, out.record.id).await.unwrap();
    assert_eq!(
        (kept.record.relief, kept.record.grant),
        (Fen(120_000), Fen(300_000))
    );
    let periods: Vec<(&str, Fen, RecoveryStatus)> = out
        .recoveries
        .iter()
        .map(|r| (r.period.as_str(), r.amount, r.status))
        .collect();
    assert_eq!(
        periods,
        vec![
            ("2026-10", Fen(80_000), RecoveryStatus::Open),
            ("2026-11", Fen(80_000), RecoveryStatus::Open)
        ]
    );
    // The enrolment ends with the month of death.
    let e = app
        .cases()
        .enrolments(&staff, &Default::default())
        .await
        .unwrap()
        .0
        .into_iter()
        .find(|e| e.id == wang)
        .unwrap();
    assert_eq!(e.status, EnrolmentStatus::Ended);
    assert_eq!(e.end_month.as_deref(), Some("2026-09"));
    // December's draft no longer pays him; his neighbour is still paid.
    let names = names_in(app, &december).await;
    assert!(!names.contains(&"王大山".to_string()), "{names:?}");
    assert!(names.contains(&"李四".to_string()));
    // Nor does any later month.
    let january = draft(app, "2027-01").await.unwrap();
    assert!(!names_in(app, &january)
        .await
        .contains(&"王大山".to_string()));
    // The registry knows he died.
    let found = app.registry().search(&staff, WANG, 5).await.unwrap();
    assert_eq!(found[0].status.as_str(), "deceased");
    // Every change is audited.
    let trail = fixtures::audit_actions(app, "enrolment", &wang.to_string())
        .await
        .unwrap();
    assert!(trail.contains(&"enrolment.stop".to_string()), "{trail:?}");
    assert!(fixtures::audit_intact(app).await.unwrap());
    // The recovery list and its totals.
    let totals = app.funerals().recovery_totals(&staff).await.unwrap();
    assert_eq!((totals.open_count, totals.open), (2, Fen(160_000)));
    // The funds ledger shows what is owed back, by month and program.
    let ledger = app
        .payroll()
        .ledger(&staff, &Default::default())
        .await
        .unwrap();
    let owed: Vec<(String, Fen)> = ledger
        .iter()
        .filter(|r| r.program == Program::Tekun && r.township_code == "511802001")
        .map(|r| (r.month.to_string(), r.to_recover))
        .collect();
    assert!(owed.contains(&("2026-09".into(), Fen(0))), "{owed:?}");
    assert!(owed.contains(&("2026-10".into(), Fen(80_000))), "{owed:?}");
    assert!(owed.contains(&("2026-11".into(), Fen(80_000))), "{owed:?}");
}

async fn recoveries_are_recovered_or_written_off_by_the_director(db: &TestDb) {
    let app = seeded(db).await;
    register(app, V1, "王大山", WANG).await;
    fixtures::enrol(
        app,
        &FixtureEnrolment::new(Program::Tekun, V1, "王大山", WANG, 80_000, "2026-01"),
    )
    .await
    .unwrap();
    paid(app, "2026-10").await;
    paid(app, "2026-11").await;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    let out = app
        .funerals()
        .record(&staff, &death(WANG, "王大山", "2026-09-20"), today())
        .await
        .unwrap();
    let (oct, nov) = (out.recoveries[0].id, out.recoveries[1].id);
    let f = app.funerals();
    // A note is required; the refused step changes nothing.
    assert!(matches!(
        f.step(&staff, oct, RecoveryAction::Recovered, " ").await,
        Err(Error::Validation { .. })
    ));
    assert_eq!(
        f.recovery(&staff, oct).await.unwrap().status,
        RecoveryStatus::Open
    );
    let r = f
        .step(
            &staff,
            oct,
            RecoveryAction::Recovered,
            "2026-12-01 家属退回现金",
        )
        .await
        .unwrap();
    assert_eq!(r.status, RecoveryStatus::Recovered);
    // A recovered month cannot be written off.
    assert!(matches!(
        f.step(&staff, oct, RecoveryAction::RequestWriteOff, "无法联系")
            .await,
        Err(Error::Conflict(_))
    ));
    // The clerk may not approve a write-off; the director approves one asked by the clerk.
    f.step(
        &staff,
        nov,
        RecoveryAction::RequestWriteOff,
        "家属无力退还，经村委会证明",
    )
    .await
    .unwrap();
    assert!(matches!(
        f.step(&staff, nov, RecoveryAction::ApproveWriteOff, "")
            .await,
        Err(Error::Forbidden(_))
    ));
    let r = f
        .step(&director, nov, RecoveryAction::ApproveWriteOff, "")
        .await
        .unwrap();
    assert_eq!(r.status, RecoveryStatus::WrittenOff);
    assert_eq!(r.requested_by.as_deref(), Some("staff"));
    assert_eq!(r.decided_by.as_deref(), Some("director"));
    let totals = f.recovery_totals(&staff).await.unwrap();
    assert_eq!((totals.open_count, totals.recovered), (0, Fen(80_000)));
    let trail = fixtures::audit_actions(app, "recovery", &nov.to_string())
        .await
        .unwrap();
    assert_eq!(
        trail.iter().filter(|a| *a == "recovery.step").count(),
        2,
        "{trail:?}"
    );
}

/// A household's 低保 that his wife still lives on is not stopped; it is reported for a
/// change case, and nothing is recovered.
async fn a_household_others_live_on_is_not_stopped(db: &TestDb) {
    let app = seeded(db).await;
    register(app, V1, "王大山", WANG).await;
    let sys = Actor::system("t");
    let household = app.registry().search(&sys, WANG, 1).await.unwrap()[0].household_id;
    app.registry()
        .add_member(
            &sys,
            household,
            &minzheng_domain::registry::PersonInput {
                health: "健康".into(),
                work_capacity: "有劳动能力".into(),
                name: "张秀英".into(),
                id_number: WANG_WIFE.into(),
                relation: "配偶".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let dibao = fixtures::enrol(
        app,
        &FixtureEnrolment::new(Program::RuralDibao, V1, "王大山", WANG, 50_000, "2026-01"),
    )
    .await
    .unwrap();
    let staff = actor_of(app, "staff").await;
    let out = app
        .funerals()
        .record(&staff, &death(WANG, "王大山", "2026-09-15"), today())
        .await
        .unwrap();
    assert!(out.stopped.is_empty());
    assert_eq!(out.to_recalculate, vec![dibao]);
    assert!(out.recoveries.is_empty());
}

async fn identity_conflicts_duplicates_roles_and_jurisdiction_change_nothing(db: &TestDb) {
    let app = seeded(db).await;
    register(app, V1, "王大山", WANG).await;
    fixtures::enrol(
        app,
        &FixtureEnrolment::new(Program::Tekun, V1, "王大山", WANG, 80_000, "2026-01"),
    )
    .await
    .unwrap();
    let staff = actor_of(app, "staff").await;
    let f = app.funerals();
    // The registered ID number with another name: a conflict, nothing written.
    match f
        .record(&staff, &death(WANG, "王小山", "2026-09-15"), today())
        .await
    {
        Err(Error::Validation { fields, .. }) => {
            assert!(fields["name"].contains("王大山"), "{fields:?}");
            assert!(fields["name"].contains("王小山"));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(f.list(&staff, None).await.unwrap().is_empty());
    let person = &app.registry().search(&staff, WANG, 1).await.unwrap()[0];
    assert_eq!(person.name, "王大山");
    assert_eq!(person.status.as_str(), "active");
    // Bad input: every field's message, nothing written.
    let mut bad = death(WANG, "", "2027-01-01");
    bad.certificate_no.clear();
    match f.record(&staff, &bad, today()).await {
        Err(Error::Validation { fields, .. }) => {
            for k in ["name", "death_date", "certificate_no"] {
                assert!(fields.contains_key(k), "{k}: {fields:?}");
            }
        }
        other => panic!("expected validation, got {other:?}"),
    }
    // The village assistant and the auditor may not record a death.
    for who in ["assistant", "auditor"] {
        let a = actor_of(app, who).await;
        assert!(matches!(
            f.record(&a, &death(WANG, "王大山", "2026-09-15"), today())
                .await,
            Err(Error::Forbidden(_))
        ));
    }
    // Another township's clerk does not reach him.
    let staff2 = actor_of(app, "staff2").await;
    assert!(matches!(
        f.record(&staff2, &death(WANG, "王大山", "2026-09-15"), today())
            .await,
        Err(Error::NotFound(_))
    ));
    assert!(f.list(&staff, None).await.unwrap().is_empty());
    // Recorded once; a second record is refused.
    f.record(&staff, &death(WANG, "王大山", "2026-09-15"), today())
        .await
        .unwrap();
    assert!(matches!(
        f.record(&staff, &death(WANG, "王大山", "2026-09-15"), today())
            .await,
        Err(Error::Conflict(_))
    ));
    // Another township sees neither the record nor its recoveries.
    assert!(f.list(&staff2, None).await.unwrap().is_empty());
    let id = f.list(&staff, None).await.unwrap()[0].id;
    assert!(matches!(f.get(&staff2, id).await, Err(Error::NotFound(_))));
}

async fn an_unregistered_death_is_recorded_in_the_named_township(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let f = app.funerals();
    // The clerk's own township by default.
    let out = f
        .record(&staff, &death(WANG, "王大山", "2026-09-15"), today())
        .await
        .unwrap();
    assert_eq!(out.record.township_code, "511802001");
    assert_eq!(out.record.person_id, None);
    // Cremated, but no beneficiary: neither relief nor grant.
    assert_eq!((out.record.relief, out.record.grant), (Fen(0), Fen(0)));
    // Another township named by a clerk of 东城街道: outside the scope.
    let mut other = death(WANG_WIFE, "张秀英", "2026-10-01");
    other.township_code = XICHENG_V[..9].into();
    assert!(matches!(
        f.record(&staff, &other, today()).await,
        Err(Error::NotFound(_))
    ));
    // The auditor sees the ledger with the ID number masked.
    let auditor = actor_of(app, "auditor").await;
    let seen = f.list(&auditor, None).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].id_number.contains('*'), "{}", seen[0].id_number);
}

/// A funeral home's list: a refused row refuses the whole list (each row's reason named,
/// nothing written); the corrected list records every death and stops the money as the
/// form does.
async fn a_death_list_is_imported_whole_or_not_at_all(db: &TestDb) {
    let app = seeded(db).await;
    register(app, V1, "王大山", WANG).await;
    fixtures::enrol(
        app,
        &FixtureEnrolment::new(Program::Tekun, V1, "王大山", WANG, 80_000, "2026-01"),
    )
    .await
    .unwrap();
    paid(app, "2026-10").await;
    let staff = actor_of(app, "staff").await;
    let f = app.funerals();
    let list = |wang_name: &str| {
        let csv = format!(
            "序号,公民身份号码,死者姓名,死亡时间,遗体处理方式,火化证编号,火化单位,证明编号\n\
             1,{WANG},{wang_name},2026/9/15,火化,H-1,雅安市殡仪馆,N-1\n\
             2,{WANG_WIFE},张秀英,20261001,火化,H-2,雅安市殡仪馆,N-2\n"
        );
        encoding_rs::GBK.encode(&csv).0.into_owned()
    };
    use minzheng_domain::funerals::DeathSource;
    match f
        .import(
            &staff,
            DeathSource::FuneralHome,
            "殡仪馆.csv",
            &list("王小山"),
            today(),
        )
        .await
    {
        Err(Error::Validation { fields, .. }) => {
            let m = &fields["file"];
            assert!(m.contains("第2行") && m.contains("王大山"), "{m}");
            assert!(m.contains("未导入任何记录"), "{m}");
        }
        other => panic!("expected the list refused, got {other:?}"),
    }
    assert!(f.list(&staff, None).await.unwrap().is_empty());
    // Another township's clerk may not record 东城's registered dead.
    let staff2 = actor_of(app, "staff2").await;
    match f
        .import(
            &staff2,
            DeathSource::Police,
            "公安.csv",
            &list("王大山"),
            today(),
        )
        .await
    {
        Err(Error::Validation { fields, .. }) => {
            assert!(fields["file"].contains("管辖范围"), "{}", fields["file"])
        }
        other => panic!("expected the list refused, got {other:?}"),
    }
    // A file that is not a list at all.
    assert!(matches!(
        f.import(
            &staff,
            DeathSource::Police,
            "名单.xlsx",
            b"not a workbook",
            today()
        )
        .await,
        Err(Error::Validation { .. })
    ));
    assert!(f.list(&staff, None).await.unwrap().is_empty());
    // The same person twice is refused too.
    let mut twice = list("王大山");
    twice.extend_from_slice(
        &encoding_rs::GBK
            .encode(&format!(
                "3,{WANG},王大山,2026-09-15,火化,H-3,雅安市殡仪馆,N-3\n"
            ))
            .0,
    );
    assert!(matches!(
        f.import(
            &staff,
            DeathSource::FuneralHome,
            "殡仪馆.csv",
            &twice,
            today()
        )
        .await,
        Err(Error::Validation { .. })
    ));
    assert!(f.list(&staff, None).await.unwrap().is_empty());
    let out = f
        .import(
            &staff,
            DeathSource::FuneralHome,
            "殡仪馆.csv",
            &list("王大山"),
            today(),
        )
        .await
        .unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0].recoveries.len(),
        1,
        "October was paid after a September death"
    );
    let ledger = f.list(&staff, None).await.unwrap();
    assert_eq!(ledger.len(), 2);
    assert!(ledger.iter().all(|r| r.funeral_home == "雅安市殡仪馆"));
    assert!(ledger.iter().all(|r| r.source == DeathSource::FuneralHome));
}

/// A death list is read whole, so it is checked against the input limits first: a
/// workbook with endlessly many shared strings or endless nesting, a CSV with an endless
/// line — each refused with the limit named, and nothing recorded.
async fn hostile_death_lists_are_refused_and_record_nothing(db: &TestDb) {
    use minzheng_app::formats::limits::InputLimits;
    use minzheng_app::testing::hostile;
    use minzheng_domain::funerals::DeathSource;
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let mut long = "公民身份号码,死者姓名,死亡时间\n".as_bytes().to_vec();
    long.extend(vec![b'5'; 1 << 20]);
    for (name, data, expect) in [
        (
            "名单.xlsx",
            hostile::many_shared_strings(&[], InputLimits::default().max_shared_strings + 1),
            &["共享字符串", "max_shared_strings"][..],
        ),
        (
            "名单.xlsx",
            hostile::deep_xml(&[], 100_000),
            &["max_xml_depth"][..],
        ),
        ("名单.csv", long, &["死亡名单第2行起", "max_line_bytes"][..]),
    ] {
        match app
            .funerals()
            .import(&staff, DeathSource::Police, name, &data, today())
            .await
        {
            Err(Error::Validation { fields, .. }) => {
                for x in expect {
                    assert!(
                        fields["file"].contains(x),
                        "{x:?} not in {}",
                        fields["file"]
                    );
                }
            }
            other => panic!("expected the list refused, got {other:?}"),
        }
        assert!(app.funerals().list(&staff, None).await.unwrap().is_empty());
    }
}
