//! Spreadsheets of the registry: the import template, the error report, the unified ledger
//! export, and the synthetic ledger generator (demo data and benchmarks).

use std::collections::{HashMap, HashSet};

use minzheng_domain::registry::{
    mask_account, AssetKind, Column, DisabilityType, Employment, ExclusionReason, Health,
    IncomeKind, IncomePeriod, PersonStatus, RegistrationType, Relation, WorkCapacity,
};
use minzheng_domain::{Fen, IdNumber};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_xlsxwriter::{DataValidation, Format, Note, Workbook, XlsxError};

use crate::audit::{append, AuditEvent};
use crate::db::{q, Store};
use crate::error::{StoreError, StoreResult};
use crate::registry::mask_id;
use crate::registry_import::ImportReport;
use minzheng_domain::{Actor, Scope};

fn xerr(e: XlsxError) -> StoreError {
    StoreError::Internal(format!("生成Excel文件失败：{e}"))
}

/// Choices offered as drop-downs in the template.
fn choices(c: Column) -> Option<Vec<&'static str>> {
    fn labels<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|v| f(*v)).collect()
    }
    Some(match c {
        Column::RegistrationType => labels(RegistrationType::ALL, RegistrationType::label),
        Column::Relation => labels(Relation::ALL, Relation::label),
        Column::Counted => vec!["是", "否"],
        Column::ExclusionReason => labels(ExclusionReason::ALL, ExclusionReason::label),
        Column::DisabilityType => labels(DisabilityType::ALL, DisabilityType::label),
        Column::DisabilityGrade => vec!["1", "2", "3", "4"],
        Column::Health => labels(Health::ALL, Health::label),
        Column::WorkCapacity => labels(WorkCapacity::ALL, WorkCapacity::label),
        Column::Employment => labels(Employment::ALL, Employment::label),
        Column::Status => labels(PersonStatus::ALL, PersonStatus::label),
        _ => return None,
    })
}

fn text_columns() -> [Column; 5] {
    [
        Column::HeadId,
        Column::IdNumber,
        Column::Village,
        Column::Account,
        Column::Phone,
    ]
}

/// The import template: the header row with a note on each column, drop-downs for coded
/// columns, ID/account columns formatted as text, and a sheet of instructions.
pub fn import_template() -> StoreResult<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold().set_background_color(0xDDEBF7);
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name("家庭成员").map_err(xerr)?;
    for (j, c) in Column::ALL.into_iter().enumerate() {
        let j = j as u16;
        let header = if c.required() {
            format!("{}*", c.header())
        } else {
            c.header().to_string()
        };
        ws.write_string_with_format(0, j, &header, &bold)
            .map_err(xerr)?;
        ws.set_column_width(j, 16).map_err(xerr)?;
        ws.insert_note(0, j, &Note::new(c.note()).set_author("minzheng"))
            .map_err(xerr)?;
        if text_columns().contains(&c) {
            ws.set_column_format(j, &text).map_err(xerr)?;
            ws.set_column_width(j, 22).map_err(xerr)?;
        }
        if let Some(list) = choices(c) {
            let dv = DataValidation::new()
                .allow_list_strings(&list)
                .map_err(xerr)?
                .set_error_title("请从下拉列表中选择")
                .map_err(xerr)?;
            ws.add_data_validation(1, j, 50_000, j, &dv).map_err(xerr)?;
        }
    }
    ws.set_freeze_panes(1, 0).map_err(xerr)?;
    let help = wb.add_worksheet();
    help.set_name("填写说明").map_err(xerr)?;
    help.set_column_width(0, 100).map_err(xerr)?;
    let lines = [
        "户籍台账导入模板：每行一名家庭成员；同一户各行的“户主身份证号”相同，系统据此分户。"
            .to_string(),
        "带*的列必填。户主所在行填写户籍类型、住址、电话、开户银行、银行账号、账户户名。"
            .to_string(),
        "身份证号、银行账号请保持“文本”格式，否则Excel会把号码变成科学计数法并丢失后几位。"
            .to_string(),
        "日期可写成 2024-01-05、2024/1/5、2024年1月5日 或 20240105。金额单位为元。".to_string(),
        "同一文件可重复导入：已登记的人员按身份证号更新，不会重复登记。".to_string(),
    ];
    for (i, l) in lines.iter().enumerate() {
        help.write_string(i as u32, 0, l).map_err(xerr)?;
    }
    wb.save_to_buffer().map_err(xerr)
}

