"""HTML pages of The Sample Gazette: article, home, section listing, error and odd pages.

Pages are built with plain string formatting (no template engine dependency). An article
page carries what a real CMS emits around a story (metadata, JSON-LD, share bar, inline
"Read more" teaser, ad slot, newsletter box, related and most-read lists) so that the
crawler's extraction is tested against realistic clutter.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .article import Article
from .assets import hero_figure, hero_path, lazy_chart
from .content import Locale
from .layout import (
    SECTIONS,
    SITE_NAME,
    cookie_banner,
    document,
    esc,
    json_ld,
    link_list,
    newsletter,
    share_bar,
    site_footer,
    site_header,
    social_follow,
)

PRIVATE_MEMO_PATH = "/private/internal-memo.html"
OLD_STORY_PATH = "/old/story-2019"
LEGAL_PAGES: dict[str, tuple[str, str]] = {
    "/about/imprint.html": (
        "Imprint",
        "The Sample Gazette is published by Sample Gazette Media Ltd, 1 Harbour Street. "
        "Editor-in-chief: Rosalind Hart.",
    ),
    "/about/contact.html": (
        "Contact",
        "Newsroom: newsroom@sample-gazette.invalid. Tips and reader stories are welcome.",
    ),
    "/about/privacy.html": (
        "Privacy policy",
        "We store the minimum of data needed to run this site and our newsletter.",
    ),
}

_PROMO_LINKS = {
    "Google News": "https://news.google.com/publications/sample-gazette",
    "YouTube": "https://www.youtube.com/@samplegazette",
    "Reddit": "https://www.reddit.com/r/samplegazette",
    "LinkedIn": "https://www.linkedin.com/company/samplegazette",
    "Twitter": "https://twitter.com/samplegazette",
    "Facebook": "https://www.facebook.com/samplegazette",
    "AppStore": "https://apps.apple.com/app/news360",
    "GooglePlay": "https://play.google.com/store/apps/details?id=com.news360",
}
_PROMO_RE = re.compile(r"\b(" + "|".join(map(re.escape, _PROMO_LINKS)) + r")\b")


@dataclass(frozen=True)
class Theme:
    """Per-language UI strings and date formats: what localises the chrome."""

    strings: Mapping[str, Mapping[str, str]]
    locales: Mapping[str, Locale]


# -- which other stories a page links ------------------------------------------------


def teaser_target(article: Article, others: Sequence[Article]) -> Article | None:
    """The story the inline "Read more:" teaser points at: the previous one in its language."""
    same = [a for a in others if a.lang == article.lang and a.slug != article.slug]
    older = [a for a in same if a.published < article.published]
    pool = sorted(older or same, key=lambda a: a.published, reverse=True)
    return pool[0] if pool else None


def related(article: Article, others: Sequence[Article], n: int = 3) -> list[Article]:
    """Same language first, same section first, then closest in time."""
    pool = [a for a in others if a.slug != article.slug]

    def rank(a: Article) -> tuple[bool, bool, float, str]:
        gap = abs((a.published - article.published).total_seconds())
        return (a.lang != article.lang, a.section != article.section, gap, a.slug)

    return sorted(pool, key=rank)[:n]


def most_read(others: Sequence[Article], lang: str | None, exclude: str = "") -> list[Article]:
    """A stable, date-independent pick of five stories, like a popularity widget."""
    pool = [a for a in others if a.slug != exclude and (lang is None or a.lang == lang)]
    return sorted(pool, key=lambda a: hashlib.sha1(a.slug.encode()).hexdigest())[:5]


def neighbours(article: Article, others: Sequence[Article]) -> tuple[Article, Article] | None:
    """Previous (older) and next (newer) story in the same language, wrapping around."""
    same = sorted((a for a in others if a.lang == article.lang or a.slug == article.slug),
                  key=lambda a: (a.published, a.slug))
    if len(same) < 2 or article not in same:
        return None
    i = same.index(article)
    return same[i - 1], same[(i + 1) % len(same)]


# -- article page -------------------------------------------------------------------


def _body_block(article: Article, index: int, text: str) -> str:
    if index in article.subheadings:
        return f"<h2>{esc(text)}</h2>"
    html = esc(text)
    for phrase, href in article.body_links:
        escaped = esc(phrase)
        html = html.replace(escaped, f'<a href="{esc(href)}">{escaped}</a>', 1)
    return f"<p>{html}</p>"


def _promo(line: str) -> str:
    html = _PROMO_RE.sub(
        lambda m: f'<a href="{esc(_PROMO_LINKS[m.group(1)])}" rel="noopener">{m.group(1)}</a>',
        esc(line),
    )
    if line.startswith(">>"):
        html = f'<a href="/about/contact.html">{html}</a>'
    return f'<p class="promo">{html}</p>'


def post_navigation(t: Mapping[str, str], article: Article, others: Sequence[Article]) -> str:
    pair = neighbours(article, others)
    if pair is None:
        return ""
    cells = "".join(
        f'<div class="nav-{css}"><a href="{esc(a.path)}" rel="{rel}">'
        f'<span class="meta-nav">{esc(t[key])}</span> '
        f'<span class="post-title">{esc(a.title)}</span></a></div>'
        for css, rel, key, a in (("previous", "prev", "prev_article", pair[0]),
                                 ("next", "next", "next_article", pair[1]))
    )
    return f'<nav class="post-navigation" aria-label="Posts">{cells}</nav>'


def article_page(
    theme: Theme, base: str, article: Article, others: Sequence[Article], cdn: str | None = None
) -> str:
    t = theme.strings[article.lang]
    loc = theme.locales[article.lang]
    url = base + article.path
    published, updated = article.published.isoformat(), article.updated.isoformat()
    cdn = cdn or base  # the image host (SampleSite's second loopback host)

    if article.teaser is not None:
        teaser_text, teaser_href = article.teaser
    else:
        target = teaser_target(article, others)
        teaser_text, teaser_href = (target.title, target.path) if target else ("", "")
    teaser = (
        f'<p class="read-more"><strong>{esc(t["read_more"])}</strong> '
        f'<a href="{esc(teaser_href)}">{esc(teaser_text)}</a></p>'
        if teaser_text else ""
    )
    ad = (
        f'<div class="ad-slot ad-slot--inarticle" data-ad-unit="in-article-1">'
        f'<span class="ad-slot__label">{esc(t["advertisement"])}</span></div>'
    )
    blocks: list[str] = []
    for i, text in enumerate(article.paragraphs):
        if i == 1:
            blocks.append(lazy_chart())
        if i == article.teaser_after and teaser:
            blocks.append(teaser)
        if i == 3:
            blocks.append(ad)
        blocks.append(_body_block(article, i, text))
    if article.teaser_after >= len(article.paragraphs) and teaser:
        blocks.append(teaser)
    promos = [ln for ln in article.inline_boilerplate if ln != article.author]
    if promos:
        blocks.append('<div class="post-promos">' + "".join(map(_promo, promos)) + "</div>")
    author_box = (
        '<div class="author-box"><img class="author-box__avatar" src="/static/logo.svg" alt=""'
        f' width="48" height="48"><span class="author-box__name">{esc(article.author)}</span>'
        "</div>"
        if article.author in article.inline_boilerplate else ""
    )
    updated_html = (
        f' <span class="updated-on">{esc(t["updated_label"])} <time class="updated" '
        f'datetime="{updated}">{esc(loc.format_datetime(article.updated))}</time></span>'
    )
    tags = "".join(f'<li><span class="tag">{esc(tag)}</span></li>' for tag in article.tags)
    section_label = theme.strings["en"]["nav_" + article.section]
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "headline": article.title,
        "description": article.summary,
        "author": {"@type": "Person", "name": article.author},
        "datePublished": published,
        "dateModified": updated,
        "inLanguage": article.lang,
        "articleSection": section_label,
        "keywords": list(article.tags),
        "publisher": {
            "@type": "Organization",
            "name": SITE_NAME,
            "logo": {"@type": "ImageObject", "url": base + "/static/logo.svg"},
        },
    }
    tag_meta = "".join(
        f'\n<meta property="article:tag" content="{esc(tag)}">' for tag in article.tags
    )
    head = f"""<link rel="canonical" href="{esc(url)}">
