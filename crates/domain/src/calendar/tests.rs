//! Tests of the working-day calendar.
//!
//! Official schedules (for civil servants and public employees) used below, as
//! reported by the press that quoted the documents:
//! - 2024: Văn bản 8662/VPCP-KGVX of 03/11/2023 (Tết 08/02–14/02/2024, i.e. 29
//!   tháng Chạp to mùng 5, "5 ngày nghỉ Tết và 2 ngày nghỉ bù"; Quốc khánh
//!   31/8–03/9/2024); Công văn 2450/VPCP-KGVX of 12/4/2024 (30/4–1/5: off
//!   27/4–01/5/2024, Monday 29/4 swapped for Saturday 04/5). Giỗ Tổ on Thursday
//!   18/4/2024, one day (baotintuc.vn infographic of 12/4/2024).
//! - 2025: Công văn 8726/VPCP-KGVX of 26/11/2024 and Thông báo 6150/TB-BLĐTBXH
//!   (Tết holidays Monday 27/01–Friday 31/01/2025, off 25/01–02/02; 30/4–1/5: off
//!   30/4–04/5, Friday 2/5 swapped for Saturday 26/4; Quốc khánh off
//!   30/8–02/9/2025; Tết Dương lịch Wednesday 1/1/2025 only; Giỗ Tổ off 5–7/4/2025).
//! - 2026: Công văn 12729/VPCP-KGVX of 25/12/2025 (Tết Dương lịch off
//!   01/01–04/01/2026, Friday 2/1 swapped for Saturday 10/1); Thông báo
//!   9441/TB-BNV of 16/10/2025 (Tết holidays Monday 16/02–Friday 20/02/2026, off
//!   14/02–22/02; Quốc khánh 1–2/9, off 29/8–02/9/2026, Monday 31/8 swapped for
//!   Saturday 22/8). Giỗ Tổ falls on Sunday 26/4/2026 and is compensated on Monday
//!   27/4 (off 25–27/4), 30/4–1/5 are Thursday–Friday (off 30/4–3/5): reported by
//!   Thanh Niên (23/02/2026) and Kênh 14 (11/03/2026) as following directly from
//!   the Labour Code, with no swap decided at the time. Whether a swap for 30/4
//!   2026 was decided later could not be confirmed.
//! - Not found: a document for Tết Dương lịch 2024 (Monday 1/1/2024; the test
//!   only assumes the statutory single day).

use super::*;

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn announced() -> WorkingCalendar {
    WorkingCalendar::new(Overrides::announced_2024_2026()).unwrap()
}

fn days(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |d| *d <= to)
}

/// The non-ordinary days of a year as (date, what) with a compact notation:
/// "H:<holiday>" holiday, "B:<holiday>" compensatory, "off" / "work" overrides.
fn special(calendar: &WorkingCalendar, year: i32) -> Vec<(NaiveDate, String)> {
    calendar
        .special_days(year)
        .into_iter()
        .map(|(d, k)| {
            let what = match k {
                DayKind::Holiday(h) => format!("H:{h:?}"),
                DayKind::Compensatory(h) => format!("B:{h:?}"),
                DayKind::ExtraDayOff { .. } => "off".to_owned(),
                DayKind::ExtraWorkingDay { .. } => "work".to_owned(),
                DayKind::Working | DayKind::WeeklyRest => unreachable!(),
            };
            (d, what)
        })
        .collect()
}

