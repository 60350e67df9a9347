//! Dates, times, zones, rates and money as each language writes them. The month names, weekday
//! names, zone abbreviations and patterns are locale data (the `format` section); they are read
//! and checked when the store loads, so formatting itself cannot fail.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike};
use chrono_tz::Tz;
use serde_json::Value;

use super::store::Locale;
use super::text::Text;
use super::LocaleError;
use crate::domain::{Cents, Language};

/// A pattern whose placeholders were checked, at load, against the names its formatter passes.
#[derive(Debug)]
struct Pattern(Text);

impl Pattern {
    fn load(file: &'static str, section: &Value, key: &str, names: &[&str]) -> Result<Self, LocaleError> {
        let invalid = |message: String| LocaleError::Invalid { file, message: format!("format.{key}: {message}") };
        let raw = section.get(key).and_then(Value::as_str).ok_or_else(|| invalid("missing".to_owned()))?;
        let text = Text::parse(raw).map_err(invalid)?;
        if let Some(unknown) = text.placeholders().find(|p| !names.contains(p)) {
            return Err(invalid(format!("unknown placeholder {{{{{unknown}}}}} (known: {})", names.join(", "))));
        }
        Ok(Self(text))
    }

    /// `vars` names every placeholder `load` allowed, so nothing is left unfilled.
    fn fill(&self, vars: &[(&str, &str)]) -> String {
        self.0.fill(&vars).unwrap_or_default()
    }
}

/// The `format` section of one language, in typed form.
#[derive(Debug)]
pub(super) struct Formats {
    months: Vec<String>,
    weekdays: Vec<String>,
    /// How the first of the month is written (« 1er »).
    day_one: String,
    decimal_separator: String,
    /// Zone abbreviations as the language writes them (EDT → HAE).
    zones: HashMap<String, String>,
    date: Pattern,
    time_am: Pattern,
    time_pm: Pattern,
    time_span: Pattern,
    time_range: Pattern,
    time_with_zone: Pattern,
    date_at_time: Pattern,
    percent: Pattern,
}

impl Formats {
    pub(super) fn load(file: &'static str, section: &Value) -> Result<Self, LocaleError> {
        let invalid = |message: String| LocaleError::Invalid { file, message };
        let names = |key: &str, count: usize| -> Result<Vec<String>, LocaleError> {
            let list: Vec<String> = section
                .get(key)
                .and_then(Value::as_array)
                .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            if list.len() == count {
                Ok(list)
            } else {
                Err(invalid(format!("format.{key} must hold {count} strings")))
            }
        };
        let string = |key: &str| -> Result<String, LocaleError> {
            section.get(key).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| invalid(format!("format.{key} is missing")))
        };
        let zones = section
            .get("zones")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("format.zones is missing".to_owned()))?
            .iter()
            .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())).ok_or_else(|| invalid(format!("format.zones.{k} is not a string"))))
            .collect::<Result<_, _>>()?;
        let pattern = |key: &str, names: &[&str]| Pattern::load(file, section, key, names);
        Ok(Self {
            months: names("months", 12)?,
            weekdays: names("weekdays", 7)?,
            day_one: string("day_one")?,
            decimal_separator: string("decimal_separator")?,
            zones,
            date: pattern("date", &["weekday", "day", "month", "year"])?,
            time_am: pattern("time_am", &["hour", "hour12", "minute"])?,
            time_pm: pattern("time_pm", &["hour", "hour12", "minute"])?,
            time_span: pattern("time_span", &["start", "end"])?,
            time_range: pattern("time_range", &["start", "end", "zone"])?,
            time_with_zone: pattern("time_with_zone", &["time", "zone"])?,
            date_at_time: pattern("date_at_time", &["date", "time"])?,
            percent: pattern("percent", &["number"])?,
        })
    }
}

impl Locale {
    /// "vendredi 16 avril 2027" (« 1er » for the first of the month) / "Friday, April 16, 2027".
    pub fn date(&self, date: NaiveDate) -> String {
        let f = &self.formats;
        let day = if date.day() == 1 { f.day_one.clone() } else { date.day().to_string() };
        let weekday = &f.weekdays[date.weekday().num_days_from_monday() as usize];
        let month = &f.months[date.month0() as usize];
        f.date.fill(&[("weekday", weekday), ("day", &day), ("month", month), ("year", &date.year().to_string())])
    }

