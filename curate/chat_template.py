"""Render a conversation with a model's chat template exactly as transformers' `apply_chat_template`.

The Jinja environment copies transformers' (`utils/chat_template_utils._compile_jinja_template`): an
ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, the loopcontrols extension, the
`{% generation %}` tag that records where assistant text is (`return_assistant_tokens_mask`), the
`raise_exception` and `strftime_now` globals and transformers' own `tojson` filter (json.dumps, no
HTML escaping). Rendering goes through `generate()` with the same tracker, so generation spans are
the character ranges transformers computes.

A chat template is untrusted code. Beyond the sandbox: the operators and string methods/filters that
grow text are bounded (a template cannot build a gigabyte string), output is capped, and a render
has a deadline (a SIGALRM timer where rendering runs on the main thread, as in curate's workers).
"""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_CHARS = 16_000_000  # longest rendered text, and longest string any template operation may build
MAX_ITEMS = 100_000  # longest list a template may build by repetition (as jinja's MAX_RANGE)
DEADLINE_S = 5.0  # wall time for one render
_WIDE_SPEC = re.compile(r"%[^a-zA-Z%]*?\d{8,}")  # a printf width or precision of 8+ digits
_WIDE_FIELD = re.compile(r"\{[^{}]*:[^{}]*?\d{8,}[^{}]*\}")  # a str.format field with an 8+ digit width
_GROWING_METHODS = frozenset(
    {"center", "ljust", "rjust", "zfill", "expandtabs", "format", "format_map", "replace", "join"}
)


class RenderError(Exception):
    """The template refused or failed on one conversation; the message says why."""


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    generation: tuple[tuple[int, int], ...]  # [start, end) character spans of {% generation %} output


def _too_big(what: str) -> Exception:
    from jinja2.exceptions import SecurityError

    return SecurityError(f"template tried to build {what} larger than curate's limit")


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 0


def _bounded_join(parts: Any) -> str:
    out = "".join(str(p) for p in parts)
    if len(out) > MAX_CHARS:
        raise _too_big("a string")
    return out


