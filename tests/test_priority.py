"""Background threads lower only their own priority; the caller's thread keeps its own."""

from __future__ import annotations

import os
import threading

from cadenza.priority import run_nicer


def test_run_nicer_lowers_only_the_calling_thread() -> None:
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: dict[str, int] = {}

    def background() -> None:
        run_nicer(3)
        seen["worker"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        child = threading.Thread(
            target=lambda: seen.update(child=os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        )
        child.start()
        child.join()

    t = threading.Thread(target=background)
    t.start()
    t.join()
    assert seen["worker"] == min(19, mine + 3)
    assert seen["child"] == seen["worker"]  # threads it starts (OpenMP, render slices) inherit it
    assert (
        os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
    )  # the event loop's thread is untouched
    run_nicer(0)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
