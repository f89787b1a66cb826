"""Rule-set boundaries (distance exactly at the threshold and one unit past it, text
containment, every scroll direction, element boxes) and record-level matching + summary."""

from __future__ import annotations

import pytest

from gemviz.actions import RULES, Action, match_action, match_records, parse_action
from gemviz.data.errors import GemvizError
from gemviz.data.read import read_records


def gem(text: str) -> Action:
    return parse_action(text, "gem")


def click(x: float, y: float, box=None) -> Action:
    return Action("click", point=(x / 1000, y / 1000), box=box)


# On the 0–1000 scale: (dx, dy) = (84, 112) and (140, 0) are exactly 140 units away,
# (85, 112) and (141, 0) just past it.
AT_THRESHOLD = [
    ((500, 500), (640, 500)),
    ((500, 500), (584, 612)),
    ((900, 100), (816, 212)),
    ((10, 990), (150, 990)),
    ((123, 457), (123, 317)),
]
PAST_THRESHOLD = [
    ((500, 500), (641, 500)),
    ((500, 500), (585, 612)),
    ((900, 100), (816, 213)),
    ((10, 990), (151, 990)),
]


@pytest.mark.parametrize("rules", list(RULES))
@pytest.mark.parametrize(("a", "b"), AT_THRESHOLD)
def test_click_at_exactly_the_threshold_counts(rules, a, b):
    gt = gem(f"CLICK <point>[[{a[0]}, {a[1]}]]</point>")
    pred = gem(f"CLICK <point>[[{b[0]}, {b[1]}]]</point>")
    assert match_action(gt, pred, rules) == (1, 1)
    assert match_action(pred, gt, rules) == (1, 1)


@pytest.mark.parametrize("rules", list(RULES))
@pytest.mark.parametrize(("a", "b"), PAST_THRESHOLD)
def test_click_one_unit_past_the_threshold_does_not(rules, a, b):
    gt = gem(f"CLICK <point>[[{a[0]}, {a[1]}]]</point>")
    pred = gem(f"CLICK <point>[[{b[0]}, {b[1]}]]</point>")
    assert match_action(gt, pred, rules) == (1, 0)


def test_threshold_survives_float_rounding():
    # 0.14 computed from floats can land a hair above 0.14; it must still count.
    gt = Action("click", point=(0.141, 0.3))
    pred = Action("click", point=(0.141 + 0.14, 0.3))
    assert (pred.point[0] - gt.point[0]) > 0.14  # the float really is past 0.14
    assert match_action(gt, pred, "gem") == (1, 1)


@pytest.mark.parametrize(
    ("gt_text", "pred_text", "rules", "want"),
    [
        ("TYPE [hello]", "TYPE [hello]", "gem", (1, 1)),
        ("TYPE [hello]", "TYPE [ hello ]", "gem", (1, 1)),
        ("TYPE [hello]", "TYPE [Hello]", "gem", (1, 0)),
        ("TYPE [hello]", "TYPE [hello world]", "gem", (1, 0)),
        ("TYPE [hello]", "TYPE [hello world]", "aitz", (1, 1)),  # containment
        ("TYPE [hello world]", "TYPE [hello]", "aitz", (1, 1)),  # either way
        ("TYPE [Hello World]", "TYPE [hello world]", "aitz", (1, 1)),
        ("TYPE [1 kg hammer]", "TYPE [1kg hammer]", "aitz", (1, 1)),  # ratio 0.94
        ("TYPE [coffee]", "TYPE [toffee]", "aitz", (1, 1)),  # ratio 0.833: above 0.8
        ("TYPE [abcde]", "TYPE [abxde]", "aitz", (1, 0)),  # ratio 0.8: not above it
        ("TYPE [weather]", "TYPE [music]", "aitz", (1, 0)),
        ("TYPE [hello]", "TYPE []", "aitz", (1, 0)),
        ("TYPE [hello]", "TYPE [music]", "aitw", (1, 1)),  # AitW compares types only
    ],
)
def test_text_rules(gt_text, pred_text, rules, want):
    assert match_action(gem(gt_text), gem(pred_text), rules) == want


DIRECTIONS = ("up", "down", "left", "right")


