"""What `/papers search` understands: several authors, exclusion, OR, ids, categories of
Hugging Face papers, and how it says that HF search is down (memory adapter, real core)."""

from __future__ import annotations

import json

import pytest

from bot.model.paper import Paper
from bot.model.search_query import QueryError, parse_search
from bot.replies import Error, PaperCard, PaperList
from storage.bulk_import import SnapshotImporter

MEMPRIVACY = "2605.09530"  # Yining Chen, Jihao Zhao, ...; "privacy" and "memory" in its text


def ids(reply) -> list[str]:
    assert isinstance(reply, PaperList), reply
    return [p.paper.id for p in reply.papers]


def paper(pid: str, title: str, authors: tuple[str, ...] = ("A",), **kw) -> Paper:
    return Paper(
        pid, title, kw.pop("abstract", ""), authors, kw.pop("published", "2024-01-01"), **kw
    )


# -- author: ------------------------------------------------------------------------------


async def test_each_author_filter_matches_an_author_of_its_own(chat, bot, paper_sources):
    paper_sources.set_search([])  # local papers only
    bot.store.save_papers(
        [
            paper("2401.00001", "Both of them", ("Yining Chen", "Jihao Zhao")),
            paper("2401.00002", "Only Zhao", ("Jihao Zhao", "Bo Tang")),
            paper("2401.00003", "Only Chen", ("Yining Chen",)),
        ]
    )
    assert ids(await chat.command("search author:zhao author:chen")) == ["2401.00001"]
    assert ids(await chat.command("search both author:chen author:zhao")) == ["2401.00001"]
    assert ids(await chat.command('search author:"jihao zhao" author:tang')) == ["2401.00002"]
    # One filter's words stay within one name: "Chen" ends one author, "Jihao" starts the next.
    assert isinstance(await chat.command('search author:"chen jihao"'), Error)
    assert ids(await chat.command("search author:chen -author:zhao")) == ["2401.00003"]


async def test_two_authors_find_the_hf_paper_that_lists_both(chat, bot, paper_sources):
    await chat.command("today")  # stores the day's HF papers, MemPrivacy among them
    reply = await chat.command("search author:zhao author:chen")
    assert MEMPRIVACY in ids(reply)
    for found in reply.papers:
        names = " ".join(found.paper.authors).lower()
        assert "zhao" in names and "chen" in names


# -- exclusion and OR ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["memory -privacy", "memory NOT privacy", 'memory -"privacy"'])
async def test_an_excluded_word_leaves_papers_out_never_in(chat, bot, paper_sources, text):
    # HF search (the fake) is asked for the wanted words only, and answers with MemPrivacy
    # among the memory papers; the exclusion then applies to everything found.
    reply = await chat.command(f"search {text}")
    found = ids(reply)
    assert found and MEMPRIVACY not in found
    assert bot.store.get_paper(MEMPRIVACY) is not None  # it was found, and left out
    for p in reply.papers:
        assert "privacy" not in (p.paper.title + p.paper.abstract).lower()
    assert "privacy" not in paper_sources.requests_for("search")[-1].query.get("q", "")


async def test_an_excluded_phrase_or_author_leaves_only_those_out(chat, bot, paper_sources):
    paper_sources.set_search([])
    bot.store.save_papers(
        [
            paper("2401.00001", "Dark matter halos", ("Vera Rubin",)),
            paper("2401.00002", "Matter that is dark, halos", ("Fritz Zwicky",)),
            paper("2401.00003", "Halos without it", ("Fritz Zwicky",)),
        ]
    )
    assert ids(await chat.command('search halos -"dark matter"')) == ["2401.00003", "2401.00002"]
    assert ids(await chat.command("search halos -author:zwicky")) == ["2401.00001"]


async def test_or_finds_either_and_binds_tighter_than_and(chat, bot, paper_sources):
    paper_sources.set_search([])
    bot.store.save_papers(
        [
            paper("2401.00001", "Diffusion for video", published="2024-01-01"),
            paper("2401.00002", "Flow matching for video", published="2024-01-02"),
            paper("2401.00003", "Diffusion for audio", published="2024-01-03"),
            paper("2401.00004", "Transformers for video", published="2024-01-04"),
        ]
    )
    found = ids(await chat.command('search video diffusion OR "flow matching"'))
    assert sorted(found) == ["2401.00001", "2401.00002"]
    found = ids(await chat.command("search diffusion OR flow OR transformers -audio"))
    assert sorted(found) == ["2401.00001", "2401.00002", "2401.00004"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("search -privacy", "as well as what to leave out"),
        ('search NOT privacy -"dark matter"', "as well as what to leave out"),
        ("search -author:zhao", "as well as what to leave out"),
        ("search memory OR", "`OR` needs"),
        ("search OR memory", "`OR` needs"),
        ("search memory OR -privacy", "`OR` joins"),
        ("search memory OR author:zhao", "`OR` joins"),
        ("search memory NOT", "`NOT` needs"),
        ("search memory -cat:cs.CL", "can't be left out"),
        ("search memory -memory", "both wanted and left out"),
    ],
)
async def test_what_cannot_be_searched_is_refused_with_a_hint(chat, paper_sources, text, says):
    reply = await chat.command(text)
    assert isinstance(reply, Error), reply
    assert says in reply.message and reply.hint
    assert paper_sources.count("search") == 0  # refused before anything was asked


