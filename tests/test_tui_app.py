"""The review app driven with Pilot: every key does what the footer says, and text stays literal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from review_data import MARKUP, open_session, reloaded, write_dataset  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.text import Text  # noqa: E402

from curate.io.lines import RecordStore  # noqa: E402
from curate.model import Finding, Severity, fingerprint  # noqa: E402
from curate.review import ReviewSession  # noqa: E402
from curate.tui.app import ReviewApp  # noqa: E402
from curate.tui.screens.confirm import ConfirmScreen  # noqa: E402
from curate.tui.screens.edit import EditScreen  # noqa: E402
from curate.tui.widgets.flagged_list import FlaggedList  # noqa: E402
from curate.tui.widgets.record_render import render_record  # noqa: E402

SIZE = (140, 40)


def goto_line(app: ReviewApp, line: int) -> None:
    s = app.session
    s.goto(next(p for p, i in enumerate(s.view) if s.items[i].line == line))
    app.redraw()


@pytest.fixture
def session(tmp_path: Path) -> ReviewSession:
    return open_session(write_dataset(tmp_path))


async def test_accept_and_drop(session: ReviewSession) -> None:
    app = ReviewApp(session)
    async with app.run_test(size=SIZE) as pilot:
        goto_line(app, 5)
        await pilot.press("a")
        goto_line(app, 6)
        await pilot.press("d")
        log = reloaded(session)
        assert sorted(d.action for d in log.decisions) == ["accept", "drop"]
        assert {s for s in (session.status(i) for i in session.items if i.line in (5, 6))} == {"accepted", "dropped"}


async def test_fix_shows_the_diff_and_asks(session: ReviewSession) -> None:
    app = ReviewApp(session)
    async with app.run_test(size=SIZE) as pilot:
        goto_line(app, 2)
        await pilot.press("f")
        assert isinstance(app.screen, ConfirmScreen)
        body = "".join(str(w.render()) for w in app.screen.query("Static"))
        assert '"role": "user"' in body
        await pilot.press("n")  # cancelled: nothing decided
        assert reloaded(session).decisions == []
        await pilot.press("f", "y")
        (d,) = reloaded(session).decisions
        assert d.action == "fix" and {op["path"] for op in d.patch} == {"/messages/0/role"}  # only what changed
        assert d.new_record(session.store.record(2).data)["messages"][0]["role"] == "user"


async def test_edit_refuses_invalid_json_then_saves(session: ReviewSession) -> None:
    app = ReviewApp(session)
    async with app.run_test(size=SIZE) as pilot:
        goto_line(app, 4)
        await pilot.press("e")
        assert isinstance(app.screen, EditScreen)
        await pilot.press("ctrl+s")  # the broken line as it is
        assert isinstance(app.screen, EditScreen)
        assert "refused: invalid JSON" in str(app.screen.query_one("#editor-error").render())
        area = app.screen.query_one("#editor-area")
        area.text = '{"messages": [{"role": "user", "content": "up?"}, {"role": "assistant", "content": "yes"}]}'
        await pilot.press("ctrl+s")
        assert not isinstance(app.screen, EditScreen)
        (d,) = reloaded(session).decisions
        assert d.action == "edit" and d.new_record(None)["messages"][1]["content"] == "yes"


async def test_undo(session: ReviewSession) -> None:
    app = ReviewApp(session)
    async with app.run_test(size=SIZE) as pilot:
        goto_line(app, 6)
        await pilot.press("d", "u")
        assert reloaded(session).decisions == []
        assert session.current.line == 6


async def test_bulk_accept_asks_first(session: ReviewSession) -> None:
    app = ReviewApp(session)
    async with app.run_test(size=SIZE) as pilot:
        pending = sum(len(session.pending_findings(i)) for i in session.items)
        await pilot.press("A")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert reloaded(session).decisions == []
        await pilot.press("A", "y")
        assert len(reloaded(session).accepted_fingerprints()) == pending
        await pilot.press("s")  # pending -> all
        assert session.filter.status == "all"


async def test_bulk_drop_then_undo(session: ReviewSession) -> None:
    app = ReviewApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("D", "y")
        assert len(reloaded(session).dropped()) == sum(1 for i in session.items if i.key)
        await pilot.press("u")
        assert reloaded(session).decisions == []


async def test_export_key(session: ReviewSession, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    app = ReviewApp(session, output=str(out))
    async with app.run_test(size=SIZE) as pilot:
        goto_line(app, 6)
        await pilot.press("d", "x")
        rows = [json.loads(x) for x in out.read_text().splitlines()]
        assert len(rows) == 6  # 9 lines - blank - unparseable - dropped
        assert {"role": "user", "content": "Only a question"} not in [m for r in rows for m in r["messages"]]


async def test_resume_after_quit(tmp_path: Path) -> None:
    path = write_dataset(tmp_path)
    first = open_session(path)
    app = ReviewApp(first)
    async with app.run_test(size=SIZE) as pilot:
        goto_line(app, 6)
        await pilot.press("d", "q")
    second = open_session(path)
    app2 = ReviewApp(second)
    async with app2.run_test(size=SIZE):
        assert 6 not in {second.items[i].line for i in second.view}
        assert second.status(next(i for i in second.items if i.line == 6)) == "dropped"


async def test_filter_screen_search(session: ReviewSession) -> None:
    app = ReviewApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await pilot.press(*"api down", "enter")
        assert [session.items[i].line for i in session.view] == [4]
        await pilot.press("c")
        assert session.filter.text == ""


async def test_keymap_remaps_keys(session: ReviewSession) -> None:
    app = ReviewApp(session, keymap={"review.drop": "z"})
    async with app.run_test(size=SIZE) as pilot:
        goto_line(app, 6)
        await pilot.press("d")
        assert reloaded(session).decisions == []
        await pilot.press("z")
        assert [d.action for d in reloaded(session).decisions] == ["drop"]


def test_markup_ansi_and_controls_are_shown_literally(session: ReviewSession) -> None:
    item = next(i for i in session.items if i.line == 8)
    text = render_record(session.record(item), item.findings, item.findings[0])
    plain = text.plain
    assert "[bold]not bold[/bold]" in plain
    assert "[link=https://example.com]no link[/link]" in plain
    assert "\\x1b[31mnot red\\x1b[0m" in plain  # escaped visibly, never sent to the terminal
    assert "\\u202eabc" in plain
    assert "\x1b" not in plain and "\u202e" not in plain
    console = Console(width=200, force_terminal=True, color_system="truecolor")
    with console.capture() as cap:
        console.print(text)
    ansi = cap.get()
    assert "\x1b]8;" not in ansi  # no hyperlink escape was produced from the data
    for span in text.spans:  # no style comes from the record's own markup
        covered = plain[span.start : span.end]
        assert "not bold" not in covered or "bold" not in str(span.style) or "[" in covered
    assert MARKUP.split()[0] in plain


async def test_100k_records_keep_the_widget_count_small(tmp_path: Path) -> None:
    n = 100_000
    path = tmp_path / "big.jsonl"
    row = '{"messages": [{"role": "human", "content": "question %d"}, {"role": "assistant", "content": "answer"}]}\n'
    path.write_text("".join(row % i for i in range(n)))
    findings = [
        Finding("invalid-role", "schema.invalid_role", Severity.ERROR, str(path), line, "/messages/0/role",
                "unrecognised role 'human'", fingerprint("invalid-role", f"k{line}", "/messages/0/role"),
                key=f"k{line}")
        for line in range(1, n + 1)
    ]  # fmt: skip
    session = ReviewSession(path, findings, RecordStore(path))
    app = ReviewApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        widgets = len(list(app.query("*")))
        assert widgets < 40
        flagged = app.query_one(FlaggedList)
        assert flagged.virtual_size.height == n
        await pilot.press("G")
        assert session.current.line == n
        assert "question 99999" in app.query_one("#record").render().plain
        await pilot.press("k", "pagedown", "g")
        assert session.current.line == 1
        assert len(list(app.query("*"))) == widgets
        rendered = flagged.render_line(0)
        assert "invalid-role" in Text("".join(seg.text for seg in rendered)).plain


async def test_view_scrolls_to_the_selected_span(tmp_path: Path) -> None:
    long = "\n".join(f"line {i} of a long answer" for i in range(200)) + " <|im_end|> tail"
    path = tmp_path / "long.jsonl"
    rec = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": long}]}
    path.write_text(json.dumps(rec) + "\n")
    session = open_session(path)
    app = ReviewApp(session)
    async with app.run_test(size=SIZE) as pilot:
        goto_line(app, 1)
        await pilot.pause()
        await pilot.pause()
        scroll = app.query_one("#record-scroll")
        assert session.current_finding.rule == "special-tokens"
        assert scroll.scroll_y > 150  # the token is on the 200th line of the answer
        assert scroll.scroll_y < 215


def test_keymap_file(tmp_path: Path) -> None:
    from curate.tui.keys import KeymapError, load_keymap

    good = tmp_path / "keys.yaml"
    good.write_text("accept: a,enter\ndrop: [x, delete]\n")
    assert load_keymap(str(good)) == {"review.accept": "a,enter", "review.drop": "x,delete"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("acept: a\n")
    with pytest.raises(KeymapError, match="unknown action 'acept'"):
        load_keymap(str(bad))
    with pytest.raises(KeymapError, match="no such keymap file"):
        load_keymap(str(tmp_path / "none.yaml"))


async def test_blank_line_shows_the_line_not_nothing(session: ReviewSession) -> None:
    app = ReviewApp(session)
    async with app.run_test(size=SIZE):
        goto_line(app, 5)
        body = str(app.query_one("#record").render())
        assert "line 5 is blank" in body
        assert "nothing to show" not in body


async def test_messages_go_to_the_message_line_never_a_toast(session: ReviewSession) -> None:
    app = ReviewApp(session)
    async with app.run_test(size=SIZE) as pilot:
        goto_line(app, 6)
        await pilot.press("a")
        await pilot.pause()
        assert "accepted" in str(app.query_one("#message").render())
        assert not app._notifications  # nothing drawn over the detail text


async def test_narrow_list_keeps_the_rule_and_the_more_marker(tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    long = "x" * 200
    path.write_text(
        json.dumps({"messages": [{"role": "human", "content": long}, {"role": "assistant", "content": "  "}]}) + "\n",
        encoding="utf-8",
    )
    session = open_session(path)
    app = ReviewApp(session)
    async with app.run_test(size=(90, 30)):
        lst = app.query_one(FlaggedList)
        width = lst.scrollable_content_region.width
        row = lst.row(0, width).plain
        item = session.items[session.view[0]]
        assert len(item.findings) > 1
        assert row.rstrip().endswith(f"+{len(item.findings) - 1}")
        assert item.findings[0].rule in row


async def test_after_an_edit_the_list_letter_matches_the_findings_shown(session: ReviewSession) -> None:
    app = ReviewApp(session)
    async with app.run_test(size=SIZE):
        goto_line(app, 6)  # no assistant turn: an error
        item = session.current
        assert any(f.severity.name == "ERROR" for f in item.findings)
        fixed = {"messages": [{"role": "user", "content": "Only a question"}, {"role": "assistant", "content": ""}]}
        session.edit(json.dumps(fixed))
        app.redraw()
        lst = app.query_one(FlaggedList)
        row = lst.row(session.view.index(session.items.index(item)), 120).plain
        worst = max(f.severity for f in item.findings)
        assert worst.name != "ERROR"
        assert f" {worst.name[0]} " in row and " E " not in row
