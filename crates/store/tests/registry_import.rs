//! What the import's write phase leaves in SQLite: a large import into an empty registry
//! drops the random-order indexes for its writes and builds them again from their own
//! definitions before the commit; the rows written a hundred per statement with the ids the
//! import hands out all point where they should, and the database passes its integrity
//! check.

use chrono::NaiveDate;
use minzheng_domain::registry::ledger::{
    Counts, Groups, HouseholdText, Id18, Ledger, Plan, RowInput, MONEY_COLUMNS,
};
use minzheng_domain::registry::{Health, NewPerson, RegistrationType, Relation, WorkCapacity};
use minzheng_domain::{IdNumber, Scope};
use minzheng_store::registry::import::{batches, ImportSession};
use minzheng_store::testing::{seed_demo_divisions, TestDb};

const VILLAGES: [&str; 2] = ["511802001001", "511802001002"];

/// A valid ID number: born `days` after 1950-01-01, sequence `seq` (0–999).
fn id_number(days: i64, seq: usize) -> IdNumber {
    let birth = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Duration::days(days);
    let first17 = format!("511802{}{seq:03}", birth.format("%Y%m%d"));
    let check = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    IdNumber::parse(
        &format!("{first17}{check}"),
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    )
    .unwrap()
}

fn key(id: &IdNumber) -> Id18 {
    Id18::try_from(id.as_str().as_bytes()).unwrap()
}

/// `households` households of three (a head with a wage and a deposit, a spouse, a child
/// with a wage in every other household). Returns the ledger and how many incomes it holds.
fn ledger(households: usize) -> (Ledger, usize) {
    let mut l = Ledger::default();
    let mut incomes = 0;
    for h in 0..households {
        let ids: Vec<IdNumber> = (0..3)
            .map(|k| id_number((h / 300) as i64 + k * 10_000, (h % 300) * 3 + k as usize))
            .collect();
        let head = key(&ids[0]);
        let village = VILLAGES[h % 2].as_bytes().try_into().unwrap();
        for (k, (id, relation)) in ids
            .iter()
            .zip([Relation::Head, Relation::Spouse, Relation::Child])
            .enumerate()
        {
            let mut person = NewPerson::head(
                id.clone(),
                format!("成员{h}-{k}"),
                Health::Healthy,
                WorkCapacity::Full,
            );
            person.relation = relation;
            let mut money = [0i64; MONEY_COLUMNS.len()];
            if k == 0 {
                money[0] = 150_000;
                money[4] = 2_000_000;
            }
            if k == 2 && h % 2 == 0 {
                money[0] = 80_000;
            }
            incomes += money[..4].iter().filter(|m| **m != 0).count();
            l.push_row(RowInput {
                line: (h * 3 + k + 2) as u32,
                id: key(id),
                head,
                village,
                person: &person,
                registration_type: (k == 0).then_some(RegistrationType::Rural),
                household: (k == 0).then_some(HouseholdText {
                    address: "和平路1号",
                    phone: "13800000000",
                    bank: "中国农业银行",
                    account: "6228480000000000001",
                    holder: "户主",
                }),
                money,
            });
            l.rows_read += 1;
        }
    }
    (l, incomes)
}

