"""Parser tables for every format: well-formed, malformed, prose around, case, brackets,
boxes vs points, pixel vs relative coordinates; plus auto detection and the record itself."""

from __future__ import annotations

import json

import pytest

from gemviz.actions import Action, format_gem, parse_action
from gemviz.actions.parsers import AUTO, PARSERS, Parser
from gemviz.actions.parsers.auto import detect_format
from gemviz.data.errors import GemvizError
from gemviz.data.read import read_records

# (text, expected canonical dict without raw)
GEM_CASES = [
    ("CLICK <point>[[512, 300]]</point>", {"type": "click", "point": [0.512, 0.3]}),
    ("click <point>[[512,300]]</point>", {"type": "click", "point": [0.512, 0.3]}),
    ("CLICK [[512, 300]]", {"type": "click", "point": [0.512, 0.3]}),
    ("CLICK 512, 300", {"type": "click", "point": [0.512, 0.3]}),
    ("CLICK (512, 300)", {"type": "click", "point": [0.512, 0.3]}),
    ("CLICK <point>[[374.5,417.1]]</point>", {"type": "click", "point": [0.3745, 0.4171]}),
    ("action: CLICK <point>[[10, 20]]</point>", {"type": "click", "point": [0.01, 0.02]}),
    (
        "To complete the task I should tap the icon. CLICK <point>[[10, 20]]</point> then wait.",
        {"type": "click", "point": [0.01, 0.02]},
    ),
    (
        "CLICK <box>[[100, 200, 300, 400]]</box>",
        {"type": "click", "point": [0.2, 0.3], "box": [0.1, 0.2, 0.3, 0.4]},
    ),
    ("LONG_PRESS <point>[[1, 2]]</point>", {"type": "long_press", "point": [0.001, 0.002]}),
    ("TYPE [Shanghai shopping mall]", {"type": "type", "text": "Shanghai shopping mall"}),
    ("TYPE[HO1257]", {"type": "type", "text": "HO1257"}),
    ("type [ hello ]", {"type": "type", "text": "hello"}),
    ("TYPE hello world", {"type": "type", "text": "hello world"}),
    ("Action: TYPE [a [nested] text]", {"type": "type", "text": "a [nested] text"}),
    ("SCROLL [UP]", {"type": "scroll", "direction": "up"}),
    ("scroll [down]", {"type": "scroll", "direction": "down"}),
    ("SCROLL LEFT", {"type": "scroll", "direction": "left"}),
    ("  SCROLL [ RIGHT ]  ", {"type": "scroll", "direction": "right"}),
    ("PRESS_BACK", {"type": "press_back"}),
    ("press back", {"type": "press_back"}),
    ("Press_Home", {"type": "press_home"}),
    ("ENTER", {"type": "press_enter"}),
    ("PRESS_ENTER", {"type": "press_enter"}),
    ("COMPLETE", {"type": "complete"}),
    ("action: IMPOSSIBLE", {"type": "impossible"}),
    ("OPEN_APP [Gmail]", {"type": "open_app", "text": "Gmail"}),
    ("WAIT", {"type": "wait"}),
]
GEM_INVALID = [
    "",
    "I do not know what to do",
    "CLICK",  # no coordinates
    "CLICK <point>[[512]]</point>",  # one number
    "SCROLL [DIAGONAL]",
    "go back home",  # lower-case aliases in prose are not actions
]

UITARS_CASES = [
    (
        "Thought: The search box is at the top.\nAction: click(start_box='(512,300)')",
        {"type": "click", "point": [0.512, 0.3]},
    ),
    (
        "Action: click(start_box='<|box_start|>(512,300)<|box_end|>')",
        {"type": "click", "point": [0.512, 0.3]},
    ),
    (
        "click(start_box='<|box_start|>(100,200,300,400)<|box_end|>')",
        {"type": "click", "point": [0.2, 0.3], "box": [0.1, 0.2, 0.3, 0.4]},
    ),
    ('click(start_box="[10, 20]")', {"type": "click", "point": [0.01, 0.02]}),
    ("long_press(start_box='(1,2)')", {"type": "long_press", "point": [0.001, 0.002]}),
    ("type(content='hello')", {"type": "type", "text": "hello"}),
    ("type(content='it\\'s\\n')", {"type": "type", "text": "it's\n"}),
    (
        "scroll(start_box='(500,500)', direction='down')",
        {"type": "scroll", "point": [0.5, 0.5], "direction": "down"},
    ),
    ("scroll(direction='UP')", {"type": "scroll", "direction": "up"}),
    (
        "drag(start_box='(500,800)', end_box='(500,200)')",
        {"type": "scroll", "point": [0.5, 0.8], "direction": "down"},
    ),
    ("open_app(app_name='Gmail')", {"type": "open_app", "text": "Gmail"}),
    ("press_back()", {"type": "press_back"}),
    ("press_home()", {"type": "press_home"}),
    ("hotkey(key='enter')", {"type": "press_enter"}),
    ("finished(content='all set')", {"type": "complete", "text": "all set"}),
    ("finished()", {"type": "complete"}),
    ("wait()", {"type": "wait"}),
    (
        "Thought: click (carefully) on it.\nAction: click(start_box='(10,20)')",
        {"type": "click", "point": [0.01, 0.02]},
    ),
]
UITARS_INVALID = [
    "Action: click()",
    "Action: click(start_box='(1)')",
    "Action: fly(to='moon')",
    "scroll(start_box='(1,2)', direction='sideways')",
    "Thought: nothing to do",
]

