//! Office standardization (规范化建设): the city console, each office's page, inspections,
//! the subsidy ledger, photo uploads, the xlsx export, and their JSON API twins.
//!
//! Pages post back to their own URL with an `action` field and redirect (303) on success;
//! validation errors and illegal transitions re-render the page with the Chinese message
//! (422 / 409). Photo uploads are multipart forms whose CSRF token is their first field
//! (the session middleware reads it from the start of the body).

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::NaiveDate;
use minzheng_app::users::SessionInfo;
use minzheng_app::Error;
use minzheng_domain::attachments::{Attachment, NewAttachment};
use minzheng_domain::standards::{
    county_bars, editable, fmt_area, plan_open, subsidy_totals, ChangeKind, ChangeStatus,
    ConsoleFilter, CountyBar, Decision, Disbursement, EquipmentKind, Inspection, NewEquipment,
    NewInspection, NewInvestment, NewPlan, NewPostedRule, NewRectification, NewRoom,
    NewStaffChange, OfficeKind, OfficeStandards, OfficeStanding, ParamsForm, ProfilePatch,
    ProfileUpdate, RoomKind, RuleStatus, ScoreInput, Scores, StaffChange, Subsidy, Thresholds,
    RULES,
};
use minzheng_domain::{Actor, FieldErrors};
use serde::Deserialize;
use serde_json::json;

use crate::api::{ApiJson, ApiQuery};
use crate::error::{parse_id, AppError, PageError};
use crate::pages::{render, Nav};
use crate::session::{ApiUser, PageUser};
use crate::AppState;

type PageResult = Result<Response, PageError>;
type ApiResult = Result<Response, AppError>;

/// Today in China (UTC+8, no daylight saving): the rules' `as_of` and the default dates.
pub fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// A posted form as name → value (checkboxes are present or absent).
struct Fields(HashMap<String, String>);

impl Fields {
    fn new(v: Vec<(String, String)>) -> Self {
        Fields(v.into_iter().collect())
    }
    fn s(&self, k: &str) -> String {
        self.0.get(k).cloned().unwrap_or_default()
    }
    fn flag(&self, k: &str) -> bool {
        self.0.get(k).is_some_and(|v| !v.is_empty() && v != "0")
    }
    /// "" → not recorded, "1" → yes, "0" → no.
    fn tri(&self, k: &str) -> Option<bool> {
        match self.0.get(k).map(String::as_str) {
            Some("1") => Some(true),
            Some("0") => Some(false),
            _ => None,
        }
    }
    fn int(&self, k: &str, label: &str) -> Result<Option<i64>, FieldErrors> {
        let v = self.s(k);
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse::<i64>()
            .map(Some)
            .map_err(|_| FieldErrors::one(k, format!("{label}应为整数")))
    }
    fn id(&self, k: &str) -> Result<i64, FieldErrors> {
        self.int(k, "编号")?
            .ok_or_else(|| FieldErrors::one(k, "缺少编号"))
    }
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A form's failure shown on its page: the status, the message and each field's message.
type Shown = (StatusCode, String, BTreeMap<String, String>);

/// Validation and conflicts re-render the page with the message; everything else is an
/// error page.
fn user_error(e: Error) -> Result<Shown, PageError> {
    match e {
        Error::Validation { message, fields } => {
            crate::forms::note(&fields);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, message, fields))
        }
        Error::Conflict(m) => Ok((StatusCode::CONFLICT, m, BTreeMap::new())),
        other => Err(other.into()),
    }
}

fn options<T: Copy>(
    all: &[T],
    f: impl Fn(T) -> (&'static str, &'static str),
) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|k| f(*k)).collect()
}

// ---------------------------------------------------------------- console

#[derive(Template)]
#[template(path = "standards_console.html")]
struct ConsolePage {
    nav: Nav,
    rows: Vec<OfficeStanding>,
    total: usize,
    bars: Vec<CountyBar>,
    counties: Vec<(String, String)>,
    within: String,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    pending: Vec<StaffChange>,
    is_admin: bool,
    params: Thresholds,
    deadline: String,
    notice: Option<String>,
    error: Option<String>,
    export_query: String,
}

