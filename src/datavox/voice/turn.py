"""The turn state machine: who has the floor and what the session should do next. Pure: no I/O, no clock,
no asyncio; every method takes the time (or the audio position) in milliseconds, so tests drive it with
plain numbers.

Two things run at once in a voice session, so the state has two parts:

- `Phase` (the user): `LISTENING` → VAD start → `SPEAKING` → first silent window → `PAUSED` (a speculative
  pipeline runs) → speech again → `SPEAKING`, or enough silence → commit → `LISTENING`.
- `Reply` (the assistant): commit → `PENDING` (transcript, brain, first sentence) → `RESPONDING` (a response
  runs, nothing heard yet) → first audio → `PLAYING` → done → `IDLE`.

The user speaking while a reply is `RESPONDING` or `PLAYING` is a barge-in (`barge_in`); a turn whose
transcript arrives after the user spoke again is superseded (`after_transcript`). The diagram is in
docs/voice.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from datavox.voice.heuristics import early_end_silence_ms


class Phase(StrEnum):
    LISTENING = "listening"
    SPEAKING = "speaking"
    PAUSED = "paused"


class Reply(StrEnum):
    IDLE = "idle"
    PENDING = "pending"  # committed; waiting for the transcript (and the speculative answer)
    RESPONDING = "responding"  # a response runs; no audio out yet
    PLAYING = "playing"  # first audio went out at `first_audio_ms`


class BargeIn(StrEnum):
    NONE = "none"
    CANCEL = "cancel"  # cancel the running response (and cut its audio)
    STOP_PLAYBACK = "stop_playback"  # the response is done but its audio still plays: cut it


@dataclass(frozen=True)
class Outcome:
    """What to do once a committed turn's transcript is known."""

    action: str  # "answer", "superseded" or "none"
    question: str = ""
    carried: bool = False  # the question joins words of turns the user talked over


@dataclass
class TurnRules:
    partial_every_ms: float = 150
    quiet_partial_ms: float = 60
    max_turn_ms: float = 30_000
    early_end: bool = True
    early_end_ms: int = 160
    carry_within_ms: float = 1200


class TurnMachine:
    def __init__(self, rules: TurnRules | None = None) -> None:
        self.rules = rules or TurnRules()
        self.phase = Phase.LISTENING
        self.reply = Reply.IDLE
        self.speech_start_ms: float | None = None  # audio position where this speech began (with padding)
        self.partial_at_ms = 0.0
        self.partial_busy = False
        self.speech_count = 0  # speech starts so far: a turn answers only if no speech followed it
        self.carry = ""  # words of turns the user talked over before we answered
        self.turns = 0
        self.first_audio_ms: float | None = None
        self.reply_question = ""  # the question of the running reply, if a spoken turn started it

    # --- the user -------------------------------------------------------------------------------------------

    def speech_started(self, at_ms: float, speech_start_ms: float) -> None:
        """VAD start at audio position `at_ms`; the turn's audio begins at `speech_start_ms` (padding)."""
        self.phase = Phase.SPEAKING
        self.speech_count += 1
        self.speech_start_ms = speech_start_ms
        self.partial_at_ms = at_ms

    def paused(self) -> bool:
        """First silent window: True if a speculative pipeline should start."""
        if self.speech_start_ms is None:
            return False
        self.phase = Phase.PAUSED
        return True

    def resumed(self) -> None:
        if self.phase is Phase.PAUSED:
            self.phase = Phase.SPEAKING

    def committed(self) -> int:
        """The turn is committed (VAD stop or the client's commit). Returns the speech count to hand to
        `after_transcript`, which tells whether the user spoke again meanwhile."""
        self.phase = Phase.LISTENING
        self.speech_start_ms = None
        self.turns += 1
        if self.reply is Reply.IDLE:
            self.reply = Reply.PENDING
        return self.speech_count

    def cleared(self) -> None:
        """input_audio_buffer.clear: the speech so far is forgotten."""
        self.phase = Phase.LISTENING
        self.speech_start_ms = None

    def partial_due(self, position_ms: float, *, speculating: bool, quiet: bool = False) -> bool:
        """A partial transcript is due (for the UI, and to prepare an answer); marks it started.

        `quiet`: the audio just went quiet (a word has ended, maybe the question): a transcript now reads
        whole words, and if the user has finished it is the final one, a window before the VAD says so.
        Then `quiet_partial_ms` since the last one is enough.
        """
        if self.partial_busy or speculating or self.speech_start_ms is None:
            return False
        every = self.rules.quiet_partial_ms if quiet else self.rules.partial_every_ms
        if position_ms - self.partial_at_ms < every:
            return False
        self.partial_at_ms = position_ms
        self.partial_busy = True
        return True

    def partial_done(self) -> None:
        self.partial_busy = False

    def too_long(self, position_ms: float) -> bool:
        """Speech longer than Whisper's window is committed in pieces."""
        start = self.speech_start_ms
        return start is not None and position_ms - start > self.rules.max_turn_ms

    def early_end_due(self, transcript: str, silence_ms: float) -> bool:
        """The speculative transcript reads as a complete question and enough silence has passed."""
        if not self.rules.early_end:
            return False
        needed = early_end_silence_ms(transcript, self.rules.early_end_ms)
        return needed is not None and silence_ms >= needed

    # --- the assistant --------------------------------------------------------------------------------------

    def response_started(self, question: str = "") -> None:
        self.reply = Reply.RESPONDING
        self.first_audio_ms = None
        self.reply_question = question

    def first_audio(self, now_ms: float) -> None:
        self.reply = Reply.PLAYING
        self.first_audio_ms = now_ms

    def response_ended(self) -> None:
        self.reply = Reply.IDLE
        self.reply_question = ""

    def barge_in(self, now_ms: float, *, responding: bool, playing: bool) -> BargeIn:
        """The user started speaking. A running response is cancelled; one that began less than
        `carry_within_ms` ago keeps its question, joined to what the user says next (they had not finished,
        which makes ending turns early safe). Audio still playing after its response ended is cut."""
        if responding:
            into_ms = now_ms - self.first_audio_ms if self.first_audio_ms is not None else 0.0
            if self.reply_question and into_ms < self.rules.carry_within_ms:
                self.carry = self.reply_question
            return BargeIn.CANCEL
        return BargeIn.STOP_PLAYBACK if playing else BargeIn.NONE

    def after_transcript(
        self, text: str, speech_count: int, *, respond: bool, responding: bool, kept: bool
    ) -> Outcome:
        """A committed turn's transcript is known: answer it, fold it into a newer turn, or leave it.

        `speech_count` is what `committed` returned; `kept` says the user item still exists; `responding`
        that a (client-started) response runs, which we must not talk over.
        """
        if self.reply is Reply.PENDING:
            self.reply = Reply.IDLE
        if not (respond and text.strip() and kept) or responding:
            return Outcome("none")
        if self.speech_count != speech_count:
            # The user spoke again before we answered: answer the newer turn, not this one, and keep these
            # words for it ("Who won the Monaco Grand Prix" … "in 2019?" is one question).
            self.carry = f"{self.carry} {text}".strip()
            return Outcome("superseded")
        if self.carry:
            question, self.carry = f"{self.carry} {text}", ""
            return Outcome("answer", question, carried=True)
        return Outcome("answer", text)
