//! Tests of the Vietnamese lunar calendar.
//!
//! Where the expected values come from:
//! - Tết, Hùng Kings day and leap months quoted in the brief and in the public
//!   announcements of the day-off schedules (Tết 2019–2026, Giỗ Tổ 2019–2026; see
//!   `calendar/tests.rs` for the documents).
//! - The tables over 1900–2100 were cross-checked, outside this repository, against
//!   (a) a precise computation of every new moon and major solar term with the
//!   VSOP87/ELP ephemeris of the `ephem` (PyEphem 4.2.1) package, applying the same
//!   calendar rules at UTC+7 and UTC+8: all 2 490 month starts agree except three
//!   whose new moon falls within 30 s of local midnight (see
//!   `near_midnight_new_moons_follow_the_published_algorithm`); and (b) the
//!   `lunar-vn` 1.4.0 package (another implementation of Hồ Ngọc Đức's algorithm):
//!   all month starts and names agree. At UTC+8 the result agrees with the Hong Kong
//!   Observatory–based table of the `lunardate` package for 1929–2099 except the
//!   months beginning 1933-07-22, 1954-11-26, 1978-09-02 and 2097-08-07/08, which
//!   are near-midnight new moons too (the precise ephemeris sides with this module on
//!   the first three).

use super::*;

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn parse(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Tết (lunar 1/1) in Vietnam, 2000–2035.
const TET: [(i32, &str); 36] = [
    (2000, "2000-02-05"),
    (2001, "2001-01-24"),
    (2002, "2002-02-12"),
    (2003, "2003-02-01"),
    (2004, "2004-01-22"),
    (2005, "2005-02-09"),
    (2006, "2006-01-29"),
    (2007, "2007-02-17"),
    (2008, "2008-02-07"),
    (2009, "2009-01-26"),
    (2010, "2010-02-14"),
    (2011, "2011-02-03"),
    (2012, "2012-01-23"),
    (2013, "2013-02-10"),
    (2014, "2014-01-31"),
    (2015, "2015-02-19"),
    (2016, "2016-02-08"),
    (2017, "2017-01-28"),
    (2018, "2018-02-16"),
    (2019, "2019-02-05"),
    (2020, "2020-01-25"),
    (2021, "2021-02-12"),
    (2022, "2022-02-01"),
    (2023, "2023-01-22"),
    (2024, "2024-02-10"),
    (2025, "2025-01-29"),
    (2026, "2026-02-17"),
    (2027, "2027-02-06"),
    (2028, "2028-01-26"),
    (2029, "2029-02-13"),
    (2030, "2030-02-02"),
    (2031, "2031-01-23"),
    (2032, "2032-02-11"),
    (2033, "2033-01-31"),
    (2034, "2034-02-19"),
    (2035, "2035-02-08"),
];

/// Giỗ Tổ Hùng Vương (lunar 10/3), 2000–2035.
const HUNG_KINGS: [(i32, &str); 36] = [
    (2000, "2000-04-14"),
    (2001, "2001-04-03"),
    (2002, "2002-04-22"),
    (2003, "2003-04-11"),
    (2004, "2004-04-28"),
    (2005, "2005-04-18"),
    (2006, "2006-04-07"),
    (2007, "2007-04-26"),
    (2008, "2008-04-15"),
    (2009, "2009-04-04"),
    (2010, "2010-04-23"),
    (2011, "2011-04-12"),
    (2012, "2012-03-31"),
    (2013, "2013-04-19"),
    (2014, "2014-04-09"),
    (2015, "2015-04-28"),
    (2016, "2016-04-16"),
    (2017, "2017-04-06"),
    (2018, "2018-04-25"),
    (2019, "2019-04-14"),
    (2020, "2020-04-02"),
    (2021, "2021-04-21"),
    (2022, "2022-04-10"),
    (2023, "2023-04-29"),
    (2024, "2024-04-18"),
    (2025, "2025-04-07"),
    (2026, "2026-04-26"),
    (2027, "2027-04-16"),
    (2028, "2028-04-04"),
    (2029, "2029-04-23"),
    (2030, "2030-04-12"),
    (2031, "2031-04-01"),
    (2032, "2032-04-19"),
    (2033, "2033-04-09"),
    (2034, "2034-04-28"),
    (2035, "2035-04-17"),
];

/// Every leap month of the Vietnamese calendar, lunar years 1950–2100.
const LEAP_MONTHS: [(i32, u32); 55] = [
    (1952, 5),
    (1955, 3),
    (1957, 8),
    (1960, 6),
    (1963, 4),
    (1966, 3),
    (1968, 7),
    (1971, 5),
    (1974, 4),
    (1976, 8),
    (1979, 6),
    (1982, 4),
    (1985, 2),
    (1987, 7),
    (1990, 5),
    (1993, 3),
    (1995, 8),
    (1998, 5),
    (2001, 4),
    (2004, 2),
    (2006, 7),
    (2009, 5),
    (2012, 4),
    (2014, 9),
    (2017, 6),
    (2020, 4),
    (2023, 2),
    (2025, 6),
    (2028, 5),
    (2031, 3),
    (2033, 11),
    (2036, 6),
    (2039, 5),
    (2042, 2),
    (2044, 7),
    (2047, 5),
    (2050, 3),
    (2052, 8),
    (2055, 6),
    (2058, 4),
    (2061, 3),
    (2063, 7),
    (2066, 5),
    (2069, 4),
    (2071, 8),
    (2074, 6),
    (2077, 4),
    (2080, 3),
    (2082, 7),
    (2085, 5),
    (2088, 4),
    (2090, 8),
    (2093, 6),
    (2096, 4),
    (2099, 2),
];

#[test]
fn tet_2000_to_2035() {
    for (year, date) in TET {
        let tet = parse(date);
        assert_eq!(lunar_new_year(year), Some(tet), "Tết {year}");
        assert_eq!(solar_to_lunar(tet), LunarDate::new(year, 1, 1), "{date}");
        // The day before is the last day of the previous lunar year: 29 or 30
        // of month 12.
        let eve = solar_to_lunar(tet.pred_opt().unwrap());
        assert_eq!((eve.year, eve.month, eve.leap), (year - 1, 12, false));
        assert!(eve.day == 29 || eve.day == 30, "{eve:?}");
    }
}

#[test]
fn tet_dates_named_in_the_brief() {
    for (year, date) in [
        (2024, ymd(2024, 2, 10)),
        (2025, ymd(2025, 1, 29)),
        (2026, ymd(2026, 2, 17)),
        (2023, ymd(2023, 1, 22)),
        (2020, ymd(2020, 1, 25)),
        (2007, ymd(2007, 2, 17)),
    ] {
        assert_eq!(lunar_new_year(year), Some(date));
    }
}

#[test]
fn last_day_of_the_lunar_year() {
    // Announcements: 8/2/2024 was 29 tháng Chạp Quý Mão, so 9/2 was the 30th;
    // 2025 "không có 30 tháng Chạp" (28/1/2025 was the 29th); 16/2/2026 was
    // 29 tháng Chạp Ất Tỵ and 14/2/2026 the 27th.
    assert_eq!(
        solar_to_lunar(ymd(2024, 2, 8)),
        LunarDate::new(2023, 12, 29)
    );
    assert_eq!(
        solar_to_lunar(ymd(2024, 2, 9)),
        LunarDate::new(2023, 12, 30)
    );
    assert_eq!(
        solar_to_lunar(ymd(2025, 1, 27)),
        LunarDate::new(2024, 12, 28)
    );
    assert_eq!(
        solar_to_lunar(ymd(2025, 1, 28)),
        LunarDate::new(2024, 12, 29)
    );
    assert_eq!(lunar_to_solar(LunarDate::new(2024, 12, 30)), None);
    assert_eq!(
        solar_to_lunar(ymd(2026, 2, 14)),
        LunarDate::new(2025, 12, 27)
    );
    assert_eq!(
        solar_to_lunar(ymd(2026, 2, 16)),
        LunarDate::new(2025, 12, 29)
    );
    assert_eq!(month_length(2023, 12, false), Some(30));
    assert_eq!(month_length(2024, 12, false), Some(29));
    assert_eq!(month_length(2025, 12, false), Some(29));
    // 22/2/2026, the last day off, is mùng 6 Tết Bính Ngọ.
    assert_eq!(solar_to_lunar(ymd(2026, 2, 22)), LunarDate::new(2026, 1, 6));
}

#[test]
fn hung_kings_day_2000_to_2035() {
    for (year, date) in HUNG_KINGS {
        let day = parse(date);
        assert_eq!(
            lunar_to_solar(LunarDate::new(year, 3, 10)),
            Some(day),
            "Giỗ Tổ {year}"
        );
        assert_eq!(solar_to_lunar(day), LunarDate::new(year, 3, 10));
    }
}

#[test]
fn leap_months_1950_to_2100() {
    let mut expected = LEAP_MONTHS.iter().copied().peekable();
    for year in 1950..=2100 {
        let want = match expected.peek() {
            Some(&(y, m)) if y == year => {
                expected.next();
                Some(m)
            }
            _ => None,
        };
        assert_eq!(leap_month(year), want, "lunar year {year}");
        // A year has 13 months exactly when it has a leap month, and its length
        // is 353–355 days or 383–385 days.
        let length = (lunar_new_year(year + 1).unwrap() - lunar_new_year(year).unwrap()).num_days();
        if want.is_some() {
            assert!((383..=385).contains(&length), "{year}: {length}");
        } else {
            assert!((353..=355).contains(&length), "{year}: {length}");
        }
    }
}

#[test]
fn leap_months_named_in_the_brief() {
    // 2023: leap 2nd month; 2020: leap 4th; 2025: leap 6th.
    assert_eq!(
        lunar_to_solar(LunarDate::new_leap(2023, 2, 1)),
        Some(ymd(2023, 3, 22))
    );
    assert_eq!(
        lunar_to_solar(LunarDate::new_leap(2020, 4, 1)),
        Some(ymd(2020, 5, 23))
    );
    assert_eq!(
        lunar_to_solar(LunarDate::new_leap(2025, 6, 1)),
        Some(ymd(2025, 7, 25))
    );
    assert_eq!(
        solar_to_lunar(ymd(2025, 7, 25)),
        LunarDate::new_leap(2025, 6, 1)
    );
    // The ordinary month comes first, the leap month right after it.
    assert_eq!(
        lunar_to_solar(LunarDate::new(2025, 6, 1)),
        Some(ymd(2025, 6, 25))
    );
    assert_eq!(
        lunar_to_solar(LunarDate::new(2025, 7, 1)),
        Some(ymd(2025, 8, 23))
    );
    // 2033 has the rare leap 11th month (the "2033 problem" of the Chinese
    // calendar, resolved the same way).
    assert_eq!(leap_month(2033), Some(11));
    assert_eq!(
        lunar_to_solar(LunarDate::new_leap(2033, 11, 1)),
        Some(ymd(2033, 12, 22))
    );
    assert_eq!(
        solar_to_lunar(ymd(2034, 1, 1)),
        LunarDate::new_leap(2033, 11, 11)
    );
}

#[test]
fn differences_from_the_chinese_calendar() {
    // The same rules at UTC+8 give the Chinese calendar; Vietnam's differs.
    let tet = |year: i32, tz: f64| to_solar(LunarDate::new(year, 1, 1), tz).and_then(date_of_jdn);
    // Tết 1985: Vietnam 21 January, China 20 February (Vietnam had no leap month
    // in 1984 but a leap 2nd month in 1985; China a leap 10th month in 1984).
    assert_eq!(tet(1985, 7.0), Some(ymd(1985, 1, 21)));
    assert_eq!(tet(1985, 8.0), Some(ymd(1985, 2, 20)));
    assert_eq!(leap_month_tz(1984, 8.0), Some(10));
    assert_eq!(leap_month_tz(1984, 7.0), None);
    assert_eq!(leap_month_tz(1985, 7.0), Some(2));
    // Tết 2007: Vietnam 17 February, China 18 February.
    assert_eq!(tet(2007, 7.0), Some(ymd(2007, 2, 17)));
    assert_eq!(tet(2007, 8.0), Some(ymd(2007, 2, 18)));
    // Tết Mậu Thân 1968: 29 January in (North) Vietnam, 30 January in China.
    assert_eq!(tet(1968, 7.0), Some(ymd(1968, 1, 29)));
    assert_eq!(tet(1968, 8.0), Some(ymd(1968, 1, 30)));
    // Tết 2030: 2 February in Vietnam, 3 February in China.
    assert_eq!(tet(2030, 7.0), Some(ymd(2030, 2, 2)));
    assert_eq!(tet(2030, 8.0), Some(ymd(2030, 2, 3)));
    // 1987: Vietnam leap 7th month, China leap 6th month.
    assert_eq!(leap_month_tz(1987, 7.0), Some(7));
    assert_eq!(leap_month_tz(1987, 8.0), Some(6));
    // Chinese New Year in well-known years, as a check of the method itself.
    for (year, date) in [
        (2000, ymd(2000, 2, 5)),
        (2010, ymd(2010, 2, 14)),
        (2020, ymd(2020, 1, 25)),
        (2023, ymd(2023, 1, 22)),
        (2024, ymd(2024, 2, 10)),
        (2025, ymd(2025, 1, 29)),
        (2026, ymd(2026, 2, 17)),
    ] {
        assert_eq!(tet(year, 8.0), Some(date), "{year}");
    }
}

#[test]
fn near_midnight_new_moons_follow_the_published_algorithm() {
    // Precise ephemerides put these new moons at 23:59:32 (1944-06-20),
    // 23:58:28 (2072-12-09) and 23:59:34 (2077-11-15) Vietnam time; the
    // simplified formulas, like every calendar built on them, start the month the
    // next day. Pinned here so that a change of formulas is a conscious decision.
    assert_eq!(solar_to_lunar(ymd(1944, 6, 21)).day, 1);
    assert_eq!(
        solar_to_lunar(ymd(2072, 12, 10)),
        LunarDate::new(2072, 11, 1)
    );
    assert_eq!(
        solar_to_lunar(ymd(2077, 11, 16)),
        LunarDate::new(2077, 10, 1)
    );
}

#[test]
fn other_known_days() {
    // Trung thu (15/8) 2024 and 2025; Vu Lan (15/7) 2025 in the leap year.
    assert_eq!(
        solar_to_lunar(ymd(2024, 9, 17)),
        LunarDate::new(2024, 8, 15)
    );
    assert_eq!(
        solar_to_lunar(ymd(2025, 10, 6)),
        LunarDate::new(2025, 8, 15)
    );
    assert_eq!(solar_to_lunar(ymd(2025, 9, 6)), LunarDate::new(2025, 7, 15));
    // Examples from Hồ Ngọc Đức's article: 1984 was an ordinary year whose month
    // 11 of the previous year began on 4/12/1983, month 12 on 3/1/1984 and month
    // 1 on 2/2/1984.
    assert_eq!(
        solar_to_lunar(ymd(1983, 12, 4)),
        LunarDate::new(1983, 11, 1)
    );
    assert_eq!(solar_to_lunar(ymd(1984, 1, 3)), LunarDate::new(1983, 12, 1));
    assert_eq!(lunar_new_year(1984), Some(ymd(1984, 2, 2)));
    assert_eq!(solar_to_lunar(ymd(1900, 1, 31)), LunarDate::new(1900, 1, 1));
    assert_eq!(solar_to_lunar(ymd(2100, 12, 31)).year, 2100);
}

#[test]
fn round_trip_every_day_1950_to_2100() {
    let mut day = ymd(1950, 1, 1);
    let end = ymd(2100, 12, 31);
    let mut previous = solar_to_lunar(day.pred_opt().unwrap());
    while day <= end {
        let lunar = solar_to_lunar(day);
        assert!((1..=12).contains(&lunar.month), "{day}: {lunar:?}");
        assert!((1..=30).contains(&lunar.day), "{day}: {lunar:?}");
        assert_eq!(lunar_to_solar(lunar), Some(day), "{day}: {lunar:?}");
        // Consecutive days: either the next day of the same month, or day 1 of the
        // next month after day 29 or 30.
        if lunar.day == 1 {
            assert!(
                previous.day == 29 || previous.day == 30,
                "{day}: {previous:?}"
            );
            assert!(previous < lunar, "{day}");
        } else {
            assert_eq!(
                (lunar.year, lunar.month, lunar.leap, lunar.day),
                (
                    previous.year,
                    previous.month,
                    previous.leap,
                    previous.day + 1
                ),
                "{day}"
            );
        }
        previous = lunar;
        day = day.succ_opt().unwrap();
    }
}

#[test]
fn every_lunar_date_1950_to_2099_converts_back() {
    for year in 1950..=2099 {
        let leap = leap_month(year);
        for month in 1..=12 {
            for is_leap in [false, true] {
                let exists = !is_leap || leap == Some(month);
                let length = month_length(year, month, is_leap);
                assert_eq!(length.is_some(), exists, "{year}/{month} leap={is_leap}");
                for day in 1..=30 {
                    let date = LunarDate {
                        year,
                        month,
                        leap: is_leap,
                        day,
                    };
                    match lunar_to_solar(date) {
                        Some(solar) => assert_eq!(solar_to_lunar(solar), date),
                        None => assert!(
                            !exists || (day == 30 && length == Some(29)),
                            "{date:?} should exist"
                        ),
                    }
                }
            }
        }
    }
}

#[test]
fn rejects_dates_that_do_not_exist() {
    assert_eq!(lunar_to_solar(LunarDate::new(2025, 0, 1)), None);
    assert_eq!(lunar_to_solar(LunarDate::new(2025, 13, 1)), None);
    assert_eq!(lunar_to_solar(LunarDate::new(2025, 1, 0)), None);
    assert_eq!(lunar_to_solar(LunarDate::new(2025, 1, 31)), None);
    // 2023's leap month is the 2nd, not the 3rd; 2024 has none.
    assert_eq!(lunar_to_solar(LunarDate::new_leap(2023, 3, 1)), None);
    assert_eq!(lunar_to_solar(LunarDate::new_leap(2024, 4, 1)), None);
    assert_eq!(month_length(2024, 4, true), None);
    assert_eq!(month_length(2024, 13, false), None);
}

#[test]
fn far_dates_do_not_panic() {
    for date in [
        NaiveDate::MIN,
        NaiveDate::MAX,
        ymd(1, 1, 1),
        ymd(9999, 12, 31),
    ] {
        let _ = solar_to_lunar(date);
    }
    for year in [i32::MIN, -100_000, 0, 100_000, i32::MAX] {
        let _ = lunar_to_solar(LunarDate::new(year, 1, 1));
        let _ = leap_month(year);
        let _ = year_name(year);
    }
}

#[test]
fn year_names() {
    assert_eq!(year_name(1984), "Giáp Tý");
    assert_eq!(year_name(1968), "Mậu Thân");
    assert_eq!(year_name(2023), "Quý Mão");
    assert_eq!(year_name(2024), "Giáp Thìn");
    assert_eq!(year_name(2025), "Ất Tỵ");
    assert_eq!(year_name(2026), "Bính Ngọ");
}

#[test]
fn display_and_order() {
    assert_eq!(LunarDate::new(2025, 3, 10).to_string(), "10/3/2025");
    assert_eq!(LunarDate::new_leap(2025, 6, 15).to_string(), "15/6n/2025");
    assert!(LunarDate::new(2025, 6, 30) < LunarDate::new_leap(2025, 6, 1));
    assert!(LunarDate::new_leap(2025, 6, 29) < LunarDate::new(2025, 7, 1));
    let json = serde_json::to_string(&LunarDate::new_leap(2025, 6, 1)).unwrap();
    assert_eq!(
        serde_json::from_str::<LunarDate>(&json).unwrap(),
        LunarDate::new_leap(2025, 6, 1)
    );
}
