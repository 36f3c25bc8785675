//! HTTP tests for office standardization (规范化建设) against the real server on port 0, on
//! SQLite and (when `MINZHENG_TEST_POSTGRES_URL` is set) PostgreSQL.

mod common;

use common::*;
use minzheng_web::testing::TestApp;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = super::start(minzheng_app::testing::TestDb::sqlite().await).await;
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
                    let app = super::start(db).await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}

both!(
    standards_endpoints_refuse_other_jurisdictions,
    staff_change_is_filed_by_township_and_approved_by_city,
    console_pages_and_audited_export,
    photo_uploads_are_checked,
    api_validation_and_illegal_transitions,
    profile_patch_changes_only_the_fields_sent,
    an_open_inspection_is_prefilled_from_the_offices_evaluation,
);

const DONGCHENG: &str = "511802001";
const XICHENG: &str = "511802002";
const HEBEI: &str = "511802003";
/// A small photo limit so the oversized case needs only a few kilobytes.
const PHOTO_LIMIT: usize = 4096;

async fn start(db: minzheng_app::testing::TestDb) -> TestApp {
    TestApp::start_with(
        db,
        minzheng_web::WebConfig {
            attachment_limit: PHOTO_LIMIT,
            ..Default::default()
        },
    )
    .await
}

async fn get_json(c: &Client, url: String) -> Value {
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    r.json().await.unwrap()
}

/// Foreign ids as seen by the city: 西城's pending staff change, 河北's inspection and subsidy.
async fn foreign_ids(app: &TestApp) -> (i64, i64, i64) {
    let (admin, _) = api_login(app, "admin").await;
    let changes = get_json(&admin, app.url("/api/v1/standards/staff-changes")).await;
    let change = changes["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["township_code"] == XICHENG)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let hebei = get_json(
        &admin,
        app.url(&format!("/api/v1/standards/offices/{HEBEI}")),
    )
    .await;
    let inspection = hebei["inspections"][0]["id"].as_i64().unwrap();
    let subsidy = hebei["subsidies"][0]["id"].as_i64().unwrap();
    (change, inspection, subsidy)
}

