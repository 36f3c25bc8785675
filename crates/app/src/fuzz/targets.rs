//! The parsers under fuzzing, each called as the system calls it on what arrives from
//! outside, with its seeds and the mutation that knows its shape.

use std::io::{Read, Write};

use chrono::NaiveDate;
use minzheng_domain::params::ValueKind;
use minzheng_domain::{CreditCode, DivisionCode, Fen, IdNumber, Scope, WorkCalendar, YearMonth};

use super::mutate::{self, Rng};
use crate::formats::limits::InputLimits;
use crate::registry::import::ImportInput;

/// What a parser made of an input.
pub enum Outcome {
    /// Accepted; a short description of what was read (its shape, not its values).
    Accepted(String),
    /// Refused, with every message a clerk would be shown.
    Refused(Vec<String>),
    /// Several parsers of one value, some accepting and some refusing: which did what,
    /// and the refusals' messages.
    Mixed(String, Vec<String>),
    /// Not even decodable as the transport delivers it (a form body the web layer rejects
    /// before any parser sees it).
    Undecodable,
}

pub struct Target {
    pub name: &'static str,
    /// The share of a run's inputs this target gets (relative to the others).
    pub weight: u64,
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// A new input from one input and another (for splicing).
    pub mutate: fn(&mut Rng, &[u8], &[u8]) -> Vec<u8>,
    pub run: fn(&[u8]) -> Outcome,
}

pub const TARGETS: &[Target] = &[
    Target {
        name: "id_number",
        weight: 150,
        seeds: id_seeds,
        mutate: mutate_text,
        run: run_id_number,
    },
    Target {
        name: "division_code",
        weight: 80,
        seeds: division_seeds,
        mutate: mutate_text,
        run: run_division_code,
    },
    Target {
        name: "credit_code",
        weight: 80,
        seeds: credit_seeds,
        mutate: mutate_text,
        run: run_credit_code,
    },
    Target {
        name: "dates",
        weight: 150,
        seeds: date_seeds,
        mutate: mutate_text,
        run: run_dates,
    },
    Target {
        name: "amounts",
        weight: 150,
        seeds: amount_seeds,
        mutate: mutate_text,
        run: run_amounts,
    },
    Target {
        name: "forms",
        weight: 150,
        seeds: form_seeds,
        mutate: mutate_form,
        run: run_form,
    },
    Target {
        name: "holidays",
        weight: 30,
        seeds: holiday_seeds,
        mutate: mutate_file,
        run: run_holidays,
    },
    Target {
        name: "ledger",
        weight: 40,
        seeds: ledger_seeds,
        mutate: mutate_file,
        run: run_ledger,
    },
    Target {
        name: "returns",
        weight: 40,
        seeds: return_seeds,
        mutate: mutate_file,
        run: run_returns,
    },
    Target {
        name: "deaths",
        weight: 30,
        seeds: death_seeds,
        mutate: mutate_file,
        run: run_deaths,
    },
    Target {
        name: "lists",
        weight: 30,
        seeds: list_seeds,
        mutate: mutate_file,
        run: run_lists,
    },
    Target {
        name: "divisions",
        weight: 10,
        seeds: division_file_seeds,
        mutate: mutate_division_file,
        run: run_division_files,
    },
];

/// The day the parsers take as today (ID numbers born after it are refused).
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).expect("valid date")
}