fn expect(list: &[((i32, u32, u32), &str)]) -> Vec<(NaiveDate, String)> {
    list.iter()
        .map(|&((y, m, d), what)| (ymd(y, m, d), what.to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------
// Statutory holidays

#[test]
fn statutory_holidays_2024() {
    // Tết 10/2/2024 (Saturday): default days 9/2 (30 tháng Chạp) to 13/2; 10 and
    // 11/2 fall on the weekend, compensated on 14 and 15/2. 1/9 is a Sunday,
    // compensated on 3/9 (2/9 being the holiday).
    let calendar = WorkingCalendar::statutory();
    assert_eq!(
        special(&calendar, 2024),
        expect(&[
            ((2024, 1, 1), "H:NewYear"),
            ((2024, 2, 9), "H:LunarNewYear"),
            ((2024, 2, 10), "H:LunarNewYear"),
            ((2024, 2, 11), "H:LunarNewYear"),
            ((2024, 2, 12), "H:LunarNewYear"),
            ((2024, 2, 13), "H:LunarNewYear"),
            ((2024, 2, 14), "B:LunarNewYear"),
            ((2024, 2, 15), "B:LunarNewYear"),
            ((2024, 4, 18), "H:HungKings"),
            ((2024, 4, 30), "H:VictoryDay"),
            ((2024, 5, 1), "H:LabourDay"),
            ((2024, 9, 1), "H:NationalDay"),
            ((2024, 9, 2), "H:NationalDay"),
            ((2024, 9, 3), "B:NationalDay"),
        ])
    );
}

#[test]
fn statutory_holidays_2025() {
    // Tết 29/1/2025: 28/1 (29 tháng Chạp, no 30th that year) to 1/2 (Saturday,
    // compensated on Monday 3/2).
    let calendar = WorkingCalendar::statutory();
    assert_eq!(
        special(&calendar, 2025),
        expect(&[
            ((2025, 1, 1), "H:NewYear"),
            ((2025, 1, 28), "H:LunarNewYear"),
            ((2025, 1, 29), "H:LunarNewYear"),
            ((2025, 1, 30), "H:LunarNewYear"),
            ((2025, 1, 31), "H:LunarNewYear"),
            ((2025, 2, 1), "H:LunarNewYear"),
            ((2025, 2, 3), "B:LunarNewYear"),
            ((2025, 4, 7), "H:HungKings"),
            ((2025, 4, 30), "H:VictoryDay"),
            ((2025, 5, 1), "H:LabourDay"),
            ((2025, 9, 1), "H:NationalDay"),
            ((2025, 9, 2), "H:NationalDay"),
        ])
    );
}

#[test]
fn statutory_holidays_2026() {
    // Tết 17/2/2026: 16/2 (29 tháng Chạp) to 20/2. Giỗ Tổ on Sunday 26/4,
    // compensated on Monday 27/4.
    let calendar = WorkingCalendar::statutory();
    assert_eq!(
        special(&calendar, 2026),
        expect(&[
            ((2026, 1, 1), "H:NewYear"),
            ((2026, 2, 16), "H:LunarNewYear"),
            ((2026, 2, 17), "H:LunarNewYear"),
            ((2026, 2, 18), "H:LunarNewYear"),
            ((2026, 2, 19), "H:LunarNewYear"),
            ((2026, 2, 20), "H:LunarNewYear"),
            ((2026, 4, 26), "H:HungKings"),
            ((2026, 4, 27), "B:HungKings"),
            ((2026, 4, 30), "H:VictoryDay"),
            ((2026, 5, 1), "H:LabourDay"),
            ((2026, 9, 1), "H:NationalDay"),
            ((2026, 9, 2), "H:NationalDay"),
        ])
    );
}

#[test]
fn announced_holidays_2024_2025_2026() {
    let calendar = announced();
    assert_eq!(
        special(&calendar, 2024),
        expect(&[
            ((2024, 1, 1), "H:NewYear"),
            ((2024, 2, 8), "H:LunarNewYear"),
            ((2024, 2, 9), "H:LunarNewYear"),
            ((2024, 2, 10), "H:LunarNewYear"),
            ((2024, 2, 11), "H:LunarNewYear"),
            ((2024, 2, 12), "H:LunarNewYear"),
            ((2024, 2, 13), "B:LunarNewYear"),
            ((2024, 2, 14), "B:LunarNewYear"),
            ((2024, 4, 18), "H:HungKings"),
            ((2024, 4, 29), "off"),
            ((2024, 4, 30), "H:VictoryDay"),
            ((2024, 5, 1), "H:LabourDay"),
            ((2024, 5, 4), "work"),
            ((2024, 9, 2), "H:NationalDay"),
            ((2024, 9, 3), "H:NationalDay"),
        ])
    );
    assert_eq!(
        special(&calendar, 2025),
        expect(&[
            ((2025, 1, 1), "H:NewYear"),
            ((2025, 1, 27), "H:LunarNewYear"),
            ((2025, 1, 28), "H:LunarNewYear"),
            ((2025, 1, 29), "H:LunarNewYear"),
            ((2025, 1, 30), "H:LunarNewYear"),
            ((2025, 1, 31), "H:LunarNewYear"),
            ((2025, 4, 7), "H:HungKings"),
            ((2025, 4, 26), "work"),
            ((2025, 4, 30), "H:VictoryDay"),
            ((2025, 5, 1), "H:LabourDay"),
            ((2025, 5, 2), "off"),
            ((2025, 9, 1), "H:NationalDay"),
            ((2025, 9, 2), "H:NationalDay"),
        ])
    );
    assert_eq!(
        special(&calendar, 2026),
        expect(&[
            ((2026, 1, 1), "H:NewYear"),
            ((2026, 1, 2), "off"),
            ((2026, 1, 10), "work"),
            ((2026, 2, 16), "H:LunarNewYear"),
            ((2026, 2, 17), "H:LunarNewYear"),
            ((2026, 2, 18), "H:LunarNewYear"),
            ((2026, 2, 19), "H:LunarNewYear"),
            ((2026, 2, 20), "H:LunarNewYear"),
            ((2026, 4, 26), "H:HungKings"),
            ((2026, 4, 27), "B:HungKings"),
            ((2026, 4, 30), "H:VictoryDay"),
            ((2026, 5, 1), "H:LabourDay"),
            ((2026, 8, 22), "work"),
            ((2026, 8, 31), "off"),
            ((2026, 9, 1), "H:NationalDay"),
            ((2026, 9, 2), "H:NationalDay"),
        ])
    );
}

#[test]
fn holiday_names_in_vietnamese() {
    let calendar = announced();
    let name = |y, m, d| calendar.holiday_name(ymd(y, m, d));
    assert_eq!(name(2025, 1, 1), Some("Tết Dương lịch"));
    assert_eq!(name(2025, 1, 27), Some("Tết Âm lịch"));
    assert_eq!(name(2025, 4, 7), Some("Giỗ Tổ Hùng Vương"));
    assert_eq!(name(2025, 4, 30), Some("Ngày Chiến thắng"));
    assert_eq!(name(2025, 5, 1), Some("Ngày Quốc tế lao động"));
    assert_eq!(name(2025, 9, 1), Some("Quốc khánh"));
    assert_eq!(name(2025, 9, 2), Some("Quốc khánh"));
    assert_eq!(name(2024, 9, 3), Some("Quốc khánh"));
    assert_eq!(name(2024, 2, 14), Some("Nghỉ bù Tết Âm lịch"));
    assert_eq!(name(2026, 4, 27), Some("Nghỉ bù Giỗ Tổ Hùng Vương"));
    // Swapped days and ordinary days have no holiday name.
    assert_eq!(name(2025, 5, 2), None);
    assert_eq!(name(2025, 4, 26), None);
    assert_eq!(name(2025, 3, 4), None);
    assert_eq!(name(2025, 3, 8), None);
    for h in Holiday::ALL {
        assert!(h.compensatory_name_vi().ends_with(h.name_vi()));
        assert_eq!(h.to_string(), h.name_vi());
    }
}

// ---------------------------------------------------------------------------
// Official schedules

/// An announced period off: every day from `from` to `to` is off, and the days
/// just before and after are working days.
fn assert_period_off(calendar: &WorkingCalendar, from: NaiveDate, to: NaiveDate) {
    for d in days(from, to) {
        assert!(!calendar.is_working_day(d), "{d} should be off");
    }
    let before = from.pred_opt().unwrap();
    let after = to.succ_opt().unwrap();
    assert!(calendar.is_working_day(before), "{before} should be worked");
    assert!(calendar.is_working_day(after), "{after} should be worked");
}

#[test]
fn official_schedules_2024_2025_2026() {
    let calendar = announced();
    // (first day off, last day off) as announced; sources at the top of this file.
    let periods = [
        // 2024
        ((2023, 12, 30), (2024, 1, 1)), // statutory: Monday 1/1 (no document found)
        ((2024, 2, 8), (2024, 2, 14)),  // 8662/VPCP-KGVX
        ((2024, 4, 18), (2024, 4, 18)), // Giỗ Tổ, Thursday
        ((2024, 4, 27), (2024, 5, 1)),  // 2450/VPCP-KGVX
        ((2024, 8, 31), (2024, 9, 3)),  // 8662/VPCP-KGVX
        // 2025
        ((2025, 1, 1), (2025, 1, 1)),  // 8726/VPCP-KGVX: Wednesday only
        ((2025, 1, 25), (2025, 2, 2)), // 8726/VPCP-KGVX, 6150/TB-BLĐTBXH
        ((2025, 4, 5), (2025, 4, 7)),  // Giỗ Tổ with the weekend before
        ((2025, 4, 30), (2025, 5, 4)), // 8726/VPCP-KGVX
        ((2025, 8, 30), (2025, 9, 2)), // 8726/VPCP-KGVX
        // 2026
        ((2026, 1, 1), (2026, 1, 4)),   // 12729/VPCP-KGVX
        ((2026, 2, 14), (2026, 2, 22)), // 9441/TB-BNV
        ((2026, 4, 25), (2026, 4, 27)), // Giỗ Tổ on Sunday, compensated Monday
        ((2026, 4, 30), (2026, 5, 3)),  // Thursday–Sunday, no swap reported
        ((2026, 8, 29), (2026, 9, 2)),  // 9441/TB-BNV
    ];
    for ((y1, m1, d1), (y2, m2, d2)) in periods {
        assert_period_off(&calendar, ymd(y1, m1, d1), ymd(y2, m2, d2));
    }
    // Make-up working Saturdays.
    for (y, m, d) in [(2024, 5, 4), (2025, 4, 26), (2026, 1, 10), (2026, 8, 22)] {
        let date = ymd(y, m, d);
        assert_eq!(date.weekday(), Weekday::Sat);
        assert!(calendar.is_working_day(date), "{date}");
    }
    // Total days off per year for civil servants: 11 holidays, each taking a
    // weekday (directly, or through its compensatory day or a swap).
    for year in [2024, 2025, 2026] {
        let weekdays = days(ymd(year, 1, 1), ymd(year, 12, 31))
            .filter(|d| !is_weekend(*d))
            .count() as i64;
        let worked = calendar.working_days_between(ymd(year - 1, 12, 31), ymd(year, 12, 31));
        assert_eq!(weekdays - worked, 11, "{year}");
    }
}

#[test]
fn earlier_official_schedules() {
    // Tết 2021: off 10/02–16/02/2021 (29 tháng Chạp – mùng 5), Quốc khánh
    // 02/9–05/9/2021 with 3 September as the adjacent day (MOLISA announcement
    // reported by SGGP, 09/12/2020).
    // Tết 2023: off 20/01–26/01/2023 (Phó Thủ tướng Vũ Đức Đam's approval,
    // reported by PLĐ).
    // Tết 2019: off 02/02–10/02/2019; Giỗ Tổ 2019 on Sunday 14/4, off 13–15/4
    // (MOLISA announcement reported by Nhân Dân / VietNamNet, 06/8/2018).
    let calendar = WorkingCalendar::new(Overrides {
        days: vec![],
        years: vec![
            YearChoice {
                year: 2021,
                tet_days_before: Some(2),
                national_day_adjacent: Some(AdjacentDay::After),
                note: String::new(),
            },
            YearChoice {
                year: 2023,
                tet_days_before: Some(2),
                national_day_adjacent: None,
                note: String::new(),
            },
        ],
    })
    .unwrap();
    assert_period_off(&calendar, ymd(2021, 2, 10), ymd(2021, 2, 16));
    assert_period_off(&calendar, ymd(2021, 9, 2), ymd(2021, 9, 5));
    assert_period_off(&calendar, ymd(2021, 1, 1), ymd(2021, 1, 3));
    assert_period_off(&calendar, ymd(2021, 4, 21), ymd(2021, 4, 21));
    // 1 May 2021 was a Saturday, compensated on Monday 3 May.
    assert_period_off(&calendar, ymd(2021, 4, 30), ymd(2021, 5, 3));
    assert_period_off(&calendar, ymd(2023, 1, 20), ymd(2023, 1, 26));
    assert_period_off(&calendar, ymd(2019, 2, 2), ymd(2019, 2, 10));
    assert_period_off(&calendar, ymd(2019, 4, 13), ymd(2019, 4, 15));
}

// ---------------------------------------------------------------------------
// Deadlines

#[test]
fn deadlines_across_weekends() {
    let calendar = WorkingCalendar::statutory();
    let friday = ymd(2025, 3, 7);
    assert_eq!(calendar.add_working_days(friday, 1), ymd(2025, 3, 10));
    assert_eq!(calendar.add_working_days(friday, 5), ymd(2025, 3, 14));
    assert_eq!(calendar.add_working_days(friday, 6), ymd(2025, 3, 17));
    // Received on a Saturday: the first working day counts as one.
    assert_eq!(
        calendar.add_working_days(ymd(2025, 3, 8), 1),
        ymd(2025, 3, 10)
    );
    assert_eq!(
        calendar.add_working_days(ymd(2025, 3, 9), 3),
        ymd(2025, 3, 12)
    );
    // n = 0: the start itself if worked, else the next working day.
    assert_eq!(calendar.add_working_days(friday, 0), friday);
    assert_eq!(
        calendar.add_working_days(ymd(2025, 3, 8), 0),
        ymd(2025, 3, 10)
    );
    assert_eq!(calendar.next_working_day(friday), ymd(2025, 3, 10));
    assert_eq!(
        calendar.next_working_day(ymd(2025, 3, 10)),
        ymd(2025, 3, 11)
    );
    assert_eq!(calendar.working_days_between(friday, ymd(2025, 3, 14)), 5);
    assert_eq!(calendar.working_days_between(ymd(2025, 3, 14), friday), -5);
    assert_eq!(calendar.working_days_between(friday, friday), 0);
    assert_eq!(calendar.working_days_between(friday, ymd(2025, 3, 9)), 0);
}

#[test]
fn deadlines_across_tet() {
    let calendar = announced();
    // 10 working days from Tuesday 10/2/2026: 11, 12, 13/2, then Tết 14–22/2,
    // then 23, 24, 25, 26, 27/2, 2 and 3/3.
    assert_eq!(
        calendar.add_working_days(ymd(2026, 2, 10), 10),
        ymd(2026, 3, 3)
    );
    assert_eq!(
        WorkingCalendar::statutory().add_working_days(ymd(2026, 2, 10), 10),
        ymd(2026, 3, 3)
    );
    assert_eq!(
        calendar.working_days_between(ymd(2026, 2, 10), ymd(2026, 3, 3)),
        10
    );
    assert_eq!(
        calendar.add_working_days(ymd(2026, 2, 10), 3),
        ymd(2026, 2, 13)
    );
    assert_eq!(
        calendar.add_working_days(ymd(2026, 2, 10), 4),
        ymd(2026, 2, 23)
    );
    // Received during Tết: counting starts after it.
    assert_eq!(
        calendar.add_working_days(ymd(2026, 2, 17), 0),
        ymd(2026, 2, 23)
    );
    assert_eq!(
        calendar.add_working_days(ymd(2026, 2, 17), 1),
        ymd(2026, 2, 23)
    );
    assert_eq!(calendar.next_working_day(ymd(2025, 1, 24)), ymd(2025, 2, 3));
    // Tết 2025 as announced (off 25/1–2/2) against the statutory default (off
    // 28/1–3/2): Friday 24/1 + 1 is Monday 3/2 under the decision, and 27/1
    // under the statute.
    assert_eq!(
        calendar.add_working_days(ymd(2025, 1, 24), 1),
        ymd(2025, 2, 3)
    );
    assert_eq!(
        WorkingCalendar::statutory().add_working_days(ymd(2025, 1, 24), 1),
        ymd(2025, 1, 27)
    );
    assert_eq!(
        WorkingCalendar::statutory().add_working_days(ymd(2025, 1, 24), 2),
        ymd(2025, 2, 4)
    );
}

#[test]
fn deadlines_across_30_april_and_1_may() {
    let calendar = announced();
    // 2025: Saturday 26/4 worked, 30/4–4/5 off.
    let friday = ymd(2025, 4, 25);
    assert_eq!(calendar.add_working_days(friday, 1), ymd(2025, 4, 26));
    assert_eq!(calendar.add_working_days(friday, 3), ymd(2025, 4, 29));
    assert_eq!(calendar.add_working_days(friday, 4), ymd(2025, 5, 5));
    // Without the swap: 28, 29/4, then Friday 2/5.
    let statutory = WorkingCalendar::statutory();
    assert_eq!(statutory.add_working_days(friday, 3), ymd(2025, 5, 2));
    // 2024: off 27/4–1/5, Saturday 4/5 worked.
    assert_eq!(
        calendar.add_working_days(ymd(2024, 4, 26), 1),
        ymd(2024, 5, 2)
    );
    assert_eq!(
        calendar.add_working_days(ymd(2024, 4, 26), 3),
        ymd(2024, 5, 4)
    );
    assert_eq!(
        calendar.add_working_days(ymd(2024, 4, 26), 4),
        ymd(2024, 5, 6)
    );
    // 2026: Giỗ Tổ compensated on 27/4, 30/4–1/5 Thursday–Friday.
    assert_eq!(
        calendar.add_working_days(ymd(2026, 4, 24), 2),
        ymd(2026, 4, 29)
    );
    assert_eq!(
        calendar.add_working_days(ymd(2026, 4, 24), 3),
        ymd(2026, 5, 4)
    );
}

#[test]
fn deadlines_across_year_ends() {
    let calendar = announced();
    // 31/12/2025 worked, 1/1 holiday, 2/1 swapped off, weekend, 5/1.
    assert_eq!(
        calendar.add_working_days(ymd(2025, 12, 30), 1),
        ymd(2025, 12, 31)
    );
    assert_eq!(
        calendar.add_working_days(ymd(2025, 12, 30), 2),
        ymd(2026, 1, 5)
    );
    assert_eq!(
        calendar.add_working_days(ymd(2025, 12, 30), 3),
        ymd(2026, 1, 6)
    );
    // The make-up Saturday 10/1/2026 counts.
    assert_eq!(
        calendar.add_working_days(ymd(2026, 1, 9), 1),
        ymd(2026, 1, 10)
    );
    // Statutory only: Friday 2/1/2026 is worked.
    assert_eq!(
        WorkingCalendar::statutory().add_working_days(ymd(2025, 12, 30), 2),
        ymd(2026, 1, 2)
    );
    // 2024 → 2025: 31/12/2024 Tuesday, 1/1 Wednesday off, 2/1 Thursday.
    assert_eq!(
        calendar.add_working_days(ymd(2024, 12, 31), 1),
        ymd(2025, 1, 2)
    );
    assert_eq!(
        calendar.working_days_between(ymd(2024, 12, 27), ymd(2025, 1, 3)),
        4
    );
    // 2022 → 2023: 1/1/2023 Sunday, compensated on Monday 2/1.
    let statutory = WorkingCalendar::statutory();
    assert_eq!(
        statutory.add_working_days(ymd(2022, 12, 30), 1),
        ymd(2023, 1, 3)
    );
}

// ---------------------------------------------------------------------------
// The compensatory rule

#[test]
fn compensatory_days_follow_art_111() {
    let on = WorkingCalendar::statutory();
    let off = WorkingCalendar::statutory().with_compensatory_days(false);
    // Giỗ Tổ 2026 on Sunday 26/4 → Monday 27/4 off.
    assert_eq!(
        on.day_kind(ymd(2026, 4, 27)),
        DayKind::Compensatory(Holiday::HungKings)
    );
    assert!(!on.is_working_day(ymd(2026, 4, 27)));
    assert!(off.is_working_day(ymd(2026, 4, 27)));
    assert_eq!(off.holiday_name(ymd(2026, 4, 27)), None);
    // 2023: Giỗ Tổ Saturday 29/4, 30/4 Sunday, 1/5 Monday → 2/5 and 3/5 off
    // (off 29/4–3/5/2023, as announced that year).
    assert_eq!(
        on.day_kind(ymd(2023, 5, 2)),
        DayKind::Compensatory(Holiday::HungKings)
    );
    assert_eq!(
        on.day_kind(ymd(2023, 5, 3)),
        DayKind::Compensatory(Holiday::VictoryDay)
    );
    assert!(on.is_working_day(ymd(2023, 5, 4)));
    assert!(off.is_working_day(ymd(2023, 5, 2)));
    assert!(!off.is_working_day(ymd(2023, 5, 1)));
    // 2022: 1/1 Saturday → Monday 3/1; 30/4 Saturday and 1/5 Sunday → 2 and 3/5.
    assert_eq!(
        on.day_kind(ymd(2022, 1, 3)),
        DayKind::Compensatory(Holiday::NewYear)
    );
    assert_eq!(
        on.day_kind(ymd(2022, 5, 2)),
        DayKind::Compensatory(Holiday::VictoryDay)
    );
    assert_eq!(
        on.day_kind(ymd(2022, 5, 3)),
        DayKind::Compensatory(Holiday::LabourDay)
    );
    // National Day on Saturday 2/9/2023 with 1/9 Friday → Monday 4/9.
    assert_eq!(
        on.day_kind(ymd(2023, 9, 4)),
        DayKind::Compensatory(Holiday::NationalDay)
    );
    // With the rule off, the override table can still grant the day.
    let manual = WorkingCalendar::new(Overrides {
        days: vec![DayOverride {
            date: ymd(2026, 4, 27),
            kind: OverrideKind::DayOff,
            note: "Nghỉ bù Giỗ Tổ".to_owned(),
        }],
        years: vec![],
    })
    .unwrap()
    .with_compensatory_days(false);
    assert_eq!(
        manual.day_kind(ymd(2026, 4, 27)),
        DayKind::ExtraDayOff {
            note: "Nghỉ bù Giỗ Tổ"
        }
    );
}

#[test]
fn every_holiday_takes_exactly_one_weekday_1950_to_2100() {
    // With compensation each of the 11 holidays removes exactly one weekday;
    // without it, only those on weekdays do.
    let on = WorkingCalendar::statutory();
    let off = WorkingCalendar::statutory().with_compensatory_days(false);
    for year in 1950..=2100 {
        let first = ymd(year, 1, 1);
        let last = ymd(year, 12, 31);
        let weekdays = days(first, last).filter(|d| !is_weekend(*d)).count() as i64;
        let eve = ymd(year - 1, 12, 31);
        assert_eq!(weekdays - on.working_days_between(eve, last), 11, "{year}");
        let holidays_on_weekdays = days(first, last)
            .filter(|d| !is_weekend(*d) && matches!(off.day_kind(*d), DayKind::Holiday(_)))
            .count() as i64;
        assert_eq!(
            weekdays - off.working_days_between(eve, last),
            holidays_on_weekdays,
            "{year}"
        );
        let tet_days = days(first, last)
            .filter(|d| on.day_kind(*d) == DayKind::Holiday(Holiday::LunarNewYear))
            .count();
        assert_eq!(tet_days, 5, "{year}");
    }
}

// ---------------------------------------------------------------------------
// Overrides

#[test]
fn overrides_win_both_ways() {
    let tuesday = ymd(2025, 3, 4);
    let saturday = ymd(2025, 3, 8);
    let holiday = ymd(2025, 4, 30);
    let calendar = WorkingCalendar::new(Overrides {
        days: vec![
            DayOverride {
                date: tuesday,
                kind: OverrideKind::DayOff,
                note: "Nghỉ đột xuất".to_owned(),
            },
            DayOverride {
                date: saturday,
                kind: OverrideKind::WorkingDay,
                note: "Làm bù".to_owned(),
            },
            DayOverride {
                date: holiday,
                kind: OverrideKind::WorkingDay,
                note: "Trực".to_owned(),
            },
        ],
        years: vec![],
    })
    .unwrap();
    assert!(!calendar.is_working_day(tuesday));
    assert_eq!(
        calendar.day_kind(tuesday),
        DayKind::ExtraDayOff {
            note: "Nghỉ đột xuất"
        }
    );
    assert!(calendar.is_working_day(saturday));
    assert_eq!(
        calendar.day_kind(saturday),
        DayKind::ExtraWorkingDay { note: "Làm bù" }
    );
    assert!(calendar.is_working_day(holiday));
    assert_eq!(calendar.holiday_name(holiday), None);
    assert_eq!(
        calendar.add_working_days(ymd(2025, 3, 3), 1),
        ymd(2025, 3, 5)
    );
    assert_eq!(calendar.add_working_days(ymd(2025, 3, 7), 1), saturday);
    // A day off on a holiday is still reported as the holiday.
    let calendar = WorkingCalendar::new(Overrides {
        days: vec![DayOverride {
            date: holiday,
            kind: OverrideKind::DayOff,
            note: String::new(),
        }],
        years: vec![],
    })
    .unwrap();
    assert_eq!(
        calendar.day_kind(holiday),
        DayKind::Holiday(Holiday::VictoryDay)
    );
}

#[test]
fn year_choices_move_tet_and_national_day() {
    let calendar = WorkingCalendar::new(Overrides {
        days: vec![],
        years: vec![
            YearChoice {
                year: 2025,
                tet_days_before: Some(0),
                national_day_adjacent: Some(AdjacentDay::After),
                note: String::new(),
            },
            YearChoice {
                year: 2026,
                tet_days_before: Some(4),
                national_day_adjacent: None,
                note: String::new(),
            },
        ],
    })
    .unwrap();
    let tet_days = |year| -> Vec<NaiveDate> {
        days(ymd(year, 1, 1), ymd(year, 3, 1))
            .filter(|d| calendar.day_kind(*d) == DayKind::Holiday(Holiday::LunarNewYear))
            .collect()
    };
    assert_eq!(
        tet_days(2025),
        days(ymd(2025, 1, 29), ymd(2025, 2, 2)).collect::<Vec<_>>()
    );
    assert_eq!(
        tet_days(2026),
        days(ymd(2026, 2, 13), ymd(2026, 2, 17)).collect::<Vec<_>>()
    );
    assert!(calendar.is_working_day(ymd(2025, 9, 1)));
    assert!(!calendar.is_working_day(ymd(2025, 9, 3)));
    assert!(!calendar.is_working_day(ymd(2026, 9, 1)));
}

#[test]
fn invalid_overrides_are_refused() {
    let date = ymd(2025, 5, 2);
    let twice = Overrides {
        days: vec![
            DayOverride {
                date,
                kind: OverrideKind::DayOff,
                note: String::new(),
            },
            DayOverride {
                date,
                kind: OverrideKind::WorkingDay,
                note: String::new(),
            },
        ],
        years: vec![],
    };
    let err = WorkingCalendar::new(twice).unwrap_err();
    assert_eq!(err, OverridesError::DuplicateDate(date));
    assert_eq!(err.code(), "error.calendar.duplicate_date");

    let year = |tet_days_before| YearChoice {
        year: 2025,
        tet_days_before,
        national_day_adjacent: None,
        note: String::new(),
    };
    let err = WorkingCalendar::new(Overrides {
        days: vec![],
        years: vec![year(None), year(Some(2))],
    })
    .unwrap_err();
    assert_eq!(err, OverridesError::DuplicateYear(2025));
    let err = WorkingCalendar::new(Overrides {
        days: vec![],
        years: vec![year(Some(5))],
    })
    .unwrap_err();
    assert_eq!(
        err,
        OverridesError::TetDaysBefore {
            year: 2025,
            days: 5
        }
    );
    assert_eq!(err.code(), "error.calendar.tet_days_before");
}

#[test]
fn overrides_serialize_as_plain_data() {
    let overrides = Overrides {
        days: vec![DayOverride {
            date: ymd(2025, 5, 2),
            kind: OverrideKind::DayOff,
            note: "hoán đổi".to_owned(),
        }],
        years: vec![YearChoice {
            year: 2025,
            tet_days_before: Some(2),
            national_day_adjacent: Some(AdjacentDay::Before),
            note: String::new(),
        }],
    };
    let json = serde_json::to_value(&overrides).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "days": [{"date": "2025-05-02", "kind": "day_off", "note": "hoán đổi"}],
            "years": [{"year": 2025, "tet_days_before": 2, "national_day_adjacent": "before", "note": ""}]
        })
    );
    let back: Overrides = serde_json::from_value(json).unwrap();
    assert_eq!(back, overrides);
    // Missing fields take their defaults.
    let empty: Overrides = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, Overrides::default());
    let minimal: Overrides = serde_json::from_str(
        r#"{"days":[{"date":"2026-01-10","kind":"working_day"}],"years":[{"year":2027}]}"#,
    )
    .unwrap();
    assert_eq!(minimal.days[0].kind, OverrideKind::WorkingDay);
    assert_eq!(minimal.years[0].tet_days_before, None);
    // The announced table survives a round trip and is accepted.
    let announced = Overrides::announced_2024_2026();
    let text = serde_json::to_string(&announced).unwrap();
    assert_eq!(serde_json::from_str::<Overrides>(&text).unwrap(), announced);
    assert_eq!(announced.days.len(), 8);
    assert!(announced.days.iter().all(|d| !d.note.is_empty()));
}

