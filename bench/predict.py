"""Benchmark: ``predict`` with left-padded batches against one step per ``generate`` call.

A tiny random-weight Qwen2-VL (built offline by ``tests/tiny_qwen.py``) answers N test steps
whose screenshots have different shapes (so batches really need padding). It times:

- ``naive``: one ``generate`` call per step (``--batch-size 1``), the way the GEM authors'
  agent loop runs;
- ``gemviz``: :func:`gemviz.scoring.predict.predict_records` with batches of B steps, left padding;
- ``resume``: the same call again, every answer read back from the cache shards.

and checks that the batched greedy answers equal the one-by-one answers. Each timed run gets
an empty cache folder. Run ``python bench/predict.py`` (N = 48) or ``--quick`` (N = 16).
The CPU count and load average are printed, since other work on the machine moves timings.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gemviz.scoring.predict import Generator, predict_records  # noqa: E402
from tests.tiny_qwen import make_screenshot, make_tiny_qwen2vl  # noqa: E402

SIZES = [(1080, 2400), (720, 1280), (1920, 1080), (500, 500), (1280, 800), (300, 600)]


def _run(records, model, root, cache, generator, batch_size):
    os.environ["GEMVIZ_CACHE"] = str(cache)
    start = time.perf_counter()
    result = predict_records(
        records,
        model,
        batch_size=batch_size,
        max_new_tokens=16,
        image_root=root,
        generator=generator,
    )
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 steps instead of 48")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    n = 16 if args.quick else 48
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = make_tiny_qwen2vl(root / "model", hidden_size=128, num_layers=4)
        records = []
        for i in range(n):
            make_screenshot(root / "shots" / f"{i}.png", SIZES[i % len(SIZES)], seed=i)
            records.append(
                {
                    "task": f"Step {i}: open the app and search for item {i * 7}",
                    "image_path": f"shots/{i}.png",
                }
            )
        generator = Generator(model, device=args.device, max_new_tokens=16)
        generator(["warm up"], [root / "shots" / "0.png"])
        naive_s, naive = _run(records, model, root, root / "c1", generator, 1)
        batched_s, batched = _run(records, model, root, root / "c2", generator, args.batch_size)
        resume_s, resumed = _run(records, model, root, root / "c2", None, args.batch_size)
    same = batched.answers == naive.answers
    print(
        f"CPU count {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, device {args.device}, "
        f"{n} steps, 16 new tokens\n"
    )
    print("| run | batch size | seconds | steps/s | generated | same answers as naive |")
    print("|---|---|---|---|---|---|")
    print(
        f"| naive (one generate per step) | 1 | {naive_s:.2f} | {n / naive_s:.1f} | "
        f"{naive.generated} | - |"
    )
    print(
        f"| gemviz batched, left padding | {args.batch_size} | {batched_s:.2f} | "
        f"{n / batched_s:.1f} | {batched.generated} | {same} |"
    )
    print(
        f"| gemviz resume (all cached) | {args.batch_size} | {resume_s:.2f} | "
        f"{n / resume_s:.0f} | {resumed.generated} | {resumed.answers == naive.answers} |"
    )


if __name__ == "__main__":
    main()
