//! HTTP tests of 调整标准: the city admin adds a higher 城市低保 standard through the API and
//! gets the batches it prepared; preparing again adds nothing; another township does not
//! see the batches (404), the township director may not sign a batch the county approves
//! (403) and nothing changes; the county approver reviews the batch page, downloads its
//! lines as a workbook and signs it off, which applies the new amounts.

mod common;

use common::*;
use minzheng_domain::{Actor, Program};
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

both!(a_higher_standard_prepares_batches_the_county_approver_signs);

async fn amounts(app: &TestApp) -> Vec<(i64, Program, i64)> {
    let (all, _) = app
        .db
        .app
        .cases()
        .enrolments(&Actor::system("t"), &Default::default())
        .await
        .unwrap();
    let mut out: Vec<_> = all
        .into_iter()
        .map(|e| (e.id, e.program, e.monthly_fen.0))
        .collect();
    out.sort_by_key(|e| e.0);
    out
}

async fn a_higher_standard_prepares_batches_the_county_approver_signs(app: &TestApp) {
    let demo = app.db.app.demo();
    demo.registry(600, 7).await.unwrap();
    demo.payroll_enrolments().await.unwrap();
    let before = amounts(app).await;
    let (admin, admin_csrf) = api_login(app, "admin").await;
    let r = admin
        .post(app.url("/api/v1/params"))
        .header("x-csrf-token", &admin_csrf)
        .json(
            &json!({"program": "urban_dibao", "name": "standard", "region": "5118",
            "urban_rural": "", "effective_from": "2027-01-01", "value_json": "900",
            "source": "雅府发〔2026〕1号"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let added: Value = r.json().await.unwrap();
    assert!(added["id"].as_i64().is_some());
    assert_eq!(added["repricing_month"], "2027-01");
    assert!(added["repricing"]["added"].as_i64().unwrap() > 0, "{added}");
    let batch = added["repricing"]["batches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["township_code"] == "511802001" && b["program"] == "urban_dibao")
        .expect("东城街道's 城市低保 batch")
        .clone();
    assert_eq!(batch["reason"], "standard");
    assert_eq!(batch["status"], "pending");
    let id = batch["id"].as_i64().unwrap();

    // Preparing again adds nothing; a one-off program is a field error.
    let (staff, staff_csrf) = api_login(app, "staff").await;
    let prepare = |program: &'static str| {
        staff
            .post(app.url("/api/v1/repricing/standard"))
            .header("x-csrf-token", &staff_csrf)
            .json(&json!({"program": program, "month": "2027-01"}))
            .send()
    };
    let again = prepare("urban_dibao").await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap()["added"], 0);
    let bad = prepare("medical_assistance").await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // 西城街道 does not see 东城街道's batch; the director may not sign what the county
    // approves; nothing changes.
    let (staff2, staff2_csrf) = api_login(app, "staff2").await;
    let hidden = staff2
        .get(app.url(&format!("/api/v1/repricing/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let hidden = staff2
        .post(app.url(&format!("/api/v1/repricing/{id}/sign-off")))
        .header("x-csrf-token", &staff2_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let (director, director_csrf) = api_login(app, "director").await;
    let refused = director
        .post(app.url(&format!("/api/v1/repricing/{id}/sign-off")))
        .header("x-csrf-token", &director_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_error(&refused.json().await.unwrap(), "forbidden");
    let page = director
        .get(app.url(&format!("/repricing/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("待县级民政部门审批人审核签发"), "{page}");
    assert!(!page.contains("确认签发"));
    assert_eq!(amounts(app).await, before);

    // The county approver: the page, the workbook, the sign-off.
    let (approver, approver_csrf) = api_login(app, "approver").await;
    let page = approver
        .get(app.url(&format!("/repricing/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for want in [
        "调整标准",
        "城市最低生活保障",
        "确认签发",
        "自2027-01起按新金额发放",
    ] {
        assert!(page.contains(want), "{want} in the page");
    }
    let list = approver
        .get(app.url("/repricing?reason=standard&program=urban_dibao"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains(&format!("repricing-{id}")));
    assert!(list.contains("按乡镇（街道）和项目"));
    // 签发全部: offered to the approver for the batches they sign; before the month has
    // begun it is refused, naming a batch, and nothing changes (page and API alike).
    assert!(list.contains("签发全部待审核批次"), "{list}");
    let ids = list
        .split("name=\"ids\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the batches to sign")
        .to_string();
    assert!(ids.split(',').any(|x| x == id.to_string()), "{ids}");
    let refused = approver
        .post(app.url("/repricing"))
        .form(&[
            ("_csrf", csrf_in(&list).as_str()),
            ("action", "sign_off_all"),
            ("ids", ids.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let text = refused.text().await.unwrap();
    assert!(text.contains("调标批次：该批次自2027-01起执行"), "{text}");
    let r = approver
        .post(app.url("/api/v1/repricing/sign-off"))
        .header("x-csrf-token", &approver_csrf)
        .json(&json!({"ids": [id]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(amounts(app).await, before);
    let director_list = director
        .get(app.url("/repricing"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!director_list.contains("签发全部待审核批次"));
    let xlsx = approver
        .get(app.url(&format!("/repricing/{id}/export.xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert!(xlsx.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
    let hidden = staff2
        .get(app.url(&format!("/repricing/{id}/export.xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let review: Value = approver
        .get(app.url(&format!("/api/v1/repricing/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Not before January 2027 (the batch's month has not begun): 409, nothing applied.
    let early = approver
        .post(app.url(&format!("/api/v1/repricing/{id}/sign-off")))
        .header("x-csrf-token", &approver_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(early.status(), StatusCode::CONFLICT);
    assert_eq!(amounts(app).await, before);
    // Signed with January begun (the use case, as the API calls it, with that date).
    let approver_actor = minzheng_app::testing::payroll::actor(&app.db.app, "approver")
        .await
        .unwrap();
    let done = app
        .db
        .app
        .repricing()
        .sign_off(
            &approver_actor,
            id,
            chrono::NaiveDate::from_ymd_opt(2027, 1, 2).unwrap(),
        )
        .await
        .unwrap();
    assert!(done.applied > 0);
    let after = amounts(app).await;
    for l in review["lines"].as_array().unwrap() {
        let eid = l["enrolment_id"].as_i64().unwrap();
        let now = after.iter().find(|e| e.0 == eid).unwrap().2;
        if l["problem"].is_null() && l["new_amount"].as_i64().unwrap() > 0 {
            assert_eq!(now, l["new_amount"].as_i64().unwrap());
        } else {
            assert_eq!(now, l["old_amount"].as_i64().unwrap());
        }
    }
}
