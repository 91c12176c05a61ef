"""A pool of recogniser processes for the FastAGI server: pre-warmed pocketsphinx decoders, one
worker per core.

Why processes: the FastAGI server is one asyncio process for every call. pocketsphinx's decoder
holds the GIL while it searches, so decodes in worker threads ran one at a time, and under load the
thread pool also built new decoders (~1 s of model loading each, GIL held) on callers' turns: the
speech turn measured 35 s at 20 calls and 90 s at 50 (benchmarks/results/bot_latency.md, before).
Each worker here loads one decoder per grammar once, at start-up (`start()` waits for that), so a
turn costs only reading the recording and searching it, on its own core.

The workers read the recording from the shared filesystem by path: sending the audio through the
pool's pipe would copy it twice for nothing.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from dialer.bot.asr import AsrError, PocketsphinxEngine

# The worker's engine: set once by the pool initializer in each worker process (never in the server).
_ENGINE: PocketsphinxEngine | None = None


def _init_worker() -> None:
    global _ENGINE
    _ENGINE = PocketsphinxEngine()
    _ENGINE.warm()


def _ready() -> int:
    return os.getpid()


def _transcribe(wav_path: str, grammar: str, language: str) -> str:
    if _ENGINE is None:   # pragma: no cover - the initializer always ran
        raise AsrError("recogniser worker was not initialised")
    return _ENGINE.transcribe(Path(wav_path), grammar, language)


def default_workers() -> int:
    """One worker per core this process may run on: more would only queue inside the kernel."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class RecognizerPool:
    """`AsrEngine` over worker processes. `transcribe` blocks its calling thread (the runner calls it
    through `asyncio.to_thread`) while a worker decodes; the server's event loop never waits."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        # spawn, not fork: the server has threads (asyncio's executor) and a forked child could
        # inherit a lock held by one of them.
        self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_init_worker,
                                         mp_context=multiprocessing.get_context("spawn"))

    def start(self) -> "RecognizerPool":
        """Start every worker and wait until each has loaded its decoders (a few seconds)."""
        # ProcessPoolExecutor starts workers on demand; submitting one job per worker at once makes
        # it start all of them, and each job returns only after its worker's initializer ran.
        pids = {f.result(timeout=120) for f in [self._pool.submit(_ready) for _ in range(self.workers)]}
        if not pids:
            raise AsrError("no recogniser worker started")
        return self

    def supports(self, language: str) -> bool:
        return language.lower().startswith("en")

    def transcribe(self, wav_path: Path, grammar: str, language: str) -> str:
        if not self.supports(language):
            return ""
        return self._pool.submit(_transcribe, str(wav_path), grammar, language).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "RecognizerPool":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
