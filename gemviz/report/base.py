"""What a report is made of and the small HTML helpers its sections share."""

from __future__ import annotations

import base64
import contextlib
import functools
import gzip
import hashlib
import html
import inspect
import io
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly

from gemviz.analysis.methods import cluster_unit as unit
from gemviz.analysis.methods import statistics_note as note
from gemviz.data.errors import GemvizError
from gemviz.data.fields import ID
from gemviz.data.paths import cache_dir
from gemviz.data.study import Study
from gemviz.data.write import write_text_atomic
from gemviz.stats import format_p
from gemviz.workspace.configs import GROUPING_FIELDS, baseline_of

Progress = Callable[[int, int, str], None]


@dataclass
class ReportInputs:
    """Everything a report is made from.

    Attributes:
        name: Workspace name, the report's title.
        study: The aligned study.
        demo: True when the data are the built-in demo's (the report then says so).
        train_scores: Splitter -> train input scores, for the GEM fit plots.
        gem_params: Splitter -> its saved parameters (those GEM takes draw its fit).
        projection: An embedding projection to show, or None.
        projection_splitter: The splitter whose embeddings were projected.
        outputs: Model -> (sample id -> raw output), for the example steps.
        formats: Model -> action format of its outputs.
        image_root: Folder for relative screenshot paths.
        annotations: Sample id -> :class:`gemviz.workspace.annotations.Annotation` (tags and note).
        refits: Splitter -> ``(B, n)`` ID flags of its bootstrap refits
            (:func:`gemviz.analysis.stability.workspace_refits`), for the stability section; only
            refits already computed are reported.
        test_name: The test set's file name, for the study slide.
        descriptions: Splitter -> how it labels steps (e.g. ``"sentence embedding, GEM σ=2"``).
        answers: Entry id -> ground-truth calls per turn (BFCL's possible answers), for steps
            shown as conversations.
        run_tables: Model -> one table per run (``id -> (passed, error type, output)``), for
            steps shown as conversations.
        configs: The configuration table (:func:`gemviz.workspace.configs.configurations`:
            method, training set, base model, notes, baseline), or None.
        coverage: The training sets measured against the test set, with the decisive
            comparison (:func:`gemviz.report.coverage_sections.coverage_inputs`), or None.
    """

    name: str
    study: Study
    demo: bool = False
    train_scores: dict[str, np.ndarray] = field(default_factory=dict)
    gem_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    projection: Any = None
    projection_splitter: str | None = None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    image_root: str | None = None
    annotations: dict[str, Any] = field(default_factory=dict)
    refits: dict[str, np.ndarray] = field(default_factory=dict)
    test_name: str = ""
    descriptions: dict[str, str] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)
    run_tables: dict[str, list[dict]] = field(default_factory=dict)
    configs: pd.DataFrame | None = None
    coverage: Any = None

    @property
    def baseline(self) -> str | None:
        """The baseline configuration, when the table marks one the study has."""
        name = baseline_of(self.configs) if self.configs is not None else None
        return name if name in self.study.models else None

    def grouping(self) -> tuple[str | None, str | None]:
        """The attributes charts colour by and group by: the first two the table fills."""
        if self.configs is None:
            return None, None
        filled = [f for f in GROUPING_FIELDS if self.configs[f].notna().any()]
        padded = [*filled, None, None]
        return padded[0], padded[1]


class Figures(Mapping):
    """File name -> PNG bytes, each drawn when first read.

    A section gives a figure the HTML does not show as a function that draws it, so a report
    written without its ZIP draws none of them; reading one (or :meth:`Report.zip_bytes`)
    draws it once.
    """

    def __init__(self) -> None:
        self._items: dict[str, bytes | Callable[[], bytes]] = {}

    def update(self, items: Mapping[str, bytes | Callable[[], bytes]]) -> None:
        """Add figures: bytes, or a function returning them."""
        self._items.update(items)

    def __getitem__(self, name: str) -> bytes:
        value = self._items[name]
        if callable(value):
            value = self._items[name] = value()
        return value

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class Report:
    """A built report: the HTML text and the figures as PNG (file name -> bytes)."""

    html: str
    figures: Mapping[str, bytes]
    sections: list[str]

    def zip_bytes(self) -> bytes:
        """The figures as a ZIP archive of PNG files."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in self.figures.items():
                zf.writestr(name, data)
        return buf.getvalue()


#: Script type of a figure's drawing code, run by :func:`plotly_loader` once plotly.js is in.
FIGURE_SCRIPT = "text/x-gemviz-figure"
#: Rows a table shows on the page; longer ones show their first rows and go whole into the ZIP.
TABLE_ROWS = 40


@functools.lru_cache(maxsize=1)
def _packed_plotly() -> str:
    """plotly.js gzip-packed in base64; packed once per plotly.js and kept in the cache (the
    packing is a sixth of a second, the same bytes every time)."""
    script = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    name = hashlib.blake2b(script, digest_size=16).hexdigest()
    with contextlib.suppress(OSError, GemvizError):
        return (cache_dir("plotly") / f"{name}.b64").read_text("ascii")
    packed = base64.b64encode(gzip.compress(script, 9, mtime=0)).decode("ascii")
    with contextlib.suppress(OSError, GemvizError):
        write_text_atomic(cache_dir("plotly") / f"{name}.b64", packed)
    return packed


def plotly_loader() -> str:
    """plotly.js for the whole page: gzip-packed into the page (a third of its 4.8 MB), unpacked
    by the browser, then every figure's script is run in order; nothing is fetched."""
    return (
        '<script id="gemviz-plotly">(async () => {'
        f'const packed = "{_packed_plotly()}";'
        "const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));"
        'const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));'
        "const code = await new Response(stream).text();"
        'const lib = document.createElement("script"); lib.textContent = code;'
        "document.head.appendChild(lib);"
        f"for (const el of document.querySelectorAll('script[type=\"{FIGURE_SCRIPT}\"]')) "
        "{ (0, eval)(el.textContent); }"
        "})();</script>"
    )


