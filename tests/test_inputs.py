"""gemviz.data.files: the JSON depth check, fast path and exact path."""

from __future__ import annotations

import json

import pytest

from gemviz.data.errors import GemvizError
from gemviz.data.files import MAX_JSON_DEPTH, _depth, loads_json


def test_depth_of_usual_records_ignores_paired_brackets_in_strings():
    records = [{"prediction": "CLICK <point>[[500, 500]]</point>", "n": [1, {"k": [2]}]}] * 50
    assert _depth(json.dumps(records)) == 5  # list, dict, list, dict, list


def test_depth_counts_exactly_when_strings_hold_unpaired_brackets():
    # 200 closing brackets in a string would hide real nesting from a plain count.
    text = json.dumps(["]" * 200, [[[["x"]]]]])
    assert _depth(text) == 5
    deep = "[" * (MAX_JSON_DEPTH + 5) + '"]]]"' + "]" * (MAX_JSON_DEPTH + 5)
    assert _depth(deep) == MAX_JSON_DEPTH + 5
    with pytest.raises(GemvizError, match="nested"):
        loads_json(deep, "deep.json")


def test_text_of_strings_only_is_shallow():
    assert _depth(json.dumps({"a": "[" * 500})) == 1
    assert loads_json(json.dumps({"a": "{" * 500}), "ok.json") == {"a": "{" * 500}