AITZ_CASES = [
    (
        {"result_action_type": 4, "result_touch_yx": "[0.3, 0.6]", "result_lift_yx": "[0.3, 0.6]"},
        {"type": "click", "point": [0.6, 0.3]},
    ),
    (
        {"result_action_type": 4, "result_touch_yx": "[0.8, 0.5]", "result_lift_yx": "[0.2, 0.5]"},
        {"type": "scroll", "point": [0.5, 0.8], "direction": "down"},
    ),
    (
        {"result_action_type": 4, "result_touch_yx": "[0.2, 0.5]", "result_lift_yx": "[0.8, 0.5]"},
        {"type": "scroll", "point": [0.5, 0.2], "direction": "up"},
    ),
    (
        {"result_action_type": 4, "result_touch_yx": [0.5, 0.9], "result_lift_yx": [0.5, 0.1]},
        {"type": "scroll", "point": [0.9, 0.5], "direction": "right"},
    ),
    (
        {"result_action_type": 4, "result_touch_yx": [0.5, 0.1], "result_lift_yx": [0.5, 0.9]},
        {"type": "scroll", "point": [0.1, 0.5], "direction": "left"},
    ),
    (
        {"result_action_type": 3, "result_action_text": "wireless earbuds"},
        {"type": "type", "text": "wireless earbuds"},
    ),
    ({"result_action_type": 5}, {"type": "press_back"}),
    ({"result_action_type": 6}, {"type": "press_home"}),
    ({"result_action_type": 7}, {"type": "press_enter"}),
    ({"result_action_type": 10}, {"type": "complete"}),
    ({"result_action_type": 11}, {"type": "impossible"}),
    ({"action_type": "STATUS_TASK_COMPLETE"}, {"type": "complete"}),
    ({"action_type": "PRESS_BACK"}, {"type": "press_back"}),
    (
        {
            "results/action_type": 4,
            "results/yx_touch": [0.25, 0.75],
            "results/yx_lift": [0.25, 0.75],
        },
        {"type": "click", "point": [0.75, 0.25]},
    ),
    (
        {"action_type": "click", "touch_xy": [0.25, 0.75]},
        {"type": "click", "point": [0.25, 0.75]},
    ),
    (
        # the tap's element box is the smallest ui_positions box (top, left, h, w) around it
        {
            "result_action_type": 4,
            "result_touch_yx": "[0.5, 0.5]",
            "result_lift_yx": "[0.5, 0.5]",
            "ui_positions": "[[0.0, 0.0, 1.0, 1.0], [0.4, 0.25, 0.2, 0.5], [0.9, 0.9, 0.05, 0.05]]",
        },
        {"type": "click", "point": [0.5, 0.5], "box": [0.25, 0.4, 0.75, 0.6]},
    ),
]


def _without_raw(action: Action) -> dict:
    out = action.to_dict()
    out.pop("raw", None)
    return out


def _close(got: dict, want: dict) -> None:
    assert set(got) == set(want), (got, want)
    for key, value in want.items():
        if isinstance(value, list):
            assert got[key] == pytest.approx(value), key
        else:
            assert got[key] == value, key


@pytest.mark.parametrize(("text", "want"), GEM_CASES)
def test_gem_format(text, want):
    action = parse_action(text, "gem")
    _close(_without_raw(action), want)
    assert action.raw == text
    assert _without_raw(parse_action(text)) == _without_raw(action)  # auto agrees


@pytest.mark.parametrize("text", GEM_INVALID)
def test_gem_unreadable_text_is_invalid(text):
    action = parse_action(text, "gem")
    assert action.type == "invalid"
    assert action.raw == text


@pytest.mark.parametrize(("text", "want"), UITARS_CASES)
def test_uitars_format(text, want):
    _close(_without_raw(parse_action(text, "uitars")), want)
    _close(_without_raw(parse_action(text)), want)


@pytest.mark.parametrize("text", UITARS_INVALID)
def test_uitars_unreadable_text_is_invalid(text):
    assert parse_action(text, "uitars").type == "invalid"


def test_uitars_pixel_coordinates_use_the_image_size():
    text = "click(start_box='(540,1200)')"
    pixel = parse_action(text, "uitars", image_size=(1080, 2400))
    assert pixel.point == pytest.approx((0.5, 0.5))
    relative = parse_action(text, "uitars")
    assert relative.point == pytest.approx((0.54, 1.2))
    box = parse_action("click(start_box='(0,0,1080,1200)')", "uitars", (1080, 2400), "pixel")
    assert box.box == pytest.approx((0.0, 0.0, 1.0, 0.5))


def test_pixel_coordinates_without_size_is_a_caller_error():
    with pytest.raises(GemvizError, match="screenshot size"):
        parse_action("click(start_box='(1,2)')", "uitars", coords="pixel")