class _Context:
    """State shared by the section builders while one report is built."""

    def __init__(self, inputs: ReportInputs, examples: Mapping[str, str]) -> None:
        self.inputs = inputs
        self.examples = examples
        self.plotly_included = False

    def plotly(self, fig) -> str:
        # The figure's drawing code waits for plotly.js, which the page carries once.
        self.plotly_included = True
        text = fig.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True})
        return re.sub(
            r'<script(?: type="text/javascript")?>', f'<script type="{FIGURE_SCRIPT}">', text
        )


# A section: its HTML and its figures (PNG bytes, or a function drawing them: see Figures).
Section = tuple[str, dict[str, Any]]

_MEMO = "_report_results"


def _frozen(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def shared(study: Study, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(study, *args, **kwargs)``, computed once per study for the report and the deck.

    The report and the deck show the same tables (and a page builds them again for every
    download): the answer is kept on the study, which is read-only, under the function and its
    arguments with the defaults filled in. Frames come back as copies, so a caller's change
    stays its own.
    """
    bound = inspect.signature(fn).bind(study, *args, **kwargs)
    bound.apply_defaults()
    key = (fn.__module__, fn.__qualname__, _frozen(dict(list(bound.arguments.items())[1:])))
    memo = study.__dict__.setdefault(_MEMO, {})
    if key not in memo:
        memo[key] = fn(study, *args, **kwargs)
    found = memo[key]
    return found.copy() if isinstance(found, pd.DataFrame) else found


def step_positions(study: Study, ids: Iterable[str]) -> dict[str, int]:
    """The row of each of ``ids`` in the study, found in one pass over the id column; ids the
    study does not hold are left out (a million-entry map of every id is never built)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    column = study.samples[ID]
    rows = np.flatnonzero(column.isin(wanted).to_numpy(dtype=bool, na_value=False))
    return dict(zip(column.iloc[rows].tolist(), rows.tolist(), strict=True))


def cluster_count(study: Study) -> int:
    """The study's clusters (``study.n_clusters`` counts them at every ask); through
    :func:`shared`, counted once for the report and the deck."""
    return study.n_clusters


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else f"{value:.3f}"
    return html.escape(str(value))


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _long_table(frame: pd.DataFrame, name: str, figures: dict[str, bytes], what: str) -> str:
    """A table on the page when short; else its first :data:`TABLE_ROWS` rows (the caller
    orders them) and the whole table as ``name`` (CSV) in the figures ZIP."""
    if len(frame) <= TABLE_ROWS:
        return _table(frame)
    figures[name] = frame.to_csv(index=False).encode("utf-8")
    return _note(
        f"The first {TABLE_ROWS} of {len(frame):,} {what}; all of them are in the ZIP as {name}."
    ) + _table(frame.head(TABLE_ROWS))


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def cluster_unit(cluster_by: str) -> str:
    """How to name the clusters of ``cluster_by`` in text (``tasks``, ``episodes``, ...)."""
    return unit(cluster_by)


def statistics_note(cluster_by: str, adjust: str = "holm") -> str:
    """How the intervals and tests treat the steps (the text the Metrics page shows too)."""
    return note(cluster_by, adjust)


def _interval(mean: float, lo: float, hi: float, n: int, k: int, unit: str) -> str:
    if n == 0 or math.isnan(mean):
        return "– (n=0)"
    count = f"n={int(n):,}" if unit == "steps" else f"n={int(n):,}, {int(k):,} {unit}"
    return f"{mean:.3f} [{lo:.3f}, {hi:.3f}] ({count})"


def _count(n: int, k: int, unit: str) -> str:
    """A step count with its clusters beside it, e.g. ``351 (108 episodes)``."""
    return f"{int(n):,}" if unit == "steps" else f"{int(n):,} ({int(k):,} {unit})"


def _difference(value: float, lo: float, hi: float) -> str:
    if value is None or math.isnan(value):
        return "–"
    if lo is None or math.isnan(lo):
        return f"{value:+.3f}"
    return f"{value:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def _pval(p: float) -> str:
    return "–" if p is None or math.isnan(p) else format_p(p).removeprefix("p=")
