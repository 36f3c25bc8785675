//! Server-rendered Chinese pages.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use minzheng_app::dashboard::DashboardCounts;
use minzheng_app::users::SessionInfo;
use minzheng_app::{Authorize, Permission};
use minzheng_domain::audit::{AuditEntry, AuditFilterForm};
use minzheng_domain::division::Division;
use minzheng_domain::offices::{Office, OfficeFilter, OfficeUpdate};
use minzheng_domain::users::{AuthError, NewUser, User, UserUpdate};
use minzheng_domain::{Actor, DivisionLevel, Role};
use serde::Deserialize;

use crate::error::{parse_id, AppError, PageError};
use crate::session::{cookie, set_cookie, ClientAddr, PageUser, PRE_CSRF_COOKIE, SESSION_COOKIE};
use crate::AppState;

type PageResult = Result<Response, PageError>;

/// `Form<T>` whose rejection is a Chinese error page instead of axum's English text.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for PageForm<T> {
    type Rejection = PageError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Form::<T>::from_request(req, state).await {
            Ok(Form(v)) => Ok(PageForm(v)),
            Err(_) => Err(PageError(AppError::bad_request(
                "提交的表单内容不完整或格式不正确，请返回后重新填写",
            ))),
        }
    }
}

/// What every signed-in page's layout needs.
pub struct Nav {
    pub user_name: String,
    pub role_label: &'static str,
    pub scope_name: String,
    pub csrf: String,
    pub is_admin: bool,
    pub can_audit: bool,
    /// May read the statistics (统计月报 in the menu and on the dashboard).
    pub can_stats: bool,
    pub active: &'static str,
    /// A fresh one-time key for the page's forms that must not be done twice (field
    /// `_once`; see `forms::OnceKeys`).
    pub once: String,
}

impl Nav {
    pub(crate) fn new(s: &SessionInfo, active: &'static str) -> Self {
        Nav {
            user_name: s.user.display_name.clone(),
            role_label: s.user.role.label(),
            scope_name: s.user.scope_name.clone(),
            csrf: s.csrf_token.clone(),
            is_admin: s.user.actor().is_ok_and(|a| a.may(Permission::ManageUsers)),
            can_audit: s.user.actor().is_ok_and(|a| a.may(Permission::ReadAudit)),
            can_stats: s
                .user
                .actor()
                .is_ok_and(|a| a.may(Permission::ReadStatistics)),
            active,
            once: crate::forms::fresh_key(),
        }
    }
}

/// Every action the log records, as the filter offers them (each has a Chinese label).
pub const AUDIT_ACTIONS: &[&str] = &[
    "asset.add",
    "asset.remove",
    "asset.update",
    "attachment.add",
    "audit.export",
    "auth.signin",
    "auth.signin_failed",
    "auth.signin_throttled",
    "auth.signout",
    "case.change_opened",
    "case.create",
    "case.details",
    "case.review_opened",
    "case.transition",
    "checks.export",
    "checks.run",
    "database.backup",
    "divisions.import",
    "enrolment.stop",
    "finding.verdict",
    "funeral.record",
    "household.create",
    "household.update",
    "income.add",
    "income.remove",
    "income.update",
    "inspection.fail",
    "inspection.open",
    "inspection.pass",
    "inspection.rectification",
    "inspection.rectified",
    "inspection.score",
    "list.import",
    "notice.publish",
    "office.update",
    "param.add",
    "param.seed",
    "payroll.back_pay.decide",
    "payroll.back_pay.include",
    "payroll.back_pay.release",
    "payroll.back_pay.request",
    "payroll.back_pay.top_up",
    "payroll.bank_file",
    "payroll.bank_template.save",
    "payroll.close",
    "payroll.exception.correct",
    "payroll.exception.reissue",
    "payroll.exception.release",
    "payroll.export",
    "payroll.generate",
    "payroll.regenerate",
    "payroll.return",
    "payroll.sign_off",
    "person.add",
    "person.correct",
    "person.move_in",
    "person.move_out",
    "person.remove",
    "person.update",
    "plan.accept",
    "plan.return",
    "plan.submit",
    "recovery.open",
    "recovery.step",
    "registry.export",
    "registry.import",
    "registry.person.deceased",
    "relative.declare",
    "repricing.apply",
    "repricing.export",
    "repricing.prepare",
    "repricing.sign_off",
    "repricing.void",
    "staff_change.approve",
    "staff_change.file",
    "staff_change.reject",
    "standards.assistant",
    "standards.equipment.add",
    "standards.export",
    "standards.investment.add",
    "standards.params",
    "standards.posted_rule.add",
    "standards.profile",
    "standards.room.add",
    "stats.lock",
    "stats.reopen",
    "subsidy.disburse",
    "user.change_password",
    "user.create",
    "user.unlock",
    "user.update",
];

/// Every kind of object the log records changes of.
pub const AUDIT_ENTITIES: &[&str] = &[
    "attachment",
    "bank_template",
    "case",
    "checks",
    "construction_plan",
    "divisions",
    "enrolment",
    "equipment",
    "export",
    "external_batch",
    "finding",
    "funeral_record",
    "household",
    "import",
    "inspection",
    "investment",
    "job",
    "notice",
    "office",
    "param",
    "payment_exception",
    "payroll_adjustment",
    "payroll_batch",
    "person",
    "posted_rule",
    "recovery",
    "relative_declaration",
    "room",
    "staff_change",
    "stats_month",
    "std_params",
    "subsidy",
    "user",
    "village",
];

