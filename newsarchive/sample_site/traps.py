"""Hostile pages under ``/traps/``: what a crawler meets on a bad day on the real web.

Too-large bodies, a gzip bomb, redirect loops, an endless calendar, wrong or missing
charsets, binary served as HTML, 5 MB of nested tags, a 500 that heals on retry, a
server that never finishes, a connection reset mid-body. Each must cost the crawl one
URL, not the crawl. They are linked only from ``/traps/``, which nothing else on the
site links to, so a normal crawl of the site never meets them; tests start there.

Some traps misbehave at the socket level, which a ``Response`` cannot describe: they
return a ``raw`` writer that the handler hands the connection to after routing.
"""

from __future__ import annotations

import functools
import random
import re
import socket
import struct
import time
import zlib
from collections.abc import Callable

from .handler import HTML, Response

PREFIX = "/traps/"
INDEX_PATH = "/traps/"
HUGE_BYTES = 40 * 1024 * 1024  # past the crawler's default DOWNLOAD_MAXSIZE (32 MiB)
BOMB_BYTES = 64 * 1024 * 1024  # what the gzip bomb inflates to (~64 KB on the wire)
NESTED_DEPTH = 450_000  # <div> levels: about 5 MB of markup
SLOW_SECONDS = 120  # the slow server trickles a byte at a time for this long at most
CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR = 1, 9999

PATHS: dict[str, str] = {
    "huge": "/traps/huge-body-with-declared-length.html",
    "huge_streamed": "/traps/huge-body-streamed-without-length.html",
    "gzip_bomb": "/traps/gzip-bomb-inflates-to-64-mb.html",
    "redirect_loop": "/traps/loop/a",
    "redirect_chain": "/traps/redirect/1",
    "calendar": "/traps/calendar/2026/10/",
    "events": "/traps/events/2026/10/",
    "wrong_charset": "/traps/charset/claims-utf-8-sends-windows-1252.html",
    "missing_charset": "/traps/charset/sends-utf-8-without-saying-so.html",
    "binary": "/traps/binary-bytes-served-as-html.html",
    "nested": "/traps/five-megabytes-of-nested-tags.html",
    "flaky": "/traps/server-error-then-success-on-retry.html",
    "slow": "/traps/slow-server-never-finishes.html",
    "reset": "/traps/connection-reset-in-the-middle-of-the-body.html",
}
LOOP_PATHS = ("/traps/loop/a", "/traps/loop/b")
_CALENDAR = re.compile(r"/traps/(calendar|events)/(\d{1,4})/(\d{2})/")
_REDIRECT = re.compile(r"/traps/redirect/(\d{1,9})")

RawWriter = Callable[[socket.socket], None]

_STORY = (
    "The harbour authority confirmed on Tuesday that the old ferry terminal will close "
    "at the end of the year, after engineers found that the pier can no longer carry "
    "the weight of modern vehicles. Passengers will board from a temporary pontoon "
    "while the council decides whether to repair the structure or build a new one.",
    "Local businesses fear that the works will keep visitors away during the busiest "
    "months. The chamber of commerce asked for a clear timetable and for a shuttle bus "
    "between the station and the temporary pontoon, which lies further from the town.",
)
_FRENCH = (
    "Le conseil municipal a voté jeudi soir la rénovation complète de la médiathèque, "
    "fermée depuis l'été à cause d'infiltrations d'eau. Les travaux dureront dix-huit "
    "mois et coûteront près de quatre millions d'euros, financés en partie par la région.",
    "« C'est un lieu où l'on se retrouve, été comme hiver », a déclaré l'adjointe à la "
    "culture. Pendant la fermeture, un bibliobus passera chaque semaine dans les quartiers "
    "éloignés du centre, à côté des écoles et des maisons de retraite.",
)
_GERMAN = (
    "Die Stadtwerke erhöhen zum ersten Januar die Preise für Fernwärme um durchschnittlich "
    "zwölf Prozent. Grund seien die gestiegenen Kosten für Gas und die Umstellung auf "
    "größere Wärmepumpen, teilte das Unternehmen am Dienstag in Straßburg mit.",
    "Verbraucherschützer kritisieren die Erhöhung als überzogen und raten Kunden, ihre "
    "Abschlagszahlungen zu prüfen. Für Haushalte mit geringem Einkommen soll es einen "
    "Härtefallfonds geben, über dessen Höhe der Stadtrat im Dezember entscheidet.",
)


