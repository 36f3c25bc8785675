//! Office standardization through the use cases: staff changes, premises, inspections,
//! subsidies, the console overview and jurisdiction. Every case runs on SQLite, and on
//! PostgreSQL when `MINZHENG_TEST_POSTGRES_URL` is set.

use chrono::{NaiveDate, Utc};
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::standards::Standards;
use minzheng_app::testing::TestDb;
use minzheng_app::{App, Error};
use minzheng_domain::attachments::{AttachedTo, NewAttachment};
use minzheng_domain::standards::{
    ChangeStatus, InspectionStanding, InspectionStatus, NewInspection, NewInvestment, NewRoom,
    NewStaffChange, OfficeStandards, PlanStanding, RuleStatus, ScoreInput, SubsidyStatus,
};
use minzheng_domain::{Actor, Fen};

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
    e_ledger_counts_registry_households,
    demo_has_offices_in_every_state,
    staff_changes_need_city_approval,
    room_areas_are_exact_at_the_boundary,
    passing_inspection_grants_half_the_investment,
    township_cannot_reach_other_offices_or_city_actions,
    photos_must_be_images_within_the_limit,
    concurrent_approvals_apply_once,
);

const DONGCHENG: &str = "511802001";
const XICHENG: &str = "511802002";

/// The day the tests evaluate the offices on: after the demo plan's deadline, whatever the
/// clock says.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
}

/// The demo city seeded; its standardization use cases.
async fn seeded(db: &TestDb) -> Standards<'_> {
    db.app.demo().ensure().await.expect("seed demo");
    db.app.standards()
}

/// The system, which sees and may do everything.
fn system() -> Actor {
    Actor::system("t")
}

async fn actor_of(db: &TestDb, username: &str) -> Actor {
    db.app
        .users()
        .authenticate(username, DEMO_PASSWORD, Utc::now())
        .await
        .unwrap()
        .expect("demo login works")
        .actor()
        .unwrap()
}

