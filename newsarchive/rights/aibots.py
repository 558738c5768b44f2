"""A site's stated position towards AI crawlers, as its robots.txt gives it.

Recorded per crawl, not enforced: newsarchive obeys robots.txt for its own user agent,
while these groups say what the publisher wants for model training and AI answers, which
researchers need to know when a corpus may feed one.
"""

from __future__ import annotations

from collections.abc import Callable

# Crawlers run for model training or AI answers, by their robots.txt product tokens.
AI_AGENTS = (
    "GPTBot", "ChatGPT-User", "OAI-SearchBot", "CCBot", "Google-Extended", "anthropic-ai",
    "ClaudeBot", "Claude-Web", "PerplexityBot", "Bytespider", "Applebot-Extended",
    "meta-externalagent", "Amazonbot", "cohere-ai", "Diffbot", "omgili",
)


def summary(allowed: Callable[[str, str], bool], root: str) -> dict[str, str]:
    """For each AI agent, whether robots.txt lets it fetch the site's root page:
    ``allowed`` or ``disallowed`` (``User-agent: *`` rules count, as for any agent)."""
    result = {}
    for agent in AI_AGENTS:
        try:
            result[agent] = "allowed" if allowed(root, agent) else "disallowed"
        except Exception:  # noqa: BLE001 - a parser that cannot say states nothing
            result[agent] = "unknown"
    return result