/// The error report of an import as a workbook: row, column, value, reason.
pub fn import_report_xlsx(report: &ImportReport) -> StoreResult<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("错误报告").map_err(xerr)?;
    ws.write_string(0, 0, report.summary()).map_err(xerr)?;
    for (j, h) in ["行号", "列", "内容", "原因"].iter().enumerate() {
        ws.write_string_with_format(2, j as u16, *h, &bold)
            .map_err(xerr)?;
    }
    ws.set_column_width(1, 18).map_err(xerr)?;
    ws.set_column_width(2, 24).map_err(xerr)?;
    ws.set_column_width(3, 80).map_err(xerr)?;
    for (i, is) in report.issues.iter().enumerate() {
        let r = 3 + i as u32;
        if is.row > 0 {
            ws.write_number(r, 0, is.row as f64).map_err(xerr)?;
        } else {
            ws.write_string(r, 0, "整个文件").map_err(xerr)?;
        }
        ws.write_string(r, 1, &is.column).map_err(xerr)?;
        ws.write_string(r, 2, &is.value).map_err(xerr)?;
        ws.write_string(r, 3, &is.reason).map_err(xerr)?;
    }
    wb.save_to_buffer().map_err(xerr)
}

/// Writes rows in template column order as an .xlsx (ID and account columns as text).
pub fn ledger_xlsx(rows: &[Vec<String>]) -> StoreResult<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name("家庭成员").map_err(xerr)?;
    for (j, c) in Column::ALL.into_iter().enumerate() {
        ws.write_string_with_format(0, j as u16, c.header(), &bold)
            .map_err(xerr)?;
        if text_columns().contains(&c) {
            ws.set_column_format(j as u16, &text).map_err(xerr)?;
        }
    }
    for (i, row) in rows.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(i as u32 + 1, j as u16, v).map_err(xerr)?;
            }
        }
    }
    wb.save_to_buffer().map_err(xerr)
}

/// Writes rows in template column order as UTF-8 CSV with a BOM (so Excel opens it right).
pub fn ledger_csv(rows: &[Vec<String>]) -> StoreResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let io = |e: csv::Error| StoreError::Internal(format!("生成CSV失败：{e}"));
    w.write_record(Column::ALL.iter().map(|c| c.header()))
        .map_err(io)?;
    for r in rows {
        w.write_record(r).map_err(io)?;
    }
    w.into_inner()
        .map_err(|e| StoreError::Internal(format!("生成CSV失败：{e}")))
}

