//! Payroll commands: `payroll generate | list | sign-off | export | import-return` and
//! `bench payroll`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Subcommand;
use minzheng_app::bench::ScratchDb;
use minzheng_app::App;
use minzheng_domain::payroll::{BatchFilter, GenerateRequest};
use minzheng_domain::{Actor, DivisionCode, Program, Scope, YearMonth};

use crate::{CliError, CliResult};

#[derive(Subcommand)]
pub enum PayrollCommand {
    /// 生成某月的发放批次（每个救助项目、每个乡镇一个批次；已生成的批次原样返回）
    Generate {
        /// 发放月份 YYYY-MM
        #[arg(long)]
        month: String,
        /// 只生成该项目（如 urban_dibao）
        #[arg(long)]
        program: Option<String>,
        /// 只生成该区划以内的乡镇
        #[arg(long)]
        scope: Option<String>,
    },
    /// 列出发放批次（制表符分隔：编号、批次号、状态、笔数、金额）
    List {
        #[arg(long)]
        month: Option<String>,
        #[arg(long)]
        scope: Option<String>,
    },
    /// 审核签发一个草稿批次
    SignOff {
        #[arg(long)]
        batch: i64,
    },
    /// 生成银行代发文件（已审核签发的批次）
    Export {
        #[arg(long)]
        batch: i64,
        /// 银行模板代码（rcb-gbk、psbc-xlsx、utf8-csv 或自定义）
        #[arg(long, default_value = "rcb-gbk")]
        template: String,
        /// 输出文件或目录，默认当前目录下按模板规则命名
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 导入银行回盘文件（不能对账时整份拒绝，不写入任何结果）
    ImportReturn {
        #[arg(long)]
        batch: i64,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// 发放生成性能测试：在临时数据库中生成N个保障对象，计时生成当月批次，并与裸插入基准比较
    Payroll {
        #[arg(long, default_value_t = 1_000_000)]
        enrolments: i64,
        #[arg(long, default_value = "2026-11")]
        month: String,
        /// 在该PostgreSQL服务器上新建临时数据库测试（默认SQLite）
        #[arg(long)]
        postgres: Option<String>,
        /// 保留测试数据库（打印其地址），便于分析
        #[arg(long)]
        keep: bool,
    },
}

fn parse_month(s: &str) -> Result<YearMonth, CliError> {
    YearMonth::parse(s).map_err(|_| CliError(format!("月份“{s}”无效，格式应为YYYY-MM")))
}

fn parse_code(s: &str) -> Result<DivisionCode, CliError> {
    DivisionCode::parse(s).map_err(|e| CliError(format!("区划代码“{s}”无效：{e}")))
}

pub async fn run(app: &App, cmd: PayrollCommand) -> CliResult {
    let cli = Actor::system("cli");
    let payroll = app.payroll();
    match cmd {
        PayrollCommand::Generate {
            month,
            program,
            scope,
        } => {
            let program = program
                .map(|p| p.parse::<Program>())
                .transpose()
                .map_err(|e| CliError(e.to_string()))?;
            if let Some(s) = &scope {
                parse_code(s)?;
            }
            let started = Instant::now();
            let out = payroll
                .generate(
                    &cli,
                    &GenerateRequest {
                        month: parse_month(&month)?,
                        program,
                        within: scope,
                    },
                )
                .await?;
            println!(
                "{}发放：新生成 {} 个批次、{} 笔，合计 {}；已存在 {} 个批次（未改动）；用时 {:.2} 秒",
                out.month,
                out.created.len(),
                out.lines,
                out.planned,
                out.existing.len(),
                started.elapsed().as_secs_f64()
            );
            for b in out.created.iter().chain(&out.existing) {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    b.id,
                    b.batch_no,
                    b.status.as_str(),
                    b.line_count,
                    b.planned.yuan_string()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PayrollCommand::List { month, scope } => {
            let scope = match scope {
                Some(s) => Scope::of(parse_code(&s)?),
                None => Scope::all(),
            };
            let within = Actor { scope, ..cli };
            for b in payroll
                .list(
                    &within,
                    &BatchFilter {
                        month,
                        ..Default::default()
                    },
                )
                .await?
            {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    b.id,
                    b.batch_no,
                    b.status.as_str(),
                    b.line_count,
                    b.planned.yuan_string()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PayrollCommand::SignOff { batch } => {
            let b = payroll.sign_off(&cli, batch, None).await?;
            println!(
                "已审核签发：{}（{} 笔，{}）",
                b.batch_no, b.line_count, b.planned
            );
            Ok(ExitCode::SUCCESS)
        }
        PayrollCommand::Export {
            batch,
            template,
            out,
        } => {
            let f = app.bank_files().export(&cli, batch, &template).await?;
            let path = match out {
                Some(p) if p.is_dir() => p.join(&f.file_name),
                Some(p) => p,
                None => PathBuf::from(&f.file_name),
            };
            std::fs::write(&path, &f.bytes)
                .map_err(|e| CliError(format!("无法写入{}：{e}", path.display())))?;
            println!(
                "已生成银行代发文件 {}：{} 笔，合计 {}",
                path.display(),
                f.lines,
                f.total
            );
            Ok(ExitCode::SUCCESS)
        }
        PayrollCommand::ImportReturn { batch, file } => {
            let data = std::fs::read(&file)
                .map_err(|e| CliError(format!("无法读取{}：{e}", file.display())))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let r = app
                .bank_files()
                .import_return(&cli, batch, &name, &data)
                .await?;
            println!(
                "回盘已导入：{} 笔，成功 {} 笔 {}，失败 {} 笔 {}；批次{}",
                r.lines,
                r.paid_count,
                r.paid,
                r.failed_count,
                r.failed,
                if r.complete {
                    "已全部对账"
                } else {
                    "部分对账，其余待回盘"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(crate) fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// CPU seconds (user + system, all threads) this process has used so far: with other work
/// on the machine, wall time alone overstates what a run costs.
fn cpu_now() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit(')').next()?.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            // After the command name: state is field 3, utime 14 and stime 15 (1-based).
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

pub async fn bench(cmd: BenchCommand) -> CliResult {
    let BenchCommand::Payroll {
        enrolments,
        month,
        postgres,
        keep,
    } = cmd;
    let m = parse_month(&month)?;
    let backend = if postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let main = ScratchDb::create(postgres.as_deref(), "payroll").await?;
    let app = App::open(&main.url).await?;
    app.demo().ensure().await?;
    eprintln!("生成 {enrolments} 个保障对象（雅安市各村，四个救助项目）……");
    let t = Instant::now();
    let n = app
        .payroll_bench()
        .enrolments(enrolments, minzheng_app::demo::DEMO_CITY_CODE, "2026-01")
        .await?;
    // Months of enrolments would long since be in the database file, not the WAL.
    app.payroll_bench().checkpoint().await?;
    let fixture_seconds = t.elapsed().as_secs_f64();
    eprintln!("已生成 {n} 个（{fixture_seconds:.1} 秒）；开始生成 {month} 发放批次……");
    let req = GenerateRequest {
        month: m,
        program: None,
        within: None,
    };
    let cli = Actor::system("bench");
    // The fixture's own peak is not the generation's: reset the high-water mark.
    let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let t = Instant::now();
    let cpu = cpu_now();
    let out = app.payroll().generate(&cli, &req).await?;
    let seconds = t.elapsed().as_secs_f64();
    let generation_rss = peak_rss_mb();
    let cpu_seconds = cpu_now() - cpu;
    if out.lines != enrolments {
        return Err(CliError(format!(
            "生成的明细数 {} 与保障对象数 {enrolments} 不符",
            out.lines
        )));
    }
    let t = Instant::now();
    let again = app.payroll().generate(&cli, &req).await?;
    let again_seconds = t.elapsed().as_secs_f64();
    if again.lines != 0 || !again.created.is_empty() {
        return Err(CliError("再次生成不应新增批次或明细".into()));
    }
    // The WAL copy SQLite's commit no longer does inline (it runs in the background);
    // timed here on its own so the figure is on record.
    let checkpoint_seconds = app.payroll_bench().checkpoint().await?.as_secs_f64();
    let batches = out.created.len() as i64;
    app.close().await;
    if keep {
        eprintln!("测试数据库已保留：{}", main.url);
    } else {
        main.remove().await;
    }

    let floor_what = if postgres.is_some() {
        "按数组批量插入，每批5万条，一个事务"
    } else {
        "一条预编译语句逐行插入，一个事务"
    };
    eprintln!("基准：同样 {enrolments} 条明细（{floor_what}）……");
    let floor_db = ScratchDb::create(postgres.as_deref(), "payroll_floor").await?;
    let floor = App::open(&floor_db.url).await?;
    let cpu = cpu_now();
    let floor_seconds = floor
        .payroll_bench()
        .floor(enrolments, &month, batches)
        .await?;
    let floor_cpu_seconds = cpu_now() - cpu;
    floor.close().await;
    floor_db.remove().await;
    let rss = peak_rss_mb();
    let ratio = seconds / floor_seconds;
    println!(
        "{backend}：生成 {month} 发放 {batches} 个批次、{} 笔明细用时 {seconds:.2} 秒（{:.0} 笔/秒）；再次生成（幂等，无新增）{again_seconds:.2} 秒；基准（{floor_what}）{floor_seconds:.2} 秒；比值 {ratio:.2}；生成时峰值内存 {generation_rss:.0} MB（含基准 {rss:.0} MB）",
        out.lines,
        out.lines as f64 / seconds
    );
    println!(
        "{}",
        serde_json::json!({"backend": backend, "enrolments": enrolments, "lines": out.lines,
            "batches": batches, "seconds": seconds, "floor_seconds": floor_seconds,
            "ratio": ratio, "again_seconds": again_seconds, "checkpoint_seconds": checkpoint_seconds, "fixture_seconds": fixture_seconds,
            "cpu_seconds": cpu_seconds, "floor_cpu_seconds": floor_cpu_seconds,
            "load_average": std::fs::read_to_string("/proc/loadavg").ok()
                .and_then(|l| l.split_whitespace().next().and_then(|v| v.parse::<f64>().ok())),
            "peak_rss_mb": rss, "generation_peak_rss_mb": generation_rss,
            "hwm_reset": hwm_reset})
    );
    Ok(ExitCode::SUCCESS)
}
