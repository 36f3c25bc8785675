//! Office standardization (规范化建设): the city console, each office's page, inspections,
//! the subsidy ledger, photo uploads, the xlsx export, and their JSON API twins.
//!
//! Pages post back to their own URL with an `action` field and redirect (303) on success;
//! validation errors and illegal transitions re-render the page with the Chinese message
//! (422 / 409). Photo uploads are multipart forms whose CSRF token travels in the query
//! string (`?_csrf=`), because the session middleware does not parse multipart bodies.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::NaiveDate;
use minzheng_domain::standards::{EquipmentKind, OfficeKind, RoomKind, RuleStatus, Thresholds};
use minzheng_domain::Role;
use minzheng_store::{
    Actor, Attachment, Inspection, NewAttachment, NewEquipment, NewInspection, NewInvestment,
    NewPlan, NewPostedRule, NewRoom, NewStaffChange, OfficeStandards, OfficeStanding,
    ProfileUpdate, SessionInfo, StaffChange, StandardParams, StoreError, Subsidy, CHANGE_KINDS,
};
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

fn is_city_admin(actor: &Actor) -> bool {
    actor.role == Some(Role::CityAdmin)
}

/// The township a township- or village-level user belongs to.
fn own_township(actor: &Actor) -> Option<String> {
    actor
        .scope
        .code()
        .map(|c| c.as_str())
        .filter(|c| c.len() >= 9)
        .map(|c| c[..9].to_string())
}

fn can_record(actor: &Actor, code: &str) -> bool {
    actor.scope.contains_str(code)
        && matches!(
            actor.role,
            Some(Role::CityAdmin | Role::TownshipDirector | Role::TownshipStaff)
        )
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
    fn int(&self, k: &str, label: &str) -> Result<Option<i64>, StoreError> {
        let v = self.s(k);
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse::<i64>()
            .map(Some)
            .map_err(|_| StoreError::field(k, format!("{label}应为整数")))
    }
    fn id(&self, k: &str) -> Result<i64, StoreError> {
        self.int(k, "编号")?
            .ok_or_else(|| StoreError::field(k, "缺少编号"))
    }
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Validation and conflicts re-render the page with the message; everything else is an
/// error page.
fn user_error(e: StoreError) -> Result<(StatusCode, String, BTreeMap<String, String>), PageError> {
    match e {
        StoreError::Validation { message, fields } => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, message, fields))
        }
        StoreError::Conflict(m) => Ok((StatusCode::CONFLICT, m, BTreeMap::new())),
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

/// A county's bar in the chart.
pub struct CountyBar {
    pub name: String,
    pub offices: usize,
    pub percent: u32,
    pub passed: usize,
}

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

#[derive(Deserialize, Default)]
pub struct ConsoleQuery {
    within: Option<String>,
    status: Option<String>,
    saved: Option<String>,
}

const STATUSES: &[(&str, &str)] = &[
    ("", "全部"),
    ("compliant", "基本标准全部达标"),
    ("failing", "有未达标项"),
    ("overdue", "建设方案逾期未报"),
    ("plan-submitted", "方案待审核"),
    ("open", "检查中"),
    ("passed", "验收通过"),
    ("failed", "验收未通过"),
    ("uninspected", "未检查"),
];

fn matches_status(o: &OfficeStanding, status: &str) -> bool {
    match status {
        "compliant" => o.evaluation.all_basic_met(),
        "failing" => !o.evaluation.all_basic_met(),
        "overdue" => o.plan_status == "overdue",
        "plan-submitted" => o.plan_status == "submitted",
        "open" | "passed" | "failed" => o.inspection_status == status,
        "uninspected" => o.inspection_status == "none",
        _ => true,
    }
}

fn county_bars(rows: &[OfficeStanding]) -> Vec<CountyBar> {
    let mut by: BTreeMap<String, (String, Vec<&OfficeStanding>)> = BTreeMap::new();
    for r in rows {
        by.entry(r.county_code.clone())
            .or_insert_with(|| (r.county_name.clone(), Vec::new()))
            .1
            .push(r);
    }
    by.into_values()
        .map(|(name, list)| {
            let sum: u32 = list.iter().map(|o| o.evaluation.compliance_percent).sum();
            CountyBar {
                name,
                offices: list.len(),
                percent: sum / list.len().max(1) as u32,
                passed: list
                    .iter()
                    .filter(|o| o.inspection_status == "passed")
                    .count(),
            }
        })
        .collect()
}

