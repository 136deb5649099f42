"""The model: the values every part of paperboy shares (papers, ids, feeds, subscriptions,
search queries, arXiv's categories). A leaf: it imports nothing else of the project."""
