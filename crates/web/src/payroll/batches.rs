//! The month's batch list (with generation) and one batch: its review, sign-off, close,
//! bank file and return file.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use minzheng_app::users::SessionInfo;
use minzheng_app::{Authorize, Error, Permission};
use minzheng_domain::payroll::{
    BankTemplate, BatchDiff, BatchFilter, BatchStatus, GenerateForm, LineFilter, PayrollBatch,
    PayrollLine,
};
use minzheng_domain::{Actor, Fen, YearMonth};
use serde::Deserialize;

use super::{
    bank_file, form_map, int, programs, read_file, see_other, this_month, user_error, with_query,
    with_status, PageResult,
};
use crate::error::parse_id;
use crate::pages::{render, Nav, PageForm};
use crate::session::PageUser;
use crate::AppState;

#[derive(Template)]
#[template(path = "payroll_list.html")]
struct ListPage {
    nav: Nav,
    month: String,
    program: String,
    status: String,
    batches: Vec<PayrollBatch>,
    total_lines: i64,
    total_planned: String,
    programs: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    can_generate: bool,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    month: Option<String>,
    program: Option<String>,
    status: Option<String>,
    /// Success code after a generation: `batches` (with the counts below) or `removed`.
    generated: Option<String>,
    created: Option<String>,
    lines: Option<String>,
    planned: Option<String>,
    existing: Option<String>,
}

impl ListQuery {
    /// The success message of `generated`; an unknown code or a missing count shows none.
    fn notice(&self) -> Option<String> {
        match self.generated.as_deref()? {
            "batches" => Some(format!(
                "已生成{}个批次、{}笔，合计{}；已存在{}个批次未改动",
                int(&self.created)?,
                int(&self.lines)?,
                Fen(int(&self.planned)?),
                int(&self.existing)?
            )),
            "removed" => Some("本月已无应发对象，草稿批次已删除".into()),
            "signed" => Some(format!("已审核签发{}个批次", int(&self.created)?)),
            _ => None,
        }
    }
}

/// A village assistant's payroll page: the township's batches of the month as they touch
/// the village, read-only.
#[derive(Template)]
#[template(path = "payroll_village.html")]
struct VillagePage {
    nav: Nav,
    month: String,
    village: String,
    v: minzheng_app::payroll::VillagePayroll,
}

async fn village_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    month: YearMonth,
) -> PageResult {
    let v = st.app.payroll().village(actor, month).await?;
    let village = st.app.divisions().get(actor, &v.village_code).await?;
    let township = st
        .app
        .divisions()
        .path(actor, &v.village_code)
        .await?
        .into_iter()
        .rev()
        .nth(1)
        .map(|d| d.name);
    render(&VillagePage {
        nav: Nav::new(s, "payroll"),
        month: month.to_string(),
        village: crate::places::place_label(&village.name, township.as_deref()),
        v,
    })
}

async fn list_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    qs: ListQuery,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let notice = qs.notice();
    let month = qs
        .month
        .filter(|m| YearMonth::parse(m).is_ok())
        .unwrap_or_else(|| this_month().to_string());
    if actor.may(Permission::ReadVillagePayroll) {
        let m = YearMonth::parse(&month).unwrap_or_else(|_| this_month());
        return village_render(st, s, actor, m).await;
    }
    let program = qs.program.unwrap_or_default();
    let status = qs.status.unwrap_or_default();
    let batches = st
        .app
        .payroll()
        .list(
            actor,
            &BatchFilter {
                month: Some(month.clone()),
                program: Some(program.clone()),
                status: Some(status.clone()),
                within: None,
            },
        )
        .await?;
    let (code, error) = match error {
        Some((c, m)) => (c, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = ListPage {
        nav: Nav::new(s, "payroll"),
        total_lines: batches.iter().map(|b| b.line_count).sum(),
        total_planned: Fen(batches.iter().map(|b| b.planned.0).sum()).to_string(),
        batches,
        month,
        program,
        status,
        programs: programs(),
        statuses: BatchStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        can_generate: actor.may(Permission::GeneratePayroll),
        notice,
        error,
    };
    Ok(with_status(render(&page)?, code))
}

pub(super) async fn list_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<ListQuery>,
) -> PageResult {
    list_render(&st, &s, &actor, qs, None).await
}

pub(super) async fn list_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let f = form_map(form);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let month_s = get("month");
    let result = st
        .app
        .payroll()
        .generate_form(
            &actor,
            &GenerateForm {
                month: month_s.clone(),
                program: Some(get("program")),
                within: None,
            },
        )
        .await;
    match result {
        Ok(out) => Ok(see_other(&with_query(
            "/payroll",
            &[
                ("month", out.month.to_string()),
                ("generated", "batches".into()),
                ("created", out.created.len().to_string()),
                ("lines", out.lines.to_string()),
                ("planned", out.planned.0.to_string()),
                ("existing", out.existing.len().to_string()),
            ],
        ))),
        Err(e) => {
            let err = user_error(e)?;
            list_render(
                &st,
                &s,
                &actor,
                ListQuery {
                    month: Some(month_s),
                    ..Default::default()
                },
                Some(err),
            )
            .await
        }
    }
}

