"""Rule sets: YAML files that bind checks to rule ids with severity, parameters and roles.

A rule file may extend others; later files override earlier ones rule by rule. Every mistake
(unknown key, unknown check, bad parameter) is a ConfigError naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curate.check import Params
from curate.model import Severity
from curate.registry import Registry, load_registry
from curate.yamlfile import MAX_REPORTED, ConfigError, LineDict, did_you_mean, line_of, load_yaml, raise_all

RULE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ROLES = ("system", "user", "assistant", "tool")
FAIL_LEVELS = ("error", "warning", "info", "never")
MAX_RULE_FILES = 64  # files one rule set may read through `extends`, repeats included
MAX_TOKENS = 1000  # --select/--ignore tokens (from the command line or [tool.curate])


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
    id_field: str | None = Field(None, max_length=200)
    # a repository may lower the line limit, or raise it up to 1 GB: never unbounded (a hostile line is read whole)
    max_line_bytes: int | None = Field(None, ge=1, le=1 << 30)


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
    loads: int = 0  # files read so far, counting repeats


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
    local = sorted(p.stem for d in (base, Path("rules")) if d is not None and d.is_dir() for p in d.glob("*.yaml"))
    hint = _closest(name, [*known, *local])
    raise ConfigError(f"unknown rule set {name!r}{hint}; built-in sets: {', '.join(known)}")


def _load_file(path: Path, merged: _Merged, stack: tuple[Path, ...], errors: list[ConfigError]) -> None:
    """Merge one rules file (after the files it extends) into `merged`; every problem found is
    appended to `errors` and loading goes on, so one run reports all of a file's mistakes."""
    path = path.resolve()
    if path in stack:
        errors.append(ConfigError("rule files extend each other in a cycle", path))
        return
    merged.loads += 1
    if merged.loads > MAX_RULE_FILES:  # `extends: [b, b, b]` in every file would grow exponentially
        if merged.loads == MAX_RULE_FILES + 1:
            errors.append(ConfigError(f"rule files extend more than {MAX_RULE_FILES} files in all", path))
        return
    try:
        doc = load_yaml(path)
    except ConfigError as exc:
        errors.append(exc)
        return
    if doc is None:
        doc = LineDict()
    if not isinstance(doc, dict):
        errors.append(ConfigError("a rules file must be a mapping", path, 1))
        return
    head = {k: v for k, v in doc.items() if k != "rules"}
    spec = _validated(RuleFile, head, doc, path, "", errors) or RuleFile()
    parents = [spec.extends] if isinstance(spec.extends, str) else list(spec.extends or [])
    for parent in parents:
        try:
            parent_path = resolve_rules_path(parent, path.parent)
        except ConfigError as exc:
            errors.append(ConfigError(exc.detail, path, _key_line(doc, "extends")))
            continue
        _load_file(parent_path, merged, (*stack, path), errors)
    merged.files.append(str(path))
    merged.description = spec.description or merged.description
    merged.target = spec.target if spec.target is not None else merged.target
    merged.fail_on = spec.fail_on or merged.fail_on
    if spec.settings:
        merged.settings.update(spec.settings.model_dump(exclude_none=True))
    rules_doc = doc.get("rules") or {}
    if not isinstance(rules_doc, dict):
        errors.append(ConfigError("rules: must be a mapping of rule id to rule", path, _key_line(doc, "rules")))
        return
    for rule_id, node in rules_doc.items():
        line = rules_doc.key_lines.get(rule_id) if isinstance(rules_doc, LineDict) else None
        if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
            errors.append(ConfigError(f"rule id {rule_id!r} must be kebab-case (e.g. missing-assistant)", path, line))
            continue
        if node is not None and not isinstance(node, dict):
            errors.append(ConfigError(f"rule {rule_id}: must be a mapping (check, severity, params ...)", path, line))
            continue
        rule = _validated(RuleSpec, node or {}, node, path, f"rule {rule_id}: ", errors, line)
        if rule is None:
            continue
        current = merged.specs.setdefault(rule_id, {})
        values = rule.model_dump(exclude_none=True)
        if "params" in values:
            current["params"] = {**current.get("params", {}), **values.pop("params")}
            params_node = node.get("params") if isinstance(node, dict) else None
            current["__params_where__"] = (str(path), _sub_line(rules_doc, rule_id, "params") or line, params_node)
        current.update(values)
        current["__where__"] = (str(path), line)


