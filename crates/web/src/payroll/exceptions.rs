//! Payment exceptions (退票) and back pay (补发): the clerk corrects a failed payment's
//! account; the clerk asks for back pay and the director decides.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use minzheng_app::users::SessionInfo;
use minzheng_app::{Authorize, Error, Permission};
use minzheng_domain::payroll::{
    BackPay, ExceptionCorrection, NewBackPay, PaymentException, PayrollBatch,
};
use minzheng_domain::Actor;
use serde::Deserialize;

use super::{form_map, int, see_other, user_error_fields, with_status, FieldRefusal, PageResult};
use crate::error::parse_id;
use crate::pages::{render, Nav, PageForm};
use crate::session::PageUser;
use crate::AppState;

#[derive(Template)]
#[template(path = "payroll_exceptions.html")]
struct ExceptionsPage {
    nav: Nav,
    items: Vec<PaymentException>,
    status: String,
    /// The batch the list is narrowed to (from the batch page's link).
    batch: Option<PayrollBatch>,
    can_correct: bool,
    notice: Option<String>,
    error: Option<String>,
    /// A refused correction: the exception it was for and what the clerk typed.
    typed: Option<(i64, ExceptionCorrection)>,
    field_errors: BTreeMap<String, String>,
}

impl ExceptionsPage {
    /// The value a correction field shows: what was typed into a refused correction of
    /// this exception, else the correction already on record.
    fn value(&self, x: &PaymentException, field: &str) -> String {
        match &self.typed {
            Some((id, c)) if *id == x.id => match field {
                "bank_name" => c.bank_name.clone(),
                "account_number" => c.account_number.clone(),
                "account_holder" => c.account_holder.clone(),
                _ => c.note.clone(),
            },
            _ => match field {
                "bank_name" => x.bank_name.clone().unwrap_or_default(),
                "account_number" => x.account_number.clone().unwrap_or_default(),
                _ => String::new(),
            },
        }
    }

    /// The message for one field of a refused correction of this exception.
    fn field_error(&self, x: &PaymentException, field: &str) -> Option<&String> {
        match &self.typed {
            Some((id, _)) if *id == x.id => self.field_errors.get(field),
            _ => None,
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ExceptionsQuery {
    status: Option<String>,
    /// Only the exceptions of this batch.
    batch: Option<String>,
    /// Success code: `corrected`.
    saved: Option<String>,
}

/// A refused correction to show again.
struct RefusedCorrection {
    id: i64,
    typed: ExceptionCorrection,
    refusal: FieldRefusal,
}

async fn exceptions_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    qs: ExceptionsQuery,
    refused: Option<RefusedCorrection>,
) -> PageResult {
    let status = qs.status.unwrap_or_default();
    let payroll = st.app.payroll();
    let batch = match int(&qs.batch) {
        Some(id) => Some(payroll.get(actor, id).await?),
        None => None,
    };
    let mut items = payroll.exceptions(actor, Some(status.as_str())).await?;
    if let Some(b) = &batch {
        items.retain(|x| x.batch_id == b.id);
    }
    let (code, error, typed, field_errors) = match refused {
        Some(RefusedCorrection {
            id,
            typed,
            refusal: (c, m, f),
        }) => (c, Some(m), Some((id, typed)), f),
        None => (StatusCode::OK, None, None, BTreeMap::new()),
    };
    let notice = match qs.saved.as_deref() {
        Some("corrected") => Some("已更正，将在下一个生成的批次中重发".to_string()),
        _ => None,
    };
    let page = ExceptionsPage {
        nav: Nav::new(s, "payroll"),
        items,
        status,
        batch,
        can_correct: actor.may(Permission::CorrectPaymentException),
        notice,
        error,
        typed,
        field_errors,
    };
    Ok(with_status(render(&page)?, code))
}

pub(super) async fn exceptions_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<ExceptionsQuery>,
) -> PageResult {
    exceptions_render(&st, &s, &actor, qs, None).await
}

pub(super) async fn exception_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "该退票记录")?;
    let f = form_map(form);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let c = ExceptionCorrection {
        bank_name: get("bank_name"),
        account_number: get("account_number"),
        account_holder: get("account_holder"),
        note: get("note"),
    };
    match st.app.payroll().correct_exception(&actor, id, &c).await {
        Ok(_) => Ok(see_other("/payroll/exceptions?saved=corrected")),
        Err(e) => {
            let refused = RefusedCorrection {
                id,
                typed: c,
                refusal: user_error_fields(e)?,
            };
            exceptions_render(&st, &s, &actor, ExceptionsQuery::default(), Some(refused)).await
        }
    }
}

