"""Tokens and estimated cost of a cloud turn, from `response.done` usage and the configured price table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from datavox.config import RealtimeSettings


@dataclass
class TurnUsage:
    text_in: int = 0
    audio_in: int = 0
    cached_in: int = 0
    text_out: int = 0
    audio_out: int = 0

    def add(self, usage: dict[str, Any] | None) -> None:
        """Add one `response.done` `usage` object (a turn may take two responses: tool call, then answer)."""
        if not isinstance(usage, dict):
            return
        inp = usage.get("input_token_details") or {}
        out = usage.get("output_token_details") or {}
        self.text_in += int(inp.get("text_tokens") or 0)
        self.audio_in += int(inp.get("audio_tokens") or 0)
        self.cached_in += int(inp.get("cached_tokens") or 0)
        self.text_out += int(out.get("text_tokens") or 0)
        self.audio_out += int(out.get("audio_tokens") or 0)

    def cost_usd(self, rt: RealtimeSettings) -> float:
        """Cached input tokens cost the cached price; usage does not say of which kind: text first."""
        cached_text = min(self.cached_in, self.text_in)
        cached_audio = min(self.cached_in - cached_text, self.audio_in)
        per_token = (
            (self.text_in - cached_text) * rt.price_text_in
            + (self.audio_in - cached_audio) * rt.price_audio_in
            + (cached_text + cached_audio) * rt.price_cached_in
            + self.text_out * rt.price_text_out
            + self.audio_out * rt.price_audio_out
        )
        return round(per_token / 1_000_000, 6)

    def to_dict(self, rt: RealtimeSettings) -> dict[str, Any]:
        return {
            "input_text_tokens": self.text_in,
            "input_audio_tokens": self.audio_in,
            "cached_tokens": self.cached_in,
            "output_text_tokens": self.text_out,
            "output_audio_tokens": self.audio_out,
            "cost_usd": self.cost_usd(rt),
        }
