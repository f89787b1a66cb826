"""The fixed-benchmark question of the interaction: the models' per-run ID-OOD gaps compared.

With repeated runs, :func:`gemviz.analysis.tables.interaction_table` asks, beside its main
question (on entries like these), whether A's ID-OOD gap is larger than B's on this entry set
as it is: Welch's t on the two models' per-run gaps (:func:`gemviz.stats.run_difference`),
adjusted over the interaction's family. A model with a single run leaves it unasked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gemviz.analysis.methods import ADJUST_NAMES
from gemviz.analysis.runs import QUESTION_FIXED
from gemviz.data.study import Study
from gemviz.stats import adjust_by_family, default_margin, fixed_reason, run_difference, verdict


def fixed_gaps(
    study: Study, metric: str, pairs: list[tuple[str, str]], is_id: np.ndarray
) -> list[dict[str, float]]:
    """Per pair, the fixed-benchmark test of A's per-run ID-OOD gap against B's."""

    def gaps(model: str) -> np.ndarray:
        runs = study.run_values(metric, model).astype(float)
        if not is_id.any() or is_id.all():
            return np.full(runs.shape[1], np.nan)
        ide, ood = np.compress(is_id, runs, axis=0), np.compress(~is_id, runs, axis=0)
        return ide.mean(axis=0) - ood.mean(axis=0)

    out = []
    for a, b in pairs:
        test = run_difference(gaps(a), gaps(b))
        out.append(
            {
                "did_lo_fixed": test["lo"],
                "did_hi_fixed": test["hi"],
                "did_p_fixed": test["p"],
                "runs_a": study.runs(a),
                "runs_b": study.runs(b),
            }
        )
    return out


def fixed_columns(
    out: pd.DataFrame, family: pd.Series, adjust: str, margin: float | None, baseline=None
) -> None:
    """The fixed-benchmark question's adjusted p-values and verdicts, and the family in words
    (in place; with a ``baseline``, its configurations against it)."""
    out["did_p_fixed_adjusted"] = adjust_by_family(
        out["did_p_fixed"].to_numpy(float), family, adjust
    )
    sizes = family.map(family.value_counts())
    name = ADJUST_NAMES.get(adjust, adjust)
    what = "pair" if baseline is None else "configuration"
    against = "" if baseline is None else f" against {baseline}"
    out["family"] = [
        f"{int(k)} {what}{'s' if k != 1 else ''}{against} under {r.splitter}, {r.metric}, {name}"
        for k, r in zip(sizes, out.itertuples(), strict=True)
    ]
    out["verdict_fixed"] = [fixed_verdict(r, adjust, margin) for r in out.itertuples()]


def fixed_verdict(row: tuple, adjust: str, margin: float | None) -> str:
    """The fixed-benchmark question's verdict of one interaction row."""
    if np.isnan(row.did_p_fixed):
        return fixed_reason(row.runs_a, row.runs_b)
    return verdict(
        row.did,
        row.did_lo_fixed,
        row.did_hi_fixed,
        row.did_p_fixed_adjusted,
        higher=f"{row.model_a} − {row.model_b} is larger on ID than on OOD",
        lower=f"{row.model_a} − {row.model_b} is larger on OOD than on ID",
        margin=default_margin(row.metric) if margin is None else margin,
        method=adjust,
        question=QUESTION_FIXED,
    )
