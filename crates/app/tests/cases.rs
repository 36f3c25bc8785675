//! Assistance cases through the use cases: the whole 低保 procedure, refusals by state and
//! role, exclusivity, the public-notice whitelist, minors in 特困, concurrent clicks,
//! deadlines across the Spring Festival, daily tasks and parameters. Every case runs on
//! SQLite, and on PostgreSQL when `MINZHENG_TEST_POSTGRES_URL` is set.

use chrono::{NaiveDate, Utc};
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::testing::TestDb;
use minzheng_app::App;
use minzheng_domain::case_calc::CaseDetails;
use minzheng_domain::cases::{
    ActionExtras, ActionKind, CaseFilter, CaseOrigin, Enrolment, EnrolmentFilter, EnrolmentStatus,
    NewCase,
};
use minzheng_domain::params::NewParam;
use minzheng_domain::programs::SupportMode;
use minzheng_domain::registry::{IncomeInput, NewHousehold, PersonInput, Relation};
use minzheng_domain::relatives::Kinship;
use minzheng_domain::Actor;
use minzheng_domain::{Action, CaseState, Fen, IdNumber, WorkCalendar};

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
    dibao_from_application_to_enrolment,
    refusals_change_nothing,
    dibao_and_tekun_are_exclusive,
    minors_in_tekun_are_never_publicised,
    concurrent_clicks_apply_once,
    clocks_skip_the_spring_festival,
    daily_tasks_propose_old_age_allowance_once,
    only_the_city_admin_sets_parameters,
    temporary_aid_once_per_cause_per_year,
    case_papers_are_images_kept_with_the_case,
    reviews_and_changes_adjust_or_stop_the_enrolment,
    suspend_resume_and_terminate_reach_the_enrolment,
    a_denied_review_stops_payment_a_denied_change_does_not,
    notices_go_only_to_real_boards_in_the_jurisdiction,
    a_relatives_case_is_filed_visited_by_the_county_and_its_declarant_recused,
    the_todo_list_shows_each_user_the_cases_waiting_for_their_step,
    a_hand_amount_needs_a_reason_and_far_above_the_calculators_the_county,
    an_objection_during_the_notice_reopens_the_investigation,
    the_dashboard_counts_cases_and_enrolments_in_the_scope,
    missing_papers_are_told_once_in_one_list,
    an_approval_keeps_the_calculation_of_its_own_day,
);

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn id(first17: &str) -> String {
    let c = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    format!("{first17}{c}")
}

/// The system: every scope, every permission, full ID numbers.
fn system() -> Actor {
    Actor::system("t")
}

fn ex() -> ActionExtras {
    ActionExtras::default()
}

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

const HEAD_ID: &str = "51180219700305301";
const PHONE: &str = "13912345678";
const ACCOUNT: &str = "6217996600012345678";
const ADDRESS: &str = "东城街道幸福巷88号";