def _article(title: str, paragraphs: tuple[str, ...], lang: str = "en",
             meta_charset: bool = True, extra: str = "") -> str:
    charset = '<meta charset="utf-8">' if meta_charset else ""
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return (
        f'<!doctype html><html lang="{lang}"><head>{charset}<title>{title}</title>'
        '<meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2026-10-20T08:00:00+00:00">'
        f"</head><body><article><h1>{title}</h1>\n{body}{extra}</article>"
        '<p><a href="/traps/">All traps</a></p></body></html>\n'
    )


def index_page() -> bytes:
    links = "".join(f'<li><a href="{path}">{name}</a></li>\n' for name, path in PATHS.items())
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Traps</title></head>"
        f"<body><h1>Crawler traps</h1><ul>\n{links}</ul></body></html>\n"
    ).encode()


def _headers(status: str, content_type: str, length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", "Connection: close"]
    lines.append(f"Content-Length: {length}" if length is not None
                 else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_FILLER = b"<p>" + b"All work and no play makes a very large page. " * 1300 + b"</p>\n"


def _huge(declared: bool) -> RawWriter:
    """A body of HUGE_BYTES, with its length declared up front or streamed chunked."""

    def write(conn: socket.socket) -> None:
        conn.sendall(_headers("200 OK", HTML, HUGE_BYTES if declared else None))
        sent = 0
        while sent < HUGE_BYTES:
            piece = (_FILLER if sent else b"<!doctype html><html><body>" + _FILLER)
            piece = piece[: HUGE_BYTES - sent]
            conn.sendall(piece if declared else b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
        if not declared:
            conn.sendall(b"0\r\n\r\n")

    return write


def _deflate(data: bytes) -> bytes:
    """Raw deflate blocks ending in a full flush: they refer to nothing outside."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


@functools.cache
def gzip_bomb() -> bytes:
    """An HTML page of BOMB_BYTES (spaces, mostly) gzip-compressed to about 64 KB.

    Built from one compressed mebibyte repeated, which full flushes make legal, so it
    takes milliseconds rather than the second compressing 64 MiB would.
    """
    head, block, tail = b"<!doctype html><html><body>", b" " * (1 << 20), b"</body></html>"
    copies = BOMB_BYTES // len(block)
    crc = zlib.crc32(head)
    for _ in range(copies):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + copies * len(block) + len(tail)
    final = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()  # last, empty block
    stream = _deflate(head) + _deflate(block) * copies + _deflate(tail) + final
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip, deflate, mtime 0
    return header + stream + struct.pack("<II", crc, size & 0xFFFFFFFF)


@functools.cache
def nested_page() -> bytes:
    """An article page whose story sits under NESTED_DEPTH unclosed-then-closed divs."""
    story = "".join(f"<p>{p}</p>" for p in _STORY).encode()
    return (
        b"<!doctype html><html><head><meta charset='utf-8'><title>Nested</title>"
        b"<meta property='og:type' content='article'></head><body>"
        + b"<div>" * NESTED_DEPTH + story + b"</div>" * NESTED_DEPTH
        + b"</body></html>\n"
    )


def binary_body() -> bytes:
    """200 KB of random bytes (NULs included), fixed seed."""
    return random.Random(20261020).randbytes(200 * 1024)


def _slow(conn: socket.socket) -> None:
    """Headers and the start of a page at once, then one byte every 0.25 s."""
    page = _article("A server that never finishes", _STORY).encode()
    total = len(page) + 100_000
    conn.sendall(_headers("200 OK", HTML, total))
    conn.sendall(page)
    deadline = time.monotonic() + SLOW_SECONDS
    while time.monotonic() < deadline:  # the client gives up (timeout) long before
        time.sleep(0.25)
        conn.sendall(b" ")


def _reset(conn: socket.socket) -> None:
    """Promise a whole article, send half of it, then reset the connection (RST)."""
    page = _article("Connection reset in the middle of the body", _STORY * 20).encode()
    conn.sendall(_headers("200 OK", HTML, len(page)))
    conn.sendall(page[: len(page) // 2])
    time.sleep(0.2)  # let the client read what was sent before the reset
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _month(kind: str, year: int, month: int) -> Response | None:
    """A month of an endless calendar: links to the months and years either side."""
    if not (CALENDAR_FIRST_YEAR <= year <= CALENDAR_LAST_YEAR and 1 <= month <= 12):
        return None
    links = []
    for label, (y, m) in {
        "previous month": divmod(year * 12 + month - 2, 12),
        "next month": divmod(year * 12 + month, 12),
        "previous year": (year - 1, month - 1),
        "next year": (year + 1, month - 1),
    }.items():
        if CALENDAR_FIRST_YEAR <= y <= CALENDAR_LAST_YEAR:
            links.append(f'<a href="/traps/{kind}/{y:04d}/{m + 1:02d}/">{label}</a>')
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{kind} {year:04d}-"
        f"{month:02d}</title></head><body><h1>No events in {year:04d}-{month:02d}</h1>"
        f"<nav>{' | '.join(links)}</nav></body></html>\n"
    )
    return Response(body=page.encode(), validators=False)


def respond(path: str, hit: int) -> Response | None:
    """The trap at ``path`` (None: no such trap). ``hit`` counts requests for it, from 1."""
    if path == INDEX_PATH:
        return Response(body=index_page(), validators=False)
    if path in (PATHS["huge"], PATHS["huge_streamed"]):
        return Response(raw=_huge(declared=path == PATHS["huge"]))
    if path == PATHS["gzip_bomb"]:
        return Response(body=gzip_bomb(), headers={"Content-Encoding": "gzip"},
                        validators=False)
    if path in LOOP_PATHS:
        other = LOOP_PATHS[1 - LOOP_PATHS.index(path)]
        return Response(302, b"", headers={"Location": other}, validators=False)
    if match := _REDIRECT.fullmatch(path):
        target = f"/traps/redirect/{int(match.group(1)) + 1}"
        return Response(302, b"", headers={"Location": target}, validators=False)
    if match := _CALENDAR.fullmatch(path):
        return _month(match.group(1), int(match.group(2)), int(match.group(3)))
    if path == PATHS["wrong_charset"]:
        page = _article("Médiathèque: rénovation votée", _FRENCH, "fr")
        return Response(body=page.encode("cp1252"), validators=False)  # header says utf-8
    if path == PATHS["missing_charset"]:
        page = _article("Fernwärme wird teurer", _GERMAN, "de", meta_charset=False)
        return Response(body=page.encode("utf-8"), content_type="text/html", validators=False)
    if path == PATHS["binary"]:
        return Response(body=binary_body(), content_type="text/html", validators=False)
    if path == PATHS["nested"]:
        return Response(body=nested_page(), validators=False, compressible=True)
    if path == PATHS["flaky"]:
        if hit % 2:
            return Response(500, b"Internal Server Error\n", "text/plain; charset=utf-8",
                            validators=False)
        page = _article("The server recovered on the second try", _STORY)
        return Response(body=page.encode(), validators=False)
    if path == PATHS["slow"]:
        return Response(raw=_slow)
    if path == PATHS["reset"]:
        return Response(raw=_reset)
    return None
