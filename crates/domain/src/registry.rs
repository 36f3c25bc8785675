//! 户籍台账 — the pure rules of the household registry: coded fields with their Chinese
//! labels, ID-number clean-up of spreadsheet input, flexible date parsing, header matching
//! for imported ledgers, pinyin keys for search, and the checks that need a whole household.

use chrono::{Datelike, Duration, NaiveDate};

/// Declares a coded field: a stored code (ASCII), a Chinese label, and the extra spellings
/// clerks type into spreadsheets.
macro_rules! coded {
    ($(#[$m:meta])* $name:ident { $($var:ident = $code:literal, $label:literal $(| $alias:literal)*;)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($var),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$var),*];
            /// The code stored in the database and used by the API.
            pub fn code(self) -> &'static str {
                match self { $($name::$var => $code),* }
            }
            /// The Chinese label shown to users and written into ledgers.
            pub fn label(self) -> &'static str {
                match self { $($name::$var => $label),* }
            }
            /// Accepts the code, the label or a common variant (spaces ignored).
            pub fn parse(s: &str) -> Option<$name> {
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

coded!(
    /// 户籍类型.
    RegistrationType {
        Urban = "urban", "城镇" | "城镇户籍" | "非农业" | "非农业户口" | "城镇户口";
        Rural = "rural", "农村" | "农村户籍" | "农业" | "农业户口" | "农村户口";
    }
);

coded!(
    /// 户状态.
    HouseholdStatus {
        Active = "active", "正常";
        Closed = "closed", "已注销" | "注销";
    }
);

coded!(
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

coded!(
    /// 不计入共同生活家庭成员的原因 (DOMAIN §2.2).
    ExclusionReason {
        Clergy = "clergy", "宗教教职人员" | "宗教教职人员连续三年以上脱离家庭";
        Prison = "prison", "服刑人员" | "在监狱服刑";
        DrugRehab = "drug_rehab", "强制隔离戒毒";
        Missing = "missing", "宣告失踪";
        Conscript = "conscript", "现役义务兵";
        Other = "other", "其他(省规定)" | "其他";
    }
);

coded!(
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

coded!(
    /// 健康状况.
    Health {
        Healthy = "healthy", "健康" | "良好";
        Chronic = "chronic", "慢性病" | "患有慢性病";
        Serious = "serious", "重特大疾病" | "大病" | "重病";
        Disabled = "disabled", "残疾";
    }
);

coded!(
    /// 劳动能力.
    WorkCapacity {
        Full = "full", "有劳动能力" | "有" | "普通劳动力" | "完全劳动能力";
        Partial = "partial", "部分丧失劳动能力" | "部分丧失" | "弱劳动力";
        None = "none", "无劳动能力" | "完全丧失劳动能力" | "丧失劳动能力" | "无";
    }
);

coded!(
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

coded!(
    /// 人员状态.
    PersonStatus {
        Active = "active", "正常" | "在册";
        MovedOut = "moved_out", "迁出" | "已迁出";
        Deceased = "deceased", "死亡" | "已死亡" | "去世";
    }
);

coded!(
    /// 收入类型.
    IncomeKind {
        Wage = "wage", "工资性收入" | "工资";
        Business = "business", "经营净收入" | "经营";
        Property = "property", "财产净收入" | "财产";
        Transfer = "transfer", "转移净收入" | "转移";
        Other = "other", "其他收入" | "其他";
    }
);

coded!(
    /// 收入周期.
    IncomePeriod {
        Monthly = "monthly", "每月" | "月" | "按月";
        Annual = "annual", "每年" | "年" | "按年";
    }
);

coded!(
    /// 资产类型.
    AssetKind {
        Deposit = "deposit", "存款" | "银行存款";
        Vehicle = "vehicle", "车辆" | "机动车";
        Housing = "housing", "房产" | "住房";
        Other = "other", "其他资产" | "其他";
    }
);

/// Parses "是/否" cells.
pub fn parse_yes_no(s: &str) -> Option<bool> {
    match s.trim() {
        "是" | "Y" | "y" | "yes" | "1" | "√" | "true" => Some(true),
        "否" | "N" | "n" | "no" | "0" | "×" | "false" => Some(false),
        _ => None,
    }
}

/// Cleans an ID number as clerks type it into spreadsheets: full-width digits and `Ｘ`
/// become ASCII, spaces of any width and a leading apostrophe (Excel's "text" marker) are
/// dropped. Refuses a number that Excel turned into scientific notation, because its last
/// digits are already lost and only re-entering them as text can recover them.
pub fn normalize_id_input(s: &str) -> Result<String, String> {
    // Most numbers arrive clean: 17 digits and a digit or X.
    let b = s.as_bytes();
    if b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
    {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(18);
    for c in s.chars() {
        match c {
            '０'..='９' => out.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            'Ｘ' | 'ｘ' => out.push('X'),
            '\'' | '‘' | '’' if out.is_empty() => {}
            c if c.is_whitespace() || c == '\u{3000}' || c == '\u{feff}' => {}
            c => out.push(c),
        }
    }
    if looks_scientific(&out) {
        return Err(format!(
            "身份证号码被Excel存成了数字（{out}），后几位已经丢失：请把该列设置为“文本”格式后重新录入号码"
        ));
    }
    Ok(out)
}

fn looks_scientific(s: &str) -> bool {
    if !s.bytes().any(|b| b == b'e' || b == b'E') {
        return false;
    }
    let up = s.to_ascii_uppercase();
    match up.split_once('E') {
        Some((m, e)) => {
            !m.is_empty()
                && m.chars().all(|c| c.is_ascii_digit() || c == '.')
                && m.contains('.')
                && e.trim_start_matches(['+', '-'])
                    .chars()
                    .all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Excel's day 0 (serials count from 1899-12-30 because of Lotus's 1900 leap-year bug).
fn excel_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid date")
}

/// A date from an Excel serial day number (e.g. 45296 = 2024-01-05).
pub fn date_from_excel_serial(serial: f64) -> Option<NaiveDate> {
    if !(1.0..=2_958_465.0).contains(&serial) {
        return None;
    }
    excel_epoch().checked_add_signed(Duration::days(serial.trunc() as i64))
}

/// Parses the date spellings found in ledgers: `2024-01-05`, `2024/1/5`, `2024.1.5`,
/// `2024年1月5日`, `20240105`, and Excel serial numbers written as text (`45296`).
pub fn parse_flexible_date(s: &str) -> Option<NaiveDate> {
    let t: String = s
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            c => c,
        })
        .collect();
    // Excel sometimes hands us "2024-01-05 00:00:00".
    let t = t.split_once(' ').map(|(d, _)| d.to_string()).unwrap_or(t);
    if t.is_empty() {
        return None;
    }
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        let y = t[..4].parse().ok()?;
        let m = t[4..6].parse().ok()?;
        let d = t[6..].parse().ok()?;
        return NaiveDate::from_ymd_opt(y, m, d);
    }
    if (1..=7).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return date_from_excel_serial(t.parse().ok()?);
    }
    let parts: Vec<&str> = t
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 || parts[0].len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(
        parts[0].parse().ok()?,
        parts[1].parse().ok()?,
        parts[2].parse().ok()?,
    )
}

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

/// Full pinyin (lowercase, no tones or spaces) and initials of a name: 张三 → ("zhangsan",
/// "zs"). Characters without pinyin (Latin letters, digits, ·) are kept lowercased in both.
pub fn pinyin_keys(name: &str) -> (String, String) {
    use pinyin::ToPinyin;
    let mut full = String::new();
    let mut initials = String::new();
    for (c, p) in name.chars().zip(name.to_pinyin()) {
        match p {
            Some(p) => {
                // ü is typed as v on Chinese keyboards, so search keys use v.
                full.push_str(&p.plain().replace('ü', "v"));
                initials.push_str(p.first_letter());
            }
            None if c.is_ascii_alphanumeric() => {
                let l = c.to_ascii_lowercase();
                full.push(l);
                initials.push(l);
            }
            None => {}
        }
    }
    (full, initials)
}

/// Whether a search term is pinyin (ASCII letters only).
pub fn is_pinyin_query(q: &str) -> bool {
    !q.is_empty() && q.bytes().all(|b| b.is_ascii_alphabetic())
}

/// A member as the household checks see them.
#[derive(Debug, Clone)]
pub struct MemberFacts {
    pub relation: Relation,
    pub birth: NaiveDate,
}

/// Checks that need the whole household: exactly one head, at most one spouse, children
/// younger and parents older than the head. Returns (member index, Chinese reason).
pub fn household_problems(members: &[MemberFacts]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let heads: Vec<usize> = (0..members.len())
        .filter(|&i| members[i].relation == Relation::Head)
        .collect();
    if heads.is_empty() {
        out.push((0, "该户没有“户主”行：每户必须有且只有一名户主".to_string()));
        return out;
    }
    for &i in &heads[1..] {
        out.push((i, "同一户出现多名户主".to_string()));
    }
    let head = members[heads[0]].birth;
    let mut spouses = 0;
    for (i, m) in members.iter().enumerate() {
        match m.relation {
            Relation::Spouse => {
                spouses += 1;
                if spouses > 1 {
                    out.push((i, "同一户出现多名配偶".to_string()));
                }
            }
            Relation::Child | Relation::Grandchild if m.birth <= head => {
                out.push((
                    i,
                    format!(
                        "{}的出生日期（{}）不晚于户主（{}），与关系不符",
                        m.relation.label(),
                        m.birth,
                        head
                    ),
                ));
            }
            Relation::Parent | Relation::Grandparent if m.birth >= head => {
                out.push((
                    i,
                    format!(
                        "{}的出生日期（{}）不早于户主（{}），与关系不符",
                        m.relation.label(),
                        m.birth,
                        head
                    ),
                ));
            }
            _ => {}
        }
    }
    out
}

/// The last four characters of an ID number, for "后四位+姓名" search.
pub fn id_last4(id: &str) -> &str {
    &id[id.len().saturating_sub(4)..]
}

/// Masks a bank account: first 4 and last 4 digits.
pub fn mask_account(acc: &str) -> String {
    let chars: Vec<char> = acc.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let mut s: String = chars[..4].iter().collect();
    s.push_str(&"*".repeat(chars.len() - 8));
    s.extend(&chars[chars.len() - 4..]);
    s
}

/// A reasonable year for a date entered in a ledger.
pub fn plausible_date(d: NaiveDate, as_of: NaiveDate) -> bool {
    d.year() >= 1900 && d <= as_of
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn coded_fields_accept_labels_codes_and_variants() {
        assert_eq!(Relation::parse("户主"), Some(Relation::Head));
        assert_eq!(Relation::parse("长子"), Some(Relation::Child));
        assert_eq!(Relation::parse("child"), Some(Relation::Child));
        assert_eq!(Relation::parse("邻居"), None);
        assert_eq!(
            RegistrationType::parse("农业户口"),
            Some(RegistrationType::Rural)
        );
        assert_eq!(PersonStatus::parse(" 死 亡 "), Some(PersonStatus::Deceased));
        assert!(Relation::choices().contains("配偶"));
    }

    #[test]
    fn id_input_is_normalized() {
        assert_eq!(
            normalize_id_input("１１０１０５ １９４９１２３１００２ｘ").unwrap(),
            "11010519491231002X"
        );
        assert_eq!(
            normalize_id_input("'11010519491231002X").unwrap(),
            "11010519491231002X"
        );
        assert_eq!(
            normalize_id_input("\u{3000}110105194912310 02X ").unwrap(),
            "11010519491231002X"
        );
        let e = normalize_id_input("1.10105E+17").unwrap_err();
        assert!(e.contains("文本"), "{e}");
        assert!(normalize_id_input("1.1e17").is_err());
    }

    #[test]
    fn dates_in_all_ledger_spellings() {
        for s in [
            "2024-01-05",
            "2024/1/5",
            "2024年1月5日",
            "20240105",
            "2024.1.5",
            "45296",
            "2024-01-05 00:00:00",
            "２０２４年１月５日",
        ] {
            assert_eq!(parse_flexible_date(s), Some(d(2024, 1, 5)), "{s}");
        }
        for s in ["", "2024-13-01", "明天", "24/1/5", "2024-02-30"] {
            assert_eq!(parse_flexible_date(s), None, "{s}");
        }
        assert_eq!(date_from_excel_serial(45296.0), Some(d(2024, 1, 5)));
        assert_eq!(date_from_excel_serial(-1.0), None);
    }

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
    }

    #[test]
    fn pinyin_keys_for_search() {
        assert_eq!(pinyin_keys("张三"), ("zhangsan".into(), "zs".into()));
        assert_eq!(pinyin_keys("吕·A"), ("lva".into(), "la".into()));
        assert!(is_pinyin_query("zs"));
        assert!(!is_pinyin_query("张"));
    }

    #[test]
    fn household_checks() {
        let head = MemberFacts {
            relation: Relation::Head,
            birth: d(1970, 1, 1),
        };
        let ok = vec![
            head.clone(),
            MemberFacts {
                relation: Relation::Child,
                birth: d(1995, 1, 1),
            },
            MemberFacts {
                relation: Relation::Parent,
                birth: d(1945, 1, 1),
            },
        ];
        assert!(household_problems(&ok).is_empty());
        let bad = vec![
            head.clone(),
            head.clone(),
            MemberFacts {
                relation: Relation::Child,
                birth: d(1960, 1, 1),
            },
        ];
        let p = household_problems(&bad);
        assert_eq!(p.len(), 2);
        assert!(p[0].1.contains("多名户主"));
        assert!(household_problems(&ok[1..])[0].1.contains("没有“户主”"));
    }

    #[test]
    fn masks_accounts() {
        assert_eq!(mask_account("6217001234567890"), "6217********7890");
        assert_eq!(mask_account("1234"), "****");
        assert_eq!(id_last4("11010519491231002X"), "002X");
    }
}
