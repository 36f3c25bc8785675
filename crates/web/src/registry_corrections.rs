//! Corrections on the household page (户详情): each member, income and asset row has 修改
//! and 删除; the edit and removal pages keep what was typed on a refusal and show every
//! message beside its field; a saved correction goes back to the household page with a
//! Chinese confirmation (and, when it changed what the calculator gives an enrolled
//! household, the offer of a change case). The API: `PATCH`/`DELETE` under
//! `/api/v1/households/{household_id}/members|incomes|assets/{id}`. Also the household's
//! history in Chinese: each change with its fields before and after, and its reason.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use minzheng_app::registry::corrections::Corrected;
use minzheng_app::users::SessionInfo;
use minzheng_app::{Authorize, Error as UseCaseError};
use minzheng_domain::audit::AuditEntry;
use minzheng_domain::registry::{
    AssetInput, AssetKind, DisabilityType, Employment, ExclusionReason, Health, HouseholdDetail,
    HouseholdStatus, IncomeInput, IncomeKind, IncomePeriod, MemberCorrection, PersonStatus,
    RegistrationType, Relation, Removal, WorkCapacity,
};
use minzheng_domain::{Actor, Fen};
use serde_json::Value;

use crate::api::{ApiJson, ApiQuery};
use crate::error::{parse_id, AppError, PageError};
use crate::pages::{render, Nav, PageForm};
use crate::registry::{Choices, CHOICES};
use crate::session::{ApiUser, PageUser};
use crate::AppState;

type PageResult = Result<Response, PageError>;
type ApiResult = Result<Response, AppError>;

/// Which record a correction page is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Member,
    Income,
    Asset,
}

impl Item {
    fn path(self) -> &'static str {
        match self {
            Item::Member => "members",
            Item::Income => "incomes",
            Item::Asset => "assets",
        }
    }

    /// 成员 / 收入 / 财产.
    pub fn label(self) -> &'static str {
        match self {
            Item::Member => "成员",
            Item::Income => "收入",
            Item::Asset => "财产",
        }
    }
}

#[derive(Template)]
#[template(path = "registry_correct.html")]
struct CorrectPage {
    nav: Nav,
    d: HouseholdDetail,
    item: Item,
    item_id: i64,
    /// The record as it stands, in words ("李娜（配偶）", "工资性收入 800.00元/每月").
    item_text: String,
    remove: bool,
    m: MemberCorrection,
    i: IncomeInput,
    a: AssetInput,
    reason: String,
    error: Option<String>,
    fe: BTreeMap<String, String>,
    c: Choices,
}

impl CorrectPage {
    fn action(&self) -> String {
        let base = format!(
            "/households/{}/{}/{}",
            self.d.household.id,
            self.item.path(),
            self.item_id
        );
        if self.remove {
            format!("{base}/delete")
        } else {
            base
        }
    }
}

/// The record named by the page, in words, or 404.
fn describe_item(d: &HouseholdDetail, item: Item, id: i64) -> Result<String, AppError> {
    let text = match item {
        Item::Member => d
            .member(id)
            .map(|m| format!("{}（{}）", m.name, m.relation)),
        Item::Income => d.incomes.iter().find(|i| i.id == id).map(|i| {
            let who = if i.person_name.is_empty() {
                "全户".to_string()
            } else {
                i.person_name.clone()
            };
            format!("{who} {} {}（{}）", i.kind, i.amount_fen, i.period)
        }),
        Item::Asset => d.assets.iter().find(|a| a.id == id).map(|a| {
            let who = if a.person_name.is_empty() {
                "全户".to_string()
            } else {
                a.person_name.clone()
            };
            format!("{who} {} {}", a.kind, a.value_fen)
        }),
    };
    text.ok_or_else(|| AppError::from(UseCaseError::NotFound(item_what(item))))
}

fn item_what(item: Item) -> &'static str {
    match item {
        Item::Member => "该成员",
        Item::Income => "该收入",
        Item::Asset => "该财产",
    }
}

