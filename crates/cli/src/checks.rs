//! `minzheng bench checks`: the cross-checks over a city of a million enrolments with a
//! month of payroll lines and a hundred thousand deaths, against the floor (the bare join
//! of enrolments and death records by ID number).

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
pub enum BenchCommand {
    /// 数据比对性能测试：在临时数据库中生成N个保障对象（含一个月已签发的发放明细）和D条死亡记录，计时全部比对，并与“保障对象按身份证号码关联死亡记录”的裸查询基准比较
    Checks {
        #[arg(long, default_value_t = 1_000_000)]
        enrolments: i64,
        #[arg(long, default_value_t = 100_000)]
        deaths: i64,
        /// 在该PostgreSQL服务器上新建临时数据库测试（默认SQLite）
        #[arg(long)]
        postgres: Option<String>,
        /// 保留测试数据库（打印其地址），便于分析
        #[arg(long)]
        keep: bool,
    },
}

pub async fn bench(cmd: BenchCommand) -> CliResult {
    let BenchCommand::Checks {
        enrolments,
        deaths,
        postgres,
        keep,
    } = cmd;
    let backend = if postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let db = ScratchDb::create(postgres.as_deref(), "checks").await?;
    let app = App::open(&db.url).await?;
    app.demo().ensure().await?;
    let sys = Actor::system("bench");
    eprintln!("生成 {enrolments} 个保障对象和 2026-11 的发放明细（已签发）……");
    let t = Instant::now();
    app.payroll_bench()
        .enrolments(enrolments, minzheng_app::demo::DEMO_CITY_CODE, "2026-01")
        .await?;
    app.checks_bench().realistic_ids().await?;
    let month = YearMonth::parse("2026-11").map_err(|e| CliError(e.to_string()))?;
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
    let died = app.checks_bench().deaths(deaths, "2026-10-15").await?;
    app.payroll_bench().checkpoint().await?;
    eprintln!(
        "已生成（{:.1} 秒）：{} 笔明细，{died} 条死亡记录；开始比对……",
        t.elapsed().as_secs_f64(),
        out.lines
    );
    let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let (matches, floor_seconds) = app.checks_bench().floor().await?;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).expect("a date");
    let report = app.checks().run(&sys, today).await?;
    let rss = peak_rss_mb();
    // A second run finds the same and raises nothing new.
    let again = app.checks().run(&sys, today).await?;
    if again.new_findings() != 0 {
        return Err(CliError("再次比对不应新增疑点".into()));
    }
    app.close().await;
    if keep {
        eprintln!("测试数据库已保留：{}", db.url);
    } else {
        db.remove().await;
    }
    for c in &report.checks {
        eprintln!(
            "  {}：{} 条（{:.3} 秒）",
            c.kind.label(),
            c.found,
            c.seconds
        );
    }
    let ratio = report.seconds / floor_seconds.max(1e-9);
    println!(
        "{backend}：{enrolments} 个保障对象、{died} 条死亡记录，全部比对 {:.2} 秒，疑点 {} 条；再次比对 {:.2} 秒；基准（保障对象按身份证号码关联死亡记录，{matches} 条）{floor_seconds:.3} 秒；比值 {ratio:.1}；峰值内存 {rss:.0} MB",
        report.seconds,
        report.found(),
        again.seconds
    );
    println!(
        "{}",
        serde_json::json!({"backend": backend, "enrolments": enrolments, "deaths": died,
            "lines": out.lines, "findings": report.found(), "seconds": report.seconds,
            "again_seconds": again.seconds, "floor_seconds": floor_seconds, "ratio": ratio,
            "checks": report.checks, "peak_rss_mb": rss, "hwm_reset": hwm_reset})
    );
    Ok(ExitCode::SUCCESS)
}
