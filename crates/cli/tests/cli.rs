//! The `minzheng` binary, run as a child process the way a clerk or a script would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_minzheng"))
}

fn run(db: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = bin()
        .arg("--database-url")
        .arg(db)
        .args(args)
        .env("MINZHENG_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start minzheng");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn id_check_is_exact_on_valid_invalid_and_garbage() {
    let input: &[u8] = b"11010519491231002X\n11010519491231002x\n110105491231002\n110101202311012171\n\n\xff\xfe\n12345\n110101203001010010\n  110101202311012176  \r\n";
    let out = run(
        "sqlite::memory:",
        &["id", "check", "--as-of", "2026-11-26"],
        input,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 9, "{stdout}");
    for l in &lines {
        assert_eq!(l.len(), 6, "{l:?}");
    }
    assert_eq!(
        lines[0][1..5],
        ["valid", "11010519491231002X", "1949-12-31", "女"]
    );
    assert_eq!(lines[0][5], "");
    assert_eq!(
        lines[1][0], "11010519491231002x",
        "the input is echoed as given"
    );
    assert_eq!(
        lines[1][2], "11010519491231002X",
        "lowercase x is normalized"
    );
    assert_eq!(
        lines[2][1..3],
        ["valid", "11010519491231002X"],
        "15-digit numbers are upgraded"
    );
    assert_eq!(lines[3][1], "invalid");
    assert!(lines[3][5].contains("校验码"), "{:?}", lines[3]);
    assert_eq!(lines[4][1], "invalid");
    assert!(!lines[4][5].is_empty());
    assert_eq!(lines[5][1], "invalid");
    assert_eq!(lines[6][1], "invalid");
    assert_eq!(lines[7][1], "invalid", "a 2030 birth date is in the future");
    assert_eq!(
        lines[8][1..4],
        ["valid", "110101202311012176", "2023-11-01"]
    );
    assert_eq!(lines[8][4], "男");
}

#[test]
fn bad_arguments_get_chinese_messages() {
    let out = run(
        "sqlite::memory:",
        &["id", "check", "--as-of", "yesterday"],
        b"",
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("日期"), "{}", text(&out.stderr));
    let out = run(
        "sqlite::memory:",
        &["divisions", "stats", "--scope", "51x"],
        b"",
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("区划代码"),
        "{}",
        text(&out.stderr)
    );
    let out = run("sqlite::memory:", &["frobnicate"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("命令行参数有误"));
    let out = run("mysql://nope", &["migrate"], b"");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("不支持的数据库地址"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn import_users_and_audit_verify_catch_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("provinces.csv"), "code,name\n51,\"四川省\"\n").unwrap();
    std::fs::write(
        data.join("cities.csv"),
        "code,name,provinceCode\n5118,\"雅安市\",51\n",
    )
    .unwrap();
    std::fs::write(
        data.join("areas.csv"),
        "code,name,cityCode,provinceCode\n511802,\"雨城区\",5118,51\n",
    )
    .unwrap();
    std::fs::write(
        data.join("streets.csv"),
        "code,name,areaCode,provinceCode,cityCode\n511802001,\"东城街道\",511802,51,5118\n",
    )
    .unwrap();
    std::fs::write(
        data.join("villages.csv"),
        "code,name,streetCode,provinceCode,cityCode,areaCode\n511802001001,\"仓坪社区居民委员会\",511802001,51,5118,511802\n",
    )
    .unwrap();
    let d = data.to_str().unwrap();

    let out = run(&db, &["divisions", "import", d], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("新增 5，更新 0"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&db, &["divisions", "stats"], b"");
    assert_eq!(
        text(&out.stdout),
        "province\t1\ncity\t1\ncounty\t1\ntownship\t1\nvillage\t1\n"
    );
    let out = run(&db, &["divisions", "import", d], b"");
    assert!(
        text(&out.stdout).contains("新增 0，更新 0，未变 5"),
        "{}",
        text(&out.stdout)
    );

    // A weak password is refused in Chinese and creates nothing.
    let out = run(
        &db,
        &[
            "user",
            "add",
            "--username",
            "boss",
            "--role",
            "city-admin",
            "--scope",
            "5118",
            "--password-stdin",
        ],
        b"weak\n",
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("密码"), "{}", text(&out.stderr));
    let out = run(
        &db,
        &[
            "user",
            "add",
            "--username",
            "boss",
            "--role",
            "mayor",
            "--scope",
            "5118",
            "--password-stdin",
        ],
        b"Strong-Pass1\n",
    );
    assert!(
        text(&out.stderr).contains("未知的角色"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &db,
        &[
            "user",
            "add",
            "--username",
            "boss",
            "--role",
            "city-admin",
            "--scope",
            "5118",
            "--password-stdin",
        ],
        b"Strong-Pass1\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&db, &["user", "list"], b"");
    assert_eq!(text(&out.stdout).lines().count(), 1);
    // A common password is refused, the published demo password too.
    for pw in [&b"Password1\n"[..], b"Minzheng@2026\n"] {
        let out = run(
            &db,
            &[
                "user",
                "add",
                "--username",
                "weakling",
                "--role",
                "auditor",
                "--scope",
                "5118",
                "--password-stdin",
            ],
            pw,
        );
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("过于常见"),
            "{}",
            text(&out.stderr)
        );
    }
    // Unlocking an account is audited; an unknown name is refused.
    let out = run(&db, &["user", "unlock", "boss"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("已解除用户 boss"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&db, &["user", "unlock", "ghost"], b"");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("未找到该用户"),
        "{}",
        text(&out.stderr)
    );

    let out = run(&db, &["audit", "verify"], b"");
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("共 4 条记录"),
        "{}",
        text(&out.stdout)
    );

    // Tamper with the second record directly in the database file.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(minzheng_app::testing::tamper_audit_at(
        &db,
        minzheng_app::testing::AuditTamper::SetActor(2, "someone-else"),
    ));
    let out = run(&db, &["audit", "verify"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("第2条记录"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_distributed_migration_without_citus_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.db");
    let db = format!("sqlite://{}", file.display());
    let out = run(&db, &["migrate", "--distributed"], b"");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("未安装 Citus 扩展，不能分布式部署"),
        "{}",
        text(&out.stderr)
    );
    // Without the flag the same database migrates as one server's.
    let out = run(&db, &["migrate"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("分布式部署"));
}

#[test]
fn case_tasks_run_and_refuse_a_bad_date() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let out = run(&db, &["migrate"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&db, &["cases", "tasks", "--date", "2026-03-02"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2026-03-02：拟定高龄津贴案件 0 件，开启定期核查 0 件"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&db, &["cases", "tasks", "--date", "2026-13-01"], b"");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("日期“2026-13-01”无效"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn age_band_repricing_runs_and_refuses_a_bad_month() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let out = run(&db, &["migrate"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    for _ in 0..2 {
        let out = run(
            &db,
            &[
                "repricing",
                "age-bands",
                "--month",
                "2026-04",
                "--scope",
                "511802",
            ],
            b"",
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("2026-04高龄津贴年龄段调标：核对保障对象0人，新列入0人"),
            "{}",
            text(&out.stdout)
        );
    }
    let out = run(&db, &["repricing", "age-bands", "--month", "2026-13"], b"");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("月份“2026-13”无效"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn standard_repricing_runs_and_refuses_a_one_off_program() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let out = run(&db, &["migrate"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let args = |program: &'static str| {
        [
            "repricing",
            "standard",
            "--program",
            program,
            "--month",
            "2027-01",
            "--scope",
            "511802",
        ]
    };
    for _ in 0..2 {
        let out = run(&db, &args("urban_dibao"), b"");
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout)
                .contains("2027-01起城市最低生活保障调整标准：核对保障对象0人，新列入0人"),
            "{}",
            text(&out.stdout)
        );
    }
    let out = run(&db, &args("medical_assistance"), b"");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("救助项目“medical_assistance”无效"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn serve_refuses_a_bad_holiday_file_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("2027.csv");
    std::fs::write(
        &f,
        "date,kind,name\n2027-02-06,holiday,春节\n2027-02-30,holiday,春节\n",
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let out = run(
        &db,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--holidays",
            f.to_str().unwrap(),
        ],
        b"",
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("节假日文件") && err.contains("第3行"), "{err}");
}

#[test]
fn compact_rewrites_a_sqlite_file_and_refuses_others() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("c.db").display());
    let out = run(&db, &["migrate"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&db, &["compact"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("页大小 16384 → 16384 字节"),
        "{}",
        text(&out.stdout)
    );
    let missing = format!("sqlite://{}", dir.path().join("none.db").display());
    let out = run(&missing, &["compact"], b"");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("不存在"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("none.db").exists());
    let out = run("postgres://postgres@127.0.0.1:1/x", &["compact"], b"");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("autovacuum"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn input_limits_are_listed_and_set_on_the_command_line() {
    let line = |out: &Output, key: &str| -> String {
        text(&out.stdout)
            .lines()
            .find(|l| l.starts_with(&format!("{key}\t")))
            .unwrap_or_else(|| panic!("{key} listed: {}", text(&out.stdout)))
            .to_string()
    };
    let out = run("sqlite::memory:", &["limits"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(line(&out, "max_rows"), "max_rows\t1048576\t行数");
    assert_eq!(
        line(&out, "max_cell_bytes"),
        "max_cell_bytes\t131072\t单元格内容长度"
    );
    let out = run(
        "sqlite::memory:",
        &["--limits", "max_rows=5,max_cell_bytes=64KB", "limits"],
        b"",
    );
    assert_eq!(line(&out, "max_rows"), "max_rows\t5\t行数");
    assert_eq!(
        line(&out, "max_cell_bytes"),
        "max_cell_bytes\t65536\t单元格内容长度"
    );
    let out = bin()
        .args(["limits"])
        .env("MINZHENG_LIMITS", "max_xml_depth=16")
        .output()
        .unwrap();
    assert_eq!(
        line(&out, "max_xml_depth"),
        "max_xml_depth\t16\tXML嵌套层数"
    );
    let out = run(
        "sqlite::memory:",
        &["--limits", "max_rowz=5", "limits"],
        b"",
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("max_rowz") && err.contains("max_rows"),
        "{err}"
    );

    // The limits reach the imports: a ledger of three rows against a limit of two.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("台账.csv");
    std::fs::write(
        &file,
        "户主身份证号,村(社区)代码,姓名,身份证号,与户主关系\na,b,c,d,e\nf,g,h,i,j\n",
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let out = run(
        &db,
        &[
            "--limits",
            "max_rows=2",
            "import",
            "households",
            file.to_str().unwrap(),
        ],
        b"",
    );
    assert!(!out.status.success());
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(all.contains("超过行数上限2行（限额 max_rows）"), "{all}");
}
