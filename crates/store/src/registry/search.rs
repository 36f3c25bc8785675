//! The person search and the scope condition of registry reads. Every search starts from
//! the index that finds its persons (see [`person_cond`]); on SQLite a wide name search is
//! narrowed first (see [`search_sql`]).

use minzheng_domain::registry::{pinyin_keys, Person, SearchTerm};
use minzheng_domain::Scope;

use super::households::{person, PERSON_SELECT};
use crate::db::{q, Store, Q};
use crate::divisions::escape_like;
use crate::error::StoreResult;

/// The SQL condition (on alias `h`) that limits households to the scope, with its bounds.
/// Village-level scopes filter by village code; wider ones by the township column, which
/// is what the (township_code, status) index serves.
pub(super) fn scope_cond(scope: &Scope, first: usize) -> (String, String, String) {
    let (lo, hi) = scope.bounds();
    let col = match scope.code() {
        Some(c) if c.as_str().len() > 9 => "h.village_code",
        _ => "h.township_code",
    };
    (
        format!("{col} >= ${first} AND {col} < ${}", first + 1),
        lo,
        hi,
    )
}

/// The person search's SQL and its arguments (the LIMIT is the last placeholder).
fn search_sql(scope: &Scope, term: &SearchTerm, sqlite: bool) -> (String, Vec<String>) {
    let (cond, lo, hi) = scope_cond(scope, 1);
    let mut args = vec![lo, hi];
    let mut c = person_cond(term, &mut args);
    // SQLite only: PostgreSQL's planner starts these from the persons table by itself.
    if let (SearchTerm::Name(name), true) = (term, sqlite) {
        // Over a county or wider, walking the scope's households and their members costs
        // ~1 s city-wide at 1.2M persons; a pass over the persons themselves finds the
        // matches first. A name's initials are its characters' initials in order
        // (`pinyin_keys` maps each character on its own), so a name containing the part has
        // initials containing the part's: with two or more initials the short entries of
        // persons (name_initials) are scanned instead of the table. Measured city-wide:
        // 张伟 1,240 -> 75 ms, 张 1,378 -> 198 ms (name pass); a township walks its own
        // households (28–35 ms; either pass would cost 100–290 ms there).
        match narrow_name_search(scope, name) {
            Some(Narrow::Initials(ini)) => {
                args.push(format!("%{}%", escape_like(&ini)));
                c.push_str(&format!(
                    " AND p.id IN (SELECT id FROM persons INDEXED BY persons_initials
                                   WHERE name_initials LIKE ${} ESCAPE '\\')",
                    args.len()
                ));
            }
            Some(Narrow::Names) => {
                // The name pattern person_cond pushed last.
                c.push_str(&format!(
                    " AND p.id IN (SELECT id FROM persons WHERE name LIKE ${} ESCAPE '\\')",
                    args.len()
                ));
            }
            None => {}
        }
    }
    let sql = format!(
        "{PERSON_SELECT} WHERE {cond} AND {c} ORDER BY p.name, p.id LIMIT ${}",
        args.len() + 1
    );
    (sql, args)
}

pub(super) fn bind_all(mut query: Q, args: &[String]) -> Q {
    for a in args {
        query.push(a.as_str());
    }
    query
}

/// How a name-part search finds its candidates on SQLite (see [`search_sql`]).
#[derive(Debug, PartialEq, Eq)]
enum Narrow {
    /// Persons whose name initials contain these (the part's).
    Initials(String),
    /// Persons whose name contains the part, in one pass over the table.
    Names,
}

/// `None` for a township or village scope (walking its households is quicker).
fn narrow_name_search(scope: &Scope, name: &str) -> Option<Narrow> {
    if scope.code().is_some_and(|c| c.as_str().len() > 6) {
        return None;
    }
    let ini = pinyin_keys(name).1;
    Some(if ini.len() >= 2 {
        Narrow::Initials(ini)
    } else {
        Narrow::Names
    })
}

