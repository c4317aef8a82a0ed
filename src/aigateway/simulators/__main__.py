"""Run the upstream simulator: `python -m aigateway.simulators --host 127.0.0.1 --port 8787`."""

from __future__ import annotations

import argparse
from pathlib import Path

from aiohttp import web

from aigateway.simulators.server import SHUTDOWN_TIMEOUT, create_simulator_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m aigateway.simulators", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument(
        "--recordings",
        type=Path,
        default=None,
        help="directory of provider recordings (default: tests/fixtures/provider-recordings if present)",
    )
    args = parser.parse_args(argv)
    app = create_simulator_app(args.recordings)
    web.run_app(
        app,
        host=args.host,
        port=args.port,
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )


if __name__ == "__main__":
    main()
