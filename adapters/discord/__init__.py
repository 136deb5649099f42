"""paperboy's Discord adapter: slash commands, reaction votes and auto-posted paper cards.

``DiscordAdapter`` (``adapters.discord.client``) is what ``paperboy run`` starts when
``DISCORD_TOKEN`` is set; ``invite_url`` gives the link that adds the bot to a server.
"""

from adapters.discord.invite import application_id_from_token, invite_url

__all__ = ["application_id_from_token", "invite_url"]