async fn audit_actions(app: &App, entity_type: &str, id: &str) -> Vec<String> {
    app.audit()
        .list(&Actor::system("t"), Some((entity_type, id)), 100, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

/// 永兴街道 has no accounts in the demo: its e-ledger rule is met only once its households are
/// in the registry.
async fn e_ledger_counts_registry_households(db: &TestDb) {
    let s = seeded(db).await;
    let code = "511803001";
    let status = |o: &OfficeStandards| o.evaluation.status_of("e-ledger");
    let before = s.office(&system(), code, today()).await.unwrap();
    assert_eq!(status(&before), Some(RuleStatus::NotMet));
    let first17 = "51180319800101001";
    let check = minzheng_domain::IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    db.app
        .registry()
        .create(
            &Actor::system("t"),
            &minzheng_domain::registry::NewHousehold {
                head_health: "健康".into(),
                head_work_capacity: "有劳动能力".into(),
                village_code: "511803001001".into(),
                registration_type: "城镇".into(),
                head_name: "李明".into(),
                head_id_number: format!("{first17}{check}"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let after = s.office(&system(), code, today()).await.unwrap();
    assert_eq!(status(&after), Some(RuleStatus::Met));
    // The console's set-based overview derives the same fact.
    let overview = s.overview(&system(), None, None, today()).await.unwrap();
    let row = overview.iter().find(|o| o.township_code == code).unwrap();
    assert_eq!(row.evaluation.status_of("e-ledger"), Some(RuleStatus::Met));
}

async fn demo_has_offices_in_every_state(db: &TestDb) {
    let s = seeded(db).await;
    let all = s.overview(&system(), None, None, today()).await.unwrap();
    assert_eq!(all.len(), 96);
    let by = |code: &str| all.iter().find(|o| o.township_code == code).unwrap();
    let dc = by(DONGCHENG);
    assert_eq!(
        dc.evaluation.compliance_percent,
        100,
        "{:?}",
        dc.evaluation.failing()
    );
    assert_eq!(dc.plan_status, PlanStanding::Accepted);
    assert_eq!(dc.inspection_status, InspectionStanding::NotInspected);
    let xc = by(XICHENG);
    assert!(xc.evaluation.compliance_percent < 100);
    assert_eq!(
        xc.evaluation.status_of("staff-count"),
        Some(RuleStatus::NotMet)
    );
    assert_eq!(
        xc.evaluation.status_of("three-rooms"),
        Some(RuleStatus::NotMet)
    );
    assert_eq!(xc.plan_status, PlanStanding::Submitted);
    assert_eq!(
        by("511802003").inspection_status,
        InspectionStanding::Passed
    );
    assert_eq!(
        by("511802003").subsidy_status,
        Some(SubsidyStatus::Disbursed)
    );
    assert_eq!(by("511802003").subsidy, Some(Fen(2_900_000)));
    assert_eq!(
        by("511802004").inspection_status,
        InspectionStanding::Failed
    );
    // Returned and the deadline passed: overdue.
    assert_eq!(by("511802004").plan_status, PlanStanding::Overdue);
    assert_eq!(by("511802005").inspection_status, InspectionStanding::Open);
    assert!(all.iter().any(|o| o.plan_status == PlanStanding::Overdue));
    // The county filter narrows, and the same numbers come from the single-office view.
    let yucheng = s
        .overview(&system(), Some("511802"), None, today())
        .await
        .unwrap();
    assert!(yucheng.len() < all.len() && yucheng.iter().all(|o| o.county_code == "511802"));
    let one = s.office(&system(), XICHENG, today()).await.unwrap();
    assert_eq!(one.evaluation, xc.evaluation);
    assert_eq!(
        one.assistants.iter().filter(|a| a.name.is_none()).count(),
        2
    );
    // The chain is intact after all that seeding.
    assert!(db.app.audit().verify().await.unwrap().first_break.is_none());
}

async fn staff_changes_need_city_approval(db: &TestDb) {
    let s = seeded(db).await;
    let director = actor_of(db, "director").await;
    let admin = actor_of(db, "admin").await;
    let before = s.office(&director, DONGCHENG, today()).await.unwrap();
    let leaving = before
        .staff
        .iter()
        .find(|m| !m.is_director)
        .unwrap()
        .clone();
    // Bad input: Chinese per-field messages, nothing filed.
    let err = s
        .file_change(
            &director,
            DONGCHENG,
            &NewStaffChange {
                kind: "appoint".into(),
                effective_on: "2026-13-01".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { fields, .. } if fields.contains_key("effective_on")),
        "{err:?}"
    );
    let c = s
        .file_change(
            &director,
            DONGCHENG,
            &NewStaffChange {
                kind: "depart".into(),
                staff_id: Some(leaving.id),
                effective_on: "2026-12-01".into(),
                doc_number: "雨东办〔2026〕30号".into(),
                reason: "调往区民政局".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(c.status, ChangeStatus::Pending);
    // Filing changes nothing on the roster.
    let mid = s.office(&director, DONGCHENG, today()).await.unwrap();
    assert_eq!(mid.staff.len(), before.staff.len());
    // The township may not approve its own change.
    let err = s
        .decide_change(&director, c.id, true, "")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    // Another township does not even see it.
    let staff2 = actor_of(db, "staff2").await;
    assert!(matches!(
        s.decide_change(&staff2, c.id, true, "").await,
        Err(Error::NotFound(_))
    ));
    // Rejecting needs a reason.
    assert!(matches!(
        s.decide_change(&admin, c.id, false, " ").await,
        Err(Error::Validation { .. })
    ));
    let done = s
        .decide_change(&admin, c.id, true, "同意备案")
        .await
        .unwrap();
    assert_eq!(done.status, ChangeStatus::Approved);
    assert_eq!(done.decided_by.as_deref(), Some("admin"));
    // Deciding twice is an illegal transition.
    let err = s
        .decide_change(&admin, c.id, false, "重复")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("不能重复审批")),
        "{err:?}"
    );
    let after = s.office(&director, DONGCHENG, today()).await.unwrap();
    assert_eq!(after.staff.len(), before.staff.len() - 1);
    assert!(after
        .former_staff
        .iter()
        .any(|m| m.id == leaving.id && m.ended_on.as_deref() == Some("2026-12-01")));
    // 东城 is a city street office: 3 full-time staff now fall short of 4.
    assert_eq!(
        after.evaluation.status_of("staff-count"),
        Some(RuleStatus::NotMet)
    );
    assert_eq!(
        audit_actions(&db.app, "staff_change", &c.id.to_string()).await,
        vec!["staff_change.approve", "staff_change.file"]
    );
    // A new director replaces the old one: still exactly one.
    let newcomer = after.staff.iter().find(|m| !m.is_director).unwrap().id;
    let c2 = s
        .file_change(
            &director,
            DONGCHENG,
            &NewStaffChange {
                kind: "director".into(),
                staff_id: Some(newcomer),
                effective_on: "2026-12-01".into(),
                doc_number: "雨东办〔2026〕31号".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    s.decide_change(&admin, c2.id, true, "").await.unwrap();
    let last = s.office(&director, DONGCHENG, today()).await.unwrap();
    let directors: Vec<i64> = last
        .staff
        .iter()
        .filter(|m| m.is_director)
        .map(|m| m.id)
        .collect();
    assert_eq!(directors, vec![newcomer]);
    assert_eq!(
        last.evaluation.status_of("one-director"),
        Some(RuleStatus::Met)
    );
}

async fn room_areas_are_exact_at_the_boundary(db: &TestDb) {
    let s = seeded(db).await;
    let staff2 = actor_of(db, "staff2").await; // 西城街道: 29.9 + 15 + 15 = 59.9 m²
    let st = s.office(&staff2, XICHENG, today()).await.unwrap();
    assert_eq!(
        st.evaluation.status_of("three-rooms"),
        Some(RuleStatus::NotMet)
    );
    assert!(st.evaluation.results[4].finding.contains("59.9㎡"));
    let err = s
        .add_room(
            &staff2,
            XICHENG,
            &NewRoom {
                kind: "archive".into(),
                area_m2: "0.123".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Validation { fields, .. } if fields.contains_key("area_m2")));
    s.add_room(
        &staff2,
        XICHENG,
        &NewRoom {
            kind: "archive".into(),
            area_m2: "0.1".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let st = s.office(&staff2, XICHENG, today()).await.unwrap();
    assert_eq!(
        st.evaluation.status_of("three-rooms"),
        Some(RuleStatus::Met),
        "60 m²"
    );
    // A shared-hall share of 24.9 m² is not enough; 25 is.
    let hall = s
        .add_room(
            &staff2,
            XICHENG,
            &NewRoom {
                kind: "service-hall".into(),
                area_m2: "24.9".into(),
                shared_hall: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let st = s.office(&staff2, XICHENG, today()).await.unwrap();
    assert_eq!(
        st.evaluation.status_of("service-hall"),
        Some(RuleStatus::NotMet)
    );
    s.remove_item(&staff2, XICHENG, "room", hall).await.unwrap();
    s.add_room(
        &staff2,
        XICHENG,
        &NewRoom {
            kind: "service-hall".into(),
            area_m2: "25".into(),
            shared_hall: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let st = s.office(&staff2, XICHENG, today()).await.unwrap();
    assert_eq!(
        st.evaluation.status_of("service-hall"),
        Some(RuleStatus::Met)
    );
}

fn png() -> NewAttachment {
    NewAttachment {
        filename: "现场.png".into(),
        content_type: "image/png".into(),
        data: b"\x89PNG\r\n\x1a\n-fake-but-sniffable".to_vec(),
    }
}

async fn passing_inspection_grants_half_the_investment(db: &TestDb) {
    let s = seeded(db).await;
    let admin = actor_of(db, "admin").await;
    let staff = actor_of(db, "staff").await;
    // An odd fen: 68,000.00 + 23,456.78 + 0.01 = 91,456.79 → 45,728.39 (rounded down).
    s.add_investment(
        &staff,
        DONGCHENG,
        &NewInvestment {
            spent_on: "2026-09-01".into(),
            item: "标识标牌".into(),
            amount: "0.01".into(),
            doc_number: String::new(),
        },
    )
    .await
    .unwrap();
    let id = s
        .open_inspection(
            &admin,
            DONGCHENG,
            &NewInspection {
                inspectors: "王建国".into(),
                inspected_on: "2026-11-25".into(),
            },
            today(),
        )
        .await
        .unwrap();
    // Only one open inspection at a time.
    assert!(matches!(
        s.open_inspection(
            &admin,
            DONGCHENG,
            &NewInspection {
                inspectors: "x".into(),
                inspected_on: "2026-11-25".into()
            },
            today()
        )
        .await,
        Err(Error::Conflict(_))
    ));
    let insp = s.inspection(&admin, id).await.unwrap();
    assert!(
        insp.items
            .iter()
            .filter(|i| i.rule_id.is_some())
            .all(|i| i.score == Some(5)),
        "automatic rules pre-filled"
    );
    // Passing needs the manual items scored.
    assert!(matches!(
        s.decide_inspection(&admin, id, true, "", today()).await,
        Err(Error::Validation { .. })
    ));
    let manual: Vec<ScoreInput> = insp
        .items
        .iter()
        .filter(|i| i.rule_id.is_none())
        .map(|i| ScoreInput {
            id: i.id,
            score: i.max_score,
            note: "良好".to_string(),
        })
        .collect();
    let too_high = vec![ScoreInput {
        id: manual[0].id,
        score: 99,
        note: String::new(),
    }];
    assert!(matches!(
        s.score(&admin, id, &too_high).await,
        Err(Error::Validation { .. })
    ));
    s.score(&admin, id, &manual).await.unwrap();
    let photo = s
        .attach_inspection_photo(&admin, id, &png(), 1024)
        .await
        .unwrap();
    let (meta, bytes) = db.app.attachments().get(&staff, photo).await.unwrap();
    assert_eq!(
        (meta.content_type.as_str(), bytes.len()),
        ("image/png", png().data.len())
    );
    // The township may not decide its own acceptance.
    assert!(matches!(
        s.decide_inspection(&staff, id, true, "", today()).await,
        Err(Error::Forbidden(_))
    ));
    let passed = s
        .decide_inspection(&admin, id, true, "达到规范化建设标准", today())
        .await
        .unwrap();
    assert_eq!(passed.status, InspectionStatus::Passed);
    assert_eq!(
        (passed.score, passed.max_score),
        (100, 100),
        "14 basic rules × 5 + 3 manual × 10"
    );
    let ledger = s.subsidies(&staff).await.unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].investment, Fen(9_145_679));
    assert_eq!(ledger[0].percent, 50);
    assert_eq!(ledger[0].amount, Fen(4_572_839));
    assert_eq!(ledger[0].status, SubsidyStatus::Pending);
    // The office's own page lists it too.
    let page = s.office(&staff, DONGCHENG, today()).await.unwrap();
    assert_eq!(
        page.subsidies
            .iter()
            .map(|x| (x.id, x.amount, x.status))
            .collect::<Vec<_>>(),
        [(ledger[0].id, Fen(4_572_839), SubsidyStatus::Pending)]
    );
    // Closed inspections cannot change, and a passed office is not inspected again.
    assert!(matches!(
        s.decide_inspection(&admin, id, false, "x", today()).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        s.attach_inspection_photo(&admin, id, &png(), 1024).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        s.disburse(&staff, ledger[0].id, "2026-11-30").await,
        Err(Error::Forbidden(_))
    ));
    let paid = s
        .disburse(&admin, ledger[0].id, "2026-11-30")
        .await
        .unwrap();
    assert_eq!(paid.status, SubsidyStatus::Disbursed);
    // A payment that read the subsidy as pending before this one committed (two city
    // clerks at once) is told at its write that it was paid already.
    {
        let mut tx = db.store().begin_write().await.unwrap();
        let paid_again =
            minzheng_store::standards::subsidies::disburse(&mut tx, ledger[0].id, today())
                .await
                .unwrap();
        assert!(!paid_again, "a paid subsidy is not paid again");
    }
    assert!(matches!(
        s.disburse(&admin, ledger[0].id, "2026-11-30").await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(
        audit_actions(&db.app, "inspection", &id.to_string()).await,
        vec![
            "inspection.pass",
            "attachment.add",
            "inspection.score",
            "inspection.open"
        ]
    );
    // 青江's rectifications: invisible to 东城, recorded once by those who may.
    let qj = "511802004";
    let qj_state = s.office(&system(), qj, today()).await.unwrap();
    let rect = qj_state.inspections[0].rectifications[0].id;
    assert!(matches!(
        s.complete_rectification(&staff, rect, "2026-12-01").await,
        Err(Error::NotFound(_))
    ));
    s.complete_rectification(&admin, rect, "2026-12-01")
        .await
        .unwrap();
    assert!(matches!(
        s.complete_rectification(&admin, rect, "2026-12-02").await,
        Err(Error::Conflict(_))
    ));
    // Failing, then re-inspecting, links the two.
    let re = s
        .open_inspection(
            &admin,
            qj,
            &NewInspection {
                inspectors: "王建国".into(),
                inspected_on: "2026-12-20".into(),
            },
            today(),
        )
        .await
        .unwrap();
    let re = s.inspection(&admin, re).await.unwrap();
    assert!(re.previous_id.is_some());
}

async fn township_cannot_reach_other_offices_or_city_actions(db: &TestDb) {
    let s = seeded(db).await;
    let staff = actor_of(db, "staff").await; // 东城街道
    let auditor = actor_of(db, "auditor").await;
    let assistant = actor_of(db, "assistant").await;
    assert!(matches!(
        s.office(&staff, XICHENG, today()).await,
        Err(Error::NotFound(_))
    ));
    let room = NewRoom {
        kind: "office".into(),
        area_m2: "20".into(),
        ..Default::default()
    };
    assert!(matches!(
        s.add_room(&staff, XICHENG, &room).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.add_room(&auditor, XICHENG, &room).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        s.add_room(&assistant, DONGCHENG, &room).await,
        Err(Error::Forbidden(_))
    ));
    // The village assistant reads their own township's office.
    assert!(s.office(&assistant, DONGCHENG, today()).await.is_ok());
    assert!(matches!(
        s.open_inspection(
            &staff,
            DONGCHENG,
            &NewInspection {
                inspectors: "x".into(),
                inspected_on: "2026-11-25".into()
            },
            today()
        )
        .await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        s.review_plan(&staff, DONGCHENG, true, "").await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        s.review_plan(&staff, XICHENG, true, "").await,
        Err(Error::NotFound(_))
    ));
    let pending = s.pending_changes(&system()).await.unwrap();
    let foreign = pending.iter().find(|c| c.township_code == XICHENG).unwrap();
    assert!(matches!(
        s.change(&staff, foreign.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(s.pending_changes(&staff).await.unwrap().is_empty());
    // The console in a township's scope is that township alone.
    let mine = s.overview(&staff, None, None, today()).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert!(matches!(
        s.overview(&staff, Some("511802002"), None, today()).await,
        Err(Error::NotFound(_))
    ));
    // The 西城 subsidy ledger is invisible, and so are 河北's photos and subsidies.
    assert!(s.subsidies(&staff).await.unwrap().is_empty());
}

async fn photos_must_be_images_within_the_limit(db: &TestDb) {
    let s = seeded(db).await;
    let staff = actor_of(db, "staff").await;
    let count = |app: &App| {
        let app = app.clone();
        async move {
            app.attachments()
                .of_record(&system(), AttachedTo::Office, DONGCHENG)
                .await
                .unwrap()
                .len()
        }
    };
    let big = NewAttachment {
        data: [png().data, vec![0u8; 2048]].concat(),
        ..png()
    };
    let err = s
        .attach_office_photo(&staff, DONGCHENG, "office", 0, &big, 1024)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { fields, .. } if fields["file"].contains("照片过大")),
        "{err:?}"
    );
    let html = NewAttachment {
        content_type: "text/html".into(),
        data: b"<html></html>".to_vec(),
        ..png()
    };
    let err = s
        .attach_office_photo(&staff, DONGCHENG, "office", 0, &html, 1024)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { fields, .. } if fields["file"].contains("只能上传照片")),
        "{err:?}"
    );
    assert_eq!(count(&db.app).await, 0, "nothing written");
    s.attach_office_photo(&staff, DONGCHENG, "office", 0, &png(), 1024)
        .await
        .unwrap();
    assert_eq!(count(&db.app).await, 1);
    let staff2 = actor_of(db, "staff2").await;
    let list = db
        .app
        .attachments()
        .of_record(&system(), AttachedTo::Office, DONGCHENG)
        .await
        .unwrap();
    // The village assistant of 东城 sees the office's photo, as they see its page.
    let assistant = actor_of(db, "assistant").await;
    assert!(db
        .app
        .attachments()
        .get(&assistant, list[0].id)
        .await
        .is_ok());
    assert!(db
        .app
        .attachments()
        .of_record(&staff2, AttachedTo::Office, DONGCHENG)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        db.app.attachments().get(&staff2, list[0].id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.attach_office_photo(&staff2, DONGCHENG, "office", 0, &png(), 1024)
            .await,
        Err(Error::NotFound(_))
    ));
}

/// Two administrators approve the same change at once: exactly one applies it.
async fn concurrent_approvals_apply_once(db: &TestDb) {
    let s = seeded(db).await;
    let admin = actor_of(db, "admin").await;
    let pending = s.pending_changes(&system()).await.unwrap();
    let change = pending
        .iter()
        .find(|c| c.township_code == XICHENG)
        .unwrap()
        .id;
    let before = s
        .office(&system(), XICHENG, today())
        .await
        .unwrap()
        .staff
        .len();
    let (a, b) = tokio::join!(
        s.decide_change(&admin, change, true, ""),
        s.decide_change(&admin, change, true, "")
    );
    let oks = [a.is_ok(), b.is_ok()].iter().filter(|x| **x).count();
    assert_eq!(oks, 1, "{a:?} {b:?}");
    assert!(matches!(a.err().or(b.err()), Some(Error::Conflict(_))));
    let after = s
        .office(&system(), XICHENG, today())
        .await
        .unwrap()
        .staff
        .len();
    assert_eq!(after, before + 1);
}
