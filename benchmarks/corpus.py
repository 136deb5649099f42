"""A deterministic synthetic arXiv: the metadata snapshot format, realistic words and lengths.

The same ``(count, seed)`` always gives the same bytes, so every run of every machine searches
the same papers. What makes it realistic enough for search timings:

* word frequencies follow Zipf's law over a vocabulary of real function words, real
  scientific words per subject and a long tail of made-up words (real corpora have
  hundreds of thousands of rare terms, which is what makes rare-term queries fast);
* each paper has a subject (its primary category) whose words and phrases it favours, so
  phrases such as "neural network" occur in the right papers and terms co-occur;
* lengths follow the snapshot: titles of 5-20 words, abstracts of about 150 words
  (30-350), 1-12 authors with an occasional collaboration of hundreds;
* ids, versions (RFC 2822 dates) and update dates rise with time from 1991 to 2025, with
  old-style ids (``hep-th/9901001``) before April 2007, as in the real file.

Run ``python -m benchmarks.corpus N FILE`` to write N papers (``.gz`` compresses).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import itertools
import json
import math
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks import word_frequencies


def _split(words: str) -> list[str]:
    return words.split()


FUNCTION_WORDS = _split(
    "the of and in to a we is for that this on with by are as an be from our which it "
    "these can using at show also based two not results has or new their its paper have "
    "method approach than such both between over into one model data where when how more "
    "used present while under all only here first well most then time high large problem "
    "study different non each well through case provide further find number show proposed "
    "different present analysis order propose performance general effect"
)

GENERAL_WORDS = _split(
    "framework novel efficient robust significant experimental theoretical numerical "
    "function structure system systems properties field energy state states process "
    "models methods algorithm algorithms approach approaches dynamics simulation "
    "simulations measurement measurements distribution distributions parameter parameters "
    "space condition conditions finite small strong effects observed demonstrate obtained "
    "investigate derived evidence consistent compared improved accuracy estimate "
    "estimation framework error errors bound bounds optimal linear nonlinear stability "
    "behavior behaviour generalization scale scaling regime limit local global spectral "
    "density correlation correlations symmetry transition phase phases learning training "
    "network networks neural deep inference prediction predictions quantum classical "
    "physical mechanism mechanisms experiments experiment dataset datasets benchmark "
    "benchmarks efficiently evaluation evaluate application applications technique "
    "techniques computational complexity problems solution solutions equation equations "
    "theory theories recent recently previous framework"
)

# Subject words and phrases, keyed by the primary categories they belong to.
SUBJECTS: dict[str, tuple[tuple[str, ...], str]] = {
    "cs.LG": (
        ("cs.LG", "stat.ML", "cs.AI"),
        "gradient descent stochastic optimization loss regularization overfitting "
        "convolutional recurrent attention transformer transformers embedding embeddings "
        "representation representations supervised unsupervised reinforcement policy reward "
        "agent agents federated privacy adversarial robustness classifier classification "
        "clustering kernel bayesian variational autoencoder generative diffusion sampling "
        "batch epoch hyperparameter pretraining finetuning contrastive graph graphs node "
        "nodes sparse pruning quantization distillation latent manifold|neural network;"
        "deep learning;reinforcement learning;gradient descent;graph neural network;"
        "diffusion models;federated learning;large language model;variational inference",
    ),
    "cs.CL": (
        ("cs.CL", "cs.AI", "cs.LG"),
        "language languages text token tokens translation multilingual corpus corpora "
        "sentence sentences semantic syntactic parsing summarization dialogue question "
        "answering retrieval prompt prompting instruction reasoning chain thought "
        "hallucination alignment annotation lexical morphological speech entity entities "
        "sentiment named tagging encoder decoder vocabulary llm llms benchmark|language "
        "model;large language models;machine translation;question answering;named entity "
        "recognition;chain of thought;in-context learning;retrieval augmented generation",
    ),
    "cs.CV": (
        ("cs.CV", "cs.LG", "eess.IV"),
        "image images video segmentation detection object objects pixel resolution "
        "camera scene scenes depth point cloud visual vision recognition pose tracking "
        "rendering texture synthesis generation 3d multimodal caption captioning "
        "annotation augmentation backbone|object detection;semantic segmentation;"
        "image generation;vision transformer;point cloud;neural radiance fields",
    ),
    "quant-ph": (
        ("quant-ph", "cond-mat.str-el", "math-ph"),
        "qubit qubits entanglement entangled decoherence coherence superposition gate "
        "gates circuit circuits photon photons photonic measurement hamiltonian "
        "fidelity noise channel channels error correction teleportation cryptography "
        "key distribution tomography squeezed cavity trapped ion ions annealing "
        "variational eigensolver|quantum computing;quantum error correction;quantum key "
        "distribution;quantum entanglement;quantum circuits;trapped ions;quantum annealing",
    ),
    "hep-th": (
        ("hep-th", "gr-qc", "hep-ph"),
        "string strings gauge supersymmetry supersymmetric brane branes duality "
        "conformal holographic holography anomaly anomalies boundary bulk dimension "
        "dimensions compactification moduli instanton instantons soliton solitons "
        "lagrangian renormalization perturbative nonperturbative vacuum inflation "
        "cosmological entropy horizon|string theory;gauge theory;conformal field theory;"
        "black hole;anti de sitter;yang mills;quantum field theory;dark energy",
    ),
    "astro-ph": (
        ("astro-ph.GA", "astro-ph.CO", "astro-ph.HE", "astro-ph.SR"),
        "galaxy galaxies star stars stellar cluster clusters halo halos redshift "
        "luminosity emission spectra spectroscopic telescope survey photometric "
        "supernova supernovae accretion jet jets magnetic solar planet planets "
        "exoplanet exoplanets cosmic ray rays gravitational lensing dust gas|dark matter;"
        "star formation;active galactic nuclei;gravitational waves;cosmic microwave "
        "background;black hole;neutron star;milky way",
    ),
    "cond-mat": (
        ("cond-mat.str-el", "cond-mat.mes-hall", "cond-mat.mtrl-sci", "cond-mat.stat-mech"),
        "electron electrons spin spins lattice magnetic superconducting "
        "superconductivity topological insulator insulators band bands fermi phonon "
        "phonons crystal thin film films interface graphene semiconductor doping "
        "disorder localization transport conductivity ferromagnetic antiferromagnetic "
        "hubbard|topological insulator;phase transition;density functional theory;"
        "quantum hall effect;spin orbit coupling;monte carlo",
    ),
    "math": (
        ("math.AG", "math.CO", "math.PR", "math.AP", "math.NT", "math.DG", "math.OC"),
        "theorem prove proof lemma conjecture algebra algebraic group groups manifold "
        "manifolds operator operators polynomial polynomials graph graphs integer prime "
        "primes curve curves surface surfaces boundary sobolev hilbert banach measure "
        "random walk markov martingale convex inequality inequalities asymptotic "
        "invariant invariants homology cohomology|random walk;lie algebra;elliptic curves;"
        "partial differential equations;markov chain;convex optimization",
    ),
}

ALL_CATEGORIES = sorted(
    {c for cats, _ in SUBJECTS.values() for c in cats}
    | {
        "cs.DS",
        "cs.IT",
        "math.IT",
        "cs.CR",
        "cs.RO",
        "cs.SE",
        "physics.optics",
        "nucl-th",
        "econ.EM",
        "q-bio.NC",
        "eess.SP",
        "physics.comp-ph",
    }
)
SUBJECT_WEIGHTS = {
    "cs.LG": 18,
    "cs.CL": 9,
    "cs.CV": 11,
    "quant-ph": 8,
    "hep-th": 8,
    "astro-ph": 14,
    "cond-mat": 14,
    "math": 18,
}
OLD_ARCHIVES = {
    "cs.LG": "cs",
    "cs.CL": "cs",
    "cs.CV": "cs",
    "quant-ph": "quant-ph",
    "hep-th": "hep-th",
    "astro-ph": "astro-ph",
    "cond-mat": "cond-mat",
    "math": "math",
}

FIRST_NAMES = _split(
    "Wei Jian Yu Li Xin Hao Ming Anna Maria Elena Sofia Laura Julia Sarah Emily Olga "
    "David Michael John James Robert Daniel Thomas Peter Paul Andrew Alexander Ivan "
    "Sergei Dmitry Hiroshi Takashi Yuki Kenji Raj Amit Priya Arjun Rahul Ahmed Omar "
    "Fatima Carlos Jose Luis Juan Pablo Marco Luca Giulia Francesco Pierre Jean Marie "
    "Hans Klaus Stefan Lars Erik Jonathan Ashish Yoshua Geoffrey Ajay Noam"
)
LAST_NAMES = _split(
    "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo Lin Smith "
    "Johnson Williams Brown Jones Miller Davis Garcia Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Taylor Thomas Moore Jackson Martin Lee Kim Park Choi Nguyen "
    "Tran Sato Suzuki Takahashi Tanaka Watanabe Ito Kumar Singh Sharma Gupta Patel Ivanov "
    "Petrov Smirnov Muller Schmidt Schneider Fischer Weber Meyer Rossi Russo Ferrari "
    "Esposito Bianchi Dubois Durand Lefebvre Ho Vaswani Bengio Hinton Jain Shazeer Silva "
    "Santos Oliveira Costa Novak Horvat Kowalski Nowak"
)

START = datetime(1991, 8, 1, tzinfo=UTC)
END = datetime(2025, 12, 31, tzinfo=UTC)
NEW_STYLE_FROM = datetime(2007, 4, 1, tzinfo=UTC)


# Bump when the generator changes, so cached corpora are made again.
VERSION = 2
TAIL_BITS = 22
TAIL_TABLE = 1 << TAIL_BITS
SUBJECT_TABLE = 1 << 16


def _zipf(n: int, s: float, offset: float = 2.7) -> list[float]:
    """Zipf-Mandelbrot probabilities of ranks 1..n."""
    weights = [1.0 / (rank + offset) ** s for rank in range(1, n + 1)]
    total = sum(weights)
    return [w / total for w in weights]


def _table(items: list, probabilities: list[float], size: int) -> list:
    """``items`` repeated about ``p * size`` times each (at least once), exactly ``size`` long,
    for uniform draws by index."""
    table = []
    for item, p in zip(items, probabilities, strict=True):
        table.extend([item] * max(1, round(p * size)))
    del table[size:]
    table.extend(table[: size - len(table)])  # rounding left a few slots: fill, same mix
    return table


def _made_up_words(rng: random.Random, count: int) -> list[str]:
    """Pronounceable fake words: the long tail of names, symbols and jargon."""
    onsets = _split("b c d f g h j k l m n p r s t v w z br cr dr gr pr st tr ch sh th ph")
    vowels = _split("a e i o u ai ea io ou")
    codas = ["", "", "n", "r", "s", "l", "m", "x", "t", "ng", "ck"]
    words: set[str] = set()
    while len(words) < count:
        syllables = rng.choice((2, 2, 3, 3, 3, 4))
        words.add(
            "".join(
                rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
                for _ in range(syllables)
            )
        )
    return sorted(words)


@functools.cache
def _tail(seed: int, count: int) -> tuple[list[str], list[str]]:
    """The long tail and its draw table: the slow part of setting up, made once per seed."""
    tail = _made_up_words(random.Random(seed + 1), count)
    random.Random(seed + 2).shuffle(tail)
    return tail, _table(tail, _zipf(len(tail), 1.05, offset=50), TAIL_TABLE)


class Corpus:
    """Draws papers; one instance per seed, papers in id (time) order."""

    def __init__(
        self, count: int, seed: int = 42, tail_words: int = 200_000, skew: str = "real"
    ) -> None:
        self.count = count
        self.skew = skew
        self.rng = random.Random(seed)
        self.tail, self.tail_table = _tail(seed, tail_words)
        self.common = list(dict.fromkeys(FUNCTION_WORDS + GENERAL_WORDS))
        self.inserted: _Inserted | None = None
        if skew != "kind":
            self.inserted = _Inserted(skew)
            # The table's words come from it alone (but for the few nearly every paper has,
            # drawn as running text), so their document frequencies are the table's; words
            # it does not list are in fewer than 5 % of real papers, so only the subjects'
            # own words and the long tail remain.
            self.common = []
        self.subjects = list(SUBJECTS)
        self.subject_cum = list(itertools.accumulate(SUBJECT_WEIGHTS[s] for s in self.subjects))
        # Drawing from flat tables (a word repeated in proportion to its probability) is
        # ten times faster than weighted draws, which matters for a million papers.
        common_p = [0.5 * p for p in _zipf(len(self.common), 1.05)]
        self.tables: dict[str, list[str | None]] = {}
        self.phrases: dict[str, list[str]] = {}
        for subject, (_, text) in SUBJECTS.items():
            words, phrases = text.split("|")
            vocab = list(dict.fromkeys(words.split()))
            if self.inserted is not None:
                vocab = [w for w in vocab if w not in self.inserted.words]
            subject_p = [0.32 * p for p in _zipf(len(vocab), 0.9)]
            # None stands for "a word from the long tail", drawn from the tail table.
            items, weights = [*self.common, *vocab, None], [*common_p, *subject_p, 0.18]
            if self.inserted is not None:  # running text at its real share of all words
                running = self.inserted.running_in_base
                rest = 1 - sum(running.values())
                total = sum(weights)
                items += list(running)
                weights = [w * rest / total for w in weights] + list(running.values())
            self.tables[subject] = _table(items, weights, SUBJECT_TABLE)
            self.phrases[subject] = phrases.split(";")
        self.span = (END - START).total_seconds()

    def _words(self, subject: str, n: int) -> list[str]:
        rng = self.rng
        table, tail = self.tables[subject], self.tail_table
        # One big random number cut into 16- and 32-bit draws: no Python call per word.
        picks = memoryview(rng.getrandbits(16 * n).to_bytes(2 * n, "little")).cast("H")
        tails = memoryview(rng.getrandbits(32 * n).to_bytes(4 * n, "little")).cast("I")
        shift = 32 - TAIL_BITS
        words = [
            w if w is not None else tail[t >> shift]
            for w, t in zip([table[i] for i in picks], tails, strict=True)
        ]
        for _ in range(rng.randrange(0, 4)):  # the subject's set phrases, kept whole
            at = rng.randrange(len(words) + 1)
            words[at:at] = rng.choice(self.phrases[subject]).split()
        return words

    def _authors(self) -> list[tuple[str, str]]:
        rng = self.rng
        count = 300 if rng.random() < 0.001 else min(12, max(1, int(rng.expovariate(1 / 3.5))))
        return [(rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES)) for _ in range(count)]

    def _id(self, index: int, when: datetime, subject: str, counters: dict) -> str:
        if when < NEW_STYLE_FROM:
            archive = OLD_ARCHIVES[subject]
            key = (archive, when.year, when.month)
            counters[key] = counters.get(key, 0) + 1
            return f"{archive}/{when:%y%m}{counters[key]:03d}"
        key = ("new", when.year, when.month)
        counters[key] = counters.get(key, 0) + 1
        width = 4 if when.year < 2015 else 5
        return f"{when:%y%m}.{counters[key]:0{width}d}"

    def papers(self) -> Iterator[dict]:
        rng = self.rng
        counters: dict = {}
        extra: list[list[str]] = []
        for index in range(self.count):
            if self.inserted is not None and index % INSERT_BATCH == 0:
                extra = self.inserted.draw(rng, min(INSERT_BATCH, self.count - index))
            # Submissions grow over the years: time runs as the square root of the index.
            fraction = ((index + rng.random()) / self.count) ** 0.5
            when = START + timedelta(seconds=fraction * self.span)
            subject = rng.choices(self.subjects, cum_weights=self.subject_cum)[0]
            words = extra[index % INSERT_BATCH] if extra else []
            yield self._paper(index, when, subject, counters, words)

    def _paper(
        self, index: int, when: datetime, subject: str, counters: dict, inserted: list[str] = ()
    ) -> dict:
        rng = self.rng
        cats = SUBJECTS[subject][0]
        categories = [rng.choice(cats)]
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            extra = rng.choice(cats if rng.random() < 0.7 else ALL_CATEGORIES)
            if extra not in categories:
                categories.append(extra)
        n_title = rng.randint(5, 16)
        n_abstract = max(30, min(350, int(rng.gauss(150, 45))))
        if inserted:  # one in eight of the table's words goes in the title, as in real papers
            in_title = inserted[::8]
            title_words = _mixed(
                rng, self._words(subject, max(2, n_title - len(in_title))), in_title
            )
            in_abstract = [w for i, w in enumerate(inserted) if i % 8]
            # Real abstracts (of ML papers) are longer than the snapshot's average: keep
            # the words the table does not list at their real count, wherever it leaves us.
            n_base = max(20, round(n_abstract * self.inserted.base_words / 150))
            base = self._words(subject, n_base)
            abstract_words = _mixed(rng, base, in_abstract)
        else:
            title_words = self._words(subject, n_title)
            abstract_words = self._words(subject, n_abstract)
        title = " ".join(title_words).capitalize()
        sentences, start = [], 0
        while start < len(abstract_words):
            end = start + rng.randint(12, 30)
            sentences.append(" ".join(abstract_words[start:end]).capitalize() + ".")
            start = end
        # The snapshot wraps lines and indents abstracts, as arXiv's listing does.
        abstract = (
            "  "
            + "\n".join(" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2))
            + "\n"
        )
        authors = self._authors()
        versions = []
        created = when
        for v in range(1, rng.choice((1, 1, 1, 2, 2, 3)) + 1):
            versions.append(
                {"version": f"v{v}", "created": created.strftime("%a, %-d %b %Y %H:%M:%S GMT")}
            )
            created += timedelta(days=rng.randint(5, 200))
        update = min(created, END)
        return {
            "id": self._id(index, when, subject, counters),
            "submitter": f"{authors[0][1]} {authors[0][0]}",
            "authors": _author_string(authors),
            "title": title,
            "comments": f"{rng.randint(4, 40)} pages, {rng.randint(1, 12)} figures",
            "journal-ref": None,
            "doi": None,
            "report-no": None,
            "categories": " ".join(categories),
            "license": None,
            "abstract": abstract,
            "versions": versions,
            "update_date": update.strftime("%Y-%m-%d"),
            "authors_parsed": [[last, first, ""] for last, first in authors],
        }


INSERT_BATCH = 1000
HARSH_FACTOR = 2.2  # "training" 99 %, "model" ~100 %, "data" 71 %: the corpus issue 16 measured


class _Inserted:
    """The words and pairs of the measured table (``word_frequencies.json``), drawn so that
    each is in its share of papers, as often per paper as measured."""

    def __init__(self, skew: str) -> None:
        if skew not in ("real", "harsh"):
            raise ValueError(f"unknown skew {skew!r}: real, harsh or kind")
        table = word_frequencies.load()
        scale = HARSH_FACTOR if skew == "harsh" else 1.0
        self.running: dict[str, float] = table["running_text"]
        self.words = set(table["words"])
        words = table["words"]
        # (text, probability a paper has it, mean count when it does); a pair is one item
        # so that it stays whole. A word a pair brings needs a smaller chance of its own;
        # a pair that would bring a word more often than measured is left out.
        self.items: list[tuple[str, float, float]] = []
        brought: dict[str, float] = {}
        for pair, (df, tf) in table["pairs"].items():
            p = min(0.99, df * scale)
            after = {w: 1 - (1 - brought.get(w, 0.0)) * (1 - p) for w in pair.split()}
            if all(after[w] <= min(0.99, words[w][0] * scale) for w in after):
                self.items.append((pair, p, tf))
                brought.update(after)
        for word, (df, tf) in words.items():
            if word in self.running:
                continue
            p = min(0.99, df * scale)
            own = 1 - (1 - p) / (1 - brought.get(word, 0.0))
            if own > 0:
                self.items.append((word, own, tf))
        # Running text is drawn with the subject's words and the long tail, which are about
        # a third of all words once the table's words are in.
        inserted = sum(p * tf * len(text.split()) for text, p, tf in self.items)
        # (The harsh table brings more words than a real abstract has: its papers are longer.)
        self.base_words = max(60.0, table["mean_words"] - inserted)
        factor = (self.base_words + inserted) / self.base_words
        factor = min(factor, 0.6 / sum(self.running.values()))
        self.running_in_base = {w: share * factor for w, share in self.running.items()}

    def draw(self, rng: random.Random, papers: int) -> list[list[str]]:
        """The inserted words of each of ``papers`` papers."""
        chosen: list[list[str]] = [[] for _ in range(papers)]
        everyone = range(papers)
        for text, p, tf in self.items:
            mean = papers * p
            k = round(rng.gauss(mean, math.sqrt(mean * (1 - p))))  # ~ binomial
            having = rng.sample(everyone, max(0, min(papers, k)))
            again = rng.choices(having, k=round(len(having) * (tf - 1))) if having else []
            for i in having:
                chosen[i].append(text)
            for i in again:
                chosen[i].append(text)
        return chosen


def _mixed(rng: random.Random, words: list[str], extra: list[str]) -> list[str]:
    """``words`` and ``extra`` in one random order (pairs are one item: they stay whole).
    Sorting by random keys is a C loop; inserting item by item was most of the time."""
    both = words + extra
    n = len(both)
    keys = memoryview(rng.getrandbits(32 * n).to_bytes(4 * n, "little")).cast("I")
    return [both[i] for i in sorted(range(n), key=keys.__getitem__)]


def _author_string(authors: list[tuple[str, str]]) -> str:
    names = [f"{first} {last}" for last, first in authors]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def write_snapshot(path: Path, count: int, seed: int = 42, skew: str = "real") -> Path:
    """Write ``count`` papers to ``path`` (gzip if it ends in .gz); atomic, via a temp file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(tmp, "wt", encoding="utf-8") as out:
        for paper in Corpus(count, seed, skew=skew).papers():
            out.write(json.dumps(paper, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path


def ensure_snapshot(directory: Path, count: int, seed: int = 42, skew: str = "real") -> Path:
    """The cached snapshot of ``count`` papers, generated on first use."""
    path = directory / f"arxiv-synthetic-v{VERSION}-{skew}-{count}-seed{seed}.jsonl"
    if not path.exists():
        print(f"generating {count:,} synthetic papers into {path} (once)...", file=sys.stderr)
        write_snapshot(path, count, seed, skew)
    return path


@functools.cache  # the words it keeps are few; the tail it draws them from is freed
def query_vocabulary(seed: int = 42, tail_words: int = 200_000) -> dict[str, list[str]]:
    """Words to build benchmark queries from: rare tail words, common words, phrases.

    Made without a ``Corpus`` (whose draw tables take 60 MB), so that a benchmark that
    measures its own memory does not count them."""
    tail = _made_up_words(random.Random(seed + 1), tail_words)
    random.Random(seed + 2).shuffle(tail)
    phrases = [p for _, text in SUBJECTS.values() for p in text.split("|")[1].split(";")]
    return {
        "rare": tail[40_000:40_100],
        "mid": tail[50:150],
        "common": list(dict.fromkeys(FUNCTION_WORDS + GENERAL_WORDS))[:60],
        "phrases": phrases,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--skew",
        choices=("real", "harsh", "kind"),
        default="real",
        help="common words as common as in real ML abstracts (real), 2.2x as common "
        "(harsh), or the round-1 corpus, kinder to them (kind)",
    )
    args = parser.parse_args(argv)
    write_snapshot(args.path, args.count, args.seed, args.skew)
    return 0


if __name__ == "__main__":
    sys.exit(main())
