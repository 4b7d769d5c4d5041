"""Find every check: built-ins and plugins alike come from the `curate.checks` entry points.

An entry point names a check class or a list of them. Each entry is loaded in its own
try/except, so one broken plugin is reported and the rest still run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points

from curate.check import Check

ENTRY_POINT_GROUP = "curate.checks"
BUILTIN_FAMILIES = ("schema", "tokens", "dedup", "pii", "balance", "quality")


@dataclass(frozen=True, slots=True)
class PluginError:
    source: str
    message: str


@dataclass(slots=True)
class Registry:
    checks: dict[str, type[Check]] = field(default_factory=dict)
    errors: list[PluginError] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)

    def add(self, cls: object, source: str) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Check)) or not isinstance(getattr(cls, "id", None), str):
            self.errors.append(PluginError(source, f"{cls!r} is not a curate Check class with an id"))
            return
        if "." not in cls.id:
            self.errors.append(PluginError(source, f"check id {cls.id!r} must look like family.thing"))
            return
        if cls.id in self.checks and self.checks[cls.id] is not cls:
            self.errors.append(
                PluginError(source, f"check {cls.id} is already provided by {self.origins[cls.id]}; ignored")
            )
            return
        self.checks[cls.id] = cls
        self.origins[cls.id] = source

    def get(self, check_id: str) -> type[Check] | None:
        return self.checks.get(check_id)


_cached: Registry | None = None


def load_registry(refresh: bool = False) -> Registry:
    global _cached
    if _cached is not None and not refresh:
        return _cached
    registry = Registry()
    loaded_builtin = set()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        source = f"{ep.name} ({ep.value})"
        if ep.value.startswith("curate.checks."):
            loaded_builtin.add(ep.name)  # tried, even if it fails: do not import it a second time
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - a plugin may fail in any way; report and go on
            registry.errors.append(PluginError(source, f"failed to load: {type(exc).__name__}: {exc}"))
            continue
        for cls in obj if isinstance(obj, (list, tuple)) else [obj]:
            registry.add(cls, source)
    # running from a source tree without installed metadata: load built-ins directly
    for family in BUILTIN_FAMILIES:
        if family not in loaded_builtin:
            try:
                checks = import_module(f"curate.checks.{family}").CHECKS
            except Exception as exc:  # noqa: BLE001 - a broken family is reported like a broken plugin
                registry.errors.append(
                    PluginError(f"curate.checks.{family}", f"failed to load: {type(exc).__name__}: {exc}")
                )
                continue
            for cls in checks:
                registry.add(cls, f"curate.checks.{family}")
    _cached = registry
    return registry
