//! A province on a Citus cluster: the tables are distributed by county and the small shared
//! ones are reference tables; one person per ID number holds across the counties (the
//! cluster's own `person_ids`, not only the registry's check before a write; on one server
//! too, by its unique index, with the same refusal); a person
//! moves to another county's household with their id, their ID number and their search
//! keys.

use minzheng_domain::registry::{
    Health, HouseholdFields, NewPerson, RegistrationType, Relation, SearchTerm, WorkCapacity,
};
use minzheng_domain::{IdNumber, Scope};
use minzheng_store::registry;
use minzheng_store::testing::{seed_demo_divisions, TestDb};
use minzheng_store::{Deployment, Store, StoreError};

const NOW: &str = "2026-11-26T05:30:00.000000Z";
/// 东大街社区 of 东城街道, 雨城区 (511802).
const YUCHENG: &str = "511802001001";
/// 永兴社区 of 永兴街道, 名山区 (511803).
const MINGSHAN: &str = "511803001001";

/// A valid ID number for a birth date (YYYYMMDD) and a sequence.
fn id(birth: &str, seq: u32) -> IdNumber {
    let mut first = format!("511802{birth}{seq:03}");
    let c = IdNumber::check_char(first.as_bytes()).unwrap();
    first.push(c as char);
    IdNumber::parse(
        &first,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
    )
    .unwrap()
}

fn person(id: IdNumber, name: &str, relation: Relation) -> NewPerson {
    NewPerson {
        relation,
        ..NewPerson::head(id, name.into(), Health::Healthy, WorkCapacity::Full)
    }
}

fn fields(village: &str, holder: &str) -> HouseholdFields {
    HouseholdFields {
        village_code: village.into(),
        registration_type: RegistrationType::Rural,
        address: "和平路1号".into(),
        phone: "13800000000".into(),
        bank_name: "中国农业银行".into(),
        account_number: "6228480000000000001".into(),
        account_holder: holder.into(),
    }
}

/// Registers a household in `village` headed by `head`; returns (household, person) ids.
async fn household(
    store: &Store,
    village: &str,
    head: &NewPerson,
) -> Result<(i64, i64), StoreError> {
    let h = fields(village, &head.name);
    let mut tx = store.begin_write().await?;
    let hid = registry::insert_household(&mut tx, &h, head, NOW).await?;
    let pid = registry::insert_person(&mut tx, hid, h.township_code(), head, NOW).await?;
    tx.commit().await?;
    Ok((hid, pid))
}

async fn scalar(url: &str, sql: &str) -> i64 {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

async fn names_found(store: &Store, scope: &Scope, term: &str) -> Vec<(String, i64)> {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    registry::search_persons(store, scope, &SearchTerm::classify(term, today), 20)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.name, p.household_id))
        .collect()
}

#[minzheng_test_services::needs_citus]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_shards_the_registry_by_county_and_copies_the_shared_tables() {
    let db = TestDb::citus().await;
    assert_eq!(
        db.store.deployment().await.unwrap(),
        Deployment::Distributed
    );
    // Every county table is hash-distributed by county_code in one co-location group.
    let groups = scalar(
        &db.url,
        "SELECT COUNT(DISTINCT colocationid) FROM pg_dist_partition
         WHERE partmethod = 'h' AND logicalrelid::text <> 'person_ids'
           AND column_to_column_name(logicalrelid, partkey) = 'county_code'",
    )
    .await;
    assert_eq!(groups, 1);
    let distributed = scalar(
        &db.url,
        "SELECT COUNT(*) FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid
         WHERE p.partmethod = 'h' AND NOT c.relispartition AND c.relname <> 'person_ids'",
    )
    .await;
    assert_eq!(
        distributed as usize,
        minzheng_store::COUNTY_TABLES.len() - 1,
        "every county table but the external lists' batches"
    );
    let reference = scalar(
        &db.url,
        "SELECT COUNT(*) FROM pg_dist_partition WHERE partmethod = 'n'
           AND logicalrelid::text IN ('divisions', 'offices', 'users', 'program_params')",
    )
    .await;
    assert_eq!(reference, 4);
    // Migrating again changes nothing.
    assert_eq!(db.store.migrate().await.unwrap(), 0);
    assert!(!db.store.distribute().await.unwrap());
    db.cleanup().await;
}

/// The same ID number as another county's head, written past the registry's own check, is
/// refused in words with the number masked, and the household written before it in the
/// same transaction goes with it: on a cluster by `person_ids`, on one server by the
/// persons' unique index.
async fn the_same_id_number_is_refused_in_a_second_county(db: TestDb) {
    let store = &db.store;
    seed_demo_divisions(store).await;
    let zhang = id("19600101", 11);
    household(
        store,
        YUCHENG,
        &person(zhang.clone(), "张三", Relation::Head),
    )
    .await
    .unwrap();
    let again = household(
        store,
        MINGSHAN,
        &person(zhang.clone(), "张三", Relation::Head),
    )
    .await;
    match again {
        Err(StoreError::Conflict(m)) => {
            assert!(m.contains("已登记"), "{m}");
            assert!(
                !m.contains(zhang.as_str()),
                "the message shows the ID number: {m}"
            );
        }
        other => panic!("a second county took the same ID number: {other:?}"),
    }
    // (households, persons) of the whole city: the refused household is not there.
    assert_eq!(
        registry::counts(store, &Scope::all()).await.unwrap(),
        (1, 1)
    );
    // Another ID number in the second county is taken.
    household(
        store,
        MINGSHAN,
        &person(id("19610202", 12), "李四", Relation::Head),
    )
    .await
    .unwrap();
    assert_eq!(
        registry::counts(store, &Scope::all()).await.unwrap(),
        (2, 2)
    );
    if store.deployment().await.unwrap() == Deployment::Distributed {
        assert_eq!(scalar(&db.url, "SELECT COUNT(*) FROM person_ids").await, 2);
    }
    db.cleanup().await;
}

