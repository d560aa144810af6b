use super::{Context, Rule, Scope};
use crate::finding::{Finding, Severity};
use crate::memcached::cmdline::{ArgField, ArgRef, Opt, SubOpt};

pub const RULE: Rule = Rule {
    id: "memory-option-repeated",
    severity: Severity::Warning,
    summary: "A memcached option that sizes memory is given more than once; memcached uses the last.",
    docs: r#"## What it checks
The command line of every memcached container (cache, local cache, proxy),
read as memcached's `getopt_long` reads it: whether an option that shapes
memory is given twice or more, in any spelling (`-m 1024`, `-m1024`,
`--memory-limit=1024`, `--memory-limit 1024`, an
unambiguous prefix such as `--memory-l=1024`, clustered `-vm1024`). The options
are `-m`, `-c`, `-t`, `-I`, `-f` and `-n`, and the `-o` sub-options
`hashpower`, `slab_chunk_max`, `slab_sizes`, `read_buf_mem_limit` and
`ext_wbuf_size`. The finding points at the occurrence memcached uses (the
last) and names the earlier ones.

## Why it matters
memcached keeps the last value without a word. A chart that passes `-m` from
its values and lets users append `extraArgs` gets a cache of the appended
size while the requests and limits it derived from its own value no longer
fit; the memory rules check the value memcached uses (the last), but a
reader of the values or of the first flag sees another number. Two equal
values are harmless until one of them changes.

## Example
`args: ["-m", "1024", "-c", "1024", "-m", "2048"]`, as rendered from a chart
setting `-m` and `extraArgs: ["-m", "2048"]`.

## Fix
Keep one occurrence: change the chart's value (here `cache.memoryMiB`)
instead of appending the flag again.
"#,
    fix: "Give each memory option once: set the value where the chart derives it instead of appending the flag again.",
    check,
    scope: Scope::Document,
};

/// Options whose value the memory model reads.
const OPTIONS: &[char] = &['m', 'c', 't', 'I', 'f', 'n'];
/// `-o` sub-options whose value the memory model reads.
const SUBOPTIONS: &[&str] = &[
    "hashpower",
    "slab_chunk_max",
    "slab_sizes",
    "read_buf_mem_limit",
    "ext_wbuf_size",
];

fn place(r: ArgRef) -> String {
    let field = match r.field {
        ArgField::Command => "command",
        ArgField::Args => "args",
    };
    format!("{field}[{}]", r.index)
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (obj, list) in ctx.objects_with_memory() {
        for cm in list {
            let a = &cm.mc.args;
            for &letter in OPTIONS {
                let all: Vec<_> = a.opts.iter().filter(|o| o.short == letter).collect();
                let [earlier @ .., last] = all.as_slice() else {
                    continue;
                };
                if earlier.is_empty() {
                    continue;
                }
                let shown = |o: &Opt| {
                    format!(
                        "`{} {}` ({})",
                        o.spelled,
                        o.value.as_deref().unwrap_or(""),
                        place(o.from)
                    )
                };
                let same = earlier.iter().all(|o| o.value == last.value);
                out.push(RULE.on(
                    obj,
                    &last.from.pointer(&cm.mc.container.pointer()),
                    format!(
                        "{} gives -{letter} {} times: {} then {}; memcached uses the last{}",
                        cm.describe(),
                        all.len(),
                        earlier.iter().map(|&o| shown(o)).collect::<Vec<_>>().join(", "),
                        shown(last),
                        if same {
                            " (the same value, for now)"
                        } else {
                            ", and the earlier value is silently dropped"
                        }
                    ),
                ));
            }
            for &name in SUBOPTIONS {
                let all: Vec<_> = a.subopts.iter().filter(|s| s.name == name).collect();
                let [earlier @ .., last] = all.as_slice() else {
                    continue;
                };
                if earlier.is_empty() {
                    continue;
                }
                let shown = |s: &SubOpt| match &s.value {
                    Some(v) => format!("`{name}={v}` ({})", place(s.from)),
                    None => format!("`{name}` ({})", place(s.from)),
                };
                let same = earlier.iter().all(|s| s.value == last.value);
                out.push(RULE.on(
                    obj,
                    &last.from.pointer(&cm.mc.container.pointer()),
                    format!(
                        "{} gives -o {name} {} times: {} then {}; memcached uses the last{}",
                        cm.describe(),
                        all.len(),
                        earlier.iter().map(|&s| shown(s)).collect::<Vec<_>>().join(", "),
                        shown(last),
                        if same {
                            " (the same value, for now)"
                        } else {
                            ", and the earlier value is silently dropped"
                        }
                    ),
                ));
            }
        }
    }
}
