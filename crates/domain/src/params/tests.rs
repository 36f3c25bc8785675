use super::*;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}
fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}
fn entry(scope: Scope, from: NaiveDate, yuan: i64) -> ParamEntry {
    ParamEntry {
        key: ParamKey::new(Program::UrbanDibao, ParamName::Standard),
        scope,
        effective_from: from,
        value: ParamValue::Amount(Fen(yuan * 100)),
        source: "test".into(),
    }
}
const KEY: ParamKey = ParamKey {
    program: Program::UrbanDibao,
    name: ParamName::Standard,
};

#[test]
fn ratio_display_and_order() {
    assert_eq!(Ratio::bp(7000).to_string(), "70%");
    assert_eq!(Ratio::permille(125).to_string(), "12.5%");
    assert_eq!(Ratio::fraction(1, 6).to_string(), "1/6");
    assert_eq!(Ratio::percent(150).to_string(), "150%");
    assert_eq!(Ratio::bp(5000), Ratio::fraction(1, 2));
    assert!(Ratio::fraction(1, 6) > Ratio::percent(16));
    assert!(Ratio::new(1, 0).is_none());
    assert!(Ratio::new(-1, 2).is_none());
    assert!(Ratio::new(1, 2_000_000).is_none());
    assert!(Ratio::new(101, 1).is_none());
    assert_eq!(Ratio::new(3, 4), Some(Ratio::percent(75)));
}

#[test]
fn rounding_modes() {
    let x = Exact::new(123_401, 1); // 1234.01 yuan
    assert_eq!(Rounding::UpToYuan.apply(x), Some(Fen(123_500)));
    assert_eq!(Rounding::DownToYuan.apply(x), Some(Fen(123_400)));
    assert_eq!(Rounding::HalfUpToYuan.apply(x), Some(Fen(123_400)));
    assert_eq!(
        Rounding::HalfUpToYuan.apply(Exact::new(123_450, 1)),
        Some(Fen(123_500))
    );
    assert_eq!(Rounding::ToFen.apply(Exact::new(1, 2)), Some(Fen(1)));
    assert_eq!(Rounding::ToFen.apply(Exact::new(1, 3)), Some(Fen(0)));
    assert_eq!(Rounding::ToFen.apply(Exact::new(-1, 2)), Some(Fen(-1)));
    assert_eq!(
        Rounding::UpToYuan.apply(Exact::new(123_400, 1)),
        Some(Fen(123_400))
    );
    assert_eq!(Exact::new(1, 3).display_yuan(), "0.0033元");
    assert_eq!(Exact::new(12_345, 1).display_yuan(), "123.45元");
}

#[test]
fn ratios_of_different_size_are_not_equal() {
    assert_ne!(Ratio::percent(70), Ratio::percent(75));
    assert_ne!(Ratio::fraction(1, 6), Ratio::percent(16));
    assert_eq!(Ratio::permille(700), Ratio::percent(70));
}

#[test]
fn exact_amounts_subtract_divide_compare_and_pick_as_fractions() {
    let third = Exact::new(1, 3);
    let sixth = Exact::new(1, 6);
    let half = Exact::new(1, 2);
    assert_eq!(third.minus(sixth).cmp_exact(sixth), Ordering::Equal);
    assert_eq!(third.cmp_exact(half), Ordering::Less);
    assert_eq!(half.cmp_exact(third), Ordering::Greater);
    // Dividing by no count leaves the amount as it was.
    assert_eq!(third.div_int(0).cmp_exact(third), Ordering::Equal);
    for (a, b) in [(third, half), (half, third)] {
        assert_eq!(a.max(b).cmp_exact(half), Ordering::Equal);
        assert_eq!(a.min(b).cmp_exact(third), Ordering::Equal);
    }
    assert!(Exact::new(-1, 3).is_negative());
    assert!(!Exact::zero().is_negative());
    assert!(!third.is_negative());
}

#[test]
fn an_amount_divided_and_multiplied_back_again_and_again_stays_exact() {
    // Each step is kept in lowest terms, so a long chain never outgrows the arithmetic.
    let start = Exact::from_fen(Fen(63_000));
    let mut x = start;
    for _ in 0..100 {
        x = x
            .div_int(6)
            .mul_int(6)
            .mul_ratio(Ratio::fraction(1, 7))
            .mul_int(7);
    }
    assert_eq!(x.cmp_exact(start), Ordering::Equal);
    assert_eq!(Rounding::ToFen.apply(x), Some(Fen(63_000)));
}

