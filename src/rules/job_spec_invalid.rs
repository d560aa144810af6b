use crate::json::Value;

use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::manifest::Object;

pub const RULE: Rule = Rule {
    id: "job-spec-invalid",
    severity: Severity::Error,
    summary: "A Job's (or a CronJob's job template's) counts or timings are refused by the API server.",
    docs: r#"## What it checks
`spec` of every Job and `spec.jobTemplate.spec` of every CronJob, as the API
server validates them (`pkg/apis/batch/validation`):

- `parallelism`, `completions`, `backoffLimit` and `ttlSecondsAfterFinished`
  are 0 or more, `activeDeadlineSeconds` is more than 0;
- `completionMode: Indexed` has `completions`;
- a CronJob's `startingDeadlineSeconds` is 0 or more, and its
  `successfulJobsHistoryLimit` and `failedJobsHistoryLimit` too.

## Why it matters
The API server refuses the whole object; a count computed in a template
(`{{ sub .Values.workers 1 }}`) that went below zero is the usual cause.

## Example
```yaml
spec:
  completionMode: Indexed    # needs completions
  parallelism: 4
```

## Fix
Use counts of 0 or more, and give Indexed Jobs `completions`.
"#,
    fix: "Use counts of 0 or more (activeDeadlineSeconds above 0), and give Indexed Jobs completions.",
    check,
    scope: Scope::Document,
};

fn int(v: &Value, field: &str) -> Option<i64> {
    v.get(field).and_then(Value::as_i64)
}

fn check_job(obj: &Object, pointer: &str, out: &mut Vec<Finding>) {
    let Some(spec) = obj.json.pointer(pointer).filter(|v| v.is_object()) else {
        return;
    };
    for field in [
        "parallelism",
        "completions",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ] {
        if let Some(n) = int(spec, field).filter(|n| *n < 0) {
            out.push(RULE.on(
                obj,
                &format!("{pointer}/{field}"),
                format!("{field} is {n}; it must be 0 or more"),
            ));
        }
    }
    if let Some(n) = int(spec, "activeDeadlineSeconds").filter(|n| *n <= 0) {
        out.push(RULE.on(
            obj,
            &format!("{pointer}/activeDeadlineSeconds"),
            format!("activeDeadlineSeconds is {n}; it must be more than 0"),
        ));
    }
    if spec.get("completionMode").and_then(Value::as_str) == Some("Indexed")
        && spec.get("completions").is_none_or(Value::is_null)
    {
        out.push(RULE.on(
            obj,
            &format!("{pointer}/completionMode"),
            "completionMode Indexed needs completions (the number of indexes)",
        ));
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for obj in &ctx.objects {
        match &*obj.kind {
            "Job" => check_job(obj, "/spec", out),
            "CronJob" => {
                check_job(obj, "/spec/jobTemplate/spec", out);
                let Some(spec) = obj.json.get("spec") else {
                    continue;
                };
                for field in [
                    "startingDeadlineSeconds",
                    "successfulJobsHistoryLimit",
                    "failedJobsHistoryLimit",
                ] {
                    if let Some(n) = int(spec, field).filter(|n| *n < 0) {
                        out.push(RULE.on(
                            obj,
                            &format!("/spec/{field}"),
                            format!("{field} is {n}; it must be 0 or more"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}