/// A rural household of two in 东城街道 with a monthly wage income of 300 元.
async fn household(app: &App, head17: &str, spouse17: &str) -> (i64, i64, i64) {
    let sys = Actor::system("t");
    let h = app
        .registry()
        .create(
            &sys,
            &NewHousehold {
                head_health: "健康".into(),
                head_work_capacity: "有劳动能力".into(),
                village_code: "511802001001".into(),
                registration_type: "农村".into(),
                head_name: "王建国".into(),
                head_id_number: id(head17),
                phone: PHONE.into(),
                address: ADDRESS.into(),
                bank_name: "农业银行".into(),
                account_number: ACCOUNT.into(),
                account_holder: "王建国".into(),
            },
        )
        .await
        .unwrap();
    let hid = h.household.id;
    let h = app
        .registry()
        .add_member(
            &sys,
            hid,
            &PersonInput {
                health: "健康".into(),
                work_capacity: "有劳动能力".into(),
                name: "李秀英".into(),
                id_number: id(spouse17),
                relation: "配偶".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.registry()
        .add_income(
            &sys,
            hid,
            &IncomeInput {
                kind: "工资性收入".into(),
                amount: "300".into(),
                period: "每月".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let head = h
        .members
        .iter()
        .find(|m| m.relation == Relation::Head)
        .unwrap()
        .id;
    let spouse = h.members.iter().find(|m| m.name == "李秀英").unwrap().id;
    (hid, head, spouse)
}

async fn state(db: &TestDb, id: i64) -> CaseState {
    db.app
        .cases()
        .get(&system(), id, d("2026-03-02"))
        .await
        .unwrap()
        .case
        .state
}

async fn dibao_application(db: &TestDb, hid: i64, on: NaiveDate) -> i64 {
    let app = &db.app;
    let assistant = actor_of(app, "assistant").await;
    db.app
        .cases()
        .create(
            &assistant,
            &NewCase {
                household_id: hid,
                person_id: None,
                program: "rural_dibao".into(),
                reason: "务农收入低".into(),
                details: CaseDetails::default(),
                submit: true,
            },
            on,
        )
        .await
        .unwrap()
}

/// A 农村低保 application of `on`, surveyed and on public notice from that day.
async fn publicised_dibao(db: &TestDb, hid: i64, on: NaiveDate) -> i64 {
    let id = dibao_application(db, hid, on).await;
    to_notice(db, id, on).await;
    id
}

/// Drives a case from application to the end of its notice.
async fn to_notice(db: &TestDb, id: i64, on: NaiveDate) {
    let app = &db.app;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    db.app
        .cases()
        .act(&staff, id, Action::Accept, &ex(), on)
        .await
        .unwrap();
    db.app
        .cases()
        .act(
            &staff,
            id,
            Action::StartInvestigation {
                investigators: vec!["张伟".into(), "刘芳".into()],
                authorization_attached: true,
            },
            &ActionExtras {
                findings: "家中无大件资产，收入与申报一致".into(),
                ..ex()
            },
            on,
        )
        .await
        .unwrap();
    db.app
        .cases()
        .act(
            &director,
            id,
            Action::RecordOpinion {
                proposed_amount: None,
            },
            &ex(),
            on,
        )
        .await
        .unwrap();
    db.app
        .cases()
        .act(&staff, id, Action::Publish, &ex(), on)
        .await
        .unwrap();
}

/// The opinion's amount was computed with the standard of its day; a new standard comes
/// into force before the county confirms. The confirmation computes again with the new
/// standard and keeps that calculation with the case: the amount and its explanation agree.
async fn an_approval_keeps_the_calculation_of_its_own_day(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let on = d("2026-03-02");
    let id = publicised_dibao(db, hid, on).await;
    let staff = actor_of(app, "staff").await;
    let day = d("2026-03-10");
    app.cases()
        .act(&staff, id, Action::CloseNotice, &ex(), day)
        .await
        .unwrap();
    let proposed = app.cases().get(&staff, id, day).await.unwrap().case;
    let proposed_fen = proposed.proposed_fen.expect("the opinion's amount");
    assert_eq!(proposed.calc.as_ref().map(|c| c.amount), Some(proposed_fen));
    let admin = actor_of(app, "admin").await;
    app.params()
        .add(
            &admin,
            &NewParam {
                program: "rural_dibao".into(),
                name: "standard".into(),
                region: "5118".into(),
                urban_rural: String::new(),
                effective_from: "2026-03-05".into(),
                value_json: "1500".into(),
                source: "雅民发〔2026〕3号".into(),
            },
        )
        .await
        .unwrap();
    let approver = actor_of(app, "approver").await;
    app.cases()
        .act(
            &approver,
            id,
            Action::Approve { amount: Fen(-1) },
            &ex(),
            day,
        )
        .await
        .unwrap();
    let approved = app.cases().get(&staff, id, day).await.unwrap().case;
    let approved_fen = approved.approved_fen.expect("confirmed");
    assert!(
        approved_fen > proposed_fen,
        "{approved_fen} under the new standard"
    );
    assert_eq!(approved.calc.map(|c| c.amount), Some(approved_fen));
}

/// 一次性告知: the papers an application lacks are asked for once, in one list the case
/// keeps; the applicant hands them in and the application goes on.
async fn missing_papers_are_told_once_in_one_list(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let on = d("2026-03-02");
    let id = dibao_application(db, hid, on).await;
    let staff = actor_of(app, "staff").await;
    app.cases()
        .act(
            &staff,
            id,
            Action::RequestPapers {
                missing: vec!["户口簿复印件".into(), "收入证明".into()],
            },
            &ex(),
            on,
        )
        .await
        .unwrap();
    let case = app.cases().get(&staff, id, on).await.unwrap().case;
    assert_eq!(case.missing_items, "户口簿复印件；收入证明");
    assert_ne!(case.state, CaseState::Submitted, "waiting for the papers");
    let assistant = actor_of(app, "assistant").await;
    app.cases()
        .act(
            &assistant,
            id,
            Action::ResubmitPapers,
            &ex(),
            d("2026-03-04"),
        )
        .await
        .unwrap();
    assert_eq!(
        app.cases().get(&staff, id, on).await.unwrap().case.state,
        CaseState::Submitted
    );
}

/// The dashboard's case figures: cases still open, those on public notice, those waiting
/// for the county's decision, the enrolments held and their monthly total — inside the
/// actor's scope only.
async fn the_dashboard_counts_cases_and_enrolments_in_the_scope(db: &TestDb) {
    let app = seeded(db).await;
    let (publicised, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let (enrolled, _, _) = household(app, "51180219800305301", "51180219820607302").await;
    let on = d("2026-03-02");
    publicised_dibao(db, publicised, on).await;
    let b = enrolled_dibao(db, enrolled, on).await;
    let staff = actor_of(app, "staff").await;
    let monthly = app
        .cases()
        .get(&staff, b, d("2026-03-10"))
        .await
        .unwrap()
        .enrolment
        .expect("enrolled")
        .monthly_fen;
    assert!(monthly > Fen(0));
    // The approval at the calculator's amount keeps the calculation behind it.
    let approved = app
        .cases()
        .get(&staff, b, d("2026-03-10"))
        .await
        .unwrap()
        .case;
    assert_eq!(approved.approved_fen, Some(monthly));
    assert!(
        approved.calc.is_some(),
        "the confirmed amount's calculation"
    );
    let c = app.cases().counts(&staff).await.unwrap();
    assert_eq!(
        (c.open, c.publicised, c.awaiting_decision, c.enrolled),
        (1, 1, 0, 1)
    );
    assert_eq!(c.monthly_total_fen, monthly);
    let elsewhere = Actor {
        scope: minzheng_domain::Scope::of(
            minzheng_domain::DivisionCode::parse_native("511802002").unwrap(),
        ),
        ..Actor::system("t")
    };
    let c = app.cases().counts(&elsewhere).await.unwrap();
    assert_eq!(
        (
            c.open,
            c.publicised,
            c.awaiting_decision,
            c.enrolled,
            c.monthly_total_fen
        ),
        (0, 0, 0, 0, Fen(0))
    );
}

/// An objection during the public notice is kept with the case (the day, the words, who
/// took it), sends the case back to re-investigation on its own clock from that day, and
/// the notice's standing names it.
async fn an_objection_during_the_notice_reopens_the_investigation(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let on = d("2026-03-02");
    let id = publicised_dibao(db, hid, on).await;
    let staff = actor_of(app, "staff").await;
    let day = d("2026-03-04");
    app.cases()
        .act(
            &staff,
            id,
            Action::RecordObjection {
                summary: "  群众反映申请人家中有轿车一辆  ".into(),
            },
            &ex(),
            day,
        )
        .await
        .unwrap();
    let detail = app.cases().get(&staff, id, day).await.unwrap();
    assert_eq!(detail.case.state, CaseState::Reinvestigating);
    let kept: Vec<(&str, &str, &str)> = detail
        .objections
        .iter()
        .map(|o| {
            (
                o.received_on.as_str(),
                o.summary.as_str(),
                o.recorded_by.as_str(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        [(
            "2026-03-04",
            "群众反映申请人家中有轿车一辆",
            staff.username.as_str()
        )]
    );
    let clock = detail
        .clocks
        .iter()
        .find(|c| c.step == minzheng_domain::deadlines::Step::Reinvestigation)
        .expect("the re-investigation's clock");
    assert_eq!(clock.started_on, "2026-03-04");
    assert_eq!(clock.stopped_on, None);
    match &detail.notice {
        minzheng_domain::cases::NoticeStanding::Objected { objections, .. } => {
            assert_eq!(objections.len(), 1, "{objections:?}")
        }
        other => panic!("the notice's standing names the objection: {other:?}"),
    }
}

/// A 农村低保 case applied for on `on`, publicised, closed, approved with the computed
/// amount and enrolled on 2026-03-10.
async fn enrolled_dibao(db: &TestDb, hid: i64, on: NaiveDate) -> i64 {
    let id = dibao_application(db, hid, on).await;
    enrol_application(db, id, on).await;
    id
}

/// The application `id` of `on` publicised, closed, approved with the computed amount and
/// enrolled on 2026-03-10.
async fn enrol_application(db: &TestDb, id: i64, on: NaiveDate) {
    let app = &db.app;
    to_notice(db, id, on).await;
    let staff = actor_of(app, "staff").await;
    let approver = actor_of(app, "approver").await;
    let day = d("2026-03-10");
    db.app
        .cases()
        .act(&staff, id, Action::CloseNotice, &ex(), day)
        .await
        .unwrap();
    db.app
        .cases()
        .act(
            &approver,
            id,
            Action::Approve { amount: Fen(-1) },
            &ex(),
            day,
        )
        .await
        .unwrap();
    db.app
        .cases()
        .act(&staff, id, Action::Enrol, &ex(), day)
        .await
        .unwrap();
}

/// Staff investigate with two, then the director records the opinion (`None`: the
/// calculator's amount).
async fn investigate_and_opine(db: &TestDb, id: i64, amount: Option<Fen>, on: NaiveDate) {
    let app = &db.app;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    db.app
        .cases()
        .act(
            &staff,
            id,
            Action::StartInvestigation {
                investigators: vec!["张伟".into(), "刘芳".into()],
                authorization_attached: true,
            },
            &ex(),
            on,
        )
        .await
        .unwrap();
    db.app
        .cases()
        .act(
            &director,
            id,
            Action::RecordOpinion {
                proposed_amount: amount,
            },
            // A hand amount that differs from the calculator's carries its reason.
            &ActionExtras {
                amount_reason: "按入户调查核实的家庭实际情况核定".into(),
                ..ex()
            },
            on,
        )
        .await
        .unwrap();
}

/// Survey and opinion on `on`, published the same day, notice closed on `close_on`.
async fn through_notice(
    db: &TestDb,
    id: i64,
    amount: Option<Fen>,
    on: NaiveDate,
    close_on: NaiveDate,
) {
    let app = &db.app;
    let staff = actor_of(app, "staff").await;
    investigate_and_opine(db, id, amount, on).await;
    db.app
        .cases()
        .act(&staff, id, Action::Publish, &ex(), on)
        .await
        .unwrap();
    db.app
        .cases()
        .act(&staff, id, Action::CloseNotice, &ex(), close_on)
        .await
        .unwrap();
}

async fn dibao_from_application_to_enrolment(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let day0 = d("2026-03-02");
    let full_id = id(HEAD_ID);
    let id = dibao_application(db, hid, day0).await;
    assert_eq!(state(db, id).await, CaseState::Submitted);
    let expected = db
        .app
        .cases()
        .compute(&system(), id, day0)
        .await
        .expect("the demo parameters compute a 农村低保 amount");
    assert!(expected.amount.0 > 0);
    to_notice(db, id, day0).await;
    let detail = db.app.cases().get(&system(), id, day0).await.unwrap();
    assert_eq!(detail.case.state, CaseState::Publicised);
    assert_eq!(detail.case.proposed_fen, Some(expected.amount));
    assert!(detail.case.calc.is_some(), "the explanation is kept");
    assert_eq!(detail.surveys.len(), 1);
    assert!(detail.clocks.iter().any(|k| k.stopped_on.is_some()));

    // The board's print page: the village assistant sees it, another township does not.
    let batch = detail.case.notice_batch_id.expect("published in a batch");
    let assistant = actor_of(app, "assistant").await;
    let board = db.app.notices().get(&assistant, batch).await.unwrap();
    assert_eq!(board.entries.len(), 1);
    assert_eq!(board.entries[0].case_id, id);
    let staff2 = actor_of(app, "staff2").await;
    assert!(matches!(
        db.app.notices().get(&staff2, batch).await,
        Err(minzheng_app::Error::NotFound(_))
    ));
    // A board that does not exist is not found either.
    assert!(matches!(
        db.app.notices().get(&assistant, batch + 1).await,
        Err(minzheng_app::Error::NotFound(_))
    ));
    // The staff's list of boards holds it with its entry; another township's is empty.
    let boards = db.app.notices().list(&assistant).await.unwrap();
    assert_eq!(boards.iter().map(|b| b.id).collect::<Vec<_>>(), [batch]);
    assert_eq!(boards[0].entries[0].case_id, id);
    assert!(db.app.notices().list(&staff2).await.unwrap().is_empty());
    // The public board's heading names the place in full, from the province down; a code
    // no division has is not found.
    let place = |code: &str| {
        let code = minzheng_domain::DivisionCode::parse_native(code).unwrap();
        async move { db.app.notices().public_place(&code).await }
    };
    assert_eq!(
        place("511802001001").await.unwrap(),
        "四川省雅安市雨城区东城街道东大街社区居委会"
    );
    assert_eq!(place("511802").await.unwrap(), "四川省雅安市雨城区");
    assert!(matches!(
        place("511802001999").await,
        Err(minzheng_app::Error::NotFound(_))
    ));

    // The public page: name masked by the demo parameter, amount shown, nothing else.
    let notices = db
        .app
        .notices()
        .public(
            &minzheng_domain::DivisionCode::parse_native("5118").unwrap(),
            d("2026-03-05"),
        )
        .await
        .unwrap();
    assert_eq!(notices.len(), 1);
    let e = &notices[0].entries[0];
    assert_eq!(e.household_size, 2);
    assert_eq!(e.program, minzheng_domain::Program::RuralDibao);
    assert_eq!(e.amount, expected.amount);
    let text = serde_json::to_string(&notices).unwrap();
    for secret in [
        HEAD_ID,
        &full_id[14..],
        PHONE,
        ACCOUNT,
        ADDRESS,
        "幸福巷",
        "李秀英",
    ] {
        assert!(
            !text.contains(secret),
            "public notice leaks {secret}: {text}"
        );
    }
    // A village outside shows nothing; the township and the village show it.
    for (code, n) in [("511802001", 1), ("511802001001", 1), ("511802002", 0)] {
        let list = db
            .app
            .notices()
            .public(
                &minzheng_domain::DivisionCode::parse_native(code).unwrap(),
                d("2026-03-05"),
            )
            .await
            .unwrap();
        assert_eq!(list.len(), n, "{code}");
    }
    // The board holds the notice from its first day to its last, and not a day longer:
    // names and amounts do not stay public after the notice period.
    let city = minzheng_domain::DivisionCode::parse_native("5118").unwrap();
    let starts = d(&notices[0].starts_on);
    let ends = d(&notices[0].ends_on);
    assert!(ends > starts);
    for (on, n) in [
        (starts.pred_opt().unwrap(), 0),
        (starts, 1),
        (ends, 1),
        (ends.succ_opt().unwrap(), 0),
    ] {
        let list = db.app.notices().public(&city, on).await.unwrap();
        assert_eq!(list.len(), n, "the public board on {on}");
    }

    // Closing before the 7 days are over is refused.
    let staff = actor_of(app, "staff").await;
    let err = db
        .app
        .cases()
        .act(&staff, id, Action::CloseNotice, &ex(), d("2026-03-05"))
        .await
        .unwrap_err();
    assert!(matches!(err, minzheng_app::Error::Conflict(_)), "{err:?}");
    db.app
        .cases()
        .act(&staff, id, Action::CloseNotice, &ex(), d("2026-03-10"))
        .await
        .unwrap();
    let approver = actor_of(app, "approver").await;
    db.app
        .cases()
        .act(
            &approver,
            id,
            Action::Approve { amount: Fen(-1) },
            &ex(),
            d("2026-03-12"),
        )
        .await
        .unwrap();
    db.app
        .cases()
        .act(&staff, id, Action::Enrol, &ex(), d("2026-03-13"))
        .await
        .unwrap();
    let detail = db
        .app
        .cases()
        .get(&system(), id, d("2026-03-13"))
        .await
        .unwrap();
    assert_eq!(detail.case.state, CaseState::Enrolled);
    assert_eq!(detail.case.approved_fen, Some(expected.amount));
    let e = detail.enrolment.expect("enrolled");
    assert_eq!(e.monthly_fen, expected.amount);
    assert_eq!(
        e.start_month, "2026-04",
        "payment starts the month after approval"
    );
    assert_eq!(e.status, EnrolmentStatus::Active);
    assert_eq!(e.household_size, 2);
    let (list, total) = db
        .app
        .cases()
        .enrolments(&system(), &EnrolmentFilter::default())
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(list[0].id, e.id);
    // Every step is on the timeline and in the audit chain.
    let kinds: Vec<&str> = detail.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "submit",
            "accept",
            "start_investigation",
            "record_opinion",
            "publish",
            "close_notice",
            "approve",
            "enrol"
        ]
    );
    assert!(app.audit().verify().await.unwrap().first_break.is_none());
}

async fn refusals_change_nothing(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let on = d("2026-03-02");
    let id = dibao_application(db, hid, on).await;
    let assistant = actor_of(app, "assistant").await;
    let approver = actor_of(app, "approver").await;
    let auditor = actor_of(app, "auditor").await;
    let staff2 = actor_of(app, "staff2").await;
    let staff = actor_of(app, "staff").await;
    // Illegal in this state → Conflict (409).
    let e = db
        .app
        .cases()
        .act(
            &approver,
            id,
            Action::Approve { amount: Fen(100) },
            &ex(),
            on,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Conflict(_)), "{e:?}");
    // Wrong role → Forbidden (403).
    let e = db
        .app
        .cases()
        .act(&assistant, id, Action::Accept, &ex(), on)
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Forbidden(_)), "{e:?}");
    let e = db
        .app
        .cases()
        .act(&auditor, id, Action::Accept, &ex(), on)
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Forbidden(_)), "{e:?}");
    // Another township → NotFound (404).
    let e = db
        .app
        .cases()
        .act(&staff2, id, Action::Accept, &ex(), on)
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::NotFound(_)), "{e:?}");
    assert!(matches!(
        db.app.cases().get(&staff2, id, on).await,
        Err(minzheng_app::Error::NotFound(_))
    ));
    assert_eq!(state(db, id).await, CaseState::Submitted);
    // Missing content → Validation (422).
    let e = db
        .app
        .cases()
        .act(
            &staff,
            id,
            Action::NotAccept {
                reasons: "  ".into(),
            },
            &ex(),
            on,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Validation { .. }), "{e:?}");
    db.app
        .cases()
        .act(&staff, id, Action::Accept, &ex(), on)
        .await
        .unwrap();
    let e = db
        .app
        .cases()
        .act(
            &staff,
            id,
            Action::StartInvestigation {
                investigators: vec!["张伟".into()],
                authorization_attached: true,
            },
            &ex(),
            on,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("两名"), "{e}");
    let detail = db.app.cases().get(&system(), id, on).await.unwrap();
    assert_eq!(detail.case.state, CaseState::Accepted);
    assert_eq!(
        detail.events.len(),
        2,
        "only submit and accept were recorded"
    );
    // A case in another township's household cannot be opened by this assistant.
    let e = db
        .app
        .cases()
        .create(
            &staff2,
            &NewCase {
                household_id: hid,
                program: "rural_dibao".into(),
                submit: true,
                ..Default::default()
            },
            on,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::NotFound(_)), "{e:?}");
    let (cases, total) = db
        .app
        .cases()
        .list(&system(), &Default::default())
        .await
        .unwrap();
    assert_eq!((total, cases[0].id), (1, id), "no case was opened");
    // 城市低保 for a rural household is refused with a reason.
    let e = db
        .app
        .cases()
        .create(
            &assistant,
            &NewCase {
                household_id: hid,
                program: "urban_dibao".into(),
                submit: true,
                ..Default::default()
            },
            on,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("农村"), "{e}");
    // Denial with reasons ends the case; reasons are kept.
    to_opinion_and_deny(db, id).await;
}

