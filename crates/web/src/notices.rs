//! 公示, 保障对象 and 救助参数 pages and API, and the public notice board
//! `/public/notices/{division code}` (no sign-in; only the whitelisted fields of
//! [`minzheng_domain::cases::PublicNotice`] exist there).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use minzheng_app::{Authorize, Error as UseCaseError, Permission};
use minzheng_domain::cases::{
    facts_of, notice_required, Case, CaseFilter, Enrolment, EnrolmentFilter, NoticeBatch,
    PublicNotice,
};
use minzheng_domain::params::{NewParam, ParamRow};
use minzheng_domain::{DivisionCode, Program};
use serde::Deserialize;
use serde_json::json;

use crate::api::{ApiJson, ApiQuery};
use crate::cases::{today, with_status, Choices, Fields, CHOICES};
use crate::error::{parse_id, AppError, PageError};
use crate::pages::{render, Nav, PageForm};
use crate::session::{ApiUser, PageUser};
use crate::AppState;

type PageResult = Result<Response, PageError>;
type ApiResult = Result<Response, AppError>;

const PAGE_SIZE: i64 = 20;

fn ok(v: impl serde::Serialize) -> ApiResult {
    Ok(Json(v).into_response())
}

// ---------------------------------------------------------------- notices (staff)

/// Whether a case awaiting its notice goes on a board (the domain's rule).
fn goes_on_board(c: &Case) -> bool {
    notice_required(&facts_of(c, None))
}

#[derive(Template)]
#[template(path = "notice_list.html")]
struct NoticesPage {
    nav: Nav,
    batches: Vec<NoticeBatch>,
    awaiting: Vec<Case>,
    can_publish: bool,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct NoticesQuery {
    published: Option<String>,
}

async fn render_notices(
    st: &AppState,
    s: &minzheng_app::users::SessionInfo,
    actor: &minzheng_domain::Actor,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    let batches = st.app.notices().list(actor).await?;
    let (awaiting, _) = st
        .app
        .cases()
        .list(
            actor,
            &CaseFilter {
                state: Some("prelim_opinion".into()),
                limit: Some(500),
                ..Default::default()
            },
        )
        .await?;
    let awaiting: Vec<Case> = awaiting.into_iter().filter(goes_on_board).collect();
    render(&NoticesPage {
        nav: Nav::new(s, "cases"),
        batches,
        awaiting,
        can_publish: actor.may(Permission::PublishNotices),
        notice,
        error,
    })
}

pub async fn notices_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<NoticesQuery>,
) -> PageResult {
    let notice = qs
        .published
        .map(|id| format!("已发布公示（编号{id}），请打印张贴并在公示期满后报送审核"));
    render_notices(&st, &s, &actor, notice, None).await
}

pub async fn publish_submit(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields::new(pairs);
    let mut ids = Vec::new();
    for v in f.all("case_id") {
        ids.push(parse_id(v.trim(), "该案件")?);
    }
    // The board: the cases' village, or their township.
    let mut codes = Vec::new();
    for id in &ids {
        let c = st.app.cases().case(&actor, *id).await?;
        let code = if f.get("level") == "township" {
            c.township_code
        } else {
            c.village_code
        };
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    let result = match codes.as_slice() {
        [] | [_] => {
            let division = codes.first().cloned().unwrap_or_default();
            st.app
                .notices()
                .publish(&actor, &division, &ids, today())
                .await
        }
        _ => Err(UseCaseError::field(
            "case_ids",
            "所选案件不在同一村(社区)，请分村公示，或选择在乡镇(街道)公示栏张贴",
        )),
    };
    match result {
        Ok(batch) => Ok(Redirect::to(&format!("/notices?published={batch}")).into_response()),
        Err(e) => {
            let e = AppError::from(e);
            let page = render_notices(&st, &s, &actor, None, Some(e.message)).await?;
            Ok(with_status(page, e.status))
        }
    }
}

#[derive(Template)]
#[template(path = "notice_print.html")]
struct NoticePrint {
    nav: Nav,
    b: NoticeBatch,
}

pub async fn notice_print(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id, "该公示")?;
    let b = st.app.notices().get(&actor, id).await?;
    render(&NoticePrint {
        nav: Nav::new(&s, "cases"),
        b,
    })
}

// ---------------------------------------------------------------- public board

#[derive(Template)]
#[template(path = "public_notices.html")]
struct PublicPage {
    /// The place's full name (四川省雅安市雨城区东城街道).
    place: String,
    notices: Vec<PublicNotice>,
    today: String,
}

