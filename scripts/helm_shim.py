#!/usr/bin/env python3
"""A small helm-compatible CLI on top of helm-python-sdk (Helm v4's Go engine).

Used by scripts/helm when no real ``helm`` binary is on PATH.  Supported:

  helm template [NAME] CHART [-f FILE]... [--set k=v]... [--set-string k=v]...
                [--set-json k=json]... [--set-literal k=v]... [--set-file k=path]...
                [-n NS] [--kube-version V] [-a/--api-versions V]... [-s/--show-only T]...
                [--include-crds] [--skip-tests] [--no-hooks] [--is-upgrade] [--debug]
  helm lint [CHART...] [--strict] [--quiet] [--with-subcharts] [--kube-version V]
            [--skip-schema-validation] [values flags as above] [-n NS]
  helm version [--short] [--template TPL]
  helm dependency build [CHART] [--skip-refresh]

Output follows Helm v4's `helm template`: the rendered files are split into
YAML documents, sorted like releaseutil.SortManifests (file path, then kind
install order, stable), printed as ``---\\n# Source: <path>\\n<doc>\\n``, with
hooks (including test hooks) after the regular manifests.  Values follow
`helm`'s MergeValues: value files left to right, then --set-json, --set,
--set-string, --set-file, --set-literal (each parsed by Helm's own strvals
code inside the SDK) deep-merged on top.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import sys
import tempfile
from typing import Any

try:
    import helm_python as helm
    from helm_python import _native
except Exception as exc:  # pragma: no cover - environment problem
    sys.stderr.write(f"Error: cannot load helm-python-sdk: {exc}\n")
    sys.exit(1)


class HelmCLIError(Exception):
    """An error printed as ``Error: <msg>`` with exit status 1."""


# --------------------------------------------------------------------------
# releaseutil ports (Helm v4 pkg/release/v1/util)
# --------------------------------------------------------------------------

INSTALL_ORDER = [
    "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
    "PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret",
    "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
    "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
    "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role",
    "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
    "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
    "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
]
_ORDER = {k: i for i, k in enumerate(INSTALL_ORDER)}

HOOK_EVENTS = {
    "pre-install", "post-install", "pre-delete", "post-delete", "pre-upgrade",
    "post-upgrade", "pre-rollback", "post-rollback", "test", "test-success",
}
HOOK_ANNOTATION = "helm.sh/hook"

# var sep = regexp.MustCompile("(?:^|\\s*\n)---\\s*")
_SEP = re.compile(r"(?:^|\s*\n)---\s*")


def split_manifests(big: str) -> list[str]:
    """releaseutil.SplitManifests, returned in document order."""
    out = []
    for d in _SEP.split(big.lstrip()):
        if d == "":
            continue
        out.append(d.lstrip())
    return out


def _kind_sort_key(kind: str) -> tuple[int, str]:
    # lessByKind: known kinds by install order; unknown kinds last, sorted
    # alphabetically among themselves; Python's sort is stable like SliceStable.
    if kind in _ORDER:
        return (0, f"{_ORDER[kind]:04d}")
    return (1, kind)


def _parse_head(path: str, doc: str) -> dict[str, Any]:
    """yaml.Unmarshal(doc, &SimpleHead) using the SDK's Go YAML parser."""
    try:
        head = helm.values_from_yaml(doc)
    except helm.HelmError as exc:
        raise YamlParseError(f"YAML parse error on {path}: {exc}") from exc
    return head if isinstance(head, dict) else {}


class YamlParseError(HelmCLIError):
    pass