impl ConsolePage {
    /// dm² as the m² text the parameter form takes back ("60", "59.9").
    fn m2(&self, dm2: &i64) -> String {
        fmt_area(*dm2).trim_end_matches('㎡').to_string()
    }
}

#[derive(Deserialize, Default)]
pub struct ConsoleQuery {
    within: Option<String>,
    status: Option<String>,
    saved: Option<String>,
}

/// The console's rows for a `within` and `status` as given in the query.
async fn overview(
    st: &AppState,
    actor: &Actor,
    within: &str,
    status: &str,
) -> Result<Vec<OfficeStanding>, Error> {
    st.app
        .standards()
        .overview(
            actor,
            Some(within),
            ConsoleFilter::from_query(Some(status)),
            today(),
        )
        .await
}

async fn console_page(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    qs: ConsoleQuery,
    error: Option<String>,
) -> PageResult {
    let standards = st.app.standards();
    let within = qs.within.unwrap_or_default();
    let status = qs.status.unwrap_or_default();
    let all = standards.overview(actor, None, None, today()).await?;
    let mut counties: Vec<(String, String)> = all
        .iter()
        .map(|o| (o.county_code.clone(), o.county_name.clone()))
        .collect();
    counties.dedup();
    let rows = overview(st, actor, &within, &status).await?;
    let params = standards.params(actor).await?;
    let is_admin = standards.may_manage(actor);
    let pending = if is_admin {
        standards.pending_changes(actor).await?
    } else {
        Vec::new()
    };
    let mut statuses = vec![("", "全部")];
    statuses.extend(options(ConsoleFilter::ALL, |f| (f.as_str(), f.label())));
    render(&ConsolePage {
        nav: Nav::new(s, "standards"),
        total: rows.len(),
        bars: county_bars(&rows),
        rows,
        counties,
        export_query: serde_urlencoded::to_string([("within", &within), ("status", &status)])
            .unwrap_or_default(),
        within,
        status,
        statuses,
        pending,
        is_admin,
        params: params.in_force(today()),
        deadline: params
            .plan_deadline
            .map(|d| d.to_string())
            .unwrap_or_default(),
        notice: qs.saved.map(|_| "已保存".to_string()),
        error,
    })
}

pub async fn console(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<ConsoleQuery>,
) -> PageResult {
    if let Some(t) = st.app.standards().home_office(&actor) {
        return Ok(see_other(&format!("/standards/offices/{t}")));
    }
    console_page(&st, &s, &actor, qs, None).await
}

/// The parameter form's fields.
fn params_form(f: &Fields) -> ParamsForm {
    ParamsForm {
        effective_from: f.s("effective_from"),
        plan_deadline: f.s("plan_deadline"),
        population_split: f.s("population_split"),
        staff_small: f.s("staff_small"),
        staff_large: f.s("staff_large"),
        staff_city_street: f.s("staff_city_street"),
        three_rooms_m2: f.s("three_rooms_m2"),
        archive_cabinets: f.s("archive_cabinets"),
        hall_standalone_m2: f.s("hall_standalone_m2"),
        hall_shared_m2: f.s("hall_shared_m2"),
        supplies_store_m2: f.s("supplies_store_m2"),
        subsidy_percent: f.s("subsidy_percent"),
    }
}

async fn console_action(st: &AppState, actor: &Actor, f: &Fields) -> Result<(), Error> {
    let standards = st.app.standards();
    match f.s("action").as_str() {
        "params" => {
            let (t, d) = minzheng_domain::standards::parse_params(&params_form(f))?;
            standards.set_params(actor, &t, d).await
        }
        "decide_change" => standards
            .decide_change(
                actor,
                f.id("change_id")?,
                f.s("decision") == "approve",
                &f.s("note"),
            )
            .await
            .map(|_| ()),
        _ => Err(Error::validation("未知的操作")),
    }
}

pub async fn console_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields::new(form);
    match console_action(&st, &actor, &f).await {
        Ok(()) => Ok(see_other("/standards?saved=1")),
        Err(e) => {
            let (status, msg, _) = user_error(e)?;
            let mut resp =
                console_page(&st, &s, &actor, ConsoleQuery::default(), Some(msg)).await?;
            *resp.status_mut() = status;
            Ok(resp)
        }
    }
}

