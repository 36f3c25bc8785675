//! Places by name: wherever a form asks for a village, township or county, the clerk types
//! or picks its name from the divisions of their own jurisdiction, never a 12-digit code.
//!
//! A place field is a plain `<input list="places-LEVEL">` with an empty
//! `<datalist id="places-LEVEL" data-places="LEVEL">`; `static/forms.js` fills the list
//! from `GET /places?level=LEVEL` (each choice "红星村（东城街道）", with the name's pinyin
//! initials and the code as its label, so typing `hxc` or the code finds it too). The
//! handler turns what was sent back into a code with [`resolve`]: a code is passed on as
//! typed (12-digit and short codes both work), a name is looked up inside the jurisdiction.
//! Without JavaScript the field still takes a name or a code.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::response::{Html, IntoResponse};
use minzheng_app::divisions::Place;
use minzheng_domain::{Actor, DivisionLevel};
use serde::Deserialize;

use crate::error::PageError;
use crate::session::PageUser;
use crate::AppState;

/// The most choices one list offers; a larger jurisdiction's list is cut at this many
/// (its places are still found by name).
pub const MAX_CHOICES: i64 = 5000;

/// The levels a `level` word names: `village`, `township`, `county`, or `area` (a township
/// or a village, as a list filter takes).
pub fn levels(word: &str) -> &'static [DivisionLevel] {
    match word {
        "village" => &[DivisionLevel::Village],
        "township" => &[DivisionLevel::Township],
        "county" => &[DivisionLevel::County],
        "region" => &[DivisionLevel::City, DivisionLevel::County],
        "scope" => &[
            DivisionLevel::City,
            DivisionLevel::County,
            DivisionLevel::Township,
            DivisionLevel::Village,
        ],
        _ => &[DivisionLevel::Township, DivisionLevel::Village],
    }
}

/// How a place is written in a form: its name, with its parent's in brackets.
pub fn place_label(name: &str, parent: Option<&str>) -> String {
    match parent {
        Some(p) if !p.is_empty() => format!("{name}（{p}）"),
        _ => name.to_string(),
    }
}

struct Choice {
    value: String,
    hint: String,
}

#[derive(Template)]
#[template(
    source = "{% for c in choices %}<option value=\"{{ c.value }}\" label=\"{{ c.hint }}\"></option>\n{% endfor %}",
    ext = "html"
)]
struct Choices {
    choices: Vec<Choice>,
}

#[derive(Deserialize, Default)]
pub struct PlacesQuery {
    level: Option<String>,
}

/// `GET /places?level=…`: the `<option>`s of a place field's list.
pub async fn options(
    State(st): State<AppState>,
    PageUser(_, actor): PageUser,
    Query(qs): Query<PlacesQuery>,
) -> Result<axum::response::Response, PageError> {
    let places = st
        .app
        .divisions()
        .places(
            &actor,
            levels(qs.level.as_deref().unwrap_or("")),
            MAX_CHOICES,
        )
        .await?;
    let choices = places.iter().map(choice).collect();
    let html = Choices { choices }
        .render()
        .map_err(|e| crate::error::AppError::bad_request(format!("列表生成失败：{e}")))?;
    Ok(([(CACHE_CONTROL, "private, max-age=300")], Html(html)).into_response())
}

fn choice(p: &Place) -> Choice {
    let (_, initials) = minzheng_domain::registry::pinyin_keys(&p.division.name);
    Choice {
        value: place_label(&p.division.name, p.parent_name.as_deref()),
        hint: format!("{initials} · {}", p.division.code),
    }
}

/// The code of the place a form's field names. Empty stays empty; digits are a code, passed
/// on for the use case to check; a name ("红星村" or "红星村（东城街道）") must name exactly
/// one place of `levels` inside the actor's jurisdiction, else the field is refused.
pub async fn resolve(
    st: &AppState,
    actor: &Actor,
    field: &str,
    typed: &str,
    levels: &[DivisionLevel],
) -> Result<String, minzheng_app::Error> {
    let typed = typed.trim();
    if typed.is_empty() || typed.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(typed.to_string());
    }
    // "名称（上级）", "名称(上级)", or the label with its hint pasted along.
    let main = typed.split(" · ").next().unwrap_or(typed).trim();
    let (name, parent) = match main.find(['（', '(']) {
        Some(i) => {
            let rest = &main[i..];
            let inner = rest
                .trim_start_matches(['（', '('])
                .trim_end_matches(['）', ')']);
            (main[..i].trim(), Some(inner.trim()))
        }
        None => (main, None),
    };
    let what = match levels {
        [DivisionLevel::Village] => "村(社区)",
        [DivisionLevel::Township] => "乡镇(街道)",
        [DivisionLevel::County] => "县(区)",
        _ => "地区",
    };
    let found = st
        .app
        .divisions()
        .by_name(actor, name, parent, levels)
        .await?;
    match found.as_slice() {
        [one] => Ok(one.code.clone()),
        [] => Err(minzheng_app::Error::field(
            field,
            format!("您的管辖范围内没有名为“{main}”的{what}，请从下拉列表中选择"),
        )),
        _ => Err(minzheng_app::Error::field(
            field,
            format!("有多个名为“{name}”的{what}，请从下拉列表中选择带上级名称的一项"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_written_with_its_parent() {
        assert_eq!(
            place_label("红星村", Some("东城街道")),
            "红星村（东城街道）"
        );
        assert_eq!(place_label("翠屏区", None), "翠屏区");
        assert_eq!(levels("village"), &[DivisionLevel::Village]);
        assert_eq!(
            levels("anything"),
            &[DivisionLevel::Township, DivisionLevel::Village]
        );
    }
}
