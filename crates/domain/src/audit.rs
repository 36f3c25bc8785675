//! The audit log (操作日志) as a hash chain: each record's hash covers the previous
//! record's hash and its own content, so editing, inserting or deleting a record breaks
//! the chain at that record. This module computes hashes and judges a chain; the store
//! keeps the records.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash that precedes the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub actor_id: Option<i64>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub scope_code: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// The hash this record should carry given its content and `prev_hash`.
    pub fn expected_hash(&self) -> String {
        chain_hash(&ChainFields {
            prev: &self.prev_hash,
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            actor_id: self.actor_id,
            action: &self.action,
            entity_type: &self.entity_type,
            entity_id: &self.entity_id,
            scope_code: &self.scope_code,
            before: self.before_json.as_deref(),
            after: self.after_json.as_deref(),
        })
    }
}

/// What a record's hash covers.
pub struct ChainFields<'a> {
    pub prev: &'a str,
    pub seq: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub actor_id: Option<i64>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub scope_code: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// SHA-256 over the length-prefixed fields, so no choice of content can make two records
/// collide.
pub fn chain_hash(f: &ChainFields<'_>) -> String {
    let mut h = Sha256::new();
    let mut field = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    field(f.prev);
    field(&f.seq.to_string());
    field(f.at);
    field(f.actor);
    field(
        &f.actor_id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "-".into()),
    );
    field(f.action);
    field(f.entity_type);
    field(f.entity_id);
    field(f.scope_code);
    field(f.before.unwrap_or("\u{0}"));
    field(f.after.unwrap_or("\u{0}"));
    hex::encode(h.finalize())
}

/// Where the chain first breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditBreak {
    pub seq: i64,
    pub reason: String,
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    pub records: u64,
    pub first_break: Option<AuditBreak>,
}

/// Walks a chain record by record, in sequence order.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    prev_hash: String,
    expected_seq: i64,
    records: u64,
}

impl Default for ChainCheck {
    fn default() -> Self {
        ChainCheck {
            prev_hash: GENESIS.to_string(),
            expected_seq: 1,
            records: 0,
        }
    }
}

impl ChainCheck {
    /// The sequence number the next record must carry.
    pub fn next_seq(&self) -> i64 {
        self.expected_seq
    }

    /// Checks the next record; `Err` names where and why the chain breaks.
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), AuditBreak> {
        if e.seq != self.expected_seq {
            return Err(AuditBreak {
                seq: self.expected_seq,
                reason: format!("第{}条记录缺失（下一条为第{}条）", self.expected_seq, e.seq),
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(AuditBreak {
                seq: e.seq,
                reason: format!(
                    "第{}条记录的前序哈希与第{}条记录不符（记录被删除、插入或改动）",
                    e.seq,
                    e.seq - 1
                ),
            });
        }
        if e.expected_hash() != e.hash {
            return Err(AuditBreak {
                seq: e.seq,
                reason: format!("第{}条记录的内容与其哈希不符（记录被改动）", e.seq),
            });
        }
        self.prev_hash = e.hash.clone();
        self.expected_seq += 1;
        self.records += 1;
        Ok(())
    }

    /// The verdict: how many records held, and the break if one was found.
    pub fn finish(self, first_break: Option<AuditBreak>) -> AuditVerification {
        AuditVerification {
            records: self.records,
            first_break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, prev: &str) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            at: "2026-11-26T05:30:00.000000Z".into(),
            actor: "staff".into(),
            actor_id: Some(4),
            action: "office.update".into(),
            entity_type: "office".into(),
            entity_id: "511802001".into(),
            scope_code: "511802001".into(),
            before_json: None,
            after_json: Some("{}".into()),
            prev_hash: prev.into(),
            hash: String::new(),
        };
        e.hash = e.expected_hash();
        e
    }

    #[test]
    fn a_chain_holds_until_a_record_is_changed_or_missing() {
        let a = entry(1, GENESIS);
        let b = entry(2, &a.hash);
        let c = entry(3, &b.hash);
        let mut check = ChainCheck::default();
        for e in [&a, &b, &c] {
            check.push(e).unwrap();
        }
        assert_eq!(check.finish(None).records, 3);
        let mut changed = b.clone();
        changed.actor = "someone-else".into();
        let mut check = ChainCheck::default();
        check.push(&a).unwrap();
        assert_eq!(check.push(&changed).unwrap_err().seq, 2);
        let mut check = ChainCheck::default();
        check.push(&a).unwrap();
        let gap = check.push(&c).unwrap_err();
        assert_eq!(gap.seq, 2);
        assert!(gap.reason.contains("缺失"));
    }

    /// Verification reads the chain page by page from the sequence number the check
    /// expects next.
    #[test]
    fn the_check_asks_for_the_record_after_the_last_it_accepted() {
        let a = entry(1, GENESIS);
        let b = entry(2, &a.hash);
        let mut check = ChainCheck::default();
        assert_eq!(check.next_seq(), 1);
        check.push(&a).unwrap();
        assert_eq!(check.next_seq(), 2);
        check.push(&b).unwrap();
        assert_eq!(check.next_seq(), 3);
        // A refused record does not move it.
        assert!(check.push(&entry(5, &b.hash)).is_err());
        assert_eq!(check.next_seq(), 3);
    }

    #[test]
    fn the_log_filter_takes_one_day_and_refuses_days_in_the_wrong_order() {
        let form = |from: &str, to: &str| AuditFilterForm {
            from: from.into(),
            to: to.into(),
            ..Default::default()
        };
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let one = form("2026-11-26", "2026-11-26").parse().unwrap();
        assert_eq!((one.from, one.to), (Some(day), Some(day)));
        assert!(form("2026-11-25", "2026-11-26").parse().is_ok());
        let errors = form("2026-11-27", "2026-11-26").parse().unwrap_err();
        assert_eq!(errors.get("to"), Some("截止日期早于起始日期"));
        // Each text field takes up to 100 characters.
        let actor = |n: usize| AuditFilterForm {
            actor: "张".repeat(n),
            ..Default::default()
        };
        assert_eq!(actor(100).parse().unwrap().actor, Some("张".repeat(100)));
        let errors = actor(101).parse().unwrap_err();
        assert_eq!(errors.get("actor"), Some("操作人不能超过100个字"));
    }
}