async fn overview(
    st: &AppState,
    actor: &Actor,
    within: &str,
    status: &str,
) -> Result<Vec<OfficeStanding>, StoreError> {
    let w = Some(within).filter(|w| !w.is_empty());
    Ok(st
        .store
        .standards_overview(&actor.scope, w, today())
        .await?
        .into_iter()
        .filter(|o| matches_status(o, status))
        .collect())
}

async fn console_page(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    qs: ConsoleQuery,
    error: Option<String>,
) -> PageResult {
    let within = qs.within.unwrap_or_default();
    let status = qs.status.unwrap_or_default();
    let all = st
        .store
        .standards_overview(&actor.scope, None, today())
        .await?;
    let mut counties: Vec<(String, String)> = all
        .iter()
        .map(|o| (o.county_code.clone(), o.county_name.clone()))
        .collect();
    counties.dedup();
    let rows = overview(st, actor, &within, &status).await?;
    let params: StandardParams = st.store.standard_params().await?;
    let pending = if is_city_admin(actor) {
        st.store.pending_staff_changes(&actor.scope).await?
    } else {
        Vec::new()
    };
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
        statuses: STATUSES.to_vec(),
        pending,
        is_admin: is_city_admin(actor),
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
    if let Some(t) = own_township(&actor) {
        return Ok(see_other(&format!("/standards/offices/{t}")));
    }
    console_page(&st, &s, &actor, qs, None).await
}

/// Parses the parameter form (areas in m², counts, percent, dates).
fn thresholds_from(f: &Fields) -> Result<(Thresholds, Option<NaiveDate>), StoreError> {
    let d = |k: &str, label: &str| {
        NaiveDate::parse_from_str(f.s(k).trim(), "%Y-%m-%d")
            .map_err(|_| StoreError::field(k, format!("{label}格式不正确，应为如2026-04-30的日期")))
    };
    let n = |k: &str, label: &str| {
        f.int(k, label)?
            .ok_or_else(|| StoreError::field(k, format!("请填写{label}")))
    };
    let a = |k: &str, label: &str| {
        minzheng_domain::standards::parse_area_m2(&f.s(k))
            .ok_or_else(|| StoreError::field(k, format!("{label}应为数字（平方米）")))
    };
    let deadline = if f.s("plan_deadline").trim().is_empty() {
        None
    } else {
        Some(d("plan_deadline", "方案报送截止日期")?)
    };
    Ok((
        Thresholds {
            effective_from: d("effective_from", "生效日期")?,
            population_split: n("population_split", "人口分界")?,
            staff_small: n("staff_small", "2万人以下应配人数")?,
            staff_large: n("staff_large", "2万人以上应配人数")?,
            staff_city_street: n("staff_city_street", "市区街道应配人数")?,
            three_rooms_dm2: a("three_rooms_m2", "三室总面积")?,
            archive_cabinets: n("archive_cabinets", "档案柜数量")?,
            hall_standalone_dm2: a("hall_standalone_m2", "单独大厅面积")?,
            hall_shared_dm2: a("hall_shared_m2", "综合大厅所占面积")?,
            supplies_store_dm2: a("supplies_store_m2", "物资储备库面积")?,
            subsidy_percent: n("subsidy_percent", "补助比例")?,
        },
        deadline,
    ))
}

