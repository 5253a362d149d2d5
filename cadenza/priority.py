"""Background work runs nicer than the event loop, so a burst of interactions is answered in time.

Discord drops an interaction that gets no first response within 3 s. On a small machine the bot's
event loop shares the cores with the composer (the engine thread, or worker processes) and the
renderers; those are throughput work and can wait a few milliseconds, the event loop cannot. On Linux
a nice value belongs to one thread, and threads a thread starts inherit it.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)


def run_nicer(increment: int) -> None:
    """Lower the calling thread's CPU priority by `increment` (0 = leave it); never fails the caller."""
    if increment <= 0 or not hasattr(os, "setpriority"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + increment))
    except OSError as e:  # e.g. a sandbox that forbids it: run at normal priority
        log.debug("could not lower thread priority: %s", e)
