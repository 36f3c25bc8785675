//! The bank templates page (代发模板): every role reads them; the city administrator adds
//! and edits them.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use minzheng_app::formats::bank::{file_name, header};
use minzheng_app::users::SessionInfo;
use minzheng_app::{Authorize, Error, Permission};
use minzheng_domain::payroll::{
    BankColumn, BankFormat, BankTemplate, BankTemplateInput, BatchStatus, PayrollBatch,
};
use minzheng_domain::{Actor, Fen, Program, YearMonth};
use serde::Deserialize;

use super::{see_other, user_error, with_query, with_status, PageResult};
use crate::error::{AppError, PageError};
use crate::pages::{render, Nav, PageForm};
use crate::session::PageUser;
use crate::AppState;

/// The columns a new template starts with (the usual order of a bank's 代发 file).
const DEFAULT_COLUMNS: &[&str] = &[
    "batch_no",
    "line_no",
    "item",
    "period",
    "division",
    "name",
    "id_number",
    "account",
    "amount",
    "remark",
];

/// One template as the page shows it.
struct TemplateRow {
    t: BankTemplate,
    /// (key, title) in file order.
    columns: Vec<(String, String)>,
    header_line: String,
    example_file: String,
}

impl TemplateRow {
    fn new(t: BankTemplate, example: &PayrollBatch) -> Self {
        let header = header(&t);
        let header_line = header.join(if t.format == BankFormat::Xlsx {
            " | "
        } else {
            ","
        });
        TemplateRow {
            columns: t
                .columns
                .iter()
                .map(|c| c.as_str().to_string())
                .zip(header)
                .collect(),
            header_line,
            example_file: file_name(&t, example),
            t,
        }
    }

    fn format_label(&self) -> &'static str {
        self.t.format.label()
    }

    fn encoding_label(&self) -> &'static str {
        match self.t.format {
            BankFormat::Xlsx => "—",
            BankFormat::Csv => self.t.encoding.label(),
        }
    }

    fn unit_label(&self) -> &'static str {
        self.t.amount_unit.label()
    }
}

/// One column position of the form: the chosen key ("" = unused).
struct Slot {
    key: String,
    /// A key the form posted that no bank file knows (shown so the clerk can fix it).
    unknown: bool,
}

/// The template form as shown or as posted.
struct TemplateForm {
    /// The code of the template being edited; empty for a new one.
    editing: String,
    code: String,
    name: String,
    format: String,
    encoding: String,
    columns: Vec<String>,
    totals_line: bool,
    amount_unit: String,
    file_name: String,
    active: bool,
}

impl TemplateForm {
    fn blank() -> Self {
        TemplateForm {
            editing: String::new(),
            code: String::new(),
            name: String::new(),
            format: "csv".into(),
            encoding: "gbk".into(),
            columns: DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect(),
            totals_line: true,
            amount_unit: "yuan".into(),
            file_name: "{bank}_{batch_no}.{ext}".into(),
            active: true,
        }
    }

    fn of(t: &BankTemplate) -> Self {
        TemplateForm {
            editing: t.code.clone(),
            code: t.code.clone(),
            name: t.name.clone(),
            format: t.format.as_str().to_string(),
            encoding: t.encoding.as_str().to_string(),
            columns: t.columns.iter().map(|c| c.as_str().to_string()).collect(),
            totals_line: t.totals_line,
            amount_unit: t.amount_unit.as_str().to_string(),
            file_name: t.file_name.clone(),
            active: t.active,
        }
    }

    /// Reads the posted form: one `col` field per position, in order; checkboxes are
    /// present when ticked.
    fn posted(fields: Vec<(String, String)>) -> Self {
        let mut f = TemplateForm {
            columns: Vec::new(),
            totals_line: false,
            active: false,
            format: String::new(),
            encoding: String::new(),
            amount_unit: String::new(),
            file_name: String::new(),
            ..TemplateForm::blank()
        };
        for (k, v) in fields {
            match k.as_str() {
                "editing" => f.editing = v.trim().to_string(),
                "code" => f.code = v,
                "name" => f.name = v,
                "format" => f.format = v,
                "encoding" => f.encoding = v,
                "col" => f.columns.push(v.trim().to_string()),
                "totals_line" => f.totals_line = true,
                "amount_unit" => f.amount_unit = v,
                "file_name" => f.file_name = v,
                "active" => f.active = true,
                _ => {}
            }
        }
        f
    }

    fn input(&self) -> BankTemplateInput {
        BankTemplateInput {
            code: self.code.clone(),
            name: self.name.clone(),
            format: self.format.clone(),
            encoding: self.encoding.clone(),
            columns: self
                .columns
                .iter()
                .filter(|c| !c.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
            totals_line: self.totals_line,
            amount_unit: self.amount_unit.clone(),
            file_name: self.file_name.clone(),
            active: self.active,
        }
    }

    /// The column positions: the chosen keys in order (unused positions dropped), then
    /// empty positions up to one per known column.
    fn slots(&self) -> Vec<Slot> {
        let known = |k: &str| BankColumn::parse(k).is_some();
        let mut slots: Vec<Slot> = self
            .columns
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| Slot {
                key: c.clone(),
                unknown: !known(c),
            })
            .collect();
        while slots.len() < BankColumn::ALL.len() {
            slots.push(Slot {
                key: String::new(),
                unknown: false,
            });
        }
        slots
    }
}

