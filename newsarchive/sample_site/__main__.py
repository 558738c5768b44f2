"""``python -m newsarchive.sample_site``: serve the sample site until Ctrl-C."""

from __future__ import annotations

import argparse

from .site import serve_forever


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m newsarchive.sample_site")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    serve_forever(args.host, args.port, on_ready=lambda url: print(url, flush=True))


if __name__ == "__main__":
    main()
