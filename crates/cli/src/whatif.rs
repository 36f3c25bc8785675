//! `minzheng params whatif --file SCENARIO.toml`: the 测算 of one to three 方案 from a TOML
//! file, printed as a table (or JSON); and `minzheng bench whatif` / `bench repricing`: a
//! city-wide 测算 and a city-wide 调整标准 batch over a scratch database of a million
//! enrolments with their households and persons.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Subcommand;
use minzheng_app::bench::ScratchDb;
use minzheng_app::App;
use minzheng_domain::whatif::{ChangeInput, ScenarioInput, WhatIfRequest};
use minzheng_domain::{Actor, Program, YearMonth};

use crate::payroll::peak_rss_mb;
use crate::{open_app, CliError, CliResult};

#[derive(Subcommand)]
pub enum ParamsCommand {
    /// 调标测算：按文件中的1至3个方案（参数调整），用真实的保障对象和户籍信息逐人计算金额变化、新增和退出的户数人数、按区县/乡镇/项目的月度和年度增支；不写入任何数据。文件格式见 docs/whatif.md
    Whatif {
        /// 方案文件（TOML）
        #[arg(long)]
        file: PathBuf,
        /// 只测算该区划以内（也可在文件中写 within）
        #[arg(long)]
        scope: Option<String>,
        /// 以JSON输出结果
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// 调标测算性能测试：在临时数据库中生成N个保障对象（含户籍和人员、收入），计时一个全市的测算方案（城市和农村低保标准同时提高）
    Whatif {
        #[arg(long, default_value_t = 1_000_000)]
        enrolments: i64,
        /// 在该PostgreSQL服务器上新建临时数据库测试（默认SQLite）
        #[arg(long)]
        postgres: Option<String>,
        /// 保留测试数据库（打印其地址），便于分析
        #[arg(long)]
        keep: bool,
    },
    /// 调标批次性能测试：同样的数据，提高全市低保标准，计时生成调整标准批次和一次签发全部批次，并与“把同样的新金额直接UPDATE到保障对象”的裸语句基准比较
    Repricing {
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

/// The 方案 file: `within` (optional) and `[[scenario]]` tables, each with `name` and
/// `[[scenario.change]]` tables (program, name, region, urban_rural, effective_from, value).
#[derive(serde::Deserialize)]
struct ScenarioFile {
    #[serde(default)]
    within: Option<String>,
    #[serde(default)]
    scenario: Vec<FileScenario>,
}

#[derive(serde::Deserialize)]
struct FileScenario {
    #[serde(default)]
    name: String,
    #[serde(default)]
    change: Vec<FileChange>,
}

#[derive(serde::Deserialize)]
struct FileChange {
    program: String,
    name: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    urban_rural: String,
    effective_from: String,
    value: toml::Value,
}

fn read_file(path: &PathBuf) -> Result<WhatIfRequest, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError(format!("无法读取方案文件{}：{e}", path.display())))?;
    let f: ScenarioFile = toml::from_str(&text)
        .map_err(|e| CliError(format!("方案文件{}格式有误：{e}", path.display())))?;
    Ok(WhatIfRequest {
        within: f.within,
        scenarios: f
            .scenario
            .into_iter()
            .map(|s| ScenarioInput {
                name: s.name,
                changes: s
                    .change
                    .into_iter()
                    .map(|c| ChangeInput {
                        program: c.program,
                        name: c.name,
                        region: c.region,
                        urban_rural: c.urban_rural,
                        effective_from: c.effective_from,
                        value_json: match c.value {
                            toml::Value::String(s) => s,
                            other => other.to_string(),
                        },
                        source: String::new(),
                    })
                    .collect(),
            })
            .collect(),
    })
}

pub async fn params(cmd: ParamsCommand, database_url: &Option<String>) -> CliResult {
    let ParamsCommand::Whatif { file, scope, json } = cmd;
    let mut req = read_file(&file)?;
    if scope.is_some() {
        req.within = scope;
    }
    let app = open_app(database_url).await?;
    let w = app.params().whatif(&Actor::system("cli"), &req).await;
    app.close().await;
    let w = w.map_err(|e| match &e {
        minzheng_app::Error::Validation { fields, .. } if !fields.is_empty() => CliError(
            fields
                .iter()
                .map(|(k, m)| format!("{k}：{m}"))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        _ => CliError(e.to_string()),
    })?;
    if json {
        println!("{}", serde_json::to_string(&w)?);
        return Ok(ExitCode::SUCCESS);
    }
    for s in &w.scenarios {
        let t = &s.total;
        println!("== {}（自{}起）", s.name, s.month);
        println!("   {}", minzheng_app::whatif::changes_text(s));
        println!(
            "   金额变化 {} 户次 {} 人；新增符合条件 {} 户 {} 人；退出 {} 户次 {} 人；无法计算 {}",
            t.changed_households,
            t.changed_persons,
            t.entering_households,
            t.entering_persons,
            t.leaving_households,
            t.leaving_persons,
            t.problems
        );
        println!(
            "   月增支 {}，年增支 {}",
            t.monthly_difference, t.annual_difference
        );
        println!("   区县\t乡镇(街道)\t救助项目\t变化户次\t新增户\t退出户次\t月增支(元)");
        for r in &s.rows {
            println!(
                "   {}\t{}\t{}\t{}\t{}\t{}\t{}",
                r.county_name,
                r.township_name,
                r.program.map(|p| p.label()).unwrap_or(""),
                r.changed_households,
                r.entering_households,
                r.leaving_households,
                r.monthly_difference
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A scratch city: `n` enrolments over four programs with their households and persons,
/// and a tenth as many registered households with incomes but no enrolment.
async fn city(postgres: Option<&str>, tag: &str, n: i64) -> Result<(ScratchDb, App), CliError> {
    let db = ScratchDb::create(postgres, tag).await?;
    let app = App::open(&db.url).await?;
    app.demo().ensure().await?;
    let city = minzheng_app::demo::DEMO_CITY_CODE;
    eprintln!("生成 {n} 个保障对象及其户籍、人员和收入……");
    let t = Instant::now();
    let extra = (n / 10).max(1);
    app.payroll_bench().enrolments(n, city, "2026-01").await?;
    app.payroll_bench()
        .enrolments(extra, city, "2026-01")
        .await?;
    app.whatif_bench().unenrol_last(extra).await?;
    app.checks_bench().realistic_ids().await?;
    let persons = app.whatif_bench().registry().await?;
    app.payroll_bench().checkpoint().await?;
    eprintln!(
        "已生成（{:.1} 秒）：{persons} 人，其中 {extra} 户未享受救助",
        t.elapsed().as_secs_f64()
    );
    Ok((db, app))
}

fn backend(postgres: &Option<String>) -> &'static str {
    if postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    }
}

fn standard(program: &str, yuan: &str, from: &str) -> ChangeInput {
    ChangeInput {
        program: program.into(),
        name: "standard".into(),
        region: minzheng_app::demo::DEMO_CITY_CODE.into(),
        urban_rural: String::new(),
        effective_from: from.into(),
        value_json: yuan.into(),
        source: "性能测试".into(),
    }
}

async fn finish(db: ScratchDb, app: App, keep: bool) {
    app.close().await;
    if keep {
        eprintln!("测试数据库已保留：{}", db.url);
    } else {
        db.remove().await;
    }
}

pub async fn bench(cmd: BenchCommand) -> CliResult {
    match cmd {
        BenchCommand::Whatif {
            enrolments,
            postgres,
            keep,
        } => {
            let (db, app) = city(postgres.as_deref(), "whatif", enrolments).await?;
            let sys = Actor::system("bench");
            let req = WhatIfRequest {
                scenarios: vec![ScenarioInput {
                    name: "全市提高低保标准".into(),
                    changes: vec![
                        standard("urban_dibao", "850", "2027-01-01"),
                        standard("rural_dibao", "700", "2027-01-01"),
                    ],
                }],
                within: None,
            };
            let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
            let t = Instant::now();
            let w = app.params().whatif(&sys, &req).await?;
            let seconds = t.elapsed().as_secs_f64();
            let rss = peak_rss_mb();
            finish(db, app, keep).await;
            let s = &w.scenarios[0];
            let b = backend(&postgres);
            println!(
                "{b}：{enrolments} 个保障对象，全市测算 {seconds:.2} 秒：考察 {} 个，金额变化 {} 户次，新增 {} 户，退出 {} 户次，月增支 {}；峰值内存 {rss:.0} MB",
                s.considered,
                s.total.changed_households,
                s.total.entering_households,
                s.total.leaving_households,
                s.total.monthly_difference
            );
            println!(
                "{}",
                serde_json::json!({"backend": b, "enrolments": enrolments,
                    "considered": s.considered, "changed": s.total.changed_households,
                    "entering": s.total.entering_households,
                    "leaving": s.total.leaving_households, "seconds": seconds,
                    "target_seconds": 2.0, "ratio": seconds / 2.0,
                    "peak_rss_mb": rss, "hwm_reset": hwm_reset})
            );
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Repricing {
            enrolments,
            postgres,
            keep,
        } => {
            let (db, app) = city(postgres.as_deref(), "repricing", enrolments).await?;
            let sys = Actor::system("bench");
            let city = minzheng_app::demo::DEMO_CITY_CODE;
            let month = YearMonth::parse("2026-12").map_err(|e| CliError(e.to_string()))?;
            for (program, yuan) in [("urban_dibao", "850"), ("rural_dibao", "700")] {
                app.params()
                    .add(&sys, &standard(program, yuan, "2026-12-01").to_new_param())
                    .await?;
            }
            let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
            let t = Instant::now();
            let mut lines = 0;
            for p in [Program::UrbanDibao, Program::RuralDibao] {
                lines += app
                    .repricing()
                    .prepare_standard(&sys, p, month, Some(city))
                    .await?
                    .added;
            }
            let prepare_seconds = t.elapsed().as_secs_f64();
            eprintln!("已生成调整标准批次：{lines} 行（{prepare_seconds:.2} 秒）；基准……");
            // The floor and the sign-off each start from a checkpointed database: on
            // SQLite a large commit is checkpointed in the background, and one still
            // running would be timed with whatever follows it.
            app.payroll_bench().checkpoint().await?;
            let (floor_seconds, floor_rows) = app.whatif_bench().floor().await?;
            eprintln!("基准 {floor_rows} 行 {floor_seconds:.2} 秒；签发……");
            let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).expect("a date");
            let batches = app
                .repricing()
                .list(
                    &sys,
                    Some(minzheng_domain::repricing::RepricingStatus::Pending),
                )
                .await?;
            // 签发全部: every pending batch signed together, in one transaction.
            let ids: Vec<i64> = batches.iter().map(|b| b.id).collect();
            app.payroll_bench().checkpoint().await?;
            let t = Instant::now();
            let applied: usize = app
                .repricing()
                .sign_off_many(&sys, &ids, today)
                .await?
                .iter()
                .map(|d| d.applied)
                .sum();
            let seconds = t.elapsed().as_secs_f64();
            let rss = peak_rss_mb();
            finish(db, app, keep).await;
            let ratio = seconds / floor_seconds.max(1e-9);
            let b = backend(&postgres);
            println!(
                "{b}：{enrolments} 个保障对象，生成调整标准批次 {prepare_seconds:.2} 秒（{lines} 行），签发 {} 个批次 {seconds:.2} 秒（调整 {applied} 人）；基准（直接UPDATE同样的新金额，{floor_rows} 行）{floor_seconds:.2} 秒；比值 {ratio:.1}；峰值内存 {rss:.0} MB",
                batches.len()
            );
            println!(
                "{}",
                serde_json::json!({"backend": b, "enrolments": enrolments, "lines": lines,
                    "batches": batches.len(), "applied": applied,
                    "prepare_seconds": prepare_seconds, "seconds": seconds,
                    "floor_seconds": floor_seconds, "ratio": ratio,
                    "prepare_and_sign_ratio": (prepare_seconds + seconds) / floor_seconds.max(1e-9),
                    "peak_rss_mb": rss,
                    "hwm_reset": hwm_reset})
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
