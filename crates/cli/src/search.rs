//! `minzheng bench search`: person and household search under load. Builds a city of
//! generated households in a scratch database, starts `minzheng serve` on a free port of
//! 127.0.0.1 as a child process, signs in as a township clerk and as a city user, and runs
//! a fixed number of clients for a fixed time against `/api/v1/persons` and
//! `/api/v1/households` with a mix of the search kinds. The load goes to 127.0.0.1 only and
//! stops by itself; the last line printed is JSON.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::Subcommand;
use minzheng_app::bench::ScratchDb;
use minzheng_app::registry::import::{ImportInput, ImportOptions};
use minzheng_app::App;
use minzheng_domain::registry::{pinyin_keys, Household, HouseholdFilter};
use minzheng_domain::{Actor, DivisionCode, Scope};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::{CliError, CliResult};

/// The township clerk's account and jurisdiction (demo accounts).
const CLERK: (&str, &str) = ("staff", "511802001");
/// The city user's account and jurisdiction.
const CITY: (&str, &str) = ("admin", "5118");

#[derive(Subcommand)]
pub enum BenchCommand {
    /// 查询性能测试：生成全市台账导入临时数据库，在127.0.0.1的空闲端口启动服务，
    /// 以乡镇工作人员和市级用户身份并发查询人员和家庭（姓名、拼音、身份证号、后四位、后四位+姓名），
    /// 按固定时长和并发数运行后自行结束；最后一行为JSON
    Search {
        /// 人数
        #[arg(long, default_value_t = 1_000_000)]
        persons: usize,
        /// 改用 PostgreSQL：服务器地址（如 postgres://postgres@127.0.0.1:5432/postgres），
        /// 在其上新建临时数据库，结束后删除
        #[arg(long)]
        postgres: Option<String>,
        /// 计时的查询时长（秒），另有2秒预热不计
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// 并发客户端数
        #[arg(long, default_value_t = 32)]
        clients: usize,
    },
}

/// What a request searches: its kind (for the per-kind figures) and path.
#[derive(Debug, Clone)]
struct Probe {
    kind: String,
    path: String,
    /// Which signed-in user sends it (0 clerk, 1 city user).
    who: usize,
}

/// One client's connection to the server (HTTP/1.1 keep-alive), reopened after an error.
struct Conn {
    port: u16,
    stream: Option<BufReader<TcpStream>>,
}

