"""``python -m gemviz match``: type match and exact match of predictions against ground truth.

Writes the study's result file (the ground-truth records with ``type_match`` and
``exact_match``) at ``--out`` and its summary at ``<out stem>.summary.json`` beside it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gemviz.actions import COORDS, FORMATS, RULES, match_records
from gemviz.actions.match import record_image_size
from gemviz.data.markup import visible
from gemviz.data.read import read_records
from gemviz.data.safety import check_output
from gemviz.data.write import write_json_atomic, write_records


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the command's options."""
    parser.add_argument("--gt", required=True, help="test records with the ground-truth actions")
    parser.add_argument("--pred", required=True, help="records with the predictions")
    parser.add_argument("--rules", choices=list(RULES), default="gem", help="matching rule set")
    parser.add_argument("--out", required=True, help="result file to write (.json/.jsonl/.csv)")
    parser.add_argument(
        "--gt-field",
        default="action",
        help="field of the ground-truth action ('.' when each record is an AITZ/AitW record)",
    )
    parser.add_argument("--pred-field", default="prediction", help="field of the prediction")
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=list(FORMATS),
        default="auto",
        help="format of the predictions",
    )
    parser.add_argument(
        "--coords",
        choices=list(COORDS),
        default="relative",
        help="prediction coordinates: relative (0-1000) or pixel (needs the screenshots' size)",
    )
    parser.add_argument(
        "--image-root",
        default=None,
        help="folder for relative image paths (to read screenshot sizes with --coords pixel)",
    )


def summary_path(out: str | Path) -> Path:
    """Where the summary of result file ``out`` goes: ``<stem>.summary.json`` beside it."""
    out = Path(out)
    return out.with_name(out.stem + ".summary.json")


def run(args: argparse.Namespace) -> int:
    """Match, write the result file and the summary, print a one-line digest."""
    out = check_output(args.out, (args.gt, args.pred))
    summary_out = check_output(summary_path(args.out), (args.gt, args.pred))
    gt_records = read_records(args.gt)
    pred_records = read_records(args.pred)
    sizes = None
    if args.coords == "pixel":
        sizes = [
            record_image_size(r, args.image_root, str(args.gt), i + 1)
            for i, r in enumerate(gt_records)
        ]
    results, summary = match_records(
        gt_records,
        pred_records,
        rules=args.rules,
        gt_field=args.gt_field,
        pred_field=args.pred_field,
        fmt=args.fmt,
        gt_file=str(args.gt),
        pred_file=str(args.pred),
        coords=args.coords,
        image_sizes=sizes,
    )
    summary.update({"gt": str(Path(args.gt).resolve()), "pred": str(Path(args.pred).resolve())})
    write_records(out, results)
    write_json_atomic(summary_out, summary)
    print(
        f"{summary['n_scored']} steps, rules {args.rules}: type match "
        f"{summary['type_match']:.3f}, exact match {summary['exact_match']:.3f}, "
        f"{summary['invalid_predictions']} invalid prediction(s); wrote {args.out} and "
        f"{summary_path(args.out)}"
    )
    bad = summary["invalid_ground_truth"]
    if bad:
        rows = ", ".join(map(str, summary["invalid_ground_truth_rows"][:10]))
        print(
            visible(
                f"warning: {bad} ground-truth action(s) in {args.gt} could not be read (rows "
                f"{rows}{' ...' if bad > 10 else ''}); they are left out of these means and "
                f"flagged gt_unreadable=1 (scored 0) in {args.out}"
            ),
            file=sys.stderr,
        )
    return 0