/// 东城街道's staff get 404 from every standardization endpoint for another township's real
/// records (西城's office and staff change, 河北's inspection and subsidy) — never 403, which
/// would tell they exist — and only their own office in lists; afterwards the city reads
/// every one of them as before, and the log holds nothing new.
async fn standards_endpoints_refuse_other_jurisdictions(app: &TestApp) {
    let (change, inspection, subsidy) = foreign_ids(app).await;
    let reads = vec![
        format!("/api/v1/standards/offices/{XICHENG}"),
        format!("/api/v1/standards/offices/{HEBEI}"),
        format!("/api/v1/standards/inspections/{inspection}"),
        "/api/v1/standards/staff-changes".to_string(),
        "/api/v1/standards/subsidies".to_string(),
    ];
    let before = admin_view(app, &reads).await;
    let log_before = changes_logged(app).await;
    let (c, csrf) = api_login(app, "staff").await;
    let mut checked = 0;
    for (method, path, _, _) in minzheng_web::openapi::OPERATIONS {
        if !path.starts_with("/api/v1/standards/") || !path.contains('{') {
            continue;
        }
        let id = if path.contains("staff-changes") {
            change
        } else if path.contains("inspections/{id}") {
            inspection
        } else {
            subsidy
        };
        let url = app.url(
            &path
                .replace("{code}", XICHENG)
                .replace("{id}", &id.to_string()),
        );
        let body = json!({"kind": "office", "area_m2": "20", "decision": "approve", "note": "x",
            "items": "x", "budget": "1", "timeline": "x", "inspectors": "x", "inspected_on": "2026-11-01",
            "disbursed_on": "2026-11-01", "population": 1});
        // Each body parses for its endpoint, so only jurisdiction can refuse it.
        let body = if path.ends_with("/scores") {
            json!({"items": [{"id": 1, "score": 1}]})
        } else {
            body
        };
        let req = match *method {
            "get" => c.get(&url),
            "patch" => c.patch(&url).json(&body),
            "post" => c.post(&url).json(&body),
            m => panic!("unexpected method {m}"),
        }
        .header("x-csrf-token", &csrf);
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
        checked += 1;
    }
    assert!(checked >= 15, "{checked} endpoints checked");
    // Lists only hold the own office.
    let mine = get_json(&c, app.url("/api/v1/standards/offices")).await;
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["township_code"], DONGCHENG);
    let subs = get_json(&c, app.url("/api/v1/standards/subsidies")).await;
    assert_eq!(subs["items"].as_array().unwrap().len(), 0);
    let pending = get_json(&c, app.url("/api/v1/standards/staff-changes")).await;
    assert!(pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["township_code"] == DONGCHENG));
    // Pages too; the console sends a township user to their own office.
    for path in [
        format!("/standards/offices/{XICHENG}"),
        format!("/standards/inspections/{inspection}"),
        "/standards/attachments/1".to_string(),
        "/standards/export.xlsx?within=511802002".to_string(),
    ] {
        let r = c.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let r = c.get(app.url("/standards")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/standards/offices/{DONGCHENG}")
    );
    // A form post to the other office is refused and changes nothing.
    let r = c
        .post(app.url(&format!("/standards/offices/{XICHENG}")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("action", "room"),
            ("kind", "office"),
            ("area_m2", "99"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (admin, _) = api_login(app, "admin").await;
    let xc = get_json(
        &admin,
        app.url(&format!("/api/v1/standards/offices/{XICHENG}")),
    )
    .await;
    assert!(xc["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["area_dm2"] != 9900));
    let after = admin_view(app, &reads).await;
    for ((path, b), (_, a)) in before.iter().zip(&after) {
        assert!(b == a, "{path} changed");
    }
    assert_eq!(changes_logged(app).await, log_before);
}

async fn staff_change_is_filed_by_township_and_approved_by_city(app: &TestApp) {
    let (director, dcsrf) = api_login(app, "director").await;
    let page = director
        .get(app.url(&format!("/standards/offices/{DONGCHENG}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("达标情况") && html.contains("人员异动") && html.contains("change-form"));
    // A form without its document is re-rendered with the Chinese reason; nothing filed.
    let r = director
        .post(app.url(&format!("/standards/offices/{DONGCHENG}")))
        .form(&[
            ("_csrf", dcsrf.as_str()),
            ("action", "change"),
            ("kind", "appoint"),
            ("name", "孙丽"),
            ("position", "民政专职工作人员"),
            ("effective_on", "2026-12-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("请填写任用文件文号"));
    // Filing through the page form.
    let r = director
        .post(app.url(&format!("/standards/offices/{DONGCHENG}")))
        .form(&[
            ("_csrf", dcsrf.as_str()),
            ("action", "change"),
            ("kind", "appoint"),
            ("name", "孙丽"),
            ("position", "民政专职工作人员"),
            ("full_time", "1"),
            ("effective_on", "2026-12-01"),
            ("doc_number", "雨东办〔2026〕40号"),
            ("doc_date", "2026-11-20"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let office = get_json(
        &director,
        app.url(&format!("/api/v1/standards/offices/{DONGCHENG}")),
    )
    .await;
    let before = office["staff"].as_array().unwrap().len();
    assert_eq!(
        office["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"] == "孙丽")
            .count(),
        1
    );
    let change = office["changes"][0].clone();
    assert_eq!(change["status"], "pending");
    assert_eq!(change["name"], "孙丽");
    let id = change["id"].as_i64().unwrap();
    // The director cannot approve it: 403 with a Chinese message.
    let r = director
        .post(app.url(&format!("/api/v1/standards/staff-changes/{id}/decision")))
        .header("x-csrf-token", &dcsrf)
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_error(&r.json().await.unwrap(), "forbidden");
    // The city approves; the roster grows; a second decision conflicts.
    let (admin, acsrf) = api_login(app, "admin").await;
    let r = admin
        .post(app.url(&format!("/api/v1/standards/staff-changes/{id}/decision")))
        .header("x-csrf-token", &acsrf)
        .json(&json!({"decision": "approve", "note": "同意备案"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = admin
        .post(app.url(&format!("/api/v1/standards/staff-changes/{id}/decision")))
        .header("x-csrf-token", &acsrf)
        .json(&json!({"decision": "reject", "note": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_error(&r.json().await.unwrap(), "conflict");
    let office = get_json(
        &director,
        app.url(&format!("/api/v1/standards/offices/{DONGCHENG}")),
    )
    .await;
    assert_eq!(office["staff"].as_array().unwrap().len(), before + 1);
    let audit = get_json(&admin, app.url("/api/v1/audit?limit=20")).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"staff_change.approve") && actions.contains(&"staff_change.file"));
}

async fn console_pages_and_audited_export(app: &TestApp) {
    let (admin, _) = api_login(app, "admin").await;
    let html = admin
        .get(app.url("/standards"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("standards-console") && html.contains("county-chart"));
    assert!(html.contains("东城街道民政办公室") && html.contains("逾期未报"));
    assert!(html.contains("规范化建设参数") && html.contains("待审批的人员异动"));
    // Filter: only passed offices.
    let html = admin
        .get(app.url("/standards?within=511802&status=passed"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("河北街道民政办公室") && !html.contains("西城街道民政办公室"));
    for path in [
        "/standards/subsidies",
        "/standards/inspections/1",
        &format!("/standards/offices/{XICHENG}"),
    ] {
        let r = admin.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    let r = admin
        .get(app.url("/standards/export.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an xlsx is a zip");
    let audit = get_json(&admin, app.url("/api/v1/audit?limit=5")).await;
    assert_eq!(audit["items"][0]["action"], "standards.export");
    // The auditor reads the console but cannot change parameters.
    let (auditor, acsrf) = api_login(app, "auditor").await;
    let r = auditor.get(app.url("/standards")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = auditor
        .post(app.url("/standards"))
        .form(&[
            ("_csrf", acsrf.as_str()),
            ("action", "params"),
            ("effective_from", "2026-01-01"),
            ("population_split", "20000"),
            ("staff_small", "2"),
            ("staff_large", "3"),
            ("staff_city_street", "4"),
            ("three_rooms_m2", "60"),
            ("archive_cabinets", "2"),
            ("hall_standalone_m2", "50"),
            ("hall_shared_m2", "25"),
            ("supplies_store_m2", "15"),
            ("subsidy_percent", "50"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

fn multipart(boundary: &str, filename: &str, content_type: &str, data: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    b.extend_from_slice(data);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    b
}

async fn photo_uploads_are_checked(app: &TestApp) {
    let (admin, csrf) = api_login(app, "admin").await;
    // 大兴街道 has an inspection under way.
    let dx = get_json(&admin, app.url("/api/v1/standards/offices/511802005")).await;
    let id = dx["inspections"][0]["id"].as_i64().unwrap();
    let boundary = "mzboundary7MA4YWxkTrZu0gW";
    let upload = |csrf: Option<&str>, body: Vec<u8>| {
        let url = match csrf {
            Some(t) => app.url(&format!("/standards/inspections/{id}/photos?_csrf={t}")),
            None => app.url(&format!("/standards/inspections/{id}/photos")),
        };
        admin
            .post(url)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
    };
    let png = b"\x89PNG\r\n\x1a\nsmall".to_vec();
    // No CSRF token: refused.
    let r = upload(None, multipart(boundary, "a.png", "image/png", &png))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Not an image.
    let r = upload(
        Some(&csrf),
        multipart(boundary, "a.html", "text/html", b"<script>x</script>"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("只能上传照片"));
    // Too big.
    let big = [png.clone(), vec![0u8; PHOTO_LIMIT]].concat();
    let r = upload(
        Some(&csrf),
        multipart(boundary, "big.png", "image/png", &big),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("照片过大"));
    let insp = get_json(
        &admin,
        app.url(&format!("/api/v1/standards/inspections/{id}")),
    )
    .await;
    assert_eq!(insp["id"], id);
    let html = admin
        .get(app.url(&format!("/standards/inspections/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("/standards/attachments/"), "nothing stored");
    // A real photo is stored and served back with its type.
    let r = upload(
        Some(&csrf),
        multipart(boundary, "现场.png", "image/png", &png),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = admin
        .get(app.url(&format!("/standards/inspections/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let i = html.find("/standards/attachments/").unwrap() + "/standards/attachments/".len();
    let aid: String = html[i..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let r = admin
        .get(app.url(&format!("/standards/attachments/{aid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().as_ref(), png.as_slice());
    // Another township cannot fetch it.
    let (staff, _) = api_login(app, "staff").await;
    let r = staff
        .get(app.url(&format!("/standards/attachments/{aid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn api_validation_and_illegal_transitions(app: &TestApp) {
    let (staff, csrf) = api_login(app, "staff").await;
    let r = staff
        .post(app.url(&format!("/api/v1/standards/offices/{DONGCHENG}/rooms")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"kind": "office", "area_m2": "很大"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_error(&body, "validation");
    assert!(body["error"]["fields"]["area_m2"]
        .as_str()
        .unwrap()
        .contains("面积"));
    let r = staff
        .post(app.url(&format!(
            "/api/v1/standards/offices/{DONGCHENG}/investments"
        )))
        .header("x-csrf-token", &csrf)
        .json(&json!({"spent_on": "2026-11-01", "item": "x", "amount": "1.234"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The plan of 东城 is already accepted: resubmitting conflicts.
    let r = staff
        .post(app.url(&format!("/api/v1/standards/offices/{DONGCHENG}/plan")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"items": "x", "budget": "1", "timeline": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_error(&r.json().await.unwrap(), "conflict");
    // The township cannot open an inspection of itself.
    let r = staff
        .post(app.url(&format!(
            "/api/v1/standards/offices/{DONGCHENG}/inspections"
        )))
        .header("x-csrf-token", &csrf)
        .json(&json!({"inspectors": "x", "inspected_on": "2026-11-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The city: passing 河北 again is refused; failing without findings is a validation error.
    let (admin, acsrf) = api_login(app, "admin").await;
    let r = admin
        .post(app.url("/api/v1/standards/inspections/1/decision"))
        .header("x-csrf-token", &acsrf)
        .json(&json!({"decision": "pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let rules = get_json(&admin, app.url("/api/v1/standards/rules")).await;
    assert_eq!(rules["items"].as_array().unwrap().len(), 16);
    assert_eq!(rules["items"][0]["clause"], "二(二)");
}

/// A PATCH of the profile changes only the fields it sends (`null` clears one); a bad body
/// gets every field's message at once and changes nothing; so does the office's contact
/// PATCH.
async fn profile_patch_changes_only_the_fields_sent(app: &TestApp) {
    let (staff, csrf) = api_login(app, "staff").await;
    let office = app.url(&format!("/api/v1/standards/offices/{DONGCHENG}"));
    let before = get_json(&staff, office.clone()).await;
    assert_eq!(before["profile"]["city_street"], true);
    assert_eq!(before["profile"]["contact_name"], "办公室");
    let url = app.url(&format!("/api/v1/standards/offices/{DONGCHENG}/profile"));
    let r = staff
        .patch(&url)
        .header("x-csrf-token", &csrf)
        .json(&json!({"population": -1, "kind": "zhen", "city_street": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_error(&body, "validation");
    let fields = &body["error"]["fields"];
    assert!(fields["population"].as_str().unwrap().contains("辖区人口"));
    assert_eq!(fields["city_street"], "只有街道才能标记为市区街道办事处");
    assert_eq!(
        get_json(&staff, office.clone()).await["profile"],
        before["profile"]
    );
    let r = staff
        .patch(&url)
        .header("x-csrf-token", &csrf)
        .json(&json!({"population": 30000, "kind": "jiedao"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["population"], 30000);
    assert_eq!(p["kind"], "jiedao");
    // What the body left out is kept.
    for kept in [
        "city_street",
        "contact_name",
        "contact_phone",
        "signage",
        "policy_board",
        "notice_board",
        "archives_organized",
    ] {
        assert_eq!(p[kept], before["profile"][kept], "{kept}");
    }
    assert_eq!(get_json(&staff, office.clone()).await["profile"], p);
    // `null` clears one field, and only that one.
    let r = staff
        .patch(&url)
        .header("x-csrf-token", &csrf)
        .json(&json!({"contact_name": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let q: Value = r.json().await.unwrap();
    assert_eq!(q["contact_name"], "");
    assert_eq!(q["city_street"], p["city_street"]);
    assert_eq!(q["population"], 30000);
    // An empty body changes nothing and says so.
    let r = staff
        .patch(&url)
        .header("x-csrf-token", &csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(get_json(&staff, office).await["profile"], q);

    // The office's contact details: a PATCH of the phone keeps the address.
    let contact = app.url(&format!("/api/v1/offices/{DONGCHENG}"));
    let r = staff
        .patch(&contact)
        .header("x-csrf-token", &csrf)
        .json(&json!({"phone": "0835-2222222", "address": "雨城区东城街道1号"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = staff
        .patch(&contact)
        .header("x-csrf-token", &csrf)
        .json(&json!({"phone": "0835-3333333"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let o = get_json(&staff, contact).await;
    assert_eq!(o["phone"], "0835-3333333");
    assert_eq!(o["address"], "雨城区东城街道1号");
}

/// The automatic items of an open inspection agree with the office page's evaluation of the
/// same day: after the office's facts change, each item shows the rule's status as the
/// office page does and, unless the inspectors scored it themselves, the score that status
/// pre-fills; a decision records the checklist so shown.
async fn an_open_inspection_is_prefilled_from_the_offices_evaluation(app: &TestApp) {
    const DAXING: &str = "511802005";
    let (admin, csrf) = api_login(app, "admin").await;
    let office_url = app.url(&format!("/api/v1/standards/offices/{DAXING}"));
    let statuses = |office: &Value| -> std::collections::BTreeMap<String, String> {
        office["evaluation"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["rule"]["id"].as_str().unwrap().to_string(),
                    r["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let before = get_json(&admin, office_url.clone()).await;
    let id = before["inspections"][0]["id"].as_i64().unwrap();
    let insp_url = app.url(&format!("/api/v1/standards/inspections/{id}"));
    let agree = |insp: &Value, office: &Value, kept: Option<i64>| {
        let now = statuses(office);
        let mut auto = 0;
        for it in insp["items"].as_array().unwrap() {
            let Some(rule) = it["rule_id"].as_str() else {
                continue;
            };
            auto += 1;
            assert_eq!(
                it["auto_status"].as_str().unwrap(),
                now[rule],
                "{rule}: {it}"
            );
            if Some(it["id"].as_i64().unwrap()) == kept {
                assert_eq!(it["score"], 3, "the inspectors' own score stays: {it}");
            } else {
                let full = it["max_score"].as_i64().unwrap();
                let want = if now[rule] == "met" { full } else { 0 };
                assert_eq!(it["score"], want, "{rule}: {it}");
            }
        }
        assert!(auto > 0);
    };
    agree(&get_json(&admin, insp_url.clone()).await, &before, None);

    // The inspectors score one automatic item themselves.
    let insp = get_json(&admin, insp_url.clone()).await;
    let own = insp["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["rule_id"].is_string())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = admin
        .post(app.url(&format!("/api/v1/standards/inspections/{id}/scores")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"items": [{"id": own, "score": 3, "note": "现场核实"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // The office's facts change after the inspection was opened.
    let p = &before["profile"];
    let flip = |k: &str| !p[k].as_bool().unwrap_or(false);
    let r = admin
        .patch(app.url(&format!("/api/v1/standards/offices/{DAXING}/profile")))
        .header("x-csrf-token", &csrf)
        .json(
            &json!({"policy_board": flip("policy_board"), "notice_board": flip("notice_board"),
                      "archives_organized": flip("archives_organized")}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let after = get_json(&admin, office_url.clone()).await;
    let opened = statuses(&before);
    let now = statuses(&after);
    assert!(
        insp["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|it| it["rule_id"].as_str().is_some_and(|r| opened[r] != now[r])),
        "a scored rule changed: {opened:?} → {now:?}"
    );
    agree(&get_json(&admin, insp_url.clone()).await, &after, Some(own));
    // The page shows the same.
    let html = admin
        .get(app.url(&format!("/standards/inspections/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let shown = get_json(&admin, insp_url.clone()).await;
    for it in shown["items"].as_array().unwrap() {
        if let Some(s) = it["score"].as_i64() {
            assert!(
                html.contains(&format!(
                    "name=\"score_{}\" class=\"score\" size=\"3\" value=\"{s}\"",
                    it["id"]
                )),
                "{it}"
            );
        }
    }

    // Failing it records the checklist as shown.
    let r = admin
        .post(app.url(&format!("/api/v1/standards/inspections/{id}/decision")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"decision": "fail", "note": "公开栏未设置，限期整改"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let decided = get_json(&admin, insp_url).await;
    assert_eq!(decided["status"], "failed");
    agree(&decided, &after, Some(own));
}