    /// "9 h 00", "16 h 30" / "9:00 a.m.", "4:30 p.m." (no-break spaces inside).
    pub fn time(&self, time: NaiveTime) -> String {
        let f = &self.formats;
        let hour = time.hour();
        let hour12 = match hour % 12 {
            0 => 12,
            h => h,
        };
        let pattern = if hour < 12 { &f.time_am } else { &f.time_pm };
        pattern.fill(&[("hour", &hour.to_string()), ("hour12", &hour12.to_string()), ("minute", &format!("{:02}", time.minute()))])
    }

    /// "12 h 00 à 13 h 00" / "12:00 p.m. to 1:00 p.m.".
    pub fn time_span(&self, start: NaiveTime, end: NaiveTime) -> String {
        self.formats.time_span.fill(&[("start", &self.time(start)), ("end", &self.time(end))])
    }

    /// A time, or a span when there is an end: a programme line ("8 h 30", "12 h 00 à 13 h 00").
    pub fn time_or_span(&self, start: NaiveTime, end: Option<NaiveTime>) -> String {
        match end {
            Some(end) => self.time_span(start, end),
            None => self.time(start),
        }
    }

    /// The zone's abbreviation at that instant as the language writes it: "EDT" in English,
    /// "HAE" (heure avancée de l'Est) in French; the tz database's when the locale has none.
    pub fn zone(&self, at: &DateTime<Tz>) -> String {
        let abbreviation = at.format("%Z").to_string();
        self.formats.zones.get(&abbreviation).cloned().unwrap_or(abbreviation)
    }

    /// "de 9 h 00 à 16 h 30 (HAE)" / "9:00 a.m. to 4:30 p.m. (EDT)", in the zone of `start`.
    pub fn time_range(&self, start: &DateTime<Tz>, end: &DateTime<Tz>) -> String {
        let end = end.with_timezone(&start.timezone());
        self.formats.time_range.fill(&[("start", &self.time(start.time())), ("end", &self.time(end.time())), ("zone", &self.zone(start))])
    }

    /// "9 h 00 (HAE)" / "9:00 a.m. (EDT)".
    pub fn time_with_zone(&self, at: &DateTime<Tz>) -> String {
        self.formats.time_with_zone.fill(&[("time", &self.time(at.time())), ("zone", &self.zone(at))])
    }

    /// "mardi 16 mars 2027 à 9 h 00 (HAE)" / "Tuesday, March 16, 2027 at 9:00 a.m. (EDT)".
    pub fn date_time(&self, at: &DateTime<Tz>) -> String {
        self.formats.date_at_time.fill(&[("date", &self.date(at.date_naive())), ("time", &self.time_with_zone(at))])
    }

    /// A tax rate from parts per 100,000: "9,975 %" / "9.975%", "5 %" / "5%".
    pub fn tax_rate(&self, rate_per_100k: i32) -> String {
        let (whole, thousandths) = (rate_per_100k / 1000, (rate_per_100k % 1000).unsigned_abs());
        let number = if thousandths == 0 {
            whole.to_string()
        } else {
            format!("{whole}{}{}", self.formats.decimal_separator, format!("{thousandths:03}").trim_end_matches('0'))
        };
        self.formats.percent.fill(&[("number", &number)])
    }

    /// See [`money`].
    pub fn money(&self, amount: Cents) -> String {
        money(amount, self.language())
    }
}