#[tokio::test]
async fn sqlite_refuses_the_same_id_number_in_a_second_county() {
    the_same_id_number_is_refused_in_a_second_county(TestDb::sqlite().await).await;
}

#[minzheng_test_services::needs_postgres]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refuses_the_same_id_number_in_a_second_county() {
    the_same_id_number_is_refused_in_a_second_county(TestDb::postgres().await).await;
}

#[minzheng_test_services::needs_citus]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_refuses_the_same_id_number_in_a_second_county() {
    the_same_id_number_is_refused_in_a_second_county(TestDb::citus().await).await;
}

#[minzheng_test_services::needs_citus]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_moves_to_another_countys_household_with_their_id_and_search_keys() {
    let db = TestDb::citus().await;
    let store = &db.store;
    seed_demo_divisions(store).await;
    let (from, _) = household(
        store,
        YUCHENG,
        &person(id("19600101", 11), "王五", Relation::Head),
    )
    .await
    .unwrap();
    let (to, _) = household(
        store,
        MINGSHAN,
        &person(id("19650101", 11), "赵六", Relation::Head),
    )
    .await
    .unwrap();
    let kid = person(id("19900505", 22), "王小明", Relation::Child);
    let mut tx = store.begin_write().await.unwrap();
    let pid = registry::insert_person(&mut tx, from, "511802001", &kid, NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        names_found(store, &Scope::all(), "小明").await,
        [("王小明".to_string(), from)]
    );

    // The move: the row leaves 雨城区's shard for 名山区's, keeping its id.
    let moved = NewPerson {
        relation: Relation::Other,
        ..kid.clone()
    };
    let mut tx = store.begin_write().await.unwrap();
    registry::update_person(&mut tx, pid, to, "511803001", &moved, NOW)
        .await
        .unwrap();
    registry::record_move(&mut tx, pid, from, to, "511803001", NOW, "t")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let row = scalar(
        &db.url,
        &format!("SELECT COUNT(*) FROM persons WHERE id = {pid} AND county_code = '511803' AND household_id = {to}"),
    )
    .await;
    assert_eq!(row, 1);
    assert_eq!(
        scalar(
            &db.url,
            &format!("SELECT COUNT(*) FROM persons WHERE id = {pid}")
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            &db.url,
            &format!(
                "SELECT COUNT(*) FROM person_ids WHERE id_number = '{}' AND person_id = {pid}
                 AND home_county = '511803'",
                kid.id.as_str()
            )
        )
        .await,
        1
    );
    // Found by name in the new county only, as a member of the new household.
    assert_eq!(
        names_found(store, &Scope::all(), "小明").await,
        [("王小明".to_string(), to)]
    );
    let yucheng = Scope::of(minzheng_domain::DivisionCode::parse("511802").unwrap());
    assert!(names_found(store, &yucheng, "小明").await.is_empty());
    // A change inside the county is made in place: the name's search keys follow it.
    let renamed = NewPerson {
        name: "王晓明".into(),
        ..moved.clone()
    };
    let mut tx = store.begin_write().await.unwrap();
    registry::update_person(&mut tx, pid, to, "511803001", &renamed, NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(names_found(store, &Scope::all(), "小明").await.is_empty());
    assert_eq!(
        names_found(store, &Scope::all(), "晓明").await,
        [("王晓明".to_string(), to)]
    );
    // A whole household is not moved to another county in place: refused in words,
    // nothing changed.
    let change = minzheng_domain::registry::HouseholdChange {
        household: fields(YUCHENG, "赵六"),
        status: minzheng_domain::registry::HouseholdStatus::Active,
    };
    let mut tx = store.begin_write().await.unwrap();
    let refused = registry::update_household(&mut tx, to, "511803001", &change).await;
    drop(tx);
    match refused {
        Err(StoreError::Conflict(m)) => assert!(m.contains("整户不能直接迁往其他县"), "{m}"),
        other => panic!("a household moved county in place: {other:?}"),
    }
    assert_eq!(
        scalar(
            &db.url,
            &format!(
                "SELECT COUNT(*) FROM persons WHERE household_id = {to} AND county_code = '511803'"
            )
        )
        .await,
        2
    );
    // The ID number still cannot be registered again, in either county.
    for village in [YUCHENG, MINGSHAN] {
        let again = household(
            store,
            village,
            &person(kid.id.clone(), "王小明", Relation::Head),
        )
        .await;
        assert!(
            matches!(again, Err(StoreError::Conflict(_))),
            "{village}: {again:?}"
        );
    }
    db.cleanup().await;
}
