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
}
