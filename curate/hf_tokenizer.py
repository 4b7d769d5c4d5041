"""A local Hugging Face model folder: its tokenizer (`tokenizers`) and chat template (`jinja2`), offline.

What transformers reads, curate reads: `tokenizer.json` (the fast tokenizer), the chat template from
`chat_template.jinja` when present, else `tokenizer_config.json`'s `chat_template` (a string, or named
templates of which `tool_use` is picked when the conversation has tools, else `default`), and the
special tokens (`bos_token`, `eos_token`, ...) from `tokenizer_config.json`, then
`special_tokens_map.json` for any it lacks. Encoding never adds special tokens and never truncates
or pads, whatever `tokenizer.json` says: `apply_chat_template` tokenizes with
`add_special_tokens=False` and transformers turns the file's truncation and padding off per call.

Every file is untrusted: sizes are bounded, JSON is parsed as data, the template runs sandboxed.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.chat_template import ChatTemplate, RenderError
from curate.display import shown
from curate.tokenizer import TokenizerError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MAX_TOKENIZER_BYTES = 256 * 1024 * 1024  # the largest hub tokenizer.json files are ~35 MB
MAX_CONFIG_BYTES = 32 * 1024 * 1024
SPECIAL_TOKENS = (
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
    "additional_special_tokens",
)


@dataclass(frozen=True, slots=True)
class ModelFolder:
    """A loaded folder: what counts with it, and a digest of the files that decide the counts."""

    path: str
    name: str
    tokenizer: Tokenizer
    templates: dict[str, ChatTemplate]  # "default" (and "tool_use" ...) as transformers names them
    digest: str

    def template(self, with_tools: bool) -> ChatTemplate:
        """transformers' choice among named templates: `tool_use` when tools are passed, else `default`."""
        if with_tools and "tool_use" in self.templates:
            return self.templates["tool_use"]
        return self.templates["default"]

    @property
    def has_generation(self) -> bool:
        return self.templates["default"].has_generation

    def encode(self, text: str) -> Any:
        return self.tokenizer.encode(text, add_special_tokens=False)


def _read(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise TokenizerError(f"{shown(str(path))} is {size:,} bytes, more than curate reads ({limit:,})")
        with path.open("rb") as f:
            return f.read(limit + 1)
    except OSError as exc:
        raise TokenizerError(f"cannot read {shown(str(path))}: {exc.strerror or exc}") from None


def _json(path: Path) -> dict[str, Any]:
    raw = _read(path, MAX_CONFIG_BYTES)
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise TokenizerError(f"{shown(str(path))} is not valid JSON: {shown(str(exc))}") from None
    if not isinstance(doc, dict):
        raise TokenizerError(f"{shown(str(path))} must be a JSON object")
    return doc


def _token_text(value: Any) -> Any:
    """A special token as transformers passes it to templates: the string, also from an AddedToken dict."""
    if isinstance(value, dict):
        value = value.get("content")
    if isinstance(value, list):
        return [t for t in (_token_text(v) for v in value) if isinstance(t, str)]
    return value if isinstance(value, str) else None


def special_tokens(config: dict[str, Any], fallback: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in SPECIAL_TOKENS:
        value = _token_text(config.get(key))
        if value is None:
            value = _token_text(fallback.get(key))
        if value is not None and value != []:
            out[key] = value
    return out


def _templates(folder: Path, config: dict[str, Any]) -> dict[str, str]:
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        try:
            return {"default": _read(jinja, MAX_CONFIG_BYTES).decode("utf-8")}
        except UnicodeDecodeError:
            raise TokenizerError(f"{shown(str(jinja))} is not UTF-8 text") from None
    value = config.get("chat_template")
    where = shown(str(folder / "tokenizer_config.json"))
    if value is None:
        raise TokenizerError(
            f"{where} has no chat_template (and there is no chat_template.jinja): curate renders each "
            "conversation with the model's template; use the instruct/chat model's folder"
        )
    if isinstance(value, str):
        return {"default": value}
    if isinstance(value, list):
        named = {t.get("name"): t.get("template") for t in value if isinstance(t, dict)}
        named = {k: v for k, v in named.items() if isinstance(k, str) and isinstance(v, str)}
        if "default" in named:
            return named
        raise TokenizerError(f"{where}: chat_template is a list of named templates without a `default` one")
    raise TokenizerError(f"{where}: chat_template must be a string or a list of named templates")


def load_folder(path: str) -> ModelFolder:
    """The folder's tokenizer and chat template; TokenizerError naming what is missing or wrong."""
    folder = Path(path)
    if not folder.is_dir():
        raise TokenizerError(f"--tokenizer {shown(path)}: not a directory (give a local Hugging Face model folder)")
    needed = [folder / "tokenizer.json", folder / "tokenizer_config.json"]
    missing = [p.name for p in needed if not p.is_file()]
    if missing:
        raise TokenizerError(
            f"--tokenizer {shown(path)}: missing {' and '.join(missing)} (a Hugging Face model folder has "
            "tokenizer.json and tokenizer_config.json; curate needs both and never downloads)"
        )
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise TokenizerError("the `tokenizers` package is not installed: pip install tokenizers jinja2") from None
    raw = _read(needed[0], MAX_TOKENIZER_BYTES)
    try:
        tokenizer = Tokenizer.from_str(raw.decode("utf-8"))
    except Exception as exc:  # the Rust parser raises plain Exceptions with serde's message
        raise TokenizerError(
            f"{shown(str(needed[0]))} is not a tokenizer the `tokenizers` library reads: {shown(str(exc), 200)}"
        ) from None
    tokenizer.no_truncation()
    tokenizer.no_padding()
    config = _json(needed[1])
    fallback_path = folder / "special_tokens_map.json"
    fallback = _json(fallback_path) if fallback_path.is_file() else {}
    sources = _templates(folder, config)
    tokens = special_tokens(config, fallback)
    templates = {}
    for name, source in sources.items():
        try:
            templates[name] = ChatTemplate(source, tokens)
        except RenderError as exc:
            raise TokenizerError(f"--tokenizer {shown(path)}: {exc}") from None
    digest = hashlib.blake2b(digest_size=12)
    digest.update(raw)
    digest.update(json.dumps([sources, tokens], sort_keys=True).encode())
    name = config.get("name_or_path") if isinstance(config.get("name_or_path"), str) else folder.name
    return ModelFolder(str(folder), shown(name or folder.name), tokenizer, templates, digest.hexdigest())


_lock = threading.Lock()
_loaded: dict[str, ModelFolder] = {}


def folder(path: str, digest: str | None = None) -> ModelFolder:
    """The folder loaded once per process; reloaded when its files' digest is not the one the run began with."""
    with _lock:
        found = _loaded.get(path)
        if found is None or (digest is not None and found.digest != digest):
            found = _loaded[path] = load_folder(path)
        if digest is not None and found.digest != digest:
            raise TokenizerError(f"--tokenizer {shown(path)}: its files changed while curate was running")
        return found