async fn to_opinion_and_deny(db: &TestDb, id: i64) {
    let app = &db.app;
    let approver = actor_of(app, "approver").await;
    through_notice(db, id, None, d("2026-03-02"), d("2026-03-10")).await;
    db.app
        .cases()
        .act(
            &approver,
            id,
            Action::Deny {
                reasons: "家庭存款超过规定".into(),
            },
            &ex(),
            d("2026-03-11"),
        )
        .await
        .unwrap();
    let detail = db
        .app
        .cases()
        .get(&system(), id, d("2026-03-11"))
        .await
        .unwrap();
    assert_eq!(detail.case.state, CaseState::Denied);
    assert_eq!(detail.case.decision_reasons, "家庭存款超过规定");
    assert_eq!(detail.case.decided_on.as_deref(), Some("2026-03-11"));
    assert!(detail.enrolment.is_none());
    // The refusal notice has its 3-working-day clock.
    assert!(detail
        .clocks
        .iter()
        .any(|k| k.step == minzheng_domain::Step::RefusalNotice && k.stopped_on.is_none()));
}

async fn dibao_and_tekun_are_exclusive(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, head, _) = household(app, HEAD_ID, "51180219720607302").await;
    let on = d("2026-03-02");
    enrolled_dibao(db, hid, on).await;
    let staff = actor_of(app, "staff").await;
    let e = db
        .app
        .cases()
        .create(
            &staff,
            &NewCase {
                household_id: hid,
                person_id: Some(head),
                program: "tekun".into(),
                submit: true,
                ..Default::default()
            },
            d("2026-03-11"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Conflict(_)), "{e:?}");
    assert!(e.to_string().contains("王建国"), "{e}");
    // 高龄津贴 is not exclusive with 低保.
    let (cases, _) = db
        .app
        .cases()
        .list(&system(), &CaseFilter::default())
        .await
        .unwrap();
    assert_eq!(cases.len(), 1);
}