/// Chinese name of an audit action, for people reading the log.
pub fn action_label(action: &str) -> &str {
    match action {
        "auth.signin" => "登录",
        "auth.signin_failed" => "登录失败",
        "auth.signout" => "退出登录",
        "auth.signin_throttled" => "登录过于频繁被拒绝",
        "user.unlock" => "解除锁定",
        "case.create" => "新建救助案件",
        "case.transition" => "办理案件环节",
        "case.details" => "修改申请信息",
        "case.change_opened" => "提出变更申请",
        "case.review_opened" => "开启定期核查",
        "attachment.add" => "上传材料",
        "notice.publish" => "发布公示",
        "param.add" => "设置救助标准",
        "param.seed" => "导入演示参数",
        "household.create" => "登记家庭",
        "household.update" => "修改家庭信息",
        "person.add" => "添加家庭成员",
        "person.update" => "修改成员信息",
        "person.move_in" => "成员迁入",
        "person.move_out" => "成员迁出",
        "person.correct" => "修改成员情况",
        "person.remove" => "删除家庭成员",
        "income.add" => "登记收入",
        "income.update" => "修改收入",
        "income.remove" => "删除收入",
        "asset.add" => "登记财产",
        "asset.update" => "修改财产",
        "asset.remove" => "删除财产",
        "registry.import" => "导入户籍台账",
        "registry.export" => "导出户籍台账",
        "standards.assistant" => "登记村(居)民政协理员",
        "standards.export" => "导出规范化建设情况",
        "standards.params" => "设置规范化建设参数",
        "standards.profile" => "修改办公室基本情况",
        "standards.room.add" => "登记功能用房",
        "standards.equipment.add" => "登记设施设备",
        "standards.posted_rule.add" => "登记上墙制度",
        "standards.investment.add" => "登记建设投入",
        "staff_change.file" => "报备人员异动",
        "staff_change.approve" => "审批人员异动",
        "plan.submit" => "提交建设方案",
        "plan.accept" => "通过建设方案",
        "plan.return" => "退回建设方案",
        "inspection.open" => "开始检查验收",
        "inspection.score" => "检查评分",
        "inspection.pass" => "验收通过",
        "inspection.fail" => "验收未通过",
        "inspection.rectification" => "登记整改",
        "subsidy.disburse" => "拨付补助",
        "user.create" => "新建用户",
        "user.update" => "修改用户",
        "user.change_password" => "修改密码",
        "office.update" => "修改办公室信息",
        "divisions.import" => "导入行政区划",
        "payroll.generate" => "生成发放批次",
        "payroll.regenerate" => "重新生成发放批次",
        "payroll.sign_off" => "审核签发发放批次",
        "payroll.close" => "结束发放批次",
        "payroll.bank_file" => "生成银行代发文件",
        "payroll.return" => "导入银行回盘文件",
        "payroll.exception.correct" => "更正退票信息",
        "payroll.exception.reissue" => "退票列入重发",
        "payroll.exception.release" => "退票撤出批次，待重发",
        "payroll.back_pay.request" => "申请补发",
        "payroll.back_pay.decide" => "审批补发",
        "payroll.back_pay.include" => "补发列入批次或无需补发",
        "payroll.back_pay.release" => "补发撤出批次，待列入",
        "payroll.bank_template.save" => "保存银行代发模板",
        "payroll.export" => "导出资金发放台账",
        "funeral.record" => "登记死亡",
        "registry.person.deceased" => "标记人员死亡",
        "enrolment.stop" => "停发",
        "recovery.open" => "开立追回",
        "recovery.step" => "办理追回",
        "checks.run" => "运行数据比对",
        "checks.export" => "导出比对疑点",
        "finding.verdict" => "核实比对疑点",
        "relative.declare" => "登记近亲属备案",
        "list.import" => "导入核对数据",
        "audit.export" => "导出操作日志",
        "repricing.prepare" => "生成调标批次",
        "repricing.sign_off" => "签发调标批次",
        "repricing.apply" => "按调标调整金额",
        "repricing.void" => "作废调标批次",
        "repricing.export" => "导出调标明细",
        "payroll.back_pay.top_up" => "调标补差",
        "inspection.rectified" => "整改完成",
        "staff_change.reject" => "退回人员变动备案",
        "database.backup" => "备份数据库",
        "stats.lock" => "锁定统计月份",
        "stats.reopen" => "重新打开统计月份",
        other => other,
    }
}

/// People by name: the system's own tasks by what they are, accounts by their real name,
/// anything else as recorded.
#[derive(Default, Clone)]
pub struct Names(std::collections::HashMap<String, String>);

impl Names {
    pub async fn load(st: &AppState) -> Result<Names, AppError> {
        Ok(Names(st.app.users().names().await?))
    }

    /// The name to show for `username`.
    pub fn of(&self, username: &str) -> String {
        let system = actor_label(username);
        if system != username {
            return system.to_string();
        }
        self.0
            .get(username)
            .cloned()
            .unwrap_or_else(|| username.to_string())
    }

    /// Every account as a choice: (user name, "刘芳（staff）"), by name.
    pub fn people(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .0
            .iter()
            .map(|(u, n)| (u.clone(), format!("{n}（{u}）")))
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    }

    /// The user name a person is typed as: "刘芳（staff）", a real name held by one account,
    /// or the user name itself.
    pub fn username_of(&self, typed: &str) -> String {
        let typed = typed.trim();
        if let Some(inner) = typed
            .strip_suffix('）')
            .and_then(|t| t.rsplit_once('（'))
            .map(|(_, u)| u.trim())
        {
            return inner.to_string();
        }
        let mut holders = self.0.iter().filter(|(_, n)| n.as_str() == typed);
        match (holders.next(), holders.next()) {
            (Some((u, _)), None) if !self.0.contains_key(typed) => u.clone(),
            _ => typed.to_string(),
        }
    }

    /// The name and, where the account is the point (the log), the user name beside it.
    pub fn with_username(&self, username: &str) -> String {
        match self.0.get(username) {
            Some(n) if n != username => format!("{n}（{username}）"),
            _ => self.of(username),
        }
    }
}

