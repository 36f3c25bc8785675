//! The demo's payroll (`serve --demo`): enrolments for the registry's households, and last
//! month paid and reconciled, so the ledger, the review and 退票 have something to show.

use minzheng_domain::payroll::{GenerateRequest, LineFilter};
use minzheng_domain::{Actor, YearMonth};
use minzheng_store::payroll::demo;

use super::Demo;
use crate::Result;

impl Demo<'_> {
    /// The demo's enrolments, when there are none yet: the heads of the first 150 registry
    /// households of 东城街道 and of 西城街道 receive 低保 from January 2026, so the payroll
    /// pages have a month to generate; every enrolled household gets an account. Returns
    /// how many were added.
    pub async fn payroll_enrolments(&self) -> Result<i64> {
        let store = self.app.store();
        if demo::has_enrolments(store).await? {
            return Ok(0);
        }
        let mut tx = store.begin_write().await?;
        let added = demo::enrol_households(&mut tx).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// The demo's payroll history, when there is no batch yet: `month` (the month before
    /// the current one) generated, signed off, exported and reconciled from a return file in
    /// which one line of 东城街道's first batch failed (账户已冻结). The current month is
    /// left for the visitor to generate. Returns the number of batches.
    pub async fn payroll_history(&self, month: YearMonth) -> Result<usize> {
        if demo::any_batch(self.app.store()).await? {
            return Ok(0);
        }
        let demo = Actor::system("demo");
        let payroll = self.app.payroll();
        let files = self.app.bank_files();
        let out = payroll
            .generate(
                &demo,
                &GenerateRequest {
                    month,
                    program: None,
                    within: None,
                },
            )
            .await?;
        let mut failed_one = false;
        for b in &out.created {
            payroll.sign_off(&demo, b.id, None).await?;
            files.export(&demo, b.id, "utf8-csv").await?;
            let (lines, _) = payroll
                .lines(
                    &demo,
                    b.id,
                    &LineFilter {
                        limit: Some(5000),
                        ..Default::default()
                    },
                )
                .await?;
            let mut file = String::from("明细号,金额(分),处理结果,失败原因\n");
            for l in &lines {
                let fail = !failed_one && b.township_code == "511802001";
                failed_one |= fail;
                let (status, reason) = if fail {
                    ("失败", "账户已冻结")
                } else {
                    ("成功", "")
                };
                file.push_str(&format!("{},{},{status},{reason}\n", l.id, l.amount.0));
            }
            files
                .import_return(&demo, b.id, "演示回盘.csv", file.as_bytes())
                .await?;
        }
        Ok(out.created.len())
    }
}
