//! 救助案件 pages and API: the case list, new applications, the case page with one form
//! per legal next step, the case file for printing, and `/api/v1/cases…`.
//!
//! The use cases (`minzheng_app::cases`) decide everything (jurisdiction, role, legality,
//! amounts, what is masked); this module only turns forms and JSON into their calls and
//! shows the result or the Chinese refusal.
//! Notices, enrolments and parameters live in [`crate::notices`].

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use minzheng_app::cases::CaseDetail;
use minzheng_app::users::SessionInfo;
use minzheng_app::{Authorize, Error as UseCaseError, Permission};
use minzheng_domain::case_calc::{details_section, CaseDetails, DetailsSection};
use minzheng_domain::cases::{
    details_editable, role_may_take, ActionExtras, Case, CaseEvent, CaseFilter, DetailsForm,
    NewCase, DETAILS_PROBLEM,
};
use minzheng_domain::programs::{
    CareCategory, DisabilityCause, LaidOffRegime, ReliefStage, SchoolStage, SupportMode,
    TemporaryKind,
};
use minzheng_domain::registry::{Household, HouseholdDetail, HouseholdFilter};
use minzheng_domain::Actor;
use minzheng_domain::{Action, ActionKind, CaseState, Fen, FieldErrors, Program};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::{ApiJson, ApiQuery};
use crate::error::{parse_id, AppError, PageError};
use crate::pages::{render, Nav, PageForm};
use crate::session::{ApiUser, PageUser};
use crate::AppState;

type PageResult = Result<Response, PageError>;
type ApiResult = Result<Response, AppError>;

const PAGE_SIZE: i64 = 20;

/// Today in China (UTC+8): the date every case step is recorded under.
pub fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// The details form's problems as the page shows them (one summary, a message per field).
fn details_error(f: FieldErrors) -> UseCaseError {
    UseCaseError::Validation {
        message: DETAILS_PROBLEM.into(),
        fields: f.into_map(),
    }
}

pub(crate) fn with_status(mut r: Response, status: StatusCode) -> Response {
    *r.status_mut() = status;
    r
}

/// A submitted form as name → values (checkbox lists repeat a name).
pub(crate) struct Fields(HashMap<String, Vec<String>>);

impl Fields {
    pub(crate) fn new(pairs: Vec<(String, String)>) -> Self {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            m.entry(k).or_default().push(v);
        }
        Fields(m)
    }
    pub(crate) fn get(&self, k: &str) -> &str {
        self.0
            .get(k)
            .and_then(|v| v.first())
            .map(|s| s.trim())
            .unwrap_or("")
    }
    pub(crate) fn all(&self, k: &str) -> Vec<String> {
        self.0.get(k).cloned().unwrap_or_default()
    }
    pub(crate) fn on(&self, k: &str) -> bool {
        !self.get(k).is_empty()
    }
}