/// Who did it, for people reading the log: the system's own tasks by what they are.
pub fn actor_label(actor: &str) -> &str {
    match actor {
        "daily-tasks" => "每日任务（系统）",
        "nightly-checks" => "数据比对（系统）",
        "monthly-repricing" => "每月调标（系统）",
        "demo" => "演示数据（系统）",
        "cli" => "命令行",
        other => other,
    }
}

/// Chinese name of an audited entity type.
pub fn entity_label(entity: &str) -> &str {
    match entity {
        "user" => "用户",
        "case" => "救助案件",
        "household" => "家庭",
        "attachment" => "材料",
        "notice" => "公示",
        "param" => "救助标准",
        "job" => "后台任务",
        "import" => "导入",
        "construction_plan" => "建设方案",
        "equipment" => "设施设备",
        "inspection" => "检查验收",
        "investment" => "建设投入",
        "posted_rule" => "上墙制度",
        "room" => "功能用房",
        "staff_change" => "人员异动",
        "std_params" => "规范化建设参数",
        "subsidy" => "补助",
        "village" => "村(社区)",
        "office" => "民政办公室",
        "divisions" => "行政区划",
        "payroll_batch" => "发放批次",
        "payment_exception" => "退票",
        "payroll_adjustment" => "补发",
        "bank_template" => "银行代发模板",
        "export" => "导出",
        "funeral_record" => "殡葬记录",
        "recovery" => "追回",
        "person" => "人员",
        "enrolment" => "保障对象",
        "checks" => "数据比对",
        "finding" => "比对疑点",
        "relative_declaration" => "近亲属备案",
        "external_batch" => "核对数据",
        "stats_month" => "统计月份",
        other => other,
    }
}

/// A stored UTC timestamp shown in Beijing time (UTC+8), to the second.
pub fn beijing_time(ts: &str) -> String {
    minzheng_domain::time::beijing(ts)
}

pub(crate) fn render(t: &impl Template) -> PageResult {
    t.render().map(|s| Html(s).into_response()).map_err(|e| {
        PageError(AppError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("页面生成失败：{e}"),
        ))
    })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

/// The stand-alone error page.
pub fn render_error_page(title: &str, message: &str) -> String {
    ErrorPage { title, message }
        .render()
        .unwrap_or_else(|_| format!("{title}：{message}"))
}

// ---------------------------------------------------------------- sign-in

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
    signed_out: Option<String>,
    /// Sent here by a form submitted after the session ended.
    expired: Option<String>,
}

fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".into(),
    }
}

fn pre_token(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, PRE_CSRF_COOKIE) {
        Some(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => (t, false),
        _ => {
            use rand::RngCore;
            let mut b = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut b);
            (hex::encode(b), true)
        }
    }
}

pub async fn login_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(qs): Query<LoginQuery>,
) -> PageResult {
    let (csrf, fresh) = pre_token(&headers);
    let page = LoginPage {
        csrf: csrf.clone(),
        next: safe_next(qs.next.as_deref()),
        username: String::new(),
        error: None,
        notice: if qs.expired.is_some() {
            Some("登录已超时，请重新登录。登录后回到刚才的页面，已填写的内容会自动恢复，核对后再提交。".to_string())
        } else {
            qs.signed_out.map(|_| "您已安全退出。".to_string())
        },
    };
    let mut resp = render(&page)?;
    if fresh {
        resp.headers_mut().append(
            SET_COOKIE,
            set_cookie(PRE_CSRF_COOKIE, &csrf, st.config.secure_cookies, None),
        );
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn login_submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    ClientAddr(client): ClientAddr,
    PageForm(f): PageForm<LoginForm>,
) -> PageResult {
    let outcome = st
        .app
        .users()
        .authenticate_from(&f.username, &f.password, &client, chrono::Utc::now())
        .await?;
    match outcome {
        Ok(user) => {
            let (token, _) = st
                .app
                .users()
                .open_session(user.id, chrono::Utc::now())
                .await?;
            let mut resp = Redirect::to(&safe_next(f.next.as_deref())).into_response();
            let h = resp.headers_mut();
            h.append(
                SET_COOKIE,
                set_cookie(SESSION_COOKIE, &token, st.config.secure_cookies, None),
            );
            h.append(
                SET_COOKIE,
                set_cookie(PRE_CSRF_COOKIE, "", st.config.secure_cookies, Some(0)),
            );
            Ok(resp)
        }
        Err(e) => {
            let (csrf, _) = pre_token(&headers);
            let mut resp = render(&LoginPage {
                csrf,
                next: safe_next(f.next.as_deref()),
                username: f.username.chars().take(32).collect(),
                error: Some(e.to_string()),
                notice: None,
            })?;
            *resp.status_mut() = match e {
                AuthError::Locked { .. } | AuthError::Throttled { .. } => {
                    axum::http::StatusCode::TOO_MANY_REQUESTS
                }
                _ => axum::http::StatusCode::UNAUTHORIZED,
            };
            Ok(resp)
        }
    }
}

pub async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    user: Option<PageUserOpt>,
) -> PageResult {
    let token = cookie(&headers, SESSION_COOKIE);
    match user {
        Some(PageUserOpt(actor)) => st.app.users().sign_out(&actor, token.as_deref()).await?,
        None => {
            if let Some(t) = token {
                st.app.users().end_session(&t).await?;
            }
        }
    }
    let mut resp = Redirect::to("/login?signed_out=1").into_response();
    resp.headers_mut().append(
        SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", st.config.secure_cookies, Some(0)),
    );
    Ok(resp)
}

/// The signed-in actor if there is one (sign-out works either way).
pub struct PageUserOpt(Actor);

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for PageUserOpt {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<SessionInfo>()
            .and_then(|s| s.user.actor().ok())
            .map(PageUserOpt))
    }
}