#[derive(Template)]
#[template(path = "payroll_templates.html")]
struct TemplatesPage {
    nav: Nav,
    rows: Vec<TemplateRow>,
    example_label: String,
    can_edit: bool,
    form: TemplateForm,
    slots: Vec<Slot>,
    choices: Vec<(&'static str, &'static str)>,
    notice: Option<String>,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
}

impl TemplatesPage {
    fn field_error(&self, field: &str) -> Option<&String> {
        self.field_errors.get(field)
    }
}

#[derive(Deserialize, Default)]
pub struct TemplatesQuery {
    code: Option<String>,
    /// The code of the template just saved; the message names it as stored.
    saved: Option<String>,
}

/// The batch the examples are rendered for: this month's 城市低保 batch of the viewer's
/// township (or of a placeholder township for wider scopes).
fn example_batch(s: &SessionInfo) -> PayrollBatch {
    let month = YearMonth::of(crate::standards::today());
    let (code, name) = if s.user.scope_code.len() == 9 {
        (s.user.scope_code.clone(), s.user.scope_name.clone())
    } else {
        ("XXXXXXXXX".to_string(), "某乡镇".to_string())
    };
    let program = Program::UrbanDibao;
    PayrollBatch {
        id: 0,
        batch_no: format!("{}-{code}-{}", month.compact(), program.as_str()),
        program,
        township_code: code,
        township_name: name,
        month,
        status: BatchStatus::SignedOff,
        line_count: 0,
        planned: Fen(0),
        back_pay: Fen(0),
        reissue_count: 0,
        reissue: Fen(0),
        returned_count: 0,
        paid_count: 0,
        paid: Fen(0),
        failed_count: 0,
        failed: Fen(0),
        generated_by: String::new(),
        generated_at: String::new(),
        signed_off_by: None,
        signed_off_at: None,
        exported_at: None,
        export_count: 0,
        reconciled_at: None,
        closed_at: None,
    }
}

async fn templates_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    form: TemplateForm,
    notice: Option<String>,
    error: Option<(StatusCode, String, BTreeMap<String, String>)>,
) -> PageResult {
    let example = example_batch(s);
    let rows = st
        .app
        .bank_files()
        .templates(actor)
        .await?
        .into_iter()
        .map(|t| TemplateRow::new(t, &example))
        .collect();
    let (code, error, field_errors) = match error {
        Some((c, m, f)) => (c, Some(m), f),
        None => (StatusCode::OK, None, BTreeMap::new()),
    };
    let page = TemplatesPage {
        nav: Nav::new(s, "payroll"),
        rows,
        example_label: format!(
            "{}{}{}（批次号{}）",
            example.township_name,
            example.month,
            example.program.label(),
            example.batch_no
        ),
        can_edit: actor.may(Permission::ManageBankTemplates),
        slots: form.slots(),
        form,
        choices: BankColumn::choices(),
        notice,
        error,
        field_errors,
    };
    Ok(with_status(render(&page)?, code))
}

pub(super) async fn templates_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<TemplatesQuery>,
) -> PageResult {
    let form = match qs.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) if actor.may(Permission::ManageBankTemplates) => {
            let templates = st.app.bank_files().templates(&actor).await?;
            let t = templates
                .iter()
                .find(|t| t.code == code)
                .ok_or_else(|| PageError(AppError::not_found("未找到该银行代发模板")))?;
            TemplateForm::of(t)
        }
        _ => TemplateForm::blank(),
    };
    let notice = match qs.saved.as_deref() {
        Some(code) => st
            .app
            .bank_files()
            .templates(&actor)
            .await?
            .into_iter()
            .find(|t| t.code == code)
            .map(|t| format!("已保存银行代发模板“{}”（{}）", t.name, t.code)),
        None => None,
    };
    templates_render(&st, &s, &actor, form, notice, None).await
}

pub(super) async fn templates_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let form = TemplateForm::posted(fields);
    let input = form.input();
    // Saved by code (create or update): the form that adds a template may not silently
    // replace an existing one.
    let result = st
        .app
        .bank_files()
        .save_template_form(&actor, &input, &form.editing)
        .await;
    match result {
        Ok(t) => Ok(see_other(&with_query(
            "/payroll/bank-templates",
            &[("saved", t.code)],
        ))),
        Err(Error::Validation { message, fields }) => {
            crate::forms::note(&fields);
            templates_render(
                &st,
                &s,
                &actor,
                form,
                None,
                Some((StatusCode::UNPROCESSABLE_ENTITY, message, fields)),
            )
            .await
        }
        Err(e) => {
            let (status, message) = user_error(e)?;
            templates_render(
                &st,
                &s,
                &actor,
                TemplateForm::blank(),
                None,
                Some((status, message, BTreeMap::new())),
            )
            .await
        }
    }
}
