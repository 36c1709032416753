"""PCM helpers: int16 mono arrays, resampling with libswresample (through av), base64 for the wire."""

from __future__ import annotations

import base64
import errno
from typing import Any

import av
import numpy as np

Pcm = np.ndarray[Any, np.dtype[np.int16]]


class OneThreadResampler:
    """`av.AudioResampler`'s job (same arguments, same output) on a filter graph limited to one thread.

    PyAV's own resampler builds a libavfilter graph with FFmpeg's default thread count (one per core, plus
    one) for every resampler, and those threads live until the garbage collector frees the graph: aiortc
    makes one per Opus encoder and we made one per answer, so a busy server carried ~100 idle native
    threads (`datavox bench soak`). Resampling 20 ms of audio gains nothing from threads.
    """

    def __init__(
        self, format: str = "s16", layout: str = "mono", rate: int = 16_000, frame_size: int | None = None
    ) -> None:
        self.format, self.layout, self.rate = format, layout, int(rate)
        self.frame_size = int(frame_size or 0)
        self.graph: Any = None

    def resample(self, frame: av.AudioFrame | None) -> list[av.AudioFrame]:
        if self.graph is None:
            if frame is None:
                return []
            graph = av.filter.Graph()
            graph.threads = 1  # before any filter is added
            extra = {"time_base": str(frame.time_base)} if frame.time_base is not None else {}
            src = graph.add(
                "abuffer",
                sample_rate=str(frame.sample_rate),
                sample_fmt=frame.format.name,
                channel_layout=frame.layout.name,
                **extra,
            )
            fmt = graph.add(
                "aformat", sample_rates=str(self.rate), sample_fmts=self.format, channel_layouts=self.layout
            )
            sink = graph.add("abuffersink")
            src.link_to(fmt)
            fmt.link_to(sink)
            graph.configure()
            if self.frame_size:
                graph.set_audio_frame_size(self.frame_size)
            self.graph = graph
        self.graph.push(frame)
        out: list[av.AudioFrame] = []
        while True:
            try:
                out.append(self.graph.pull())
            except EOFError:
                break
            except av.FFmpegError as exc:
                if exc.errno != errno.EAGAIN:
                    raise
                break
        return out


class Resampler:
    """Streaming int16 mono resampler; keeps filter state between chunks so joins are seamless."""

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self._pts = 0
        self._rs = (
            None if src_rate == dst_rate else OneThreadResampler(format="s16", layout="mono", rate=dst_rate)
        )

    def push(self, pcm: Pcm) -> Pcm:
        if self._rs is None or pcm.size == 0:
            return pcm
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(pcm.reshape(1, -1)), format="s16", layout="mono"
        )
        frame.sample_rate = self.src_rate
        frame.pts = self._pts
        self._pts += pcm.size
        out = [f.to_ndarray().reshape(-1) for f in self._rs.resample(frame)]
        return np.concatenate(out).astype(np.int16) if out else np.zeros(0, np.int16)


def resample(pcm: Pcm, src_rate: int, dst_rate: int) -> Pcm:
    """One-shot resampling of a whole buffer (flushes the filter so the tail is not lost)."""
    if src_rate == dst_rate or pcm.size == 0:
        return pcm
    rs = OneThreadResampler(format="s16", layout="mono", rate=dst_rate)
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm.reshape(1, -1)), format="s16", layout="mono")
    frame.sample_rate = src_rate
    frame.pts = 0
    out = [f.to_ndarray().reshape(-1) for f in rs.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in rs.resample(None)]
    return np.concatenate(out).astype(np.int16) if out else np.zeros(0, np.int16)


def from_bytes(data: bytes) -> Pcm:
    return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.int16)


def b64_to_pcm(data: str) -> Pcm:
    """Raises ValueError on text that is not base64."""
    return from_bytes(base64.b64decode(data, validate=True))


def pcm_to_b64(pcm: Pcm) -> str:
    return base64.b64encode(pcm.astype("<i2").tobytes()).decode("ascii")


def duration_ms(samples: int, rate: int) -> float:
    return samples * 1000.0 / rate