/// Routes of the case, notice, enrolment and parameter pages.
pub fn page_routes(photo_limit: usize) -> Router<AppState> {
    use crate::notices as n;
    let upload = axum::extract::DefaultBodyLimit::max(photo_limit + 256 * 1024);
    Router::new()
        .route("/cases", get(list_page))
        .route("/cases/tasks", post(tasks_submit))
        .route("/cases/new", get(new_page).post(new_submit))
        .route("/cases/{id}", get(case_page).post(case_post))
        .route("/cases/{id}/print", get(print_page))
        .route("/cases/{id}/attachments", post(attach_submit).layer(upload))
        .route("/enrolments/{id}/change", post(change_submit))
        .route("/notices", get(n::notices_page).post(n::publish_submit))
        .route("/notices/{id}/print", get(n::notice_print))
        .route("/public/notices/{code}", get(n::public_notices))
        .route("/enrolments", get(n::enrolments_page))
        .route("/params", get(n::params_page).post(n::param_submit))
        .route(
            "/static/case_form.js",
            get(|| async {
                (
                    [
                        (
                            axum::http::header::CONTENT_TYPE,
                            "text/javascript; charset=utf-8",
                        ),
                        (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    CASE_FORM_JS,
                )
                    .into_response()
            }),
        )
}

const CASE_FORM_JS: &str = include_str!("../static/case_form.js");

/// Routes under `/api/v1`.
pub fn api_routes(photo_limit: usize) -> Router<AppState> {
    use crate::notices as n;
    let upload = axum::extract::DefaultBodyLimit::max(photo_limit + 256 * 1024);
    Router::new()
        .route("/cases", get(api_list).post(api_create))
        .route("/cases/due", get(api_due))
        .route("/cases/tasks", post(api_tasks))
        .route("/cases/{id}", get(api_get))
        .route("/cases/{id}/actions", post(api_act))
        .route("/cases/{id}/calculation", get(api_calculation))
        .route("/cases/{id}/details", axum::routing::put(api_details))
        .route("/cases/{id}/attachments", post(api_attach).layer(upload))
        .route("/enrolments/{id}/change", post(api_change))
        .route("/notices", get(n::api_notices).post(n::api_publish))
        .route("/notices/{id}", get(n::api_notice))
        .route("/enrolments", get(n::api_enrolments))
        .route("/params", get(n::api_params).post(n::api_add_param))
}

// ---------------------------------------------------------------- choices

/// Select-box choices of the case forms.
pub struct Choices {
    pub programs: [Program; 11],
    pub states: &'static [CaseState],
    pub support_modes: &'static [SupportMode],
    pub temporary_kinds: &'static [TemporaryKind],
    pub school_stages: &'static [SchoolStage],
    pub relief_stages: &'static [ReliefStage],
    pub laid_off_regimes: &'static [LaidOffRegime],
    pub care_categories: &'static [CareCategory],
    pub disability_causes: &'static [DisabilityCause],
}

impl Choices {
    /// The programs whose calculation reads the details section `name` (`data-programs`
    /// of the form's section, which shows it only for them).
    pub fn programs_for(&self, name: &str) -> String {
        DetailsSection::ALL
            .iter()
            .find(|s| s.as_str() == name)
            .map(|s| {
                s.programs()
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    }
}

/// The details section a program's form shows ("" for none).
fn section_of(program: Option<Program>) -> String {
    program
        .and_then(details_section)
        .map(|s| s.as_str().to_string())
        .unwrap_or_default()
}

pub const CHOICES: Choices = Choices {
    programs: Program::ALL,
    states: CaseState::ALL,
    support_modes: SupportMode::ALL,
    temporary_kinds: TemporaryKind::ALL,
    school_stages: SchoolStage::ALL,
    relief_stages: ReliefStage::ALL,
    laid_off_regimes: LaidOffRegime::ALL,
    care_categories: CareCategory::ALL,
    disability_causes: DisabilityCause::ALL,
};

// ---------------------------------------------------------------- program details form

/// The details as the form submitted them.
fn details_form(f: &Fields) -> DetailsForm {
    let s = |k: &str| f.get(k).to_string();
    DetailsForm {
        assessed: f.on("assessed"),
        eating: f.on("eating"),
        dressing: f.on("dressing"),
        bed_transfer: f.on("bed_transfer"),
        toileting: f.on("toileting"),
        indoor_walking: f.on("indoor_walking"),
        bathing: f.on("bathing"),
        support_mode: s("support_mode"),
        temporary_kind: s("temporary_kind"),
        assessed_amount: s("assessed_amount"),
        cause: s("cause"),
        eligible_cost: s("eligible_cost"),
        paid_this_year: s("paid_this_year"),
        school_stage: s("school_stage"),
        relief_stage: s("relief_stage"),
        disaster_name: s("disaster_name"),
        laid_off_regime: s("laid_off_regime"),
        original_wage: s("original_wage"),
        care_category: s("care_category"),
        care_grade: s("care_grade"),
        disability_cause: s("disability_cause"),
        rigid_spending: s("rigid_spending"),
    }
}

// ---------------------------------------------------------------- list

#[derive(Template)]
#[template(path = "case_list.html")]
struct ListPage {
    nav: Nav,
    cases: Vec<Case>,
    total: i64,
    page: i64,
    pages: i64,
    f: ListQuery,
    query_string: String,
    can_apply: bool,
    can_run_tasks: bool,
    notice: Option<String>,
    c: Choices,
    /// The daily tasks' unverified proposals left out of the default list.
    system_drafts: i64,
}

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub program: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub q: String,
    /// Empty: all but the system's unverified proposals; `all`, `system` or `clerk`.
    #[serde(default)]
    pub origin: String,
    #[serde(default)]
    pub page: Option<String>,
    #[serde(default)]
    pub tasks: Option<String>,
}

fn may_apply(actor: &Actor) -> bool {
    actor.may(Permission::ApplyForAssistance)
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
    let (cases, total) = st
        .app
        .cases()
        .list(
            &actor,
            &CaseFilter {
                state: Some(f.state.clone()),
                program: Some(f.program.clone()),
                kind: Some(f.kind.clone()),
                q: Some(f.q.clone()),
                origin: Some(if f.origin.is_empty() {
                    "no_system_drafts".into()
                } else {
                    f.origin.clone()
                }),
                limit: Some(PAGE_SIZE),
                offset: Some((page - 1) * PAGE_SIZE),
            },
        )
        .await?;
    let system_drafts = if f.origin.is_empty() {
        st.app
            .cases()
            .list(
                &actor,
                &CaseFilter {
                    state: Some("draft".into()),
                    origin: Some("system".into()),
                    limit: Some(1),
                    ..Default::default()
                },
            )
            .await?
            .1
    } else {
        0
    };
    let query_string = serde_urlencoded::to_string([
        ("state", f.state.as_str()),
        ("program", f.program.as_str()),
        ("kind", f.kind.as_str()),
        ("q", f.q.as_str()),
        ("origin", f.origin.as_str()),
    ])
    .unwrap_or_default();
    let notice = f.tasks.as_deref().map(|t| {
        let (a, b) = t.split_once('-').unwrap_or((t, "0"));
        format!("动态管理任务已运行：拟定高龄津贴{a}件，到期核查立案{b}件")
    });
    render(&ListPage {
        nav: Nav::new(&s, "cases"),
        cases,
        total,
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        f,
        query_string,
        can_apply: may_apply(&actor),
        can_run_tasks: actor.may(Permission::RunCaseTasks),
        notice,
        c: CHOICES,
        system_drafts,
    })
}

pub async fn tasks_submit(State(st): State<AppState>, PageUser(_, actor): PageUser) -> PageResult {
    let (a, b) = st.app.cases().run_tasks(&actor, today()).await?;
    Ok(Redirect::to(&format!("/cases?tasks={a}-{b}")).into_response())
}

// ---------------------------------------------------------------- new application

#[derive(Template)]
#[template(path = "case_new.html")]
struct NewPage {
    nav: Nav,
    /// The chosen household, or the search for one.
    h: Option<HouseholdDetail>,
    q: String,
    found: Vec<Household>,
    program: String,
    person_id: String,
    reason: String,
    df: DetailsForm,
    /// The chosen program's details section ("" for none); the others start hidden.
    section: String,
    /// Every section is drawn (the program may still change in the browser).
    all_sections: bool,
    error: Option<String>,
    fe: BTreeMap<String, String>,
    can_apply: bool,
    c: Choices,
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    household_id: Option<String>,
    q: Option<String>,
    program: Option<String>,
}

pub async fn new_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<NewQuery>,
) -> PageResult {
    let q = qs.q.unwrap_or_default().trim().to_string();
    let h = match qs.household_id.as_deref().filter(|h| !h.is_empty()) {
        Some(h) => {
            let id = parse_id(h, "该户")?;
            Some(st.app.registry().get(&actor, id).await?)
        }
        None => None,
    };
    let found = if h.is_none() && !q.is_empty() {
        let (rows, _) = st
            .app
            .registry()
            .list(
                &actor,
                &HouseholdFilter {
                    q: Some(q.clone()),
                    limit: Some(20),
                    ..Default::default()
                },
            )
            .await?;
        rows
    } else {
        Vec::new()
    };
    render(&NewPage {
        nav: Nav::new(&s, "cases"),
        h,
        q,
        found,
        section: section_of(qs.program.as_deref().and_then(|p| p.parse().ok())),
        all_sections: true,
        program: qs.program.unwrap_or_default(),
        person_id: String::new(),
        reason: String::new(),
        df: DetailsForm::default(),
        error: None,
        fe: BTreeMap::new(),
        can_apply: may_apply(&actor),
        c: CHOICES,
    })
}

pub async fn new_submit(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields::new(pairs);
    let hid = parse_id(f.get("household_id"), "该户")?;
    let df = details_form(&f);
    let person_id = match f.get("person_id") {
        "" => None,
        p => Some(parse_id(p, "该成员")?),
    };
    let result = match df.to_details() {
        Ok(details) => {
            st.app
                .cases()
                .create(
                    &actor,
                    &NewCase {
                        household_id: hid,
                        person_id,
                        program: f.get("program").to_string(),
                        reason: f.get("reason").to_string(),
                        details,
                        submit: f.get("draft").is_empty(),
                    },
                    today(),
                )
                .await
        }
        Err(e) => Err(details_error(e)),
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/cases/{id}?ok=submit")).into_response()),
        Err(e @ UseCaseError::NotFound(_)) => Err(e.into()),
        Err(e) => {
            let e = AppError::from(e);
            let d = st.app.registry().get(&actor, hid).await?;
            let page = render(&NewPage {
                nav: Nav::new(&s, "cases"),
                h: Some(d),
                q: String::new(),
                found: Vec::new(),
                section: section_of(f.get("program").parse().ok()),
                all_sections: true,
                program: f.get("program").to_string(),
                person_id: f.get("person_id").to_string(),
                reason: f.get("reason").to_string(),
                df,
                error: Some(e.message),
                fe: e.fields,
                can_apply: may_apply(&actor),
                c: CHOICES,
            })?;
            Ok(with_status(page, e.status))
        }
    }
}

// ---------------------------------------------------------------- case page

/// One form on the case page.
pub struct ActionForm {
    pub code: String,
    pub label: &'static str,
}

/// A step the case waits for: who takes it, and from which day when that is later.
pub struct StepView {
    pub label: &'static str,
    pub roles: String,
    pub from: Option<String>,
}

/// A row of the timeline.
pub struct EventView {
    pub on_date: String,
    /// Beijing time of the entry.
    pub at: String,
    pub actor: String,
    pub role_label: &'static str,
    pub action_label: &'static str,
    pub from_label: &'static str,
    pub to_label: &'static str,
    pub note: String,
    /// The action's data in words (reasons, investigators, amounts …).
    pub detail: String,
}

fn event_view(e: &CaseEvent, names: &crate::pages::Names) -> EventView {
    let d = &e.data;
    let mut parts = Vec::new();
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    for (k, label) in [("reasons", "理由"), ("summary", "异议内容")] {
        let v = s(k);
        if !v.is_empty() {
            parts.push(format!("{label}：{v}"));
        }
    }
    let list = |k: &str| -> Vec<String> {
        d.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let inv = list("investigators");
    if !inv.is_empty() {
        parts.push(format!("调查人员：{}", inv.join("、")));
    }
    let missing = list("missing");
    if !missing.is_empty() {
        parts.push(format!("缺少材料：{}", missing.join("；")));
    }
    for (k, label) in [
        ("proposed_amount", "拟发放金额"),
        ("amount", "确认金额"),
        ("calculated", "测算金额"),
    ] {
        if let Some(a) = d.get(k).and_then(Value::as_i64) {
            parts.push(format!("{label}：{}", Fen(a)));
        }
    }
    let why = s("amount_reason");
    if !why.is_empty() {
        parts.push(format!("金额与测算不一致的理由：{why}"));
    }
    let ends = s("notice_ends_on");
    if !ends.is_empty() {
        parts.push(format!("公示至{ends}"));
    }
    let skipped = s("notice_skipped");
    if !skipped.is_empty() {
        parts.push(skipped);
    }
    let grace = s("grace_until");
    if !grace.is_empty() {
        parts.push(format!("渐退至{grace}"));
    }
    EventView {
        on_date: e.on_date.clone(),
        at: crate::pages::beijing_time(&e.at),
        actor: names.of(&e.actor),
        role_label: e.role.map(|r| r.label()).unwrap_or("系统"),
        action_label: e.action.label(),
        from_label: e.from_state.map(|s| s.label()).unwrap_or(""),
        to_label: e.to_state.map(|s| s.label()).unwrap_or(""),
        note: e.note.clone(),
        detail: parts.join("；"),
    }
}

#[derive(Template)]
#[template(path = "case_page.html")]
struct CasePage<'a> {
    nav: Nav,
    d: &'a CaseDetail,
    events: Vec<EventView>,
    forms: Vec<ActionForm>,
    steps: Vec<StepView>,
    preview: Option<Result<minzheng_domain::Calculation, String>>,
    details_editable: bool,
    df: DetailsForm,
    /// The case's program's details section ("" for none): the only one drawn.
    section: String,
    all_sections: bool,
    fe: BTreeMap<String, String>,
    notice: Option<String>,
    error: Option<String>,
    /// Prefill of the approval amount (yuan).
    approve_amount: String,
    /// The opinion's amount and the amount reason as typed into a refused form.
    x_proposed: String,
    x_reason: String,
    /// May upload papers (front-line roles, case not final).
    can_attach: bool,
    /// May propose a change (增发/减发/停发) on the enrolment.
    can_change: bool,
    c: Choices,
    names: crate::pages::Names,
}

#[derive(Deserialize, Default)]
pub struct CaseQuery {
    ok: Option<String>,
    calc: Option<String>,
}

struct PageExtras {
    notice: Option<String>,
    error: Option<String>,
    fe: BTreeMap<String, String>,
    df: Option<DetailsForm>,
    preview: bool,
    /// What was typed into an action form that was refused (amounts, the reason).
    typed: BTreeMap<String, String>,
}

async fn render_case(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    id: i64,
    x: PageExtras,
) -> PageResult {
    let cases = st.app.cases();
    let d = cases.get(actor, id, today()).await?;
    let preview = if x.preview {
        Some(
            cases
                .compute(actor, id, today())
                .await
                .map_err(|e| AppError::from(e).message),
        )
    } else {
        None
    };
    // The forms are the legal steps this role takes (a notice is closed only once its
    // period has run out); the hint names the steps the case waits for, with the roles the
    // state machine gives them at the level that decides this case.
    let not_yet = |k: ActionKind| {
        d.next_steps
            .iter()
            .any(|s| s.kind == k && s.not_before.is_some())
    };
    let forms: Vec<ActionForm> = d
        .next_actions
        .iter()
        .filter(|k| {
            actor.may(Permission::HandleCases)
                && role_may_take(**k, actor.role)
                && d.recused.is_none()
                && !not_yet(**k)
        })
        .map(|k| ActionForm {
            code: k.as_str().to_string(),
            label: k.label(),
        })
        .collect();
    let steps = d
        .next_steps
        .iter()
        .map(|s| StepView {
            label: s.kind.label(),
            roles: s.roles_label(),
            from: s.not_before.map(|d| d.to_string()),
        })
        .collect();
    let details_editable = details_editable(d.case.state)
        && actor.may(Permission::EditCaseDetails)
        && d.recused.is_none();
    let df =
        x.df.unwrap_or_else(|| DetailsForm::from_details(&d.case.details));
    let typed = |k: &str| x.typed.get(k).cloned().unwrap_or_default();
    let approve_amount = x.typed.get("amount").cloned().unwrap_or_else(|| {
        d.case
            .proposed_fen
            .map(|f| f.yuan_string())
            .unwrap_or_default()
    });
    let x_proposed = typed("proposed_amount");
    let x_reason = typed("amount_reason");
    let can_attach =
        actor.may(Permission::AttachCasePapers) && !d.case.state.is_final() && d.recused.is_none();
    let can_change = actor.may(Permission::OpenChangeCase);
    let names = crate::pages::Names::load(st).await?;
    let events = d.events.iter().map(|e| event_view(e, &names)).collect();
    render(&CasePage {
        nav: Nav::new(s, "cases"),
        d: &d,
        events,
        forms,
        steps,
        preview,
        details_editable,
        df,
        section: section_of(Some(d.case.program)),
        all_sections: false,
        fe: x.fe,
        notice: x.notice,
        error: x.error,
        approve_amount,
        x_proposed,
        x_reason,
        can_attach,
        can_change,
        c: CHOICES,
        names,
    })
}

pub async fn case_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    Query(qs): Query<CaseQuery>,
) -> PageResult {
    let id = parse_id(&id, "该案件")?;
    let notice = qs.ok.as_deref().map(|k| match k {
        "details" => "申请信息已保存".to_string(),
        "attach" => "材料已上传".to_string(),
        "change" => "变更案件已立案，请按流程办理".to_string(),
        "submit" => "申请已登记".to_string(),
        k => format!(
            "已办理：{}",
            ActionKind::parse(k).map(|a| a.label()).unwrap_or("办理")
        ),
    });
    render_case(
        &st,
        &s,
        &actor,
        id,
        PageExtras {
            notice,
            error: None,
            fe: BTreeMap::new(),
            df: None,
            preview: qs.calc.is_some(),
            typed: BTreeMap::new(),
        },
    )
    .await
}

/// Splits a list typed into a textarea (lines, or 、；;，, separated).
fn split_list(s: &str) -> Vec<String> {
    s.split(['\n', '、', '；', ';', '，', ','])
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// The action a case-page form asks for.
fn action_from_form(f: &Fields) -> Result<(Action, ActionExtras), UseCaseError> {
    let kind = ActionKind::parse(f.get("action"))
        .ok_or_else(|| UseCaseError::field("action", "未知的办理动作"))?;
    let reasons = || f.get("reasons").to_string();
    let yuan = |field: &str| -> Result<Option<Fen>, UseCaseError> {
        match f.get(field) {
            "" => Ok(None),
            v => Fen::parse_yuan(v)
                .map(Some)
                .map_err(|_| UseCaseError::field(field, "金额格式不对，单位元，最多两位小数")),
        }
    };
    let action = match kind {
        ActionKind::Submit => Action::Submit,
        ActionKind::Accept => Action::Accept,
        ActionKind::NotAccept => Action::NotAccept { reasons: reasons() },
        ActionKind::RequestPapers => Action::RequestPapers {
            missing: split_list(f.get("missing")),
        },
        ActionKind::ResubmitPapers => Action::ResubmitPapers,
        ActionKind::StartInvestigation => Action::StartInvestigation {
            investigators: f
                .all("investigator")
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            authorization_attached: f.on("authorization_attached"),
        },
        ActionKind::RecordOpinion => Action::RecordOpinion {
            proposed_amount: yuan("proposed_amount")?,
        },
        ActionKind::Publish => Action::Publish,
        ActionKind::RecordObjection => Action::RecordObjection {
            summary: f.get("summary").to_string(),
        },
        ActionKind::CloseNotice => Action::CloseNotice,
        ActionKind::SendWithoutNotice => Action::SendWithoutNotice,
        ActionKind::Approve => Action::Approve {
            amount: yuan("amount")?.unwrap_or(Fen(-1)),
        },
        ActionKind::Deny => Action::Deny { reasons: reasons() },
        ActionKind::Enrol => Action::Enrol,
        ActionKind::Suspend => Action::Suspend { reasons: reasons() },
        ActionKind::Resume => Action::Resume,
        ActionKind::Terminate => Action::Terminate { reasons: reasons() },
        ActionKind::Withdraw => Action::Withdraw,
    };
    Ok((
        action,
        ActionExtras {
            note: f.get("note").to_string(),
            findings: f.get("findings").to_string(),
            grace: f.on("grace"),
            amount_reason: f.get("amount_reason").to_string(),
            amount_confirmed: f.on("amount_confirmed"),
        },
    ))
}

pub async fn case_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "该案件")?;
    let f = Fields::new(pairs);
    let (result, ok, df) = if f.get("op") == "details" {
        let df = details_form(&f);
        let r = match df.to_details() {
            Ok(d) => st.app.cases().update_details(&actor, id, &d, today()).await,
            Err(e) => Err(details_error(e)),
        };
        (r, "details".to_string(), Some(df))
    } else {
        let r = match action_from_form(&f) {
            Ok((a, x)) => st.app.cases().act(&actor, id, a, &x, today()).await,
            Err(e) => Err(e),
        };
        (r, f.get("action").to_string(), None)
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}?ok={ok}")).into_response()),
        Err(e @ UseCaseError::NotFound(_)) => Err(e.into()),
        Err(e) => {
            let e = AppError::from(e);
            let page = render_case(
                &st,
                &s,
                &actor,
                id,
                PageExtras {
                    notice: None,
                    error: Some(e.message),
                    fe: e.fields,
                    df,
                    preview: false,
                    typed: ["proposed_amount", "amount", "amount_reason"]
                        .iter()
                        .map(|k| (k.to_string(), f.get(k).to_string()))
                        .collect(),
                },
            )
            .await?;
            Ok(with_status(page, e.status))
        }
    }
}

