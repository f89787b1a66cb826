"""Finding sentences for many configurations: margins, questions, few tasks, scales, runs."""

from __future__ import annotations

import pandas as pd

from gemviz.analysis import findings, findings_runs


def _gap_row(gap, lo, hi, p, ood_clusters=12, metric="exact_match"):
    return {
        "splitter": "gem", "model": "sft", "metric": metric, "id_n": 300, "ood_n": 100,
        "id_clusters": 40, "ood_clusters": ood_clusters, "gap": gap, "gap_lo": lo,
        "gap_hi": hi, "gap_p_adjusted": p,
    }  # fmt: skip


def test_a_significant_gap_within_the_margin_says_so():
    text = findings.gap_finding(_gap_row(0.04, 0.02, 0.045, 0.0004), "tasks")
    assert "drops 0.04 from ID to OOD, significant but within ±0.05," in text
    # Benchmark accuracy: the default margin is one point, so the same gap is a plain drop.
    text = findings.gap_finding(_gap_row(0.04, 0.02, 0.045, 0.0004, metric="accuracy"), "tasks")
    assert "drops 0.04 from ID to OOD [0.02, 0.04]" in text and "within" not in text
    # A margin set by hand wins over the metric's.
    text = findings.gap_finding(_gap_row(0.04, 0.02, 0.045, 0.0004), "tasks", margin=0.01)
    assert "within" not in text


def test_a_test_on_few_tasks_names_how_few():
    text = findings.gap_finding(_gap_row(0.5, 0.3, 0.7, 0.008, ood_clusters=3), "tasks")
    assert "Holm p = 0.008 (3 tasks)" in text
    assert "(12 tasks)" not in findings.gap_finding(_gap_row(0.5, 0.3, 0.7, 0.008), "tasks")


def _inter_row(**over):
    row = {
        "splitter": "gem", "metric": "exact_match", "model_a": "a", "model_b": "b",
        "did": 0.01, "did_lo": -0.02, "did_hi": 0.03, "did_p_adjusted": 0.6,
        "did_logodds": -0.82, "did_logodds_lo": -1.0, "did_logodds_hi": -0.64,
        "did_logodds_p_adjusted": 1e-14, "id_n": 400, "ood_n": 200, "id_clusters": 60,
        "ood_clusters": 30,
        "verdict": "no detectable difference (interval within ±0.05; +0.01, ...)",
        "scale_note": "a mean near 0 or 1: the probability and log-odds scales disagree",
    }  # fmt: skip
    row.update(over)
    return row


def test_the_interaction_headline_reads_the_log_odds_when_the_scales_disagree():
    inter = pd.DataFrame([_inter_row(), _inter_row(model_b="c", scale_note="")])
    text = findings.interaction_headline(inter, "exact_match", "tasks")
    assert text.startswith("On the log-odds scale, b's ID-OOD gap in exact match is 0.82 larger")
    assert "the scales disagree" in text and "no difference" in text
    # Scales that agree: the probability-scale reading, as before.
    agree = pd.DataFrame([_inter_row(scale_note="", did_logodds_p_adjusted=0.7)])
    assert findings.interaction_headline(agree, "exact_match", "tasks").startswith(
        "No detectable difference"
    )


def _summary():
    return pd.DataFrame(
        {
            "model": ["full4", "verl1", "base"], "subset": "all", "runs": 5,
            "run_mean": [0.473, 0.457, 0.40], "run_sd": [0.004, 0.0031, 0.01],
            "mean": [0.473, 0.457, 0.40],
        }
    )  # fmt: skip


def _pair(a, b, diff, verdict, fixed, p=0.59, p_fixed=0.007):
    return {
        "model_a": a, "model_b": b, "metric": "accuracy", "subset": "all", "diff": diff,
        "diff_lo": diff - 0.03, "diff_hi": diff + 0.03, "diff_p_adjusted": p, "n_clusters": 200,
        "verdict": verdict, "verdict_fixed": fixed, "diff_p_fixed_adjusted": p_fixed,
        "family": "3 pairs, Holm",
    }  # fmt: skip


