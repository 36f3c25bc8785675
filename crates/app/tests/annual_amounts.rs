//! An annual amount paid monthly (优抚) pays the year's exact total: the enrolment keeps
//! `floor(年标准 ÷ 12)` and the year's remainder, and December's regular line adds the
//! remainder. A grade-1 因战 disabled serviceman (116,270 元 a year) confirmed in December
//! and paid from January is paid 11,627,000 fen over the twelve signed-off months; a 低保
//! enrolment pays the same amount in December as in every other month. Every case runs on
//! SQLite, and on PostgreSQL when `MINZHENG_TEST_POSTGRES_URL` is set.

use chrono::NaiveDate;
use minzheng_app::testing::payroll::{self as fixtures, FixtureEnrolment};
use minzheng_app::testing::TestDb;
use minzheng_app::App;
use minzheng_domain::case_calc::CaseDetails;
use minzheng_domain::cases::{Enrolment, NewCase};
use minzheng_domain::payroll::{
    BatchStatus, GenerateRequest, LineFilter, LineKind, NewBackPay, PayrollLine,
};
use minzheng_domain::programs::{CareCategory, DisabilityCause};
use minzheng_domain::registry::NewHousehold;
use minzheng_domain::{Actor, Fen, IdNumber, Program, YearMonth};

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
    a_year_of_preferential_care_pays_the_annual_standard_exactly,
    back_pay_for_december_carries_the_year_end_remainder,
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

/// Registers 周建军's household and takes his 优抚 application (grade 1, 因战) to the
/// enrolment, confirmed with the calculator's amount on `decide`.
async fn enrol_grade_one_war(app: &App, apply: &str, decide: &str) -> Enrolment {
    let sys = sys();
    let h = app
        .registry()
        .create(
            &sys,
            &NewHousehold {
                head_health: "残疾".into(),
                head_work_capacity: "丧失劳动能力".into(),
                village_code: VILLAGE.into(),
                registration_type: "农村".into(),
                head_name: "周建军".into(),
                head_id_number: id("51180219550301051"),
                phone: "13912345678".into(),
                address: "东城街道幸福巷12号".into(),
                bank_name: "农业银行".into(),
                account_number: "6217996600087654321".into(),
                account_holder: "周建军".into(),
            },
        )
        .await
        .unwrap();
    let person = h.members.iter().find(|m| m.name == "周建军").unwrap().id;
    let case_id = app
        .cases()
        .create(
            &sys,
            &NewCase {
                household_id: h.household.id,
                person_id: Some(person),
                program: "preferential_care".into(),
                reason: "一级残疾军人（因战）".into(),
                details: CaseDetails {
                    care_category: Some(CareCategory::DisabledServiceman),
                    care_grade: Some(1),
                    disability_cause: Some(DisabilityCause::War),
                    ..Default::default()
                },
                submit: true,
            },
            d(apply),
        )
        .await
        .unwrap();
    minzheng_app::cases::testing::drive_to_enrolment(app, case_id, d(apply), d(decide)).await;
    let detail = app.cases().get(&sys, case_id, d(decide)).await.unwrap();
    detail.enrolment.expect("enrolled")
}

