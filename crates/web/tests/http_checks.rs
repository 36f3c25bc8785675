//! HTTP tests of 近亲属备案 and 核对数据: declarations through the API (refusals 422 / 403 /
//! 409 leaving nothing behind, another township seeing none), other departments' lists
//! (only city and county users import; a refused list leaves no batch), and the pages.

mod common;

use common::*;
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

both!(declarations_through_the_api, lists_through_the_api);

fn declaration() -> Value {
    json!({
        "declarant_name": "钱进", "declarant_id_number": "511802198203150011",
        "post": "village_committee", "division_code": "511802001001",
        "relative_name": "钱多", "relative_id_number": "11010519491231002X",
        "relation": "parent"
    })
}

async fn declarations_through_the_api(app: &TestApp) {
    let (staff, csrf) = api_login(app, "staff").await;
    let post = |c: &reqwest::Client, csrf: &str, body: Value| {
        c.post(app.url("/api/v1/relatives"))
            .header("x-csrf-token", csrf)
            .json(&body)
            .send()
    };
    let list = |c: reqwest::Client| async move {
        let v: Value = c
            .get(app.url("/api/v1/relatives"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["total"].as_i64().unwrap()
    };
    let before = list(staff.clone()).await;
    // Every bad field at once, nothing written.
    let mut bad = declaration();
    bad["declarant_id_number"] = json!("123");
    bad["relation"] = json!("朋友");
    let r = post(&staff, &csrf, bad).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_error(&body, "validation");
    assert!(
        body["error"]["fields"]["declarant_id_number"].is_string(),
        "{body}"
    );
    assert!(body["error"]["fields"]["relation"].is_string(), "{body}");
    // The auditor reads only.
    let (auditor, acsrf) = api_login(app, "auditor").await;
    let r = post(&auditor, &acsrf, declaration()).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Another township may not file for 东城.
    let (staff2, csrf2) = api_login(app, "staff2").await;
    let r = post(&staff2, &csrf2, declaration()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["fields"]["division_code"].is_string(),
        "{body}"
    );
    // The refusals wrote nothing.
    assert_eq!(list(staff.clone()).await, before);
    let r = post(&staff, &csrf, declaration()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(list(staff.clone()).await, before + 1);
    let r = post(&staff, &csrf, declaration()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(list(staff.clone()).await, before + 1);
    assert_eq!(list(staff2.clone()).await, 0);
    // The page lists it, with the form.
    let html = staff
        .get(app.url("/relatives"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("钱进") && html.contains("村委会成员") && html.contains("declare-form"));
}

async fn lists_through_the_api(app: &TestApp) {
    let csv = "身份证号码,姓名,登记日期,市场主体名称\n11010519491231002X,钱多,2026-05-01,某商贸有限公司\n";
    let upload = |c: reqwest::Client, csrf: String, data: String| {
        let url = app.url("/api/v1/lists/import");
        async move {
            let form = reqwest::multipart::Form::new()
                .text("kind", "business")
                .text("received_on", "2026-11-30")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(data.into_bytes()).file_name("市场主体.csv"),
                );
            c.post(url)
                .header("x-csrf-token", csrf)
                .multipart(form)
                .send()
                .await
                .unwrap()
        }
    };
    let (staff, csrf) = api_login(app, "staff").await;
    let r = upload(staff.clone(), csrf.clone(), csv.into()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (admin, acsrf) = api_login(app, "admin").await;
    // Not a multipart upload: a Chinese JSON error, not the framework's English text.
    let r = admin
        .post(app.url("/api/v1/lists/import"))
        .header("x-csrf-token", &acsrf)
        .json(&json!({"kind": "vehicle"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("multipart/form-data"),
        "{body}"
    );
    // A list received in the future, a list of no known kind, and the same death twice.
    let form = |kind: &str, on: &str, data: String| {
        reqwest::multipart::Form::new()
            .text("kind", kind.to_string())
            .text("received_on", on.to_string())
            .part(
                "file",
                reqwest::multipart::Part::bytes(data.into_bytes()).file_name("名单.csv"),
            )
    };
    for (kind, on, data, field) in [
        ("business", "2999-01-01", csv.to_string(), "received_on"),
        ("weather", "2026-11-30", csv.to_string(), "kind"),
        (
            "police_death",
            "2026-11-30",
            format!("{csv}11010519491231002X,钱多,2026-05-01,\n"),
            "file",
        ),
    ] {
        let r = admin
            .post(app.url("/api/v1/lists/import"))
            .header("x-csrf-token", &acsrf)
            .multipart(form(kind, on, data))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["fields"][field].is_string(), "{body}");
    }
    // A bad row refuses the whole list.
    let bad = format!("{csv}123,某人,2026-05-01,\n");
    let r = upload(admin.clone(), acsrf.clone(), bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("第3行"),
        "{body}"
    );
    let count = |c: reqwest::Client| async move {
        let v: Value = c
            .get(app.url("/api/v1/lists"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["total"].as_i64().unwrap()
    };
    let before = count(admin.clone()).await;
    let r = upload(admin.clone(), acsrf.clone(), csv.into()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["kind"], "business");
    assert_eq!(b["rows"], 1);
    assert_eq!(count(admin.clone()).await, before + 1);
    // The township sees the city's list.
    assert!(count(staff.clone()).await >= 1);
    let html = admin
        .get(app.url("/checks/lists"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("市场主体登记") && html.contains("list-form"));
    let r = admin
        .get(app.url("/checks/lists/template.xlsx?kind=vehicle"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
}
