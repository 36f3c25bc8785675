//! HTTP tests of the monthly payroll (资金发放) against the real server on port 0, on SQLite
//! and (when `MINZHENG_TEST_POSTGRES_URL` is set) PostgreSQL: jurisdiction on every endpoint,
//! the API from generation to reconciliation, the pages and their forms, CSRF.

mod common;

use common::*;
use minzheng_app::testing::payroll::{self as fixtures, EnrolmentChange, FixtureEnrolment};
use minzheng_domain::payroll::{EnrolmentStatus, NewBackPay, PayrollLine};
use minzheng_domain::Program;
use minzheng_domain::{Actor, YearMonth};
use minzheng_web::testing::TestApp;
use reqwest::{Client, StatusCode};
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
    payroll_endpoints_refuse_other_jurisdictions,
    api_from_generation_to_reconciliation,
    pages_and_forms,
    bank_templates_page_lists_templates,
    admin_saves_bank_template_through_form,
    bad_bank_template_form_is_refused,
    bank_template_form_refuses_other_roles,
    back_pay_decision_must_be_explicit,
    api_rejections_answer_chinese_json,
    batch_page_shows_beijing_time,
    audit_page_labels_payroll_actions,
    openapi_declares_payroll_bodies,
    payroll_pages_link_batches_exceptions_and_ledger,
    success_notices_come_from_codes_only,
    refused_forms_keep_what_was_typed,
    dashboard_shows_the_months_payroll,
    a_draft_names_the_lines_without_an_account,
    the_months_review_page_signs_every_ticked_draft,
    batch_page_lists_each_bank_file_download,
    batch_page_lists_each_return_file,
    a_village_assistant_reads_their_villages_payroll,
);

const V1: &str = "511802001001";
const V2: &str = "511802001200";

async fn enrol(app: &TestApp, name: &str, n: u32, fen: i64) -> i64 {
    fixtures::enrol(
        &app.db.app,
        &FixtureEnrolment::new(
            Program::UrbanDibao,
            if n.is_multiple_of(2) { V1 } else { V2 },
            name,
            &format!("51180219800101{n:03}X"),
            fen,
            "2026-01",
        ),
    )
    .await
    .unwrap()
}

async fn get_json(c: &Client, url: String) -> Value {
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    r.json().await.unwrap()
}