/// Generates `m` for `program` in 东城街道 and returns the batch and the line of `enrolment`.
async fn generate(app: &App, m: &str, program: Program, enrolment: i64) -> (i64, PayrollLine) {
    let out = app
        .payroll()
        .generate(
            &sys(),
            &GenerateRequest {
                month: month(m),
                program: Some(program),
                within: Some("511802001".into()),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("generate {m}: {e:?}"));
    let batch = out
        .created
        .iter()
        .chain(&out.existing)
        .find(|b| b.township_code == "511802001")
        .unwrap_or_else(|| panic!("a batch for {m}"));
    let lines = app
        .payroll()
        .lines(
            &sys(),
            batch.id,
            &LineFilter {
                limit: Some(5000),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .0;
    let line = lines
        .into_iter()
        .find(|l| l.enrolment_id == enrolment && l.kind == LineKind::Regular)
        .unwrap_or_else(|| panic!("a line for the enrolment in {m}"));
    (batch.id, line)
}

async fn a_year_of_preferential_care_pays_the_annual_standard_exactly(db: &TestDb) {
    let app = &db.app;
    app.demo().ensure().await.expect("seed demo");
    let director = fixtures::actor(app, "director").await.unwrap();
    // Confirmed on 10 December 2025, paid from January 2026. December's calculator figure
    // (9,689.24 元, with the year's remainder) is not what every month pays.
    let e = enrol_grade_one_war(app, "2025-12-01", "2025-12-10").await;
    let eid = e.id;
    assert_eq!(e.start_month, "2026-01");
    assert_eq!(e.monthly_fen, Fen(968_916), "⌊11,627,000 ÷ 12⌋");
    assert_eq!(e.year_end_extra_fen, Fen(8), "11,627,000 − 12 × 968,916");
    // A 低保 household of the same township, 456.78 元 a month.
    let dibao = fixtures::enrol(
        app,
        &FixtureEnrolment::new(
            Program::RuralDibao,
            VILLAGE,
            "何桂兰",
            &id("51180219700505052"),
            45_678,
            "2026-01",
        ),
    )
    .await
    .unwrap();
    let mut total = 0;
    for mo in 1..=12 {
        let m = format!("2026-{mo:02}");
        let (batch, line) = generate(app, &m, Program::PreferentialCare, eid).await;
        let want = if mo == 12 { 968_924 } else { 968_916 };
        assert_eq!(line.amount, Fen(want), "{m}");
        let signed = app
            .payroll()
            .sign_off(&director, batch, None)
            .await
            .unwrap();
        assert_eq!(signed.status, BatchStatus::SignedOff);
        total += line.amount.0;
    }
    assert_eq!(
        total, 11_627_000,
        "the year pays the annual standard exactly"
    );
    // December's review explains the higher line by the year's remainder.
    let (dec_batch, _) = generate(app, "2026-12", Program::PreferentialCare, eid).await;
    let diff = app.payroll().diff(&sys(), dec_batch).await.unwrap();
    let entry = diff
        .entries
        .iter()
        .find(|x| x.enrolment_id == eid)
        .expect("December differs from November");
    assert_eq!(entry.previous, Some(Fen(968_916)));
    assert_eq!(entry.current, Some(Fen(968_924)));
    assert!(
        entry.reason.contains("12月补足全年差额"),
        "{}",
        entry.reason
    );
    // January pays the monthly share again.
    let (_, jan) = generate(app, "2027-01", Program::PreferentialCare, eid).await;
    assert_eq!(jan.amount, Fen(968_916));
    // 低保 pays its monthly amount in November and December alike.
    let (_, nov) = generate(app, "2026-11", Program::RuralDibao, dibao).await;
    let (_, dec) = generate(app, "2026-12", Program::RuralDibao, dibao).await;
    assert_eq!((nov.amount, dec.amount), (Fen(45_678), Fen(45_678)));
}

async fn back_pay_for_december_carries_the_year_end_remainder(db: &TestDb) {
    let app = &db.app;
    app.demo().ensure().await.expect("seed demo");
    let staff = fixtures::actor(app, "staff").await.unwrap();
    let eid = enrol_grade_one_war(app, "2025-12-01", "2025-12-10")
        .await
        .id;
    let ask = |period: &str| NewBackPay {
        enrolment_id: eid,
        period: period.into(),
        amount: String::new(),
        reason: "审批滞后".into(),
        case_id: None,
    };
    let nov = app
        .payroll()
        .request_back_pay(&staff, &ask("2026-11"))
        .await
        .unwrap();
    assert_eq!(nov.amount, Fen(968_916));
    let dec = app
        .payroll()
        .request_back_pay(&staff, &ask("2026-12"))
        .await
        .unwrap();
    assert_eq!(dec.amount, Fen(968_924));
}