/// The console as an Excel workbook (audited).
pub async fn export(
    State(st): State<AppState>,
    PageUser(_, actor): PageUser,
    Query(qs): Query<ConsoleQuery>,
) -> PageResult {
    let bytes = st
        .app
        .standards()
        .export_xlsx(
            &actor,
            qs.within.as_deref(),
            ConsoleFilter::from_query(qs.status.as_deref()),
            today(),
        )
        .await?;
    Ok((
        [
            (
                CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"standards.xlsx\"; filename*=UTF-8''%E8%A7%84%E8%8C%83%E5%8C%96%E5%BB%BA%E8%AE%BE.xlsx",
            ),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------- one office

#[derive(Template)]
#[template(path = "standards_office.html")]
struct OfficePage {
    nav: Nav,
    d: OfficeStandards,
    photos: Vec<Attachment>,
    can_record: bool,
    is_admin: bool,
    today: String,
    notice: Option<String>,
    error: Option<String>,
    fields: BTreeMap<String, String>,
    kinds: Vec<(&'static str, &'static str)>,
    room_kinds: Vec<(&'static str, &'static str)>,
    equipment_kinds: Vec<(&'static str, &'static str)>,
    change_kinds: Vec<(&'static str, &'static str)>,
    pending_changes: usize,
    missing_assistants: usize,
    names: crate::pages::Names,
}

impl OfficePage {
    /// Whether the township may (re)submit its plan: none yet, or returned.
    fn plan_open(&self) -> bool {
        plan_open(self.d.plan.as_ref().map(|p| p.status))
    }
    fn tri(&self, v: &Option<bool>) -> &'static str {
        match v {
            Some(true) => "1",
            Some(false) => "0",
            None => "",
        }
    }
    fn status_class(&self, s: &RuleStatus) -> &'static str {
        match s {
            RuleStatus::Met => "good",
            RuleStatus::NotMet => "bad",
            RuleStatus::NotRecorded => "warn",
        }
    }
    /// dm² as "59.9㎡".
    fn area(&self, dm2: &i64) -> String {
        fmt_area(*dm2)
    }
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

async fn office_page(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    code: &str,
    notice: Option<String>,
    error: Option<Shown>,
) -> PageResult {
    let standards = st.app.standards();
    let d = standards.office(actor, code, today()).await?;
    let photos = st.app.attachments().of_township(actor, code).await?;
    let (status, error, fields) = match error {
        Some((s, m, f)) => (s, Some(m), f),
        None => (StatusCode::OK, None, BTreeMap::new()),
    };
    let names = crate::pages::Names::load(st).await?;
    let mut resp = render(&OfficePage {
        names,
        nav: Nav::new(s, "standards"),
        can_record: standards.may_record(actor, code),
        is_admin: standards.may_manage(actor),
        today: today().to_string(),
        pending_changes: d
            .changes
            .iter()
            .filter(|c| c.status == ChangeStatus::Pending)
            .count(),
        missing_assistants: d.assistants.iter().filter(|a| a.name.is_none()).count(),
        d,
        photos,
        notice,
        error,
        fields,
        kinds: options(OfficeKind::ALL, |k| (k.as_str(), k.label())),
        room_kinds: options(RoomKind::ALL, |k| (k.as_str(), k.label())),
        equipment_kinds: options(EquipmentKind::ALL, |k| (k.as_str(), k.label())),
        change_kinds: options(ChangeKind::ALL, |k| (k.as_str(), k.label())),
    })?;
    *resp.status_mut() = status;
    Ok(resp)
}

pub async fn office(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(code): Path<String>,
    Query(qs): Query<SavedQuery>,
) -> PageResult {
    office_page(
        &st,
        &s,
        &actor,
        &code,
        qs.saved.map(|_| "已保存".into()),
        None,
    )
    .await
}

/// Runs one office-page action; `Ok(Some(path))` redirects elsewhere.
async fn office_action(
    st: &AppState,
    actor: &Actor,
    code: &str,
    f: &Fields,
) -> Result<Option<String>, Error> {
    let standards = st.app.standards();
    match f.s("action").as_str() {
        "profile" => {
            standards
                .update_profile(
                    actor,
                    code,
                    &ProfileUpdate {
                        population: f.int("population", "辖区人口")?,
                        kind: Some(f.s("kind")),
                        city_street: f.flag("city_street"),
                        contact_name: f.s("contact_name"),
                        contact_phone: f.s("contact_phone"),
                        signage: f.s("signage"),
                        policy_board: f.tri("policy_board"),
                        notice_board: f.tri("notice_board"),
                        archives_organized: f.tri("archives_organized"),
                    },
                )
                .await?;
        }
        "room" => {
            standards
                .add_room(
                    actor,
                    code,
                    &NewRoom {
                        kind: f.s("kind"),
                        area_m2: f.s("area_m2"),
                        shared_hall: f.flag("shared_hall"),
                        note: f.s("note"),
                    },
                )
                .await?;
        }
        "equipment" => {
            standards
                .add_equipment(
                    actor,
                    code,
                    &NewEquipment {
                        kind: f.s("kind"),
                        count: f.int("count", "数量")?.unwrap_or(0),
                        dedicated: f.flag("dedicated"),
                        note: f.s("note"),
                    },
                )
                .await?;
        }
        "posted_rule" => {
            standards
                .add_posted_rule(
                    actor,
                    code,
                    &NewPostedRule {
                        title: f.s("title"),
                        posted_on: f.s("posted_on"),
                    },
                )
                .await?;
        }
        "remove" => {
            standards
                .remove_item(actor, code, &f.s("entity"), f.id("id")?)
                .await?;
        }
        "assistant" => {
            standards
                .set_village_assistant(actor, &f.s("village_code"), &f.s("name"), &f.s("phone"))
                .await?;
        }
        "change" => {
            standards
                .file_change(
                    actor,
                    code,
                    &NewStaffChange {
                        kind: f.s("kind"),
                        staff_id: f.int("staff_id", "人员")?,
                        name: f.s("name"),
                        position: f.s("position"),
                        is_director: f.flag("is_director"),
                        full_time: f.flag("full_time"),
                        effective_on: f.s("effective_on"),
                        doc_number: f.s("doc_number"),
                        doc_date: Some(f.s("doc_date")),
                        reason: f.s("reason"),
                    },
                )
                .await?;
        }
        "decide_change" => {
            standards
                .decide_change(
                    actor,
                    f.id("change_id")?,
                    f.s("decision") == "approve",
                    &f.s("note"),
                )
                .await?;
        }
        "plan" => {
            standards
                .submit_plan(
                    actor,
                    code,
                    &NewPlan {
                        items: f.s("items"),
                        budget: f.s("budget"),
                        timeline: f.s("timeline"),
                    },
                )
                .await?;
        }
        "review_plan" => {
            standards
                .review_plan(actor, code, f.s("decision") == "accept", &f.s("note"))
                .await?;
        }
        "investment" => {
            standards
                .add_investment(
                    actor,
                    code,
                    &NewInvestment {
                        spent_on: f.s("spent_on"),
                        item: f.s("item"),
                        amount: f.s("amount"),
                        doc_number: f.s("doc_number"),
                    },
                )
                .await?;
        }
        "open_inspection" => {
            let id = standards
                .open_inspection(
                    actor,
                    code,
                    &NewInspection {
                        inspectors: f.s("inspectors"),
                        inspected_on: f.s("inspected_on"),
                    },
                    today(),
                )
                .await?;
            return Ok(Some(format!("/standards/inspections/{id}")));
        }
        "rectified" => {
            standards
                .complete_rectification(actor, f.id("rectification_id")?, &f.s("done_on"))
                .await?;
        }
        _ => return Err(Error::validation("未知的操作")),
    }
    Ok(None)
}

pub async fn office_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(code): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields::new(form);
    match office_action(&st, &actor, &code, &f).await {
        Ok(Some(to)) => Ok(see_other(&to)),
        Ok(None) => Ok(see_other(&format!("/standards/offices/{code}?saved=1"))),
        Err(e) => {
            let err = user_error(e)?;
            office_page(&st, &s, &actor, &code, None, Some(err)).await
        }
    }
}

/// Reads a photo upload: optional `entity_type` / `entity_id` fields and one `file`.
async fn read_photo_upload(
    mut mp: Multipart,
    limit: usize,
) -> Result<(HashMap<String, String>, NewAttachment), FieldErrors> {
    let too_big = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            FieldErrors::one(
                "file",
                format!(
                    "照片过大，单个文件不能超过 {:.1} MB，请压缩后重新上传",
                    limit as f64 / 1_048_576.0
                ),
            )
        } else {
            FieldErrors::one("file", "上传内容不完整，请重新选择照片上传")
        }
    };
    let mut fields = HashMap::new();
    let mut file = None;
    while let Some(field) = mp.next_field().await.map_err(too_big)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let filename = field.file_name().unwrap_or("").to_string();
            let content_type = field.content_type().unwrap_or("").to_string();
            let data = field.bytes().await.map_err(too_big)?.to_vec();
            file = Some(NewAttachment {
                filename,
                content_type,
                data,
            });
        } else {
            let v = field.text().await.map_err(too_big)?;
            fields.insert(name, v);
        }
    }
    let file = file.ok_or_else(|| FieldErrors::one("file", "请选择要上传的照片"))?;
    Ok((fields, file))
}

