"""SVG snapshots of the review screens (regenerate with `pytest --snapshot-update`, then look at them)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from review_data import open_session, write_dataset  # noqa: E402

from curate.tui.app import ReviewApp  # noqa: E402

SIZE = (130, 34)


@pytest.fixture
def app(tmp_path: Path) -> ReviewApp:
    return ReviewApp(open_session(write_dataset(tmp_path)))


def goto(line: int):  # noqa: ANN201
    async def run_before(pilot) -> None:  # noqa: ANN001
        app = pilot.app
        s = app.session
        s.goto(next(p for p, i in enumerate(s.view) if s.items[i].line == line))
        app.redraw()
        await pilot.pause()

    return run_before


def no_blink(selector: str, line: int | None = None):  # noqa: ANN201
    async def run_before(pilot) -> None:  # noqa: ANN001
        if line is not None:
            await goto(line)(pilot)
        for key in keys:
            await pilot.press(key)
        await pilot.pause()
        for _ in range(100):  # on a loaded machine the dialog mounts and takes focus a little later
            if any(w.has_focus for w in pilot.app.screen.query(selector)):
                break
            await pilot.pause(0.05)
        for widget in pilot.app.screen.query(selector):
            widget.cursor_blink = False
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    keys: list[str] = []
    run_before.keys = keys  # type: ignore[attr-defined]
    return run_before


def test_main_screen(snap_compare, app: ReviewApp) -> None:  # noqa: ANN001
    assert snap_compare(app, terminal_size=SIZE)


def test_literal_markup_record(snap_compare, app: ReviewApp) -> None:  # noqa: ANN001
    assert snap_compare(app, terminal_size=SIZE, run_before=goto(8))


def test_fix_diff_dialog(snap_compare, app: ReviewApp) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await goto(2)(pilot)
        await pilot.press("f")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_edit_screen(snap_compare, app: ReviewApp) -> None:  # noqa: ANN001
    run_before = no_blink("TextArea", line=4)
    run_before.keys.append("e")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_filter_screen(snap_compare, app: ReviewApp) -> None:  # noqa: ANN001
    run_before = no_blink("Input")
    run_before.keys.append("slash")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare, app: ReviewApp) -> None:  # noqa: ANN001
    assert snap_compare(app, terminal_size=SIZE, press=["question_mark"])


def test_bulk_confirmation(snap_compare, app: ReviewApp) -> None:  # noqa: ANN001
    assert snap_compare(app, terminal_size=SIZE, press=["D"])
