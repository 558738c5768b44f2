"""Pages a crawler meets in the wild but should not choke on: bad HTML, binary, empty, PDF.

They sit under the article URL pattern (except the PDF) so that a crawler that follows
article links reaches them; each must be survived, not necessarily archived as text.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

BROKEN_PATHS: dict[str, str] = {
    "broken_html": "/news/2026/10/14/council-budget-row-deepens.html",
    "binary": "/news/2026/10/15/markets-live-data-feed.html",
    "empty": "/news/2026/10/16/election-night-live-blog.html",
}
BROKEN_TITLES: dict[str, str] = {
    "broken_html": "Council budget row deepens as auditors question spending",
    "binary": "Markets live: prices and data",
    "empty": "Live: election night as it happens",
}
REMOVED_PATH = "/news/2026/10/01/this-story-was-removed.html"
PDF_PATH = "/files/annual-report-2026.pdf"
ODDITIES_DATE = datetime(2026, 10, 16, 8, 0, tzinfo=UTC)


def broken_html() -> bytes:
    """Unclosed and stray tags, bad entities, an unterminated script, stray invalid UTF-8.

    The story text (English) is still there for an extractor that recovers from errors.
    """
    return b"".join([
        b"<html><head><title>Council budget row deepens as auditors question spending</title>\n",
        b'<meta charset="utf-8"><meta name="author" content="Hannah Whitcombe>\n',
        b'<body><div id="wrap"><div class="header"><a href="/">The Sample Gazette</a>\n',
        b"</div></div></div></span>\n",
        b"<article><h1>Council budget row deepens as auditors question spending</h2>\n",
        b'<p class="byline">By Hannah Whitcombe\n',
        b'<div class="article-body">\n',
        b"<p>The row over the city council's budget deepened on Thursday after external "
        b"auditors said they could not confirm how almost four million pounds set aside for "
        b"road repairs had been spent.\n",
        b"<p>In a letter to councillors, the auditors said that invoices for several contracts "
        b"were missing and that some payments had been approved without the required "
        b"signatures. <b>They stopped short of alleging wrongdoing, <i>but said the council's "
        b"financial controls were not fit for purpose.</b></i>\n",
        b"</div></td></tr></table>\n",
        b"<p>The council's finance director said the documents existed but had been stored in "
        b"an old computer system that was switched off last year. Nothing has gone missing "
        b"except some paperwork, she told the committee.\n",
        b'<<<>>> &&nbsp &#xZZZZ; <div <div class="x" """ =\xff\xfe garbage \xc3\x28 </>\n',
        b"<p>Opposition councillors have called for an independent inquiry and asked for the "
        b"budget vote, due next week, to be postponed until the auditors have finished their "
        b"work.\n",
        b"<table><tr><td>Related: <a href='/section/world/'>More local news</a>\n",
        b"<p>The council will publish a full response to the letter by the end of the month.\n",
        b"</div></div></div></div>\n",
        b"<script>document.write('<p>unterminated",
    ])


def binary_body() -> bytes:
    """Random bytes (fixed seed) served as ``text/html``."""
    return random.Random(20261015).randbytes(3000)


def annual_report_pdf() -> bytes:
    """A small but valid one-page PDF 1.4 with a correct cross-reference table."""
    text = (
        b"BT /F1 20 Tf 72 720 Td (Skylark Airways - Annual Report 2026) Tj ET\n"
        b"BT /F1 12 Tf 72 690 Td (Pre-tax profit: 18.4 million pounds.) Tj ET\n"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%sendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title (Skylark Airways Annual Report 2026) /Producer (The Sample Gazette) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
