"""One builder per record format: raw record -> Conversation.

Each builder reads roles through `Roles` (aliases and the user's `--role-map`), so every format
yields the canonical roles content checks filter on. A turn cut out of a string (a transcript or
a rendered template) has the field `POINTER#N`: its N-th turn. That is not a JSON pointer on
purpose: fixes resolve fields as pointers and must not rewrite the whole string with one turn.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from curate.formats.roles import Roles
from curate.formats.templates import detect_template, split_template, strip_end_tokens
from curate.formats.transcript import Segment, is_transcript, split_transcript
from curate.model import CANONICAL_ROLES, Conversation, ToolCall, Turn

Builder = Any  # Callable[[dict[str, Any], Roles], Conversation]
_CANONICAL = CANONICAL_ROLES


def content_text(content: Any) -> str:
    """Text of an OpenAI `content`: a string, or a list of parts ({type: text, text|value})."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for part in content:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, dict):
                kind = part.get("type", "text")
                if kind in ("text", "input_text", "output_text", "reasoning", "thinking"):
                    value = part.get("text", part.get("value"))
                    if isinstance(value, str):
                        out.append(value)
                elif kind == "tool_call" and isinstance(part.get("value"), str):
                    out.append(part["value"])
        return "\n".join(out)
    return str(content)


def escape_key(key: str) -> str:
    """A key as one JSON-pointer token."""
    return key.replace("~", "~0").replace("/", "~1")


def _weight(msg: dict[str, Any]) -> float | None:
    w = msg.get("weight", msg.get("loss_weight"))
    return float(w) if isinstance(w, (int, float)) and not isinstance(w, bool) else None


def _tool_calls(msg: dict[str, Any]) -> tuple[ToolCall, ...]:
    calls = []
    for tc in msg.get("tool_calls") or ():
        if isinstance(tc, dict):
            fn = tc.get("function") or {}
            args = fn.get("arguments", "")
            calls.append(ToolCall(tc.get("id"), str(fn.get("name", "")), args if isinstance(args, str) else str(args)))
    if isinstance(msg.get("function_call"), dict):
        fc = msg["function_call"]
        calls.append(ToolCall(None, str(fc.get("name", "")), str(fc.get("arguments", ""))))
    if isinstance(msg.get("content"), list):
        for part in msg["content"]:
            if isinstance(part, dict) and part.get("type") == "tool_call" and isinstance(part.get("value"), str):
                calls.append(ToolCall(None, _call_name(part["value"]), part["value"]))
    return tuple(calls)


def _call_name(value: str) -> str:
    try:
        obj = json.loads(value)
    except ValueError:
        return ""
    return str(obj.get("name", "")) if isinstance(obj, dict) else ""


def _role(raw: Any, roles: Roles) -> tuple[str, str | None]:
    """(canonical role, the raw spelling when it differs)."""
    if type(raw) is str and raw in _CANONICAL:  # nearly every message: no alias lookup
        return raw, None
    raw = raw if isinstance(raw, str) else ""
    role = roles.canonical(raw)
    return role, (raw if role != raw else None)


def _messages(msgs: Any, base: str, roles: Roles) -> tuple[Turn, ...]:
    turns = []
    for i, msg in enumerate(msgs or ()):
        if not isinstance(msg, dict):
            continue
        role, raw_role = _role(msg.get("role"), roles)
        content = msg.get("content")
        name = msg.get("name")
        # the common message is {role, content: str}: skip the helpers it does not need
        plain = type(content) is str and "tool_calls" not in msg and "function_call" not in msg
        turns.append(
            Turn(
                role,
                content if type(content) is str else content_text(content),
                f"{base}/{i}/content",
                _weight(msg) if "weight" in msg or "loss_weight" in msg else None,
                name if isinstance(name, str) else None,
                () if plain else _tool_calls(msg),
                raw_role,
            )
        )
    return tuple(turns)


