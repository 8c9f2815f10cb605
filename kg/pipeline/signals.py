"""Stopping kg cleanly: the stop signals (SIGINT, SIGTERM, SIGHUP) become `Interrupted` in the
main thread (`interruptible`), sections that must not be interrupted defer them, and each
worker process ignores them and dies with its parent (`worker_started`). Touches only signal
handlers, signal masks and, in a worker, its own process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial

#: The signals that stop kg. The CLI turns them into `Interrupted` (see `interruptible`); the
#: workers ignore them: their parent stops them (a Ctrl-C reaches the whole process group).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Stop:
    """What `interruptible`'s signal handler saw: the first stop signal (None: none yet), and
    whether the main thread is in a section where it must not raise (`stop_signals_deferred`)."""

    received: int | None = None
    deferring = 0


@contextlib.contextmanager
def stop_signals_deferred() -> Iterator[None]:
    """A section a stop signal must not interrupt; it raises `Interrupted` at its end instead.

    Used around the pool's fork of its workers: `STOP_SIGNALS` are blocked in this thread, so
    a worker forked here starts with them blocked (and is never stopped by one before
    `worker_started` ignores them), and the handler does not raise here either: it would
    raise inside the interpreter's fork hooks, which print and drop any exception.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    _Stop.deferring += 1
    try:
        yield
    finally:
        _Stop.deferring -= 1
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    check_stopped()


def check_stopped() -> None:
    """Raise `Interrupted` if a stop signal arrived (a checkpoint: also where a signal's first
    exception may have been dropped, raised where the interpreter ignores exceptions)."""
    if _Stop.received is not None:
        raise Interrupted(_Stop.received)


def worker_started(parent: int, forked: bool) -> None:
    """Initializer of each worker process: it ignores `STOP_SIGNALS` and dies with `parent`.

    On Linux the kernel kills the worker when the thread that forked it ends
    (PR_SET_PDEATHSIG; the pool forks its workers from the thread running the export, which
    lasts as long as the export), however the parent ends, kill -9 included; elsewhere a
    thread checks every second that the parent is alive. A parent gone before this ran is
    seen here: a forked worker has another parent then (a zombie parent still answers kill 0).
    """
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    if not _set_parent_death_signal():
        watch = partial(_watch_parent, parent, forked)
        threading.Thread(target=watch, name="kg-parent", daemon=True).start()
    if _parent_gone(parent, forked):
        os._exit(1)


#: prctl(2) option: the signal this process gets when its parent ends.
_PR_SET_PDEATHSIG = 1


def _set_parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent ends; False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        arg = ctypes.c_ulong
        return bool(libc.prctl(_PR_SET_PDEATHSIG, arg(signal.SIGKILL), arg(0), arg(0), arg(0)) == 0)
    except (OSError, AttributeError):  # no libc prctl (another C library)
        return False


def _watch_parent(parent: int, forked: bool) -> None:
    while not _parent_gone(parent, forked):
        time.sleep(1.0)
    os._exit(1)


def _parent_gone(parent: int, forked: bool) -> bool:
    """The export process `parent` has ended: a worker it forked has another parent then (the
    test that holds even while `parent` is a zombie, which still answers kill 0); a worker
    started otherwise (a fork server's) asks the system whether `parent` still exists."""
    if forked:
        return os.getppid() != parent
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process: the pid was reused
        return True
    return False


class Interrupted(KeyboardInterrupt):
    """One of `STOP_SIGNALS` arrived (raised where the main thread was; see `interruptible`)."""

    def __init__(self, signum: int) -> None:
        self.signame = signal.Signals(signum).name
        super().__init__(self.signame)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """While in the block, `STOP_SIGNALS` raise `Interrupted` in the main thread, so kg stops
    the way it stops on an error: temporaries removed, workers killed, a commit of the outputs
    put back, the lock released. A second signal while that runs ends the process at once
    (exit 2; what is left is cleaned by the next export). A signal ignored when kg started
    (nohup, a background job) stays ignored. Does nothing outside the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if _Stop.received is not None:
            os.write(2, f"kg: {signal.Signals(signum).name} again: stopped at once\n".encode())
            os._exit(2)
        _Stop.received = signum
        if not _Stop.deferring:
            raise Interrupted(signum)

    previous = {}
    _Stop.received = None
    for signum in STOP_SIGNALS:
        current = signal.getsignal(signum)
        if current != signal.SIG_IGN:
            previous[signum] = signal.SIG_DFL if current is None else current
            signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        _Stop.received = None
