"""`[tool.curate]` in pyproject.toml: the project's settings, read as an untrusted file.

A repository's pyproject.toml may be hostile or careless: it is read with a size limit, must be
UTF-8 TOML, and `[tool.curate]` is validated (unknown keys are errors with a did-you-mean).
Every problem is a ConfigError naming the file and, where it can be found, the line.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from curate.loading import PYPROJECT_LIMIT, InsideFolder, read_text_bounded
from curate.yamlfile import ConfigError, did_you_mean, raise_all

SECTION = "[tool.curate]"


class ProjectSettings(BaseModel):
    """`[tool.curate]` in pyproject.toml."""

    model_config = ConfigDict(extra="forbid")

    rules: str | None = None
    select: list[str] | None = None
    ignore: list[str] | None = None
    fail_on: Literal["error", "warning", "info", "never"] | None = None
    target: str | None = None
    against: list[str] | None = None
    datasets: list[InsideFolder] | None = None  # paths or globs inside the project (relative to this file)
    models: str | None = None  # a YAML model/price table of your own (see docs/tokens-and-cost.md)


def find_section(start: Path | None = None) -> tuple[dict[str, Any], Path] | None:
    """The nearest pyproject.toml (here or above) that has `[tool.curate]`: (section, path)."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        py = d / "pyproject.toml"
        if not py.is_file():
            continue
        section = _read(py).get("tool", {})
        section = section.get("curate") if isinstance(section, dict) else None
        if section is None:
            continue
        if not isinstance(section, dict):
            raise ConfigError(f"{SECTION} must be a table", py, key_line(py, "curate", header=False))
        return section, py
    return None


def _read(py: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    text = read_text_bounded(py, PYPROJECT_LIMIT, "pyproject.toml")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        if line is None:
            found = re.search(r"at line (\d+)", str(exc))
            line = int(found.group(1)) if found else None
        raise ConfigError(f"not valid TOML: {getattr(exc, 'msg', None) or exc}", py, line) from None
    except RecursionError:
        raise ConfigError("not valid TOML: nested too deeply", py) from None


def key_line(py: Path, key: str, header: bool = True) -> int | None:
    """The line of `key = ...` inside `[tool.curate]` (for messages; TOML parsers give no lines)."""
    try:
        lines = read_text_bounded(py, PYPROJECT_LIMIT).splitlines()
    except ConfigError:
        return None
    inside = not header
    for i, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped.replace(" ", "").startswith(SECTION)
            if inside and not header:
                return i
            continue
        if inside and re.match(rf"""["']?{re.escape(key)}["']?\s*=""", stripped):
            return i
    return None


def load_project_settings(start: Path | None = None) -> tuple[ProjectSettings, Path | None]:
    """The validated `[tool.curate]` of the nearest pyproject.toml that has one, and its path."""
    found = find_section(start)
    if found is None:
        return ProjectSettings(), None
    section, py = found
    try:
        return ProjectSettings.model_validate(section), py
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else ""
            if err["type"] == "extra_forbidden":
                what = f"unknown key {name!r}{did_you_mean(name, ProjectSettings.model_fields)}"
            else:
                what = f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            errors.append(ConfigError(f"{SECTION} {what}", py, key_line(py, name) if name else None))
        raise_all(errors)
        raise  # pragma: no cover - raise_all raised


_LAXNESS = {"info": 0, "warning": 1, "error": 2, "never": 3}


def project_notices(
    ruleset: Any,
    project: ProjectSettings,
    pyproject: Path | None,
    cli_select: list[str],
    cli_ignore: list[str],
    cli_fail_on: str | None = None,
) -> list[str]:
    """Run notices for what the repository's `[tool.curate]` switched off, so it is never silent:
    rules and whole families left out by its `select`/`ignore`, and a laxer `fail_on`."""
    from curate.config import select_rules
    from curate.display import shown

    if pyproject is None:
        return []
    where = f"{SECTION} in {shown(pyproject.name)}"
    notices = []
    sel = cli_select or project.select or []
    ign = cli_ignore or project.ignore or []
    without = select_rules(ruleset.rules, cli_select, cli_ignore)
    with_project = {r.id for r in select_rules(ruleset.rules, sel, ign)}
    off = [r for r in without if r.id not in with_project]
    if off:
        names = []
        for family in sorted({r.check.split(".")[0] for r in off}):
            in_family = [r for r in without if r.check.split(".")[0] == family]
            off_family = [r for r in off if r.check.split(".")[0] == family]
            names += [family] if len(off_family) == len(in_family) else sorted(shown(r.id) for r in off_family)
        notices.append(f"{', '.join(names)} ignored by {where} ({len(off)} rules off)")
    if cli_fail_on is None and project.fail_on and _LAXNESS[project.fail_on] > _LAXNESS[ruleset.fail_on]:
        what = "no finding fails the run" if project.fail_on == "never" else f"only {project.fail_on}s fail the run"
        notices.append(f"fail_on = {project.fail_on} set by {where}: {what} (the rule set says {ruleset.fail_on})")
    return notices
