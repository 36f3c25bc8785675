//! Registry pages and API (户籍台账): household list and search, household page with
//! members, incomes, assets and history, forms, ledger import (with background jobs and a
//! progress bar), template download and export. Every call goes to `app.registry()` /
//! `app.jobs()` with the signed-in user; ID numbers and accounts come back masked unless
//! the role may see them.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use minzheng_app::formats::ledger::{import_report_xlsx, import_template, ledger_xlsx};
use minzheng_app::registry::import::{ImportInput, ImportOptions};
use minzheng_app::users::SessionInfo;
use minzheng_app::{Authorize, Permission};
use minzheng_domain::cases::Enrolment;
use minzheng_domain::jobs::JobState;
use minzheng_domain::registry::{
    AssetInput, AssetKind, DisabilityType, Employment, ExclusionReason, Health, Household,
    HouseholdDetail, HouseholdFilter, HouseholdUpdate, ImportReport, IncomeInput, IncomeKind,
    IncomePeriod, NewHousehold, PersonInput, PersonStatus, RegistrationType, Relation,
    WorkCapacity,
};
use minzheng_domain::{Actor, Fen};
use serde::Deserialize;
use serde_json::json;

use crate::api::{ApiJson, ApiQuery};
use crate::error::{parse_id, AppError, PageError};
use crate::pages::{render, Nav};
use crate::registry_corrections::{history_line, saved_notice, HistoryLine};
use crate::session::{ApiUser, PageUser};
use crate::AppState;

type PageResult = Result<Response, PageError>;
type ApiResult = Result<Response, AppError>;

const PAGE_SIZE: i64 = 20;
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn download(bytes: Vec<u8>, mime: &'static str, filename: &str) -> Response {
    // RFC 5987 so Chinese file names survive, with a plain ASCII name beside it.
    crate::payroll::download(filename, mime, bytes)
}

// ---------------------------------------------------------------- pages

#[derive(Template)]
#[template(path = "registry_list.html")]
struct ListPage {
    nav: Nav,
    households: Vec<Household>,
    total: i64,
    /// With a search term the count stops at a cap: there are more than `total`.
    total_capped: bool,
    /// A filter the list could not use (shown above the form, which keeps what was typed).
    problem: Option<String>,
    page: i64,
    pages: i64,
    f: ListQuery,
    query_string: String,
    can_write: bool,
    reg_types: &'static [RegistrationType],
}

#[derive(Deserialize, Default, Clone, serde::Serialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub village: String,
    #[serde(default)]
    pub registration_type: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub page: Option<String>,
}