/// The form as the record stands (what an edit page shows first).
fn current_forms(
    d: &HouseholdDetail,
    item: Item,
    id: i64,
) -> (MemberCorrection, IncomeInput, AssetInput) {
    let mut m = MemberCorrection::default();
    let mut i = IncomeInput::default();
    let mut a = AssetInput::default();
    match item {
        Item::Member => {
            if let Some(p) = d.member(id) {
                m = MemberCorrection::of(p);
            }
        }
        Item::Income => {
            if let Some(x) = d.incomes.iter().find(|x| x.id == id) {
                i = IncomeInput {
                    person_id: x.person_id.map(|p| p.to_string()).unwrap_or_default(),
                    kind: x.kind.as_str().into(),
                    amount: x.amount_fen.yuan_string(),
                    period: x.period.as_str().into(),
                    start_month: x.start_month.map(|m| m.to_string()).unwrap_or_default(),
                    end_month: x.end_month.map(|m| m.to_string()).unwrap_or_default(),
                    note: x.note.clone(),
                    reason: String::new(),
                };
            }
        }
        Item::Asset => {
            if let Some(x) = d.assets.iter().find(|x| x.id == id) {
                a = AssetInput {
                    person_id: x.person_id.map(|p| p.to_string()).unwrap_or_default(),
                    kind: x.kind.as_str().into(),
                    value: x.value_fen.yuan_string(),
                    description: x.description.clone(),
                    reason: String::new(),
                };
            }
        }
    }
    (m, i, a)
}

/// A submitted correction form (the fields of all three kinds; each page sends its own).
#[derive(Debug, Clone, Default)]
pub struct CorrectionForm {
    pub fields: BTreeMap<String, String>,
}

impl CorrectionForm {
    fn new(pairs: Vec<(String, String)>) -> CorrectionForm {
        CorrectionForm {
            fields: pairs.into_iter().collect(),
        }
    }

    fn get(&self, k: &str) -> String {
        self.fields.get(k).cloned().unwrap_or_default()
    }

    fn member(&self) -> MemberCorrection {
        MemberCorrection {
            counted: self.get("counted"),
            exclusion_reason: self.get("exclusion_reason"),
            disability_type: self.get("disability_type"),
            disability_grade: self.get("disability_grade"),
            health: self.get("health"),
            work_capacity: self.get("work_capacity"),
            employment: self.get("employment"),
            status: self.get("status"),
            status_date: self.get("status_date"),
            reason: self.get("reason"),
        }
    }

    fn income(&self) -> IncomeInput {
        IncomeInput {
            person_id: self.get("person_id"),
            kind: self.get("kind"),
            amount: self.get("amount"),
            period: self.get("period"),
            start_month: self.get("start_month"),
            end_month: self.get("end_month"),
            note: self.get("note"),
            reason: self.get("reason"),
        }
    }