async fn minors_in_tekun_are_never_publicised(db: &TestDb) {
    let app = seeded(db).await;
    // A household whose member is a 12-year-old orphan in the care of a relative.
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let sys = Actor::system("t");
    let h = app
        .registry()
        .add_member(
            &sys,
            hid,
            &PersonInput {
                health: "健康".into(),
                work_capacity: "有劳动能力".into(),
                name: "王小明".into(),
                id_number: id("51180220140101303"),
                relation: "孙子女".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let child = h.members.iter().find(|m| m.name == "王小明").unwrap().id;
    let staff = actor_of(app, "staff").await;
    let on = d("2026-03-02");
    let id = db
        .app
        .cases()
        .create(
            &staff,
            &NewCase {
                household_id: hid,
                person_id: Some(child),
                program: "tekun".into(),
                details: CaseDetails {
                    assessment: Some(minzheng_domain::calculators::SelfCareAssessment::all_met()),
                    support_mode: Some(SupportMode::Dispersed),
                    ..Default::default()
                },
                submit: true,
                ..Default::default()
            },
            on,
        )
        .await
        .unwrap();
    db.app
        .cases()
        .act(&staff, id, Action::Accept, &ex(), on)
        .await
        .unwrap();
    investigate_and_opine(db, id, None, on).await;
    let e = db
        .app
        .cases()
        .act(&staff, id, Action::Publish, &ex(), on)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("未成年人"), "{e}");
    let e = db
        .app
        .notices()
        .publish(&staff, "511802001001", &[id], on)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("未成年人"), "{e}");
    db.app
        .cases()
        .act(&staff, id, Action::SendWithoutNotice, &ex(), on)
        .await
        .unwrap();
    assert_eq!(state(db, id).await, CaseState::UnderConfirmation);
    let notices = db
        .app
        .notices()
        .public(
            &minzheng_domain::DivisionCode::parse_native("5118").unwrap(),
            on,
        )
        .await
        .unwrap();
    assert!(notices.is_empty(), "{notices:?}");
}

async fn concurrent_clicks_apply_once(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let on = d("2026-03-02");
    let id = dibao_application(db, hid, on).await;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    let (x1, x2) = (ex(), ex());
    let cases = db.app.cases();
    let (a, b) = tokio::join!(
        cases.act(&staff, id, Action::Accept, &x1, on),
        cases.act(&director, id, Action::Accept, &x2, on),
    );
    assert_eq!(
        a.is_ok() as u8 + b.is_ok() as u8,
        1,
        "exactly one accept applies: {a:?} {b:?}"
    );
    let detail = db.app.cases().get(&system(), id, on).await.unwrap();
    assert_eq!(detail.events.len(), 2);
    let open_clocks = detail
        .clocks
        .iter()
        .filter(|k| k.stopped_on.is_none())
        .count();
    assert_eq!(
        open_clocks, 2,
        "investigation and whole-procedure clocks, once"
    );
}

async fn clocks_skip_the_spring_festival(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    // Accepted on Friday 2026-02-13, just before the 2026 Spring Festival holiday
    // (15–23 Feb, with make-up working days on Sat 14 Feb and Sat 28 Feb).
    let on = d("2026-02-13");
    let id = dibao_application(db, hid, on).await;
    let staff = actor_of(app, "staff").await;
    db.app
        .cases()
        .act(&staff, id, Action::Accept, &ex(), on)
        .await
        .unwrap();
    let detail = db.app.cases().get(&system(), id, on).await.unwrap();
    let inv = detail
        .clocks
        .iter()
        .find(|k| k.step == minzheng_domain::Step::Investigation);
    let due = match inv {
        Some(k) => d(&k.due_on),
        None => {
            // 低保 has no separate investigation clock: use the whole procedure.
            let k = detail
                .clocks
                .iter()
                .find(|k| k.step == minzheng_domain::Step::WholeProcedure)
                .unwrap();
            d(&k.due_on)
        }
    };
    let calendar_days = (due - on).num_days();
    let working = WorkCalendar::official().working_days_between(on, due);
    assert!(calendar_days > working + 7, "the holiday is skipped: {due}");
    // Long after, the case is listed as overdue for the township.
    let items = db.app.cases().due(&staff, d("2026-06-01")).await.unwrap();
    assert!(
        items.iter().any(|i| i.case_id == id && i.overdue),
        "{items:?}"
    );
    // The county approver's list holds only confirmation steps.
    let approver = actor_of(app, "approver").await;
    let items = db
        .app
        .cases()
        .due(&approver, d("2026-06-01"))
        .await
        .unwrap();
    assert!(items
        .iter()
        .all(|i| i.step == minzheng_domain::Step::Confirmation));
}

async fn daily_tasks_propose_old_age_allowance_once(db: &TestDb) {
    let app = seeded(db).await;
    // Head born 1940: 86 in 2026.
    let (_hid, head, _) = household(app, "51180219400305301", "51180219720607302").await;
    let sys = Actor::system("tasks");
    let on = d("2026-03-02");
    let (proposed, _) = db.app.cases().run_tasks(&sys, on).await.unwrap();
    assert_eq!(proposed, 1);
    let (again, _) = db.app.cases().run_tasks(&sys, on).await.unwrap();
    assert_eq!(again, 0, "idempotent");
    let (cases, _) = db
        .app
        .cases()
        .list(&system(), &CaseFilter::default())
        .await
        .unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].person_id, Some(head));
    assert_eq!(cases[0].state, CaseState::Draft);
    let calc = db
        .app
        .cases()
        .compute(&system(), cases[0].id, on)
        .await
        .unwrap();
    assert!(calc.amount.0 > 0);
    // The proposal is the system's: the default case list keeps it apart until a clerk
    // submits it, and a clerk's own application is listed as usual.
    assert_eq!(cases[0].origin, CaseOrigin::System);
    let staff = actor_of(app, "staff").await;
    let (hid2, _, _) = household(app, "51180219800305301", "51180219820607302").await;
    let mine = dibao_application(db, hid2, on).await;
    let listed = |origin: &'static str| {
        let filter = CaseFilter {
            origin: Some(origin.into()),
            ..Default::default()
        };
        async move {
            let (cases, total) = db.app.cases().list(&system(), &filter).await.unwrap();
            assert_eq!(cases.len() as i64, total);
            cases.iter().map(|c| c.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(listed("no_system_drafts").await, [mine]);
    assert_eq!(listed("system").await, [cases[0].id]);
    assert_eq!(listed("clerk").await, [mine]);
    assert_eq!(listed("all").await, [mine, cases[0].id]);
    let e = db
        .app
        .cases()
        .list(
            &system(),
            &CaseFilter {
                origin: Some("robot".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Validation { .. }), "{e:?}");
    // Once submitted it is ordinary work and shows in the default list.
    db.app
        .cases()
        .act(&staff, cases[0].id, Action::Submit, &ex(), on)
        .await
        .unwrap();
    assert_eq!(listed("no_system_drafts").await, [mine, cases[0].id]);
}

async fn only_the_city_admin_sets_parameters(db: &TestDb) {
    let app = seeded(db).await;
    let staff = actor_of(app, "staff").await;
    let admin = actor_of(app, "admin").await;
    let p = NewParam {
        program: "rural_dibao".into(),
        name: "standard".into(),
        region: "5118".into(),
        urban_rural: String::new(),
        effective_from: "2027-01-01".into(),
        value_json: "900".into(),
        source: "雅民发〔2026〕1号".into(),
    };
    let e = db.app.params().add(&staff, &p).await.unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Forbidden(_)), "{e:?}");
    let before = db
        .app
        .params()
        .list(&admin, Some("rural_dibao"))
        .await
        .unwrap()
        .len();
    db.app.params().add(&admin, &p).await.unwrap();
    assert_eq!(
        db.app
            .params()
            .list(&admin, Some("rural_dibao"))
            .await
            .unwrap()
            .len(),
        before + 1
    );
    // Same key, scope and date again: refused.
    let e = db.app.params().add(&admin, &p).await.unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Validation { .. }), "{e:?}");
    // Wrong value type.
    let e = db
        .app
        .params()
        .add(
            &admin,
            &NewParam {
                value_json: "\"abc\"".into(),
                effective_from: "2027-02-01".into(),
                ..p.clone()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Validation { .. }), "{e:?}");
    // The new standard is in force from its date only.
    let set = db.app.params().set(&admin).await.unwrap();
    let region = minzheng_domain::DivisionCode::parse_native("511802001001").unwrap();
    let q = set.at(
        &region,
        Some(minzheng_domain::UrbanRural::Rural),
        d("2027-01-01"),
    );
    assert_eq!(q.dibao_standard().unwrap(), Fen(90000));
    let q = set.at(
        &region,
        Some(minzheng_domain::UrbanRural::Rural),
        d("2026-12-31"),
    );
    assert_ne!(q.dibao_standard().unwrap(), Fen(90000));
}

