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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programs::{
        CareCategory, DisabilityCause, LaidOffRegime, ReliefStage, SchoolStage, SupportMode,
        TemporaryKind,
    };

    /// Every field set, each to something other than its default.
    fn full() -> CaseDetails {
        CaseDetails {
            assessment: Some(SelfCareAssessment {
                eating: true,
                dressing: false,
                bed_transfer: true,
                toileting: false,
                indoor_walking: true,
                bathing: false,
            }),
            support_mode: Some(SupportMode::Dispersed),
            temporary_kind: Some(TemporaryKind::Spending),
            assessed_fen: Some(150_050),
            cause: Some("火灾".into()),
            eligible_cost_fen: Some(1_234_567),
            paid_this_year_fen: Some(0),
            school_stage: Some(SchoolStage::JuniorSecondary),
            relief_stage: Some(ReliefStage::WinterSpring),
            disaster_name: Some("2026年7月洪灾".into()),
            laid_off_regime: Some(LaidOffRegime::FortyPercent),
            original_wage_fen: Some(4_500),
            care_category: Some(CareCategory::DisabledServiceman),
            care_grade: Some(10),
            disability_cause: Some(DisabilityCause::Duty),
            rigid_spending_fen: Some(30_001),
        }
    }

    #[test]
    fn the_form_shows_amounts_in_yuan_and_codes_and_reads_them_back() {
        let d = full();
        let form = DetailsForm::from_details(&d);
        assert!(form.assessed && form.eating && !form.dressing && form.indoor_walking);
        assert_eq!(form.support_mode, "dispersed");
        assert_eq!(form.assessed_amount, "1500.50");
        assert_eq!(form.eligible_cost, "12345.67");
        assert_eq!(form.paid_this_year, "0.00");
        assert_eq!(form.original_wage, "45.00");
        assert_eq!(form.rigid_spending, "300.01");
        assert_eq!(form.school_stage, "junior_secondary");
        assert_eq!(form.care_grade, "10");
        assert_eq!(form.disability_cause, "duty");
        assert_eq!(form.to_details(), Ok(d));
        // Nothing given: nothing read, and the form shows empty fields.
        let empty = DetailsForm::from_details(&CaseDetails::default());
        assert_eq!(empty.assessed_amount, "");
        assert_eq!(empty.care_grade, "");
        assert_eq!(empty.support_mode, "");
        assert!(!empty.assessed);
        assert_eq!(empty.to_details(), Ok(CaseDetails::default()));
    }

    #[test]
    fn a_negative_amount_a_grade_out_of_range_and_an_unknown_code_are_refused_by_field() {
        let mut form = DetailsForm::from_details(&full());
        form.assessed_amount = "-1".into();
        form.rigid_spending = "12.345".into();
        form.care_grade = "11".into();
        form.support_mode = "集中".into();
        let e = form.to_details().unwrap_err();
        assert_eq!(
            e.get("assessed_amount"),
            Some("金额格式不对，单位元，最多两位小数")
        );
        assert_eq!(
            e.get("rigid_spending"),
            Some("金额格式不对，单位元，最多两位小数")
        );
        assert_eq!(e.get("care_grade"), Some("残疾等级应为1-10级"));
        assert_eq!(e.get("support_mode"), Some("请从列表中选择"));
        assert_eq!(e.len(), 4, "{e}");
        form = DetailsForm::from_details(&full());
        form.care_grade = "0".into();
        assert_eq!(
            form.to_details().unwrap_err().get("care_grade"),
            Some("残疾等级应为1-10级")
        );
        form.care_grade = "1".into();
        assert_eq!(form.to_details().unwrap().care_grade, Some(1));
        form.assessed_amount = "0".into();
        assert_eq!(form.to_details().unwrap().assessed_fen, Some(0));
    }
}
