//! The person search and the scope condition of registry reads.
//!
//! Every kind of search term is answered from an index that yields its matches in the order
//! they are listed, with the jurisdiction inside the same index where it can be, so a
//! search reads about as many index entries as it returns whatever the size of the city
//! (measured with `minzheng bench search`):
//!
//! | term | index (migration 0011) | listed by |
//! |---|---|---|
//! | part of a name | `person_name_parts` (every suffix of every name, with its township) | the name from the match on, then registration |
//! | pinyin | `persons (name_pinyin, township_code)`, then `persons (name_initials, township_code)` | full-spelling matches first, then initials matches |
//! | full ID number | `persons (id_number)` | — |
//! | last four of the ID | `persons (id_last4, township_code)` | name |
//! | last four + name | the name's parts (`part = 张三`, then the name itself) | registration |
//!
//! Every query also keeps the household's scope condition ([`scope_cond`]).

use minzheng_domain::registry::{HouseholdQuery, Person, SearchTerm};
use minzheng_domain::Scope;

use super::households::person;
use crate::db::{Arg, Store, Q};
use crate::error::Result;

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

pub(super) fn bind_all(mut query: Q, args: &[String]) -> Q {
    for a in args {
        query.push(a.as_str());
    }
    query
}

/// The least string greater than every string beginning with `prefix` (its last character
/// raised by one), so "begins with" is one range in bytewise order.
fn prefix_end(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return chars.into_iter().collect();
        }
    }
    // Only a prefix of U+10FFFF characters gets here: nothing sorts after it.
    "\u{10FFFF}\u{10FFFF}".to_string()
}

/// One ordered source of matches: its tables (`k` the name parts, `p` persons, `h`
/// households) and condition, and the three keys it yields its rows in.
struct Arm {
    from: String,
    cond: String,
    order: [&'static str; 3],
}

/// The statement pieces a search needs, for one backend.
struct Builder {
    pg: bool,
    /// A cluster's database: the joins name the county too (answered on one node).
    distributed: bool,
    args: Vec<Arg>,
}

impl Builder {
    fn new(store: &Store) -> Builder {
        Builder {
            pg: store.is_postgres(),
            distributed: store.distributed,
            args: Vec::new(),
        }
    }

    fn arg(&mut self, v: impl Into<Arg>) -> String {
        self.args.push(v.into());
        format!("${}", self.args.len())
    }

    /// The statement with its arguments.
    fn query(self, sql: String) -> Q {
        Q {
            sql,
            args: self.args,
        }
    }

    /// Joins a table: SQLite is told the order (the plan starts from the first table's
    /// index, which yields the rows in order); PostgreSQL's planner picks it itself.
    fn join(&self, table: &str, on: &str) -> String {
        if self.pg {
            format!(" JOIN {table} ON {on}")
        } else {
            format!(" CROSS JOIN {table} ON {on}")
        }
    }

    /// The condition on a `township_code` column (of `k` or `p`) for the scope: equal to
    /// the township for a township or village scope, a range for wider ones.
    fn township(&mut self, col: &str, scope: &Scope) -> String {
        match scope.code().map(|c| c.as_str()) {
            Some(c) if c.len() >= 9 => {
                let t = self.arg(&c[..9]);
                format!("{col} = {t}")
            }
            _ => {
                let (lo, hi) = scope.bounds();
                let (lo, hi) = (self.arg(lo), self.arg(hi));
                format!("{col} >= {lo} AND {col} < {hi}")
            }
        }
    }

    /// The scope condition on the name parts' township column. On PostgreSQL only for a
    /// township or village scope, which its scope index serves: a range over a county or
    /// the city would tempt the planner's generic plan of the prepared statement into that
    /// index (every township's entries, then a sort of all matches: 1.7 s for 张
    /// city-wide) instead of the parts in order; the household's condition keeps the
    /// jurisdiction there.
    fn parts_township(&mut self, scope: &Scope) -> String {
        let narrow = scope.code().is_some_and(|c| c.as_str().len() >= 9);
        if self.pg && !narrow {
            return "TRUE".into();
        }
        self.township("k.township_code", scope)
    }

