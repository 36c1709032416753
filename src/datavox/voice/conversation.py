"""The conversation's items: client-created items checked against the GA shapes, lookups, and the
history the brain sees. Plain functions over the session's item list (no I/O)."""

from __future__ import annotations

from typing import Any

from datavox.realtime import payloads
from datavox.realtime import protocol as p
from datavox.types import HistoryTurn


def find(items: list[p.Item], item_id: Any) -> p.Item:
    for item in items:
        if item["id"] == item_id:
            return item
    raise p.ProtocolError("item_not_found", f"Item with id {item_id!r} not found.", param="item_id")


def previous_id(items: list[p.Item], item: p.Item) -> str | None:
    idx = next((n for n, i in enumerate(items) if i is item), 0)
    return items[idx - 1]["id"] if idx > 0 else None


def check_new_item(item: Any) -> dict[str, Any]:
    """A `conversation.item.create` item, checked; raises ProtocolError with the offending field."""
    if not isinstance(item, dict):
        raise p.ProtocolError("invalid_value", "item must be an object", param="item")
    kind = item.get("type")
    if kind == "message":
        if item.get("role") not in ("user", "assistant", "system"):
            raise p.ProtocolError(
                "invalid_value", "role must be user, assistant or system", param="item.role"
            )
        if not isinstance(item.get("content"), list):
            raise p.ProtocolError("invalid_value", "message content must be a list", param="item.content")
    elif kind == "function_call_output":
        if not isinstance(item.get("call_id"), str) or not isinstance(item.get("output"), str):
            raise p.ProtocolError(
                "invalid_value", "function_call_output needs call_id and output strings", param="item"
            )
    elif kind == "function_call":
        if not item.get("call_id") or not item.get("name"):
            raise p.ProtocolError("invalid_value", "function_call needs call_id and name", param="item")
    else:
        raise p.ProtocolError("invalid_value", f"unsupported item type {kind!r}", param="item.type")
    return {
        **item,
        "id": item.get("id") or p.new_id("item"),
        "object": "realtime.item",
        "status": "completed",
    }


def insert(items: list[p.Item], new: p.Item, previous_item_id: Any) -> str | None:
    """Insert `new` after `previous_item_id` (None: at the end, "root": first); returns the id before it."""
    if any(i["id"] == new["id"] for i in items):
        raise p.ProtocolError("duplicate_item_id", f"item {new['id']} already exists", param="item.id")
    index = len(items)
    if previous_item_id is not None:
        found = [n for n, i in enumerate(items) if i["id"] == previous_item_id]
        if previous_item_id == "root":
            index = 0
        elif not found:
            raise p.ProtocolError(
                "item_not_found", f"previous item {previous_item_id} does not exist", param="previous_item_id"
            )
        else:
            index = found[0] + 1
    items.insert(index, new)
    return items[index - 1]["id"] if index > 0 else None


def history(items: list[p.Item]) -> list[HistoryTurn]:
    """The user and assistant messages so far, as the brain takes them."""
    turns: list[HistoryTurn] = []
    for item in items:
        if item.get("type") == "message" and item.get("role") in ("user", "assistant"):
            text = payloads.item_text(item)
            if text:
                turns.append(HistoryTurn(item["role"], text, meta=dict(item.get("_meta") or {})))
    return turns


def client_tool(config: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The client-declared tool a turn should call instead of the built-in query_database, if any."""
    tools = (overrides or {}).get("tools", config.get("tools")) or []
    choice = (overrides or {}).get("tool_choice", config.get("tool_choice", "auto"))
    if not tools or choice == "none":
        return None
    if isinstance(choice, dict):
        return next((t for t in tools if t.get("name") == choice.get("name")), None)
    if choice == "required":
        return dict(tools[0])
    return next((t for t in tools if t.get("name") == "query_database"), None)