impl Store {
    /// The unified ledger of the scope (optionally narrowed to `within`), one row per
    /// person in the import layout. ID numbers and accounts are masked unless the actor's
    /// role may see them. Every export is audited.
    pub async fn export_households(
        &self,
        actor: &Actor,
        within: Option<&str>,
    ) -> StoreResult<(Vec<Vec<String>>, usize)> {
        let scope = match within.map(str::trim).filter(|w| !w.is_empty()) {
            Some(w) => {
                let code = minzheng_domain::DivisionCode::parse_native(w)
                    .map_err(|_| StoreError::field("scope", "区划代码有误"))?;
                if !actor.scope.contains_str(w) {
                    return Err(StoreError::NotFound("该区划"));
                }
                Scope::of(code)
            }
            None => actor.scope.clone(),
        };
        let full = actor.role.is_none_or(|r| r.sees_full_identity());
        let (lo, hi) = scope.bounds();
        let col = match scope.code() {
            Some(c) if c.as_str().len() > 9 => "h.village_code",
            _ => "h.township_code",
        };
        let rows = self
            .fetch_all(
                q(format!(
                    "SELECT p.id AS pid, p.*, h.head_id_number, h.village_code, h.registration_type,
                        h.address, h.phone, h.bank_name, h.account_number, h.account_holder
                     FROM persons p JOIN households h ON h.id = p.household_id
                     WHERE {col} >= $1 AND {col} < $2
                     ORDER BY h.id, CASE p.relation WHEN 'head' THEN 0 ELSE 1 END, p.id"
                ))
                .bind(lo.as_str())
                .bind(hi.as_str()),
            )
            .await?;
        let mut income: HashMap<(i64, String, String), i64> = HashMap::new();
        for r in self
            .fetch_all(
                q(format!(
                    "SELECT i.person_id, i.kind, i.period, CAST(SUM(i.amount_fen) AS BIGINT) AS s FROM incomes i
                     JOIN households h ON h.id = i.household_id
                     WHERE {col} >= $1 AND {col} < $2 AND i.person_id IS NOT NULL
                     GROUP BY i.person_id, i.kind, i.period"
                ))
                .bind(lo.as_str())
                .bind(hi.as_str()),
            )
            .await?
        {
            income.insert(
                (r.i64("person_id")?, r.str("kind")?, r.str("period")?),
                r.i64("s")?,
            );
        }
        let mut asset: HashMap<(i64, String), i64> = HashMap::new();
        for r in self
            .fetch_all(
                q(format!(
                    "SELECT a.person_id, a.kind, CAST(SUM(a.value_fen) AS BIGINT) AS s FROM assets a
                     JOIN households h ON h.id = a.household_id
                     WHERE {col} >= $1 AND {col} < $2 AND a.person_id IS NOT NULL
                     GROUP BY a.person_id, a.kind"
                ))
                .bind(lo.as_str())
                .bind(hi.as_str()),
            )
            .await?
        {
            asset.insert((r.i64("person_id")?, r.str("kind")?), r.i64("s")?);
        }
        let money = |v: Option<&i64>| v.map(|f| Fen(*f).yuan_string()).unwrap_or_default();
        let mut out = Vec::with_capacity(rows.len());
        let mut households = HashSet::new();
        for r in &rows {
            let pid = r.i64("pid")?;
            households.insert(r.i64("household_id")?);
            let head = r.str("head_id_number")?;
            let id = r.str("id_number")?;
            let acc = r.str("account_number")?;
            let is_head = r.str("relation")? == "head";
            let hh = |v: String| if is_head { v } else { String::new() };
            let inc = |k: IncomeKind, p: IncomePeriod| {
                money(income.get(&(pid, k.code().to_string(), p.code().to_string())))
            };
            let ast = |k: AssetKind| money(asset.get(&(pid, k.code().to_string())));
            let row: Vec<String> = Column::ALL
                .into_iter()
                .map(|c| match c {
                    Column::HeadId => {
                        if full {
                            head.clone()
                        } else {
                            mask_id(&head)
                        }
                    }
                    Column::Village => r.str("village_code").unwrap_or_default(),
                    Column::RegistrationType => hh(RegistrationType::from_code(
                        &r.str("registration_type").unwrap_or_default(),
                    )
                    .label()
                    .into()),
                    Column::Address => hh(r.str("address").unwrap_or_default()),
                    Column::Phone => hh(r.str("phone").unwrap_or_default()),
                    Column::Bank => hh(r.str("bank_name").unwrap_or_default()),
                    Column::Account => hh(if full {
                        acc.clone()
                    } else {
                        mask_account(&acc)
                    }),
                    Column::AccountHolder => hh(r.str("account_holder").unwrap_or_default()),
                    Column::Name => r.str("name").unwrap_or_default(),
                    Column::IdNumber => {
                        if full {
                            id.clone()
                        } else {
                            mask_id(&id)
                        }
                    }
                    Column::Relation => Relation::from_code(&r.str("relation").unwrap_or_default())
                        .label()
                        .into(),
                    Column::Counted => {
                        if r.bool("counted").unwrap_or(true) {
                            "是".into()
                        } else {
                            "否".into()
                        }
                    }
                    Column::ExclusionReason => r
                        .opt_str("exclusion_reason")
                        .ok()
                        .flatten()
                        .filter(|s| !s.is_empty())
                        .map(|s| ExclusionReason::from_code(&s).label().to_string())
                        .unwrap_or_default(),
                    Column::DisabilityType => {
                        DisabilityType::from_code(&r.str("disability_type").unwrap_or_default())
                            .label()
                            .into()
                    }
                    Column::DisabilityGrade => r
                        .opt_i64("disability_grade")
                        .ok()
                        .flatten()
                        .map(|g| g.to_string())
                        .unwrap_or_default(),
                    Column::Health => Health::from_code(&r.str("health").unwrap_or_default())
                        .label()
                        .into(),
                    Column::WorkCapacity => {
                        WorkCapacity::from_code(&r.str("work_capacity").unwrap_or_default())
                            .label()
                            .into()
                    }
                    Column::Employment => {
                        Employment::from_code(&r.str("employment").unwrap_or_default())
                            .label()
                            .into()
                    }
                    Column::Status => PersonStatus::from_code(&r.str("status").unwrap_or_default())
                        .label()
                        .into(),
                    Column::StatusDate => {
                        r.opt_str("status_date").ok().flatten().unwrap_or_default()
                    }
                    Column::WageMonthly => inc(IncomeKind::Wage, IncomePeriod::Monthly),
                    Column::BusinessMonthly => inc(IncomeKind::Business, IncomePeriod::Monthly),
                    Column::TransferMonthly => inc(IncomeKind::Transfer, IncomePeriod::Monthly),
                    Column::OtherAnnual => inc(IncomeKind::Other, IncomePeriod::Annual),
                    Column::Deposit => ast(AssetKind::Deposit),
                    Column::Vehicle => ast(AssetKind::Vehicle),
                    Column::Housing => ast(AssetKind::Housing),
                })
                .collect();
            out.push(row);
        }
        let mut tx = self.begin_write().await?;
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "registry.export",
                entity_type: "export",
                entity_id: scope.code_str(),
                scope_code: scope.code_str(),
                before: None,
                after: Some(serde_json::json!({
                    "persons": out.len(), "households": households.len(), "full_identity": full})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((out, households.len()))
    }
}

// ------------------------------------------------------------------ synthetic ledgers

/// Surnames with their approximate national frequency (per mille).
const SURNAMES: &[(&str, u32)] = &[
    ("王", 72),
    ("李", 72),
    ("张", 68),
    ("刘", 54),
    ("陈", 45),
    ("杨", 31),
    ("黄", 22),
    ("赵", 22),
    ("吴", 20),
    ("周", 20),
    ("徐", 16),
    ("孙", 15),
    ("马", 15),
    ("朱", 14),
    ("胡", 13),
    ("郭", 12),
    ("何", 12),
    ("林", 12),
    ("罗", 11),
    ("高", 11),
    ("郑", 10),
    ("梁", 10),
    ("谢", 9),
    ("宋", 8),
    ("唐", 8),
    ("许", 7),
    ("韩", 7),
    ("冯", 7),
    ("邓", 7),
    ("曹", 6),
    ("彭", 6),
    ("曾", 6),
    ("肖", 6),
    ("田", 5),
    ("董", 5),
    ("袁", 5),
    ("潘", 5),
    ("蒋", 5),
    ("蔡", 5),
    ("余", 5),
];
const MALE_CHARS: &[&str] = &[
    "伟", "强", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "建", "国",
    "峰", "磊", "波", "林", "文", "德", "海", "荣", "志", "兵", "成", "春", "学", "军",
];
const FEMALE_CHARS: &[&str] = &[
    "芳", "娟", "敏", "静", "丽", "艳", "秀", "英", "霞", "燕", "玲", "桂", "兰", "萍", "红", "梅",
    "琴", "云", "莲", "珍", "婷", "雪", "慧", "莉", "倩", "琳", "洁", "颖", "华", "凤",
];
const ROADS: &[&str] = &[
    "和平路",
    "人民路",
    "新华街",
    "建设路",
    "幸福巷",
    "团结路",
    "胜利街",
];
const BANKS: &[&str] = &[
    "中国农业银行",
    "中国邮政储蓄银行",
    "四川农村商业联合银行",
    "中国工商银行",
    "中国建设银行",
];

struct Gen {
    rng: StdRng,
    used: HashSet<String>,
    surname_total: u32,
}

impl Gen {
    fn surname(&mut self) -> &'static str {
        let mut x = self.rng.gen_range(0..self.surname_total);
        for (s, w) in SURNAMES {
            if x < *w {
                return s;
            }
            x -= w;
        }
        "王"
    }

