//! Amounts pinned by hand: for every program a concrete household is registered through
//! the registry's use cases (members with birth dates, disability grades, health, members
//! left out of the household, monthly and annual incomes), its case is taken from the
//! application to the enrolment, and the 测算, the confirmed amount, the enrolment's amount
//! and the first month's payroll line are each compared with a figure worked out by hand
//! from the demo parameters (the arithmetic is in the comments). The households are built
//! so that a mistake in gathering the inputs — counting every member, reading an annual
//! income as monthly, an age one day off, the wrong disability grade, the wrong member —
//! changes the amount. Every case runs on SQLite, and on PostgreSQL when
//! `MINZHENG_TEST_POSTGRES_URL` is set.
//!
//! The demo parameters in force in 2026 (`minzheng_app::demo::demo_yaan`): 低保 standard
//! 810 元 (urban) and 630 元 (rural) per person and month, 按户补差, at least 20 % of the
//! standard per counted person, rounded up to the yuan; 分类施保 as shares of the standard
//! (60+ 10 %, 70+ 20 %, minors 10 %, severe disability (grade 1–2) 20 %, serious illness
//! 20 %; each person only their highest); 单人保 60 % of the standard; 特困 130 % of the
//! standard plus a share of the 2,200 元 minimum wage by self-care level (partly dependent
//! 1/6); 临时救助 capped at 6 (急难型) standards; 医疗救助 70 % with an annual cap of 80,000
//! 元; 教育救助 1,250 元 for junior secondary school; 受灾 过渡期生活救助 900 元 per person;
//! 精简退职 40 % of the original wage; 高龄津贴 60 / 120 / 600 元 from the month after the
//! birthday month; 优抚 from the annual table.

use chrono::NaiveDate;
use minzheng_app::testing::TestDb;
use minzheng_app::App;
use minzheng_domain::calculators::SelfCareAssessment;
use minzheng_domain::case_calc::CaseDetails;
use minzheng_domain::cases::{EnrolmentFilter, NewCase};
use minzheng_domain::payroll::{GenerateRequest, LineFilter, LineKind};
use minzheng_domain::programs::{
    CareCategory, DisabilityCause, LaidOffRegime, ReliefStage, SchoolStage, SupportMode,
    TemporaryKind,
};
use minzheng_domain::registry::{HouseholdDetail, IncomeInput, NewHousehold, PersonInput};
use minzheng_domain::{Actor, Fen, IdNumber, YearMonth};

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
    rural_dibao_counts_the_members_living_together_an_annual_income_and_the_supplements,
    urban_dibao_leaves_out_a_member_in_prison_and_adds_illness_and_minor_supplements,
    single_person_dibao_pays_a_severely_disabled_member_of_an_edge_household,
    tekun_pays_the_urban_basic_standard_and_partial_care,
    temporary_assistance_is_capped_at_six_rural_standards,
    medical_assistance_pays_seventy_percent_within_what_is_left_of_the_year,
    education_assistance_pays_the_junior_secondary_grant,
    disaster_relief_pays_each_counted_member,
    laid_off_worker_relief_pays_forty_percent_of_the_original_wage,
    old_age_allowance_changes_band_the_month_after_the_ninetieth_birthday,
    preferential_care_pays_a_twelfth_of_the_annual_standard_and_the_rest_in_december,
);

/// The application and the steps up to the notice.
const APPLY: &str = "2026-03-02";
/// The notice closes, the county confirms and the case is enrolled.
const DECIDE: &str = "2026-03-10";
/// Payment starts the month after the decision.
const FIRST_MONTH: &str = "2026-04";

const VILLAGE: &str = "511802001001";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// An ID number from its first 17 characters (region 511802, birth date, sequence).
fn id(first17: &str) -> String {
    let c = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    format!("{first17}{c}")
}

fn system() -> Actor {
    Actor::system("t")
}

/// A member as the registry form takes it: counted, no disability, healthy.
fn member(name: &str, first17: &str, relation: &str) -> PersonInput {
    PersonInput {
        health: "健康".into(),
        work_capacity: "有劳动能力".into(),
        name: name.into(),
        id_number: id(first17),
        relation: relation.into(),
        ..Default::default()
    }
}

/// A member who does not live with the household (不计入共同生活家庭成员).
fn left_out(name: &str, first17: &str, relation: &str, reason: &str) -> PersonInput {
    PersonInput {
        counted: "否".into(),
        exclusion_reason: reason.into(),
        ..member(name, first17, relation)
    }
}

