"""Shared chrome of The Sample Gazette: document head, header, cookie banner, footer.

Every page is assembled from the same pieces, as a CMS theme does, so the boilerplate a
text extractor must drop is identical across articles and localised per language. The
markup uses ordinary theme class names on purpose: it should not make extraction easy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any
from urllib.parse import quote

SITE_NAME = "The Sample Gazette"
SECTIONS: tuple[str, ...] = ("world", "business", "science", "culture", "sport")

Strings = Mapping[str, str]


def esc(text: str) -> str:
    return escape(text, quote=True)


def json_ld(data: Mapping[str, Any]) -> str:
    """JSON for a ``<script>`` element: ``</`` is escaped so a title cannot end the script."""
    return json.dumps(data, ensure_ascii=False, indent=2).replace("</", "<\\/")


def document(*, lang: str, title: str, head: str, body: str, body_class: str) -> str:
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
{head}
<link rel="alternate" type="application/rss+xml" title="{SITE_NAME}" href="/feed.xml">
<link rel="stylesheet" href="/static/gazette.css">
<link rel="icon" href="/static/logo.svg" type="image/svg+xml">
</head>
<body class="{body_class}">
{body}
<script>window.dataLayer = window.dataLayer || [];
dataLayer.push({{"event": "pageview", "lang": "{lang}"}});</script>
<script src="/static/lazy.js" defer></script>
</body>
</html>
"""


def site_header(t: Strings, current: str | None = None) -> str:
    items = [f'<li class="menu-item"><a href="/">{esc(t["nav_home"])}</a></li>']
    for section in SECTIONS:
        active = " menu-item--active" if section == current else ""
        items.append(
            f'<li class="menu-item{active}">'
            f'<a href="/section/{section}/">{esc(t["nav_" + section])}</a></li>'
        )
    menu = "\n      ".join(items)
    return f"""<a class="skip-link screen-reader-text" href="#main">{esc(t["skip_link"])}</a>
<header class="site-header" role="banner">
  <div class="site-header__inner container">
    <a class="site-logo" href="/" rel="home"><img src="/static/logo.svg" alt="{SITE_NAME}"
       width="220" height="40"></a>
    <nav class="main-nav" aria-label="Main menu"><ul class="menu">
      {menu}
    </ul></nav>
  </div>
</header>"""


def cookie_banner(t: Strings) -> str:
    return f"""<div id="cookie-consent" class="cookie-banner" role="dialog" aria-live="polite">
  <p class="cookie-banner__text">{esc(t["cookie_text"])}</p>
  <div class="cookie-banner__actions">
    <button type="button" class="btn btn--primary js-cookie-accept"
      >{esc(t["cookie_accept"])}</button>
    <a class="cookie-banner__settings" href="/about/privacy.html">{esc(t["cookie_settings"])}</a>
  </div>
</div>"""


def share_bar(t: Strings, url: str, title: str) -> str:
    u, q = quote(url, safe=""), quote(title, safe="")
    return f"""<div class="share-bar">
  <span class="share-bar__label">{esc(t["share_label"])}</span>
  <a class="share share--facebook" href="https://www.facebook.com/sharer/sharer.php?u={u}"
     rel="noopener" target="_blank">{esc(t["share_facebook"])}</a>
  <a class="share share--twitter" href="https://twitter.com/intent/tweet?url={u}&amp;text={q}"
     rel="noopener" target="_blank">{esc(t["share_twitter"])}</a>
  <a class="share share--email" href="mailto:?subject={q}&amp;body={u}">{esc(t["share_email"])}</a>
</div>"""


def newsletter(t: Strings) -> str:
    return f"""<div class="newsletter-signup" id="newsletter">
  <h3 class="newsletter-signup__title">{esc(t["newsletter_heading"])}</h3>
  <p class="newsletter-signup__text">{esc(t["newsletter_text"])}</p>
  <form class="newsletter-signup__form" action="/newsletter/subscribe" method="post">
    <input type="email" name="email" placeholder="{esc(t["newsletter_placeholder"])}" required>
    <button type="submit" class="btn">{esc(t["newsletter_button"])}</button>
  </form>
  <p class="newsletter-signup__legal"><small>{esc(t["newsletter_legal"])}</small></p>
</div>"""


def social_follow(t: Strings) -> str:
    icons = "".join(
        f'<li><a class="icon icon--{name.lower()}" href="https://www.{name.lower()}.com/'
        f'samplegazette" aria-label="{name}" rel="noopener"></a></li>'
        for name in ("Twitter", "Facebook", "Instagram")
    )
    return f"""<div class="social-follow">
  <p class="social-follow__text">{esc(t["follow_us"])}</p>
  <ul class="social-follow__links">{icons}</ul>
</div>"""


def link_list(
    css_class: str, heading: str, links: Iterable[tuple[str, str]], ordered: bool = False
) -> str:
    tag = "ol" if ordered else "ul"
    items = "\n    ".join(f'<li><a href="{esc(href)}">{esc(text)}</a></li>' for text, href in links)
    return f"""<aside class="{css_class} widget">
  <h2 class="widget-title">{esc(heading)}</h2>
  <{tag}>
    {items}
  </{tag}>
</aside>"""


def site_footer(t: Strings, extra_links: Iterable[tuple[str, str]] = ()) -> str:
    links = [
        (t["footer_imprint"], "/about/imprint.html"),
        (t["footer_contact"], "/about/contact.html"),
        (t["footer_privacy"], "/about/privacy.html"),
        *extra_links,
    ]
    items = "".join(f'<li><a href="{esc(href)}">{esc(text)}</a></li>' for text, href in links)
    return f"""<footer class="site-footer" role="contentinfo">
  <div class="site-footer__brand">
    <img src="/static/logo.svg" alt="" width="160" height="30">
    <p class="site-footer__tagline">{esc(t["footer_tagline"])}</p>
  </div>
  <nav class="footer-links" aria-label="Footer"><ul>{items}</ul></nav>
  <p class="copyright">{esc(t["footer_copyright"])}</p>
</footer>"""