pub async fn console_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields::new(form);
    let result = match f.s("action").as_str() {
        "params" => match thresholds_from(&f) {
            Ok((t, d)) => st.store.set_standard_params(&actor, &t, d).await,
            Err(e) => Err(e),
        },
        "decide_change" => match f.id("change_id") {
            Ok(id) => st
                .store
                .decide_staff_change(&actor, id, f.s("decision") == "approve", &f.s("note"))
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        _ => Err(StoreError::validation("未知的操作")),
    };
    match result {
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
    let rows = overview(
        &st,
        &actor,
        qs.within.as_deref().unwrap_or(""),
        qs.status.as_deref().unwrap_or(""),
    )
    .await?;
    let bytes = xlsx(&rows).map_err(|e| {
        PageError(AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("导出失败：{e}"),
        ))
    })?;
    st.store
        .audit_export(&actor, "standards.xlsx", rows.len())
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

fn xlsx(rows: &[OfficeStanding]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("规范化建设")?;
    let bold = Format::new().set_bold();
    let mut headers: Vec<String> = [
        "县(市、区)",
        "乡镇(街道)代码",
        "民政办公室",
        "基本标准达标率(%)",
        "未达标或未登记项",
        "建设方案",
        "检查验收",
        "补助金额(元)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    headers.extend(
        minzheng_store::rule_catalogue()
            .iter()
            .map(|r| r.title.to_string()),
    );
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (i, o) in rows.iter().enumerate() {
        let r = (i + 1) as u32;
        ws.write_string(r, 0, &o.county_name)?;
        ws.write_string(r, 1, &o.township_code)?;
        ws.write_string(r, 2, &o.name)?;
        ws.write_number(r, 3, o.evaluation.compliance_percent as f64)?;
        ws.write_string(r, 4, o.failing_titles().join("、"))?;
        ws.write_string(r, 5, o.plan_label)?;
        ws.write_string(r, 6, o.inspection_label)?;
        // Money leaves the system as text with exactly two decimals: no float rounding.
        ws.write_string(r, 7, o.subsidy.map(|f| f.yuan_string()).unwrap_or_default())?;
        for (j, res) in o.evaluation.results.iter().enumerate() {
            ws.write_string(r, (8 + j) as u16, res.status.label())?;
        }
    }
    ws.set_column_width(2, 24)?;
    ws.set_column_width(4, 40)?;
    wb.save_to_buffer()
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
}

impl ConsolePage {
    /// dm² as the m² text the parameter form takes back ("60", "59.9").
    fn m2(&self, dm2: &i64) -> String {
        minzheng_domain::standards::fmt_area(*dm2)
            .trim_end_matches('㎡')
            .to_string()
    }
}

impl OfficePage {
    /// Whether the township may (re)submit its plan: none yet, or returned.
    fn plan_open(&self) -> bool {
        self.d.plan.as_ref().is_none_or(|p| p.status == "returned")
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
    error: Option<(StatusCode, String, BTreeMap<String, String>)>,
) -> PageResult {
    let d = st
        .store
        .office_standards(&actor.scope, code, today())
        .await?;
    let photos = st.store.attachments_of_township(&actor.scope, code).await?;
    let (status, error, fields) = match error {
        Some((s, m, f)) => (s, Some(m), f),
        None => (StatusCode::OK, None, BTreeMap::new()),
    };
    let mut resp = render(&OfficePage {
        nav: Nav::new(s, "standards"),
        can_record: can_record(actor, code),
        is_admin: is_city_admin(actor),
        today: today().to_string(),
        pending_changes: d.changes.iter().filter(|c| c.status == "pending").count(),
        missing_assistants: d.assistants.iter().filter(|a| a.name.is_none()).count(),
        d,
        photos,
        notice,
        error,
        fields,
        kinds: options(&OfficeKind::ALL, |k| (k.as_str(), k.label())),
        room_kinds: options(&RoomKind::ALL, |k| (k.as_str(), k.label())),
        equipment_kinds: options(&EquipmentKind::ALL, |k| (k.as_str(), k.label())),
        change_kinds: CHANGE_KINDS.to_vec(),
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
) -> Result<Option<String>, StoreError> {
    let store = &st.store;
    match f.s("action").as_str() {
        "profile" => {
            store
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
            store
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
            store
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
            store
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
            store
                .remove_office_item(actor, code, &f.s("entity"), f.id("id")?)
                .await?;
        }
        "assistant" => {
            store
                .set_village_assistant(actor, &f.s("village_code"), &f.s("name"), &f.s("phone"))
                .await?;
        }
        "change" => {
            store
                .file_staff_change(
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
            store
                .decide_staff_change(
                    actor,
                    f.id("change_id")?,
                    f.s("decision") == "approve",
                    &f.s("note"),
                )
                .await?;
        }
        "plan" => {
            store
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
            store
                .review_plan(actor, code, f.s("decision") == "accept", &f.s("note"))
                .await?;
        }
        "investment" => {
            store
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
            let id = store
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
            store
                .complete_rectification(actor, f.id("rectification_id")?, &f.s("done_on"))
                .await?;
        }
        _ => return Err(StoreError::validation("未知的操作")),
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
pub(crate) async fn read_upload(
    mut mp: Multipart,
    limit: usize,
) -> Result<(HashMap<String, String>, NewAttachment), StoreError> {
    let too_big = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            StoreError::field(
                "file",
                format!(
                    "照片过大，单个文件不能超过 {:.1} MB，请压缩后重新上传",
                    limit as f64 / 1_048_576.0
                ),
            )
        } else {
            StoreError::field("file", "上传内容不完整，请重新选择照片上传")
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
    let file = file.ok_or_else(|| StoreError::field("file", "请选择要上传的照片"))?;
    Ok((fields, file))
}

pub async fn office_photo(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(code): Path<String>,
    mp: Multipart,
) -> PageResult {
    let limit = st.config.attachment_limit;
    let result = match read_upload(mp, limit).await {
        Ok((fields, file)) => {
            let entity = fields
                .get("entity_type")
                .cloned()
                .unwrap_or_else(|| "office".into());
            let id = fields
                .get("entity_id")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0);
            st.store
                .attach_office_photo(&actor, &code, &entity, id, &file, limit)
                .await
        }
        Err(e) => Err(e),
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
    csrf_q: String,
    notice: Option<String>,
    error: Option<String>,
}

async fn inspection_page(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    id: i64,
    notice: Option<String>,
    error: Option<(StatusCode, String, BTreeMap<String, String>)>,
) -> PageResult {
    let i = st.store.get_inspection(&actor.scope, id).await?;
    let office = st.app.offices().get(actor, &i.township_code).await?;
    let photos = st
        .store
        .list_attachments(&actor.scope, "inspection", &id.to_string())
        .await?;
    let subsidy = st
        .store
        .list_subsidies(&actor.scope)
        .await?
        .into_iter()
        .find(|x| x.inspection_id == id);
    let (status, error) = match error {
        Some((s, m, _)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let mut resp = render(&InspectionPage {
        nav: Nav::new(s, "standards"),
        editable: is_city_admin(actor) && i.status == "open",
        csrf_q: serde_urlencoded::to_string([("_csrf", s.csrf_token.as_str())]).unwrap_or_default(),
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

fn scores_from(f: &Fields, i: &Inspection) -> Result<Vec<(i64, i64, String)>, StoreError> {
    let mut out = Vec::new();
    for item in &i.items {
        if let Some(score) = f.int(&format!("score_{}", item.id), &item.label)? {
            out.push((item.id, score, f.s(&format!("note_{}", item.id))));
        }
    }
    Ok(out)
}

pub async fn inspection_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "该检查验收记录")?;
    let f = Fields::new(form);
    let i = st.store.get_inspection(&actor.scope, id).await?;
    let result = match f.s("action").as_str() {
        "score" => match scores_from(&f, &i) {
            Ok(scores) => st
                .store
                .score_inspection(&actor, id, &scores)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        "rectification" => st
            .store
            .add_rectification(&actor, id, &f.s("item"), &f.s("due_on"))
            .await
            .map(|_| ()),
        "decide" => st
            .store
            .decide_inspection(
                &actor,
                id,
                f.s("decision") == "pass",
                &f.s("findings"),
                today(),
            )
            .await
            .map(|_| ()),
        _ => Err(StoreError::validation("未知的操作")),
    };
    match result {
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
    mp: Multipart,
) -> PageResult {
    let id = parse_id(&id, "该检查验收记录")?;
    let limit = st.config.attachment_limit;
    let result = match read_upload(mp, limit).await {
        Ok((_, file)) => {
            st.store
                .attach_inspection_photo(&actor, id, &file, limit)
                .await
        }
        Err(e) => Err(e),
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
    error: Option<(StatusCode, String, BTreeMap<String, String>)>,
) -> PageResult {
    let items = st.store.list_subsidies(&actor.scope).await?;
    let sum = |paid_only: bool| {
        minzheng_domain::Fen::sum_checked(
            items
                .iter()
                .filter(|x| !paid_only || x.status == "disbursed")
                .map(|x| x.amount),
        )
        .map(|f| f.to_string())
        .unwrap_or_else(|| "溢出".into())
    };
    let (status, error) = match error {
        Some((s, m, _)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let mut resp = render(&SubsidiesPage {
        nav: Nav::new(s, "standards"),
        total: sum(false),
        paid: sum(true),
        items,
        is_admin: is_city_admin(actor),
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
        .store
        .disburse_subsidy(&actor, id, &f.s("disbursed_on"))
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
    let (meta, data) = st.store.get_attachment(&actor.scope, id).await?;
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
    ok(json!({ "items": minzheng_store::rule_catalogue() }))
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
    ok(st
        .store
        .office_standards(&actor.scope, &code, today())
        .await?)
}

pub async fn api_profile(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<ProfileUpdate>,
) -> ApiResult {
    ok(st.store.update_profile(&actor, &code, &body).await?)
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
    created(st.store.add_room(&actor, &code, &body).await?)
}

pub async fn api_equipment(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewEquipment>,
) -> ApiResult {
    created(st.store.add_equipment(&actor, &code, &body).await?)
}

pub async fn api_posted_rule(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewPostedRule>,
) -> ApiResult {
    created(st.store.add_posted_rule(&actor, &code, &body).await?)
}

pub async fn api_investment(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewInvestment>,
) -> ApiResult {
    created(st.store.add_investment(&actor, &code, &body).await?)
}

pub async fn api_plan(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewPlan>,
) -> ApiResult {
    st.store.submit_plan(&actor, &code, &body).await?;
    ok(json!({ "status": "submitted" }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Decision {
    /// approve / reject (staff changes), accept / return (plans), pass / fail (inspections).
    decision: String,
    note: String,
}

pub async fn api_plan_review(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<Decision>,
) -> ApiResult {
    st.store
        .review_plan(&actor, &code, body.decision == "accept", &body.note)
        .await?;
    ok(json!({ "status": if body.decision == "accept" { "accepted" } else { "returned" } }))
}

pub async fn api_file_change(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewStaffChange>,
) -> ApiResult {
    let c = st.store.file_staff_change(&actor, &code, &body).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

pub async fn api_changes(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    ok(json!({ "items": st.store.pending_staff_changes(&actor.scope).await? }))
}

pub async fn api_decide_change(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Decision>,
) -> ApiResult {
    let id = parse_id(&id, "该人员异动")?;
    ok(st
        .store
        .decide_staff_change(&actor, id, body.decision == "approve", &body.note)
        .await?)
}

pub async fn api_open_inspection(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewInspection>,
) -> ApiResult {
    created(
        st.store
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
    ok(st.store.get_inspection(&actor.scope, id).await?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Scores {
    items: Vec<ScoreItem>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ScoreItem {
    id: i64,
    score: i64,
    note: String,
}

pub async fn api_score(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Scores>,
) -> ApiResult {
    let id = parse_id(&id, "该检查验收记录")?;
    let scores: Vec<(i64, i64, String)> = body
        .items
        .into_iter()
        .map(|s| (s.id, s.score, s.note))
        .collect();
    ok(st.store.score_inspection(&actor, id, &scores).await?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewRectification {
    item: String,
    due_on: String,
}

pub async fn api_rectification(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewRectification>,
) -> ApiResult {
    let id = parse_id(&id, "该检查验收记录")?;
    created(
        st.store
            .add_rectification(&actor, id, &body.item, &body.due_on)
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
        .store
        .decide_inspection(&actor, id, body.decision == "pass", &body.note, today())
        .await?)
}

pub async fn api_subsidies(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    ok(json!({ "items": st.store.list_subsidies(&actor.scope).await? }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Disbursement {
    disbursed_on: String,
}

pub async fn api_disburse(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Disbursement>,
) -> ApiResult {
    let id = parse_id(&id, "该补助")?;
    ok(st
        .store
        .disburse_subsidy(&actor, id, &body.disbursed_on)
        .await?)
}