/// Imports 17,000 households of three (over 50,000 new persons) into the empty registry
/// through the deferred path, committing if `commit`; returns the persons and incomes the
/// ledger holds.
async fn large_import(store: &minzheng_store::Store, commit: bool) -> (usize, usize) {
    let (ledger, income_rows) = ledger(17_000);
    let n = ledger.rows.len();
    assert!(n > 50_000);
    let groups = Groups::of(&ledger.rows);
    let mut ids: Vec<Id18> = ledger.rows.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    let mut heads: Vec<Id18> = ledger.rows.iter().map(|r| r.head).collect();
    heads.sort_unstable();
    heads.dedup();
    let mut session = ImportSession::begin(store, true).await.unwrap();
    let (existing, known_heads) = session.lookup(&ids, &heads, &Scope::all()).await.unwrap();
    let mut write = session.into_write().expect("the write transaction");
    assert!(write.defer_indexes(|| n).await.unwrap(), "deferred");
    let good: Vec<u32> = (0..groups.len() as u32).collect();
    let plan = Plan {
        ledger: &ledger,
        groups: &groups,
        existing: &existing,
        heads: &known_heads,
        now: "2026-01-01T00:00:00.000000Z",
        actor: "t",
    };
    let mut counts = Counts::default();
    for range in batches(&groups, &good) {
        write.write(&plan, &good[range], &mut counts).await.unwrap();
    }
    assert_eq!(
        (counts.households_created, counts.persons_created),
        (17_000, n)
    );
    if commit {
        write.rebuild_indexes().await.unwrap();
        write.commit().await.unwrap();
    }
    (n, income_rows)
}

/// SQLite only: the deferred-index path of a large import.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_sqlite_import_rebuilds_its_indexes() {
    let db = TestDb::sqlite().await;
    let store = &db.store;
    seed_demo_divisions(store).await;
    let (_, income_rows) = large_import(store, true).await;

    // Every index is back, with its definition.
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index'
         AND tbl_name IN ('persons', 'households') AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let names: Vec<&str> = indexes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "households_account",
            "households_head",
            "households_scope",
            "households_village",
            "persons_deceased",
            "persons_household",
            "persons_id_number",
            "persons_initials",
            "persons_last4",
            "persons_pinyin",
            "persons_stats"
        ]
    );
    // The name parts' triggers are back (the county checks stayed throughout), and the
    // parts were filled for every person: one
    // per character of each name, and a name search finds an imported person.
    let triggers: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'persons'
         ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        triggers,
        [
            "person_name_parts_delete",
            "person_name_parts_insert",
            "person_name_parts_update",
            "persons_county_insert",
            "persons_county_update"
        ]
    );
    let (parts, chars): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM person_name_parts),
                (SELECT SUM(length(name)) FROM persons)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(parts, chars);
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let found = minzheng_store::registry::search_persons(
        store,
        &Scope::all(),
        &minzheng_domain::registry::SearchTerm::classify("员16999-2", today),
        20,
    )
    .await
    .unwrap();
    let names: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["成员16999-2"]);
    // New persons are not moves: their first household is the person row.
    let moves: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM person_moves")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(moves, 0);
    assert!(indexes
        .iter()
        .any(|(n, sql)| n == "persons_id_number" && sql.contains("UNIQUE")));
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    // Rows written a hundred per statement with ids handed out by the import: every income
    // and asset points at its own person's household, and the id sequence moved past them.
    let dangling: Vec<(String, i64)> = sqlx::query_as(
        "SELECT 'incomes', COUNT(*) FROM incomes i JOIN persons p ON p.id = i.person_id
           WHERE p.household_id <> i.household_id
         UNION ALL SELECT 'assets', COUNT(*) FROM assets a JOIN persons p ON p.id = a.person_id
           WHERE p.household_id <> a.household_id
         UNION ALL SELECT 'fk', COUNT(*) FROM pragma_foreign_key_check
         UNION ALL SELECT 'seq', (SELECT MAX(id) FROM persons)
           - (SELECT seq FROM sqlite_sequence WHERE name = 'persons')",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(dangling.iter().all(|(_, n)| *n == 0), "{dangling:?}");
    let incomes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM incomes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(incomes as usize, income_rows);
    pool.close().await;
    db.cleanup().await;
}

