"""Wall-time budgets in seconds of the reference machine, scaled to the machine the tests run on.

Machines of this project's 2-core kind differ in speed: with the same code, the unit stage took
124 s on one CI machine and 300 s on another, and the tiny Monday run 309 s on one and 538 s on
another. A budget in plain seconds then fails on a slow machine for no fault of the code. So a
fixed CPU workload (training steps of a small torch MLP on one thread, and a Python loop, as the
experiments mix both) is timed on the machine running the tests, and a budget of B seconds
allows B × max(1, measured / REFERENCE_S): as strict as B on the reference machine or a faster
one, and scaled by the measured slowdown on a slower one.
"""

from __future__ import annotations

import functools
import time

# The workload's time (best of 5) on the reference machine: the 2-core machine of the 2026-12-08
# session, where the tiny Monday run took 309 s and the deconfound run 382 s.
REFERENCE_S = 0.96


def workload_seconds() -> float:
    """One timing of the fixed workload, in seconds."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        generator = torch.Generator().manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.GELU(), torch.nn.Linear(512, 256))
        optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3)
        x = torch.randn(64, 256, generator=generator)
        start = time.perf_counter()
        for _ in range(450):
            model(x).pow(2).mean().backward()
            optimiser.step()
            optimiser.zero_grad()
        total = 0
        for i in range(6_000_000):
            total += i % 7
        return time.perf_counter() - start
    finally:
        torch.set_num_threads(before)


@functools.cache
def slowdown() -> float:
    """How much slower than the reference machine this one is (1 or more); the best of 5 timings,
    because noise only ever adds time."""
    return max(1.0, min(workload_seconds() for _ in range(5)) / REFERENCE_S)


def budget(seconds: float) -> float:
    """``seconds`` of the reference machine, on this machine."""
    return seconds * slowdown()