def segments_to_turns(segments: list[Segment], base: str, roles: Roles, prompt: bool = False) -> tuple[Turn, ...]:
    """Turns of a split string; in a prompt, an assistant turn left open is the generation prompt, not a turn."""
    if prompt and segments and segments[-1].open and roles.canonical(segments[-1].role) == "assistant":
        segments = segments[:-1]
    out = []
    for i, seg in enumerate(segments):
        role, raw_role = _role(seg.role, roles)
        out.append(Turn(role, seg.text, f"{base}#{i}", raw_role=raw_role))
    return tuple(out)


def _rendered(text: str, base: str, roles: Roles, prompt: bool) -> tuple[Turn, ...] | None:
    """The turns of a text that starts with a rendered template; None when it does not."""
    name = detect_template(text)
    if name is None:
        return None
    turns = segments_to_turns(split_template(name, text), base, roles, prompt)
    return turns or None


def _tools(data: dict[str, Any]) -> tuple[Any, ...]:
    tools = data.get("tools", data.get("functions"))
    if isinstance(tools, str):
        try:
            tools = json.loads(tools)
        except ValueError:
            return (tools,)
    return tuple(tools) if isinstance(tools, list) else ()


def openai_chat(data: dict[str, Any], roles: Roles) -> Conversation:
    return Conversation("openai_chat", _messages(data["messages"], "/messages", roles), tools=_tools(data))


def openai_preference(data: dict[str, Any], roles: Roles) -> Conversation:
    inp = data["input"]
    prompt = _messages(inp.get("messages"), "/input/messages", roles)
    chosen = _messages(data.get("preferred_output"), "/preferred_output", roles)
    rejected = _messages(data.get("non_preferred_output"), "/non_preferred_output", roles)
    # like every other pair format, the rejected side repeats the prompt
    return Conversation("openai_preference", prompt + chosen, prompt + rejected if rejected else (), tools=_tools(inp))


def _sharegpt_turns(convs: list[Any], base: str, roles: Roles) -> tuple[Turn, ...]:
    turns = []
    for i, t in enumerate(convs):
        if not isinstance(t, dict):
            continue
        raw_role = t.get("from", t.get("role"))
        raw_role = str(raw_role) if raw_role is not None else ""
        role, spelled = ("assistant", raw_role) if raw_role == "function_call" else _role(raw_role, roles)
        text_key = "value" if "value" in t else "content"
        text = content_text(t.get(text_key))
        calls: tuple[ToolCall, ...] = ()
        if raw_role == "function_call":
            calls = (ToolCall(None, _call_name(text), text),)
        turns.append(Turn(role, text, f"{base}/{i}/{text_key}", tool_calls=calls, raw_role=spelled))
    return tuple(turns)


MAX_LIST_TEXT = 1_000_000


def decode_message_list(value: str) -> list[dict[str, Any]] | None:
    """A message list stored as text: JSON, or the Python repr pandas writes into CSV cells
    (`[{'role': 'user', 'content': ...}]`). `ast.literal_eval` builds literals only, never runs
    code; size is bounded and parser errors (including nesting) mean "not a list"."""
    text = value.strip()
    if not (text.startswith("[{") and text.endswith("}]")) or len(text) > MAX_LIST_TEXT:
        return None
    try:
        decoded = json.loads(text)
    except ValueError:
        import ast

        try:
            decoded = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
            return None
    ok = isinstance(decoded, list) and all(isinstance(m, dict) and ("role" in m or "from" in m) for m in decoded)
    return decoded if ok and decoded else None


def _side(value: Any, base: str, roles: Roles) -> tuple[Turn, ...]:
    """One side of a preference pair: a string, a message, a list of messages or a ShareGPT turn
    (a list stored as text, as in CSV cells, is read as the list)."""
    if isinstance(value, str):
        decoded = decode_message_list(value)
        if decoded is not None:
            turns = _side(decoded, base, roles)
            return tuple(replace(t, field=f"{base}#{i}") for i, t in enumerate(turns))
        return (Turn("assistant", value, base),)
    if isinstance(value, dict):
        if "from" in value:
            role, raw_role = _role(str(value["from"]), roles)
            return (Turn(role, content_text(value.get("value")), f"{base}/value", raw_role=raw_role),)
        role, raw_role = _role(value.get("role"), roles) if "role" in value else ("assistant", None)
        return (
            Turn(
                role,
                content_text(value.get("content")),
                f"{base}/content",
                weight=_weight(value),
                tool_calls=_tool_calls(value),
                raw_role=raw_role,
            ),
        )
    if isinstance(value, list):
        if value and isinstance(value[0], dict) and "from" in value[0]:
            return _sharegpt_turns(value, base, roles)
        return _messages(value, base, roles)
    return ()


