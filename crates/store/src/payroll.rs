//! Monthly payroll (资金发放): generation of the month's batches from the enrolments, the
//! month-over-month review, sign-off, back pay (补发), payment exceptions (退票) and the
//! funds ledger. Bank files and return files are in `payroll_files.rs`.
//!
//! Generation is set-based: a few `INSERT … SELECT` statements in one write transaction,
//! never a loop over enrolments in Rust. It is idempotent twice over: a batch is unique per
//! (program, township, month), so generating again finds the existing batch and adds
//! nothing; and a line is unique per (beneficiary, program, period) among non-reissue lines,
//! so no month is ever planned twice for anyone, whatever batch it would land in. A crash
//! (even SIGKILL) leaves nothing partial: the transaction never committed.

use std::collections::{BTreeMap, HashMap};

use minzheng_domain::{DivisionCode, Fen, Program, Role, YearMonth};
use serde::Serialize;

use crate::audit::{append, AuditEvent};
use crate::db::{q, DbRow, Store, Tx};
use crate::error::{StoreError, StoreResult};
use crate::registry::mask_id;
use minzheng_domain::{Actor, Scope};

/// Batch states, in order.
pub const BATCH_STATUSES: &[(&str, &str)] = &[
    ("draft", "草稿（待审核）"),
    ("signed_off", "已审核签发"),
    ("exported", "已生成银行文件"),
    ("reconciled", "已对账"),
    ("closed", "已结束"),
];

pub fn batch_status_label(s: &str) -> &'static str {
    BATCH_STATUSES
        .iter()
        .find(|(k, _)| *k == s)
        .map(|(_, l)| *l)
        .unwrap_or("未知状态")
}

pub fn line_kind_label(k: &str) -> &'static str {
    match k {
        "regular" => "正常发放",
        "back_pay" => "补发",
        "reissue" => "退票重发",
        _ => "其他",
    }
}

pub fn line_status_label(s: &str) -> &'static str {
    match s {
        "planned" => "待发放",
        "paid" => "发放成功",
        "failed" => "发放失败",
        _ => "未知",
    }
}

pub fn exception_status_label(s: &str) -> &'static str {
    match s {
        "open" => "待处理",
        "ready" => "已更正，待重发",
        "reissued" => "已重发",
        "cancelled" => "已注销",
        _ => "未知",
    }
}

pub fn adjustment_status_label(s: &str) -> &'static str {
    match s {
        "pending" => "待审批",
        "approved" => "已批准，待发放",
        "included" => "已列入批次",
        "superseded" => "该月已随正常发放，无需补发",
        "rejected" => "未批准",
        _ => "未知",
    }
}

/// The Chinese name of a stored program code.
pub fn program_label(code: &str) -> String {
    code.parse::<Program>()
        .map(|p| p.label().to_string())
        .unwrap_or_else(|_| code.to_string())
}

/// A payroll batch (发放批次).
#[derive(Debug, Clone, Serialize)]
pub struct PayrollBatch {
    pub id: i64,
    pub batch_no: String,
    pub program: String,
    pub program_label: String,
    pub township_code: String,
    pub township_name: String,
    pub month: String,
    pub status: String,
    pub status_label: &'static str,
    pub line_count: i64,
    pub planned: Fen,
    pub back_pay: Fen,
    pub reissue_count: i64,
    pub reissue: Fen,
    pub returned_count: i64,
    pub paid_count: i64,
    pub paid: Fen,
    pub failed_count: i64,
    pub failed: Fen,
    pub generated_by: String,
    pub generated_at: String,
    pub signed_off_by: Option<String>,
    pub signed_off_at: Option<String>,
    pub exported_at: Option<String>,
    pub export_count: i64,
    pub reconciled_at: Option<String>,
    pub closed_at: Option<String>,
}

impl PayrollBatch {
    fn from_row(r: &DbRow) -> StoreResult<Self> {
        let program = r.str("program")?;
        let status = r.str("status")?;
        Ok(PayrollBatch {
            id: r.i64("id")?,
            batch_no: r.str("batch_no")?,
            program_label: program_label(&program),
            program,
            township_code: r.str("township_code")?,
            township_name: r.opt_str("township_name")?.unwrap_or_default(),
            month: r.str("month")?,
            status_label: batch_status_label(&status),
            status,
            line_count: r.i64("line_count")?,
            planned: Fen(r.i64("planned_fen")?),
            back_pay: Fen(r.i64("back_pay_fen")?),
            reissue_count: r.i64("reissue_count")?,
            reissue: Fen(r.i64("reissue_fen")?),
            returned_count: r.i64("returned_count")?,
            paid_count: r.i64("paid_count")?,
            paid: Fen(r.i64("paid_fen")?),
            failed_count: r.i64("failed_count")?,
            failed: Fen(r.i64("failed_fen")?),
            generated_by: r.str("generated_by")?,
            generated_at: r.str("generated_at")?,
            signed_off_by: r.opt_str("signed_off_by")?,
            signed_off_at: r.opt_str("signed_off_at")?,
            exported_at: r.opt_str("exported_at")?,
            export_count: r.i64("export_count")?,
            reconciled_at: r.opt_str("reconciled_at")?,
            closed_at: r.opt_str("closed_at")?,
        })
    }

    /// Some lines are back from the bank but not all (部分回盘).
    pub fn partially_reconciled(&self) -> bool {
        self.returned_count > 0 && self.returned_count < self.line_count
    }
}

const SELECT_BATCH: &str = "SELECT b.*, d.name AS township_name FROM payroll_batches b
    LEFT JOIN divisions d ON d.code = b.township_code";

/// One line of a batch (发放明细).
#[derive(Debug, Clone, Serialize)]
pub struct PayrollLine {
    pub id: i64,
    pub batch_id: i64,
    pub kind: String,
    pub kind_label: &'static str,
    pub program: String,
    pub period: String,
    pub enrolment_id: i64,
    pub township_code: String,
    pub village_code: String,
    pub beneficiary_name: String,
    pub beneficiary_id_number: String,
    pub bank_name: String,
    pub account_number: String,
    pub account_holder: String,
    pub amount: Fen,
    pub reissue_of: Option<i64>,
    pub adjustment_id: Option<i64>,
    pub status: String,
    pub status_label: &'static str,
    pub fail_reason: Option<String>,
    pub bank_txn_id: Option<String>,
}

impl PayrollLine {
    pub(crate) fn from_row(r: &DbRow) -> StoreResult<Self> {
        let kind = r.str("kind")?;
        let status = r.str("status")?;
        Ok(PayrollLine {
            id: r.i64("id")?,
            batch_id: r.i64("batch_id")?,
            kind_label: line_kind_label(&kind),
            kind,
            program: r.str("program")?,
            period: r.str("period")?,
            enrolment_id: r.i64("enrolment_id")?,
            township_code: r.str("township_code")?,
            village_code: r.str("village_code")?,
            beneficiary_name: r.str("beneficiary_name")?,
            beneficiary_id_number: r.str("beneficiary_id_number")?,
            bank_name: r.str("bank_name")?,
            account_number: r.str("account_number")?,
            account_holder: r.str("account_holder")?,
            amount: Fen(r.i64("amount_fen")?),
            reissue_of: r.opt_i64("reissue_of")?,
            adjustment_id: r.opt_i64("adjustment_id")?,
            status_label: line_status_label(&status),
            status,
            fail_reason: r.opt_str("fail_reason")?,
            bank_txn_id: r.opt_str("bank_txn_id")?,
        })
    }

    /// Hides the ID number and the account (roles that may not see them).
    pub fn masked(mut self) -> Self {
        self.beneficiary_id_number = mask_id(&self.beneficiary_id_number);
        self.account_number = minzheng_domain::registry::mask_account(&self.account_number);
        self
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    pub month: YearMonth,
    pub program: Option<Program>,
    /// Only townships under this division (inside the actor's scope).
    pub within: Option<String>,
}

/// What a generation found and made.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateOutcome {
    pub month: String,
    /// Batches this call created.
    pub created: Vec<PayrollBatch>,
    /// Batches that already existed (returned unchanged).
    pub existing: Vec<PayrollBatch>,
    /// Lines this call created.
    pub lines: i64,
    pub planned: Fen,
}

/// Filters for the batch list.
#[derive(Debug, Clone, Default)]
pub struct BatchFilter {
    pub month: Option<String>,
    pub program: Option<String>,
    pub status: Option<String>,
    pub within: Option<String>,
}