/// `$1,234.50` in English, `1 234,50 $` in Québec French (narrow no-break space for thousands,
/// no-break space before the dollar sign).
pub fn money(amount: Cents, lang: Language) -> String {
    let negative = amount.0 < 0;
    let abs = amount.0.unsigned_abs();
    let (dollars, cents) = (abs / 100, abs % 100);
    let digits = dollars.to_string();
    let sep = match lang {
        Language::En => ",",
        Language::Fr => "\u{202f}",
    };
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push_str(sep);
        }
        grouped.push(c);
    }
    let sign = if negative { "-" } else { "" };
    match lang {
        Language::En => format!("{sign}${grouped}.{cents:02}"),
        Language::Fr => format!("{sign}{grouped},{cents:02}\u{a0}$"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::locale;
    use chrono::TimeZone;

    fn at(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Tz> {
        tz.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn fr() -> &'static Locale {
        locale(Language::Fr).unwrap()
    }

    fn en() -> &'static Locale {
        locale(Language::En).unwrap()
    }

    #[test]
    fn date_formats() {
        let d = NaiveDate::from_ymd_opt(2027, 4, 16).unwrap();
        assert_eq!(fr().date(d), "vendredi 16 avril 2027");
        assert_eq!(en().date(d), "Friday, April 16, 2027");
        let first = NaiveDate::from_ymd_opt(2027, 6, 1).unwrap();
        assert_eq!(fr().date(first), "mardi 1er juin 2027");
        assert_eq!(en().date(first), "Tuesday, June 1, 2027");
        let aug = NaiveDate::from_ymd_opt(2027, 8, 22).unwrap();
        assert_eq!(fr().date(aug), "dimanche 22 août 2027");
    }

    #[test]
    fn time_formats() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(fr().time(t(9, 0)), "9\u{a0}h\u{a0}00");
        assert_eq!(fr().time(t(16, 30)), "16\u{a0}h\u{a0}30");
        assert_eq!(fr().time(t(0, 5)), "0\u{a0}h\u{a0}05");
        assert_eq!(en().time(t(9, 0)), "9:00\u{a0}a.m.");
        assert_eq!(en().time(t(16, 30)), "4:30\u{a0}p.m.");
        assert_eq!(en().time(t(12, 0)), "12:00\u{a0}p.m.");
        assert_eq!(en().time(t(0, 15)), "12:15\u{a0}a.m.");
    }

    #[test]
    fn zones_and_ranges() {
        let tz = chrono_tz::America::Toronto;
        let start = at(tz, 2027, 4, 16, 9, 0);
        let end = at(tz, 2027, 4, 16, 16, 30);
        assert_eq!(en().zone(&start), "EDT");
        assert_eq!(fr().zone(&start), "HAE");
        assert_eq!(fr().time_range(&start, &end), "de 9\u{a0}h\u{a0}00 à 16\u{a0}h\u{a0}30 (HAE)");
        assert_eq!(en().time_range(&start, &end), "9:00\u{a0}a.m. to 4:30\u{a0}p.m. (EDT)");
        let winter = at(tz, 2027, 1, 15, 9, 0);
        assert_eq!(fr().zone(&winter), "HNE");
        let vancouver = at(chrono_tz::America::Vancouver, 2027, 5, 20, 9, 0);
        assert_eq!(en().zone(&vancouver), "PDT");
        assert_eq!(fr().zone(&vancouver), "HAP");
        let calgary = at(chrono_tz::America::Edmonton, 2027, 5, 25, 9, 0);
        assert_eq!(fr().zone(&calgary), "HAR");
        let halifax = at(chrono_tz::America::Halifax, 2027, 6, 7, 9, 0);
        assert_eq!(en().zone(&halifax), "ADT");
        // The range is shown in the zone of the start.
        assert_eq!(fr().time_range(&start, &end.with_timezone(&chrono_tz::UTC)), "de 9\u{a0}h\u{a0}00 à 16\u{a0}h\u{a0}30 (HAE)");
    }

    #[test]
    fn date_times_carry_the_zone() {
        let deadline = at(chrono_tz::America::Toronto, 2027, 3, 17, 9, 0);
        assert_eq!(fr().date_time(&deadline), "mercredi 17 mars 2027 à 9\u{a0}h\u{a0}00 (HAE)");
        assert_eq!(en().date_time(&deadline), "Wednesday, March 17, 2027 at 9:00\u{a0}a.m. (EDT)");
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(fr().time_span(t(12, 0), t(13, 0)), "12\u{a0}h\u{a0}00 à 13\u{a0}h\u{a0}00");
    }

    #[test]
    fn tax_rates() {
        assert_eq!(fr().tax_rate(5_000), "5\u{a0}%");
        assert_eq!(en().tax_rate(5_000), "5%");
        assert_eq!(fr().tax_rate(9_975), "9,975\u{a0}%");
        assert_eq!(en().tax_rate(9_975), "9.975%");
        assert_eq!(en().tax_rate(13_000), "13%");
        assert_eq!(fr().tax_rate(14_500), "14,5\u{a0}%");
    }

    #[test]
    fn money_per_language() {
        assert_eq!(money(Cents(4500), Language::En), "$45.00");
        assert_eq!(money(Cents(4500), Language::Fr), "45,00\u{a0}$");
        assert_eq!(money(Cents(123456789), Language::En), "$1,234,567.89");
        assert_eq!(money(Cents(123456), Language::Fr), "1\u{202f}234,56\u{a0}$");
        assert_eq!(money(Cents(5), Language::En), "$0.05");
        assert_eq!(fr().money(Cents(39_500)), "395,00\u{a0}$");
    }
}