// ---------------------------------------------------------------- dashboard

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    nav: Nav,
    scope_title: String,
    counts: DashboardCounts,
    recent: Vec<AuditEntry>,
    cases: minzheng_domain::cases::CaseCounts,
    due: Vec<minzheng_domain::cases::DueItem>,
    payroll: minzheng_domain::payroll::PayrollOverview,
    /// Open findings per check (数据比对).
    findings: Vec<minzheng_domain::checks::CheckCount>,
    recoveries: minzheng_app::funerals::RecoveryTotals,
    /// 待我办理: cases waiting for this user's step.
    todo: minzheng_app::dashboard::Todo,
    /// 待我办理 beyond cases: (what, how many, where), only what this user may do.
    todo_more: Vec<(&'static str, i64, String)>,
    /// This month (YYYY-MM), for the statistics' chart and link.
    month: String,
}

impl DashboardPage {
    fn open_findings(&self) -> i64 {
        self.findings.iter().map(|c| c.open + c.confirmed).sum()
    }
}

pub async fn dashboard(State(st): State<AppState>, PageUser(s, actor): PageUser) -> PageResult {
    let counts = st.app.dashboard().counts(&actor).await?;
    let recent = if actor.may(Permission::ReadAudit) {
        st.app.audit().list(&actor, None, 8, 0).await?
    } else {
        Vec::new()
    };
    let cases = st.app.cases().counts(&actor).await?;
    let due = st.app.cases().due(&actor, crate::cases::today()).await?;
    // This month's payroll (Beijing time).
    let payroll = st
        .app
        .payroll()
        .overview(
            &actor,
            minzheng_domain::YearMonth::of(crate::cases::today()),
        )
        .await?;
    let findings = st.app.checks().counts(&actor).await?;
    let recoveries = st.app.dashboard().recoveries(&actor).await?;
    let todo = st
        .app
        .dashboard()
        .todo(&actor, crate::cases::today())
        .await?;
    let open_findings: i64 = findings.iter().map(|c| c.open).sum();
    let month = &payroll.month;
    let todo_more: Vec<(&'static str, i64, String)> = [
        (
            actor.may(Permission::SignOffPayroll),
            "发放批次待审核签发",
            payroll.drafts,
            format!("/payroll/review?month={month}"),
        ),
        (
            actor.may(Permission::ExportBankFile),
            "已签发批次待生成银行文件",
            payroll.signed_off,
            format!("/payroll?month={month}&status=signed_off"),
        ),
        (
            actor.may(Permission::ImportReturnFile),
            "已生成银行文件待回盘对账",
            payroll.exported,
            format!("/payroll?month={month}&status=exported"),
        ),
        (
            actor.may(Permission::CorrectPaymentException),
            "退票待更正",
            payroll.open_exceptions,
            "/payroll/exceptions?status=open".to_string(),
        ),
        (
            actor.may(Permission::DecideBackPay),
            "补发待审批",
            payroll.pending_back_pay,
            "/payroll/back-pay".to_string(),
        ),
        (
            actor.may(Permission::ResolveFindings),
            "比对疑点待核实",
            open_findings,
            "/checks?state=open".to_string(),
        ),
        (
            actor.may(Permission::HandleRecoveries),
            "死亡后已发待追回",
            recoveries.open_count,
            "/recoveries?status=open".to_string(),
        ),
    ]
    .into_iter()
    .filter(|(may, _, n, _)| *may && *n > 0)
    .map(|(_, what, n, link)| (what, n, link))
    .collect();
    let month = month.to_string();
    render(&DashboardPage {
        todo,
        todo_more,
        month,
        scope_title: format!("{}（{}）", s.user.scope_name, s.user.scope_code),
        nav: Nav::new(&s, "dashboard"),
        counts,
        recent,
        cases,
        due,
        payroll,
        findings,
        recoveries,
    })
}

// ---------------------------------------------------------------- divisions

#[derive(Template)]
#[template(path = "divisions.html")]
struct DivisionsPage {
    nav: Nav,
    q: String,
    results: Vec<Division>,
    path: Vec<Division>,
    current: Option<Division>,
    children: Vec<Division>,
}

#[derive(Deserialize, Default)]
pub struct DivisionsQuery {
    code: Option<String>,
    q: Option<String>,
}

pub async fn divisions(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<DivisionsQuery>,
) -> PageResult {
    let q =
        qs.q.unwrap_or_default()
            .trim()
            .chars()
            .take(40)
            .collect::<String>();
    let mut page = DivisionsPage {
        nav: Nav::new(&s, "divisions"),
        q: q.clone(),
        results: Vec::new(),
        path: Vec::new(),
        current: None,
        children: Vec::new(),
    };
    if !q.is_empty() {
        page.results = st.app.divisions().search(&actor, &q, 100).await?;
        return render(&page);
    }
    match qs.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => {
            let divisions = st.app.divisions();
            let cur = divisions.get(&actor, code).await?;
            page.path = divisions.path(&actor, code).await?;
            page.children = divisions.children(&actor, Some(code)).await?;
            page.current = Some(cur);
        }
        None => {
            page.children = st.app.divisions().roots(&actor).await?;
        }
    }
    render(&page)
}

// ---------------------------------------------------------------- offices

#[derive(Template)]
#[template(path = "offices.html")]
struct OfficesPage {
    nav: Nav,
    offices: Vec<Office>,
    counties: Vec<Division>,
    within: String,
    q: String,
    total: i64,
    page: i64,
    pages: i64,
}

#[derive(Deserialize, Default)]
pub struct OfficesQuery {
    within: Option<String>,
    q: Option<String>,
    page: Option<String>,
}

const PAGE_SIZE: i64 = 50;