/// [`read_photo_upload`] for the case pages: the file's problem is the whole message.
pub(crate) async fn read_upload(
    mp: Multipart,
    limit: usize,
) -> Result<(HashMap<String, String>, NewAttachment), minzheng_app::Error> {
    read_photo_upload(mp, limit).await.map_err(|f| {
        let message = f.get("file").unwrap_or_default().to_string();
        minzheng_app::Error::Validation {
            message,
            fields: f.into_map(),
        }
    })
}

pub async fn office_photo(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(code): Path<String>,
    crate::api::Upload(mp): crate::api::Upload,
) -> PageResult {
    let limit = st.config.attachment_limit;
    let result = match read_photo_upload(mp, limit).await {
        Ok((fields, file)) => {
            let entity = fields
                .get("entity_type")
                .cloned()
                .unwrap_or_else(|| "office".into());
            let id = fields
                .get("entity_id")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0);
            st.app
                .standards()
                .attach_office_photo(&actor, &code, &entity, id, &file, limit)
                .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/standards/offices/{code}?saved=1"))),
        Err(e) => {
            let err = user_error(e)?;
            office_page(&st, &s, &actor, &code, None, Some(err)).await
        }
    }
}

// ---------------------------------------------------------------- inspections

#[derive(Template)]
#[template(path = "standards_inspection.html")]
struct InspectionPage {
    nav: Nav,
    i: Inspection,
    office_name: String,
    county_name: String,
    photos: Vec<Attachment>,
    subsidy: Option<Subsidy>,
    editable: bool,
    upload_csrf: String,
    notice: Option<String>,
    error: Option<String>,
}

