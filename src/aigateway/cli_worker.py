"""``aigateway worker``: a process that only runs jobs, for scaling job work out beyond the
serve processes (which run jobs too unless AIGATEWAY_WORKER_IN_SERVE=false).

It builds the same application as ``serve`` and runs its lifespan without an HTTP server: the job
handlers then have the very same in-process pipeline, ledger writer and limits that a request has,
so a job's model calls are admitted, priced and billed exactly as the API's.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Annotated

import typer

from aigateway.cli_common import ConfigOpt, console, fail, open_engine
from aigateway.settings import Settings, load_settings


def worker_cmd(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Jobs run at once (AIGATEWAY_WORKER_CONCURRENCY, default 4)."),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Migrate storage and run queued jobs until stopped (SIGTERM or Ctrl-C)."""
    settings = load_settings(config=config, worker_concurrency=concurrency, worker_in_serve=True)
    if settings.worker_concurrency < 1:
        fail(f"A worker runs at least one job at a time, not {settings.worker_concurrency}.")
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    open_engine(settings).dispose()  # migrated, or one line saying why not
    asyncio.run(_run(settings))


async def _run(settings: Settings) -> None:
    from aigateway.app import create_app  # the web application is only built when a worker runs

    app = create_app(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with app.router.lifespan_context(app):
        runner = app.state.jobs_runner
        kinds = ", ".join(sorted(runner.handlers)) or "none yet"
        console.print(f"AIgateway worker {runner.owner} running jobs ({kinds}), {runner.concurrency} at once")
        await stop.wait()
    console.print("AIgateway worker stopped")
