"""Matching rule sets, one module per source; see each module for its rules and type mapping."""

from __future__ import annotations

from gemviz.actions.rules import aitw, aitz, gem
from gemviz.actions.rules.base import RuleSet

# rule-set name -> RuleSet (``RULES[name].match(gt, pred) -> (type_match, exact_match)``)
RULES: dict[str, RuleSet] = {
    "gem": gem.RULES,
    "aitw": aitw.RULES,
    "aitz": aitz.RULES,
}

__all__ = ["RULES", "RuleSet"]