    fn given(&mut self, male: bool) -> String {
        let pool = if male { MALE_CHARS } else { FEMALE_CHARS };
        let n = if self.rng.gen_bool(0.7) { 2 } else { 1 };
        (0..n)
            .map(|_| pool[self.rng.gen_range(0..pool.len())])
            .collect()
    }

    /// A valid, unused ID number for a county, birth date and gender.
    fn id(&mut self, county: &str, birth: chrono::NaiveDate, male: bool) -> String {
        loop {
            let seq2: u32 = self.rng.gen_range(0..100);
            let last = self.rng.gen_range(0..5) * 2 + u32::from(male);
            let first17 = format!("{county}{}{seq2:02}{last}", birth.format("%Y%m%d"));
            let check = IdNumber::check_char(first17.as_bytes()).expect("17 digits");
            let id = format!("{first17}{}", check as char);
            if self.used.insert(id.clone()) {
                return id;
            }
        }
    }

    fn birth(&mut self, year: i32) -> chrono::NaiveDate {
        let doy = self.rng.gen_range(0..365);
        chrono::NaiveDate::from_ymd_opt(year, 1, 1).expect("valid") + chrono::Duration::days(doy)
    }

    fn money(&mut self, lo: i64, hi: i64) -> String {
        Fen(self.rng.gen_range(lo..hi) * 100).yuan_string()
    }
}

