"""Fix and edit patches: they rebuild the new record exactly and store nothing the change did not touch."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.patch import PatchError, apply_patch, make_patch

_leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text("abc\u200b~/ ", max_size=6))
_json = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text("ab~/", max_size=3), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_json, _json)
def test_patch_rebuilds_the_new_value(old: object, new: object) -> None:
    ops = make_patch(old, new)
    assert apply_patch(old, ops) == new
    assert json.loads(json.dumps(ops)) == ops  # plain JSON, as the decisions file stores it


def test_fixing_one_email_stores_only_the_fix() -> None:
    card, ssn = "4716 7574 9118 6252", "536-22-8714"
    old = {
        "messages": [
            {"role": "user", "content": f"mail jane.doe@acme-mail.org, card {card}, ssn {ssn}"},
            {"role": "assistant", "content": f"Noted {card}."},
        ],
        "meta": {"ssn": ssn},
    }
    new = json.loads(json.dumps(old).replace("jane.doe@acme-mail.org", "<EMAIL_ADDRESS>"))
    ops = make_patch(old, new)
    blob = json.dumps(ops)
    assert card not in blob and ssn not in blob and "jane.doe" not in blob
    assert ops == [{"op": "splice", "path": "/messages/0/content", "at": 5, "cut": 22, "text": "<EMAIL_ADDRESS>"}]
    assert apply_patch(old, ops) == new


def test_a_patch_that_no_longer_fits_is_an_error() -> None:
    ops = make_patch({"a": "xyz"}, {"a": "xbz"})
    with pytest.raises(PatchError):
        apply_patch({"a": "x"}, ops)
    with pytest.raises(PatchError):
        apply_patch({"b": 1}, ops)
    with pytest.raises(PatchError):
        apply_patch({"a": [1]}, [{"op": "remove", "path": "/a/5"}])
    with pytest.raises(PatchError):
        apply_patch({"a": 1}, [{"op": "explode", "path": "/a"}])
