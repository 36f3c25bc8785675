//! Registry commands: `import households` (run as a job), `jobs`, `export households`,
//! `demo generate`, `bench import`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Subcommand;
use minzheng_app::bench::ScratchDb;
use minzheng_app::formats::ledger::{import_report_xlsx, ledger_csv, ledger_xlsx};
use minzheng_app::formats::synthetic::{demo_villages, generate_ledger};
use minzheng_app::registry::import::{ImportInput, ImportOptions, DEFAULT_MAX_IMPORT_BYTES};
use minzheng_app::App;
use minzheng_domain::{Actor, DivisionCode, Scope};

use crate::{CliError, CliResult};

#[derive(Subcommand)]
pub enum ImportCommand {
    /// 导入户籍台账（.xlsx / .xls / .csv，UTF-8 或 GBK），默认整批导入、有错不写
    Households {
        file: PathBuf,
        /// 以该区划的身份导入（村代码须在其内），默认全市
        #[arg(long)]
        scope: Option<String>,
        /// 只校验，不写入
        #[arg(long)]
        dry_run: bool,
        /// 只导入无误的户，其余写入错误报告
        #[arg(long)]
        valid_only: bool,
        /// 错误报告输出为 Excel 文件
        #[arg(long)]
        report: Option<PathBuf>,
        /// 文件大小上限（MB）
        #[arg(long, default_value_t = DEFAULT_MAX_IMPORT_BYTES / 1_048_576)]
        max_size_mb: u64,
    },
}