@pytest.mark.parametrize("rules", ["gem", "aitz"])
@pytest.mark.parametrize("gt_dir", DIRECTIONS)
@pytest.mark.parametrize("pred_dir", DIRECTIONS)
def test_scroll_needs_the_same_direction(rules, gt_dir, pred_dir):
    got = match_action(gem(f"SCROLL [{gt_dir}]"), gem(f"SCROLL [{pred_dir}]"), rules)
    assert got == (1, int(gt_dir == pred_dir))


@pytest.mark.parametrize("gt_dir", DIRECTIONS)
@pytest.mark.parametrize("pred_dir", DIRECTIONS)
def test_aitw_scroll_matches_on_the_main_axis(gt_dir, pred_dir):
    vertical = {"up", "down"}
    same_axis = (gt_dir in vertical) == (pred_dir in vertical)
    got = match_action(gem(f"SCROLL [{gt_dir}]"), gem(f"SCROLL [{pred_dir}]"), "aitw")
    assert got == (1, int(same_axis))


def test_aitw_tap_never_matches_a_scroll():
    tap = gem("CLICK <point>[[500, 500]]</point>")
    scroll = Action("scroll", point=(0.5, 0.5), direction="up")
    assert match_action(tap, scroll, "aitw") == (1, 0)  # both DUAL_POINT in AitW
    assert match_action(scroll, tap, "aitw") == (1, 0)
    assert match_action(tap, scroll, "gem") == (0, 0)
    assert match_action(tap, scroll, "aitz") == (0, 0)


def test_aitw_enlarged_element_box():
    # Box 100 units wide and tall around (500, 500); AitW grows each side by 1.4x its size,
    # so the box spans 380..620 on both axes.
    box = (0.45, 0.45, 0.55, 0.55)
    gt = Action("click", point=(0.5, 0.3), box=(0.45, 0.25, 0.55, 0.35))
    # 190 units away along y: too far for the distance rule ...
    inside = Action("click", point=(0.5, 0.49))
    assert match_action(gt, inside, "aitw") == (1, 0)
    # ... but with a box around both points, the enlarged box decides.
    gt = Action("click", point=(0.5, 0.5), box=box)
    assert match_action(gt, Action("click", point=(0.62, 0.62)), "aitw") == (1, 1)
    assert match_action(gt, Action("click", point=(0.621, 0.5)), "aitw") == (1, 1)  # distance
    far = Action("click", point=(0.5, 0.645))
    assert match_action(Action("click", point=(0.5, 0.5)), far, "aitw") == (1, 0)
    assert match_action(gt, Action("click", point=(0.5 + 0.119, 0.5 + 0.119)), "aitw") == (1, 1)
    wide = Action("click", point=(0.5, 0.4), box=(0.0, 0.38, 1.0, 0.42))
    assert match_action(wide, Action("click", point=(0.99, 0.425)), "aitw") == (1, 1)
    assert match_action(wide, Action("click", point=(0.99, 0.475)), "aitw") == (1, 0)


def test_aitz_click_boxes():
    # predicted box 1.2x: 0.40..0.60 grows to 0.38..0.62
    pred = Action("click", point=(0.5, 0.5), box=(0.4, 0.4, 0.6, 0.6))
    assert match_action(Action("click", point=(0.62, 0.5)), pred, "aitz") == (1, 1)
    # boxes exist, so no distance fallback: 0.121 from the point is not enough
    assert match_action(Action("click", point=(0.621, 0.5)), pred, "aitz") == (1, 0)
    far = Action("click", point=(0.9, 0.9))
    assert match_action(far, pred, "aitz") == (1, 0)
    # a box exists, so a point 0.05 away but outside it does not count by distance
    beside = Action("click", point=(0.5, 0.65))
    assert match_action(beside, pred, "aitz") == (1, 0)
    # ground-truth box with IoU > 0.5 against the predicted box
    gt = Action("click", point=(0.2, 0.2), box=(0.1, 0.1, 0.3, 0.3))
    similar = Action("click", point=(0.5, 0.5), box=(0.11, 0.11, 0.31, 0.31))
    disjoint = Action("click", point=(0.5, 0.5), box=(0.5, 0.5, 0.7, 0.7))
    assert match_action(gt, similar, "aitz") == (1, 1)
    assert match_action(gt, disjoint, "aitz") == (1, 0)
    # a point-only prediction against a ground-truth box (1.2x: 0.08..0.32)
    assert match_action(gt, Action("click", point=(0.32, 0.2)), "aitz") == (1, 1)
    assert match_action(gt, Action("click", point=(0.33, 0.2)), "aitz") == (1, 0)


