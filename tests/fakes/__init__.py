"""Local stand-ins for the outside world, shared by the test suites.

``paper_sources.FakePaperSources``: Hugging Face and arXiv over real HTTP on 127.0.0.1.
"""

from tests.fakes.paper_sources import FakePaperSources, FakeRequest, Fault, hf_item, rss_feed

__all__ = ["FakePaperSources", "FakeRequest", "Fault", "hf_item", "rss_feed"]
