//! HTTP integration tests against the real server on port 0, with a fresh database per test
//! (SQLite always; PostgreSQL too when `MINZHENG_TEST_POSTGRES_URL` is set).

mod common;

use common::*;
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_web::testing::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = minzheng_web::testing::TestApp::start(minzheng_app::testing::TestDb::sqlite().await).await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[minzheng_test_services::needs_postgres]
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = minzheng_app::testing::TestDb::postgres().await;
                    let app = minzheng_web::testing::TestApp::start(db).await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}

both!(
    health_openapi_and_unknown_routes,
    page_sign_in_needs_csrf_and_works,
    api_session_and_csrf,
    every_endpoint_refuses_other_jurisdictions,
    lists_beyond_the_role_are_forbidden,
    roles_are_enforced,
    validation_errors_are_chinese_and_change_nothing,
    lockout_after_five_failures,
    sign_in_answers_alike_and_a_flood_is_refused,
    cross_site_origin_is_refused,
    the_data_dictionary_names_every_code_records_carry,
);

async fn health_openapi_and_unknown_routes(app: &TestApp) {
    let c = client();
    let r = c.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = c
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/offices/{code}"]["patch"].is_object());
    let r = c.get(app.url("/api/v1/nope")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_error(&r.json().await.unwrap(), "not_found");
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_error(&r.json().await.unwrap(), "unauthorized");

    let r = c.get(app.url("/no-such-page")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("页面不存在"));
    // Pages need a session.
    let r = c.get(app.url("/offices")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Foffices");
}

async fn page_sign_in_needs_csrf_and_works(app: &TestApp) {
    let c = client();
    let html = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("民政业务管理系统"));
    let token = csrf_in(&html);
    // Without the token: refused.
    let r = c
        .post(app.url("/login"))
        .form(&[("username", "admin"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("登录页面已过期"));
    // A form with fields missing: a Chinese page, not axum's English text.
    let r = c
        .post(app.url("/login"))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("表单内容不完整"));
    // Wrong password: Chinese error.
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", "Wrong-pass1"),
            ("_csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("用户名或密码错误"));
    // Right password: session cookie, HttpOnly and SameSite=Lax.
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", DEMO_PASSWORD),
            ("_csrf", &token),
            ("next", "/offices"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/offices");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("mz_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let dash = c
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(dash.contains("工作台") && dash.contains("王建国"));
    assert!(
        dash.contains(">96<"),
        "96 townships / offices on the dashboard"
    );
    assert!(dash.contains(">659<"), "659 villages on the dashboard");
    let page = c
        .get(app.url("/divisions?code=511802"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("东城街道") && page.contains("雨城区"));
    let page = c
        .get(app.url("/offices/511802001"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("东城街道民政办公室") && page.contains("东城街道社会救助工作站"));
    // Sign-out needs the session's token, then the session is gone.
    let token = csrf_in(&dash);
    let r = c
        .post(app.url("/logout"))
        .form(&[("_csrf", "0".repeat(64))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(app.url("/logout"))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn api_session_and_csrf(app: &TestApp) {
    let (c, csrf) = api_login(app, "staff").await;
    let me: Value = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "staff");
    assert_eq!(me["user"]["role"], "township-staff");
    let r = c.get(app.url("/api/v1/users/abc")).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "a malformed id is answered like an unknown one"
    );
    assert_error(&r.json().await.unwrap(), "not_found");
    let upd = json!({"phone": "0835-7654321", "address": "东城街道办事处二楼"});
    let r = c
        .patch(app.url("/api/v1/offices/511802001"))
        .json(&upd)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_error(&r.json().await.unwrap(), "csrf");
    let r = c
        .patch(app.url("/api/v1/offices/511802001"))
        .header("x-csrf-token", &csrf)
        .json(&upd)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let office: Value = r.json().await.unwrap();
    assert_eq!(office["phone"], "0835-7654321");
    let counts: Value = c
        .get(app.url("/api/v1/dashboard"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["townships"], 1);
    let r = c
        .delete(app.url("/api/v1/session"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// The body an API operation accepts, so that only the jurisdiction can refuse it.
fn valid_body(path: &str) -> Value {
    match path {
        "/api/v1/offices/{code}" => json!({"phone": "0835-1", "address": "x"}),
        "/api/v1/users/{id}" => json!({"display_name": "x"}),
        "/api/v1/households/{household_id}" => json!({"village_code": "511802001001",
            "registration_type": "城镇", "head_name": "x", "head_id_number": "11010519491231002X"}),
        "/api/v1/households/{household_id}/members" => {
            json!({"name": "x", "relation": "子女", "id_number": "110105202001010011"})
        }
        "/api/v1/households/{household_id}/incomes" => {
            json!({"kind": "工资性收入", "amount": "1", "period": "每月"})
        }
        "/api/v1/households/{household_id}/assets" => json!({"kind": "存款", "value": "1"}),
        "/api/v1/households/{household_id}/members/{person_id}" => {
            json!({"health": "健康", "work_capacity": "有劳动能力", "reason": "核实"})
        }
        "/api/v1/households/{household_id}/incomes/{income_id}" => {
            json!({"kind": "工资性收入", "amount": "1", "period": "每月", "reason": "核实"})
        }
        "/api/v1/households/{household_id}/assets/{asset_id}" => {
            json!({"kind": "存款", "value": "1", "reason": "核实"})
        }
        "/api/v1/persons/{person_id}" => {
            json!({"name": "x", "id_number": "11010519491231002X", "relation": "户主"})
        }
        "/api/v1/standards/inspections/{id}/scores" => {
            json!({"items": [{"id": 1, "score": 1}]})
        }
        p if p.starts_with("/api/v1/standards/") => json!({"kind": "office", "area_m2": "20",
            "decision": "approve", "note": "x", "items": "x", "budget": "1", "timeline": "x",
            "inspectors": "x", "inspected_on": "2026-11-01", "disbursed_on": "2026-11-01",
            "population": 1, "item": "x", "due_on": "2026-12-31", "name": "x",
            "position": "x", "effective_on": "2026-11-01", "doc_number": "x",
            "model": "x", "count": 1, "title": "x", "amount": "1", "invested_on": "2026-11-01",
            "purpose": "x"}),
        "/api/v1/cases/{id}/actions" => json!({"action": "close_notice"}),
        "/api/v1/cases/{id}/details" => json!({"rigid_spending_fen": 100}),
        "/api/v1/enrolments/{id}/change" => json!({"reason": "收入增加"}),
        "/api/v1/findings/{id}/verdict" => json!({"verdict": "dismiss", "note": "x"}),
        "/api/v1/recoveries/{id}/steps" => json!({"action": "recovered", "note": "x"}),
        p if p.starts_with("/api/v1/payroll/") => json!({"template": "utf8-csv",
            "account_number": "6210000000000001", "bank_name": "x", "account_holder": "x",
            "approve": true}),
        _ => json!({}),
    }
}

/// The reads (API) that show every row of [`Foreign`] as the city administrator sees it:
/// all the same after the refused requests, with the log, means nothing was written.
fn foreign_reads(foreign: &Foreign) -> Vec<String> {
    let mut reads: Vec<String> = minzheng_web::openapi::OPERATIONS
        .iter()
        .filter(|(m, p, _, _)| *m == "get" && p.contains('{') && !p.contains("{job_id}"))
        .map(|(_, p, _, _)| foreign.fill(p))
        .collect();
    reads.extend(
        [
            "/api/v1/payroll/exceptions",
            "/api/v1/payroll/back-pay",
            "/api/v1/recoveries",
            "/api/v1/findings?limit=1000",
            "/api/v1/enrolments?limit=1000",
            "/api/v1/standards/staff-changes",
            "/api/v1/standards/subsidies",
            "/api/v1/users",
        ]
        .map(String::from),
    );
    reads
}

/// A township user (东城街道) given the id of a real row of another township — 西城街道's
/// household, member, case, notice, enrolment, payroll batch, exception, back pay, death,
/// recovery, finding, staff change, import job and clerk, 河北街道's inspection and subsidy,
/// 西城's office — gets 404 from every endpoint the API lists with a path parameter and from
/// the pages: not 403, which would tell the row exists. Afterwards every one of those rows
/// reads as before, and the log holds nothing new.
async fn every_endpoint_refuses_other_jurisdictions(app: &TestApp) {
    let foreign = foreign_rows(app).await;
    let reads = foreign_reads(&foreign);
    let before = admin_view(app, &reads).await;
    let log_before = changes_logged(app).await;
    let sys = minzheng_domain::Actor::system("t");
    let job_before = app.db.app.jobs().get(&sys, foreign.job).await.unwrap();

    let (c, csrf) = api_login(app, "staff").await;
    let mut answered = Vec::new();
    for (method, path, _, _) in minzheng_web::openapi::OPERATIONS {
        if !path.contains('{') {
            continue;
        }
        let url = app.url(&foreign.fill(path));
        let req = match *method {
            "get" => c.get(&url),
            "patch" => c.patch(&url).json(&valid_body(path)),
            "put" => c.put(&url).json(&valid_body(path)),
            "delete" => c.delete(format!("{url}?reason=x")),
            "post" if path.ends_with("/returns") || path.ends_with("/attachments") => {
                let file = if path.ends_with("/returns") {
                    reqwest::multipart::Part::bytes(
                        "明细号,姓名,金额(分),处理结果,失败原因\n1,钱七,50000,成功,\n"
                            .as_bytes()
                            .to_vec(),
                    )
                    .file_name("回盘.csv")
                } else {
                    reqwest::multipart::Part::bytes(b"\x89PNG\r\n\x1a\n0000".to_vec())
                        .file_name("材料.png")
                        .mime_str("image/png")
                        .unwrap()
                };
                c.post(&url)
                    .multipart(reqwest::multipart::Form::new().part("file", file))
            }
            "post" => c.post(&url).json(&valid_body(path)),
            m => panic!("unexpected method {m}"),
        }
        .header("x-csrf-token", &csrf);
        let r = req.send().await.unwrap();
        answered.push((format!("{method} {path}"), r.status()));
    }
    let wrong: Vec<_> = answered
        .iter()
        .filter(|(_, s)| *s != StatusCode::NOT_FOUND)
        .collect();
    assert!(wrong.is_empty(), "not 404: {wrong:#?}");
    assert!(answered.len() >= 50, "{} endpoints checked", answered.len());

    // List endpoints only ever return records inside the jurisdiction.
    let offices: Value = c
        .get(app.url("/api/v1/offices?limit=500"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(offices["total"], 1);
    assert_eq!(offices["items"][0]["township_code"], "511802001");
    let found: Value = c
        .get(app.url("/api/v1/divisions?q=西城"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 0);
    let kids: Value = c
        .get(app.url("/api/v1/divisions?parent=511802"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kids["items"].as_array().unwrap().len(), 1);

    // Pages too.
    let code = foreign.code;
    let mut pages = Vec::new();
    for path in [
        format!("/households/{}", foreign.household),
        format!(
            "/households/{}/members/{}/edit",
            foreign.household, foreign.person
        ),
        format!(
            "/households/{}/members/{}/delete",
            foreign.household, foreign.person
        ),
        format!(
            "/households/{}/incomes/{}/edit",
            foreign.household, foreign.income
        ),
        format!(
            "/households/{}/assets/{}/delete",
            foreign.household, foreign.asset
        ),
        format!("/offices/{code}"),
        format!("/divisions?code={code}"),
        format!("/users/{}", foreign.user),
        format!("/cases/{}", foreign.case),
        format!("/cases/{}/print", foreign.case),
        format!("/notices/{}", foreign.notice),
        format!("/notices/{}/print", foreign.notice),
        format!("/payroll/batches/{}", foreign.batch),
        format!("/repricing/{}", foreign.repricing),
        format!("/funerals/{}", foreign.funeral),
        format!("/findings/{}", foreign.finding),
        format!("/standards/offices/{code}"),
        format!("/standards/inspections/{}", foreign.inspection),
        format!("/jobs/{}", foreign.job),
    ] {
        let r = c.get(app.url(&path)).send().await.unwrap();
        pages.push((path, r.status()));
    }
    let wrong: Vec<_> = pages
        .iter()
        .filter(|(_, s)| *s != StatusCode::NOT_FOUND)
        .collect();
    assert!(wrong.is_empty(), "pages not 404: {wrong:#?}");
    let html = c
        .get(app.url("/offices/511802001"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_in(&html);
    let mut forms = Vec::new();
    for path in [
        format!(
            "/households/{}/members/{}",
            foreign.household, foreign.person
        ),
        format!(
            "/households/{}/members/{}/delete",
            foreign.household, foreign.person
        ),
        format!(
            "/households/{}/incomes/{}",
            foreign.household, foreign.income
        ),
        format!(
            "/households/{}/incomes/{}/delete",
            foreign.household, foreign.income
        ),
        format!("/households/{}/assets/{}", foreign.household, foreign.asset),
        format!(
            "/households/{}/assets/{}/delete",
            foreign.household, foreign.asset
        ),
        format!("/offices/{code}"),
        format!("/users/{}", foreign.user),
        format!("/cases/{}", foreign.case),
        format!("/enrolments/{}/change", foreign.enrolment),
        format!("/payroll/batches/{}/sign-off", foreign.batch),
        format!("/payroll/batches/{}/close", foreign.batch),
        format!("/repricing/{}", foreign.repricing),
        format!("/payroll/exceptions/{}/correction", foreign.exception),
        format!("/payroll/back-pay/{}/decision", foreign.back_pay),
        format!("/recoveries/{}/steps", foreign.recovery),
        format!("/findings/{}/verdict", foreign.finding),
        format!("/standards/offices/{code}"),
        format!("/standards/inspections/{}", foreign.inspection),
        format!("/standards/subsidies/{}", foreign.subsidy),
    ] {
        let r = c
            .post(app.url(&path))
            .form(&[
                ("_csrf", token.as_str()),
                ("phone", "1"),
                ("address", "x"),
                ("display_name", "x"),
                ("action", "recovered"),
                ("reason", "收入增加"),
                ("note", "x"),
                ("verdict", "dismiss"),
                ("approve", "true"),
                ("account_number", "6210000000000001"),
                ("bank_name", "x"),
                ("account_holder", "x"),
                ("disbursed_on", "2026-11-01"),
                ("kind", "office"),
                ("area_m2", "99"),
            ])
            .send()
            .await
            .unwrap();
        forms.push((path, r.status()));
    }
    let wrong: Vec<_> = forms
        .iter()
        .filter(|(_, s)| *s != StatusCode::NOT_FOUND)
        .collect();
    assert!(wrong.is_empty(), "forms not 404: {wrong:#?}");

    // Nothing changed over there, and nothing was logged.
    let after = admin_view(app, &reads).await;
    for ((path, b), (_, a)) in before.iter().zip(&after) {
        assert!(b == a, "{path} changed");
    }
    assert_eq!(changes_logged(app).await, log_before);
    let job_after = app.db.app.jobs().get(&sys, foreign.job).await.unwrap();
    assert_eq!(
        serde_json::to_value(&job_before).unwrap(),
        serde_json::to_value(&job_after).unwrap()
    );
}

/// Lists that need a permission the township clerk lacks answer 403 (no row is named, so
/// nothing is revealed).
async fn lists_beyond_the_role_are_forbidden(app: &TestApp) {
    let (c, _) = api_login(app, "staff").await;
    for path in ["/api/v1/users", "/api/v1/audit", "/users", "/audit"] {
        let r = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

/// Inside the jurisdiction, a role without the permission gets 403: the village assistant
/// and the auditor may not edit 东城's office, the director may not create accounts. The
/// office, the accounts and the log read as before.
async fn roles_are_enforced(app: &TestApp) {
    let reads = vec![
        "/api/v1/offices/511802001".to_string(),
        "/api/v1/users".to_string(),
    ];
    let before = admin_view(app, &reads).await;
    let log_before = changes_logged(app).await;
    let upd = json!({"phone": "0835-1111111", "address": ""});
    for user in ["assistant", "auditor"] {
        let (c, csrf) = api_login(app, user).await;
        let r = c
            .patch(app.url("/api/v1/offices/511802001"))
            .header("x-csrf-token", &csrf)
            .json(&upd)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{user}");
        assert_error(&r.json().await.unwrap(), "forbidden");
    }
    let (c, _) = api_login(app, "auditor").await;
    let r = c.get(app.url("/api/v1/audit")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (c, csrf) = api_login(app, "director").await;
    let r = c
        .post(app.url("/api/v1/users"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"username": "newbie", "role": "township-staff", "scope_code": "511802001", "password": "Abcdef12!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let after = admin_view(app, &reads).await;
    for ((path, b), (_, a)) in before.iter().zip(&after) {
        assert!(b == a, "{path} changed");
    }
    assert_eq!(changes_logged(app).await, log_before);
}

async fn validation_errors_are_chinese_and_change_nothing(app: &TestApp) {
    let (c, csrf) = api_login(app, "admin").await;
    let before: Value = c
        .get(app.url("/api/v1/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = c
        .post(app.url("/api/v1/users"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"username": "newbie", "role": "township-staff", "scope_code": "511802001", "password": "weak"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_error(&body, "validation");
    assert!(body["error"]["fields"]["password"]
        .as_str()
        .unwrap()
        .contains("密码"));
    let r = c
        .post(app.url("/api/v1/users"))
        .header("x-csrf-token", &csrf)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_error(&r.json().await.unwrap(), "bad_request");
    let after: Value = c
        .get(app.url("/api/v1/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        before["items"].as_array().unwrap().len(),
        after["items"].as_array().unwrap().len()
    );
    // The page form shows field messages in Chinese.
    let html = c
        .get(app.url("/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_in(&html);
    let r = c
        .post(app.url("/users"))
        .form(&[
            ("_csrf", token.as_str()),
            ("username", "x"),
            ("role", "township-staff"),
            ("scope_code", "511802001"),
            ("password", "Abcdef12!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("用户名须为3至32位"));
    // A good one works and is listed.
    let r = c
        .post(app.url("/users"))
        .form(&[
            ("_csrf", token.as_str()),
            ("username", "newbie"),
            ("display_name", "新同事"),
            ("role", "township-staff"),
            ("scope_code", "511802001"),
            ("password", "Abcdef12!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = c
        .get(app.url("/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("新同事"));
}

async fn lockout_after_five_failures(app: &TestApp) {
    let c = client();
    for _ in 0..5 {
        let r = c
            .post(app.url("/api/v1/session"))
            .json(&json!({"username": "director", "password": "nope-Nope1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "director", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("锁定"));
    // The administrator unlocks the account.
    let (admin, csrf) = api_login(app, "admin").await;
    let users: Value = admin
        .get(app.url("/api/v1/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "director")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = admin
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"unlock": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    api_login(app, "director").await;
}

async fn cross_site_origin_is_refused(app: &TestApp) {
    let (c, csrf) = api_login(app, "staff").await;
    let r = c
        .patch(app.url("/api/v1/offices/511802001"))
        .header("x-csrf-token", &csrf)
        .header("origin", "http://evil.example")
        .json(&json!({"phone": "1", "address": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// Records carry codes; the data dictionary gives each code's Chinese label, for a role's
/// code as `/me` shows it as for a batch status.
async fn the_data_dictionary_names_every_code_records_carry(app: &TestApp) {
    let r = client().get(app.url("/api/v1/codes")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (c, _) = api_login(app, "staff").await;
    let me: Value = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let role = me["user"]["role"].as_str().unwrap().to_string();
    let dict: Value = c
        .get(app.url("/api/v1/codes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let label = |word: &str, code: &str| -> Option<String> {
        dict["items"]
            .as_array()?
            .iter()
            .find(|t| t["name"] == word)?["codes"]
            .as_array()?
            .iter()
            .find(|c| c["code"] == code)
            .map(|c| c["label"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(label("Role", &role).as_deref(), Some("民政专职工作人员"));
    assert_eq!(
        label("BatchStatus", "draft").as_deref(),
        Some("草稿（待审核）")
    );
    assert_eq!(label("CaseState", "nope"), None);
}

/// An unknown user name and a wrong password get the same status and words, also once
/// locked; a flood of failures from one address is refused with 429 and a Chinese message
/// (the right password included) until its window ends.
async fn sign_in_answers_alike_and_a_flood_is_refused(app: &TestApp) {
    use minzheng_domain::users::ADDRESS_FAILURES_PER_WINDOW;
    let c = client();
    let attempt = |user: &str, password: &str| {
        let c = c.clone();
        let url = app.url("/api/v1/session");
        let body = json!({"username": user, "password": password});
        async move {
            let r = c.post(url).json(&body).send().await.unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            (status, body)
        }
    };
    let mut sent = 0;
    for _ in 0..6 {
        let known = attempt("approver", "Wrong-Pass-1").await;
        let unknown = attempt("no-such-user", "Wrong-Pass-1").await;
        sent += 2;
        // The same status and words (a lock's time of day aside, which may differ by a
        // minute between the two).
        let words = |b: &Value| {
            b["error"]["message"]
                .as_str()
                .unwrap()
                .replace(|c: char| c.is_ascii_digit(), "#")
        };
        assert_eq!(known.0, unknown.0);
        assert_eq!(words(&known.1), words(&unknown.1));
        assert_eq!(known.1["error"]["code"], unknown.1["error"]["code"]);
        assert_error(&known.1, "signin_failed");
    }
    assert_eq!(
        attempt("approver", "Wrong-Pass-1").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    sent += 1;
    // The unknown name is locked the same way.
    let (status, body) = attempt("no-such-user", "Wrong-Pass-1").await;
    sent += 1;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body["error"]["message"].as_str().unwrap().contains("锁定"));
    while sent < ADDRESS_FAILURES_PER_WINDOW {
        // Other names each time: no name reaches its own lock.
        let (status, _) = attempt(&format!("someone-{sent}"), "Wrong-Pass-1").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        sent += 1;
    }
    for _ in 0..30 {
        let (status, body) = attempt("staff", DEMO_PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_error(&body, "signin_failed");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("登录失败次数过多"),
            "{body}"
        );
    }
    let audit = app
        .db
        .app
        .audit()
        .list(&minzheng_domain::Actor::system("t"), None, 500, 0)
        .await
        .unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == "auth.signin_throttled")
            .count(),
        1,
        "the refusals are audited once"
    );
}

/// Behind a reverse proxy (`serve --behind-proxy`) the client is the proxy's last
/// `X-Forwarded-For` entry: five failures for the city administrator from one client lock
/// the account for that client only, and the administrator still signs in from the office.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_a_lock_holds_for_the_forwarded_address_only() {
    let app = TestApp::start_with(
        minzheng_app::testing::TestDb::sqlite().await,
        minzheng_web::WebConfig {
            behind_proxy: true,
            ..Default::default()
        },
    )
    .await;
    let c = client();
    let sign_in = |from: &'static str, password: &'static str| {
        let c = c.clone();
        let url = app.url("/api/v1/session");
        async move {
            c.post(url)
                .header("x-forwarded-for", format!("10.9.8.7, {from}"))
                .json(&json!({"username": "admin", "password": password}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for _ in 0..5 {
        assert_eq!(
            sign_in("203.0.113.9", "Wrong-Pass-1").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in("203.0.113.9", DEMO_PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(sign_in("198.51.100.7", DEMO_PASSWORD).await, StatusCode::OK);
    app.stop().await;
}
