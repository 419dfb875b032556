"""Worker processes that live and die with the run that started them.

A run killed with SIGKILL gets no chance to stop its workers; left alone they would go on
training into the run's work folder, beside the re-run that resumes it. On Linux each worker
asks the kernel (``prctl(PR_SET_PDEATHSIG)``) to be killed when its parent dies; elsewhere,
and on any exception in the parent (Ctrl-C included), :func:`worker_pool` kills them itself.
Ctrl-C is the parent's to handle: workers ignore SIGINT and print no tracebacks.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(parent_pid: int, sig: int = signal.SIGKILL) -> None:
    """Have the kernel send ``sig`` to this process when its parent dies (Linux; else a no-op).

    ``parent_pid`` closes the race where the parent died before the request was made.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent_pid:
        print(f"dclm: worker {os.getpid()}: its run ({parent_pid}) ended before it started", file=sys.stderr)
        os._exit(1)


# Run by the child itself, before it becomes the command: a request made by the parent
# between fork and exec (preexec_fn) is unsafe in a process with threads.
_TRAMPOLINE = ("import ctypes, os, sys; ctypes.CDLL(None).prctl(1, int(sys.argv[2]), 0, 0, 0); "
               "os.getppid() == int(sys.argv[1]) or os._exit(1); os.execvp(sys.argv[3], sys.argv[3:])")


def dies_with_parent(command: list[str], sig: int = signal.SIGTERM) -> list[str]:
    """``command`` wrapped so that it gets ``sig`` when this process dies (Linux; else unchanged).

    SIGTERM by default, so a launcher (``accelerate launch``, torchrun) can stop its own
    workers on the way out.
    """
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-c", _TRAMPOLINE, str(os.getpid()), str(int(sig)), *command]


def _start_worker(parent_pid: int, initializer: Callable | None, initargs: tuple) -> None:
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked since its spawn, see _Pool
    # Library chatter (trainer summaries) goes to stderr, as in the parent: stdout is the result.
    sys.stdout = sys.stderr
    if initializer is not None:
        initializer(*initargs)


class _Pool:
    """The executor, with SIGINT blocked while ``submit`` spawns workers.

    The signal mask survives exec, so a worker starts with SIGINT blocked until its
    initializer ignores it: a Ctrl-C while workers start up prints no tracebacks from them.
    (multiprocessing starts its resource tracker the same way.)
    """

    def __init__(self, pool: ProcessPoolExecutor):
        self.pool = pool

    def submit(self, fn: Callable, /, *args, **kwargs):
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return self.pool.submit(fn, *args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def worker_pool(workers: int, initializer: Callable | None = None, initargs: tuple = ()) -> Iterator[_Pool]:
    """A spawn-context process pool whose workers die with this process; use its ``submit``.

    ``initializer(*initargs)`` runs in each worker after its parent-death setup. On an
    exception in the block (a failed job, Ctrl-C) the workers are killed rather than waited
    for, so the run ends now and leaves no process behind.
    """
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_start_worker,
                               initargs=(os.getpid(), initializer, initargs))
    try:
        yield _Pool(pool)
    except BaseException:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError, ValueError):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` torch threads, then give back the count it had.

    A tiny model trains many times faster on one thread than on two busy ones, but a job run
    in the reader's own kernel (one worker on a one-GPU Colab) must not leave that kernel
    single-threaded afterwards.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
