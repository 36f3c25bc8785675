//! 殡葬管理 — the ledger of deaths and cremations/burials, and what a death does to the
//! money (docs/rules.md §11): the enrolments it ends, the months already paid that must be
//! recovered (追回), and the households whose amount must be recalculated instead.
//!
//! A death is usually entered late: the person died in a month already paid. So the rule
//! is stated for any order of events — everything after the month of death is stopped,
//! and whatever left the bank for those months is owed back.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::cases::EnrolmentStatus;
use crate::forms::FieldErrors;
use crate::{Fen, IdNumber, Program, YearMonth};

crate::coded_enum! {
    /// 死亡证明种类.
    pub enum CertificateKind {
        /// 医学死亡证明 (issued by the hospital or the village doctor).
        Medical = ("medical", "医学死亡证明"),
        /// 公安死亡证明 (unnatural deaths, and deaths the police deregister).
        Police = ("police", "公安死亡证明"),
        /// 其他证明 (a village committee's certificate, a court's declaration).
        Other = ("other", "其他证明"),
    }
}

crate::coded_enum! {
    /// 遗体处理方式.
    pub enum Disposal {
        Cremation = ("cremation", "火化"),
        Burial = ("burial", "土葬"),
        Unknown = ("unknown", "未登记"),
    }
}

crate::coded_enum! {
    /// 信息来源 — who told the office of the death.
    pub enum DeathSource {
        /// Entered by the township office.
        Office = ("office", "民政办登记"),
        /// A funeral home's list of cremations.
        FuneralHome = ("funeral_home", "殡仪馆名单"),
        /// The police's list of deregistered deaths.
        Police = ("police", "公安死亡名单"),
    }
}

crate::coded_enum! {
    /// 追回状态 — a month paid after a death, from the finding to the money's return.
    pub enum RecoveryStatus {
        Open = ("open", "待追回"),
        Recovered = ("recovered", "已追回"),
        /// A write-off asked for, waiting for the director.
        WriteOffRequested = ("write_off_requested", "核销待审批"),
        WrittenOff = ("written_off", "已核销"),
    }
}

/// A death as entered on the form or read from a list; every field as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NewDeath {
    pub id_number: String,
    pub name: String,
    pub death_date: String,
    pub death_place: String,
    pub certificate_kind: String,
    pub certificate_no: String,
    pub disposal: String,
    pub cremation_no: String,
    pub funeral_home: String,
    /// The township the death is recorded in when the person is not in the registry;
    /// a registered person's own township wins.
    pub township_code: String,
    pub note: String,
}

/// A death that passed [`parse_death`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeathInput {
    pub id_number: IdNumber,
    pub name: String,
    pub death_date: NaiveDate,
    pub death_place: String,
    pub certificate_kind: CertificateKind,
    pub certificate_no: String,
    pub disposal: Disposal,
    pub cremation_no: String,
    pub funeral_home: String,
    pub township_code: Option<String>,
    pub note: String,
}

impl DeathInput {
    /// The month of death: paid for in full, the last month anything is paid for.
    pub fn death_month(&self) -> YearMonth {
        YearMonth::of(self.death_date)
    }
}

fn text(f: &mut FieldErrors, field: &str, label: &str, v: &str, max: usize) -> String {
    let v = v.trim();
    if v.chars().count() > max {
        f.add(field, format!("{label}不能超过{max}个字"));
    }
    v.to_string()
}