#[test]
fn amounts_below_zero_are_shown_and_rounded_half_away_from_zero() {
    assert_eq!(Exact::new(-12_345, 1).display_yuan(), "-123.45元");
    assert_eq!(Exact::zero().display_yuan(), "0.00元");
    assert_eq!(Exact::new(-1, 3).display_yuan(), "-0.0033元");
    for (num, den, fen) in [
        (-1, 3, 0),
        (-1, 2, -1),
        (-2, 3, -1),
        (-4, 2, -2),
        (-5, 2, -3),
    ] {
        assert_eq!(
            Rounding::ToFen.apply(Exact::new(num, den)),
            Some(Fen(fen)),
            "{num}/{den}"
        );
    }
}

#[test]
fn rules_and_value_kinds_are_named_in_chinese() {
    for (r, label) in [
        (Rounding::UpToYuan, "向上取整到元"),
        (Rounding::DownToYuan, "向下取整到元"),
        (Rounding::HalfUpToYuan, "四舍五入到元"),
        (Rounding::ToFen, "四舍五入到分"),
    ] {
        assert_eq!(r.label(), label);
    }
    for (m, label) in [
        (TopUpMode::PerCapitaGap, "按人均补差"),
        (TopUpMode::HouseholdGap, "按户补差"),
        (TopUpMode::Tiers, "分档发放"),
    ] {
        assert_eq!(m.label(), label);
    }
    let band = |min_age, max_age| AgeBand {
        min_age,
        max_age,
        monthly: Fen(5_000),
    };
    assert_eq!(band(80, Some(89)).label(), "80—89周岁");
    assert_eq!(band(100, None).label(), "100周岁以上");
    let mut s = ParamSet::new();
    let mut days = entry(Scope::city(code("5118")), d(2025, 1, 1), 1);
    days.value = ParamValue::Days(3);
    assert_eq!(
        s.insert(days).unwrap_err().to_string(),
        "参数“城市最低生活保障·低保标准”的取值类型不对，应为金额"
    );
    let labels: std::collections::BTreeSet<_> = ValueKind::ALL
        .iter()
        .copied()
        .map(ValueKind::label)
        .collect();
    assert_eq!(labels.len(), ValueKind::ALL.len());
    assert_eq!(ValueKind::ALL.len(), 16);
}

#[test]
fn most_specific_then_latest() {
    let city = Scope::city(code("5118"));
    let county = Scope {
        county: Some(code("511826")),
        ..city.clone()
    };
    let urban = Scope {
        urban_rural: Some(UrbanRural::Urban),
        ..city.clone()
    };
    let mut s = ParamSet::new();
    s.insert(entry(city.clone(), d(2025, 1, 1), 780)).unwrap();
    s.insert(entry(city.clone(), d(2026, 1, 1), 810)).unwrap();
    s.insert(entry(county.clone(), d(2025, 7, 1), 800)).unwrap();
    s.insert(entry(urban.clone(), d(2025, 3, 1), 790)).unwrap();
    let amt = |region: &str, ur, on| match s.resolve(KEY, &code(region), ur, on) {
        Ok(ParamValue::Amount(f)) => Ok(f.0 / 100),
        Ok(_) => panic!(),
        Err(e) => Err(e),
    };
    // City value by date.
    assert_eq!(amt("511802", None, d(2025, 6, 30)), Ok(780));
    assert_eq!(amt("511802", None, d(2026, 1, 1)), Ok(810));
    assert_eq!(amt("511802", None, d(2025, 12, 31)), Ok(780));
    // Urban-specific beats the city-wide value once in force.
    assert_eq!(
        amt("511802", Some(UrbanRural::Urban), d(2025, 2, 28)),
        Ok(780)
    );
    assert_eq!(
        amt("511802", Some(UrbanRural::Urban), d(2025, 3, 1)),
        Ok(790)
    );
    assert_eq!(
        amt("511802", Some(UrbanRural::Rural), d(2025, 3, 1)),
        Ok(780)
    );
    // County override beats the city, even the city's later raise, inside the county
    // (a township code under it too).
    assert_eq!(amt("511826", None, d(2025, 6, 30)), Ok(780));
    assert_eq!(amt("511826100", None, d(2025, 7, 1)), Ok(800));
    assert_eq!(amt("511826", None, d(2026, 3, 1)), Ok(800));
    // Before anything is in force: an error naming the parameter and date.
    let err = amt("511802", None, d(2024, 12, 31)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "参数“城市最低生活保障·低保标准”在2024-12-31没有生效的取值(地区511802)，请先维护参数表"
    );
    // Another city: nothing, never the 雅安 value.
    assert!(amt("510104", None, d(2026, 1, 1)).is_err());
    // The city itself does not match a county override.
    assert_eq!(amt("5118", None, d(2025, 8, 1)), Ok(780));
}

