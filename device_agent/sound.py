"""The desktop's own sound card for the conversation: the agent's voice out of the speakers, the
customer's microphone in after "Talk".

Uses `sounddevice <https://python-sounddevice.readthedocs.io>`_ (PortAudio), an optional
dependency (``pip install 'mayday[voice]'``; Debian's ``libportaudio2``): a machine without it,
or without any sound device, still shares its screen, chats and is controlled, only silently
(:func:`unavailable` says why). The streams are opened only while they are needed: the output
while a session runs, the microphone only while the customer talks.

PortAudio calls the stream callbacks on its own thread: the output callback only copies from a
buffer filled on the event loop (under a lock, never blocking on the loop), and the input callback
hands each block to the loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections import deque
from typing import Any

import numpy as np
import structlog

from .voice import FRAME_SAMPLES, SAMPLE_RATE, Pcm, Voice, rms

__all__ = ["DesktopSound", "unavailable"]

log = structlog.get_logger("mayday.device.sound")

MAX_QUEUED_S = 0.4
"""The agent's voice waiting for the sound card beyond this is dropped (oldest first)."""


def _sounddevice() -> Any:
    """The ``sounddevice`` module (no type hints of its own), or an ``ImportError``/``OSError``."""
    return importlib.import_module("sounddevice")


def unavailable() -> str | None:
    """Why the desktop cannot play or record, or ``None`` when it can."""
    try:
        sd = _sounddevice()
    except ImportError:
        return "sounddevice is not installed (pip install 'mayday[voice]')"
    except OSError as exc:  # PortAudio's library is missing
        return f"PortAudio is not available ({exc})"
    try:
        sd.query_devices(kind="output")
    except Exception as exc:  # PortAudioError, ValueError: no default device
        return f"no sound output ({exc})"
    return None


class DesktopSound:
    """Plays :class:`~device_agent.voice.Voice`'s agent and records its customer on this machine."""

    def __init__(
        self,
        voice: Voice,
        *,
        output_device: int | str | None = None,
        input_device: int | str | None = None,
    ) -> None:
        self.voice = voice
        self.output_device = output_device
        self.input_device = input_device
        self.blocks_played = 0
        """Output callbacks that had the agent's voice to play (for tests)."""
        self.played_peak = 0.0
        self.blocks_recorded = 0
        self._sd = _sounddevice()
        self._loop = asyncio.get_running_loop()
        self._lock = threading.Lock()
        self._queue: deque[Pcm] = deque()
        self._queued = 0
        self._output: Any = None
        self._input: Any = None
        voice.listeners.append(self.play)
        voice.watchers.append(self._follow)
        self._follow()

    def play(self, pcm: Pcm) -> None:
        """The agent's voice (event loop): queued for the output callback."""
        if self._output is None:
            return
        with self._lock:
            self._queue.append(pcm)
            self._queued += pcm.size
            while self._queued > MAX_QUEUED_S * SAMPLE_RATE and len(self._queue) > 1:
                self._queued -= self._queue.popleft().size

    def close(self) -> None:
        if self.play in self.voice.listeners:
            self.voice.listeners.remove(self.play)
        if self._follow in self.voice.watchers:
            self.voice.watchers.remove(self._follow)
        self._close_input()
        self._close_output()

    # --- streams ----------------------------------------------------------------------------

    def _follow(self) -> None:
        """Open or close the streams as the session and the customer's "Talk" say."""
        if self.voice.in_session and self._output is None:
            self._output = self._open(
                self._sd.OutputStream, self.output_device, self._on_output, "output"
            )
        elif not self.voice.in_session:
            self._close_output()
        if self.voice.talking and self._input is None:
            self._input = self._open(
                self._sd.InputStream, self.input_device, self._on_input, "input"
            )
        elif not self.voice.talking:
            self._close_input()

    def _open(self, kind: Any, device: int | str | None, callback: Any, what: str) -> Any:
        try:
            stream = kind(
                samplerate=SAMPLE_RATE,
                channels=1,
                dtype="int16",
                blocksize=FRAME_SAMPLES,
                device=device,
                callback=callback,
            )
            stream.start()
        except Exception as exc:  # PortAudioError: busy or missing device; the session goes on
            log.warning("sound.open_failed", stream=what, error=str(exc))
            return None
        log.info("sound.opened", stream=what)
        return stream

    def _close_output(self) -> None:
        stream, self._output = self._output, None
        if stream is not None:
            stream.close()
        with self._lock:
            self._queue.clear()
            self._queued = 0

    def _close_input(self) -> None:
        stream, self._input = self._input, None
        if stream is not None:
            stream.close()

    def _on_output(self, outdata: Any, frames: int, _time: Any, _status: Any) -> None:
        """PortAudio's thread: the next ``frames`` samples of the agent's voice, or silence."""
        out = np.zeros(frames, dtype=np.int16)
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                chunk = self._queue[0]
                n = min(frames - filled, chunk.size)
                out[filled : filled + n] = chunk[:n]
                filled += n
                self._queued -= n
                if n == chunk.size:
                    self._queue.popleft()
                else:
                    self._queue[0] = chunk[n:]
        outdata[:, 0] = out
        if filled:
            self.blocks_played += 1
            self.played_peak = max(self.played_peak, rms(out))

    def _on_input(self, indata: Any, _frames: int, _time: Any, _status: Any) -> None:
        """PortAudio's thread: one block of the customer's microphone, to the event loop."""
        self.blocks_recorded += 1
        pcm = np.array(indata[:, 0], dtype=np.int16)
        self._loop.call_soon_threadsafe(self.voice.feed, pcm)
