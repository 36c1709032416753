"""Input audio of the current turn: 16 kHz mono int16 kept as a list of chunks.

A growing `np.concatenate` copied the whole turn on every 20 ms frame (quadratic in the turn's length,
on the event loop of every session); appending a chunk is O(1), and only a slice that is actually read
(a transcription window) is joined. Positions are absolute sample indexes since the session began.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from datavox.voice.audio import Pcm


class InputBuffer:
    def __init__(self) -> None:
        self._chunks: deque[Pcm] = deque()
        self.start = 0  # absolute index of the first sample kept
        self._size = 0

    @property
    def end(self) -> int:
        """Absolute index just past the last sample received."""
        return self.start + self._size

    def __len__(self) -> int:
        return self._size

    def append(self, pcm: Pcm) -> None:
        if pcm.size:
            self._chunks.append(pcm)
            self._size += pcm.size

    def trim(self, keep_from: int) -> None:
        """Forget the samples before absolute index `keep_from`."""
        drop = min(keep_from - self.start, self._size)
        if drop <= 0:
            return
        self.start += drop
        self._size -= drop
        while drop > 0:
            head = self._chunks[0]
            if head.size <= drop:
                self._chunks.popleft()
                drop -= head.size
            else:
                self._chunks[0] = head[drop:]  # a view: no copy
                drop = 0

    def slice(self, start: int, end: int) -> Pcm:
        """A copy of the samples in [start, end) that are still kept (clipped to what there is)."""
        a = max(0, start - self.start)
        b = min(self._size, max(0, end - self.start))
        if b <= a:
            return np.zeros(0, np.int16)
        parts: list[Pcm] = []
        offset = 0
        for chunk in self._chunks:
            lo, hi = max(a - offset, 0), min(b - offset, chunk.size)
            if lo < hi:
                parts.append(chunk[lo:hi])
            offset += chunk.size
            if offset >= b:
                break
        return np.concatenate(parts) if len(parts) != 1 else parts[0].copy()