<meta name="description" content="{esc(article.summary)}">
<meta name="author" content="{esc(article.author)}">
<meta name="robots" content="index, follow, max-image-preview:large">
<meta property="og:title" content="{esc(article.title)}">
<meta property="og:type" content="article">
<meta property="og:url" content="{esc(url)}">
<meta property="og:locale" content="{loc.og_locale}">
<meta property="og:site_name" content="{SITE_NAME}">
<meta property="og:description" content="{esc(article.summary)}">
<meta property="article:published_time" content="{published}">
<meta property="article:modified_time" content="{updated}">
<meta property="article:section" content="{esc(section_label)}">{tag_meta}
<meta property="og:image" content="{esc(base + hero_path(article.section, 1280))}">
<meta name="twitter:card" content="summary">
<script type="application/ld+json">
{json_ld(ld)}
</script>""" + "".join("\n" + extra for extra in article.head_extra)
    body_html = "\n      ".join(blocks)
    kicker, author = esc(t["nav_" + article.section]), esc(article.author)
    date = esc(loc.format_datetime(article.published))
    rel = [(a.title, a.path) for a in related(article, others)]
    top = [(a.title, a.path) for a in most_read(others, article.lang, exclude=article.slug)]
    body = f"""{cookie_banner(t)}
{site_header(t, article.section)}
<main id="main" class="site-main container">
  <div class="content-area">
    {share_bar(t, url, article.title)}
    <article id="post-{esc(article.slug)}" class="post type-post format-standard">
      <header class="entry-header">
        <a class="entry-kicker" href="/section/{article.section}/">{kicker}</a>
        <h1 class="entry-title">{esc(article.title)}</h1>
        <div class="entry-meta byline">
          <span class="byline__prefix">{esc(t["byline_prefix"])}</span>
          <span class="byline__author author vcard"><span class="fn">{author}</span></span>
          <span class="sep">·</span>
          <time class="entry-date published" datetime="{published}">{date}</time>{updated_html}
        </div>
      </header>
      {hero_figure(article.section, cdn)}
      <div class="article-body entry-content">
      {body_html}
      </div>
      {author_box}
      {newsletter(t)}
      {social_follow(t)}
      <footer class="entry-footer">
        <div class="entry-tags"><span class="entry-tags__label">{esc(t["tags_label"])}</span>
          <ul class="tags">{tags}</ul></div>
      </footer>
    </article>
    {post_navigation(t, article, others)}
  </div>
  <div class="sidebar">
  {link_list("related", t["related_heading"], rel)}
  {link_list("most-read", t["most_read_heading"], top, ordered=True)}
  </div>
