//! The columns of the household ledger (台账) in template order, and how their headers
//! are recognised in the spreadsheets offices really keep.

/// The columns of the household ledger, in template order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    HeadId,
    Village,
    RegistrationType,
    Address,
    Phone,
    Bank,
    Account,
    AccountHolder,
    Name,
    IdNumber,
    Relation,
    Counted,
    ExclusionReason,
    DisabilityType,
    DisabilityGrade,
    Health,
    WorkCapacity,
    Employment,
    Status,
    StatusDate,
    WageMonthly,
    BusinessMonthly,
    TransferMonthly,
    OtherAnnual,
    Deposit,
    Vehicle,
    Housing,
}

impl Column {
    pub const ALL: [Column; 27] = [
        Column::HeadId,
        Column::Village,
        Column::RegistrationType,
        Column::Address,
        Column::Phone,
        Column::Bank,
        Column::Account,
        Column::AccountHolder,
        Column::Name,
        Column::IdNumber,
        Column::Relation,
        Column::Counted,
        Column::ExclusionReason,
        Column::DisabilityType,
        Column::DisabilityGrade,
        Column::Health,
        Column::WorkCapacity,
        Column::Employment,
        Column::Status,
        Column::StatusDate,
        Column::WageMonthly,
        Column::BusinessMonthly,
        Column::TransferMonthly,
        Column::OtherAnnual,
        Column::Deposit,
        Column::Vehicle,
        Column::Housing,
    ];

    /// The header written in the template.
    pub fn header(self) -> &'static str {
        match self {
            Column::HeadId => "户主身份证号",
            Column::Village => "村(社区)代码",
            Column::RegistrationType => "户籍类型",
            Column::Address => "家庭住址",
            Column::Phone => "联系电话",
            Column::Bank => "开户银行",
            Column::Account => "银行账号",
            Column::AccountHolder => "账户户名",
            Column::Name => "姓名",
            Column::IdNumber => "身份证号",
            Column::Relation => "与户主关系",
            Column::Counted => "是否共同生活成员",
            Column::ExclusionReason => "不计入原因",
            Column::DisabilityType => "残疾类别",
            Column::DisabilityGrade => "残疾等级",
            Column::Health => "健康状况",
            Column::WorkCapacity => "劳动能力",
            Column::Employment => "就业状况",
            Column::Status => "人员状态",
            Column::StatusDate => "状态变更日期",
            Column::WageMonthly => "月工资性收入(元)",
            Column::BusinessMonthly => "月经营净收入(元)",
            Column::TransferMonthly => "月转移净收入(元)",
            Column::OtherAnnual => "年其他收入(元)",
            Column::Deposit => "存款(元)",
            Column::Vehicle => "车辆价值(元)",
            Column::Housing => "房产价值(元)",
        }
    }

    /// Whether a ledger must have this column.
    pub fn required(self) -> bool {
        matches!(
            self,
            Column::HeadId | Column::Village | Column::Name | Column::IdNumber | Column::Relation
        )
    }

    /// A short note for the template's notes row.
    pub fn note(self) -> &'static str {
        match self {
            Column::HeadId => "必填；同一户各行相同，用于分户",
            Column::Village => "必填；12位统计用区划代码",
            Column::RegistrationType => "户主行填写：城镇/农村",
            Column::Name => "必填",
            Column::IdNumber => "必填；18位，请设置为文本格式",
            Column::Relation => "必填；每户一行“户主”",
            Column::Counted => "是/否，默认是",
            Column::ExclusionReason => "不计入时必填",
            Column::DisabilityGrade => "1-4级",
            Column::StatusDate => "迁出或死亡时填写，如2024-01-05",
            Column::WageMonthly
            | Column::BusinessMonthly
            | Column::TransferMonthly
            | Column::OtherAnnual
            | Column::Deposit
            | Column::Vehicle
            | Column::Housing => "金额，单位元，最多两位小数",
            _ => "户主行填写",
        }
    }

    /// Spellings seen in real ledgers, compared after [`normalize_header`].
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::HeadId => &[
                "户主身份证号",
                "户主身份证号码",
                "户主公民身份号码",
                "户主证件号码",
                "户主身份证",
            ],
            Column::Village => &[
                "村(社区)代码",
                "村社区代码",
                "村代码",
                "社区代码",
                "区划代码",
                "村(居)代码",
                "所属村(社区)代码",
            ],
            Column::RegistrationType => &["户籍类型", "户口性质", "户籍性质", "户口类型"],
            Column::Address => &["家庭住址", "住址", "家庭地址", "居住地址", "现住址"],
            Column::Phone => &["联系电话", "电话", "手机号", "手机号码", "联系方式"],
            Column::Bank => &["开户银行", "开户行", "银行名称"],
            Column::Account => &["银行账号", "银行卡号", "账号", "社保卡号", "一卡通账号"],
            Column::AccountHolder => &["账户户名", "户名", "开户人", "持卡人"],
            Column::Name => &["姓名", "成员姓名", "家庭成员姓名"],
            Column::IdNumber => &[
                "身份证号",
                "身份证号码",
                "公民身份号码",
                "公民身份证号码",
                "证件号码",
                "成员身份证号",
                "身份证",
            ],
            Column::Relation => &["与户主关系", "与户主的关系", "关系", "家庭关系"],
            Column::Counted => &[
                "是否共同生活成员",
                "是否共同生活家庭成员",
                "共同生活成员",
                "是否计入",
            ],
            Column::ExclusionReason => &["不计入原因", "不计入共同生活成员原因", "排除原因"],
            Column::DisabilityType => &["残疾类别", "残疾类型"],
            Column::DisabilityGrade => &["残疾等级", "残疾级别"],
            Column::Health => &["健康状况", "健康状态"],
            Column::WorkCapacity => &["劳动能力"],
            Column::Employment => &["就业状况", "就业情况", "职业"],
            Column::Status => &["人员状态", "状态"],
            Column::StatusDate => &["状态变更日期", "变更日期", "迁出或死亡日期"],
            Column::WageMonthly => &["月工资性收入(元)", "工资性收入", "月工资性收入"],
            Column::BusinessMonthly => &["月经营净收入(元)", "经营净收入", "月经营净收入"],
            Column::TransferMonthly => &["月转移净收入(元)", "转移净收入", "月转移净收入"],
            Column::OtherAnnual => &["年其他收入(元)", "其他收入", "年其他收入"],
            Column::Deposit => &["存款(元)", "存款", "存款金额"],
            Column::Vehicle => &["车辆价值(元)", "车辆", "车辆价值"],
            Column::Housing => &["房产价值(元)", "房产", "房产价值"],
        }
    }

    /// Which column a header cell names, if any.
    pub fn match_header(raw: &str) -> Option<Column> {
        let h = normalize_header(raw);
        if h.is_empty() {
            return None;
        }
        Column::ALL
            .into_iter()
            .find(|c| c.aliases().iter().any(|a| normalize_header(a) == h))
    }
}