/// The villages of the demo city (12-digit codes).
pub fn demo_villages() -> Vec<String> {
    crate::DEMO_CITY_CSV
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|c| c.len() == 12)
        .map(str::to_string)
        .collect()
}

/// A realistic synthetic ledger in the import layout: `households` households spread over
/// `villages`, deterministic for `seed`. Birth dates fit the relations; ID numbers are valid
/// and unique; incomes and assets have plausible spreads.
pub fn generate_ledger(households: usize, seed: u64, villages: &[String]) -> Vec<Vec<String>> {
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
        used: HashSet::new(),
        surname_total: SURNAMES.iter().map(|(_, w)| w).sum(),
    };
    let this_year = 2025;
    let mut rows = Vec::with_capacity(households * 3);
    let col = |c: Column| Column::ALL.iter().position(|x| *x == c).expect("column");
    for _ in 0..households {
        let village = &villages[g.rng.gen_range(0..villages.len())];
        let county = &village[..6];
        let head_male = g.rng.gen_bool(0.75);
        let head_year = this_year - g.rng.gen_range(25..86);
        let head_birth = g.birth(head_year);
        let surname = g.surname();
        let head_name = format!("{surname}{}", g.given(head_male));
        let head_id = g.id(county, head_birth, head_male);
        let rural = g.rng.gen_bool(0.65);
        // (name, id, relation, birth year, male)
        let mut members: Vec<(String, String, Relation, i32)> = vec![(
            head_name.clone(),
            head_id.clone(),
            Relation::Head,
            head_year,
        )];
        if g.rng.gen_bool(0.8) && this_year - head_year > 22 {
            let y = (head_year + g.rng.gen_range(-4..5)).min(this_year - 20);
            let b = g.birth(y);
            let s = g.surname();
            let name = format!("{s}{}", g.given(!head_male));
            let id = g.id(county, b, !head_male);
            members.push((name, id, Relation::Spouse, y));
        }
        let kids = g.rng.gen_range(0..4);
        for _ in 0..kids {
            let y = head_year + g.rng.gen_range(20..40);
            if y > this_year - 1 {
                continue;
            }
            let b = g.birth(y);
            let male = g.rng.gen_bool(0.5);
            let name = format!("{surname}{}", g.given(male));
            let id = g.id(county, b, male);
            members.push((name, id, Relation::Child, y));
        }
        if g.rng.gen_bool(0.15) && head_year > 1950 {
            let y = head_year - g.rng.gen_range(20..35);
            let b = g.birth(y);
            let male = g.rng.gen_bool(0.4);
            let name = format!("{surname}{}", g.given(male));
            let id = g.id(county, b, male);
            members.push((name, id, Relation::Parent, y));
        }
        for (name, id, rel, year) in members {
            let age = this_year - year;
            let mut row = vec![String::new(); Column::ALL.len()];
            row[col(Column::HeadId)] = head_id.clone();
            row[col(Column::Village)] = village.clone();
            row[col(Column::Name)] = name;
            row[col(Column::IdNumber)] = id;
            row[col(Column::Relation)] = rel.label().into();
            if rel == Relation::Head {
                row[col(Column::RegistrationType)] = if rural { "农村" } else { "城镇" }.into();
                row[col(Column::Address)] = format!(
                    "{}{}号",
                    ROADS[g.rng.gen_range(0..ROADS.len())],
                    g.rng.gen_range(1..300)
                );
                row[col(Column::Phone)] = format!(
                    "1{}{:09}",
                    g.rng.gen_range(3..9),
                    g.rng.gen_range(0..1_000_000_000u64)
                );
                row[col(Column::Bank)] = BANKS[g.rng.gen_range(0..BANKS.len())].into();
                row[col(Column::Account)] =
                    format!("6217{:015}", g.rng.gen_range(0..1_000_000_000_000_000u64));
                row[col(Column::AccountHolder)] = head_name.clone();
                row[col(Column::Deposit)] = g.money(0, 60_000);
                if g.rng.gen_bool(0.12) {
                    row[col(Column::Vehicle)] = g.money(20_000, 150_000);
                }
                if g.rng.gen_bool(0.3) {
                    row[col(Column::Housing)] = g.money(80_000, 600_000);
                }
            }
            let counted = g.rng.gen_bool(0.97) || rel == Relation::Head;
            row[col(Column::Counted)] = if counted { "是" } else { "否" }.into();
            if !counted {
                row[col(Column::ExclusionReason)] = ExclusionReason::Conscript.label().into();
            }
            if g.rng.gen_bool(0.06) {
                let types = &DisabilityType::ALL[1..];
                row[col(Column::DisabilityType)] =
                    types[g.rng.gen_range(0..types.len())].label().into();
                row[col(Column::DisabilityGrade)] = g.rng.gen_range(1..5).to_string();
            } else {
                row[col(Column::DisabilityType)] = DisabilityType::None.label().into();
            }
            row[col(Column::Health)] = if g.rng.gen_bool(0.08) {
                Health::Serious
            } else if g.rng.gen_bool(0.2) && age > 50 {
                Health::Chronic
            } else {
                Health::Healthy
            }
            .label()
            .into();
            let (emp, wc) = match age {
                0..=6 => (Employment::Preschool, WorkCapacity::None),
                7..=17 => (Employment::Student, WorkCapacity::None),
                18..=59 if g.rng.gen_bool(0.1) => (Employment::Unemployed, WorkCapacity::Full),
                18..=59 if rural => (Employment::Farming, WorkCapacity::Full),
                18..=59 => (Employment::Employed, WorkCapacity::Full),
                _ => (Employment::Retired, WorkCapacity::Partial),
            };
            row[col(Column::Employment)] = emp.label().into();
            row[col(Column::WorkCapacity)] = wc.label().into();
            row[col(Column::Status)] = PersonStatus::Active.label().into();
            match emp {
                Employment::Employed => row[col(Column::WageMonthly)] = g.money(1_800, 7_000),
                Employment::Farming => {
                    row[col(Column::BusinessMonthly)] = g.money(300, 2_500);
                    if g.rng.gen_bool(0.3) {
                        row[col(Column::WageMonthly)] = g.money(800, 3_000);
                    }
                }
                Employment::Retired => row[col(Column::TransferMonthly)] = g.money(150, 3_500),
                _ => {}
            }
            if g.rng.gen_bool(0.1) {
                row[col(Column::OtherAnnual)] = g.money(200, 5_000);
            }
            rows.push(row);
        }
    }
    rows
}

