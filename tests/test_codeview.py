"""The shared "is this code?" view: fenced, inline and unfenced code; prose with signs in it is prose."""

from __future__ import annotations

import pytest

from curate.checks.codeview import view, without_code

REACT = """Here is the component:

import React from 'react';
function Hello({ name }) {
  return (
    <div className="hello">
      <h1>Hello {name}</h1>
    </div>
  );
}

Use it anywhere in your app."""

PHP = """Put this in index.php:

<?php
$name = $_GET['name'];
echo "<p>Hello {$name}</p>";
?>

It prints a greeting."""


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (REACT, "import React"),
        (PHP, "<?php"),
        ("Run:\n```bash\nls -la\n```\nDone.", "```bash"),
        ("Call `sorted(xs)` to get a new list.", "`sorted(xs)`"),
        ("total 0\ndrwxr-xr-x 2 user user 4096 Feb 4 Desktop\ndrwxr-xr-x 2 user user 4096 Feb 4 Music", "drwx"),
    ],
)
def test_code_is_found(text: str, code: str) -> None:
    v = view(text)
    assert any(code in text[a:b] for a, b in v.spans), v


@pytest.mark.parametrize(
    "text",
    [
        "Dear John,\nIf you have any questions, call me.\nBest regards,\nJane",
        "The answer is f(x) = 2x + 1, which grows without bound.",
        "<p>Welcome to our shop</p>\n<p>Open every day</p>",  # scraped markup alone is a leftover, not code
        "For best results, keep the dough cold.\nWhile it rests, heat the oven.",
    ],
)
def test_prose_is_not_code(text: str) -> None:
    assert view(text).spans == ()


@pytest.mark.parametrize(
    ("text", "is_code"), [("xs.sort()", True), ("x = [i for i in range(10)]", True), ("Paris.", False)]
)
def test_one_line_answers(text: str, is_code: bool) -> None:
    assert view(text).is_code is is_code


def test_without_code_keeps_offsets() -> None:
    out = without_code(REACT)
    assert len(out) == len(REACT)
    assert "React" not in out and out.startswith("Here is the component:") and out.endswith("in your app.")
