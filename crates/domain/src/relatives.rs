//! 近亲属备案 — staff and village cadres declare their close relatives (docs/rules.md §13).
//! An application from a household in which a declarant or a declared relative lives is
//! filed as such (备案): the county must visit the household before it confirms the case,
//! and the declarant, if they hold an account, is recused — the system refuses every action
//! of theirs on that case.
//!
//! Source: 《最低生活保障审核确认办法》(民发〔2021〕57号) 第十九条 — 村（居）民委员会成员、
//! 经办人员及其近亲属申请的，应当单独登记备案，入户调查、审核确认时重点核查。

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::forms::FieldErrors;
use crate::IdNumber;

crate::coded_enum! {
    /// 备案人的身份.
    pub enum DeclarantPost {
        /// 乡镇（街道）民政经办人员.
        Staff = ("staff", "民政经办人员"),
        /// 村级民政协理员.
        Assistant = ("assistant", "村级民政协理员"),
        /// 村民委员会成员.
        VillageCommittee = ("village_committee", "村委会成员"),
        /// 居民委员会成员.
        ResidentsCommittee = ("residents_committee", "居委会成员"),
    }
}

crate::coded_enum! {
    /// 近亲属关系 (配偶、父母、子女、兄弟姐妹、祖父母、外祖父母、孙子女、外孙子女 and the
    /// in-laws the rule names).
    pub enum Kinship {
        /// The declarant's own household: the declarant lives there.
        Oneself = ("self", "本人"),
        Spouse = ("spouse", "配偶"),
        Parent = ("parent", "父母"),
        Child = ("child", "子女"),
        Sibling = ("sibling", "兄弟姐妹"),
        Grandparent = ("grandparent", "祖父母、外祖父母"),
        Grandchild = ("grandchild", "孙子女、外孙子女"),
        InLaw = ("in_law", "配偶的父母、子女的配偶"),
    }
}

/// A declaration as typed on the form or sent to the API.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NewDeclaration {
    pub declarant_name: String,
    pub declarant_id_number: String,
    pub post: String,
    /// The declarant's account (user name), if they have one: they are recused.
    pub username: String,
    /// The township or village the declarant serves.
    pub division_code: String,
    pub relative_name: String,
    pub relative_id_number: String,
    pub relation: String,
    pub note: String,
}

/// A declaration that passed [`parse_declaration`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclarationInput {
    pub declarant_name: String,
    pub declarant_id_number: IdNumber,
    pub post: DeclarantPost,
    pub username: Option<String>,
    pub division_code: String,
    pub relative_name: String,
    pub relative_id_number: IdNumber,
    pub relation: Kinship,
    pub note: String,
}

impl DeclarationInput {
    /// The township of the division the declarant serves.
    pub fn township_code(&self) -> &str {
        &self.division_code[..9]
    }
}

fn name(f: &mut FieldErrors, field: &str, label: &str, v: &str) -> String {
    let v = v.trim();
    if v.is_empty() {
        f.add(field, format!("请填写{label}"));
    } else if v.contains(['"', '\\', '<', '>']) {
        f.add(field, format!("{label}中有不能使用的符号"));
    } else if v.chars().count() > 30 {
        f.add(field, format!("{label}不能超过30个字"));
    }
    v.to_string()
}