pub async fn offices(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<OfficesQuery>,
) -> PageResult {
    let page = qs
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .max(1);
    let within = qs.within.unwrap_or_default();
    let q = qs.q.unwrap_or_default();
    let (offices, total) = st
        .app
        .offices()
        .list(
            &actor,
            &OfficeFilter {
                within: Some(within.clone()),
                q: Some(q.clone()),
                limit: Some(PAGE_SIZE),
                offset: Some((page - 1) * PAGE_SIZE),
            },
        )
        .await?;
    let counties = county_choices(&st, &actor).await?;
    render(&OfficesPage {
        nav: Nav::new(&s, "offices"),
        offices,
        counties,
        within,
        q,
        total,
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
    })
}

/// The counties a user can filter by: those inside their scope.
async fn county_choices(
    st: &AppState,
    actor: &Actor,
) -> Result<Vec<Division>, minzheng_app::Error> {
    let Some(code) = actor.scope.code() else {
        return Ok(Vec::new());
    };
    match code.level() {
        DivisionLevel::City => {
            st.app
                .divisions()
                .children(actor, Some(code.as_str()))
                .await
        }
        DivisionLevel::Province => Ok(Vec::new()),
        _ => Ok(Vec::new()),
    }
}

#[derive(Template)]
#[template(path = "office.html")]
struct OfficePage {
    nav: Nav,
    office: Office,
    villages: Vec<Division>,
    can_edit: bool,
    saved: Option<String>,
    error: Option<String>,
}

async fn office_page(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    code: &str,
    saved: Option<String>,
    error: Option<String>,
) -> PageResult {
    let office = st.app.offices().get(actor, code).await?;
    let villages = st.app.divisions().children(actor, Some(code)).await?;
    render(&OfficePage {
        nav: Nav::new(s, "offices"),
        can_edit: st.app.offices().may_edit(actor, &office),
        office,
        villages,
        saved,
        error,
    })
}

#[derive(Deserialize, Default)]
pub struct OfficeQuery {
    saved: Option<String>,
}

pub async fn office(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(code): Path<String>,
    Query(qs): Query<OfficeQuery>,
) -> PageResult {
    let notice = qs.saved.map(|_| "已保存".to_string());
    office_page(&st, &s, &actor, &code, notice, None).await
}

pub async fn office_update(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(code): Path<String>,
    PageForm(f): PageForm<OfficeUpdate>,
) -> PageResult {
    match st.app.offices().update(&actor, &code, &f).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/offices/{}?saved=1",
            serde_urlencoded::to_string([("", code.as_str())])
                .map(|s| s.trim_start_matches('=').to_string())
                .unwrap_or_default()
        ))
        .into_response()),
        Err(e @ minzheng_app::Error::Validation { .. }) => {
            crate::forms::refused_fields(&e);
            let msg = e.to_string();
            let mut resp = office_page(&st, &s, &actor, &code, None, Some(msg)).await?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- users

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    nav: Nav,
    users: Vec<User>,
    roles: [Role; 6],
    form: UserForm,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct UserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope_code: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    created: Option<String>,
    saved: Option<String>,
}

fn require_admin(actor: &Actor) -> Result<(), PageError> {
    Ok(actor.require(Permission::ManageUsers)?)
}

pub async fn users(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<NoticeQuery>,
) -> PageResult {
    require_admin(&actor)?;
    let users = st.app.users().list(&actor).await?;
    render(&UsersPage {
        nav: Nav::new(&s, "users"),
        users,
        roles: Role::ALL,
        form: UserForm {
            role: "township-staff".into(),
            ..Default::default()
        },
        error: None,
        field_errors: BTreeMap::new(),
        notice: qs.created.map(|u| format!("已创建账户“{u}”")),
    })
}

