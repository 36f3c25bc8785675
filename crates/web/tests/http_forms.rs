//! HTTP tests of the page forms as a class: every address a form posts to answers a browser
//! that opens it (GET — a reload or a return to the form's address) with a page or a
//! redirect to one, never 405; the routes are read from the source, so a new form is held
//! too. An accepted form redirects (303) and says so in the `mz_saved` cookie; a refused one
//! carries each field's message as data; a form sent without a session goes to the sign-in
//! page with 登录已超时 and comes back to the page it was sent from.

mod common;

use common::*;
use minzheng_web::testing::TestApp;
use reqwest::StatusCode;

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
    no_form_address_answers_a_browser_with_405,
    accepted_refused_and_signed_out_forms,
);

/// The paths of the routes in `src` that take POST.
fn post_routes() -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let mut out = Vec::new();
    for src in files {
        let parts: Vec<&str> = src.split(".route(").skip(1).collect();
        for part in parts {
            let Some(start) = part.find('"') else {
                continue;
            };
            let rest = &part[start + 1..];
            let Some(end) = rest.find('"') else { continue };
            let path = &rest[..end];
            let body = &rest[end..];
            // The route's own handlers: up to the next route or the end of the chain.
            let body = body.split(".route(").next().unwrap_or("");
            if path.starts_with('/') && body.contains("post(") {
                out.push(path.to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{code}" => "511802001".to_string(),
            s if s.starts_with('{') => "1".to_string(),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn no_form_address_answers_a_browser_with_405(app: &TestApp) {
    let (admin, _) = api_login(app, "admin").await;
    let routes = post_routes();
    assert!(
        routes.len() > 40 && routes.iter().any(|r| r == "/households/{id}/members"),
        "the routes were not read: {routes:?}"
    );
    for route in &routes {
        let path = concrete(route);
        let r = admin.get(app.url(&path)).send().await.unwrap();
        let status = r.status();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "GET {path}");
        assert!(!status.is_server_error(), "GET {path}: {status}");
        if status == StatusCode::SEE_OTHER {
            let to = r.headers()["location"].to_str().unwrap().to_string();
            assert!(to.starts_with('/'), "GET {path} → {to}");
            let r = admin.get(app.url(&to)).send().await.unwrap();
            assert_ne!(
                r.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "GET {path} → {to}"
            );
        }
    }
    // The form's page, where there is one.
    let r = admin
        .get(app.url("/households/7/members"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/households/7");
    let r = admin.get(app.url("/cases/tasks")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/cases");
    // Other methods get a Chinese page, not an empty 405.
    let r = admin
        .put(app.url("/households"))
        .header("x-csrf-token", "x")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
}

async fn accepted_refused_and_signed_out_forms(app: &TestApp) {
    let (staff, csrf) = api_login(app, "staff").await;

    // The places of the clerk's jurisdiction by name, each with its pinyin initials and code.
    let places = staff
        .get(app.url("/places?level=village"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        places.contains(
            r#"<option value="新康路社区居委会（东城街道）" label="xklsqjwh · 511802001002">"#
        ),
        "{places}"
    );
    assert!(
        !places.contains("西城街道"),
        "only the jurisdiction's: {places}"
    );
    let townships = staff
        .get(app.url("/places?level=township"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(townships.matches("<option").count(), 1, "{townships}");

    // Refused: 422, the household page, each field's message as data for the page.
    let r = staff
        .post(app.url("/households"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("head_name", "张三"),
            ("head_id_number", "123"),
            ("village_code", "不存在村"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.headers().get("set-cookie").is_none());
    let html = r.text().await.unwrap();
    let i = html
        .find(r#"<script type="application/json" id="form-errors">"#)
        .expect("field messages as data");
    let data = &html[i..];
    assert!(
        data.contains("village_code") && data.contains("不存在村"),
        "{data}"
    );

    // Accepted: 303 to the page, with the cookie that tells the page the form was saved.
    let r = staff
        .post(app.url("/households"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("head_name", "张三"),
            ("head_id_number", "11010519491231002X"),
            ("head_health", "healthy"),
            ("head_work_capacity", "full"),
            ("village_code", "新康路社区居委会（东城街道）"),
            ("registration_type", "urban"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let cookies: Vec<_> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("mz_saved=1")),
        "{cookies:?}"
    );
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let page = staff
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("新康路社区居委会"),
        "the village chosen by name"
    );

    // A form with a one-time key is done once: sent again (a phone resending when the
    // network returns, a double tap), it is answered 已经提交过 and nothing is added.
    let key = {
        let i = page
            .find(r#"name="_once" value=""#)
            .expect("a one-time key")
            + 20;
        page[i..].split('"').next().unwrap().to_string()
    };
    assert!(key.ends_with("-add-member"), "{key}");
    let hid = to
        .trim_start_matches("/households/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let member = [
        ("_csrf", csrf.as_str()),
        ("_once", key.as_str()),
        ("name", "张小"),
        ("id_number", "110105198001010016"),
        ("relation", "child"),
        ("counted", "是"),
        ("health", "healthy"),
        ("work_capacity", "full"),
    ];
    let url = app.url(&format!("/households/{hid}/members"));
    let first = staff.post(&url).form(&member).send().await.unwrap();
    assert_eq!(
        first.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        first.text().await
    );
    let again = staff.post(&url).form(&member).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("mz_saved=1")));
    let text = again.text().await.unwrap();
    assert!(text.contains("这份表单已经提交过"), "{text}");
    let page = staff
        .get(app.url(&format!("/households/{hid}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(page.matches("<td>张小</td>").count(), 1, "added once");
    // A refused form frees its key: corrected, it goes through.
    let key2 = {
        let i = page.find(r#"name="_once" value=""#).unwrap() + 20;
        page[i..].split('"').next().unwrap().to_string()
    };
    let mut again = member;
    again[1] = ("_once", key2.as_str());
    again[3] = ("id_number", "123");
    let r = staff.post(&url).form(&again).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    again[2] = ("name", "张小二");
    again[3] = ("id_number", "110105198001010032");
    let r = staff.post(&url).form(&again).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);

    // Without a session: to the sign-in page, which says so, then back to the form's page.
    let anon = client();
    let r = anon
        .post(app.url("/households/3/members"))
        .header("referer", app.url("/households/3?saved=1"))
        .form(&[("_csrf", "stale"), ("name", "王小明")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(to, "/login?expired=1&next=%2Fhouseholds%2F3%3Fsaved%3D1");
    let login = anon
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("登录已超时，请重新登录"), "{login}");
    assert!(!login.contains("CSRF"));
    assert!(login.contains(r#"name="next" value="/households/3?saved=1""#));
    // Another site's address in the referer is not followed.
    let r = anon
        .post(app.url("/households/3/members"))
        .header("referer", "http://elsewhere.example/households/3")
        .form(&[("name", "王小明")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        "/login?expired=1&next=%2Fhouseholds%2F3"
    );
    // The API still answers 401 in JSON.
    let r = client()
        .post(app.url("/api/v1/households/3/members"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