@pytest.mark.parametrize(("record", "want"), AITZ_CASES)
def test_aitz_records(record, want):
    _close(_without_raw(parse_action(record, "aitz")), want)
    _close(_without_raw(parse_action(json.dumps(record))), want)


def test_aitz_pixel_points_need_the_image_size():
    record = {"action_type": 4, "touch_yx": [1200, 540], "lift_yx": [1200, 540]}
    assert parse_action(record, "aitz").type == "invalid"
    action = parse_action(record, "aitz", image_size=(1080, 2400))
    assert action.point == pytest.approx((0.5, 0.5))


@pytest.mark.parametrize(
    "record",
    [{"result_action_type": 4}, {"result_action_type": 9}, {"action_type": "teleport"}],
)
def test_aitz_unusable_records_are_invalid(record):
    assert parse_action(record, "aitz").type == "invalid"


@pytest.mark.parametrize(
    "action",
    [
        Action("click", point=(0.1, 0.2)),
        Action("click", point=(0.2, 0.3), box=(0.1, 0.2, 0.3, 0.4)),
        Action("type", text="héllo"),
        Action("scroll", direction="left"),
        Action("complete"),
    ],
)
def test_canonical_round_trip(action):
    assert parse_action(action.to_dict(), "canonical") == action
    assert Action.from_dict(json.loads(json.dumps(action.to_dict()))) == action
    assert parse_action(json.dumps(action.to_dict())).type == action.type


@pytest.mark.parametrize(
    "value",
    ['{"type": "fly"}', '{"type": "click", "point": [1, 2, 3]}', "{not json", {"kind": "click"}],
)
def test_canonical_malformed_is_invalid(value):
    assert parse_action(value).type == "invalid"
    assert parse_action(value, "canonical").type == "invalid"


@pytest.mark.parametrize("value", [None, float("nan"), 42, "", "   ", "???", {}])
def test_anything_unreadable_is_invalid_never_an_error(value):
    assert parse_action(value).type == "invalid"


def test_every_parser_answers_none_or_an_action_for_foreign_input():
    # A parser must not crash on another format's value; auto relies on that.
    values = [
        "CLICK <point>[[1, 2]]</point>",
        "click(start_box='(1,2)')",
        {"result_action_type": 5},
        {"type": "click", "point": [0.1, 0.1]},
        "plain words",
    ]
    for name, parser in PARSERS.items():
        for value in values:
            got = parser.parse(value)
            assert got is None or isinstance(got, Action), name


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        ("CLICK <point>[[1, 2]]</point>", "gem"),
        ("Thought: x\nAction: press_back()", "uitars"),
        ({"type": "click", "point": [0.1, 0.1]}, "canonical"),
        ('{"type": "complete"}', "canonical"),
        ({"result_action_type": 4}, "aitz"),
        ({"nothing": 1}, None),
    ],
)
def test_detect_format(value, fmt):
    assert detect_format(value) == fmt


def test_unknown_format_is_a_caller_error():
    with pytest.raises(GemvizError, match="unknown action format"):
        parse_action("COMPLETE", "osatlas")


@pytest.mark.parametrize("text", [t for t, _ in GEM_CASES])
def test_format_gem_round_trips(text):
    action = parse_action(text, "gem")
    again = parse_action(format_gem(action), "gem")
    assert again.type == action.type
    assert again.text == action.text
    assert again.direction == action.direction
    if action.point is not None:
        # format_gem writes integers on the 0–1000 scale
        assert again.point == pytest.approx(action.point, abs=0.0005 + 1e-9)


def test_action_validates_its_fields():
    with pytest.raises(GemvizError):
        Action("fly")
    with pytest.raises(GemvizError):
        Action("scroll", direction="sideways")
    with pytest.raises(GemvizError):
        Action("click", point=(0.1,))


def test_real_kairos_actions_all_parse(gem_public):
    # The GEM release's Kairos file holds OS-Atlas predictions and teacher actions in the GEM
    # format, including decimals and a TYPE without a space.
    records = read_records(gem_public / "Kairos_test_inputscore.json")
    for field in ("osatlas_action", "teacher_action"):
        actions = [parse_action(r[field], "gem") for r in records]
        assert all(a.is_valid for a in actions), field
    kinds = {parse_action(r["teacher_action"]).type for r in records}
    assert kinds == {"click", "type", "scroll", "press_enter", "complete", "impossible"}


def test_every_format_is_a_parser_under_its_own_name():
    assert set(PARSERS) == {"gem", "uitars", "aitz", "canonical"}
    for name, parser in [*PARSERS.items(), ("auto", AUTO)]:
        assert isinstance(parser, Parser), name
        assert parser.name == name
    # A parser says None for what is not its format, so auto can try the next one.
    assert PARSERS["canonical"].parse("CLICK <point>[[10, 20]]</point>") is None
    assert PARSERS["gem"].parse("CLICK <point>[[10, 20]]</point>").point == (0.01, 0.02)
    assert AUTO.parse("click(start_box='(500,250)')").point == (0.5, 0.25)