async fn inspection_page(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    id: i64,
    notice: Option<String>,
    error: Option<Shown>,
) -> PageResult {
    let standards = st.app.standards();
    let i = standards.inspection_on(actor, id, today()).await?;
    let office = st.app.offices().get(actor, &i.township_code).await?;
    let photos = st
        .app
        .attachments()
        .of_record(
            actor,
            minzheng_domain::attachments::AttachedTo::Inspection,
            &id.to_string(),
        )
        .await?;
    let subsidy = standards.subsidy_of_inspection(actor, id).await?;
    let (status, error) = match error {
        Some((s, m, _)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let mut resp = render(&InspectionPage {
        nav: Nav::new(s, "standards"),
        editable: standards.may_manage(actor) && editable(&i).is_ok(),
        upload_csrf: s.csrf_token.clone(),
        i,
        office_name: office.name,
        county_name: office.county_name,
        photos,
        subsidy,
        notice,
        error,
    })?;
    *resp.status_mut() = status;
    Ok(resp)
}

pub async fn inspection(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    Query(qs): Query<SavedQuery>,
) -> PageResult {
    let id = parse_id(&id, "该检查验收记录")?;
    inspection_page(&st, &s, &actor, id, qs.saved.map(|_| "已保存".into()), None).await
}

/// The scores typed on the checklist form (`score_<item id>`, `note_<item id>`); items left
/// blank are not scored.
fn scores_from(f: &Fields, i: &Inspection) -> Result<Vec<ScoreInput>, FieldErrors> {
    let mut out = Vec::new();
    for item in &i.items {
        if let Some(score) = f.int(&format!("score_{}", item.id), &item.label)? {
            out.push(ScoreInput {
                id: item.id,
                score,
                note: f.s(&format!("note_{}", item.id)),
            });
        }
    }
    Ok(out)
}

async fn inspection_action(st: &AppState, actor: &Actor, id: i64, f: &Fields) -> Result<(), Error> {
    let standards = st.app.standards();
    let i = standards.inspection(actor, id).await?;
    match f.s("action").as_str() {
        "score" => {
            let scores = scores_from(f, &i)?;
            standards.score(actor, id, &scores).await.map(|_| ())
        }
        "rectification" => standards
            .add_rectification(
                actor,
                id,
                &NewRectification {
                    item: f.s("item"),
                    due_on: f.s("due_on"),
                },
            )
            .await
            .map(|_| ()),
        "decide" => standards
            .decide_inspection(
                actor,
                id,
                f.s("decision") == "pass",
                &f.s("findings"),
                today(),
            )
            .await
            .map(|_| ()),
        _ => Err(Error::validation("未知的操作")),
    }
}

pub async fn inspection_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "该检查验收记录")?;
    let f = Fields::new(form);
    match inspection_action(&st, &actor, id, &f).await {
        Ok(()) => Ok(see_other(&format!("/standards/inspections/{id}?saved=1"))),
        Err(e) => {
            let err = user_error(e)?;
            inspection_page(&st, &s, &actor, id, None, Some(err)).await
        }
    }
}

