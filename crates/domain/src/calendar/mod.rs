//! Working-day calendar (lịch làm việc): which days count when a deadline is given
//! in working days (ngày làm việc), as for documents and one-stop dossiers.
//!
//! The statutory rules, Bộ luật Lao động 2019 (Labour Code, Law 45/2019/QH14):
//! - Weekly rest: Saturday and Sunday for state agencies (40-hour week).
//! - Public holidays, Art. 112(1): Tết Dương lịch (1 January); Tết Âm lịch (5 days);
//!   Ngày Chiến thắng (30 April); Ngày Quốc tế lao động (1 May); Quốc khánh (2
//!   September and one adjacent day, the 1st or the 3rd); Giỗ Tổ Hùng Vương (lunar
//!   10/3). Art. 112(3): the Prime Minister sets the exact Tết days and the day
//!   adjacent to 2 September each year.
//! - Art. 111(3): a holiday that falls on a weekly rest day gives the next working
//!   day off (nghỉ bù). On by default; [`WorkingCalendar::with_compensatory_days`]
//!   switches it off, leaving such days to the override table.
//!
//! By default Tết is the last day of the lunar year (the day before lunar 1/1, the
//! 29th or 30th of month 12) and lunar 1/1 to 1/4, and the day joined to National
//! Day is 1 September. [`Overrides`] carries the government's yearly decisions: per
//! year, how the five Tết days sit around lunar 1/1 and which day joins National
//! Day; per day, extra days off and make-up working days (swaps such as "Friday 2
//! May off, Saturday 26 April worked"). An override of a single day always wins.
//!
//! The same rules are applied to every year: the calendar answers for today's
//! deadlines and does not model the holidays of older labour codes.

pub mod lunar;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::ErrorCode;

pub use lunar::{lunar_to_solar, solar_to_lunar, LunarDate};

/// A public holiday of Labour Code 2019 Art. 112(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holiday {
    /// Tết Dương lịch, 1 January.
    NewYear,
    /// Tết Âm lịch (Tết Nguyên đán), five days around lunar 1/1.
    LunarNewYear,
    /// Giỗ Tổ Hùng Vương, lunar 10/3.
    HungKings,
    /// Ngày Chiến thắng, 30 April.
    VictoryDay,
    /// Ngày Quốc tế lao động, 1 May.
    LabourDay,
    /// Quốc khánh, 2 September and one adjacent day.
    NationalDay,
}

impl Holiday {
    pub const ALL: [Holiday; 6] = [
        Holiday::NewYear,
        Holiday::LunarNewYear,
        Holiday::HungKings,
        Holiday::VictoryDay,
        Holiday::LabourDay,
        Holiday::NationalDay,
    ];

    /// The holiday's name as Art. 112 gives it.
    pub fn name_vi(self) -> &'static str {
        match self {
            Holiday::NewYear => "Tết Dương lịch",
            Holiday::LunarNewYear => "Tết Âm lịch",
            Holiday::HungKings => "Giỗ Tổ Hùng Vương",
            Holiday::VictoryDay => "Ngày Chiến thắng",
            Holiday::LabourDay => "Ngày Quốc tế lao động",
            Holiday::NationalDay => "Quốc khánh",
        }
    }

    /// The name of the day off that compensates for this holiday falling on a
    /// weekly rest day.
    pub fn compensatory_name_vi(self) -> &'static str {
        match self {
            Holiday::NewYear => "Nghỉ bù Tết Dương lịch",
            Holiday::LunarNewYear => "Nghỉ bù Tết Âm lịch",
            Holiday::HungKings => "Nghỉ bù Giỗ Tổ Hùng Vương",
            Holiday::VictoryDay => "Nghỉ bù Ngày Chiến thắng",
            Holiday::LabourDay => "Nghỉ bù Ngày Quốc tế lao động",
            Holiday::NationalDay => "Nghỉ bù Quốc khánh",
        }
    }
}

impl fmt::Display for Holiday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_vi())
    }
}

/// What a day-level override does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideKind {
    /// The day is not worked (a weekday swapped for a weekend day, an extra
    /// holiday granted for the year).
    DayOff,
    /// The day is worked (a Saturday made up for a swapped weekday).
    WorkingDay,
}