/// Checks a death as entered on `today`: a valid ID number, a name, a death date that is
/// neither in the future nor before the person's birth, the certificate's kind and number.
/// A cremation needs the cremation certificate's number and the funeral home.
pub fn parse_death(d: &NewDeath, today: NaiveDate) -> Result<DeathInput, FieldErrors> {
    let mut f = FieldErrors::new();
    let id_number = match IdNumber::parse(&d.id_number, today) {
        Ok(id) => Some(id),
        Err(e) => {
            f.add("id_number", e.to_string());
            None
        }
    };
    let name = text(&mut f, "name", "姓名", &d.name, 50);
    if name.is_empty() {
        f.add("name", "请填写逝者姓名");
    }
    let death_date = match NaiveDate::parse_from_str(d.death_date.trim(), "%Y-%m-%d") {
        Err(_) => {
            f.add("death_date", "死亡日期格式不正确，应为如2026-03-01的日期");
            None
        }
        Ok(x) if x > today => {
            f.add("death_date", "死亡日期不能晚于今天");
            None
        }
        Ok(x) if id_number.as_ref().is_some_and(|id| x < id.birth_date()) => {
            f.add("death_date", "死亡日期早于身份证号码中的出生日期");
            None
        }
        Ok(x) => Some(x),
    };
    let certificate_kind = match CertificateKind::parse_code_or_label(&d.certificate_kind) {
        Some(k) => Some(k),
        None => {
            f.add("certificate_kind", "请选择死亡证明种类");
            None
        }
    };
    let certificate_no = text(
        &mut f,
        "certificate_no",
        "死亡证明编号",
        &d.certificate_no,
        50,
    );
    if certificate_no.is_empty() {
        f.add("certificate_no", "请填写死亡证明编号");
    }
    let disposal = if d.disposal.trim().is_empty() {
        Some(Disposal::Unknown)
    } else {
        let x = Disposal::parse_code_or_label(&d.disposal);
        if x.is_none() {
            f.add("disposal", "遗体处理方式应为火化、土葬或未登记");
        }
        x
    };
    let cremation_no = text(&mut f, "cremation_no", "火化证明编号", &d.cremation_no, 50);
    let funeral_home = text(&mut f, "funeral_home", "殡仪馆", &d.funeral_home, 100);
    if disposal == Some(Disposal::Cremation) {
        if cremation_no.is_empty() {
            f.add("cremation_no", "火化的请填写火化证明编号");
        }
        if funeral_home.is_empty() {
            f.add("funeral_home", "火化的请填写殡仪馆");
        }
    }
    let death_place = text(&mut f, "death_place", "死亡地点", &d.death_place, 200);
    let note = text(&mut f, "note", "备注", &d.note, 500);
    let township_code = match d.township_code.trim() {
        "" => None,
        c if c.len() == 9 && c.bytes().all(|b| b.is_ascii_digit()) => Some(c.to_string()),
        _ => {
            f.add("township_code", "乡镇（街道）代码应为9位数字");
            None
        }
    };
    f.finish()?;
    Ok(DeathInput {
        id_number: id_number.expect("checked"),
        name,
        death_date: death_date.expect("checked"),
        death_place,
        certificate_kind: certificate_kind.expect("checked"),
        certificate_no,
        disposal: disposal.expect("checked"),
        cremation_no,
        funeral_home,
        township_code,
        note,
    })
}

/// The registered person an ID number names, as far as a death needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredPerson {
    pub id: i64,
    pub household_id: i64,
    pub township_code: String,
    pub name: String,
    /// Already recorded dead (by the registry or an earlier funeral record).
    pub deceased: bool,
}

/// An ID number already registered to someone else: shown side by side, nothing written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityConflict {
    pub id_number: String,
    pub registered_name: String,
    pub given_name: String,
}

impl IdentityConflict {
    pub fn message(&self) -> String {
        format!(
            "身份证号码{}在户籍台账中登记为“{}”，与填写的“{}”不一致；请核对后再登记，系统不会自动合并",
            crate::mask_id(&self.id_number),
            self.registered_name,
            self.given_name
        )
    }
}

/// The identity check of every entry path: an ID number that is registered must come with
/// the registered name (spaces aside); anything else is a conflict, never a silent rename.
pub fn check_identity(
    registered: &RegisteredPerson,
    given_name: &str,
) -> Result<(), IdentityConflict> {
    if crate::registry::same_name(&registered.name, given_name) {
        Ok(())
    } else {
        Err(IdentityConflict {
            id_number: String::new(),
            registered_name: registered.name.clone(),
            given_name: given_name.trim().to_string(),
        })
    }
}

/// An enrolment of the deceased, as the death's rule needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentAtDeath {
    pub id: i64,
    pub program: Program,
    pub township_code: String,
    /// Set for a person's own enrolment (特困, 高龄津贴 …); none for a household's.
    pub person_id: Option<i64>,
    pub beneficiary_id_number: String,
    pub status: EnrolmentStatus,
    pub start_month: YearMonth,
    pub end_month: Option<YearMonth>,
    /// Counted household members still living besides the deceased.
    pub others_living: i64,
}