/// What the log is filtered by (操作日志查询): who acted (user name), what was done (the
/// recorded action), on what (the object's type and number), and Beijing days from–to,
/// both included. Empty means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

/// The filter's fields as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct AuditFilterForm {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub entity_type: String,
    #[serde(default)]
    pub entity_id: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl AuditFilterForm {
    /// The typed filter, or every field's problem in Chinese.
    pub fn parse(&self) -> Result<AuditFilter, crate::FieldErrors> {
        let mut errors = crate::FieldErrors::new();
        let text = |s: &str| {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        };
        let mut date = |field: &str, label: &str, s: &str| {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.add(
                        field,
                        format!("{label}“{s}”不是有效日期，请按 2026-12-01 的格式填写"),
                    );
                    None
                }
            }
        };
        let from = date("from", "起始日期", &self.from);
        let to = date("to", "截止日期", &self.to);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                errors.add("to", "截止日期早于起始日期");
            }
        }
        for (field, label, v) in [
            ("actor", "操作人", &self.actor),
            ("action", "操作", &self.action),
            ("entity_type", "对象类型", &self.entity_type),
            ("entity_id", "对象编号", &self.entity_id),
        ] {
            if v.chars().count() > 100 {
                errors.add(field, format!("{label}不能超过100个字"));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(AuditFilter {
            actor: text(&self.actor),
            action: text(&self.action),
            entity_type: text(&self.entity_type),
            entity_id: text(&self.entity_id),
            from,
            to,
        })
    }
}

impl AuditFilter {
    /// The filter's Beijing days as stored UTC timestamps: [from 00:00, to + 1 day 00:00)
    /// Beijing time, each side open when not given.
    pub fn at_bounds(&self) -> (Option<String>, Option<String>) {
        let start = |d: chrono::NaiveDate| {
            let t = d.and_hms_opt(0, 0, 0).expect("midnight") - chrono::Duration::hours(8);
            crate::time::timestamp(t.and_utc())
        };
        (
            self.from.map(start),
            self.to.map(|d| start(d + chrono::Duration::days(1))),
        )
    }
}

#[cfg(test)]
mod filter_tests {
    use super::*;

    fn form(from: &str, to: &str) -> AuditFilterForm {
        AuditFilterForm {
            from: from.into(),
            to: to.into(),
            ..Default::default()
        }
    }

    #[test]
    fn beijing_days_become_utc_bounds() {
        let f = form("2026-12-01", "2026-12-01").parse().unwrap();
        assert_eq!(
            f.at_bounds(),
            (
                Some("2026-11-30T16:00:00.000000Z".to_string()),
                Some("2026-12-01T16:00:00.000000Z".to_string())
            )
        );
        assert_eq!(form("", "").parse().unwrap().at_bounds(), (None, None));
    }

    #[test]
    fn bad_dates_and_reversed_ranges_are_refused_in_chinese() {
        let e = form("2026-13-01", "昨天").parse().unwrap_err();
        assert_eq!(e.len(), 2);
        let e = form("2026-12-05", "2026-12-01").parse().unwrap_err();
        assert_eq!(e.get("to"), Some("截止日期早于起始日期"));
        let f = AuditFilterForm {
            actor: "  staff ".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(f.actor.as_deref(), Some("staff"));
    }
}
