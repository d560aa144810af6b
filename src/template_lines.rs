//! Rendered line → template line: one enrichment step after the rules ran,
//! which fills [`Finding::template`] for every writer (and the JSON).
//!
//! A finding's line is a line of the rendered stream; code-scanning UIs show it
//! on the template helm's `# Source:` names. A template does not map to its
//! output line by line (conditionals, `include`, `toYaml`), so this is a best
//! match, found in the chart's files on disk:
//!
//! 1. The rendered line's text is looked for in the template, with every
//!    template action (`{{ … }}`) a wildcard; a line that renders a key must
//!    write that key literally. Named templates the template `include`s on a
//!    line of their own are searched too (recursively), as if expanded there,
//!    so a field written by a helper points at the helper's line.
//! 2. Of the candidates, the one whose enclosing lines (by indentation: the
//!    keys and list items above it) agree with the rendered line's enclosing
//!    lines wins; then the one nearest its place in the document.
//! 3. Without a candidate, the same search runs for the rendered line's
//!    enclosing line, and so on up: a field written by `toYaml` or by an
//!    `include` of a whole block lands on the key that holds it, and the
//!    match's region runs on over the action lines that write the block.
//! 4. When nothing matches, or the template is not on disk, line 1, and the
//!    writers say so in the message. A line is never past the file's end.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::finding::{Finding, Location};
use crate::manifest::Input;

pub use crate::finding::{How, TemplateLine as Mapped};

/// The template line of each finding, by its location.
#[derive(Debug, Clone, Default)]
pub struct TemplateLines {
    map: HashMap<Location, Mapped>,
}

impl TemplateLines {
    pub fn get(&self, f: &Finding) -> Option<&Mapped> {
        self.map.get(&f.location)
    }

    /// Records a mapping (for writers' tests, and callers with their own mapping).
    pub fn insert(&mut self, location: Location, mapped: Mapped) {
        self.map.insert(location, mapped);
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Fills the template line of every finding that names a template
/// (`# Source:`) and has a line; see [`resolve`] for where the chart is looked for.
pub fn enrich(findings: &mut [Finding], inputs: &[Input], chart_dir: Option<&str>, cwd: &Path) {
    let lines = resolve(findings, inputs, chart_dir, cwd);
    for f in findings {
        if let Some(m) = lines.get(f) {
            f.template = Some(Box::new(m.clone()));
        }
    }
}

/// Maps every finding that names a template (`# Source:`) and has a line.
///
/// The chart is looked for in this order: `chart_dir` (`--chart-dir`, relative
/// to `cwd`); `charts/<chart name>` in `cwd`; then in `cwd` and each of its
/// parents, a directory whose `Chart.yaml` has that name, or its
/// `charts/<chart name>`.
pub fn resolve(
    findings: &[Finding],
    inputs: &[Input],
    chart_dir: Option<&str>,
    cwd: &Path,
) -> TemplateLines {
    let mut out = TemplateLines::default();
    let mut charts: HashMap<String, Option<Chart>> = HashMap::new();
    let mut rendered: HashMap<&str, Vec<&str>> = HashMap::new();
    for f in findings {
        let (Some(source), Some(line)) = (&f.location.source, f.location.line) else {
            continue;
        };
        if out.map.contains_key(&f.location) {
            continue;
        }
        let (name, rest) = chart_and_template(source);
        let (name, rest) = (name.as_str(), rest.as_str());
        let chart = charts
            .entry(name.to_string())
            .or_insert_with(|| find_chart(name, chart_dir, cwd).map(|root| Chart::load(&root)));
        let not_found = |looked_in: Option<String>| Mapped {
            file: rest.to_string(),
            line: 1,
            end_line: None,
            how: How::NoTemplate,
            via: None,
            looked_in,
        };
        let Some(chart) = chart else {
            out.map.insert(f.location.clone(), not_found(None));
            continue;
        };
        let Some(template) = chart.files.iter().position(|t| t.rel == rest) else {
            let looked = chart.root.display().to_string();
            out.map.insert(f.location.clone(), not_found(Some(looked)));
            continue;
        };
        let Some(input) = inputs.iter().find(|i| *i.name == *f.location.file) else {
            out.map
                .insert(f.location.clone(), chart.unmatched(template));
            continue;
        };
        let lines = rendered
            .entry(input.name.as_ref())
            .or_insert_with(|| input.text.lines().collect());
        let mapped = chart.map_line(template, lines, line as usize);
        out.map.insert(f.location.clone(), mapped);
    }
    out
}

/// Helm's `# Source:` path split into the chart's name and the template's
/// path in it (`distributed-memcached`, `templates/cache.yaml`).
fn chart_and_template(source: &str) -> (String, String) {
    let source = source.replace('\\', "/");
    match source.split_once('/') {
        Some((name, rest)) => (name.to_string(), rest.to_string()),
        None => (String::new(), source),
    }
}

/// The input files whose rendered text [`resolve`] reads for `findings`:
/// those where a finding names a template of a chart found on disk (a
/// caller that let a large file's text go reads only these again).
pub fn inputs_read<'f>(
    findings: &'f [Finding],
    chart_dir: Option<&str>,
    cwd: &Path,
) -> std::collections::HashSet<&'f str> {
    let mut found: HashMap<String, bool> = HashMap::new();
    let mut read = std::collections::HashSet::new();
    for f in findings.iter().filter(|f| f.location.line.is_some()) {
        let Some(source) = f.location.source.as_deref() else {
            continue;
        };
        let (name, _) = chart_and_template(source);
        let found = *found
            .entry(name)
            .or_insert_with_key(|name| find_chart(name, chart_dir, cwd).is_some());
        if found {
            read.insert(&*f.location.file);
        }
    }
    read
}

