"""The review title explains an identical copy instead of a bare `copy 2`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from review_data import open_session, write_dataset  # noqa: E402

from curate.tui.app import ReviewApp  # noqa: E402


async def test_identical_copy_label_is_explained(tmp_path: Path) -> None:
    session = open_session(write_dataset(tmp_path))
    copies = [i for i in session.items if i.occurrence]
    assert copies, "the dataset has identical records (lines 1 and 7)"
    app = ReviewApp(session)
    async with app.run_test(size=(140, 40)):
        session.goto(session.view.index(session.items.index(copies[0])))
        app.redraw()
        title = str(app.query_one("#record-title").render())
        assert f"identical copy {copies[0].occurrence} (decisions apply to this copy only)" in title