// ---------------------------------------------------------------- case file (print)

#[derive(Template)]
#[template(path = "case_print.html")]
struct PrintPage<'a> {
    nav: Nav,
    d: &'a CaseDetail,
    h: HouseholdDetail,
    events: Vec<EventView>,
    today: String,
}

pub async fn print_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id, "该案件")?;
    let d = st.app.cases().get(&actor, id, today()).await?;
    let h = st.app.registry().get(&actor, d.case.household_id).await?;
    let names = crate::pages::Names::load(&st).await?;
    let events = d.events.iter().map(|e| event_view(e, &names)).collect();
    render(&PrintPage {
        nav: Nav::new(&s, "cases"),
        d: &d,
        h,
        events,
        today: today().to_string(),
    })
}

// ---------------------------------------------------------------- API

fn ok(v: impl serde::Serialize) -> ApiResult {
    Ok(Json(v).into_response())
}

#[derive(Deserialize, Default)]
pub struct ApiListQuery {
    state: Option<String>,
    program: Option<String>,
    kind: Option<String>,
    q: Option<String>,
    /// `system`, `clerk`, `no_system_drafts`, or all when absent.
    origin: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub async fn api_list(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(f): ApiQuery<ApiListQuery>,
) -> ApiResult {
    let (items, total) = st
        .app
        .cases()
        .list(
            &actor,
            &CaseFilter {
                state: f.state,
                program: f.program,
                kind: f.kind,
                q: f.q,
                origin: f.origin,
                limit: f.limit,
                offset: f.offset,
            },
        )
        .await?;
    ok(json!({"items": items, "total": total}))
}

async fn detail(st: &AppState, actor: &Actor, id: i64) -> Result<CaseDetail, AppError> {
    Ok(st.app.cases().get(actor, id, today()).await?)
}

pub async fn api_create(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<NewCase>,
) -> ApiResult {
    let id = st.app.cases().create(&actor, &body, today()).await?;
    let d = detail(&st, &actor, id).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

pub async fn api_get(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该案件")?;
    ok(detail(&st, &actor, id).await?)
}

/// `{"action": …}` with the action's fields; fields left out mean "none given" (so a
/// missing reason is the domain's 422, not a parse error), and `amount` left out on
/// approval means "the proposed amount".
fn action_from_json(body: &Value) -> Result<(Action, ActionExtras), String> {
    let mut b = body.clone();
    if let Some(m) = b.as_object_mut() {
        for (k, v) in [
            ("reasons", json!("")),
            ("summary", json!("")),
            ("missing", json!([])),
            ("investigators", json!([])),
            ("authorization_attached", json!(false)),
            ("proposed_amount", Value::Null),
            ("amount", json!(-1)),
        ] {
            m.entry(k).or_insert(v);
        }
        if m.get("amount").is_some_and(Value::is_null) {
            m.insert("amount".into(), json!(-1));
        }
    }
    let action: Action = serde_json::from_value(b).map_err(|e| e.to_string())?;
    let extras: ActionExtras = serde_json::from_value(body.clone()).map_err(|e| e.to_string())?;
    Ok((action, extras))
}

pub async fn api_act(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult {
    let id = parse_id(&id, "该案件")?;
    let (action, extras) = match action_from_json(&body) {
        Ok(x) => x,
        Err(e) => {
            // A case outside the jurisdiction is not found, whatever the body says.
            st.app.cases().case(&actor, id).await?;
            return Err(AppError::bad_request(format!(
                "办理动作无效(action 应为 accept、start_investigation、approve 等)：{e}"
            )));
        }
    };
    st.app
        .cases()
        .act(&actor, id, action, &extras, today())
        .await?;
    ok(detail(&st, &actor, id).await?)
}

pub async fn api_calculation(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该案件")?;
    ok(st.app.cases().compute(&actor, id, today()).await?)
}

pub async fn api_details(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CaseDetails>,
) -> ApiResult {
    let id = parse_id(&id, "该案件")?;
    st.app
        .cases()
        .update_details(&actor, id, &body, today())
        .await?;
    ok(detail(&st, &actor, id).await?)
}

pub async fn api_due(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    let items = st.app.cases().due(&actor, today()).await?;
    ok(json!({ "items": items }))
}

pub async fn api_tasks(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    let (a, b) = st.app.cases().run_tasks(&actor, today()).await?;
    ok(json!({"old_age_proposed": a, "reviews_opened": b}))
}

// ---------------------------------------------------------------- papers and change cases

/// Uploads a photo or scan to a case (multipart; the CSRF token is the form's first field).
pub async fn attach_submit(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    crate::api::Upload(mp): crate::api::Upload,
) -> PageResult {
    let id = parse_id(&id, "该案件")?;
    let limit = st.config.attachment_limit;
    let result = match crate::standards::read_upload(mp, limit).await {
        Ok((_, file)) => st
            .app
            .cases()
            .attach(&actor, id, &file, limit, today())
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}?ok=attach")).into_response()),
        Err(e @ UseCaseError::NotFound(_)) => Err(e.into()),
        Err(e) => {
            let e = AppError::from(e);
            let page = render_case(
                &st,
                &s,
                &actor,
                id,
                PageExtras {
                    notice: None,
                    error: Some(e.message),
                    fe: e.fields,
                    df: None,
                    preview: false,
                    typed: BTreeMap::new(),
                },
            )
            .await?;
            Ok(with_status(page, e.status))
        }
    }
}

/// 变更申请 from the case page's enrolment box: opens a change case and shows it.
pub async fn change_submit(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let enrolment = parse_id(&id, "该保障对象")?;
    let f = Fields::new(pairs);
    let from_case = f.get("case_id").parse::<i64>().ok();
    match st
        .app
        .cases()
        .open_change(&actor, enrolment, f.get("reason"), today())
        .await
    {
        Ok(cid) => Ok(Redirect::to(&format!("/cases/{cid}?ok=change")).into_response()),
        Err(e @ UseCaseError::NotFound(_)) => Err(e.into()),
        Err(e) => match from_case {
            Some(cid) => {
                let e = AppError::from(e);
                let page = render_case(
                    &st,
                    &s,
                    &actor,
                    cid,
                    PageExtras {
                        notice: None,
                        error: Some(e.message),
                        fe: e.fields,
                        df: None,
                        preview: false,
                        typed: BTreeMap::new(),
                    },
                )
                .await?;
                Ok(with_status(page, e.status))
            }
            None => Err(e.into()),
        },
    }
}

pub async fn api_attach(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> ApiResult {
    use axum::extract::FromRequest;
    let id = parse_id(&id, "该案件")?;
    // Outside the jurisdiction is 404 whatever the body is.
    st.app.cases().case(&actor, id).await?;
    let mp = axum::extract::Multipart::from_request(req, &st)
        .await
        .map_err(|_| AppError::bad_request("请以 multipart/form-data 上传，文件字段名为 file"))?;
    let limit = st.config.attachment_limit;
    let (_, file) = crate::standards::read_upload(mp, limit).await?;
    st.app
        .cases()
        .attach(&actor, id, &file, limit, today())
        .await?;
    Ok((StatusCode::CREATED, Json(detail(&st, &actor, id).await?)).into_response())
}

#[derive(Deserialize)]
pub struct ChangeBody {
    #[serde(default)]
    reason: String,
}

pub async fn api_change(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChangeBody>,
) -> ApiResult {
    let enrolment = parse_id(&id, "该保障对象")?;
    let cid = st
        .app
        .cases()
        .open_change(&actor, enrolment, &body.reason, today())
        .await?;
    Ok((StatusCode::CREATED, Json(detail(&st, &actor, cid).await?)).into_response())
}