/// `serve --demo` shows a living office: cases in every state, enrolments in every
/// program, a notice on the public board.
#[tokio::test]
async fn demo_city_has_cases_in_every_state_and_enrolments_in_every_program() {
    let db = TestDb::sqlite().await;
    let app = seeded(&db).await;
    app.demo().registry(3000, 2026).await.unwrap();
    let today = d("2026-11-26");
    let n = db.app.demo().cases(today).await.unwrap();
    assert!(n > 50, "{n}");
    assert_eq!(db.app.demo().cases(today).await.unwrap(), 0, "only once");
    for s in [
        CaseState::Draft,
        CaseState::Submitted,
        CaseState::MissingPapers,
        CaseState::Accepted,
        CaseState::NotAccepted,
        CaseState::Investigating,
        CaseState::PrelimOpinion,
        CaseState::Publicised,
        CaseState::Reinvestigating,
        CaseState::UnderConfirmation,
        CaseState::Approved,
        CaseState::Denied,
        CaseState::Enrolled,
        CaseState::Suspended,
        CaseState::Terminated,
        CaseState::Withdrawn,
    ] {
        let code = serde_json::to_value(s)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        let (_, total) = db
            .app
            .cases()
            .list(
                &system(),
                &CaseFilter {
                    state: Some(code.clone()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(total > 0, "no demo case in state {code}");
    }
    for p in minzheng_domain::Program::ALL {
        let (list, _) = db
            .app
            .cases()
            .enrolments(
                &system(),
                &EnrolmentFilter {
                    program: Some(p.as_str().into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(
            list.iter().any(|e| e.monthly_fen > Fen(0)),
            "no enrolment for {}",
            p.label()
        );
    }
    let board = db
        .app
        .notices()
        .public(
            &minzheng_domain::DivisionCode::parse_native("5118").unwrap(),
            today,
        )
        .await
        .unwrap();
    assert!(!board.is_empty());
    assert!(app.audit().verify().await.unwrap().first_break.is_none());
    db.cleanup().await;
}

async fn temporary_aid_once_per_cause_per_year(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    let details = |cause: &str| CaseDetails {
        temporary_kind: Some(minzheng_domain::programs::TemporaryKind::Emergency),
        assessed_fen: Some(150_000),
        cause: Some(cause.into()),
        ..Default::default()
    };
    let apply = |cause: &'static str, on: NaiveDate| {
        let staff = staff.clone();
        async move {
            db.app
                .cases()
                .create(
                    &staff,
                    &NewCase {
                        household_id: hid,
                        program: "temporary_assistance".into(),
                        details: details(cause),
                        submit: true,
                        ..Default::default()
                    },
                    on,
                )
                .await
        }
    };
    // No cause: refused with a field message.
    let e = apply("", d("2026-03-02")).await.unwrap_err();
    assert!(e.to_string().contains("事由"), "{e}");
    let id = apply("火灾", d("2026-03-02")).await.unwrap();
    let on = d("2026-03-02");
    db.app
        .cases()
        .act(&staff, id, Action::Accept, &ex(), on)
        .await
        .unwrap();
    through_notice(db, id, None, on, d("2026-03-10")).await;
    // 1,500 元 is under the township threshold (2,000 元 in the demo): the director approves.
    db.app
        .cases()
        .act(
            &director,
            id,
            Action::Approve { amount: Fen(-1) },
            &ex(),
            d("2026-03-10"),
        )
        .await
        .unwrap();
    // The grant is paid once, and its enrolment says so.
    db.app
        .cases()
        .act(&staff, id, Action::Enrol, &ex(), d("2026-03-10"))
        .await
        .unwrap();
    let granted = db
        .app
        .cases()
        .get(&staff, id, d("2026-03-10"))
        .await
        .unwrap()
        .enrolment
        .expect("the approved grant's enrolment");
    assert_eq!(
        (granted.payment, granted.monthly_fen),
        (minzheng_domain::cases::PaymentSchedule::Once, Fen(150_000))
    );
    // The same cause again this year: refused; another cause, or next year: accepted.
    let e = apply("火灾", d("2026-05-01")).await.unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Conflict(_)), "{e:?}");
    apply("重病", d("2026-05-01")).await.unwrap();
    apply("火灾", d("2027-01-05")).await.unwrap();
}

async fn case_papers_are_images_kept_with_the_case(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let on = d("2026-03-02");
    let id = dibao_application(db, hid, on).await;
    let assistant = actor_of(app, "assistant").await;
    let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
    let a = minzheng_domain::attachments::NewAttachment {
        filename: "授权核查书.png".into(),
        content_type: "image/png".into(),
        data: png,
    };
    db.app
        .cases()
        .attach(&assistant, id, &a, 1 << 20, on)
        .await
        .unwrap();
    let bad = minzheng_domain::attachments::NewAttachment {
        filename: "x.png".into(),
        content_type: "image/png".into(),
        data: b"<html>".to_vec(),
    };
    assert!(db
        .app
        .cases()
        .attach(&assistant, id, &bad, 1 << 20, on)
        .await
        .is_err());
    let auditor = actor_of(app, "auditor").await;
    let e = db
        .app
        .cases()
        .attach(&auditor, id, &a, 1 << 20, on)
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Forbidden(_)), "{e:?}");
    let detail = db.app.cases().get(&assistant, id, on).await.unwrap();
    assert_eq!(detail.attachments.len(), 1);
    assert_eq!(detail.attachments[0].filename, "授权核查书.png");
    assert_eq!(detail.events.last().unwrap().action.as_str(), "attach");
    // Another township's clerk does not reach the case: 404, and its papers stay as they were.
    let staff2 = actor_of(app, "staff2").await;
    let e = db
        .app
        .cases()
        .attach(&staff2, id, &a, 1 << 20, on)
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::NotFound(_)), "{e:?}");
    let after = db.app.cases().get(&system(), id, on).await.unwrap();
    assert_eq!(after.attachments.len(), 1);
    assert_eq!(after.events.len(), detail.events.len());
}

/// Takes an accepted follow-up case through the 低保 procedure and confirms `amount`.
async fn follow_up(db: &TestDb, id: i64, amount: i64, on: NaiveDate) {
    let app = &db.app;
    let staff = actor_of(app, "staff").await;
    let approver = actor_of(app, "approver").await;
    let later = on + chrono::Days::new(10);
    through_notice(db, id, Some(Fen(amount)), on, later).await;
    db.app
        .cases()
        .act(
            &approver,
            id,
            Action::Approve {
                amount: Fen(amount),
            },
            &ex(),
            later,
        )
        .await
        .unwrap();
    db.app
        .cases()
        .act(&staff, id, Action::Enrol, &ex(), later)
        .await
        .unwrap();
}

async fn enrolment_of(db: &TestDb, case_id: i64, on: NaiveDate) -> Enrolment {
    db.app
        .cases()
        .get(&system(), case_id, on)
        .await
        .unwrap()
        .enrolment
        .expect("the case holds an enrolment")
}

