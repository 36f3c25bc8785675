//! minzheng — the one binary (web server, migrations, imports, payroll, checks); it parses
//! arguments and prints, and holds neither rules nor SQL.
//!
//! Owns: argument parsing, progress bars and exit codes; it opens the database through
//! `minzheng-app` (the composition root), calls its use cases as the system actor, and
//! serves `minzheng-web`.

use std::io::{BufRead, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use minzheng_app::formats::divisions::DivisionSource;
use minzheng_app::formats::limits::InputLimits;
use minzheng_app::App;
use minzheng_domain::users::NewUser;
use minzheng_domain::DivisionCode;
use minzheng_domain::{Actor, Scope};

mod checks;
mod payroll;
mod registry;
mod search;
mod stats;
mod whatif;

#[derive(Parser)]
#[command(name = "minzheng", version, about = "minzheng 民政业务管理系统")]
struct Cli {
    /// 数据库地址：sqlite://文件路径（默认 ./minzheng.db）或 postgres://…
    #[arg(long, global = true, env = "MINZHENG_DATABASE_URL")]
    database_url: Option<String>,
    /// 调整读取外来文件（台账、回盘文件、死亡名单、区划文件）的限额：名称=数值，逗号分隔，
    /// 如 max_rows=2000000,max_cell_bytes=64KB（见 minzheng limits 与 docs/limits.md）
    #[arg(long, global = true, env = "MINZHENG_LIMITS")]
    limits: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 启动网页服务
    Serve {
        /// 演示模式：没有演示数据库时自动创建（雅安市区划、各角色演示账户）
        #[arg(long)]
        demo: bool,
        /// 监听地址
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// 会话空闲超时（分钟）
        #[arg(long, default_value_t = 30)]
        idle_minutes: i64,
        /// 仅通过HTTPS发送Cookie（部署在HTTPS之后时使用）
        #[arg(long)]
        secure_cookies: bool,
        /// 部署在反向代理之后：按代理添加的X-Forwarded-For（最后一项）识别客户端地址，
        /// 用于登录失败的按地址计数（仅当服务只能经代理访问时使用）
        #[arg(long)]
        behind_proxy: bool,
        /// 补充节假日安排（CSV：日期,holiday/workday,名称），如国务院办公厅新发布的下一年度安排；
        /// 与内置的2025—2026年安排合并，用于计算办理时限的工作日
        #[arg(long, env = "MINZHENG_HOLIDAYS")]
        holidays: Option<PathBuf>,
        /// 不运行每日任务和数据比对（查询性能测试用，使测得的只是查询本身）
        #[arg(long, hide = true)]
        no_daily_tasks: bool,
        /// 只读副本：PostgreSQL流复制备库的地址 postgres://…；检索、统计、导出和公示公开页
        /// 从这里读取（可能比主库稍有延迟），写入和保存后即显示的页面仍用主数据库
        #[arg(long, env = "MINZHENG_READ_DATABASE_URL")]
        read_database_url: Option<String>,
        /// 每晚（北京时间3点后）把数据库备份到此目录（minzheng-年月日.db，仅SQLite）
        #[arg(long)]
        backup_dir: Option<PathBuf>,
        /// 备份目录中保留最近几份备份
        #[arg(long, default_value_t = 7)]
        backup_keep: usize,
    },
    /// 备份数据库：运行中的服务不必停止，得到一致的副本（仅SQLite；PostgreSQL用pg_dump）
    Backup {
        /// 备份文件（不能已存在）
        #[arg(long)]
        out: PathBuf,
    },
    /// 用备份恢复数据库（须先停止网页服务）；损坏、非本系统或更新版本的备份文件会被拒绝
    Restore {
        /// 备份文件
        file: PathBuf,
        /// 数据库已存在时用备份替换它（原数据库改名为 ….before-restore 保留）
        #[arg(long)]
        replace: bool,
    },
    /// 执行数据库迁移（库中装有 Citus 扩展时，同时把各表按县分布到集群）
    Migrate {
        /// 要求分布式部署：数据库未装 Citus 扩展时报错，而不是按单机库迁移
        #[arg(long)]
        distributed: bool,
    },
    /// 显示读取外来文件的各项限额（含 --limits / MINZHENG_LIMITS 的调整）
    Limits,
    /// 整理SQLite数据库文件：回收已删除数据占用的空间，并把旧库转为16KB页（须先停止网页服务）
    Compact,
    /// 行政区划
    Divisions {
        #[command(subcommand)]
        command: DivisionsCommand,
    },
    /// 用户
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// 身份证号码
    Id {
        #[command(subcommand)]
        command: IdCommand,
    },
    /// 操作日志
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// 导入（户籍台账）
    Import {
        #[command(subcommand)]
        command: registry::ImportCommand,
    },
    /// 导出（户籍台账）
    Export {
        #[command(subcommand)]
        command: registry::ExportCommand,
    },
    /// 后台任务（户籍台账导入，网页和命令行发起的都在内）
    Jobs {
        /// 显示最近多少个
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// 演示数据
    Demo {
        #[command(subcommand)]
        command: registry::DemoCommand,
    },
    /// 性能测试
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// 资金发放（生成批次、审核签发、银行代发文件、回盘）
    Payroll {
        #[command(subcommand)]
        command: payroll::PayrollCommand,
    },
    /// 民政办公室
    Offices {
        #[command(subcommand)]
        command: OfficesCommand,
    },
    /// 救助案件
    Cases {
        #[command(subcommand)]
        command: CasesCommand,
    },
    /// 数据比对（死亡后仍发放、重复享受、互斥项目、一户多账户、逾期未复核、身份证号码校验）
    Checks {
        #[command(subcommand)]
        command: ChecksCommand,
    },
    /// 救助标准和参数（调标测算）
    Params {
        #[command(subcommand)]
        command: whatif::ParamsCommand,
    },
    /// 调标批次（高龄津贴年龄段变化、调整标准）
    Repricing {
        #[command(subcommand)]
        command: RepricingCommand,
    },
    /// 统计月报
    Stats {
        #[command(subcommand)]
        command: stats::StatsCommand,
    },
}

#[derive(Subcommand)]
enum RepricingCommand {
    /// 生成该月的高龄津贴年龄段调标批次（每个乡镇（街道）一批，待民政办主任审核签发；可重复执行，不会重复列入）
    AgeBands {
        /// 执行月份（YYYY-MM），新金额自该月起发放
        #[arg(long)]
        month: String,
        /// 只处理该区划以内
        #[arg(long)]
        scope: Option<String>,
        /// 以JSON输出结果
        #[arg(long)]
        json: bool,
    },
    /// 按调整后的标准生成调整标准批次：按执行月份有效的参数逐人重新计算该项目（低保标准同时影响单人保和特困供养），金额变化的按乡镇（街道）和项目列入，待审核签发；可重复执行，不会重复列入
    Standard {
        /// 参数所属的救助项目代码（如 urban_dibao、rural_dibao、tekun）
        #[arg(long)]
        program: String,
        /// 执行月份（YYYY-MM），新金额自该月起发放
        #[arg(long)]
        month: String,
        /// 只处理该区划以内
        #[arg(long)]
        scope: Option<String>,
        /// 以JSON输出结果
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ChecksCommand {
    /// 运行全部比对：新发现的疑点列入待核实，已不成立的自动关闭（可重复执行，不会重复列出）
    Run {
        /// 只比对该区划以内
        #[arg(long)]
        scope: Option<String>,
        /// 比对日期（YYYY-MM-DD），默认今天（北京时间）
        #[arg(long)]
        date: Option<String>,
        /// 以JSON输出结果
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CasesCommand {
    /// 每日任务：为达到高龄津贴年龄的人员拟定案件，为到期的保障对象开启定期核查（可重复执行，不会重复立案）
    Tasks {
        /// 只处理该区划以内
        #[arg(long)]
        scope: Option<String>,
        /// 执行日期（YYYY-MM-DD），默认今天（北京时间）
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    #[command(flatten)]
    Registry(registry::BenchCommand),
    #[command(flatten)]
    Payroll(payroll::BenchCommand),
    #[command(flatten)]
    Checks(checks::BenchCommand),
    #[command(flatten)]
    Search(search::BenchCommand),
    #[command(flatten)]
    Whatif(whatif::BenchCommand),
    #[command(flatten)]
    Stats(stats::BenchCommand),
}

#[derive(Subcommand)]
enum OfficesCommand {
    /// 规范化建设达标情况：每个办公室一行（或一个JSON对象），含达标率和每条要求的状态（met / not_met / not_recorded）
    Report {
        /// 只列出该区划以内的办公室
        #[arg(long)]
        scope: Option<String>,
        /// 每行输出一个JSON对象
        #[arg(long)]
        json: bool,
        /// 评估日期（YYYY-MM-DD），默认今天（北京时间）
        #[arg(long)]
        as_of: Option<String>,
    },
}

#[derive(Subcommand)]
enum DivisionsCommand {
    /// 从国家统计用区划代码目录导入（provinces/cities/areas/streets/villages，.csv 或 .csv.gz）
    Import {
        dir: PathBuf,
        /// 只导入该区划及其下级（和它的上级）
        #[arg(long)]
        only: Option<String>,
    },
    /// 各级区划数量
    Stats {
        /// 只统计该区划以内
        #[arg(long)]
        scope: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// 新建用户（密码从标准输入读取）
    Add {
        #[arg(long)]
        username: String,
        /// city-admin county-approver township-director township-staff village-assistant auditor
        #[arg(long)]
        role: String,
        /// 管辖区划代码
        #[arg(long)]
        scope: String,
        /// 姓名
        #[arg(long, default_value = "")]
        name: String,
        /// 从标准输入读取密码（第一行）
        #[arg(long)]
        password_stdin: bool,
    },
    /// 列出用户
    List,
    /// 解除账户的登录锁定（所有地址；记入操作日志）
    Unlock {
        /// 用户名
        username: String,
    },
}

#[derive(Subcommand)]
enum IdCommand {
    /// 逐行校验标准输入中的身份证号码，输出制表符分隔的结果
    Check {
        /// 校验日期（出生日期不得晚于此日），默认今天
        #[arg(long)]
        as_of: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// 校验操作日志哈希链是否完整
    Verify,
}

/// An error for the user, in Chinese.
struct CliError(String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

type CliResult = Result<ExitCode, CliError>;

/// mimalloc instead of the system allocator: bulk work (测算, re-pricing, imports) builds and
/// frees millions of small values, often freed on another thread than the one that made
/// them, where glibc's allocator spends a large share of the time.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            eprintln!("命令行参数有误：{}", e.render());
            eprintln!("使用 minzheng --help 查看用法。");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MINZHENG_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,sqlx::postgres::notice=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(CliError(msg)) => {
            eprintln!("错误：{msg}");
            ExitCode::FAILURE
        }
    }
}

const DEFAULT_DB: &str = "sqlite://minzheng.db";
const DEMO_DB: &str = "sqlite://minzheng-demo.db";

pub(crate) async fn open_app(url: &Option<String>) -> Result<App, CliError> {
    let url = url.as_deref().unwrap_or(DEFAULT_DB);
    App::open(url)
        .await
        .map(|app| app.with_limits(input_limits()))
        .map_err(|e| CliError(format!("无法打开数据库（{}）：{e}", redact(url))))
}

/// The input limits of this run: the defaults with `--limits` (or `MINZHENG_LIMITS`)
/// applied, set once when the arguments are read.
static LIMITS: std::sync::OnceLock<InputLimits> = std::sync::OnceLock::new();

pub(crate) fn input_limits() -> InputLimits {
    LIMITS.get().copied().unwrap_or_default()
}

/// An actor for the command line, working in `scope` (everything when `None`).
fn cli_actor(scope: Option<&str>) -> Result<Actor, CliError> {
    let mut actor = Actor::system("cli");
    if let Some(s) = scope {
        actor.scope = Scope::of(parse_code(s)?);
    }
    Ok(actor)
}

/// Hides a password in a database URL before printing it.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn parse_code(s: &str) -> Result<DivisionCode, CliError> {
    DivisionCode::parse(s).map_err(|e| CliError(format!("区划代码“{s}”无效：{e}")))
}

async fn run(cli: Cli) -> CliResult {
    let limits = InputLimits::default()
        .with_overrides(cli.limits.as_deref().unwrap_or(""))
        .map_err(CliError)?;
    let _ = LIMITS.set(limits);
    match cli.command {
        Command::Serve {
            demo,
            listen,
            idle_minutes,
            secure_cookies,
            behind_proxy,
            holidays,
            no_daily_tasks,
            read_database_url,
            backup_dir,
            backup_keep,
        } => {
            let calendar = load_calendar(holidays.as_deref())?;
            if let Some(d) = &backup_dir {
                std::fs::create_dir_all(d)
                    .map_err(|e| CliError(format!("备份目录{}无法创建：{e}", d.display())))?;
            }
            if idle_minutes < 1 {
                return Err(CliError("会话空闲超时至少为1分钟".into()));
            }
            let url = match (&cli.database_url, demo) {
                (Some(u), _) => u.clone(),
                (None, true) => DEMO_DB.to_string(),
                (None, false) => DEFAULT_DB.to_string(),
            };
            let read_url = read_database_url.filter(|u| !u.trim().is_empty());
            let app = match &read_url {
                None => open_app(&Some(url.clone())).await?,
                Some(read) => App::open_with_replica(&url, read)
                    .await
                    .map(|app| app.with_limits(input_limits()))
                    .map_err(|e| {
                        CliError(format!(
                            "无法打开数据库（{}，只读副本{}）：{e}",
                            redact(&url),
                            redact(read)
                        ))
                    })?,
            }
            .with_calendar(calendar);
            // Imports cut off by the previous process's end cannot resume.
            app.jobs().fail_interrupted().await?;
            let logins = if demo {
                let logins = app.demo().ensure().await?;
                // The demo registry is seeded here rather than in ensure_demo, which every
                // test calls: 20,000 households would slow each of them down.
                let started = Instant::now();
                let added = app.demo().registry(20_000, 2026).await?;
                if added > 0 {
                    println!(
                        "已生成演示户籍台账 {added} 户（用时 {:.1} 秒）",
                        started.elapsed().as_secs_f64()
                    );
                }
                let cases = app.demo().cases(parse_date_or_today(None)?).await?;
                if cases > 0 {
                    println!("已生成演示救助案件 {cases} 件（各办理环节、各救助项目均有）");
                }
                let enrolled = app.demo().payroll_enrolments().await?;
                if enrolled > 0 {
                    println!("已生成演示保障对象 {enrolled} 个（东城街道、西城街道低保）");
                }
                // Last month paid and reconciled (one 退票); this month left to generate.
                let last = minzheng_domain::YearMonth::of(parse_date_or_today(None)?).prev();
                let batches = app.demo().payroll_history(last).await?;
                if batches > 0 {
                    println!("已生成演示发放记录：{last} 共 {batches} 个批次，已签发、代发并对账（含1笔退票）");
                }
                let deaths = app.demo().deaths(last, parse_date_or_today(None)?).await?;
                if deaths > 0 {
                    println!("已生成演示殡葬记录 {deaths} 条（死亡后已发放的月份待追回），并完成一次数据比对");
                }
                Some(logins)
            } else {
                None
            };
            let addr: std::net::SocketAddr = listen
                .parse()
                .map_err(|_| CliError(format!("监听地址“{listen}”无效，例如 127.0.0.1:8080")))?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| CliError(format!("无法监听 {addr}：{e}")))?;
            let local = listener.local_addr()?;
            println!("minzheng 民政业务管理系统已启动：http://{local}");
            println!("数据库：{}", redact(&url));
            if let Some(read) = &read_url {
                let standby = match app.read_replica_in_recovery().await? {
                    Some(true) => "备库，正在回放主库日志",
                    _ => "注意：该服务器不是备库，仍只用于读取",
                };
                println!(
                    "只读副本：{}（{standby}；检索、统计、导出和公示公开页从此读取，可能稍有延迟）",
                    redact(read)
                );
            }
            if let Some(logins) = logins {
                println!(
                    "演示账户（密码均为 {}）：",
                    minzheng_app::demo::DEMO_PASSWORD
                );
                for l in logins {
                    println!(
                        "  {:<10} {}（{} {}）",
                        l.username,
                        l.role.label(),
                        l.scope_code,
                        l.scope_name
                    );
                }
            }
            let state = minzheng_web::AppState::new(
                app.clone(),
                minzheng_web::WebConfig {
                    idle_timeout: chrono::Duration::minutes(idle_minutes),
                    secure_cookies,
                    behind_proxy,
                    ..Default::default()
                },
            );
            // 动态管理: daily tasks (old-age proposals, due reviews) run at start and hourly;
            // they are idempotent, so a restart or an extra run opens nothing twice. The
            // month's 高龄津贴 age-band batch (调标) is prepared at the first tick of a month.
            let tasks_app = app.clone();
            let tasks = tokio::spawn(async move {
                if no_daily_tasks {
                    return;
                }
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
                let mut checked_on = None;
                let mut repriced_month = None;
                loop {
                    tick.tick().await;
                    let on = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
                    let actor = minzheng_domain::Actor::system("daily-tasks");
                    match tasks_app.cases().run_tasks(&actor, on).await {
                        Ok((0, 0)) => {}
                        Ok((p, r)) => {
                            tracing::info!("每日任务：拟定高龄津贴{p}件，开启定期核查{r}件")
                        }
                        Err(e) => tracing::warn!("每日任务失败：{e}"),
                    }
                    // 数据比对 once a day: the first hourly tick after 02:00 Beijing time of
                    // a day not yet checked (a server started during the day runs them at
                    // start).
                    let hour =
                        chrono::Timelike::hour(&(chrono::Utc::now() + chrono::Duration::hours(8)));
                    // 备份 once a day, the first hourly tick after 03:00 Beijing time.
                    if let Some(dir) = backup_dir.as_deref() {
                        let file = minzheng_app::backup::nightly_file(dir, on);
                        if hour >= 3 && !file.exists() {
                            match tasks_app.backup(&file).await {
                                Ok(r) => tracing::info!(
                                    "已备份数据库到{}（{:.1}MB）",
                                    r.path,
                                    r.bytes as f64 / 1_048_576.0
                                ),
                                Err(e) => tracing::warn!("数据库备份失败：{e}"),
                            }
                            if let Err(e) = minzheng_app::backup::rotate(dir, backup_keep.max(1)) {
                                tracing::warn!("清理旧备份失败：{e}");
                            }
                        }
                    }
                    // 调标 once a month: the month's 高龄津贴 age-band batch, prepared at the
                    // first tick of the month (idempotent: a restart adds nothing).
                    let this_month = minzheng_domain::YearMonth::of(on);
                    if repriced_month != Some(this_month) {
                        let actor = minzheng_domain::Actor::system("monthly-repricing");
                        match tasks_app
                            .repricing()
                            .prepare_age_bands(&actor, this_month, None, on)
                            .await
                        {
                            Ok(r) => {
                                repriced_month = Some(this_month);
                                if r.added > 0 {
                                    tracing::info!(
                                        "高龄津贴年龄段调标：{}新列入{}人（{}个批次），待审核签发",
                                        r.month,
                                        r.added,
                                        r.batches.len()
                                    )
                                }
                            }
                            Err(e) => tracing::warn!("高龄津贴年龄段调标失败：{e}"),
                        }
                    }
                    if hour >= 2 && checked_on != Some(on) {
                        checked_on = Some(on);
                        let actor = minzheng_domain::Actor::system("nightly-checks");
                        match tasks_app.checks().run(&actor, on).await {
                            Ok(r) => tracing::info!(
                                "数据比对：现有疑点{}条，新发现{}条，用时{:.1}秒",
                                r.found(),
                                r.new_findings(),
                                r.seconds
                            ),
                            Err(e) => tracing::warn!("数据比对失败：{e}"),
                        }
                    }
                }
            });
            minzheng_web::serve(listener, state, shutdown_signal()).await?;
            tasks.abort();
            app.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Limits => {
            for (key, name, value) in input_limits().describe() {
                println!("{key}\t{value}\t{name}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { distributed } => {
            let url = cli.database_url.as_deref().unwrap_or(DEFAULT_DB);
            let app = App::connect(url).await?;
            if distributed {
                app.require_distributable().await?;
            }
            let n = app.migrate().await?;
            println!("迁移完成：本次执行 {n} 个迁移");
            if app.deployment().await? == minzheng_app::Deployment::Distributed {
                println!("分布式部署：各县数据按县级区划代码分布在 Citus 集群各节点");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { out } => {
            let app = open_app(&cli.database_url).await?;
            let started = Instant::now();
            let r = app.backup(&out).await;
            app.close().await;
            let r = r?;
            println!(
                "已备份到{}（{:.1}MB，用时 {:.1} 秒）：家庭{}户、人员{}人、保障对象{}个、操作日志{}条，完整性和操作日志校验通过",
                r.path,
                r.bytes as f64 / 1_048_576.0,
                started.elapsed().as_secs_f64(),
                r.households,
                r.persons,
                r.enrolments,
                r.audit_records
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file, replace } => {
            let url = cli.database_url.as_deref().unwrap_or(DEFAULT_DB);
            let r = minzheng_app::backup::restore(&file, url, replace).await?;
            println!(
                "已从{}恢复到{}：家庭{}户、人员{}人、保障对象{}个、操作日志{}条，完整性和操作日志校验通过",
                file.display(),
                r.path,
                r.households,
                r.persons,
                r.enrolments,
                r.audit_records
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Compact => {
            let url = cli.database_url.as_deref().unwrap_or(DEFAULT_DB);
            let started = Instant::now();
            let c = App::compact_sqlite(url).await?;
            println!(
                "整理完成（用时 {:.1} 秒）：页大小 {} → {} 字节，文件 {:.1}MB → {:.1}MB",
                started.elapsed().as_secs_f64(),
                c.page_size_before,
                c.page_size_after,
                c.bytes_before as f64 / 1_048_576.0,
                c.bytes_after as f64 / 1_048_576.0
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Divisions { command } => match command {
            DivisionsCommand::Import { dir, only } => {
                let only = only.as_deref().map(parse_code).transpose()?;
                let app = open_app(&cli.database_url).await?;
                let bar = indicatif::ProgressBar::new(0);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} [{elapsed_precise}] {bar:40} {bytes}/{total_bytes} {msg}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                let started = Instant::now();
                let result = app
                    .divisions()
                    .import(
                        &Actor::system("cli"),
                        &DivisionSource::Dir(dir),
                        only.as_ref(),
                        &mut |p| {
                            bar.set_length(p.bytes_total);
                            bar.set_position(p.bytes_done);
                            bar.set_message(format!("已读取 {} 条", p.rows));
                        },
                    )
                    .await;
                bar.finish_and_clear();
                let stats = result?;
                app.close().await;
                println!(
                    "区划导入完成，用时 {:.2} 秒：读取 {} 条，新增 {}，更新 {}，未变 {}；新建民政办公室 {} 个，更名 {} 个",
                    started.elapsed().as_secs_f64(),
                    stats.rows_read,
                    stats.inserted,
                    stats.updated,
                    stats.unchanged,
                    stats.offices_created,
                    stats.offices_renamed
                );
                Ok(ExitCode::SUCCESS)
            }
            DivisionsCommand::Stats { scope } => {
                let actor = cli_actor(scope.as_deref())?;
                let app = open_app(&cli.database_url).await?;
                for lc in app.divisions().stats(&actor).await? {
                    println!("{}\t{}", lc.level.as_str(), lc.count);
                }
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::User { command } => match command {
            UserCommand::Add {
                username,
                role,
                scope,
                name,
                password_stdin,
            } => {
                if !password_stdin {
                    return Err(CliError(
                        "请用 --password-stdin 从标准输入提供密码（不要把密码写在命令行上）".into(),
                    ));
                }
                let mut pw = String::new();
                std::io::stdin()
                    .lock()
                    .take(1024)
                    .read_line(&mut pw)
                    .map_err(|e| CliError(format!("无法读取密码：{e}")))?;
                let pw = pw.trim_end_matches(['\n', '\r']).to_string();
                let app = open_app(&cli.database_url).await?;
                let user = app
                    .users()
                    .create(
                        &Actor::system("cli"),
                        &NewUser {
                            username,
                            display_name: name,
                            role,
                            scope_code: scope,
                            password: pw,
                        },
                    )
                    .await?;
                println!(
                    "已创建用户 {}（{}，管辖 {} {}）",
                    user.username,
                    user.role.label(),
                    user.scope_code,
                    user.scope_name
                );
                Ok(ExitCode::SUCCESS)
            }
            UserCommand::Unlock { username } => {
                let app = open_app(&cli.database_url).await?;
                let user = app.users().unlock(&Actor::system("cli"), &username).await?;
                println!(
                    "已解除用户 {}（{}）的登录锁定",
                    user.username, user.display_name
                );
                Ok(ExitCode::SUCCESS)
            }
            UserCommand::List => {
                let app = open_app(&cli.database_url).await?;
                for u in app.users().list(&Actor::system("cli")).await? {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        u.username,
                        u.role.as_str(),
                        u.scope_code,
                        u.display_name,
                        if u.active { "正常" } else { "停用" }
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Id {
            command: IdCommand::Check { as_of },
        } => {
            let as_of = match as_of {
                Some(s) => chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map_err(|_| CliError(format!("日期“{s}”无效，格式应为YYYY-MM-DD")))?,
                None => chrono::Local::now().date_naive(),
            };
            id_check(as_of)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Cases {
            command: CasesCommand::Tasks { scope, date },
        } => {
            let mut actor = minzheng_domain::Actor::system("cli");
            if let Some(s) = scope {
                actor.scope = Scope::of(parse_code(&s)?);
            }
            let on = parse_date_or_today(date)?;
            let app = open_app(&cli.database_url).await?;
            let (proposed, reviews) = app.cases().run_tasks(&actor, on).await?;
            println!("{on}：拟定高龄津贴案件 {proposed} 件，开启定期核查 {reviews} 件");
            app.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Checks {
            command: ChecksCommand::Run { scope, date, json },
        } => {
            let mut actor = minzheng_domain::Actor::system("cli");
            if let Some(s) = scope {
                actor.scope = Scope::of(parse_code(&s)?);
            }
            let on = parse_date_or_today(date)?;
            let app = open_app(&cli.database_url).await?;
            let report = app.checks().run(&actor, on).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                for c in &report.checks {
                    println!(
                        "{}：现有疑点 {}，新发现 {}，自动关闭 {}（{:.3} 秒）",
                        c.kind.label(),
                        c.found,
                        c.new,
                        c.closed,
                        c.seconds
                    );
                }
                println!("合计用时 {:.3} 秒", report.seconds);
            }
            app.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Offices {
            command: OfficesCommand::Report { scope, json, as_of },
        } => {
            let scope = match scope {
                Some(s) => Scope::of(parse_code(&s)?),
                None => Scope::all(),
            };
            let as_of = parse_date_or_today(as_of)?;
            let app = open_app(&cli.database_url).await?;
            let actor = minzheng_domain::Actor {
                scope,
                ..minzheng_domain::Actor::system("cli")
            };
            let rows = app.standards().overview(&actor, None, None, as_of).await?;
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            for o in &rows {
                if json {
                    let rules: serde_json::Map<String, serde_json::Value> = o
                        .evaluation
                        .results
                        .iter()
                        .map(|r| (r.rule.id.to_string(), r.status.as_str().into()))
                        .collect();
                    let line = serde_json::json!({
                        "township_code": o.township_code,
                        "name": o.name,
                        "county": o.county_name,
                        "compliance_percent": o.evaluation.compliance_percent,
                        "basic_met": o.evaluation.basic_met,
                        "basic_total": o.evaluation.basic_total,
                        "plan_status": o.plan_status,
                        "inspection_status": o.inspection_status,
                        "subsidy_fen": o.subsidy.map(|f| f.0),
                        "rules": rules,
                    });
                    writeln!(out, "{line}")?;
                } else {
                    let rules: Vec<String> = o
                        .evaluation
                        .results
                        .iter()
                        .map(|r| format!("{}={}", r.rule.id, r.status.as_str()))
                        .collect();
                    writeln!(
                        out,
                        "{}\t{}\t{}%\t{}",
                        o.township_code,
                        o.name,
                        o.evaluation.compliance_percent,
                        rules.join(" ")
                    )?;
                }
            }
            out.flush()?;
            app.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let app = open_app(&cli.database_url).await?;
            let v = app.audit().verify().await?;
            match v.first_break {
                None => {
                    println!("操作日志完整：共 {} 条记录，哈希链校验通过", v.records);
                    Ok(ExitCode::SUCCESS)
                }
                Some(b) => {
                    println!("操作日志已被篡改：第{}条记录 —— {}", b.seq, b.reason);
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Import { command } => {
            let app = open_app(&cli.database_url).await?;
            let r = registry::import(&app, command).await;
            app.close().await;
            r
        }
        Command::Jobs { limit } => {
            let app = open_app(&cli.database_url).await?;
            let r = registry::jobs(&app, limit).await;
            app.close().await;
            r
        }
        Command::Export { command } => {
            let app = open_app(&cli.database_url).await?;
            let r = registry::export(&app, command).await;
            app.close().await;
            r
        }
        Command::Demo { command } => registry::demo(command),
        Command::Bench { command } => match command {
            BenchCommand::Registry(c) => registry::bench(c).await,
            BenchCommand::Payroll(c) => payroll::bench(c).await,
            BenchCommand::Checks(c) => checks::bench(c).await,
            BenchCommand::Search(c) => search::bench(c).await,
            BenchCommand::Whatif(c) => whatif::bench(c).await,
            BenchCommand::Stats(c) => stats::bench(c).await,
        },
        Command::Stats { command } => {
            let app = open_app(&cli.database_url).await?;
            let r = stats::run(&app, command).await;
            app.close().await;
            r
        }
        Command::Payroll { command } => {
            let app = open_app(&cli.database_url).await?;
            let r = payroll::run(&app, command).await;
            app.close().await;
            r
        }
        Command::Params { command } => whatif::params(command, &cli.database_url).await,
        Command::Repricing { command } => {
            let (month, scope, json, program) = match command {
                RepricingCommand::AgeBands { month, scope, json } => (month, scope, json, None),
                RepricingCommand::Standard {
                    program,
                    month,
                    scope,
                    json,
                } => (month, scope, json, Some(program)),
            };
            let month = minzheng_domain::YearMonth::parse(&month)
                .map_err(|_| CliError(format!("月份“{month}”无效，格式应为YYYY-MM")))?;
            let program = match program {
                None => None,
                Some(p) => Some(
                    p.trim()
                        .parse::<minzheng_domain::Program>()
                        .ok()
                        .filter(|p| !minzheng_domain::repricing::programs_following(*p).is_empty())
                        .ok_or_else(|| {
                            CliError(format!("救助项目“{p}”无效，应为按月发放的项目代码"))
                        })?,
                ),
            };
            let actor = minzheng_domain::Actor::system("cli");
            let today = parse_date_or_today(None)?;
            let app = open_app(&cli.database_url).await?;
            let r = match program {
                None => {
                    app.repricing()
                        .prepare_age_bands(&actor, month, scope.as_deref(), today)
                        .await
                }
                Some(p) => {
                    app.repricing()
                        .prepare_standard(&actor, p, month, scope.as_deref())
                        .await
                }
            };
            app.close().await;
            let r = r?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                for b in &r.batches {
                    println!(
                        "{}（{}）：{}人，月发放额 {}元 → {}元{}",
                        b.township_name,
                        b.township_code,
                        b.line_count,
                        b.old_total.yuan_string(),
                        b.new_total.yuan_string(),
                        if b.zero_count > 0 {
                            format!("，其中{}人金额将为0，须另行决定", b.zero_count)
                        } else {
                            String::new()
                        }
                    );
                    if b.problem_count > 0 {
                        println!(
                            "  {}（{}）：{}人无法计算，不调整",
                            b.township_name,
                            b.program.label(),
                            b.problem_count
                        );
                    }
                }
                match program {
                    None => println!(
                        "{}高龄津贴年龄段调标：核对保障对象{}人，新列入{}人（{}个批次），待民政办主任审核签发",
                        r.month,
                        r.considered,
                        r.added,
                        r.batches.len()
                    ),
                    Some(p) => println!(
                        "{}起{}调整标准：核对保障对象{}人，新列入{}人（{}个批次），待审核签发",
                        r.month,
                        p.label(),
                        r.considered,
                        r.added,
                        r.batches.len()
                    ),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Streams stdin to stdout, one result line per input line.
fn id_check(as_of: chrono::NaiveDate) -> Result<(), CliError> {
    let stdin = std::io::stdin();
    let mut input = std::io::BufReader::with_capacity(1 << 16, stdin.lock());
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut line = Vec::with_capacity(64);
    let mut buf = Vec::with_capacity(1 << 16);
    loop {
        line.clear();
        let n = input.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        minzheng_domain::check_line(&line, as_of, &mut buf);
        if buf.len() >= 1 << 15 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// A `YYYY-MM-DD` argument, or today in Beijing time (UTC+8, no daylight saving):
/// offices work on local dates.
fn parse_date_or_today(s: Option<String>) -> Result<chrono::NaiveDate, CliError> {
    match s {
        Some(s) => chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map_err(|_| CliError(format!("日期“{s}”无效，格式应为YYYY-MM-DD"))),
        None => Ok((chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()),
    }
}

/// The official calendar, plus a newer schedule from `path` if given.
/// The largest holiday file read (a year's schedule is a few dozen lines).
const HOLIDAY_FILE_BYTES: u64 = 1 << 20;

/// Reads a holiday file through the CSV limits: at most 1 MB, lines within
/// `max_line_bytes`.
fn read_holidays(p: &std::path::Path) -> Result<String, CliError> {
    use minzheng_app::formats::limits::{refusal_of, BoundedCsv};
    let cannot = |e: std::io::Error| match refusal_of(&e) {
        Some(r) => CliError(format!("节假日文件 {} 有误：{r}", p.display())),
        None => CliError(format!("无法读取节假日文件 {}：{e}", p.display())),
    };
    let f = std::fs::File::open(p).map_err(cannot)?;
    let mut text = String::new();
    BoundedCsv::new(f, &input_limits(), HOLIDAY_FILE_BYTES, "节假日文件")
        .read_to_string(&mut text)
        .map_err(cannot)?;
    Ok(text)
}

fn load_calendar(
    path: Option<&std::path::Path>,
) -> Result<minzheng_domain::WorkCalendar, CliError> {
    let mut cal = minzheng_domain::WorkCalendar::official();
    if let Some(p) = path {
        let text = read_holidays(p)?;
        let extra = minzheng_domain::WorkCalendar::from_csv(&text)
            .map_err(|e| CliError(format!("节假日文件 {} 有误：{e}", p.display())))?;
        cal.merge(extra);
        let years: Vec<String> = cal.known_years().iter().map(|y| y.to_string()).collect();
        println!("工作日历：已载入 {} 年的节假日安排", years.join("、"));
    }
    Ok(cal)
}
