"""How common words are in real paper abstracts: the table ``benchmarks.corpus`` generates to.

The table (``word_frequencies.json`` beside this file) was measured once from the titles and
abstracts of 99 real Hugging Face daily papers (``/api/daily_papers`` for 2026-05-13 and
2026-06-01, the samples the project's tests copy their fixtures from), with

    python -m benchmarks.word_frequencies hf_daily_papers_2026-05-13.json \\
        hf_daily_papers_2026-06-01.json > benchmarks/word_frequencies.json

Words are runs of letters and digits, lower-cased and not stemmed (``model`` and ``models``
are two words), which is what a user types. For each word seen in at least 5 % of the papers
it keeps its document frequency (the share of papers whose title or abstract has it) and
its mean count in those papers; the same for two-word sequences; and, for the words nearly
every paper has, their share of all words (the generator draws those as running text).
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import sys
from collections import Counter
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "word_frequencies.json"
MIN_DF = 0.05
RUNNING_TEXT_DF = 0.85  # words at least this common are drawn as running text, not inserted
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def measure(documents: list[str]) -> dict:
    """The table for ``documents`` (each a title and abstract)."""
    df: Counter[str] = Counter()
    tf: Counter[str] = Counter()
    pair_df: Counter[str] = Counter()
    pair_tf: Counter[str] = Counter()
    tokens = 0
    for text in documents:
        ws = words(text)
        tokens += len(ws)
        tf.update(ws)
        df.update(set(ws))
        pairs = [f"{a} {b}" for a, b in itertools.pairwise(ws)]
        pair_tf.update(pairs)
        pair_df.update(set(pairs))
    n = len(documents)

    def table(d: Counter[str], t: Counter[str]) -> dict[str, list[float]]:
        return {
            w: [round(c / n, 4), round(t[w] / c, 2)] for w, c in d.most_common() if c / n >= MIN_DF
        }

    return {
        "documents": n,
        "mean_words": round(tokens / n, 1),
        "words": table(df, tf),
        "pairs": table(pair_df, pair_tf),
        "running_text": {
            w: round(tf[w] / tokens, 5) for w, c in df.items() if c / n >= RUNNING_TEXT_DF
        },
    }


def hf_documents(paths: list[Path]) -> list[str]:
    """Title and abstract of every paper in Hugging Face daily-papers responses."""
    seen: dict[str, str] = {}
    for path in paths:
        for item in json.loads(path.read_text()):
            paper = item["paper"]
            seen[paper["id"]] = f"{paper['title']}\n{paper['summary']}"
    return list(seen.values())


@functools.cache
def load() -> dict:
    return json.loads(TABLE.read_text())


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    table = measure(hf_documents(paths))
    table = {
        "source": "titles and abstracts of Hugging Face daily papers: "
        + ", ".join(p.name for p in paths),
        "how": "python -m benchmarks.word_frequencies FILES (see its docstring)",
        **table,
    }
    json.dump(table, sys.stdout, indent=0)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
