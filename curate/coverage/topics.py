"""Topics from embeddings: k-means clusters labelled by their most typical words, with examples.

Labels come from a fixed public vocabulary (the embedding model's whole-word pieces), never from
free text: a word is a label candidate of a topic only when at least `MIN_LABEL_RECORDS` of its
records use it, and the topic uses it at least `MIN_LIFT` times as often as all records do (so
the, what, please are never labels). A word's score in a topic is its share in the topic x log
of that lift (c-TF-IDF's idea).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from curate.coverage.kmeans import choose

LABEL_WORDS = 4
MIN_LABEL_RECORDS = 3
MIN_LIFT = 2.0  # so a word used by half of all records or more is never a label
EXAMPLES = 3
MAX_TOPICS_SHOWN = 50
ONE_SIDED = 5.0  # a topic is missing from a side when its share there is 5x smaller than on the other


@dataclass(frozen=True, slots=True)
class Side:
    """One dataset's records: vectors (n, d) float32 unit, label-word ids, places and masked snippets."""

    vectors: Any
    words: list[Any]
    places: list[str]
    snippets: list[str]


def _label_groups(vocab: list[str]) -> tuple[Any, list[str]]:
    """Each vocabulary id's lower-cased word group (Python and python are one word)."""
    import numpy as np

    lowered = [w.lower() for w in vocab]
    names, group = np.unique(np.asarray(lowered, dtype=object), return_inverse=True)
    return group.astype(np.int64), [str(s) for s in names.tolist()]


def _labels(topic: Any, words: list[Any], k: int, vocab: list[str]) -> list[list[str]]:
    import numpy as np

    group_of, names = _label_groups(vocab)
    n = len(words)
    pairs = []
    for r, ids in enumerate(words):
        if len(ids):
            g = np.unique(group_of[np.asarray(ids, dtype=np.int64) % len(group_of)])
            pairs.append(topic[r] * len(names) + g)
    out: list[list[str]] = [[] for _ in range(k)]
    if not pairs:
        return out
    keys, counts = np.unique(np.concatenate(pairs), return_counts=True)
    t_of, g_of = keys // len(names), keys % len(names)
    df = np.bincount(g_of, weights=counts, minlength=len(names))
    sizes = np.bincount(topic, minlength=k).astype(np.float64)
    p_topic = counts / sizes[t_of]
    p_all = df[g_of] / n
    score = p_topic * np.log(p_topic / p_all)
    ok = (counts >= MIN_LABEL_RECORDS) & (p_topic >= MIN_LIFT * p_all)
    for t in range(k):
        mine = np.flatnonzero(ok & (t_of == t))
        best = mine[np.argsort(-score[mine], kind="stable")[:LABEL_WORDS]]
        out[t] = [names[g] for g in g_of[best].tolist()]
    return out


def coverage(
    train: Side, against: Side | None, vocab: list[str], k: int | None, max_k: int, rare: int
) -> tuple[dict[str, Any], list[str]]:
    """The `stats.coverage` section: topics with counts, shares, labels, examples; rare topics;
    with `against`, the topics one side has and the other lacks. Also each training record's topic
    label (the per-record `topic` column: category-mix by topics, `curate diff`)."""
    import numpy as np

    from curate.coverage.kmeans import _normalise

    n = len(train.vectors)
    m = 0 if against is None else len(against.vectors)
    allv = train.vectors if against is None else np.concatenate([train.vectors, against.vectors])
    centred = _normalise(allv - allv.mean(axis=0)).astype(np.float32)
    fit = choose(centred, k, max_k)
    rare = rare or max(3, n // (4 * fit.k))  # 0: a quarter of an even share
    sims = centred @ fit.centres.T
    topic = np.argmax(sims, axis=1)
    words = train.words + ([] if against is None else against.words)
    labels = _labels(topic, words, fit.k, vocab)
    counts = np.bincount(topic[:n], minlength=fit.k)
    other = np.bincount(topic[n:], minlength=fit.k) if m else None
    rows = []
    for t in np.argsort(-counts, kind="stable").tolist():
        mine = np.flatnonzero(topic[:n] == t)
        typical = mine[np.argsort(-sims[mine, t], kind="stable")[:EXAMPLES]]
        row: dict[str, Any] = {
            "topic": len(rows) + 1,
            "label": " · ".join(labels[t]) if labels[t] else "(no typical words)",
            "words": labels[t],
            "count": int(counts[t]),
            "share": round(float(counts[t]) / n, 4) if n else 0.0,
            "few": bool(0 < counts[t] < rare),
            "examples": [{"at": train.places[i], "text": train.snippets[i]} for i in typical.tolist()],
        }
        if other is not None and against is not None:
            row["against_count"] = int(other[t])
            row["against_share"] = round(float(other[t]) / m, 4) if m else 0.0
            if not len(mine) and other[t]:
                pick = np.flatnonzero(topic[n:] == t)
                pick = pick[np.argsort(-sims[n + pick, t], kind="stable")[:EXAMPLES]]
                row["examples"] = [{"at": against.places[i], "text": against.snippets[i]} for i in pick.tolist()]
        rows.append(row)
    name_of = {r["topic"]: _unique_label(r, rows) for r in rows}
    number = {t: i + 1 for i, t in enumerate(np.argsort(-counts, kind="stable").tolist())}
    assigned = [name_of[number[t]] for t in topic[:n].tolist()]
    out: dict[str, Any] = {
        "records": n,
        "topics": fit.k,
        "k_chosen_by": "given" if k is not None else "silhouette",
        **(
            {"silhouette": fit.silhouette, "silhouette_by_k": {str(c): s for c, s in fit.tried.items()}}
            if fit.tried
            else {}
        ),
        "rare_below": rare,
        "few": [r["topic"] for r in rows if r["few"]],
        "rows": rows[:MAX_TOPICS_SHOWN],
    }
    if other is not None:
        out["against_records"] = m
        out["only_in_against"] = [
            r["topic"] for r in rows if r["against_share"] >= 0.01 and r["share"] * ONE_SIDED < r["against_share"]
        ]
        out["only_in_training"] = [
            r["topic"] for r in rows if r["share"] >= 0.01 and r["against_share"] * ONE_SIDED < r["share"]
        ]
    return out, assigned


def _unique_label(row: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """A topic's label as a record's category: its typical words, numbered when two topics share them."""
    label = row["label"]
    return label if sum(r["label"] == label for r in rows) == 1 else f"{label} (topic {row['topic']})"
