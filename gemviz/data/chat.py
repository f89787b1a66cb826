"""The text of a conversation record: what a tool-calling sample or training prompt says.

Training sets for tool-calling agents come as SFT and RL frameworks write them: chat JSONL
with ``messages`` (OpenAI format: a list of ``{role, content}``), or parquet with a
``prompt`` column (text, or a list of messages) or ``messages``. BFCL's test entries hold
``question``: a list of turns, each a list of messages. :func:`record_text` reduces any of
these to the text that is embedded, either the first user message (``"first"``, the default:
the request that opens the conversation) or every user message joined (``"all"``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gemviz.data.errors import GemvizError

#: Fields holding a conversation, tried in this order when a record has no ``task``.
CHAT_FIELDS = ("question", "messages", "prompt")
#: How a conversation becomes one text.
TEXT_MODES = ("first", "all")


def user_messages(value: Any) -> list[str]:
    """The user messages of a conversation, in order.

    Args:
        value: A string (one user message), a message ``{role, content}``, a list of
            messages, or a list of turns each a list of messages (BFCL). Content given as a
            list of parts (``[{"type": "text", "text": ...}]``) is joined.

    Returns:
        The texts of the messages whose role is ``user`` (or that have no role), blanks left
        out.
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, dict):
        if value.get("role", "user") != "user":
            return []
        text = _content(value.get("content"))
        return [text] if text.strip() else []
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        out: list[str] = []
        for item in items:
            if isinstance(item, (list, tuple)) or hasattr(item, "tolist"):
                # One turn of several messages: its user messages count as one message.
                joined = "\n".join(user_messages(item))
                if joined:
                    out.append(joined)
            else:
                out.extend(user_messages(item))
        return out
    return [str(value)]


def _content(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in value]
        return "\n".join(p for p in parts if p)
    return "" if value is None else str(value)


def conversation_text(value: Any, mode: str = "first") -> str:
    """The text of a conversation: its first user message, or all of them joined.

    Raises:
        GemvizError: An unknown mode.
    """
    if mode not in TEXT_MODES:
        raise GemvizError(f"unknown text mode '{mode}'; use one of {', '.join(TEXT_MODES)}")
    messages = user_messages(value)
    if not messages:
        return ""
    return messages[0] if mode == "first" else "\n\n".join(messages)


def record_text(record: dict[str, Any], mode: str = "first") -> str | None:
    """The text of a record: its ``task``, else its conversation (:data:`CHAT_FIELDS`).

    Returns:
        The text, or None when the record has neither.
    """
    task = record.get("task")
    if task not in (None, ""):
        return str(task)
    for field in CHAT_FIELDS:
        if record.get(field) is not None:
            return conversation_text(record[field], mode)
    return None


def is_chat(records: Sequence[dict[str, Any]]) -> bool:
    """True when the records are conversations without a ``task`` (training prompts, BFCL)."""
    head = records[0] if records else {}
    return head.get("task") in (None, "") and any(head.get(f) is not None for f in CHAT_FIELDS)


def with_text(
    records: list[dict[str, Any]], file: str, mode: str = "first"
) -> list[dict[str, Any]]:
    """Conversation records with their text as ``task``, and an ``id`` when they have none.

    Records that already have a ``task`` are returned unchanged. A training set without ids
    gets ``row-1``, ``row-2``, ... so its score and embedding files line up.

    Raises:
        GemvizError: A record has no conversation, or an empty one; or an unknown mode.
    """
    if not is_chat(records):
        return records
    has_id = any(r.get("id") not in (None, "") for r in records[:1])
    out = []
    for i, rec in enumerate(records):
        _refuse_json_text(rec, file, i + 1)
        text = record_text(rec, mode)
        if not text:
            raise GemvizError(
                f"no user message to embed (looked in {', '.join(CHAT_FIELDS)})",
                file=file,
                row=i + 1,
            )
        extra = {"task": text}
        if not has_id:
            extra["id"] = f"row-{i + 1}"
        out.append({**extra, **{k: v for k, v in rec.items() if k != "task"}})
    return out


def _refuse_json_text(record: dict[str, Any], file: str, row: int) -> None:
    """Refuse a conversation stored as JSON *text* (``"messages": "[{\"role\": ...}]"``).

    Read as one user message, it would embed the whole serialised chat, system prompt and
    roles included, instead of the user's turns.

    Raises:
        GemvizError: Naming the field; the fix is to store the list itself.
    """
    for field in ("messages", "question"):
        value = record.get(field)
        if not isinstance(value, str) or value.lstrip()[:1] not in ("[", "{"):
            continue
        try:
            parsed = json.loads(value)
        except ValueError:
            continue
        if isinstance(parsed, (list, dict)):
            raise GemvizError(
                "holds the conversation as JSON text, not as a list of messages; write the "
                "list itself (without the surrounding quotes) so only the user turns are embedded",
                file=file,
                row=row,
                field=field,
            )
