//! The month's review (本月审核签发): every draft batch of the month inside the director's
//! jurisdiction on one page, each with its month-over-month changes, signed off together
//! with one confirmation. The form carries each batch's generation as the page showed it,
//! so a batch regenerated meanwhile is refused and nothing is signed.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use minzheng_app::users::SessionInfo;
use minzheng_app::{Authorize, Permission};
use minzheng_domain::payroll::{BatchDiff, BatchFilter, PayrollBatch};
use minzheng_domain::{Actor, Fen, YearMonth};
use serde::Deserialize;

use super::{see_other, this_month, user_error, with_query, with_status, PageResult};
use crate::pages::{render, Nav, PageForm};
use crate::session::PageUser;
use crate::AppState;

#[derive(Template)]
#[template(path = "payroll_review.html")]
struct ReviewPage {
    nav: Nav,
    month: String,
    /// Each draft with its changes, and whether it was ticked (all are, at first).
    drafts: Vec<(PayrollBatch, BatchDiff, bool)>,
    total_lines: i64,
    total_planned: String,
    can_sign: bool,
    error: Option<String>,
}

impl ReviewPage {
    fn money(&self, f: &Option<Fen>) -> String {
        f.map(|f| f.to_string()).unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
pub struct ReviewQuery {
    month: Option<String>,
}

async fn review_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    month: Option<String>,
    ticked: Option<&[i64]>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let month = month
        .filter(|m| YearMonth::parse(m).is_ok())
        .unwrap_or_else(|| this_month().to_string());
    let payroll = st.app.payroll();
    let batches = payroll
        .list(
            actor,
            &BatchFilter {
                month: Some(month.clone()),
                program: None,
                status: Some("draft".into()),
                within: None,
            },
        )
        .await?;
    let mut drafts = Vec::with_capacity(batches.len());
    for b in batches {
        let diff = payroll.diff(actor, b.id).await?;
        let on = ticked.is_none_or(|t| t.contains(&b.id));
        drafts.push((b, diff, on));
    }
    let (code, error) = match error {
        Some((c, m)) => (c, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = ReviewPage {
        nav: Nav::new(s, "payroll"),
        total_lines: drafts.iter().map(|(b, _, _)| b.line_count).sum(),
        total_planned: Fen(drafts.iter().map(|(b, _, _)| b.planned.0).sum()).to_string(),
        drafts,
        month,
        can_sign: actor.may(Permission::SignOffPayroll),
        error,
    };
    Ok(with_status(render(&page)?, code))
}

pub(super) async fn review_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<ReviewQuery>,
) -> PageResult {
    review_render(&st, &s, &actor, qs.month, None, None).await
}

/// Signs off the ticked batches (`batch` = `id:generated_at`, one per batch) at once.
pub(super) async fn review_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let month = form
        .iter()
        .find(|(k, _)| k == "month")
        .map(|(_, v)| v.clone());
    let reviewed: Vec<(i64, String)> = form
        .iter()
        .filter(|(k, _)| k == "batch")
        .filter_map(|(_, v)| {
            let (id, at) = v.split_once(':')?;
            Some((id.trim().parse().ok()?, at.to_string()))
        })
        .collect();
    match st.app.payroll().sign_off_all(&actor, &reviewed).await {
        Ok(signed) => Ok(see_other(&with_query(
            "/payroll",
            &[
                ("month", month.unwrap_or_default()),
                ("status", "signed_off".into()),
                ("generated", "signed".into()),
                ("created", signed.len().to_string()),
            ],
        ))),
        Err(e) => {
            let err = user_error(e)?;
            let ticked: Vec<i64> = reviewed.iter().map(|(id, _)| *id).collect();
            review_render(&st, &s, &actor, month, Some(&ticked), Some(err)).await
        }
    }
}
