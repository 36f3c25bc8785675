//! 近亲属备案: the declarations of staff and village cadres inside the user's jurisdiction,
//! with the form a clerk files one on (a user may file their own). The JSON twin is
//! `/api/v1/relatives`. A case page shows the filing and refuses a recused declarant.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use minzheng_app::users::SessionInfo;
use minzheng_app::Authorize;
use minzheng_app::Permission;
use minzheng_domain::relatives::{DeclarantPost, Declaration, Kinship, NewDeclaration};
use minzheng_domain::Actor;
use serde::Deserialize;
use serde_json::json;

use crate::api::ApiJson;
use crate::pages::{beijing_time, render, Nav, PageForm};
use crate::payroll::{
    form_map, see_other, user_error_fields, with_status, ApiResult, FieldRefusal, PageResult,
};
use crate::session::{ApiUser, PageUser};
use crate::standards::today;
use crate::AppState;

/// The page.
pub fn pages() -> Router<AppState> {
    Router::new().route("/relatives", get(page).post(post))
}

/// The API under `/api/v1`.
pub fn api() -> Router<AppState> {
    Router::new().route("/relatives", get(api_list).post(api_declare))
}

#[derive(Template)]
#[template(path = "relative_list.html")]
struct ListPage {
    nav: Nav,
    /// Each declaration, when it was filed (Beijing time) and by whom (in words).
    items: Vec<(Declaration, String, String)>,
    can_declare: bool,
    form: NewDeclaration,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
    posts: &'static [DeclarantPost],
    relations: &'static [Kinship],
    notice: Option<String>,
}

impl ListPage {
    fn field_error(&self, field: &str) -> Option<&String> {
        self.field_errors.get(field)
    }
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    /// After a declaration: how many cases under way it filed.
    filed: Option<String>,
}

async fn render_page(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    form: NewDeclaration,
    refusal: Option<FieldRefusal>,
    notice: Option<String>,
) -> PageResult {
    let items = st
        .app
        .relatives()
        .list(actor)
        .await?
        .into_iter()
        .map(|d| {
            let at = beijing_time(&d.declared_at);
            let by = crate::pages::actor_label(&d.declared_by).to_string();
            (d, at, by)
        })
        .collect();
    let (code, error, field_errors) = match refusal {
        Some((c, m, f)) => (c, Some(m), f),
        None => (StatusCode::OK, None, BTreeMap::new()),
    };
    let page = ListPage {
        nav: Nav::new(s, "checks"),
        items,
        can_declare: actor.may(Permission::DeclareRelatives),
        form,
        error,
        field_errors,
        posts: DeclarantPost::ALL,
        relations: Kinship::ALL,
        notice,
    };
    Ok(with_status(render(&page)?, code))
}

async fn page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    axum::extract::Query(qs): axum::extract::Query<SavedQuery>,
) -> PageResult {
    let notice = crate::payroll::int(&qs.filed).map(|n| {
        if n > 0 {
            format!("已登记备案；该户正在办理的{n}件申请已标为近亲属备案，备案人须回避")
        } else {
            "已登记备案；以后该户的申请将标为近亲属备案，备案人须回避".to_string()
        }
    });
    // A user filing their own declaration starts from their own account.
    let form = NewDeclaration {
        username: actor.username.clone(),
        declarant_name: s.user.display_name.clone(),
        division_code: s.user.scope_name.clone(),
        ..Default::default()
    };
    render_page(&st, &s, &actor, form, None, notice).await
}

fn from_form(f: &std::collections::HashMap<String, String>) -> NewDeclaration {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    NewDeclaration {
        declarant_name: get("declarant_name"),
        declarant_id_number: get("declarant_id_number"),
        post: get("post"),
        username: get("username"),
        division_code: get("division_code"),
        relative_name: get("relative_name"),
        relative_id_number: get("relative_id_number"),
        relation: get("relation"),
        note: get("note"),
    }
}

async fn post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let d = from_form(&form_map(form));
    let result = match crate::places::resolve(
        &st,
        &actor,
        "division_code",
        &d.division_code,
        crate::places::levels("area"),
    )
    .await
    {
        Ok(code) => {
            let resolved = NewDeclaration {
                division_code: code,
                ..d.clone()
            };
            st.app.relatives().declare(&actor, &resolved, today()).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(out) => Ok(see_other(&format!(
            "/relatives?filed={}",
            out.filed_cases.len()
        ))),
        Err(e) => {
            let refusal = user_error_fields(e)?;
            render_page(&st, &s, &actor, d, Some(refusal), None).await
        }
    }
}

async fn api_list(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    let items = st.app.relatives().list(&actor).await?;
    Ok(Json(json!({"total": items.len(), "items": items})).into_response())
}

async fn api_declare(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<NewDeclaration>,
) -> ApiResult {
    let out = st.app.relatives().declare(&actor, &body, today()).await?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}