/// One day whose status a government decision sets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DayOverride {
    pub date: NaiveDate,
    pub kind: OverrideKind,
    /// Why: the decision and what it moves, e.g. "Công văn 8726/VPCP-KGVX:
    /// nghỉ thứ Sáu 02/5/2025, làm bù thứ Bảy 26/4/2025".
    #[serde(default)]
    pub note: String,
}

/// Which day joins 2 September in the two-day National Day holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjacentDay {
    /// 1 September (the usual choice since 2021, and the default).
    #[default]
    Before,
    /// 3 September.
    After,
}

/// The government's choices for one year under Art. 112(3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct YearChoice {
    pub year: i32,
    /// How many of the five Tết days come before lunar 1/1 (0–4; the rest are
    /// lunar 1/1 onwards). Unset: 1, the last day of the lunar year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tet_days_before: Option<u8>,
    /// Which day joins 2 September. Unset: 1 September.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national_day_adjacent: Option<AdjacentDay>,
    #[serde(default)]
    pub note: String,
}

/// The government's yearly decisions on days off, as a plain value that can be
/// stored in a table and edited by an administrator.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overrides {
    /// Extra days off and make-up working days.
    #[serde(default)]
    pub days: Vec<DayOverride>,
    /// Per-year choice of the Tết days and of the day joined to National Day.
    #[serde(default)]
    pub years: Vec<YearChoice>,
}

impl Overrides {
    /// The decisions announced for 2024, 2025 and 2026 (for civil servants and
    /// public employees), to seed the table. See the sources on each entry.
    pub fn announced_2024_2026() -> Self {
        let day = |y, m, d, kind, note: &str| {
            NaiveDate::from_ymd_opt(y, m, d).map(|date| DayOverride {
                date,
                kind,
                note: note.to_owned(),
            })
        };
        use OverrideKind::{DayOff, WorkingDay};
        const VB_2024: &str = "Công văn 2450/VPCP-KGVX ngày 12/4/2024: nghỉ thứ Hai 29/4/2024, \
                               làm bù thứ Bảy 04/5/2024 (nghỉ 27/4–01/5/2024)";
        const VB_2025: &str = "Công văn 8726/VPCP-KGVX ngày 26/11/2024, Thông báo \
                               6150/TB-BLĐTBXH: nghỉ thứ Sáu 02/5/2025, làm bù thứ Bảy \
                               26/4/2025 (nghỉ 30/4–04/5/2025)";
        const VB_2026_NEW_YEAR: &str = "Công văn 12729/VPCP-KGVX ngày 25/12/2025: nghỉ thứ \
                                        Sáu 02/01/2026, làm bù thứ Bảy 10/01/2026 (nghỉ \
                                        01/01–04/01/2026)";
        const VB_2026_NATIONAL: &str = "Thông báo 9441/TB-BNV ngày 16/10/2025: nghỉ thứ Hai \
                                        31/8/2026, làm bù thứ Bảy 22/8/2026 (nghỉ \
                                        29/8–02/9/2026)";
        let days = [
            day(2024, 4, 29, DayOff, VB_2024),
            day(2024, 5, 4, WorkingDay, VB_2024),
            day(2025, 5, 2, DayOff, VB_2025),
            day(2025, 4, 26, WorkingDay, VB_2025),
            day(2026, 1, 2, DayOff, VB_2026_NEW_YEAR),
            day(2026, 1, 10, WorkingDay, VB_2026_NEW_YEAR),
            day(2026, 8, 31, DayOff, VB_2026_NATIONAL),
            day(2026, 8, 22, WorkingDay, VB_2026_NATIONAL),
        ]
        .into_iter()
        .flatten()
        .collect();
        let years = vec![
            YearChoice {
                year: 2024,
                tet_days_before: Some(2),
                national_day_adjacent: Some(AdjacentDay::After),
                note: "Văn bản 8662/VPCP-KGVX ngày 03/11/2023: Tết 08/02–14/02/2024 \
                       (29 tháng Chạp – mùng 5), Quốc khánh 31/8–03/9/2024"
                    .to_owned(),
            },
            YearChoice {
                year: 2025,
                tet_days_before: Some(2),
                national_day_adjacent: Some(AdjacentDay::Before),
                note: "Công văn 8726/VPCP-KGVX ngày 26/11/2024, Thông báo 6150/TB-BLĐTBXH: \
                       Tết 27/01–31/01/2025 (nghỉ 25/01–02/02), Quốc khánh 30/8–02/9/2025"
                    .to_owned(),
            },
            YearChoice {
                year: 2026,
                tet_days_before: Some(1),
                national_day_adjacent: Some(AdjacentDay::Before),
                note: "Thông báo 9441/TB-BNV ngày 16/10/2025: Tết 16/02–20/02/2026 (nghỉ \
                       14/02–22/02), Quốc khánh 01/9–02/9/2026"
                    .to_owned(),
            },
        ];
        Overrides { days, years }
    }
}

