//! The audit log's bulk append: a sign-off of many batches appends hundreds of thousands of
//! records in one go (on SQLite the hashes are chained on one thread while another writes
//! the rows). Appended in more than two chunks after an ordinary record, on both backends,
//! the chain still verifies from the first record, and the records keep the order they
//! were given in, with their texts. On SQLite, where so many records are checked for their
//! county once instead of row by row, the per-row check is in place again afterwards.

use minzheng_domain::audit::ChainCheck;
use minzheng_domain::Actor;
use minzheng_store::testing::TestDb;
use minzheng_store::{AuditEvent, AuditText};

const N: usize = 12_345;

fn text(i: usize) -> AuditText<'static> {
    AuditText {
        action: "repricing.apply",
        entity_type: "enrolment",
        entity_id: (900_000 + i).to_string(),
        scope_code: if i.is_multiple_of(2) {
            "511802001"
        } else {
            "511803101"
        },
        before: Some(format!("{{\"monthly_fen\":{i}}}")),
        after: (!i.is_multiple_of(3)).then(|| format!("{{\"monthly_fen\":{}}}", i + 1)),
    }
}

/// SQLite's per-row county check on the audit log, as stored in the schema.
async fn county_trigger(db: &TestDb) -> Option<String> {
    if db.is_postgres() {
        return None;
    }
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    let sql = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_log_county_insert'",
    )
    .fetch_optional(&pool)
    .await
    .unwrap();
    pool.close().await;
    sql
}

async fn many_records_keep_one_chain_in_their_order(db: TestDb) {
    let st = &db.store;
    let trigger = county_trigger(&db).await;
    assert_eq!(trigger.is_some(), !db.is_postgres());
    let sys = Actor::system("t");
    let mut tx = st.begin_write().await.unwrap();
    minzheng_store::append_audit(
        &mut tx,
        &sys,
        AuditEvent {
            action: "office.create",
            entity_type: "office",
            entity_id: "1",
            scope_code: "511802001",
            before: None,
            after: Some(serde_json::json!({"name": "示例"})),
        },
    )
    .await
    .unwrap();
    minzheng_store::append_audit_many(&mut tx, &sys, (0..N).map(text).collect())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let rows = minzheng_store::audit::from_seq(st, 1, N as i64 + 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), N + 1);
    let mut check = ChainCheck::default();
    for r in &rows {
        check
            .push(r)
            .unwrap_or_else(|b| panic!("the chain breaks: {b:?}"));
    }
    for (i, r) in rows[1..].iter().enumerate() {
        let want = text(i);
        assert_eq!(r.seq, i as i64 + 2);
        assert_eq!(r.actor, "t");
        assert_eq!(r.action, want.action);
        assert_eq!(r.entity_id, want.entity_id);
        assert_eq!(r.scope_code, want.scope_code);
        assert_eq!(r.before_json, want.before);
        assert_eq!(r.after_json, want.after);
    }
    assert_eq!(county_trigger(&db).await, trigger);
    // And it still refuses a record whose county is not its scope's.
    let refused = match db.is_postgres() {
        true => None,
        false => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let r = sqlx::query(
                "INSERT INTO audit_log (seq, at, actor, action, entity_type, entity_id,
                   scope_code, county_code, prev_hash, hash)
                 VALUES (999999, 'x', 't', 'a', 'e', '1', '511802001', '511803', 'p', 'h')",
            )
            .execute(&pool)
            .await;
            pool.close().await;
            Some(r.is_err())
        }
    };
    assert_ne!(refused, Some(false));
    db.cleanup().await;
}

#[tokio::test]
async fn sqlite_many_records_keep_one_chain_in_their_order() {
    many_records_keep_one_chain_in_their_order(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_many_records_on_the_servers_runtime_keep_one_chain_in_their_order() {
    many_records_keep_one_chain_in_their_order(TestDb::sqlite().await).await;
}

#[minzheng_test_services::needs_postgres]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_many_records_keep_one_chain_in_their_order() {
    many_records_keep_one_chain_in_their_order(TestDb::postgres().await).await;
}