    /// The household's own scope condition, kept on every search.
    fn household_scope(&mut self, scope: &Scope) -> String {
        let (lo, hi) = scope.bounds();
        let col = match scope.code() {
            Some(c) if c.as_str().len() > 9 => "h.village_code",
            _ => "h.township_code",
        };
        let (lo, hi) = (self.arg(lo), self.arg(hi));
        let mut cond = format!("{col} >= {lo} AND {col} < {hi}");
        // On a cluster a scope inside one county names it: the search then runs on that
        // county's shard alone instead of asking every shard.
        if let Some(c) = scope
            .code()
            .filter(|c| self.distributed && c.as_str().len() >= 6)
        {
            let county = self.arg(&c.as_str()[..6]);
            cond.push_str(&format!(" AND h.county_code = {county}"));
        }
        cond
    }

    /// Persons from a persons index (`p` first, then its household).
    fn persons_source(&self, index: &str) -> String {
        let hint = if self.pg {
            String::new()
        } else {
            format!(" INDEXED BY {index}")
        };
        format!(
            "persons p{hint}{}",
            self.join(
                "households h",
                &format!("h.id = p.household_id{}", self.county("h", "p"))
            )
        )
    }

    /// ` AND a.county_code = b.county_code` on a cluster.
    fn county(&self, a: &str, b: &str) -> String {
        crate::distribute::same_county(self.distributed, a, b)
    }

    /// Persons from their name parts (`k` first, then the person and the household).
    fn parts_source(&self) -> String {
        format!(
            "person_name_parts k{}{}",
            self.join(
                "persons p",
                &format!("p.id = k.person_id{}", self.county("p", "k"))
            ),
            self.join(
                "households h",
                &format!("h.id = p.household_id{}", self.county("h", "p"))
            )
        )
    }

    /// The ordered sources of a term's matches in the scope.
    fn arms(&mut self, scope: &Scope, term: &SearchTerm) -> Vec<Arm> {
        let hs = self.household_scope(scope);
        match term {
            SearchTerm::Id(id) => {
                let id = self.arg(id.as_str());
                vec![Arm {
                    from: self.persons_source("persons_id_number"),
                    cond: format!("p.id_number = {id} AND {hs}"),
                    order: ["p.name", "p.id", "p.id"],
                }]
            }
            SearchTerm::Last4(l4) => {
                let l4 = self.arg(l4.as_str());
                let t = self.township("p.township_code", scope);
                vec![Arm {
                    from: self.persons_source("persons_last4"),
                    cond: format!("p.id_last4 = {l4} AND {t} AND {hs}"),
                    order: ["p.name", "p.id", "p.id"],
                }]
            }
            SearchTerm::Last4Name(l4, name) => {
                let name = self.arg(name.as_str());
                let l4 = self.arg(l4.as_str());
                let t = self.parts_township(scope);
                vec![Arm {
                    from: self.parts_source(),
                    cond: format!(
                        "k.part = {name} AND {t} AND p.name = {name} AND p.id_last4 = {l4} AND {hs}"
                    ),
                    order: ["k.part", "k.person_id", "k.person_id"],
                }]
            }
            SearchTerm::Name(name) => {
                let lo = self.arg(name.as_str());
                let hi = self.arg(prefix_end(name));
                let t = self.parts_township(scope);
                // A name containing the term twice has two parts beginning with it: only
                // the one at its first occurrence counts.
                let first = if self.pg {
                    format!("strpos(p.name, {lo}) = char_length(p.name) - char_length(k.part) + 1")
                } else {
                    format!("instr(p.name, {lo}) = length(p.name) - length(k.part) + 1")
                };
                vec![Arm {
                    from: self.parts_source(),
                    cond: format!("k.part >= {lo} AND k.part < {hi} AND {t} AND {first} AND {hs}"),
                    order: ["k.part", "k.person_id", "k.person_id"],
                }]
            }
            SearchTerm::Pinyin(py) => {
                let lo = self.arg(py.as_str());
                let hi = self.arg(prefix_end(py));
                let t1 = self.township("p.township_code", scope);
                let t2 = self.township("p.township_code", scope);
                vec![
                    Arm {
                        from: self.persons_source("persons_pinyin"),
                        cond: format!(
                            "p.name_pinyin >= {lo} AND p.name_pinyin < {hi} AND {t1} AND {hs}"
                        ),
                        order: ["p.name_pinyin", "p.township_code", "p.id"],
                    },
                    Arm {
                        from: self.persons_source("persons_initials"),
                        cond: format!(
                            "p.name_initials >= {lo} AND p.name_initials < {hi} AND {t2}
                             AND NOT (p.name_pinyin >= {lo} AND p.name_pinyin < {hi}) AND {hs}"
                        ),
                        order: ["p.name_initials", "p.township_code", "p.id"],
                    },
                ]
            }
        }
    }