</main>
{site_footer(t)}"""
    return document(
        lang=article.lang, title=f"{article.title} – {SITE_NAME}", head=head, body=body,
        body_class=f"single single-post section-{article.section}",
    )


# -- listings -----------------------------------------------------------------------


def _teaser(theme: Theme, article: Article) -> str:
    label = theme.strings["en"]["nav_" + article.section]
    when = theme.locales["en"].format_datetime(article.published)
    return f"""<article class="teaser" lang="{article.lang}">
      <a class="teaser__kicker" href="/section/{article.section}/">{esc(label)}</a>
      <h3 class="teaser__title"><a href="{esc(article.path)}">{esc(article.title)}</a></h3>
      <p class="teaser__summary">{esc(article.summary)}</p>
      <time class="teaser__date" datetime="{article.published.isoformat()}">{esc(when)}</time>
    </article>"""


def _listing_head(base: str, path: str, description: str, extra: str = "") -> str:
    return f"""<link rel="canonical" href="{esc(base + path)}">
<meta name="description" content="{esc(description)}">
<meta property="og:type" content="website">
<meta property="og:site_name" content="{SITE_NAME}">
<meta property="og:url" content="{esc(base + path)}">{extra}"""


def home_page(
    theme: Theme,
    base: str,
    latest: Sequence[Article],
    others: Sequence[Article],
    also: Sequence[tuple[str, str]],
) -> str:
    """Front page: sections, latest stories, odd pages (``also``), archive and intranet links."""
    t = theme.strings["en"]
    teasers = "\n    ".join(_teaser(theme, a) for a in latest)
    sections = "".join(
        f'<li><a href="/section/{s}/">{esc(t["nav_" + s])}</a></li>' for s in SECTIONS
    )
    extra = "".join(f'<li><a href="{esc(href)}">{esc(text)}</a></li>' for text, href in also)
    top = [(a.title, a.path) for a in most_read(others, None)]
    body = f"""{cookie_banner(t)}
{site_header(t)}
<main id="main" class="site-main container home">
  <h1 class="screen-reader-text">{SITE_NAME}</h1>
  <section class="top-stories">
    <h2 class="block-title">Latest news</h2>
    {teasers}
  </section>
  <section class="section-index"><h2 class="block-title">Sections</h2><ul>{sections}</ul></section>
  <section class="also-today"><h2 class="block-title">Also in the news</h2>
    <ul>{extra}</ul></section>
  <section class="from-the-archive"><h2 class="block-title">From the archive</h2>
    <ul><li><a href="{OLD_STORY_PATH}">2019: When the Arle burst its banks</a></li></ul></section>
  {link_list("most-read", t["most_read_heading"], top, ordered=True)}