#[test]
fn a_county_figure_beats_a_newer_urban_figure_of_the_city() {
    let city = Scope::city(code("5118"));
    let county = Scope {
        county: Some(code("511826")),
        ..city.clone()
    };
    let urban = Scope {
        urban_rural: Some(UrbanRural::Urban),
        ..city
    };
    let mut s = ParamSet::new();
    s.insert(entry(county, d(2025, 7, 1), 800)).unwrap();
    s.insert(entry(urban, d(2026, 1, 1), 900)).unwrap();
    let on = d(2026, 3, 1);
    let standard = |region: &str| s.resolve(KEY, &code(region), Some(UrbanRural::Urban), on);
    assert_eq!(standard("511826"), Ok(&ParamValue::Amount(Fen(80_000))));
    assert_eq!(standard("511802"), Ok(&ParamValue::Amount(Fen(90_000))));
}

#[test]
fn a_second_figure_for_the_same_scope_and_day_is_refused_naming_the_scope() {
    let city = Scope::city(code("5118"));
    let county_urban = Scope {
        county: Some(code("511826")),
        urban_rural: Some(UrbanRural::Urban),
        ..city.clone()
    };
    let mut s = ParamSet::new();
    for scope in [city, county_urban] {
        s.insert(entry(scope.clone(), d(2025, 1, 1), 780)).unwrap();
    }
    let again = |scope| {
        let mut s = s.clone();
        s.insert(entry(scope, d(2025, 1, 1), 790))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        again(Scope::city(code("5118"))),
        "参数“城市最低生活保障·低保标准”在5118自2025-01-01起已有取值，不能重复"
    );
    assert_eq!(
        again(Scope {
            county: Some(code("511826")),
            urban_rural: Some(UrbanRural::Urban),
            ..Scope::city(code("5118"))
        }),
        "参数“城市最低生活保障·低保标准”在511826城市自2025-01-01起已有取值，不能重复"
    );
}

#[test]
fn parameter_sets_are_equal_when_their_entries_are() {
    let city = Scope::city(code("5118"));
    let mut a = ParamSet::new();
    a.insert(entry(city.clone(), d(2025, 1, 1), 780)).unwrap();
    let mut b = a.clone();
    // Looking a value up does not make a set another one.
    assert!(a.resolve(KEY, &code("511802"), None, d(2025, 6, 1)).is_ok());
    assert_eq!(a, b);
    b.insert(entry(city, d(2026, 1, 1), 810)).unwrap();
    assert_ne!(a, b);
}

#[test]
fn insert_checks() {
    let mut s = ParamSet::new();
    let city = Scope::city(code("5118"));
    s.insert(entry(city.clone(), d(2025, 1, 1), 1)).unwrap();
    assert!(matches!(
        s.insert(entry(city.clone(), d(2025, 1, 1), 2)),
        Err(ParamError::Duplicate { .. })
    ));
    let mut bad = entry(city.clone(), d(2025, 2, 1), 1);
    bad.value = ParamValue::Days(3);
    assert!(matches!(s.insert(bad), Err(ParamError::WrongType { .. })));
    let mut bad = entry(city.clone(), d(2025, 2, 1), 1);
    bad.scope.county = Some(code("510104"));
    assert!(matches!(s.insert(bad), Err(ParamError::BadScope { .. })));
    let mut bad = entry(Scope::city(code("511802")), d(2025, 2, 1), 1);
    bad.scope.county = None;
    assert!(matches!(s.insert(bad), Err(ParamError::BadScope { .. })));
    let grace = ParamEntry {
        key: ParamKey::new(Program::UrbanDibao, ParamName::GracePeriodMonths),
        scope: city,
        effective_from: d(2025, 1, 1),
        value: ParamValue::Months(13),
        source: String::new(),
    };
    assert!(matches!(
        s.insert(grace),
        Err(ParamError::OutOfRange { .. })
    ));
}