fn disabled(p: PersonInput, kind: &str, grade: &str) -> PersonInput {
    PersonInput {
        disability_type: kind.into(),
        disability_grade: grade.into(),
        health: "残疾".into(),
        ..p
    }
}

/// An income as the registry form takes it: kind, amount in yuan, 每月 or 每年.
struct Income(&'static str, &'static str, &'static str);

/// Registers a household in 东城街道 with its head, the other members and the incomes.
async fn household(
    app: &App,
    registration_type: &str,
    head: (&str, &str),
    members: Vec<PersonInput>,
    incomes: &[Income],
) -> HouseholdDetail {
    let sys = system();
    let mut h = app
        .registry()
        .create(
            &sys,
            &NewHousehold {
                head_health: "健康".into(),
                head_work_capacity: "有劳动能力".into(),
                village_code: VILLAGE.into(),
                registration_type: registration_type.into(),
                head_name: head.0.into(),
                head_id_number: id(head.1),
                phone: "13912345678".into(),
                address: "东城街道幸福巷88号".into(),
                bank_name: "农业银行".into(),
                account_number: "6217996600012345678".into(),
                account_holder: head.0.into(),
            },
        )
        .await
        .unwrap();
    let hid = h.household.id;
    for m in members {
        h = app
            .registry()
            .add_member(&sys, hid, &m)
            .await
            .unwrap_or_else(|e| panic!("add {}: {e:?}", m.name));
    }
    for Income(kind, amount, period) in incomes {
        h = app
            .registry()
            .add_income(
                &sys,
                hid,
                &IncomeInput {
                    kind: (*kind).into(),
                    amount: (*amount).into(),
                    period: (*period).into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    h
}

fn person_id(h: &HouseholdDetail, name: &str) -> i64 {
    h.members
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{name} is a member"))
        .id
}

/// What the system worked out for one case, at every stage.
#[derive(Debug)]
struct Outcome {
    case_id: i64,
    /// 测算 on the decision date.
    computed: Fen,
    /// 审核确认 with no amount typed: the calculator's amount on the decision date.
    approved: Fen,
    /// The enrolment's amount (per month, or the one-off amount).
    enrolled: Fen,
    /// The enrolment's counted household size.
    household_size: i64,
    /// The first month's regular payroll line.
    paid: Fen,
}

impl Outcome {
    /// Every stage carries the hand-computed amount.
    fn assert_amount(&self, fen: i64) {
        let want = Fen(fen);
        assert_eq!(self.computed, want, "测算 {self:?}");
        assert_eq!(self.approved, want, "审核确认 {self:?}");
        assert_eq!(self.enrolled, want, "保障金额 {self:?}");
        assert_eq!(self.paid, want, "发放 {self:?}");
    }
}

/// Applies for `program` for the household (or its member `person`), takes the case
/// through every step its procedure has — with the calculator's amount at the opinion and
/// at the confirmation — enrols it and generates the first month's payroll.
async fn run(
    db: &TestDb,
    household_id: i64,
    person: Option<i64>,
    program: &str,
    details: CaseDetails,
) -> Outcome {
    let app = &db.app;
    let sys = system();
    let case_id = app
        .cases()
        .create(
            &sys,
            &NewCase {
                household_id,
                person_id: person,
                program: program.into(),
                reason: "家庭生活困难".into(),
                details,
                submit: true,
            },
            d(APPLY),
        )
        .await
        .unwrap_or_else(|e| panic!("apply for {program}: {e:?}"));
    minzheng_app::cases::testing::drive_to_enrolment(app, case_id, d(APPLY), d(DECIDE)).await;
    let computed = app
        .cases()
        .compute(&sys, case_id, d(DECIDE))
        .await
        .unwrap()
        .amount;
    let detail = app.cases().get(&sys, case_id, d(DECIDE)).await.unwrap();
    let approved = detail.case.approved_fen.expect("confirmed with an amount");
    let enrolment = detail.enrolment.expect("enrolled");
    assert_eq!(enrolment.start_month, FIRST_MONTH);
    // The enrolment pays the case's subject: the member the case is for, or the head.
    assert_eq!(
        (
            enrolment.beneficiary_name.as_str(),
            enrolment.beneficiary_id_number.as_str()
        ),
        (
            detail.case.subject_name.as_str(),
            detail.case.subject_id_number.as_str()
        )
    );
    assert!(!enrolment.beneficiary_name.is_empty());
    let (all, total) = app
        .cases()
        .enrolments(&sys, &EnrolmentFilter::default())
        .await
        .unwrap();
    assert_eq!(total, 1, "{all:?}");
    assert_eq!(all[0].monthly_fen, enrolment.monthly_fen);
    let out = app
        .payroll()
        .generate(
            &sys,
            &GenerateRequest {
                month: YearMonth::parse(FIRST_MONTH).unwrap(),
                program: None,
                within: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(out.created.len(), 1, "one batch for the one enrolment");
    let lines = app
        .payroll()
        .lines(&sys, out.created[0].id, &LineFilter::default())
        .await
        .unwrap()
        .0;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].kind, LineKind::Regular);
    assert_eq!(lines[0].enrolment_id, enrolment.id);
    assert_eq!(
        lines[0].beneficiary_id_number,
        enrolment.beneficiary_id_number
    );
    assert_eq!(out.planned, lines[0].amount);
    Outcome {
        case_id,
        computed,
        approved,
        enrolled: enrolment.monthly_fen,
        household_size: enrolment.household_size,
        paid: lines[0].amount,
    }
}

async fn seeded(db: &TestDb) -> &App {
    db.app.demo().ensure().await.expect("seed demo");
    &db.app
}

/// 农村低保 for a household of five of whom four live together; on 2026-03-10:
///
/// | member | born | counted | 分类施保 |
/// |---|---|---|---|
/// | 王德明, head | 1976-07-15 (49) | yes | — |
/// | 李春梅, spouse | 1978-02-02 (48), 肢体残疾 2级 | yes | severe disability 20 % |
/// | 王小雨, daughter | 2007-09-01 (18), 听力残疾 3级 | yes | — (grade 3 is not severe; not a minor) |
/// | 张桂兰, mother | 1956-03-10 (70 that day) | yes | aged 70+ 20 % |
/// | 王小军, son | 2004-01-01 (22), 现役义务兵 | **no** | — |
///
/// Incomes: wages 1,500 元 a month, property 3,650 元 a year.
async fn rural_dibao_counts_the_members_living_together_an_annual_income_and_the_supplements(
    db: &TestDb,
) {
    let app = seeded(db).await;
    let h = household(
        app,
        "农村",
        ("王德明", "51180219760715301"),
        vec![
            disabled(
                member("李春梅", "51180219780202302", "配偶"),
                "肢体残疾",
                "2",
            ),
            disabled(
                member("王小雨", "51180220070901322", "女儿"),
                "听力残疾",
                "3",
            ),
            member("张桂兰", "51180219560310342", "母亲"),
            left_out("王小军", "51180220040101311", "儿子", "现役义务兵"),
        ],
        &[
            Income("工资性收入", "1500", "每月"),
            Income("财产净收入", "3650", "每年"),
        ],
    )
    .await;
    let out = run(
        db,
        h.household.id,
        None,
        "rural_dibao",
        CaseDetails::default(),
    )
    .await;
    // Annual income 1,500 × 12 + 3,650 = 21,650 元; per capita 21,650 ÷ 4 ÷ 12 = 451.04 元,
    // below 630. Top-up 630 × 4 − 21,650 ÷ 12 (1,804.1666…) = 715.8333… 元, above the
    // floor 630 × 20 % × 4 = 504. Supplements 630 × 20 % (spouse) + 630 × 20 % (mother)
    // = 252. Total 967.8333… 元, rounded up to 968 元 = 96,800 fen.
    out.assert_amount(96_800);
    assert_eq!(out.household_size, 4, "the conscript son is not counted");
    // The explanation the case page shows names the counted size and the annual income.
    let c = app
        .cases()
        .compute(&system(), out.case_id, d(DECIDE))
        .await
        .unwrap();
    let shown = |label: &str| {
        c.explanation
            .inputs
            .iter()
            .chain(&c.explanation.steps)
            .find(|l| l.label == label)
            .map(|l| l.value.clone())
    };
    assert_eq!(shown("计入人数").as_deref(), Some("4人"), "{c:?}");
    assert_eq!(shown("人均月收入").as_deref(), Some("451.04元"), "{c:?}");
}

/// 城市低保 for a household of four of whom three live together; on 2026-03-10:
///
/// | member | born | counted | 分类施保 |
/// |---|---|---|---|
/// | 陈志强, head | 1966-03-11 (59: 60 the next day) | yes | — |
/// | 林晓燕, spouse | 1970-06-06 (55), 重特大疾病 | yes | serious illness 20 % |
/// | 陈子轩, son | 2012-09-01 (13) | yes | minor 10 % |
/// | 陈国华, father | 1940-05-05 (85), 服刑人员 | **no** | (would be 70+) |
///
/// Incomes: wages 900 元 a month, other 1,200 元 a year.
async fn urban_dibao_leaves_out_a_member_in_prison_and_adds_illness_and_minor_supplements(
    db: &TestDb,
) {
    let app = seeded(db).await;
    let h = household(
        app,
        "城镇",
        ("陈志强", "51180219660311313"),
        vec![
            PersonInput {
                health: "重特大疾病".into(),
                ..member("林晓燕", "51180219700606324", "配偶")
            },
            member("陈子轩", "51180220120901315", "儿子"),
            left_out("陈国华", "51180219400505317", "父亲", "服刑人员"),
        ],
        &[
            Income("工资性收入", "900", "每月"),
            Income("其他收入", "1200", "每年"),
        ],
    )
    .await;
    let out = run(
        db,
        h.household.id,
        None,
        "urban_dibao",
        CaseDetails::default(),
    )
    .await;
    // Annual income 900 × 12 + 1,200 = 12,000 元, 1,000 元 a month; per capita
    // 12,000 ÷ 3 ÷ 12 = 333.33, below 810. Top-up 810 × 3 − 1,000 = 1,430 元 (floor
    // 810 × 20 % × 3 = 486). Supplements 810 × 20 % (spouse, ill) + 810 × 10 % (son, 13)
    // = 162 + 81 = 243; the head is 59, no 60+ supplement. Total 1,673 元 = 167,300 fen.
    out.assert_amount(167_300);
    assert_eq!(out.household_size, 3, "the father in prison is not counted");
}

/// 单人保 for 孙丽 (智力残疾 2级, severe) of a 低保边缘 household: four members, three
/// living together (a daughter is a cleric away from home); wages 2,000 元 a month and
/// business 4,800 元 a year.
async fn single_person_dibao_pays_a_severely_disabled_member_of_an_edge_household(db: &TestDb) {
    let app = seeded(db).await;
    let h = household(
        app,
        "农村",
        ("赵永福", "51180219700120331"),
        vec![
            disabled(member("孙丽", "51180219720404342", "配偶"), "智力残疾", "2"),
            member("赵磊", "51180219980808351", "儿子"),
            left_out("赵芳", "51180220010202362", "女儿", "宗教教职人员"),
        ],
        &[
            Income("工资性收入", "2000", "每月"),
            Income("经营净收入", "4800", "每年"),
        ],
    )
    .await;
    let subject = person_id(&h, "孙丽");
    let out = run(
        db,
        h.household.id,
        Some(subject),
        "single_person_dibao",
        CaseDetails::default(),
    )
    .await;
    // Per capita (2,000 × 12 + 4,800) ÷ 3 ÷ 12 = 800 元: at least the rural standard 630,
    // below 150 % of it (945), so the household is 低保边缘 (counting the daughter it would
    // be 600, below the standard; reading the 4,800 as monthly, 2,266.67, above the edge).
    // 孙丽's grade 2 is severe. 630 × 60 % = 378 元 = 37,800 fen.
    out.assert_amount(37_800);
}

/// 特困 for 刘淑珍 (urban, living alone, 分散供养), who manages eating, dressing and getting
/// out of bed but not toileting, walking indoors or bathing.
async fn tekun_pays_the_urban_basic_standard_and_partial_care(db: &TestDb) {
    let app = seeded(db).await;
    let h = household(app, "城镇", ("刘淑珍", "51180219501010346"), vec![], &[]).await;
    let subject = person_id(&h, "刘淑珍");
    let out = run(
        db,
        h.household.id,
        Some(subject),
        "tekun",
        CaseDetails {
            assessment: Some(SelfCareAssessment {
                eating: true,
                dressing: true,
                bed_transfer: true,
                toileting: false,
                indoor_walking: false,
                bathing: false,
            }),
            support_mode: Some(SupportMode::Dispersed),
            ..Default::default()
        },
    )
    .await;
    // Three items not met: partly dependent (部分丧失). Basic 810 × 130 % = 1,053 元 (the
    // urban standard: the household is 城镇); care 2,200 × 1/6 = 366.6666… 元. Total
    // 1,419.6666… 元, rounded to the fen: 1,419.67 元 = 141,967 fen.
    out.assert_amount(141_967);
}

/// 临时救助 (急难型, a house fire) for a rural household of two; the township assessed
/// 5,000 元.
async fn temporary_assistance_is_capped_at_six_rural_standards(db: &TestDb) {
    let app = seeded(db).await;
    let h = household(
        app,
        "农村",
        ("周建华", "51180219681212371"),
        vec![member("吴秀兰", "51180219700303382", "配偶")],
        &[Income("工资性收入", "800", "每月")],
    )
    .await;
    let out = run(
        db,
        h.household.id,
        None,
        "temporary_assistance",
        CaseDetails {
            temporary_kind: Some(TemporaryKind::Emergency),
            assessed_fen: Some(500_000),
            cause: Some("房屋失火".into()),
            ..Default::default()
        },
    )
    .await;
    // Cap 630 (rural standard) × 600 % = 3,780 元; the assessed 5,000 元 is above it, so
    // 3,780 元 = 378,000 fen (an urban household's cap would be 4,860 元).
    out.assert_amount(378_000);
}

/// 医疗救助 for 郑国庆 (rural), whose eligible own cost is 12,345.67 元 after 72,000 元 of
/// assistance earlier this year.
async fn medical_assistance_pays_seventy_percent_within_what_is_left_of_the_year(db: &TestDb) {
    let app = seeded(db).await;
    let h = household(
        app,
        "农村",
        ("郑国庆", "51180219620909391"),
        vec![member("钱玉梅", "51180219640101402", "配偶")],
        &[],
    )
    .await;
    let subject = person_id(&h, "郑国庆");
    let out = run(
        db,
        h.household.id,
        Some(subject),
        "medical_assistance",
        CaseDetails {
            eligible_cost_fen: Some(1_234_567),
            paid_this_year_fen: Some(7_200_000),
            ..Default::default()
        },
    )
    .await;
    // (12,345.67 − 0 deductible) × 70 % = 8,641.969 元, rounded to the fen 8,641.97 元; but
    // only 80,000 (the 2026 cap) − 72,000 = 8,000 元 is left this year: 800,000 fen.
    out.assert_amount(800_000);
    let c = app
        .cases()
        .compute(&system(), out.case_id, d(DECIDE))
        .await
        .unwrap();
    let step = |label: &str| {
        c.explanation
            .steps
            .iter()
            .find(|l| l.label == label)
            .map(|l| l.value.clone())
    };
    assert_eq!(step("按比例计算").as_deref(), Some("8,641.97元"), "{c:?}");
    assert_eq!(step("年度剩余额度").as_deref(), Some("8,000.00元"), "{c:?}");
}

/// 教育救助 for 何小龙, 13, in junior secondary school.
async fn education_assistance_pays_the_junior_secondary_grant(db: &TestDb) {
    let app = seeded(db).await;
    let h = household(
        app,
        "农村",
        ("何建军", "51180219800220411"),
        vec![member("何小龙", "51180220120505413", "儿子")],
        &[Income("工资性收入", "1000", "每月")],
    )
    .await;
    let subject = person_id(&h, "何小龙");
    let out = run(
        db,
        h.household.id,
        Some(subject),
        "education_assistance",
        CaseDetails {
            school_stage: Some(SchoolStage::JuniorSecondary),
            ..Default::default()
        },
    )
    .await;
    // The junior secondary grant: 1,250 元 = 125,000 fen.
    out.assert_amount(125_000);
}

/// 受灾人员救助 (过渡期生活救助) after a flash flood for a household of four, of whom one is
/// in prison and not counted.
async fn disaster_relief_pays_each_counted_member(db: &TestDb) {
    let app = seeded(db).await;
    let h = household(
        app,
        "农村",
        ("冯大山", "51180219750505431"),
        vec![
            member("蒋红英", "51180219770707442", "配偶"),
            member("冯小燕", "51180220100101442", "女儿"),
            left_out("冯小虎", "51180220000202451", "儿子", "服刑人员"),
        ],
        &[],
    )
    .await;
    let out = run(
        db,
        h.household.id,
        None,
        "disaster_relief",
        CaseDetails {
            relief_stage: Some(ReliefStage::Transitional),
            disaster_name: Some("2026年2月山洪".into()),
            ..Default::default()
        },
    )
    .await;
    // 900 元 per affected person × 3 counted members = 2,700 元 = 270,000 fen.
    out.assert_amount(270_000);
    assert_eq!(out.household_size, 3);
}

/// 精简退职老职工救济 for 韩德胜, whose original standard wage was 1,234.56 元.
async fn laid_off_worker_relief_pays_forty_percent_of_the_original_wage(db: &TestDb) {
    let app = seeded(db).await;
    let h = household(app, "城镇", ("韩德胜", "51180219380606471"), vec![], &[]).await;
    let subject = person_id(&h, "韩德胜");
    let out = run(
        db,
        h.household.id,
        Some(subject),
        "laid_off_worker_relief",
        CaseDetails {
            laid_off_regime: Some(LaidOffRegime::FortyPercent),
            original_wage_fen: Some(123_456),
            ..Default::default()
        },
    )
    .await;
    // 1,234.56 × 40 % = 493.824 元, rounded to the fen 493.82 元 = 49,382 fen.
    out.assert_amount(49_382);
}

/// 高龄津贴 for 杨光荣, born 1936-03-15, who lives with his son (the head, 60). He turns
/// 90 in March 2026; the band applies from the month after the birthday month.
async fn old_age_allowance_changes_band_the_month_after_the_ninetieth_birthday(db: &TestDb) {
    let app = seeded(db).await;
    let h = household(
        app,
        "农村",
        ("杨树林", "51180219650606491"),
        vec![member("杨光荣", "51180219360315491", "父亲")],
        &[],
    )
    .await;
    let subject = person_id(&h, "杨光荣");
    let out = run(
        db,
        h.household.id,
        Some(subject),
        "old_age_allowance",
        CaseDetails::default(),
    )
    .await;
    // Decided in March 2026: his age on the last day of February is 89, band 80–89:
    // 60 元 = 6,000 fen (the enrolment keeps it; a re-grade is its own proposal).
    out.assert_amount(6_000);
    // For April: 90 on 31 March, band 90–99: 120 元 = 12,000 fen.
    let april = app
        .cases()
        .compute(&system(), out.case_id, d("2026-04-01"))
        .await
        .unwrap();
    assert_eq!(april.amount, Fen(12_000));
}

/// 优抚 for 吴卫国, a disabled serviceman of grade 6, disabled by illness (因病).
async fn preferential_care_pays_a_twelfth_of_the_annual_standard_and_the_rest_in_december(
    db: &TestDb,
) {
    let app = seeded(db).await;
    let h = household(
        app,
        "农村",
        ("吴卫国", "51180219600801511"),
        vec![member("郭秀芝", "51180219620303522", "配偶")],
        &[],
    )
    .await;
    let subject = person_id(&h, "吴卫国");
    let out = run(
        db,
        h.household.id,
        Some(subject),
        "preferential_care",
        CaseDetails {
            care_category: Some(CareCategory::DisabledServiceman),
            care_grade: Some(6),
            disability_cause: Some(DisabilityCause::Illness),
            ..Default::default()
        },
    )
    .await;
    // The annual standard for grade 6 因病 is 38,000 元 = 3,800,000 fen; January to November
    // pay ⌊3,800,000 ÷ 12⌋ = 316,666 fen.
    out.assert_amount(316_666);
    // December pays the rest: 3,800,000 − 11 × 316,666 = 316,674 fen.
    let december = app
        .cases()
        .compute(&system(), out.case_id, d("2026-12-01"))
        .await
        .unwrap();
    assert_eq!(december.amount, Fen(316_674));
    // The enrolment keeps the remainder for December's line: 8 fen.
    let enrolment = app
        .cases()
        .get(&system(), out.case_id, d(DECIDE))
        .await
        .unwrap()
        .enrolment
        .unwrap();
    assert_eq!(
        (enrolment.monthly_fen, enrolment.year_end_extra_fen),
        (Fen(316_666), Fen(8))
    );
    assert_eq!(
        enrolment.amount_for(YearMonth::parse("2026-12").unwrap()),
        Fen(316_674)
    );
}