    /// One statement over the arms: each yields at most `limit` rows in its own order, the
    /// first arm's rows before the second's. `extra` is added to every arm's condition.
    fn statement(&mut self, select: &str, arms: &[Arm], extra: &str, limit: i64) -> String {
        let lim = self.arg(limit);
        let one = |grp: usize, a: &Arm| {
            let [o1, o2, o3] = a.order;
            format!(
                "SELECT {select}, {grp} AS grp, {o1} AS s1, {o2} AS s2, {o3} AS s3
                 FROM {} WHERE {}{extra} ORDER BY {o1}, {o2}, {o3} LIMIT {lim}",
                a.from, a.cond
            )
        };
        match arms {
            [a] => one(0, a),
            _ => {
                let parts: Vec<String> = arms
                    .iter()
                    .enumerate()
                    .map(|(g, a)| format!("SELECT * FROM ({}) a{g}", one(g, a)))
                    .collect();
                format!(
                    "{} ORDER BY grp, s1, s2, s3 LIMIT {lim}",
                    parts.join(" UNION ALL ")
                )
            }
        }
    }
}

/// Persons in the scope matching a classified search term, in the order of its index.
pub async fn search_persons(
    store: &Store,
    scope: &Scope,
    term: &SearchTerm,
    limit: i64,
) -> Result<Vec<Person>> {
    let mut b = Builder::new(store);
    let arms = b.arms(scope, term);
    let sql = b.statement(
        "p.*, h.head_name AS head_name,
         (SELECT v.name FROM divisions v WHERE v.code = h.village_code) AS village_name",
        &arms,
        "",
        limit.clamp(1, 200),
    );
    let rows = store.fetch_first_rows(b.query(sql)).await?;
    rows.iter().map(person).collect()
}

/// The households of the persons matching the query's term (each once, in the order of
/// its first matching member), among those meeting the query's other filters, until `want`
/// are found.
pub(super) async fn matching_households(
    store: &Store,
    scope: &Scope,
    f: &HouseholdQuery,
    term: &SearchTerm,
    want: usize,
) -> Result<Vec<i64>> {
    // Members of one household often match together (a surname): read a few persons per
    // household wanted, more if that was not enough.
    let mut persons = (want as i64 * 3).max(30);
    loop {
        let mut b = Builder::new(store);
        let arms = b.arms(scope, term);
        let mut extra = String::new();
        if let Some(v) = &f.village {
            let (lo, hi) = (b.arg(v.as_str()), b.arg(format!("{v}:")));
            extra.push_str(&format!(
                " AND h.village_code >= {lo} AND h.village_code < {hi}"
            ));
        }
        if let Some(rt) = f.registration_type {
            extra.push_str(&format!(
                " AND h.registration_type = {}",
                b.arg(rt.as_str())
            ));
        }
        if let Some(st) = f.status {
            extra.push_str(&format!(" AND h.status = {}", b.arg(st.as_str())));
        }
        let sql = b.statement("p.household_id AS hid", &arms, &extra, persons);
        let rows = store.fetch_first_rows(b.query(sql)).await?;
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for r in &rows {
            let hid = r.i64("hid")?;
            if seen.insert(hid) {
                out.push(hid);
            }
        }
        if out.len() >= want || (rows.len() as i64) < persons {
            out.truncate(want);
            return Ok(out);
        }
        persons *= 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minzheng_domain::DivisionCode;

    /// SQLite's plan (one `detail` per step) of the person search for `term` in `scope`.
    async fn plan(store: &Store, scope: &Scope, term: &str) -> Vec<String> {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut b = Builder::new(store);
        let arms = b.arms(scope, &SearchTerm::classify(term, today));
        let sql = b.statement("p.*", &arms, "", 20);
        let mut query = b.query(sql);
        query.sql = format!("EXPLAIN QUERY PLAN {}", query.sql);
        store
            .fetch_all(query)
            .await
            .unwrap()
            .iter()
            .map(|r| r.str("detail").unwrap())
            .collect()
    }

    #[test]
    fn prefix_ends_sort_after_every_continuation() {
        assert_eq!(prefix_end("zw"), "zx");
        assert_eq!(prefix_end("张"), "\u{5F21}");
        assert!(prefix_end("张").as_str() > "张\u{10FFFF}");
        assert_eq!(prefix_end("a\u{D7FF}"), "a\u{E000}");
        assert_eq!(prefix_end("a\u{10FFFF}"), "b");
    }

    /// Every kind of term starts from the index that yields its matches in order, at city
    /// and at township scope, and reads them in that order (no sort of all matches: a
    /// common surname city-wide would otherwise sort tens of thousands of rows per search).
    #[tokio::test]
    async fn every_search_kind_starts_from_its_ordered_index_on_sqlite() {
        let db = crate::testing::TestDb::sqlite().await;
        let city = Scope::of(DivisionCode::parse_native("5118").unwrap());
        let township = Scope::of(DivisionCode::parse_native("511802001").unwrap());
        let village = Scope::of(DivisionCode::parse_native("511802001001").unwrap());
        for scope in [&city, &township, &village, &Scope::all()] {
            for (term, first) in [
                ("张", "SEARCH k USING PRIMARY KEY (part>? AND part<?)"),
                ("秀英", "SEARCH k USING PRIMARY KEY (part>? AND part<?)"),
                ("0015张三", "SEARCH k USING PRIMARY KEY (part=?)"),
                ("张三 0015", "SEARCH k USING PRIMARY KEY (part=?)"),
                ("0015", "SEARCH p USING INDEX persons_last4 (id_last4=?"),
                (
                    "511802199001010015",
                    "SEARCH p USING INDEX persons_id_number (id_number=?)",
                ),
            ] {
                let steps = plan(&db.store, scope, term).await;
                assert!(steps[0].starts_with(first), "{term} {scope:?}: {steps:?}");
                if !term.chars().all(|c| c.is_ascii_digit()) {
                    assert!(
                        !steps.iter().any(|s| s.contains("TEMP B-TREE")),
                        "{term} {scope:?}: {steps:?}"
                    );
                }
            }
            // Pinyin: the full spellings, then the initials, each in its index's order (in
            // a township SQLite orders persons of the same spelling by id as it goes); only
            // the two arms' first rows (at most the limit each) are sorted and merged.
            let steps = plan(&db.store, scope, "zhang").await;
            let at = |s: &str| steps.iter().position(|x| x.contains(s));
            let py = at("USING INDEX persons_pinyin (name_pinyin>? AND name_pinyin<?)");
            let ini = at("USING INDEX persons_initials (name_initials>? AND name_initials<?)");
            assert!(py.is_some() && ini.is_some() && py < ini, "{steps:?}");
            for (k, step) in steps.iter().enumerate() {
                if step.contains("TEMP B-TREE") && !step.contains("LAST TERM") {
                    assert!(steps[k - 1].starts_with("SCAN a"), "{scope:?} {steps:?}");
                }
            }
        }
        db.cleanup().await;
    }
}
