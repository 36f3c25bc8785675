//! The coded words of the registry: each a [`coded_enum!`](crate::coded_enum) (a stored
//! code and a Chinese label), plus the other spellings clerks type into spreadsheets.

/// Declares a registry word: a [`coded_enum!`](crate::coded_enum) whose input may also be
/// its label or one of the listed spellings.
macro_rules! registry_word {
    ($(#[$m:meta])* $name:ident { $($var:ident = $code:literal, $label:literal $(| $alias:literal)*;)* }) => {
        crate::coded_enum! {
            $(#[$m])*
            pub enum $name { $($var = ($code, $label)),* }
        }

        impl $name {
            /// Accepts the code, the label or a common variant (spaces ignored).
            pub fn parse_input(s: &str) -> Option<$name> {
                // Inner spaces are ignored; most cells have none and are compared in place.
                let spaced: String;
                let t: &str = if s.chars().any(char::is_whitespace) {
                    spaced = s.chars().filter(|c| !c.is_whitespace()).collect();
                    &spaced
                } else {
                    s
                };
                $(
                    if t == $code || t == $label $(|| t == $alias)* {
                        return Some($name::$var);
                    }
                )*
                None
            }

            /// Parses a stored code (falls back to the first variant for unknown codes,
            /// which only a hand-edited database can contain).
            pub fn from_code(s: &str) -> $name {
                Self::parse(s).unwrap_or(Self::ALL[0])
            }

            /// The labels, for messages ("可选：…").
            pub fn choices() -> String {
                Self::ALL.iter().map(|v| v.label()).collect::<Vec<_>>().join("、")
            }
        }
    };
}

registry_word!(
    /// 户籍类型.
    RegistrationType {
        Urban = "urban", "城镇" | "城镇户籍" | "非农业" | "非农业户口" | "城镇户口";
        Rural = "rural", "农村" | "农村户籍" | "农业" | "农业户口" | "农村户口";
    }
);

registry_word!(
    /// 户状态.
    HouseholdStatus {
        Active = "active", "正常";
        Closed = "closed", "已注销" | "注销";
    }
);

registry_word!(
    /// 与户主关系.
    Relation {
        Head = "head", "户主" | "本人";
        Spouse = "spouse", "配偶" | "妻" | "夫" | "妻子" | "丈夫";
        Child = "child", "子女" | "子" | "女" | "儿子" | "女儿" | "长子" | "次子" | "长女" | "次女";
        Parent = "parent", "父母" | "父亲" | "母亲" | "父" | "母";
        Grandchild = "grandchild", "孙子女" | "孙子" | "孙女" | "外孙子" | "外孙女" | "外孙";
        Grandparent = "grandparent", "祖父母" | "祖父" | "祖母" | "外祖父" | "外祖母";
        Sibling = "sibling", "兄弟姐妹" | "兄" | "弟" | "姐" | "妹" | "兄弟" | "姐妹";
        ChildInLaw = "child_in_law", "儿媳/女婿" | "儿媳" | "女婿";
        Other = "other", "其他";
    }
);

registry_word!(
    /// 不计入共同生活家庭成员的原因（《最低生活保障审核确认办法》所列情形，及省级民政部门
    /// 规定的其他情形）.
    ExclusionReason {
        Clergy = "clergy", "宗教教职人员" | "宗教教职人员连续三年以上脱离家庭";
        Prison = "prison", "服刑人员" | "在监狱服刑";
        DrugRehab = "drug_rehab", "强制隔离戒毒";
        Missing = "missing", "宣告失踪";
        Conscript = "conscript", "现役义务兵";
        Other = "other", "其他(省规定)" | "其他";
    }
);

registry_word!(
    /// 残疾类别.
    DisabilityType {
        None = "none", "无" | "非残疾";
        Visual = "visual", "视力残疾" | "视力";
        Hearing = "hearing", "听力残疾" | "听力";
        Speech = "speech", "言语残疾" | "言语";
        Physical = "physical", "肢体残疾" | "肢体";
        Intellectual = "intellectual", "智力残疾" | "智力";
        Mental = "mental", "精神残疾" | "精神";
        Multiple = "multiple", "多重残疾" | "多重";
    }
);

registry_word!(
    /// 健康状况.
    Health {
        Healthy = "healthy", "健康" | "良好";
        Chronic = "chronic", "慢性病" | "患有慢性病";
        Serious = "serious", "重特大疾病" | "大病" | "重病";
        Disabled = "disabled", "残疾";
    }
);

registry_word!(
    /// 劳动能力.
    WorkCapacity {
        Full = "full", "有劳动能力" | "有" | "普通劳动力" | "完全劳动能力";
        Partial = "partial", "部分丧失劳动能力" | "部分丧失" | "弱劳动力";
        None = "none", "无劳动能力" | "完全丧失劳动能力" | "丧失劳动能力" | "无";
    }
);

registry_word!(
    /// 就业状况.
    Employment {
        Employed = "employed", "在业" | "就业" | "务工" | "外出务工" | "在职";
        Farming = "farming", "务农";
        Unemployed = "unemployed", "失业" | "无业" | "待业";
        Student = "student", "在校学生" | "学生" | "在校生";
        Preschool = "preschool", "学龄前儿童" | "学龄前";
        Retired = "retired", "离退休" | "退休";
        Other = "other", "其他";
    }
);

registry_word!(
    /// 人员状态.
    PersonStatus {
        Active = "active", "正常" | "在册";
        MovedOut = "moved_out", "迁出" | "已迁出";
        Deceased = "deceased", "死亡" | "已死亡" | "去世";
    }
);

registry_word!(
    /// 收入类型.
    IncomeKind {
        Wage = "wage", "工资性收入" | "工资";
        Business = "business", "经营净收入" | "经营";
        Property = "property", "财产净收入" | "财产";
        Transfer = "transfer", "转移净收入" | "转移";
        Other = "other", "其他收入" | "其他";
    }
);

registry_word!(
    /// 收入周期.
    IncomePeriod {
        Monthly = "monthly", "每月" | "月" | "按月";
        Annual = "annual", "每年" | "年" | "按年";
    }
);

registry_word!(
    /// 资产类型.
    AssetKind {
        Deposit = "deposit", "存款" | "银行存款";
        Vehicle = "vehicle", "车辆" | "机动车";
        Housing = "housing", "房产" | "住房";
        Other = "other", "其他资产" | "其他";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coded_fields_accept_labels_codes_and_variants() {
        assert_eq!(Relation::parse_input("户主"), Some(Relation::Head));
        assert_eq!(Relation::parse_input("长子"), Some(Relation::Child));
        assert_eq!(Relation::parse_input("child"), Some(Relation::Child));
        assert_eq!(Relation::parse_input("邻居"), None);
        assert_eq!(
            RegistrationType::parse_input("农业户口"),
            Some(RegistrationType::Rural)
        );
        assert_eq!(
            PersonStatus::parse_input(" 死 亡 "),
            Some(PersonStatus::Deceased)
        );
        assert!(Relation::choices().contains("配偶"));
    }

    #[test]
    fn stored_codes_and_json_are_unchanged() {
        assert_eq!(Relation::ChildInLaw.as_str(), "child_in_law");
        assert_eq!(
            serde_json::to_string(&PersonStatus::MovedOut).unwrap(),
            "\"moved_out\""
        );
        assert_eq!(ExclusionReason::DrugRehab.to_string(), "强制隔离戒毒");
        assert_eq!(Health::from_code("nonsense"), Health::Healthy);
    }
}
