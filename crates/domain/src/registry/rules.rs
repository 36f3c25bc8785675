//! The checks that need a whole household.

use chrono::NaiveDate;

use super::words::Relation;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
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
    fn each_member_out_of_place_is_named_on_its_row_with_the_reason() {
        let m = |relation, birth| MemberFacts { relation, birth };
        let head = m(Relation::Head, d(1970, 1, 1));
        let same_day = d(1970, 1, 1);
        let problems = household_problems(&[
            m(Relation::Spouse, d(1972, 1, 1)),
            head.clone(),
            m(Relation::Spouse, d(1973, 1, 1)),
            m(Relation::Child, same_day),
            m(Relation::Grandchild, d(1960, 1, 1)),
            m(Relation::Parent, same_day),
            m(Relation::Grandparent, d(1990, 1, 1)),
            m(Relation::Head, d(1971, 1, 1)),
        ]);
        let expected = [
            (7, "同一户出现多名户主"),
            (2, "同一户出现多名配偶"),
            (
                3,
                "子女的出生日期（1970-01-01）不晚于户主（1970-01-01），与关系不符",
            ),
            (
                4,
                "孙子女的出生日期（1960-01-01）不晚于户主（1970-01-01），与关系不符",
            ),
            (
                5,
                "父母的出生日期（1970-01-01）不早于户主（1970-01-01），与关系不符",
            ),
            (
                6,
                "祖父母的出生日期（1990-01-01）不早于户主（1970-01-01），与关系不符",
            ),
        ];
        let got: Vec<(usize, &str)> = problems.iter().map(|(i, r)| (*i, r.as_str())).collect();
        assert_eq!(got, expected);
        // One spouse, a grandchild younger and a grandparent older than the head are fine.
        assert!(household_problems(&[
            head,
            m(Relation::Spouse, d(1972, 1, 1)),
            m(Relation::Grandchild, d(2015, 1, 1)),
            m(Relation::Grandparent, d(1925, 1, 1)),
        ])
        .is_empty());
    }
}
