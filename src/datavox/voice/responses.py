"""Response streaming: one response at a time per session, from `response.created` to `response.done`.

A response answers the last user item (asking the brain, or reusing the turn's speculative answer),
speaks a client tool's output, or calls a client-declared tool. Speech goes out sentence by sentence:
over WebRTC to the `Player` (the outgoing track, paced in real time), over WebSocket as
`response.output_audio.delta`. Cancelling (barge-in, `response.cancel`, disconnect) cuts the audio, cuts the
item to what was heard and cancels the query the response's own turn started.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from datavox.realtime import payloads
from datavox.realtime import protocol as p
from datavox.types import Answer
from datavox.voice.audio import Pcm, Resampler, from_bytes, pcm_to_b64
from datavox.voice.contracts import Pipeline, ResponseRun, Spoken
from datavox.voice.heuristics import heard_text
from datavox.voice.tts import speech_chunks, spoken_form

if TYPE_CHECKING:
    from datavox.voice.session import Session


def public(item: p.Item) -> p.Item:
    """The item as the client sees it (without our `_…` bookkeeping keys)."""
    return {k: v for k, v in item.items() if not k.startswith("_")}


def tool_output_text(output: str) -> str:
    """What to say for a client tool's `function_call_output`."""
    try:
        data = json.loads(output)
    except ValueError:
        return output.strip()[:600]
    if isinstance(data, dict):
        for key in ("answer", "text", "result", "message", "output"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return output.strip()[:600]


class Responses:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.current: ResponseRun | None = None
        self.spoken: Spoken | None = None  # the last assistant audio, while it may still be playing
        # Answer audio as deltas (no player): one streaming resampler per answer, as building the filter
        # costs ~5 ms on the event loop; a new answer starts a new one (no tail of the last one).
        self._out24: Resampler | None = None

    # --- running a response ------------------------------------------------------------------------------

    def start(self, pl: Pipeline | None, overrides: dict[str, Any], *, voice: bool = False) -> None:
        run = ResponseRun(id=p.new_id("resp"), pipeline=pl, voice=voice)
        self.current = run
        self.s.turn.response_started()
        run.task = self.s.spawn(self._respond(run, overrides))

    def _modalities(self, overrides: dict[str, Any]) -> list[str]:
        mods = overrides.get("output_modalities") or self.s.config.get("output_modalities") or ["audio"]
        return list(mods)

    async def _respond(self, run: ResponseRun, overrides: dict[str, Any]) -> None:
        s = self.s
        mods = self._modalities(overrides)
        voice = s.config["audio"]["output"].get("voice", "marin")
        s.emit(
            "response.created",
            response=payloads.response_object(run.id, s.conversation_id, modalities=mods, voice=voice),
        )
        last = next(
            (i for i in reversed(s.items) if i.get("type") in ("message", "function_call_output")), None
        )
        run.turn_id = last["id"] if last is not None else None
        tool = s.client_tool(overrides)
        question = payloads.item_text(last) if last and last.get("role") == "user" else ""
        if question and overrides.get("_question"):
            question = str(overrides["_question"])
        run.question = question
        if run.voice:
            s.turn.reply_question = question
        if last is not None and last.get("type") == "function_call_output":
            await self._speak(run, mods, tool_output_text(last["output"]), None)
        elif question and tool is not None:
            self._call_client_tool(run, tool, question)
        elif question:
            answer = await self._answer(run, question)
            s.publish_app(
                {
                    "type": "answer",
                    "turn_id": last["id"] if last else None,
                    "response_id": run.id,
                    "question": question,
                    "answer": answer.to_dict(),
                }
            )
            await self._speak(run, mods, answer.answer, answer)
        self.finish(run, "completed", None)

    async def _answer(self, run: ResponseRun, question: str) -> Answer:
        pl = run.pipeline
        if pl is not None and pl.answer is not None and not pl.answer.cancelled():
            return await asyncio.shield(pl.answer)
        return await self.s.run("brain", self.s.speculation.safe_ask, run, question, self.s.history()[:-1])

    def _call_client_tool(self, run: ResponseRun, tool: dict[str, Any], question: str) -> None:
        """A function call to a tool the client declared; emitted in one go, so a cancel never splits it."""
        s = self.s
        props = (tool.get("parameters") or {}).get("properties") or {}
        required = (tool.get("parameters") or {}).get("required") or list(props)
        arg = next(
            (k for k in required if (props.get(k) or {}).get("type", "string") == "string"), "question"
        )
        arguments = json.dumps({arg: question})
        item_id, call_id = p.new_id("item"), p.new_id("call")
        item = payloads.function_call_item(item_id, call_id, tool["name"], "", status="in_progress")
        run.item = item
        ids = {"response_id": run.id, "item_id": item_id, "output_index": 0}
        s.emit("response.output_item.added", response_id=run.id, output_index=0, item=dict(item))
        previous = s.items[-1]["id"] if s.items else None
        s.items.append(item)
        s.emit("conversation.item.added", item=dict(item), previous_item_id=previous)
        s.emit("response.function_call_arguments.delta", **ids, call_id=call_id, delta=arguments)
        s.emit(
            "response.function_call_arguments.done",
            **ids,
            call_id=call_id,
            name=tool["name"],
            arguments=arguments,
        )
        item.update(arguments=arguments, status="completed")
        s.emit("response.output_item.done", response_id=run.id, output_index=0, item=dict(item))
        s.emit("conversation.item.done", item=dict(item), previous_item_id=previous)

    async def _speak(self, run: ResponseRun, mods: list[str], text: str, answer: Answer | None) -> None:
        s = self.s
        audio = "audio" in mods
        item_id = p.new_id("item")
        item = payloads.assistant_item(item_id)
        if answer is not None:
            item["_meta"] = dict(answer.context)
        run.item = item
        previous = s.items[-1]["id"] if s.items else None
        s.items.append(item)
        ids = {"response_id": run.id, "item_id": item_id, "output_index": 0, "content_index": 0}
        s.emit("response.output_item.added", response_id=run.id, output_index=0, item=public(item))
        s.emit("conversation.item.added", item=public(item), previous_item_id=previous)
        part_type = "audio" if audio else "text"
        s.emit(
            "response.content_part.added",
            **ids,
            part={"type": part_type, "transcript": "" if audio else None, "text": None if audio else ""},
        )
        item["content"] = [
            {"type": "output_audio", "transcript": ""} if audio else {"type": "output_text", "text": ""}
        ]
        spoken = Spoken(item_id, run.id)
        run.spoken = spoken
        self._out24 = None
        said: list[str] = []
        pl = run.pipeline
        for n, sentence in enumerate(speech_chunks(text)):
            delta = sentence if n == 0 else " " + sentence
            if not audio:
                said.append(sentence)
                item["content"][0]["text"] = " ".join(said)
                s.emit("response.output_text.delta", **ids, delta=delta)
                continue
            pcm = await self._synth(sentence, pl if n == 0 else None, n == 0)
            said.append(sentence)
            item["content"][0]["transcript"] = " ".join(said)
            s.emit("response.output_audio_transcript.delta", **ids, delta=delta)
            self._play(run, spoken, sentence, from_bytes(pcm), ids)
        full = " ".join(said)
        if audio:
            if s.player is None:
                s.emit("response.output_audio.done", **ids)
            s.emit("response.output_audio_transcript.done", **ids, transcript=full)
            s.emit("response.content_part.done", **ids, part={"type": "audio", "transcript": full})
        else:
            s.emit("response.output_text.done", **ids, text=full)
            s.emit("response.content_part.done", **ids, part={"type": "text", "text": full})
        item["status"] = "completed"
        s.emit("response.output_item.done", response_id=run.id, output_index=0, item=public(item))
        s.emit("conversation.item.done", item=public(item), previous_item_id=previous)

    async def _synth(self, sentence: str, pl: Pipeline | None, first: bool) -> bytes:
        if pl is not None and pl.first_audio is not None and not pl.first_audio.cancelled():
            with contextlib.suppress(Exception):
                said, pcm = await asyncio.shield(pl.first_audio)
                if said == sentence:
                    return pcm
        # The first sentence is what the user waits for; the others only have to be ready before it ends.
        if first:
            return await self.s.speculation.chunks.render(sentence, "tts")
        return await self.s.run("tts_rest", self.s.tts.synthesize, spoken_form(sentence))

    def _play(self, run: ResponseRun, spoken: Spoken, sentence: str, pcm: Pcm, ids: dict[str, Any]) -> None:
        s = self.s
        rate = s.tts.sample_rate
        ms = pcm.size * 1000 / rate
        first = spoken.first_at is None
        if first:
            spoken.first_at = s.clock.now()
            s.turn.first_audio(spoken.first_at * 1000)
            self.spoken = spoken
            self._turn_latency(run)
        spoken.sentences.append((sentence, ms))
        spoken.sent_ms += ms
        if s.player is not None:
            if first:
                spoken.player_base_ms = s.player.played_ms()
                s.emit("output_audio_buffer.started", response_id=run.id)
            s.player.play(pcm, rate)
            return
        if self._out24 is None or self._out24.src_rate != rate:
            self._out24 = Resampler(rate, p.PCM_RATE)
        out = self._out24.push(pcm)
        step = p.PCM_RATE * s.options.delta_ms // 1000
        for i in range(0, out.size, step):
            s.emit("response.output_audio.delta", **ids, delta=pcm_to_b64(out[i : i + step]))

    def _turn_latency(self, run: ResponseRun) -> None:
        pl = run.pipeline
        if pl is None:
            return
        stages = {k: round(v, 1) for k, v in pl.timings.items()}
        stages["first_audio_ms"] = round((self.s.clock.now() - pl.speech_end_at) * 1000, 1)
        self.s.publish_app(
            {"type": "timings", "turn_id": run.turn_id, "response_id": run.id, "timings_ms": stages}
        )

    # --- the end of a response ---------------------------------------------------------------------------

    def on_drained(self) -> None:
        """The player ran out of audio (WebRTC): the answer has been heard in full."""
        spoken = self.spoken
        if spoken is not None and self.current is None and not spoken.truncated:
            self.spoken = None
            self.s.emit("output_audio_buffer.stopped", response_id=spoken.response_id)

    def finish(self, run: ResponseRun, status: p.ResponseStatus, details: dict[str, Any] | None) -> None:
        s = self.s
        if self.current is not run:
            return
        self.current = None
        s.turn.response_ended()
        s.last_activity = s.clock.now()
        out = [public(run.item)] if run.item is not None else []
        words = sum(len(payloads.item_text(i).split()) for i in out)
        audio_tenths = int((run.spoken.sent_ms if run.spoken else 0) / 100)
        s.emit(
            "response.done",
            response=payloads.response_object(
                run.id,
                s.conversation_id,
                status=status,
                status_details=details,
                output=out,
                usage_=payloads.usage(output_text_tokens=words, output_audio_tokens=audio_tenths),
                voice=s.config["audio"]["output"].get("voice", "marin"),
            ),
        )
        if s.player is not None and run.spoken is not None and s.player.queued_ms() <= 0:
            self.on_drained()

    def cancel(self, reason: str) -> None:
        """Stop the running response now: no more events from it, audio cut, item cut to what was heard."""
        s = self.s
        run = self.current
        if run is None:
            return
        if run.task is not None:
            run.task.cancel()
        self._cancel_queries(run)
        item = run.item
        if item is not None and item.get("status") == "in_progress" and item.get("type") == "message":
            if run.spoken is not None:
                self.stop_playback(emit_cleared=True)
            item["status"] = "incomplete"
            s.emit("response.output_item.done", response_id=run.id, output_index=0, item=public(item))
            s.emit("conversation.item.done", item=public(item), previous_item_id=s.previous_id(item))
        s.publish_app(
            {"type": "turn.cancelled", "turn_id": run.turn_id, "response_id": run.id, "reason": reason}
        )
        self.finish(run, "cancelled", {"type": "cancelled", "reason": reason})

    def _cancel_queries(self, run: ResponseRun) -> None:
        """Cancel the queries the brain runs for this response (its own ask, its pipeline's, the answer
        prepared for it): a barge-in must not leave the database busy, nor stop anyone else's query."""
        cancel = self.s.cancel
        pl = run.pipeline
        owners = (run, pl, pl.prepared if pl is not None else None)
        # Under the lock: a worker cannot leave our ask (and take another session's) while we cancel the
        # statement it runs. Cheap: the executor only flags the statement and interrupts from a helper thread.
        for owner in owners:
            if owner is not None:
                owner.token.cancel()  # stops LLM retries and the fallback; interrupts its statement
        with self.s.speculation.ask_lock:
            threads = {o.ask_thread for o in owners if o is not None and o.ask_thread is not None}
            for thread in threads:
                if cancel is not None:
                    with contextlib.suppress(Exception):
                        cancel(thread)

    # --- what was heard ----------------------------------------------------------------------------------

    def playing(self) -> bool:
        spoken = self.spoken
        if spoken is None or spoken.truncated:
            return False
        if self.s.player is not None:
            return self.s.player.queued_ms() > 0
        if spoken.first_at is None:
            return False
        return (self.s.clock.now() - spoken.first_at) * 1000 < spoken.sent_ms

    def hold_for_onset(self, hearing: bool) -> None:
        """Barge-in at the first speech window (WebRTC): pause the answer while the VAD makes sure, so it
        stops within ~one window of the user's first word, not after `min_speech_ms`. The confirmed turn
        cancels it (`clear()`); a lone window (a cough, a click) lets it play on."""
        player = self.s.player
        hold, resume = getattr(player, "hold", None), getattr(player, "resume", None)
        if hold is None or resume is None:
            return
        if hearing and self.playing():
            hold()
        elif not hearing:
            resume()

    def heard_ms(self, spoken: Spoken) -> float:
        player = self.s.player
        if player is not None:
            return max(0.0, min(spoken.sent_ms, player.played_ms() - spoken.player_base_ms))
        if spoken.first_at is None:
            return 0.0
        return min(spoken.sent_ms, (self.s.clock.now() - spoken.first_at) * 1000)

    def stop_playback(self, *, emit_cleared: bool) -> None:
        s = self.s
        spoken = self.spoken
        heard = self.heard_ms(spoken) if spoken is not None else 0.0
        if s.player is not None:
            s.player.clear()
            if emit_cleared:
                s.emit("output_audio_buffer.cleared", response_id=spoken.response_id if spoken else None)
        if spoken is None or spoken.truncated:
            return
        item = next((i for i in s.items if i["id"] == spoken.item_id), None)
        if item is not None and heard < spoken.sent_ms:
            self.truncate(item, spoken, heard)
        self.spoken = None

    def truncate(self, item: p.Item, spoken: Spoken, end_ms: float) -> None:
        text = heard_text(spoken.sentences, end_ms)
        for part in item.get("content") or []:
            if "transcript" in part:
                part["transcript"] = text
        spoken.truncated = True
        self.s.emit(
            "conversation.item.truncated", item_id=item["id"], content_index=0, audio_end_ms=int(end_ms)
        )