/// `/public/notices/{code}`: what is on the boards of a division today. No sign-in.
pub async fn public_notices(State(st): State<AppState>, Path(code): Path<String>) -> PageResult {
    let division = DivisionCode::parse(code.trim())
        .map_err(|_| AppError::not_found("未找到该地区：区划代码应为2、4、6、9或12位数字"))?;
    let place = match st.app.notices().public_place(&division).await {
        Ok(p) => p,
        Err(minzheng_app::Error::NotFound(_)) => {
            return Err(AppError::not_found(format!(
                "未找到该地区：没有区划代码为{}的地区，请核对公示地址",
                division.as_str()
            ))
            .into())
        }
        Err(e) => return Err(e.into()),
    };
    let notices = st.app.notices().public(&division, today()).await?;
    render(&PublicPage {
        place,
        notices,
        today: today().to_string(),
    })
}

// ---------------------------------------------------------------- enrolments

#[derive(Template)]
#[template(path = "enrolment_list.html")]
struct EnrolmentsPage {
    nav: Nav,
    items: Vec<Enrolment>,
    total: i64,
    page: i64,
    pages: i64,
    f: EnrolmentQuery,
    query_string: String,
    c: Choices,
}

#[derive(Deserialize, Default)]
pub struct EnrolmentQuery {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub program: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: Option<String>,
}

pub async fn enrolments_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(f): Query<EnrolmentQuery>,
) -> PageResult {
    let page = f
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .max(1);
    let (items, total) = st
        .app
        .cases()
        .enrolments(
            &actor,
            &EnrolmentFilter {
                status: Some(f.status.clone()),
                program: Some(f.program.clone()),
                q: Some(f.q.clone()),
                limit: Some(PAGE_SIZE),
                offset: Some((page - 1) * PAGE_SIZE),
            },
        )
        .await?;
    let query_string = serde_urlencoded::to_string([
        ("status", f.status.as_str()),
        ("program", f.program.as_str()),
        ("q", f.q.as_str()),
    ])
    .unwrap_or_default();
    render(&EnrolmentsPage {
        nav: Nav::new(&s, "enrolments"),
        items,
        total,
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        f,
        query_string,
        c: CHOICES,
    })
}

// ---------------------------------------------------------------- parameters

#[derive(Template)]
#[template(path = "params.html")]
struct ParamsPage {
    nav: Nav,
    rows: Vec<ParamRow>,
    names: Vec<(String, String)>,
    /// Who entered each value, by real name.
    people: crate::pages::Names,
    /// Each region code of the table by its name.
    regions: std::collections::HashMap<String, String>,
    program: String,
    can_add: bool,
    form: ParamForm,
    error: Option<String>,
    fe: BTreeMap<String, String>,
    notice: Option<String>,
    c: Choices,
}

#[derive(Deserialize, Default, Clone)]
pub struct ParamForm {
    #[serde(default)]
    pub program: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub urban_rural: String,
    #[serde(default)]
    pub effective_from: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub source: String,
}

#[derive(Deserialize, Default)]
pub struct ParamsQuery {
    program: Option<String>,
    saved: Option<String>,
    /// After a value that changes amounts: its 调整标准 month, the lines prepared, or why
    /// the preparation failed.
    month: Option<String>,
    repriced: Option<String>,
    reprice_error: Option<String>,
}

/// The notice after a value was added, with the 调整标准 batches it prepared.
fn saved_notice(qs: &ParamsQuery) -> Option<String> {
    qs.saved.as_ref()?;
    let mut m = "已添加参数，自生效日期起适用".to_string();
    let month = qs.month.clone().unwrap_or_default();
    if let Some(e) = qs.reprice_error.as_deref().filter(|e| !e.is_empty()) {
        m.push_str(&format!(
            "；未能生成{month}调整标准批次：{e}，可在“调标批次”页面重新生成"
        ));
    } else if let Some(n) = qs.repriced.as_deref().and_then(|n| n.parse::<i64>().ok()) {
        if n > 0 {
            m.push_str(&format!(
                "；已生成{month}起执行的调整标准批次，{n}名保障对象待审核签发（见“调标批次”）"
            ));
        } else {
            m.push_str(&format!("；{month}起没有保障对象的金额因此变化"));
        }
    }
    Some(m)
}

async fn render_params(
    st: &AppState,
    s: &minzheng_app::users::SessionInfo,
    actor: &minzheng_domain::Actor,
    program: String,
    form: ParamForm,
    error: Option<(String, BTreeMap<String, String>)>,
    notice: Option<String>,
) -> PageResult {
    let params = st.app.params();
    let rows = params.list(actor, Some(&program)).await?;
    let mut names: Vec<(String, String)> = params
        .list(actor, None)
        .await?
        .into_iter()
        .map(|r| (r.name.code(), r.name.label()))
        .collect();
    if !form.name.trim().is_empty() && !names.iter().any(|(c, _)| c == form.name.trim()) {
        names.push((form.name.trim().to_string(), form.name.trim().to_string()));
    }
    names.sort_by(|a, b| a.1.cmp(&b.1));
    names.dedup();
    let mut regions = std::collections::HashMap::new();
    for r in &rows {
        if !regions.contains_key(&r.region) {
            let name = st
                .app
                .divisions()
                .get(actor, &r.region)
                .await
                .map(|d| d.name)
                .unwrap_or_else(|_| r.region.clone());
            regions.insert(r.region.clone(), name);
        }
    }
    let people = crate::pages::Names::load(st).await?;
    let (error, fe) = match error {
        Some((m, f)) => (Some(m), f),
        None => (None, BTreeMap::new()),
    };
    render(&ParamsPage {
        nav: Nav::new(s, "cases"),
        people,
        regions,
        rows,
        names,
        program,
        can_add: st.app.params().may_add(actor),
        form,
        error,
        fe,
        notice,
        c: CHOICES,
    })
}

