"""The recommendation table: does ``recommend`` find what a channel likes, and how fast.

Simulated channels with known topic preferences vote; precision@10 of the week's papers is
measured for the taste model paperboy uses (tf-idf + Rocchio profile), the logistic
regression it was chosen over (arxiv-sanity-lite's recipe: voted papers against all the
others), and two baselines in the same run: HF-upvote popularity and random.

* synthetic: papers from ``benchmarks.corpus`` with a known subject each (8 subjects);
  a channel likes one or two subjects and dislikes one, votes 10 papers up and 5 down
  from a past week, and a paper of the next week is relevant when it is of a liked subject.
  HF upvotes are drawn independently of subject (log-normal), as popularity is not taste.
* real: the two recorded Hugging Face Daily Papers days (copied into benchmarks/data/);
  a channel follows a topic word (agents, video, diffusion, ...), votes up 4 papers of one
  day that mention it and down 2 popular ones that do not; relevant papers of the other day
  are those mentioning the word. Real HF upvotes are the popularity baseline.

Timing: train + score one channel on N candidate papers, after the candidates' vectors are
built (once per round for all channels); building them is reported on its own.
"""

from __future__ import annotations

import json
import random
import re
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bot.model.paper import Paper
from bot.sources.hf import parse_daily_list
from bot.taste import Vectors, logistic, rocchio

DATA = Path(__file__).resolve().parent / "data"
REAL_DAYS = ("hf_daily_papers_2026-05-13.json", "hf_daily_papers_2026-06-01.json")
REAL_TOPICS = ("agent", "video", "diffusion", "reasoning", "memory", "image", "reinforcement")
K = 10

Model = Callable[[Vectors, Sequence[int], Sequence[int]], np.ndarray]
MODELS: dict[str, Model] = {"tf-idf + Rocchio (paperboy)": rocchio, "tf-idf + logistic": logistic}


@dataclass
class Precision:
    by_method: dict[str, list[float]]

    def mean(self, method: str) -> float:
        return statistics.fmean(self.by_method[method])


def synthetic_papers(count: int, seed: int) -> list[tuple[Paper, str]]:
    """``count`` papers of the benchmark corpus, each with the subject it was drawn from."""
    from benchmarks.corpus import Corpus

    corpus = Corpus(count, seed=seed, tail_words=20_000)
    rng, counters = corpus.rng, {}
    when = datetime(2025, 12, 1, tzinfo=UTC)
    out = []
    for i in range(count):
        subject = rng.choices(corpus.subjects, cum_weights=corpus.subject_cum)[0]
        raw = corpus._paper(i, when, subject, counters)
        upvotes = int(rng.lognormvariate(2.5, 1.2))
        paper = Paper(f"{seed}.{i:06d}", raw["title"], raw["abstract"], upvotes=upvotes)
        out.append((paper, subject))
    return out


def precision_at_k(ranked: Sequence[Paper], relevant: set[str]) -> float:
    return sum(p.id in relevant for p in ranked[:K]) / K


def ranked_by(
    model: Model, week: list[Paper], liked: list[Paper], disliked: list[Paper]
) -> list[Paper]:
    vectors = Vectors.build([*week, *liked, *disliked])
    n = len(week)
    up = range(n, n + len(liked))
    down = range(n + len(liked), n + len(liked) + len(disliked))
    scores = vectors.scores(model(vectors, up, down))[:n]
    return [week[int(i)] for i in np.argsort(-scores, kind="stable")]


def evaluate(
    week: list[Paper],
    channels: list[tuple[list[Paper], list[Paper], set[str]]],
    rng: random.Random,
) -> Precision:
    """``week`` in popularity order; each channel is (liked, disliked, relevant ids)."""
    result: dict[str, list[float]] = {name: [] for name in MODELS}
    result["HF upvotes (popularity)"], result["random"] = [], []
    for liked, disliked, relevant in channels:
        for name, model in MODELS.items():
            result[name].append(precision_at_k(ranked_by(model, week, liked, disliked), relevant))
        result["HF upvotes (popularity)"].append(precision_at_k(week, relevant))
        result["random"].append(precision_at_k(rng.sample(week, len(week)), relevant))
    return Precision(result)


def by_popularity(papers: list[Paper]) -> list[Paper]:
    return sorted(papers, key=lambda p: p.upvotes or 0, reverse=True)


def synthetic_precision(week_size: int, channels: int, seed: int = 5) -> Precision:
    rng = random.Random(seed)
    past = synthetic_papers(week_size, seed)
    week_tagged = synthetic_papers(week_size, seed + 1)
    subjects = sorted({s for _, s in past})
    week = by_popularity([p for p, _ in week_tagged])
    sims = []
    for _ in range(channels):
        liked_subjects = set(rng.sample(subjects, rng.choice((1, 2))))
        disliked_subject = rng.choice([s for s in subjects if s not in liked_subjects])
        liked = rng.sample([p for p, s in past if s in liked_subjects], 10)
        disliked = rng.sample([p for p, s in past if s == disliked_subject], 5)
        relevant = {p.id for p, s in week_tagged if s in liked_subjects}
        sims.append((liked, disliked, relevant))
    return evaluate(week, sims, rng)


