//! Fuzzing every parser of outside input, on the stable toolchain.
//!
//! Each target (`targets`) is a parser as the system calls it on what users and other
//! offices send: ID numbers, division and unified social credit codes, dates and months as
//! clerks type them, amounts and parameter values, the web forms (the urlencoded bodies
//! browsers post), holiday files, household ledgers (CSV, xlsx, xls), bank return files,
//! death lists, other departments' lists and the national division files. Inputs are made
//! by mutating earlier ones (`mutate`): byte by byte, and by their structure — a cell of a
//! CSV row, a field of a form, a part of a workbook's archive (changed as XML, then zipped
//! again so the reader gets past the archive). An input whose outcome has not been seen
//! before joins the pool that later inputs are made from.
//!
//! Every input must be read or refused without a panic, and every refusal must be a
//! message in Chinese. Inputs that reached a new outcome are kept in `fuzz-corpus/<target>/`
//! and replayed by the ordinary tests, together with the seeds.
//!
//! A run: `CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true cargo test --release -p minzheng-app
//! --lib fuzz::run -- --ignored --nocapture` (overflow checks on, so that arithmetic
//! overflow in any crate panics instead of wrapping; `MINZHENG_FUZZ_INPUTS`, default
//! 10,000,000, shared out by each target's weight;
//! `MINZHENG_FUZZ_SEED` to repeat a run). It reports per target the inputs tried, their
//! rate, the outcomes seen, the slowest input, and at the end the process's peak memory.
//! See docs/fuzzing.md.

mod mutate;
mod targets;

use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mutate::Rng;
use targets::{Outcome, Target, TARGETS};

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz-corpus")
        .join(target)
}

thread_local! {
    /// Where the last panic on this thread happened (file:line), if one did.
    static PANICKED_AT: Cell<Option<&'static str>> = const { Cell::new(None) };
    /// Whether this thread is running a parser on a fuzz input (its panics are noted
    /// quietly; any other panic, such as a failed assertion, is reported as usual).
    static IN_INPUT: Cell<bool> = const { Cell::new(false) };
}

/// Installs a panic hook that notes where a panic happened on the panicking thread,
/// quietly: a panic that a parser catches and turns into a refusal (the spreadsheet
/// library asserts on some damaged files) is still counted.
fn watch_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_else(|| "?".into());
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let noted: &'static str = Box::leak(format!("{at}: {msg}").into_boxed_str());
            PANICKED_AT.with(|p| {
                if p.get().is_none() {
                    p.set(Some(noted));
                }
            });
            if !IN_INPUT.with(Cell::get) || std::env::var_os("MINZHENG_FUZZ_LOUD").is_some() {
                default(info);
            }
        }));
    });
}

/// What became of one input.
struct Verdict {
    /// Where it panicked (caught or not).
    panic: Option<&'static str>,
    /// A refusal that is not in Chinese.
    foreign: Option<String>,
    /// The outcome's shape: what the input reached, for keeping inputs that reach new ones.
    signature: String,
    elapsed: Duration,
}