fn lossy(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

fn result<T, E: std::fmt::Display>(r: Result<T, E>, ok: impl FnOnce(&T) -> String) -> Outcome {
    match r {
        Ok(v) => Outcome::Accepted(ok(&v)),
        Err(e) => Outcome::Refused(vec![e.to_string()]),
    }
}

/// Several parsers of one value: accepted if each accepted or declined without a message
/// (those answering `Option`), refused if each refused, mixed otherwise.
fn all(outcomes: Vec<Outcome>) -> Outcome {
    let mut refused = Vec::new();
    let mut shape = String::new();
    let mut accepted = 0;
    for o in outcomes {
        match o {
            Outcome::Accepted(s) => {
                accepted += 1;
                shape.push_str(&s);
            }
            Outcome::Refused(m) => {
                shape.push('x');
                refused.extend(m);
            }
            Outcome::Mixed(s, m) => {
                shape.push_str(&s);
                refused.extend(m);
            }
            Outcome::Undecodable => shape.push('?'),
        }
        shape.push('|');
    }
    match (accepted, refused.is_empty()) {
        (_, true) => Outcome::Accepted(shape),
        (0, false) => Outcome::Refused(refused),
        _ => Outcome::Mixed(shape, refused),
    }
}

fn some<T>(v: Option<T>) -> Outcome {
    Outcome::Accepted(if v.is_some() { "some" } else { "none" }.into())
}

/// Seeds from text.
fn texts(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn mutate_text(rng: &mut Rng, data: &[u8], other: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(data) {
        Ok(s) if !rng.chance(5) => mutate::text(rng, s).into_bytes(),
        _ => {
            let mut d = data.to_vec();
            mutate::havoc(rng, &mut d, other);
            d.truncate(4096);
            d
        }
    }
}

/// A valid ID number for a birth date and sequence (GB 11643-1999 check digit).
pub fn id_number(area: &str, birth: &str, seq: u32) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let body = format!("{area}{birth}{seq:03}");
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

fn id_seeds() -> Vec<Vec<u8>> {
    vec![
        id_number("511802", "19580312", 21).into_bytes(),
        id_number("511802", "20200229", 102).into_bytes(),
        id_number("110101", "19900307", 1).into_bytes(),
        b"511802580312021".to_vec(),
        id_number("511802", "19580312", 21)
            .to_lowercase()
            .into_bytes(),
        format!(" {} ", id_number("511823", "19450101", 999)).into_bytes(),
    ]
}

fn run_id_number(data: &[u8]) -> Outcome {
    let s = lossy(data);
    all(vec![
        result(IdNumber::parse(&s, today()), |id| {
            format!("{:?}", id.gender())
        }),
        some(minzheng_domain::registry::peek_id_number(&s, today())),
    ])
}

fn division_seeds() -> Vec<Vec<u8>> {
    texts(&[
        "51",
        "5118",
        "511802",
        "511802001",
        "511802001001",
        "511802001000",
    ])
}

fn run_division_code(data: &[u8]) -> Outcome {
    let s = lossy(data);
    all(vec![
        result(DivisionCode::parse(&s), |c| format!("{:?}", c.level())),
        result(DivisionCode::parse_native(&s), |c| {
            format!("{:?}", c.level())
        }),
    ])
}

fn credit_seeds() -> Vec<Vec<u8>> {
    texts(&[
        "91350100M000100Y43",
        "91350100m000100y43",
        "12510000MB0000000K",
    ])
}

fn run_credit_code(data: &[u8]) -> Outcome {
    let s = lossy(data);
    all(vec![
        result(CreditCode::parse(&s), |_| "ok".into()),
        result(CreditCode::parse_without_org_check(&s), |_| "ok".into()),
    ])
}

fn date_seeds() -> Vec<Vec<u8>> {
    texts(&[
        "2026-06-15",
        "2026/6/15",
        "2026.6.15",
        "2026年6月15日",
        "20260615",
        "46188",
        "2026-06",
        "2026年6月",
        "202606",
        "2026-06-15T08:00:00Z",
        "2026-06-15 08:00:00",
    ])
}

fn run_dates(data: &[u8]) -> Outcome {
    use minzheng_domain::registry::{parse_flexible_date, plausible_date};
    let s = lossy(data);
    all(vec![
        some(parse_flexible_date(&s)),
        some(minzheng_domain::cases::parse_date(&s)),
        result(YearMonth::parse(&s), |_| "month".into()),
        some(minzheng_domain::time::parse_timestamp(&s)),
        result(
            minzheng_domain::standards::parse_date("date", "日期", &s),
            |_| "date".into(),
        ),
        some(parse_flexible_date(&s).filter(|d| plausible_date(*d, today()))),
    ])
}

fn amount_seeds() -> Vec<Vec<u8>> {
    [
        "780",
        "780.50",
        "1,234.56",
        "35%",
        "0.35",
        "78000",
        "是",
        "否",
        "成功",
        "交易不成功",
        "12.5",
        "{\"type\":\"amount\",\"value\":78000}",
        "[]",
        "half_up",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn run_amounts(data: &[u8]) -> Outcome {
    use minzheng_domain::payroll::parse_amount;
    let s = lossy(data);
    let mut out = vec![
        result(Fen::parse_yuan(&s), |_| "yuan".into()),
        some(parse_amount(&s, true)),
        some(parse_amount(&s, false)),
        some(minzheng_domain::standards::parse_area_m2(&s)),
        some(minzheng_domain::registry::parse_yes_no(&s)),
        some(crate::formats::returns::parse_status(&s)),
    ];
    for k in ValueKind::ALL {
        out.push(some(minzheng_domain::params::parse_value(*k, &s)));
    }
    all(out)
}

/// The forms a browser posts, each with its fields (for made-up additions) and a valid
/// body.
const FORMS: &[(&str, &[&str], &str)] = &[
    (
        "person",
        &[
            "name", "id_number", "relation", "counted", "exclusion_reason", "disability_type",
            "disability_grade", "health", "work_capacity", "employment", "status", "status_date",
        ],
        "name=%E5%BC%A0%E4%B8%89&id_number=511802195803120218&relation=head&counted=yes&health=healthy&work_capacity=full&employment=farming",
    ),
    (
        "member_correction",
        &[
            "counted", "exclusion_reason", "disability_type", "disability_grade", "health",
            "work_capacity", "employment", "status", "status_date", "reason",
        ],
        "counted=%E6%98%AF&disability_type=none&health=serious&work_capacity=none&employment=farming&status=active&reason=%E5%85%A5%E6%88%B7%E6%A0%B8%E6%9F%A5",
    ),
    (
        "income_correction",
        &["person_id", "kind", "amount", "period", "start_month", "end_month", "note", "reason"],
        "kind=wage&amount=800&period=monthly&start_month=2025-01&reason=%E6%A0%B8%E5%AE%9E",
    ),
    (
        "asset_correction",
        &["person_id", "kind", "value", "description", "reason"],
        "kind=deposit&value=10000&description=&reason=%E6%A0%B8%E5%AE%9E",
    ),
    ("removal", &["reason"], "reason=%E9%87%8D%E5%A4%8D%E7%99%BB%E8%AE%B0"),
    (
        "death",
        &[
            "id_number", "name", "death_date", "death_place", "certificate_kind",
            "certificate_no", "disposal", "cremation_no", "funeral_home", "township_code", "note",
        ],
        "id_number=511802195803120218&name=%E5%BC%A0%E4%B8%89&death_date=2026-05-01&death_place=home&certificate_kind=medical&certificate_no=A1&disposal=cremation&cremation_no=H1&funeral_home=x&township_code=511802001&note=",
    ),
    (
        "list_row",
        &["id_number", "name", "date", "detail"],
        "id_number=511802195803120218&name=%E5%BC%A0%E4%B8%89&date=2026-05-01&detail=x",
    ),
    (
        "declaration",
        &[
            "declarant_name", "declarant_id_number", "post", "username", "division_code",
            "relative_name", "relative_id_number", "relation", "note",
        ],
        "declarant_name=%E6%9D%8E%E5%9B%9B&declarant_id_number=511802198001010010&post=assistant&username=staff&division_code=511802001001&relative_name=%E5%BC%A0%E4%B8%89&relative_id_number=511802195803120218&relation=parent&note=",
    ),
    (
        "bank_template",
        &[
            "code", "name", "format", "encoding", "columns", "totals_line", "amount_unit",
            "file_name", "active",
        ],
        "code=nongshang&name=%E5%86%9C%E5%95%86%E8%A1%8C&format=csv&encoding=gbk&columns=line_no%2Cname%2Cid_number%2Caccount%2Camount&totals_line=true&amount_unit=yuan&file_name=%7Bmonth%7D.csv&active=true",
    ),
    (
        "household_filter",
        &["village", "registration_type", "status", "q", "limit", "offset"],
        "village=511802001001&status=active&q=%E5%BC%A0&limit=50&offset=0",
    ),
    ("office", &["phone", "address"], "phone=0835-1234567&address=%E9%9B%A8%E5%9F%8E"),
    (
        "profile",
        &[
            "population", "kind", "city_street", "contact_name", "contact_phone", "signage",
            "policy_board", "notice_board", "archives_organized",
        ],
        "population=32000&kind=jiedao&city_street=false&contact_name=%E7%8E%8B&contact_phone=13800000000&signage=x&policy_board=true",
    ),
    ("room", &["kind", "area_m2", "shared_hall", "note"], "kind=office&area_m2=60.5&shared_hall=false&note="),
    (
        "staff_change",
        &[
            "kind", "staff_id", "name", "position", "is_director", "full_time", "effective_on",
            "doc_number", "doc_date", "reason",
        ],
        "kind=appoint&name=%E7%8E%8B&position=x&is_director=false&full_time=true&effective_on=2026-06-01&doc_number=1&reason=x",
    ),
    (
        "investment",
        &["spent_on", "item", "amount", "doc_number"],
        "spent_on=2026-06-01&item=x&amount=12000.50&doc_number=1",
    ),
    ("inspection", &["inspectors", "inspected_on"], "inspectors=%E7%8E%8B&inspected_on=2026-06-01"),
    (
        "income",
        &["person_id", "kind", "amount", "period", "start_month", "end_month", "note"],
        "person_id=&kind=wage&amount=1200&period=monthly&start_month=2026-01&end_month=&note=",
    ),
    (
        "param",
        &["program", "name", "region", "urban_rural", "effective_from", "value_json", "source"],
        "program=rural_dibao&name=standard&region=5118&urban_rural=rural&effective_from=2026-07-01&value_json=780&source=x",
    ),
    (
        "user",
        &["username", "display_name", "role", "scope_code", "password"],
        "username=clerk9&display_name=%E7%8E%8B&role=township-staff&scope_code=511802001&password=Qx7%21tr0ng-Pass",
    ),
    ("payroll", &["month", "program", "within"], "month=2026-06&program=rural_dibao&within=511802001"),
];

/// Values a form field might hold, valid or nearly so.
const FORM_VALUES: &[&str] = &[
    "511802195803120218",
    "511802001001",
    "511802001",
    "511802",
    "5118",
    "2026-06-01",
    "2026-06",
    "780",
    "12.5",
    "true",
    "false",
    "yes",
    "no",
    "head",
    "spouse",
    "child",
    "parent",
    "dibao",
    "tekun",
    "staff",
    "approver",
    "medical",
    "police",
    "cremation",
    "burial",
    "township",
    "csv",
    "xlsx",
    "gbk",
    "utf8",
    "fen",
    "yuan",
    "join",
    "leave",
    "wage",
    "monthly",
    "yearly",
    "active",
    "healthy",
    "full",
    "none",
];

fn form_seeds() -> Vec<Vec<u8>> {
    FORMS
        .iter()
        .map(|(name, _, body)| format!("{name}\n{body}").into_bytes())
        .collect()
}

fn mutate_form(rng: &mut Rng, data: &[u8], other: &[u8]) -> Vec<u8> {
    let s = lossy(data);
    let (name, body) = s.split_once('\n').unwrap_or(("person", &s));
    if rng.chance(12) {
        let mut d = data.to_vec();
        mutate::havoc(rng, &mut d, other);
        return d;
    }
    let keys = FORMS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, k, _)| *k)
        .unwrap_or(&[]);
    format!("{name}\n{}", mutate::form(rng, body, keys, FORM_VALUES)).into_bytes()
}

fn form<T: serde::de::DeserializeOwned>(body: &[u8], f: impl FnOnce(T) -> Outcome) -> Outcome {
    match serde_urlencoded::from_bytes::<T>(body) {
        Ok(v) => f(v),
        Err(_) => Outcome::Undecodable,
    }
}

fn fields<T>(r: Result<T, minzheng_domain::FieldErrors>) -> Outcome {
    match r {
        Ok(_) => Outcome::Accepted("ok".into()),
        Err(e) => Outcome::Refused(e.iter().map(|(_, m)| m.to_string()).collect()),
    }
}

/// The member a correction form is checked against.
fn fuzz_member() -> minzheng_domain::registry::Person {
    use minzheng_domain::registry::*;
    Person {
        id: 1,
        household_id: 1,
        id_number: "511802195803120218".into(),
        name: "张三".into(),
        gender: "男".into(),
        birth_date: "1958-03-12".into(),
        relation: Relation::Spouse,
        counted: true,
        exclusion_reason: None,
        disability_type: DisabilityType::None,
        disability_grade: None,
        health: Health::Healthy,
        work_capacity: WorkCapacity::Full,
        employment: Employment::Farming,
        status: PersonStatus::Active,
        status_date: None,
        head_name: "张三".into(),
        village_name: String::new(),
    }
}

fn run_form(data: &[u8]) -> Outcome {
    use minzheng_domain::{funerals, lists, offices, payroll, registry, relatives, standards};
    let Some(nl) = data.iter().position(|b| *b == b'\n') else {
        return Outcome::Undecodable;
    };
    let (name, body) = (&data[..nl], &data[nl + 1..]);
    let city = Scope::of(DivisionCode::parse("5118").expect("valid code"));
    let township = Scope::of(DivisionCode::parse("511802001").expect("valid code"));
    match name {
        b"person" => form(body, |p| fields(registry::parse_person_form(&p, today()))),
        b"member_correction" => form(body, |c| {
            fields(registry::parse_member_correction(
                &c,
                &fuzz_member(),
                today(),
            ))
        }),
        b"income_correction" => form(body, |i| fields(registry::parse_income_correction(&i, &[]))),
        b"asset_correction" => form(body, |a| fields(registry::parse_asset_correction(&a, &[]))),
        b"removal" => form(body, |r| fields(registry::parse_removal(&r))),
        b"death" => form(body, |d| fields(funerals::parse_death(&d, today()))),
        b"list_row" => form(body, |r| fields(lists::parse_row(&r, today()))),
        b"declaration" => form(body, |d| fields(relatives::parse_declaration(&d, today()))),
        b"bank_template" => form(body, |t| fields(payroll::parse_bank_template(&t))),
        b"household_filter" => form(body, |f: registry::HouseholdFilter| {
            fields(f.parse(today()))
        }),
        b"office" => form(body, |u| fields(offices::parse_office_update(&u))),
        b"profile" => form(body, |u| fields(standards::parse_profile("511802001", &u))),
        b"room" => form(body, |r| fields(standards::parse_room(&r))),
        b"staff_change" => form(body, |c| fields(standards::parse_staff_change(&c))),
        b"investment" => form(body, |i| fields(standards::parse_investment(&i))),
        b"inspection" => form(body, |i| fields(standards::parse_inspection(&i))),
        b"income" => form(body, |i| fields(registry::parse_income_form(&i, &[]))),
        b"param" => form(body, |p| {
            match minzheng_domain::params::parse_new_param(&p, &city) {
                Ok(_) => Outcome::Accepted("ok".into()),
                Err(minzheng_domain::params::ParamInputError::Field(e)) => fields::<()>(Err(e)),
                Err(minzheng_domain::params::ParamInputError::OutsideScope) => {
                    Outcome::Accepted("outside".into())
                }
            }
        }),
        b"user" => form(body, |u| {
            fields(minzheng_domain::users::parse_new_user(&u, &township))
        }),
        b"payroll" => form(body, |f| fields(payroll::parse_generate(&f))),
        _ => Outcome::Undecodable,
    }
}

fn holiday_seeds() -> Vec<Vec<u8>> {
    vec![
        include_str!("../../../domain/data/holidays-cn.csv")
            .as_bytes()
            .to_vec(),
        b"date,kind,name\n2027-01-01,holiday,\xE5\x85\x83\xE6\x97\xA6\n2027-02-06,workday,x\n"
            .to_vec(),
    ]
}

fn run_holidays(data: &[u8]) -> Outcome {
    match std::str::from_utf8(data) {
        Ok(s) => result(WorkCalendar::from_csv(s), |_| "ok".into()),
        // The command line refuses a file that is not UTF-8 before the calendar reads it.
        Err(_) => Outcome::Undecodable,
    }
}

/// Values a cell of a ledger or list might hold, valid or nearly so.
const CELL_VALUES: &[&str] = &[
    "511802195803120218",
    "51180219580312021X",
    "511802001001",
    "511802001",
    "2026-06-01",
    "2026/6/1",
    "46188",
    "780",
    "1,200.50",
    "户主",
    "配偶",
    "子女",
    "是",
    "否",
    "男",
    "女",
    "身份证号码",
    "姓名",
    "死亡日期",
    "合计",
    "成功",
    "失败",
    "'=1+1",
    "=1+1",
    "农村",
    "城镇",
];

/// A new file from a file: workbooks are changed inside their archive, CSV by its rows
/// and cells, anything else (and one time in five, anything) byte by byte.
fn mutate_file(rng: &mut Rng, data: &[u8], other: &[u8]) -> Vec<u8> {
    if data.starts_with(b"PK") && !rng.chance(6) {
        if let Some(parts) = mutate::unzip(data) {
            return mutate::xlsx(rng, &parts, CELL_VALUES);
        }
    }
    let ole = data.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    if !ole && !rng.chance(5) {
        return mutate::csv(rng, data, CELL_VALUES);
    }
    let mut d = data.to_vec();
    mutate::havoc(rng, &mut d, other);
    d
}

/// The name an upload of these bytes would carry (the parsers look at the content, the
/// ledger at the extension as well).
fn file_name(data: &[u8]) -> &'static str {
    if data.starts_with(b"PK") {
        "x.xlsx"
    } else if data.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        "x.xls"
    } else {
        "x.csv"
    }
}