pub async fn list_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(f): Query<ListQuery>,
) -> PageResult {
    let page = f
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .max(1);
    let village = crate::places::resolve(
        &st,
        &actor,
        "village",
        &f.village,
        crate::places::levels("area"),
    )
    .await;
    let found = match village {
        Err(e) => Err(e),
        Ok(village) => {
            st.app
                .registry()
                .page(
                    &actor,
                    &HouseholdFilter {
                        village: Some(village),
                        registration_type: Some(f.registration_type.clone()),
                        status: Some(f.status.clone()),
                        q: Some(f.q.clone()),
                        limit: Some(PAGE_SIZE),
                        offset: Some((page - 1) * PAGE_SIZE),
                    },
                )
                .await
        }
    };
    let (found, problem) = match found {
        Ok(found) => (found, None),
        Err(minzheng_app::Error::Validation { message, .. }) => (
            minzheng_domain::registry::HouseholdPage::default(),
            Some(message),
        ),
        Err(e) => return Err(e.into()),
    };
    let query_string = serde_urlencoded::to_string([
        ("q", f.q.as_str()),
        ("village", f.village.as_str()),
        ("registration_type", f.registration_type.as_str()),
        ("status", f.status.as_str()),
    ])
    .unwrap_or_default();
    render(&ListPage {
        nav: Nav::new(&s, "households"),
        households: found.items,
        total: found.total,
        total_capped: found.total_capped,
        problem,
        page,
        pages: ((found.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        f,
        query_string,
        can_write: actor.may(Permission::EditRegistry),
        reg_types: RegistrationType::ALL,
    })
}

/// Choices for the select boxes of the forms.
#[derive(Clone, Copy)]
pub struct Choices {
    pub reg_types: &'static [RegistrationType],
    pub relations: &'static [Relation],
    pub exclusions: &'static [ExclusionReason],
    pub disabilities: &'static [DisabilityType],
    pub healths: &'static [Health],
    pub capacities: &'static [WorkCapacity],
    pub employments: &'static [Employment],
    pub statuses: &'static [PersonStatus],
    pub income_kinds: &'static [IncomeKind],
    pub periods: &'static [IncomePeriod],
    pub asset_kinds: &'static [AssetKind],
}

pub(crate) const CHOICES: Choices = Choices {
    reg_types: RegistrationType::ALL,
    relations: Relation::ALL,
    exclusions: ExclusionReason::ALL,
    disabilities: DisabilityType::ALL,
    healths: Health::ALL,
    capacities: WorkCapacity::ALL,
    employments: Employment::ALL,
    statuses: PersonStatus::ALL,
    income_kinds: IncomeKind::ALL,
    periods: IncomePeriod::ALL,
    asset_kinds: AssetKind::ALL,
};

#[derive(Template)]
#[template(path = "registry_new.html")]
struct NewPage {
    nav: Nav,
    form: NewHousehold,
    error: Option<String>,
    fe: BTreeMap<String, String>,
    c: Choices,
}

pub async fn new_page(PageUser(s, _): PageUser) -> PageResult {
    render(&NewPage {
        nav: Nav::new(&s, "households"),
        form: NewHousehold::default(),
        error: None,
        fe: BTreeMap::new(),
        c: CHOICES,
    })
}

fn unprocessable(mut r: Response) -> Response {
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r
}

pub async fn create_submit(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    axum::Form(form): axum::Form<NewHousehold>,
) -> PageResult {
    let village = |v: String| NewHousehold {
        village_code: v,
        ..form.clone()
    };
    let result = match crate::places::resolve(
        &st,
        &actor,
        "village_code",
        &form.village_code,
        crate::places::levels("village"),
    )
    .await
    {
        Ok(code) => st.app.registry().create(&actor, &village(code)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(d) => {
            Ok(Redirect::to(&format!("/households/{}?saved=1", d.household.id)).into_response())
        }
        Err(minzheng_app::Error::Validation { message, fields }) => {
            crate::forms::note(&fields);
            Ok(unprocessable(render(&NewPage {
                nav: Nav::new(&s, "households"),
                form,
                error: Some(message),
                fe: fields,
                c: CHOICES,
            })?))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "registry_household.html")]
struct HouseholdPage {
    nav: Nav,
    d: HouseholdDetail,
    history: Vec<HistoryLine>,
    can_write: bool,
    /// Enrolments whose paid amount differs from the calculator's after a correction, with
    /// the amount computed now (the page offers the change case for each).
    review: Vec<(Enrolment, Fen)>,
    can_change: bool,
    /// The add-member form as typed (kept on a refusal).
    member_form: PersonInput,
    /// The household's village as the place field writes it ("红星村（东城街道）").
    village_place: String,
    notice: Option<String>,
    error: Option<String>,
    /// Which form the error belongs to: household, member, income, asset, person-{id}.
    error_form: String,
    fe: BTreeMap<String, String>,
    c: Choices,
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
    /// Enrolments (comma-separated ids) whose amount a correction changed.
    review: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn household_page(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    id: i64,
    notice: Option<String>,
    error: Option<(String, String, BTreeMap<String, String>)>,
    review: &[i64],
    member_form: PersonInput,
) -> PageResult {
    let d = st.app.registry().get(actor, id).await?;
    let history = st
        .app
        .registry()
        .history(actor, id)
        .await?
        .iter()
        .map(history_line)
        .collect();
    // Only after a correction that changed an enrolled amount (the common page asks nothing).
    let review = if review.is_empty() {
        Vec::new()
    } else {
        st.app
            .registry()
            .amounts_to_review(actor, id, review)
            .await?
    };
    let (error, error_form, fe) = match error {
        Some((form, msg, fe)) => (Some(msg), form, fe),
        None => (None, String::new(), BTreeMap::new()),
    };
    let township = st
        .app
        .divisions()
        .get(actor, &d.household.township_code)
        .await
        .ok()
        .map(|t| t.name);
    let village_place = crate::places::place_label(&d.household.village_name, township.as_deref());
    render(&HouseholdPage {
        nav: Nav::new(s, "households"),
        village_place,
        d,
        history,
        review,
        can_change: actor.may(Permission::OpenChangeCase),
        member_form,
        can_write: actor.may(Permission::EditRegistry),
        notice,
        error,
        error_form,
        fe,
        c: CHOICES,
    })
}

pub async fn household(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    Query(qs): Query<SavedQuery>,
) -> PageResult {
    let id = parse_id(&id, "该户")?;
    let notice = qs.saved.map(|code| {
        saved_notice(&code)
            .map(str::to_string)
            .unwrap_or_else(|| "已保存".to_string())
    });
    let review: Vec<i64> = qs
        .review
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .take(20)
        .collect();
    household_page(
        &st,
        &s,
        &actor,
        id,
        notice,
        None,
        &review,
        PersonInput::default(),
    )
    .await
}

/// Shared tail of every household form: redirect on success, re-render with the
/// field messages on a validation error.
async fn after_submit(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    id: i64,
    form: &str,
    r: minzheng_app::Result<HouseholdDetail>,
) -> PageResult {
    after_submit_typed(st, s, actor, id, form, r, PersonInput::default()).await
}

/// [`after_submit`], keeping the add-member form as typed on a refusal.
async fn after_submit_typed(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    id: i64,
    form: &str,
    r: minzheng_app::Result<HouseholdDetail>,
    typed: PersonInput,
) -> PageResult {
    match r {
        Ok(d) => {
            Ok(Redirect::to(&format!("/households/{}?saved=1", d.household.id)).into_response())
        }
        Err(minzheng_app::Error::Validation { message, fields }) => Ok(unprocessable({
            crate::forms::note(&fields);
            household_page(
                st,
                s,
                actor,
                id,
                None,
                Some((form.into(), message, fields)),
                &[],
                typed,
            )
            .await?
        })),
        Err(e) => Err(e.into()),
    }
}

pub async fn update_submit(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<HouseholdUpdate>,
) -> PageResult {
    let id = parse_id(&id, "该户")?;
    let r = match crate::places::resolve(
        &st,
        &actor,
        "village_code",
        &f.village_code,
        crate::places::levels("village"),
    )
    .await
    {
        Ok(code) => {
            let f = HouseholdUpdate {
                village_code: code,
                ..f
            };
            st.app.registry().update(&actor, id, &f).await
        }
        Err(e) => Err(e),
    };
    after_submit(&st, &s, &actor, id, "household", r).await
}

pub async fn member_submit(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<PersonInput>,
) -> PageResult {
    let id = parse_id(&id, "该户")?;
    let r = st.app.registry().add_member(&actor, id, &f).await;
    after_submit_typed(&st, &s, &actor, id, "member", r, f).await
}

pub async fn person_submit(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(pid): Path<String>,
    axum::Form(f): axum::Form<PersonInput>,
) -> PageResult {
    let pid = parse_id(&pid, "该成员")?;
    let hid = st.app.registry().person_household(&actor, pid).await?;
    let r = st.app.registry().update_person(&actor, pid, &f).await;
    after_submit(&st, &s, &actor, hid, &format!("person-{pid}"), r).await
}

/// A member's address opened in the browser (the member form's address after a refusal):
/// the household page the member is on.
pub async fn person_page(
    State(st): State<AppState>,
    PageUser(_, actor): PageUser,
    Path(pid): Path<String>,
) -> PageResult {
    let pid = parse_id(&pid, "该成员")?;
    let hid = st.app.registry().person_household(&actor, pid).await?;
    Ok(Redirect::to(&format!("/households/{hid}")).into_response())
}

pub async fn income_submit(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<IncomeInput>,
) -> PageResult {
    let id = parse_id(&id, "该户")?;
    let r = st.app.registry().add_income(&actor, id, &f).await;
    after_submit(&st, &s, &actor, id, "income", r).await
}

pub async fn asset_submit(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<AssetInput>,
) -> PageResult {
    let id = parse_id(&id, "该户")?;
    let r = st.app.registry().add_asset(&actor, id, &f).await;
    after_submit(&st, &s, &actor, id, "asset", r).await
}

// ---------------------------------------------------------------- import / export

#[derive(Template)]
#[template(path = "registry_import.html")]
struct ImportPage {
    nav: Nav,
    report: Option<ImportReport>,
    job: Option<JobState>,
    error: Option<String>,
    can_write: bool,
    recent: Vec<JobState>,
}

/// The user's recent import jobs (from the jobs table, so they outlive restarts).
async fn recent_jobs(st: &AppState, actor: &Actor) -> Result<Vec<JobState>, AppError> {
    Ok(st.app.jobs().list(actor, 10).await?)
}

pub async fn import_page(State(st): State<AppState>, PageUser(s, actor): PageUser) -> PageResult {
    render(&ImportPage {
        nav: Nav::new(&s, "households"),
        report: None,
        job: None,
        error: None,
        can_write: actor.may(Permission::ImportRegistry),
        recent: recent_jobs(&st, &actor).await?,
    })
}

/// Reads the upload form: the file, and the valid-only / dry-run switches.
async fn read_upload(mut mp: Multipart) -> Result<(ImportInput, ImportOptions), AppError> {
    let mut input = None;
    let mut opts = ImportOptions::default();
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| AppError::bad_request(format!("上传内容无法读取：{e}")))?
    {
        match field.name().unwrap_or("") {
            "file" => {
                let name = field.file_name().unwrap_or("upload.csv").to_string();
                let data = field.bytes().await.map_err(|_| {
                    AppError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        format!(
                            "文件过大：网页上传上限为{}MB，更大的文件请按乡镇拆分或使用命令行导入",
                            crate::session::UPLOAD_LIMIT / 1_048_576
                        ),
                    )
                })?;
                input = Some(ImportInput::Bytes {
                    name,
                    // Taken over without a copy when the body arrived in one buffer.
                    data: Vec::from(data),
                });
            }
            "valid_only" => opts.valid_only = true,
            "dry_run" => opts.dry_run = true,
            _ => {}
        }
    }
    let input = input
        .filter(|i| matches!(i, ImportInput::Bytes { data, name } if !data.is_empty() || !name.is_empty()))
        .ok_or_else(|| {
            let mut e = AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", "请选择要导入的文件");
            e.fields.insert("file".into(), "请选择要导入的文件".into());
            e
        })?;
    Ok((input, opts))
}

pub async fn import_submit(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    crate::api::Upload(mp): crate::api::Upload,
) -> PageResult {
    let (input, opts) = read_upload(mp).await?;
    let (id, report) = st.app.jobs().start_import(&actor, input, opts).await?;
    match report {
        None => Ok(Redirect::to(&format!("/jobs/{id}")).into_response()),
        Some(r) => {
            let status = if r.written || r.issues.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut resp = render(&ImportPage {
                nav: Nav::new(&s, "households"),
                job: st.app.jobs().get(&actor, id).await.ok(),
                report: Some(r),
                error: None,
                can_write: actor.may(Permission::ImportRegistry),
                recent: recent_jobs(&st, &actor).await?,
            })?;
            *resp.status_mut() = status;
            Ok(resp)
        }
    }
}

#[derive(Template)]
#[template(path = "registry_job.html")]
struct JobPage {
    nav: Nav,
    job: JobState,
}

/// Just the progress box, for htmx polling.
#[derive(Template)]
#[template(path = "registry_job_body.html")]
struct JobFragment {
    job: JobState,
}

#[derive(Deserialize, Default)]
pub struct FragmentQuery {
    fragment: Option<String>,
}

pub async fn job_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    Query(qs): Query<FragmentQuery>,
) -> PageResult {
    let id = parse_id(&id, "该任务")?;
    let job = st.app.jobs().get(&actor, id).await?;
    if qs.fragment.is_some() {
        return render(&JobFragment { job });
    }
    render(&JobPage {
        nav: Nav::new(&s, "households"),
        job,
    })
}

pub async fn job_report(
    State(st): State<AppState>,
    PageUser(_, actor): PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id, "该任务")?;
    let report = st
        .app
        .jobs()
        .get(&actor, id)
        .await?
        .report
        .ok_or_else(|| AppError::not_found("未找到该导入报告"))?;
    Ok(download(
        import_report_xlsx(&report)?,
        XLSX,
        "导入错误报告.xlsx",
    ))
}

pub async fn template_download(PageUser(_, _): PageUser) -> PageResult {
    Ok(download(import_template()?, XLSX, "户籍台账导入模板.xlsx"))
}

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    scope: Option<String>,
}

