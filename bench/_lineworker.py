"""A load-generator process driven over its standard input and output, one line each way.

The benchmarks' load generators (``_sioload.py`` for ``connections.py``, ``_queueload.py`` for
``bigqueue.py``) run as their own processes, so that the clients do not share the interpreter
with what they measure. Each reads one command per line and answers each with one JSON object.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from bench._server import ROOT, bench_env

__all__ = ["LineWorker"]

LINE_LIMIT = 64 * 1024 * 1024
"""Answers carry every sample of a stage: far longer than asyncio's default line limit."""


class LineWorker:
    """One load-generator process and its line protocol."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @staticmethod
    async def spawn(module: str, *args: str, workdir: Path) -> asyncio.subprocess.Process:
        """``python -m module args...`` with the benchmark's environment, pipes both ways."""
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
            env=bench_env(workdir),
            limit=LINE_LIMIT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError("a load worker died")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        return await self._read()

    async def stop(self) -> None:
        """Ask the worker to quit; kill it if it has not within a minute."""
        if self.process.returncode is None and self.process.stdin is not None:
            with contextlib.suppress(ConnectionError):
                self.process.stdin.write(b"quit\n")
                await self.process.stdin.drain()
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