def _validated(
    model: type[BaseModel],
    value: Any,
    node: Any,
    path: Path | str,
    prefix: str,
    errors: list[ConfigError],
    fallback_line: int | None = None,
) -> Any:
    """`model` validated from `value`, with every problem (and its line) added to `errors`.

    The keys that failed are then left out and the rest validated again, so one typo does not
    hide the file's other settings (an `extends:` beside a misspelt key is still followed)."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        bad = set()
        for err in exc.errors():
            line = line_of(node, tuple(err["loc"])) if node is not None else None
            hinted = len(errors) < MAX_REPORTED  # only what will be printed gets a did-you-mean
            errors.append(ConfigError(prefix + _explain(err, model if hinted else None), path, line or fallback_line))
            if err["loc"]:
                bad.add(err["loc"][0])
    if not isinstance(value, dict) or not bad:
        return None
    try:
        return model.model_validate({k: v for k, v in value.items() if k not in bad})
    except ValidationError:
        return None


def _key_line(doc: Any, key: str) -> int | None:
    return doc.key_lines.get(key) if isinstance(doc, LineDict) else None


def _sub_line(rules_doc: Any, rule_id: str, key: str) -> int | None:
    node = rules_doc.get(rule_id) if isinstance(rules_doc, dict) else None
    return node.key_lines.get(key) if isinstance(node, LineDict) else None


def _explain(err: Any, model: type[BaseModel] | None = None) -> str:
    """One pydantic error as a sentence; an unknown key gets a did-you-mean from `model`'s fields."""
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        name = err["loc"][-1]
        fields = _fields_at(model, err["loc"][:-1]) if model is not None else {}
        return f"unknown key {name!r}{_closest(str(name), fields)}"
    return f"{loc}: {err['msg']}"


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> dict[str, Any]:
    """The field names a nested model accepts at `loc` (for did-you-mean hints)."""
    import typing

    current: Any = model
    for part in loc:
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return {}
        annotation = fields[part].annotation
        models = [a for a in typing.get_args(annotation) or (annotation,) if isinstance(a, type)]
        current = next((a for a in models if issubclass(a, BaseModel)), None)
    return dict(getattr(current, "model_fields", {}) or {})


def load_ruleset(name: str = "default", registry: Registry | None = None) -> RuleSet:
    """The rule set `name` (a built-in name or a path); every mistake in every file it reads is
    reported at once, as ConfigErrors, each naming its file and line."""
    registry = registry or load_registry()
    errors: list[ConfigError] = []
    path = resolve_rules_path(name)
    merged = _Merged()
    _load_file(path, merged, (), errors)
    rules = []
    known_ids = [rid for rid, spec in merged.specs.items() if spec.get("check")]
    for rule_id, spec in merged.specs.items():
        where_file, where_line = spec["__where__"]
        if spec.get("enabled") is False:
            continue
        check_id = spec.get("check")
        if not check_id:
            hint = _closest(rule_id, known_ids) if len(errors) < MAX_REPORTED else ""
            errors.append(ConfigError(f"rule {rule_id} has no 'check'{hint}", where_file, where_line))
            continue
        cls = registry.get(check_id)
        if cls is None:
            hint = _closest(check_id, registry.checks) if len(errors) < MAX_REPORTED else ""
            errors.append(ConfigError(f"rule {rule_id}: unknown check {check_id!r}{hint}", where_file, where_line))
            continue
        pfile, pline, pnode = spec.get("__params_where__", (where_file, where_line, None))
        params = _validated(
            cls.Params, spec.get("params", {}), pnode, pfile, f"rule {rule_id}: parameter ", errors, pline
        )
        if params is None:
            continue
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
    raise_all(errors)
    return RuleSet(
        name=name,
        rules=rules,
        target=merged.target,
        fail_on=merged.fail_on or "error",
        settings=Settings(**merged.settings),
        files=merged.files,
        description=merged.description,
    )


def _closest(name: str, known: Any) -> str:
    """A did-you-mean, while it is affordable: difflib against thousands of names, for thousands
    of errors, would take hours on a hostile file."""
    names = list(known)
    return did_you_mean(name, names) if len(names) <= 5000 else ""


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
    if len(tokens) > MAX_TOKENS:
        raise ConfigError(f"--select/--ignore: more than {MAX_TOKENS} rule ids, checks or families")
    families = {c.split(".")[0] for c in registry.checks}
    errors = []
    for t in dict.fromkeys(tokens):
        if t in families or t in registry.checks or any(_matches(t, r) for r in rules):
            continue
        hint = _closest(t, [*families, *registry.checks, *(r.id for r in rules)])
        errors.append(ConfigError(f"--select/--ignore: {t!r} matches no rule, check or family{hint}"))
    raise_all(errors)