/// Why an [`Overrides`] value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverridesError {
    #[error("the day {0} is listed more than once")]
    DuplicateDate(NaiveDate),
    #[error("the year {0} is listed more than once")]
    DuplicateYear(i32),
    #[error("Tết has five days of which at most four come before lunar 1/1; year {year} asks for {days}")]
    TetDaysBefore { year: i32, days: u8 },
}

impl ErrorCode for OverridesError {
    fn code(&self) -> &'static str {
        match self {
            OverridesError::DuplicateDate(_) => "error.calendar.duplicate_date",
            OverridesError::DuplicateYear(_) => "error.calendar.duplicate_year",
            OverridesError::TetDaysBefore { .. } => "error.calendar.tet_days_before",
        }
    }
}

/// The status of one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind<'a> {
    /// An ordinary working day.
    Working,
    /// Saturday or Sunday.
    WeeklyRest,
    /// A public holiday.
    Holiday(Holiday),
    /// The working day off that compensates for a holiday on a weekly rest day.
    Compensatory(Holiday),
    /// A day off set by a day-level override.
    ExtraDayOff { note: &'a str },
    /// A working day set by a day-level override (e.g. a make-up Saturday).
    ExtraWorkingDay { note: &'a str },
}

impl DayKind<'_> {
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Working | DayKind::ExtraWorkingDay { .. })
    }
}

/// Counts working days: Monday to Friday, minus public holidays and compensatory
/// days, with the government's overrides applied.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    days: BTreeMap<NaiveDate, (OverrideKind, String)>,
    years: BTreeMap<i32, YearChoice>,
    compensatory_days: bool,
}

impl Default for WorkingCalendar {
    fn default() -> Self {
        Self::statutory()
    }
}

/// The holidays of one Gregorian year, sorted by date.
#[derive(Debug, Clone, PartialEq, Eq)]
struct YearPlan {
    year: i32,
    holidays: Vec<(NaiveDate, Holiday)>,
    compensatory: Vec<(NaiveDate, Holiday)>,
}

impl YearPlan {
    fn holiday(&self, date: NaiveDate) -> Option<Holiday> {
        find(&self.holidays, date)
    }

    fn compensatory(&self, date: NaiveDate) -> Option<Holiday> {
        find(&self.compensatory, date)
    }
}

