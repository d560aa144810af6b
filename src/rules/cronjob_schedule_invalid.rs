use crate::json::Value;

use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    id: "cronjob-schedule-invalid",
    severity: Severity::Error,
    summary: "A CronJob's schedule is not a cron expression the API server accepts.",
    docs: r#"## What it checks
`spec.schedule` of every CronJob, read as the API server reads it (the
standard cron parser Kubernetes uses): five fields (minute 0-59, hour 0-23,
day of month 1-31, month 1-12 or JAN-DEC, day of week 0-6 or SUN-SAT), each
`*` or `?`, a value, a range `a-b`, a step `*/n` or `a-b/n`, or a
comma list of them; or one of `@yearly`, `@annually`, `@monthly`, `@weekly`,
`@daily`, `@midnight`, `@hourly`, `@every DURATION`. A time zone in the
schedule (`TZ=...`, `CRON_TZ=...`) is refused: `spec.timeZone` holds it.

## Why it matters
The API server refuses the whole object ("unparseable schedule"); a
six-field expression copied from a Quartz or Spring scheduler, or a day of
week written as 7, is the usual cause.

## Example
```yaml
spec:
  schedule: "0 0 3 * * ?"   # six fields (seconds first)
```

## Fix
Write five fields (`0 3 * * *`), and move a time zone into `spec.timeZone`.
"#,
    fix: "Write a five-field cron expression (minute hour day-of-month month day-of-week) or an @ descriptor; put a time zone in spec.timeZone.",
    check,
    scope: Scope::Document,
};

const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    question: bool,
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        question: false,
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        question: false,
    },
    Field {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
        question: true,
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: MONTHS,
        question: false,
    },
    Field {
        name: "day of week",
        min: 0,
        max: 6,
        names: DAYS,
        question: true,
    },
];

fn value(f: &Field, s: &str) -> Result<u32, String> {
    if let Some(i) = f.names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(i as u32 + f.min);
    }
    let v: u32 = s
        .parse()
        .map_err(|_| format!("{} `{s}` is not a number", f.name))?;
    if v < f.min || v > f.max {
        return Err(format!("{} {v} is outside {}-{}", f.name, f.min, f.max));
    }
    Ok(v)
}

fn field(f: &Field, text: &str) -> Result<(), String> {
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(s) = step {
            match s.parse::<u32>() {
                Ok(n) if n > 0 => {}
                _ => return Err(format!("{} step `{s}` is not a positive number", f.name)),
            }
        }
        if range == "*" || (range == "?" && f.question) {
            continue;
        }
        if range.is_empty() {
            return Err(format!("{} has an empty item", f.name));
        }
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (value(f, a)?, value(f, b)?);
                if a > b {
                    return Err(format!("{} range {a}-{b} runs backwards", f.name));
                }
            }
            None => {
                value(f, range)?;
            }
        }
    }
    Ok(())
}

/// Why `schedule` is refused, if it is.
pub fn problem(schedule: &str) -> Option<String> {
    let s = schedule.trim();
    if s.contains("TZ") {
        return Some(
            "a time zone in the schedule (TZ= or CRON_TZ=) is refused; use spec.timeZone".into(),
        );
    }
    if let Some(d) = s.strip_prefix('@') {
        return match d {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => None,
            _ if d.starts_with("every ") => {
                let dur = d["every ".len()..].trim();
                (!is_go_duration(dur))
                    .then(|| format!("`@every {dur}` needs a duration such as 90s, 5m or 1h30m"))
            }
            _ => Some(format!(
                "`@{d}` is not a descriptor (@yearly, @monthly, @weekly, @daily, @hourly, @every DURATION)"
            )),
        };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Some(format!(
            "it has {} fields; Kubernetes takes 5 (minute hour day-of-month month day-of-week){}",
            fields.len(),
            if fields.len() == 6 {
                ", not a seconds field"
            } else {
                ""
            }
        ));
    }
    FIELDS
        .iter()
        .zip(&fields)
        .find_map(|(f, t)| field(f, t).err())
}

/// A Go duration: numbers with units ns, us, µs, ms, s, m, h.
fn is_go_duration(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n == 0 {
            return false;
        }
        rest = &rest[n..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .iter()
            .find(|u| rest.starts_with(**u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for obj in ctx.objects.iter().filter(|o| o.kind == "CronJob") {
        let Some(s) = obj.json.pointer("/spec/schedule").and_then(Value::as_str) else {
            continue;
        };
        if let Some(why) = problem(s) {
            let shown: String = s.chars().flat_map(char::escape_debug).take(80).collect();
            out.push(RULE.on(
                obj,
                "/spec/schedule",
                format!("schedule `{shown}` is refused: {why}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_as_kubernetes_parses_them() {
        for ok in [
            "*/5 * * * *",
            "0 3 * * *",
            "0 0 1 JAN,jul ?",
            "15 2-4/1 * * MON-FRI",
            "@hourly",
            "@every 1h30m",
            "0 0 * * 0",
        ] {
            assert_eq!(problem(ok), None, "{ok}");
        }
        for bad in [
            "0 0 3 * * ?",
            "* * * *",
            "60 * * * *",
            "0 0 * * 7",
            "0 0 0 * *",
            "0 5-2 * * *",
            "*/0 * * * *",
            "CRON_TZ=UTC 0 3 * * *",
            "@fortnightly",
            "@every soon",
            "0 0 ? * *x",
        ] {
            assert!(problem(bad).is_some(), "{bad}");
        }
    }
}
