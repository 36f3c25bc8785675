//! HTTP tests of registry corrections: the household page's 修改 and 删除 for members,
//! incomes and assets (forms that keep what was typed and name every field on a refusal,
//! post/redirect/get with a Chinese confirmation, the history in words with the reason),
//! new households and members that must be given a health and a work capacity, and the
//! API's `PATCH`/`DELETE` with their statuses.

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
    members_incomes_and_assets_are_corrected_on_the_household_page,
    the_api_corrects_and_removes_with_its_statuses,
);

fn id18(first17: &str) -> String {
    let c = minzheng_domain::IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    format!("{first17}{c}")
}

async fn text(c: &Client, url: String) -> String {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

async fn post_form(c: &Client, url: String, form: &[(&str, &str)]) -> (StatusCode, String, String) {
    let r = c.post(url).form(form).send().await.unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

async fn household_json(c: &Client, app: &TestApp, hid: i64) -> Value {
    c.get(app.url(&format!("/api/v1/households/{hid}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn members_incomes_and_assets_are_corrected_on_the_household_page(app: &TestApp) {
    let (c, csrf) = api_login(app, "staff").await;
    let head = id18("51180219580303101");
    // A new household's head must be given a health and a work capacity; the form keeps
    // what was typed.
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("head_name", "冯德"),
        ("head_id_number", head.as_str()),
        ("village_code", "511802001001"),
        ("registration_type", "rural"),
    ];
    let (status, _, html) = post_form(&c, app.url("/households"), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请选择户主健康状况") && html.contains("请选择户主劳动能力"));
    assert!(html.contains("value=\"冯德\"") && html.contains(&head));
    form.extend([
        ("head_health", "chronic"),
        ("head_work_capacity", "partial"),
    ]);
    let (status, location, _) = post_form(&c, app.url("/households"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let hid: i64 = location
        .trim_start_matches("/households/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let d = household_json(&c, app, hid).await;
    assert_eq!(d["members"][0]["health"], "chronic");
    assert_eq!(d["members"][0]["work_capacity"], "partial");

    // A member, likewise: no health chosen is refused, the typed name kept.
    let spouse = id18("51180219600404202");
    let mut member = vec![
        ("_csrf", csrf.as_str()),
        ("name", "冯妻"),
        ("id_number", spouse.as_str()),
        ("relation", "spouse"),
        ("work_capacity", "full"),
    ];
    let (status, _, html) =
        post_form(&c, app.url(&format!("/households/{hid}/members")), &member).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请选择健康状况"), "{html}");
    assert!(html.contains("value=\"冯妻\""));
    member.push(("health", "healthy"));
    let (status, _, _) =
        post_form(&c, app.url(&format!("/households/{hid}/members")), &member).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = post_form(
        &c,
        app.url(&format!("/households/{hid}/incomes")),
        &[
            ("_csrf", &csrf),
            ("kind", "wage"),
            ("amount", "900"),
            ("period", "monthly"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let d = household_json(&c, app, hid).await;
    let pid = d["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "冯妻")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let head_pid = d["members"][0]["id"].as_i64().unwrap();
    let income = d["incomes"][0]["id"].as_i64().unwrap();

    // The page has 修改 for every row and 删除 for every row but the head's.
    let page = text(&c, app.url(&format!("/households/{hid}"))).await;
    for link in [
        format!("/households/{hid}/members/{pid}/edit"),
        format!("/households/{hid}/members/{pid}/delete"),
        format!("/households/{hid}/members/{head_pid}/edit"),
        format!("/households/{hid}/incomes/{income}/edit"),
        format!("/households/{hid}/incomes/{income}/delete"),
    ] {
        assert!(page.contains(&link), "{link}");
    }
    assert!(!page.contains(&format!("/members/{head_pid}/delete")));

    // Edit: a refusal keeps the choice and names each field; then saved.
    let edit = text(
        &c,
        app.url(&format!("/households/{hid}/members/{pid}/edit")),
    )
    .await;
    assert!(edit.contains("冯妻（配偶）"));
    assert!(edit.contains("<option value=\"healthy\" selected>"));
    let url = app.url(&format!("/households/{hid}/members/{pid}"));
    let mut fix = vec![
        ("_csrf", csrf.as_str()),
        ("health", "serious"),
        ("work_capacity", "none"),
        ("employment", "unemployed"),
        ("disability_type", "none"),
        ("counted", "是"),
        ("status", "active"),
        ("reason", ""),
    ];
    let (status, _, html) = post_form(&c, url.clone(), &fix).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"err-reason\">请填写修改原因"), "{html}");
    assert!(html.contains("<option value=\"serious\" selected>"));
    assert!(html.contains("<option value=\"none\" selected>"));
    assert_eq!(
        household_json(&c, app, hid).await["members"][1]["health"],
        "healthy",
        "nothing changed"
    );
    fix.pop();
    fix.push(("reason", "入户核查发现患白血病"));
    let (status, location, _) = post_form(&c, url, &fix).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/households/{hid}?saved=member-updated"));
    let page = text(&c, app.url(&location)).await;
    assert!(page.contains("成员信息已修改，修改原因已记入变更记录"));
    assert!(page.contains("修改成员情况"));
    assert!(page.contains("健康状况：健康 → 重特大疾病"), "{page}");
    assert!(page.contains("入户核查发现患白血病"));
    assert!(!page.contains("person.correct") && !page.contains("\"health\":"));

    // Income: corrected, then removed; the removal asks for its reason.
    let (status, location, _) = post_form(
        &c,
        app.url(&format!("/households/{hid}/incomes/{income}")),
        &[
            ("_csrf", &csrf),
            ("kind", "wage"),
            ("amount", "700"),
            ("period", "monthly"),
            ("reason", "工资条核实"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/households/{hid}?saved=income-updated"));
    assert_eq!(
        household_json(&c, app, hid).await["incomes"][0]["amount_fen"],
        70_000
    );
    let confirm = text(
        &c,
        app.url(&format!("/households/{hid}/incomes/{income}/delete")),
    )
    .await;
    assert!(confirm.contains("确认删除") && confirm.contains("删除原因"));
    let del = app.url(&format!("/households/{hid}/incomes/{income}/delete"));
    let (status, _, html) = post_form(&c, del.clone(), &[("_csrf", &csrf), ("reason", " ")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写删除原因"));
    let (status, location, _) =
        post_form(&c, del, &[("_csrf", &csrf), ("reason", "重复登记")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = text(&c, app.url(&location)).await;
    assert!(page.contains("收入已删除") && page.contains("删除收入") && page.contains("重复登记"));

    // The head cannot be removed: the page says what to do instead.
    let (status, _, html) = post_form(
        &c,
        app.url(&format!("/households/{hid}/members/{head_pid}/delete")),
        &[("_csrf", &csrf), ("reason", "录入错误")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("户主不能删除") && html.contains("value=\"录入错误\""));
    // The auditor may read but not correct.
    let (auditor, _) = api_login(app, "auditor").await;
    let r = auditor
        .get(app.url(&format!("/households/{hid}/members/{pid}/edit")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn the_api_corrects_and_removes_with_its_statuses(app: &TestApp) {
    let (c, csrf) = api_login(app, "staff").await;
    let send = |r: reqwest::RequestBuilder| {
        let csrf = csrf.clone();
        async move {
            let r = r.header("x-csrf-token", csrf).send().await.unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let head = id18("51180219590505103");
    let mut body = json!({"village_code": "511802001001", "registration_type": "rural",
        "head_name": "褚明", "head_id_number": head, "head_health": "healthy"});
    let (status, e) = send(c.post(app.url("/api/v1/households")).json(&body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        e["error"]["fields"]["head_work_capacity"],
        "请选择户主劳动能力"
    );
    body["head_work_capacity"] = json!("有劳动能力");
    let (status, d) = send(c.post(app.url("/api/v1/households")).json(&body)).await;
    assert_eq!(status, StatusCode::CREATED);
    let hid = d["household"]["id"].as_i64().unwrap();
    let head_pid = d["members"][0]["id"].as_i64().unwrap();
    let member = json!({"name": "褚妻", "id_number": id18("51180219610606204"),
        "relation": "配偶", "health": "健康"});
    let (status, e) = send(
        c.post(app.url(&format!("/api/v1/households/{hid}/members")))
            .json(&member),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["fields"]["work_capacity"], "请选择劳动能力");
    let mut member = member;
    member["work_capacity"] = json!("有劳动能力");
    let (status, d) = send(
        c.post(app.url(&format!("/api/v1/households/{hid}/members")))
            .json(&member),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let pid = d["members"][1]["id"].as_i64().unwrap();
    let (_, d) = send(
        c.post(app.url(&format!("/api/v1/households/{hid}/assets")))
            .json(&json!({"kind": "存款", "value": "3000"})),
    )
    .await;
    let asset = d["assets"][0]["id"].as_i64().unwrap();
    let member_url = app.url(&format!("/api/v1/households/{hid}/members/{pid}"));

    // No reason: 422 naming it; nothing changed.
    let fix =
        json!({"health": "慢性病", "work_capacity": "部分丧失劳动能力", "employment": "务农"});
    let (status, e) = send(c.patch(&member_url).json(&fix)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["fields"]["reason"], "请填写修改原因");
    // Another township: 404; the auditor: 403.
    let (staff2, csrf2) = api_login(app, "staff2").await;
    let mut with_reason = fix.clone();
    with_reason["reason"] = json!("乡镇卫生院诊断证明");
    let r = staff2
        .patch(&member_url)
        .header("x-csrf-token", &csrf2)
        .json(&with_reason)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (auditor, csrf3) = api_login(app, "auditor").await;
    let r = auditor
        .patch(&member_url)
        .header("x-csrf-token", &csrf3)
        .json(&with_reason)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let d = household_json(&c, app, hid).await;
    assert_eq!(d["members"][1]["health"], "healthy", "nothing changed");

    // Corrected.
    let (status, c1) = send(c.patch(&member_url).json(&with_reason)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(c1["household"]["members"][1]["health"], "chronic");
    assert_eq!(c1["amount_changes"], json!([]));
    let (_, h) = send(c.get(app.url(&format!("/api/v1/households/{hid}/history")))).await;
    assert_eq!(h["items"][0]["action"], "person.correct");
    let after: Value = serde_json::from_str(h["items"][0]["after_json"].as_str().unwrap()).unwrap();
    assert_eq!(after["reason"], "乡镇卫生院诊断证明");

    // Fields not given keep their value.
    let (status, c2) = send(
        c.patch(&member_url)
            .json(&json!({"employment": "务工", "reason": "外出务工"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(c2["household"]["members"][1]["health"], "chronic");
    assert_eq!(c2["household"]["members"][1]["employment"], "employed");
    let (status, e) = send(
        c.patch(&member_url)
            .json(&json!({"health": "", "reason": "核实"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["fields"]["health"], "请选择健康状况");

    // Asset corrected and removed.
    let asset_url = app.url(&format!("/api/v1/households/{hid}/assets/{asset}"));
    let (status, a) = send(
        c.patch(&asset_url)
            .json(&json!({"value": "1500", "reason": "银行流水"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a["household"]["assets"][0]["value_fen"], 150_000);
    let (status, e) = send(c.delete(&asset_url)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["fields"]["reason"], "请填写删除原因");
    let (status, a) = send(c.delete(format!("{asset_url}?reason=重复登记"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a["household"]["assets"], json!([]));

    // The head: 409 with what to do; the spouse: removed.
    let (status, e) = send(c.delete(app.url(&format!(
        "/api/v1/households/{hid}/members/{head_pid}?reason=录入错误"
    ))))
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&e, "conflict");
    let (status, d) = send(c.delete(format!("{member_url}?reason=录入错误"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["household"]["members"].as_array().unwrap().len(), 1);
    let (status, _) = send(c.delete(format!("{member_url}?reason=录入错误"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "already gone");
}
