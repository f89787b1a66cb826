"""``report``: write a workspace's meeting report as one self-contained HTML file.

The report holds the ID/OOD tables with intervals and gaps, the model x split interaction,
the GEM fit of each splitter, the Venn
diagrams, the set-difference drill-down, the embedding map (when a UMAP projection is cached,
or with ``--umap``) and the chosen example steps drawn on their screenshots. ``--zip`` also
writes the figures as PNG files; ``--slides`` writes the meeting deck (PowerPoint, one finding
per slide, native charts, speaker notes).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gemviz.analysis.projection import ProjectionParams, project_files
from gemviz.analysis.samples import suggest_examples
from gemviz.commands.common import print_warnings
from gemviz.data.errors import GemvizError
from gemviz.data.fields import nfc
from gemviz.data.markup import visible
from gemviz.data.safety import check_output
from gemviz.report import build_report, inputs_from_workspace, write_report
from gemviz.report.base import step_positions
from gemviz.report.slides import build_deck, write_deck
from gemviz.workspace.store import Workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``report`` command."""
    parser.add_argument(
        "--workspace", required=True, help="workspace folder (the one holding workspace.json)"
    )
    parser.add_argument("--out", help="HTML file to write")
    parser.add_argument("--zip", help="also write the figures as PNG files into this ZIP")
    parser.add_argument(
        "--slides",
        metavar="DECK.pptx",
        help="write the meeting deck: one finding per slide, titled with it, native charts "
        "with 95%% intervals, speaker notes with method, n, clusters and adjustment",
    )
    parser.add_argument(
        "--examples",
        nargs="*",
        default=None,
        metavar="ID",
        help="sample ids of example steps (default: a few steps the splitters disagree on; "
        "give the option with no id for none)",
    )
    parser.add_argument(
        "--cluster-by",
        default=None,
        metavar="FIELD",
        help="cluster steps by this field for every interval and test (default: the "
        "workspace's setting, auto = episode_id, else task; 'none' for step level)",
    )
    parser.add_argument(
        "--umap",
        action="store_true",
        help="compute a UMAP projection (default parameters) when none is cached yet",
    )


def run(args: argparse.Namespace) -> int:
    """Build and write the report and/or the deck; returns 0."""
    if not args.out and not args.slides:
        raise GemvizError("give --out report.html, --slides deck.pptx, or both")
    if args.out and not args.out.lower().endswith((".html", ".htm")):
        raise GemvizError("--out should name an .html file", file=args.out)
    if args.zip and not args.out:
        raise GemvizError("--zip comes with the HTML report: give --out too", file=args.zip)
    if args.slides and not args.slides.lower().endswith(".pptx"):
        raise GemvizError("--slides should name a .pptx file", file=args.slides)
    ws = Workspace.load(args.workspace)
    if args.cluster_by:
        ws.cluster_by = args.cluster_by  # for this report only; workspace.json is not changed
    # The report also reads the step notes and the examples' screenshots (checked again below).
    inputs = [ws.json_path, ws.folder / "annotations.json", *ws.files()]
    outs = {}
    for option, path in (("--out", args.out), ("--zip", args.zip), ("--slides", args.slides)):
        if not path:
            continue
        for other, taken in outs.items():
            if os.path.realpath(path) == str(taken):
                raise GemvizError(
                    f"{option} and {other} name the same file; give each its own name", file=path
                )
        outs[option] = check_output(path, inputs, option=option)
    out, zip_out = outs.get("--out"), outs.get("--zip")
    projection = splitter = None
    if args.umap:
        projection, splitter = _projection(ws)
    inputs = inputs_from_workspace(ws, projection=projection, projection_splitter=splitter)
    print_warnings(args.command, inputs.study.warnings)
    # Ids compare in NFC, as the study builds them (an id typed with combining accents too).
    examples = (
        [nfc(e) for e in args.examples]
        if args.examples is not None
        else suggest_examples(inputs.study)
    )
    known = step_positions(inputs.study, examples)
    unknown = [e for e in examples if e not in known]
    if unknown:  # said now, not after the report's sections are built
        raise GemvizError(
            f"{len(unknown)} example step(s) are not in the workspace's test set (e.g. "
            f"{unknown[0]!r}); give sample ids as the Samples page shows them",
            field="--examples",
        )
    shots = _screenshots(inputs.study, [*examples, *inputs.annotations], ws.image_root)
    for option, path in outs.items():
        check_output(path, shots, option=option)

    def progress(done: int, total: int, stage: str) -> None:
        print(f"[{done}/{total}] {stage}", file=sys.stderr, flush=True)

    if out is not None:
        report = build_report(inputs, examples, progress=progress)
        write_report(report, out, zip_out)
        print(
            f"wrote {args.out}"
            + (f" and {args.zip} ({len(report.figures)} PNG)" if args.zip else "")
        )
    if args.slides:
        deck = build_deck(inputs, examples, progress=progress)
        write_deck(deck, outs["--slides"])
        print(f"wrote {args.slides} ({len(deck.titles)} slides)")
    return 0


def _screenshots(study, ids, image_root) -> list[str]:
    """The screenshot files of the steps ``ids`` that are in the test set."""
    if "image_path" not in study.samples:
        return []
    position = step_positions(study, ids)
    out = []
    for sid in ids:
        image = study.samples["image_path"].iloc[position[sid]] if sid in position else None
        if image:
            p = Path(str(image))
            out.append(str(p if p.is_absolute() or image_root is None else Path(image_root) / p))
    return out


def _projection(ws):
    for s in ws.splitters:
        if s.test_embeddings:
            print(visible(f"UMAP of {s.name}'s embeddings..."), file=sys.stderr, flush=True)
            params = ProjectionParams(max_samples=50_000)
            return project_files(
                s.test_embeddings, params, train_embeddings=s.train_embeddings
            ), s.name
    return None, None