/// Checks a declaration: both ID numbers valid, both names, a known post and relation, a
/// township (9 digits) or village (12 digits) code. "本人" declares the declarant's own
/// household, so the relative is the declarant.
pub fn parse_declaration(
    d: &NewDeclaration,
    today: NaiveDate,
) -> Result<DeclarationInput, FieldErrors> {
    let mut f = FieldErrors::new();
    let declarant_name = name(&mut f, "declarant_name", "备案人姓名", &d.declarant_name);
    let declarant_id = IdNumber::parse(&d.declarant_id_number, today)
        .map_err(|e| f.add("declarant_id_number", e.to_string()))
        .ok();
    let post = DeclarantPost::parse_code_or_label(&d.post);
    if post.is_none() {
        f.add("post", "请选择备案人的身份");
    }
    let relation = Kinship::parse_code_or_label(&d.relation);
    if relation.is_none() {
        f.add("relation", "请选择亲属关系");
    }
    let code = d.division_code.trim().to_string();
    if !(code.len() == 9 || code.len() == 12) || !code.bytes().all(|b| b.is_ascii_digit()) {
        f.add(
            "division_code",
            "请选择备案人所在的乡镇（街道）或村（社区）",
        );
    }
    let (relative_name, relative_id) = if relation == Some(Kinship::Oneself) {
        (declarant_name.clone(), declarant_id.clone())
    } else {
        let n = name(&mut f, "relative_name", "亲属姓名", &d.relative_name);
        let id = IdNumber::parse(&d.relative_id_number, today)
            .map_err(|e| f.add("relative_id_number", e.to_string()))
            .ok();
        if id.is_some() && id == declarant_id {
            f.add("relative_id_number", "亲属的身份证号码与备案人本人相同");
        }
        (n, id)
    };
    let username = d.username.trim();
    if username.chars().count() > 64 {
        f.add("username", "账号不能超过64个字符");
    }
    let note = d.note.trim();
    if note.chars().count() > 200 {
        f.add("note", "备注不能超过200个字");
    }
    f.finish()?;
    Ok(DeclarationInput {
        declarant_name,
        declarant_id_number: declarant_id.expect("checked"),
        post: post.expect("checked"),
        username: (!username.is_empty()).then(|| username.to_string()),
        division_code: code,
        relative_name,
        relative_id_number: relative_id.expect("checked"),
        relation: relation.expect("checked"),
        note: note.to_string(),
    })
}

/// A declaration on file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Declaration {
    pub id: i64,
    pub township_code: String,
    pub division_code: String,
    pub declarant_name: String,
    pub declarant_id_number: String,
    pub post: DeclarantPost,
    pub username: Option<String>,
    pub relative_name: String,
    pub relative_id_number: String,
    pub relation: Kinship,
    pub note: String,
    pub declared_by: String,
    pub declared_at: String,
}

/// How a household is tied to a declarant: the member who is the declarant or their
/// relative, and the declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tie {
    pub declaration_id: i64,
    pub member_name: String,
    pub declarant_name: String,
    pub post: DeclarantPost,
    pub relation: Kinship,
    pub username: Option<String>,
}

impl Tie {
    /// "成员王芳是村委会成员李强的配偶" / "成员李强本人是村委会成员".
    pub fn describe(&self) -> String {
        if self.relation == Kinship::Oneself {
            format!("成员{}本人是{}", self.member_name, self.post.label())
        } else {
            format!(
                "成员{}是{}{}的{}",
                self.member_name,
                self.post.label(),
                self.declarant_name,
                self.relation.label()
            )
        }
    }
}

/// The filing note a case carries (备案说明): every tie, in one line.
pub fn filing_note(ties: &[Tie]) -> String {
    ties.iter()
        .map(Tie::describe)
        .collect::<Vec<_>>()
        .join("；")
}

/// Why `username` may not act on a case of a household with these ties (回避), if so.
pub fn recusal(username: &str, ties: &[Tie]) -> Option<String> {
    let t = ties
        .iter()
        .find(|t| t.username.as_deref() == Some(username))?;
    Some(format!(
        "该申请家庭{}（已备案），您应当回避，不能办理此案件；请由其他工作人员办理",
        t.describe()
    ))
}