// ---------------------------------------------------------------------------
// Properties over 1950–2100

/// A small deterministic generator, so the property checks need no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

fn check_add_and_count(calendar: &WorkingCalendar, start: NaiveDate, n: u32) {
    let due = calendar.add_working_days(start, n);
    assert!(calendar.is_working_day(due), "{start} + {n} = {due}");
    assert!(due >= start);
    if n == 0 {
        // No working day between start and due, due excluded.
        assert!(days(start, due)
            .filter(|d| *d < due)
            .all(|d| !calendar.is_working_day(d)));
        assert_eq!(due == start, calendar.is_working_day(start));
    } else {
        assert_eq!(
            calendar.working_days_between(start, due),
            i64::from(n),
            "{start} + {n} = {due}"
        );
        // The due date is the first date reaching n.
        assert_eq!(
            calendar.working_days_between(start, due.pred_opt().unwrap()),
            i64::from(n) - 1
        );
    }
}

#[test]
fn add_then_count_round_trips_every_day_1950_to_2100() {
    let statutory = WorkingCalendar::statutory();
    let announced = announced();
    let mut rng = Lcg(2026);
    for (i, start) in days(ymd(1950, 1, 1), ymd(2100, 12, 31)).enumerate() {
        let n = (i % 25) as u32;
        check_add_and_count(&statutory, start, n);
        if (2023..=2027).contains(&start.year()) {
            check_add_and_count(&announced, start, n);
            check_add_and_count(&announced, start, rng.next(70) as u32);
        }
        assert_eq!(
            statutory.next_working_day(start),
            statutory.add_working_days(start, 1)
        );
    }
}

