"""Made-up training sets of known coverage over the carried BFCL entries, for coverage tests.

``two-class``: :data:`COPIES` lightly edited copies of every entry whose API classes all lie in
:data:`CLASSES` (each user turn reworded a little, the answer's calls as assistant
``tool_calls``), plus :data:`N_CHATS` unrelated chats. ``chats``: the unrelated chats alone.
``declared``: the unrelated chats with a ``tools`` list declaring :data:`DECLARED`.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.bfcl_data import ANSWERS, TEST

CLASSES = frozenset({"TradingBot", "VehicleControlAPI"})
N_CHATS = 60
DECLARED = ("cd", "ls", "mkdir")
_TOPICS = (
    "banana bread", "a sourdough starter", "tomato soup", "lemon cake", "a vegetable curry",
    "pancakes", "a summer salad", "pesto pasta", "roast chicken", "apple pie",
)  # fmt: skip
_ASKS = (
    "What is a good recipe for {t}?",
    "How long should I bake {t} for a family dinner tonight?",
    "Can you suggest a wine that goes well with {t}?",
    "My grandmother used to make {t}; what spices would she have used?",
    "Is {t} healthy enough to eat every day of the week?",
    "Write a short poem about {t} on a rainy afternoon.",
)


def read_lines(path: Path) -> list[dict]:
    """JSON lines of a file."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def chats() -> list[dict]:
    """The unrelated conversations (cooking and poems), one user turn and one answer each."""
    out = []
    for i in range(N_CHATS):
        ask = _ASKS[i % len(_ASKS)].format(t=_TOPICS[(i // len(_ASKS)) % len(_TOPICS)])
        out.append({"id": f"chat-{i + 1}", "messages": [{"role": "user", "content": ask},
                                 {"role": "assistant", "content": "Here is an idea."}]})  # fmt: skip
    return out


_OPENINGS = ("Please", "Could you", "Hey,", "Quick request:", "I need this:", "Kindly")
#: Edited copies per covered entry (more than k, so a copy's k-th neighbour is a sibling).
COPIES = len(_OPENINGS)


def _edit(text: str, variant: int) -> str:
    words = text.split()
    return f"{_OPENINGS[variant]} " + " ".join([*words[:-1], words[-1].rstrip(".?!") + "."])


def edited_copy(entry: dict, truth: list, variant: int = 0) -> dict:
    """One conversation: each user turn lightly reworded, the answer's calls as tool calls."""
    msgs = []
    for turn, calls in zip(entry["question"], truth, strict=False):
        for m in turn:
            if m.get("role") == "user":
                msgs.append({"role": "user", "content": _edit(m["content"], variant)})
        tool_calls = [
            {"type": "function", "function": {"name": c.split("(")[0], "arguments": "{}"}}
            for c in calls
        ]
        msgs.append({"role": "assistant", "content": "", "tool_calls": tool_calls})
    return {"id": f"copy{variant + 1}-{entry['id']}", "messages": msgs}


def copied_ids(root: Path) -> list[str]:
    """The test entries the ``two-class`` set holds a copy of."""
    return [e["id"] for e in read_lines(root / TEST) if set(e["involved_classes"]) <= CLASSES]


def write_sets(root: Path) -> dict[str, Path]:
    """Write the three sets as chat JSONL under ``root/training``; name -> file."""
    entries = read_lines(root / TEST)
    answers = {a["id"]: a["ground_truth"] for a in read_lines(root / ANSWERS)}
    folder = root / "training"
    folder.mkdir(exist_ok=True)
    copies = [
        edited_copy(e, answers[e["id"]], v)
        for e in entries
        if set(e["involved_classes"]) <= CLASSES
        for v in range(COPIES)
    ]
    tools = [{"type": "function", "function": {"name": n}} for n in DECLARED]
    sets = {
        "two-class": copies + chats(),
        "chats": chats(),
        "declared": [dict(c, tools=tools) for c in chats()],
    }
    out = {}
    for name, records in sets.items():
        path = folder / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        out[name] = path
    return out