#[derive(Subcommand)]
pub enum ExportCommand {
    /// 导出户籍台账（统一台账格式，.xlsx）
    Households {
        #[arg(long)]
        out: PathBuf,
        /// 只导出该区划以内
        #[arg(long)]
        scope: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum DemoCommand {
    /// 生成模拟户籍台账（导入格式，.csv 或 .xlsx），同一种子结果相同
    Generate {
        /// 户数
        #[arg(long, required_unless_present = "persons")]
        households: Option<usize>,
        /// 或：人数（恰好这么多行；最后一户可能少几名成员）
        #[arg(long, conflicts_with = "households")]
        persons: Option<usize>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// 导入性能测试：生成台账，导入到新建的临时数据库（默认 SQLite），并与裸预编译语句循环（基准）比较
    Import {
        #[arg(long, default_value_t = 100_000)]
        persons: usize,
        /// csv 或 xlsx
        #[arg(long, default_value = "csv")]
        format: String,
        /// 改用 PostgreSQL：服务器地址（如 postgres://postgres@127.0.0.1:5432/postgres），
        /// 在其上新建两个临时数据库（导入和基准各一），结束后删除
        #[arg(long)]
        postgres: Option<String>,
        /// 只测导入，不测基准（基准要多花一倍以上的时间）
        #[arg(long)]
        no_floor: bool,
    },
}

fn actor_for(scope: Option<&str>) -> Result<Actor, CliError> {
    let mut a = Actor::system("cli");
    if let Some(s) = scope {
        let code =
            DivisionCode::parse(s).map_err(|e| CliError(format!("区划代码“{s}”无效：{e}")))?;
        a.scope = Scope::of(code);
    }
    Ok(a)
}

/// `import households`: the import runs as a job (listed by `minzheng jobs`, and on the web
/// to the users who may import inside its scope).
pub async fn import(app: &App, cmd: ImportCommand) -> CliResult {
    let ImportCommand::Households {
        file,
        scope,
        dry_run,
        valid_only,
        report,
        max_size_mb,
    } = cmd;
    let actor = actor_for(scope.as_deref())?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let result = app
        .jobs()
        .import(
            &actor,
            &ImportInput::Path(file.clone()),
            &ImportOptions {
                dry_run,
                valid_only,
                max_bytes: max_size_mb.saturating_mul(1_048_576),
            },
            &mut |p| {
                bar.set_length(p.total);
                bar.set_position(p.done);
                bar.set_message(p.phase);
            },
        )
        .await;
    bar.finish_and_clear();
    let (job, r) = result?;
    for i in r.issues.iter().take(50) {
        let row = if i.row == 0 {
            "整个文件".to_string()
        } else {
            format!("第{}行", i.row)
        };
        eprintln!("{row}\t{}\t{}\t{}", i.column, i.value, i.reason);
    }
    if r.issues.len() > 50 {
        eprintln!("……共{}处错误", r.issues.len());
    }
    if let Some(path) = report {
        std::fs::write(&path, import_report_xlsx(&r)?)
            .map_err(|e| CliError(format!("无法写入报告{}：{e}", path.display())))?;
        eprintln!("错误报告已写入 {}", path.display());
    }
    println!(
        "{}（用时 {:.2} 秒）",
        r.summary(),
        started.elapsed().as_secs_f64()
    );
    eprintln!("导入任务编号 {job}（minzheng jobs 可查看）");
    Ok(if r.issues.is_empty() || (r.written && valid_only) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub async fn export(app: &App, cmd: ExportCommand) -> CliResult {
    let ExportCommand::Households { out, scope } = cmd;
    let (rows, households) = app
        .registry()
        .export(&Actor::system("cli"), scope.as_deref())
        .await?;
    std::fs::write(&out, ledger_xlsx(&rows)?)
        .map_err(|e| CliError(format!("无法写入{}：{e}", out.display())))?;
    println!(
        "已导出 {} 户、{} 人到 {}",
        households,
        rows.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes a generated ledger of `households` households, or of exactly `persons` rows
/// (households are generated until there are enough, and the last one is cut short; its
/// head comes first, so it stays valid). Returns (households, rows).
pub fn write_ledger(
    path: &std::path::Path,
    households: Option<usize>,
    persons: Option<usize>,
    seed: u64,
) -> Result<(usize, usize), CliError> {
    let rows = match (households, persons) {
        (Some(h), _) => generate_ledger(h, seed, &demo_villages()),
        (None, Some(n)) => {
            // The generator averages about 3.3 persons per household.
            let mut rows = generate_ledger(n.div_ceil(3) + 10, seed, &demo_villages());
            rows.truncate(n);
            rows
        }
        (None, None) => return Err(CliError("请指定 --households 或 --persons".into())),
    };
    let head_col = minzheng_domain::registry::Column::ALL
        .iter()
        .position(|c| *c == minzheng_domain::registry::Column::HeadId)
        .unwrap_or(0);
    let households = {
        let mut heads: Vec<&str> = rows.iter().map(|r| r[head_col].as_str()).collect();
        heads.sort_unstable();
        heads.dedup();
        heads.len()
    };
    let bytes = match path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .as_deref()
    {
        Some("csv") => ledger_csv(&rows)?,
        Some("xlsx") => ledger_xlsx(&rows)?,
        _ => return Err(CliError("输出文件须为 .csv 或 .xlsx".into())),
    };
    std::fs::write(path, bytes)
        .map_err(|e| CliError(format!("无法写入{}：{e}", path.display())))?;
    Ok((households, rows.len()))
}

pub fn demo(cmd: DemoCommand) -> CliResult {
    let DemoCommand::Generate {
        households,
        persons,
        seed,
        out,
    } = cmd;
    let (households, n) = write_ledger(&out, households, persons, seed)?;
    println!("已生成 {households} 户、{n} 人到 {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// Peak resident memory of this process so far (VmHWM), in MB.
fn peak_rss_mb() -> f64 {
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

/// A fresh database for the benchmark (a SQLite file, or a database on the PostgreSQL
/// server `postgres`) with the demo city, opened.
async fn bench_db(postgres: Option<&str>, tag: &str) -> Result<(ScratchDb, App), CliError> {
    let db = ScratchDb::create(postgres, tag).await?;
    let app = App::open(&db.url).await?.with_limits(crate::input_limits());
    app.demo().ensure().await?;
    Ok((db, app))
}

/// The recent jobs: every import, whoever started it.
pub async fn jobs(app: &App, limit: i64) -> CliResult {
    let list = app.jobs().list(&Actor::system("cli"), limit).await?;
    if list.is_empty() {
        println!("没有任务");
    }
    for j in list {
        println!(
            "{}\t{}\t{}\t{}\t{}/{}\t{}\t{}",
            j.id, j.created_at, j.owner, j.status, j.done, j.total, j.file_name, j.message
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `bench import`: generates a ledger (in a child process, so its memory is not counted),
/// imports it into a fresh database, then inserts the same rows by the bare floor loop into
/// another fresh database. Prints the times, their ratio and the import's peak memory; the
/// last line is one JSON object.
pub async fn bench(cmd: BenchCommand) -> CliResult {
    let BenchCommand::Import {
        persons,
        format,
        postgres,
        no_floor,
    } = cmd;
    if !matches!(format.as_str(), "csv" | "xlsx") {
        return Err(CliError("--format 须为 csv 或 xlsx".into()));
    }
    /// The bench's temporary directory, removed however the bench ends.
    struct TempDir(PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let tmp = TempDir(std::env::temp_dir().join(format!("minzheng-bench-{}", std::process::id())));
    let dir = tmp.0.clone();
    std::fs::create_dir_all(&dir)?;
    let file = dir.join(format!("ledger.{format}"));
    eprintln!("生成台账 {persons} 人……");
    let generated = std::process::Command::new(std::env::current_exe()?)
        .args(["demo", "generate", "--seed", "42", "--persons"])
        .arg(persons.to_string())
        .arg("--out")
        .arg(&file)
        .status()?;
    if !generated.success() {
        return Err(CliError("生成台账失败".into()));
    }
    let file_mb = std::fs::metadata(&file)?.len() as f64 / 1_048_576.0;
    let backend = if postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let (db, app) = bench_db(postgres.as_deref(), "import").await?;
    // Seeding the demo accounts hashes passwords with argon2 (19 MB each, several at once):
    // reset the high-water mark so the peak measured is the import's.
    let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_before = peak_rss_mb();
    eprintln!("导入 {file_mb:.1} MB（{backend}）……");
    let started = Instant::now();
    let mut phases: Vec<(&'static str, f64)> = Vec::new();
    let run = async {
        let r = app
            .registry()
            .import(
                &Actor::system("bench"),
                &ImportInput::Path(file.clone()),
                &ImportOptions {
                    max_bytes: u64::MAX,
                    ..Default::default()
                },
                &mut |p| {
                    if phases.last().is_none_or(|(ph, _)| *ph != p.phase) {
                        phases.push((p.phase, started.elapsed().as_secs_f64()));
                    }
                },
            )
            .await?;
        let seconds = started.elapsed().as_secs_f64();
        let rss = peak_rss_mb();
        if !r.written {
            return Err(CliError(format!("导入失败：{:?}", r.issues.first())));
        }
        // SQLite: the WAL copy the commit no longer does inline (it runs in the
        // background), timed on its own so the figure is on record.
        let (checkpoint_seconds, audit_intact) =
            minzheng_app::registry::bench::settle(&app).await?;
        Ok((r, seconds, rss, checkpoint_seconds, audit_intact))
    };
    let outcome = run.await;
    app.close().await;
    db.remove().await;
    let (r, seconds, rss, checkpoint_seconds, audit_intact) = outcome?;
    let rows = r.rows_read;
    let floor_seconds = if no_floor {
        f64::NAN
    } else {
        let (floor_db, floor) = bench_db(postgres.as_deref(), "floor").await?;
        let floor_seconds = minzheng_app::registry::bench::floor(&floor, &file).await;
        floor.close().await;
        floor_db.remove().await;
        floor_seconds?
    };
    drop(tmp);
    let mut phase_times = serde_json::Map::new();
    for (k, (name, at)) in phases.iter().enumerate() {
        let end = phases.get(k + 1).map(|(_, t)| *t).unwrap_or(seconds);
        phase_times.insert((*name).to_string(), serde_json::json!(end - at));
    }
    let floor_kind = if postgres.is_some() {
        "同样的 COPY 批量写入，不做核对"
    } else {
        "裸预编译语句循环，同表同索引"
    };
    println!(
        "导入 {rows} 行（{} 户，{backend}，{format}，{file_mb:.1} MB）：{seconds:.2} 秒（{:.0} 行/秒）；基准（{floor_kind}）{floor_seconds:.2} 秒；比值 {:.2}；导入峰值内存 {rss:.0} MB；审计链{}",
        r.households_created,
        rows as f64 / seconds,
        seconds / floor_seconds,
        if audit_intact { "完好" } else { "损坏" }
    );
    println!(
        "{}",
        serde_json::json!({"rows": rows, "households": r.households_created,
            "seconds": seconds, "rows_per_s": rows as f64 / seconds,
            "floor_seconds": floor_seconds, "ratio": seconds / floor_seconds,
            "peak_rss_mb": rss, "rss_before_import_mb": rss_before, "hwm_reset": hwm_reset,
            "checkpoint_seconds": checkpoint_seconds,
            "format": format, "backend": backend, "file_mb": file_mb,
            "phases": phase_times})
    );
    Ok(ExitCode::SUCCESS)
}