fn ledger_rows() -> Vec<Vec<String>> {
    crate::formats::synthetic::generate_ledger(3, 7, &crate::formats::synthetic::demo_villages())
}

fn ledger_seeds() -> Vec<Vec<u8>> {
    let rows = ledger_rows();
    vec![
        crate::formats::ledger::ledger_csv(&rows).expect("csv"),
        crate::formats::ledger::ledger_xlsx(&rows).expect("xlsx"),
        include_bytes!("../../tests/data/ledger-12-households-seed-1.xls").to_vec(),
    ]
}

fn run_ledger(data: &[u8]) -> Outcome {
    let input = ImportInput::Bytes {
        name: file_name(data).into(),
        data: data.to_vec(),
    };
    let limits = InputLimits::default();
    let (_, r) = crate::registry::import::read::read_ledger(
        &input,
        crate::registry::import::DEFAULT_MAX_IMPORT_BYTES,
        &limits,
        true,
        today(),
        &mut |_| {},
    );
    match r {
        Ok(l) if l.issues.is_empty() => Outcome::Accepted(format!("rows{}", l.rows.len().min(3))),
        Ok(l) => Outcome::Refused(l.issues.iter().take(20).map(|i| i.reason.clone()).collect()),
        Err(i) => Outcome::Refused(vec![i.reason]),
    }
}

