"""Where papers come from. ``bot.sources.registry`` lists the sources and is what the rest of
the bot talks to; each source (``hf``, ``arxiv``, and ``biorxiv`` for bioRxiv and medRxiv) is
one module implementing ``bot.sources.base.PaperSource``."""
