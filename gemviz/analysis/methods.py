"""How the statistics treat the steps, in words: one text for the pages, the report and the CLI.

The words follow the method in use: whole clusters are permuted (or, when clusters straddle
the sets, a cluster-robust score t is used) when steps are clustered, single steps when
``--cluster-by none``; the families of adjusted p-values are those of
:data:`gemviz.stats.FAMILIES`.
"""

from __future__ import annotations

from gemviz.data import clusters as clusters_mod

ADJUST_NAMES = {"holm": "Holm", "bh": "Benjamini-Hochberg"}


def cluster_unit(cluster_by: str) -> str:
    """How to name the clusters of ``cluster_by`` in text (``tasks``, ``episodes``, ...)."""
    named = {"task": "tasks", "episode_id": "episodes", "conversation_id": "conversations"}
    return {**named, clusters_mod.NONE: "steps"}.get(cluster_by, f"{cluster_by} groups")


def statistics_note(cluster_by: str, adjust: str = "holm") -> str:
    """One paragraph saying how the intervals, tests and adjusted p-values were made.

    Args:
        cluster_by: The study's cluster setting (``"none"`` for step level).
        adjust: ``"holm"`` or ``"bh"``.

    Returns:
        Plain text (no markup).
    """
    name = ADJUST_NAMES.get(adjust, adjust)
    families = (
        f"P-values are {name}-adjusted within each family (a gap or interaction: one splitter "
        "and metric; a paired comparison: its three rows; a drill-down: one pair of splitters "
        "and metric; the runs view: every comparison it shows); intervals are unadjusted 95% "
        "intervals."
    )
    if cluster_by == clusters_mod.NONE:
        return (
            "Step-level statistics (cluster by none): every step counts as independent. "
            "Means have Wilson intervals; differences are permutation tests over single steps "
            "(sign flips of single steps for paired differences), with the intervals that "
            f"invert them. {families}"
        )
    unit = cluster_unit(cluster_by)
    return (
        f"Clustered by '{cluster_by}': steps of one of the {unit} are not independent. Means "
        f"have Korn-Graubard intervals; a difference between sets of whole {unit} is a "
        f"permutation test that relabels whole {unit}, its difference over a cluster-robust "
        "standard error so that it tests equal means, checked by a cluster-robust Welch t "
        f"where one set's {unit} vary more (paired differences: sign flips of "
        f"whole {unit}), with the interval that inverts it; when {unit} straddle the two "
        f"sets, a cluster-robust score t on the {unit} of the smaller set. Too few {unit} "
        f"for any test to reject reads 'cannot be tested'. {families}"
    )
