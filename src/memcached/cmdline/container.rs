//! Which container runs memcached, and with which argv: `command`, `args`,
//! the image's entrypoint, and shell scripts that start memcached.

use super::*;

/// A container that runs memcached.
#[derive(Debug, Clone)]
pub struct MemcachedContainer<'a> {
    pub container: Container<'a>,
    pub args: MemcachedArgs,
    pub role: Role,
    pub launch: Launch,
}

impl MemcachedContainer<'_> {
    /// JSON pointer to where an argument was written.
    pub fn pointer(&self, from: Option<ArgRef>) -> String {
        match from {
            Some(r) => r.pointer(&self.container.pointer()),
            None => self.default_pointer(),
        }
    }

    /// Where a missing option would be added: `args`, or `command` when only
    /// `command` is given, or the container itself.
    pub fn default_pointer(&self) -> String {
        let c = &self.container;
        if c.json.get("args").is_some() {
            format!("{}/args", c.pointer())
        } else if c.json.get("command").is_some() {
            format!("{}/command", c.pointer())
        } else {
            c.pointer()
        }
    }
}

/// Every long-running container of the object that runs memcached, parsed.
pub fn memcached_containers<'a>(obj: &Object<'a>) -> Vec<MemcachedContainer<'a>> {
    // Sized to what it holds: a parsed container is large, and a list
    // grown from nothing has room for four.
    let mut found: Vec<MemcachedContainer<'a>> = k8s::containers(obj)
        .into_iter()
        .filter(|c| c.long_running())
        .filter_map(|c| {
            let (argv, launch) = memcached_argv(&c)?;
            let mut args = parse(&argv);
            // The environment again only when a problem names a variable.
            let mut env: Option<EnvMap> = None;
            for p in &mut args.problems {
                let name = p
                    .message
                    .split_once("the variable `")
                    .and_then(|(_, rest)| rest.split_once('`'))
                    .map(|(name, _)| name.to_string());
                if let Some(name) = name {
                    let env = env.get_or_insert_with(|| EnvMap::of(c.json));
                    p.message = format!("{}: {}", p.message, env.why(&name));
                }
            }
            let role = if args.proxy_config.value.is_some() {
                Role::Proxy
            } else {
                Role::Cache
            };
            Some(MemcachedContainer {
                container: c,
                args,
                role,
                launch,
            })
        })
        .collect();
    found.shrink_to_fit();
    found
}

/// Is this image memcached (`memcached:1.6.38`, `docker.io/library/memcached@sha256:...`)?
pub fn is_memcached_image(image: &str) -> bool {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    let repo = last.split(':').next().unwrap_or(last);
    repo == "memcached"
}

pub(super) fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

pub(super) fn is_memcached_program(s: &str) -> bool {
    basename(s) == "memcached"
}

pub(super) fn is_shell(s: &str) -> bool {
    matches!(basename(s), "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh")
}

/// The arguments memcached receives (without the program name), if the container runs it.
pub fn memcached_argv(c: &Container) -> Option<(Vec<ArgWord>, Launch)> {
    let has_command = c.json.get("command").is_some();
    // Without a command only the memcached image runs memcached: most
    // containers stop here, before their environment is read.
    if !has_command && !c.image().is_some_and(is_memcached_image) {
        return None;
    }
    let env = EnvMap::of(c.json);
    let expand = |field: ArgField, list: Vec<String>| -> Vec<ArgWord> {
        list.into_iter()
            .enumerate()
            .map(|(i, s)| {
                let from = ArgRef { field, index: i };
                // Most arguments name no variable: kept as they are.
                let (text, unresolved) = if s.contains('$') {
                    env.expand_kubernetes(&s)
                } else {
                    (s, Vec::new())
                };
                ArgWord {
                    text,
                    from,
                    unresolved,
                }
            })
            .collect()
    };
    let command = expand(ArgField::Command, c.strings("command"));
    let args = expand(ArgField::Args, c.strings("args"));
    if !has_command {
        return entrypoint(args, &env).map(|(a, l)| {
            (
                a,
                if l == Launch::Shell {
                    l
                } else {
                    Launch::ImageEntrypoint
                },
            )
        });
    }
    let argv: Vec<ArgWord> = command.into_iter().chain(args).collect();
    from_argv(argv, &env)
}

/// The official image's `docker-entrypoint.sh`: a first argument starting with
/// `-` means `memcached "$@"`; no argument means the CMD, `memcached`.
pub(super) fn entrypoint(args: Vec<ArgWord>, env: &EnvMap) -> Option<(Vec<ArgWord>, Launch)> {
    match args.first() {
        None => Some((Vec::new(), Launch::ImageEntrypoint)),
        Some(first) if first.text.starts_with('-') => Some((args, Launch::ImageEntrypoint)),
        Some(_) => from_argv(args, env),
    }
}

/// argv[0] is the program: memcached, the image's entrypoint, an init wrapper or a shell.
pub(super) fn from_argv(mut argv: Vec<ArgWord>, env: &EnvMap) -> Option<(Vec<ArgWord>, Launch)> {
    if argv.is_empty() {
        return None;
    }
    let program = argv[0].text.clone();
    let prog = basename(&program);
    if is_memcached_program(&program) {
        argv.remove(0);
        return Some((argv, Launch::Command));
    }
    if prog == "docker-entrypoint.sh" {
        argv.remove(0);
        return entrypoint(argv, env).map(|(a, _)| (a, Launch::Command));
    }
    if matches!(prog, "tini" | "dumb-init" | "catatonit") {
        // Wrapper options up to `--` (or the first non-option) belong to the wrapper.
        argv.remove(0);
        let skip = match argv.iter().position(|w| w.text == "--") {
            Some(p) => p + 1,
            None => argv
                .iter()
                .position(|w| !w.text.starts_with('-'))
                .unwrap_or(argv.len()),
        };
        argv.drain(..skip);
        return from_argv(argv, env);
    }
    if is_shell(&program) {
        // sh [-e -x ...] -c SCRIPT [name args...]
        let mut i = 1;
        let mut saw_c = false;
        while i < argv.len() && argv[i].text.starts_with('-') && argv[i].text != "--" {
            if argv[i].text.trim_start_matches('-').contains('c') && !argv[i].text.starts_with("--")
            {
                saw_c = true;
            }
            i += 1;
            if saw_c {
                break;
            }
        }
        if !saw_c || i >= argv.len() {
            return None;
        }
        let script = &argv[i];
        return shell_memcached(script, env).map(|a| (a, Launch::Shell));
    }
    None
}