async fn post_json(c: &Client, csrf: &str, url: String, body: Value) -> (StatusCode, Value) {
    let r = c
        .post(&url)
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn generate(app: &TestApp, user: &str, month: &str) -> Value {
    let (c, csrf) = api_login(app, user).await;
    let (status, body) = post_json(
        &c,
        &csrf,
        app.url("/api/v1/payroll/batches"),
        json!({"month": month}),
    )
    .await;
    assert!(status.is_success(), "{body}");
    body
}

fn return_file(lines: &[Value], fail: &[usize]) -> Vec<u8> {
    let mut s = String::from("明细号,姓名,金额(元),处理结果,失败原因\n");
    for (i, l) in lines.iter().enumerate() {
        let amount = l["amount"].as_i64().unwrap();
        let (st, why) = if fail.contains(&i) {
            ("失败", "账户冻结")
        } else {
            ("成功", "")
        };
        s.push_str(&format!(
            "{},{},{}.{:02},{st},{why}\n",
            l["id"],
            l["beneficiary_name"].as_str().unwrap(),
            amount / 100,
            amount % 100
        ));
    }
    s.into_bytes()
}

async fn upload_return(c: &Client, csrf: &str, url: String, data: Vec<u8>) -> (StatusCode, Value) {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(data).file_name("回盘.csv"),
    );
    let r = c
        .post(&url)
        .header("x-csrf-token", csrf)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// 西城's staff get 404 from every payroll endpoint for 东城's batch, exception and back pay,
/// and see none of 东城's records in lists; afterwards the batch, its lines, the exception
/// and the back pay read as before, and the log holds nothing new.
async fn payroll_endpoints_refuse_other_jurisdictions(app: &TestApp) {
    let e = enrol(app, "张三", 1, 50_000).await;
    let (batch, lines) = exported_november(app).await;
    let line = lines[0].clone();
    let payroll = app.db.app.payroll();
    let sys = Actor::system("t");
    let file = format!(
        "明细号,姓名,金额(元),处理结果,失败原因\n{},张三,500.00,失败,销户\n",
        line.id
    );
    app.db
        .app
        .bank_files()
        .import_return(&sys, batch, "r.csv", file.as_bytes())
        .await
        .unwrap();
    let exception = payroll.exceptions(&sys, None).await.unwrap()[0].id;
    let back_pay = payroll
        .request_back_pay(
            &sys,
            &NewBackPay {
                enrolment_id: e,
                period: "2026-10".into(),
                amount: String::new(),
                reason: "补发".into(),
                case_id: None,
            },
        )
        .await
        .unwrap()
        .id;
    let reads = vec![
        format!("/api/v1/payroll/batches/{batch}"),
        format!("/api/v1/payroll/batches/{batch}/lines"),
        format!("/api/v1/payroll/batches/{batch}/diff"),
        format!("/api/v1/payroll/batches/{batch}/bank-files"),
        format!("/api/v1/payroll/batches/{batch}/returns"),
        "/api/v1/payroll/batches".to_string(),
        "/api/v1/payroll/exceptions".to_string(),
        "/api/v1/payroll/back-pay".to_string(),
        "/api/v1/payroll/ledger".to_string(),
    ];
    let before = admin_view(app, &reads).await;
    let log_before = changes_logged(app).await;

    let (c, csrf) = api_login(app, "staff2").await;
    let mut checked = 0;
    for (method, path, _, _) in minzheng_web::openapi::OPERATIONS {
        if !path.starts_with("/api/v1/payroll/") || !path.contains("{id}") {
            continue;
        }
        let id = if path.contains("exceptions") {
            exception
        } else if path.contains("back-pay") {
            back_pay
        } else {
            batch
        };
        let url = app.url(&path.replace("{id}", &id.to_string()));
        let r = if path.ends_with("/returns") && *method == "post" {
            upload_return(&c, &csrf, url, file.clone().into_bytes())
                .await
                .0
        } else {
            let req = match *method {
                "get" => c.get(&url),
                "post" => c.post(&url).json(&json!({"template": "utf8-csv",
                    "account_number": "6210000000000001", "approve": true})),
                m => panic!("unexpected method {m}"),
            };
            req.header("x-csrf-token", &csrf)
                .send()
                .await
                .unwrap()
                .status()
        };
        assert_eq!(r, StatusCode::NOT_FOUND, "{method} {path}");
        checked += 1;
    }
    assert!(checked >= 10, "{checked} endpoints checked");
    for list in ["batches", "exceptions", "back-pay", "ledger"] {
        let v = get_json(&c, app.url(&format!("/api/v1/payroll/{list}"))).await;
        assert_eq!(v["items"].as_array().unwrap().len(), 0, "{list}");
    }
    for path in [
        format!("/payroll/batches/{batch}"),
        format!("/payroll/batches/{batch}?status=paid"),
    ] {
        let r = c.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // Generating 东城 from 西城 is not found either.
    let (status, body) = post_json(
        &c,
        &csrf,
        app.url("/api/v1/payroll/batches"),
        json!({"month": "2026-12", "within": "511802001"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    // Nothing changed in 东城.
    let after = admin_view(app, &reads).await;
    for ((path, b), (_, a)) in before.iter().zip(&after) {
        assert!(b == a, "{path} changed");
    }
    assert_eq!(changes_logged(app).await, log_before);
}

/// Staff generate (201, then 200 with the same batch), the director signs off (staff may
/// not: 403), the bank file downloads, a return that does not reconcile is refused (422)
/// and a good one applied; the failure is corrected and re-issued in December.
async fn api_from_generation_to_reconciliation(app: &TestApp) {
    enrol(app, "张三", 1, 50_000).await;
    enrol(app, "李四", 2, 42_050).await;
    let (staff, scsrf) = api_login(app, "staff").await;
    let (director, dcsrf) = api_login(app, "director").await;
    let (status, first) = post_json(
        &staff,
        &scsrf,
        app.url("/api/v1/payroll/batches"),
        json!({"month": "2026-11"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = first["created"][0]["id"].as_i64().unwrap();
    assert_eq!(first["lines"], 2);
    let (status, again) = post_json(
        &staff,
        &scsrf,
        app.url("/api/v1/payroll/batches"),
        json!({"month": "2026-11"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["existing"][0]["id"], id);
    let (status, body) = post_json(
        &staff,
        &scsrf,
        app.url("/api/v1/payroll/batches"),
        json!({"month": "2026-13"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "validation");
    assert!(body["error"]["fields"]["month"].is_string());

    let diff = get_json(
        &staff,
        app.url(&format!("/api/v1/payroll/batches/{id}/diff")),
    )
    .await;
    assert_eq!(diff["new_count"], 2);
    let (status, body) = post_json(
        &staff,
        &scsrf,
        app.url(&format!("/api/v1/payroll/batches/{id}/sign-off")),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "forbidden");
    let (status, body) = post_json(
        &staff,
        &scsrf,
        app.url(&format!("/api/v1/payroll/batches/{id}/bank-file")),
        json!({"template": "rcb-gbk"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "conflict");
    // Signing a version other than the one reviewed: refused, nothing changes.
    let (status, body) = post_json(
        &director,
        &dcsrf,
        app.url(&format!(
            "/api/v1/payroll/batches/{id}/sign-off?reviewed=2000-01-01T00:00:00.000000Z"
        )),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("重新生成"),
        "{body}"
    );
    let batch = get_json(&director, app.url(&format!("/api/v1/payroll/batches/{id}"))).await;
    assert_eq!(batch["status"], "draft");
    let reviewed = batch["generated_at"].as_str().unwrap().to_string();
    let (status, signed) = post_json(
        &director,
        &dcsrf,
        app.url(&format!(
            "/api/v1/payroll/batches/{id}/sign-off?reviewed={}",
            reviewed.replace(':', "%3A")
        )),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(signed["status"], "signed_off");

    let r = staff
        .post(app.url(&format!("/api/v1/payroll/batches/{id}/bank-file")))
        .header("x-csrf-token", &scsrf)
        .json(&json!({"template": "utf8-csv"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cd.starts_with("attachment;") && cd.contains("filename*=UTF-8''"),
        "{cd}"
    );
    let bytes = r.bytes().await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.contains("张三") && text.contains(",50000,"), "{text}");

    let lines = get_json(
        &staff,
        app.url(&format!("/api/v1/payroll/batches/{id}/lines")),
    )
    .await;
    let items = lines["items"].as_array().unwrap().clone();
    assert_eq!(lines["total"], 2);
    // Wrong amount: refused whole.
    let mut bad = String::from_utf8(return_file(&items, &[])).unwrap();
    bad = bad.replacen("500.00", "500.10", 1);
    let (status, body) = upload_return(
        &staff,
        &scsrf,
        app.url(&format!("/api/v1/payroll/batches/{id}/returns")),
        bad.into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_error(&body, "validation");
    assert!(body["error"]["message"].as_str().unwrap().contains("不符"));
    let (status, out) = upload_return(
        &staff,
        &scsrf,
        app.url(&format!("/api/v1/payroll/batches/{id}/returns")),
        return_file(&items, &[1]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["complete"], true);
    assert_eq!(out["failed_count"], 1);
    assert_eq!(out["batch"]["status"], "reconciled");
    // The batch's bank file and its accepted return file are on record; the refused one
    // is not.
    let downloads = get_json(
        &staff,
        app.url(&format!("/api/v1/payroll/batches/{id}/bank-files")),
    )
    .await;
    let downloads = downloads["items"].as_array().unwrap();
    assert_eq!(downloads.len(), 1, "{downloads:?}");
    assert_eq!(downloads[0]["template"], "utf8-csv");
    assert_eq!(downloads[0]["lines"], 2);
    let returns = get_json(
        &staff,
        app.url(&format!("/api/v1/payroll/batches/{id}/returns")),
    )
    .await;
    let returns = returns["items"].as_array().unwrap();
    assert_eq!(returns.len(), 1, "{returns:?}");
    assert_eq!(
        (
            &returns[0]["lines"],
            &returns[0]["paid_count"],
            &returns[0]["failed_count"]
        ),
        (&json!(2), &json!(1), &json!(1))
    );
    assert_eq!(
        returns[0]["sha256"].as_str().unwrap().len(),
        64,
        "{returns:?}"
    );

    let ex = get_json(&staff, app.url("/api/v1/payroll/exceptions?status=open")).await;
    let xid = ex["items"][0]["id"].as_i64().unwrap();
    let (status, fixed) = post_json(
        &staff,
        &scsrf,
        app.url(&format!("/api/v1/payroll/exceptions/{xid}/correction")),
        json!({"account_number": "6230 0000 1111 2222", "note": "新卡"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{fixed}");
    assert_eq!(fixed["status"], "ready");
    let dec = generate(app, "staff", "2026-12").await;
    assert_eq!(dec["created"][0]["reissue_count"], 1);
    let ledger = get_json(
        &staff,
        app.url("/api/v1/payroll/ledger?from=2026-11&to=2026-12"),
    )
    .await;
    assert_eq!(ledger["items"].as_array().unwrap().len(), 2);
    // The auditor reads but cannot act; the village assistant sees masked accounts.
    let (auditor, acsrf) = api_login(app, "auditor").await;
    let (status, _) = post_json(
        &auditor,
        &acsrf,
        app.url("/api/v1/payroll/batches"),
        json!({"month": "2027-01"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let masked = get_json(
        &auditor,
        app.url(&format!("/api/v1/payroll/batches/{id}/lines")),
    )
    .await;
    assert!(masked["items"][0]["account_number"]
        .as_str()
        .unwrap()
        .contains('*'));
    // Bank templates: the city administrator configures one, others may not.
    let (admin, xcsrf) = api_login(app, "admin").await;
    let tpl = json!({"code": "ccb", "name": "建设银行", "format": "csv", "encoding": "utf-8",
        "columns": "line_no,name,id_number,account,amount", "totals_line": false,
        "amount_unit": "yuan", "file_name": "ccb_{batch_no}.{ext}"});
    let (status, _) = post_json(
        &staff,
        &scsrf,
        app.url("/api/v1/payroll/bank-templates"),
        tpl.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, saved) = post_json(
        &admin,
        &xcsrf,
        app.url("/api/v1/payroll/bank-templates"),
        tpl,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let templates = get_json(&staff, app.url("/api/v1/payroll/bank-templates")).await;
    assert!(templates["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["code"] == "ccb"));
    // Without the CSRF header a change is refused.
    let r = staff
        .post(app.url("/api/v1/payroll/batches"))
        .json(&json!({"month": "2027-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_error(&r.json().await.unwrap(), "csrf");
}

/// The pages: list with the generate form, the batch with its review and actions, the
/// ledger with its chart data and an audited workbook.
async fn pages_and_forms(app: &TestApp) {
    enrol(app, "张三", 1, 50_000).await;
    let c = page_login(app, "staff").await;
    let html = c
        .get(app.url("/payroll?month=2026-11"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("资金发放") && html.contains("generate-form"),
        "{html}"
    );
    let csrf = csrf_in(&html);
    let r = c
        .post(app.url("/payroll"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("month", "2026-11"),
            ("program", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let html = c
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("已生成1个批次"), "{html}");
    let id = {
        let i = html.find("/payroll/batches/").unwrap() + "/payroll/batches/".len();
        html[i..].split('"').next().unwrap().to_string()
    };
    let page = c
        .get(app.url(&format!("/payroll/batches/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("环比变动") && html.contains("新增") && html.contains("张三"));
    assert!(!html.contains("id=\"sign-off\""), "staff cannot sign off");
    // Staff posting a sign-off anyway: 403 with the page.
    let r = c
        .post(app.url(&format!("/payroll/batches/{id}")))
        .form(&[("_csrf", csrf.as_str()), ("action", "sign_off")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("民政办主任"));
    // A bank file before sign-off: 409.
    let r = c
        .post(app.url(&format!("/payroll/batches/{id}/bank-file")))
        .form(&[("_csrf", csrf.as_str()), ("template", "rcb-gbk")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // Without CSRF: refused.
    let r = c
        .post(app.url(&format!("/payroll/batches/{id}")))
        .form(&[("action", "regenerate")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let ledger = c
        .get(app.url("/payroll/ledger"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        ledger.contains("ledger-chart")
            && ledger.contains("data-chart=")
            && ledger.contains("2026-11")
    );
    let x = c.get(app.url("/payroll/ledger.xlsx")).send().await.unwrap();
    assert_eq!(x.status(), StatusCode::OK);
    assert!(x.bytes().await.unwrap().starts_with(b"PK"));
    let js = c
        .get(app.url("/static/echarts.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    let audit = fixtures::audit_actions(&app.db.app, "export", "payroll_ledger.xlsx")
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    for p in ["/payroll/exceptions", "/payroll/back-pay"] {
        let r = c.get(app.url(p)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{p}");
    }
}

/// Signs in through the login form; returns the client holding the session cookie.
async fn page_login(app: &TestApp, user: &str) -> Client {
    let c = client();
    let login = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("_csrf", csrf_in(&login).as_str()),
            ("username", user),
            ("password", minzheng_app::demo::DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {user}");
    c
}

async fn get_page(c: &Client, url: String) -> (StatusCode, String) {
    let r = c.get(&url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The templates as the API lists them, by code.
async fn api_templates(app: &TestApp) -> std::collections::BTreeMap<String, Value> {
    let (c, _) = api_login(app, "auditor").await;
    get_json(&c, app.url("/api/v1/payroll/bank-templates")).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["code"].as_str().unwrap().to_string(), t.clone()))
        .collect()
}

/// A form's fields in order (repeated names allowed).
type Form = Vec<(String, String)>;

/// A complete template form as the page posts it: one `col` per chosen column, in order.
fn template_form(csrf: &str, code: &str, name: &str, columns: &[&str]) -> Form {
    let mut f: Form = [
        ("_csrf", csrf),
        ("editing", ""),
        ("code", code),
        ("name", name),
        ("format", "xlsx"),
        ("encoding", "utf-8"),
        ("amount_unit", "fen"),
        ("totals_line", "1"),
        ("file_name", "{bank}-{period}-{township}.{ext}"),
        ("active", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for c in columns {
        f.push(("col".into(), c.to_string()));
    }
    // Unused positions post empty values, as the page's selects do.
    f.push(("col".into(), String::new()));
    f.push(("col".into(), String::new()));
    f
}

fn set(form: &mut [(String, String)], key: &str, value: &str) {
    for (k, v) in form.iter_mut() {
        if k == key {
            *v = value.to_string();
        }
    }
}

async fn post_form(c: &Client, app: &TestApp, form: &[(String, String)]) -> reqwest::Response {
    c.post(app.url("/payroll/bank-templates"))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// A township clerk reads the seeded templates: columns with their Chinese titles, the
/// example file name and header line rendered from each template; no form for them. The
/// batch list links to the page.
async fn bank_templates_page_lists_templates(app: &TestApp) {
    let c = page_login(app, "staff").await;
    let (status, list) = get_page(&c, app.url("/payroll")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("href=\"/payroll/bank-templates\""), "{list}");

    let (status, html) = get_page(&c, app.url("/payroll/bank-templates")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("银行代发模板"), "{html}");
    for code in ["rcb-gbk", "psbc-xlsx", "utf8-csv"] {
        assert!(html.contains(&format!("id=\"template-{code}\"")), "{code}");
    }
    assert!(html.contains("农村商业银行（CSV，GBK，带合计行）"));
    assert!(html.contains("邮政储蓄银行（Excel）"));
    // Header lines: CSV comma-separated in file order, the amount titled by its unit.
    assert!(
        html.contains("批次号,明细号,项目代码,所属期,区划代码,姓名,证件号码,账号,金额(元),摘要"),
        "{html}"
    );
    assert!(
        html.contains("批次号,明细号,项目代码,所属期,区划代码,姓名,证件号码,账号,金额(分),摘要")
    );
    assert!(html.contains(
        "明细号 | 批次号 | 补贴项目 | 所属期 | 区划代码 | 姓名 | 证件号码 | 开户行 | 账号 | 金额(元) | 摘要"
    ));
    // Example file names: the pattern filled in for this month's batch of the clerk's township.
    let file_of = |prefix: &str| -> String {
        let i = html
            .find(&format!("class=\"example-file\">{prefix}"))
            .unwrap_or_else(|| panic!("example file {prefix}: {html}"))
            + "class=\"example-file\">".len();
        html[i..].split('<').next().unwrap().to_string()
    };
    // The bank by the template's name, the program by its Chinese name.
    let rcb = file_of("农村商业银行（CSV，GBK，带合计行）_");
    assert!(rcb.ends_with("-511802001-城市最低生活保障.csv"), "{rcb}");
    assert!(!rcb.contains('{'), "{rcb}");
    let generic = file_of("payroll_");
    assert!(
        generic.ends_with("-511802001-城市最低生活保障.csv"),
        "{generic}"
    );
    assert!(html.contains("城市最低生活保障"));
    // 合计行 and unit columns.
    assert!(html.contains("<td>有</td>") && html.contains("<td>无</td>"));
    assert!(html.contains("<td>分</td>") && html.contains("<td>元</td>"));
    // A clerk may not configure templates: no form, no edit links, even when asked for one.
    assert!(!html.contains("id=\"template-form\""));
    assert!(!html.contains("edit-template"));
    let (status, html) = get_page(&c, app.url("/payroll/bank-templates?code=rcb-gbk")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("id=\"template-form\""));
}

/// The city administrator adds a template through the form (with the CSRF token); it shows
/// on the page and in the API. Editing it pre-fills the form and updates the same template;
/// a new template may not take an existing code; without CSRF nothing is saved.
async fn admin_saves_bank_template_through_form(app: &TestApp) {
    let c = page_login(app, "admin").await;
    let (status, html) = get_page(&c, app.url("/payroll/bank-templates")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"template-form\""), "{html}");
    assert!(html.contains("新增模板"));
    let csrf = csrf_in(&html);
    let before = api_templates(app).await;
    assert_eq!(before.len(), 3);

    let form = template_form(
        &csrf,
        "ccb-form",
        "建设银行（表单）",
        &["line_no", "name", "id_number", "account", "amount"],
    );
    // Without the CSRF token: refused, nothing saved.
    let no_csrf: Vec<(String, String)> =
        form.iter().filter(|(k, _)| k != "_csrf").cloned().collect();
    let r = post_form(&c, app, &no_csrf).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!api_templates(app).await.contains_key("ccb-form"));

    let r = post_form(&c, app, &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/payroll/bank-templates?saved="), "{to}");
    let (status, html) = get_page(&c, app.url(&to)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("id=\"notice\"") && html.contains("已保存银行代发模板“建设银行（表单）”"),
        "{html}"
    );
    assert!(html.contains("id=\"template-ccb-form\""));
    assert!(
        html.contains("明细号 | 姓名 | 证件号码 | 账号 | 金额(分)"),
        "{html}"
    );
    let saved = api_templates(app).await;
    assert_eq!(saved.len(), 4);
    let t = &saved["ccb-form"];
    assert_eq!(t["name"], "建设银行（表单）");
    assert_eq!(t["format"], "xlsx");
    assert_eq!(t["amount_unit"], "fen");
    assert_eq!(t["totals_line"], true);
    assert_eq!(t["active"], true);
    assert_eq!(
        t["columns"],
        json!(["line_no", "name", "id_number", "account", "amount"])
    );
    assert_eq!(t["file_name"], "{bank}-{period}-{township}.{ext}");

    // Edit: the form is pre-filled with the template.
    let (status, html) = get_page(&c, app.url("/payroll/bank-templates?code=ccb-form")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("编辑模板“ccb-form”"), "{html}");
    assert!(html.contains("name=\"editing\" value=\"ccb-form\""));
    assert!(html.contains("value=\"建设银行（表单）\""));
    assert!(html.contains("<option value=\"xlsx\" selected>"));
    assert!(html.contains("<option value=\"fen\" selected>"));
    let col1 = html.find("id=\"col-1\"").unwrap();
    let col2 = html.find("id=\"col-2\"").unwrap();
    assert!(html[col1..col2].contains("<option value=\"line_no\" selected>"));
    assert!(html[col2..].contains("<option value=\"name\" selected>"));
    let (status, _) = get_page(&c, app.url("/payroll/bank-templates?code=nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let mut edit = template_form(
        &csrf,
        "ccb-form",
        "建设银行（改）",
        &["id_number", "name", "account", "amount"],
    );
    set(&mut edit, "editing", "ccb-form");
    set(&mut edit, "format", "csv");
    edit.retain(|(k, _)| k != "active" && k != "totals_line");
    let r = post_form(&c, app, &edit).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = api_templates(app).await;
    assert_eq!(after.len(), 4, "edited in place, not added");
    let t = &after["ccb-form"];
    assert_eq!(t["name"], "建设银行（改）");
    assert_eq!(t["format"], "csv");
    assert_eq!(t["active"], false);
    assert_eq!(t["totals_line"], false);
    assert_eq!(
        t["columns"],
        json!(["id_number", "name", "account", "amount"])
    );
    let (_, html) = get_page(&c, app.url("/payroll/bank-templates")).await;
    assert!(html.contains("证件号码,姓名,账号,金额(分)"), "{html}");
    let audit = template_audit(app, "ccb-form").await;
    assert_eq!(audit.len(), 2, "created and edited: {audit:?}");
    assert!(audit
        .iter()
        .all(|action| action == "payroll.bank_template.save"));

    // A new template with an existing code does not overwrite it.
    let r = post_form(
        &c,
        app,
        &template_form(
            &csrf,
            "rcb-gbk",
            "冒名模板",
            &["line_no", "account", "amount"],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"err-code\"") && html.contains("已被使用"),
        "{html}"
    );
    let now = api_templates(app).await;
    assert_eq!(now["rcb-gbk"], before["rcb-gbk"]);
    assert_eq!(now.len(), 4);
}

/// Bad forms answer 422 with the Chinese message next to the field, keep what was
/// typed, and save nothing.
async fn bad_bank_template_form_is_refused(app: &TestApp) {
    let c = page_login(app, "admin").await;
    let (_, html) = get_page(&c, app.url("/payroll/bank-templates")).await;
    let csrf = csrf_in(&html);
    let before = api_templates(app).await;
    let good = || {
        template_form(
            &csrf,
            "bad-one",
            "农业银行",
            &["line_no", "account", "amount"],
        )
    };
    let mut empty_name = good();
    set(&mut empty_name, "name", "  ");
    let unknown_column = template_form(
        &csrf,
        "bad-one",
        "农业银行",
        &["line_no", "account", "amount", "foo"],
    );
    let mut bad_format = good();
    set(&mut bad_format, "format", "pdf");
    let no_account = template_form(&csrf, "bad-one", "农业银行", &["line_no", "amount"]);
    let mut bad_code = good();
    set(&mut bad_code, "code", "农行");
    let twice = template_form(
        &csrf,
        "bad-one",
        "农业银行",
        &["line_no", "account", "amount", "account"],
    );
    let cases: [(&str, Form, &str, &str); 6] = [
        ("column twice", twice, "err-columns", "选了两次"),
        ("empty name", empty_name, "err-name", "请填写模板名称"),
        (
            "unknown column",
            unknown_column,
            "err-columns",
            "未知的列“foo”",
        ),
        (
            "bad format",
            bad_format,
            "err-format",
            "文件格式应为 csv 或 xlsx",
        ),
        ("no account", no_account, "err-columns", "至少应包含账号"),
        ("bad code", bad_code, "err-code", "模板代码应为"),
    ];
    for (what, form, field, message) in cases {
        let r = post_form(&c, app, &form).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"form-error\""), "{what}: {html}");
        assert!(html.contains(&format!("id=\"{field}\"")), "{what}: {html}");
        assert!(html.contains(message), "{what}: {html}");
        // The form is shown again with what was typed.
        assert!(html.contains("id=\"template-form\""), "{what}");
        assert!(
            html.contains("value=\"bad-one\"") || what == "bad code",
            "{what}"
        );
        assert_eq!(api_templates(app).await, before, "{what}: nothing saved");
    }
    // The unknown key stays selected in its position so it can be corrected.
    let r = post_form(
        &c,
        app,
        &template_form(&csrf, "bad-one", "农业银行", &["foo", "account", "amount"]),
    )
    .await;
    let html = r.text().await.unwrap();
    let col1 = html.find("id=\"col-1\"").unwrap();
    let col2 = html.find("id=\"col-2\"").unwrap();
    assert!(
        html[col1..col2].contains("<option value=\"foo\" selected>"),
        "{html}"
    );
    assert!(html[col2..].contains("<option value=\"account\" selected>"));
    assert_eq!(api_templates(app).await, before);
}

/// Only the city administrator configures templates: a township clerk or director posting
/// the form anyway gets 403 with a Chinese message, and no template changes.
async fn bank_template_form_refuses_other_roles(app: &TestApp) {
    let before = api_templates(app).await;
    for user in ["staff", "director"] {
        let c = page_login(app, user).await;
        let (_, html) = get_page(&c, app.url("/payroll")).await;
        let csrf = csrf_in(&html);
        // A new template, and an edit of a seeded one.
        let new = template_form(
            &csrf,
            "clerk-bank",
            "乡镇自建模板",
            &["line_no", "account", "amount"],
        );
        let mut edit = template_form(&csrf, "rcb-gbk", "改名", &["line_no", "account", "amount"]);
        set(&mut edit, "editing", "rcb-gbk");
        for form in [new, edit] {
            let r = post_form(&c, app, &form).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{user}");
            let html = r.text().await.unwrap();
            assert!(
                html.contains("只有市民政局管理员可以配置银行代发模板"),
                "{user}: {html}"
            );
            assert!(!html.contains("id=\"template-form\""), "{user}");
        }
        assert_eq!(api_templates(app).await, before, "{user}: nothing changed");
    }
    for code in ["clerk-bank", "rcb-gbk"] {
        assert!(template_audit(app, code).await.is_empty(), "{code}");
    }
}

/// The audit records of one template.
async fn template_audit(app: &TestApp, code: &str) -> Vec<String> {
    fixtures::audit_actions(&app.db.app, "bank_template", code)
        .await
        .unwrap()
}

/// An enrolment's back pay for `period`, requested by the system; returns its id.
async fn back_pay_request(app: &TestApp, enrolment: i64, period: &str) -> i64 {
    app.db
        .app
        .payroll()
        .request_back_pay(
            &Actor::system("t"),
            &NewBackPay {
                enrolment_id: enrolment,
                period: period.into(),
                amount: String::new(),
                reason: "审批滞后".into(),
                case_id: None,
            },
        )
        .await
        .unwrap()
        .id
}

/// The status of one back-pay record, as the API lists it.
async fn back_pay_status(app: &TestApp, id: i64) -> String {
    let (c, _) = api_login(app, "auditor").await;
    let list = get_json(&c, app.url("/api/v1/payroll/back-pay")).await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("back pay {id} in {list}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A back-pay decision is never implied: through the API a missing `approve`, a misspelt
/// field or a non-boolean is refused (422, naming the field) and the request stays pending;
/// through the page only 批准 or 不批准 is accepted. Explicit decisions still work both ways.
async fn back_pay_decision_must_be_explicit(app: &TestApp) {
    let e = enrol(app, "张三", 1, 50_000).await;
    let api_one = back_pay_request(app, e, "2026-09").await;
    let page_one = back_pay_request(app, e, "2026-10").await;
    let (director, dcsrf) = api_login(app, "director").await;
    let url = app.url(&format!("/api/v1/payroll/back-pay/{api_one}/decision"));
    for body in [
        json!({}),
        json!({"decision": "approve"}),
        json!({"approve": "true"}),
        json!({"approve": null}),
    ] {
        let (status, v) = post_json(&director, &dcsrf, url.clone(), body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_error(&v, "validation");
        assert!(v["error"]["fields"]["approve"].is_string(), "{body}: {v}");
        assert_eq!(back_pay_status(app, api_one).await, "pending", "{body}");
    }

    let c = page_login(app, "director").await;
    let (_, html) = get_page(&c, app.url("/payroll/back-pay")).await;
    let csrf = csrf_in(&html);
    let id = page_one.to_string();
    for decision in [None, Some(""), Some("approved"), Some("yes")] {
        let mut form = vec![
            ("_csrf", csrf.as_str()),
            ("action", "decide"),
            ("id", id.as_str()),
        ];
        if let Some(d) = decision {
            form.push(("decision", d));
        }
        let r = c
            .post(app.url("/payroll/back-pay"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "decision {decision:?}"
        );
        let html = r.text().await.unwrap();
        assert!(
            html.contains("id=\"form-error\"") && html.contains("请选择审批结论"),
            "{decision:?}: {html}"
        );
        assert_eq!(back_pay_status(app, page_one).await, "pending");
    }
    let decisions = fixtures::audit_actions(&app.db.app, "payroll_adjustment", &id)
        .await
        .unwrap();
    assert!(
        decisions
            .iter()
            .all(|action| action != "payroll.back_pay.decide"),
        "{decisions:?}"
    );

    // Explicit decisions: the API approves, the page rejects.
    let (status, v) = post_json(&director, &dcsrf, url, json!({"approve": true})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(back_pay_status(app, api_one).await, "approved");
    let r = c
        .post(app.url("/payroll/back-pay"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("action", "decide"),
            ("id", id.as_str()),
            ("decision", "reject"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(back_pay_status(app, page_one).await, "rejected");
}

/// No ASCII letters in a message (the word JSON aside, where `allow_json`).
fn assert_no_english(body: &Value, allow_json: bool) {
    let msg = body["error"]["message"].as_str().unwrap();
    let msg = if allow_json {
        msg.replace("JSON", "")
    } else {
        msg.to_string()
    };
    assert!(
        !msg.chars().any(|c| c.is_ascii_alphabetic()),
        "message without English: {body}"
    );
}

/// A malformed query or JSON body is answered with the API's JSON error and a Chinese
/// message, never axum's English text.
async fn api_rejections_answer_chinese_json(app: &TestApp) {
    enrol(app, "张三", 1, 50_000).await;
    let id = generate(app, "staff", "2026-11").await["created"][0]["id"]
        .as_i64()
        .unwrap();
    let (staff, csrf) = api_login(app, "staff").await;
    let (auditor, _) = api_login(app, "auditor").await;
    for (c, path) in [
        (
            &staff,
            format!("/api/v1/payroll/batches/{id}/lines?limit=abc"),
        ),
        (
            &staff,
            format!("/api/v1/payroll/batches/{id}/lines?offset=1.5"),
        ),
        (&auditor, "/api/v1/audit?limit=many".to_string()),
        (&staff, "/api/v1/offices?limit=x".to_string()),
        // The other modules' APIs answer the same way.
        (&staff, "/api/v1/households?limit=abc".to_string()),
        (&staff, "/api/v1/cases?offset=x".to_string()),
        (&staff, "/api/v1/enrolments?limit=1e3".to_string()),
    ] {
        let r = c.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("application/json"), "{path}: {ct}");
        let body: Value = r.json().await.unwrap();
        assert_error(&body, "bad_request");
        assert_no_english(&body, false);
    }
    // The same query well-formed is answered.
    let ok = get_json(
        &staff,
        app.url(&format!("/api/v1/payroll/batches/{id}/lines?limit=1")),
    )
    .await;
    assert_eq!(ok["items"].as_array().unwrap().len(), 1);

    // JSON bodies: a field of the wrong type, broken JSON, and no JSON at all.
    let url = app.url("/api/v1/payroll/batches");
    let (status, body) = post_json(&staff, &csrf, url.clone(), json!({"month": 202611})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "bad_request");
    assert_no_english(&body, false);
    for (content_type, raw) in [
        ("application/json", "{\"month\": "),
        ("text/plain", "month=2026-11"),
    ] {
        let r = staff
            .post(&url)
            .header("x-csrf-token", &csrf)
            .header("content-type", content_type)
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{content_type}");
        let body: Value = r.json().await.unwrap();
        assert_error(&body, "bad_request");
        assert_no_english(&body, true);
    }
}

/// A stored UTC timestamp as Beijing time, computed here independently of the server.
fn beijing(ts: &str) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(ts).unwrap_or_else(|e| panic!("{ts}: {e}"));
    (t.with_timezone(&chrono::Utc) + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// November's batch of the enrolments so far, generated by staff, signed off and exported;
/// returns its id and lines.
async fn exported_november(app: &TestApp) -> (i64, Vec<PayrollLine>) {
    let batch = generate(app, "staff", "2026-11").await["created"][0]["id"]
        .as_i64()
        .unwrap();
    let payroll = app.db.app.payroll();
    let sys = Actor::system("t");
    payroll.sign_off(&sys, batch, None).await.unwrap();
    app.db
        .app
        .bank_files()
        .export(&sys, batch, "utf8-csv")
        .await
        .unwrap();
    let (lines, _) = payroll
        .lines(&sys, batch, &Default::default())
        .await
        .unwrap();
    (batch, lines)
}

/// The bank's return file for `lines`: every payment made but 李四's (账户冻结).
fn returned_but_lisi(lines: &[PayrollLine]) -> String {
    let mut file = String::from("明细号,姓名,金额(分),处理结果,失败原因\n");
    for l in lines {
        let failed = l.beneficiary_name == "李四";
        file.push_str(&format!(
            "{},{},{},{},{}\n",
            l.id,
            l.beneficiary_name,
            l.amount.0,
            if failed { "失败" } else { "成功" },
            if failed { "账户冻结" } else { "" }
        ));
    }
    file
}

/// November for 张三 and 李四, signed off, exported and returned with 李四's payment
/// failed (one open exception); returns the batch id.
async fn reconciled_with_failure(app: &TestApp) -> i64 {
    enrol(app, "张三", 1, 50_000).await;
    enrol(app, "李四", 2, 42_050).await;
    let (batch, lines) = exported_november(app).await;
    let sys = Actor::system("t");
    let file = returned_but_lisi(&lines);
    app.db
        .app
        .bank_files()
        .import_return(&sys, batch, "回盘.csv", file.as_bytes())
        .await
        .unwrap();
    batch
}

/// The batch page shows when it was generated, signed off, exported and reconciled in
/// Beijing time, not the stored UTC values.
async fn batch_page_shows_beijing_time(app: &TestApp) {
    let id = reconciled_with_failure(app).await;
    let b = app
        .db
        .app
        .payroll()
        .get(&Actor::system("t"), id)
        .await
        .unwrap();
    let c = page_login(app, "staff").await;
    let (status, html) = get_page(&c, app.url(&format!("/payroll/batches/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    let stored = [
        b.generated_at.clone(),
        b.signed_off_at.clone().unwrap(),
        b.exported_at.clone().unwrap(),
        b.reconciled_at.clone().unwrap(),
    ];
    for ts in &stored {
        assert!(ts.ends_with('Z'), "stored in UTC: {ts}");
        assert!(html.contains(&beijing(ts)), "{ts} as Beijing time: {html}");
        assert!(!html.contains(ts.as_str()), "raw {ts} shown: {html}");
    }
}

/// After a month of payroll work (generation, sign-off, bank file, return, correction,
/// back pay, the next month generated and regenerated, a ledger export) the audit page
/// names every payroll action and record type in Chinese, none by its code.
async fn audit_page_labels_payroll_actions(app: &TestApp) {
    let id = reconciled_with_failure(app).await;
    let (staff, scsrf) = api_login(app, "staff").await;
    let (director, dcsrf) = api_login(app, "director").await;
    let ex = get_json(&staff, app.url("/api/v1/payroll/exceptions?status=open")).await;
    let xid = ex["items"][0]["id"].as_i64().unwrap();
    let (status, v) = post_json(
        &staff,
        &scsrf,
        app.url(&format!("/api/v1/payroll/exceptions/{xid}/correction")),
        json!({"account_number": "6230000011112222"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let e = enrol(app, "王五", 3, 30_000).await;
    let (status, bp) = post_json(
        &staff,
        &scsrf,
        app.url("/api/v1/payroll/back-pay"),
        json!({"enrolment_id": e, "period": "2026-09", "amount": "", "reason": "审批滞后"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{bp}");
    let (status, v) = post_json(
        &director,
        &dcsrf,
        app.url(&format!("/api/v1/payroll/back-pay/{}/decision", bp["id"])),
        json!({"approve": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let dec = generate(app, "staff", "2026-12").await["created"][0]["id"]
        .as_i64()
        .unwrap();
    let (status, v) = post_json(
        &staff,
        &scsrf,
        app.url(&format!("/api/v1/payroll/batches/{dec}/regenerate")),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let c = page_login(app, "staff").await;
    let x = c.get(app.url("/payroll/ledger.xlsx")).send().await.unwrap();
    assert_eq!(x.status(), StatusCode::OK);

    let c = page_login(app, "auditor").await;
    let (status, html) = get_page(&c, app.url("/audit")).await;
    assert_eq!(status, StatusCode::OK);
    // The November batch's rows: the record type in Chinese with the batch's id.
    let rows: Vec<&str> = html
        .split("<tr>")
        .filter(|r| r.contains(&format!("<td>发放批次 {id}</td>")))
        .collect();
    for label in [
        "生成发放批次",
        "审核签发发放批次",
        "生成银行代发文件",
        "导入银行回盘文件",
    ] {
        assert!(
            rows.iter()
                .any(|r| r.contains(&format!("<td>{label}</td>"))),
            "{label}: {html}"
        );
    }
    for label in [
        "更正退票信息",
        "申请补发",
        "审批补发",
        "补发列入批次或无需补发",
        "退票列入重发",
        "重新生成发放批次",
        "补发撤出批次，待列入",
        "退票撤出批次，待重发",
        "导出资金发放台账",
    ] {
        assert!(
            html.contains(&format!("<td>{label}</td>")),
            "{label}: {html}"
        );
    }
    assert!(html.contains(&format!("<td>退票 {xid}</td>")), "{html}");
    assert!(
        html.contains(&format!("<td>补发 {}</td>", bp["id"])),
        "{html}"
    );
    // No action or record type by its code.
    for code in ["<td>payroll", "<td>payment_", "<td>bank_template"] {
        assert!(!html.contains(code), "{code} shown: {html}");
    }
}

/// The OpenAPI document: the return file is a multipart upload, sign-off, close and
/// regenerate take no body, the bank file answers with a file, a decision needs `approve`.
async fn openapi_declares_payroll_bodies(app: &TestApp) {
    let doc: Value = client()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let op = |path: &str| doc["paths"][format!("/api/v1/payroll{path}")]["post"].clone();
    let returns = op("/batches/{id}/returns");
    let content = returns["requestBody"]["content"].as_object().unwrap();
    assert_eq!(
        content.keys().collect::<Vec<_>>(),
        ["multipart/form-data"],
        "{returns}"
    );
    assert!(content["multipart/form-data"]["schema"]["properties"]["file"].is_object());
    for path in [
        "/batches/{id}/sign-off",
        "/batches/{id}/close",
        "/batches/{id}/regenerate",
    ] {
        let o = op(path);
        assert!(o.is_object(), "{path}");
        assert!(o.get("requestBody").is_none(), "{path}: {o}");
    }
    let bank = op("/batches/{id}/bank-file");
    let files = bank["responses"]["200"]["content"].as_object().unwrap();
    assert!(files.contains_key("text/csv"), "{bank}");
    assert!(files.keys().any(|k| k.contains("spreadsheetml")), "{bank}");
    assert_eq!(
        bank["requestBody"]["content"]["application/json"]["schema"]["required"],
        json!(["template"])
    );
    let decision = op("/back-pay/{id}/decision");
    assert_eq!(
        decision["requestBody"]["content"]["application/json"]["schema"]["required"],
        json!(["approve"])
    );
    // Ordinary changes still take JSON.
    assert!(op("/batches")["requestBody"]["content"]["application/json"].is_object());
}

/// The batch with a failed payment links to its exceptions and to the ledger; the
/// exceptions page names each exception's batch with a link and narrows to one batch;
/// ledger rows link to the month's batches.
async fn payroll_pages_link_batches_exceptions_and_ledger(app: &TestApp) {
    let id = reconciled_with_failure(app).await;
    let b = app
        .db
        .app
        .payroll()
        .get(&Actor::system("t"), id)
        .await
        .unwrap();
    let c = page_login(app, "staff").await;
    let (_, html) = get_page(&c, app.url(&format!("/payroll/batches/{id}"))).await;
    let exceptions = format!("href=\"/payroll/exceptions?batch={id}\"");
    assert!(html.contains(&exceptions), "{html}");
    let ledger = format!(
        "href=\"/payroll/ledger?from={m}&amp;to={m}&amp;program={}&amp;within={}\"",
        b.program,
        b.township_code,
        m = b.month
    );
    assert!(html.contains(&ledger), "{html}");

    let (status, html) = get_page(&c, app.url(&format!("/payroll/exceptions?batch={id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("李四") && html.contains("账户冻结"), "{html}");
    assert!(
        html.contains(&format!(
            "<a href=\"/payroll/batches/{id}\" class=\"batch-link\">{}</a>",
            b.batch_no.replace("urban_dibao", "城市最低生活保障")
        )),
        "{html}"
    );
    // December has no failures: narrowed to it, the list is empty; its batch page has no
    // link to exceptions.
    let dec = generate(app, "staff", "2026-12").await["created"][0]["id"]
        .as_i64()
        .unwrap();
    let (_, html) = get_page(&c, app.url(&format!("/payroll/exceptions?batch={dec}"))).await;
    assert!(!html.contains("李四"), "{html}");
    let (_, html) = get_page(&c, app.url(&format!("/payroll/batches/{dec}"))).await;
    assert!(!html.contains("/payroll/exceptions?batch="), "{html}");
    // Another township's staff cannot narrow to this batch.
    let other = page_login(app, "staff2").await;
    let (status, _) = get_page(&other, app.url(&format!("/payroll/exceptions?batch={id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, html) = get_page(&c, app.url("/payroll/ledger?from=2026-11&to=2026-12")).await;
    for month in ["2026-11", "2026-12"] {
        assert!(
            html.contains(&format!(
                "href=\"/payroll?month={month}&amp;program={}\"",
                b.program
            )),
            "{month}: {html}"
        );
    }
}

/// A success notice is chosen by a code: text put in the query is never shown; the codes
/// the pages redirect with show their messages, with the numbers of the outcome; redirect
/// targets are plain ASCII.
async fn success_notices_come_from_codes_only(app: &TestApp) {
    let e = enrol(app, "张三", 1, 50_000).await;
    let c = page_login(app, "staff").await;
    let (_, html) = get_page(&c, app.url("/payroll?month=2026-11")).await;
    let csrf = csrf_in(&html);
    let r = c
        .post(app.url("/payroll"))
        .form(&[("_csrf", csrf.as_str()), ("month", "2026-11")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.is_ascii() && !to.contains('%'), "{to}");
    let (_, html) = get_page(&c, app.url(&to)).await;
    assert!(html.contains("已生成1个批次、1笔，合计500.00元"), "{html}");
    let id = {
        let i = html.find("/payroll/batches/").unwrap() + "/payroll/batches/".len();
        html[i..].split('"').next().unwrap().to_string()
    };

    let fake = "银行账户已变更，请拨打4008000000";
    let q = serde_urlencoded::to_string([("x", fake)]).unwrap();
    let q = q.trim_start_matches("x=");
    for path in [
        format!("/payroll/batches/{id}?saved={q}"),
        format!("/payroll?month=2026-11&generated={q}"),
        format!("/payroll/exceptions?saved={q}"),
        format!("/payroll/back-pay?saved={q}"),
        format!("/payroll/bank-templates?saved={q}"),
        // A known code without its numbers shows nothing either.
        format!("/payroll/batches/{id}?saved=returned&paid_count={q}"),
    ] {
        let (status, html) = get_page(&c, app.url(&path)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!html.contains("银行账户已变更"), "{path}: {html}");
        assert!(!html.contains("id=\"notice\""), "{path}: {html}");
    }

    // The director signs off through the page: a code, and its fixed message.
    let d = page_login(app, "director").await;
    let (_, html) = get_page(&d, app.url(&format!("/payroll/batches/{id}"))).await;
    let dcsrf = csrf_in(&html);
    // The form carries the version the director is looking at.
    let reviewed = html
        .split("name=\"reviewed\" value=\"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .expect("the sign-off form carries the reviewed version")
        .to_string();
    let stale = d
        .post(app.url(&format!("/payroll/batches/{id}")))
        .form(&[
            ("_csrf", dcsrf.as_str()),
            ("action", "sign_off"),
            ("reviewed", "2000-01-01T00:00:00.000000Z"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert!(stale.text().await.unwrap().contains("重新生成"));
    let r = d
        .post(app.url(&format!("/payroll/batches/{id}")))
        .form(&[
            ("_csrf", dcsrf.as_str()),
            ("action", "sign_off"),
            ("reviewed", reviewed.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(to, format!("/payroll/batches/{id}?saved=signed_off"));
    let (_, html) = get_page(&d, app.url(&to)).await;
    assert!(
        html.contains("<div class=\"alert ok\" id=\"notice\">已审核签发</div>"),
        "{html}"
    );

    // A draft regenerated after its only beneficiary left is removed: the list of its
    // month says so, through an ASCII redirect.
    let (_, html) = get_page(&c, app.url("/payroll?month=2026-12")).await;
    let r = c
        .post(app.url("/payroll"))
        .form(&[("_csrf", csrf_in(&html).as_str()), ("month", "2026-12")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = get_page(&c, app.url("/payroll?month=2026-12")).await;
    let dec = {
        let i = html.find("/payroll/batches/").unwrap() + "/payroll/batches/".len();
        html[i..].split('"').next().unwrap().to_string()
    };
    fixtures::change_enrolment(
        &app.db.app,
        e,
        &EnrolmentChange {
            status: Some(EnrolmentStatus::Ended),
            end_month: Some(YearMonth::parse("2026-11").unwrap()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let r = c
        .post(app.url(&format!("/payroll/batches/{dec}")))
        .form(&[("_csrf", csrf.as_str()), ("action", "regenerate")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.is_ascii() && to.contains("month=2026-12"), "{to}");
    let (_, html) = get_page(&c, app.url(&to)).await;
    assert!(
        html.contains("本月已无应发对象，草稿批次已删除") && html.contains("2026-12"),
        "{html}"
    );
}

/// A refused back-pay request and a refused correction show the refusal next to
/// the field and keep what the clerk typed.
async fn refused_forms_keep_what_was_typed(app: &TestApp) {
    let id = reconciled_with_failure(app).await;
    let e = enrol(app, "王五", 3, 30_000).await;
    let c = page_login(app, "staff").await;
    let (_, html) = get_page(&c, app.url("/payroll/back-pay")).await;
    let csrf = csrf_in(&html);
    let enrolment = e.to_string();
    let reason = "审批滞后，十月未发";
    let post = |fields: Vec<(&'static str, String)>| {
        let mut form = vec![("_csrf", csrf.clone()), ("action", "request".to_string())];
        form.extend(fields);
        c.post(app.url("/payroll/back-pay")).form(&form).send()
    };
    let r = post(vec![
        ("enrolment_id", enrolment.clone()),
        ("period", "2026-10".into()),
        ("amount", "三百元".into()),
        ("reason", reason.into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"err-amount\"") && html.contains("补发金额格式不正确"),
        "{html}"
    );
    for typed in [enrolment.as_str(), "2026-10", "三百元", reason] {
        assert!(
            html.contains(&format!("value=\"{typed}\"")),
            "{typed}: {html}"
        );
    }
    // An enrolment number that does not exist: a field message, not an error page.
    let r = post(vec![
        ("enrolment_id", "987654".into()),
        ("period", "2026-10".into()),
        ("amount", String::new()),
        ("reason", reason.into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"err-enrolment_id\"") && html.contains("value=\"987654\""),
        "{html}"
    );
    let (auditor, _) = api_login(app, "auditor").await;
    let list = get_json(&auditor, app.url("/api/v1/payroll/back-pay")).await;
    assert_eq!(list["total"], 0, "nothing requested: {list}");

    // The failed payment's correction with a bad account number.
    let x = app
        .db
        .app
        .payroll()
        .exceptions(&Actor::system("t"), None)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.batch_id == id)
        .unwrap()
        .id;
    let note = "本人换卡";
    let r = c
        .post(app.url(&format!("/payroll/exceptions/{x}")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("bank_name", "县农商行"),
            ("account_number", "6230-12AB"),
            ("account_holder", "李四"),
            ("note", note),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    let row = &html[html.find(&format!("id=\"exception-{x}\"")).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("id=\"err-account_number\"") && row.contains("银行账号应为"),
        "{row}"
    );
    for typed in ["县农商行", "6230-12AB", "李四", note] {
        assert!(
            row.contains(&format!("value=\"{typed}\"")),
            "{typed}: {row}"
        );
    }
    let still = app
        .db
        .app
        .payroll()
        .exceptions(&Actor::system("t"), Some("open"))
        .await
        .unwrap();
    assert!(still.iter().any(|e| e.id == x), "still open");
}

/// The month in Beijing now, as the dashboard names it.
fn beijing_month() -> String {
    YearMonth::of(minzheng_web::cases::today()).to_string()
}

/// The 工作台 shows where this month's payroll stands in the user's township: not generated,
/// then its drafts (not the next month's); 退票 and 补发 waiting; another township sees none
/// of it.
async fn dashboard_shows_the_months_payroll(app: &TestApp) {
    enrol(app, "张三", 1, 50_000).await;
    enrol(app, "李四", 2, 42_050).await;
    let staff = page_login(app, "staff").await;
    let num = |html: &str, id: &str| -> String {
        html.split(&format!("id=\"{id}\">"))
            .nth(1)
            .and_then(|v| v.split('<').next())
            .unwrap_or_else(|| panic!("{id} on the dashboard"))
            .to_string()
    };
    let shown = |html: &str| -> String {
        html.split("资金发放 · ")
            .nth(1)
            .map(|v| v.chars().take(7).collect())
            .unwrap_or_else(|| panic!("the month on the dashboard: {html}"))
    };
    // The server's month: the one when the page was asked for or, past midnight at the
    // month's end, the next.
    let before = beijing_month();
    let (status, html) = get_page(&staff, app.url("/")).await;
    let after = beijing_month();
    assert_eq!(status, StatusCode::OK, "{html}");
    let month = shown(&html);
    assert!(
        month == before || month == after,
        "{month}: {before}–{after}"
    );
    assert!(
        html.contains("id=\"payroll-none\""),
        "nothing generated yet"
    );
    // This month and the next are generated alike, so the counts below are the same
    // should the month turn while the test runs; each month counts its own batch only.
    let next = YearMonth::parse(&month).unwrap().next().to_string();
    for m in [&month, &next] {
        let out = generate(app, "staff", m).await;
        assert_eq!(out["created"].as_array().unwrap().len(), 1, "{out}");
    }
    let (_, html) = get_page(&staff, app.url("/")).await;
    assert!([&month, &next].contains(&&shown(&html)), "{html}");
    assert!(!html.contains("id=\"payroll-none\""));
    assert_eq!(num(&html, "payroll-batches"), "1");
    assert_eq!(num(&html, "payroll-drafts"), "1");
    assert_eq!(num(&html, "payroll-exported"), "0");
    assert!(html.contains("应发920.50元"), "{html}");
    assert_eq!(num(&html, "payroll-open-exceptions"), "0");
    assert_eq!(num(&html, "payroll-back-pay"), "0");
    // 西城's clerk: nothing of 东城's month.
    let other = page_login(app, "staff2").await;
    let (_, html) = get_page(&other, app.url("/")).await;
    assert!(
        html.contains("id=\"payroll-none\""),
        "another township's batches are not counted"
    );
}

/// A draft with a line lacking a bank account names it (the sign-off would be refused) and
/// offers no sign-off; the API lists such lines with `missing_account=true`.
async fn a_draft_names_the_lines_without_an_account(app: &TestApp) {
    enrol(app, "张三", 1, 50_000).await;
    enrol(app, "无卡户", 2, 42_050).await;
    fixtures::set_account_number(&app.db.app, "无卡户", "")
        .await
        .unwrap();
    let id = generate(app, "staff", "2026-11").await["created"][0]["id"]
        .as_i64()
        .unwrap();
    let d = page_login(app, "director").await;
    let (status, html) = get_page(&d, app.url(&format!("/payroll/batches/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    let warning = html
        .split("id=\"missing-accounts\"")
        .nth(1)
        .and_then(|v| v.split("</div>").next())
        .expect("the draft warns of the missing account");
    assert!(warning.contains("1 笔明细缺少银行账号"), "{warning}");
    assert!(
        warning.contains("无卡户") && !warning.contains("张三"),
        "{warning}"
    );
    assert!(!html.contains("id=\"sign-off\""), "no sign-off button");
    assert!(html.contains("id=\"sign-off-blocked\""));
    let (c, _) = api_login(app, "staff").await;
    let missing = get_json(
        &c,
        app.url(&format!(
            "/api/v1/payroll/batches/{id}/lines?missing_account=true"
        )),
    )
    .await;
    assert_eq!(missing["total"], 1);
    assert_eq!(missing["items"][0]["beneficiary_name"], "无卡户");
    // With the account filled in and the draft regenerated, the warning is gone.
    fixtures::set_account_number(&app.db.app, "无卡户", "6214000000000002")
        .await
        .unwrap();
    let s = page_login(app, "staff").await;
    let (_, html) = get_page(&s, app.url(&format!("/payroll/batches/{id}"))).await;
    let scsrf = csrf_in(&html);
    let r = s
        .post(app.url(&format!("/payroll/batches/{id}")))
        .form(&[("_csrf", scsrf.as_str()), ("action", "regenerate")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = get_page(&d, app.url(&format!("/payroll/batches/{id}"))).await;
    assert!(!html.contains("id=\"missing-accounts\""));
    assert!(html.contains("id=\"sign-off\""));
}

/// 本月审核签发: the director's review page lists the month's drafts with their changes and
/// one form; a tampered generation signs nothing and keeps the page; the form as shown
/// signs every batch and lands on the list with the notice. The clerk sees no form.
async fn the_months_review_page_signs_every_ticked_draft(app: &TestApp) {
    enrol(app, "张三", 1, 50_000).await;
    enrol(app, "李四", 2, 42_050).await;
    generate(app, "staff", "2026-11").await;
    let (status, html) = get_page(
        &page_login(app, "staff").await,
        app.url("/payroll/review?month=2026-11"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(r#"id="sign-all""#), "the clerk cannot sign");
    let c = page_login(app, "director").await;
    let (status, html) = get_page(&c, app.url("/payroll/review?month=2026-11")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("本月审核签发") && html.contains("新增 2 人"),
        "{html}"
    );
    let csrf = csrf_in(&html);
    let ticked: Vec<String> = html
        .match_indices(r#"name="batch" value=""#)
        .map(|(i, m)| html[i + m.len()..].split('"').next().unwrap().to_string())
        .collect();
    assert!(!ticked.is_empty(), "{html}");
    let post = |batches: Vec<String>| {
        let mut form = vec![
            ("_csrf".to_string(), csrf.clone()),
            ("month".to_string(), "2026-11".to_string()),
        ];
        form.extend(batches.into_iter().map(|b| ("batch".to_string(), b)));
        c.post(app.url("/payroll/review")).form(&form).send()
    };
    let stale: Vec<String> = ticked
        .iter()
        .map(|b| {
            format!(
                "{}:2000-01-01T00:00:00.000000Z",
                b.split(':').next().unwrap()
            )
        })
        .collect();
    let r = post(stale).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("form-error") && page.contains("未签发任何批次"),
        "{page}"
    );
    let r = post(ticked.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let (_, list) = get_page(&c, app.url(&to)).await;
    assert!(
        list.contains(&format!("已审核签发{}个批次", ticked.len())),
        "{list}"
    );
    let (_, html) = get_page(&c, app.url("/payroll/review?month=2026-11")).await;
    assert!(
        html.contains("review-empty"),
        "nothing left to sign: {html}"
    );
}

/// After two downloads of a signed-off batch's bank file, the batch page lists both: who
/// (by name), when (Beijing time, as the log recorded it), with which template (by name)
/// and the file's name; before any download it says there was none.
async fn batch_page_lists_each_bank_file_download(app: &TestApp) {
    enrol(app, "张三", 1, 50_000).await;
    let batch = generate(app, "staff", "2026-11").await["created"][0]["id"]
        .as_i64()
        .unwrap();
    let sys = Actor::system("t");
    app.db
        .app
        .payroll()
        .sign_off(&sys, batch, None)
        .await
        .unwrap();
    let page = format!("/payroll/batches/{batch}");
    let c = page_login(app, "director").await;
    let (_, before) = get_page(&c, app.url(&page)).await;
    assert!(before.contains("id=\"no-downloads\""), "{before}");

    let templates = api_templates(app).await;
    let (staff, csrf) = api_login(app, "staff").await;
    for t in ["utf8-csv", "utf8-csv"] {
        let r = staff
            .post(app.url(&format!("/api/v1/payroll/batches/{batch}/bank-file")))
            .header("x-csrf-token", &csrf)
            .json(&json!({"template": t}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let records = app
        .db
        .app
        .audit()
        .list(&sys, Some(("payroll_batch", &batch.to_string())), 50, 0)
        .await
        .unwrap();
    let downloads: Vec<_> = records
        .iter()
        .filter(|e| e.action == "payroll.bank_file")
        .collect();
    assert_eq!(downloads.len(), 2);
    let names = app.db.app.users().names().await.unwrap();
    let (_, html) = get_page(&c, app.url(&page)).await;
    let section = &html[html
        .find("id=\"bank-file-downloads\"")
        .expect("downloads section")..];
    let section = &section[..section.find("</section>").unwrap()];
    assert_eq!(section.matches("<tr><td>").count(), 2, "{section}");
    let template_name = templates["utf8-csv"]["name"].as_str().unwrap();
    for e in downloads {
        let after: Value = serde_json::from_str(e.after_json.as_deref().unwrap()).unwrap();
        assert!(section.contains(&beijing(&e.at)), "{} in {section}", e.at);
        assert!(
            !section.contains(e.at.as_str()),
            "raw time shown: {section}"
        );
        assert!(
            section.contains(after["file_name"].as_str().unwrap()),
            "{section}"
        );
    }
    assert!(section.contains(&names["staff"]), "{section}");
    assert!(section.contains(template_name), "{section}");
    assert!(
        !section.contains(">staff<"),
        "user name instead of the person: {section}"
    );
}

/// The batch page lists each accepted return file: the clerk's name (not the user name),
/// Beijing time, the file's name, the head of its SHA-256, and its paid and failed counts
/// and amounts.
async fn batch_page_lists_each_return_file(app: &TestApp) {
    enrol(app, "张三", 1, 50_000).await;
    enrol(app, "李四", 2, 42_050).await;
    let (batch, lines) = exported_november(app).await;
    let page = format!("/payroll/batches/{batch}");
    let c = page_login(app, "director").await;
    let (_, before) = get_page(&c, app.url(&page)).await;
    assert!(before.contains("id=\"no-returns\""), "{before}");

    let file = returned_but_lisi(&lines);
    let (staff, csrf) = api_login(app, "staff").await;
    let (status, out) = upload_return(
        &staff,
        &csrf,
        app.url(&format!("/api/v1/payroll/batches/{batch}/returns")),
        file.into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let kept = app
        .db
        .app
        .bank_files()
        .return_files(&Actor::system("t"), batch)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    let names = app.db.app.users().names().await.unwrap();
    let (_, html) = get_page(&c, app.url(&page)).await;
    let section = &html[html.find("id=\"return-files\"").expect("returns section")..];
    let section = &section[..section.find("</section>").unwrap()];
    assert_eq!(section.matches("<tr><td>").count(), 1, "{section}");
    let r = &kept[0];
    for shown in [
        beijing(&r.imported_at),
        names["staff"].clone(),
        r.file_name.clone(),
        r.sha256[..12].to_string(),
        "500.00".to_string(),
        "420.50".to_string(),
    ] {
        assert!(section.contains(&shown), "{shown} in {section}");
    }
    assert!(
        !section.contains(r.imported_at.as_str()),
        "raw time: {section}"
    );
    assert!(!section.contains(">staff<"), "user name shown: {section}");
}

/// The village assistant's payroll page shows the township's batches of the month with
/// their state and, read-only, the lines of the assistant's village (masked, with count
/// and sum) — never another village's; the batch page itself stays the township's.
async fn a_village_assistant_reads_their_villages_payroll(app: &TestApp) {
    enrol(app, "张三", 1, 50_000).await; // V2
    enrol(app, "李四", 2, 42_050).await; // V1, the assistant's village
    enrol(app, "王五", 4, 30_000).await; // V1
    let c = page_login(app, "assistant").await;
    let (status, empty) = get_page(&c, app.url("/payroll?month=2026-11")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(empty.contains("id=\"no-village-batches\""), "{empty}");

    let batch = generate(app, "staff", "2026-11").await["created"][0]["id"]
        .as_i64()
        .unwrap();
    let (status, html) = get_page(&c, app.url("/payroll?month=2026-11")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"village-batches\""), "{html}");
    assert!(html.contains("草稿"), "the batch's state: {html}");
    assert!(html.contains("李四") && html.contains("王五"), "{html}");
    assert!(!html.contains("张三"), "another village's line: {html}");
    assert!(html.contains("720.50"), "the village's sum: {html}");
    assert!(
        !html.contains("51180219800101002X"),
        "full ID number: {html}"
    );
    assert!(!html.contains("id=\"generate-form\""), "{html}");

    app.db
        .app
        .payroll()
        .sign_off(&Actor::system("t"), batch, None)
        .await
        .unwrap();
    let (_, html) = get_page(&c, app.url("/payroll?month=2026-11")).await;
    assert!(
        html.contains("已审核签发"),
        "the state follows the batch: {html}"
    );
    let (status, _) = get_page(&c, app.url(&format!("/payroll/batches/{batch}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The township's staff still see the township's list.
    let staff = page_login(app, "staff").await;
    let (_, html) = get_page(&staff, app.url("/payroll?month=2026-11")).await;
    assert!(html.contains("id=\"batches\"") && !html.contains("village-batches"));
}