/// What a death does to one enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeathEffect {
    /// 停发: nothing is paid after `end_month` (the month of death).
    Stop { end_month: YearMonth },
    /// A household's payment goes on for the others: its amount must be recalculated by a
    /// change case (变更), not stopped.
    Recalculate,
    /// Already ended by the month of death.
    Untouched,
}

/// The rule (docs/rules.md §11): a person's own enrolment, or a household's whose only
/// counted member was the deceased, ends with the month of death (paid in full for that
/// month); a household enrolment that others still live on needs a change case.
pub fn effect_of_death(e: &EnrolmentAtDeath, death_month: YearMonth) -> DeathEffect {
    if e.end_month.is_some_and(|m| m <= death_month) {
        return DeathEffect::Untouched;
    }
    let own = e.person_id.is_some() || e.others_living == 0;
    if own {
        // An enrolment that would only have started after the death never pays: it ends
        // before its first month.
        let end_month = if e.start_month > death_month {
            e.start_month.prev()
        } else {
            death_month
        };
        DeathEffect::Stop { end_month }
    } else {
        DeathEffect::Recalculate
    }
}

/// A payment for a month after the death that left (or will leave) the bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidAfterDeath {
    pub line_id: i64,
    pub batch_id: i64,
    pub enrolment_id: i64,
    pub program: Program,
    pub period: YearMonth,
    pub township_code: String,
    pub amount: Fen,
}

/// Which of the payments after the month of death are owed back: those of the enrolments
/// the death stops (a household that goes on is settled by its change case).
pub fn recoverable<'a>(
    paid: &'a [PaidAfterDeath],
    stopped: &'a [i64],
    death_month: YearMonth,
) -> impl Iterator<Item = &'a PaidAfterDeath> {
    paid.iter()
        .filter(move |p| p.period > death_month && stopped.contains(&p.enrolment_id))
}

/// One row of the funeral ledger.
#[derive(Debug, Clone, Serialize)]
pub struct FuneralRecord {
    pub id: i64,
    pub township_code: String,
    pub person_id: Option<i64>,
    pub household_id: Option<i64>,
    pub id_number: String,
    pub name: String,
    pub death_date: String,
    pub death_place: String,
    pub certificate_kind: CertificateKind,
    pub certificate_no: String,
    pub disposal: Disposal,
    pub cremation_no: String,
    pub funeral_home: String,
    pub source: DeathSource,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: String,
    /// 惠民殡葬: basic funeral service fees the family does not pay.
    pub relief: Fen,
    /// 丧葬补助 paid once, and the program that pays it.
    pub grant: Fen,
    pub grant_program: Option<Program>,
}

/// What a death brings the family (docs/rules.md §11): 惠民殡葬's basic-service relief for a
/// cremated beneficiary of a program that has one, and the 丧葬补助 of the program that pays
/// the most. Both from the parameters in force on the day of death.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeathBenefits {
    pub relief: Fen,
    pub grant: Fen,
    pub grant_program: Option<Program>,
}

/// The benefits due for a death, from the programs the person held when they died.
pub fn death_benefits(
    held: &[Program],
    disposal: Disposal,
    qy: &crate::params::ParamQuery<'_>,
) -> DeathBenefits {
    use crate::params::ParamName;
    let mut b = DeathBenefits::default();
    for p in held {
        if disposal == Disposal::Cremation {
            if let Ok(r) = qy.amount(*p, ParamName::FuneralRelief) {
                b.relief = b.relief.max(r);
            }
        }
        if let Ok(g) = qy.amount(*p, ParamName::FuneralGrant) {
            if g > b.grant {
                b.grant = g;
                b.grant_program = Some(*p);
            }
        }
    }
    b
}

/// One month and program paid after a death, to be recovered.
#[derive(Debug, Clone, Serialize)]
pub struct Recovery {
    pub id: i64,
    pub funeral_id: i64,
    pub township_code: String,
    pub enrolment_id: i64,
    pub line_id: i64,
    pub program: Program,
    pub period: String,
    pub beneficiary_name: String,
    pub beneficiary_id_number: String,
    pub amount: Fen,
    pub status: RecoveryStatus,
    pub note: String,
    pub requested_by: Option<String>,
    pub decided_by: Option<String>,
    pub opened_at: String,
    pub updated_at: String,
}