fn return_seeds() -> Vec<Vec<u8>> {
    let csv = "明细号,证件号码,姓名,金额(元),状态,失败原因\n1,511802195803120218,张三,780.00,成功,\n2,511802198001010010,李四,560.50,失败,账户已销户\n合计,2,,1340.50,,\n";
    let rows: Vec<Vec<String>> = csv
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    vec![
        csv.as_bytes().to_vec(),
        encoding_rs::GBK.encode(csv).0.into_owned(),
        xlsx_of(&rows),
        include_bytes!("../../tests/data/return-line1-failed.xls").to_vec(),
    ]
}

/// Rows as a one-sheet workbook, every cell text.
fn xlsx_of(rows: &[Vec<String>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (i, row) in rows.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            ws.write_string(i as u32, j as u16, v).expect("cell");
        }
    }
    wb.save_to_buffer().expect("workbook")
}

fn app_error(e: crate::Error) -> Outcome {
    match e {
        crate::Error::Validation { message, fields } => {
            let mut m = vec![message];
            m.extend(fields.into_values());
            Outcome::Refused(m)
        }
        other => Outcome::Refused(vec![other.to_string()]),
    }
}

fn run_returns(data: &[u8]) -> Outcome {
    match crate::formats::returns::parse(file_name(data), data, &InputLimits::default()) {
        Ok(f) => Outcome::Accepted(format!(
            "rows{} totals{} fen{}",
            f.rows.len().min(3),
            f.totals.is_some(),
            f.amount_in_fen
        )),
        Err(e) => app_error(e),
    }
}