pub async fn export_download(
    State(st): State<AppState>,
    PageUser(_, actor): PageUser,
    Query(qs): Query<ExportQuery>,
) -> PageResult {
    let (rows, _) = st
        .app
        .registry()
        .export(&actor, qs.scope.as_deref())
        .await?;
    Ok(download(ledger_xlsx(&rows)?, XLSX, "户籍台账.xlsx"))
}

// ---------------------------------------------------------------- API

fn ok(v: impl serde::Serialize) -> ApiResult {
    Ok(Json(v).into_response())
}

#[derive(Deserialize, Default)]
pub struct ApiListQuery {
    q: Option<String>,
    village: Option<String>,
    registration_type: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub async fn api_list(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(f): ApiQuery<ApiListQuery>,
) -> ApiResult {
    let found = st
        .app
        .registry()
        .page(
            &actor,
            &HouseholdFilter {
                q: f.q,
                village: f.village,
                registration_type: f.registration_type,
                status: f.status,
                limit: f.limit,
                offset: f.offset,
            },
        )
        .await?;
    ok(found)
}

pub async fn api_create(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<NewHousehold>,
) -> ApiResult {
    let d = st.app.registry().create(&actor, &body).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

pub async fn api_get(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    ok(st
        .app
        .registry()
        .get(&actor, parse_id(&id, "该户")?)
        .await?)
}

pub async fn api_update(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HouseholdUpdate>,
) -> ApiResult {
    let d = st
        .app
        .registry()
        .update(&actor, parse_id(&id, "该户")?, &body)
        .await?;
    ok(d)
}

pub async fn api_history(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let items = st
        .app
        .registry()
        .history(&actor, parse_id(&id, "该户")?)
        .await?;
    ok(json!({"items": items}))
}

pub async fn api_add_member(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PersonInput>,
) -> ApiResult {
    let d = st
        .app
        .registry()
        .add_member(&actor, parse_id(&id, "该户")?, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

pub async fn api_add_income(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<IncomeInput>,
) -> ApiResult {
    let d = st
        .app
        .registry()
        .add_income(&actor, parse_id(&id, "该户")?, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

pub async fn api_add_asset(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssetInput>,
) -> ApiResult {
    let d = st
        .app
        .registry()
        .add_asset(&actor, parse_id(&id, "该户")?, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

pub async fn api_update_person(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PersonInput>,
) -> ApiResult {
    let d = st
        .app
        .registry()
        .update_person(&actor, parse_id(&id, "该成员")?, &body)
        .await?;
    ok(d)
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    q: Option<String>,
    limit: Option<i64>,
}

pub async fn api_search(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<SearchQuery>,
) -> ApiResult {
    let items = st
        .app
        .registry()
        .search(
            &actor,
            qs.q.as_deref().unwrap_or(""),
            qs.limit.unwrap_or(20),
        )
        .await?;
    ok(json!({"items": items}))
}

pub async fn api_import(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    crate::api::Upload(mp): crate::api::Upload,
) -> ApiResult {
    let (input, opts) = read_upload(mp).await?;
    let (id, report) = st.app.jobs().start_import(&actor, input, opts).await?;
    match report {
        Some(r) => {
            let status = if r.written || r.issues.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Ok((
                status,
                Json(json!({"job_id": id, "report": r, "summary": r.summary()})),
            )
                .into_response())
        }
        None => Ok((StatusCode::ACCEPTED, Json(json!({"job_id": id}))).into_response()),
    }
}

pub async fn api_job(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    ok(st.app.jobs().get(&actor, parse_id(&id, "该任务")?).await?)
}

/// The import jobs the signed-in user sees (their own, and command-line imports inside
/// their jurisdiction if they may import).
pub async fn api_jobs(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    ok(json!({"items": recent_jobs(&st, &actor).await?}))
}