/// A filed case is confirmed only after the county's own home visit: the confirming step
/// must carry what the visit found.
pub fn check_county_visit(filed: bool, visit_findings: &str) -> Result<(), String> {
    if filed && visit_findings.trim().is_empty() {
        Err("该申请为近亲属备案案件，审核确认前须由县级民政部门入户核查；请填写入户核查情况".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    fn form() -> NewDeclaration {
        NewDeclaration {
            declarant_name: "李强".into(),
            declarant_id_number: "11010519491231002X".into(),
            post: "village_committee".into(),
            username: "".into(),
            division_code: "110105001001".into(),
            relative_name: "王芳".into(),
            relative_id_number: "110101199003074477".into(),
            relation: "配偶".into(),
            note: String::new(),
        }
    }

    #[test]
    fn a_declaration_reads_codes_or_labels() {
        let d = parse_declaration(&form(), today()).unwrap();
        assert_eq!(d.post, DeclarantPost::VillageCommittee);
        assert_eq!(d.relation, Kinship::Spouse);
        assert_eq!(d.township_code(), "110105001");
        assert_eq!(d.username, None);
    }

    #[test]
    fn names_accounts_and_notes_at_their_limits_are_kept_and_one_past_is_refused() {
        let mut f = form();
        f.declarant_name = "李".repeat(30);
        f.relative_name = "王".repeat(30);
        f.username = "u".repeat(64);
        f.note = "注".repeat(200);
        let d = parse_declaration(&f, today()).unwrap();
        assert_eq!(d.declarant_name.chars().count(), 30);
        assert_eq!(d.relative_name.chars().count(), 30);
        assert_eq!(d.username.as_deref().map(str::len), Some(64));
        f.declarant_name = "李".repeat(31);
        f.relative_name = "王".repeat(31);
        f.username = "u".repeat(65);
        f.note = "注".repeat(201);
        let e = parse_declaration(&f, today()).unwrap_err();
        assert_eq!(e.get("declarant_name"), Some("备案人姓名不能超过30个字"));
        assert_eq!(e.get("relative_name"), Some("亲属姓名不能超过30个字"));
        assert_eq!(e.get("username"), Some("账号不能超过64个字符"));
        assert_eq!(e.get("note"), Some("备注不能超过200个字"));
        assert_eq!(e.len(), 4, "{e}");
    }

    #[test]
    fn every_field_error_is_reported_at_once() {
        let bad = NewDeclaration {
            declarant_id_number: "123".into(),
            post: "boss".into(),
            relation: "朋友".into(),
            division_code: "11".into(),
            relative_name: "".into(),
            ..form()
        };
        let e = parse_declaration(&bad, today()).unwrap_err();
        for f in [
            "declarant_id_number",
            "post",
            "relation",
            "division_code",
            "relative_name",
        ] {
            assert!(e.get(f).is_some(), "{f} not reported: {e:?}");
        }
    }

    #[test]
    fn oneself_makes_the_declarant_the_relative() {
        let d = parse_declaration(
            &NewDeclaration {
                relation: "self".into(),
                relative_name: String::new(),
                relative_id_number: String::new(),
                ..form()
            },
            today(),
        )
        .unwrap();
        assert_eq!(d.relative_id_number, d.declarant_id_number);
        assert_eq!(d.relative_name, "李强");
    }

    #[test]
    fn a_relative_cannot_be_the_declarant() {
        let e = parse_declaration(
            &NewDeclaration {
                relative_id_number: "11010519491231002X".into(),
                ..form()
            },
            today(),
        )
        .unwrap_err();
        assert!(e.get("relative_id_number").is_some());
    }

    #[test]
    fn only_the_declarant_with_the_account_is_recused() {
        let ties = vec![Tie {
            declaration_id: 1,
            member_name: "王芳".into(),
            declarant_name: "李强".into(),
            post: DeclarantPost::Assistant,
            relation: Kinship::Spouse,
            username: Some("liqiang".into()),
        }];
        let why = recusal("liqiang", &ties).unwrap();
        assert!(why.contains("成员王芳是村级民政协理员李强的配偶"), "{why}");
        assert_eq!(recusal("staff", &ties), None);
        assert_eq!(filing_note(&ties), "成员王芳是村级民政协理员李强的配偶");
    }

    #[test]
    fn a_filed_case_needs_the_county_visit() {
        assert!(check_county_visit(true, " ").is_err());
        assert!(check_county_visit(true, "县民政局两人入户，情况属实").is_ok());
        assert!(check_county_visit(false, "").is_ok());
    }
}
