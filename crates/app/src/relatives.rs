//! 近亲属备案: staff and village cadres declare their close relatives; a case of a household
//! a declarant or a declared relative lives in is filed as such (备案), needs the county's
//! home visit before it is confirmed, and its declarant is recused (docs/rules.md §13).

use chrono::NaiveDate;
use minzheng_domain::relatives::{
    filing_note, parse_declaration, recusal, Declaration, NewDeclaration, Tie,
};
use minzheng_domain::Actor;
use minzheng_store::{divisions, relatives as store, users, Store, Tx};
use serde_json::json;

use crate::payroll::{audit, now, refused};
use crate::{App, Authorize, Error, Permission, Result};

/// The relative-filing duty of [`App`].
pub struct Relatives<'a> {
    app: &'a App,
}

impl App {
    pub fn relatives(&self) -> Relatives<'_> {
        Relatives { app: self }
    }
}

/// What recording a declaration did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Declared {
    pub id: i64,
    /// Cases under way now filed as 备案.
    pub filed_cases: Vec<i64>,
}

impl Relatives<'_> {
    /// Records a declaration of a declarant serving inside the actor's jurisdiction, and
    /// files the cases under way of every household the declarant or the relative lives in.
    pub async fn declare(
        &self,
        actor: &Actor,
        d: &NewDeclaration,
        today: NaiveDate,
    ) -> Result<Declared> {
        actor.require(Permission::DeclareRelatives)?;
        let input = parse_declaration(d, today).map_err(refused)?;
        let st = self.app.store();
        divisions::get(st, &actor.scope, &input.division_code)
            .await
            .map_err(|_| {
                Error::field(
                    "division_code",
                    format!("区划代码{}不存在或不在您的管辖范围内", input.division_code),
                )
            })?;
        if let Some(u) = &input.username {
            if users::id_by_username(st, &minzheng_domain::Scope::all(), u)
                .await
                .is_err()
            {
                return Err(Error::field("username", format!("没有账号“{u}”")));
            }
        }
        // An ID number the registry holds must come with the registered name.
        let ids = [
            input.declarant_id_number.as_str(),
            input.relative_id_number.as_str(),
        ];
        let names = minzheng_store::lists::registered_names(st, &ids).await?;
        for (field, id, given) in [
            (
                "declarant_name",
                input.declarant_id_number.as_str(),
                &input.declarant_name,
            ),
            (
                "relative_name",
                input.relative_id_number.as_str(),
                &input.relative_name,
            ),
        ] {
            if let Some(reg) = names.get(id) {
                if !minzheng_domain::registry::same_name(reg, given) {
                    let c = minzheng_domain::funerals::IdentityConflict {
                        id_number: id.to_string(),
                        registered_name: reg.clone(),
                        given_name: given.clone(),
                    };
                    return Err(Error::field(field, c.message()));
                }
            }
        }
        let mut tx = st.begin_write().await?;
        let Some(id) = store::insert(&mut tx, &input, &actor.username, &now()).await? else {
            return Err(Error::Conflict(format!(
                "{}已备案过与{}的关系",
                input.declarant_name, input.relative_name
            )));
        };
        let mut filed = Vec::new();
        let ids = [
            input.relative_id_number.as_str(),
            input.declarant_id_number.as_str(),
        ];
        for h in store::households_of(&mut tx, &ids).await? {
            let ties = store::ties_of_household(&mut tx, h).await?;
            filed.extend(store::file_open_cases(&mut tx, h, &filing_note(&ties)).await?);
        }
        audit(
            &mut tx,
            actor,
            "relative.declare",
            "relative_declaration",
            &id.to_string(),
            &input.division_code,
            None,
            Some(json!({
                "declarant": input.declarant_name,
                "post": input.post.as_str(),
                "username": input.username,
                "relative": input.relative_name,
                "relative_id_number": minzheng_domain::mask_id(input.relative_id_number.as_str()),
                "relation": input.relation.as_str(),
                "filed_cases": filed,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(Declared {
            id,
            filed_cases: filed,
        })
    }

    /// The declarations inside the actor's jurisdiction, newest first; ID numbers masked
    /// for roles that must not see them.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<Declaration>> {
        actor.require(Permission::DeclareRelatives)?;
        let mut v = store::list(self.app.store(), &actor.scope, 500).await?;
        if !actor.may(Permission::SeeFullIdentity) {
            for d in &mut v {
                d.declarant_id_number = minzheng_domain::mask_id(&d.declarant_id_number);
                d.relative_id_number = minzheng_domain::mask_id(&d.relative_id_number);
            }
        }
        Ok(v)
    }
}

/// The ties of a household to declarants (the case page shows them).
pub(crate) async fn ties(store: &Store, household_id: i64) -> Result<Vec<Tie>> {
    Ok(store::ties_of_household(store, household_id).await?)
}

/// Refuses (403) an actor who declared a tie to the household: they are recused from its
/// cases. The system's own tasks are not recused.
pub(crate) async fn check_recusal(store: &Store, actor: &Actor, household_id: i64) -> Result<()> {
    if actor.role.is_none() {
        return Ok(());
    }
    let ties = store::ties_of_household(store, household_id).await?;
    match recusal(&actor.username, &ties) {
        Some(why) => Err(Error::Forbidden(why)),
        None => Ok(()),
    }
}

/// Files a new case of a household with ties (inside the case's transaction).
pub(crate) async fn file_new_case(tx: &mut Tx, case_id: i64, household_id: i64) -> Result<()> {
    let ties = store::ties_of_household(&mut *tx, household_id).await?;
    if !ties.is_empty() {
        store::set_filed_note(tx, case_id, &filing_note(&ties)).await?;
    }
    Ok(())
}
