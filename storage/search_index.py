"""The full-text index of the papers table: tantivy, in a folder beside the SQLite file (on
PostgreSQL: a local folder per database, in each process's machine).

Why not SQLite FTS5: FTS5 ranks by scoring *every* match, so one common word over a million
papers takes 200-700 ms, and building it is three quarters of a bulk import. tantivy skips
whole blocks of postings that cannot reach the top hits (block-max WAND), answers the same
queries in milliseconds and indexes on a second core while Python parses.

SQLite stays the source of truth. Triggers append the rowid of every inserted, edited or
deleted paper to ``search_log`` in the same transaction as the change, whoever makes it
(the bot, an import, the sqlite-utils CLI). The index remembers the last log entry it has
applied (its *watermark*), and applies the newer ones before answering a search, so a
paper saved a moment ago is found. If the folder is missing, stale or from another
database, it is rebuilt from the table. On PostgreSQL the same log is followed by every
process into its own index; entries stay a day, and an index that fell further behind than
the log reaches is rebuilt.

A folder that breaks while in use (unreadable or corrupted files, deleted, swapped by another
process) is noticed by the next search: a changed folder is reopened, a broken one rebuilt
in a background thread from the table. Meanwhile searches raise ``SearchIndexRebuilding``,
which the bot turns into a clear answer: an exact search of the table instead would stall
the single-threaded bot for seconds per search on a large database, and a small one is
rebuilt in well under a second.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils
import tantivy

from bot.model.search_query import SearchQuery
from storage.sql import Database, as_database

log = logging.getLogger(__name__)

# Bump when the schema or the analysis below changes: old folders are then rebuilt.
INDEX_VERSION = 2
TEXT_ANALYZER = "paperboy_text"
CATEGORY_ANALYZER = "paperboy_category"
# Relative weight of a word in each field, as the FTS5 ranking had them (title weighs most).
FIELD_BOOSTS = {"title": 10.0, "abstract": 1.0, "authors": 3.0}
TEXT_FIELDS = tuple(FIELD_BOOSTS)
ALL_FIELDS = tuple(FIELD_BOOSTS.items())
AUTHOR_FIELD = (("authors", FIELD_BOOSTS["authors"]),)
# Hits looked at beyond ``limit`` so that ties can go to the newer paper.
TIE_WINDOW = 10
BM25_K1 = 1.2  # tantivy's
BOUND_SAFETY = 1.25  # margin on the score bound of the title-first shortcut
# Postings a search held to the newest papers scores (about 3 ms on this 2-core machine).
# A query is held only when ranking every paper would score HOLD_AT_LEAST times as many:
# holding it to most of the papers would save little and cost a union of most eras.
# Queries of rarer words are always ranked over every paper.
WORK_BUDGET = 100_000
HOLD_AT_LEAST = 2
PHRASE_COST = 10  # a phrase's position check, in postings (measured)
# A word alone in more papers than this is remembered: ranking it over every paper takes
# 8-12 ms at a million papers, and such words ("model", "data") are what people type most.
COMMON_WORD_PAPERS = 100_000
COMMON_WORDS_KEPT = 64  # answers remembered; each is a few rowids
ERA_BITS = 14  # 16,384 papers an era

SMALL_WRITER_HEAP = 20_000_000
BULK_WRITER_HEAP = 400_000_000
BULK_COMMIT_EVERY = 500_000  # documents; fewer commits, fewer small segments to merge
# Python parses on one core while tantivy indexes on both; more threads only contend.
BULK_THREADS = 2
# Up to this many papers a broken index is rebuilt on the spot (well under a second);
# above, in a background thread while searches answer "being rebuilt".
REBUILD_INLINE_MAX = 10_000


class SearchIndexRebuilding(Exception):
    """The index was found broken and is being rebuilt from the database; try again soon."""


def text_analyzer() -> tantivy.TextAnalyzer:
    # What FTS5's "porter unicode61 remove_diacritics 2" did: words of letters and digits,
    # case and accents folded, English suffixes stemmed.
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(100))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def category_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw())
        .filter(tantivy.Filter.lowercase())
        .build()
    )


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("rowid", indexed=True, fast=True)
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=TEXT_ANALYZER, index_option="position")
    builder.add_text_field("categories", tokenizer_name=CATEGORY_ANALYZER, index_option="basic")
    builder.add_integer_field("published", indexed=True, fast=True)  # YYYYMMDD, 0: unknown
    # Papers in runs of ERA_SIZE rowids, so a search can be held to the newest papers with a
    # term query, which tantivy's intersections are driven by (a range query is not).
    builder.add_integer_field("era", indexed=True)
    return builder.build()


def day_number(day: str) -> int:
    """``2024-01-31`` as 20240131; 0 for anything else."""
    digits = day.replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else 0


def make_document(
    rowid: int,
    title: str | None,
    abstract: str | None,
    authors: str | None,
    categories: str | None,
    published: str | None,
) -> tantivy.Document:
    # Other programs may leave NULLs where paperboy writes "". Authors are one value each,
    # so a phrase cannot run from one name into the next.
    return tantivy.Document(
        rowid=rowid,
        title=title or "",
        abstract=abstract or "",
        authors=(authors or "").split("\n"),
        categories=(categories or "").split() or [""],
        published=day_number(published or ""),
        era=rowid >> ERA_BITS,
    )


_ROW_COLUMNS = "rowid, title, abstract, authors, categories, published"


@dataclass(frozen=True)
class _Clause:
    """One required word or phrase (its analysed terms) and the fields it may match in."""

    tokens: list[str]
    fields: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class _AnyOf:
    """Words or phrases joined by OR: one of them must match; each one that does scores."""

    options: tuple[_Clause, ...]


@dataclass
class _State:
    """What the folder holds: which database, which log entries are in, the largest rowid."""

    db_id: str
    version: int = INDEX_VERSION
    seq: int = 0
    max_rowid: int = 0


class SearchIndex:
    def __init__(self, db: sqlite_utils.Database | Database) -> None:
        self.db = as_database(db)
        self.path = self.db.search_path()
        self.schema = build_schema()
        self.analyzer = text_analyzer()
        self._index: tantivy.Index | None = None
        self.state: _State | None = None
        self._folder: tuple[int, int] | None = None  # the folder the open index lives in
        self._rebuilding: threading.Thread | None = None
        # The log position the last search saw, and the answers to common words alone for
        # the index as it stands (see ``_common_word``).
        self._position = 0
        self._common_state: tuple = ()
        self._common: dict[tuple, list[int]] = {}

    # -- noticing a broken folder -----------------------------------------------------------

    def _folder_identity(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            st = os.stat(self.path / "meta.json")
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _usable(self) -> None:
        """Before a search: finish a background rebuild, or raise while it runs; reopen a
        folder that was deleted or replaced since it was opened."""
        if self._rebuilding is not None:
            if self._rebuilding.is_alive():
                raise SearchIndexRebuilding()
            self._rebuilding = None
            self._forget()  # open what the rebuild left (or rebuild again if it failed)
        if self._index is not None and self._folder_identity() != self._folder:
            log.warning("the search index folder %s was deleted or replaced; reopening", self.path)
            self._forget()
        if self._index is None and not self._open_existing():
            self._rebuild_for_search()

    def _forget(self) -> None:
        self._index, self.state, self._folder = None, None, None

    def _rebuild_for_search(self) -> None:
        count = self.db.execute("SELECT count(*) FROM papers").fetchone()[0]
        if self.path is None or count <= REBUILD_INLINE_MAX:
            self.rebuild()
            return
        self._forget()

        def rebuild() -> None:
            try:
                db = self.db.reopen()  # a connection of its own: this runs in another thread
                try:
                    SearchIndex(db).rebuild()
                finally:
                    db.close()
            except Exception:
                log.exception("rebuilding the search index failed; the next search retries")

        log.warning("rebuilding the search index of %d papers in the background", count)
        self._rebuilding = threading.Thread(target=rebuild, name="search-rebuild", daemon=True)
        self._rebuilding.start()
        raise SearchIndexRebuilding()

    # -- opening and rebuilding -----------------------------------------------------------

    @property
    def index(self) -> tantivy.Index:
        if self._index is None:
            self._open()
        assert self._index is not None
        return self._index

    def _open(self) -> None:
        if not self._open_existing():
            self.rebuild()

    def _open_existing(self) -> bool:
        """Open the folder if it holds this database's index, readable; False if not."""
        if self.path is None:
            return False
        db_id = self._db_id()
        folder = self._folder_identity()
        state = _read_state(self.path)
        if (
            state is None
            or state.db_id != db_id
            or state.version != INDEX_VERSION
            or not self._log_reaches(state)
            or not tantivy.Index.exists(str(self.path))
        ):
            return False
        try:
            index = self._register(tantivy.Index.open(str(self.path)))
            index.searcher()  # reads every segment's footer: corrupted files show here
        except BaseException as exc:
            if not _index_failure(exc):
                raise
            log.warning("the search index at %s is unreadable (%s); rebuilding it", self.path, exc)
            return False
        self._index, self.state, self._folder = index, state, folder
        return True

    def _register(self, index: tantivy.Index) -> tantivy.Index:
        index.register_tokenizer(TEXT_ANALYZER, text_analyzer())
        index.register_tokenizer(CATEGORY_ANALYZER, category_analyzer())
        return index

    def _new_index(self, path: Path | None) -> tantivy.Index:
        if path is not None:
            path.mkdir(parents=True)
        return self._register(tantivy.Index(self.schema, str(path) if path else None))

    def rebuild(self) -> None:
        """Index every paper afresh (into a new folder, swapped in when complete)."""
        count = self.db.execute("SELECT count(*) FROM papers").fetchone()[0]
        if count > 10_000:
            log.info("building the search index of %d papers; this happens once", count)
        build_path = None
        me = f"{os.getpid()}-{threading.get_ident()}"  # a background rebuild is another thread
        if self.path is not None:
            build_path = self.path.with_name(f"{self.path.name}.building-{me}")
            shutil.rmtree(build_path, ignore_errors=True)
        index = self._new_index(build_path)
        state = _State(self._db_id())
        big = count > 10_000
        writer = index.writer(
            BULK_WRITER_HEAP if big else SMALL_WRITER_HEAP, BULK_THREADS if big else 1
        )
        # One read snapshot: the rows and the log position they correspond to. The rows are
        # streamed: on PostgreSQL a plain query would hold every paper in memory at once.
        with self.db.snapshot():
            state.seq = self._max_seq()
            for row in self.db.stream(f"SELECT {_ROW_COLUMNS} FROM papers"):
                writer.add_document(make_document(*row))
                state.max_rowid = max(state.max_rowid, row[0])
        writer.commit()
        writer.wait_merging_threads()
        if self.path is not None and build_path is not None:
            _write_state(build_path, state)
            old = self.path.with_name(f"{self.path.name}.old-{me}")
            if self.path.exists():
                self.path.rename(old)
            build_path.rename(self.path)
            shutil.rmtree(old, ignore_errors=True)
            index = self._register(tantivy.Index.open(str(self.path)))
        index.reload()  # searchers see the commit now, not after the reload delay
        self._index, self.state, self._folder = index, state, self._folder_identity()
        self._prune_log()

    def _db_id(self) -> str:
        row = self.db.execute("SELECT value FROM search_meta WHERE key = 'db_id'").fetchone()
        return row[0] if row else ""

    def _max_seq(self) -> int:
        return self.db.search_log_position()[0]

    def _log_reaches(self, state: _State) -> bool:
        """The log holds every entry after ``state``'s watermark, and none is from a future
        the database does not know (an index of a restored older copy)."""
        latest, pruned = self.db.search_log_position()
        return pruned <= state.seq <= latest

    # -- keeping up with the table --------------------------------------------------------

    def catch_up(self) -> int:
        """Apply log entries newer than the watermark; returns how many papers changed."""
        index = self.index
        assert self.state is not None
        latest, pruned = self.db.search_log_position()
        self._position = latest
        if latest <= self.state.seq:
            return 0
        if self.state.seq < pruned:  # away longer than the log is kept (PostgreSQL)
            log.warning("the search index missed changes the log no longer holds; rebuilding")
            self.rebuild()
            return 0
        if self.path is not None:  # another process may have applied them already
            on_disk = _read_state(self.path)
            if on_disk is not None and on_disk.db_id == self.state.db_id:
                if on_disk.seq > self.state.seq:
                    self.state = on_disk
                    index.reload()
                if latest <= self.state.seq:
                    return 0
        try:
            writer = index.writer(SMALL_WRITER_HEAP, 1)
        except ValueError as exc:  # another process is writing; it applies the log too
            log.info("search index busy (%s); searching it as last committed", exc)
            return 0
        changed = self._apply(writer, self.state.seq, latest, {})
        self._commit(writer, latest)
        return changed

    def _apply(
        self, writer: tantivy.IndexWriter, after: int, upto: int, fresh: dict[int, tantivy.Document]
    ) -> int:
        """Apply log entries in (after, upto]; ``fresh`` holds documents built from rows
        already in hand, so they need not be read back."""
        assert self.state is not None
        rowids = [
            r
            for (r,) in self.db.execute(
                "SELECT DISTINCT paper_rowid FROM search_log WHERE seq > ? AND seq <= ?",
                [after, upto],
            )
        ]
        missing = [r for r in rowids if r not in fresh]
        docs = dict(fresh)
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            for row in self.db.execute(
                f"SELECT {_ROW_COLUMNS} FROM papers WHERE rowid IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                docs[row[0]] = make_document(*row)
        for rowid in rowids:
            # Rowids above any ever indexed cannot be in the index: skip the delete.
            if rowid <= self.state.max_rowid:
                writer.delete_documents_by_term("rowid", rowid)
            doc = docs.get(rowid)
            if doc is not None:
                writer.add_document(doc)
        if rowids:
            self.state.max_rowid = max(self.state.max_rowid, *rowids)
        return len(rowids)

    def _commit(self, writer: tantivy.IndexWriter, upto: int) -> None:
        assert self.state is not None
        writer.commit()
        self.state.seq = upto
        if self.path is not None:
            _write_state(self.path, self.state)
        self.index.reload()
        self._prune_log()

    def _prune_log(self) -> None:
        assert self.state is not None
        # A read-only or busy database keeps its log a while longer; nothing is lost.
        with contextlib.suppress(*self.db.transient_errors):
            if self.db.in_transaction:
                return
            self.db.prune_search_log(self.state.seq)

    @contextlib.contextmanager
    def bulk(self) -> Iterator[BulkWriter]:
        """One writer for a long import: big heap, few commits, merges awaited at the end."""
        self.catch_up()
        writer = self.index.writer(BULK_WRITER_HEAP, BULK_THREADS)
        bulk = BulkWriter(self, writer)
        try:
            yield bulk
        finally:
            bulk.commit()
            del bulk.writer
            writer.wait_merging_threads()
            self.index.reload()

    # -- searching --------------------------------------------------------------------------

    def search(self, query: SearchQuery, limit: int) -> list[int]:
        """Rowids of the best ``limit`` papers, best first; newer first on equal scores.

        Raises ``SearchIndexRebuilding`` while a broken index is rebuilt in the background."""
        self._usable()
        try:
            return self._search(query, limit)
        except BaseException as exc:
            if not _index_failure(exc):
                raise
            log.warning("the search index at %s failed (%s); rebuilding it", self.path, exc)
            self._forget()
            self._rebuild_for_search()
            return self._search(query, limit)

    def _search(self, query: SearchQuery, limit: int) -> list[int]:
        self.catch_up()
        searcher = self.index.searcher()
        clauses = self.clauses(query)
        if clauses is None:
            return []
        if not query.has_text:
            compiled = self._compile(clauses, query)
            result = searcher.search(
                compiled, limit, count=False, order_by_field="published", order=tantivy.Order.Desc
            )
            hits = [address for _, address in result.hits]
            return searcher.fast_field_values("rowid", hits)
        wanted = limit + TIE_WINDOW
        matchable = self._matchable(searcher, clauses)
        if matchable is None:
            return []
        common = self._common_word(searcher, matchable, query, limit)
        if common is not None:
            state, word = common
            if state != self._common_state or len(self._common) >= COMMON_WORDS_KEPT:
                self._common_state, self._common = state, {}
            if word in self._common:
                return list(self._common[word])
        rowids = self._ranked(searcher, matchable, query, limit, wanted)
        if common is not None:
            self._common[common[1]] = list(rowids)
        return rowids

    def _common_word(
        self,
        searcher: tantivy.Searcher,
        clauses: list[_Clause | _AnyOf],
        query: SearchQuery,
        limit: int,
    ) -> tuple[tuple, tuple] | None:
        """The index's state and the word an answer is remembered under, when the query is
        one very common word alone (no filter, nothing excluded); else None.

        Such a word is ranked over every paper (see ``_work``), which block-max WAND does
        in 8-12 ms at a million papers: the matches are too many to skip much. Its answer
        stays exact while nothing it depends on changes: the log position (every change to
        the papers), and the index's documents and segments (a commit or merge by another
        process; a merge drops deleted papers, which moves every score): when that state
        changes, every answer is forgotten."""
        if len(clauses) != 1 or query.category or query.since or self.exclusions(query):
            return None
        clause = clauses[0]
        if not isinstance(clause, _Clause) or len(clause.tokens) != 1:
            return None
        if self._papers(searcher, clause) <= COMMON_WORD_PAPERS:
            return None
        state = (self._position, searcher.num_docs, searcher.num_segments)
        return state, (clause.tokens[0], clause.fields, limit)

    def _ranked(
        self,
        searcher: tantivy.Searcher,
        matchable: list[_Clause | _AnyOf],
        query: SearchQuery,
        limit: int,
        wanted: int,
    ) -> list[int]:
        hits = self._title_first(searcher, matchable, query, wanted, limit)
        if hits is None:
            hits = self._within_budget(searcher, matchable, query, wanted)
        if not hits:
            return []
        addresses = [address for _, address in hits]
        rowids = searcher.fast_field_values("rowid", addresses)
        days = searcher.fast_field_values("published", addresses)
        ranked = sorted(
            zip(hits, rowids, days, strict=True),
            key=lambda h: (-_tie_key(h[0][0]), -(h[2] or 0)),
        )
        return [rowid for _, rowid, _ in ranked[:limit]]

    def compile(self, query: SearchQuery) -> tantivy.Query | None:
        """The tantivy query for ``query``; None when nothing can match."""
        clauses = self.clauses(query)
        return None if clauses is None else self._compile(clauses, query)

    def clauses(self, query: SearchQuery) -> list[_Clause | _AnyOf] | None:
        """What must match: every word and phrase somewhere in title, abstract or authors,
        one of each OR group's; each author filter's words as a phrase in one author's name.
        None when nothing can match (a word longer than any indexed word)."""
        clauses: list[_Clause | _AnyOf] = []
        for words in [(t,) for t in query.terms] + list(query.phrases):
            clause = self._text_clause(words)
            if clause is None:
                return None
            clauses.append(clause)
        for group in query.any_of:
            options = [c for c in map(self._text_clause, group) if c is not None]
            if not options:
                return None
            clauses.append(_AnyOf(tuple(options)) if len(options) > 1 else options[0])
        for name in query.authors:
            clause = self._text_clause(name, AUTHOR_FIELD)
            if clause is None:
                return None
            clauses.append(clause)
        return clauses

    def exclusions(self, query: SearchQuery) -> list[_Clause]:
        """What must not match; a word no paper can contain excludes nothing."""
        clauses = [self._text_clause(words) for words in query.excluded]
        clauses += [self._text_clause(name, AUTHOR_FIELD) for name in query.excluded_authors]
        return [c for c in clauses if c is not None]

    def _text_clause(
        self, words: tuple[str, ...], fields: tuple[tuple[str, float], ...] = ALL_FIELDS
    ) -> _Clause | None:
        tokens = [tok for w in words for tok in self.analyzer.analyze(w)]
        return _Clause(tokens, fields) if tokens else None

    def _compile(
        self,
        clauses: list[_Clause | _AnyOf],
        query: SearchQuery,
        required: tuple[_Clause, str] | None = None,
        within: tantivy.Query | None = None,
    ) -> tantivy.Query:
        """``required`` (a clause, a field): that clause must match in that field, its other
        fields only add to the score, so tantivy walks that field's postings alone.
        ``within``: a filter of papers to rank among (see ``_within_budget``)."""
        Occur, Query = tantivy.Occur, tantivy.Query
        must = []
        for clause in clauses:
            if isinstance(clause, _AnyOf):
                options = [(Occur.Should, self._clause(c)) for c in clause.options]
                must.append((Occur.Must, Query.boolean_query(options)))
                continue
            if required is None or clause is not required[0]:
                must.append((Occur.Must, self._clause(clause)))
                continue
            for name, boost in clause.fields:
                scored = Query.boost_query(self._phrase(name, clause.tokens), boost)
                must.append((Occur.Must if name == required[1] else Occur.Should, scored))
        filters = [] if within is None else [within]
        if query.category:
            filters.append(
                Query.term_query(
                    self.schema, "categories", query.category.lower(), index_option="basic"
                )
            )
        if query.since:
            filters.append(
                Query.range_query(
                    self.schema,
                    "published",
                    tantivy.FieldType.Integer,
                    lower_bound=day_number(query.since),
                )
            )
        # Filters narrow the matches without changing the scores.
        must += [(Occur.Must, Query.const_score_query(f, 0.0)) for f in filters]
        # Exclusions only remove papers; the rest of the query still scores them.
        must_not = [(Occur.MustNot, self._clause(c)) for c in self.exclusions(query)]
        if not must:
            if not must_not:
                return Query.all_query()
            must = [(Occur.Must, Query.all_query())]
        if len(must) == 1 and not must_not:
            return must[0][1]
        return Query.boolean_query(must + must_not)

    def _top(
        self,
        searcher: tantivy.Searcher,
        clauses: list[_Clause | _AnyOf],
        query: SearchQuery,
        wanted: int,
        within: tantivy.Query | None = None,
    ) -> list:
        """The top ``wanted`` hits of the query, exactly.

        A phrase that may match in several fields is a union of phrase queries, and tantivy
        walks such a union in full when another clause or a filter drives the search (200 ms
        over a million papers where the two alone take 10). So the query is run once per
        field the phrase is required in, the others only scoring, and the hits merged: each
        paper scores the same in every run that finds it."""
        phrase = next(
            (
                c
                for c in clauses
                if isinstance(c, _Clause) and len(c.tokens) > 1 and len(c.fields) > 1
            ),
            None,
        )
        driven = len(clauses) > 1 or within is not None or query.category or query.since
        if phrase is None or not driven:
            compiled = self._compile(clauses, query, within=within)
            return searcher.search(compiled, wanted, count=False).hits
        best: dict[tuple[int, int], tuple[float, tantivy.DocAddress]] = {}
        for name, _ in phrase.fields:
            compiled = self._compile(clauses, query, required=(phrase, name), within=within)
            for score, address in searcher.search(compiled, wanted, count=False).hits:
                best[(address.segment_ord, address.doc)] = (score, address)
        return sorted(best.values(), key=lambda hit: -hit[0])[:wanted]

    def _matchable(
        self, searcher: tantivy.Searcher, clauses: list[_Clause | _AnyOf]
    ) -> list[_Clause | _AnyOf] | None:
        """``clauses`` without the fields they cannot match in (a word no paper has there),
        and OR groups without the options that match nowhere; None when a clause can match
        nowhere. Fewer fields, smaller unions to walk."""
        kept: list[_Clause | _AnyOf] = []
        for clause in clauses:
            if isinstance(clause, _AnyOf):
                options = [o for o in (self._fields(searcher, c) for c in clause.options) if o]
                if not options:
                    return None
                kept.append(_AnyOf(tuple(options)) if len(options) > 1 else options[0])
                continue
            matchable = self._fields(searcher, clause)
            if matchable is None:
                return None
            kept.append(matchable)
        return kept

    def _fields(self, searcher: tantivy.Searcher, clause: _Clause) -> _Clause | None:
        fields = tuple(
            (name, boost)
            for name, boost in clause.fields
            if all(searcher.doc_freq(name, t) for t in clause.tokens)
        )
        return _Clause(clause.tokens, fields) if fields else None

    def _clause(self, clause: _Clause) -> tantivy.Query:
        queries = [
            tantivy.Query.boost_query(self._phrase(name, clause.tokens), boost)
            for name, boost in clause.fields
        ]
        if len(queries) == 1:
            return queries[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])

    def _phrase(self, field: str, tokens: list[str]) -> tantivy.Query:
        if len(tokens) == 1:
            return tantivy.Query.term_query(self.schema, field, tokens[0])
        return tantivy.Query.phrase_query(self.schema, field, tokens)

    def _title_first(
        self,
        searcher: tantivy.Searcher,
        clauses: list[_Clause | _AnyOf],
        query: SearchQuery,
        wanted: int,
        limit: int | None = None,
    ) -> list | None:
        """The exact top ``wanted`` hits of a phrase query, found among the papers with the
        phrase in their title, when that provably suffices; else None. With fewer than
        ``wanted`` such papers, all of them, when the best ``limit`` of them suffice.

        A phrase scores no better than BM25's ceiling, idf x (k1 + 1), in each field, so a
        paper without the phrase in its title scores at most the sum of those ceilings
        without the title's. Scoring a common phrase means reading the positions of every
        paper holding its words (30-90 ms over a million abstracts); titles are short, so
        the title-first pass costs a few milliseconds, and answers alone whenever its
        ``wanted``-th hit outscores that bound (the 10x title weight sees to that)."""
        phrases = [
            c
            for c in clauses
            if isinstance(c, _Clause) and len(c.tokens) > 1 and c.fields[0][0] == "title"
        ]
        if not phrases:
            return None
        phrase = max(phrases, key=lambda c: len(c.tokens))
        title_work = PHRASE_COST * self._papers(searcher, _Clause(phrase.tokens, phrase.fields[:1]))
        if title_work > WORK_BUDGET:
            return None  # common in titles too: scoring the title hits costs too much
        bound = sum(self._ceiling(searcher, c, skip_title=c is phrase) for c in clauses)
        title = self._ceiling(searcher, _Clause(phrase.tokens, phrase.fields[:1]), False)
        if bound * BOUND_SAFETY > title / 2:
            return None  # other words weigh too much for the title hits to be sure winners
        restricted = self._compile(clauses, query, required=(phrase, "title"))
        hits = searcher.search(restricted, wanted, count=False).hits
        if len(hits) < wanted:
            # These are all the papers with the phrase in their title. When the last of the
            # best ``limit`` outscores every other paper, no other can enter the answer or
            # tie with it (ties among these go to the newer, as they are all here).
            last = (limit or wanted) - 1
            return hits if last < len(hits) and hits[last][0] > bound * BOUND_SAFETY else None
        return hits if hits[-1][0] > bound * BOUND_SAFETY else None

    def _within_budget(
        self,
        searcher: tantivy.Searcher,
        clauses: list[_Clause | _AnyOf],
        query: SearchQuery,
        wanted: int,
    ) -> list:
        """The top ``wanted`` hits, ranked among the most recently added papers only when
        ranking them all would score too many postings.

        Block-max WAND skips postings that cannot reach the top hits, but with words as
        common as in real abstracts ("model" in 57 % of papers) few blocks can be skipped,
        conjunctions of such words score every paper holding them all, and a phrase reads
        the positions of each (``"of the"``: nearly every paper). Such a query is ranked
        over the newest papers, as many as ``WORK_BUDGET`` postings allow: its matches are
        so many that the best of the newest are about as good (``make bench``'s relevance
        row measures it), and newer papers are what a user of a paper bot is after."""
        work = self._work(searcher, clauses, filtered=bool(query.category or query.since))
        top = self.state.max_rowid if self.state else 0
        # At 2.7M papers a rare word and a category took 4 ms ranked over all papers and
        # 9 ms held to four fifths of them (see HOLD_AT_LEAST).
        if work <= WORK_BUDGET * HOLD_AT_LEAST or top <= 0:
            return self._top(searcher, clauses, query, wanted)
        last = top >> ERA_BITS
        eras = max(1, (WORK_BUDGET * top // work) >> ERA_BITS)
        while True:
            first = max(0, last - eras + 1)
            newest = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "era", era))
                    for era in range(first, last + 1)
                ]
            )
            hits = self._top(searcher, clauses, query, wanted, within=newest)
            if len(hits) >= wanted or first == 0:
                return hits
            eras *= 4  # too few matches among the newest: look further back

    def _work(
        self, searcher: tantivy.Searcher, clauses: list[_Clause | _AnyOf], *, filtered: bool
    ) -> int:
        """About how many postings ranking every match reads (a cost model, measured on
        2 cores). Several clauses: tantivy walks the papers of the rarest and checks every
        clause in each field there; a phrase's position check costs about ten postings.
        A ``filtered`` query (``cat:``, ``since:``) scores every match its filter lets
        through: block-max WAND skips nothing inside an intersection."""
        single = len(clauses) == 1 and isinstance(clauses[0], _Clause)
        if single and len(clauses[0].tokens) == 1 and not filtered:
            return 0  # block-max WAND: ranking among fewer papers would only cost more
        if len(clauses) == 1:
            return self._checks(clauses[0]) * self._papers(searcher, clauses[0])
        checks = sum(self._checks(c) for c in clauses)
        return min(self._papers(searcher, c) for c in clauses) * checks

    def _checks(self, clause: _Clause | _AnyOf) -> int:
        """What checking a clause on one paper costs, in postings."""
        if isinstance(clause, _AnyOf):
            return sum(self._checks(c) for c in clause.options)
        return (PHRASE_COST if len(clause.tokens) > 1 else 1) * len(clause.fields)

    def _papers(self, searcher: tantivy.Searcher, clause: _Clause | _AnyOf) -> int:
        """About how many papers a clause matches: in each field, those holding its
        rarest word (an OR group: its options' together)."""
        if isinstance(clause, _AnyOf):
            return sum(self._papers(searcher, c) for c in clause.options)
        return sum(
            min(searcher.doc_freq(name, t) for t in clause.tokens) for name, _ in clause.fields
        )

    def _ceiling(
        self, searcher: tantivy.Searcher, clause: _Clause | _AnyOf, skip_title: bool
    ) -> float:
        """The most ``clause`` can add to a paper's score (tantivy's BM25: a phrase's idf is
        the sum of its terms'; each field's share is boost x idf x (k1 + 1) at most; an OR
        group's, all of its options matching at once)."""
        if isinstance(clause, _AnyOf):
            return sum(self._ceiling(searcher, c, skip_title) for c in clause.options)
        total = 0.0
        docs = max(searcher.num_docs, 1) * 2  # deleted papers still count until merged
        for name, boost in clause.fields:
            if skip_title and name == "title":
                continue
            freqs = [searcher.doc_freq(name, t) for t in clause.tokens]
            if min(freqs) == 0:
                continue  # cannot match in this field
            idf = sum(math.log(1 + (docs - n + 0.5) / (n + 0.5)) for n in freqs)
            total += boost * idf * (BM25_K1 + 1)
        return total

    def doc_count(self) -> int:
        self.catch_up()
        return self.index.searcher().num_docs


