//! `minzheng serve --read-database-url`: the binary refuses a SQLite read replica, and over a
//! PostgreSQL primary and its streaming replica (when `MINZHENG_TEST_POSTGRES_URL` and
//! `MINZHENG_TEST_POSTGRES_REPLICA_URL` are set; listed as ignored otherwise, a failure
//! under CI) it answers the search page and API from the replica, and saves and
//! shows a saved household on the primary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::testing::{pause_replica, resume_replica, TestDb};
use minzheng_domain::registry::NewHousehold;
use minzheng_domain::{Actor, IdNumber};
use serde_json::{json, Value};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_minzheng"))
}

/// A valid ID number born on 1980-01-01.
fn id_number(seq: u32) -> String {
    let first = format!("51180219800101{seq:03}");
    let c = IdNumber::check_char(first.as_bytes()).unwrap();
    format!("{first}{}", c as char)
}

fn household(name: &str, seq: u32) -> NewHousehold {
    NewHousehold {
        head_health: "健康".into(),
        head_work_capacity: "有劳动能力".into(),
        village_code: "511802001001".into(),
        registration_type: "农村".into(),
        address: "和平路9号".into(),
        phone: "13800000009".into(),
        bank_name: "中国农业银行".into(),
        account_number: "6228480000000000009".into(),
        account_holder: name.into(),
        head_name: name.into(),
        head_id_number: id_number(seq),
    }
}

#[test]
fn serve_refuses_a_sqlite_read_replica() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let replica = format!("sqlite://{}", dir.path().join("r.db").display());
    let flag = bin()
        .args(["--database-url", &db, "serve", "--listen", "127.0.0.1:0"])
        .args(["--read-database-url", &replica])
        .env("MINZHENG_LOG", "warn")
        .output()
        .unwrap();
    let env = bin()
        .args(["--database-url", &db, "serve", "--listen", "127.0.0.1:0"])
        .env("MINZHENG_READ_DATABASE_URL", &replica)
        .env("MINZHENG_LOG", "warn")
        .output()
        .unwrap();
    for out in [flag, env] {
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("SQLite数据库不能作只读副本"), "{err}");
    }
    assert!(!dir.path().join("r.db").exists());
}

/// The server, stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` on a free port; returns it with its base URL once it listens, and the
/// line it printed about the replica.
fn serve(db: &str, read_url: &str) -> (Server, String, String) {
    let mut child = bin()
        .args(["--database-url", db, "serve", "--listen", "127.0.0.1:0"])
        .args(["--no-daily-tasks", "--read-database-url", read_url])
        .env("MINZHENG_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start minzheng serve");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let mut base = None;
    let mut replica_line = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(i) = line.find("http://") {
            base = Some(line[i..].trim().to_string());
        }
        if line.starts_with("只读副本：") {
            replica_line = Some(line);
        }
        if base.is_some() && replica_line.is_some() {
            break;
        }
    }
    // The rest of its output is read (and dropped) until it exits.
    std::thread::spawn(move || lines.for_each(drop));
    (
        server,
        base.expect("serve prints where it listens"),
        replica_line.expect("serve names the replica"),
    )
}

#[minzheng_test_services::needs_replica]
#[tokio::test]
async fn serve_with_a_read_replica_searches_there_and_saves_on_the_primary() {
    let db = TestDb::postgres().await;
    db.app.demo().ensure().await.expect("seed demo");
    db.app
        .registry()
        .create(&Actor::system("t"), &household("司马镜", 21))
        .await
        .unwrap();
    // Waits for the replica to replay all of it.
    let read_url = db
        .replica_url()
        .await
        .expect("a PostgreSQL database has a replica");
    let (server, base, replica_line) = serve(&db.url, &read_url);
    assert!(
        replica_line.contains("备库，正在回放主库日志"),
        "{replica_line}"
    );
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = c
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": "staff", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let search = |q: &'static str| {
        let (c, base) = (c.clone(), base.clone());
        async move {
            let v: Value = c
                .get(format!("{base}/api/v1/persons"))
                .query(&[("q", q)])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(search("司马镜").await, 1);
    let page = c
        .get(format!("{base}/households"))
        .query(&[("q", "司马镜")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("司马镜"));

    // With the replica's replay paused, a household saved through the server is shown from
    // the primary, and the search (the replica's) finds it only once replay resumes.
    let replica = db.with_replica().await.expect("the replica is configured");
    pause_replica(&replica).await;
    let saved = c
        .post(format!("{base}/api/v1/households"))
        .header("x-csrf-token", &csrf)
        .json(&household("司马鉴", 22))
        .send()
        .await
        .unwrap();
    let saved_status = saved.status();
    let saved: Value = saved.json().await.unwrap();
    let shown = c
        .get(format!(
            "{base}/api/v1/households/{}",
            saved["household"]["id"]
        ))
        .send()
        .await
        .unwrap()
        .status();
    let found_paused = search("司马鉴").await;
    resume_replica(&replica).await;
    assert_eq!(saved_status, 201, "{saved}");
    assert_eq!(shown, 200, "the saved household reads the primary");
    assert_eq!(found_paused, 0, "the search reads the replica");
    assert_eq!(search("司马鉴").await, 1);
    drop(server);
    replica.close().await;
    db.cleanup().await;
}
