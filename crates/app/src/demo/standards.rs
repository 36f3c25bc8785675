//! Demo data for office standardization: a handful of offices in every state, so the city
//! console shows compliant, partial, overdue, under inspection, failed and subsidized offices.
//! Everything goes through the use cases (the roster through approved staff changes).

use chrono::NaiveDate;
use minzheng_domain::standards::{
    NewEquipment, NewInspection, NewInvestment, NewPlan, NewPostedRule, NewRectification, NewRoom,
    NewStaffChange, ProfileUpdate, ScoreInput, Thresholds,
};
use minzheng_domain::Actor;

use super::Demo;
use crate::Result;

/// The demo's plan deadline (the plan's "4月底前", moved to the demo year).
const DEADLINE: (i32, u32, u32) = (2026, 4, 30);

/// The day the demo's standardization story has reached (its last inspection opens then).
/// The offices are evaluated, and the inspections opened and decided, as of this day, so
/// what is seeded does not depend on the day the demo is seeded.
const STORY_DAY: (i32, u32, u32) = (2026, 11, 20);

/// The demo's system actor and the day its story has reached.
struct Seed<'a> {
    demo: &'a Demo<'a>,
    sys: Actor,
    as_of: NaiveDate,
}

impl Seed<'_> {
    async fn profile(
        &self,
        code: &str,
        pop: i64,
        kind: &str,
        street: bool,
        boards: bool,
    ) -> Result<()> {
        self.demo
            .app
            .standards()
            .update_profile(
                &self.sys,
                code,
                &ProfileUpdate {
                    population: Some(pop),
                    kind: Some(kind.into()),
                    city_street: street,
                    contact_name: "办公室".into(),
                    contact_phone: "0835-2220000".into(),
                    signage: "门牌、两块牌子已悬挂".into(),
                    policy_board: Some(true),
                    notice_board: Some(boards),
                    archives_organized: Some(boards),
                },
            )
            .await
            .map(|_| ())
    }

    async fn hire(&self, code: &str, name: &str, director: bool, doc: &str) -> Result<()> {
        let s = self.demo.app.standards();
        let c = s
            .file_change(
                &self.sys,
                code,
                &NewStaffChange {
                    kind: "appoint".into(),
                    name: name.into(),
                    position: if director {
                        "民政办主任"
                    } else {
                        "民政专职工作人员"
                    }
                    .into(),
                    is_director: director,
                    full_time: true,
                    effective_on: "2026-02-01".into(),
                    doc_number: doc.into(),
                    doc_date: Some("2026-01-20".into()),
                    ..Default::default()
                },
            )
            .await?;
        s.decide_change(&self.sys, c.id, true, "同意")
            .await
            .map(|_| ())
    }

    async fn rooms(&self, code: &str, rooms: &[(&str, &str, bool)]) -> Result<()> {
        for (kind, area, shared) in rooms {
            self.demo
                .app
                .standards()
                .add_room(
                    &self.sys,
                    code,
                    &NewRoom {
                        kind: (*kind).into(),
                        area_m2: (*area).into(),
                        shared_hall: *shared,
                        note: String::new(),
                    },
                )
                .await?;
        }
        Ok(())
    }

    async fn equipment(&self, code: &str, staff: i64, cabinets: i64) -> Result<()> {
        for (kind, count) in [
            ("computer", staff),
            ("printer", 1),
            ("phone", 1),
            ("copier", 1),
            ("camera", 1),
            ("air-conditioner", 2),
            ("archive-cabinet", cabinets),
            ("desk-chair", staff),
            ("visitor-seating", 6),
        ] {
            self.demo
                .app
                .standards()
                .add_equipment(
                    &self.sys,
                    code,
                    &NewEquipment {
                        kind: kind.into(),
                        count,
                        dedicated: true,
                        note: String::new(),
                    },
                )
                .await?;
        }
        Ok(())
    }

    /// An assistant for every village of the township but the last `skip`.
    async fn all_assistants(&self, code: &str, skip: usize) -> Result<()> {
        let s = self.demo.app.standards();
        let villages = s.office(&self.sys, code, self.as_of).await?.assistants;
        let n = villages.len().saturating_sub(skip);
        for (i, v) in villages.iter().take(n).enumerate() {
            s.set_village_assistant(&self.sys, &v.village_code, &format!("协理员{}", i + 1), "")
                .await?;
        }
        Ok(())
    }

    async fn posted(&self, code: &str) -> Result<()> {
        for title in ["民政办工作职责", "城乡低保申请办理流程", "首问负责制"]
        {
            self.demo
                .app
                .standards()
                .add_posted_rule(
                    &self.sys,
                    code,
                    &NewPostedRule {
                        title: title.into(),
                        posted_on: "2026-03-01".into(),
                    },
                )
                .await?;
        }
        Ok(())
    }

    async fn plan(&self, code: &str, review: Option<bool>) -> Result<()> {
        let s = self.demo.app.standards();
        s.submit_plan(
            &self.sys,
            code,
            &NewPlan {
                items:
                    "一、改造办公室、接待室、档案室；二、购置电脑、档案柜；三、制作宣传栏和公示栏"
                        .into(),
                budget: "120000".into(),
                timeline: "2026年5月动工，9月完成".into(),
            },
        )
        .await?;
        match review {
            Some(true) => s.review_plan(&self.sys, code, true, "同意").await,
            Some(false) => {
                s.review_plan(&self.sys, code, false, "预算明细不全，请补充后重新报送")
                    .await
            }
            None => Ok(()),
        }
    }

    async fn invest(&self, code: &str, items: &[(&str, &str)]) -> Result<()> {
        for (i, (item, amount)) in items.iter().enumerate() {
            self.demo
                .app
                .standards()
                .add_investment(
                    &self.sys,
                    code,
                    &NewInvestment {
                        spent_on: format!("2026-0{}-15", 6 + i),
                        item: (*item).into(),
                        amount: (*amount).into(),
                        doc_number: format!("雨财拨〔2026〕{}号", 10 + i),
                    },
                )
                .await?;
        }
        Ok(())
    }

    /// A complete, compliant office (staff per its size).
    async fn complete(
        &self,
        code: &str,
        pop: i64,
        kind: &str,
        street: bool,
        staff: usize,
    ) -> Result<()> {
        self.profile(code, pop, kind, street, true).await?;
        for i in 0..staff {
            self.hire(
                code,
                &format!("工作人员{}", i + 1),
                i == 0,
                "雨府办〔2026〕8号",
            )
            .await?;
        }
        self.rooms(
            code,
            &[
                ("office", "30", false),
                ("reception", "18", false),
                ("archive", "15", false),
            ],
        )
        .await?;
        self.equipment(code, staff as i64, 3).await?;
        self.all_assistants(code, 0).await?;
        self.posted(code).await
    }

    async fn inspect(&self, code: &str, inspectors: &str, on: &str) -> Result<i64> {
        self.demo
            .app
            .standards()
            .open_inspection(
                &self.sys,
                code,
                &NewInspection {
                    inspectors: inspectors.into(),
                    inspected_on: on.into(),
                },
                self.as_of,
            )
            .await
    }
}

