//! The program-specific inputs of an application as a form types them (amounts in yuan,
//! choices as codes), and back.

use std::collections::BTreeMap;

use crate::calculators::SelfCareAssessment;
use crate::case_calc::CaseDetails;
use crate::{Fen, FieldErrors};

/// The program-specific inputs as typed on a form (amounts in yuan).
#[derive(Debug, Clone, Default)]
pub struct DetailsForm {
    pub assessed: bool,
    pub eating: bool,
    pub dressing: bool,
    pub bed_transfer: bool,
    pub toileting: bool,
    pub indoor_walking: bool,
    pub bathing: bool,
    pub support_mode: String,
    pub temporary_kind: String,
    pub assessed_amount: String,
    pub cause: String,
    pub eligible_cost: String,
    pub paid_this_year: String,
    pub school_stage: String,
    pub relief_stage: String,
    pub disaster_name: String,
    pub laid_off_regime: String,
    pub original_wage: String,
    pub care_category: String,
    pub care_grade: String,
    pub disability_cause: String,
    pub rigid_spending: String,
}

fn yuan_text(f: Option<i64>) -> String {
    f.map(|f| Fen(f).yuan_string()).unwrap_or_default()
}

/// The summary above a details form with problems.
pub const DETAILS_PROBLEM: &str = "请检查标出的项目";

impl DetailsForm {
    pub fn from_details(d: &CaseDetails) -> Self {
        let a = d.assessment.unwrap_or_default();
        let code = |s: Option<&'static str>| s.unwrap_or("").to_string();
        DetailsForm {
            assessed: d.assessment.is_some(),
            eating: a.eating,
            dressing: a.dressing,
            bed_transfer: a.bed_transfer,
            toileting: a.toileting,
            indoor_walking: a.indoor_walking,
            bathing: a.bathing,
            support_mode: code(d.support_mode.map(|x| x.as_str())),
            temporary_kind: code(d.temporary_kind.map(|x| x.as_str())),
            assessed_amount: yuan_text(d.assessed_fen),
            cause: d.cause.clone().unwrap_or_default(),
            eligible_cost: yuan_text(d.eligible_cost_fen),
            paid_this_year: yuan_text(d.paid_this_year_fen),
            school_stage: code(d.school_stage.map(|x| x.as_str())),
            relief_stage: code(d.relief_stage.map(|x| x.as_str())),
            disaster_name: d.disaster_name.clone().unwrap_or_default(),
            laid_off_regime: code(d.laid_off_regime.map(|x| x.as_str())),
            original_wage: yuan_text(d.original_wage_fen),
            care_category: code(d.care_category.map(|x| x.as_str())),
            care_grade: d.care_grade.map(|g| g.to_string()).unwrap_or_default(),
            disability_cause: code(d.disability_cause.map(|x| x.as_str())),
            rigid_spending: yuan_text(d.rigid_spending_fen),
        }
    }

    /// The details, or the per-field messages.
    pub fn to_details(&self) -> Result<CaseDetails, FieldErrors> {
        let mut fe = BTreeMap::new();
        fn code<T: std::str::FromStr>(
            v: &str,
            field: &str,
            fe: &mut BTreeMap<String, String>,
        ) -> Option<T> {
            if v.is_empty() {
                return None;
            }
            match v.parse() {
                Ok(x) => Some(x),
                Err(_) => {
                    fe.insert(field.into(), "请从列表中选择".into());
                    None
                }
            }
        }
        let mut money = |v: &str, field: &str| -> Option<i64> {
            if v.is_empty() {
                return None;
            }
            match Fen::parse_yuan(v) {
                Ok(f) if !f.is_negative() => Some(f.0),
                _ => {
                    fe.insert(field.into(), "金额格式不对，单位元，最多两位小数".into());
                    None
                }
            }
        };
        let assessed_fen = money(&self.assessed_amount, "assessed_amount");
        let eligible_cost_fen = money(&self.eligible_cost, "eligible_cost");
        let paid_this_year_fen = money(&self.paid_this_year, "paid_this_year");
        let original_wage_fen = money(&self.original_wage, "original_wage");
        let rigid_spending_fen = money(&self.rigid_spending, "rigid_spending");
        let care_grade = match self.care_grade.as_str() {
            "" => None,
            g => match g.parse::<u8>() {
                Ok(g) if (1..=10).contains(&g) => Some(g),
                _ => {
                    fe.insert("care_grade".into(), "残疾等级应为1-10级".into());
                    None
                }
            },
        };
        let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let d = CaseDetails {
            assessment: self.assessed.then_some(SelfCareAssessment {
                eating: self.eating,
                dressing: self.dressing,
                bed_transfer: self.bed_transfer,
                toileting: self.toileting,
                indoor_walking: self.indoor_walking,
                bathing: self.bathing,
            }),
            support_mode: code(&self.support_mode, "support_mode", &mut fe),
            temporary_kind: code(&self.temporary_kind, "temporary_kind", &mut fe),
            assessed_fen,
            cause: text(&self.cause),
            eligible_cost_fen,
            paid_this_year_fen,
            school_stage: code(&self.school_stage, "school_stage", &mut fe),
            relief_stage: code(&self.relief_stage, "relief_stage", &mut fe),
            disaster_name: text(&self.disaster_name),
            laid_off_regime: code(&self.laid_off_regime, "laid_off_regime", &mut fe),
            original_wage_fen,
            care_category: code(&self.care_category, "care_category", &mut fe),
            care_grade,
            disability_cause: code(&self.disability_cause, "disability_cause", &mut fe),
            rigid_spending_fen,
        };
        let mut errors = FieldErrors::new();
        for (k, m) in fe {
            errors.add(&k, m);
        }
        errors.finish().map(|()| d)
    }
}
