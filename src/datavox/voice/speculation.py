"""Speculation: transcript → answer → first sentence of audio, started before the turn is over.

Two kinds of pipeline run ahead of the commit:
- *speculative* (`start`): at the first silent window, transcribe everything so far, ask the brain and
  render the first sentence. Speech resuming throws it away (`discard`); a commit that hears no more
  speech adopts it (`take`).
- *prepared* (`prepare`): a partial transcript that already reads as a whole question starts the brain
  and the first sentence; the final transcript reuses them when it reads the same.

The brain's ask runs on a worker thread that the owner (pipeline or response) records under `ask_lock`,
so a barge-in cancels that query and no other session's.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from datavox import cancel
from datavox.types import Answer, HistoryTurn, Intent
from datavox.voice.audio import Pcm
from datavox.voice.contracts import Pipeline, ResponseRun
from datavox.voice.heuristics import looks_complete, normalise
from datavox.voice.tts import speech_chunks, spoken_form
from datavox.voice.vad import RATE

if TYPE_CHECKING:
    from datavox.voice.session import Session

log = logging.getLogger(__name__)


class FirstChunks:
    """The first chunks of speech rendered during one turn, by text, so no chunk is rendered twice.

    Answers prepared from partial transcripts and the answer to the final transcript mostly start with the
    same words (the name that leads them: "Max Verstappen" / "won 19 races in 2023." against "won 63 races."
    for the partial "How many races did Max Verstappen win?"). A chunk already rendered is taken as it is,
    so the final answer's first audio waits only for the brain. Each render is its own task: a prepared
    answer that is superseded does not take a render that the next answer needs down with it.
    """

    def __init__(self, session: Session) -> None:
        self.s = session
        self._renders: dict[str, asyncio.Task[bytes]] = {}

    def render(self, chunk: str, kind: str) -> Awaitable[bytes]:
        """The chunk's audio: rendered already, being rendered, or rendered now at `kind`'s priority. A
        render queued at a speculative priority is not waited for by urgent work: that renders anew."""
        task = self._renders.get(chunk)
        if task is not None and kind == "tts" and not task.done() and task.get_name() != kind:
            task.cancel()  # still queued behind urgent work, most likely: render it as urgent work
        if task is None or task.cancelled():
            task = self.s.spawn(self.s.run(kind, self.s.tts.synthesize, spoken_form(chunk)))
            task.set_name(kind)
            self._renders[chunk] = task
        return asyncio.shield(task)

    def clear(self) -> None:
        """A new turn: renders nobody will take are stopped (a queued one never runs)."""
        renders, self._renders = self._renders, {}
        for task in renders.values():
            task.cancel()


class Speculation:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.spec: Pipeline | None = None  # the speculative pipeline of the current speech, if any
        self.prepared: Pipeline | None = None
        self._prepared_key = ""
        self.chunks = FirstChunks(session)
        # Guards `ask_thread` of pipelines and responses: set and cleared by the brain's worker thread, read
        # by a barge-in on the event loop.
        self.ask_lock = threading.Lock()

    # --- partial transcripts while the user speaks ---------------------------------------------------------

    def partial(self, speech_start: int, position: int, item_id: str | None) -> None:
        """A partial transcript for the UI (the turn machine said one is due); a complete-looking one
        prepares the answer."""
        s = self.s
        audio = s.audio.slice(speech_start, position)

        async def run() -> None:
            try:
                text = await s.run("stt_partial", s.stt.transcribe, audio, s.stt_prompt())
                if text and s.speech_item == item_id:
                    s.publish_app({"type": "transcript.partial", "turn_id": item_id, "text": text})
                    # Not once the speculation at the pause runs: it does the same with more audio.
                    if looks_complete(text) and s.wants_answer() and self.spec is None:
                        self.prepare(text)
            finally:
                s.turn.partial_done()

        s.spawn(run())

    def prepare(self, text: str) -> None:
        """Start brain + first sentence for a partial transcript that already reads as a whole question.

        If the final transcript turns out the same, the turn starts speaking as soon as it is committed.
        """
        key = normalise(text)
        if key == self._prepared_key:
            return
        self._prepared_key = key
        _stop(self.prepared)  # an answer to the words before: nobody will adopt it
        loop = asyncio.get_running_loop()
        transcript: asyncio.Future[str] = loop.create_future()
        transcript.set_result(text)
        pl = Pipeline(
            audio_end=-1,
            speech_end_at=0.0,
            transcript=transcript,
            answer=loop.create_future(),
            first_audio=loop.create_future() if self.s.audio_out() else None,
        )
        pl.task = self.s.spawn(self._run(pl, None, self.s.history()))
        self.prepared = pl

    # --- speculative and committed pipelines ---------------------------------------------------------------

    def start(self, speech_start: int, position: int, pause_sample: int, respond: bool) -> None:
        """The first silent window: speculate on everything heard so far."""
        s = self.s
        self.discard()
        audio = s.audio.slice(speech_start, position)
        speech_end_at = s.clock.now() - (position - pause_sample) / RATE
        with_answer = respond and s.client_tool() is None and s.responses.current is None
        self.spec = self.new(audio, position, speech_end_at, with_answer)

    def discard(self) -> None:
        spec, self.spec = self.spec, None
        if spec is not None:
            spec.discarded = True
            _stop(spec)

    def cancel_all(self) -> None:
        """The session closes: stop the speculation and the prepared answer, queries included."""
        self.chunks.clear()
        self.discard()
        prepared, self.prepared, self._prepared_key = self.prepared, None, ""
        _stop(prepared)

    def take(self, start: int, end: int, with_answer: bool) -> Pipeline:
        """The pipeline for a committed turn: the speculation if it heard everything, else a new one over
        the speech plus up to 200 ms of what followed."""
        s = self.s
        spec, self.spec = self.spec, None
        if spec is not None and spec.audio_end >= end and (spec.answer is not None or not with_answer):
            pipeline = spec  # the speculation heard everything: adopt it
        else:
            if spec is not None:
                spec.discarded = True
                _stop(spec)
            buf_end = s.audio.end
            speech_end_at = s.clock.now() - (buf_end - end) / RATE
            tail = min(buf_end, end + RATE // 5)
            pipeline = self.new(s.audio.slice(start, tail), tail, speech_end_at, with_answer)
        pipeline.timings["commit_ms"] = (s.clock.now() - pipeline.speech_end_at) * 1000
        if self.prepared is not None and pipeline.prepared is not self.prepared:
            _stop(self.prepared)  # prepared after this pipeline started: it would run on for nobody
        self.prepared, self._prepared_key = None, ""
        return pipeline

    def new(self, audio: Pcm, end: int, speech_end_at: float, with_answer: bool) -> Pipeline:
        loop = asyncio.get_running_loop()
        pl = Pipeline(
            audio_end=end,
            speech_end_at=speech_end_at,
            transcript=loop.create_future(),
            answer=loop.create_future() if with_answer else None,
            first_audio=loop.create_future() if with_answer and self.s.audio_out() else None,
        )
        pl.prepared = self.prepared
        pl.task = self.s.spawn(self._run(pl, audio, self.s.history()))
        return pl

    async def _run(self, pl: Pipeline, audio: Pcm | None, history: list[HistoryTurn]) -> None:
        s = self.s
        futures = [f for f in (pl.transcript, pl.answer, pl.first_audio) if f is not None]
        try:
            if audio is None:
                text = pl.transcript.result()
            else:
                t0 = s.clock.now()
                text = await s.run("stt", s.stt.transcribe, audio, s.stt_prompt())
                pl.timings["stt_ms"] = (s.clock.now() - t0) * 1000
                pl.transcript.set_result(text)
            if self.spec is pl:
                s.maybe_early_end()
            if pl.answer is None or pl.discarded or not text.strip():
                return
            pre = pl.prepared
            prepared = pre is not None and pre.answer is not None and normalise(text) == _key_of(pre)
            if prepared and pre is not None and await self._reuse(pre, pl):
                return
            if pl.answer.done():
                answer = pl.answer.result()  # prepared from a partial; only the first sentence is missing
            else:
                t1 = s.clock.now()
                answer = await s.run("brain", self.safe_ask, pl, text, history)
                pl.timings["brain_ms"] = (s.clock.now() - t1) * 1000
                pl.answer.set_result(answer)
            if pl.first_audio is None or pl.discarded:
                return
            sentences = speech_chunks(answer.answer)
            if sentences:
                t2 = s.clock.now()
                # A first sentence prepared from a partial transcript is speculation: lower priority.
                kind = "tts" if audio is not None else "tts_early"
                pcm = await self.chunks.render(sentences[0], kind)
                pl.timings["tts_first_ms"] = (s.clock.now() - t2) * 1000
                pl.first_audio.set_result((sentences[0], pcm))
        except BaseException as exc:
            for fut in futures:
                if not fut.done():
                    if isinstance(exc, asyncio.CancelledError | cancel.Cancelled):
                        fut.cancel()  # nobody waits: no "exception never retrieved" noise
                    else:
                        fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            for fut in futures:
                if not fut.done():
                    fut.cancel()

    async def _reuse(self, pre: Pipeline, pl: Pipeline) -> bool:
        """Adopt the answer (and first audio) prepared from a partial transcript; False if that failed."""
        assert pl.answer is not None and pre.answer is not None
        t0 = self.s.clock.now()
        try:
            answer = await asyncio.shield(pre.answer)
        except asyncio.CancelledError:
            if not pre.answer.cancelled():
                raise  # we were cancelled ourselves
            return False
        except Exception:
            return False
        pl.answer.set_result(answer)
        pl.timings["prepared"] = 1.0
        if pl.first_audio is not None and pre.first_audio is not None:
            try:
                pl.first_audio.set_result(await asyncio.shield(pre.first_audio))
            except asyncio.CancelledError:
                if not pre.first_audio.cancelled():
                    raise
                return False
            except Exception:
                return False
        pl.timings["prepared_wait_ms"] = (self.s.clock.now() - t0) * 1000
        return pl.first_audio is None or pl.first_audio.done()

    def safe_ask(self, owner: Pipeline | ResponseRun, question: str, history: list[HistoryTurn]) -> Answer:
        """The brain's answer, on a worker thread that `owner` records, so a barge-in can cancel the query
        this ask runs and no other session's."""
        with self.ask_lock:
            owner.ask_thread = threading.get_ident()
        try:
            owner.token.check()  # cancelled while queued for a brain worker: skip it
            with cancel.running_under(owner.token):
                answer = self.s.ask(question, history)
            owner.token.check()  # an answer to a cancelled question is not wanted
            return answer
        except cancel.Cancelled:
            raise
        except Exception as exc:  # the brain failing must still give a spoken answer, not a silent bot
            log.exception("brain failed")
            return Answer(
                question=question,
                intent=Intent.CONVERSATIONAL,
                engine="error",
                answer="Sorry, something went wrong while answering that.",
                error=f"{type(exc).__name__}: {exc}",
            )
        finally:
            with self.ask_lock:
                owner.ask_thread = None


def _stop(pl: Pipeline | None) -> None:
    """Cancel a pipeline's task (queued speech work is skipped) and its brain call (LLM, SQL)."""
    if pl is not None:
        pl.token.cancel()
        if pl.task is not None:
            pl.task.cancel()


def _key_of(pl: Pipeline) -> str:
    done = pl.transcript.done() and not pl.transcript.cancelled()
    return normalise(pl.transcript.result()) if done else ""
