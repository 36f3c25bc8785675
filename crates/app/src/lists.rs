//! 核对数据: importing other departments' lists as dated batches (docs/rules.md §12.3). A
//! list is imported whole or not at all; it never edits the registry — the cross-checks
//! match it by ID number and raise findings a clerk confirms.

use chrono::NaiveDate;
use minzheng_domain::lists::{parse_row, ListBatch, ListKind};
use minzheng_domain::{mask_id, Actor};
use minzheng_store::lists as store;
use serde_json::json;

use crate::payroll::{audit, now};
use crate::{App, Authorize, Error, Permission, Result};

/// The external-list duty of [`App`].
pub struct Lists<'a> {
    app: &'a App,
}

impl App {
    pub fn lists(&self) -> Lists<'_> {
        Lists { app: self }
    }
}

/// At most this many refused rows are named in a refusal.
const NAMED: usize = 50;

impl Lists<'_> {
    /// Imports a list of `kind` received on `received_on`: every row is checked first (the
    /// ID number, the name, the date, the same person twice, an ID number registered under
    /// another name — an identity conflict is refused, never merged) and any problem refuses
    /// the whole list with each row's reason; otherwise the batch is stored in one
    /// transaction. Returns the batch.
    pub async fn import(
        &self,
        actor: &Actor,
        kind: ListKind,
        received_on: NaiveDate,
        name: &str,
        data: &[u8],
        today: NaiveDate,
    ) -> Result<ListBatch> {
        actor.require(Permission::ImportLists)?;
        if received_on > today {
            return Err(Error::field("received_on", "接收日期不能晚于今天"));
        }
        let limits = self.app.limits();
        let rows = crate::registry::import::blocking(|| {
            let rows = crate::formats::lists::parse(name, data, limits);
            crate::formats::limits::give_back_memory();
            rows
        })?;
        let mut problems: Vec<(usize, String)> = Vec::new();
        let mut good = Vec::with_capacity(rows.len());
        let mut seen = std::collections::HashMap::new();
        // Lists where one person stands once (a death, a move, a business of one's own);
        // pensions, vehicles and real estate may list a person several times.
        let once = matches!(
            kind,
            ListKind::PoliceDeath | ListKind::PoliceMove | ListKind::Business
        );
        for (line, r) in &rows {
            match parse_row(r, today) {
                Ok(g) => {
                    if let Some(first) = seen.insert(g.id_number.as_str().to_string(), *line) {
                        if once {
                            problems.push((*line, format!("与第{first}行是同一人")));
                            continue;
                        }
                    }
                    good.push((*line, g))
                }
                Err(f) => problems.push((
                    *line,
                    f.iter().map(|(_, m)| m).collect::<Vec<_>>().join("；"),
                )),
            }
        }
        let ids: Vec<&str> = good.iter().map(|(_, g)| g.id_number.as_str()).collect();
        let names = store::registered_names(self.app.store(), &ids).await?;
        for (line, g) in &good {
            if let Some(reg) = names.get(g.id_number.as_str()) {
                if !minzheng_domain::registry::same_name(reg, &g.name) {
                    problems.push((
                        *line,
                        format!(
                            "身份证号码{}在户籍台账中登记为“{reg}”，与名单中的“{}”不一致，请与{}核对",
                            mask_id(g.id_number.as_str()),
                            g.name,
                            kind.label()
                        ),
                    ));
                }
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|(line, _)| *line);
            let more = problems.len().saturating_sub(NAMED);
            let named: Vec<String> = problems
                .iter()
                .take(NAMED)
                .map(|(line, m)| format!("第{line}行：{m}"))
                .collect();
            let mut m = format!("名单有问题，整份未导入：{}", named.join("；"));
            if more > 0 {
                m.push_str(&format!("；另有{more}行有问题"));
            }
            return Err(Error::field("file", m));
        }
        let rows: Vec<_> = good.into_iter().map(|(_, g)| g).collect();
        let scope = actor.scope.code_str().to_string();
        let at = now();
        let mut tx = self.app.store().begin_write().await?;
        let id = store::insert_batch(
            &mut tx,
            kind,
            &received_on.to_string(),
            &scope,
            name,
            &rows,
            &actor.username,
            &at,
        )
        .await?;
        audit(
            &mut tx,
            actor,
            "list.import",
            "external_batch",
            &id.to_string(),
            &scope,
            None,
            Some(json!({
                "kind": kind.as_str(), "received_on": received_on.to_string(),
                "file": name, "rows": rows.len(),
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(ListBatch {
            id,
            kind,
            received_on: received_on.to_string(),
            scope_code: scope,
            file_name: name.to_string(),
            rows: rows.len() as i64,
            imported_by: actor.username.clone(),
            imported_at: at,
        })
    }

    /// The lists that concern the actor's jurisdiction, newest first.
    pub async fn batches(&self, actor: &Actor) -> Result<Vec<ListBatch>> {
        actor.require(Permission::RunChecks)?;
        Ok(store::batches(self.app.store(), &actor.scope, 200).await?)
    }
}
