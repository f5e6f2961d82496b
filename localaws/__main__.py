"""`python -m localaws serve --port N`: the local AWS in the foreground."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localaws")
    sub = parser.add_subparsers(dest="verb", required=True)
    serve = sub.add_parser("serve", help="run the local AWS until stopped")
    serve.add_argument("--port", type=int, required=True, help="port to listen on")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--pace",
        type=float,
        default=0.0,
        help="0: operations end within their call (default); 0.05: at 5%% of AWS's typical times",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    # moto makes boto3 sessions of its own; a profile exported for real AWS in the shell that
    # started us (maybe one this machine lacks) means nothing here and would fail them
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(var, None)
    from localaws.server import LocalAws

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = LocalAws(host=args.host, port=args.port, pace=args.pace)
    paced = f" at pace {args.pace}" if args.pace else ""
    print(f"local AWS listening on http://{args.host}:{args.port}{paced}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