def test_aitz_iou_threshold():
    # The enlarged ground-truth box spans 0.08..0.32. Predicted boxes: its lower 51% / 49%,
    # i.e. IoU 0.51 / 0.49, placed so that the ground-truth point (0.12, 0.12) stays outside
    # the predicted box even when enlarged, leaving the IoU to decide.
    gt = Action("click", point=(0.12, 0.12), box=(0.1, 0.1, 0.3, 0.3))
    over = Action("click", point=(0.9, 0.9), box=(0.08, 0.32 - 0.24 * 0.51, 0.32, 0.32))
    under = Action("click", point=(0.9, 0.9), box=(0.08, 0.32 - 0.24 * 0.49, 0.32, 0.32))
    assert match_action(gt, over, "aitz") == (1, 1)
    assert match_action(gt, under, "aitz") == (1, 0)


@pytest.mark.parametrize(
    ("gt_text", "pred_text", "want"),
    [
        ("PRESS_BACK", "PRESS_BACK", (1, 1)),
        ("PRESS_BACK", "PRESS_HOME", (1, 0)),  # same type 'press', other button
        ("PRESS_HOME", "ENTER", (1, 0)),
        ("COMPLETE", "COMPLETE", (1, 1)),
        ("COMPLETE", "IMPOSSIBLE", (0, 0)),
    ],
)
def test_aitz_press_by_button(gt_text, pred_text, want):
    assert match_action(gem(gt_text), gem(pred_text), "aitz") == want


@pytest.mark.parametrize(
    ("gt_text", "pred_text"),
    [("PRESS_BACK", "PRESS_HOME"), ("COMPLETE", "IMPOSSIBLE"), ("PRESS_HOME", "ENTER")],
)
@pytest.mark.parametrize("rules", ["gem", "aitw"])
def test_other_buttons_do_not_type_match(rules, gt_text, pred_text):
    assert match_action(gem(gt_text), gem(pred_text), rules) == (0, 0)


@pytest.mark.parametrize("rules", list(RULES))
def test_type_mapping_of_the_extra_types(rules):
    long_press = Action("long_press", point=(0.5, 0.5))
    near = Action("click", point=(0.55, 0.5))
    assert match_action(long_press, near, rules) == (1, 1)  # long press counts as a tap
    for kind in ("open_app", "wait", "press_enter"):
        assert match_action(Action(kind), Action(kind), rules) == (1, 1)
        assert match_action(Action(kind), near, rules) == (0, 0)
    assert match_action(Action("open_app", text="Gmail"), Action("wait"), rules) == (0, 0)


@pytest.mark.parametrize("rules", list(RULES))
def test_invalid_never_matches(rules):
    bad = parse_action("no idea")
    assert match_action(gem("COMPLETE"), bad, rules) == (0, 0)
    assert match_action(bad, bad, rules) == (0, 0)


def test_unknown_rules_is_an_error():
    with pytest.raises(GemvizError, match="unknown rule set"):
        match_action(gem("COMPLETE"), gem("COMPLETE"), "osatlas")


def _records():
    gt = [
        {"id": "a", "task": "t", "action": "CLICK <point>[[500, 500]]</point>", "app": "x"},
        {"id": "b", "task": "t", "action": {"type": "type", "text": "hi"}},
        {"id": "c", "task": "t", "action": "SCROLL [UP]"},
        {"id": "d", "task": "t", "action": "COMPLETE"},
    ]
    pred = [  # another order, one unreadable
        {"id": "d", "prediction": "finished(content='ok')"},
        {"id": "c", "prediction": "SCROLL [DOWN]"},
        {"id": "a", "prediction": "click(start_box='(584,612)')"},
        {"id": "b", "prediction": "uh?"},
    ]
    return gt, pred


