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