/// Filters for a batch's lines.
#[derive(Debug, Clone, Default)]
pub struct LineFilter {
    pub status: Option<String>,
    pub kind: Option<String>,
    /// Only lines without a bank account (which the bank cannot pay).
    pub missing_account: bool,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// One difference between a batch and the same program's batch of the month before.
#[derive(Debug, Clone, Serialize)]
pub struct DiffEntry {
    /// new | stopped | changed
    pub change: &'static str,
    pub change_label: &'static str,
    pub beneficiary_name: String,
    pub beneficiary_id_number: String,
    pub village_code: String,
    pub previous: Option<Fen>,
    pub current: Option<Fen>,
    pub reason: String,
    pub case_id: Option<i64>,
    pub case_no: Option<String>,
    pub enrolment_id: i64,
}

/// The month-over-month review of a batch (环比变动).
#[derive(Debug, Clone, Serialize)]
pub struct BatchDiff {
    pub previous_month: String,
    pub previous_batch_id: Option<i64>,
    pub previous_lines: i64,
    pub previous_total: Fen,
    pub new_count: usize,
    pub stopped_count: usize,
    pub changed_count: usize,
    pub unchanged_count: usize,
    pub entries: Vec<DiffEntry>,
    /// Back pay and re-issues in this batch (they are not month-over-month changes).
    pub extras: Vec<PayrollLine>,
}

/// A payment exception (退票).
#[derive(Debug, Clone, Serialize)]
pub struct PaymentException {
    pub id: i64,
    pub line_id: i64,
    pub batch_id: i64,
    pub batch_no: String,
    pub batch_month: String,
    pub program: String,
    pub program_label: String,
    pub township_code: String,
    pub period: String,
    pub beneficiary_name: String,
    pub beneficiary_id_number: String,
    pub original_bank_name: String,
    pub original_account: String,
    /// The account holder (户名) of the failed line.
    pub original_holder: String,
    pub amount: Fen,
    pub fail_reason: String,
    pub status: String,
    pub status_label: &'static str,
    pub bank_name: Option<String>,
    pub account_number: Option<String>,
    pub account_holder: Option<String>,
    pub note: String,
    pub reissue_line_id: Option<i64>,
    pub created_at: String,
    pub corrected_by: Option<String>,
}

impl PaymentException {
    fn from_row(r: &DbRow) -> StoreResult<Self> {
        let program = r.str("program")?;
        let status = r.str("status")?;
        Ok(PaymentException {
            id: r.i64("id")?,
            line_id: r.i64("line_id")?,
            batch_id: r.i64("batch_id")?,
            batch_no: r.str("batch_no")?,
            batch_month: r.str("batch_month")?,
            program_label: program_label(&program),
            program,
            township_code: r.str("township_code")?,
            period: r.str("period")?,
            beneficiary_name: r.str("beneficiary_name")?,
            beneficiary_id_number: r.str("beneficiary_id_number")?,
            original_bank_name: r.str("original_bank_name")?,
            original_account: r.str("original_account")?,
            original_holder: r.str("original_holder")?,
            amount: Fen(r.i64("amount_fen")?),
            fail_reason: r.str("fail_reason")?,
            status_label: exception_status_label(&status),
            status,
            bank_name: r.opt_str("bank_name")?,
            account_number: r.opt_str("account_number")?,
            account_holder: r.opt_str("account_holder")?,
            note: r.str("note")?,
            reissue_line_id: r.opt_i64("reissue_line_id")?,
            created_at: r.str("created_at")?,
            corrected_by: r.opt_str("corrected_by")?,
        })
    }

    pub fn masked(mut self) -> Self {
        use minzheng_domain::registry::mask_account;
        self.beneficiary_id_number = mask_id(&self.beneficiary_id_number);
        self.original_account = mask_account(&self.original_account);
        self.account_number = self.account_number.map(|a| mask_account(&a));
        self
    }
}

const SELECT_EXCEPTION: &str =
    "SELECT x.*, b.batch_no, l.beneficiary_name, l.beneficiary_id_number,
        l.bank_name AS original_bank_name, l.account_number AS original_account,
        l.account_holder AS original_holder, l.amount_fen
    FROM payment_exceptions x
    JOIN payroll_batches b ON b.id = x.batch_id
    JOIN payroll_lines l ON l.id = x.line_id";

/// The month's payroll at a glance (the dashboard).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PayrollOverview {
    pub month: String,
    pub batches: i64,
    /// 草稿, waiting for the director's sign-off.
    pub drafts: i64,
    /// Signed off, the bank file not yet produced.
    pub signed_off: i64,
    /// Bank file out, waiting for the return.
    pub exported: i64,
    /// Reconciled or closed.
    pub reconciled: i64,
    pub planned: Fen,
    /// 退票 waiting for the clerk's correction.
    pub open_exceptions: i64,
    /// Corrected, to be re-issued by the next batch.
    pub ready_exceptions: i64,
    /// 补发 waiting for the director.
    pub pending_back_pay: i64,
}

/// A clerk's correction of a failed payment.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ExceptionCorrection {
    #[serde(default)]
    pub bank_name: String,
    #[serde(default)]
    pub account_number: String,
    #[serde(default)]
    pub account_holder: String,
    #[serde(default)]
    pub note: String,
}

/// Back pay (补发) for one past month.
#[derive(Debug, Clone, Serialize)]
pub struct BackPay {
    pub id: i64,
    pub enrolment_id: i64,
    pub program: String,
    pub program_label: String,
    pub township_code: String,
    pub beneficiary_name: String,
    pub period: String,
    pub amount: Fen,
    pub reason: String,
    pub case_id: Option<i64>,
    pub status: String,
    pub status_label: &'static str,
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub line_id: Option<i64>,
}

/// A back-pay request.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewBackPay {
    pub enrolment_id: i64,
    /// YYYY-MM
    pub period: String,
    /// Yuan as typed; empty means the enrolment's monthly amount.
    #[serde(default)]
    pub amount: String,
    pub reason: String,
    #[serde(default)]
    pub case_id: Option<i64>,
}

/// One row of the funds ledger (资金台账): a program in a township in a month.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerRow {
    pub month: String,
    pub program: String,
    pub program_label: String,
    pub township_code: String,
    pub township_name: String,
    pub batches: i64,
    pub lines: i64,
    pub planned: Fen,
    pub paid_count: i64,
    pub paid: Fen,
    pub failed_count: i64,
    pub failed: Fen,
    pub reissue_count: i64,
    pub reissued: Fen,
}

/// Filters for the ledger.
#[derive(Debug, Clone, Default)]
pub struct LedgerFilter {
    pub from: Option<String>,
    pub to: Option<String>,
    pub program: Option<String>,
    pub within: Option<String>,
}

// ---------------------------------------------------------------- helpers

pub(crate) fn now() -> String {
    crate::timestamp(chrono::Utc::now())
}

fn token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Whether the actor's role is one of `roles` (the system may do everything).
pub(crate) fn has_role(actor: &Actor, roles: &[Role]) -> bool {
    actor.role.is_none_or(|r| roles.contains(&r))
}

pub(crate) const CLERKS: &[Role] = &[Role::TownshipStaff, Role::TownshipDirector];
pub(crate) const DIRECTORS: &[Role] = &[Role::TownshipDirector];

pub(crate) fn require(actor: &Actor, roles: &[Role], what: &str) -> StoreResult<()> {
    if has_role(actor, roles) {
        Ok(())
    } else {
        let who: Vec<&str> = roles.iter().map(|r| r.label()).collect();
        Err(StoreError::Forbidden(format!(
            "只有{}可以{what}",
            who.join("或")
        )))
    }
}