def sort_manifests(files: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """releaseutil.SortManifests -> (hooks, manifests), each sorted by kind."""
    hooks: list[dict] = []
    generic: list[dict] = []
    for path in sorted(files):
        content = files[path]
        if os.path.basename(path).startswith("_"):
            continue
        if content.strip() == "":
            continue
        for doc in split_manifests(content):
            head = _parse_head(path, doc)
            kind = head.get("kind") or ""
            kind = kind if isinstance(kind, str) else str(kind)
            meta = head.get("metadata") if isinstance(head.get("metadata"), dict) else {}
            ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
            entry = {"path": path, "content": doc, "kind": kind}
            if not ann or HOOK_ANNOTATION not in ann:
                generic.append(entry)
                continue
            events = [e.strip().lower() for e in str(ann[HOOK_ANNOTATION]).split(",")]
            if any(e not in HOOK_EVENTS for e in events):
                continue  # Helm skips (and logs) documents with unknown hook types
            entry["events"] = events
            hooks.append(entry)
    hooks.sort(key=lambda m: _kind_sort_key(m["kind"]))
    generic.sort(key=lambda m: _kind_sort_key(m["kind"]))
    return hooks, generic


# --------------------------------------------------------------------------
# values (pkg/cli/values.Options.MergeValues)
# --------------------------------------------------------------------------


def merge_maps(a: dict, b: dict, index_lists: bool = False) -> dict:
    """Deep-merges b over a. With index_lists (b came from a --set expression
    with list indexes, `a[0].name=x`), lists are merged element by element as
    Helm's strvals.ParseInto does into the values it already holds: the
    elements b leaves unset (None) keep a's."""
    out = dict(a)
    for k, v in b.items():
        old = out.get(k)
        if isinstance(v, dict) and isinstance(old, dict):
            out[k] = merge_maps(old, v, index_lists)
        elif index_lists and isinstance(v, list) and isinstance(old, list):
            out[k] = merge_lists(old, v)
        else:
            out[k] = v
    return out


def merge_lists(a: list, b: list) -> list:
    out = list(a) + [None] * max(0, len(b) - len(a))
    for i, v in enumerate(b):
        if v is None:
            continue
        if isinstance(v, dict) and isinstance(out[i], dict):
            out[i] = merge_maps(out[i], v, True)
        elif isinstance(v, list) and isinstance(out[i], list):
            out[i] = merge_lists(out[i], v)
        else:
            out[i] = v
    return out


_LIST_INDEX = re.compile(r"\[\d+\]")


def _read_values_file(name: str) -> dict:
    try:
        if name == "-":
            data = sys.stdin.read()
        else:
            with open(name, encoding="utf-8") as fh:
                data = fh.read()
    except OSError as exc:
        raise HelmCLIError(f"open {name}: {exc.strerror.lower() if exc.strerror else exc}") from exc
    try:
        return helm.values_from_yaml(data)
    except helm.HelmError as exc:
        raise HelmCLIError(f"failed to parse {name}: {exc}") from exc


def merge_values(opts: dict) -> dict:
    base: dict = {}
    for f in opts["values"]:
        base = merge_maps(base, _read_values_file(f))
    parsers = [
        ("set_json", helm.parse_set_json, "failed parsing --set-json data"),
        ("set", helm.parse_set_string, "failed parsing --set data"),
        ("set_string", helm.parse_set_string_values, "failed parsing --set-string data"),
        ("set_file", helm.parse_set_file, "failed parsing --set-file data"),
        ("set_literal", helm.parse_set_literal, "failed parsing --set-literal data"),
    ]
    for key, fn, msg in parsers:
        for expr in opts[key]:
            try:
                base = merge_maps(base, fn(expr), bool(_LIST_INDEX.search(expr)))
            except helm.HelmError as exc:
                raise HelmCLIError(f"{msg}: {exc}") from exc
    return base


# --------------------------------------------------------------------------
# argument parsing (pflag-like: flags anywhere, --f=v, --f v, -f v, -fv)
# --------------------------------------------------------------------------

VALUE_FLAGS = {
    # name: (dest, kind)  kind: list | csv | str
    "f": ("values", "csv"), "values": ("values", "csv"),
    "set": ("set", "list"), "set-string": ("set_string", "list"),
    "set-json": ("set_json", "list"), "set-literal": ("set_literal", "list"),
    "set-file": ("set_file", "list"),
    "n": ("namespace", "str"), "namespace": ("namespace", "str"),
    "kube-version": ("kube_version", "str"),
    "a": ("api_versions", "csv"), "api-versions": ("api_versions", "csv"),
    "s": ("show_only", "list"), "show-only": ("show_only", "list"),
    "template": ("template", "str"),
    "output-dir": ("output_dir", "str"),
    "name-template": ("name_template", "str"),
    "version": ("chart_version", "str"),
    # accepted and ignored (cluster / repo access is meaningless here)
    "kube-context": (None, "str"), "kubeconfig": (None, "str"),
    "kube-apiserver": (None, "str"), "kube-token": (None, "str"),
    "kube-as-user": (None, "str"), "kube-as-group": (None, "list"),
    "kube-ca-file": (None, "str"), "kube-tls-server-name": (None, "str"),
    "registry-config": (None, "str"), "repository-config": (None, "str"),
    "repository-cache": (None, "str"), "burst-limit": (None, "str"),
    "qps": (None, "str"), "timeout": (None, "str"), "description": (None, "str"),
    "post-renderer": ("post_renderer", "str"), "post-renderer-args": (None, "list"),
    "dry-run": (None, "str"), "labels": (None, "list"),
}
BOOL_FLAGS = {
    "debug": "debug", "strict": "strict", "quiet": "quiet",
    "with-subcharts": "with_subcharts", "skip-schema-validation": "skip_schema_validation",
    "include-crds": "include_crds", "skip-tests": "skip_tests", "no-hooks": "no_hooks",
    "is-upgrade": "is_upgrade", "short": "short", "g": "generate_name",
    "generate-name": "generate_name", "skip-crds": None, "validate": None,
    "dependency-update": None, "devel": None, "atomic": None, "wait": None,
    "wait-for-jobs": None, "create-namespace": None, "replace": None,
    "disable-openapi-validation": None, "kube-insecure-skip-tls-verify": None,
    "release-name": None, "enable-dns": None, "verify": None, "render-subchart-notes": None,
    "skip-refresh": "skip_refresh",
    "h": "help", "help": "help",
}


def parse_args(argv: list[str]) -> tuple[list[str], dict]:
    opts: dict[str, Any] = {
        "values": [], "set": [], "set_string": [], "set_json": [], "set_literal": [],
        "set_file": [], "api_versions": [], "show_only": [],
        "namespace": os.environ.get("HELM_NAMESPACE") or None,
        "kube_version": None, "template": None, "output_dir": None,
        "name_template": None, "chart_version": None, "post_renderer": None,
        "debug": os.environ.get("HELM_DEBUG", "").lower() in ("1", "true"),
    }
    for v in BOOL_FLAGS.values():
        if v and v != "debug":
            opts.setdefault(v, False)
    pos: list[str] = []
    i = 0

    def take(name: str, inline: str | None) -> str:
        nonlocal i
        if inline is not None:
            return inline
        if i + 1 >= len(argv):
            raise HelmCLIError(f"flag needs an argument: {'-' if len(name) == 1 else '--'}{name}")
        i += 1
        return argv[i]

    def store(name: str, value: str) -> None:
        dest, kind = VALUE_FLAGS[name]
        if dest is None:
            return
        if kind == "str":
            opts[dest] = value
        elif kind == "list":
            opts[dest].append(value)
        else:
            opts[dest].extend(x for x in value.split(",") if x != "")

    while i < len(argv):
        a = argv[i]
        if a == "--":
            pos.extend(argv[i + 1:])
            break
        if a.startswith("--") and len(a) > 2:
            name, eq, val = a[2:].partition("=")
            inline = val if eq else None
            if name in VALUE_FLAGS:
                store(name, take(name, inline))
            elif name in BOOL_FLAGS:
                if BOOL_FLAGS[name]:
                    opts[BOOL_FLAGS[name]] = (inline or "true").lower() in ("1", "t", "true")
            else:
                raise HelmCLIError(f"unknown flag: --{name}")
        elif a.startswith("-") and len(a) > 1:
            name = a[1]
            rest = a[2:]
            if rest.startswith("="):
                rest = rest[1:]
            if name in VALUE_FLAGS:
                store(name, take(name, rest if rest else None))
            elif name in BOOL_FLAGS and not rest:
                if BOOL_FLAGS[name]:
                    opts[BOOL_FLAGS[name]] = True
            else:
                raise HelmCLIError(f"unknown shorthand flag: '{name}' in {a}")
        else:
            pos.append(a)
        i += 1
    return pos, opts


# --------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------

_KUBE_VERSION_RE = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?([-+][0-9A-Za-z.+-]*)?$")


def normalize_kube_version(v: str) -> str:
    """common.ParseKubeVersion: semver-parse, then "v" + canonical string."""
    m = _KUBE_VERSION_RE.match(v.strip())
    if not m:
        raise HelmCLIError(f"invalid kube version '{v}': Invalid Semantic Version")
    major, minor, patch, rest = m.groups()
    return f"v{int(major)}.{int(minor or 0)}.{int(patch or 0)}{rest or ''}"


def _missing_dependencies(chart_dir: str) -> list[str]:
    if not os.path.isdir(chart_dir):
        return []
    try:
        deps = helm.dependency_list(chart_dir)
    except helm.HelmError:
        return []
    return [d.get("name", "?") for d in deps if d.get("status") == "missing"]


def cmd_template(pos: list[str], opts: dict) -> int:
    if opts["output_dir"]:
        raise HelmCLIError("--output-dir is not supported by this helm shim")
    if opts["post_renderer"]:
        raise HelmCLIError("--post-renderer is not supported by this helm shim")
    if len(pos) > 2:
        raise HelmCLIError(f"expected at most two arguments, unexpected arguments: {', '.join(pos[2:])}")
    if not pos:
        raise HelmCLIError('"helm template" requires at least 1 argument\n\nUsage:  helm template [NAME] [CHART] [flags]')
    if len(pos) == 2:
        name, chart_ref = pos
    else:
        chart_ref = pos[0]
        name = "release-name"
    try:
        helm.validate_release_name(name)
    except helm.HelmError as exc:
        raise HelmCLIError(str(exc)) from exc
    namespace = opts["namespace"] or "default"

    if not os.path.exists(chart_ref):
        raise HelmCLIError(f'path "{chart_ref}" not found' if "/" in chart_ref or chart_ref.startswith(".")
                           else f"non-absolute URLs should be in form of repo_name/path_to_chart, got: {chart_ref}")
    vals = merge_values(opts)
    with tempfile.TemporaryDirectory(prefix="helm-shim-") as scratch:
        if opts["skip_schema_validation"] and os.path.isdir(chart_ref):
            # The engine's render always validates against values.schema.json:
            # render a copy without the schemas (this chart's and its subcharts').
            copy = os.path.join(scratch, os.path.basename(os.path.abspath(chart_ref)))
            shutil.copytree(chart_ref, copy, symlinks=True,
                            ignore=shutil.ignore_patterns("values.schema.json"))
            chart_ref = copy
        return _template(chart_ref, name, namespace, vals, opts)


def _template(chart_ref: str, name: str, namespace: str, vals: dict, opts: dict) -> int:
    try:
        chart = helm.Chart.load(chart_ref)
    except helm.HelmError as exc:
        raise HelmCLIError(str(exc)) from exc
    with chart:
        meta = chart.metadata
        ctype = meta.get("type") or "application"
        if ctype not in ("", "application"):
            raise HelmCLIError(f"{ctype} charts are not installable")
        missing = _missing_dependencies(chart_ref)
        if missing:
            raise HelmCLIError(
                "An error occurred while checking for chart dependencies. You may need to run "
                "`helm dependency build` to fetch missing dependencies: found in Chart.yaml, but "
                f"missing in charts/ directory: {', '.join(missing)}")
        if not opts["skip_schema_validation"]:
            try:
                chart.validate_schema(vals)
            except helm.HelmError as exc:
                raise HelmCLIError(str(exc)) from exc

        render_opts: dict[str, Any] = {"name": name, "namespace": namespace, "revision": 1}
        if opts["is_upgrade"]:
            render_opts.update(is_upgrade=True, is_install=False)
        else:
            render_opts.update(is_install=True, is_upgrade=False)
        if opts["kube_version"]:
            render_opts["kube_version"] = normalize_kube_version(opts["kube_version"])
        if opts["api_versions"]:
            render_opts["api_versions"] = opts["api_versions"]
        try:
            # Chart.render() does not expose kube_version/api_versions, but the
            # native helm_render options object accepts them.
            files: dict[str, str] = json.loads(_native.call_string(
                "helm_render", chart._raw(), json.dumps(vals), json.dumps(render_opts)))
        except helm.HelmError as exc:
            raise HelmCLIError(str(exc)) from exc
        crds = chart.crds if opts["include_crds"] else []

    # action.renderResources: drop NOTES.txt (chart and subcharts)
    files = {k: v for k, v in files.items() if not k.endswith("NOTES.txt")}
    try:
        hooks, manifests = sort_manifests(files)
    except YamlParseError as exc:
        if opts["debug"]:
            for k, v in files.items():
                sys.stdout.write(f"---\n# Source: {k}\n{v}\n")
        raise HelmCLIError(f"{exc}\n\nUse --debug flag to render out invalid YAML") from exc

    rel_manifest = "".join(f"---\n# Source: {c['filename']}\n{c['data']}\n" for c in crds)
    rel_manifest += "".join(f"---\n# Source: {m['path']}\n{m['content']}\n" for m in manifests)
    buf = rel_manifest.strip() + "\n"
    if not opts["no_hooks"]:
        for h in hooks:
            if opts["skip_tests"] and any(e in ("test", "test-success") for e in h["events"]):
                continue
            buf += f"---\n# Source: {h['path']}\n{h['content']}\n"

    if opts["show_only"]:
        docs = split_manifests(buf)
        name_re = re.compile(r"# Source: [^/]+/(.+)")
        out = []
        for pattern in opts["show_only"]:
            pattern = pattern.replace(os.sep, "/")
            found = False
            for doc in docs:
                m = name_re.search(doc)
                if not m:
                    continue
                if not _go_path_match(pattern, m.group(1)):
                    continue
                out.append(doc)
                found = True
            if not found:
                raise HelmCLIError(f"could not find template {pattern} in chart")
        sys.stdout.write("".join(f"---\n{d}\n" for d in out))
    else:
        sys.stdout.write(buf)
    return 0


def _go_path_match(pattern: str, name: str) -> bool:
    """filepath.Match: like fnmatch but '*' and '?' never match '/'."""
    regex = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            regex += "[^/]*"
        elif c == "?":
            regex += "[^/]"
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j < 0:
                return False
            body = pattern[i + 1:j]
            if body.startswith("^"):
                body = "!" + body[1:]
            regex += fnmatch.translate("[" + body + "]")[4:-3]
            i = j
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            regex += re.escape(pattern[i])
        else:
            regex += re.escape(c)
        i += 1
    return re.fullmatch(regex, name) is not None


_SEV = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}