fn death_seeds() -> Vec<Vec<u8>> {
    let csv = "身份证号码,姓名,死亡日期,死亡地点,死亡证明种类,死亡证明编号,遗体处理方式,火化证明编号,殡仪馆,乡镇(街道)代码,备注\n511802195803120218,张三,2026/5/1,家中,医学死亡证明,A123,火化,H9,雅安市殡仪馆,511802001,\n";
    vec![
        csv.as_bytes().to_vec(),
        crate::formats::deaths::template().expect("template"),
    ]
}

/// The rows a list file gave, each through its form check (the first 50): accepted when
/// every one passes, else the messages of those refused.
fn checked_rows<R>(
    rows: &[(usize, R)],
    check: impl Fn(&R) -> Option<minzheng_domain::FieldErrors>,
) -> Outcome {
    let refused: Vec<String> = rows
        .iter()
        .take(50)
        .filter_map(|(_, r)| check(r))
        .flat_map(|e| e.iter().map(|(_, m)| m.to_string()).collect::<Vec<_>>())
        .collect();
    if refused.is_empty() {
        Outcome::Accepted(format!("rows{}", rows.len().min(3)))
    } else {
        Outcome::Refused(refused)
    }
}

fn run_deaths(data: &[u8]) -> Outcome {
    use minzheng_domain::funerals::{parse_death, DeathSource};
    let limits = InputLimits::default();
    match crate::formats::deaths::parse(file_name(data), data, DeathSource::Police, &limits) {
        Ok(rows) => checked_rows(&rows, |d| parse_death(d, today()).err()),
        Err(e) => app_error(e),
    }
}