impl Store {
    /// Fills the demo city with `households` synthetic households (one import, one audit
    /// record) when the registry is still empty. Returns how many households were added.
    pub async fn seed_demo_registry(&self, households: usize, seed: u64) -> StoreResult<usize> {
        let (existing, _) = self.registry_counts(&Scope::all()).await?;
        if existing > 0 {
            return Ok(0);
        }
        let rows = generate_ledger(households, seed, &demo_villages());
        let report = self
            .import_households(
                &Actor::system("demo"),
                &crate::ImportInput::Bytes {
                    name: "demo-ledger.csv".into(),
                    data: ledger_csv(&rows)?,
                },
                &crate::ImportOptions {
                    max_bytes: u64::MAX,
                    ..Default::default()
                },
                &mut |_| {},
            )
            .await?;
        if !report.written {
            return Err(StoreError::Internal(format!(
                "演示台账导入失败：{:?}",
                report.issues.first()
            )));
        }
        Ok(report.households_created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_deterministic_and_valid() {
        let v = demo_villages();
        assert!(v.len() > 600);
        let a = generate_ledger(50, 7, &v);
        let b = generate_ledger(50, 7, &v);
        assert_eq!(a, b);
        assert_ne!(a, generate_ledger(50, 8, &v));
        let id = Column::ALL
            .iter()
            .position(|c| *c == Column::IdNumber)
            .unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        for r in &a {
            IdNumber::parse(&r[id], today).expect("valid id");
        }
    }

    #[test]
    fn template_is_a_workbook() {
        let bytes = import_template().unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }
}