/// Why a recovery's step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryRefusal {
    /// Not from this status.
    #[error("该追回记录{0}，不能{1}")]
    WrongStatus(&'static str, &'static str),
    /// The director's own write-off request.
    #[error("核销申请人不能自己批准核销")]
    OwnRequest,
    /// The note is missing or too long.
    #[error("{0}")]
    Note(&'static str),
}

/// The status filter of the recovery list, typed (see [`crate::payroll::Wanted`]).
pub fn recovery_status_filter(status: Option<&str>) -> crate::payroll::Wanted<RecoveryStatus> {
    crate::payroll::forms::wanted(&status.map(str::to_string), RecoveryStatus::parse)
}

/// What may be done to a recovery next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryAction {
    /// 登记已追回 (the money is back, with how it came back).
    Recovered,
    /// 申请核销 (it cannot be recovered: the reason).
    RequestWriteOff,
    /// 批准核销 (the director).
    ApproveWriteOff,
    /// 驳回核销 (the director): back to 待追回.
    RejectWriteOff,
}

impl RecoveryAction {
    pub fn parse(s: &str) -> Option<RecoveryAction> {
        Some(match s {
            "recovered" => RecoveryAction::Recovered,
            "request_write_off" => RecoveryAction::RequestWriteOff,
            "approve_write_off" => RecoveryAction::ApproveWriteOff,
            "reject_write_off" => RecoveryAction::RejectWriteOff,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            RecoveryAction::Recovered => "登记已追回",
            RecoveryAction::RequestWriteOff => "申请核销",
            RecoveryAction::ApproveWriteOff => "批准核销",
            RecoveryAction::RejectWriteOff => "驳回核销",
        }
    }
}

/// The recovery's step: from which status an action may be taken, to which status it
/// leads. A note (how the money came back, or why it cannot) is required; the director
/// may not approve a write-off they asked for themselves.
pub fn recovery_step(
    r: &Recovery,
    action: RecoveryAction,
    by: &str,
    note: &str,
) -> Result<RecoveryStatus, RecoveryRefusal> {
    use RecoveryAction as A;
    use RecoveryStatus as S;
    let to = match (r.status, action) {
        (S::Open, A::Recovered) => S::Recovered,
        (S::Open, A::RequestWriteOff) => S::WriteOffRequested,
        (S::WriteOffRequested, A::ApproveWriteOff) => S::WrittenOff,
        (S::WriteOffRequested, A::RejectWriteOff) => S::Open,
        (from, a) => return Err(RecoveryRefusal::WrongStatus(from.label(), a.label())),
    };
    if action == A::ApproveWriteOff && r.requested_by.as_deref() == Some(by) {
        return Err(RecoveryRefusal::OwnRequest);
    }
    let n = note.trim().chars().count();
    if matches!(action, A::Recovered | A::RequestWriteOff) && (n == 0 || n > 500) {
        return Err(RecoveryRefusal::Note(match action {
            A::Recovered => "请填写追回方式和日期（不超过500字）",
            _ => "请填写核销原因（不超过500字）",
        }));
    }
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
    }

    fn form() -> NewDeath {
        NewDeath {
            id_number: "511802194501010019".into(),
            name: "王大山".into(),
            death_date: "2026-09-15".into(),
            certificate_kind: "medical".into(),
            certificate_no: "N5118020001".into(),
            disposal: "火化".into(),
            cremation_no: "H2026-0001".into(),
            funeral_home: "雅安市殡仪馆".into(),
            ..NewDeath::default()
        }
    }

    fn ym(s: &str) -> YearMonth {
        YearMonth::parse(s).unwrap()
    }