    fn asset(&self) -> AssetInput {
        AssetInput {
            person_id: self.get("person_id"),
            kind: self.get("kind"),
            value: self.get("value"),
            description: self.get("description"),
            reason: self.get("reason"),
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn correct_page(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    hid: i64,
    item: Item,
    id: i64,
    remove: bool,
    typed: Option<&CorrectionForm>,
    error: Option<(String, BTreeMap<String, String>)>,
) -> PageResult {
    let d = st.app.registry().get(actor, hid).await?;
    let item_text = describe_item(&d, item, id)?;
    // Reading is for everyone in the jurisdiction; the forms are for those who may change.
    actor
        .require_or(
            minzheng_app::Permission::EditRegistry,
            "您的角色只能查看，不能修改户籍台账",
        )
        .map_err(AppError::from)?;
    let (mut m, mut i, mut a) = current_forms(&d, item, id);
    let mut reason = String::new();
    if let Some(f) = typed {
        m = f.member();
        i = f.income();
        a = f.asset();
        reason = f.get("reason");
    }
    let (error, fe) = match error {
        Some((msg, fe)) => (Some(msg), fe),
        None => (None, BTreeMap::new()),
    };
    render(&CorrectPage {
        nav: Nav::new(s, "households"),
        d,
        item,
        item_id: id,
        item_text,
        remove,
        m,
        i,
        a,
        reason,
        error,
        fe,
        c: CHOICES,
    })
}

fn ids(hid: &str, id: &str, item: Item) -> Result<(i64, i64), AppError> {
    Ok((parse_id(hid, "该户")?, parse_id(id, item_what(item))?))
}

/// The Chinese confirmation a saved correction brings back to the household page.
pub fn saved_notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "member-updated" => "成员信息已修改，修改原因已记入变更记录",
        "member-removed" => "成员已删除，删除原因已记入变更记录",
        "income-updated" => "收入已修改，修改原因已记入变更记录",
        "income-removed" => "收入已删除，删除原因已记入变更记录",
        "asset-updated" => "财产已修改，修改原因已记入变更记录",
        "asset-removed" => "财产已删除，删除原因已记入变更记录",
        _ => return None,
    })
}

/// Post/redirect/get after a correction: the household page with its confirmation and the
/// enrolments whose amount to review.
fn redirect_after(item: Item, remove: bool, c: &Corrected) -> Response {
    let code = format!(
        "{}-{}",
        match item {
            Item::Member => "member",
            Item::Income => "income",
            Item::Asset => "asset",
        },
        if remove { "removed" } else { "updated" }
    );
    let mut url = format!("/households/{}?saved={code}", c.household.household.id);
    if !c.amount_changes.is_empty() {
        let list: Vec<String> = c
            .amount_changes
            .iter()
            .map(|a| a.enrolment_id.to_string())
            .collect();
        url.push_str(&format!("&review={}", list.join(",")));
    }
    Redirect::to(&url).into_response()
}

async fn run(
    st: &AppState,
    actor: &Actor,
    item: Item,
    remove: bool,
    hid: i64,
    id: i64,
    f: &CorrectionForm,
) -> minzheng_app::Result<Corrected> {
    let r = st.app.registry();
    let removal = Removal {
        reason: f.get("reason"),
    };
    match (item, remove) {
        (Item::Member, false) => r.update_member(actor, hid, id, &f.member()).await,
        (Item::Member, true) => r.remove_member(actor, hid, id, &removal).await,
        (Item::Income, false) => r.update_income(actor, hid, id, &f.income()).await,
        (Item::Income, true) => r.remove_income(actor, hid, id, &removal).await,
        (Item::Asset, false) => r.update_asset(actor, hid, id, &f.asset()).await,
        (Item::Asset, true) => r.remove_asset(actor, hid, id, &removal).await,
    }
}

async fn submit(
    st: AppState,
    s: SessionInfo,
    actor: Actor,
    item: Item,
    remove: bool,
    (hid, id): (String, String),
    f: CorrectionForm,
) -> PageResult {
    let (hid, id) = ids(&hid, &id, item)?;
    match run(&st, &actor, item, remove, hid, id, &f).await {
        Ok(c) => Ok(redirect_after(item, remove, &c)),
        Err(e @ (UseCaseError::Validation { .. } | UseCaseError::Conflict(_))) => {
            let e = AppError::from(e);
            let status = e.status;
            let mut page = correct_page(
                &st,
                &s,
                &actor,
                hid,
                item,
                id,
                remove,
                Some(&f),
                Some((e.message, e.fields)),
            )
            .await?;
            *page.status_mut() = status;
            Ok(page)
        }
        Err(e) => Err(e.into()),
    }
}

