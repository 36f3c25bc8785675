//! 近亲属备案, in the table `relative_declarations`; the ties between a household and the
//! declarants (a member who is a declarant, or a declared relative); and the filing note of
//! cases (`cases.filed_note`).

use minzheng_domain::relatives::{DeclarantPost, Declaration, DeclarationInput, Kinship, Tie};
use minzheng_domain::Scope;

use crate::db::{q, Conn, DbRow, Tx};
use crate::error::{Result, StoreError};

/// Records a declaration; None when the same declarant has declared this relative already.
pub async fn insert(tx: &mut Tx, d: &DeclarationInput, by: &str, now: &str) -> Result<Option<i64>> {
    // On a distributed database the unique key takes the county as its last column (the
    // same declaration is one per county there).
    let county = if crate::distribute::keeps_person_ids(tx).await? {
        ", county_code"
    } else {
        ""
    };
    let r = tx
        .fetch_optional(
            q(format!(
                "INSERT INTO relative_declarations (township_code, county_code, division_code, declarant_name,
                 declarant_id_number, post, username, relative_name, relative_id_number,
                 relation, note, declared_by, declared_at)
               VALUES ($1, substr($1, 1, 6), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
               ON CONFLICT (declarant_id_number, relative_id_number{county}) DO NOTHING
               RETURNING id"
            ))
            .bind(d.township_code())
            .bind(d.division_code.as_str())
            .bind(d.declarant_name.as_str())
            .bind(d.declarant_id_number.as_str())
            .bind(d.post.as_str())
            .bind(d.username.clone())
            .bind(d.relative_name.as_str())
            .bind(d.relative_id_number.as_str())
            .bind(d.relation.as_str())
            .bind(d.note.as_str())
            .bind(by)
            .bind(now),
        )
        .await?;
    r.map(|r| r.i64("id")).transpose()
}

fn declaration(r: &DbRow) -> Result<Declaration> {
    let bad = |what: &str| StoreError::Internal(format!("近亲属备案的{what}无法识别"));
    Ok(Declaration {
        id: r.i64("id")?,
        township_code: r.str("township_code")?,
        division_code: r.str("division_code")?,
        declarant_name: r.str("declarant_name")?,
        declarant_id_number: r.str("declarant_id_number")?,
        post: DeclarantPost::parse(&r.str("post")?).ok_or_else(|| bad("身份"))?,
        username: r.opt_str("username")?,
        relative_name: r.str("relative_name")?,
        relative_id_number: r.str("relative_id_number")?,
        relation: Kinship::parse(&r.str("relation")?).ok_or_else(|| bad("亲属关系"))?,
        note: r.str("note")?,
        declared_by: r.str("declared_by")?,
        declared_at: r.str("declared_at")?,
    })
}

/// The declarations of declarants serving inside the scope, newest first.
pub async fn list<'c>(
    db: impl Into<Conn<'c>>,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<Declaration>> {
    let (lo, hi) = scope.bounds();
    db.into()
        .fetch_all(
            q("SELECT * FROM relative_declarations
               WHERE township_code >= $1 AND township_code < $2
               ORDER BY id DESC LIMIT $3")
            .bind(lo)
            .bind(hi)
            .bind(limit),
        )
        .await?
        .iter()
        .map(declaration)
        .collect()
}