/// 暂停发放, 恢复发放 and 终止保障 are the county's decisions on an enrolled case, and each
/// reaches the enrolment that payroll reads: suspended (not paid, not ended), active again,
/// then ended with the decision's month as its last.
async fn suspend_resume_and_terminate_reach_the_enrolment(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let id = enrolled_dibao(db, hid, d("2026-03-02")).await;
    let (staff, approver) = (
        actor_of(app, "staff").await,
        actor_of(app, "approver").await,
    );
    let day = d("2026-04-08");
    let before = enrolment_of(db, id, day).await;
    assert_eq!(before.status, EnrolmentStatus::Active);
    assert_eq!(before.end_month, None);
    let suspend = || Action::Suspend {
        reasons: "家庭成员外出务工，收入待核实".into(),
    };

    // The township cannot suspend; the refusal changes nothing.
    let e = app
        .cases()
        .act(&staff, id, suspend(), &ex(), day)
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Forbidden(_)), "{e:?}");
    assert_eq!(
        enrolment_of(db, id, day).await.status,
        EnrolmentStatus::Active
    );
    assert_eq!(state(db, id).await, CaseState::Enrolled);

    app.cases()
        .act(&approver, id, suspend(), &ex(), day)
        .await
        .unwrap();
    assert_eq!(state(db, id).await, CaseState::Suspended);
    let suspended = enrolment_of(db, id, day).await;
    assert_eq!(suspended.id, before.id);
    assert_eq!(suspended.status, EnrolmentStatus::Suspended);
    assert_eq!(suspended.end_month, None, "suspended is not ended");
    assert_eq!(suspended.monthly_fen, before.monthly_fen);

    app.cases()
        .act(&approver, id, Action::Resume, &ex(), day)
        .await
        .unwrap();
    assert_eq!(state(db, id).await, CaseState::Enrolled);
    assert_eq!(
        enrolment_of(db, id, day).await.status,
        EnrolmentStatus::Active
    );

    let end_day = d("2026-05-12");
    app.cases()
        .act(
            &approver,
            id,
            Action::Terminate {
                reasons: "家庭人均收入超过低保标准".into(),
            },
            &ex(),
            end_day,
        )
        .await
        .unwrap();
    assert_eq!(state(db, id).await, CaseState::Terminated);
    let ended = enrolment_of(db, id, end_day).await;
    assert_eq!(ended.status, EnrolmentStatus::Ended);
    assert_eq!(
        ended.end_month.as_deref(),
        Some("2026-05"),
        "停发 after May"
    );
    assert_eq!(ended.grace_until, None);
    // Nothing more can be done to a terminated case.
    assert!(app
        .cases()
        .act(&approver, id, Action::Resume, &ex(), end_day)
        .await
        .is_err());
    assert_eq!(
        enrolment_of(db, id, end_day).await.status,
        EnrolmentStatus::Ended
    );
}

async fn reviews_and_changes_adjust_or_stop_the_enrolment(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let on = d("2026-03-02");
    let id = dibao_application(db, hid, on).await;
    // The application states its cause (致贫原因), which the first case keeps.
    let staff = actor_of(app, "staff").await;
    db.app
        .cases()
        .update_details(
            &staff,
            id,
            &minzheng_domain::case_calc::CaseDetails {
                cause: Some("因病致贫".into()),
                ..Default::default()
            },
            on,
        )
        .await
        .unwrap();
    enrol_application(db, id, on).await;
    let enrolment = db
        .app
        .cases()
        .get(&system(), id, on)
        .await
        .unwrap()
        .enrolment
        .unwrap();
    let review_on = d(enrolment.next_review_on.as_deref().unwrap());
    assert_eq!(review_on, d("2027-03-10"), "stable households: 12 months");
    // Before the date nothing happens; on it a review case opens, once.
    let sys = Actor::system("tasks");
    assert_eq!(
        db.app
            .cases()
            .run_tasks(&sys, d("2027-03-09"))
            .await
            .unwrap()
            .1,
        0
    );
    assert_eq!(
        db.app.cases().run_tasks(&sys, review_on).await.unwrap().1,
        1
    );
    assert_eq!(
        db.app.cases().run_tasks(&sys, review_on).await.unwrap().1,
        0
    );
    let (reviews, _) = db
        .app
        .cases()
        .list(
            &system(),
            &CaseFilter {
                kind: Some("review".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].enrolment_id, Some(enrolment.id));
    // The review carries the first case's details, and its 城乡 is the household's (农村).
    let first = db.app.cases().get(&system(), id, on).await.unwrap().case;
    let review = db
        .app
        .cases()
        .get(&system(), reviews[0].id, review_on)
        .await
        .unwrap()
        .case;
    assert_eq!(
        serde_json::to_value(&review.details).unwrap(),
        serde_json::to_value(&first.details).unwrap()
    );
    assert_ne!(
        serde_json::to_value(&first.details).unwrap(),
        serde_json::to_value(minzheng_domain::case_calc::CaseDetails::default()).unwrap(),
        "the first case had details to carry"
    );
    assert_eq!(review.urban_rural, minzheng_domain::UrbanRural::Rural);
    // The review confirms a new amount (减发): the same enrolment pays it.
    follow_up(db, reviews[0].id, 50_000, review_on).await;
    let (list, total) = db
        .app
        .cases()
        .enrolments(&system(), &EnrolmentFilter::default())
        .await
        .unwrap();
    assert_eq!(total, 1, "no second enrolment");
    assert_eq!(list[0].monthly_fen, Fen(50_000));
    assert_eq!(list[0].status, EnrolmentStatus::Active);
    // A change case while nothing is open; a second one at the same time is refused.
    let assistant = actor_of(app, "assistant").await;
    let e = db
        .app
        .cases()
        .open_change(&assistant, enrolment.id, " ", review_on)
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Validation { .. }), "{e:?}");
    // The household is re-registered urban meanwhile: the change case is 城镇.
    db.app
        .registry()
        .update(
            &system(),
            hid,
            &minzheng_domain::registry::HouseholdUpdate {
                village_code: "511802001001".into(),
                registration_type: "城镇".into(),
                address: ADDRESS.into(),
                phone: PHONE.into(),
                bank_name: "农业银行".into(),
                account_number: ACCOUNT.into(),
                account_holder: "王建国".into(),
                status: String::new(),
            },
        )
        .await
        .unwrap();
    let change = db
        .app
        .cases()
        .open_change(
            &assistant,
            enrolment.id,
            "家庭成员外出务工，收入增加",
            review_on,
        )
        .await
        .unwrap();
    let change_case = db
        .app
        .cases()
        .get(&system(), change, review_on)
        .await
        .unwrap()
        .case;
    assert_eq!(change_case.urban_rural, minzheng_domain::UrbanRural::Urban);
    let e = db
        .app
        .cases()
        .open_change(&assistant, enrolment.id, "再次申请", review_on)
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Conflict(_)), "{e:?}");
    // Another township's clerk does not reach the enrolment: 404, and no case is opened.
    let staff2 = actor_of(app, "staff2").await;
    let (_, cases_before) = db
        .app
        .cases()
        .list(&system(), &Default::default())
        .await
        .unwrap();
    let e = db
        .app
        .cases()
        .open_change(&staff2, enrolment.id, "x", review_on)
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::NotFound(_)), "{e:?}");
    let (_, cases_after) = db
        .app
        .cases()
        .list(&system(), &Default::default())
        .await
        .unwrap();
    assert_eq!(cases_after, cases_before);
    // Confirmed at zero: 停发.
    follow_up(db, change, 0, review_on).await;
    let (list, _) = db
        .app
        .cases()
        .enrolments(&system(), &EnrolmentFilter::default())
        .await
        .unwrap();
    assert_eq!(list[0].status, EnrolmentStatus::Ended);
    assert!(list[0].end_month.is_some());
}

/// Takes a follow-up case through survey, opinion and notice to the county's denial.
async fn follow_up_denied(db: &TestDb, id: i64, on: NaiveDate, grace: bool) {
    let app = &db.app;
    let approver = actor_of(app, "approver").await;
    let later = on + chrono::Days::new(10);
    through_notice(db, id, None, on, later).await;
    let extras = ActionExtras { grace, ..ex() };
    db.app
        .cases()
        .act(
            &approver,
            id,
            Action::Deny {
                reasons: "家庭人均收入已高于低保标准".into(),
            },
            &extras,
            later,
        )
        .await
        .unwrap();
    assert_eq!(state(db, id).await, CaseState::Denied);
}

