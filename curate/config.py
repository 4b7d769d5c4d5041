"""Rule sets: YAML files that bind checks to rule ids with severity, parameters and roles.

A rule file may extend others; later files override earlier ones rule by rule. Every mistake
(unknown key, unknown check, bad parameter) is a ConfigError naming the file and line.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from curate.check import Params
from curate.model import Severity
from curate.registry import Registry, load_registry
from curate.yamlfile import ConfigError, LineDict, line_of, load_yaml

RULE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ROLES = ("system", "user", "assistant", "tool")
FAIL_LEVELS = ("error", "warning", "info", "never")


def builtin_rules_dir() -> Path:
    """Rules ship inside the wheel as curate/rules; in a source checkout they are ../rules."""
    packaged = Path(__file__).parent / "rules"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "rules"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleSpec(_Model):
    check: str | None = None
    severity: Literal["error", "warning", "info"] | None = None
    params: dict[str, Any] | None = None
    roles: list[Literal["system", "user", "assistant", "tool"]] | None = None
    enabled: bool | None = None
    description: str | None = None


class Settings(_Model):
    id_field: str | None = None
    max_line_bytes: int | None = None


class RuleFile(_Model):
    description: str | None = None
    extends: str | list[str] | None = None
    target: str | None = None
    fail_on: Literal["error", "warning", "info", "never"] | None = None
    settings: Settings | None = None
    rules: dict[str, RuleSpec | None] = {}


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    check: str
    severity: Severity
    params: Params
    roles: frozenset[str] | None
    source: str  # "file:line" where the rule was last set
    description: str


@dataclass(slots=True)
class RuleSet:
    name: str
    rules: list[Rule]
    target: str | None = None
    fail_on: str = "error"
    settings: Settings = field(default_factory=Settings)
    files: list[str] = field(default_factory=list)
    description: str = ""


@dataclass(slots=True)
class _Merged:
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule id -> fields (with __where__)
    target: str | None = None
    fail_on: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    description: str = ""


def resolve_rules_path(name: str, base: Path | None = None) -> Path:
    """NAME or PATH: a path if it exists, else ./rules/NAME.yaml, else the built-in rule set."""
    as_path = Path(name)
    if base is not None and not as_path.is_absolute() and (base / as_path).is_file():
        return base / as_path
    if as_path.suffix in (".yaml", ".yml") or "/" in name:
        if as_path.is_file():
            return as_path
        raise ConfigError(f"rules file {name} not found")
    candidates = []
    if base is not None:
        candidates.append(base / f"{name}.yaml")
    candidates += [Path("rules") / f"{name}.yaml", builtin_rules_dir() / f"{name}.yaml"]
    for c in candidates:
        if c.is_file():
            return c
    known = sorted(p.stem for p in builtin_rules_dir().glob("*.yaml"))
    raise ConfigError(f"unknown rule set {name!r}; built-in sets: {', '.join(known)}")


def _load_file(path: Path, merged: _Merged, stack: tuple[Path, ...]) -> None:
    path = path.resolve()
    if path in stack:
        raise ConfigError("rule files extend each other in a cycle", path)
    doc = load_yaml(path)
    if doc is None:
        doc = LineDict()
    if not isinstance(doc, dict):
        raise ConfigError("a rules file must be a mapping", path, 1)
    try:
        spec = RuleFile.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        raise ConfigError(_explain(err), path, line_of(doc, tuple(loc))) from None
    parents = [spec.extends] if isinstance(spec.extends, str) else list(spec.extends or [])
    for parent in parents:
        _load_file(resolve_rules_path(parent, path.parent), merged, (*stack, path))
    merged.files.append(str(path))
    merged.description = spec.description or merged.description
    merged.target = spec.target if spec.target is not None else merged.target
    merged.fail_on = spec.fail_on or merged.fail_on
    if spec.settings:
        merged.settings.update(spec.settings.model_dump(exclude_none=True))
    rules_doc = doc.get("rules") or {}
    for rule_id, rule in spec.rules.items():
        line = rules_doc.key_lines.get(rule_id) if isinstance(rules_doc, LineDict) else None
        if not RULE_ID.match(rule_id):
            raise ConfigError(f"rule id {rule_id!r} must be kebab-case (e.g. missing-assistant)", path, line)
        current = merged.specs.setdefault(rule_id, {})
        values = rule.model_dump(exclude_none=True) if rule else {}
        if "params" in values:
            current["params"] = {**current.get("params", {}), **values.pop("params")}
            node = rules_doc.get(rule_id) if isinstance(rules_doc, dict) else None
            params_node = node.get("params") if isinstance(node, dict) else None
            current["__params_where__"] = (str(path), _sub_line(rules_doc, rule_id, "params") or line, params_node)
        current.update(values)
        current["__where__"] = (str(path), line)


def _sub_line(rules_doc: Any, rule_id: str, key: str) -> int | None:
    node = rules_doc.get(rule_id) if isinstance(rules_doc, dict) else None
    return node.key_lines.get(key) if isinstance(node, LineDict) else None


def _explain(err: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"unknown key {err['loc'][-1]!r}"
    return f"{loc}: {err['msg']}"


def load_ruleset(name: str = "default", registry: Registry | None = None) -> RuleSet:
    registry = registry or load_registry()
    path = resolve_rules_path(name)
    merged = _Merged()
    _load_file(path, merged, ())
    rules = []
    for rule_id, spec in merged.specs.items():
        where_file, where_line = spec["__where__"]
        if spec.get("enabled") is False:
            continue
        check_id = spec.get("check")
        if not check_id:
            raise ConfigError(f"rule {rule_id} has no 'check'", where_file, where_line)
        cls = registry.get(check_id)
        if cls is None:
            hint = _closest(check_id, registry.checks)
            raise ConfigError(f"rule {rule_id}: unknown check {check_id!r}{hint}", where_file, where_line)
        pfile, pline, pnode = spec.get("__params_where__", (where_file, where_line, None))
        try:
            params = cls.Params.model_validate(spec.get("params", {}))
        except ValidationError as exc:
            err = exc.errors()[0]
            # the line of the offending value itself when it was set in that file
            line = line_of(pnode, tuple(err["loc"])) if pnode is not None else None
            raise ConfigError(f"rule {rule_id}: parameter {_explain(err)}", pfile, line or pline) from None
        rules.append(
            Rule(
                id=rule_id,
                check=check_id,
                severity=Severity.parse(spec.get("severity") or cls.default_severity),
                params=params,
                roles=frozenset(spec["roles"]) if spec.get("roles") else None,
                source=f"{where_file}:{where_line}",
                description=spec.get("description") or cls.description,
            )
        )
    return RuleSet(
        name=name,
        rules=rules,
        target=merged.target,
        fail_on=merged.fail_on or "error",
        settings=Settings(**merged.settings),
        files=merged.files,
        description=merged.description,
    )


def _closest(name: str, known: dict[str, Any]) -> str:
    import difflib

    match = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {match[0]}?)" if match else ""


def _matches(token: str, rule: Rule) -> int:
    """Length of the match between a --select/--ignore token and a rule, 0 for none."""
    if token in (rule.id, rule.check):
        return 1000 + len(token)
    if rule.check.startswith(token + "."):
        return len(token)
    return 0


def select_rules(rules: list[Rule], select: list[str] | None, ignore: list[str] | None) -> list[Rule]:
    """flake8-style: the longest matching token wins; with no --select every rule starts selected."""
    select = [s for s in select or [] if s]
    ignore = [s for s in ignore or [] if s]
    out = []
    for rule in rules:
        best_sel = max((_matches(t, rule) for t in select), default=0)
        best_ign = max((_matches(t, rule) for t in ignore), default=0)
        selected = best_sel > 0 or not select
        if selected and best_ign > best_sel:
            selected = False
        if selected:
            out.append(rule)
    return out


def check_tokens(tokens: list[str], rules: list[Rule], registry: Registry) -> None:
    """Reject --select/--ignore tokens that match nothing, so a typo is not a silent no-op."""
    families = {c.split(".")[0] for c in registry.checks}
    for t in tokens:
        if t in families or t in registry.checks or any(_matches(t, r) for r in rules):
            continue
        raise ConfigError(f"--select/--ignore: {t!r} matches no rule, check or family")


class ProjectSettings(_Model):
    """`[tool.curate]` in pyproject.toml."""

    rules: str | None = None
    select: list[str] | None = None
    ignore: list[str] | None = None
    fail_on: Literal["error", "warning", "info", "never"] | None = None
    target: str | None = None
    against: list[str] | None = None
    datasets: list[str] | None = None
    models: str | None = None  # a YAML model/price table of your own (see docs/tokens-and-cost.md)


def load_project_settings(start: Path | None = None) -> tuple[ProjectSettings, Path | None]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        py = d / "pyproject.toml"
        if py.is_file():
            try:
                doc = tomllib.loads(py.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"cannot parse: {exc}", py) from None
            section = doc.get("tool", {}).get("curate")
            if section is None:
                continue
            try:
                return ProjectSettings.model_validate(section), py
            except ValidationError as exc:
                raise ConfigError(f"[tool.curate] {_explain(exc.errors()[0])}", py) from None
    return ProjectSettings(), None