def test_exclusions_only_remove_papers_from_what_the_words_find() -> None:
    # Filters with only exclusions list the newest papers of the filter, minus the excluded.
    query = parse_search("cat:cs.CL -privacy")
    assert query.category == "cs.CL" and query.excluded == (("privacy",),)
    assert not query.has_text and not query.is_empty
    # Lower-case "or"/"not" are words, as in any title; a hyphen inside a word is no minus.
    assert parse_search("not or").terms == ("not", "or")
    assert parse_search("state-of-the-art").excluded == ()
    with pytest.raises(QueryError):
        parse_search("-state-of-the-art")


async def test_filter_only_search_with_an_exclusion(chat, bot, paper_sources):
    bot.store.save_papers(
        [
            paper("2401.00001", "Private parsing", categories=("cs.CL",), abstract="privacy"),
            paper("2401.00002", "Public parsing", categories=("cs.CL",)),
        ]
    )
    assert ids(await chat.command("search cat:cs.CL -privacy")) == ["2401.00002"]
    assert paper_sources.count("search") == 0  # no wanted words: nothing to ask HF


# -- an id or a link ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["2605.12500", "https://huggingface.co/papers/2605.12500", "arXiv:2605.12500v2"]
)
async def test_an_id_or_link_shows_that_paper(chat, paper_sources, text):
    reply = await chat.command(f"search {text}")
    assert isinstance(reply, PaperCard), reply
    assert reply.paper.id == "2605.12500" and reply.paper.title.startswith("SenseNova-U1")
    assert paper_sources.count("search") == 0


async def test_an_unknown_id_says_where_it_was_looked_for(chat, paper_sources):
    paper_sources.set_api(b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>')
    reply = await chat.command("search 2401.99999")
    assert isinstance(reply, Error) and "2401.99999" in reply.message
    assert "locally" in reply.message


# -- cat: and Hugging Face papers ---------------------------------------------------------


async def test_hf_papers_are_found_by_category_once_arxiv_gave_them_one(chat, bot, paper_sources):
    await chat.command("today")  # MemPrivacy from HF: no category
    assert bot.store.get_paper(MEMPRIVACY).categories == ()
    before = await chat.command("search memory privacy cat:cs.CR")
    assert isinstance(before, Error)
    assert "no category yet" in before.hint and "arXiv" in before.hint

    # The same id from an arXiv feed: the store merges it and the index takes the category.
    bot.store.save_papers([Paper(MEMPRIVACY, "MemPrivacy", categories=("cs.CR", "cs.AI"))])
    after = await chat.command("search memory privacy cat:cs.CR")
    assert ids(after) == [MEMPRIVACY]
    assert after.papers[0].paper.upvotes  # still the HF paper, upvotes and all


async def test_categories_from_a_snapshot_import_reach_the_index(chat, bot, tmp_path):
    await chat.command("today")
    snapshot = tmp_path / "snapshot.json"
    record = {
        "id": MEMPRIVACY,
        "title": "MemPrivacy",
        "abstract": "memory",
        "authors": "Yining Chen",
        "categories": "cs.CR",
        "versions": [{"version": "v1", "created": "Mon, 11 May 2026 10:00:00 GMT"}],
    }
    snapshot.write_text(json.dumps(record) + "\n")
    SnapshotImporter(bot.store).run(snapshot)
    assert ids(await chat.command("search privacy cat:cs.CR")) == [MEMPRIVACY]


async def test_an_empty_category_search_says_nothing_of_hf_when_it_is_not_why(chat, bot):
    bot.store.save_papers([paper("2401.00001", "Parsing", categories=("cs.CL",))])
    reply = await chat.command("search parsing cat:cs.CV")
    assert isinstance(reply, Error) and "category" not in reply.hint


# -- "HF search can't be reached" ---------------------------------------------------------


async def test_hf_outage_note_comes_once_per_channel_until_hf_works_again(chat, bot, paper_sources):
    bot.store.save_papers([paper("2401.00001", "Privacy for agents")])
    paper_sources.fail("search", 503, times=1000)
    note = "can't be reached"
    first = await chat.command("search privacy")
    assert ids(first) == ["2401.00001"] and note in first.note
    again = await chat.command("search privacy agents")
    assert ids(again) == ["2401.00001"] and again.note == ""
    other_channel = await chat.command("search privacy", channel="C2")
    assert note in other_channel.note
    # Nothing found, and this channel already knows: no note, and no "local results".
    empty = await chat.command("search nothingmatchesthis")
    assert isinstance(empty, Error) and note not in empty.hint

    paper_sources.clear_faults()
    assert (await chat.command("search privacy")).note == ""  # HF answered: outage over
    paper_sources.fail("search", 503, times=1000)
    assert note in (await chat.command("search privacy")).note  # a new outage, told again


async def test_an_empty_answer_during_an_outage_does_not_claim_local_results(chat, paper_sources):
    paper_sources.fail("search", 503, times=1000)
    reply = await chat.command("search nothingmatchesthis")
    assert isinstance(reply, Error)
    assert "can't be reached" in reply.hint and "these are local results" not in reply.hint
