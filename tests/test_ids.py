"""Every way people write a paper reference maps to one canonical, version-less id."""

from __future__ import annotations

import pytest

from bot.model.ids import canonical_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2401.12345", "2401.12345"),
        ("2401.12345v3", "2401.12345"),
        ("0704.0001", "0704.0001"),  # the first new-style id had 4 digits after the dot
        ("0704.0001v2", "0704.0001"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("math.GT/0309136", "math/0309136"),  # the subject class is not part of the id
        ("math.GT/0309136v1", "math/0309136"),
        ("cond-mat/0102536", "cond-mat/0102536"),
        ("arXiv:2401.12345", "2401.12345"),
        ("arxiv:2401.12345v1", "2401.12345"),
        ("ARXIV: hep-th/9901001", "hep-th/9901001"),
        ("https://arxiv.org/abs/2401.12345", "2401.12345"),
        ("http://arxiv.org/abs/2401.12345v2", "2401.12345"),
        ("https://www.arxiv.org/abs/2401.12345", "2401.12345"),
        ("https://export.arxiv.org/abs/hep-th/9901001v1", "hep-th/9901001"),
        ("arxiv.org/abs/2401.12345", "2401.12345"),
        ("https://arxiv.org/pdf/2401.12345", "2401.12345"),
        ("https://arxiv.org/pdf/2401.12345v4.pdf", "2401.12345"),
        ("https://arxiv.org/pdf/math.GT/0309136v1", "math/0309136"),
        ("https://arxiv.org/html/2401.12345v1", "2401.12345"),
        ("https://arxiv.org/abs/2401.12345?context=cs.LG", "2401.12345"),
        ("https://arxiv.org/abs/2401.12345#section", "2401.12345"),
        ("https://huggingface.co/papers/2401.12345", "2401.12345"),
        ("huggingface.co/papers/2401.12345", "2401.12345"),
        ("https://www.alphaxiv.org/abs/2401.12345", "2401.12345"),
        ("https://alphaxiv.org/overview/2401.12345v2", "2401.12345"),
        ("<https://arxiv.org/abs/2401.12345>", "2401.12345"),  # Slack wraps links like this
        ("<https://arxiv.org/abs/2401.12345v2|arxiv.org/abs/2401.12345v2>", "2401.12345"),
        ("  2401.12345  ", "2401.12345"),
    ],
)
def test_every_form_maps_to_the_canonical_id(text: str, expected: str) -> None:
    assert canonical_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "banana",
        "2401.123",
        "2401.1234567",
        "12345",
        "1234.5",
        "arxiv.org/abs/",
        "https://example.com/abs/2401.12345",
        "hep-th/990100",
        "2401.12345 and more",
        "https://huggingface.co/models/2401.12345",
        "https://www.alphaxiv.org/explore/2401.12345",
        "x" * 10_000,
    ],
)
def test_non_ids_are_rejected(text: str) -> None:
    assert canonical_id(text) is None
