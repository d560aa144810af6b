//! A best-effort shell word reader for `sh -c "... memcached ..."` scripts.

use super::*;

/// Finds `memcached ...` in a shell script (best effort: simple commands
/// separated by `;`, `&&`, `||`, `|`, `&` or new lines; quotes; `$VAR`,
/// `${VAR}`, `${VAR:-default}`; a leading `exec` and `NAME=value` assignments).
pub(super) fn shell_memcached(script: &ArgWord, env: &EnvMap) -> Option<Vec<ArgWord>> {
    for command in shell_words(&script.text, env) {
        let mut words = command.into_iter().peekable();
        while let Some((w, _)) = words.peek() {
            let is_assignment = w.split_once('=').is_some_and(|(n, _)| {
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            });
            if w == "exec" || is_assignment {
                words.next();
            } else {
                break;
            }
        }
        let Some((program, _)) = words.next() else {
            continue;
        };
        if is_memcached_program(&program) {
            return Some(
                words
                    .map(|(text, mut unresolved)| {
                        unresolved.extend(script.unresolved.iter().cloned());
                        ArgWord {
                            text,
                            from: script.from,
                            unresolved,
                        }
                    })
                    .collect(),
            );
        }
    }
    None
}

pub(super) type ShellWord = (String, Vec<String>);

/// Splits a script into simple commands of words.
pub(super) fn shell_words(script: &str, env: &EnvMap) -> Vec<Vec<ShellWord>> {
    let mut commands: Vec<Vec<ShellWord>> = vec![Vec::new()];
    let mut word = String::new();
    let mut unresolved = Vec::new();
    let mut in_word = false;
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;
    let flush = |commands: &mut Vec<Vec<ShellWord>>,
                 word: &mut String,
                 unresolved: &mut Vec<String>,
                 in_word: &mut bool| {
        if *in_word {
            commands
                .last_mut()
                .expect("one command")
                .push((std::mem::take(word), std::mem::take(unresolved)));
            *in_word = false;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => {
                flush(&mut commands, &mut word, &mut unresolved, &mut in_word);
                i += 1;
            }
            '\n' | ';' | '&' | '|' => {
                flush(&mut commands, &mut word, &mut unresolved, &mut in_word);
                commands.push(Vec::new());
                i += 1;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' => {
                in_word = true;
                if let Some(&n) = chars.get(i + 1)
                    && n != '\n'
                {
                    word.push(n);
                }
                i += 2;
            }
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`'))
                    {
                        word.push(chars[i + 1]);
                        i += 2;
                    } else if chars[i] == '$' {
                        i = shell_var(&chars, i, env, &mut word, &mut unresolved);
                    } else {
                        word.push(chars[i]);
                        i += 1;
                    }
                }
                i += 1;
            }
            '$' => {
                in_word = true;
                i = shell_var(&chars, i, env, &mut word, &mut unresolved);
            }
            _ => {
                in_word = true;
                word.push(c);
                i += 1;
            }
        }
    }
    flush(&mut commands, &mut word, &mut unresolved, &mut in_word);
    commands
}

/// Expands `$NAME`, `${NAME}`, `${NAME:-default}` / `${NAME-default}` at `chars[i] == '$'`.
pub(super) fn shell_var(
    chars: &[char],
    i: usize,
    env: &EnvMap,
    word: &mut String,
    unresolved: &mut Vec<String>,
) -> usize {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if chars.get(i + 1) == Some(&'{') {
        let Some(close) = chars[i + 2..]
            .iter()
            .position(|&c| c == '}')
            .map(|p| p + i + 2)
        else {
            word.extend(&chars[i..]);
            return chars.len();
        };
        let inner: String = chars[i + 2..close].iter().collect();
        let name_len = inner.chars().take_while(|&c| is_name(c)).count();
        let (name, rest) = inner.split_at(name_len);
        let default = rest.strip_prefix(":-").or_else(|| rest.strip_prefix('-'));
        match env.get(name) {
            Some(EnvValue::Literal(v)) if !(v.is_empty() && rest.starts_with(":-")) => {
                word.push_str(v)
            }
            Some(EnvValue::Unresolvable(_)) => unresolved.push(name.to_string()),
            _ => match default {
                Some(d) => word.push_str(d),
                None if env.may_define(name) => unresolved.push(name.to_string()),
                None => {}
            },
        }
        return close + 1;
    }
    let len = chars[i + 1..].iter().take_while(|&&c| is_name(c)).count();
    if len == 0 {
        word.push('$');
        return i + 1;
    }
    let name: String = chars[i + 1..i + 1 + len].iter().collect();
    match env.get(&name) {
        Some(EnvValue::Literal(v)) => word.push_str(v),
        Some(EnvValue::Unresolvable(_)) => unresolved.push(name),
        None if env.may_define(&name) => unresolved.push(name),
        None => {}
    }
    i + 1 + len
}
