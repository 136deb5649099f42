"""A channel's taste: papers like the ones it voted up and unlike the ones it voted down.

The model is tf-idf over title and abstract words with a Rocchio profile (the mean of the
up-voted papers' vectors minus half the mean of the down-voted ones), scored against every
candidate in one sparse pass with numpy. ``make bench`` compares it with a logistic
regression trained the way arxiv-sanity-lite trains its SVMs (the voted papers against all
the others) on simulated channels; the profile scored as well or better there and needs no
training loop, so it is what paperboy uses (README, "Taste").

Vectors are built over the candidates and the voted papers together, so idf is what is rare
*this week*: a word every paper uses says nothing about taste.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.model.paper import Paper

# Fewer up-votes than this and a channel has no taste yet: fall back to HF upvotes.
MIN_UPVOTES = 3
DOWN_WEIGHT = 0.5  # how hard a down-vote pushes away, relative to an up-vote's pull

_WORD = re.compile(r"[a-z][a-z0-9]+")
# Words every abstract uses; the rest is left to idf.
_STOP_WORDS = (
    "the of and in to a we is for that this on with by are as an be from our which it these "
    "can using at show also based two not results has or new their its paper have method "
    "approach than such both between over into one where when how more used while under all "
    "only here first well most then propose proposed however via across without within they "
    "them other through each what does do existing achieve achieves significantly work"
)
_STOP = frozenset(_STOP_WORDS.split())


def words(text: str) -> list[str]:
    """Lower-cased words of three letters or more, without the most common ones."""
    return [w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP]


def paper_text(paper: Paper) -> str:
    # The title says what a paper is about most densely: it counts twice.
    return f"{paper.title}\n{paper.title}\n{paper.abstract}"


@dataclass
class Vectors:
    """Papers as L2-normalised tf-idf rows of a sparse (CSR) matrix."""

    ids: list[str]
    indptr: np.ndarray  # row i is data[indptr[i]:indptr[i + 1]]
    indices: np.ndarray  # term numbers
    data: np.ndarray  # weights
    vocabulary: int

    @classmethod
    def build(cls, papers: Sequence[Paper]) -> Vectors:
        terms: dict[str, int] = {}
        rows: list[Counter[int]] = []
        for paper in papers:
            counts = Counter(terms.setdefault(w, len(terms)) for w in words(paper_text(paper)))
            rows.append(counts)
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.fromiter((t for r in rows for t in r), dtype=np.int32, count=int(indptr[-1]))
        counts = np.fromiter(
            (c for r in rows for c in r.values()), dtype=np.float32, count=int(indptr[-1])
        )
        df = np.bincount(indices, minlength=len(terms)).astype(np.float32)
        idf = np.log((1 + len(rows)) / (1 + df)) + 1
        data = (1 + np.log(counts)) * idf[indices]  # sublinear tf
        norms = np.sqrt(np.add.reduceat(data * data, indptr[:-1])) if len(data) else data
        norms = np.where(lengths > 0, norms if len(data) else 0, 1)
        data /= np.repeat(norms, lengths).astype(np.float32)
        return cls([p.id for p in papers], indptr, indices, data, len(terms))

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.indptr[i], self.indptr[i + 1]
        return self.indices[start:end], self.data[start:end]

    def dense(self, rows: Sequence[int]) -> np.ndarray:
        """The mean of ``rows`` as a dense vector over the vocabulary."""
        out = np.zeros(self.vocabulary, dtype=np.float32)
        for i in rows:
            idx, val = self.row(i)
            out[idx] += val
        return out / max(1, len(rows))

    def scores(self, weights: np.ndarray) -> np.ndarray:
        """Each row's dot product with a dense weight vector, in one pass."""
        products = weights[self.indices] * self.data
        out = np.zeros(len(self.ids), dtype=np.float32)
        nonempty = np.diff(self.indptr) > 0
        if products.size:
            sums = np.add.reduceat(products, self.indptr[:-1][nonempty])
            out[nonempty] = sums
        return out

    def similarity(self, a: int, b: int) -> float:
        ia, va = self.row(a)
        ib, vb = self.row(b)
        common, pa, pb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
        return float(np.dot(va[pa], vb[pb])) if len(common) else 0.0


def rocchio(vectors: Vectors, up: Sequence[int], down: Sequence[int]) -> np.ndarray:
    """The channel's profile: toward what it voted up, away from what it voted down."""
    weights = vectors.dense(up)
    if down:
        weights -= DOWN_WEIGHT * vectors.dense(down)
    return weights


def logistic(
    vectors: Vectors, up: Sequence[int], down: Sequence[int], steps: int = 40
) -> np.ndarray:
    """arxiv-sanity-lite's way: the up-votes against every other paper (down-votes weigh
    more), here a class-balanced logistic regression by gradient descent. Kept for the
    benchmark that chose ``rocchio`` over it."""
    n = len(vectors.ids)
    y = np.zeros(n, dtype=np.float32)
    y[list(up)] = 1
    sample = np.full(n, 1.0 / max(1, n - len(up)), dtype=np.float32)
    sample[list(down)] *= 5
    sample[list(up)] = 1.0 / max(1, len(up))
    weights = np.zeros(vectors.vocabulary, dtype=np.float32)
    lengths = np.diff(vectors.indptr)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-vectors.scores(weights)))
        g = (p - y) * sample
        grad = np.zeros_like(weights)
        np.add.at(grad, vectors.indices, vectors.data * np.repeat(g, lengths))
        weights -= 8.0 * grad + 1e-4 * weights
    return weights


@dataclass(frozen=True)
class Pick:
    paper: Paper
    score: float
    like: Paper | None  # the up-voted paper it is most like


def recommend(
    candidates: Sequence[Paper],
    liked: Sequence[Paper],
    disliked: Sequence[Paper],
    n: int,
    vectors: Vectors | None = None,
) -> list[Pick]:
    """The ``n`` candidates most like ``liked`` and unlike ``disliked``, best first, each
    with the up-voted paper it is most like. Voted papers are never candidates.

    ``vectors`` may be given when they were built before over exactly
    ``[*candidates, *liked, *disliked]`` (a round scoring many channels on one week)."""
    if vectors is None:
        vectors = Vectors.build([*candidates, *liked, *disliked])
    first_up = len(candidates)
    up = range(first_up, first_up + len(liked))
    down = range(first_up + len(liked), first_up + len(liked) + len(disliked))
    scored = vectors.scores(rocchio(vectors, up, down))[: len(candidates)]
    voted = {p.id for p in (*liked, *disliked)}
    order = np.argsort(-scored, kind="stable")
    picks: list[Pick] = []
    for i in order:
        if len(picks) >= n:
            break
        paper = candidates[int(i)]
        if paper.id in voted:
            continue
        best = max(up, key=lambda u: vectors.similarity(int(i), u), default=None)
        like = liked[best - first_up] if best is not None else None
        picks.append(Pick(paper, float(scored[i]), like))
    return picks