macro_rules! page_handlers {
    ($item:expr, $edit:ident, $remove_page:ident, $update:ident, $remove:ident) => {
        pub async fn $edit(
            State(st): State<AppState>,
            PageUser(s, actor): PageUser,
            Path((hid, id)): Path<(String, String)>,
        ) -> PageResult {
            let (hid, id) = ids(&hid, &id, $item)?;
            correct_page(&st, &s, &actor, hid, $item, id, false, None, None).await
        }

        pub async fn $remove_page(
            State(st): State<AppState>,
            PageUser(s, actor): PageUser,
            Path((hid, id)): Path<(String, String)>,
        ) -> PageResult {
            let (hid, id) = ids(&hid, &id, $item)?;
            correct_page(&st, &s, &actor, hid, $item, id, true, None, None).await
        }

        pub async fn $update(
            State(st): State<AppState>,
            PageUser(s, actor): PageUser,
            Path(p): Path<(String, String)>,
            PageForm(f): PageForm<Vec<(String, String)>>,
        ) -> PageResult {
            submit(st, s, actor, $item, false, p, CorrectionForm::new(f)).await
        }

        pub async fn $remove(
            State(st): State<AppState>,
            PageUser(s, actor): PageUser,
            Path(p): Path<(String, String)>,
            PageForm(f): PageForm<Vec<(String, String)>>,
        ) -> PageResult {
            submit(st, s, actor, $item, true, p, CorrectionForm::new(f)).await
        }
    };
}

page_handlers!(
    Item::Member,
    member_edit_page,
    member_remove_page,
    member_update_submit,
    member_remove_submit
);
page_handlers!(
    Item::Income,
    income_edit_page,
    income_remove_page,
    income_update_submit,
    income_remove_submit
);
page_handlers!(
    Item::Asset,
    asset_edit_page,
    asset_remove_page,
    asset_update_submit,
    asset_remove_submit
);

// ---------------------------------------------------------------- API

fn ok(c: Corrected) -> ApiResult {
    Ok(Json(c).into_response())
}

/// A `PATCH` body laid over the record as it stands: fields not given keep their value
/// (a field given empty is refused as the form refuses it).
fn patched<T: serde::Serialize + serde::de::DeserializeOwned>(
    current: T,
    body: serde_json::Map<String, Value>,
) -> Result<T, AppError> {
    let mut v = serde_json::to_value(current)
        .map_err(|e| AppError::from(UseCaseError::Internal(e.to_string())))?;
    if let Some(o) = v.as_object_mut() {
        for (k, x) in body {
            if o.contains_key(&k) {
                o.insert(k, x);
            }
        }
    }
    serde_json::from_value(v).map_err(|_| {
        AppError::from(UseCaseError::validation(
            "请求内容有误：各字段应为文字（如 \"health\": \"慢性病\"）",
        ))
    })
}

/// The record's current form for a `PATCH` (404 when it is not in the household).
async fn current(
    st: &AppState,
    actor: &Actor,
    hid: i64,
    item: Item,
    id: i64,
) -> Result<(MemberCorrection, IncomeInput, AssetInput), AppError> {
    let d = st.app.registry().get(actor, hid).await?;
    describe_item(&d, item, id)?;
    Ok(current_forms(&d, item, id))
}