pub async fn params_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<ParamsQuery>,
) -> PageResult {
    let form = ParamForm {
        region: s.user.scope_name.clone(),
        effective_from: today().to_string(),
        ..Default::default()
    };
    render_params(
        &st,
        &s,
        &actor,
        qs.program.clone().unwrap_or_default(),
        form,
        None,
        saved_notice(&qs),
    )
    .await
}

pub async fn param_submit(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(form): PageForm<ParamForm>,
) -> PageResult {
    let region = crate::places::resolve(
        &st,
        &actor,
        "region",
        &form.region,
        crate::places::levels("region"),
    )
    .await;
    let input = NewParam {
        program: form.program.clone(),
        name: form.name.clone(),
        region: region.as_ref().cloned().unwrap_or_default(),
        urban_rural: form.urban_rural.clone(),
        effective_from: form.effective_from.clone(),
        value_json: form.value.clone(),
        source: form.source.clone(),
    };
    let result = match region {
        Ok(_) => st.app.params().add_and_reprice(&actor, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(added) => {
            let mut to = format!(
                "/params?program={}&saved=1",
                Program::ALL
                    .iter()
                    .find(|p| p.as_str() == form.program.trim())
                    .map(|p| p.as_str())
                    .unwrap_or("")
            );
            if let Some(m) = added.repricing_month {
                to.push_str(&format!("&month={m}"));
                match (&added.repricing, &added.repricing_error) {
                    (_, Some(e)) => {
                        let q =
                            serde_urlencoded::to_string([("reprice_error", e)]).unwrap_or_default();
                        to.push_str(&format!("&{q}"));
                    }
                    (Some(p), None) => to.push_str(&format!("&repriced={}", p.added)),
                    (None, None) => {}
                }
            }
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            let mut e = AppError::from(e);
            if let Some(m) = e.fields.remove("value_json") {
                e.fields.insert("value".into(), m);
            }
            let program = form.program.clone();
            let page = render_params(
                &st,
                &s,
                &actor,
                program,
                form,
                Some((e.message, e.fields)),
                None,
            )
            .await?;
            Ok(with_status(page, e.status))
        }
    }
}

// ---------------------------------------------------------------- API

pub async fn api_notices(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    ok(json!({ "items": st.app.notices().list(&actor).await? }))
}

pub async fn api_notice(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该公示")?;
    ok(st.app.notices().get(&actor, id).await?)
}

#[derive(Deserialize)]
pub struct PublishBody {
    #[serde(default)]
    division_code: String,
    #[serde(default)]
    case_ids: Vec<i64>,
}

pub async fn api_publish(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<PublishBody>,
) -> ApiResult {
    if body.division_code.trim().is_empty() {
        return Err(
            UseCaseError::field("division_code", "请填写公示范围(村或乡镇区划代码)").into(),
        );
    }
    let notices = st.app.notices();
    let id = notices
        .publish(&actor, body.division_code.trim(), &body.case_ids, today())
        .await?;
    let b = notices.get(&actor, id).await?;
    Ok((StatusCode::CREATED, Json(b)).into_response())
}

#[derive(Deserialize, Default)]
pub struct ApiEnrolmentQuery {
    status: Option<String>,
    program: Option<String>,
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub async fn api_enrolments(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(f): ApiQuery<ApiEnrolmentQuery>,
) -> ApiResult {
    let (items, total) = st
        .app
        .cases()
        .enrolments(
            &actor,
            &EnrolmentFilter {
                status: f.status,
                program: f.program,
                q: f.q,
                limit: f.limit,
                offset: f.offset,
            },
        )
        .await?;
    let items: Vec<Enrolment> = items;
    ok(json!({"items": items, "total": total}))
}

#[derive(Deserialize, Default)]
pub struct ApiParamsQuery {
    program: Option<String>,
}

pub async fn api_params(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<ApiParamsQuery>,
) -> ApiResult {
    ok(json!({ "items": st.app.params().list(&actor, qs.program.as_deref()).await? }))
}

pub async fn api_add_param(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<NewParam>,
) -> ApiResult {
    let added = st.app.params().add_and_reprice(&actor, &body).await?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}