// ---------------------------------------------------------------- back pay

#[derive(Template)]
#[template(path = "payroll_back_pay.html")]
struct BackPayPage {
    nav: Nav,
    items: Vec<BackPay>,
    can_request: bool,
    can_decide: bool,
    /// The request form: empty, or what was typed into a refused request.
    form: BackPayForm,
    notice: Option<String>,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
    names: crate::pages::Names,
}

impl BackPayPage {
    fn field_error(&self, field: &str) -> Option<&String> {
        self.field_errors.get(field)
    }
}

/// The back-pay request form as typed.
#[derive(Default)]
struct BackPayForm {
    enrolment_id: String,
    period: String,
    amount: String,
    reason: String,
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    /// Success code: `requested`, `approved` or `rejected`.
    saved: Option<String>,
}

async fn back_pay_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    form: BackPayForm,
    notice: Option<String>,
    error: Option<FieldRefusal>,
) -> PageResult {
    let items = st.app.payroll().back_pay_list(actor).await?;
    let (code, error, field_errors) = match error {
        Some((c, m, f)) => (c, Some(m), f),
        None => (StatusCode::OK, None, BTreeMap::new()),
    };
    let names = crate::pages::Names::load(st).await?;
    let page = BackPayPage {
        names,
        nav: Nav::new(s, "payroll"),
        items,
        can_request: actor.may(Permission::RequestBackPay),
        can_decide: actor.may(Permission::DecideBackPay),
        form,
        notice,
        error,
        field_errors,
    };
    Ok(with_status(render(&page)?, code))
}

pub(super) async fn back_pay_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<SavedQuery>,
) -> PageResult {
    let notice = match qs.saved.as_deref() {
        Some("requested") => Some("已提交补发申请，待民政办主任审批"),
        Some("approved") => Some("已批准补发，将列入该项目下一个生成的发放批次"),
        Some("rejected") => Some("已不批准该补发申请"),
        _ => None,
    };
    back_pay_render(
        &st,
        &s,
        &actor,
        BackPayForm::default(),
        notice.map(str::to_string),
        None,
    )
    .await
}

pub(super) async fn back_pay_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let f = form_map(form);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let payroll = st.app.payroll();
    let mut typed = BackPayForm::default();
    let result = match get("action").as_str() {
        "request" => {
            typed = BackPayForm {
                enrolment_id: get("enrolment_id"),
                period: get("period"),
                amount: get("amount"),
                reason: get("reason"),
            };
            match typed.enrolment_id.trim().parse::<i64>() {
                Ok(enrolment_id) => payroll
                    .request_back_pay(
                        &actor,
                        &NewBackPay {
                            enrolment_id,
                            period: typed.period.clone(),
                            amount: typed.amount.clone(),
                            reason: typed.reason.clone(),
                            case_id: get("case_id").trim().parse::<i64>().ok(),
                        },
                    )
                    .await
                    .map(|_| "requested")
                    .map_err(|e| match e {
                        // A mistyped number is a slip of the form, not a missing page.
                        Error::NotFound(_) => Error::field(
                            "enrolment_id",
                            "未找到该保障对象，请核对编号（只能为本辖区的保障对象申请）",
                        ),
                        e => e,
                    }),
                Err(_) => Err(Error::field("enrolment_id", "请填写保障对象编号")),
            }
        }
        // The decision must be explicit: anything but 批准 or 不批准 changes nothing.
        "decide" => match (get("id").parse::<i64>(), get("decision").as_str()) {
            (Err(_), _) => Err(Error::validation("缺少补发编号")),
            (Ok(id), "approve") => payroll
                .decide_back_pay(&actor, id, true)
                .await
                .map(|_| "approved"),
            (Ok(id), "reject") => payroll
                .decide_back_pay(&actor, id, false)
                .await
                .map(|_| "rejected"),
            (Ok(_), _) => Err(Error::field("decision", "请选择审批结论：批准或不批准")),
        },
        _ => Err(Error::validation("未知的操作")),
    };
    match result {
        Ok(code) => Ok(see_other(&format!("/payroll/back-pay?saved={code}"))),
        Err(e) => {
            let err = user_error_fields(e)?;
            back_pay_render(&st, &s, &actor, typed, None, Some(err)).await
        }
    }
}
