//! HTTP tests of the registry: forms with Chinese field errors, pinyin search through the
//! page and the API, masking by role, import upload (CSRF in the query string for
//! multipart), template and export downloads.

mod common;

use common::*;
use minzheng_app::formats::ledger::ledger_csv;
use minzheng_app::formats::synthetic::generate_ledger;
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
    household_forms_search_and_masking,
    import_upload_template_and_export
);

const HEAD: &str = "11010519491231002X";

async fn household_forms_search_and_masking(app: &TestApp) {
    let (c, csrf) = api_login(app, "staff").await;
    // Form: field-level Chinese messages, 422, nothing written.
    let r = c
        .post(app.url("/households"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("head_name", "张三"),
            ("head_id_number", "110105194912310021"),
            ("village_code", "511802001001"),
            ("registration_type", "rural"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("校验码错误"), "{html}");
    // Valid: redirect to the household page.
    let r = c
        .post(app.url("/households"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("head_name", "张三"),
            ("head_id_number", HEAD),
            ("village_code", "511802001001"),
            ("registration_type", "rural"),
            ("head_health", "healthy"),
            ("head_work_capacity", "full"),
            ("account_number", "6228480000000000001"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let page = c
        .get(app.url(&loc))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("张三户") && page.contains(HEAD) && page.contains("登记家庭"));
    // Search by pinyin initials in the page and the API.
    let list = c
        .get(app.url("/households?q=zs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("张三"), "zs finds 张三");
    assert!(list.contains("共 1 户"), "{list}");
    // A filter the list cannot use is said above the form, which keeps what was typed.
    let r = c
        .get(app.url("/households?q=%E5%BC%A0&village=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let list = r.text().await.unwrap();
    assert!(list.contains("id=\"filter-problem\""), "{list}");
    // Not a code, so a place's name, and none of the jurisdiction's is called that.
    assert!(list.contains("没有名为“abc”的地区"), "{list}");
    assert!(
        list.contains("value=\"张\"") && list.contains("value=\"abc\""),
        "{list}"
    );
    assert!(!list.contains("张三户"), "no rows under a refused filter");
    // The last four characters alone find the person too.
    let found: Value = c
        .get(app.url(&format!("/api/v1/persons?q={}", &HEAD[14..])))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["name"], "张三");
    let found: Value = c
        .get(app.url("/api/v1/persons?q=zhangsan"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["name"], "张三");
    assert_eq!(found["items"][0]["id_number"], HEAD);
    // API validation: 422 with per-field messages.
    let r = c
        .post(app.url("/api/v1/households"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"village_code": "1", "registration_type": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["fields"]["village_code"]
        .as_str()
        .unwrap()
        .contains("12位"));
    // The village assistant and the auditor see masked numbers.
    for user in ["assistant", "auditor"] {
        let (c, _) = api_login(app, user).await;
        let found: Value = c
            .get(app.url("/api/v1/households?q=zs"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(found["total"], 1, "{user}");
        assert_eq!(found["total_capped"], false, "{user}");
        assert_eq!(found["items"][0]["head_id_number"], "110105********002X");
        assert_eq!(found["items"][0]["account_number"], "6228***********0001");
    }
    // The auditor may not change anything.
    let (a, acsrf) = api_login(app, "auditor").await;
    let hid = loc
        .trim_start_matches("/households/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let reads = vec![format!("/api/v1/households/{hid}")];
    let before = admin_view(app, &reads).await;
    let r = a
        .post(app.url(&format!("/api/v1/households/{hid}/assets")))
        .header("x-csrf-token", &acsrf)
        .json(&json!({"kind": "存款", "value": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        admin_view(app, &reads).await,
        before,
        "the household is as it was"
    );
}

async fn import_upload_template_and_export(app: &TestApp) {
    let (c, csrf) = api_login(app, "staff").await;
    let r = c
        .get(app.url("/registry/template.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(&r.bytes().await.unwrap()[..2], b"PK");
    let rows = generate_ledger(5, 9, &["511802001001".to_string()]);
    let csv = ledger_csv(&rows).unwrap();
    let form = || {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(csv.clone()).file_name("台账.csv"),
        )
    };
    // Without the CSRF token: refused.
    let r = c
        .post(app.url("/registry/import"))
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The token in a GET-style query on a non-multipart POST does not count.
    let r = c
        .post(app.url(&format!("/households?_csrf={csrf}")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The page's form sends the token as its first field, so it never appears in the
    // address bar; a wrong one, or one after the file, is refused and nothing is written.
    let with_token = |token: &str, first: bool| {
        let file = reqwest::multipart::Part::bytes(csv.clone()).file_name("台账.csv");
        if first {
            reqwest::multipart::Form::new()
                .text("_csrf", token.to_string())
                .part("file", file)
        } else {
            reqwest::multipart::Form::new()
                .part("file", file)
                .text("_csrf", token.to_string())
        }
    };
    let page = c
        .get(app.url("/registry/import"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"action="/registry/import""#), "{page}");
    assert!(!page.contains("?_csrf="));
    for (token, first) in [("0".repeat(csrf.len()), true), (csrf.clone(), false)] {
        let r = c
            .post(app.url("/registry/import"))
            .multipart(with_token(&token, first))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    let r = c
        .get(app.url("/api/v1/households?q=&limit=1"))
        .send()
        .await
        .unwrap();
    let before: Value = r.json().await.unwrap();
    let r = c
        .post(app.url("/registry/import"))
        .multipart(with_token(&csrf, true))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("导入完成") && html.contains("新增5户"),
        "{html}"
    );
    let after: Value = c
        .get(app.url("/api/v1/households?q=&limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["total"].as_i64().unwrap(),
        before["total"].as_i64().unwrap() + 5,
        "the refused uploads wrote nothing, the accepted one five households"
    );
    // Clients of the earlier form still send the token in the query string.
    let r = c
        .post(app.url(&format!("/registry/import?_csrf={csrf}")))
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A bad file through the API: 422 with the report; nothing written.
    let r = c
        .post(app.url("/api/v1/imports/households"))
        .header("x-csrf-token", &csrf)
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"not a workbook".to_vec()).file_name("x.xlsx"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(body["report"]["issues"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("不是有效的Excel"));
    let job = body["job_id"].as_i64().unwrap();
    let j: Value = c
        .get(app.url(&format!("/api/v1/jobs/{job}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(j["finished"], true);
    // Someone else cannot see the job.
    let (other, _) = api_login(app, "director").await;
    let r = other
        .get(app.url(&format!("/api/v1/jobs/{job}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let list: Value = c
        .get(app.url("/api/v1/households"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 5);
    // Export: an xlsx, and an audit record.
    let r = c
        .get(app.url("/households/export.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(&r.bytes().await.unwrap()[..2], b"PK");
    let (admin, _) = api_login(app, "admin").await;
    let audit: Value = admin
        .get(app.url("/api/v1/audit?limit=20"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"registry.export") && actions.contains(&"registry.import"));
}
