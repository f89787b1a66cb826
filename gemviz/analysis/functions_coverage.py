"""Function coverage: the functions each test entry needs against those a training set shows.

A BFCL entry *needs* the functions its possible answer calls. A training set *shows* a
function when one of its conversations calls it (assistant ``tool_calls``/``function_call``)
or declares it (``tools``); see :mod:`gemviz.data.tool_calls`. An entry is covered ``all``
when every function it needs is shown, ``some`` when part of them are, ``none`` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from gemviz.data.tool_calls import answer_functions, called_functions, declared_functions

#: Columns of :func:`function_table` before the one column per training set.
FUNCTION_COLUMNS = ["function", "classes", "entries"]


def entry_needs(
    entries: Sequence[dict[str, Any]], answers: Mapping[str, Any] | None
) -> list[set[str]]:
    """Per test entry, the functions its possible answer calls (empty without an answer)."""
    answers = answers or {}
    return [answer_functions(answers.get(str(e.get("id")))) for e in entries]


def seen_functions(records: Iterable[dict[str, Any]]) -> set[str]:
    """Every function a training set's conversations call or declare."""
    out: set[str] = set()
    for rec in records:
        out.update(called_functions(rec))
        out |= declared_functions(rec)
    return out


def status(needed: set[str], seen: set[str]) -> str:
    """``all``, ``some`` or ``none`` of ``needed`` in ``seen``; ``""`` when nothing is needed."""
    if not needed:
        return ""
    hit = len(needed & seen)
    return "all" if hit == len(needed) else "some" if hit else "none"


def missing_functions(needed: set[str], seen: set[str]) -> list[str]:
    """The needed functions the set never shows, sorted."""
    return sorted(needed - seen)


def covered_share(needs: Sequence[set[str]], seen: set[str]) -> float:
    """The share of entries (those that need any function) whose every function is shown."""
    needing = [n for n in needs if n]
    if not needing:
        return float("nan")
    return sum(n <= seen for n in needing) / len(needing)


def never_seen(needs: Sequence[set[str]], seen: set[str]) -> list[str]:
    """The functions some test entry needs that the set never shows, sorted."""
    return sorted(set().union(*needs) - seen) if needs else []


def function_table(
    entries: Sequence[dict[str, Any]],
    needs: Sequence[set[str]],
    seen: Mapping[str, set[str]],
) -> pd.DataFrame:
    """Test functions x training sets: which set shows each function the test entries need.

    Returns:
        Columns :data:`FUNCTION_COLUMNS` (``classes``: the ``involved_classes`` shared by
        every entry that needs the function, ``entries``: how many need it), then one
        boolean column per set; most needed functions first.
    """
    rows = []
    for fn in sorted(set().union(*needs) if needs else set()):
        users = [e for e, n in zip(entries, needs, strict=True) if fn in n]
        classes = set.intersection(*(set(e.get("involved_classes") or []) for e in users))
        rows.append(
            {
                "function": fn,
                "classes": ", ".join(sorted(classes)),
                "entries": len(users),
                **{name: fn in s for name, s in seen.items()},
            }
        )
    out = pd.DataFrame(rows, columns=[*FUNCTION_COLUMNS, *seen])
    return out.sort_values(["entries", "function"], ascending=[False, True], ignore_index=True)