def cmd_lint(pos: list[str], opts: dict) -> int:
    paths = pos or ["."]
    if opts["with_subcharts"]:
        for p in list(paths):
            for dirpath, _dirs, fnames in os.walk(os.path.join(p, "charts")):
                for fn in fnames:
                    full = os.path.join(dirpath, fn)
                    if fn == "Chart.yaml":
                        paths.append(dirpath)
                    elif fn.endswith(".tgz") or fn.endswith(".tar.gz"):
                        paths.append(full)
    kube_version = normalize_kube_version(opts["kube_version"]) if opts["kube_version"] else None
    vals = merge_values(opts)
    message = []
    failed = 0
    errors_or_warnings = 0
    for path in paths:
        try:
            result = helm.lint(
                path, vals,
                strict=opts["strict"] or None,
                namespace=opts["namespace"] or "default",
                with_subcharts=opts["with_subcharts"] or None,
                skip_schema_validation=opts["skip_schema_validation"] or None,
                kube_version=kube_version,
            )
        except helm.HelmError as exc:
            result = {"messages": [], "errors": [str(exc)]}
        msgs = result.get("messages") or []
        errs = result.get("errors") or []
        has = bool(errs) or any(m.get("severity", 0) > 1 for m in msgs)
        if has:
            errors_or_warnings += 1
        if opts["quiet"] and not has:
            continue
        message.append(f"==> Linting {path}\n")
        if not msgs:
            for e in errs:
                message.append(f"Error {e}\n")
        for m in msgs:
            sev = m.get("severity", 0)
            if not opts["quiet"] or sev > 1:
                message.append(f"[{_SEV.get(sev, 'UNKNOWN')}] {m.get('path', '')}: {m.get('error', '')}\n")
        if errs:
            failed += 1
        message.append("\n")
    sys.stdout.write("".join(message))
    sys.stdout.flush()
    summary = f"{len(paths)} chart(s) linted, {failed} chart(s) failed"
    if failed:
        raise HelmCLIError(summary)
    if not opts["quiet"] or errors_or_warnings:
        print(summary)
    return 0