    #[test]
    fn a_complete_death_parses_with_its_month() {
        let id = IdNumber::parse("511802194501010019", today());
        let d = parse_death(&form(), today());
        match (id, d) {
            (Ok(_), Ok(d)) => {
                assert_eq!(d.death_month(), ym("2026-09"));
                assert_eq!(d.disposal, Disposal::Cremation);
                assert_eq!(d.certificate_kind, CertificateKind::Medical);
            }
            // The fixture's ID number must be valid for this test to mean anything.
            (Err(e), _) => panic!("fixture ID invalid: {e}"),
            (_, Err(e)) => panic!("refused: {e}"),
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let f = NewDeath {
            id_number: "511802194501010015".into(),
            death_date: "2027-01-01".into(),
            disposal: "火化".into(),
            ..NewDeath::default()
        };
        let e = parse_death(&f, today()).unwrap_err();
        for field in [
            "id_number",
            "name",
            "death_date",
            "certificate_kind",
            "certificate_no",
            "cremation_no",
            "funeral_home",
        ] {
            assert!(e.get(field).is_some(), "{field} not reported: {e}");
        }
    }

    #[test]
    fn a_text_at_its_length_limit_is_kept_and_one_character_more_is_refused() {
        // The name may have 50 characters (汉字 count as one each), the note 500.
        let mut f = form();
        f.name = "王".repeat(50);
        f.note = "记".repeat(500);
        let d = parse_death(&f, today()).unwrap();
        assert_eq!(d.name.chars().count(), 50);
        assert_eq!(d.note.chars().count(), 500);
        f.name = "王".repeat(51);
        f.note = "记".repeat(501);
        let e = parse_death(&f, today()).unwrap_err();
        assert_eq!(e.get("name"), Some("姓名不能超过50个字"));
        assert_eq!(e.get("note"), Some("备注不能超过500个字"));
        assert_eq!(e.len(), 2, "{e}");
    }

    #[test]
    fn a_death_before_birth_is_refused() {
        let mut f = form();
        f.death_date = "1940-01-01".into();
        let e = parse_death(&f, today()).unwrap_err();
        assert!(e.get("death_date").unwrap().contains("出生"));
    }

    fn enrolment(person: Option<i64>, others: i64) -> EnrolmentAtDeath {
        EnrolmentAtDeath {
            id: 7,
            program: Program::Tekun,
            township_code: "511802001".into(),
            person_id: person,
            beneficiary_id_number: "511802194501010019".into(),
            status: EnrolmentStatus::Active,
            start_month: ym("2025-01"),
            end_month: None,
            others_living: others,
        }
    }

    #[test]
    fn a_persons_own_enrolment_stops_after_the_month_of_death() {
        assert_eq!(
            effect_of_death(&enrolment(Some(3), 2), ym("2026-09")),
            DeathEffect::Stop {
                end_month: ym("2026-09")
            }
        );
        // The household's only member: the household's enrolment stops too.
        assert_eq!(
            effect_of_death(&enrolment(None, 0), ym("2026-09")),
            DeathEffect::Stop {
                end_month: ym("2026-09")
            }
        );
    }

    #[test]
    fn a_household_that_others_live_on_is_recalculated_not_stopped() {
        assert_eq!(
            effect_of_death(&enrolment(None, 2), ym("2026-09")),
            DeathEffect::Recalculate
        );
    }

    #[test]
    fn an_enrolment_ended_before_the_death_is_untouched_and_one_starting_after_never_pays() {
        let mut e = enrolment(Some(3), 0);
        e.status = EnrolmentStatus::Ended;
        e.end_month = Some(ym("2026-06"));
        assert_eq!(effect_of_death(&e, ym("2026-09")), DeathEffect::Untouched);
        let mut later = enrolment(Some(3), 0);
        later.start_month = ym("2026-11");
        assert_eq!(
            effect_of_death(&later, ym("2026-09")),
            DeathEffect::Stop {
                end_month: ym("2026-10")
            }
        );
    }

    #[test]
    fn only_months_after_the_death_of_stopped_enrolments_are_recovered() {
        let line = |id, enrolment_id, period| PaidAfterDeath {
            line_id: id,
            batch_id: 1,
            enrolment_id,
            program: Program::Tekun,
            period: ym(period),
            township_code: "511802001".into(),
            amount: Fen(80_000),
        };
        let paid = [
            line(1, 7, "2026-09"),
            line(2, 7, "2026-10"),
            line(3, 7, "2026-11"),
            line(4, 8, "2026-10"),
        ];
        let got: Vec<i64> = recoverable(&paid, &[7], ym("2026-09"))
            .map(|p| p.line_id)
            .collect();
        assert_eq!(got, vec![2, 3]);
    }

    fn recovery(status: RecoveryStatus, requested_by: Option<&str>) -> Recovery {
        Recovery {
            id: 1,
            funeral_id: 1,
            township_code: "511802001".into(),
            enrolment_id: 7,
            line_id: 2,
            program: Program::Tekun,
            period: "2026-10".into(),
            beneficiary_name: "王大山".into(),
            beneficiary_id_number: "511802194501010019".into(),
            amount: Fen(80_000),
            status,
            note: String::new(),
            requested_by: requested_by.map(str::to_string),
            decided_by: None,
            opened_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn a_recovery_goes_to_recovered_or_through_the_directors_write_off() {
        use RecoveryAction as A;
        use RecoveryStatus as S;
        let open = recovery(S::Open, None);
        assert_eq!(
            recovery_step(&open, A::Recovered, "staff", "2026-12-01 家属退回现金"),
            Ok(S::Recovered)
        );
        assert!(recovery_step(&open, A::Recovered, "staff", " ").is_err());
        assert!(recovery_step(&open, A::ApproveWriteOff, "director", "").is_err());
        let asked = recovery(S::WriteOffRequested, Some("staff"));
        assert_eq!(
            recovery_step(&asked, A::ApproveWriteOff, "director", ""),
            Ok(S::WrittenOff)
        );
        assert_eq!(
            recovery_step(&asked, A::RejectWriteOff, "director", ""),
            Ok(S::Open)
        );
        let own = recovery(S::WriteOffRequested, Some("director"));
        assert!(recovery_step(&own, A::ApproveWriteOff, "director", "").is_err());
        let done = recovery(S::Recovered, None);
        assert!(recovery_step(&done, A::RequestWriteOff, "staff", "无法联系").is_err());
    }

    #[test]
    fn a_death_today_or_on_the_day_of_birth_is_accepted_and_tomorrow_is_refused() {
        let mut f = form();
        f.death_date = "2026-12-04".into();
        assert_eq!(
            parse_death(&f, today()).unwrap().death_date,
            NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
        );
        // The fixture's person was born on 1945-01-01.
        f.death_date = "1945-01-01".into();
        assert!(parse_death(&f, today()).is_ok());
        f.death_date = "2026-12-05".into();
        assert_eq!(
            parse_death(&f, today()).unwrap_err().get("death_date"),
            Some("死亡日期不能晚于今天")
        );
    }

    #[test]
    fn a_township_code_is_nine_digits_or_nothing() {
        let mut f = form();
        assert_eq!(parse_death(&f, today()).unwrap().township_code, None);
        f.township_code = " 511802001 ".into();
        assert_eq!(
            parse_death(&f, today()).unwrap().township_code.as_deref(),
            Some("511802001")
        );
        for bad in ["51180200", "5118020011", "51180200a"] {
            f.township_code = bad.into();
            assert_eq!(
                parse_death(&f, today()).unwrap_err().get("township_code"),
                Some("乡镇（街道）代码应为9位数字"),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_enrolment_starting_in_the_month_of_death_pays_that_month() {
        let mut e = enrolment(Some(3), 0);
        e.start_month = ym("2026-09");
        assert_eq!(
            effect_of_death(&e, ym("2026-09")),
            DeathEffect::Stop {
                end_month: ym("2026-09")
            }
        );
    }

    fn funeral_params() -> crate::params::ParamSet {
        use crate::params::{ParamEntry, ParamKey, ParamName, ParamSet, ParamValue, Scope};
        let mut set = ParamSet::new();
        let from = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        for (program, name, yuan) in [
            (Program::Tekun, ParamName::FuneralRelief, 1_200),
            (Program::Tekun, ParamName::FuneralGrant, 2_000),
            (Program::UrbanDibao, ParamName::FuneralRelief, 800),
            (Program::UrbanDibao, ParamName::FuneralGrant, 1_500),
            (Program::OldAgeAllowance, ParamName::FuneralGrant, 3_000),
            (Program::RuralDibao, ParamName::FuneralGrant, 2_000),
        ] {
            set.insert(ParamEntry {
                key: ParamKey::new(program, name),
                scope: Scope::city(crate::DivisionCode::parse("5118").unwrap()),
                effective_from: from,
                value: ParamValue::Amount(Fen(yuan * 100)),
                source: "测试".into(),
            })
            .unwrap();
        }
        set
    }

    #[test]
    fn a_death_brings_the_largest_relief_when_cremated_and_the_largest_grant_with_its_program() {
        let set = funeral_params();
        let region = crate::DivisionCode::parse("511802").unwrap();
        let qy = set.at(&region, None, today());
        use Disposal::{Burial, Cremation};
        use Program::{OldAgeAllowance, RuralDibao, Tekun, UrbanDibao};
        // (programs held, disposal) → (relief, grant, the grant's program), in yuan.
        for (held, disposal, relief, grant, program) in [
            // 特困 (relief 1,200, grant 2,000) and 低保 (800, 1,500): the larger of each.
            (
                &[UrbanDibao, Tekun][..],
                Cremation,
                1_200,
                2_000,
                Some(Tekun),
            ),
            // Buried, not cremated: no relief; the grant is the same.
            (&[Tekun, UrbanDibao], Burial, 0, 2_000, Some(Tekun)),
            // 高龄津贴 has a larger grant (3,000) and no relief.
            (
                &[Tekun, OldAgeAllowance, Tekun],
                Cremation,
                1_200,
                3_000,
                Some(OldAgeAllowance),
            ),
            // Of two equal grants (特困's and 农村低保's 2,000) the first program held keeps it.
            (&[Tekun, RuralDibao], Cremation, 1_200, 2_000, Some(Tekun)),
            (&[], Cremation, 0, 0, None),
        ] {
            assert_eq!(
                death_benefits(held, disposal, &qy),
                DeathBenefits {
                    relief: Fen(relief * 100),
                    grant: Fen(grant * 100),
                    grant_program: program,
                },
                "{held:?} {disposal:?}"
            );
        }
    }

    #[test]
    fn each_recovery_action_reads_its_form_value_and_shows_its_words() {
        use RecoveryAction as A;
        for (value, action, label) in [
            ("recovered", A::Recovered, "登记已追回"),
            ("request_write_off", A::RequestWriteOff, "申请核销"),
            ("approve_write_off", A::ApproveWriteOff, "批准核销"),
            ("reject_write_off", A::RejectWriteOff, "驳回核销"),
        ] {
            assert_eq!(RecoveryAction::parse(value), Some(action));
            assert_eq!(action.label(), label);
        }
        assert_eq!(RecoveryAction::parse("write_off"), None);
        assert_eq!(
            recovery_step(
                &recovery(RecoveryStatus::Recovered, None),
                A::RequestWriteOff,
                "staff",
                "无法联系"
            ),
            Err(RecoveryRefusal::WrongStatus(
                RecoveryStatus::Recovered.label(),
                "申请核销"
            ))
        );
    }

    #[test]
    fn a_recovery_note_is_required_and_at_most_500_characters() {
        use RecoveryAction as A;
        let open = recovery(RecoveryStatus::Open, None);
        let full = "退".repeat(500);
        let over = "退".repeat(501);
        assert_eq!(
            recovery_step(&open, A::Recovered, "staff", &full),
            Ok(RecoveryStatus::Recovered)
        );
        assert_eq!(
            recovery_step(&open, A::RequestWriteOff, "staff", &full),
            Ok(RecoveryStatus::WriteOffRequested)
        );
        assert_eq!(
            recovery_step(&open, A::Recovered, "staff", &over),
            Err(RecoveryRefusal::Note("请填写追回方式和日期（不超过500字）"))
        );
        assert_eq!(
            recovery_step(&open, A::RequestWriteOff, "staff", ""),
            Err(RecoveryRefusal::Note("请填写核销原因（不超过500字）"))
        );
    }

    #[test]
    fn an_identity_conflict_names_both_names_beside_the_masked_number() {
        let c = IdentityConflict {
            id_number: "511802194501010019".into(),
            registered_name: "王大山".into(),
            given_name: "王小山".into(),
        };
        assert_eq!(
            c.message(),
            "身份证号码511802********0019在户籍台账中登记为“王大山”，与填写的“王小山”不一致；请核对后再登记，系统不会自动合并"
        );
    }

    #[test]
    fn a_registered_id_number_with_another_name_is_a_conflict() {
        let p = RegisteredPerson {
            id: 1,
            household_id: 1,
            township_code: "511802001".into(),
            name: "王大山".into(),
            deceased: false,
        };
        assert!(check_identity(&p, " 王 大山").is_ok());
        let c = check_identity(&p, "王小山").unwrap_err();
        assert_eq!(c.registered_name, "王大山");
        assert_eq!(c.given_name, "王小山");
    }
}