fn is_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// An outcome's shape: accepted and how, or the first refusal with its numbers and quoted
/// values taken out (so that "第3行" and "第4行" are one outcome).
fn signature(o: &Outcome) -> String {
    let mut s = match o {
        Outcome::Accepted(shape) => format!("ok:{shape}"),
        Outcome::Refused(m) | Outcome::Mixed(_, m) => {
            let first = m.first().map(String::as_str).unwrap_or("");
            let mut out = match o {
                Outcome::Mixed(shape, _) => format!("mixed:{shape}:"),
                _ => String::from("no:"),
            };
            let mut quoted = false;
            for c in first.chars() {
                match c {
                    '“' => {
                        quoted = true;
                        out.push('“');
                    }
                    '”' => {
                        quoted = false;
                        out.push('”');
                    }
                    _ if quoted => {}
                    c if c.is_ascii_digit() => {
                        if !out.ends_with('#') {
                            out.push('#');
                        }
                    }
                    c => out.push(c),
                }
            }
            out
        }
        Outcome::Undecodable => "undecodable".into(),
    };
    if s.len() > 160 {
        let mut end = 160;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

fn try_one(target: &Target, data: &[u8]) -> Verdict {
    PANICKED_AT.with(|p| p.set(None));
    IN_INPUT.with(|i| i.set(true));
    let start = Instant::now();
    let outcome = std::panic::catch_unwind(|| (target.run)(data));
    let elapsed = start.elapsed();
    IN_INPUT.with(|i| i.set(false));
    let panic = PANICKED_AT.with(|p| p.take());
    match outcome {
        Ok(o) => {
            let foreign = match &o {
                Outcome::Refused(m) | Outcome::Mixed(_, m) => {
                    m.iter().find(|m| !is_chinese(m)).cloned()
                }
                _ => None,
            };
            Verdict {
                panic,
                foreign,
                signature: signature(&o),
                elapsed,
            }
        }
        Err(_) => Verdict {
            panic: panic.or(Some("panic without a location")),
            foreign: None,
            signature: "panic".into(),
            elapsed,
        },
    }
}

/// The inputs kept for `target`: file name and bytes.
fn kept(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(dir) = std::fs::read_dir(corpus_dir(target)) {
        for e in dir.flatten() {
            if let Ok(data) = std::fs::read(e.path()) {
                out.push((e.file_name().to_string_lossy().into_owned(), data));
            }
        }
    }
    out.sort();
    out
}

fn file_name_of(data: &[u8], prefix: &str) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(data);
    format!("{prefix}{}", hex::encode(&h[..8]))
}

#[test]
fn every_kept_input_and_seed_is_read_or_refused_in_chinese_without_a_panic() {
    watch_panics();
    let mut problems = Vec::new();
    for t in TARGETS {
        let kept = kept(t.name);
        assert!(
            !kept.is_empty(),
            "{}: no kept inputs in {}",
            t.name,
            corpus_dir(t.name).display()
        );
        let seeds = (t.seeds)()
            .into_iter()
            .enumerate()
            .map(|(i, d)| (format!("seed {i}"), d));
        for (name, data) in seeds.chain(kept) {
            let v = try_one(t, &data);
            if let Some(p) = v.panic {
                problems.push(format!("{}/{name}: panicked at {p}", t.name));
            }
            if let Some(m) = v.foreign {
                problems.push(format!("{}/{name}: refused not in Chinese: {m}", t.name));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_seeds_are_accepted() {
    // Seeds that are refused would make the fuzzer explore refusals only. (A value read by
    // several parsers, such as a date also tried as a month, may be refused by some.)
    let mut refused = Vec::new();
    for t in TARGETS {
        for (i, s) in (t.seeds)().iter().enumerate() {
            let v = try_one(t, s);
            if !(v.signature.starts_with("ok:") || v.signature.starts_with("mixed:")) {
                refused.push(format!("{} seed {i}: {}", t.name, v.signature));
            }
        }
    }
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}

#[test]
fn mutations_are_reproducible_from_their_seed() {
    for t in TARGETS {
        let seeds = (t.seeds)();
        let make = |seed| {
            let mut rng = Rng::new(seed);
            (0..20)
                .map(|i| (t.mutate)(&mut rng, &seeds[i % seeds.len()], &seeds[0]))
                .collect::<Vec<_>>()
        };
        assert_eq!(make(7), make(7), "{}", t.name);
        assert_ne!(make(7), make(8), "{}", t.name);
    }
}

/// One target's share of a run, on one thread.
#[derive(Default)]
struct Tally {
    inputs: u64,
    refused: u64,
    undecodable: u64,
    slowest: Duration,
    over_a_second: u64,
    /// Inputs that reached an outcome not seen before: (signature, input).
    new: Vec<(String, Vec<u8>)>,
    /// Panics and foreign refusals: (what, input).
    findings: Vec<(String, Vec<u8>)>,
    /// Inputs that took over a second: (how long, input).
    slow: Vec<(Duration, Vec<u8>)>,
}

fn fuzz_target(t: &Target, n: u64, seed: u64, known: &HashSet<String>, pool: &[Vec<u8>]) -> Tally {
    let mut rng = Rng::new(seed);
    let mut pool: Vec<Vec<u8>> = pool.to_vec();
    let mut seen: HashSet<String> = known.clone();
    let mut tally = Tally::default();
    for _ in 0..n {
        let base = &pool[rng.below(pool.len())];
        let other = &pool[rng.below(pool.len())];
        let input = (t.mutate)(&mut rng, base, other);
        let v = try_one(t, &input);
        tally.inputs += 1;
        if v.signature.starts_with("no:") || v.signature.starts_with("mixed:") {
            tally.refused += 1;
        } else if v.signature == "undecodable" {
            tally.undecodable += 1;
        }
        tally.slowest = tally.slowest.max(v.elapsed);
        if v.elapsed > Duration::from_secs(1) {
            tally.over_a_second += 1;
            tally.slow.push((v.elapsed, input.clone()));
        }
        if let Some(p) = v.panic {
            tally
                .findings
                .push((format!("panic at {p}"), input.clone()));
        }
        if let Some(m) = &v.foreign {
            tally
                .findings
                .push((format!("refusal not in Chinese: {m}"), input.clone()));
        }
        if seen.insert(v.signature.clone()) {
            tally.new.push((v.signature, input.clone()));
            if pool.len() < 4096 {
                pool.push(input);
            } else {
                let i = rng.below(pool.len());
                pool[i] = input;
            }
        }
    }
    tally
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
#[ignore = "a fuzzing run (docs/fuzzing.md): cargo test --release -p minzheng-app --lib fuzz::run -- --ignored --nocapture"]
fn run() {
    watch_panics();
    let total: u64 = std::env::var("MINZHENG_FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(10_000_000);
    let seed: u64 = std::env::var("MINZHENG_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(1)
        });
    let only = std::env::var("MINZHENG_FUZZ_TARGET").ok();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as u64;
    let targets: Vec<&Target> = TARGETS
        .iter()
        .filter(|t| only.as_deref().is_none_or(|o| o == t.name))
        .collect();
    let weights: u64 = targets.iter().map(|t| t.weight).sum();
    println!("fuzzing: {total} inputs, seed {seed}, {threads} threads");
    println!(
        "{:<14} {:>10} {:>8} {:>10} {:>9} {:>9} {:>11} {:>6}",
        "target", "inputs", "secs", "inputs/s", "refused", "outcomes", "slowest", "found"
    );
    let started = Instant::now();
    let (mut all_inputs, mut all_findings, mut all_slow) = (0u64, 0usize, 0u64);
    for (ti, t) in targets.iter().enumerate() {
        // Each target's share, rounded up: the run tries at least `total` inputs.
        let n = (total * t.weight).div_ceil(weights);
        let kept = kept(t.name);
        let mut pool: Vec<Vec<u8>> = (t.seeds)();
        pool.extend(kept.iter().map(|(_, d)| d.clone()));
        let known: HashSet<String> = pool.iter().map(|d| try_one(t, d).signature).collect();
        let t0 = Instant::now();
        let tallies: Vec<Tally> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|k| {
                    let (pool, known) = (&pool, &known);
                    let share = n / threads + u64::from(k < n % threads);
                    let seed = seed ^ ((ti as u64) << 32) ^ k.wrapping_mul(0x9E37_79B9);
                    s.spawn(move || fuzz_target(t, share, seed, known, pool))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("fuzzing thread"))
                .collect()
        });
        let secs = t0.elapsed().as_secs_f64();
        let inputs: u64 = tallies.iter().map(|t| t.inputs).sum();
        let refused: u64 = tallies.iter().map(|t| t.refused).sum();
        let slowest = tallies.iter().map(|t| t.slowest).max().unwrap_or_default();
        let slow: u64 = tallies.iter().map(|t| t.over_a_second).sum();
        // Keep the inputs that reached new outcomes (small ones, a few per run), and every
        // finding, under a name made from their content.
        let mut new: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut findings = Vec::new();
        let mut slow_inputs = Vec::new();
        for tally in tallies {
            for (sig, input) in tally.new {
                new.entry(sig).or_insert(input);
            }
            findings.extend(tally.findings);
            slow_inputs.extend(tally.slow);
        }
        let dir = corpus_dir(t.name);
        std::fs::create_dir_all(&dir).expect("corpus folder");
        let outcomes = known.len() + new.len();
        for (_, input) in new
            .into_iter()
            .filter(|(_, d)| d.len() <= 16 << 10)
            .take(24)
        {
            std::fs::write(dir.join(file_name_of(&input, "")), &input).expect("keep input");
        }
        let mut shown: BTreeMap<&str, usize> = BTreeMap::new();
        for (what, input) in &findings {
            let times = shown.entry(what.as_str()).or_default();
            *times += 1;
            if *times > 2 {
                continue;
            }
            let name = file_name_of(input, "finding-");
            println!("  {}: {what} (kept as {name})", t.name);
            std::fs::write(dir.join(name), input).expect("keep finding");
        }
        for (took, input) in &slow_inputs {
            let name = file_name_of(input, "slow-");
            println!("  {}: took {took:?} (kept as {name})", t.name);
            std::fs::write(dir.join(name), input).expect("keep slow input");
        }
        println!(
            "{:<14} {:>10} {:>8.1} {:>10.0} {:>8.1}% {:>9} {:>9.1}ms {:>6}",
            t.name,
            inputs,
            secs,
            inputs as f64 / secs.max(1e-9),
            100.0 * refused as f64 / inputs.max(1) as f64,
            outcomes,
            slowest.as_secs_f64() * 1000.0,
            findings.len()
        );
        all_inputs += inputs;
        all_findings += findings.len();
        all_slow += slow;
    }
    let peak_mb = peak_rss_kb() / 1024;
    println!(
        "total: {all_inputs} inputs in {:.0} s; findings {all_findings} (inputs over 1 s: {all_slow}); peak memory {peak_mb} MB",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(all_findings, 0, "findings are kept in fuzz-corpus/");
    assert!(peak_mb < 500, "peak memory {peak_mb} MB");
}