def cmd_version(_pos: list[str], opts: dict) -> int:
    sdk = helm.helm_sdk_version()  # e.g. v4.2.3: the Helm Go SDK inside libhelm_c
    if opts["template"]:
        out = (opts["template"].replace("{{.Version}}", sdk).replace("{{ .Version }}", sdk)
               .replace("{{.GitCommit}}", "").replace("{{.GoVersion}}", ""))
        sys.stdout.write(out if opts["template"].endswith("\n") else out + "\n")
    elif opts["short"]:
        print(f"{sdk}+helm-python-sdk.{helm.__version__}")
    else:
        print(f'version.BuildInfo{{Version:"{sdk}", GitCommit:"helm-python-sdk-{helm.__version__}'
              f'/libhelm_c-{helm.helm_c_version()}", GitTreeState:"", GoVersion:""}}')
    return 0


USAGE = """helm (shim over helm-python-sdk, Helm engine {sdk})

Usage:
  helm template [NAME] CHART [flags]   render chart templates locally
  helm lint [CHART...] [flags]         examine a chart for possible issues
  helm version [--short]               print the engine version
  helm dependency build [CHART]        rebuild charts/ from Chart.lock (or Chart.yaml)

Value flags: -f/--values FILE, --set, --set-string, --set-json, --set-literal,
--set-file; template flags: -n/--namespace, --kube-version, -a/--api-versions,
-s/--show-only, --include-crds, --skip-tests, --no-hooks, --is-upgrade.
Set HELM_SHIM_FORCE=1 to use this shim even when a real helm is on PATH.
"""