pub async fn user_create(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(f): PageForm<UserForm>,
) -> PageResult {
    require_admin(&actor)?;
    let scope = crate::places::resolve(
        &st,
        &actor,
        "scope_code",
        &f.scope_code,
        crate::places::levels("scope"),
    )
    .await;
    let new = NewUser {
        username: f.username.clone(),
        display_name: f.display_name.clone(),
        role: f.role.clone(),
        scope_code: scope.as_ref().cloned().unwrap_or_default(),
        password: f.password.clone(),
    };
    let result = match scope {
        Ok(_) => st.app.users().create(&actor, &new).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(u) => Ok(Redirect::to(&format!(
            "/users?created={}",
            serde_urlencoded::to_string([("", u.username.as_str())])
                .map(|s| s.trim_start_matches('=').to_string())
                .unwrap_or_default()
        ))
        .into_response()),
        Err(minzheng_app::Error::Validation { message, fields }) => {
            crate::forms::note(&fields);
            let users = st.app.users().list(&actor).await?;
            let mut resp = render(&UsersPage {
                nav: Nav::new(&s, "users"),
                users,
                roles: Role::ALL,
                form: UserForm {
                    password: String::new(),
                    ..f
                },
                error: Some(message),
                field_errors: fields,
                notice: None,
            })?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    nav: Nav,
    user: User,
    notice: Option<String>,
    error: Option<String>,
}

pub async fn user(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    Query(qs): Query<NoticeQuery>,
) -> PageResult {
    // The use case first: another jurisdiction's account is not found (404) rather than
    // forbidden; then only the administrator gets the page, even for their own account.
    let user = st.app.users().get(&actor, parse_id(&id, "该用户")?).await?;
    require_admin(&actor)?;
    render(&UserPage {
        nav: Nav::new(&s, "users"),
        user,
        notice: qs.saved.map(|_| "已保存".to_string()),
        error: None,
    })
}

#[derive(Deserialize, Default)]
pub struct UserEditForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    active: Option<String>,
    unlock: Option<String>,
}

pub async fn user_update(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<UserEditForm>,
) -> PageResult {
    // The use case answers 404 for another jurisdiction's account and 403 for a role
    // that may not manage accounts.
    let id = parse_id(&id, "该用户")?;
    let upd = UserUpdate {
        display_name: Some(f.display_name),
        active: Some(f.active.is_some()),
        password: Some(f.password).filter(|p| !p.is_empty()),
        unlock: Some(f.unlock.is_some()),
    };
    match st.app.users().update(&actor, id, &upd).await {
        Ok(_) => Ok(Redirect::to(&format!("/users/{id}?saved=1")).into_response()),
        Err(e @ (minzheng_app::Error::Validation { .. } | minzheng_app::Error::Conflict(_))) => {
            let user = st.app.users().get(&actor, id).await?;
            let mut resp = render(&UserPage {
                nav: Nav::new(&s, "users"),
                user,
                notice: None,
                error: Some(e.to_string()),
            })?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- audit

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Nav,
    entries: Vec<AuditEntry>,
    total: i64,
    page: i64,
    pages: i64,
    /// The filter as typed, its problems, and the query string that keeps it.
    f: AuditFilterForm,
    fe: std::collections::BTreeMap<String, String>,
    kept: String,
    actions: Vec<(&'static str, &'static str)>,
    entities: Vec<(&'static str, &'static str)>,
    names: Names,
    /// The accounts, for the 操作人 list.
    people: Vec<(String, String)>,
}

/// The log page's query: the filter and the page number.
#[derive(Deserialize, Default)]
pub struct AuditPageQuery {
    page: Option<String>,
    #[serde(flatten)]
    f: AuditFilterForm,
}

/// The filter as a query string (to keep it across pages and in the export link).
fn audit_query(f: &AuditFilterForm) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    [
        ("actor", &f.actor),
        ("action", &f.action),
        ("entity_type", &f.entity_type),
        ("entity_id", &f.entity_id),
        ("from", &f.from),
        ("to", &f.to),
    ]
    .iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| format!("{k}={}", enc(v.trim())))
    .collect::<Vec<_>>()
    .join("&")
}

/// What a record changed, in words where the registry's history has them (households,
/// members, incomes, assets), else as recorded.
pub fn audit_change(e: &AuditEntry) -> String {
    let registry = ["household.", "person.", "income.", "asset."];
    if registry.iter().any(|p| e.action.starts_with(p)) {
        let line = crate::registry_corrections::history_line(e);
        if !line.text.is_empty() {
            return if line.reason.is_empty() {
                line.text
            } else {
                format!("{}；理由：{}", line.text, line.reason)
            };
        }
    }
    let Some(after) = e
        .after_json
        .as_deref()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
    else {
        return e.after_json.clone().unwrap_or_default();
    };
    json_words(&after)
}

/// The Chinese names of the fields the log records.
const RECORD_FIELDS: &[(&str, &str)] = &[
    ("case_no", "案件编号"),
    ("batch_no", "批次号"),
    ("program", "项目"),
    ("state", "状态"),
    ("status", "状态"),
    ("action", "办理事项"),
    ("role", "角色"),
    ("username", "用户名"),
    ("display_name", "姓名"),
    ("name", "姓名"),
    ("declarant", "申报人"),
    ("relative", "近亲属"),
    ("relative_id_number", "近亲属身份证号码"),
    ("relation", "关系"),
    ("post", "职务"),
    ("id_number", "身份证号码"),
    ("scope_code", "管辖区划"),
    ("township_code", "乡镇(街道)代码"),
    ("household_id", "家庭编号"),
    ("person_id", "人员编号"),
    ("enrolment_id", "保障编号"),
    ("funeral_id", "殡葬记录编号"),
    ("line_id", "发放明细号"),
    ("month", "月份"),
    ("period", "所属期"),
    ("end_month", "停发月份"),
    ("death_date", "死亡日期"),
    ("status_date", "状态日期"),
    ("reason", "原因"),
    ("reasons", "理由"),
    ("missing", "缺少材料"),
    ("investigators", "调查人员"),
    ("note", "备注"),
    ("findings", "情况"),
    ("proposed_amount", "拟发放金额"),
    ("amount", "金额"),
    ("calculated", "测算金额"),
    ("amount_reason", "金额与测算不一致的理由"),
    ("lines", "笔数"),
    ("planned_fen", "应发金额"),
    ("back_pay_fen", "补发金额"),
    ("total_fen", "合计"),
    ("amount_fen", "金额"),
    ("paid", "成功笔数"),
    ("paid_fen", "成功金额"),
    ("failed", "失败笔数"),
    ("failed_fen", "失败金额"),
    ("reissues", "退票重发笔数"),
    ("file", "文件"),
    ("file_name", "文件名"),
    ("template", "模板"),
    ("rows", "行数"),
    ("rows_read", "读取行数"),
    ("rows_refused", "拒绝行数"),
    ("households_created", "新增家庭"),
    ("households_updated", "更新家庭"),
    ("persons_created", "新增人员"),
    ("persons_updated", "更新人员"),
    ("persons_moved", "迁移人员"),
    ("inserted", "新增"),
    ("updated", "更新"),
    ("unchanged", "未变"),
    ("found", "发现疑点"),
    ("new", "新增疑点"),
    ("closed", "关闭疑点"),
    ("added", "列入"),
    ("score", "得分"),
    ("max_score", "满分"),
    ("subsidy", "补助"),
    ("investment_fen", "建设投入"),
    ("percent", "补助比例(%)"),
    ("inspected_on", "检查日期"),
    ("inspectors", "检查人员"),
    ("due_on", "整改期限"),
    ("item", "事项"),
    ("title", "标题"),
    ("posted_on", "张贴日期"),
    ("phone", "联系电话"),
    ("address", "地址"),
    ("client", "来访地址"),
    ("received_on", "收到日期"),
    ("disbursed_on", "拨付日期"),
    ("doc_number", "文号"),
    ("spent_on", "支出日期"),
    ("grace_until", "渐退至"),
    ("notice_ends_on", "公示至"),
    ("what", "导出内容"),
];

/// A recorded change in words: each field that has a value, by its Chinese name; money in
/// yuan, codes by their labels, yes/no in Chinese; a field without a Chinese name as
/// recorded.
pub fn json_words(v: &serde_json::Value) -> String {
    use serde_json::Value;
    fn value(key: &str, v: &Value) -> Option<String> {
        Some(match v {
            Value::Null => return None,
            Value::Bool(b) => if *b { "是" } else { "否" }.to_string(),
            Value::Number(n)
                if key.ends_with("_fen") || key == "calculated" || key.ends_with("amount") =>
            {
                minzheng_domain::Fen(n.as_i64()?).to_string()
            }
            Value::Number(n) => n.to_string(),
            Value::String(s) if s.is_empty() => return None,
            Value::String(s) => match key {
                "program" => s
                    .parse::<minzheng_domain::Program>()
                    .map(|p| p.label().to_string())
                    .unwrap_or_else(|_| s.clone()),
                "state" => minzheng_domain::CaseState::parse(s)
                    .map(|p| p.label().to_string())
                    .unwrap_or_else(|| s.clone()),
                "role" => s
                    .parse::<Role>()
                    .map(|r| r.label().to_string())
                    .unwrap_or_else(|_| s.clone()),
                "action" => minzheng_domain::ActionKind::parse(s)
                    .map(|a| a.label().to_string())
                    .unwrap_or_else(|| s.clone()),
                _ => s.clone(),
            },
            Value::Array(a) => {
                let parts: Vec<String> = a.iter().filter_map(|x| value(key, x)).collect();
                if parts.is_empty() {
                    return None;
                }
                parts.join("、")
            }
            Value::Object(o) => {
                let w = object(o);
                if w.is_empty() {
                    return None;
                }
                format!("（{w}）")
            }
        })
    }
    fn object(o: &serde_json::Map<String, Value>) -> String {
        let mut parts = Vec::new();
        for (k, v) in o {
            if k == "sha256" || k == "details" {
                continue;
            }
            let Some(text) = value(k, v) else { continue };
            // A nested action reads as the action itself.
            if k == "action" && v.is_object() {
                parts.push(
                    text.trim_start_matches('（')
                        .trim_end_matches('）')
                        .to_string(),
                );
                continue;
            }
            let label = RECORD_FIELDS
                .iter()
                .find(|(f, _)| f == k)
                .map(|(_, l)| *l)
                .unwrap_or(k.as_str());
            parts.push(format!("{label}：{text}"));
        }
        parts.join("；")
    }
    match v {
        Value::Object(o) => object(o),
        other => value("", other).unwrap_or_default(),
    }
}

/// (actor, action, object) of a record in words, as the page and the export show them.
pub fn audit_words(e: &AuditEntry) -> [String; 3] {
    [
        actor_label(&e.actor).to_string(),
        action_label(&e.action).to_string(),
        format!("{} {}", entity_label(&e.entity_type), e.entity_id),
    ]
}

pub async fn audit(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(mut qs): Query<AuditPageQuery>,
) -> PageResult {
    let names = Names::load(&st).await?;
    let typed_actor = std::mem::take(&mut qs.f.actor);
    qs.f.actor = names.username_of(&typed_actor);
    let page = qs
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .max(1);
    let (filter, fe) = match qs.f.parse() {
        Ok(f) => (Some(f), Default::default()),
        Err(e) => (
            None,
            e.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
    };
    let (entries, total) = match &filter {
        Some(f) => (
            st.app
                .audit()
                .search(&actor, f, PAGE_SIZE, (page - 1) * PAGE_SIZE)
                .await?,
            st.app.audit().count_matching(&actor, f).await?,
        ),
        // A filter that does not parse shows its problems and no records.
        None => {
            st.app.audit().count(&actor).await?;
            (Vec::new(), 0)
        }
    };
    let mut actions: Vec<(&str, &str)> = AUDIT_ACTIONS
        .iter()
        .map(|a| (*a, action_label(a)))
        .collect();
    actions.sort_by_key(|(_, l)| *l);
    let mut entities: Vec<(&str, &str)> = AUDIT_ENTITIES
        .iter()
        .map(|e| (*e, entity_label(e)))
        .collect();
    entities.sort_by_key(|(_, l)| *l);
    let kept = audit_query(&qs.f);
    let mut resp = render(&AuditPage {
        nav: Nav::new(&s, "audit"),
        entries,
        total,
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        f: AuditFilterForm {
            actor: typed_actor,
            ..qs.f
        },
        fe,
        kept,
        actions,
        entities,
        people: names.people(),
        names,
    })?;
    if filter.is_none() {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

/// The log as filtered, as a workbook (操作日志.xlsx).
pub async fn audit_export(
    State(st): State<AppState>,
    PageUser(_, actor): PageUser,
    Query(mut qs): Query<AuditPageQuery>,
) -> PageResult {
    qs.f.actor = Names::load(&st).await?.username_of(&qs.f.actor);
    let f = qs.f.parse().map_err(minzheng_app::Error::from)?;
    let w = st.app.audit().workbook(&actor, &f, audit_words).await?;
    Ok(crate::payroll::download(
        &w.file_name,
        minzheng_app::payroll::Workbook::CONTENT_TYPE,
        w.bytes,
    ))
}

// ---------------------------------------------------------------- own password

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    nav: Nav,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct PasswordQuery {
    saved: Option<String>,
}

pub async fn password_page(
    PageUser(s, _): PageUser,
    Query(qs): Query<PasswordQuery>,
) -> PageResult {
    render(&PasswordPage {
        nav: Nav::new(&s, ""),
        notice: qs.saved.map(|_| "密码已修改".into()),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    old_password: String,
    new_password: String,
}

pub async fn password_submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    PageUser(s, actor): PageUser,
    PageForm(f): PageForm<PasswordForm>,
) -> PageResult {
    // This session stays signed in; the account's other sessions end.
    let current = cookie(&headers, SESSION_COOKIE);
    match st
        .app
        .users()
        .change_own_password(&actor, &f.old_password, &f.new_password, current.as_deref())
        .await
    {
        Ok(()) => Ok(Redirect::to("/account/password?saved=1").into_response()),
        Err(e @ minzheng_app::Error::Validation { .. }) => {
            let mut resp = render(&PasswordPage {
                nav: Nav::new(&s, ""),
                notice: None,
                error: Some(e.to_string()),
            })?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

/// Pages that do not exist.
pub async fn not_found() -> PageError {
    PageError(AppError::not_found("您访问的页面不存在"))
}

/// A page address asked for with a method it does not take. A form's address opened with
/// `GET` (reloading or going back to the page a refused form left in the address bar) leads
/// to the page the form is on; anything else gets a Chinese page, never the browser's own.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    if method == axum::http::Method::GET || method == axum::http::Method::HEAD {
        return Redirect::to(&crate::session::form_home(uri.path())).into_response();
    }
    PageError(AppError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "该页面不支持此操作，请从页面上的按钮提交",
    ))
    .into_response()
}

#[cfg(test)]
mod label_tests {
    use super::{action_label, actor_label, entity_label, AUDIT_ACTIONS, AUDIT_ENTITIES};

    /// People by name: accounts by their real name, the system's tasks by what they are,
    /// an unknown name as recorded; the log adds the user name.
    #[test]
    fn people_are_shown_by_name() {
        let names = super::Names(
            [("staff".to_string(), "刘芳".to_string())]
                .into_iter()
                .collect(),
        );
        assert_eq!(names.of("staff"), "刘芳");
        assert_eq!(names.with_username("staff"), "刘芳（staff）");
        assert_eq!(names.of("daily-tasks"), "每日任务（系统）");
        assert_eq!(names.with_username("daily-tasks"), "每日任务（系统）");
        assert_eq!(names.of("gone"), "gone");
        // A person is typed as the list offers them, by name, or by user name.
        assert_eq!(names.username_of("刘芳（staff）"), "staff");
        assert_eq!(names.username_of("刘芳"), "staff");
        assert_eq!(names.username_of("staff"), "staff");
        assert_eq!(names.username_of("daily-tasks"), "daily-tasks");
        assert_eq!(
            names.people(),
            vec![("staff".to_string(), "刘芳（staff）".to_string())]
        );
    }

    /// A recorded change reads in Chinese: fields by name, money in yuan, codes by label,
    /// empty fields and checksums left out.
    #[test]
    fn recorded_changes_read_in_words() {
        use super::json_words;
        let case: serde_json::Value = serde_json::from_str(
            r#"{"case_no":"511802101-2026-00001","details":{"assessed_fen":null},"household_id":7,"person_id":null,"program":"old_age_allowance","state":"draft"}"#,
        )
        .unwrap();
        assert_eq!(
            json_words(&case),
            "案件编号：511802101-2026-00001；家庭编号：7；项目：高龄津贴；状态：草稿"
        );
        let step: serde_json::Value = serde_json::from_str(
            r#"{"action":{"action":"approve","amount":123456},"calculated":100000,"state":"approved"}"#,
        )
        .unwrap();
        let w = json_words(&step);
        assert_eq!(
            w,
            "办理事项：确认同意；金额：1,234.56元；测算金额：1,000.00元；状态：确认同意"
        );
        let file: serde_json::Value =
            serde_json::from_str(r#"{"lines":25,"sha256":"7dd2","total_fen":930950,"ok":true}"#)
                .unwrap();
        assert_eq!(json_words(&file), "笔数：25；ok：是；合计：9,309.50元");
    }

    /// Every action the use cases record, and the entities they record it on, read in
    /// Chinese in the log and on the dashboard.
    #[test]
    fn recorded_actions_entities_and_system_actors_read_in_chinese() {
        let latin = |s: &str| s.chars().any(|c| c.is_ascii_alphabetic());
        for a in AUDIT_ACTIONS {
            assert!(!latin(action_label(a)), "action {a} has no Chinese label");
        }
        for e in AUDIT_ENTITIES {
            assert!(!latin(entity_label(e)), "entity {e} has no Chinese label");
        }
        for s in ["daily-tasks", "nightly-checks", "demo", "cli"] {
            assert!(!latin(actor_label(s)), "system actor {s}");
        }
        assert_eq!(actor_label("staff"), "staff");
    }

    /// Every action a use case records (the literal after `audit(&mut tx, actor,` or in
    /// `action:`) is on the filter's list, so the log names it in Chinese and offers it.
    #[test]
    fn every_recorded_action_is_listed() {
        fn rs_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    rs_files(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let app = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/src");
        let mut files = Vec::new();
        rs_files(&app, &mut files);
        let mut found = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let squeezed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            for anchor in [
                "audit( &mut tx, actor, \"",
                "audit(&mut tx, actor, \"",
                "action: \"",
            ] {
                for (i, _) in squeezed.match_indices(anchor) {
                    let rest = &squeezed[i + anchor.len()..];
                    let lit = &rest[..rest.find('"').unwrap()];
                    if lit.contains('.')
                        && lit
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
                    {
                        found.push(lit.to_string());
                    }
                }
            }
        }
        assert!(found.len() > 40, "{found:?}");
        for a in &found {
            assert!(
                AUDIT_ACTIONS.contains(&a.as_str()),
                "{a} is recorded but not listed"
            );
        }
    }
}