/// The chart named `name` on disk (see [`resolve`]).
fn find_chart(name: &str, chart_dir: Option<&str>, cwd: &Path) -> Option<PathBuf> {
    if let Some(dir) = chart_dir {
        let dir = cwd.join(dir);
        return dir.is_dir().then_some(dir);
    }
    if name.is_empty() {
        return None;
    }
    let named = |dir: &Path| chart_name(dir).is_some_and(|n| n == name);
    let default = cwd.join("charts").join(name);
    if named(&default) {
        return Some(default);
    }
    cwd.ancestors().find_map(|a| {
        if named(a) {
            Some(a.to_path_buf())
        } else {
            let c = a.join("charts").join(name);
            named(&c).then_some(c)
        }
    })
}

/// `name` of `dir/Chart.yaml`.
fn chart_name(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Chart.yaml")).ok()?;
    let parsed = crate::yaml::parse_document(&text, 1).ok()?;
    let crate::yaml::NodeKind::Map(entries) = &parsed.root?.kind else {
        return None;
    };
    entries
        .iter()
        .find(|e| e.key == "name")
        .and_then(|e| e.value.as_str().map(str::to_string))
}

/// A piece of a template line: literal text, or a template action.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Lit(String),
    Wild,
}

/// One line of a template file, with what matching needs precomputed.
#[derive(Debug, Clone, Default)]
struct TLine {
    indent: usize,
    segs: Vec<Seg>,
    /// Some non-blank literal text that is not a YAML comment.
    structural: bool,
    /// Named templates included by actions on this line, when the line holds
    /// nothing but actions (so the include writes a block here).
    includes: Vec<String>,
    /// The literal key (`name` of `- name: {{ x }}`), when there is one.
    key: Option<String>,
    item: bool,
    /// Ends with `:`: a key whose value is the block below.
    opens: bool,
    /// The literal pieces between actions, trimmed next to actions.
    pieces: Vec<String>,
    /// Starts / ends with literal text (not an action).
    anchored: (bool, bool),
}

impl TLine {
    fn finish(&mut self) {
        self.segs
            .retain(|s| !matches!(s, Seg::Lit(l) if l.is_empty()));
        self.indent = match self.segs.first() {
            Some(Seg::Lit(l)) => l.len() - l.trim_start_matches(' ').len(),
            _ => 0,
        };
        let mut text = String::new();
        for seg in &self.segs {
            match seg {
                Seg::Lit(l) => text.push_str(l),
                Seg::Wild => text.push_str("{{}}"),
            }
        }
        let text = text.trim();
        let literal = self
            .segs
            .iter()
            .any(|s| matches!(s, Seg::Lit(l) if !l.trim().is_empty()));
        self.structural = literal && !text.starts_with('#');
        if literal {
            self.includes.clear();
        }
        self.key = key_of(text)
            .filter(|k| !k.contains("{{"))
            .map(str::to_string);
        self.item = is_item(text);
        self.opens = text.ends_with(':');
        // Pieces: literal runs between actions; whitespace next to an action is
        // the action's business (`{{-` trims it, `nindent` adds it).
        let n = self.segs.len();
        self.anchored = (
            matches!(self.segs.first(), Some(Seg::Lit(_))),
            matches!(self.segs.last(), Some(Seg::Lit(_))),
        );
        self.pieces = self
            .segs
            .iter()
            .enumerate()
            .filter_map(|(k, s)| match s {
                Seg::Lit(l) => {
                    let mut l = l.as_str();
                    if k == 0 || matches!(self.segs.get(k - 1), Some(Seg::Wild)) {
                        l = l.trim_start();
                    }
                    if k + 1 == n || matches!(self.segs.get(k + 1), Some(Seg::Wild)) {
                        l = l.trim_end();
                    }
                    Some(l.to_string())
                }
                Seg::Wild => None,
            })
            .collect();
    }

