//! `minzheng stats month`: the month's statistics (统计月报) as the system sees them; and
//! `minzheng bench stats`: the report of a city of a million enrolments (with their
//! households and persons) and a month of signed-off payroll lines, against the floor (the
//! bare grouped count of the enrolments).

use std::process::ExitCode;
use std::time::Instant;

use clap::Subcommand;
use minzheng_app::bench::ScratchDb;
use minzheng_app::App;
use minzheng_domain::payroll::GenerateRequest;
use minzheng_domain::{Actor, YearMonth};

use crate::payroll::peak_rss_mb;
use crate::{CliError, CliResult};

#[derive(Subcommand)]
pub enum StatsCommand {
    /// 统计月报：城乡低保、特困、临时救助、医疗教育救助、高龄津贴、优抚及低保对象构成（按台账统计；已锁定的月份为锁定时的数据）
    Month {
        /// 统计月份（YYYY-MM）
        #[arg(long)]
        month: String,
        /// 区划代码（乡镇（街道）、县（区）或市），默认全部
        #[arg(long)]
        scope: Option<String>,
        /// 以JSON输出
        #[arg(long)]
        json: bool,
    },
}

fn month_of(m: &str) -> Result<YearMonth, CliError> {
    YearMonth::parse(m.trim()).map_err(|_| CliError(format!("月份“{m}”无效，格式应为YYYY-MM")))
}

pub async fn run(app: &App, cmd: StatsCommand) -> CliResult {
    let StatsCommand::Month { month, scope, json } = cmd;
    let month = month_of(&month)?;
    let r = app
        .stats()
        .month(&Actor::system("cli"), month, scope.as_deref())
        .await?;
    if json {
        println!("{}", serde_json::to_string(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} 统计月报（{}）{}",
        r.scope_name,
        r.month.label(),
        if r.locked.is_some() {
            "·已锁定"
        } else {
            ""
        }
    );
    let mut section = "";
    for row in &r.rows {
        if row.section != section {
            println!("{}", row.section);
            section = row.section;
        }
        println!(
            "  {}：{}{}",
            row.label,
            row.item.display(row.total),
            row.unit
        );
    }
    for w in &r.warnings {
        println!("提示：{}", w.message);
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// 统计月报性能测试：在临时数据库中生成N个保障对象（含家庭、成员和一个月已签发的发放明细），计时全市及各乡镇（街道）的月报，并与“保障对象按项目和乡镇分组计数”的裸查询基准比较
    Stats {
        #[arg(long, default_value_t = 1_000_000)]
        enrolments: i64,
        /// 在该PostgreSQL服务器上新建临时数据库测试（默认SQLite）
        #[arg(long)]
        postgres: Option<String>,
        /// 保留测试数据库（打印其地址），便于分析
        #[arg(long)]
        keep: bool,
    },
}

pub async fn bench(cmd: BenchCommand) -> CliResult {
    let BenchCommand::Stats {
        enrolments,
        postgres,
        keep,
    } = cmd;
    let backend = if postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let db = ScratchDb::create(postgres.as_deref(), "stats").await?;
    let app = App::open(&db.url).await?;
    app.demo().ensure().await?;
    let sys = Actor::system("bench");
    let month = month_of("2026-11")?;
    eprintln!("生成 {enrolments} 个保障对象（含家庭和成员）和 {month} 的发放明细（已签发）……");
    let t = Instant::now();
    app.payroll_bench()
        .enrolments(enrolments, minzheng_app::demo::DEMO_CITY_CODE, "2026-01")
        .await?;
    app.checks_bench().realistic_ids().await?;
    let persons = app.stats_bench().persons().await?;
    let out = app
        .payroll()
        .generate(
            &sys,
            &GenerateRequest {
                month,
                program: None,
                within: None,
            },
        )
        .await?;
    for b in &out.created {
        app.payroll().sign_off(&sys, b.id, None).await?;
    }
    app.payroll_bench().checkpoint().await?;
    eprintln!(
        "已生成（{:.1} 秒）：{persons} 名成员，{} 笔明细；开始统计……",
        t.elapsed().as_secs_f64(),
        out.lines
    );
    let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let (groups, floor_seconds) = app.stats_bench().floor().await?;
    let t = Instant::now();
    let r = app
        .stats()
        .month(&sys, month, Some(minzheng_app::demo::DEMO_CITY_CODE))
        .await?;
    let seconds = t.elapsed().as_secs_f64();
    let rss = peak_rss_mb();
    let t = Instant::now();
    let again = app
        .stats()
        .month(&sys, month, Some(minzheng_app::demo::DEMO_CITY_CODE))
        .await?;
    let again_seconds = t.elapsed().as_secs_f64();
    if again.rows.iter().map(|x| x.total).collect::<Vec<_>>()
        != r.rows.iter().map(|x| x.total).collect::<Vec<_>>()
    {
        return Err(CliError("两次统计结果不一致".into()));
    }
    app.close().await;
    if keep {
        eprintln!("测试数据库已保留：{}", db.url);
    } else {
        db.remove().await;
    }
    let households = r.total(minzheng_domain::stats::StatItem::UrbanHouseholds)
        + r.total(minzheng_domain::stats::StatItem::RuralHouseholds);
    let ratio = seconds / floor_seconds.max(1e-9);
    println!(
        "{backend}：{enrolments} 个保障对象、{persons} 名成员、{} 笔明细，全市及{}个乡镇（街道）的月报 {seconds:.2} 秒（再次 {again_seconds:.2} 秒），城乡低保 {households} 户；基准（保障对象按项目和乡镇分组计数，{groups} 组）{floor_seconds:.3} 秒；比值 {ratio:.1}；峰值内存 {rss:.0} MB",
        out.lines, r.townships
    );
    println!(
        "{}",
        serde_json::json!({"backend": backend, "enrolments": enrolments, "persons": persons,
            "lines": out.lines, "townships": r.townships, "warnings": r.warnings.len(),
            "seconds": seconds, "again_seconds": again_seconds, "floor_seconds": floor_seconds,
            "ratio": ratio, "peak_rss_mb": rss, "hwm_reset": hwm_reset})
    );
    Ok(ExitCode::SUCCESS)
}
