"""YAML loading that remembers line numbers, so a bad value in a rules file names its line.

The loader is bounded because repository files may be hostile: aliases are refused (a 1.5 KB
alias bomb otherwise expands to gigabytes), nesting is limited (deep nesting otherwise ends in a
RecursionError), dates stay strings, and the file is read with a size limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping that knows the line of itself and of each of its keys."""

    line: int = 0
    key_lines: dict[str, int]


MAX_DEPTH = 64  # nesting of a loaded document (a rules file needs about 5)
MAX_REPORTED = 50  # problems printed at once; the rest are counted
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and nesting deeper than MAX_DEPTH, and keeps dates as text."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ConfigError("YAML aliases (*name) are not allowed here", None, event.start_mark.line + 1)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise ConfigError(f"nested deeper than {MAX_DEPTH} levels", None, mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # more digits than Python converts (4,300)
            raise ConfigError("a number with too many digits", None, node.start_mark.line + 1) from None


BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)
_Loader = BoundedLoader


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool, type(None))):
            raise ConfigError(
                "a mapping key must be a plain value, not a list or mapping", None, key_node.start_mark.line + 1
            )
        if key in out:
            raise ConfigError(f"duplicate key {key!r}", None, key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class ConfigError(Exception):
    """A problem in a rules or settings file; the CLI prints it and exits with code 2."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path = str(path) if path else None
        self.line = line
        self.detail = message
        where = f"{self.path}:{line}: " if self.path and line else (f"{self.path}: " if self.path else "")
        super().__init__(f"{where}{message}")


class ConfigErrors(ConfigError):
    """Several problems found at once (a rules file with three typos reports all three)."""

    def __init__(self, errors: list[ConfigError]):
        self.errors = errors
        first = errors[0]
        super().__init__(first.detail, first.path, first.line)
        lines = [str(e) for e in errors[:MAX_REPORTED]]
        if len(errors) > MAX_REPORTED:
            lines.append(f"... and {len(errors) - MAX_REPORTED} more problems")
        self.args = ("\n".join(lines),)

    def __str__(self) -> str:
        return str(self.args[0])


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """' (did you mean X?)' when a known name is close to `name`, else ''."""
    import difflib

    match = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {match[0]}?)" if match else ""


def raise_all(errors: list[ConfigError]) -> None:
    """Nothing for no errors, the error itself for one, ConfigErrors for several."""
    files = list(dict.fromkeys(e.path for e in errors))
    errors = sorted(errors, key=lambda e: (files.index(e.path), e.line or 0))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)


def load_yaml(path: str | Path, limit: int | None = None) -> Any:
    """A YAML file read with a size limit and the bounded loader; any problem is a ConfigError."""
    from curate.loading import RULES_LIMIT, read_text_bounded

    p = Path(path)
    text = read_text_bounded(p, limit or RULES_LIMIT)
    return parse_yaml(text, p)


def parse_yaml(text: str, path: str | Path, loader: type[BoundedLoader] = BoundedLoader) -> Any:
    """`text` parsed with the bounded loader (or a subclass); errors name `path` and the line."""
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except ConfigError as exc:
        raise ConfigError(exc.detail, path, exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"invalid YAML: {getattr(exc, 'problem', None) or exc}", path, mark.line + 1 if mark else None
        ) from None
    except RecursionError:  # pragma: no cover - the depth limit comes first
        raise ConfigError(f"nested deeper than {MAX_DEPTH} levels", path) from None
    except Exception as exc:  # PyYAML's constructors raise plain errors on odd tags (`!!timestamp x`)
        raise ConfigError(f"invalid YAML value: {type(exc).__name__}", path) from None


def line_of(doc: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest part of `loc` (a pydantic error location) found in `doc`."""
    line = getattr(doc, "line", None)
    node = doc
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            line = getattr(node, "line", line)
        else:
            break
    return line