/// Test hook for the crash tests: when `MINZHENG_FAILPOINT` names this point, the process
/// says so on stderr and waits there (inside the open transaction) to be killed.
pub(crate) async fn failpoint(name: &str) {
    if std::env::var("MINZHENG_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("FAILPOINT {name}");
        tokio::time::sleep(std::time::Duration::from_secs(120)).await;
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn audit(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    scope_code: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> StoreResult<()> {
    append(
        tx,
        actor,
        AuditEvent {
            action,
            entity_type,
            entity_id,
            scope_code,
            before,
            after,
        },
    )
    .await
    .map(|_| ())
}

/// The narrower of the actor's scope and `within` as range bounds; `within` outside the
/// scope is not found.
pub(crate) fn bounds_within(scope: &Scope, within: Option<&str>) -> StoreResult<(String, String)> {
    let Some(w) = within.map(str::trim).filter(|w| !w.is_empty()) else {
        return Ok(scope.bounds());
    };
    let code = DivisionCode::parse_native(w).map_err(|_| StoreError::NotFound("该区划"))?;
    if scope.contains_str(code.as_str()) {
        Ok(Scope::of(code).bounds())
    } else if scope.sees_str(code.as_str()) {
        // A wider division than the actor's own: the actor's scope.
        Ok(scope.bounds())
    } else {
        Err(StoreError::NotFound("该区划"))
    }
}

fn parse_month(field: &str, v: &str) -> StoreResult<String> {
    YearMonth::parse(v)
        .map(|m| m.to_string())
        .map_err(|_| StoreError::field(field, "月份格式不正确，应为如2026-11的年月"))
}

/// Sets SQLite's page cache of the transaction's connection to `kib`; returns the setting
/// it had (to restore).
pub(crate) async fn set_cache(tx: &mut Tx, kib: i64) -> StoreResult<i64> {
    let before = tx
        .fetch_one(q("PRAGMA cache_size"))
        .await?
        .i64("cache_size")?;
    tx.execute(q(format!("PRAGMA cache_size = -{kib}"))).await?;
    Ok(before)
}

/// Every program code as a one-column table (`program`). Batches are found by probing the
/// enrolment index for each (township, program) pair — a loose index scan — instead of
/// reading the index's million entries for DISTINCT.
fn programs_table() -> String {
    Program::ALL
        .iter()
        .map(|p| format!("SELECT '{}' AS program", p.as_str()))
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// The SQLite page cache (KiB) of a city-wide generation.
pub(crate) const BIG_CACHE_KIB: i64 = 131_072;

/// Which enrolments pay in the batch's month (`b.month`), as an SQL condition on `e`. A
/// stopped enrolment (停发, status ended) is still paid through its end month, the month of
/// the decision: it stops from the month after.
const PAYABLE: &str =
    "(e.status IN ('active', 'grace') OR (e.status = 'ended' AND e.end_month IS NOT NULL))
    AND e.start_month <= b.month
    AND (e.end_month IS NULL OR e.end_month >= b.month)
    AND (e.payment = 'monthly' OR e.start_month = b.month)
    AND (e.status <> 'grace' OR e.grace_until IS NULL OR e.grace_until >= b.month)";

const LINE_COLUMNS: &str = "batch_id, kind, program, period, enrolment_id, township_code,
    village_code, beneficiary_name, beneficiary_id_number, bank_name, account_number,
    account_holder, amount_fen";

/// Fills the lines of every batch whose generation is `token`: regular lines from the
/// payable enrolments, approved back pay, and corrected exceptions to re-issue. Then the
/// batch counters; batches left empty are removed. `scan` picks the plan on SQLite: walk
/// all enrolments once (many batches) or walk each batch's enrolments by index (few).
async fn fill_lines(
    tx: &mut Tx,
    actor: &Actor,
    token: &str,
    scan: Option<&str>,
    now: &str,
) -> StoreResult<()> {
    let mut regular = match scan {
        // CROSS JOIN fixes SQLite's loop order: one sequential pass over the enrolments, a
        // unique-index probe per row into the (few) batches of the month. `+e.status` keeps
        // SQLite from walking the (status, next_review_on) index instead of the table, which
        // would cost a second B-tree lookup per enrolment when nearly all are active.
        Some(month) if !tx.is_postgres() => q("FROM enrolments e CROSS JOIN payroll_batches b
             JOIN households h ON h.id = e.household_id
             WHERE b.program = e.program AND b.township_code = e.township_code AND b.month = $2
               AND +e.status IN ('active', 'grace', 'ended')")
        .bind(token)
        .bind(month),
        _ => q("FROM payroll_batches b
             JOIN enrolments e ON e.program = b.program AND e.township_code = b.township_code
             JOIN households h ON h.id = e.household_id
             WHERE true")
        .bind(token),
    };
    // Lines go in by ID number (and so a batch lists them in that order): the once index is
    // then filled front to back instead of at random places, ID numbers saying nothing of
    // the enrolment order. For a city-wide month the sort costs less than the random inserts
    // it avoids (1M lines, scattered ID numbers: SQLite 4.9 s -> 3.3 s, its sorter keeping up
    // to the page cache's size in memory; PostgreSQL, whose shared_buffers is far smaller than
    // the index and table being written, 12 s -> 9–10 s). PostgreSQL sorts by bytes
    // (`COLLATE "C"`): a libc collation such as C.UTF-8 or zh_CN.UTF-8 goes through strcoll
    // without abbreviated keys, twice as slow, and orders ID numbers (digits, a final X) the
    // same way.
    let order = if tx.is_postgres() {
        r#"ORDER BY e.beneficiary_id_number COLLATE "C""#
    } else {
        "ORDER BY e.beneficiary_id_number"
    };
    regular.sql = format!(
        "INSERT INTO payroll_lines ({LINE_COLUMNS})
         SELECT b.id, 'regular', e.program, b.month, e.id, e.township_code, e.village_code,
                e.beneficiary_name, e.beneficiary_id_number, h.bank_name, h.account_number,
                h.account_holder, e.monthly_fen
         {} AND b.generation = $1 AND {PAYABLE}
         {order}",
        regular.sql
    );
    // The once index is the only arbiter: a line already paid to the beneficiary for the
    // program and month is skipped. (Naming it spares PostgreSQL a speculative probe of the
    // other unique indexes per row, which no regular line can hit.)
    let skip_paid =
        " ON CONFLICT (beneficiary_id_number, program, period) WHERE kind <> 'reissue' DO NOTHING";
    if tx.is_postgres() {
        // PostgreSQL's ON CONFLICT costs a speculative insertion per row (an extra probe of
        // the once index and a confirmation record in the WAL: 1M lines 10.4 s -> 8.7 s
        // without it). A month's lines rarely meet an earlier line (a beneficiary who moved
        // township within the month, a duplicate enrolment), so the plain insert is tried
        // first; if the once index refuses a line, the statement is undone to the savepoint
        // and the skipping insert runs instead. Same lines either way.
        tx.execute(q("SAVEPOINT regular_lines")).await?;
        match tx.execute(regular.clone()).await {
            Ok(_) => {}
            Err(e) if e.is_unique_violation_of("payroll_lines_once") => {
                tx.execute(q("ROLLBACK TO SAVEPOINT regular_lines")).await?;
                regular.sql.push_str(skip_paid);
                tx.execute(regular).await?;
            }
            Err(e) => return Err(e),
        }
        tx.execute(q("RELEASE SAVEPOINT regular_lines")).await?;
    } else {
        // SQLite probes a unique index before every insert whatever the conflict clause.
        regular.sql.push_str(skip_paid);
        tx.execute(regular).await?;
    }
    // Approved back pay for months before the batch's.
    tx.execute(
        q(format!(
            "INSERT INTO payroll_lines ({LINE_COLUMNS}, adjustment_id)
             SELECT b.id, 'back_pay', a.program, a.period, e.id, e.township_code, e.village_code,
                    e.beneficiary_name, e.beneficiary_id_number, h.bank_name, h.account_number,
                    h.account_holder, a.amount_fen, a.id
             FROM payroll_adjustments a
             JOIN payroll_batches b ON b.program = a.program AND b.township_code = a.township_code
             JOIN enrolments e ON e.id = a.enrolment_id
             JOIN households h ON h.id = e.household_id
             WHERE b.generation = $1 AND a.status = 'approved' AND a.period < b.month
             ON CONFLICT DO NOTHING"
        ))
        .bind(token),
    )
    .await?;
    let included = tx
        .fetch_all(
            q("UPDATE payroll_adjustments SET status = 'included',
             line_id = (SELECT l.id FROM payroll_lines l WHERE l.adjustment_id = payroll_adjustments.id)
           WHERE status = 'approved' AND id IN (
             SELECT l.adjustment_id FROM payroll_lines l JOIN payroll_batches b ON b.id = l.batch_id
             WHERE b.generation = $1 AND l.kind <> 'regular' AND l.adjustment_id IS NOT NULL)
           RETURNING id, township_code, status, line_id")
            .bind(token),
        )
        .await?;
    // Approved back pay for a month that meanwhile has its own line (the regular batch of that
    // month was generated after the request): nothing to pay; it is marked so instead of
    // waiting, approved, for a line the once index will never let in.
    let superseded = tx
        .fetch_all(
            q("UPDATE payroll_adjustments SET status = 'superseded'
           WHERE status = 'approved' AND EXISTS (
             SELECT 1 FROM payroll_batches b
             JOIN enrolments e ON e.id = payroll_adjustments.enrolment_id
             JOIN payroll_lines l ON l.beneficiary_id_number = e.beneficiary_id_number
               AND l.program = payroll_adjustments.program AND l.period = payroll_adjustments.period
               AND l.kind <> 'reissue'
             WHERE b.generation = $1 AND b.program = payroll_adjustments.program
               AND b.township_code = payroll_adjustments.township_code
               AND payroll_adjustments.period < b.month)
           RETURNING id, township_code, status, line_id")
            .bind(token),
        )
        .await?;
    for r in included.iter().chain(&superseded) {
        audit(
            tx,
            actor,
            "payroll.back_pay.include",
            "payroll_adjustment",
            &r.i64("id")?.to_string(),
            &r.str("township_code")?,
            Some(serde_json::json!({"status": "approved"})),
            Some(
                serde_json::json!({"status": r.str("status")?, "line_id": r.opt_i64("line_id")?,
                "generation": token}),
            ),
        )
        .await?;
    }
    // Corrected exceptions: the same period and amount, to the corrected account.
    tx.execute(
        q(format!(
            "INSERT INTO payroll_lines ({LINE_COLUMNS}, reissue_of)
             SELECT b.id, 'reissue', o.program, o.period, o.enrolment_id, o.township_code,
                    o.village_code, o.beneficiary_name, o.beneficiary_id_number,
                    COALESCE(x.bank_name, o.bank_name), COALESCE(x.account_number, o.account_number),
                    COALESCE(x.account_holder, o.account_holder), o.amount_fen, o.id
             FROM payment_exceptions x
             JOIN payroll_batches b ON b.program = x.program AND b.township_code = x.township_code
             JOIN payroll_lines o ON o.id = x.line_id
             WHERE b.generation = $1 AND x.status = 'ready' AND x.batch_month < b.month
             ON CONFLICT DO NOTHING"
        ))
        .bind(token),
    )
    .await?;
    let reissued = tx
        .fetch_all(
        q("UPDATE payment_exceptions SET status = 'reissued', updated_at = $2,
             reissue_line_id = (SELECT l.id FROM payroll_lines l WHERE l.reissue_of = payment_exceptions.line_id)
           WHERE status = 'ready' AND line_id IN (
             SELECT l.reissue_of FROM payroll_lines l JOIN payroll_batches b ON b.id = l.batch_id
             WHERE b.generation = $1 AND l.kind <> 'regular' AND l.reissue_of IS NOT NULL)
           RETURNING id, township_code, reissue_line_id")
        .bind(token)
        .bind(now),
    )
    .await?;
    for r in &reissued {
        audit(
            tx,
            actor,
            "payroll.exception.reissue",
            "payment_exception",
            &r.i64("id")?.to_string(),
            &r.str("township_code")?,
            Some(serde_json::json!({"status": "ready"})),
            Some(serde_json::json!({"status": "reissued",
                "reissue_line_id": r.opt_i64("reissue_line_id")?, "generation": token})),
        )
        .await?;
    }
    // Counters. SQLite: per batch from the covering index (batch_id, status, id, amount_fen)
    // and, for back pay and re-issues, the partial index of non-regular lines. PostgreSQL:
    // one grouped pass over the generation's lines (from its batches, so a batch left without
    // lines counts zero and is removed below) — its index-only scans still visit the
    // heap for rows this transaction just wrote, so five lookups per batch would read every
    // line five times.
    let counters = if tx.is_postgres() {
        "UPDATE payroll_batches SET line_count = t.n, planned_fen = t.fen, back_pay_fen = t.bp,
           reissue_count = t.rc, reissue_fen = t.rf
         FROM (SELECT g.id AS batch_id, COUNT(l.id) AS n, COALESCE(SUM(l.amount_fen), 0) AS fen,
                 COALESCE(SUM(CASE WHEN l.kind = 'back_pay' THEN l.amount_fen END), 0) AS bp,
                 COUNT(CASE WHEN l.kind = 'reissue' THEN 1 END) AS rc,
                 COALESCE(SUM(CASE WHEN l.kind = 'reissue' THEN l.amount_fen END), 0) AS rf
               FROM payroll_batches g LEFT JOIN payroll_lines l ON l.batch_id = g.id
               WHERE g.generation = $1 GROUP BY g.id) t
         WHERE payroll_batches.id = t.batch_id"
    } else {
        "UPDATE payroll_batches SET
             line_count = (SELECT COUNT(*) FROM payroll_lines l WHERE l.batch_id = payroll_batches.id),
             planned_fen = (SELECT COALESCE(SUM(l.amount_fen), 0) FROM payroll_lines l
                            WHERE l.batch_id = payroll_batches.id),
             back_pay_fen = (SELECT COALESCE(SUM(l.amount_fen), 0) FROM payroll_lines l
                            WHERE l.batch_id = payroll_batches.id AND l.kind <> 'regular' AND l.kind = 'back_pay'),
             reissue_count = (SELECT COUNT(*) FROM payroll_lines l
                            WHERE l.batch_id = payroll_batches.id AND l.kind <> 'regular' AND l.kind = 'reissue'),
             reissue_fen = (SELECT COALESCE(SUM(l.amount_fen), 0) FROM payroll_lines l
                            WHERE l.batch_id = payroll_batches.id AND l.kind <> 'regular' AND l.kind = 'reissue')
           WHERE generation = $1"
    };
    tx.execute(q(counters).bind(token)).await?;
    tx.execute(
        q("DELETE FROM payroll_batches WHERE generation = $1 AND line_count = 0").bind(token),
    )
    .await?;
    Ok(())
}

async fn audit_generated(tx: &mut Tx, actor: &Actor, token: &str, action: &str) -> StoreResult<()> {
    let rows = tx
        .fetch_all(
            q(
                "SELECT id, batch_no, program, township_code, month, line_count, planned_fen,
                      back_pay_fen, reissue_count
               FROM payroll_batches WHERE generation = $1 ORDER BY id",
            )
            .bind(token),
        )
        .await?;
    for r in rows {
        let id = r.i64("id")?;
        let township = r.str("township_code")?;
        audit(
            tx,
            actor,
            action,
            "payroll_batch",
            &id.to_string(),
            &township,
            None,
            Some(serde_json::json!({
                "batch_no": r.str("batch_no")?, "program": r.str("program")?,
                "month": r.str("month")?, "lines": r.i64("line_count")?,
                "planned_fen": r.i64("planned_fen")?, "back_pay_fen": r.i64("back_pay_fen")?,
                "reissues": r.i64("reissue_count")?,
            })),
        )
        .await?;
    }
    Ok(())
}

impl Store {
    // ------------------------------------------------------------ generation

    /// Generates the month's batches: one per program and township with payable
    /// enrolments, approved back pay or corrected exceptions, within the actor's scope (and
    /// `within`). Existing batches are returned unchanged; two concurrent calls make one set.
    pub async fn generate_payroll(
        &self,
        actor: &Actor,
        req: &GenerateRequest,
    ) -> StoreResult<GenerateOutcome> {
        require(actor, CLERKS, "生成发放批次")?;
        let (lo, hi) = bounds_within(&actor.scope, req.within.as_deref())?;
        let month = req.month.to_string();
        let program = req.program.map(|p| p.as_str().to_string());
        // A township (or village) range: walk each batch's enrolments by index; anything
        // wider: one pass over all enrolments.
        let scan = lo.len() < 9;
        let token = token();
        let now = now();
        let started = std::time::Instant::now();
        let mut tx = self.begin_write().await?;
        if tx.is_postgres() {
            // Concurrent generations queue here instead of interleaving their inserts.
            tx.execute(q("SELECT pg_advisory_xact_lock(7340005)"))
                .await?;
        }
        tx.execute(
            q(format!(
                "INSERT INTO payroll_batches (batch_no, program, township_code, month, status,
                 generation, generated_by, generated_at, updated_at)
               SELECT $2 || '-' || k.township_code || '-' || k.program, k.program, k.township_code,
                      $1, 'draft', $3, $4, $5, $5
               FROM (
                 SELECT p.program, d.code AS township_code
                  FROM divisions d CROSS JOIN ({programs}) p
                  WHERE d.level = 4 AND d.code >= $6 AND d.code < $7
                    AND ($8 IS NULL OR p.program = $8)
                    AND (EXISTS (SELECT 1 FROM enrolments e WHERE e.township_code = d.code
                                 AND e.program = p.program AND e.status IN ('active', 'grace'))
                      OR EXISTS (SELECT 1 FROM enrolments e WHERE e.township_code = d.code
                                 AND e.program = p.program AND e.status = 'ended'
                                 AND e.end_month >= $1))
                 UNION
                 SELECT a.program, a.township_code FROM payroll_adjustments a
                  WHERE a.status = 'approved' AND a.period < $1
                    AND a.township_code >= $6 AND a.township_code < $7
                    AND ($8 IS NULL OR a.program = $8)
                 UNION
                 SELECT x.program, x.township_code FROM payment_exceptions x
                  WHERE x.status = 'ready' AND x.batch_month < $1
                    AND x.township_code >= $6 AND x.township_code < $7
                    AND ($8 IS NULL OR x.program = $8)
               ) k
               WHERE true
               ORDER BY k.program, k.township_code
               ON CONFLICT DO NOTHING",
                programs = programs_table()
            ))
            .bind(month.as_str())
            .bind(req.month.compact())
            .bind(token.as_str())
            .bind(actor.username.as_str())
            .bind(now.as_str())
            .bind(lo.as_str())
            .bind(hi.as_str())
            .bind(program.clone()),
        )
        .await?;
        let created = tx
            .fetch_one(
                q("SELECT COUNT(*) AS n FROM payroll_batches WHERE generation = $1")
                    .bind(token.as_str()),
            )
            .await?
            .i64("n")?;
        // Nothing new (the usual repeat): no pass over the enrolments at all.
        if created > 0 {
            if scan && tx.is_postgres() {
                // A city-wide month: hash joins over the enrolments and households in memory
                // beat a million random index probes into them.
                tx.execute(q("SET LOCAL work_mem = '256MB'")).await?;
                tx.execute(q("SET LOCAL enable_nestloop = off")).await?;
            }
            // A city-wide month writes hundreds of MB of table and index pages: a page cache
            // big enough to keep the index pages being modified keeps SQLite from spilling
            // and rewriting them mid-transaction. Bounded; the connection's own size is
            // restored before commit.
            let cache = if scan && !tx.is_postgres() {
                Some(set_cache(&mut tx, BIG_CACHE_KIB).await?)
            } else {
                None
            };
            if scan {
                tx.mark_large();
            }
            fill_lines(&mut tx, actor, &token, scan.then_some(month.as_str()), &now).await?;
            audit_generated(&mut tx, actor, &token, "payroll.generate").await?;
            if let Some(before) = cache {
                tx.execute(q(format!("PRAGMA cache_size = {before}")))
                    .await?;
            }
        }
        let filled = started.elapsed();
        failpoint("payroll.generate.before_commit").await;
        tx.commit().await?;
        tracing::debug!(
            month = %month, batches = created,
            fill_ms = filled.as_millis() as u64,
            commit_ms = (started.elapsed() - filled).as_millis() as u64,
            "payroll generated"
        );

        let mut query = q(format!(
            "{SELECT_BATCH} WHERE b.month = $1 AND b.township_code >= $2 AND b.township_code < $3"
        ))
        .bind(month.as_str())
        .bind(lo.as_str())
        .bind(hi.as_str());
        if let Some(p) = &program {
            query.sql.push_str(" AND b.program = $4");
            query.push(p.as_str());
        }
        query.sql.push_str(" ORDER BY b.township_code, b.program");
        let rows = self.fetch_all(query).await?;
        let mut out = GenerateOutcome {
            month,
            created: Vec::new(),
            existing: Vec::new(),
            lines: 0,
            planned: Fen(0),
        };
        for r in &rows {
            let b = PayrollBatch::from_row(r)?;
            if r.str("generation")? == token {
                out.lines += b.line_count;
                out.planned = Fen(out.planned.0 + b.planned.0);
                out.created.push(b);
            } else {
                out.existing.push(b);
            }
        }
        Ok(out)
    }

    /// Regenerates a draft batch from the enrolments as they are now (only a draft can be).
    /// Returns None when nothing is payable any more (the empty draft is removed).
    pub async fn regenerate_batch(
        &self,
        actor: &Actor,
        id: i64,
    ) -> StoreResult<Option<PayrollBatch>> {
        let b = self.get_batch(&actor.scope, id).await?;
        require(actor, CLERKS, "重新生成发放批次")?;
        let token = token();
        let now = now();
        let mut tx = self.begin_write().await?;
        let n = tx
            .execute(
                q("UPDATE payroll_batches SET generation = $2, generated_by = $3, generated_at = $4,
                     updated_at = $4 WHERE id = $1 AND status = 'draft'")
                .bind(id)
                .bind(token.as_str())
                .bind(actor.username.as_str())
                .bind(now.as_str()),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict(
                "只有草稿状态的批次可以重新生成；已审核签发的批次不能再改动".into(),
            ));
        }
        // Back pay and re-issues the draft carried go back to waiting (the refill below takes
        // them again if they are still due); each change is audited.
        let back_pay = tx
            .fetch_all(
                q("UPDATE payroll_adjustments SET status = 'approved', line_id = NULL
               WHERE line_id IN (SELECT id FROM payroll_lines WHERE batch_id = $1 AND kind <> 'regular')
               RETURNING id, township_code")
                .bind(id),
            )
            .await?;
        let reissues = tx
            .fetch_all(
                q("UPDATE payment_exceptions SET status = 'ready', reissue_line_id = NULL
               WHERE reissue_line_id IN (SELECT id FROM payroll_lines WHERE batch_id = $1 AND kind <> 'regular')
               RETURNING id, township_code")
                .bind(id),
            )
            .await?;
        for (rows, action, entity, from, to) in [
            (
                &back_pay,
                "payroll.back_pay.release",
                "payroll_adjustment",
                "included",
                "approved",
            ),
            (
                &reissues,
                "payroll.exception.release",
                "payment_exception",
                "reissued",
                "ready",
            ),
        ] {
            for r in rows {
                audit(
                    &mut tx,
                    actor,
                    action,
                    entity,
                    &r.i64("id")?.to_string(),
                    &r.str("township_code")?,
                    Some(serde_json::json!({"status": from, "batch_id": id})),
                    Some(serde_json::json!({"status": to})),
                )
                .await?;
            }
        }
        tx.execute(q("DELETE FROM payroll_lines WHERE batch_id = $1").bind(id))
            .await?;
        fill_lines(&mut tx, actor, &token, None, &now).await?;
        let still = tx
            .fetch_optional(q("SELECT id FROM payroll_batches WHERE id = $1").bind(id))
            .await?
            .is_some();
        if still {
            audit_generated(&mut tx, actor, &token, "payroll.regenerate").await?;
        } else {
            audit(
                &mut tx,
                actor,
                "payroll.regenerate",
                "payroll_batch",
                &id.to_string(),
                &b.township_code,
                Some(serde_json::json!({"batch_no": b.batch_no, "lines": b.line_count})),
                Some(serde_json::json!({"removed": true, "reason": "本月已无应发对象"})),
            )
            .await?;
        }
        tx.commit().await?;
        if still {
            Ok(Some(self.get_batch(&actor.scope, id).await?))
        } else {
            Ok(None)
        }
    }

    // ------------------------------------------------------------ reading

    /// One batch inside the scope.
    pub async fn get_batch(&self, scope: &Scope, id: i64) -> StoreResult<PayrollBatch> {
        let r = self
            .fetch_optional(q(format!("{SELECT_BATCH} WHERE b.id = $1")).bind(id))
            .await?
            .ok_or(StoreError::NotFound("该发放批次"))?;
        let b = PayrollBatch::from_row(&r)?;
        if !scope.contains_str(&b.township_code) {
            return Err(StoreError::NotFound("该发放批次"));
        }
        Ok(b)
    }

    /// Batches inside the scope, newest month first.
    pub async fn list_batches(
        &self,
        scope: &Scope,
        f: &BatchFilter,
    ) -> StoreResult<Vec<PayrollBatch>> {
        let (lo, hi) = bounds_within(scope, f.within.as_deref())?;
        let mut query = q(format!(
            "{SELECT_BATCH} WHERE b.township_code >= $1 AND b.township_code < $2"
        ))
        .bind(lo)
        .bind(hi);
        for (col, v) in [
            ("b.month", &f.month),
            ("b.program", &f.program),
            ("b.status", &f.status),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                query.push(v);
                query
                    .sql
                    .push_str(&format!(" AND {col} = ${}", query.args.len()));
            }
        }
        query
            .sql
            .push_str(" ORDER BY b.month DESC, b.township_code, b.program LIMIT 2000");
        self.fetch_all(query)
            .await?
            .iter()
            .map(PayrollBatch::from_row)
            .collect()
    }

    /// A batch's lines (paged) and their number.
    pub async fn batch_lines(
        &self,
        scope: &Scope,
        id: i64,
        f: &LineFilter,
    ) -> StoreResult<(Vec<PayrollLine>, i64)> {
        self.get_batch(scope, id).await?;
        let mut cond = String::from("batch_id = $1");
        if f.missing_account {
            cond.push_str(" AND account_number = ''");
        }
        let mut args: Vec<String> = Vec::new();
        for (col, v) in [("status", &f.status), ("kind", &f.kind)] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                args.push(v.to_string());
                cond.push_str(&format!(" AND {col} = ${}", args.len() + 1));
            }
        }
        let mut count = q(format!(
            "SELECT COUNT(*) AS n FROM payroll_lines WHERE {cond}"
        ))
        .bind(id);
        let mut list = q(format!("SELECT * FROM payroll_lines WHERE {cond}")).bind(id);
        for a in &args {
            count.push(a.as_str());
            list.push(a.as_str());
        }
        let total = self.fetch_one(count).await?.i64("n")?;
        let n = list.args.len();
        list.sql
            .push_str(&format!(" ORDER BY id LIMIT ${} OFFSET ${}", n + 1, n + 2));
        list.push(f.limit.unwrap_or(100).clamp(1, 5000));
        list.push(f.offset.unwrap_or(0).max(0));
        let lines = self
            .fetch_all(list)
            .await?
            .iter()
            .map(PayrollLine::from_row)
            .collect::<StoreResult<_>>()?;
        Ok((lines, total))
    }

    /// The review before sign-off: who is new, who stopped and whose amount changed since
    /// the same program's batch of the month before, each with its reason (the case behind
    /// it when there is one).
    pub async fn batch_diff(&self, scope: &Scope, id: i64) -> StoreResult<BatchDiff> {
        let b = self.get_batch(scope, id).await?;
        let month = YearMonth::parse(&b.month)
            .map_err(|_| StoreError::Internal(format!("批次月份“{}”无效", b.month)))?;
        let prev_month = month.prev().to_string();
        let prev = self
            .fetch_optional(
                q("SELECT id, line_count, planned_fen FROM payroll_batches
                   WHERE program = $1 AND township_code = $2 AND month = $3")
                .bind(b.program.as_str())
                .bind(b.township_code.as_str())
                .bind(prev_month.as_str()),
            )
            .await?;
        let regular = |batch: i64| {
            q("SELECT * FROM payroll_lines WHERE batch_id = $1 AND kind = 'regular' ORDER BY id")
                .bind(batch)
        };
        let current: Vec<PayrollLine> = self
            .fetch_all(regular(id))
            .await?
            .iter()
            .map(PayrollLine::from_row)
            .collect::<StoreResult<_>>()?;
        let extras: Vec<PayrollLine> = self
            .fetch_all(
                q("SELECT * FROM payroll_lines WHERE batch_id = $1 AND kind <> 'regular' ORDER BY id")
                    .bind(id),
            )
            .await?
            .iter()
            .map(PayrollLine::from_row)
            .collect::<StoreResult<_>>()?;
        let (prev_id, prev_lines, prev_total, previous) = match &prev {
            Some(p) => {
                let pid = p.i64("id")?;
                let lines: Vec<PayrollLine> = self
                    .fetch_all(regular(pid))
                    .await?
                    .iter()
                    .map(PayrollLine::from_row)
                    .collect::<StoreResult<_>>()?;
                (
                    Some(pid),
                    p.i64("line_count")?,
                    Fen(p.i64("planned_fen")?),
                    lines,
                )
            }
            None => (None, 0, Fen(0), Vec::new()),
        };
        let prev_by: HashMap<&str, &PayrollLine> = previous
            .iter()
            .map(|l| (l.beneficiary_id_number.as_str(), l))
            .collect();
        let cur_by: HashMap<&str, &PayrollLine> = current
            .iter()
            .map(|l| (l.beneficiary_id_number.as_str(), l))
            .collect();
        // (change, line, previous amount, current amount)
        let mut changes: Vec<(&'static str, &PayrollLine, Option<Fen>, Option<Fen>)> = Vec::new();
        let mut unchanged = 0;
        for l in &current {
            match prev_by.get(l.beneficiary_id_number.as_str()) {
                None => changes.push(("new", l, None, Some(l.amount))),
                Some(p) if p.amount != l.amount => {
                    changes.push(("changed", l, Some(p.amount), Some(l.amount)))
                }
                Some(_) => unchanged += 1,
            }
        }
        for p in &previous {
            if !cur_by.contains_key(p.beneficiary_id_number.as_str()) {
                changes.push(("stopped", p, Some(p.amount), None));
            }
        }
        let ids: Vec<i64> = changes.iter().map(|c| c.1.enrolment_id).collect();
        let facts = self.enrolment_facts(&ids).await?;
        let mut entries = Vec::new();
        for (change, l, previous, current) in changes {
            let f = facts.get(&l.enrolment_id);
            let (reason, case_id, case_no) = explain(change, f, &b.month, l);
            entries.push(DiffEntry {
                change,
                change_label: match change {
                    "new" => "新增",
                    "stopped" => "停发",
                    _ => "金额变动",
                },
                beneficiary_name: l.beneficiary_name.clone(),
                beneficiary_id_number: l.beneficiary_id_number.clone(),
                village_code: l.village_code.clone(),
                previous,
                current,
                reason,
                case_id,
                case_no,
                enrolment_id: l.enrolment_id,
            });
        }
        let count = |c: &str| entries.iter().filter(|e| e.change == c).count();
        Ok(BatchDiff {
            previous_month: prev_month,
            previous_batch_id: prev_id,
            previous_lines: prev_lines,
            previous_total: prev_total,
            new_count: count("new"),
            stopped_count: count("stopped"),
            changed_count: count("changed"),
            unchanged_count: unchanged,
            entries,
            extras,
        })
    }

    /// What the diff needs to know about enrolments: state, dates, the case that created
    /// each and the latest case about it.
    async fn enrolment_facts(&self, ids: &[i64]) -> StoreResult<HashMap<i64, EnrolmentFacts>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            if chunk.is_empty() {
                continue;
            }
            let list: Vec<String> = chunk.iter().map(|i| i.to_string()).collect();
            let rows = self
                .fetch_all(q(format!(
                    "SELECT e.id, e.status, e.start_month, e.end_month, e.grace_until, e.payment,
                            e.monthly_fen, e.township_code, e.case_id,
                            c.case_no, c.kind AS case_kind,
                            lc.id AS last_case_id, lc.case_no AS last_case_no, lc.kind AS last_case_kind
                     FROM enrolments e
                     LEFT JOIN cases c ON c.id = e.case_id
                     LEFT JOIN cases lc ON lc.id = (SELECT MAX(c2.id) FROM cases c2 WHERE c2.enrolment_id = e.id)
                     WHERE e.id IN ({})",
                    list.join(",")
                )))
                .await?;
            for r in rows {
                out.insert(
                    r.i64("id")?,
                    EnrolmentFacts {
                        status: r.str("status")?,
                        start_month: r.str("start_month")?,
                        end_month: r.opt_str("end_month")?,
                        grace_until: r.opt_str("grace_until")?,
                        payment: r.str("payment")?,
                        township_code: r.str("township_code")?,
                        case_id: r.opt_i64("case_id")?,
                        case_no: r.opt_str("case_no")?,
                        case_kind: r.opt_str("case_kind")?,
                        last_case_id: r.opt_i64("last_case_id")?,
                        last_case_no: r.opt_str("last_case_no")?,
                        last_case_kind: r.opt_str("last_case_kind")?,
                    },
                );
            }
        }
        Ok(out)
    }

    // ------------------------------------------------------------ sign-off, close

    /// The township director signs a draft off (审核签发); after this it cannot change.
    pub async fn sign_off_batch(&self, actor: &Actor, id: i64) -> StoreResult<PayrollBatch> {
        self.sign_off_reviewed(actor, id, None).await
    }

    /// Signs a draft off as the director reviewed it: `reviewed` is the batch's
    /// `generated_at` shown on the review page; a batch regenerated since is refused, so
    /// nobody signs lines they have not seen. A batch with lines lacking a bank account is
    /// refused too (the bank would only return them).
    pub async fn sign_off_reviewed(
        &self,
        actor: &Actor,
        id: i64,
        reviewed: Option<&str>,
    ) -> StoreResult<PayrollBatch> {
        let b = self.get_batch(&actor.scope, id).await?;
        require(actor, DIRECTORS, "审核签发发放批次")?;
        self.transition(
            actor,
            &b,
            ("draft", "signed_off"),
            "signed_off_by = $3, signed_off_at = $4,",
            "payroll.sign_off",
            "只有草稿状态的批次可以审核签发",
            reviewed,
        )
        .await
    }

    /// Closes a reconciled batch (结束); failures live on as exceptions.
    pub async fn close_batch(&self, actor: &Actor, id: i64) -> StoreResult<PayrollBatch> {
        let b = self.get_batch(&actor.scope, id).await?;
        require(actor, DIRECTORS, "结束发放批次")?;
        self.transition(
            actor,
            &b,
            ("reconciled", "closed"),
            "closed_at = $4, signed_off_by = COALESCE(signed_off_by, $3),",
            "payroll.close",
            "只有已全部对账的批次可以结束",
            None,
        )
        .await
    }

    /// Moves a batch `from` → `to`. A sign-off (to signed_off) also requires every line to
    /// have an account and, with `reviewed`, the batch to be as generated at that time.
    #[allow(clippy::too_many_arguments)]
    async fn transition(
        &self,
        actor: &Actor,
        b: &PayrollBatch,
        (from, to): (&str, &str),
        set: &str,
        action: &str,
        refusal: &str,
        reviewed: Option<&str>,
    ) -> StoreResult<PayrollBatch> {
        let now = now();
        let sign_off = to == "signed_off";
        let mut tx = self.begin_write().await?;
        let mut update = q(format!(
            "UPDATE payroll_batches SET status = $2, {set} updated_at = $4
             WHERE id = $1 AND status = $5{}",
            if sign_off {
                " AND NOT EXISTS (SELECT 1 FROM payroll_lines l
                   WHERE l.batch_id = payroll_batches.id AND l.account_number = '')"
            } else {
                ""
            }
        ))
        .bind(b.id)
        .bind(to)
        .bind(actor.username.as_str())
        .bind(now.as_str())
        .bind(from);
        if let Some(r) = reviewed {
            update.sql.push_str(" AND generated_at = $6");
            update.push(r);
        }
        if tx.execute(update).await? == 0 {
            let now_is = tx
                .fetch_one(
                    q("SELECT status, generated_at,
                         (SELECT COUNT(*) FROM payroll_lines l
                          WHERE l.batch_id = b.id AND l.account_number = '') AS no_account
                       FROM payroll_batches b WHERE b.id = $1")
                    .bind(b.id),
                )
                .await?;
            let no_account = now_is.i64("no_account")?;
            return Err(StoreError::Conflict(if now_is.str("status")? != from {
                refusal.to_string()
            } else if reviewed
                .is_some_and(|r| now_is.str("generated_at").ok().as_deref() != Some(r))
            {
                "该批次在您查看之后已重新生成，请刷新页面、核对本月变化后再签发".into()
            } else if sign_off && no_account > 0 {
                format!(
                    "批次中有{no_account}笔明细缺少银行账号，银行无法代发：请先在户籍台账中补全账号，重新生成批次后再签发"
                )
            } else {
                refusal.to_string()
            }));
        }
        audit(
            &mut tx,
            actor,
            action,
            "payroll_batch",
            &b.id.to_string(),
            &b.township_code,
            Some(serde_json::json!({"status": from})),
            Some(serde_json::json!({"status": to, "batch_no": b.batch_no,
                "lines": b.line_count, "planned_fen": b.planned.0})),
        )
        .await?;
        tx.commit().await?;
        self.get_batch(&actor.scope, b.id).await
    }

    // ------------------------------------------------------------ exceptions (退票)

    /// Payment exceptions inside the scope (optionally of one status), newest first.
    pub async fn list_exceptions(
        &self,
        scope: &Scope,
        status: Option<&str>,
    ) -> StoreResult<Vec<PaymentException>> {
        let (lo, hi) = scope.bounds();
        let mut query = q(format!(
            "{SELECT_EXCEPTION} WHERE x.township_code >= $1 AND x.township_code < $2"
        ))
        .bind(lo)
        .bind(hi);
        if let Some(s) = status.filter(|s| !s.is_empty()) {
            query.sql.push_str(" AND x.status = $3");
            query.push(s);
        }
        query.sql.push_str(" ORDER BY x.id DESC LIMIT 2000");
        self.fetch_all(query)
            .await?
            .iter()
            .map(PaymentException::from_row)
            .collect()
    }

    pub async fn get_exception(&self, scope: &Scope, id: i64) -> StoreResult<PaymentException> {
        let r = self
            .fetch_optional(q(format!("{SELECT_EXCEPTION} WHERE x.id = $1")).bind(id))
            .await?
            .ok_or(StoreError::NotFound("该退票记录"))?;
        let x = PaymentException::from_row(&r)?;
        if !scope.contains_str(&x.township_code) {
            return Err(StoreError::NotFound("该退票记录"));
        }
        Ok(x)
    }

    /// The clerk corrects a failed payment (new account, holder or bank): the exception
    /// becomes ready for re-issue in the next generated batch, and the household's account
    /// is corrected too, so later months go to the right account.
    pub async fn correct_exception(
        &self,
        actor: &Actor,
        id: i64,
        c: &ExceptionCorrection,
    ) -> StoreResult<PaymentException> {
        let x = self.get_exception(&actor.scope, id).await?;
        require(actor, CLERKS, "更正退票信息")?;
        let account: String = c
            .account_number
            .chars()
            .filter(|ch| !ch.is_whitespace())
            .collect();
        if account.is_empty() {
            return Err(StoreError::field(
                "account_number",
                "请填写更正后的银行账号",
            ));
        }
        if account.len() > 40 || !account.chars().all(|ch| ch.is_ascii_digit()) {
            return Err(StoreError::field(
                "account_number",
                "银行账号应为不超过40位的数字",
            ));
        }
        let bank = c.bank_name.trim();
        let holder = c.account_holder.trim();
        if bank.chars().count() > 60 || holder.chars().count() > 40 || c.note.chars().count() > 500
        {
            return Err(StoreError::validation("开户行、户名或说明过长"));
        }
        let bank = if bank.is_empty() {
            x.original_bank_name.clone()
        } else {
            bank.to_string()
        };
        // An empty field keeps what the failed line had (a guardian's card keeps its holder).
        let holder = if holder.is_empty() {
            x.original_holder.clone()
        } else {
            holder.to_string()
        };
        let now = now();
        let mut tx = self.begin_write().await?;
        let n = tx
            .execute(
                q("UPDATE payment_exceptions SET status = 'ready', bank_name = $2, account_number = $3,
                     account_holder = $4, note = $5, corrected_by = $6, corrected_at = $7, updated_at = $7
                   WHERE id = $1 AND status IN ('open', 'ready')")
                .bind(id)
                .bind(bank.as_str())
                .bind(account.as_str())
                .bind(holder.as_str())
                .bind(c.note.trim())
                .bind(actor.username.as_str())
                .bind(now.as_str()),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict(
                "该退票已重发或已注销，不能再更正".into(),
            ));
        }
        // The household's account, for the months to come — if the household is still within
        // the clerk's jurisdiction (it may have moved township since the failed month; its
        // new township keeps its own account record).
        let (lo, hi) = actor.scope.bounds();
        let household = tx
            .fetch_optional(
                q("SELECT e.household_id FROM payroll_lines l JOIN enrolments e ON e.id = l.enrolment_id
                   JOIN households h ON h.id = e.household_id
                   WHERE l.id = $1 AND h.township_code >= $2 AND h.township_code < $3")
                .bind(x.line_id)
                .bind(lo)
                .bind(hi),
            )
            .await?
            .map(|r| r.i64("household_id"))
            .transpose()?;
        if let Some(h) = household {
            tx.execute(
                q("UPDATE households SET bank_name = $2, account_number = $3, account_holder = $4,
                     updated_at = $5 WHERE id = $1")
                .bind(h)
                .bind(bank.as_str())
                .bind(account.as_str())
                .bind(holder.as_str())
                .bind(now.as_str()),
            )
            .await?;
        }
        use minzheng_domain::registry::mask_account;
        audit(
            &mut tx,
            actor,
            "payroll.exception.correct",
            "payment_exception",
            &id.to_string(),
            &x.township_code,
            Some(
                serde_json::json!({"status": x.status, "bank_name": x.original_bank_name,
                "account_number": mask_account(&x.original_account), "fail_reason": x.fail_reason}),
            ),
            Some(serde_json::json!({"status": "ready", "bank_name": bank,
                "account_number": mask_account(&account), "account_holder": holder,
                "household_id": household, "note": c.note.trim()})),
        )
        .await?;
        tx.commit().await?;
        self.get_exception(&actor.scope, id).await
    }

    // ------------------------------------------------------------ back pay (补发)

    /// Staff request back pay for a past month of an enrolment (e.g. approved late). The
    /// amount defaults to the enrolment's monthly amount. A month already planned or paid
    /// for the beneficiary is refused.
    pub async fn request_back_pay(&self, actor: &Actor, r: &NewBackPay) -> StoreResult<BackPay> {
        require(actor, CLERKS, "申请补发")?;
        let e = self
            .fetch_optional(
                q(
                    "SELECT id, program, township_code, beneficiary_id_number, beneficiary_name,
                          monthly_fen, start_month, end_month, payment
                   FROM enrolments WHERE id = $1",
                )
                .bind(r.enrolment_id),
            )
            .await?
            .ok_or(StoreError::NotFound("该保障对象"))?;
        let township = e.str("township_code")?;
        if !actor.scope.contains_str(&township) {
            return Err(StoreError::NotFound("该保障对象"));
        }
        let period = parse_month("period", &r.period)?;
        let start = e.str("start_month")?;
        let end = e.opt_str("end_month")?;
        let once = e.str("payment")? == "once";
        if period < start
            || end.as_deref().is_some_and(|end| period.as_str() > end)
            || (once && period != start)
        {
            return Err(StoreError::field(
                "period",
                format!("{period}不在该对象的保障期内（自{start}起）"),
            ));
        }
        let amount = if r.amount.trim().is_empty() {
            Fen(e.i64("monthly_fen")?)
        } else {
            Fen::parse_yuan(&r.amount).map_err(|_| {
                StoreError::field("amount", "补发金额格式不正确，应为如356.50的金额")
            })?
        };
        if amount.0 <= 0 {
            return Err(StoreError::field("amount", "补发金额必须大于0"));
        }
        let reason = r.reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(StoreError::field("reason", "请填写补发原因（不超过500字）"));
        }
        let program = e.str("program")?;
        let id_number = e.str("beneficiary_id_number")?;
        let now = now();
        let mut tx = self.begin_write().await?;
        let planned = tx
            .fetch_optional(
                q(
                    "SELECT l.id FROM payroll_lines l WHERE l.beneficiary_id_number = $1
                   AND l.program = $2 AND l.period = $3 AND l.kind <> 'reissue'",
                )
                .bind(id_number.as_str())
                .bind(program.as_str())
                .bind(period.as_str()),
            )
            .await?;
        if planned.is_some() {
            return Err(StoreError::Conflict(format!(
                "{period}的待遇已列入发放批次，不能重复补发"
            )));
        }
        let id = match tx
            .fetch_one(
                q(
                    "INSERT INTO payroll_adjustments (enrolment_id, program, township_code, period,
                     amount_fen, reason, case_id, status, requested_by, requested_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9) RETURNING id",
                )
                .bind(r.enrolment_id)
                .bind(program.as_str())
                .bind(township.as_str())
                .bind(period.as_str())
                .bind(amount.0)
                .bind(reason)
                .bind(r.case_id)
                .bind(actor.username.as_str())
                .bind(now.as_str()),
            )
            .await
        {
            Ok(row) => row.i64("id")?,
            Err(e) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(format!("该对象{period}已有补发申请")))
            }
            Err(e) => return Err(e),
        };
        audit(
            &mut tx,
            actor,
            "payroll.back_pay.request",
            "payroll_adjustment",
            &id.to_string(),
            &township,
            None,
            Some(
                serde_json::json!({"enrolment_id": r.enrolment_id, "period": period,
                "amount_fen": amount.0, "reason": reason, "case_id": r.case_id}),
            ),
        )
        .await?;
        tx.commit().await?;
        self.get_back_pay(&actor.scope, id).await
    }

    /// The director approves or rejects a pending back-pay request.
    pub async fn decide_back_pay(
        &self,
        actor: &Actor,
        id: i64,
        approve: bool,
    ) -> StoreResult<BackPay> {
        let a = self.get_back_pay(&actor.scope, id).await?;
        require(actor, DIRECTORS, "审批补发")?;
        // Four eyes: whoever asked for the money does not also approve it.
        if a.requested_by == actor.username {
            return Err(StoreError::Forbidden(
                "不能审批本人提出的补发申请，请由其他有审批权限的人员审批".into(),
            ));
        }
        let to = if approve { "approved" } else { "rejected" };
        let now = now();
        let mut tx = self.begin_write().await?;
        let n = tx
            .execute(
                q(
                    "UPDATE payroll_adjustments SET status = $2, decided_by = $3, decided_at = $4
                   WHERE id = $1 AND status = 'pending'",
                )
                .bind(id)
                .bind(to)
                .bind(actor.username.as_str())
                .bind(now.as_str()),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict("该补发申请已审批".into()));
        }
        audit(
            &mut tx,
            actor,
            "payroll.back_pay.decide",
            "payroll_adjustment",
            &id.to_string(),
            &a.township_code,
            Some(serde_json::json!({"status": "pending"})),
            Some(serde_json::json!({"status": to, "period": a.period, "amount_fen": a.amount.0})),
        )
        .await?;
        tx.commit().await?;
        self.get_back_pay(&actor.scope, id).await
    }

    pub async fn get_back_pay(&self, scope: &Scope, id: i64) -> StoreResult<BackPay> {
        let r = self
            .fetch_optional(q(format!("{SELECT_BACK_PAY} WHERE a.id = $1")).bind(id))
            .await?
            .ok_or(StoreError::NotFound("该补发记录"))?;
        let a = back_pay_from_row(&r)?;
        if !scope.contains_str(&a.township_code) {
            return Err(StoreError::NotFound("该补发记录"));
        }
        Ok(a)
    }

    pub async fn list_back_pay(&self, scope: &Scope) -> StoreResult<Vec<BackPay>> {
        let (lo, hi) = scope.bounds();
        self.fetch_all(
            q(format!(
                "{SELECT_BACK_PAY} WHERE a.township_code >= $1 AND a.township_code < $2
                 ORDER BY a.id DESC LIMIT 2000"
            ))
            .bind(lo)
            .bind(hi),
        )
        .await?
        .iter()
        .map(back_pay_from_row)
        .collect()
    }

    // ------------------------------------------------------------ funds ledger

    /// Where the month's payroll stands in the scope, for the dashboard: batches by state,
    /// the planned amount, 退票 waiting for a correction or a re-issue, back pay waiting for
    /// the director.
    pub async fn payroll_overview(
        &self,
        scope: &Scope,
        month: YearMonth,
    ) -> StoreResult<PayrollOverview> {
        let (lo, hi) = scope.bounds();
        let mut out = PayrollOverview {
            month: month.to_string(),
            ..Default::default()
        };
        for r in self
            .fetch_all(
                q("SELECT status, COUNT(*) AS n, CAST(COALESCE(SUM(planned_fen), 0) AS BIGINT) AS fen
                   FROM payroll_batches
                   WHERE month = $1 AND township_code >= $2 AND township_code < $3
                   GROUP BY status")
                .bind(out.month.as_str())
                .bind(lo.as_str())
                .bind(hi.as_str()),
            )
            .await?
        {
            let n = r.i64("n")?;
            out.batches += n;
            out.planned = Fen(out.planned.0 + r.i64("fen")?);
            match r.str("status")?.as_str() {
                "draft" => out.drafts += n,
                "signed_off" => out.signed_off += n,
                "exported" => out.exported += n,
                _ => out.reconciled += n,
            }
        }
        for r in self
            .fetch_all(
                q("SELECT status, COUNT(*) AS n FROM payment_exceptions
                   WHERE status IN ('open', 'ready') AND township_code >= $1 AND township_code < $2
                   GROUP BY status")
                .bind(lo.as_str())
                .bind(hi.as_str()),
            )
            .await?
        {
            if r.str("status")? == "open" {
                out.open_exceptions = r.i64("n")?;
            } else {
                out.ready_exceptions = r.i64("n")?;
            }
        }
        out.pending_back_pay = self
            .fetch_one(
                q("SELECT COUNT(*) AS n FROM payroll_adjustments
                   WHERE status = 'pending' AND township_code >= $1 AND township_code < $2")
                .bind(lo.as_str())
                .bind(hi.as_str()),
            )
            .await?
            .i64("n")?;
        Ok(out)
    }

    /// The funds ledger (资金台账): per month, program and township, what was planned, paid,
    /// failed and re-issued. Read from the batch counters, so it is cheap at any size.
    pub async fn funds_ledger(
        &self,
        scope: &Scope,
        f: &LedgerFilter,
    ) -> StoreResult<Vec<LedgerRow>> {
        let (lo, hi) = bounds_within(scope, f.within.as_deref())?;
        let mut query = q(
            "SELECT b.month, b.program, b.township_code, MAX(d.name) AS township_name,
                    COUNT(*) AS batches,
                    CAST(SUM(b.line_count) AS BIGINT) AS lines,
                    CAST(SUM(b.planned_fen) AS BIGINT) AS planned_fen,
                    CAST(SUM(b.paid_count) AS BIGINT) AS paid_count,
                    CAST(SUM(b.paid_fen) AS BIGINT) AS paid_fen,
                    CAST(SUM(b.failed_count) AS BIGINT) AS failed_count,
                    CAST(SUM(b.failed_fen) AS BIGINT) AS failed_fen,
                    CAST(SUM(b.reissue_count) AS BIGINT) AS reissue_count,
                    CAST(SUM(b.reissue_fen) AS BIGINT) AS reissue_fen
             FROM payroll_batches b LEFT JOIN divisions d ON d.code = b.township_code
             WHERE b.township_code >= $1 AND b.township_code < $2",
        )
        .bind(lo)
        .bind(hi);
        for (cond, v) in [
            ("b.month >= ", &f.from),
            ("b.month <= ", &f.to),
            ("b.program = ", &f.program),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                query.push(v);
                query
                    .sql
                    .push_str(&format!(" AND {cond}${}", query.args.len()));
            }
        }
        query.sql.push_str(
            " GROUP BY b.month, b.program, b.township_code ORDER BY b.month, b.program, b.township_code",
        );
        self.fetch_all(query)
            .await?
            .iter()
            .map(|r| {
                let program = r.str("program")?;
                Ok(LedgerRow {
                    month: r.str("month")?,
                    program_label: program_label(&program),
                    program,
                    township_code: r.str("township_code")?,
                    township_name: r.opt_str("township_name")?.unwrap_or_default(),
                    batches: r.i64("batches")?,
                    lines: r.i64("lines")?,
                    planned: Fen(r.i64("planned_fen")?),
                    paid_count: r.i64("paid_count")?,
                    paid: Fen(r.i64("paid_fen")?),
                    failed_count: r.i64("failed_count")?,
                    failed: Fen(r.i64("failed_fen")?),
                    reissue_count: r.i64("reissue_count")?,
                    reissued: Fen(r.i64("reissue_fen")?),
                })
            })
            .collect()
    }

    /// Audits an export of payroll data (the ledger workbook).
    pub async fn audit_payroll_export(
        &self,
        actor: &Actor,
        what: &str,
        rows: usize,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        audit(
            &mut tx,
            actor,
            "payroll.export",
            "export",
            what,
            actor.scope.code_str(),
            None,
            Some(serde_json::json!({"what": what, "rows": rows})),
        )
        .await?;
        tx.commit().await
    }
}

const SELECT_BACK_PAY: &str = "SELECT a.*, e.beneficiary_name FROM payroll_adjustments a
    JOIN enrolments e ON e.id = a.enrolment_id";

fn back_pay_from_row(r: &DbRow) -> StoreResult<BackPay> {
    let program = r.str("program")?;
    let status = r.str("status")?;
    Ok(BackPay {
        id: r.i64("id")?,
        enrolment_id: r.i64("enrolment_id")?,
        program_label: program_label(&program),
        program,
        township_code: r.str("township_code")?,
        beneficiary_name: r.str("beneficiary_name")?,
        period: r.str("period")?,
        amount: Fen(r.i64("amount_fen")?),
        reason: r.str("reason")?,
        case_id: r.opt_i64("case_id")?,
        status_label: adjustment_status_label(&status),
        status,
        requested_by: r.str("requested_by")?,
        decided_by: r.opt_str("decided_by")?,
        line_id: r.opt_i64("line_id")?,
    })
}

struct EnrolmentFacts {
    status: String,
    start_month: String,
    end_month: Option<String>,
    grace_until: Option<String>,
    payment: String,
    township_code: String,
    case_id: Option<i64>,
    case_no: Option<String>,
    case_kind: Option<String>,
    last_case_id: Option<i64>,
    last_case_no: Option<String>,
    last_case_kind: Option<String>,
}

fn case_kind_label(k: Option<&str>) -> &'static str {
    match k {
        Some("new") => "新申请",
        Some("review") => "复核",
        Some("change") => "变更",
        _ => "案件",
    }
}

/// The reason for one change, and the case behind it.
fn explain(
    change: &str,
    f: Option<&EnrolmentFacts>,
    month: &str,
    line: &PayrollLine,
) -> (String, Option<i64>, Option<String>) {
    let Some(f) = f else {
        return ("保障对象记录已不存在".into(), None, None);
    };
    // The latest case about the enrolment (review, change, stop) explains a stop or a new
    // amount; the case that created it explains a new entry.
    let (case_id, case_no, kind) = match change {
        "new" => (f.case_id, f.case_no.clone(), f.case_kind.as_deref()),
        _ => match f.last_case_id {
            Some(id) => (
                Some(id),
                f.last_case_no.clone(),
                f.last_case_kind.as_deref(),
            ),
            None => (f.case_id, f.case_no.clone(), f.case_kind.as_deref()),
        },
    };
    let by_case = case_no
        .as_deref()
        .map(|n| format!("{}案件{n}", case_kind_label(kind)));
    let text = match change {
        "new" => {
            let start = if f.start_month.as_str() < month {
                format!("自{}起享受（以前月份另行补发）", f.start_month)
            } else {
                format!("自{}起享受", f.start_month)
            };
            match &by_case {
                Some(c) => format!("{c}批准，{start}"),
                None => format!("新纳入，{start}"),
            }
        }
        "changed" => match &by_case {
            Some(c) => format!("{c}调整保障金额"),
            None => "保障金额调整".into(),
        },
        _ => {
            let why = if f.status == "ended" {
                match &f.end_month {
                    Some(e) => format!("已终止保障（{e}止）"),
                    None => "已终止保障".into(),
                }
            } else if f.status == "suspended" {
                "暂停发放".into()
            } else if f.status == "grace" && f.grace_until.as_deref().is_some_and(|g| g < month) {
                format!(
                    "渐退期满（至{}）",
                    f.grace_until.as_deref().unwrap_or_default()
                )
            } else if f.end_month.as_deref().is_some_and(|e| e < month) {
                format!(
                    "保障期满（{}止）",
                    f.end_month.as_deref().unwrap_or_default()
                )
            } else if f.payment == "once" {
                "一次性发放，已发".into()
            } else if f.township_code != line.township_code {
                "已迁出本乡镇（街道）".into()
            } else {
                "本月已在其他批次发放".into()
            };
            match &by_case {
                Some(c) => format!("{c}：{why}"),
                None => why,
            }
        }
    };
    (text, case_id, case_no)
}

/// The months of the ledger and, per program, the planned amount (fen) of each month: the
/// chart's data.
pub fn ledger_series(rows: &[LedgerRow]) -> (Vec<String>, BTreeMap<String, Vec<i64>>) {
    let mut months: Vec<String> = rows.iter().map(|r| r.month.clone()).collect();
    months.sort();
    months.dedup();
    let index: HashMap<&str, usize> = months
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let mut series: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in rows {
        let v = series
            .entry(r.program_label.clone())
            .or_insert_with(|| vec![0; months.len()]);
        v[index[r.month.as_str()]] += r.planned.0;
    }
    (months, series)
}