pub async fn inspection_photo(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    crate::api::Upload(mp): crate::api::Upload,
) -> PageResult {
    let id = parse_id(&id, "该检查验收记录")?;
    let limit = st.config.attachment_limit;
    let result = match read_photo_upload(mp, limit).await {
        Ok((_, file)) => {
            st.app
                .standards()
                .attach_inspection_photo(&actor, id, &file, limit)
                .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/standards/inspections/{id}?saved=1"))),
        Err(e) => {
            let err = user_error(e)?;
            inspection_page(&st, &s, &actor, id, None, Some(err)).await
        }
    }
}

// ---------------------------------------------------------------- subsidies, files

#[derive(Template)]
#[template(path = "standards_subsidies.html")]
struct SubsidiesPage {
    nav: Nav,
    items: Vec<Subsidy>,
    total: String,
    paid: String,
    is_admin: bool,
    today: String,
    notice: Option<String>,
    error: Option<String>,
}

async fn subsidies_page(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    notice: Option<String>,
    error: Option<Shown>,
) -> PageResult {
    let standards = st.app.standards();
    let items = standards.subsidies(actor).await?;
    let (total, paid) = subsidy_totals(&items);
    let shown =
        |x: Option<minzheng_domain::Fen>| x.map_or_else(|| "溢出".into(), |f| f.to_string());
    let (status, error) = match error {
        Some((s, m, _)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let mut resp = render(&SubsidiesPage {
        nav: Nav::new(s, "standards"),
        total: shown(total),
        paid: shown(paid),
        items,
        is_admin: standards.may_manage(actor),
        today: today().to_string(),
        notice,
        error,
    })?;
    *resp.status_mut() = status;
    Ok(resp)
}

pub async fn subsidies(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<SavedQuery>,
) -> PageResult {
    subsidies_page(&st, &s, &actor, qs.saved.map(|_| "已保存".into()), None).await
}

pub async fn subsidy_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "该补助")?;
    let f = Fields::new(form);
    match st
        .app
        .standards()
        .disburse(&actor, id, &f.s("disbursed_on"))
        .await
    {
        Ok(_) => Ok(see_other("/standards/subsidies?saved=1")),
        Err(e) => {
            let err = user_error(e)?;
            subsidies_page(&st, &s, &actor, None, Some(err)).await
        }
    }
}

/// A stored photo, inside the viewer's jurisdiction.
pub async fn attachment(
    State(st): State<AppState>,
    PageUser(_, actor): PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id, "该附件")?;
    let (meta, data) = st.app.attachments().get(&actor, id).await?;
    Ok((
        [
            (CONTENT_TYPE, meta.content_type),
            (CACHE_CONTROL, "private, max-age=3600".to_string()),
        ],
        data,
    )
        .into_response())
}

// ---------------------------------------------------------------- JSON API

