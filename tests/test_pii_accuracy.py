"""Recall and precision per entity type on generated data with planted Faker values.

Held-out seed (the tuning was done on seed 1); exact figures are in the notes, from
benchmarks/pii_accuracy.py. Real-text false positives are measured there, not here: tests do
not read ../shared.
"""

from __future__ import annotations

import pytest

from curate.checks.pii.analyzer import PATTERN_ENTITIES, Detector
from curate.checks.pii.entities import DEFAULT_ALLOW
from curate.checks.pii.patterns import SECRET_ENTITIES
from curate.checks.pii.synth import HARD_NEGATIVES, score

TYPES = frozenset(PATTERN_ENTITIES) | frozenset(SECRET_ENTITIES)


@pytest.fixture(scope="module")
def scores() -> dict[str, dict[str, float]]:
    det = Detector(TYPES, allow=frozenset(DEFAULT_ALLOW), ner="off")
    return score(det, n=40, seed=2024)


@pytest.mark.parametrize("entity", PATTERN_ENTITIES)
def test_pattern_types(scores: dict[str, dict[str, float]], entity: str) -> None:
    m = scores[entity]
    assert m["tp"] >= 36 and m["recall"] >= 0.9, m
    assert m["precision"] >= 0.95, m


@pytest.mark.parametrize(
    "entity",
    [
        "OPENAI_API_KEY",
        "AWS_ACCESS_KEY",
        "GITHUB_TOKEN",
        "SLACK_TOKEN",
        "JWT",
        "BEARER_TOKEN",
        "PRIVATE_KEY",
        "URL_PASSWORD",
    ],
)
def test_secret_types(scores: dict[str, dict[str, float]], entity: str) -> None:
    m = scores[entity]
    assert m["recall"] >= 0.95 and m["precision"] >= 0.98, m


def test_hard_negatives_stay_clean() -> None:
    det = Detector(TYPES, allow=frozenset(DEFAULT_ALLOW), ner="off")
    flagged = [(t, [x.entity for x in det.detect(t)]) for t in HARD_NEGATIVES]
    assert [f for f in flagged if f[1]] == []
