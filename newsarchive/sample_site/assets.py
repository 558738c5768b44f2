"""Images the sample site draws itself, and its second host standing for a CDN.

Real news pages take their pictures from an image CDN on another host, in several
widths (``srcset``), and repeat the lead picture as ``og:image`` on their own host: a
crawler archiving page requisites meets other hosts (their own robots.txt and
politeness) and the same bytes under two URLs. The pictures are small SVGs drawn from
the section name, so they cost no files and are the same on every run.
"""

from __future__ import annotations

from html import escape

HERO_WIDTHS = (640, 1280)
SVG = "image/svg+xml"
CDN_ROBOTS = b"User-agent: *\nAllow: /\n"
_COLOURS = {
    "world": ("#1d4e89", "#7fb2e5"),
    "business": ("#1f5f3f", "#8fd1a8"),
    "science": ("#4b2a7b", "#b89be0"),
    "culture": ("#8a3b12", "#f0b27a"),
    "sport": ("#7a1020", "#f08a9a"),
}


def hero_path(section: str, width: int) -> str:
    """Where a section's lead picture lives, on the CDN host and (og:image) the site."""
    return f"/assets/hero/{section}-{width}.svg"


def hero_svg(section: str, width: int) -> bytes | None:
    """A section's lead picture at one width (None for an unknown section or width)."""
    if section not in _COLOURS or width not in HERO_WIDTHS:
        return None
    dark, light = _COLOURS[section]
    height = width * 3 // 7
    hills = " ".join(
        f"M{x} {height} Q{x + width // 8} {height // 3 + (x * 7) % (height // 3)} "
        f"{x + width // 4} {height} Z"
        for x in range(0, width, width // 5)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        f'<rect width="{width}" height="{height}" fill="{light}"/>'
        f'<circle cx="{width * 4 // 5}" cy="{height // 4}" r="{height // 8}" fill="#fff7d6"/>'
        f'<path d="{hills}" fill="{dark}"/>'
        f"<title>{escape(section)}</title></svg>\n"
    ).encode()


def hero_figure(section: str, cdn: str) -> str:
    """The lead picture: ``<picture>`` with a wide source and an ``<img srcset>``."""
    small, wide = (cdn + hero_path(section, w) for w in HERO_WIDTHS)
    return f"""<figure class="entry-figure"><picture>
        <source media="(min-width: 1400px)" srcset="{wide}">
        <img src="{small}" srcset="{small} 640w, {wide} 1280w"
          sizes="(max-width: 700px) 100vw, 700px" width="700" height="300" alt="">
      </picture></figure>"""


# A 1x1 transparent GIF: what lazy-loading libraries put in src until the real one loads.
PLACEHOLDER = "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="


def lazy_chart() -> str:
    """A chart loaded lazily: the real image in data-src/data-srcset, moved by lazy.js."""
    return f"""<figure class="entry-chart"><img class="lazyload" src="{PLACEHOLDER}"
        data-src="/static/chart.svg" data-srcset="/static/chart.svg 1x, /static/chart-2x.svg 2x"
        width="320" height="160" alt=""></figure>"""


def cdn_response(path: str) -> tuple[bytes, str] | None:
    """What the CDN host serves: its robots.txt and the lead pictures."""
    if path == "/robots.txt":
        return CDN_ROBOTS, "text/plain; charset=utf-8"
    if path.startswith("/assets/hero/") and path.endswith(".svg"):
        section, _, width = path.removeprefix("/assets/hero/").removesuffix(".svg").rpartition("-")
        body = hero_svg(section, int(width)) if width.isdigit() else None
        if body is not None:
            return body, SVG
    return None