    /// Does the rendered text (trimmed) match this line, actions as wildcards?
    fn matches(&self, text: &str) -> bool {
        glob(&self.pieces, self.anchored, text)
    }
}

/// A template file of the chart.
#[derive(Debug)]
struct TFile {
    /// Relative to the chart directory, `/`-separated.
    rel: String,
    lines: Vec<TLine>,
}

/// The chart's template files and named templates.
#[derive(Debug)]
struct Chart {
    root: PathBuf,
    files: Vec<TFile>,
    /// name → (file, first body line, end line exclusive), 0-based.
    defines: HashMap<String, (usize, usize, usize)>,
}

/// A range of template lines searched as if expanded: the `# Source:`
/// template, or a named template's body at the line that includes it.
#[derive(Debug, Clone)]
struct Inst {
    file: usize,
    start: usize,
    end: usize,
    /// The including instance and line.
    parent: Option<(usize, usize)>,
    /// Estimated line of `start` in the expanded template.
    base: usize,
    name: Option<String>,
}

const MAX_DEPTH: usize = 8;
const MAX_INSTANCES: usize = 400;

impl Chart {
    fn load(root: &Path) -> Chart {
        let mut files = Vec::new();
        let mut defines = HashMap::new();
        for entry in walkdir::WalkDir::new(root)
            .follow_links(false)
            .max_depth(12)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(Result::ok)
        {
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(root) else {
                continue;
            };
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect();
            // Only files in a `templates` directory are templates.
            if !rel[..rel.len() - 1].iter().any(|c| c == "templates") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            let (lines, found) = lex(&text);
            for (name, start, end) in found {
                // Helm loads subcharts' templates too; a later definition wins.
                defines.insert(name, (files.len(), start, end));
            }
            files.push(TFile {
                rel: rel.join("/"),
                lines,
            });
        }
        Chart {
            root: root.to_path_buf(),
            files,
            defines,
        }
    }
}

/// Splits a template into lines of literal text and actions, and finds its
/// `define` blocks as (name, first body line, end line exclusive), 0-based.
fn lex(text: &str) -> (Vec<TLine>, Vec<(String, usize, usize)>) {
    let mut lines: Vec<TLine> = vec![TLine::default()];
    let mut lit = String::new();
    // Open blocks: the name and line of a `define`, `None` for other blocks.
    let mut stack: Vec<Option<(String, usize)>> = Vec::new();
    let mut defines = Vec::new();
    let mut includes: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with("{{") {
            if !lit.is_empty() {
                let l = std::mem::take(&mut lit);
                lines.last_mut().unwrap().segs.push(Seg::Lit(l));
            }
            let (len, comment) = action_len(rest);
            let action = &rest[..len];
            let first = lines.len() - 1;
            if !comment {
                lines[first].segs.push(Seg::Wild);
            }
            for _ in 0..action.matches('\n').count() {
                let mut l = TLine::default();
                if !comment {
                    l.segs.push(Seg::Wild);
                }
                lines.push(l);
            }
            if !comment {
                let inner = action_body(action);
                let mut words = inner.split_whitespace();
                match words.next() {
                    Some("if" | "range" | "with" | "block") => stack.push(None),
                    Some("define") => {
                        let name = quoted(inner["define".len()..].trim_start()).unwrap_or("");
                        stack.push(Some((name.to_string(), first)));
                    }
                    Some("end") => {
                        if let Some(Some((name, at))) = stack.pop() {
                            defines.push((name, at + 1, first));
                        }
                    }
                    _ => {}
                }
                for word in ["include", "template"] {
                    for (at, _) in inner.match_indices(word) {
                        let after = &inner[at + word.len()..];
                        if after.starts_with(char::is_whitespace)
                            && let Some(name) = quoted(after.trim_start())
                        {
                            includes.push((first, name.to_string()));
                        }
                    }
                }
            }
            i += len;
        } else {
            let c = rest.chars().next().unwrap_or('\n');
            match c {
                '\n' => {
                    if !lit.is_empty() {
                        let l = std::mem::take(&mut lit);
                        lines.last_mut().unwrap().segs.push(Seg::Lit(l));
                    }
                    lines.push(TLine::default());
                }
                '\r' => {}
                c => lit.push(c),
            }
            i += c.len_utf8();
        }
    }
    if !lit.is_empty() {
        lines.last_mut().unwrap().segs.push(Seg::Lit(lit));
    }
    for (line, name) in includes {
        lines[line].includes.push(name);
    }
    for l in &mut lines {
        l.finish();
    }
    // A body ends before its `end`, unless literal text precedes the `end`.
    let defines = defines
        .into_iter()
        .map(|(name, start, end)| {
            let end = if lines[end].structural { end + 1 } else { end };
            (name, start, end.max(start))
        })
        .collect();
    (lines, defines)
}