fn list_seeds() -> Vec<Vec<u8>> {
    use minzheng_domain::lists::ListKind;
    let csv = "身份证号码,姓名,登记日期,号牌号码及车型\n511802195803120218,张三,2025-03-01,川T12345 小型轿车\n";
    vec![
        csv.as_bytes().to_vec(),
        crate::formats::lists::template(ListKind::ALL[0]).expect("template"),
    ]
}

fn run_lists(data: &[u8]) -> Outcome {
    let limits = InputLimits::default();
    match crate::formats::lists::parse(file_name(data), data, &limits) {
        Ok(rows) => checked_rows(&rows, |r| {
            minzheng_domain::lists::parse_row(r, today()).err()
        }),
        Err(e) => app_error(e),
    }
}

const VILLAGES: &str =
    "code,name,streetCode\n511802001001,东城社区,511802001\n511802001201,对岩村,511802001\n";

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip in memory");
    e.finish().expect("gzip in memory")
}

fn division_file_seeds() -> Vec<Vec<u8>> {
    vec![VILLAGES.as_bytes().to_vec(), gz(VILLAGES.as_bytes())]
}

/// The villages file, changed as CSV (re-gzipped if it was gzipped) or byte by byte.
fn mutate_division_file(rng: &mut Rng, data: &[u8], other: &[u8]) -> Vec<u8> {
    let gzipped = data.starts_with(&[0x1F, 0x8B]);
    if gzipped && !rng.chance(5) {
        let mut plain = Vec::new();
        let _ = flate2::read::MultiGzDecoder::new(data)
            .take(1 << 20)
            .read_to_end(&mut plain);
        return gz(&mutate::csv(rng, &plain, CELL_VALUES));
    }
    if !gzipped && !rng.chance(5) {
        return mutate::csv(rng, data, CELL_VALUES);
    }
    let mut d = data.to_vec();
    mutate::havoc(rng, &mut d, other);
    d
}