/// Header text without spaces, required-markers (`*`, `（必填）`), line breaks and with
/// full-width brackets made ASCII.
pub fn normalize_header(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '*' && *c != '＊' && *c != '\u{feff}')
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c,
        })
        .collect();
    for tail in ["(必填)", "(选填)"] {
        if let Some(stripped) = s.strip_suffix(tail) {
            s = stripped.to_string();
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_common_variants() {
        assert_eq!(Column::match_header("身份证号码"), Some(Column::IdNumber));
        assert_eq!(Column::match_header("公民身份号码"), Some(Column::IdNumber));
        assert_eq!(Column::match_header(" *姓 名（必填）"), Some(Column::Name));
        assert_eq!(
            Column::match_header("村（社区）代码"),
            Some(Column::Village)
        );
        assert_eq!(Column::match_header("户主身份证号码"), Some(Column::HeadId));
        assert_eq!(Column::match_header("备注"), None);
        assert_eq!(Column::match_header(""), None);
        for c in Column::ALL {
            assert_eq!(Column::match_header(c.header()), Some(c), "{c:?}");
        }
        assert_eq!(Column::match_header("＊姓名"), Some(Column::Name));
        assert_eq!(
            Column::match_header("\u{feff}户主身份证号"),
            Some(Column::HeadId)
        );
        assert_eq!(
            Column::match_header("家庭住址（选填）"),
            Some(Column::Address)
        );
        assert_eq!(normalize_header(" *银行\n账号（必填）"), "银行账号");
    }

    #[test]
    fn the_template_requires_the_columns_that_place_a_person_and_notes_each() {
        let required: Vec<Column> = Column::ALL.into_iter().filter(|c| c.required()).collect();
        assert_eq!(
            required,
            [
                Column::HeadId,
                Column::Village,
                Column::Name,
                Column::IdNumber,
                Column::Relation
            ]
        );
        for (c, note) in [
            (Column::HeadId, "必填；同一户各行相同，用于分户"),
            (Column::Village, "必填；12位统计用区划代码"),
            (Column::RegistrationType, "户主行填写：城镇/农村"),
            (Column::Name, "必填"),
            (Column::IdNumber, "必填；18位，请设置为文本格式"),
            (Column::Relation, "必填；每户一行“户主”"),
            (Column::Counted, "是/否，默认是"),
            (Column::ExclusionReason, "不计入时必填"),
            (Column::DisabilityGrade, "1-4级"),
            (Column::StatusDate, "迁出或死亡时填写，如2024-01-05"),
            (Column::WageMonthly, "金额，单位元，最多两位小数"),
            (Column::Housing, "金额，单位元，最多两位小数"),
            (Column::Address, "户主行填写"),
        ] {
            assert_eq!(c.note(), note, "{c:?}");
        }
    }
}