def cmd_dependency(pos: list[str], opts: dict) -> int:
    """`helm dependency build [CHART]`: charts/ rebuilt from Chart.lock (or,
    without a lock, resolved from Chart.yaml as `dependency update` does), by
    Helm's own downloader inside the SDK. A `file://` dependency needs no
    network; a repository dependency needs that repository."""
    if not pos or pos[0] != "build":
        sub = f"dependency {pos[0]}" if pos else "dependency"
        raise HelmCLIError(f'unknown command "{sub}" for "helm" (this helm shim supports: '
                           "dependency build)")
    if len(pos) > 2:
        raise HelmCLIError(f'"helm dependency build" accepts at most 1 argument; received {len(pos) - 1}')
    chart = pos[1] if len(pos) > 1 else "."
    if not os.path.isfile(os.path.join(chart, "Chart.yaml")):
        raise HelmCLIError(f"{chart}: no Chart.yaml (not a chart directory)")
    helm.dependency_build(chart, skip_refresh=bool(opts.get("skip_refresh")))
    return 0


COMMANDS = {"template": cmd_template, "lint": cmd_lint, "version": cmd_version,
            "dependency": cmd_dependency}


def main(argv: list[str]) -> int:
    try:
        pos, opts = parse_args(argv)
        if not pos or opts.get("help"):
            sys.stdout.write(USAGE.format(sdk=helm.helm_sdk_version()))
            return 0
        cmd, rest = pos[0], pos[1:]
        if cmd not in COMMANDS:
            raise HelmCLIError(
                f'unknown command "{cmd}" for "helm" (this helm shim supports: '
                f'{", ".join(sorted(COMMANDS))}; install a real helm for more)')
        return COMMANDS[cmd](rest, opts)
    except HelmCLIError as exc:
        sys.stdout.flush()
        sys.stderr.write(f"Error: {exc}\n")
        return 1
    except helm.HelmError as exc:
        sys.stdout.flush()
        sys.stderr.write(f"Error: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