async fn a_denied_review_stops_payment_a_denied_change_does_not(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let on = d("2026-03-02");
    let id = enrolled_dibao(db, hid, on).await;
    let before = db
        .app
        .cases()
        .get(&system(), id, on)
        .await
        .unwrap()
        .enrolment
        .unwrap();
    // A change the county does not confirm leaves the enrolment as it was.
    let assistant = actor_of(app, "assistant").await;
    let change = db
        .app
        .cases()
        .open_change(&assistant, before.id, "申请增发", d("2026-06-01"))
        .await
        .unwrap();
    follow_up_denied(db, change, d("2026-06-01"), false).await;
    let (list, _) = db
        .app
        .cases()
        .enrolments(&system(), &EnrolmentFilter::default())
        .await
        .unwrap();
    assert_eq!(
        (
            list[0].status.as_str(),
            list[0].monthly_fen,
            &list[0].end_month
        ),
        ("active", before.monthly_fen, &None)
    );
    // A periodic review the county does not confirm: 渐退 when asked, until the grace
    // period's last month, then no more payment.
    // A second household, enrolled the same day, is denied without 渐退: 停发 after the
    // decision month.
    let (hid2, _, _) = household(app, "51180219800305301", "51180219820607302").await;
    let id2 = enrolled_dibao(db, hid2, on).await;
    let review_on = d(before.next_review_on.as_deref().unwrap());
    let sys = Actor::system("tasks");
    assert_eq!(
        db.app.cases().run_tasks(&sys, review_on).await.unwrap().1,
        2
    );
    let (reviews, _) = db
        .app
        .cases()
        .list(
            &system(),
            &CaseFilter {
                kind: Some("review".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let review_of = |eid: i64| {
        reviews
            .iter()
            .find(|r| r.enrolment_id == Some(eid))
            .unwrap()
            .id
    };
    let second = db
        .app
        .cases()
        .get(&system(), id2, on)
        .await
        .unwrap()
        .enrolment
        .unwrap();
    follow_up_denied(db, review_of(before.id), review_on, true).await;
    follow_up_denied(db, review_of(second.id), review_on, false).await;
    let (list, total) = db
        .app
        .cases()
        .enrolments(&system(), &EnrolmentFilter::default())
        .await
        .unwrap();
    assert_eq!(total, 2);
    let of = |eid: i64| list.iter().find(|e| e.id == eid).unwrap();
    let graced = of(before.id);
    assert_eq!(graced.status, EnrolmentStatus::Grace);
    let until = graced.grace_until.clone().expect("grace period end");
    assert!(until.as_str() > "2027-03", "{until}");
    assert_eq!(graced.end_month.as_deref(), Some(until.as_str()));
    let stopped = of(second.id);
    assert_eq!(stopped.status, EnrolmentStatus::Ended);
    assert!(stopped.grace_until.is_none());
    // Decided ten days after the review opened (2027-03-10 → 2027-03-20).
    assert_eq!(stopped.end_month.as_deref(), Some("2027-03"));
}

/// A notice board is a real village or township inside the publisher's jurisdiction that
/// holds the cases: a made-up code ("5"), a code that is no division, another township or
/// a level with no board is refused with a Chinese message, and nothing is written.
async fn notices_go_only_to_real_boards_in_the_jurisdiction(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let on = d("2026-03-02");
    let id = dibao_application(db, hid, on).await;
    let staff = actor_of(app, "staff").await;
    db.app
        .cases()
        .act(&staff, id, Action::Accept, &ex(), on)
        .await
        .unwrap();
    investigate_and_opine(db, id, None, on).await;
    let before = state(db, id).await;
    let audits = db.app.audit().count(&system()).await.unwrap();
    for (code, why) in [
        ("5", "区划"),
        ("51", "区划"),
        ("5118", "区划"),
        ("511802", "区划"),
        ("5118020", "区划"),
        ("511802001999", "区划"),
        ("511802002", "区划"),
        ("abc", "区划"),
    ] {
        let e = db
            .app
            .notices()
            .publish(&staff, code, &[id], on)
            .await
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(why) && msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{code}: {msg}"
        );
        assert_eq!(
            state(db, id).await,
            before,
            "{code}: the case is not publicised"
        );
    }
    assert!(db.app.notices().list(&staff).await.unwrap().is_empty());
    assert_eq!(db.app.audit().count(&system()).await.unwrap(), audits);
    // The township's board takes it.
    let batch = db
        .app
        .notices()
        .publish(&staff, "511802001", &[id], on)
        .await
        .unwrap();
    assert_eq!(state(db, id).await, CaseState::Publicised);
    assert_eq!(
        db.app
            .notices()
            .get(&staff, batch)
            .await
            .unwrap()
            .entries
            .len(),
        1
    );
}

/// 近亲属备案: a declaration files the household's case under way; the declarant (with an
/// account) is refused every action on it; the county confirms only with its home visit
/// recorded; another township can neither declare in 东城 nor see its declarations.
async fn a_relatives_case_is_filed_visited_by_the_county_and_its_declarant_recused(db: &TestDb) {
    use minzheng_domain::relatives::NewDeclaration;
    let app = seeded(db).await;
    let on = d("2026-03-02");
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let cid = publicised_dibao(db, hid, on).await;
    assert!(app
        .cases()
        .case(&system(), cid)
        .await
        .unwrap()
        .filed_note
        .is_empty());
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    let approver = actor_of(app, "approver").await;
    let staff2 = actor_of(app, "staff2").await;
    // The township clerk "staff" is the spouse's brother.
    let declaration = NewDeclaration {
        declarant_name: "李明".into(),
        declarant_id_number: id("51180219750808101"),
        post: "staff".into(),
        username: "staff".into(),
        division_code: "511802001".into(),
        relative_name: "李秀英".into(),
        relative_id_number: id("51180219720607302"),
        relation: "sibling".into(),
        note: String::new(),
    };
    // 西城's clerk may not file it for 东城, and nothing is written.
    let e = app
        .relatives()
        .declare(&staff2, &declaration, on)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, minzheng_app::Error::Validation { fields, .. } if fields.contains_key("division_code")),
        "{e:?}"
    );
    assert!(e.to_string().contains("管辖范围"), "{e}");
    assert!(app.relatives().list(&director).await.unwrap().is_empty());
    // A registered relative under another name is an identity conflict: nothing written.
    let e = app
        .relatives()
        .declare(
            &director,
            &NewDeclaration {
                relative_name: "李秀兰".into(),
                ..declaration.clone()
            },
            on,
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("李秀英") && e.to_string().contains("李秀兰"),
        "{e}"
    );
    assert!(app.relatives().list(&director).await.unwrap().is_empty());
    // An account that does not exist is refused.
    let e = app
        .relatives()
        .declare(
            &director,
            &NewDeclaration {
                username: "nobody".into(),
                ..declaration.clone()
            },
            on,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nobody"), "{e}");
    let out = app
        .relatives()
        .declare(&director, &declaration, on)
        .await
        .unwrap();
    assert_eq!(out.filed_cases, vec![cid]);
    // The same pair twice is refused.
    assert!(app
        .relatives()
        .declare(&director, &declaration, on)
        .await
        .is_err());
    assert!(app.relatives().list(&staff2).await.unwrap().is_empty());
    let case = app.cases().case(&system(), cid).await.unwrap();
    assert!(
        case.filed_note.contains("李秀英") && case.filed_note.contains("李明"),
        "{}",
        case.filed_note
    );
    // The declarant is recused: 403 with the reason, the case unchanged.
    let e = app
        .cases()
        .act(&staff, cid, Action::CloseNotice, &ex(), d("2026-03-10"))
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Forbidden(_)), "{e:?}");
    assert!(e.to_string().contains("回避"), "{e}");
    assert_eq!(state(db, cid).await, CaseState::Publicised);
    let page = app.cases().get(&staff, cid, d("2026-03-10")).await.unwrap();
    assert!(page.recused.is_some());
    let tie = |t: &minzheng_domain::relatives::Tie| {
        (
            t.member_name.clone(),
            t.declarant_name.clone(),
            t.relation,
            t.username.clone(),
        )
    };
    let sibling_of_staff = (
        "李秀英".to_string(),
        "李明".to_string(),
        Kinship::Sibling,
        Some("staff".to_string()),
    );
    assert_eq!(
        page.ties.iter().map(tie).collect::<Vec<_>>(),
        std::slice::from_ref(&sibling_of_staff)
    );
    assert!(app
        .cases()
        .get(&director, cid, d("2026-03-10"))
        .await
        .unwrap()
        .recused
        .is_none());
    // Others carry on; the county confirms only with its own visit recorded.
    app.cases()
        .act(&director, cid, Action::CloseNotice, &ex(), d("2026-03-10"))
        .await
        .unwrap();
    let e = app
        .cases()
        .act(
            &approver,
            cid,
            Action::Approve { amount: Fen(-1) },
            &ex(),
            d("2026-03-10"),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("入户核查"), "{e}");
    assert_eq!(state(db, cid).await, CaseState::UnderConfirmation);
    app.cases()
        .act(
            &approver,
            cid,
            Action::Approve { amount: Fen(-1) },
            &ActionExtras {
                findings: "县民政局两人入户核查，收入与申报一致".into(),
                ..ex()
            },
            d("2026-03-10"),
        )
        .await
        .unwrap();
    let page = app
        .cases()
        .get(&system(), cid, d("2026-03-10"))
        .await
        .unwrap();
    let approved = page
        .events
        .iter()
        .find(|e| e.to_state == Some(CaseState::Approved))
        .unwrap();
    assert_eq!(
        approved.data["county_visit"],
        "县民政局两人入户核查，收入与申报一致"
    );
    // A new case of the household is filed from the start, and its declarant cannot open it.
    let e = app
        .cases()
        .create(
            &staff,
            &NewCase {
                household_id: hid,
                program: "temporary_assistance".into(),
                submit: true,
                ..Default::default()
            },
            d("2026-03-11"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, minzheng_app::Error::Forbidden(_)), "{e:?}");
    // The head serves as a village cadre and declares a brother who lives elsewhere: the
    // household is tied through its own member (本人) as well.
    app.relatives()
        .declare(
            &director,
            &NewDeclaration {
                declarant_name: "王建国".into(),
                declarant_id_number: id(HEAD_ID),
                post: "village_committee".into(),
                username: String::new(),
                division_code: "511802001001".into(),
                relative_name: "王建军".into(),
                relative_id_number: id("51180219720101131"),
                relation: "sibling".into(),
                note: String::new(),
            },
            d("2026-03-11"),
        )
        .await
        .unwrap();
    let page = app
        .cases()
        .get(&director, cid, d("2026-03-11"))
        .await
        .unwrap();
    assert_eq!(
        page.ties.iter().map(tie).collect::<Vec<_>>(),
        [
            sibling_of_staff,
            (
                "王建国".to_string(),
                "王建国".to_string(),
                Kinship::Oneself,
                None
            ),
        ]
    );
}