/// Length of the action at the start of `s` (`{{ … }}`, strings inside it
/// skipped), and whether it is a comment (`{{/* … */}}`).
fn action_len(s: &str) -> (usize, bool) {
    let body = s[2..].trim_start_matches('-').trim_start();
    if body.starts_with("/*") {
        let len = s
            .find("*/")
            .and_then(|c| s[c..].find("}}").map(|e| c + e + 2))
            .unwrap_or(s.len());
        return (len, true);
    }
    let bytes = s.as_bytes();
    let mut k = 2;
    let mut quote: Option<u8> = None;
    while k < bytes.len() {
        let b = bytes[k];
        match quote {
            Some(q) => {
                if b == b'\\' && q != b'`' {
                    k += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'"' || b == b'`' || b == b'\'' {
                    quote = Some(b);
                } else if b == b'}' && bytes.get(k + 1) == Some(&b'}') {
                    return (k + 2, false);
                }
            }
        }
        k += 1;
    }
    (s.len(), false)
}

/// The words of an action, without its delimiters and trim markers.
fn action_body(action: &str) -> &str {
    let inner = action.strip_prefix("{{").unwrap_or(action);
    let inner = inner.strip_suffix("}}").unwrap_or(inner);
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    inner.trim()
}

/// The string literal at the start of `s` (`"name"` → `name`).
fn quoted(s: &str) -> Option<&str> {
    let rest = s.strip_prefix('"')?;
    rest.find('"').map(|e| &rest[..e])
}

/// Glob match: `pieces` in order, with anything between them; anchored at
/// the start / end when the line starts / ends with literal text.
fn glob(pieces: &[String], (start, end): (bool, bool), text: &str) -> bool {
    let n = pieces.len();
    if n == 0 {
        return !start && !end;
    }
    if n == 1 && start && end {
        return text == pieces[0];
    }
    let mut pos = 0;
    for (k, p) in pieces.iter().enumerate() {
        if k == 0 && start {
            if !text.starts_with(p.as_str()) {
                return false;
            }
            pos = p.len();
        } else if k + 1 == n && end {
            return text[pos..].ends_with(p.as_str());
        } else {
            match text[pos..].find(p.as_str()) {
                Some(at) => pos += at + p.len(),
                None => return false,
            }
        }
    }
    !end || pos == text.len()
}

/// `- name: x` → `name`; `key:` → `key`; no key in `- x`, `a = b`, `# c: d`.
fn key_of(text: &str) -> Option<&str> {
    let mut t = text.trim();
    while let Some(rest) = t.strip_prefix("- ") {
        t = rest.trim_start();
    }
    if t.starts_with('#') {
        return None;
    }
    let colon = t
        .char_indices()
        .find(|&(k, c)| c == ':' && t[k + 1..].chars().next().is_none_or(char::is_whitespace))
        .map(|(k, _)| k)?;
    let key = t[..colon].trim_end();
    let quoted = key.len() >= 2
        && ((key.starts_with('"') && key.ends_with('"'))
            || (key.starts_with('\'') && key.ends_with('\'')));
    let plain = !key.is_empty()
        && !key.contains(char::is_whitespace)
        && !key.starts_with(['{', '[', '-', '&', '*', '!', '|', '>']);
    (quoted || plain).then_some(key)
}

fn is_item(text: &str) -> bool {
    let t = text.trim();
    t == "-" || t.starts_with("- ")
}

/// `p` (indent, list item, opens a block) encloses `cur` (indent, list item)?
/// Less indented; or a key at the same indentation as the list it holds.
fn encloses(p: (usize, bool, bool), cur: (usize, bool)) -> bool {
    p.0 < cur.0 || (p.0 == cur.0 && cur.1 && !p.1 && p.2)
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A rendered line worth matching (not blank, not a comment).
fn rendered_structural(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// The lines enclosing rendered line `i` (innermost first), down to `lo`.
fn rendered_ancestors(lines: &[&str], lo: usize, i: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut cur = (indent(lines[i]), is_item(lines[i]));
    for j in (lo..i).rev() {
        if cur.0 == 0 && !cur.1 {
            break;
        }
        let l = lines[j];
        if !rendered_structural(l) {
            continue;
        }
        let t = l.trim();
        if encloses((indent(l), is_item(t), t.ends_with(':')), cur) {
            out.push(j);
            cur = (indent(l), is_item(t));
        }
    }
    out
}

/// How well a rendered line and a template line agree: 2 the text matches,
/// 1 only the key (and list-item-ness) does, 0 not at all.
fn agreement(rendered: &str, t: &TLine) -> u32 {
    let r = rendered.trim();
    let rkey = key_of(r);
    if rkey.is_some() && rkey != t.key.as_deref() {
        return 0;
    }
    if t.matches(r) {
        2
    } else if rkey.is_some() && is_item(r) == t.item {
        1
    } else {
        0
    }
}

impl Chart {
    /// The `# Source:` template and the named templates it includes on lines
    /// of their own, recursively, each at the line including it.
    fn instances(&self, file: usize) -> Vec<Inst> {
        let mut insts = vec![Inst {
            file,
            start: 0,
            end: self.files[file].lines.len(),
            parent: None,
            base: 0,
            name: None,
        }];
        let mut k = 0;
        while k < insts.len() {
            let inst = insts[k].clone();
            let mut depth = 0;
            let mut up = inst.parent;
            let mut names = vec![inst.name.clone()];
            while let Some((pk, _)) = up {
                depth += 1;
                names.push(insts[pk].name.clone());
                up = insts[pk].parent;
            }
            if depth < MAX_DEPTH {
                for j in inst.start..inst.end {
                    for name in &self.files[inst.file].lines[j].includes {
                        if insts.len() >= MAX_INSTANCES
                            || names.iter().any(|n| n.as_deref() == Some(name.as_str()))
                        {
                            continue;
                        }
                        if let Some(&(f, start, end)) = self.defines.get(name) {
                            insts.push(Inst {
                                file: f,
                                start,
                                end,
                                parent: Some((k, j)),
                                base: inst.base + (j - inst.start) + 1,
                                name: Some(name.clone()),
                            });
                        }
                    }
                }
            }
            k += 1;
        }
        insts
    }

    fn line(&self, insts: &[Inst], (k, j): (usize, usize)) -> &TLine {
        &self.files[insts[k].file].lines[j]
    }

    /// The template lines enclosing line `j` of instance `k`, innermost first;
    /// past the top of a named template, those enclosing its include.
    fn ancestors(&self, insts: &[Inst], mut k: usize, mut j: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let t = self.line(insts, (k, j));
        let mut cur = (t.indent, t.item);
        loop {
            let inst = &insts[k];
            let lines = &self.files[inst.file].lines;
            while j > inst.start {
                j -= 1;
                let p = &lines[j];
                if p.structural && encloses((p.indent, p.item, p.opens), cur) {
                    out.push((k, j));
                    cur = (p.indent, p.item);
                }
            }
            match inst.parent {
                Some((pk, site)) => {
                    k = pk;
                    j = site;
                    cur = (self.line(insts, (pk, site)).indent, false);
                }
                None => return out,
            }
        }
    }

    /// The best template line for rendered line `i` (document content from `lo`).
    fn best(
        &self,
        insts: &[Inst],
        rendered: &[&str],
        lo: usize,
        i: usize,
    ) -> Option<(usize, usize)> {
        let text = rendered[i].trim();
        if !rendered_structural(text) {
            return None;
        }
        let rkey = key_of(text);
        let r_anc = rendered_ancestors(rendered, lo, i);
        let offset = i - lo;
        type Rank = (bool, u32, u32, u32, std::cmp::Reverse<usize>, bool);
        let mut best: Option<(Rank, (usize, usize))> = None;
        for (k, inst) in insts.iter().enumerate() {
            for j in inst.start..inst.end {
                let t = &self.files[inst.file].lines[j];
                if !t.structural || (rkey.is_some() && t.key.is_none()) {
                    continue;
                }
                let tier = agreement(text, t);
                if tier == 0 {
                    continue;
                }
                let t_anc = self.ancestors(insts, k, j);
                let level =
                    |r: usize, t: (usize, usize)| agreement(rendered[r], self.line(insts, t));
                let mut aligned = 0;
                let mut levels = 0;
                for (&r, &t) in r_anc.iter().zip(&t_anc) {
                    let w = level(r, t);
                    if w == 0 {
                        break;
                    }
                    aligned += w;
                    levels += 1;
                }
                // The innermost enclosing line must agree (or both are at the top).
                if (r_anc.is_empty() && !t_anc.is_empty()) || (!r_anc.is_empty() && levels == 0) {
                    continue;
                }
                let full = levels == r_anc.len() && levels == t_anc.len();
                let mut subseq = 0;
                let mut from = 0;
                for &r in &r_anc {
                    while from < t_anc.len() {
                        let w = level(r, t_anc[from]);
                        from += 1;
                        if w > 0 {
                            subseq += w;
                            break;
                        }
                    }
                }
                let pos = inst.base + (j - inst.start);
                let rank = (
                    full,
                    aligned,
                    tier,
                    subseq,
                    std::cmp::Reverse(pos.abs_diff(offset)),
                    k == 0,
                );
                if best.as_ref().is_none_or(|(b, _)| rank > *b) {
                    best = Some((rank, (k, j)));
                }
            }
        }
        best.map(|(_, at)| at)
    }

    /// Rendered line `line` (1-based) of `rendered` → a line of template `file`.
    fn map_line(&self, file: usize, rendered: &[&str], line: usize) -> Mapped {
        if line == 0 || line > rendered.len() {
            return self.unmatched(file);
        }
        let mut i = line - 1;
        // The document's content starts after helm's `# Source:` line (or `---`).
        let lo = (0..=i)
            .rev()
            .find(|&j| rendered[j].starts_with("# Source:") || rendered[j].trim_end() == "---")
            .map_or(0, |j| j + 1);
        if i < lo {
            return self.unmatched(file);
        }
        let insts = self.instances(file);
        let mut how = How::Line;
        loop {
            if let Some((k, j)) = self.best(&insts, rendered, lo, i) {
                return self.mapped(&insts, (k, j), how);
            }
            match rendered_ancestors(rendered, lo, i).first() {
                Some(&p) => {
                    i = p;
                    how = How::Enclosing;
                }
                None => return self.unmatched(file),
            }
        }
    }

    fn mapped(&self, insts: &[Inst], (k, j): (usize, usize), how: How) -> Mapped {
        let inst = &insts[k];
        let lines = &self.files[inst.file].lines;
        let t = &lines[j];
        // The region runs on over the action lines below that write the block.
        let mut end = j;
        for (n, l) in lines.iter().enumerate().take(inst.end).skip(j + 1) {
            if l.structural || l.segs.is_empty() || l.indent <= t.indent {
                break;
            }
            end = n;
        }
        let mut via = None;
        let mut kk = k;
        while let Some((pk, site)) = insts[kk].parent {
            if pk == 0 {
                via = Some((self.files[insts[0].file].rel.clone(), site as u32 + 1));
            }
            kk = pk;
        }
        Mapped {
            file: self.files[inst.file].rel.clone(),
            line: j as u32 + 1,
            end_line: (end > j).then_some(end as u32 + 1),
            how,
            via,
            looked_in: Some(self.root.display().to_string()),
        }
    }

    fn unmatched(&self, file: usize) -> Mapped {
        Mapped {
            file: self.files[file].rel.clone(),
            line: 1,
            end_line: None,
            how: How::Unmatched,
            via: None,
            looked_in: Some(self.root.display().to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(files: &[(&str, &str)]) -> Chart {
        let mut out = Chart {
            root: PathBuf::from("chart"),
            files: Vec::new(),
            defines: HashMap::new(),
        };
        for (rel, text) in files {
            let (lines, defines) = lex(text);
            for (name, s, e) in defines {
                out.defines.insert(name, (out.files.len(), s, e));
            }
            out.files.push(TFile {
                rel: rel.to_string(),
                lines,
            });
        }
        out
    }

    const STS: &str = r#"{{- if .Values.enabled }}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}
  labels:
    {{- include "labels" . | nindent 4 }}
spec:
  template:
    spec:
      containers:
        {{- include "container" . | nindent 8 }}
{{- end }}
"#;

    const HELPERS: &str = r#"{{/*
Pieces.
key: not a key, a comment
*/}}
{{- define "labels" -}}
app: {{ .Chart.Name }}
{{- end }}

{{- define "container" -}}
- name: memcached
  image: {{ .Values.image | quote }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
- name: exporter
  resources:
    {{- toYaml .Values.exporter.resources | nindent 4 }}
{{- end }}
"#;

    const RENDERED: &str = r#"---
# Source: c/templates/sts.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: rel
  labels:
    app: c
    extra: from-values
spec:
  template:
    spec:
      containers:
        - name: memcached
          image: "memcached:1.6.38"
          resources:
            limits:
              memory: 200Mi
        - name: exporter
          resources:
            limits:
              memory: 20Mi
"#;

    fn map(line: usize) -> Mapped {
        let c = chart(&[
            ("templates/sts.yaml", STS),
            ("templates/_helpers.tpl", HELPERS),
        ]);
        let rendered: Vec<&str> = RENDERED.lines().collect();
        c.map_line(0, &rendered, line)
    }

    fn at(m: &Mapped) -> (&str, u32, Option<u32>, How) {
        (m.file.as_str(), m.line, m.end_line, m.how)
    }

    #[test]
    fn lexes_actions_comments_and_defines() {
        let (lines, defines) = lex(HELPERS);
        assert_eq!(
            defines,
            [
                ("labels".to_string(), 5, 6),
                ("container".to_string(), 9, 16)
            ]
        );
        // The comment's lines are not template text.
        assert!(!lines[2].structural);
        assert_eq!(lines[10].key.as_deref(), Some("image"));
        assert!(lines[10].matches("image: \"memcached:1.6.38\""));
        assert!(!lines[10].matches("images: x"));
        let (sts, _) = lex(STS);
        assert_eq!(sts[6].includes, ["labels"]);
        assert_eq!(sts[6].indent, 4);
        assert!(!sts[6].structural);
        // An inline include is not a block the include writes.
        let (inline, _) = lex(
            "name: {{ include \"x\" . }}\n  {{- template \"y\" (dict \"a\" \"}}\") }}\n{{ \"}}\" }}: z\n",
        );
        assert!(inline[0].includes.is_empty());
        // A `}}` inside a string does not end the action.
        assert_eq!(inline[1].includes, ["y"]);
        assert_eq!(inline[1].segs, [Seg::Lit("  ".into()), Seg::Wild]);
        assert_eq!(inline[2].key, None);
        assert!(inline[2].matches("anything: z"));
    }

    #[test]
    fn globs() {
        let t = |s: &str| lex(s).0.remove(0);
        assert!(t("name: {{ .x }}").matches("name: rel"));
        assert!(t("resources: {{- toYaml . | nindent 4 }}").matches("resources:"));
        assert!(t("- {{ .a }}-{{ .b }}:11211").matches("- x-y:11211"));
        assert!(!t("- {{ .a }}-{{ .b }}:11211").matches("- x-y:11212"));
        assert!(t("podManagementPolicy: Parallel").matches("podManagementPolicy: Parallel"));
        assert!(!t("podManagementPolicy: Parallel").matches("podManagementPolicy: OrderedReady"));
        assert!(t("{{ .a }}x{{ .b }}").matches("axb"));
        assert!(!t("{{ .a }}x{{ .b }}").matches("ab"));
    }

    #[test]
    fn keys() {
        assert_eq!(key_of("- name: x"), Some("name"));
        assert_eq!(key_of("resources:"), Some("resources"));
        assert_eq!(key_of("\"a b\": 1"), Some("\"a b\""));
        assert_eq!(key_of("image: \"memcached:1.6.38\""), Some("image"));
        assert_eq!(key_of("- \"-m\""), None);
        assert_eq!(key_of("local x = \"a: b\""), None);
        assert_eq!(key_of("# note: x"), None);
        assert_eq!(key_of("http://x"), None);
    }

    #[test]
    fn a_line_the_template_writes_maps_to_itself() {
        assert_eq!(at(&map(6)), ("templates/sts.yaml", 5, None, How::Line));
        assert_eq!(at(&map(4)), ("templates/sts.yaml", 3, None, How::Line));
    }

    #[test]
    fn a_line_a_helper_writes_maps_into_the_helper() {
        let m = map(15);
        assert_eq!(at(&m), ("templates/_helpers.tpl", 11, None, How::Line));
        assert_eq!(m.via, Some(("templates/sts.yaml".to_string(), 12)));
        // The list item of the helper, not the exporter's.
        assert_eq!(
            at(&map(14)),
            ("templates/_helpers.tpl", 10, None, How::Line)
        );
        assert_eq!(
            at(&map(19)),
            ("templates/_helpers.tpl", 14, None, How::Line)
        );
    }

    #[test]
    fn a_line_from_to_yaml_maps_to_the_key_holding_it() {
        // memory of the memcached container: its `resources:` and the toYaml line.
        assert_eq!(
            at(&map(18)),
            ("templates/_helpers.tpl", 12, Some(13), How::Enclosing)
        );
        // The exporter's memory: the exporter's `resources:`.
        assert_eq!(
            at(&map(22)),
            ("templates/_helpers.tpl", 15, Some(16), How::Enclosing)
        );
        // A label from values: the included labels helper has no `extra:`, so
        // the key holding the include.
        assert_eq!(
            at(&map(9)),
            ("templates/sts.yaml", 6, Some(7), How::Enclosing)
        );
        assert_eq!(at(&map(8)), ("templates/_helpers.tpl", 6, None, How::Line));
    }

    #[test]
    fn nothing_matching_is_line_one() {
        // The `# Source:` line itself, and a line past the end.
        assert_eq!(at(&map(2)), ("templates/sts.yaml", 1, None, How::Unmatched));
        assert_eq!(
            at(&map(99)),
            ("templates/sts.yaml", 1, None, How::Unmatched)
        );
        let c = chart(&[("templates/x.yaml", "{{ include \"whole\" . }}\n")]);
        let rendered = ["# Source: c/templates/x.yaml", "kind: Service"];
        assert_eq!(
            at(&c.map_line(0, &rendered, 2)),
            ("templates/x.yaml", 1, None, How::Unmatched)
        );
    }

    #[test]
    fn resolve_finds_the_chart_and_says_when_it_cannot() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("deploy/cache");
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::write(
            chart.join("Chart.yaml"),
            "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        )
        .unwrap();
        std::fs::write(chart.join("templates/sts.yaml"), STS).unwrap();
        std::fs::write(chart.join("templates/_helpers.tpl"), HELPERS).unwrap();
        let input = Input {
            name: std::sync::Arc::from("<stdin>"),
            kind: crate::manifest::InputKind::Yaml,
            text: RENDERED.to_string(),
        };
        let mut f = Finding::new(
            "memory-limit-below-peak",
            crate::finding::Severity::Error,
            "m",
        );
        f.location = Location {
            file: "<stdin>".into(),
            document: Some(1),
            source: Some("c/templates/sts.yaml".into()),
            path: "/spec/template/spec/containers/0/resources/limits/memory".into(),
            line: Some(18),
        };
        let report = vec![f.clone()];
        let inputs = [input];
        // Found with --chart-dir, and by walking up from inside the chart.
        let by_dir = resolve(&report, &inputs, Some("deploy/cache"), dir.path());
        assert_eq!(
            by_dir.get(&f).map(|m| (m.line, m.how)),
            Some((12, How::Enclosing))
        );
        let inside = resolve(&report, &inputs, None, &chart.join("templates"));
        assert_eq!(inside.get(&f).map(|m| m.line), Some(12));
        // Not found from the temporary directory (no charts/c there).
        let lost = resolve(&report, &inputs, None, dir.path());
        assert_eq!(
            lost.get(&f).map(|m| (m.line, m.how)),
            Some((1, How::NoTemplate))
        );
        let wrong = resolve(&report, &inputs, Some("nowhere"), dir.path());
        assert_eq!(wrong.get(&f).map(|m| m.how), Some(How::NoTemplate));
    }
}