fn ok(v: impl serde::Serialize) -> ApiResult {
    Ok(Json(v).into_response())
}

pub async fn api_rules() -> ApiResult {
    ok(json!({ "items": RULES }))
}

#[derive(Deserialize, Default)]
pub struct ApiOverviewQuery {
    within: Option<String>,
    status: Option<String>,
}

pub async fn api_overview(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<ApiOverviewQuery>,
) -> ApiResult {
    let rows = overview(
        &st,
        &actor,
        qs.within.as_deref().unwrap_or(""),
        qs.status.as_deref().unwrap_or(""),
    )
    .await?;
    ok(json!({ "items": rows, "total": rows.len() }))
}

pub async fn api_office(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
) -> ApiResult {
    ok(st.app.standards().office(&actor, &code, today()).await?)
}

pub async fn api_profile(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<ProfilePatch>,
) -> ApiResult {
    ok(st
        .app
        .standards()
        .patch_profile(&actor, &code, &body)
        .await?)
}

fn created(id: i64) -> ApiResult {
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

pub async fn api_room(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewRoom>,
) -> ApiResult {
    created(st.app.standards().add_room(&actor, &code, &body).await?)
}

pub async fn api_equipment(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewEquipment>,
) -> ApiResult {
    created(
        st.app
            .standards()
            .add_equipment(&actor, &code, &body)
            .await?,
    )
}

pub async fn api_posted_rule(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewPostedRule>,
) -> ApiResult {
    created(
        st.app
            .standards()
            .add_posted_rule(&actor, &code, &body)
            .await?,
    )
}

pub async fn api_investment(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewInvestment>,
) -> ApiResult {
    created(
        st.app
            .standards()
            .add_investment(&actor, &code, &body)
            .await?,
    )
}

pub async fn api_plan(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewPlan>,
) -> ApiResult {
    st.app.standards().submit_plan(&actor, &code, &body).await?;
    ok(json!({ "status": "submitted" }))
}

pub async fn api_plan_review(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<Decision>,
) -> ApiResult {
    let accept = body.decision == "accept";
    st.app
        .standards()
        .review_plan(&actor, &code, accept, &body.note)
        .await?;
    ok(json!({ "status": if accept { "accepted" } else { "returned" } }))
}

pub async fn api_file_change(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewStaffChange>,
) -> ApiResult {
    let c = st.app.standards().file_change(&actor, &code, &body).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

pub async fn api_changes(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    ok(json!({ "items": st.app.standards().pending_changes(&actor).await? }))
}

pub async fn api_decide_change(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Decision>,
) -> ApiResult {
    let id = parse_id(&id, "该人员异动")?;
    ok(st
        .app
        .standards()
        .decide_change(&actor, id, body.decision == "approve", &body.note)
        .await?)
}

pub async fn api_open_inspection(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewInspection>,
) -> ApiResult {
    created(
        st.app
            .standards()
            .open_inspection(&actor, &code, &body, today())
            .await?,
    )
}

pub async fn api_inspection(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该检查验收记录")?;
    ok(st
        .app
        .standards()
        .inspection_on(&actor, id, today())
        .await?)
}

pub async fn api_score(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Scores>,
) -> ApiResult {
    let id = parse_id(&id, "该检查验收记录")?;
    ok(st.app.standards().score(&actor, id, &body.items).await?)
}

pub async fn api_rectification(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewRectification>,
) -> ApiResult {
    let id = parse_id(&id, "该检查验收记录")?;
    created(
        st.app
            .standards()
            .add_rectification(&actor, id, &body)
            .await?,
    )
}

pub async fn api_decide_inspection(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Decision>,
) -> ApiResult {
    let id = parse_id(&id, "该检查验收记录")?;
    ok(st
        .app
        .standards()
        .decide_inspection(&actor, id, body.decision == "pass", &body.note, today())
        .await?)
}

pub async fn api_subsidies(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    ok(json!({ "items": st.app.standards().subsidies(&actor).await? }))
}

pub async fn api_disburse(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Disbursement>,
) -> ApiResult {
    let id = parse_id(&id, "该补助")?;
    ok(st
        .app
        .standards()
        .disburse(&actor, id, &body.disbursed_on)
        .await?)
}
