//! Shared helpers of the HTTP test files: a cookie-keeping client, sign-in through the API,
//! the CSRF token of a page's form, and the shape of our JSON errors.
#![allow(dead_code)] // each test file uses a different subset

use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_web::testing::TestApp;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in through the API; returns the client (holding the cookie) and the CSRF token.
pub async fn api_login(app: &TestApp, user: &str) -> (Client, String) {
    let c = client();
    let r = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": user, "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "login {user}");
    let body: Value = r.json().await.unwrap();
    (c, body["csrf_token"].as_str().unwrap().to_string())
}

pub fn csrf_in(html: &str) -> String {
    let i = html
        .find("name=\"_csrf\" value=\"")
        .expect("form has a CSRF field")
        + 20;
    html[i..i + 64].to_string()
}

pub fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "message is Chinese: {msg}"
    );
    assert!(body["error"]["fields"].is_object());
}

/// 西城街道, the township the 东城 accounts must not reach.
pub const XICHENG: &str = "511802002";
pub const XICHENG_VILLAGE: &str = "511802002001";
/// 河北街道: the demo's inspection and subsidy are there.
pub const HEBEI: &str = "511802003";

/// Real rows of one kind each outside 东城街道: in 西城街道 (the registry, cases, a notice,
/// enrolments, a payroll batch with its exception and back pay, a death and its recovery,
/// a finding, a staff change, an import job, its clerk's account) and 河北街道 (the demo's
/// inspection and subsidy). Built through the use cases by the system, so each is a row as
/// the township's own work would leave it.
#[derive(Debug, Clone)]
pub struct Foreign {
    pub code: &'static str,
    pub household: i64,
    pub person: i64,
    pub income: i64,
    pub asset: i64,
    pub user: i64,
    pub job: i64,
    pub case: i64,
    pub notice: i64,
    pub enrolment: i64,
    pub batch: i64,
    pub exception: i64,
    pub back_pay: i64,
    pub funeral: i64,
    pub recovery: i64,
    pub finding: i64,
    pub staff_change: i64,
    pub inspection: i64,
    pub subsidy: i64,
    /// 西城's 高龄津贴 age-band batch (调标批次).
    pub repricing: i64,
}

impl Foreign {
    /// The row an API path with placeholders names, with its placeholders filled in; panics
    /// for a path whose `{id}` names a kind of row this fixture does not hold yet (a new
    /// endpoint then needs its row here).
    pub fn fill(&self, path: &str) -> String {
        let id = if !path.contains("{id}") {
            0
        } else if path.starts_with("/api/v1/users/") {
            self.user
        } else if path.starts_with("/api/v1/standards/staff-changes/") {
            self.staff_change
        } else if path.starts_with("/api/v1/standards/inspections/") {
            self.inspection
        } else if path.starts_with("/api/v1/standards/subsidies/") {
            self.subsidy
        } else if path.starts_with("/api/v1/cases/") {
            self.case
        } else if path.starts_with("/api/v1/enrolments/") {
            self.enrolment
        } else if path.starts_with("/api/v1/notices/") {
            self.notice
        } else if path.starts_with("/api/v1/payroll/batches/") {
            self.batch
        } else if path.starts_with("/api/v1/payroll/exceptions/") {
            self.exception
        } else if path.starts_with("/api/v1/payroll/back-pay/") {
            self.back_pay
        } else if path.starts_with("/api/v1/funerals/") {
            self.funeral
        } else if path.starts_with("/api/v1/recoveries/") {
            self.recovery
        } else if path.starts_with("/api/v1/findings/") {
            self.finding
        } else if path.starts_with("/api/v1/repricing/") {
            self.repricing
        } else {
            panic!("no foreign row for {path}")
        };
        path.replace("{code}", self.code)
            .replace("{id}", &id.to_string())
            .replace("{household_id}", &self.household.to_string())
            .replace("{person_id}", &self.person.to_string())
            .replace("{income_id}", &self.income.to_string())
            .replace("{asset_id}", &self.asset.to_string())
            .replace("{job_id}", &self.job.to_string())
    }
}

fn foreign_id(first17: &str) -> String {
    let c = minzheng_domain::IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    format!("{first17}{c}")
}

