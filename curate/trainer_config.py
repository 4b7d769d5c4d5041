"""What a trainer's own config says the data looks like (`curate check --trainer KIND:PATH`).

The wrong column name, `role_tag` or role mapping is the most common opaque error when a dataset
meets its trainer. This module reads the config (untrusted: bounded, parsed as data) into one
`Expectation` per dataset file it names; `schema.trainer_config` then holds every record to it.

- `llamafactory:PATH/dataset_info.json`: entries with `file_name`, `formatting` (alpaca | sharegpt),
  `ranking`, `columns` and `tags`, with LLaMA-Factory's documented defaults (data/README.md);
- `axolotl:config.yml`: `datasets:` entries with `path` and `type` (chat_template with
  `field_messages`, `message_property_mappings` and `roles`; alpaca).
A config entry applies to a checked file whose resolved path, or else whose file name, it names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.display import shown
from curate.yamlfile import ConfigError

MAX_CONFIG_BYTES = 8 * 1024 * 1024
KINDS = ("llamafactory", "axolotl")


@dataclass(frozen=True, slots=True)
class Expectation:
    """The shape one config entry declares, with the config key each part comes from."""

    source: str  # "dataset_info.json: alpaca_en_demo" (shown)
    file: str  # the file_name / path the entry names
    formatting: str  # "alpaca" | "messages"
    required: tuple[tuple[str, str], ...] = ()  # (config key, record key) every record must have
    optional: tuple[tuple[str, str], ...] = ()  # (config key, record key) checked when present
    messages: tuple[str, str] | None = None  # (config key, record key) of the message list
    role: tuple[str, str] = ("tags.role_tag", "from")  # (config key, message key) of the role
    content: tuple[str, str] = ("tags.content_tag", "value")
    roles: dict[str, str] = field(default_factory=dict)  # role value -> what it means (user, assistant, ...)
    roles_key: str = "tags"
    alternation: bool = False  # LLaMA-Factory skips examples whose roles do not alternate


def load(spec: str) -> list[Expectation]:
    """`KIND:PATH` -> the expectations it declares; ConfigError naming the file and key on bad input."""
    kind, sep, path = spec.partition(":")
    if not sep or kind not in KINDS or not path:
        raise ConfigError(f"--trainer must be KIND:PATH with KIND one of {', '.join(KINDS)}, not {shown(spec)!r}")
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{shown(path)} is {size:,} bytes, more than curate reads", path)
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {shown(path)}: {getattr(exc, 'strerror', None) or exc}") from None
    if kind == "llamafactory":
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ConfigError(f"not valid JSON: {shown(str(exc))}", path) from None
        return _llamafactory(doc, file)
    from curate.yamlfile import load_yaml

    return _axolotl(load_yaml(file), file)


def _str(value: Any, default: str | None) -> str | None:
    return value if isinstance(value, str) and value else default


def _attr(given: dict[str, Any] | None, key: str, default: str) -> str | None:
    """LLaMA-Factory's DatasetAttr.set_attr: once an entry gives `columns` (or `tags`), each one it does not
    name is None, not its default ({"prompt": "text"} is a pre-training entry: no response column)."""
    if given is None:
        return default
    return _str(given.get(key), None)


def _llamafactory(doc: Any, file: Path) -> list[Expectation]:
    if not isinstance(doc, dict):
        raise ConfigError("dataset_info.json must be an object of dataset entries", str(file))
    out = []
    for name, entry in doc.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("file_name"), str):
            continue  # hub datasets (hf_hub_url, ms_hub_url) are not local files
        where = f"{file.name}: {shown(name)}"
        formatting = entry.get("formatting", "alpaca")
        given_columns = entry["columns"] if isinstance(entry.get("columns"), dict) else None
        given_tags = entry["tags"] if isinstance(entry.get("tags"), dict) else None
        columns, tags = given_columns or {}, given_tags or {}

        ranking = bool(entry.get("ranking"))
        if formatting == "alpaca":
            wanted = [("columns.prompt", _attr(given_columns, "prompt", "instruction"))]
            if ranking:
                wanted += [
                    ("columns.chosen", _attr(given_columns, "chosen", "chosen")),
                    ("columns.rejected", _attr(given_columns, "rejected", "rejected")),
                ]
            else:
                wanted += [("columns.response", _attr(given_columns, "response", "output"))]
            required = [(k, v) for k, v in wanted if v]
            optional = [
                (f"columns.{k}", columns[k])
                for k in ("query", "history", "system", "tools")
                if _str(columns.get(k), None)
            ]
            out.append(Expectation(where, entry["file_name"], "alpaca", tuple(required), tuple(optional)))
        elif formatting == "sharegpt":
            roles = {
                _attr(given_tags, "user_tag", "human"): "user",
                _attr(given_tags, "assistant_tag", "gpt"): "assistant",
                _attr(given_tags, "observation_tag", "observation"): "observation",
                _attr(given_tags, "function_tag", "function_call"): "function",
                _attr(given_tags, "system_tag", "system"): "system",
            }
            messages = ("columns.messages", _str(columns.get("messages"), "conversations"))
            optional = [(f"columns.{k}", columns[k]) for k in ("system", "tools") if _str(columns.get(k), None)]
            if ranking:
                required = tuple((f"columns.{k}", _str(columns.get(k), k)) for k in ("chosen", "rejected"))
            else:
                required = ()
            out.append(
                Expectation(
                    where,
                    entry["file_name"],
                    "messages",
                    required,  # type: ignore[arg-type]
                    tuple(optional),
                    messages,  # type: ignore[arg-type]
                    ("tags.role_tag", _str(tags.get("role_tag"), "from")),  # type: ignore[arg-type]
                    ("tags.content_tag", _str(tags.get("content_tag"), "value")),  # type: ignore[arg-type]
                    {k: v for k, v in roles.items() if k},
                    "tags",
                    alternation=not ranking,
                )
            )
        else:
            raise ConfigError(
                f"{where}: formatting must be alpaca or sharegpt, not {shown(str(formatting))!r}", str(file)
            )
    return out


def _axolotl(doc: Any, file: Path) -> list[Expectation]:
    datasets = doc.get("datasets") if isinstance(doc, dict) else None
    if not isinstance(datasets, list):
        raise ConfigError("an axolotl config needs a `datasets:` list", str(file))
    out = []
    for i, ds in enumerate(datasets):
        if not isinstance(ds, dict) or not isinstance(ds.get("path"), str):
            continue
        where = f"{file.name}: datasets[{i}]"
        kind = ds.get("type", "chat_template")
        if kind == "alpaca":
            required = (("type: alpaca", "instruction"), ("type: alpaca", "output"))
            out.append(Expectation(where, ds["path"], "alpaca", required, (("type: alpaca", "input"),)))
            continue
        if kind != "chat_template":
            continue  # other prompt strategies: not checked (yet)
        mapping = ds.get("message_property_mappings") if isinstance(ds.get("message_property_mappings"), dict) else {}
        role_key = _str(mapping.get("role"), _str(ds.get("message_field_role"), "role"))
        content_key = _str(mapping.get("content"), _str(ds.get("message_field_content"), "content"))
        roles: dict[str, str] = {}
        declared = ds.get("roles")
        if isinstance(declared, dict):
            for meaning, values in declared.items():
                for v in values if isinstance(values, list) else [values]:
                    if isinstance(v, str):
                        roles[v] = str(meaning)
        else:
            roles = {r: r for r in ("system", "user", "assistant", "tool")}
        out.append(
            Expectation(
                where,
                ds["path"],
                "messages",
                (),
                (),
                ("field_messages", _str(ds.get("field_messages"), "messages")),  # type: ignore[arg-type]
                ("message_property_mappings.role", role_key),  # type: ignore[arg-type]
                ("message_property_mappings.content", content_key),  # type: ignore[arg-type]
                roles,
                "roles",
            )
        )
    return out


def for_file(expectations: list[Expectation], config: str, path: str) -> Expectation | None:
    """The entry that names `path`: same resolved path (relative to the config's folder), else same name."""
    base = Path(config.partition(":")[2]).parent
    target = Path(path).resolve()
    by_name = None
    for e in expectations:
        if (base / e.file).resolve() == target:
            return e
        if Path(e.file).name == target.name and by_name is None:
            by_name = e
    return by_name


def settings_for(spec: str, files: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Run settings for `--trainer` (the config read once here, so a bad one exits 2 at once; its digest
    keys the cache) and notices for checked files the config does not name."""
    import hashlib

    kind, _, path = spec.partition(":")
    resolved = f"{kind}:{Path(path).resolve()}" if path else spec
    expectations = load(resolved)
    digest = hashlib.blake2b(Path(path).read_bytes(), digest_size=12).hexdigest()
    notices = [
        f"--trainer: {shown(Path(path).name)} has no entry for {shown(f)}; it was not checked against the config"
        for f in files
        if f != "-" and for_file(expectations, resolved, f) is None
    ]
    return {"trainer_config": resolved, "trainer_config_digest": digest}, notices
