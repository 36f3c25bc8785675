//! The demo's deaths (`serve --demo`): a death recorded late, after its month was paid, so
//! a recovery is open; a cremation from the funeral home's list; a death the registry knows
//! of but the funeral ledger does not; an account shared by two households, a cadre's
//! undeclared relative, a vehicle list and one irregularity per other check, so the
//! cross-checks have findings of every kind to show.

use chrono::NaiveDate;
use minzheng_domain::funerals::{DeathSource, NewDeath};
use minzheng_domain::lists::ListKind;
use minzheng_domain::relatives::NewDeclaration;
use minzheng_domain::{Actor, YearMonth};
use minzheng_store::funerals;

use super::Demo;
use crate::Result;

impl Demo<'_> {
    /// Seeds the deaths when the funeral ledger is empty, `last` being the month already
    /// paid; then runs the cross-checks. Returns how many deaths were recorded.
    pub async fn deaths(&self, last: YearMonth, today: NaiveDate) -> Result<usize> {
        let store = self.app.store();
        let demo = Actor::system("demo");
        if !self.app.funerals().list(&demo, None).await?.is_empty() {
            return Ok(0);
        }
        let mut dongcheng = funerals::demo_lone_beneficiaries(store, "511802001", 4).await?;
        let others = dongcheng.split_off(dongcheng.len().min(2));
        let xicheng = funerals::demo_lone_beneficiaries(store, "511802002", 1).await?;
        let mut recorded = 0;
        // Died on the 10th of the month before `last`: `last` was paid, and is owed back.
        let died = last.prev().first_day() + chrono::Days::new(9);
        for (k, (id, name)) in dongcheng.iter().enumerate() {
            let cremated = k == 1;
            self.app
                .funerals()
                .record_from(
                    &demo,
                    &NewDeath {
                        id_number: id.clone(),
                        name: name.clone(),
                        death_date: (died + chrono::Days::new(k as u64 * 5)).to_string(),
                        death_place: if cremated {
                            "雅安市人民医院"
                        } else {
                            "家中"
                        }
                        .into(),
                        certificate_kind: if cremated { "medical" } else { "other" }.into(),
                        certificate_no: format!("Y{}{:04}", last.year(), 101 + k),
                        disposal: if cremated { "cremation" } else { "burial" }.into(),
                        cremation_no: if cremated {
                            format!("HH{}-{:04}", last.year(), 2301 + k)
                        } else {
                            String::new()
                        },
                        funeral_home: if cremated { "雅安市殡仪馆" } else { "" }.into(),
                        note: if cremated {
                            ""
                        } else {
                            "村委会出具死亡证明"
                        }
                        .into(),
                        ..NewDeath::default()
                    },
                    if cremated {
                        DeathSource::FuneralHome
                    } else {
                        DeathSource::Office
                    },
                    today,
                )
                .await?;
            recorded += 1;
        }
        // 西城: the registry marks a beneficiary dead; nobody has recorded the death yet.
        let mut tx = store.begin_write().await?;
        for (id, _) in &xicheng {
            if let Some(p) = funerals::registered_person(&mut tx, id).await? {
                let now = crate::payroll::now();
                funerals::mark_deceased(&mut tx, p.id, &died.to_string(), &now).await?;
            }
        }
        funerals::demo_shared_account(&mut tx).await?;
        funerals::demo_irregularities(&mut tx, &crate::payroll::now()).await?;
        tx.commit().await?;
        self.relatives_and_lists(&others, last, today).await?;
        self.app.checks().run(&demo, today).await?;
        Ok(recorded)
    }

    /// 近亲属备案 and 核对数据 for the checks to find: the village assistant is the brother
    /// of one 东城 beneficiary (whose case was never filed: the assistant is recused from
    /// it), and the vehicle registry lists another.
    async fn relatives_and_lists(
        &self,
        people: &[(String, String)],
        last: YearMonth,
        today: NaiveDate,
    ) -> Result<()> {
        let demo = Actor::system("demo");
        // The assistant's own village: the recusal shows on that household's cases.
        let village = "511802001001";
        let neighbours = funerals::demo_village_beneficiaries(self.app.store(), village, 3).await?;
        if let Some((id, name)) = neighbours
            .iter()
            .rev()
            .find(|p| !people.contains(p))
            .or(people.first())
        {
            self.app
                .relatives()
                .declare(
                    &demo,
                    &NewDeclaration {
                        declarant_name: "杨洋".into(),
                        declarant_id_number: "511802198203150011".into(),
                        post: "assistant".into(),
                        username: "assistant".into(),
                        division_code: village.into(),
                        relative_name: name.clone(),
                        relative_id_number: id.clone(),
                        relation: "sibling".into(),
                        note: "村级民政协理员本人申报".into(),
                    },
                    today,
                )
                .await?;
        }
        if let Some((id, name)) = people.last() {
            let csv = format!(
                "身份证号码,姓名,登记日期,号牌号码及车型\n{id},{name},{},川T8A366 小型普通客车\n",
                last.first_day()
            );
            self.app
                .lists()
                .import(
                    &demo,
                    ListKind::Vehicle,
                    today,
                    "车辆登记信息.csv",
                    csv.as_bytes(),
                    today,
                )
                .await?;
        }
        Ok(())
    }
}
