"""curate.display.shown: the one door for user-derived text outside the record view."""

from __future__ import annotations

import pytest

from curate.display import shown, shown_pointer, shown_tree

# (planted raw value, what must not survive of it) for each kind of value the door must mask
PLANTED = [
    "jane.roe@gmail.com",
    "4716 7574 9118 6252",
    "4716.7574.9118.6252",
    "4716-7574-9118-6252",
    "4716757491186252",
    "123-45-6789",
    "+1 (415) 555-2671",
    "415.555.2671",
    "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "ghp_a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8",  # a token lowercased (a derived category)
    "sk-proj-Xy7Qa2Lm9Pz4Rt6Wv8Bn3Kd5",
    "AKIAZ3X7Q2LMNB4KD9PQ",
    "DE89 3704 0044 0532 0130 00",
    "de89370400440532013000",
    "GB29NWBK60161331926819",
]


@pytest.mark.parametrize("value", PLANTED)
@pytest.mark.parametrize("around", ["{}", "my value is {} ok", "[{}]", "'{}'", "/meta/{}/x"])
def test_values_are_masked_wherever_they_sit(value: str, around: str) -> None:
    out = shown(around.format(value), None)
    assert value not in out and value.lower() not in out.lower()
    assert "***" in out


@pytest.mark.parametrize("value", PLANTED[:6])
def test_a_value_split_by_an_invisible_character_is_still_masked(value: str) -> None:
    split = value[:4] + "\u200b" + value[4:]
    out = shown(split, None)
    assert value[:4] + "\\u200b" + value[4:] not in out and "***" in out


def test_a_value_is_masked_before_it_is_cut() -> None:
    out = shown("x" * 70 + " 4716 7574 9118 6252", 80)
    assert len(out) <= 80 and "4716 75" not in out and "4716" not in out


@pytest.mark.parametrize(
    ("raw", "visible"),
    [
        ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),
        ("\x1b[2Jclear", "\\x1b[2Jclear"),
        ("a\u202eb", "a\\u202eb"),
        ("\x9bc1", "\\x9bc1"),
        ("two\nlines", "two\\x0alines"),
    ],
)
def test_controls_and_bidi_are_shown_not_obeyed(raw: str, visible: str) -> None:
    out = shown(raw, None)
    assert out == visible and "\x1b" not in out and "\u202e" not in out


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3 released 2023-10-12",
        "42 records, 1,234,567 tokens",
        "line 1234567 of the file",
        "abc123def4567890 is a hash",
        "user@localhost",
        "The answer is four.",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert shown(text, None) == text


def test_pointer_masks_keys_but_keeps_indices() -> None:
    assert shown_pointer("/messages/3/content") == "/messages/3/content"
    out = shown_pointer("/metadata/jane.roe@gmail.com/0")
    assert out is not None and "jane.roe" not in out and out.endswith("/0")


def test_tree_masks_keys_and_leaves_but_not_tool_hashes() -> None:
    tree = {"jane.roe@gmail.com": ["4716 7574 9118 6252", 3, None], "value_hash": "1234567890123456", "n": 2.5}
    out = shown_tree(tree)
    blob = repr(out)
    assert "jane.roe" not in blob and "4716 7574" not in blob
    assert out["value_hash"] == "1234567890123456" and out["n"] == 2.5


def test_tree_depth_is_bounded() -> None:
    deep: object = "x"
    for _ in range(200):
        deep = [deep]
    out = shown_tree(deep)
    for _ in range(40):
        if not isinstance(out, list):
            break
        out = out[0]
    assert out == "…"