// ---------------------------------------------------------------- one batch

#[derive(Template)]
#[template(path = "payroll_batch.html")]
struct BatchPage {
    nav: Nav,
    b: PayrollBatch,
    diff: BatchDiff,
    lines: Vec<PayrollLine>,
    lines_total: i64,
    /// A draft's lines without a bank account (the first 50) and how many there are.
    missing: Vec<PayrollLine>,
    missing_total: i64,
    line_status: String,
    templates: Vec<BankTemplate>,
    /// The bank files produced for this batch, newest first.
    downloads: Vec<DownloadView>,
    returns: Vec<ReturnView>,
    can_regenerate: bool,
    can_sign: bool,
    can_export: bool,
    can_import: bool,
    can_close: bool,
    upload_csrf: String,
    notice: Option<String>,
    error: Option<String>,
    names: crate::pages::Names,
}

/// One bank file produced for the batch, in words: Beijing time, the person's name and
/// the template's name.
pub(super) struct DownloadView {
    at: String,
    by: String,
    template: String,
    file_name: String,
    lines: i64,
    total: Fen,
}

/// One return file imported for the batch, in words: Beijing time, the person's name, the
/// file's name, the head of its SHA-256 (the whole on hover) and what it answered.
pub(super) struct ReturnView {
    at: String,
    by: String,
    file_name: String,
    sha256: String,
    lines: i64,
    paid_count: i64,
    paid: Fen,
    failed_count: i64,
    failed: Fen,
}

impl ReturnView {
    /// The first 12 hexadecimal digits of the SHA-256, enough to tell files apart by eye.
    fn sha_head(&self) -> &str {
        self.sha256.get(..12).unwrap_or(&self.sha256)
    }
}