class BulkWriter:
    """Feeds documents for rows just inserted; see ``SearchIndex.bulk``."""

    def __init__(self, index: SearchIndex, writer: tantivy.IndexWriter) -> None:
        assert index.state is not None
        self.index = index
        self.writer = writer
        self.applied = index.state.seq  # log entries added to the writer, not yet committed
        self.pending = 0
        self.others_since: float | None = None  # when other writers' changes began to wait

    def add_rows(self, rows: Iterable[tuple]) -> None:
        """Apply the log up to now, using ``rows`` (rowid, title, abstract, authors,
        categories, published) for the rows they cover instead of reading them back."""
        fresh = {row[0]: make_document(*row) for row in rows}
        upto = self.index._max_seq()
        if upto - self.applied > len(fresh) and self.others_since is None:
            self.others_since = time.monotonic()  # log entries beyond this batch's own
        self.pending += self.index._apply(self.writer, self.applied, upto, fresh)
        self.applied = upto
        # Every commit cuts each indexing thread's segment short, and small segments cost
        # CPU to merge (a commit per minute made a slow import a fifth dearer), so the
        # import's own papers are committed in large steps. Other writers' papers (the
        # bot's, waiting on this import's lock on the index) are shown within a minute.
        waited = self.others_since is not None and time.monotonic() - self.others_since > 60
        if self.pending >= BULK_COMMIT_EVERY or waited:
            self.commit()

    def commit(self) -> None:
        assert self.index.state is not None
        if self.applied > self.index.state.seq:
            self.index._commit(self.writer, self.applied)
            self.pending = 0
        self.others_since = None


def _index_failure(exc: BaseException) -> bool:
    """tantivy's error for unreadable, corrupted or missing files (a ValueError), or a panic
    on data it could not make sense of (pyo3's PanicException, a BaseException)."""
    return isinstance(exc, ValueError) or type(exc).__name__ == "PanicException"


def _tie_key(score: float) -> float:
    # Scores equal but for float noise tie; the newer paper then comes first.
    return round(score, 4)


def _read_state(path: Path) -> _State | None:
    try:
        data = json.loads((path / "paperboy-state.json").read_text())
        return _State(**data)
    except (OSError, ValueError, TypeError):
        return None


def _write_state(path: Path, state: _State) -> None:
    tmp = path / "paperboy-state.json.tmp"
    tmp.write_text(json.dumps(state.__dict__))
    os.replace(tmp, path / "paperboy-state.json")