/// Imports a folder of the national dataset's five files whose villages file is `data`
/// (as `villages.csv.gz` when it is gzipped), reading every row.
fn run_division_files(data: &[u8]) -> Outcome {
    use crate::formats::divisions::{DivisionFiles, DivisionSource};
    let dir = tempfile::tempdir().expect("temporary folder");
    let fixed = [
        ("provinces", "code,name\n51,四川省\n"),
        ("cities", "code,name,provinceCode\n5118,雅安市,51\n"),
        ("areas", "code,name,cityCode\n511802,雨城区,5118\n"),
        ("streets", "code,name,areaCode\n511802001,东城街道,511802\n"),
    ];
    for (stem, text) in fixed {
        std::fs::write(dir.path().join(format!("{stem}.csv")), text).expect("write");
    }
    let villages = if data.starts_with(&[0x1F, 0x8B]) {
        "villages.csv.gz"
    } else {
        "villages.csv"
    };
    std::fs::write(dir.path().join(villages), data).expect("write");
    let limits = InputLimits::default();
    let source = DivisionSource::Dir(dir.path().to_path_buf());
    let mut files = match DivisionFiles::open(&source, None, &limits) {
        Ok(f) => f,
        Err(e) => return app_error(e),
    };
    let mut batch = Vec::new();
    let mut rows = 0;
    loop {
        if let Err(e) = files.next_batch(1000, &mut batch) {
            return app_error(e);
        }
        if batch.is_empty() {
            return Outcome::Accepted(format!("rows{}", rows.min(3)));
        }
        rows += batch.len();
    }
}