/// The registry's indexes and keys on PostgreSQL, sorted: (table, name, definition).
async fn pg_keys(pool: &sqlx::PgPool) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT tablename::text, indexname::text, indexdef FROM pg_indexes
         WHERE schemaname = current_schema()
           AND tablename IN ('persons', 'households', 'incomes', 'assets', 'person_name_parts')
         UNION ALL
         SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid)
         FROM pg_constraint WHERE contype = 'f'
           AND conrelid::regclass::text IN ('persons', 'households', 'incomes', 'assets')
         UNION ALL
         SELECT 'persons', tgname::text, tgenabled::text FROM pg_trigger
         WHERE tgrelid = 'persons'::regclass AND NOT tgisinternal
         ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// PostgreSQL: a large import copies its rows in with its random-order indexes, the name
/// parts' keys and the registry's foreign keys set aside and its ids taken as one block,
/// then puts every one back as it was (the foreign keys re-checking every row) and fills
/// the name parts; an import that fails before its commit leaves them all as they were.
#[minzheng_test_services::needs_postgres]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_postgres_import_copies_its_rows_and_puts_every_key_back() {
    let db = TestDb::postgres().await;
    let store = &db.store;
    seed_demo_divisions(store).await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let before = pg_keys(&pool).await;
    assert!(before.iter().any(|(_, n, _)| n == "persons_id_number"));
    // (A cluster keeps no foreign key to a person: a person may move to another county.)
    if store.deployment().await.unwrap() != minzheng_store::Deployment::Distributed {
        assert!(before.iter().any(|(_, n, _)| n == "incomes_person_id_fkey"));
    }
    assert!(before
        .iter()
        .any(|(_, n, d)| n == "person_name_parts_insert" && d == "O"));

    // Cut off before the commit: nothing written, every key and trigger as before.
    large_import(store, false).await;
    let persons: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM persons")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(persons, 0);
    assert_eq!(pg_keys(&pool).await, before);

    let (n, income_rows) = large_import(store, true).await;
    assert_eq!(pg_keys(&pool).await, before);
    let (persons, parts, chars, dangling, seq_behind): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM persons),
                (SELECT COUNT(*) FROM person_name_parts),
                (SELECT SUM(char_length(name)) FROM persons)::bigint,
                (SELECT COUNT(*) FROM incomes i
                   JOIN persons p ON p.id = i.person_id AND p.county_code = i.county_code
                   WHERE p.household_id <> i.household_id)
                + (SELECT COUNT(*) FROM assets a
                   JOIN persons p ON p.id = a.person_id AND p.county_code = a.county_code
                   WHERE p.household_id <> a.household_id)
                + (SELECT COUNT(*) FROM persons p
                   LEFT JOIN households h ON h.id = p.household_id AND h.county_code = p.county_code
                   WHERE h.id IS NULL),
                (SELECT MAX(id) FROM persons) - (SELECT last_value FROM persons_id_seq)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(persons as usize, n);
    assert_eq!(parts, chars);
    assert_eq!(dangling, 0);
    assert!(
        seq_behind <= 0,
        "the id sequence moved past the copied rows"
    );
    let incomes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM incomes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(incomes as usize, income_rows);
    // The parts serve a name search; an id from the sequence follows the block.
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let found = minzheng_store::registry::search_persons(
        store,
        &Scope::all(),
        &minzheng_domain::registry::SearchTerm::classify("员16999-2", today),
        20,
    )
    .await
    .unwrap();
    let names: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["成员16999-2"]);
    let next: i64 = sqlx::query_scalar("SELECT nextval('persons_id_seq')")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(next > n as i64);
    // The unique index is back: a second person with an imported ID number is refused.
    let copy: Result<_, _> = sqlx::query(
        "INSERT INTO persons (id_number, household_id, township_code, name, name_pinyin,
           name_initials, id_last4, gender, birth_date, relation, created_at, updated_at)
         SELECT id_number, household_id, township_code, name, name_pinyin, name_initials,
           id_last4, gender, birth_date, relation, created_at, updated_at
         FROM persons ORDER BY id LIMIT 1",
    )
    .execute(&pool)
    .await;
    assert!(copy.is_err());
    pool.close().await;
    db.cleanup().await;
}
