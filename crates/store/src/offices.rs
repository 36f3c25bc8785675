//! Township civil-affairs offices (民政办公室), one per township-level division.

use serde::{Deserialize, Serialize};

use crate::audit::{append, AuditEvent};
use crate::db::{q, DbRow, Store};
use crate::divisions::escape_like;
use crate::error::{StoreError, StoreResult};
use crate::scope::{Actor, Scope};

/// An office with the names of its township and county.
#[derive(Debug, Clone, Serialize)]
pub struct Office {
    pub township_code: String,
    /// Official name, e.g. 东城街道民政办公室.
    pub name: String,
    /// Second plaque, e.g. 东城街道社会救助工作站.
    pub second_name: String,
    pub township_name: String,
    pub county_code: String,
    pub county_name: String,
    pub phone: String,
    pub address: String,
    pub village_count: i64,
    pub updated_at: String,
}

impl Office {
    fn from_row(r: &DbRow) -> StoreResult<Self> {
        Ok(Office {
            township_code: r.str("township_code")?,
            name: r.str("name")?,
            second_name: r.str("second_name")?,
            township_name: r.str("township_name")?,
            county_code: r.opt_str("county_code")?.unwrap_or_default(),
            county_name: r.opt_str("county_name")?.unwrap_or_default(),
            phone: r.str("phone")?,
            address: r.str("address")?,
            village_count: r.i64("village_count")?,
            updated_at: r.str("updated_at")?,
        })
    }
}

/// Filters for the office list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OfficeFilter {
    /// Only offices under this county (or any division code prefix).
    pub within: Option<String>,
    /// Name contains.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// The contact details a township may edit.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct OfficeUpdate {
    pub phone: String,
    pub address: String,
}

const SELECT: &str =
    "SELECT o.*, t.name AS township_name, c.code AS county_code, c.name AS county_name,
       (SELECT COUNT(*) FROM divisions v WHERE v.parent_code = o.township_code) AS village_count
  FROM offices o
  JOIN divisions t ON t.code = o.township_code
  LEFT JOIN divisions c ON c.code = t.parent_code";

impl Store {
    /// Offices inside the scope (or, for a village user, the office of their township).
    pub async fn list_offices(
        &self,
        scope: &Scope,
        f: &OfficeFilter,
    ) -> StoreResult<(Vec<Office>, i64)> {
        let (lo, hi) = visible_office_range(scope);
        let mut where_sql = String::from(" WHERE o.township_code >= $1 AND o.township_code < $2");
        let mut args: Vec<String> = vec![lo, hi];
        if let Some(w) = f.within.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
            if !w.bytes().all(|b| b.is_ascii_digit()) {
                return Err(StoreError::field("within", "区划代码只能包含数字"));
            }
            args.push(w.to_string());
            args.push(format!("{w}:"));
            where_sql.push_str(&format!(
                " AND o.township_code >= ${} AND o.township_code < ${}",
                args.len() - 1,
                args.len()
            ));
        }
        if let Some(term) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            args.push(format!("%{}%", escape_like(term)));
            where_sql.push_str(&format!(" AND o.name LIKE ${} ESCAPE '\\'", args.len()));
        }
        let mut count_q = q(format!("SELECT COUNT(*) AS n FROM offices o{where_sql}"));
        for a in &args {
            count_q.push(a.as_str());
        }
        let total = self.fetch_one(count_q).await?.i64("n")?;
        let mut list_q = q(format!(
            "{SELECT}{where_sql} ORDER BY o.township_code LIMIT ${} OFFSET ${}",
            args.len() + 1,
            args.len() + 2
        ));
        for a in &args {
            list_q.push(a.as_str());
        }
        list_q.push(f.limit.unwrap_or(50).clamp(1, 500));
        list_q.push(f.offset.unwrap_or(0).max(0));
        let rows = self.fetch_all(list_q).await?;
        let list = rows
            .iter()
            .map(Office::from_row)
            .collect::<StoreResult<_>>()?;
        Ok((list, total))
    }

    /// One office, if visible to the scope.
    pub async fn get_office(&self, scope: &Scope, township_code: &str) -> StoreResult<Office> {
        if !office_visible(scope, township_code) {
            return Err(StoreError::NotFound("该民政办公室"));
        }
        let row = self
            .fetch_optional(q(format!("{SELECT} WHERE o.township_code = $1")).bind(township_code))
            .await?
            .ok_or(StoreError::NotFound("该民政办公室"))?;
        Office::from_row(&row)
    }

    /// Updates an office's contact details. Only users whose scope contains the office (and
    /// whose role may write) may do so.
    pub async fn update_office(
        &self,
        actor: &Actor,
        township_code: &str,
        upd: &OfficeUpdate,
    ) -> StoreResult<Office> {
        let before = self.get_office(&actor.scope, township_code).await?;
        if !actor.can_write() || !actor.scope.contains_str(township_code) {
            return Err(StoreError::Forbidden("您无权修改该民政办公室的信息".into()));
        }
        let phone = upd.phone.trim();
        let address = upd.address.trim();
        if phone.chars().count() > 40
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '(' | ')' | '+' | '转'))
        {
            return Err(StoreError::field(
                "phone",
                "联系电话只能包含数字、空格和“-”，最长40个字符",
            ));
        }
        if address.chars().count() > 200 {
            return Err(StoreError::field("address", "办公地址最长200个字"));
        }
        let mut tx = self.begin_write().await?;
        tx.execute(
            q("UPDATE offices SET phone = $1, address = $2, updated_at = $3 WHERE township_code = $4")
                .bind(phone)
                .bind(address)
                .bind(crate::timestamp(chrono::Utc::now()))
                .bind(township_code),
        )
        .await?;
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "office.update",
                entity_type: "office",
                entity_id: township_code,
                scope_code: township_code,
                before: Some(serde_json::json!({"phone": before.phone, "address": before.address})),
                after: Some(serde_json::json!({"phone": phone, "address": address})),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_office(&actor.scope, township_code).await
    }
}

/// An office is visible inside the scope, and a village user sees their own township's.
fn office_visible(scope: &Scope, township_code: &str) -> bool {
    scope.contains_str(township_code)
        || scope.code().is_some_and(|c| {
            c.as_str().len() > township_code.len() && c.as_str().starts_with(township_code)
        })
}

fn visible_office_range(scope: &Scope) -> (String, String) {
    match scope.code() {
        Some(c) if c.as_str().len() > 9 => {
            let t = &c.as_str()[..9];
            (t.to_string(), format!("{t}:"))
        }
        _ => scope.bounds(),
    }
}
