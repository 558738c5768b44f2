"""``python -m newsarchive.sample_site``: serve the sample site until Ctrl-C."""

from __future__ import annotations

import argparse
import sys

from .site import serve_forever


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m newsarchive.sample_site")
    parser.add_argument("--host", default="127.0.0.1")  # loopback unless asked otherwise
    parser.add_argument("--port", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        serve_forever(args.host, args.port, on_ready=lambda url: print(url, flush=True))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
