"""A time budget for work the trusted process does on student text (parsing, normalizing, the rubric).

Every such step is written to run in linear time, but a budget makes a missed case cost one submission
a few seconds instead of the batch hours: past the budget, ``BudgetExceeded`` is raised inside the step.
It uses a real-time interval timer, so it works in the main thread of a process (the local process
pool and `--jobs 1` run each submission there); elsewhere (a Dask worker thread) it does nothing, and
the linear-time code is the only guard.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class BudgetExceeded(TimeoutError):
    """A step on student text ran past its time budget."""


@contextmanager
def time_budget(seconds: float, what: str) -> Iterator[None]:
    """Raise BudgetExceeded in the block if it runs longer than ``seconds``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def expire(signum, frame):
        raise BudgetExceeded(f"{what} took more than {seconds:g} s (time budget) and was stopped")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