def mentions(paper: Paper, topic: str) -> bool:
    return re.search(rf"\b{topic}", f"{paper.title} {paper.abstract}".lower()) is not None


def real_precision(seed: int = 5) -> Precision:
    rng = random.Random(seed)
    days = [parse_daily_list(json.loads((DATA / name).read_text())) for name in REAL_DAYS]
    total: dict[str, list[float]] = {}
    for train, test in ((days[0], days[1]), (days[1], days[0])):
        week = by_popularity(test)
        sims = []
        for topic in REAL_TOPICS:
            on_topic = [p for p in train if mentions(p, topic)]
            off_topic = by_popularity([p for p in train if not mentions(p, topic)])
            relevant = {p.id for p in test if mentions(p, topic)}
            if len(on_topic) < 3 or not relevant:
                continue
            sims.append((rng.sample(on_topic, min(4, len(on_topic))), off_topic[:2], relevant))
        for name, values in evaluate(week, sims, rng).by_method.items():
            total.setdefault(name, []).extend(values)
    return Precision(total)


@dataclass
class Timing:
    candidates: int
    build_seconds: float  # vectors of the candidates, once per round
    channel_seconds: float  # train + score one channel (median)
    vectors_mb: float  # the vectors' arrays
    peak_mb: float  # growth of the peak resident set while building and scoring


def timing(count: int, channels: int = 5, seed: int = 9) -> Timing:
    tagged = synthetic_papers(count + 15, seed)
    papers = [p for p, _ in tagged]
    del tagged
    rss_before = max_rss_mb()
    started = time.perf_counter()
    vectors = Vectors.build(papers)
    build = time.perf_counter() - started
    times = []
    for c in range(channels):
        liked = range(count + c % 5, count + 10)
        disliked = range(count + 10, count + 15)
        started = time.perf_counter()
        scores = vectors.scores(rocchio(vectors, liked, disliked))
        top = np.argpartition(-scores[:count], K)[:K]
        _ = [vectors.similarity(int(i), u) for i in top for u in liked]  # the "like …" reasons
        times.append(time.perf_counter() - started)
    peak = max(0.0, max_rss_mb() - rss_before)
    arrays = vectors.indptr.nbytes + vectors.indices.nbytes + vectors.data.nbytes
    return Timing(count, build, statistics.median(times), arrays / 1e6, peak)


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


WEEK_OF_ARXIV = 6_000  # about what arXiv announces in a week, plus HF's ~50 a day


def table_rows(quick: bool, row: Callable[..., object], log: Callable[[str], None]) -> list:
    """The recommendation rows of ``make bench`` (``row`` is benchmarks.run.Row)."""
    week, channels, scale = (300, 4, 2_000) if quick else (3_000, 30, 100_000)
    log(f"taste: {channels} simulated channels on a synthetic week of {week:,} papers")
    synthetic = synthetic_precision(week, channels)
    log("taste: simulated channels on the two recorded HF days")
    real = real_precision()
    rows = []
    for label, p in (
        (f"synthetic week of {week:,}, {channels} channels", synthetic),
        (f"real HF days, {len(real.by_method['random'])} channel-days", real),
    ):
        ours, popular = p.mean("tf-idf + Rocchio (paperboy)"), p.mean("HF upvotes (popularity)")
        ratio = ours / popular if popular else float("inf")
        rows.append(
            row(
                f"Recommend precision@10, {label}",
                f"{ours:.2f} (logistic {p.mean('tf-idf + logistic'):.2f})",
                "≥ 3× popularity",
                f"popularity {popular:.2f}, random {p.mean('random'):.2f}",
                f"{ratio:.1f}×",
                ratio >= 3,
            )
        )
    log(f"taste: train + score one channel on {WEEK_OF_ARXIV:,} and {scale:,} papers")
    for count in (WEEK_OF_ARXIV, scale):
        t = timing(count)
        at_million = t.channel_seconds * 1_000_000 / count
        rows.append(
            row(
                f"Taste: train + score one channel, {count:,} candidates",
                f"{t.channel_seconds * 1000:.0f} ms (1,000,000 by extrapolation: "
                f"{at_million:.2f} s)",
                "≤ 0.9 s at 1,000,000",
                f"vectors built once per round: {t.build_seconds:.1f} s",
                "—",
                at_million <= 0.9,
            )
        )
        rows.append(
            row(
                f"Taste: memory of {count:,} candidates' vectors",
                f"{t.vectors_mb:.0f} MB arrays, peak RSS +{t.peak_mb:.0f} MB",
                "report",
            )
        )
    return rows