def share_prompt(chosen: tuple[Turn, ...], rejected: tuple[Turn, ...]) -> tuple[Turn, ...]:
    """The rejected side with the head it shares with the chosen side (same roles, same text up to
    whitespace) replaced by the chosen side's turns, so the prompt is one set of turns, checked once."""
    n, limit = 0, min(len(chosen), len(rejected)) - 1
    while n < limit:
        a, b = chosen[n], rejected[n]
        if a.role != b.role or " ".join(a.text.split()) != " ".join(b.text.split()):
            break
        n += 1
    return chosen[:n] + rejected[n:] if n else rejected


def preference(data: dict[str, Any], roles: Roles) -> Conversation:
    if "chosen_messages" in data:
        chosen = _messages(data["chosen_messages"], "/chosen_messages", roles)
        rejected = _messages(data.get("rejected_messages"), "/rejected_messages", roles)
        return Conversation("preference", chosen, rejected, tools=_tools(data))
    prompt: tuple[Turn, ...] = ()
    if isinstance(data.get("conversations"), list):
        prompt = _sharegpt_turns(data["conversations"], "/conversations", roles)
    elif isinstance(data.get("messages"), list):
        prompt = _messages(data["messages"], "/messages", roles)
    elif "prompt" in data:
        raw = data["prompt"]
        rendered = _rendered(raw, "/prompt", roles, prompt=True) if isinstance(raw, str) else None
        listed = decode_message_list(raw) if isinstance(raw, str) and rendered is None else None
        if rendered is not None:  # "\n\nHuman: ...\n\nAssistant:" or a chat template
            prompt = rendered
        elif listed is not None:
            prompt = _side(raw, "/prompt", roles)
        else:
            prompt = tuple(
                Turn("user" if t.role == "assistant" and isinstance(raw, str) else t.role, t.text, t.field)
                for t in _side(raw, "/prompt", roles)
            )
    elif "question" in data:
        prompt = (Turn("user", str(data["question"]), "/question"),)
    elif "instruction" in data:  # LLaMA-Factory's Alpaca ranking: instruction, input, history, chosen, rejected
        prompt = tuple(alpaca_prompt(data))
    if isinstance(data.get("system"), str) and data["system"]:
        prompt = (Turn("system", data["system"], "/system"), *prompt)
    chosen = _side(data["chosen"], "/chosen", roles)
    rejected = _side(data["rejected"], "/rejected", roles)
    if prompt and prompt[0].field.startswith("/prompt#"):  # answers to a transcript start after "Assistant:"
        chosen, rejected = _stripped(chosen), _stripped(rejected)
    # "implicit prompt" variant: chosen/rejected hold the whole conversation
    if not prompt and len(chosen) > 1:
        return Conversation("preference", chosen, rejected, tools=_tools(data))
    return Conversation("preference", prompt + chosen, prompt + rejected if rejected else (), tools=_tools(data))


def _stripped(turns: tuple[Turn, ...]) -> tuple[Turn, ...]:
    return tuple(replace(t, text=t.text.strip()) if t.text != t.text.strip() else t for t in turns)


def hh_rejected_key(data: dict[str, Any]) -> str | None:
    """Where an HH record keeps its rejected transcript: `rejected`, else the one other key holding a
    transcript (translations translate the key too: `거부됨`, `거절`, ...)."""
    if "rejected" in data:
        return "rejected"
    others = [k for k, v in data.items() if k != "chosen" and is_transcript(v)]
    return others[0] if len(others) == 1 else None