</main>
{site_footer(t, [("Staff intranet", PRIVATE_MEMO_PATH)])}"""
    head = _listing_head(base, "/", "News from around the world in five languages.")
    return document(
        lang="en", title=f"{SITE_NAME} – News from around the world", head=head, body=body,
        body_class="home",
    )


def section_page(
    theme: Theme, base: str, section: str, page: int, pages: int, items: Sequence[Article]
) -> str:
    t = theme.strings["en"]
    label = t["nav_" + section]
    path = section_path(section, page)
    nav: list[str] = []
    links = ""
    if page > 1:
        prev_path = section_path(section, page - 1)
        nav.append(f'<a class="pagination__newer" rel="prev" href="{prev_path}">Newer articles</a>')
        links += f'\n<link rel="prev" href="{esc(base + prev_path)}">'
    nav.append(f'<span class="pagination__status">Page {page} of {pages}</span>')
    if page < pages:
        next_path = section_path(section, page + 1)
        nav.append(f'<a class="pagination__older" rel="next" href="{next_path}">Older articles</a>')
        links += f'\n<link rel="next" href="{esc(base + next_path)}">'
    teasers = "\n    ".join(_teaser(theme, a) for a in items)
    body = f"""{cookie_banner(t)}
{site_header(t, section)}
<main id="main" class="site-main container archive">
  <header class="archive-header"><h1 class="archive-title">{esc(label)}</h1></header>
  <div class="archive-list">
    {teasers}
  </div>
  <nav class="pagination" aria-label="Pagination">{" ".join(nav)}</nav>
</main>
{site_footer(t)}"""
    head = _listing_head(base, path, f"{label} news from {SITE_NAME}.", links)
    title = f"{label} – {SITE_NAME}" + (f" – Page {page}" if page > 1 else "")
    return document(
        lang="en", title=title, head=head, body=body, body_class=f"archive section-{section}"
    )


def section_path(section: str, page: int = 1) -> str:
    return f"/section/{section}/" if page == 1 else f"/section/{section}/page/{page}/"


# -- error and odd pages ------------------------------------------------------------


def simple_page(
    theme: Theme, title: str, message: str, *, robots: str = "", body_class: str = "page"
) -> str:
    t = theme.strings["en"]
    head = f'<meta name="robots" content="{robots}">' if robots else ""
    body = f"""{cookie_banner(t)}
{site_header(t)}
<main id="main" class="site-main container">
  <article class="page">
    <h1 class="page-title">{esc(title)}</h1>
    <p>{esc(message)}</p>
  </article>
</main>
{site_footer(t)}"""
    return document(
        lang="en", title=f"{title} – {SITE_NAME}", head=head, body=body, body_class=body_class
    )


def not_found_page(theme: Theme) -> str:
    return simple_page(
        theme, "Page not found",
        "Sorry, the page you were looking for does not exist or has been removed. "
        "Try the home page or one of our sections.",
        robots="noindex", body_class="error404",
    )


def memo_page(theme: Theme) -> str:
    return simple_page(
        theme, "INTERNAL: Staffing plan for the election night desk",
        "Not for publication. Night editors start at 18:00; the live blog goes up at 21:00. "
        "This page is disallowed in robots.txt and must never be crawled.",
        robots="noindex, nofollow", body_class="private",
    )