impl BatchPage {
    fn money(&self, f: &Option<Fen>) -> String {
        f.map(|f| f.to_string()).unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
pub struct BatchQuery {
    status: Option<String>,
    /// Success code: `regenerated`, `signed_off`, `closed` or `returned`, with the
    /// numbers below where the message reports them.
    saved: Option<String>,
    lines: Option<String>,
    planned: Option<String>,
    paid_count: Option<String>,
    paid: Option<String>,
    failed_count: Option<String>,
    failed: Option<String>,
    complete: Option<String>,
}

impl BatchQuery {
    /// The success message of `saved`; an unknown code or a missing number shows none.
    fn notice(&self) -> Option<String> {
        Some(match self.saved.as_deref()? {
            "regenerated" => format!(
                "已重新生成：{}笔，合计{}",
                int(&self.lines)?,
                Fen(int(&self.planned)?)
            ),
            "signed_off" => "已审核签发".into(),
            "closed" => "批次已结束".into(),
            "returned" => format!(
                "回盘已导入：成功{}笔{}，失败{}笔{}{}",
                int(&self.paid_count)?,
                Fen(int(&self.paid)?),
                int(&self.failed_count)?,
                Fen(int(&self.failed)?),
                if int(&self.complete)? == 1 {
                    "；批次已全部对账"
                } else {
                    "；其余明细待回盘"
                }
            ),
            _ => return None,
        })
    }
}

async fn batch_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    id: i64,
    qs: BatchQuery,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let payroll = st.app.payroll();
    let b = payroll.get(actor, id).await?;
    let diff = payroll.diff(actor, id).await?;
    let notice = qs.notice();
    let line_status = qs.status.unwrap_or_default();
    let (lines, lines_total) = payroll
        .lines(
            actor,
            id,
            &LineFilter {
                status: Some(line_status.clone()),
                limit: Some(500),
                ..Default::default()
            },
        )
        .await?;
    // Lines the bank could not pay: the sign-off refuses them, so the draft says so first.
    let (missing, missing_total) = if b.status == BatchStatus::Draft {
        payroll
            .lines(
                actor,
                id,
                &LineFilter {
                    missing_account: true,
                    limit: Some(50),
                    ..Default::default()
                },
            )
            .await?
    } else {
        (Vec::new(), 0)
    };
    let templates = st.app.bank_files().active_templates(actor).await?;
    let names = crate::pages::Names::load(st).await?;
    let all_templates = st.app.bank_files().templates(actor).await?;
    let downloads = st
        .app
        .bank_files()
        .downloads(actor, id)
        .await?
        .into_iter()
        .map(|d| DownloadView {
            at: crate::pages::beijing_time(&d.at),
            by: names.of(&d.actor),
            template: all_templates
                .iter()
                .find(|t| t.code == d.template)
                .map(|t| t.name.clone())
                .unwrap_or(d.template),
            file_name: d.file_name,
            lines: d.lines,
            total: d.total,
        })
        .collect();
    let returns = st
        .app
        .bank_files()
        .return_files(actor, id)
        .await?
        .into_iter()
        .map(|r| ReturnView {
            at: crate::pages::beijing_time(&r.imported_at),
            by: names.of(&r.imported_by),
            file_name: r.file_name,
            sha256: r.sha256,
            lines: r.lines,
            paid_count: r.paid_count,
            paid: r.paid,
            failed_count: r.failed_count,
            failed: r.failed,
        })
        .collect();
    let (code, error) = match error {
        Some((c, m)) => (c, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = BatchPage {
        nav: Nav::new(s, "payroll"),
        b,
        diff,
        lines,
        missing,
        missing_total,
        lines_total,
        line_status,
        templates,
        downloads,
        returns,
        can_regenerate: actor.may(Permission::GeneratePayroll),
        can_sign: actor.may(Permission::SignOffPayroll),
        can_export: actor.may(Permission::ExportBankFile),
        can_import: actor.may(Permission::ImportReturnFile),
        can_close: actor.may(Permission::ClosePayroll),
        upload_csrf: s.csrf_token.clone(),
        notice,
        error,
        names,
    };
    Ok(with_status(render(&page)?, code))
}

pub(super) async fn batch_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    Query(qs): Query<BatchQuery>,
) -> PageResult {
    let id = parse_id(&id, "该发放批次")?;
    batch_render(&st, &s, &actor, id, qs, None).await
}

/// The batch page after a success: its code and the numbers the message reports.
fn saved_url(id: i64, code: &str, numbers: &[(&str, i64)]) -> String {
    let mut query = vec![("saved", code.to_string())];
    query.extend(numbers.iter().map(|(k, v)| (*k, v.to_string())));
    with_query(&format!("/payroll/batches/{id}"), &query)
}

pub(super) async fn batch_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "该发放批次")?;
    let f = form_map(form);
    let action = f.get("action").cloned().unwrap_or_default();
    let payroll = st.app.payroll();
    let result = match action.as_str() {
        "regenerate" => {
            // The month, for the list to show if the regenerated draft is removed.
            let month = payroll.get(&actor, id).await?.month;
            match payroll.regenerate(&actor, id).await {
                Ok(Some(b)) => Ok(saved_url(
                    id,
                    "regenerated",
                    &[("lines", b.line_count), ("planned", b.planned.0)],
                )),
                Ok(None) => Ok(with_query(
                    "/payroll",
                    &[
                        ("month", month.to_string()),
                        ("generated", "removed".into()),
                    ],
                )),
                Err(e) => Err(e),
            }
        }
        // The page carries the generation the director reviewed: a batch regenerated since
        // is refused rather than signed unseen.
        "sign_off" => payroll
            .sign_off(
                &actor,
                id,
                f.get("reviewed")
                    .map(String::as_str)
                    .filter(|r| !r.is_empty()),
            )
            .await
            .map(|_| saved_url(id, "signed_off", &[])),
        "close" => payroll
            .close(&actor, id)
            .await
            .map(|_| saved_url(id, "closed", &[])),
        _ => Err(Error::validation("未知的操作")),
    };
    match result {
        Ok(to) => Ok(see_other(&to)),
        Err(e) => {
            let err = user_error(e)?;
            batch_render(&st, &s, &actor, id, BatchQuery::default(), Some(err)).await
        }
    }
}

pub(super) async fn bank_file_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "该发放批次")?;
    let f = form_map(form);
    let template = f.get("template").cloned().unwrap_or_default();
    match st.app.bank_files().export(&actor, id, &template).await {
        Ok(file) => Ok(bank_file(file)),
        Err(e) => {
            let err = user_error(e)?;
            batch_render(&st, &s, &actor, id, BatchQuery::default(), Some(err)).await
        }
    }
}

pub(super) async fn return_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    crate::api::Upload(mp): crate::api::Upload,
) -> PageResult {
    let id = parse_id(&id, "该发放批次")?;
    let result = match read_file(mp).await {
        Ok((name, data)) => {
            st.app
                .bank_files()
                .import_return(&actor, id, &name, &data)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => Ok(see_other(&saved_url(
            id,
            "returned",
            &[
                ("paid_count", r.paid_count as i64),
                ("paid", r.paid.0),
                ("failed_count", r.failed_count as i64),
                ("failed", r.failed.0),
                ("complete", i64::from(r.complete)),
            ],
        ))),
        // Shown here rather than redirected to the batch page: the refusal names
        // the rows at fault, which a redirect code could not carry.
        Err(e) => {
            let err = user_error(e)?;
            batch_render(&st, &s, &actor, id, BatchQuery::default(), Some(err)).await
        }
    }
}