def anthropic_hh(data: dict[str, Any], roles: Roles) -> Conversation:
    """chosen/rejected as whole transcripts; the shared head becomes one prompt."""
    if "chosen" not in data:
        return template_text("anthropic_hh")(data, roles)
    chosen = segments_to_turns(split_transcript(data["chosen"]), "/chosen", roles)
    key = hh_rejected_key(data)
    rejected: tuple[Turn, ...] = ()
    if key is not None:
        value = data[key]
        base = f"/{escape_key(key)}"
        rejected = segments_to_turns(split_transcript(value), base, roles) if isinstance(value, str) else ()
        if isinstance(value, str) and not rejected:  # a bare answer beside a transcript
            rejected = (Turn("assistant", value, base),)
    return Conversation("anthropic_hh", chosen, share_prompt(chosen, rejected) if rejected else ())


def prompt_completion(data: dict[str, Any], roles: Roles) -> Conversation:
    p, c = data["prompt"], data["completion"]
    prompt = _prompt_turns(p, "/prompt", roles)
    if isinstance(c, list):
        completion = _messages(c, "/completion", roles)
    else:
        text = content_text(c)
        # a completion for a rendered prompt ends with the template's end token: not content
        completion = (Turn("assistant", strip_end_tokens(text) if prompt_rendered(p) else text, "/completion"),)
    return Conversation("prompt_completion", prompt + completion)


def prompt_rendered(value: Any) -> bool:
    return isinstance(value, str) and detect_template(value) is not None


def _prompt_turns(p: Any, base: str, roles: Roles) -> tuple[Turn, ...]:
    """A prompt: messages (each may hold a rendered template), a rendered string, or plain text."""
    if isinstance(p, list):
        out: list[Turn] = []
        for turn in _messages(p, base, roles):
            rendered = _rendered(turn.text, turn.field, roles, prompt=True) if turn.text else None
            out.extend(rendered or (turn,))
        return tuple(out)
    text = content_text(p)
    return _rendered(text, base, roles, prompt=True) or (Turn("user", text, base),)


def prompt_only(data: dict[str, Any], roles: Roles) -> Conversation:
    """A prompt without an answer (RL prompt sets, evaluation sets): its text is checked, nothing is trained."""
    return Conversation("prompt_only", _prompt_turns(data["prompt"], "/prompt", roles))


def alpaca_prompt(data: dict[str, Any]) -> list[Turn]:
    """An Alpaca record's prompt without its system: the history pairs, then instruction (+ input)."""
    turns: list[Turn] = []
    for i, pair in enumerate(data.get("history") or ()):
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            turns.append(Turn("user", str(pair[0]), f"/history/{i}/0"))
            turns.append(Turn("assistant", str(pair[1]), f"/history/{i}/1"))
    instruction = str(data.get("instruction") or "")
    extra = data.get("input")
    if isinstance(extra, str) and extra.strip():
        turns.append(Turn("user", f"{instruction}\n\n{extra}" if instruction else extra, "/instruction"))
    else:
        turns.append(Turn("user", instruction, "/instruction"))
    return turns


def alpaca(data: dict[str, Any], roles: Roles) -> Conversation:
    turns: list[Turn] = []
    if isinstance(data.get("system"), str) and data["system"]:
        turns.append(Turn("system", data["system"], "/system"))
    turns += alpaca_prompt(data)
    out_key = "output" if "output" in data else "response"
    output = data[out_key]
    if isinstance(output, list) and len(output) == 2 and "chosen" not in data:
        # LLaMA-Factory ranking variant: output = [chosen, rejected]
        return Conversation(
            "alpaca",
            (*turns, Turn("assistant", str(output[0]), f"/{out_key}/0")),
            (*turns, Turn("assistant", str(output[1]), f"/{out_key}/1")),
        )
    turns.append(Turn("assistant", content_text(output), f"/{out_key}"))
    return Conversation("alpaca", tuple(turns))


QA_PROMPT_KEYS = ("question", "query")
QA_ANSWER_KEYS = ("answer", "response")