def test_the_runs_title_follows_one_rule_and_says_it():
    pairs = pd.DataFrame(
        [
            _pair("full4", "verl1", 0.016, "too uncertain to tell on entries like these (...)",
                  "full4 higher than verl1 on this benchmark as it is (...)"),
            _pair("full4", "base", 0.073, "full4 higher than base on entries like these (...)",
                  "full4 higher than base on this benchmark as it is (...)", 0.001, 0.001),
        ]
    )  # fmt: skip
    title, rule = findings_runs.runs_headline(pairs, _summary(), "accuracy")
    # The best configuration against the runner-up, not the most significant pair.
    assert title.startswith("Over all runs, full4 leads verl1 in accuracy by 1.6 points")
    assert "too uncertain to tell on entries like these, Holm p = 0.59" in title
    assert "on this benchmark as it is: higher, Holm p = 0.007" in title
    assert "runner-up" in rule and "3 pairs, Holm" in rule
    title, rule = findings_runs.runs_headline(pairs, _summary(), "accuracy", baseline="base")
    assert title.startswith("Over all runs, full4 leads base") and "baseline base" in rule
    assert findings_runs.runs_finding(pairs, _summary(), "accuracy", baseline="base") == title


def test_the_slide_title_says_the_same_comparison_in_fewer_words():
    pairs = pd.DataFrame(
        [
            _pair("full4", "base", 0.073, "full4 higher than base on entries like these (...)",
                  "full4 higher than base on this benchmark as it is (...)", 0.0085, 0.0004),
            _pair("verl1", "base", 0.057, "too uncertain to tell on entries like these (...)",
                  "verl1 higher than base on this benchmark as it is (...)", 0.21, 0.02),
        ]
    )  # fmt: skip
    long, rule = findings_runs.runs_headline(pairs, _summary(), "accuracy", baseline="base")
    title, foot, same = findings_runs.runs_slide_headline(pairs, _summary(), "accuracy",
                                                          baseline="base")  # fmt: skip
    assert same == rule
    assert title == (
        "full4 leads base by 7.3 points in accuracy [+4.3, +10.3]: higher on entries like "
        "these (p = 0.0085) and on this benchmark (p < 0.001)"
    )
    # The long title's numbers and p-values, rounded alike; what it drops is in the footnote.
    for part in ("7.3 points", "[+4.3, +10.3]", "p = 0.0085", "p < 0.001"):
        assert part in long
    assert foot == "5 and 5 runs averaged per entry; [ ]: unadjusted 95% CI; p: Holm-adjusted"
    # Verdicts that differ are said one question at a time.
    verl = pairs.assign(model_a=["x", "verl1"])
    title, *_ = findings_runs.runs_slide_headline(verl, _summary().iloc[1:], "accuracy",
                                                  baseline="base")  # fmt: skip
    assert title.endswith(": too uncertain to tell on entries like these (p = 0.21); on this "
                          "benchmark: higher (p = 0.02)")  # fmt: skip


def test_run_sd_prints_in_points_with_one_decimal():
    title, _ = findings_runs.runs_headline(pd.DataFrame(), _summary().iloc[:1], "accuracy")
    assert title == "Accuracy over runs: full4 47.3% ± 0.4 points (5 runs)"


def test_ranking_title_gives_the_run_sd_in_points_with_one_decimal():
    summary = pd.DataFrame(
        {
            "model": ["lora", "sft", "base"],
            "subset": ["all"] * 3,
            "mean": [0.33, 0.25, 0.17],
            "runs": [5, 5, 5],
            "run_sd": [0.0031, 0.004, 0.0194],
        }
    )
    title = findings_runs.ranking_finding(summary, "accuracy")
    # Means in percent, the sd in points: one unit throughout.
    assert title.startswith("lora ranks first of 3 on accuracy (33.0% over 5 runs), base last")
    assert title.endswith("(17.0%); sd over runs 0.3–1.9 points")