/// Builds [`Foreign`]: 西城's registered household (its head and a member), a 城市低保 case
/// publicised on its own notice board, two enrolments paid in November 2026 — 钱七's payment
/// returned failed (an exception) with back pay asked for October, 孙八 paid and then
/// recorded dead in October (a recovery) — the checks run for 西城 (钱七's review is
/// overdue: a finding), and an import job of 西城's clerk.
pub async fn foreign_rows(app: &TestApp) -> Foreign {
    use minzheng_app::testing::payroll::{self as fixtures, FixtureEnrolment};
    use minzheng_domain::case_calc::CaseDetails;
    use minzheng_domain::cases::NewCase;
    use minzheng_domain::checks::FindingFilter;
    use minzheng_domain::funerals::NewDeath;
    use minzheng_domain::jobs::JobKind;
    use minzheng_domain::payroll::{GenerateRequest, NewBackPay};
    use minzheng_domain::registry::{NewHousehold, PersonInput};
    use minzheng_domain::{Action, Actor, Program, YearMonth};

    let a = &app.db.app;
    let sys = Actor::system("t");
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let register = |name: &str, id: String, kind: &str| NewHousehold {
        head_health: "健康".into(),
        head_work_capacity: "有劳动能力".into(),
        village_code: XICHENG_VILLAGE.into(),
        registration_type: kind.into(),
        head_name: name.into(),
        head_id_number: id,
        phone: "13800000002".into(),
        address: "西城街道和平路2号".into(),
        bank_name: "四川农信".into(),
        account_number: "6228480000000000002".into(),
        account_holder: name.into(),
    };

    // The household, its member, and a case on its own notice board.
    let h = a
        .registry()
        .create(
            &sys,
            &register("周九", foreign_id("51180219660101003"), "城镇"),
        )
        .await
        .unwrap();
    let household = h.household.id;
    let h = a
        .registry()
        .add_member(
            &sys,
            household,
            &PersonInput {
                health: "健康".into(),
                work_capacity: "有劳动能力".into(),
                name: "吴十".into(),
                id_number: foreign_id("51180219680202004"),
                relation: "配偶".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let person = h.members.iter().find(|m| m.name == "吴十").unwrap().id;
    let on = day("2026-11-02");
    let case = a
        .cases()
        .create(
            &sys,
            &NewCase {
                household_id: household,
                person_id: None,
                program: "urban_dibao".into(),
                reason: "失业".into(),
                details: CaseDetails::default(),
                submit: true,
            },
            on,
        )
        .await
        .unwrap();
    for action in [
        Action::Accept,
        Action::StartInvestigation {
            investigators: vec!["陈静".into(), "周敏".into()],
            authorization_attached: true,
        },
        Action::RecordOpinion {
            proposed_amount: None,
        },
        Action::Publish,
    ] {
        a.cases()
            .act(&sys, case, action, &Default::default(), on)
            .await
            .unwrap();
    }
    let notice = a
        .cases()
        .get(&sys, case, on)
        .await
        .unwrap()
        .case
        .notice_batch_id
        .expect("published on a board");

    // Two enrolments, November paid: 钱七's payment fails, 孙八's goes through.
    let qian = foreign_id("51180219700303005");
    let sun = foreign_id("51180219400404006");
    a.registry()
        .create(&sys, &register("钱七", qian.clone(), "农村"))
        .await
        .unwrap();
    a.registry()
        .create(&sys, &register("孙八", sun.clone(), "农村"))
        .await
        .unwrap();
    let mut e = FixtureEnrolment::new(
        Program::RuralDibao,
        XICHENG_VILLAGE,
        "钱七",
        &qian,
        50_000,
        "2026-01",
    );
    e.next_review_on = Some(day("2026-10-01"));
    let enrolment = fixtures::enrol(a, &e).await.unwrap();
    fixtures::enrol(
        a,
        &FixtureEnrolment::new(
            Program::Tekun,
            XICHENG_VILLAGE,
            "孙八",
            &sun,
            80_000,
            "2026-01",
        ),
    )
    .await
    .unwrap();
    let out = a
        .payroll()
        .generate(
            &sys,
            &GenerateRequest {
                month: YearMonth::parse("2026-11").unwrap(),
                program: None,
                within: Some(XICHENG.into()),
            },
        )
        .await
        .unwrap();
    let batch = out
        .created
        .iter()
        .find(|b| b.program == Program::RuralDibao)
        .unwrap()
        .id;
    for b in &out.created {
        a.payroll().sign_off(&sys, b.id, None).await.unwrap();
        a.bank_files().export(&sys, b.id, "utf8-csv").await.unwrap();
    }
    let (lines, _) = a
        .payroll()
        .lines(&sys, batch, &Default::default())
        .await
        .unwrap();
    let file = format!(
        "明细号,姓名,金额(分),处理结果,失败原因\n{},钱七,{},失败,账户冻结\n",
        lines[0].id, lines[0].amount.0
    );
    a.bank_files()
        .import_return(&sys, batch, "回盘.csv", file.as_bytes())
        .await
        .unwrap();
    let exception = a.payroll().exceptions(&sys, None).await.unwrap()[0].id;
    let back_pay = a
        .payroll()
        .request_back_pay(
            &sys,
            &NewBackPay {
                enrolment_id: enrolment,
                period: "2026-10".into(),
                amount: String::new(),
                reason: "十月漏发".into(),
                case_id: None,
            },
        )
        .await
        .unwrap()
        .id;
    // 孙八 died in October; November's payment is to be recovered.
    let death = a
        .funerals()
        .record(
            &sys,
            &NewDeath {
                id_number: sun,
                name: "孙八".into(),
                death_date: "2026-10-15".into(),
                death_place: "家中".into(),
                certificate_kind: "medical".into(),
                certificate_no: "N2026-0102".into(),
                disposal: "cremation".into(),
                cremation_no: "H2026-0102".into(),
                funeral_home: "雅安市殡仪馆".into(),
                ..NewDeath::default()
            },
            day("2026-12-01"),
        )
        .await
        .unwrap();
    let funeral = death.record.id;
    let recovery = death.recoveries[0].id;
    // The checks for 西城: 钱七's review fell due in October.
    a.checks().run(&sys, day("2026-12-04")).await.unwrap();
    let (findings, _) = a
        .checks()
        .findings(
            &sys,
            &FindingFilter {
                limit: Some(100),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let finding = findings
        .iter()
        .find(|f| f.township_code == XICHENG)
        .expect("a finding in 西城")
        .id;

    // The clerk of 西城: their account and an import they started.
    let staff2 = fixtures::actor(a, "staff2").await.unwrap();
    let user = staff2.user_id.expect("a signed-in user");
    let job = a
        .jobs()
        .start(&staff2, JobKind::RegistryImport, "西城台账.csv")
        .await
        .unwrap();

    // The demo's standardization rows: 西城's pending staff change, 河北's inspection and
    // its subsidy.
    let changes = a.standards().pending_changes(&sys).await.unwrap();
    let staff_change = changes
        .iter()
        .find(|c| c.township_code == XICHENG)
        .unwrap()
        .id;
    let hebei = a
        .standards()
        .office(&sys, HEBEI, day("2026-12-04"))
        .await
        .unwrap();
    let inspection = hebei.inspections[0].id;
    let subsidy = hebei.subsidies[0].id;

    // 西城's age-band batch for April 2026: 郑十一 turned 90 in March.
    fixtures::enrol(
        a,
        &FixtureEnrolment::new(
            Program::OldAgeAllowance,
            XICHENG_VILLAGE,
            "郑十一",
            &foreign_id("51180219360310007"),
            6_000,
            "2025-01",
        ),
    )
    .await
    .unwrap();
    let repricing = a
        .repricing()
        .prepare_age_bands(
            &sys,
            YearMonth::parse("2026-04").unwrap(),
            Some(XICHENG),
            day("2026-04-01"),
        )
        .await
        .unwrap()
        .batches[0]
        .id;

    // An income and an asset of the household, registered last so nothing above counts them.
    let income = a
        .registry()
        .add_income(
            &sys,
            household,
            &minzheng_domain::registry::IncomeInput {
                kind: "其他收入".into(),
                amount: "1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .incomes[0]
        .id;
    let asset = a
        .registry()
        .add_asset(
            &sys,
            household,
            &minzheng_domain::registry::AssetInput {
                kind: "其他资产".into(),
                value: "1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .assets[0]
        .id;
    Foreign {
        code: XICHENG,
        household,
        person,
        income,
        asset,
        user,
        job,
        case,
        notice,
        enrolment,
        batch,
        exception,
        back_pay,
        funeral,
        recovery,
        finding,
        staff_change,
        inspection,
        subsidy,
        repricing,
    }
}

/// The JSON of each path as the city administrator reads it (each must answer 200).
pub async fn admin_view(app: &TestApp, paths: &[String]) -> Vec<(String, Value)> {
    let (admin, _) = api_login(app, "admin").await;
    let mut out = Vec::new();
    for p in paths {
        let r = admin.get(app.url(p)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "admin GET {p}");
        out.push((p.clone(), r.json().await.unwrap()));
    }
    out
}

/// The audit log as the city administrator reads it, without the sign-ins (reading needs
/// one): a refused request leaves it as it was.
pub async fn changes_logged(app: &TestApp) -> Vec<Value> {
    let (admin, _) = api_login(app, "admin").await;
    let r = admin
        .get(app.url("/api/v1/audit?limit=1000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let log: Value = r.json().await.unwrap();
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["action"].as_str().unwrap().starts_with("auth."))
        .cloned()
        .collect()
}