fn find(days: &[(NaiveDate, Holiday)], date: NaiveDate) -> Option<Holiday> {
    days.iter().find(|(d, _)| *d == date).map(|(_, h)| *h)
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

impl WorkingCalendar {
    /// The statutory calendar with no overrides.
    pub fn statutory() -> Self {
        Self {
            days: BTreeMap::new(),
            years: BTreeMap::new(),
            compensatory_days: true,
        }
    }

    /// The statutory calendar with the government's decisions applied.
    pub fn new(overrides: Overrides) -> Result<Self, OverridesError> {
        let mut calendar = Self::statutory();
        for o in overrides.days {
            if calendar.days.insert(o.date, (o.kind, o.note)).is_some() {
                return Err(OverridesError::DuplicateDate(o.date));
            }
        }
        for y in overrides.years {
            if let Some(days) = y.tet_days_before {
                if days > 4 {
                    return Err(OverridesError::TetDaysBefore { year: y.year, days });
                }
            }
            let year = y.year;
            if calendar.years.insert(year, y).is_some() {
                return Err(OverridesError::DuplicateYear(year));
            }
        }
        Ok(calendar)
    }

    /// Whether a holiday on a weekly rest day gives the next working day off
    /// (Labour Code 2019 Art. 111(3); on by default). Off, such days are left to
    /// the override table.
    pub fn with_compensatory_days(mut self, on: bool) -> Self {
        self.compensatory_days = on;
        self
    }

    /// The status of `date`.
    pub fn day_kind(&self, date: NaiveDate) -> DayKind<'_> {
        self.kind_in(date, &self.plan(date.year()))
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.day_kind(date).is_working()
    }

    /// The Vietnamese name of the public holiday, or of the compensatory day off,
    /// on `date` (unless an override makes it a working day).
    pub fn holiday_name(&self, date: NaiveDate) -> Option<&'static str> {
        match self.day_kind(date) {
            DayKind::Holiday(h) => Some(h.name_vi()),
            DayKind::Compensatory(h) => Some(h.compensatory_name_vi()),
            _ => None,
        }
    }

    /// The first working day strictly after `date` (`date` itself when no later
    /// date can be represented).
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut cursor = Cursor::new(self, date);
        while let Some(d) = cursor.step() {
            if cursor.is_working(d) {
                return d;
            }
        }
        date
    }

    /// The due date `n` working days after `start`: `start` itself does not count,
    /// each following working day counts one. With `n = 0`, `start` if it is a
    /// working day, else the next working day. The cost is linear in `n`; a date
    /// past the last one `NaiveDate` can hold gives that last date.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        if n == 0 {
            return if self.is_working_day(start) {
                start
            } else {
                self.next_working_day(start)
            };
        }
        let mut cursor = Cursor::new(self, start);
        let mut counted = 0;
        let mut last = start;
        while let Some(d) = cursor.step() {
            last = d;
            if cursor.is_working(d) {
                counted += 1;
                if counted == n {
                    break;
                }
            }
        }
        last
    }

    /// The number of working days in (a, b]: 0 when a = b, negative (minus the
    /// number in (b, a]) when b is before a. Thus a finish date after the due date
    /// gives the working days late, one before it the working days early.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        if b < a {
            return -self.working_days_between(b, a);
        }
        let mut cursor = Cursor::new(self, a);
        let mut count = 0;
        while let Some(d) = cursor.step() {
            if d > b {
                break;
            }
            if cursor.is_working(d) {
                count += 1;
            }
        }
        count
    }

    /// Every day of `year` that is neither an ordinary working day nor an ordinary
    /// weekend: holidays, compensatory days and overridden days, by date.
    pub fn special_days(&self, year: i32) -> Vec<(NaiveDate, DayKind<'_>)> {
        let plan = self.plan(year);
        let mut dates: Vec<NaiveDate> = plan
            .holidays
            .iter()
            .chain(plan.compensatory.iter())
            .map(|(d, _)| *d)
            .filter(|d| d.year() == year)
            .collect();
        dates.extend(self.days.keys().filter(|d| d.year() == year));
        dates.sort();
        dates.dedup();
        dates
            .into_iter()
            .map(|d| (d, self.kind_in(d, &plan)))
            .filter(|(_, k)| !matches!(k, DayKind::Working | DayKind::WeeklyRest))
            .collect()
    }

    fn kind_in(&self, date: NaiveDate, plan: &YearPlan) -> DayKind<'_> {
        let overridden = self.days.get(&date);
        if let Some((OverrideKind::WorkingDay, note)) = overridden {
            return DayKind::ExtraWorkingDay { note };
        }
        if let Some(h) = plan.holiday(date) {
            return DayKind::Holiday(h);
        }
        if let Some(h) = plan.compensatory(date) {
            return DayKind::Compensatory(h);
        }
        if let Some((OverrideKind::DayOff, note)) = overridden {
            return DayKind::ExtraDayOff { note };
        }
        if is_weekend(date) {
            DayKind::WeeklyRest
        } else {
            DayKind::Working
        }
    }

    /// The statutory holidays of Gregorian year `year` under this calendar's
    /// yearly choices, and their compensatory days.
    fn plan(&self, year: i32) -> YearPlan {
        let choice = self.years.get(&year);
        let mut holidays = Vec::with_capacity(11);
        let mut add = |date: Option<NaiveDate>, holiday| {
            if let Some(d) = date {
                // Two holidays on one date give one day off (e.g. lunar 10/3 on
                // 30 April, as in 1947); keep the first.
                if !holidays.iter().any(|(x, _)| *x == d) {
                    holidays.push((d, holiday));
                }
            }
        };
        add(NaiveDate::from_ymd_opt(year, 1, 1), Holiday::NewYear);
        let (tet, hung_kings) = lunar_holidays(year);
        if let Some(tet) = tet {
            let before = choice.and_then(|c| c.tet_days_before).unwrap_or(1);
            let first = tet.checked_sub_days(Days::new(u64::from(before)));
            for i in 0..5 {
                add(
                    first.and_then(|f| f.checked_add_days(Days::new(i))),
                    Holiday::LunarNewYear,
                );
            }
        }
        add(hung_kings, Holiday::HungKings);
        add(NaiveDate::from_ymd_opt(year, 4, 30), Holiday::VictoryDay);
        add(NaiveDate::from_ymd_opt(year, 5, 1), Holiday::LabourDay);
        let adjacent = match choice.and_then(|c| c.national_day_adjacent) {
            Some(AdjacentDay::After) => 3,
            Some(AdjacentDay::Before) | None => 1,
        };
        if adjacent == 1 {
            add(NaiveDate::from_ymd_opt(year, 9, 1), Holiday::NationalDay);
        }
        add(NaiveDate::from_ymd_opt(year, 9, 2), Holiday::NationalDay);
        if adjacent == 3 {
            add(NaiveDate::from_ymd_opt(year, 9, 3), Holiday::NationalDay);
        }
        holidays.sort();

        let mut compensatory: Vec<(NaiveDate, Holiday)> = Vec::new();
        if self.compensatory_days {
            for &(date, holiday) in holidays.iter().filter(|(d, _)| is_weekend(*d)) {
                // The next day that is neither a rest day, a holiday, nor already
                // given as compensation for another holiday.
                let mut next = date.succ_opt();
                while let Some(d) = next {
                    let taken = is_weekend(d)
                        || find(&holidays, d).is_some()
                        || find(&compensatory, d).is_some();
                    if !taken {
                        break;
                    }
                    next = d.succ_opt();
                }
                if let Some(d) = next {
                    compensatory.push((d, holiday));
                }
            }
        }
        YearPlan {
            year,
            holidays,
            compensatory,
        }
    }
}

