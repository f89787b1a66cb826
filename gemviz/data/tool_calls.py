"""The functions a conversation calls or declares, and those a BFCL entry's answer calls.

A training set's conversations (chat ``messages``, a ``prompt`` column, BFCL-style
``question`` turns) name functions in three places: assistant messages' ``tool_calls``
(OpenAI: ``{"function": {"name": ...}}``), the older ``function_call`` (``{"name": ...}``),
and the ``tools`` a record declares (``{"type": "function", "function": {"name": ...}}`` or
``{"name": ...}``), at the record's top level or in a system message. A BFCL entry's possible
answer is one list of call strings per turn (``cd(folder='documents')``); the function is the
name before the parenthesis.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gemviz.data.chat import CHAT_FIELDS, user_messages

_CALL = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*\(")


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return []
        return _items(parsed) if isinstance(parsed, (list, dict)) else []
    if isinstance(value, dict):
        return [value]
    return list(value) if isinstance(value, (list, tuple)) else []


def answer_functions(ground_truth: Any) -> set[str]:
    """The function names of a possible answer (nested lists of call strings)."""
    out: set[str] = set()
    for item in _items(ground_truth):
        if isinstance(item, str):
            match = _CALL.match(item)
            if match:
                out.add(match.group(1))
        else:
            out |= answer_functions(item)
    return out


def messages(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A record's chat messages, flattened (BFCL turns joined); [] when it has none."""
    for field in CHAT_FIELDS:
        value = record.get(field)
        if value is None:
            continue
        flat: list[dict[str, Any]] = []
        for item in _items(value):
            if isinstance(item, dict):
                flat.append(item)
            else:
                flat.extend(m for m in _items(item) if isinstance(m, dict))
        if flat or isinstance(value, str):
            return flat or [{"role": "user", "content": value}]
    return []


def _name(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    inner = entry.get("function")
    name = inner.get("name") if isinstance(inner, dict) else entry.get("name")
    return str(name) if name not in (None, "") else None


def called_functions(record: dict[str, Any]) -> list[str]:
    """The names an assistant calls in the record, in order (``tool_calls``, ``function_call``)."""
    out: list[str] = []
    for msg in messages(record):
        if msg.get("role") != "assistant":
            continue
        for call in _items(msg.get("tool_calls")):
            name = _name(call)
            if name:
                out.append(name)
        name = _name(msg.get("function_call"))
        if name:
            out.append(name)
    return out


def declared_functions(record: dict[str, Any]) -> set[str]:
    """The names of the tools the record declares (top-level ``tools``/``functions``)."""
    out: set[str] = set()
    holders = [record, *messages(record)]
    for holder in holders:
        for field in ("tools", "functions", "function"):
            for tool in _items(holder.get(field)):
                name = _name(tool)
                if name:
                    out.add(name)
    return out


def user_turns(record: dict[str, Any]) -> int:
    """How many user messages (turns) the record's conversation has."""
    for field in CHAT_FIELDS:
        if record.get(field) is not None:
            return len(user_messages(record[field]))
    return 1 if record.get("task") not in (None, "") else 0


def full_text(record: dict[str, Any]) -> str:
    """Every message's text of the record, tool calls written as JSON, joined by blank lines."""
    parts: list[str] = []
    for msg in messages(record):
        content = msg.get("content")
        if isinstance(content, list):
            content = "\n".join(
                p.get("text", "") if isinstance(p, dict) else str(p) for p in content
            )
        if content not in (None, ""):
            parts.append(str(content))
        for field in ("tool_calls", "function_call"):
            if msg.get(field):
                parts.append(json.dumps(msg[field], ensure_ascii=False, default=str))
    if not parts and record.get("task") not in (None, ""):
        parts.append(str(record["task"]))
    return "\n\n".join(parts)