def qa_keys(data: dict[str, Any]) -> tuple[str, str] | None:
    """(prompt key, answer key) of a question/answer record (GSM8K, many eval and SFT sets)."""
    q = next((k for k in QA_PROMPT_KEYS if isinstance(data.get(k), str)), None)
    if q is None and isinstance(data.get("prompt"), str):
        q = "prompt"
    a = next((k for k in QA_ANSWER_KEYS if isinstance(data.get(k), str)), None)
    if q is None and isinstance(data.get("input"), str) and isinstance(data.get("output"), str):
        return "input", "output"
    return (q, a) if q and a else None


def question_answer(data: dict[str, Any], roles: Roles) -> Conversation:
    keys = qa_keys(data)
    if keys is None:
        return Conversation("question_answer", ())
    q, a = keys
    turns = [Turn("user", data[q], f"/{q}"), Turn("assistant", data[a], f"/{a}")]
    if isinstance(data.get("system"), str) and data["system"]:
        turns.insert(0, Turn("system", data["system"], "/system"))
    return Conversation("question_answer", tuple(turns))


def sharegpt(data: dict[str, Any], roles: Roles) -> Conversation:
    key = "conversations" if "conversations" in data else "conversation"
    turns = _sharegpt_turns(data[key], f"/{key}", roles)
    if isinstance(data.get("system"), str) and data["system"]:
        turns = (Turn("system", data["system"], "/system"), *turns)
    return Conversation("sharegpt", turns, tools=_tools(data))


MAX_TREE_DEPTH = 256


def oasst_tree(data: dict[str, Any], roles: Roles) -> Conversation:
    """An OpenAssistant message tree, read along its best-ranked path (rank 0 at each reply),
    the path `oasst_top1`-style datasets train on."""
    node, base, turns = data["prompt"], "/prompt", []
    while isinstance(node, dict) and len(turns) < MAX_TREE_DEPTH:
        role, raw_role = _role(node.get("role"), roles)
        turns.append(Turn(role, content_text(node.get("text")), f"{base}/text", raw_role=raw_role))
        replies = node.get("replies")
        if not isinstance(replies, list) or not replies:
            break
        live = [(i, r) for i, r in enumerate(replies) if isinstance(r, dict) and not r.get("deleted")]
        if not live:
            break
        i, node = min(live, key=lambda ir: (_rank(ir[1]), ir[0]))
        base = f"{base}/replies/{i}"
    # a path that ends in an unanswered follow-up trains on the answers before it
    while len(turns) > 1 and turns[-1].role != "assistant" and any(t.role == "assistant" for t in turns):
        turns.pop()
    return Conversation("oasst_tree", tuple(turns))


def _rank(reply: dict[str, Any]) -> float:
    rank = reply.get("rank")
    return float(rank) if isinstance(rank, (int, float)) and not isinstance(rank, bool) else float("inf")


def text(data: dict[str, Any], roles: Roles) -> Conversation:
    return Conversation("text", (Turn("assistant", data["text"], "/text"),))


def rendered_text(data: dict[str, Any], roles: Roles) -> Conversation:
    """A `text` field holding a rendered chat template or an HH transcript, as its turns."""
    name = detect_template(data["text"])
    return text(data, roles) if name is None else template_text(name)(data, roles)


def template_text(name: str) -> Builder:
    """The builder of `text` rendered with one template (detected, or forced by --input-format)."""

    def build(data: dict[str, Any], roles: Roles) -> Conversation:
        value = data["text"]
        if not isinstance(value, str):
            return Conversation(name, ())
        return Conversation(name, segments_to_turns(split_template(name, value), "/text", roles))

    return build


BUILDERS: dict[str, Builder] = {
    "openai_chat": openai_chat,
    "openai_preference": openai_preference,
    "preference": preference,
    "anthropic_hh": anthropic_hh,
    "prompt_completion": prompt_completion,
    "alpaca": alpaca,
    "sharegpt": sharegpt,
    "question_answer": question_answer,
    "oasst_tree": oasst_tree,
    "prompt_only": prompt_only,
    "chatml": template_text("chatml"),
    "llama2": template_text("llama2"),
    "llama3": template_text("llama3"),
    "alpaca_text": template_text("alpaca_text"),
    "text": text,
}