#[test]
fn demo_set_is_consistent() {
    let (s, rejected) = ParamSet::demo_yaan_checked();
    // Every demo row was accepted (the builder cannot panic, so it counts refusals).
    assert_eq!(rejected, 0);
    assert!(s.entries().len() > 200);
    assert!(s.entries().iter().all(|e| e.source.contains("演示")));
    let r = code("511802");
    let q = s.at(&r, Some(UrbanRural::Urban), d(2025, 6, 1));
    assert_eq!(q.dibao_standard(), Ok(Fen(78_000)));
    let q = s.at(&r, Some(UrbanRural::Rural), d(2026, 6, 1));
    assert_eq!(q.dibao_standard(), Ok(Fen(63_000)));
    assert!(s.at(&r, None, d(2026, 6, 1)).dibao_standard().is_err());
    assert_eq!(
        q.ratio(Program::Tekun, ParamName::CareRatio(CareLevel::Partial)),
        Ok(Ratio::fraction(1, 6))
    );
    assert!(matches!(
        q.amount(Program::Tekun, ParamName::CareRatio(CareLevel::Partial)),
        Err(ParamError::WrongType { .. })
    ));
    assert_eq!(
        q.working_days(Program::Tekun, ParamName::ConfirmationWorkingDays),
        Ok(10)
    );
    let lushan = code("511826");
    let bands = s
        .at(&lushan, None, d(2026, 2, 1))
        .age_bands(Program::OldAgeAllowance, ParamName::AgeBands)
        .unwrap();
    assert_eq!(bands[2].monthly, Fen(80_000));
}

#[test]
fn param_codes_round_trip() {
    let mut names: Vec<ParamName> = ParamName::SIMPLE.to_vec();
    names.extend(CareLevel::ALL.iter().map(|l| ParamName::CareRatio(*l)));
    names.extend(
        SchoolStage::ALL
            .iter()
            .map(|l| ParamName::EducationGrant(*l)),
    );
    names.extend(
        ReliefStage::ALL
            .iter()
            .map(|l| ParamName::DisasterGrant(*l)),
    );
    names.extend(
        TemporaryKind::ALL
            .iter()
            .map(|l| ParamName::TemporaryCapRatio(*l)),
    );
    names.extend(
        SupplementCategory::ALL
            .iter()
            .map(|l| ParamName::ClassifiedSupplement(*l)),
    );
    let mut seen = std::collections::HashSet::new();
    for n in names {
        assert_eq!(ParamName::parse_code(&n.code()), Some(n), "{}", n.code());
        assert!(seen.insert(n.code()));
        assert!(!n.label().is_empty());
    }
    assert_eq!(ParamName::parse_code("care_ratio.none"), None);
    assert_eq!(ParamName::parse_code("nope"), None);
}

proptest! {
    #[test]
    fn rounding_brackets_the_exact_value(num in -10_000_000i64..10_000_000, den in 1i64..1000) {
        let x = Exact::new(num.into(), den.into());
        let up = Rounding::UpToYuan.apply(x).unwrap();
        let down = Rounding::DownToYuan.apply(x).unwrap();
        let half = Rounding::HalfUpToYuan.apply(x).unwrap();
        let fen = Rounding::ToFen.apply(x).unwrap();
        prop_assert!(Exact::from_fen(down).cmp_exact(x) != Ordering::Greater);
        prop_assert!(Exact::from_fen(up).cmp_exact(x) != Ordering::Less);
        prop_assert!(up.0 - down.0 == 0 || up.0 - down.0 == 100);
        prop_assert!(half == up || half == down);
        prop_assert!(fen.0 * den - num <= den && num - fen.0 * den <= den);
    }

    #[test]
    fn resolve_never_returns_future_values(day in 0u32..800) {
        let s = ParamSet::demo_yaan();
        let on = d(2024, 12, 1) + chrono::Days::new(day.into());
        let r = code("511803");
        match s.resolve_entry(KEY, &r, None, on) {
            Ok(e) => prop_assert!(e.effective_from <= on),
            Err(_) => prop_assert!(on < d(2025, 1, 1)),
        }
    }
}