/// Adds the person-matching condition for a search term (alias `p`), pushing its args.
pub(super) fn person_cond(term: &SearchTerm, args: &mut Vec<String>) -> String {
    match term {
        SearchTerm::Id(id) => {
            args.push(id.clone());
            format!("p.id_number = ${}", args.len())
        }
        SearchTerm::Last4Name(l4, name) => {
            // The full name is known, so its initials find the few candidates through
            // persons (name_initials); the last four digits and the name pick among them.
            args.push(pinyin_keys(name).1);
            args.push(l4.clone());
            args.push(name.clone());
            format!(
                "p.name_initials = ${} AND p.id_last4 = ${} AND p.name = ${}",
                args.len() - 2,
                args.len() - 1,
                args.len()
            )
        }
        SearchTerm::Pinyin(py) => {
            args.push(format!("{}%", escape_like(py)));
            let like = format!(
                "(p.name_initials LIKE ${n} ESCAPE '\\' OR p.name_pinyin LIKE ${n} ESCAPE '\\')",
                n = args.len()
            );
            // Full pinyin and initials both begin with the first syllable's first letter: a
            // range on it lets persons (name_initials) narrow the scan (LIKE itself is
            // case-insensitive and cannot use the index).
            let Some(first) = py.bytes().next().filter(u8::is_ascii_lowercase) else {
                return like;
            };
            args.push((first as char).to_string());
            let mut cond = format!("p.name_initials >= ${}", args.len());
            if first < b'z' {
                args.push(((first + 1) as char).to_string());
                cond.push_str(&format!(" AND p.name_initials < ${}", args.len()));
            }
            format!("{cond} AND {like}")
        }
        SearchTerm::Name(name) => {
            args.push(format!("%{}%", escape_like(name)));
            format!("p.name LIKE ${} ESCAPE '\\'", args.len())
        }
    }
}

/// Finds persons in the scope by a classified search term.
pub async fn search_persons(
    store: &Store,
    scope: &Scope,
    term: &SearchTerm,
    limit: i64,
) -> StoreResult<Vec<Person>> {
    let (sql, args) = search_sql(scope, term, !store.is_postgres());
    let mut query = bind_all(q(sql), &args);
    query.push(limit.clamp(1, 200));
    store.fetch_all(query).await?.iter().map(person).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite's plan (one `detail` per step) for a person search as [`search_sql`] builds it.
    async fn search_plan(store: &Store, scope: &Scope, term: &str, sqlite: bool) -> Vec<String> {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let (sql, args) = search_sql(scope, &SearchTerm::classify(term, today), sqlite);
        let mut query = bind_all(q(format!("EXPLAIN QUERY PLAN {sql}")), &args);
        query.push(20i64);
        store
            .fetch_all(query)
            .await
            .unwrap()
            .iter()
            .map(|r| r.str("detail").unwrap())
            .collect()
    }

    /// Searches that name one person start from the index that finds them, never from a
    /// walk over the jurisdiction's households (migration 0007 dropped persons (id_last4):
    /// the last-four search goes through the name's initials).
    #[tokio::test]
    async fn person_searches_start_from_their_index_on_sqlite() {
        let db = crate::testing::TestDb::sqlite().await;
        let city = Scope::of(minzheng_domain::DivisionCode::parse("511800").unwrap());
        for (term, index) in [
            ("511802199001010015", "persons_id_number"),
            ("0015张三", "persons_initials"),
            ("张三 0015", "persons_initials"),
        ] {
            let plan = search_plan(&db.store, &city, term, true).await;
            assert!(
                plan[0].starts_with(&format!("SEARCH p USING INDEX {index} ")),
                "{term}: {plan:?}"
            );
        }
        db.cleanup().await;
    }

    /// A name search over a city scans persons (name_initials) for the term's initials, or
    /// the persons table for a one-character term; a township's walks its households.
    #[tokio::test]
    async fn wide_name_searches_narrow_by_initials_on_sqlite() {
        let db = crate::testing::TestDb::sqlite().await;
        let plan = |code: &str, term: &str, sqlite: bool| {
            let scope = Scope::of(minzheng_domain::DivisionCode::parse(code).unwrap());
            let store = db.store.clone();
            let term = term.to_string();
            async move { search_plan(&store, &scope, &term, sqlite).await.join("; ") }
        };
        let city = plan("511800", "张伟", true).await;
        assert!(city.contains("COVERING INDEX persons_initials"), "{city}");
        let one = plan("511800", "张", true).await;
        assert!(
            one.contains("SCAN persons") && !one.contains("persons_initials"),
            "{one}"
        );
        for (code, term) in [("511802001", "张伟"), ("511802001", "张")] {
            let township = plan(code, term, true).await;
            assert!(!township.contains("SCAN persons"), "{township}");
            assert!(!township.contains("persons_initials"), "{township}");
        }
        assert!(!plan("511800", "张伟", false)
            .await
            .contains("persons_initials"));
        let county = Scope::of(minzheng_domain::DivisionCode::parse("511802").unwrap());
        assert_eq!(
            narrow_name_search(&county, "张伟"),
            Some(Narrow::Initials("zw".into()))
        );
        assert_eq!(narrow_name_search(&Scope::all(), "张"), Some(Narrow::Names));
        assert_eq!(narrow_name_search(&Scope::all(), "·"), Some(Narrow::Names));
        let township = Scope::of(minzheng_domain::DivisionCode::parse("511802001").unwrap());
        assert_eq!(narrow_name_search(&township, "张伟"), None);
        db.cleanup().await;
    }
}