/// A response: status and body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Conn {
    fn new(port: u16) -> Conn {
        Conn { port, stream: None }
    }

    /// Sends one request and reads its answer (Content-Length or chunked bodies).
    async fn send(&mut self, head: &str, body: &[u8]) -> std::io::Result<Answer> {
        if self.stream.is_none() {
            let s = TcpStream::connect(("127.0.0.1", self.port)).await?;
            s.set_nodelay(true)?;
            self.stream = Some(BufReader::new(s));
        }
        let r = self.exchange(head, body).await;
        if r.is_err() {
            self.stream = None;
        }
        r
    }

    async fn exchange(&mut self, head: &str, body: &[u8]) -> std::io::Result<Answer> {
        let s = self.stream.as_mut().expect("connected");
        let mut req = Vec::with_capacity(head.len() + body.len());
        req.extend_from_slice(head.as_bytes());
        req.extend_from_slice(body);
        s.get_mut().write_all(&req).await?;
        let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
        let mut line = String::new();
        if s.read_line(&mut line).await? == 0 {
            return Err(bad("connection closed"));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| bad("bad status line"))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            if s.read_line(&mut line).await? == 0 {
                return Err(bad("connection closed in headers"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let mut body = Vec::new();
        if let Some(len) = header("content-length") {
            let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
            body.resize(len, 0);
            s.read_exact(&mut body).await?;
        } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            loop {
                line.clear();
                s.read_line(&mut line).await?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| bad("bad chunk size"))?;
                let at = body.len();
                body.resize(at + size, 0);
                s.read_exact(&mut body[at..]).await?;
                line.clear();
                s.read_line(&mut line).await?;
                if size == 0 {
                    break;
                }
            }
        }
        if header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")) {
            self.stream = None;
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// Percent-encodes a query-string value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Signs in through the API; returns the session cookie's value.
async fn sign_in(port: u16, username: &str) -> Result<String, CliError> {
    let body = serde_json::json!({
        "username": username,
        "password": minzheng_app::demo::DEMO_PASSWORD,
    })
    .to_string();
    let head = format!(
        "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let a = Conn::new(port).send(&head, body.as_bytes()).await?;
    if a.status != 200 {
        return Err(CliError(format!(
            "以{username}登录失败（{}）：{}",
            a.status,
            String::from_utf8_lossy(&a.body)
        )));
    }
    a.headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .find_map(|(_, v)| {
            v.split(';')
                .next()
                .and_then(|kv| kv.strip_prefix("mz_session="))
                .map(str::to_string)
        })
        .ok_or_else(|| CliError(format!("以{username}登录后没有会话Cookie")))
}

/// Household heads of a jurisdiction, spread over its list, to draw search terms from.
async fn sample_heads(app: &App, scope: &str, want: usize) -> Result<Vec<Household>, CliError> {
    let mut actor = Actor::system("bench");
    actor.scope =
        Scope::of(DivisionCode::parse(scope).map_err(|e| CliError(format!("区划代码无效：{e}")))?);
    let page = |offset: i64| HouseholdFilter {
        limit: Some(50),
        offset: Some(offset),
        ..Default::default()
    };
    let (_, total) = app.registry().list(&actor, &page(0)).await?;
    let mut out = Vec::new();
    let pages = want.div_ceil(50).max(1) as i64;
    for k in 0..pages {
        let offset = (total * k / pages).min((total - 50).max(0));
        let (list, _) = app.registry().list(&actor, &page(offset)).await?;
        out.extend(list);
    }
    out.truncate(want);
    if out.is_empty() {
        return Err(CliError(format!("{scope}没有可供查询的家庭")));
    }
    Ok(out)
}

/// The search terms of one user's mix, by kind: names, surnames, given names, pinyin
/// initials, full pinyin, ID numbers, last four digits, last four digits with the name.
fn terms_of(heads: &[Household]) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for h in heads {
        let name = h.head_name.as_str();
        let id = h.head_id_number.as_str();
        let (py, ini) = pinyin_keys(name);
        let chars: Vec<char> = name.chars().collect();
        let last4 = &id[id.len() - 4..];
        out.push(("name", name.to_string()));
        out.push(("name", name.to_string()));
        out.push(("surname", chars[0].to_string()));
        if chars.len() > 1 {
            out.push(("given_name", chars[1..].iter().collect()));
        }
        out.push(("initials", ini.clone()));
        out.push(("initials", ini.chars().take(2).collect()));
        out.push(("pinyin", py));
        out.push(("id", id.to_string()));
        out.push(("id", id.to_string()));
        out.push(("last4", last4.to_string()));
        out.push(("last4_name", format!("{last4}{name}")));
        out.push(("last4_name", format!("{name} {last4}")));
    }
    out
}

/// A deterministic pseudo-random sequence (xorshift) for shuffling the mix.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The requests the clients cycle through: both users, both endpoints, every kind, shuffled.
fn probes(clerk: &[Household], city: &[Household]) -> Vec<Probe> {
    let mut out = Vec::new();
    for (who, heads) in [(0usize, clerk), (1usize, city)] {
        let scope = if who == 0 { "township" } else { "city" };
        for (k, (kind, term)) in terms_of(heads).into_iter().enumerate() {
            // Three person searches for every two household searches.
            let (endpoint, path) = if k % 5 < 3 {
                (
                    "persons",
                    format!("/api/v1/persons?q={}&limit=20", encode(&term)),
                )
            } else {
                (
                    "households",
                    format!("/api/v1/households?q={}&limit=20", encode(&term)),
                )
            };
            out.push(Probe {
                kind: format!("{endpoint}/{scope}/{kind}"),
                path,
                who,
            });
        }
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in (1..out.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

/// One memory figure of a process's status (`VmHWM` the peak resident size, `RssAnon` the
/// memory it allocated itself, `RssFile` mapped file pages), in MB.
fn status_mb(pid: u32, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key) && l[key.len()..].starts_with(':'))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// CPU time (user + system) a process has used so far, in seconds (clock ticks of 1/100 s,
/// as Linux reports them to user space).
fn cpu_seconds(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name (which may hold spaces) start at field 3.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0)
}

/// The server under test, ended (SIGTERM, then SIGKILL) when dropped.
struct Server {
    child: tokio::process::Child,
    pid: u32,
    port: u16,
}

impl Server {
    async fn start(url: &str) -> Result<Server, CliError> {
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args(["--database-url", url, "serve", "--listen", "127.0.0.1:0"])
            .arg("--no-daily-tasks")
            .env("MINZHENG_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().unwrap_or(0);
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(Duration::from_secs(300), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    if let Ok(p) = digits.parse::<u16>() {
                        return Ok::<_, std::io::Error>(Some(p));
                    }
                }
            }
            Ok(None)
        })
        .await
        .map_err(|_| CliError("服务启动超时".into()))??
        .ok_or_else(|| CliError("服务未能启动".into()))?;
        // Keep reading its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server { child, pid, port })
    }

    /// Asks the server to shut down and waits for it (at most 30 s, then kills it).
    async fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        if tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// What the clients measured.
#[derive(Default)]
struct Tally {
    /// Latency in microseconds, per kind.
    micros: BTreeMap<String, Vec<u32>>,
    errors: u64,
    first_error: Option<String>,
}

/// Runs `clients` clients over the probes until `until`; each client keeps one connection.
async fn load(
    port: u16,
    cookies: &[String; 2],
    probes: &std::sync::Arc<Vec<Probe>>,
    clients: usize,
    until: Instant,
) -> Tally {
    let mut tasks = Vec::new();
    for c in 0..clients {
        let probes = probes.clone();
        let cookies = cookies.clone();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut conn = Conn::new(port);
            let mut i = c * probes.len() / clients.max(1);
            while Instant::now() < until {
                let p = &probes[i % probes.len()];
                i += 1;
                let head = format!(
                    "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: mz_session={}\r\n\r\n",
                    p.path, cookies[p.who]
                );
                let t = Instant::now();
                let r = conn.send(&head, &[]).await;
                let us = t.elapsed().as_micros().min(u32::MAX as u128) as u32;
                match r {
                    Ok(a) if a.status == 200 => {
                        tally.micros.entry(p.kind.clone()).or_default().push(us)
                    }
                    Ok(a) => {
                        tally.errors += 1;
                        tally.first_error.get_or_insert_with(|| {
                            format!(
                                "{} → {} {}",
                                p.path,
                                a.status,
                                String::from_utf8_lossy(&a.body)
                            )
                        });
                    }
                    Err(e) => {
                        tally.errors += 1;
                        tally
                            .first_error
                            .get_or_insert_with(|| format!("{} → {e}", p.path));
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for t in tasks {
        if let Ok(t) = t.await {
            for (k, v) in t.micros {
                all.micros.entry(k).or_default().extend(v);
            }
            all.errors += t.errors;
            if all.first_error.is_none() {
                all.first_error = t.first_error;
            }
        }
    }
    all
}

/// The q-quantile of sorted microseconds, in milliseconds.
fn quantile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[k] as f64 / 1000.0
}

/// Builds the city, serves it, loads it, prints the figures.
pub async fn bench(cmd: BenchCommand) -> CliResult {
    let BenchCommand::Search {
        persons,
        postgres,
        seconds,
        clients,
    } = cmd;
    if clients == 0 || seconds == 0 {
        return Err(CliError("--clients 和 --seconds 须大于0".into()));
    }
    /// The bench's temporary directory, removed however the bench ends.
    struct TempDir(PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let tmp =
        TempDir(std::env::temp_dir().join(format!("minzheng-bench-search-{}", std::process::id())));
    std::fs::create_dir_all(&tmp.0)?;
    let file = tmp.0.join("ledger.csv");
    eprintln!("生成台账 {persons} 人……");
    let generated = std::process::Command::new(std::env::current_exe()?)
        .args(["demo", "generate", "--seed", "3", "--persons"])
        .arg(persons.to_string())
        .arg("--out")
        .arg(&file)
        .status()?;
    if !generated.success() {
        return Err(CliError("生成台账失败".into()));
    }
    let backend = if postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let db = ScratchDb::create(postgres.as_deref(), "search").await?;
    let outcome = run(&db.url, &file, backend, persons, seconds, clients).await;
    db.remove().await;
    drop(tmp);
    let line = outcome?;
    println!("{line}");
    Ok(ExitCode::SUCCESS)
}

async fn run(
    url: &str,
    file: &std::path::Path,
    backend: &str,
    persons: usize,
    seconds: u64,
    clients: usize,
) -> Result<serde_json::Value, CliError> {
    let app = App::open(url).await?;
    app.demo().ensure().await?;
    eprintln!("导入台账（{backend}）……");
    let started = Instant::now();
    let r = app
        .registry()
        .import(
            &Actor::system("bench"),
            &ImportInput::Path(file.to_path_buf()),
            &ImportOptions {
                max_bytes: u64::MAX,
                ..Default::default()
            },
            &mut |_| {},
        )
        .await?;
    if !r.written {
        return Err(CliError(format!("导入失败：{:?}", r.issues.first())));
    }
    let import_seconds = started.elapsed().as_secs_f64();
    let clerk = sample_heads(&app, CLERK.1, 60).await?;
    let city = sample_heads(&app, CITY.1, 60).await?;
    app.close().await;
    let probes = std::sync::Arc::new(probes(&clerk, &city));
    eprintln!(
        "已导入 {} 人（{} 户，{import_seconds:.1} 秒）；启动服务……",
        r.rows_read, r.households_created
    );
    let server = Server::start(url).await?;
    let port = server.port;
    let result = async {
        let cookies = [sign_in(port, CLERK.0).await?, sign_in(port, CITY.0).await?];
        eprintln!(
            "服务 127.0.0.1:{port}；{clients} 个客户端，预热2秒，计时{seconds}秒（{}种查询）……",
            probes.len()
        );
        let warm = Instant::now() + Duration::from_secs(2);
        load(port, &cookies, &probes, clients, warm).await;
        let cpu = (cpu_seconds(&server.pid.to_string()), cpu_seconds("self"));
        let started = Instant::now();
        let tally = load(
            port,
            &cookies,
            &probes,
            clients,
            started + Duration::from_secs(seconds),
        )
        .await;
        let cpu = (
            cpu_seconds(&server.pid.to_string()) - cpu.0,
            cpu_seconds("self") - cpu.1,
        );
        Ok::<_, CliError>((tally, started.elapsed().as_secs_f64(), cpu))
    }
    .await;
    let rss = status_mb(server.pid, "VmHWM");
    let (anon, file) = (
        status_mb(server.pid, "RssAnon"),
        status_mb(server.pid, "RssFile"),
    );
    server.stop().await;
    let (tally, elapsed, (server_cpu, client_cpu)) = result?;
    let mut all: Vec<u32> = tally.micros.values().flatten().copied().collect();
    all.sort_unstable();
    let requests = all.len() as u64 + tally.errors;
    let mut per_kind = serde_json::Map::new();
    eprintln!("{:<36}{:>8}{:>10}{:>10}", "kind", "n", "p50 ms", "p99 ms");
    for (k, v) in &tally.micros {
        let mut v = v.clone();
        v.sort_unstable();
        let (p50, p99) = (quantile_ms(&v, 0.5), quantile_ms(&v, 0.99));
        eprintln!("{k:<36}{:>8}{p50:>10.2}{p99:>10.2}", v.len());
        per_kind.insert(
            k.clone(),
            serde_json::json!({"n": v.len(), "p50_ms": p50, "p99_ms": p99}),
        );
    }
    if let Some(e) = &tally.first_error {
        eprintln!("第一个错误：{e}");
    }
    Ok(serde_json::json!({
        "backend": backend, "persons": persons, "clients": clients, "seconds": elapsed,
        "import_seconds": import_seconds, "kinds": per_kind,
        "requests": requests, "rps": requests as f64 / elapsed,
        "p50_ms": quantile_ms(&all, 0.5), "p99_ms": quantile_ms(&all, 0.99),
        "server_cpu_ms_per_request": server_cpu * 1000.0 / requests.max(1) as f64,
        "client_cpu_ms_per_request": client_cpu * 1000.0 / requests.max(1) as f64,
        "rss_anon_mb": anon, "rss_file_mb": file,
        "errors": tally.errors, "peak_rss_mb": rss,
    }))
}