pub async fn api_update_member(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path((hid, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<serde_json::Map<String, Value>>,
) -> ApiResult {
    let (hid, id) = ids(&hid, &id, Item::Member)?;
    let (m, _, _) = current(&st, &actor, hid, Item::Member, id).await?;
    let input = patched(m, body)?;
    ok(st
        .app
        .registry()
        .update_member(&actor, hid, id, &input)
        .await?)
}

pub async fn api_remove_member(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path((hid, id)): Path<(String, String)>,
    ApiQuery(r): ApiQuery<Removal>,
) -> ApiResult {
    let (hid, id) = ids(&hid, &id, Item::Member)?;
    ok(st.app.registry().remove_member(&actor, hid, id, &r).await?)
}

pub async fn api_update_income(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path((hid, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<serde_json::Map<String, Value>>,
) -> ApiResult {
    let (hid, id) = ids(&hid, &id, Item::Income)?;
    let (_, i, _) = current(&st, &actor, hid, Item::Income, id).await?;
    let input = patched(i, body)?;
    ok(st
        .app
        .registry()
        .update_income(&actor, hid, id, &input)
        .await?)
}

pub async fn api_remove_income(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path((hid, id)): Path<(String, String)>,
    ApiQuery(r): ApiQuery<Removal>,
) -> ApiResult {
    let (hid, id) = ids(&hid, &id, Item::Income)?;
    ok(st.app.registry().remove_income(&actor, hid, id, &r).await?)
}

pub async fn api_update_asset(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path((hid, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<serde_json::Map<String, Value>>,
) -> ApiResult {
    let (hid, id) = ids(&hid, &id, Item::Asset)?;
    let (_, _, a) = current(&st, &actor, hid, Item::Asset, id).await?;
    let input = patched(a, body)?;
    ok(st
        .app
        .registry()
        .update_asset(&actor, hid, id, &input)
        .await?)
}

pub async fn api_remove_asset(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path((hid, id)): Path<(String, String)>,
    ApiQuery(r): ApiQuery<Removal>,
) -> ApiResult {
    let (hid, id) = ids(&hid, &id, Item::Asset)?;
    ok(st.app.registry().remove_asset(&actor, hid, id, &r).await?)
}

// ---------------------------------------------------------------- history in words

/// One change of a household's history as the page shows it.
pub struct HistoryLine {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub text: String,
    pub reason: String,
}

/// The order fields are listed in, with their Chinese names.
const FIELDS: &[(&str, &str)] = &[
    ("person_name", "成员"),
    ("name", "姓名"),
    ("head_name", "户主"),
    ("relation", "与户主关系"),
    ("counted", "计入家庭人口"),
    ("exclusion_reason", "不计入原因"),
    ("disability_type", "残疾类别"),
    ("disability_grade", "残疾等级"),
    ("health", "健康状况"),
    ("work_capacity", "劳动能力"),
    ("employment", "就业状况"),
    ("status", "状态"),
    ("status_date", "状态变更日期"),
    ("kind", "类型"),
    ("amount_fen", "金额"),
    ("period", "周期"),
    ("start_month", "起始月份"),
    ("end_month", "结束月份"),
    ("note", "备注"),
    ("value_fen", "价值"),
    ("description", "说明"),
    ("village_code", "村(社区)代码"),
    ("registration_type", "户籍类型"),
    ("address", "家庭住址"),
    ("phone", "联系电话"),
    ("bank_name", "开户银行"),
    ("account_number", "银行账号"),
    ("account_holder", "账户户名"),
];

fn word<T: Copy>(parse: fn(&str) -> Option<T>, label: fn(T) -> &'static str, code: &str) -> String {
    parse(code).map(label).unwrap_or(code).to_string()
}

/// A stored value in words: codes as their labels, fen as yuan, booleans as 是/否.
fn value_text(action: &str, key: &str, v: &Value) -> String {
    match v {
        Value::Null => "（空）".into(),
        Value::Bool(b) => if *b { "是" } else { "否" }.into(),
        Value::Number(n) => match key {
            "amount_fen" | "value_fen" => Fen(n.as_i64().unwrap_or(0)).to_string(),
            "disability_grade" => format!("{n}级"),
            _ => n.to_string(),
        },
        Value::String(s) if s.is_empty() => "（空）".into(),
        Value::String(s) => match key {
            "relation" => word(Relation::parse, Relation::label, s),
            "exclusion_reason" => word(ExclusionReason::parse, ExclusionReason::label, s),
            "disability_type" => word(DisabilityType::parse, DisabilityType::label, s),
            "health" => word(Health::parse, Health::label, s),
            "work_capacity" => word(WorkCapacity::parse, WorkCapacity::label, s),
            "employment" => word(Employment::parse, Employment::label, s),
            "status" if action.starts_with("household") => {
                word(HouseholdStatus::parse, HouseholdStatus::label, s)
            }
            "status" => word(PersonStatus::parse, PersonStatus::label, s),
            "kind" if action.starts_with("asset") => word(AssetKind::parse, AssetKind::label, s),
            "kind" => word(IncomeKind::parse, IncomeKind::label, s),
            "period" => word(IncomePeriod::parse, IncomePeriod::label, s),
            "registration_type" => word(RegistrationType::parse, RegistrationType::label, s),
            _ => s.clone(),
        },
        other => other.to_string(),
    }
}

/// `key：value` for every known field of `o` that has a value.
fn listing(action: &str, o: &serde_json::Map<String, Value>) -> Vec<String> {
    FIELDS
        .iter()
        .filter_map(|(k, label)| {
            let v = o.get(*k)?;
            if v.is_null() || v.as_str() == Some("") {
                return None;
            }
            Some(format!("{label}：{}", value_text(action, k, v)))
        })
        .collect()
}

/// Whose record a change of a member, an income or an asset concerns ("沈梅：",
/// "沈梅的工资性收入："), empty for a household's own fields.
fn subject(action: &str, before: &serde_json::Map<String, Value>) -> String {
    let text = |k: &str| before.get(k).and_then(Value::as_str).unwrap_or("");
    if action.starts_with("person.") {
        let name = text("name");
        return if name.is_empty() {
            String::new()
        } else {
            format!("{name}：")
        };
    }
    if action.starts_with("income.") || action.starts_with("asset.") {
        let who = match text("person_name") {
            "" => "全户",
            n => n,
        };
        let kind = before
            .get("kind")
            .map(|k| value_text(action, "kind", k))
            .unwrap_or_default();
        return format!("{who}的{kind}：");
    }
    String::new()
}

/// One history record in words.
pub fn history_line(e: &AuditEntry) -> HistoryLine {
    let parse = |s: &Option<String>| -> Option<serde_json::Map<String, Value>> {
        s.as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .and_then(|v| v.as_object().cloned())
    };
    let before = parse(&e.before_json);
    let mut after = parse(&e.after_json);
    let reason = after
        .as_mut()
        .and_then(|a| a.remove("reason"))
        .and_then(|r| r.as_str().map(str::to_string))
        .unwrap_or_default();
    let action = e.action.as_str();
    let text = match (&before, &after) {
        // A household registered: the household's fields and its head's.
        (_, Some(a)) if a.contains_key("head") && a.contains_key("household") => {
            let mut parts = Vec::new();
            if let Some(Value::Object(h)) = a.get("household") {
                parts.extend(listing(action, h));
            }
            if let Some(Value::Object(p)) = a.get("head") {
                parts.push(format!("户主{}", listing("person", p).join("，")));
            }
            parts.join("；")
        }
        (Some(b), Some(_)) if action.ends_with(".remove") => {
            format!("删除前：{}", listing(action, b).join("，"))
        }
        (Some(b), Some(a)) => {
            let changed: Vec<String> = FIELDS
                .iter()
                .filter(|(k, _)| b.contains_key(*k) && a.contains_key(*k) && b.get(*k) != a.get(*k))
                .map(|(k, label)| {
                    format!(
                        "{label}：{} → {}",
                        value_text(action, k, &b[*k]),
                        value_text(action, k, &a[*k])
                    )
                })
                .collect();
            let subject = subject(action, b);
            if changed.is_empty() {
                format!("{subject}各项未变")
            } else {
                format!("{subject}{}", changed.join("；"))
            }
        }
        (None, Some(a)) => listing(action, a).join("，"),
        (Some(b), None) => listing(action, b).join("，"),
        (None, None) => String::new(),
    };
    HistoryLine {
        at: crate::pages::beijing_time(&e.at),
        actor: crate::pages::actor_label(&e.actor).to_string(),
        action: crate::pages::action_label(action).to_string(),
        text,
        reason,
    }
}