impl Demo<'_> {
    /// Seeds the standardization demo (once, when the demo city is first seeded).
    pub async fn standards(&self) -> Result<()> {
        let d = Seed {
            demo: self,
            sys: Actor::system("demo"),
            as_of: NaiveDate::from_ymd_opt(STORY_DAY.0, STORY_DAY.1, STORY_DAY.2)
                .expect("valid date"),
        };
        let s = self.app.standards();
        s.set_params(
            &d.sys,
            &Thresholds::plan_2011(),
            NaiveDate::from_ymd_opt(DEADLINE.0, DEADLINE.1, DEADLINE.2),
        )
        .await?;

        // 东城街道: a city street office, complete, plan accepted, investments recorded —
        // ready for acceptance (the demo's walk-through inspects it).
        let dc = "511802001";
        d.complete(dc, 32_000, "jiedao", true, 4).await?;
        d.rooms(
            dc,
            &[
                ("service-hall", "26", true),
                ("supplies-store", "15", false),
            ],
        )
        .await?;
        d.plan(dc, Some(true)).await?;
        d.invest(
            dc,
            &[("办公用房改造", "68000.00"), ("办公设备购置", "23456.78")],
        )
        .await?;

        // 西城街道: partial — one staff member short of the street rule, 59.9 m², a pending
        // staff change, plan submitted and awaiting review.
        let xc = "511802002";
        d.profile(xc, 18_500, "jiedao", true, false).await?;
        for i in 0..3 {
            d.hire(
                xc,
                &format!("西城工作人员{}", i + 1),
                i == 0,
                "雨府办〔2026〕9号",
            )
            .await?;
        }
        d.rooms(
            xc,
            &[
                ("office", "29.9", false),
                ("reception", "15", false),
                ("archive", "15", false),
            ],
        )
        .await?;
        d.equipment(xc, 3, 1).await?;
        d.all_assistants(xc, 2).await?;
        s.file_change(
            &d.sys,
            xc,
            &NewStaffChange {
                kind: "appoint".into(),
                name: "周敏".into(),
                position: "民政专职工作人员".into(),
                full_time: true,
                effective_on: "2026-11-01".into(),
                doc_number: "雨西办〔2026〕21号".into(),
                doc_date: Some("2026-10-25".into()),
                reason: "按市区街道不少于4名的标准补充人员".into(),
                ..Default::default()
            },
        )
        .await?;
        d.plan(xc, None).await?;

        // 河北街道: passed acceptance, subsidy paid.
        let hb = "511802003";
        d.complete(hb, 12_000, "jiedao", false, 2).await?;
        d.plan(hb, Some(true)).await?;
        d.invest(hb, &[("办公用房改造", "50000"), ("宣传栏、公示栏", "8000")])
            .await?;
        let id = d.inspect(hb, "王建国、李秀英", "2026-10-10").await?;
        let insp = s.inspection(&d.sys, id).await?;
        let manual: Vec<ScoreInput> = insp
            .items
            .iter()
            .filter(|i| i.rule_id.is_none())
            .map(|i| ScoreInput {
                id: i.id,
                score: i.max_score - 1,
                note: String::new(),
            })
            .collect();
        s.score(&d.sys, id, &manual).await?;
        s.decide_inspection(&d.sys, id, true, "规范化建设达到要求，同意验收。", d.as_of)
            .await?;
        if let Some(sub) = s.subsidy_of_inspection(&d.sys, id).await? {
            s.disburse(&d.sys, sub.id, "2026-11-05").await?;
        }

        // 青江街道: failed, with rectification items; plan returned.
        let qj = "511802004";
        d.profile(qj, 21_000, "jiedao", false, false).await?;
        d.hire(qj, "青江工作人员1", true, "雨青办〔2026〕3号")
            .await?;
        d.rooms(qj, &[("office", "20", false), ("reception", "12", false)])
            .await?;
        d.plan(qj, Some(false)).await?;
        let id = d.inspect(qj, "王建国", "2026-10-12").await?;
        for item in [
            "增设档案室，三室总面积达到60平方米",
            "补齐专职工作人员并以红头文件确认",
        ] {
            s.add_rectification(
                &d.sys,
                id,
                &NewRectification {
                    item: item.into(),
                    due_on: "2026-12-31".into(),
                },
            )
            .await?;
        }
        s.decide_inspection(
            &d.sys,
            id,
            false,
            "人员、场地均未达标，限期整改后复查。",
            d.as_of,
        )
        .await?;

        // 大兴街道: inspection under way.
        let dx = "511802005";
        d.complete(dx, 15_000, "jiedao", false, 2).await?;
        d.plan(dx, Some(true)).await?;
        d.invest(dx, &[("档案柜、办公桌椅", "16800")]).await?;
        d.inspect(dx, "王建国", "2026-11-20").await?;

        // 草坝镇: profile only, plan submitted. Everyone else: nothing yet (overdue).
        let cb = "511802101";
        d.profile(cb, 26_000, "zhen", false, true).await?;
        d.plan(cb, None).await?;
        Ok(())
    }
}