/// 待我办理: a submitted application waits for the township office (受理: the clerk or
/// the director), not for the assistant who submitted it, the approver, the auditor or
/// another township's clerk; a director on file as a member's relative no longer sees it
/// (recused) while the clerk still does; once accepted it waits for the clerk's home visit
/// with its clock; after the visit it leaves the clerk's list.
async fn the_todo_list_shows_each_user_the_cases_waiting_for_their_step(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, "51180219650407321", "51180219670809322").await;
    let case = dibao_application(db, hid, d("2026-03-02")).await;
    let on = d("2026-03-03");
    let waiting = |who: &'static str| async move {
        let actor = actor_of(app, who).await;
        app.dashboard()
            .todo(&actor, on)
            .await
            .unwrap()
            .cases
            .into_iter()
            .find(|t| t.case_id == case)
    };
    let staff_todo = waiting("staff").await.expect("the clerk is to accept it");
    assert!(
        staff_todo.actions.contains(&ActionKind::Accept),
        "{staff_todo:?}"
    );
    assert!(!staff_todo.actions.contains(&ActionKind::Withdraw));
    let director_todo = waiting("director")
        .await
        .expect("the director may accept too");
    assert!(director_todo.actions.contains(&ActionKind::Accept));
    for who in ["assistant", "approver", "auditor", "staff2"] {
        assert!(
            waiting(who).await.is_none(),
            "{who} has nothing to do on it"
        );
    }
    // The director is put on file as the spouse's brother: recused, off their list only.
    let director = actor_of(app, "director").await;
    app.relatives()
        .declare(
            &director,
            &minzheng_domain::relatives::NewDeclaration {
                declarant_name: "张伟".into(),
                declarant_id_number: id("51180219750808111"),
                post: "staff".into(),
                username: "director".into(),
                division_code: "511802001".into(),
                relative_name: "李秀英".into(),
                relative_id_number: id("51180219670809322"),
                relation: "sibling".into(),
                note: String::new(),
            },
            on,
        )
        .await
        .unwrap();
    assert!(waiting("director").await.is_none(), "recused");
    assert!(waiting("staff").await.is_some());
    let staff = actor_of(app, "staff").await;
    app.cases()
        .act(&staff, case, Action::Accept, &ex(), on)
        .await
        .unwrap();
    let staff_todo = waiting("staff").await.expect("the home visit is next");
    assert_eq!(staff_todo.actions, [ActionKind::StartInvestigation]);
    assert!(staff_todo.due_on.is_some(), "the step's clock runs");
    assert!(!staff_todo.overdue);
    app.cases()
        .act(
            &staff,
            case,
            Action::StartInvestigation {
                investigators: vec!["张伟".into(), "刘芳".into()],
                authorization_attached: true,
            },
            &ActionExtras {
                findings: "家中无大件资产，收入与申报一致".into(),
                ..ex()
            },
            on,
        )
        .await
        .unwrap();
    assert!(
        waiting("staff").await.is_none(),
        "done: off the clerk's list"
    );
    assert!(
        waiting("director").await.is_none(),
        "the opinion waits, not for the recused"
    );
}

/// 金额合理性: an opinion's amount that differs from the calculator's needs a reason (refused
/// without one, nothing written); one more than twice the calculator's is never proposed;
/// the county approves such an amount only with a reason and its explicit confirmation; the
/// case keeps the reason and the calculator's amount, and its history says both.
async fn a_hand_amount_needs_a_reason_and_far_above_the_calculators_the_county(db: &TestDb) {
    let app = seeded(db).await;
    let (hid, _, _) = household(app, HEAD_ID, "51180219720607302").await;
    let on = d("2026-03-02");
    let id = dibao_application(db, hid, on).await;
    let staff = actor_of(app, "staff").await;
    let director = actor_of(app, "director").await;
    let approver = actor_of(app, "approver").await;
    app.cases()
        .act(&staff, id, Action::Accept, &ex(), on)
        .await
        .unwrap();
    app.cases()
        .act(
            &staff,
            id,
            Action::StartInvestigation {
                investigators: vec!["张伟".into(), "刘芳".into()],
                authorization_attached: true,
            },
            &ex(),
            on,
        )
        .await
        .unwrap();
    let calc = app.cases().compute(&system(), id, on).await.unwrap().amount;
    assert!(calc.0 > 0);
    let opine = |amount: Fen, reason: &str| {
        let reason = reason.to_string();
        let director = director.clone();
        async move {
            app.cases()
                .act(
                    &director,
                    id,
                    Action::RecordOpinion {
                        proposed_amount: Some(amount),
                    },
                    &ActionExtras {
                        amount_reason: reason,
                        ..ex()
                    },
                    on,
                )
                .await
        }
    };
    // 100 yuan less than the calculator's, without a reason: refused, nothing written.
    let less = Fen(calc.0 - 10_000);
    match opine(less, "  ").await {
        Err(minzheng_app::Error::Validation { fields, .. }) => {
            assert!(
                fields["proposed_amount"].contains("请填写理由"),
                "{fields:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(state(db, id).await, CaseState::Investigating);
    // Three times the calculator's: refused even with a reason.
    match opine(Fen(calc.0 * 3), "家庭困难").await {
        Err(minzheng_app::Error::Validation { fields, .. }) => {
            assert!(fields["proposed_amount"].contains("不能提出"), "{fields:?}")
        }
        other => panic!("{other:?}"),
    }
    let c = app.cases().case(&system(), id).await.unwrap();
    assert_eq!((c.proposed_fen, c.amount_calc_fen), (None, None));
    // With its reason the lower amount is proposed, and the case says so.
    opine(less, "子女每月给付赡养费100元").await.unwrap();
    let c = app.cases().case(&system(), id).await.unwrap();
    assert_eq!(c.hand_amount(), Some((less, calc)));
    assert_eq!(c.amount_reason, "子女每月给付赡养费100元");
    // The notice, then the county: far above needs the reason and the tick.
    app.cases()
        .act(&staff, id, Action::Publish, &ex(), on)
        .await
        .unwrap();
    let day = d("2026-03-10");
    app.cases()
        .act(&staff, id, Action::CloseNotice, &ex(), day)
        .await
        .unwrap();
    let far = Fen(calc.0 * 3);
    let approve = |reason: &str, confirmed: bool| {
        let reason = reason.to_string();
        let approver = approver.clone();
        async move {
            app.cases()
                .act(
                    &approver,
                    id,
                    Action::Approve { amount: far },
                    &ActionExtras {
                        amount_reason: reason,
                        amount_confirmed: confirmed,
                        ..ex()
                    },
                    day,
                )
                .await
        }
    };
    for (reason, confirmed, says) in [("", true, "请填写理由"), ("重病住院", false, "请勾选")]
    {
        match approve(reason, confirmed).await {
            Err(minzheng_app::Error::Validation { fields, .. }) => {
                assert!(fields["amount"].contains(says), "{fields:?}")
            }
            other => panic!("{other:?}"),
        }
    }
    let c = app.cases().case(&system(), id).await.unwrap();
    assert_eq!((c.approved_fen, c.proposed_fen), (None, Some(less)));
    approve("重病住院，另有大额医疗支出", true).await.unwrap();
    let c = app.cases().case(&system(), id).await.unwrap();
    assert_eq!(c.approved_fen, Some(far));
    assert_eq!(c.hand_amount(), Some((far, calc)));
    assert_eq!(c.amount_reason, "重病住院，另有大额医疗支出");
    let events = app.cases().get(&system(), id, day).await.unwrap().events;
    let approved = events
        .iter()
        .find(|e| e.action == minzheng_domain::cases::EventKind::Approve)
        .unwrap();
    assert_eq!(approved.data["calculated"], serde_json::json!(calc.0));
    assert_eq!(
        approved.data["amount_reason"],
        serde_json::json!("重病住院，另有大额医疗支出")
    );
}
