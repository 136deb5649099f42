"""The paper record every part of paperboy shares."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace


@dataclass(frozen=True)
class Paper:
    """One paper, keyed by its version-less arXiv id (see ``bot.ids``).

    ``upvotes`` is None when no source has told us (arXiv knows nothing of HF upvotes),
    which is not the same as zero.
    """

    id: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    published: str = ""  # YYYY-MM-DD
    categories: tuple[str, ...] = ()
    upvotes: int | None = None
    hf_date: str = ""  # the day it was on HF Daily Papers, YYYY-MM-DD
    code_url: str = ""
    project_url: str = ""
    thumbnail_url: str = ""
    sources: tuple[str, ...] = field(default=())  # "hf", "arxiv"

    @property
    def abstract_url(self) -> str:
        """The paper's own page at the server that holds it (today always arXiv)."""
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def arxiv_url(self) -> str:
        return self.abstract_url

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.id}"

    @property
    def hf_url(self) -> str:
        return f"https://huggingface.co/papers/{self.id}"

    @property
    def listed_on_hf(self) -> bool:
        """Whether Hugging Face has a page for it: only then is the HF link worth showing."""
        return "hf" in self.sources or self.upvotes is not None or bool(self.hf_date)

    def merged(self, newer: Paper) -> Paper:
        """Fields from ``newer`` win where it has them; gaps are filled from ``self``.

        Upvotes only come from HF, so a newer arXiv record never erases them.
        """
        changes = {}
        for f in fields(self):
            value = getattr(newer, f.name)
            if f.name == "sources":
                value = tuple(sorted(set(self.sources) | set(newer.sources)))
            elif value in ("", (), None):
                continue
            changes[f.name] = value
        return replace(self, **changes)