#[test]
fn counting_is_additive_and_antisymmetric() {
    let calendar = announced();
    let base = ymd(1950, 1, 1);
    let span = (ymd(2100, 12, 31) - base).num_days() as u64;
    let mut rng = Lcg(7);
    for _ in 0..300 {
        let pick = |rng: &mut Lcg| base + chrono::Duration::days(rng.next(span) as i64);
        let a = pick(&mut rng);
        let b = a + chrono::Duration::days(rng.next(400) as i64);
        let c = b + chrono::Duration::days(rng.next(400) as i64);
        let ab = calendar.working_days_between(a, b);
        let bc = calendar.working_days_between(b, c);
        assert_eq!(ab + bc, calendar.working_days_between(a, c), "{a} {b} {c}");
        assert_eq!(calendar.working_days_between(c, a), -(ab + bc));
        // Long spans: adding the count back lands on the last working day ≤ c.
        if ab > 0 {
            let due = calendar.add_working_days(a, ab as u32);
            assert!(due <= b && calendar.is_working_day(due));
            assert_eq!(calendar.working_days_between(due, b), 0);
        }
    }
}

#[test]
fn far_dates_do_not_panic() {
    let calendar = WorkingCalendar::statutory();
    let last = NaiveDate::MAX;
    assert_eq!(calendar.next_working_day(last), last);
    let near_end = last - chrono::Duration::days(3);
    let due = calendar.add_working_days(near_end, 100);
    assert!(due <= last);
    assert_eq!(
        calendar.working_days_between(NaiveDate::MIN, NaiveDate::MIN),
        0
    );
    let _ = calendar.is_working_day(NaiveDate::MIN);
    let _ = calendar.special_days(i32::MAX);
    let _ = calendar.special_days(-200_000);
    assert!(calendar.working_days_between(ymd(9999, 1, 1), ymd(9999, 12, 31)) > 200);
}
