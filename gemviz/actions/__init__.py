"""Agent actions: one record, parsers from the formats in use, and matching rule sets.

* :class:`Action` — the record every parser produces (:mod:`.record`);
* :data:`PARSERS` and :func:`parse_action` — read the GEM / OS-Atlas format, UI-TARS output,
  AITZ / AitW records and the canonical JSON (:mod:`.parsers`);
* :data:`RULES` and :func:`match_action` — type match and exact match under the GEM, AitW or
  AITZ rules (:mod:`.rules`);
* :func:`match_records` — a whole result file and its summary (:mod:`.match`);
* :func:`format_gem` — write an action back in the GEM prompt format.
"""

from __future__ import annotations

from gemviz.actions.match import match_records, summarize
from gemviz.actions.parse import FORMATS, match_action, parse_action, rule_set
from gemviz.actions.parsers import PARSERS
from gemviz.actions.parsers.base import COORDS
from gemviz.actions.parsers.gem import format_gem
from gemviz.actions.record import ACTION_TYPES, DIRECTIONS, Action
from gemviz.actions.rules import RULES, RuleSet

__all__ = [
    "ACTION_TYPES",
    "COORDS",
    "DIRECTIONS",
    "FORMATS",
    "PARSERS",
    "RULES",
    "Action",
    "RuleSet",
    "format_gem",
    "match_action",
    "match_records",
    "parse_action",
    "rule_set",
    "summarize",
]