/// Years whose lunar holidays are computed once and kept.
const CACHED_YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// Tết (lunar 1/1) and Giỗ Tổ Hùng Vương (lunar 10/3) in Gregorian year `year`.
fn lunar_holidays(year: i32) -> (Option<NaiveDate>, Option<NaiveDate>) {
    fn compute(year: i32) -> (Option<NaiveDate>, Option<NaiveDate>) {
        (
            lunar::lunar_new_year(year),
            lunar::lunar_to_solar(LunarDate::new(year, 3, 10)),
        )
    }
    static CACHE: OnceLock<Vec<(Option<NaiveDate>, Option<NaiveDate>)>> = OnceLock::new();
    if !CACHED_YEARS.contains(&year) {
        return compute(year);
    }
    let cache = CACHE.get_or_init(|| CACHED_YEARS.map(compute).collect());
    usize::try_from(year - CACHED_YEARS.start())
        .ok()
        .and_then(|i| cache.get(i).copied())
        .unwrap_or_else(|| compute(year))
}

/// Walks forward day by day, computing each year's holidays once.
struct Cursor<'a> {
    calendar: &'a WorkingCalendar,
    date: NaiveDate,
    plan: YearPlan,
}

impl<'a> Cursor<'a> {
    fn new(calendar: &'a WorkingCalendar, date: NaiveDate) -> Self {
        Self {
            calendar,
            date,
            plan: calendar.plan(date.year()),
        }
    }

    /// Moves to the next day, or `None` past the last representable date.
    fn step(&mut self) -> Option<NaiveDate> {
        self.date = self.date.succ_opt()?;
        if self.date.year() != self.plan.year {
            self.plan = self.calendar.plan(self.date.year());
        }
        Some(self.date)
    }

    fn is_working(&self, date: NaiveDate) -> bool {
        self.calendar.kind_in(date, &self.plan).is_working()
    }
}

#[cfg(test)]
mod tests;