def _environment() -> Any:
    """transformers' chat-template environment, with size bounds added."""
    import jinja2
    import jinja2.ext
    from jinja2 import nodes
    from jinja2.compiler import CodeGenerator, Frame
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class AssistantTracker(jinja2.ext.Extension):
        """transformers' `{% generation %}` tag: records the character span of what it renders."""

        tags = {"generation"}

        def __init__(self, environment: Any) -> None:
            super().__init__(environment)
            environment.extend(activate_tracker=self.activate_tracker)
            self._rendered_blocks: list[str] | None = None
            self._generation_indices: list[tuple[int, int]] | None = None

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
            return nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

        @jinja2.pass_eval_context
        def _generation_support(self, context: Any, caller: Any) -> str:
            rv = caller()
            if self.is_active():
                assert self._rendered_blocks is not None and self._generation_indices is not None
                start_index = len("".join(self._rendered_blocks))
                self._generation_indices.append((start_index, start_index + len(rv)))
            return rv

        def is_active(self) -> bool:
            return bool(self._rendered_blocks or self._generation_indices)

        @contextmanager
        def activate_tracker(self, rendered_blocks: list[str], generation_indices: list[tuple[int, int]]) -> Any:
            try:
                if self.is_active():
                    raise ValueError("AssistantTracker should not be reused before closed")
                self._rendered_blocks = rendered_blocks
                self._generation_indices = generation_indices
                yield
            finally:
                self._rendered_blocks = None
                self._generation_indices = None

    class BoundedCodeGenerator(CodeGenerator):
        """`a ~ b` joins through the environment, so repeated doubling hits the size bound."""

        def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
            self.write("environment.bounded_join((")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("))")

    class BoundedSandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"+", "*", "**", "%"})
        code_generator_class = BoundedCodeGenerator

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(right, int) and abs(right) > 4096:
                raise _too_big("a power")
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(n, int) and _size(seq):
                        limit = MAX_CHARS if isinstance(seq, str) else MAX_ITEMS
                        if n * len(seq) > limit:
                            raise _too_big("a repeated value")
            if operator == "%" and isinstance(left, str):
                # "%09999999d" % 1: the width decides the size, so refuse wide specs before formatting
                args = right if isinstance(right, tuple) else (right,)
                if _WIDE_SPEC.search(left) or any(isinstance(a, int) and a > MAX_CHARS for a in args):
                    raise _too_big("a formatted string")
            out = self.binop_table[operator](left, right)
            if _size(out) > MAX_CHARS:
                raise _too_big("a string")
            return out

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            name = getattr(__obj, "__name__", "")
            owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)  # the sandbox wraps str.format
            if name in _GROWING_METHODS and isinstance(owner, str):
                if any(isinstance(a, int) and a > MAX_CHARS for a in (*args, *kwargs.values())):
                    raise _too_big("a padded string")
                grows = len(args) >= 2 and isinstance(args[1], str) and len(owner) * len(args[1]) > MAX_CHARS
                if name == "replace" and grows:
                    raise _too_big("a replaced string")
                if name in ("format", "format_map") and _WIDE_FIELD.search(owner):
                    raise _too_big("a formatted string")
            out = super().call(__context, __obj, *args, **kwargs)
            if _size(out) > MAX_CHARS:
                raise _too_big("a string")
            return out

    env = BoundedSandbox(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.bounded_join = _bounded_join  # type: ignore[attr-defined]
    for name in ("center", "indent", "wordwrap", "format", "truncate"):
        env.filters[name] = _bounded_filter(env.filters[name], check_spec=name == "format")
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


def _bounded_filter(fn: Any, check_spec: bool = False) -> Any:
    import functools

    @functools.wraps(fn)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if check_spec and args and isinstance(args[0], str) and _WIDE_SPEC.search(args[0]):
            raise _too_big("a formatted string")
        if any(isinstance(a, int) and not isinstance(a, bool) and a > MAX_CHARS for a in (*args, *kwargs.values())):
            raise _too_big("a padded string")
        out = fn(*args, **kwargs)
        if _size(out) > MAX_CHARS:
            raise _too_big("a string")
        return out

    return bounded


def _raise_exception(message: Any) -> None:
    from jinja2.exceptions import TemplateError

    raise TemplateError(message)


def _tojson(
    x: Any, ensure_ascii: bool = False, indent: Any = None, separators: Any = None, sort_keys: bool = False
) -> str:
    # transformers overrides Jinja's tojson: no HTML escaping, and its options exposed
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(format: str) -> str:  # noqa: A002 - transformers' parameter name
    return datetime.now().strftime(format)


class ChatTemplate:
    """One compiled chat template and the special tokens transformers passes to it."""

    def __init__(self, source: str, special_tokens: dict[str, Any]) -> None:
        from jinja2.exceptions import TemplateError

        self.source = source
        self.special_tokens = dict(special_tokens)
        self.has_generation = "generation" in source and _uses_generation(source)
        try:
            self.template = _environment().from_string(source)
        except TemplateError as exc:
            raise RenderError(f"the chat template does not compile: {exc}") from None
        except (RecursionError, MemoryError):
            raise RenderError("the chat template does not compile: too deeply nested") from None

    def render(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None, **kwargs: Any
    ) -> Rendered:
        """Text and generation spans, as `apply_chat_template(..., tokenize=False,
        return_assistant_tokens_mask=True, add_generation_prompt=False)` would give."""
        template_kwargs = {**self.special_tokens, **kwargs}
        template_kwargs.setdefault("add_generation_prompt", False)
        blocks: list[str] = []
        spans: list[tuple[int, int]] = []
        size = 0
        try:
            with _deadline(DEADLINE_S), self.template.environment.activate_tracker(blocks, spans):
                for block in self.template.generate(messages=messages, tools=tools, documents=None, **template_kwargs):
                    blocks.append(block)
                    size += len(block)
                    if size > MAX_CHARS:
                        raise RenderError(f"the chat template rendered more than {MAX_CHARS:,} characters")
                text = "".join(blocks)
        except RenderError:
            raise
        except _Timeout:
            raise RenderError(f"the chat template took longer than {DEADLINE_S:g} s") from None
        except RecursionError:
            raise RenderError("the chat template recursed too deeply") from None
        except MemoryError:
            raise RenderError("the chat template ran out of memory") from None
        except Exception as exc:  # template code fails in arbitrary ways on unexpected data
            raise RenderError(_describe(exc)) from None
        return Rendered(text, tuple(spans))


def _uses_generation(source: str) -> bool:
    import re

    return re.search(r"\{%-?\s*generation\s*-?%\}", source) is not None


def _describe(exc: Exception) -> str:
    from jinja2.exceptions import SecurityError, TemplateError

    if isinstance(exc, SecurityError):
        return f"the chat template was stopped: {exc}"
    if isinstance(exc, TemplateError) and type(exc).__name__ == "TemplateError":
        return f"the chat template rejects this conversation: {exc}"  # raise_exception(...) in the template
    return f"the chat template failed: {type(exc).__name__}: {exc}"


class _Timeout(BaseException):
    """Raised by the render deadline's signal handler (a BaseException so templates cannot swallow it)."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """SIGALRM after `seconds` when on the main thread of a process that can take signals; else nothing."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise _Timeout

    try:
        previous = signal.signal(signal.SIGALRM, expired)
    except ValueError:  # not allowed here (an embedded interpreter)
        yield
        return
    remaining, _interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if remaining:  # someone else's timer was running: put back what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(1e-3, remaining - (time.monotonic() - started)))