def test_match_records_aligns_by_id_and_keeps_fields():
    gt, pred = _records()
    results, summary = match_records(gt, pred, rules="gem")
    assert [r["id"] for r in results] == ["a", "b", "c", "d"]
    assert [(r["type_match"], r["exact_match"]) for r in results] == [
        (1, 1),
        (0, 0),
        (1, 0),
        (1, 1),
    ]
    assert results[0]["app"] == "x" and results[1]["action"] == {"type": "type", "text": "hi"}
    assert "type_match" not in gt[0]  # inputs untouched
    assert summary["n"] == 4
    assert summary["type_match"] == pytest.approx(0.75)
    assert summary["exact_match"] == pytest.approx(0.5)
    assert summary["invalid_predictions"] == 1
    assert summary["by_type"]["type"] == {
        "n": 1,
        "type_match_count": 0,
        "exact_match_count": 0,
        "invalid_predictions": 1,
        "type_match": 0.0,
        "exact_match": 0.0,
    }
    assert summary["by_type"]["scroll"]["invalid_predictions"] == 0
    assert summary["prediction_types"]["invalid"] == 1


def test_match_records_reports_missing_samples_and_fields():
    gt, pred = _records()
    with pytest.raises(GemvizError, match="missing"):
        match_records(gt, pred[:3], gt_file="gt.json", pred_file="pred.json")
    broken = [dict(r) for r in gt]
    del broken[2]["action"]
    with pytest.raises(GemvizError, match="row 3, field 'action'"):
        match_records(broken, pred, gt_file="gt.json")


def test_match_records_with_pixel_predictions():
    gt = [{"id": "a", "task": "t", "action": {"type": "click", "point": [0.5, 0.5]}}]
    pred = [{"id": "a", "prediction": "click(start_box='(540,1200)')"}]
    results, _ = match_records(gt, pred, coords="pixel", image_sizes=[(1080, 2400)])
    assert results[0]["exact_match"] == 1
    results, _ = match_records(gt, pred)  # read as 0–1000: y = 1.2, far away
    assert results[0]["exact_match"] == 0


def test_match_records_with_whole_aitz_records_as_ground_truth():
    gt = [
        {
            "id": 1,
            "task": "t",
            "result_action_type": 4,
            "result_touch_yx": "[0.5, 0.25]",
            "result_lift_yx": "[0.5, 0.25]",
        },
        {"id": 2, "task": "t", "result_action_type": 3, "result_action_text": "Paris"},
        {"id": 3, "task": "t", "result_action_type": 10},
    ]
    pred = [
        {"id": 1, "prediction": "CLICK <point>[[250, 500]]</point>"},
        {"id": 2, "prediction": "type(content='paris')"},
        {"id": 3, "prediction": "finished()"},
    ]
    results, summary = match_records(gt, pred, rules="aitz", gt_field=".")
    assert [r["exact_match"] for r in results] == [1, 1, 1]
    assert summary["invalid_ground_truth"] == 0
    assert results[0]["result_touch_yx"] == "[0.5, 0.25]"


def test_real_kairos_osatlas_against_teacher(gem_public):
    # The GEM release's Kairos file pairs OS-Atlas predictions with teacher actions.
    records = read_records(gem_public / "Kairos_test_inputscore.json")
    results, summary = match_records(
        records, records, gt_field="teacher_action", pred_field="osatlas_action"
    )
    assert summary["n"] == len(records) == 854
    assert summary["invalid_predictions"] == 0
    # every identical action string is an exact match, and a type mismatch is never exact
    for rec in results:
        if rec["teacher_action"].strip() == rec["osatlas_action"].strip():
            assert rec["exact_match"] == 1
        assert rec["exact_match"] <= rec["type_match"]
    # ENTER never appears among the OS-Atlas predictions, so those 7 steps never type-match
    assert summary["by_type"]["press_enter"] == {
        "n": 7,
        "type_match_count": 0,
        "exact_match_count": 0,
        "invalid_predictions": 0,
        "type_match": 0.0,
        "exact_match": 0.0,
    }
    assert 0.5 < summary["exact_match"] < summary["type_match"] < 1.0
