//! Office standardization through the store: staff changes, premises, inspections, subsidies,
//! the console overview and jurisdiction. Every case runs on SQLite, and on PostgreSQL when
//! `MINZHENG_TEST_POSTGRES_URL` is set.

use chrono::{NaiveDate, Utc};
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::testing::TestDb;
use minzheng_domain::standards::RuleStatus;
use minzheng_domain::Fen;
use minzheng_store::{
    Actor, NewAttachment, NewInspection, NewInvestment, NewRoom, NewStaffChange, Scope, Store,
    StoreError,
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
                #[tokio::test]
                async fn $name() {
                    let Some(db) = minzheng_app::testing::TestDb::postgres().await else { return };
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

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

async fn seeded(db: &TestDb) -> &Store {
    db.app.demo().ensure().await.expect("seed demo");
    &db.store
}

async fn actor_of(store: &Store, username: &str) -> Actor {
    store
        .authenticate(username, DEMO_PASSWORD, Utc::now())
        .await
        .unwrap()
        .expect("demo login works")
        .actor()
        .unwrap()
}

async fn audit_actions(store: &Store, entity_type: &str, id: &str) -> Vec<String> {
    store
        .list_audit(&Actor::system("t"), Some((entity_type, id)), 100, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

/// 永兴街道 has no accounts in the demo: its e-ledger rule is met only once its households are
/// in the registry.
async fn e_ledger_counts_registry_households(db: &TestDb) {
    let store = seeded(db).await;
    let code = "511803001";
    let status = |o: &minzheng_store::OfficeStandards| o.evaluation.status_of("e-ledger");
    let before = store
        .office_standards(&Scope::all(), code, today())
        .await
        .unwrap();
    assert_eq!(status(&before), Some(RuleStatus::NotMet));
    let first17 = "51180319800101001";
    let check = minzheng_domain::IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    store
        .create_household(
            &Actor::system("t"),
            &minzheng_store::NewHousehold {
                village_code: "511803001001".into(),
                registration_type: "城镇".into(),
                head_name: "李明".into(),
                head_id_number: format!("{first17}{check}"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let after = store
        .office_standards(&Scope::all(), code, today())
        .await
        .unwrap();
    assert_eq!(status(&after), Some(RuleStatus::Met));
    // The console's set-based overview derives the same fact.
    let overview = store
        .standards_overview(&Scope::all(), None, today())
        .await
        .unwrap();
    let row = overview.iter().find(|o| o.township_code == code).unwrap();
    assert_eq!(row.evaluation.status_of("e-ledger"), Some(RuleStatus::Met));
}

async fn demo_has_offices_in_every_state(db: &TestDb) {
    let store = seeded(db).await;
    let all = store
        .standards_overview(&Scope::all(), None, today())
        .await
        .unwrap();
    assert_eq!(all.len(), 96);
    let by = |code: &str| all.iter().find(|o| o.township_code == code).unwrap();
    let dc = by(DONGCHENG);
    assert_eq!(
        dc.evaluation.compliance_percent,
        100,
        "{:?}",
        dc.evaluation.failing()
    );
    assert_eq!(dc.plan_status, "accepted");
    assert_eq!(dc.inspection_status, "none");
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
    assert_eq!(xc.plan_status, "submitted");
    assert_eq!(by("511802003").inspection_status, "passed");
    assert_eq!(by("511802003").subsidy_status.as_deref(), Some("disbursed"));
    assert_eq!(by("511802003").subsidy, Some(Fen(2_900_000)));
    assert_eq!(by("511802004").inspection_status, "failed");
    // Returned and the deadline passed: overdue.
    assert_eq!(by("511802004").plan_status, "overdue");
    assert_eq!(by("511802005").inspection_status, "open");
    assert!(all.iter().any(|o| o.plan_status == "overdue"));
    // The county filter narrows, and the same numbers come from the single-office view.
    let yucheng = store
        .standards_overview(&Scope::all(), Some("511802"), today())
        .await
        .unwrap();
    assert!(yucheng.len() < all.len() && yucheng.iter().all(|o| o.county_code == "511802"));
    let one = store
        .office_standards(&Scope::all(), XICHENG, today())
        .await
        .unwrap();
    assert_eq!(one.evaluation, xc.evaluation);
    assert_eq!(
        one.assistants.iter().filter(|a| a.name.is_none()).count(),
        2
    );
    // The chain is intact after all that seeding.
    assert!(store.verify_audit().await.unwrap().first_break.is_none());
}

async fn staff_changes_need_city_approval(db: &TestDb) {
    let store = seeded(db).await;
    let director = actor_of(store, "director").await;
    let admin = actor_of(store, "admin").await;
    let before = store
        .office_standards(&director.scope, DONGCHENG, today())
        .await
        .unwrap();
    let leaving = before
        .staff
        .iter()
        .find(|s| !s.is_director)
        .unwrap()
        .clone();
    // Bad input: Chinese per-field messages, nothing filed.
    let err = store
        .file_staff_change(
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
        matches!(&err, StoreError::Validation { fields, .. } if fields.contains_key("effective_on")),
        "{err:?}"
    );
    let c = store
        .file_staff_change(
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
    assert_eq!(c.status, "pending");
    // Filing changes nothing on the roster.
    let mid = store
        .office_standards(&director.scope, DONGCHENG, today())
        .await
        .unwrap();
    assert_eq!(mid.staff.len(), before.staff.len());
    // The township may not approve its own change.
    let err = store
        .decide_staff_change(&director, c.id, true, "")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
    // Another township does not even see it.
    let staff2 = actor_of(store, "staff2").await;
    assert!(matches!(
        store.decide_staff_change(&staff2, c.id, true, "").await,
        Err(StoreError::NotFound(_))
    ));
    // Rejecting needs a reason.
    assert!(matches!(
        store.decide_staff_change(&admin, c.id, false, " ").await,
        Err(StoreError::Validation { .. })
    ));
    let done = store
        .decide_staff_change(&admin, c.id, true, "同意备案")
        .await
        .unwrap();
    assert_eq!(done.status, "approved");
    assert_eq!(done.decided_by.as_deref(), Some("admin"));
    // Deciding twice is an illegal transition.
    let err = store
        .decide_staff_change(&admin, c.id, false, "重复")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("不能重复审批")),
        "{err:?}"
    );
    let after = store
        .office_standards(&director.scope, DONGCHENG, today())
        .await
        .unwrap();
    assert_eq!(after.staff.len(), before.staff.len() - 1);
    assert!(after
        .former_staff
        .iter()
        .any(|s| s.id == leaving.id && s.ended_on.as_deref() == Some("2026-12-01")));
    // 东城 is a city street office: 3 full-time staff now fall short of 4.
    assert_eq!(
        after.evaluation.status_of("staff-count"),
        Some(RuleStatus::NotMet)
    );
    assert_eq!(
        audit_actions(store, "staff_change", &c.id.to_string()).await,
        vec!["staff_change.approve", "staff_change.file"]
    );
    // A new director replaces the old one: still exactly one.
    let newcomer = after.staff.iter().find(|s| !s.is_director).unwrap().id;
    let c2 = store
        .file_staff_change(
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
    store
        .decide_staff_change(&admin, c2.id, true, "")
        .await
        .unwrap();
    let last = store
        .office_standards(&director.scope, DONGCHENG, today())
        .await
        .unwrap();
    let directors: Vec<i64> = last
        .staff
        .iter()
        .filter(|s| s.is_director)
        .map(|s| s.id)
        .collect();
    assert_eq!(directors, vec![newcomer]);
    assert_eq!(
        last.evaluation.status_of("one-director"),
        Some(RuleStatus::Met)
    );
}

async fn room_areas_are_exact_at_the_boundary(db: &TestDb) {
    let store = seeded(db).await;
    let staff2 = actor_of(store, "staff2").await; // 西城街道: 29.9 + 15 + 15 = 59.9 m²
    let st = store
        .office_standards(&staff2.scope, XICHENG, today())
        .await
        .unwrap();
    assert_eq!(
        st.evaluation.status_of("three-rooms"),
        Some(RuleStatus::NotMet)
    );
    assert!(st.evaluation.results[4].finding.contains("59.9㎡"));
    let err = store
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
    assert!(
        matches!(&err, StoreError::Validation { fields, .. } if fields.contains_key("area_m2"))
    );
    store
        .add_room(
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
    let st = store
        .office_standards(&staff2.scope, XICHENG, today())
        .await
        .unwrap();
    assert_eq!(
        st.evaluation.status_of("three-rooms"),
        Some(RuleStatus::Met),
        "60 m²"
    );
    // A shared-hall share of 24.9 m² is not enough; 25 is.
    let hall = store
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
    let st = store
        .office_standards(&staff2.scope, XICHENG, today())
        .await
        .unwrap();
    assert_eq!(
        st.evaluation.status_of("service-hall"),
        Some(RuleStatus::NotMet)
    );
    store
        .remove_office_item(&staff2, XICHENG, "room", hall)
        .await
        .unwrap();
    store
        .add_room(
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
    let st = store
        .office_standards(&staff2.scope, XICHENG, today())
        .await
        .unwrap();
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
    let store = seeded(db).await;
    let admin = actor_of(store, "admin").await;
    let staff = actor_of(store, "staff").await;
    // An odd fen: 68,000.00 + 23,456.78 + 0.01 = 91,456.79 → 45,728.39 (rounded down).
    store
        .add_investment(
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
    let id = store
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
        store
            .open_inspection(
                &admin,
                DONGCHENG,
                &NewInspection {
                    inspectors: "x".into(),
                    inspected_on: "2026-11-25".into()
                },
                today()
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    let insp = store.get_inspection(&admin.scope, id).await.unwrap();
    assert!(
        insp.items
            .iter()
            .filter(|i| i.rule_id.is_some())
            .all(|i| i.score == Some(5)),
        "automatic rules pre-filled"
    );
    // Passing needs the manual items scored.
    assert!(matches!(
        store.decide_inspection(&admin, id, true, "", today()).await,
        Err(StoreError::Validation { .. })
    ));
    let manual: Vec<(i64, i64, String)> = insp
        .items
        .iter()
        .filter(|i| i.rule_id.is_none())
        .map(|i| (i.id, i.max_score, "良好".to_string()))
        .collect();
    let too_high = vec![(manual[0].0, 99, String::new())];
    assert!(matches!(
        store.score_inspection(&admin, id, &too_high).await,
        Err(StoreError::Validation { .. })
    ));
    store.score_inspection(&admin, id, &manual).await.unwrap();
    let photo = store
        .attach_inspection_photo(&admin, id, &png(), 1024)
        .await
        .unwrap();
    let (meta, bytes) = store.get_attachment(&staff.scope, photo).await.unwrap();
    assert_eq!(
        (meta.content_type.as_str(), bytes.len()),
        ("image/png", png().data.len())
    );
    // The township may not decide its own acceptance.
    assert!(matches!(
        store.decide_inspection(&staff, id, true, "", today()).await,
        Err(StoreError::Forbidden(_))
    ));
    let passed = store
        .decide_inspection(&admin, id, true, "达到规范化建设标准", today())
        .await
        .unwrap();
    assert_eq!(passed.status, "passed");
    assert_eq!(
        (passed.score, passed.max_score),
        (100, 100),
        "14 basic rules × 5 + 3 manual × 10"
    );
    let ledger = store.list_subsidies(&staff.scope).await.unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].investment, Fen(9_145_679));
    assert_eq!(ledger[0].percent, 50);
    assert_eq!(ledger[0].amount, Fen(4_572_839));
    assert_eq!(ledger[0].status, "pending");
    // Closed inspections cannot change, and a passed office is not inspected again.
    assert!(matches!(
        store
            .decide_inspection(&admin, id, false, "x", today())
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .attach_inspection_photo(&admin, id, &png(), 1024)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .disburse_subsidy(&staff, ledger[0].id, "2026-11-30")
            .await,
        Err(StoreError::Forbidden(_))
    ));
    let paid = store
        .disburse_subsidy(&admin, ledger[0].id, "2026-11-30")
        .await
        .unwrap();
    assert_eq!(paid.status, "disbursed");
    assert!(matches!(
        store
            .disburse_subsidy(&admin, ledger[0].id, "2026-11-30")
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        audit_actions(store, "inspection", &id.to_string()).await,
        vec![
            "inspection.pass",
            "attachment.add",
            "inspection.score",
            "inspection.open"
        ]
    );
    // 青江's rectifications: invisible to 东城, recorded once by those who may.
    let qj = "511802004";
    let qj_state = store
        .office_standards(&Scope::all(), qj, today())
        .await
        .unwrap();
    let rect = qj_state.inspections[0].rectifications[0].id;
    assert!(matches!(
        store
            .complete_rectification(&staff, rect, "2026-12-01")
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .complete_rectification(&admin, rect, "2026-12-01")
        .await
        .unwrap();
    assert!(matches!(
        store
            .complete_rectification(&admin, rect, "2026-12-02")
            .await,
        Err(StoreError::Conflict(_))
    ));
    // Failing, then re-inspecting, links the two.
    let re = store
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
    let re = store.get_inspection(&admin.scope, re).await.unwrap();
    assert!(re.previous_id.is_some());
}

async fn township_cannot_reach_other_offices_or_city_actions(db: &TestDb) {
    let store = seeded(db).await;
    let staff = actor_of(store, "staff").await; // 东城街道
    let auditor = actor_of(store, "auditor").await;
    let assistant = actor_of(store, "assistant").await;
    assert!(matches!(
        store.office_standards(&staff.scope, XICHENG, today()).await,
        Err(StoreError::NotFound(_))
    ));
    let room = NewRoom {
        kind: "office".into(),
        area_m2: "20".into(),
        ..Default::default()
    };
    assert!(matches!(
        store.add_room(&staff, XICHENG, &room).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.add_room(&auditor, XICHENG, &room).await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        store.add_room(&assistant, DONGCHENG, &room).await,
        Err(StoreError::Forbidden(_))
    ));
    // The village assistant reads their own township's office.
    assert!(store
        .office_standards(&assistant.scope, DONGCHENG, today())
        .await
        .is_ok());
    assert!(matches!(
        store
            .open_inspection(
                &staff,
                DONGCHENG,
                &NewInspection {
                    inspectors: "x".into(),
                    inspected_on: "2026-11-25".into()
                },
                today()
            )
            .await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        store.review_plan(&staff, DONGCHENG, true, "").await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        store.review_plan(&staff, XICHENG, true, "").await,
        Err(StoreError::NotFound(_))
    ));
    let pending = store.pending_staff_changes(&Scope::all()).await.unwrap();
    let foreign = pending.iter().find(|c| c.township_code == XICHENG).unwrap();
    assert!(matches!(
        store.get_staff_change(&staff.scope, foreign.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store
        .pending_staff_changes(&staff.scope)
        .await
        .unwrap()
        .is_empty());
    // The console in a township's scope is that township alone.
    let mine = store
        .standards_overview(&staff.scope, None, today())
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert!(matches!(
        store
            .standards_overview(&staff.scope, Some("511802002"), today())
            .await,
        Err(StoreError::NotFound(_))
    ));
    // The 西城 subsidy ledger is invisible, and so are 河北's photos and subsidies.
    assert!(store.list_subsidies(&staff.scope).await.unwrap().is_empty());
}

async fn photos_must_be_images_within_the_limit(db: &TestDb) {
    let store = seeded(db).await;
    let staff = actor_of(store, "staff").await;
    let count = |s: &Store| {
        let s = s.clone();
        async move {
            s.list_attachments(&Scope::all(), "office", DONGCHENG)
                .await
                .unwrap()
                .len()
        }
    };
    let big = NewAttachment {
        data: [png().data, vec![0u8; 2048]].concat(),
        ..png()
    };
    let err = store
        .attach_office_photo(&staff, DONGCHENG, "office", 0, &big, 1024)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Validation { fields, .. } if fields["file"].contains("照片过大")),
        "{err:?}"
    );
    let html = NewAttachment {
        content_type: "text/html".into(),
        data: b"<html></html>".to_vec(),
        ..png()
    };
    let err = store
        .attach_office_photo(&staff, DONGCHENG, "office", 0, &html, 1024)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Validation { fields, .. } if fields["file"].contains("只能上传照片")),
        "{err:?}"
    );
    assert_eq!(count(store).await, 0, "nothing written");
    store
        .attach_office_photo(&staff, DONGCHENG, "office", 0, &png(), 1024)
        .await
        .unwrap();
    assert_eq!(count(store).await, 1);
    let staff2 = actor_of(store, "staff2").await;
    let list = store
        .list_attachments(&Scope::all(), "office", DONGCHENG)
        .await
        .unwrap();
    // The village assistant of 东城 sees the office's photo, as they see its page.
    let assistant = actor_of(store, "assistant").await;
    assert!(store
        .get_attachment(&assistant.scope, list[0].id)
        .await
        .is_ok());
    assert!(store
        .list_attachments(&staff2.scope, "office", DONGCHENG)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        store.get_attachment(&staff2.scope, list[0].id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .attach_office_photo(&staff2, DONGCHENG, "office", 0, &png(), 1024)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

/// Two administrators approve the same change at once: exactly one applies it.
async fn concurrent_approvals_apply_once(db: &TestDb) {
    let store = seeded(db).await;
    let admin = actor_of(store, "admin").await;
    let pending = store.pending_staff_changes(&Scope::all()).await.unwrap();
    let change = pending
        .iter()
        .find(|c| c.township_code == XICHENG)
        .unwrap()
        .id;
    let before = store
        .office_standards(&Scope::all(), XICHENG, today())
        .await
        .unwrap()
        .staff
        .len();
    let (a, b) = tokio::join!(
        store.decide_staff_change(&admin, change, true, ""),
        store.decide_staff_change(&admin, change, true, "")
    );
    let oks = [a.is_ok(), b.is_ok()].iter().filter(|x| **x).count();
    assert_eq!(oks, 1, "{a:?} {b:?}");
    assert!(matches!(a.err().or(b.err()), Some(StoreError::Conflict(_))));
    let after = store
        .office_standards(&Scope::all(), XICHENG, today())
        .await
        .unwrap()
        .staff
        .len();
    assert_eq!(after, before + 1);
}