/// The ties of a household's members to declarants: members who are declared relatives,
/// and members who are declarants themselves (本人).
///
/// Two indexed reads, the members and then the declarations naming their ID numbers, not a
/// join of persons and declarations: on a cluster the two tables are sharded by different
/// counties (a declarant serves in one county, a relative may live in another), and a join
/// on the ID number there is a repartition of both tables.
pub async fn ties_of_household<'c>(db: impl Into<Conn<'c>>, household_id: i64) -> Result<Vec<Tie>> {
    let mut db = db.into();
    let members = db
        .fetch_all(
            q("SELECT name, id_number FROM persons
               WHERE household_id = $1 AND status = 'active'")
            .bind(household_id),
        )
        .await?
        .iter()
        .map(|r| Ok((r.str("id_number")?, r.str("name")?)))
        .collect::<Result<Vec<(String, String)>>>()?;
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let marks = (1..=members.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut query = q(format!(
        "SELECT id, declarant_name, declarant_id_number, post, username, relation,
                relative_id_number
         FROM relative_declarations
         WHERE relative_id_number IN ({marks}) OR declarant_id_number IN ({marks})
         ORDER BY id"
    ));
    for (id_number, _) in &members {
        query = query.bind(id_number.as_str());
    }
    let rows = db.fetch_all(query).await?;
    let name_of = |id_number: &str| {
        members
            .iter()
            .find(|(n, _)| n == id_number)
            .map(|(_, name)| name.clone())
    };
    let bad = |what: &str| StoreError::Internal(format!("近亲属备案的{what}无法识别"));
    let mut ties: Vec<Tie> = Vec::with_capacity(rows.len());
    for r in &rows {
        let post = DeclarantPost::parse(&r.str("post")?).ok_or_else(|| bad("身份"))?;
        let relation = Kinship::parse(&r.str("relation")?).ok_or_else(|| bad("亲属关系"))?;
        // A declaration ties the household through its relative, its declarant, or both
        // (本人 declared as a relative of themselves names the same person twice).
        let through_relative = name_of(&r.str("relative_id_number")?).map(|m| (m, relation));
        let through_declarant =
            name_of(&r.str("declarant_id_number")?).map(|m| (m, Kinship::Oneself));
        for (member_name, relation) in through_relative.into_iter().chain(through_declarant) {
            let t = Tie {
                declaration_id: r.i64("id")?,
                member_name,
                declarant_name: r.str("declarant_name")?,
                post,
                relation,
                username: r.opt_str("username")?,
            };
            // The declarant's own line and "本人" declarations say the same thing once.
            if !ties.iter().any(|x| {
                x.member_name == t.member_name
                    && x.declarant_name == t.declarant_name
                    && x.relation == t.relation
            }) {
                ties.push(t);
            }
        }
    }
    Ok(ties)
}

/// The households whose cases `username` must stay out of: those with an active member who
/// is the user's declared relative, or the user as declarant (the ties of
/// [`ties_of_household`] that name this user), in one query.
pub async fn households_tied_to<'c>(db: impl Into<Conn<'c>>, username: &str) -> Result<Vec<i64>> {
    let mut db = db.into();
    // A cluster joins rows of different counties by equal keys alone (it moves them between
    // nodes by the key): there each of the two ties is its own join.
    let sql = if db.is_distributed().await? {
        "SELECT p.household_id FROM relative_declarations d
           JOIN persons p ON p.status = 'active' AND p.id_number = d.relative_id_number
         WHERE d.username = $1
         UNION
         SELECT p.household_id FROM relative_declarations d
           JOIN persons p ON p.status = 'active' AND p.id_number = d.declarant_id_number
         WHERE d.username = $1"
    } else {
        "SELECT DISTINCT p.household_id FROM relative_declarations d
               JOIN persons p ON p.status = 'active'
                 AND (p.id_number = d.relative_id_number OR p.id_number = d.declarant_id_number)
               WHERE d.username = $1"
    };
    db.fetch_all(q(sql).bind(username))
        .await?
        .iter()
        .map(|r| r.i64("household_id"))
        .collect()
}

/// The households in which a person with one of these ID numbers lives.
pub async fn households_of(tx: &mut Tx, id_numbers: &[&str]) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for id in id_numbers {
        if let Some(r) = tx
            .fetch_optional(
                q("SELECT household_id FROM persons WHERE id_number = $1 AND status = 'active'")
                    .bind(*id),
            )
            .await?
        {
            out.push(r.i64("household_id")?);
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Files the household's cases still under way (not yet decided) with `note`; returns
/// their ids.
pub async fn file_open_cases(tx: &mut Tx, household_id: i64, note: &str) -> Result<Vec<i64>> {
    let rows = tx
        .fetch_all(
            q("UPDATE cases SET filed_note = $2
               WHERE household_id = $1 AND filed_note <> $2
                 AND state NOT IN ('enrolled', 'terminated', 'withdrawn', 'denied',
                                   'not_accepted', 'approved')
               RETURNING id")
            .bind(household_id)
            .bind(note),
        )
        .await?;
    rows.iter().map(|r| r.i64("id")).collect()
}

/// Sets one case's filing note.
pub async fn set_filed_note(tx: &mut Tx, case_id: i64, note: &str) -> Result<()> {
    tx.execute(
        q("UPDATE cases SET filed_note = $2 WHERE id = $1")
            .bind(case_id)
            .bind(note),
    )
    .await?;
    Ok(())
}
