"""`cadenza worker` with one deliberate fault: a request whose genre is CRASH_GENRE kills the process.

It stands for the real thing we cannot stage honestly on a CPU: a request that makes a GPU worker die
outright (a CUDA driver fault, the kernel's OOM killer), with no Python exception to catch. The worker
is the production one (`launch.commands.worker.run`); only the engine class is swapped, and the process
dies by SIGKILL, so nothing in the worker gets a chance to clean up or reply.

Run as `python -m tests.scale.crashing_worker <the arguments of cadenza>`.
"""

from __future__ import annotations

import os
import signal
import sys

from model.engine import Engine, ProgressCallback
from model.request import GeneratedPiece, GenerationRequest

CRASH_GENRE = "crash-the-worker"


class CrashingEngine(Engine):
    """The real engine, except that a request for CRASH_GENRE kills the whole process."""

    async def generate(
        self, request: GenerationRequest, on_progress: ProgressCallback | None = None
    ) -> GeneratedPiece:
        """Die on the poison request; compose anything else normally."""
        if request.genre == CRASH_GENRE:
            os.kill(os.getpid(), signal.SIGKILL)
        return await super().generate(request, on_progress)


def main(argv: list[str]) -> int:
    """Parse `cadenza` arguments and run the worker subcommand with the crashing engine."""
    from cadenza.logs import setup_logging
    from launch.cli import build_parser
    from launch.commands import worker
    from launch.config import load_config

    args = build_parser().parse_args(argv)
    config = load_config(args.config)
    setup_logging(config.app.log_level, config.app.json_logs)
    return worker.run(args, config, engine_class=CrashingEngine)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
