//! HTTP tests of assistance cases: the whole 低保 procedure through the API, the
//! refusals (wrong role 403, illegal step 409, missing reasons 422, other township 404,
//! auditor 403) leaving the case unchanged, the public notice board's whitelist (no ID,
//! phone, account or address; never a minor in 特困), and the pages and forms.

mod common;

use common::*;
use minzheng_domain::IdNumber;
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
    dibao_procedure_through_the_api,
    refusals_leave_the_case_unchanged,
    public_notice_shows_only_whitelisted_fields,
    case_pages_and_forms,
    the_case_file_and_page_say_where_the_notice_stands,
    the_next_step_names_who_takes_it_at_the_deciding_level,
);

const VILLAGE: &str = "511802001001";

/// An 18-digit ID number with its check digit.
fn id18(first17: &str) -> String {
    let c = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    format!("{first17}{c}")
}

struct Member<'a> {
    name: &'a str,
    id: String,
    relation: &'a str,
}

/// Registers a household (as 东城街道 or 西城街道 staff) and returns its id and the
/// members' person ids by name.
async fn household(
    app: &TestApp,
    user: &str,
    village: &str,
    head: Member<'_>,
    others: &[Member<'_>],
    extra: Value,
) -> (i64, Vec<(String, i64)>) {
    let (c, csrf) = api_login(app, user).await;
    let mut body = json!({"village_code": village, "registration_type": "rural",
        "head_name": head.name, "head_id_number": head.id,
        "head_health": "healthy", "head_work_capacity": "full"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = c
        .post(app.url("/api/v1/households"))
        .header("x-csrf-token", &csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let mut d: Value = r.json().await.unwrap();
    let hid = d["household"]["id"].as_i64().unwrap();
    for m in others {
        let r = c
            .post(app.url(&format!("/api/v1/households/{hid}/members")))
            .header("x-csrf-token", &csrf)
            .json(
                &json!({"name": m.name, "id_number": m.id, "relation": m.relation,
                "health": "健康", "work_capacity": "有劳动能力"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "add {}", m.name);
        d = r.json().await.unwrap();
    }
    let members = d["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_string(),
                m["id"].as_i64().unwrap(),
            )
        })
        .collect();
    (hid, members)
}

async fn post_json(c: &Client, url: String, csrf: &str, body: Value) -> (StatusCode, Value) {
    let r = c
        .post(url)
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn act(app: &TestApp, c: &Client, csrf: &str, id: i64, body: Value) -> (StatusCode, Value) {
    post_json(
        c,
        app.url(&format!("/api/v1/cases/{id}/actions")),
        csrf,
        body,
    )
    .await
}

/// Acts and insists it worked; returns the case detail.
async fn act_ok(app: &TestApp, c: &Client, csrf: &str, id: i64, body: Value) -> Value {
    let (s, v) = act(app, c, csrf, id, body.clone()).await;
    assert_eq!(s, StatusCode::OK, "{body} → {v}");
    v
}

async fn get_json(c: &Client, url: String) -> Value {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// The case's state as the township staff sees it.
async fn state_of(app: &TestApp, id: i64) -> String {
    let (c, _) = api_login(app, "staff").await;
    let d = get_json(&c, app.url(&format!("/api/v1/cases/{id}"))).await;
    d["case"]["state"].as_str().unwrap().to_string()
}

async fn apply(app: &TestApp, user: &str, body: Value) -> i64 {
    let (c, csrf) = api_login(app, user).await;
    let (s, v) = post_json(&c, app.url("/api/v1/cases"), &csrf, body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{body} → {v}");
    assert_eq!(v["case"]["state"], "submitted");
    v["case"]["id"].as_i64().unwrap()
}

/// Takes a submitted 低保 case to the first-review opinion (amount computed).
async fn to_opinion(app: &TestApp, id: i64) -> Value {
    let (staff, scsrf) = api_login(app, "staff").await;
    act_ok(app, &staff, &scsrf, id, json!({"action": "accept"})).await;
    act_ok(
        app,
        &staff,
        &scsrf,
        id,
        json!({"action": "start_investigation", "investigators": ["刘芳", "张伟"],
               "authorization_attached": true, "findings": "家中无稳定收入"}),
    )
    .await;
    let (director, dcsrf) = api_login(app, "director").await;
    act_ok(
        app,
        &director,
        &dcsrf,
        id,
        json!({"action": "record_opinion", "proposed_amount": null}),
    )
    .await
}

fn days_ago(n: i64) -> chrono::NaiveDate {
    minzheng_web::cases::today() - chrono::Duration::days(n)
}

async fn public_page(
    app: &TestApp,
    code: &str,
) -> (StatusCode, String, reqwest::header::HeaderMap) {
    let r = client()
        .get(app.url(&format!("/public/notices/{code}")))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    (status, r.text().await.unwrap(), headers)
}

/// 村协理员 applies → staff accepts and investigates with two → director's opinion (the
/// calculator's amount) → staff publishes → the public board shows the masked name and
/// the amount only → closing early is refused → (notice date moved back) closed → the
/// approver confirms → staff enrols → the enrolment carries the approved amount.
async fn dibao_procedure_through_the_api(app: &TestApp) {
    let head_id = id18("51180219700305123");
    let spouse_id = id18("51180219720611234");
    let (hid, _) = household(
        app,
        "staff",
        VILLAGE,
        Member {
            name: "王大明",
            id: head_id.clone(),
            relation: "户主",
        },
        &[Member {
            name: "李小红",
            id: spouse_id.clone(),
            relation: "配偶",
        }],
        json!({"address": "幸福村三组88号", "phone": "13987654321",
               "account_number": "6222020000009876543", "bank_name": "农村信用社"}),
    )
    .await;
    let id = apply(
        app,
        "assistant",
        json!({"household_id": hid, "program": "rural_dibao", "reason": "因病致贫"}),
    )
    .await;
    // The assistant sees the case, with the ID number masked.
    let (asst, acsrf) = api_login(app, "assistant").await;
    let d = get_json(&asst, app.url(&format!("/api/v1/cases/{id}"))).await;
    assert_eq!(d["case"]["subject_name"], "王大明");
    assert!(d["case"]["subject_id_number"]
        .as_str()
        .unwrap()
        .contains('*'));
    assert_eq!(d["household_size"], 2);
    let (staff, scsrf) = api_login(app, "staff").await;
    let d = get_json(&staff, app.url(&format!("/api/v1/cases/{id}"))).await;
    assert_eq!(d["case"]["subject_id_number"], head_id.as_str());
    assert!(d["next_actions"]
        .as_array()
        .unwrap()
        .contains(&json!("accept")));

    let d = act_ok(
        app,
        &staff,
        &scsrf,
        id,
        json!({"action": "accept", "note": "材料齐全"}),
    )
    .await;
    assert_eq!(d["case"]["state"], "accepted");
    assert!(!d["clocks"].as_array().unwrap().is_empty());
    let d = act_ok(
        app,
        &staff,
        &scsrf,
        id,
        json!({"action": "start_investigation", "investigators": ["刘芳", "张伟"],
               "authorization_attached": true, "findings": "夫妻二人均患慢性病，无稳定收入"}),
    )
    .await;
    assert_eq!(d["case"]["state"], "investigating");
    assert_eq!(d["surveys"].as_array().unwrap().len(), 1);
    let calc = get_json(&staff, app.url(&format!("/api/v1/cases/{id}/calculation"))).await;
    let amount = calc["amount"].as_i64().unwrap();
    assert!(amount > 0, "{calc}");
    assert!(!calc["explanation"]["formula"].as_str().unwrap().is_empty());

    let (director, dcsrf) = api_login(app, "director").await;
    let d = act_ok(
        app,
        &director,
        &dcsrf,
        id,
        json!({"action": "record_opinion", "proposed_amount": null}),
    )
    .await;
    assert_eq!(d["case"]["state"], "prelim_opinion");
    assert_eq!(d["case"]["proposed_fen"], amount);
    assert_eq!(d["case"]["calc"]["amount"], amount);

    // Posted on the server's today: the day the request began or, past midnight, the next.
    let before = minzheng_web::cases::today().to_string();
    let d = act_ok(app, &staff, &scsrf, id, json!({"action": "publish"})).await;
    let after = minzheng_web::cases::today().to_string();
    assert_eq!(d["case"]["state"], "publicised");
    let posted = d["case"]["notice_posted_on"].as_str().unwrap_or_default();
    assert!(
        posted == before || posted == after,
        "{posted}: {before}–{after}"
    );

    // The public board: no sign-in, the masked name and the amount, nothing else.
    let (status, html, headers) = public_page(app, "5118").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.contains_key("content-security-policy"));
    assert!(html.contains("王*明"), "{html}");
    assert!(html.contains(&minzheng_domain::Fen(amount).to_string()));
    for secret in [
        "王大明",
        head_id.as_str(),
        spouse_id.as_str(),
        "13987654321",
        "6222020000009876543",
        "幸福村三组88号",
        "李小红",
    ] {
        assert!(!html.contains(secret), "public page shows {secret}");
    }
    let (_, html, _) = public_page(app, VILLAGE).await;
    assert!(html.contains("王*明"));
    let (_, html, _) = public_page(app, "511802002").await;
    assert!(!html.contains("王*明"));
    // The national 12-digit form of a city, county or township is the same place.
    for padded in ["511800000000", "511802000000", "511802001000"] {
        let (status, html, _) = public_page(app, padded).await;
        assert_eq!(status, StatusCode::OK, "{padded}");
        assert!(html.contains("王*明"), "{padded}");
    }
    let (_, html, _) = public_page(app, "511802002000").await;
    assert!(!html.contains("王*明"));
    let (status, _, _) = public_page(app, "51x").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The board names the place and where objections go; an unknown code says so.
    let (_, html, _) = public_page(app, "5118").await;
    assert!(html.contains("四川省雅安市 · 截至"), "{html}");
    assert!(html.contains("异议请向东城街道民政办公室反映"), "{html}");
    assert!(!html.contains("区划代码 5118"));
    let (status, html, _) = public_page(app, "519999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("没有区划代码为519999的地区"), "{html}");

    // Closing the notice before the period ends is refused, and changes nothing.
    let (s, v) = act(app, &staff, &scsrf, id, json!({"action": "close_notice"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_error(&v, "conflict");
    assert!(v["error"]["message"].as_str().unwrap().contains("公示期"));
    assert_eq!(state_of(app, id).await, "publicised");

    // Ten days later (the notice date moved back), the period is over.
    app.db.set_case_notice_posted_on(id, days_ago(10)).await;
    let d = act_ok(app, &staff, &scsrf, id, json!({"action": "close_notice"})).await;
    assert_eq!(d["case"]["state"], "under_confirmation");

    // The wrong role is refused (403) and nothing changes.
    let (s, v) = act(
        app,
        &asst,
        &acsrf,
        id,
        json!({"action": "approve", "amount": 1}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_error(&v, "forbidden");
    assert_eq!(state_of(app, id).await, "under_confirmation");
    // The approver sees it on their due list? Not due yet; the list answers.
    let (approver, pcsrf) = api_login(app, "approver").await;
    let due = get_json(&approver, app.url("/api/v1/cases/due")).await;
    assert!(due["items"].is_array());

    // Approval with the proposed amount (no amount given), then enrolment.
    let d = act_ok(app, &approver, &pcsrf, id, json!({"action": "approve"})).await;
    assert_eq!(d["case"]["state"], "approved");
    assert_eq!(d["case"]["approved_fen"], amount);
    let d = act_ok(app, &staff, &scsrf, id, json!({"action": "enrol"})).await;
    assert_eq!(d["case"]["state"], "enrolled");
    assert_eq!(d["enrolment"]["monthly_fen"], amount);
    let list = get_json(&staff, app.url("/api/v1/enrolments?program=rural_dibao")).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["monthly_fen"], amount);
    assert_eq!(list["items"][0]["beneficiary_id_number"], head_id.as_str());
    assert_eq!(list["items"][0]["household_size"], 2);
    let masked = get_json(&asst, app.url("/api/v1/enrolments")).await;
    assert!(masked["items"][0]["beneficiary_id_number"]
        .as_str()
        .unwrap()
        .contains('*'));
    // Lists and counts agree.
    let open = get_json(&staff, app.url("/api/v1/cases?state=open")).await;
    assert_eq!(open["total"], 0);
    let enrolled = get_json(&staff, app.url("/api/v1/cases?state=enrolled&q=王大明")).await;
    assert_eq!(enrolled["total"], 1);
    let other = get_json(&approver, app.url("/api/v1/cases")).await;
    assert_eq!(other["total"], 1);
    let d = get_json(&staff, app.url(&format!("/api/v1/cases/{id}"))).await;
    let actions: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
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

    // Papers: an image is kept with the case; anything else is refused with a reason.
    let upload = |data: Vec<u8>, name: &'static str| {
        let c = asst.clone();
        let csrf = acsrf.clone();
        let url = app.url(&format!("/api/v1/cases/{id}/attachments"));
        async move {
            let form = reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(data)
                    .file_name(name)
                    .mime_str("image/png")
                    .unwrap(),
            );
            let r = c
                .post(url)
                .header("x-csrf-token", csrf)
                .multipart(form)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = upload(b"\x89PNG\r\n\x1a\n0000".to_vec(), "授权核查书.png").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["attachments"][0]["filename"], "授权核查书.png");
    let (s, v) = upload(b"<html>not an image</html>".to_vec(), "x.png").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let d = get_json(&staff, app.url(&format!("/api/v1/cases/{id}"))).await;
    assert_eq!(d["attachments"].as_array().unwrap().len(), 1);

    // 变更: a change case on the enrolment; a second one while it is open is refused.
    let eid = d["enrolment"]["id"].as_i64().unwrap();
    let url = app.url(&format!("/api/v1/enrolments/{eid}/change"));
    let (s, v) = post_json(&asst, url.clone(), &acsrf, json!({"reason": ""})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = post_json(
        &asst,
        url.clone(),
        &acsrf,
        json!({"reason": "家庭成员外出务工，收入增加"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["case"]["kind"], "change");
    assert_eq!(v["case"]["state"], "accepted");
    assert_eq!(v["case"]["enrolment_id"], eid);
    let (s, v) = post_json(&asst, url, &acsrf, json!({"reason": "再次"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    // The case page offers both to front-line staff.
    let html = staff
        .get(app.url(&format!("/cases/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"change-form\""));
    assert!(html.contains("授权核查书.png"));
}

/// Each refusal answers with its class and Chinese message, and the case stays as it was.
async fn refusals_leave_the_case_unchanged(app: &TestApp) {
    let (hid, _) = household(
        app,
        "staff",
        VILLAGE,
        Member {
            name: "赵四",
            id: id18("51180219650101321"),
            relation: "户主",
        },
        &[],
        json!({}),
    )
    .await;
    let id = apply(
        app,
        "assistant",
        json!({"household_id": hid, "program": "rural_dibao", "reason": "无收入"}),
    )
    .await;
    // Illegal from this state: 409.
    let (approver, pcsrf) = api_login(app, "approver").await;
    let (s, v) = act(
        app,
        &approver,
        &pcsrf,
        id,
        json!({"action": "approve", "amount": 50000}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_error(&v, "conflict");
    assert_eq!(state_of(app, id).await, "submitted");
    // Missing reasons: 422 (given empty, or left out).
    let (staff, scsrf) = api_login(app, "staff").await;
    for body in [
        json!({"action": "not_accept", "reasons": "  "}),
        json!({"action": "not_accept"}),
    ] {
        let (s, v) = act(app, &staff, &scsrf, id, body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_error(&v, "validation");
        assert!(v["error"]["message"].as_str().unwrap().contains("理由"));
    }
    let (s, v) = act(
        app,
        &staff,
        &scsrf,
        id,
        json!({"action": "request_papers", "missing": []}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(state_of(app, id).await, "submitted");
    // The right step by the wrong role: 403.
    let (asst, acsrf) = api_login(app, "assistant").await;
    let (s, v) = act(app, &asst, &acsrf, id, json!({"action": "accept"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_error(&v, "forbidden");
    // The auditor reads but changes nothing: 403.
    let (aud, ucsrf) = api_login(app, "auditor").await;
    let d = get_json(&aud, app.url(&format!("/api/v1/cases/{id}"))).await;
    assert!(d["case"]["subject_id_number"]
        .as_str()
        .unwrap()
        .contains('*'));
    let (s, v) = act(app, &aud, &ucsrf, id, json!({"action": "accept"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _) = post_json(
        &aud,
        app.url("/api/v1/cases"),
        &ucsrf,
        json!({"household_id": hid, "program": "rural_dibao"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = post_json(
        &approver,
        app.url("/api/v1/cases"),
        &pcsrf,
        json!({"household_id": hid, "program": "rural_dibao"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // An unknown action: 400.
    let (s, v) = act(app, &staff, &scsrf, id, json!({"action": "fly"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "bad_request");
    // An urban program for a rural household: 422 naming the field.
    let (s, v) = post_json(
        &staff,
        app.url("/api/v1/cases"),
        &scsrf,
        json!({"household_id": hid, "program": "urban_dibao"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"]["fields"]["program"].is_string(), "{v}");
    // Another township's staff: every case endpoint answers 404.
    let (c2, csrf2) = api_login(app, "staff2").await;
    for (method, path, _, _) in minzheng_web::openapi::OPERATIONS {
        if !path.starts_with("/api/v1/cases/{id}") {
            continue;
        }
        let url = app.url(&path.replace("{id}", &id.to_string()));
        let req = match *method {
            "get" => c2.get(&url),
            "post" => c2.post(&url).json(&json!({"action": "accept"})),
            "put" => c2.put(&url).json(&json!({"rigid_spending_fen": 100})),
            m => panic!("unexpected method {m}"),
        };
        let r = req.header("x-csrf-token", &csrf2).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    let none = get_json(&c2, app.url("/api/v1/cases")).await;
    assert_eq!(none["total"], 0);
    let (s, _) = post_json(
        &c2,
        app.url("/api/v1/notices"),
        &csrf2,
        json!({"division_code": "511802002", "case_ids": [id]}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(state_of(app, id).await, "submitted");
    let d = get_json(&staff, app.url(&format!("/api/v1/cases/{id}"))).await;
    assert_eq!(
        d["events"].as_array().unwrap().len(),
        1,
        "only the submission"
    );
    // Program details: saved while the case is being prepared.
    let r = staff
        .put(app.url(&format!("/api/v1/cases/{id}/details")))
        .header("x-csrf-token", &scsrf)
        .json(&json!({"rigid_spending_fen": 30000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["case"]["details"]["rigid_spending_fen"], 30000);
    // Parameters: only the city administrator adds values.
    let param = json!({"program": "rural_dibao", "name": "standard", "region": "511802",
        "urban_rural": "rural", "effective_from": "2027-01-01",
        "value_json": "{\"type\":\"amount\",\"value\":90000}", "source": "测试文件"});
    for (c, csrf) in [(&staff, &scsrf), (&aud, &ucsrf)] {
        let (s, v) = post_json(c, app.url("/api/v1/params"), csrf, param.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    }
    let (admin, mcsrf) = api_login(app, "admin").await;
    let (s, v) = post_json(&admin, app.url("/api/v1/params"), &mcsrf, param.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = post_json(
        &admin,
        app.url("/api/v1/params"),
        &mcsrf,
        json!({"program": "rural_dibao", "name": "standard", "region": "511802",
            "effective_from": "2027-01-01", "value_json": "{\"type\":\"days\",\"value\":3}"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let rows = get_json(&staff, app.url("/api/v1/params?program=rural_dibao")).await;
    assert!(rows["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["effective_from"] == "2027-01-01" && r["source"] == "测试文件"));
}

/// Seeded persons with distinctive phone, account, address and ID: none of it reaches the
/// public board, and a minor in 特困 never appears on it.
async fn public_notice_shows_only_whitelisted_fields(app: &TestApp) {
    let a_id = id18("51180219601111567");
    let (ha, _) = household(
        app,
        "staff",
        VILLAGE,
        Member {
            name: "钱多多",
            id: a_id.clone(),
            relation: "户主",
        },
        &[],
        json!({"address": "青衣江路777号", "phone": "13700001111",
               "account_number": "6217000011112222333"}),
    )
    .await;
    let b_id = id18("51180219580808246");
    let (hb, _) = household(
        app,
        "staff",
        VILLAGE,
        Member {
            name: "周芷若",
            id: b_id.clone(),
            relation: "户主",
        },
        &[],
        json!({"address": "羌江南路555号", "phone": "13800002222",
               "account_number": "6217000033334444555"}),
    )
    .await;
    let minor_id = id18("51180220150303888");
    let parent_id = id18("51180219800202135");
    let (ht, members) = household(
        app,
        "staff",
        "511802001002",
        Member {
            name: "欧阳大山",
            id: parent_id.clone(),
            relation: "户主",
        },
        &[Member {
            name: "欧阳小雪",
            id: minor_id.clone(),
            relation: "子女",
        }],
        json!({"address": "雨城区学府路999号", "phone": "13900003333"}),
    )
    .await;
    let minor = members.iter().find(|(n, _)| n == "欧阳小雪").unwrap().1;

    let a = apply(
        app,
        "assistant",
        json!({"household_id": ha, "program": "rural_dibao"}),
    )
    .await;
    let b = apply(
        app,
        "staff",
        json!({"household_id": hb, "program": "rural_dibao"}),
    )
    .await;
    let t = apply(
        app,
        "staff",
        json!({"household_id": ht, "program": "tekun", "person_id": minor}),
    )
    .await;
    to_opinion(app, a).await;
    to_opinion(app, b).await;
    let (staff, scsrf) = api_login(app, "staff").await;
    act_ok(app, &staff, &scsrf, t, json!({"action": "accept"})).await;
    act_ok(
        app,
        &staff,
        &scsrf,
        t,
        json!({"action": "start_investigation", "investigators": ["刘芳", "张伟"],
               "authorization_attached": true}),
    )
    .await;
    let (director, dcsrf) = api_login(app, "director").await;
    act_ok(
        app,
        &director,
        &dcsrf,
        t,
        json!({"action": "record_opinion", "proposed_amount": 80000}),
    )
    .await;

    // Two cases of one village on one board.
    let (s, batch) = post_json(
        &staff,
        app.url("/api/v1/notices"),
        &scsrf,
        json!({"division_code": VILLAGE, "case_ids": [a, b]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{batch}");
    assert_eq!(batch["entries"].as_array().unwrap().len(), 2);
    assert_eq!(state_of(app, a).await, "publicised");
    assert_eq!(state_of(app, b).await, "publicised");
    // The minor in 特困 cannot be publicised, neither alone nor in a batch.
    let (s, v) = act(app, &staff, &scsrf, t, json!({"action": "publish"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("未成年人"));
    let (s, _) = post_json(
        &staff,
        app.url("/api/v1/notices"),
        &scsrf,
        json!({"division_code": "511802001002", "case_ids": [t]}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let d = act_ok(
        app,
        &staff,
        &scsrf,
        t,
        json!({"action": "send_without_notice"}),
    )
    .await;
    assert_eq!(d["case"]["state"], "under_confirmation");

    for code in ["5118", "511802", "511802001", VILLAGE] {
        let (status, html, _) = public_page(app, code).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("钱*多") && html.contains("周*若"),
            "{code}: {html}"
        );
        for secret in [
            "钱多多",
            "周芷若",
            a_id.as_str(),
            b_id.as_str(),
            minor_id.as_str(),
            parent_id.as_str(),
            "青衣江路777号",
            "羌江南路555号",
            "学府路999号",
            "13700001111",
            "13800002222",
            "13900003333",
            "6217000011112222333",
            "6217000033334444555",
            "欧阳小雪",
            "欧**雪",
            "欧阳大山",
        ] {
            assert!(!html.contains(secret), "{code} shows {secret}");
        }
    }
    let (_, html, _) = public_page(app, "511802001002").await;
    assert!(html.contains("no-notices"), "nothing posted in 002: {html}");
    // Staff see the batch and its print page (whitelisted too).
    let list = get_json(&staff, app.url("/api/v1/notices")).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let one = get_json(&staff, app.url(&format!("/api/v1/notices/{id}"))).await;
    assert_eq!(one["entries"].as_array().unwrap().len(), 2);
    let html = staff
        .get(app.url(&format!("/notices/{id}/print")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("钱*多") && !html.contains(a_id.as_str()));
    let (c2, _) = api_login(app, "staff2").await;
    let r = c2
        .get(app.url(&format!("/api/v1/notices/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn page(c: &Client, url: String) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

async fn form(c: &Client, url: String, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
    let r = c.post(url).form(fields).send().await.unwrap();
    let s = r.status();
    let loc = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (s, loc, r.text().await.unwrap())
}

/// The pages: apply through the form, act through the case page (refusals shown on the
/// page, nothing changed), 测算, details, print, lists, parameters, dashboard.
async fn case_pages_and_forms(app: &TestApp) {
    let (hid, members) = household(
        app,
        "staff",
        VILLAGE,
        Member {
            name: "孙立",
            id: id18("51180219681212345"),
            relation: "户主",
        },
        &[],
        json!({}),
    )
    .await;
    let (c, csrf) = api_login(app, "staff").await;
    let (s, html) = page(&c, app.url(&format!("/households/{hid}"))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!("/cases/new?household_id={hid}")));
    let (s, html) = page(&c, app.url("/cases/new?q=孙立")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!("household_id={hid}")), "{html}");
    let (s, html) = page(&c, app.url(&format!("/cases/new?household_id={hid}"))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("救助申请登记") && html.contains("农村最低生活保障"));
    let hid_s = hid.to_string();
    // A per-person program without its person: 422, the message next to the field.
    let (s, _, html) = form(
        &c,
        app.url("/cases/new"),
        &[
            ("_csrf", &csrf),
            ("household_id", &hid_s),
            ("program", "tekun"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("err-person_id") && html.contains("须选择救助对象"),
        "{html}"
    );
    let (s, _, html) = form(
        &c,
        app.url("/cases/new"),
        &[
            ("_csrf", &csrf),
            ("household_id", &hid_s),
            ("program", "rural_dibao"),
            ("rigid_spending", "abc"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("金额格式不对"));
    let (s, loc, _) = form(
        &c,
        app.url("/cases/new"),
        &[
            ("_csrf", &csrf),
            ("household_id", &hid_s),
            ("program", "rural_dibao"),
            ("reason", "年老体弱"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc.starts_with("/cases/"), "{loc}");
    let path = loc.split('?').next().unwrap().to_string();
    let id: i64 = path.trim_start_matches("/cases/").parse().unwrap();
    let (s, html) = page(&c, app.url(&loc)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("申请已登记") && html.contains("id=\"act-accept\""),
        "{html}"
    );
    assert!(html.contains("已申请"));
    // A step the role may not take is not offered as a form; posted anyway, it is
    // refused on the page and nothing changes.
    assert!(!html.contains("id=\"act-approve\""));
    let (s, _, html) = form(
        &c,
        app.url(&path),
        &[
            ("_csrf", &csrf),
            ("op", "act"),
            ("action", "approve"),
            ("amount", "100"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        html.contains("form-error") && html.contains("不能确认同意"),
        "{html}"
    );
    assert_eq!(state_of(app, id).await, "submitted");
    let (s, loc, _) = form(
        &c,
        app.url(&path),
        &[("_csrf", &csrf), ("op", "act"), ("action", "accept")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = page(&c, app.url(&loc)).await;
    assert!(html.contains("已办理：受理") && html.contains("act-start_investigation"));
    // One investigator is not enough (422); two with the authorisation are.
    let (s, _, html) = form(
        &c,
        app.url(&path),
        &[
            ("_csrf", &csrf),
            ("op", "act"),
            ("action", "start_investigation"),
            ("investigator", "刘芳"),
            ("investigator", ""),
            ("authorization_attached", "1"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("两名以上"));
    assert_eq!(state_of(app, id).await, "accepted");
    let (s, _, _) = form(
        &c,
        app.url(&path),
        &[
            ("_csrf", &csrf),
            ("op", "act"),
            ("action", "start_investigation"),
            ("investigator", "刘芳"),
            ("investigator", "张伟"),
            ("authorization_attached", "1"),
            ("findings", "独居，无收入"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    // Details: a bad amount is refused with the field's message, a good one saved.
    let (s, _, html) = form(
        &c,
        app.url(&path),
        &[
            ("_csrf", &csrf),
            ("op", "details"),
            ("rigid_spending", "-5"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("金额格式不对"));
    let (s, _, _) = form(
        &c,
        app.url(&path),
        &[
            ("_csrf", &csrf),
            ("op", "details"),
            ("rigid_spending", "120.50"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    // 测算 shows the formula and steps.
    let (s, html) = page(&c, app.url(&format!("{path}?calc=1"))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("calc-preview") && html.contains("计算步骤"),
        "{html}"
    );
    assert!(html.contains("120.50"));
    // The director records the opinion through the page: the amount is computed.
    let (d, dcsrf) = api_login(app, "director").await;
    let (s, _, _) = form(
        &d,
        app.url(&path),
        &[
            ("_csrf", &dcsrf),
            ("op", "act"),
            ("action", "record_opinion"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = page(&c, app.url(&path)).await;
    assert!(html.contains("初审测算依据") && html.contains("act-publish"));
    // Print, lists, notices, enrolments, parameters, dashboard.
    let (s, html) = page(&c, app.url(&format!("{path}/print"))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("入户调查记录") && html.contains("独居，无收入") && html.contains("孙立")
    );
    let (_, html) = page(&c, app.url("/cases?state=open&q=孙立")).await;
    assert!(html.contains(&format!("/cases/{id}")), "{html}");
    let (_, html) = page(&c, app.url("/cases?state=denied")).await;
    assert!(!html.contains(&format!("/cases/{id}\"")));
    let (s, html) = page(&c, app.url("/notices")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!("pick-{id}")));
    let id_s = id.to_string();
    let (s, loc, _) = form(
        &c,
        app.url("/notices"),
        &[("_csrf", &csrf), ("case_id", &id_s), ("level", "village")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{loc}");
    assert_eq!(state_of(app, id).await, "publicised");
    let (_, html) = page(&c, app.url(&loc)).await;
    assert!(html.contains("已发布公示") && html.contains("孙*"));
    let (s, _) = page(&c, app.url("/enrolments?status=active")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, html) = page(&c, app.url("/params?program=rural_dibao")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("低保标准") && !html.contains("param-form"));
    let (s, _, html) = form(
        &c,
        app.url("/params"),
        &[
            ("_csrf", &csrf),
            ("program", "rural_dibao"),
            ("name", "standard"),
            ("region", "5118"),
            ("urban_rural", "rural"),
            ("effective_from", "2027-02-01"),
            ("value", "900"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(html.contains("市民政局管理员"));
    let (admin, mcsrf) = api_login(app, "admin").await;
    let (s, loc, html) = form(
        &admin,
        app.url("/params"),
        &[
            ("_csrf", &mcsrf),
            ("program", "rural_dibao"),
            ("name", "standard"),
            ("region", "5118"),
            ("urban_rural", "rural"),
            ("effective_from", "2027-02-01"),
            ("value", "900"),
            ("source", "雅民发〔2027〕1号"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
    let (_, html) = page(&admin, app.url(&loc)).await;
    assert!(
        html.contains("900.00元") && html.contains("雅民发〔2027〕1号"),
        "{html}"
    );
    let (s, _, html) = form(
        &admin,
        app.url("/params"),
        &[
            ("_csrf", &mcsrf),
            ("program", "rural_dibao"),
            ("name", "notice_days"),
            ("region", "5118"),
            ("effective_from", "2027-02-01"),
            ("value", "七天"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("err-value"), "{html}");
    let (s, html) = page(&c, app.url("/")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("社会救助") && html.contains("due-list"));
    // A procedure begun 70 days ago is overdue: on the dashboard, the due list and the
    // case page.
    app.db.set_case_clocks_started_on(id, days_ago(70)).await;
    let due = get_json(&c, app.url("/api/v1/cases/due")).await;
    assert!(
        due["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["case_id"] == id && x["overdue"] == true),
        "{due}"
    );
    let (_, html) = page(&c, app.url("/")).await;
    assert!(
        html.contains(&format!("/cases/{id}")) && html.contains("已超期"),
        "{html}"
    );
    let (_, html) = page(&c, app.url(&path)).await;
    assert!(html.contains("已超期"));
    // Director-only daily tasks. A person of 86 gets a 高龄津贴 proposal, which the
    // default list keeps apart behind a link until a clerk verifies it.
    household(
        app,
        "staff",
        VILLAGE,
        Member {
            name: "钱寿",
            id: id18("51180219400305301"),
            relation: "户主",
        },
        &[],
        json!({}),
    )
    .await;
    let (s, _, _) = form(&c, app.url("/cases/tasks"), &[("_csrf", &csrf)]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, loc, _) = form(&d, app.url("/cases/tasks"), &[("_csrf", &dcsrf)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = page(&d, app.url(&loc)).await;
    assert!(html.contains("动态管理任务已运行"));
    assert!(
        html.contains("id=\"system-drafts\"") && !html.contains("钱寿"),
        "{html}"
    );
    let (s, html) = page(&d, app.url("/cases?origin=system&state=draft")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("钱寿") && html.contains("高龄津贴"), "{html}");
    let (s, _) = page(&d, app.url("/cases?origin=robot")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Another township cannot open the case's pages.
    let (c2, _) = api_login(app, "staff2").await;
    for p in [path.clone(), format!("{path}/print")] {
        let (s, _) = page(&c2, app.url(&p)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{p}");
    }
    let _ = members;
}

/// The printed case file (一户一档) and the case page say what has happened so far: before
/// the notice "尚未公示", while it runs "公示中，至…止" (never "无异议"), once the period
/// is over without objection "无异议", after an objection how many were received; the
/// conclusion is "尚未审核确认" until a decision. While the notice runs the case page offers
/// no closing form and names the first day it may be closed.
async fn the_case_file_and_page_say_where_the_notice_stands(app: &TestApp) {
    let (hid, _) = household(
        app,
        "staff",
        VILLAGE,
        Member {
            name: "周正",
            id: id18("51180219650707123"),
            relation: "户主",
        },
        &[],
        json!({}),
    )
    .await;
    let id = apply(
        app,
        "assistant",
        json!({"household_id": hid, "program": "rural_dibao", "reason": "因病致贫"}),
    )
    .await;
    to_opinion(app, id).await;
    let (staff, scsrf) = api_login(app, "staff").await;
    let print = format!("/cases/{id}/print");
    let notice_of = |html: &str| -> String {
        let i = html.find("id=\"print-notice\"").expect("notice paragraph");
        html[i..i + html[i..].find("</p>").unwrap()].to_string()
    };
    let (_, html) = page(&staff, app.url(&print)).await;
    assert!(notice_of(&html).contains("尚未公示"), "{html}");
    assert!(!html.contains("无异议"), "{html}");
    assert!(html.contains("尚未审核确认"), "{html}");

    let d = act_ok(app, &staff, &scsrf, id, json!({"action": "publish"})).await;
    let detail = get_json(&staff, app.url(&format!("/api/v1/cases/{id}"))).await;
    assert_eq!(detail["notice"]["standing"], "running", "{d}");
    let ends = detail["notice"]["ends_on"].as_str().unwrap().to_string();
    let ends_day = chrono::NaiveDate::parse_from_str(&ends, "%Y-%m-%d").unwrap();
    assert!(ends_day > minzheng_web::cases::today());
    let (_, html) = page(&staff, app.url(&print)).await;
    let said = notice_of(&html);
    assert!(said.contains(&format!("公示中，至{ends}止")), "{said}");
    assert!(!html.contains("无异议"), "{html}");
    let (_, case_html) = page(&staff, app.url(&format!("/cases/{id}"))).await;
    assert!(
        !case_html.contains("id=\"act-close_notice\""),
        "{case_html}"
    );
    let first = (ends_day + chrono::Duration::days(1)).to_string();
    assert!(
        case_html.contains(&format!("公示期满报送审核（{first}起")),
        "{case_html}"
    );
    assert!(case_html.contains(&format!("至{ends}止")), "{case_html}");

    // The period over (the notice date moved back), nobody objected.
    app.db.set_case_notice_posted_on(id, days_ago(10)).await;
    let (_, html) = page(&staff, app.url(&print)).await;
    let said = notice_of(&html);
    assert!(said.contains("届满") && said.contains("无异议"), "{said}");
    let (_, case_html) = page(&staff, app.url(&format!("/cases/{id}"))).await;
    assert!(case_html.contains("id=\"act-close_notice\""), "{case_html}");

    // An objection: the file counts it and no longer says nobody objected.
    act_ok(
        app,
        &staff,
        &scsrf,
        id,
        json!({"action": "record_objection", "summary": "邻居反映家中有营运车辆"}),
    )
    .await;
    let (_, html) = page(&staff, app.url(&print)).await;
    let said = notice_of(&html);
    assert!(said.contains("收到异议1件"), "{said}");
    assert!(!said.contains("无异议"), "{said}");
    assert!(html.contains("邻居反映家中有营运车辆"));
}

/// The case page's next step is the one the state machine allows, with the role that takes
/// it at the level that decides this case: a small 临时救助 under confirmation waits for
/// the township director (delegated), not the county approver.
async fn the_next_step_names_who_takes_it_at_the_deciding_level(app: &TestApp) {
    use minzheng_domain::Role;
    let (hid, _) = household(
        app,
        "staff",
        VILLAGE,
        Member {
            name: "冯强",
            id: id18("51180219700808123"),
            relation: "户主",
        },
        &[],
        json!({}),
    )
    .await;
    let id = apply(
        app,
        "staff",
        json!({"household_id": hid, "program": "temporary_assistance", "reason": "房屋失火",
               "details": {"temporary_kind": "emergency", "assessed_fen": 80000, "cause": "火灾"}}),
    )
    .await;
    let next_of = |html: &str| -> String {
        let i = html.find("id=\"next-steps\"").expect("next steps");
        html[i..i + html[i..].find("</p>").unwrap()].to_string()
    };
    let (asst, _) = api_login(app, "assistant").await;
    let (_, html) = page(&asst, app.url(&format!("/cases/{id}"))).await;
    let next = next_of(&html);
    assert!(next.contains("受理（由"), "{next}");
    assert!(
        !next.contains("撤回申请"),
        "not a step the case waits for: {next}"
    );
    to_opinion(app, id).await;
    let (staff, scsrf) = api_login(app, "staff").await;
    act_ok(app, &staff, &scsrf, id, json!({"action": "publish"})).await;
    app.db.set_case_notice_posted_on(id, days_ago(10)).await;
    act_ok(app, &staff, &scsrf, id, json!({"action": "close_notice"})).await;
    let (_, html) = page(&staff, app.url(&format!("/cases/{id}"))).await;
    let next = next_of(&html);
    let director = Role::TownshipDirector.label();
    let county = Role::CountyApprover.label();
    assert!(
        next.contains(&format!("确认同意（由{director}办理）")),
        "{next}"
    );
    assert!(!next.contains(county), "{next}");
    // And the director indeed takes it.
    let (dir, dcsrf) = api_login(app, "director").await;
    act_ok(app, &dir, &dcsrf, id, json!({"action": "approve"})).await;
    assert_eq!(state_of(app, id).await, "approved");
}
