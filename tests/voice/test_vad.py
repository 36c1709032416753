"""The turn detector on scripted probabilities and real levels."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from datavox.voice.vad import RATE, TurnDetector

WIN = 512


class ScriptedVad:
    """Speech probabilities from a script, one per window; like silero's, they lag the audio by a window."""

    window = WIN

    def __init__(self, probs: list[float]) -> None:
        self._probs: Iterator[float] = iter(probs)

    def prob(self, samples: np.ndarray) -> float:
        return next(self._probs, 0.0)

    def reset(self) -> None:
        pass


def window(level: int) -> np.ndarray:
    t = np.arange(WIN) / RATE
    return (np.sin(2 * np.pi * 200 * t) * level).astype(np.int16)


def test_quiet_marks_the_first_silent_window_while_the_model_still_hears_speech() -> None:
    # speech in windows 0-5, silence from 6; the model says speech until window 7 (a window late)
    det = TurnDetector(ScriptedVad([0.9] * 7 + [0.2] * 10), threshold=0.5, silence_duration_ms=200)
    quiet, kinds = [], []
    for level in [8000] * 6 + [0] * 6:
        kinds += [e.kind for e in det.feed(window(level))]
        quiet.append(det.quiet)
    assert quiet[:6] == [False] * 6 and quiet[6] is True  # heard at the first silent window
    assert kinds[:2] == ["start", "pause"] and len(kinds) == 2  # a hint only: the pause is the model's
    assert not det.quiet or det.speaking


def test_a_soft_talker_is_not_quiet() -> None:
    # every window under 1% of full scale, but not 26 dB under the speech's own peak
    det = TurnDetector(ScriptedVad([0.9] * 8), threshold=0.5, silence_duration_ms=200)
    for _ in range(8):
        det.feed(window(300))
        assert not det.quiet
