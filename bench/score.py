"""Benchmark of gemviz scoring; prints Markdown tables.

(a) ``gem-input`` fast path (embedding table read from safetensors, image tokens counted from
    the image size) against the straightforward way (load the whole model, run each sample
    with its ~1080x2400 PNG through the processor, take ``get_input_embeddings()``), on a
    random-weight Qwen2-VL checkpoint with Qwen2-VL-7B's vocabulary (152,064) and hidden size
    (3,584) but one decoder layer and a tiny vision tower, stored in bfloat16 (~1.1 GB). Time
    and peak memory to get ready are measured in fresh subprocesses.
(b) ``sentence`` on 5,000 task texts on CPU: batched against one at a time, and the cache hit.
(c) ``--gpu``: ``hidden`` batched against one sample at a time on the tiny model and on a
    1.5B-class random-weight config; skipped without CUDA.

Usage: ``python bench/score.py [--quick] [--gpu] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402
from gem_data import extract  # noqa: E402
from PIL import Image  # noqa: E402
from tiny_qwen import make_screenshot, make_tiny_qwen2vl  # noqa: E402

from gemviz.data.read import read_records  # noqa: E402
from gemviz.embed import Sample, make_embedder, qwen  # noqa: E402
from gemviz.embed.qwen import load_vl_processor  # noqa: E402
from gemviz.scoring.score import score_files  # noqa: E402

PHONE_SIZES = [(1080, 2400), (1080, 2340), (1080, 2408), (1080, 2316)]
QWEN_MAX_PIXELS = 28 * 28 * 1280


def peak_mb() -> float:
    """Peak resident memory of this process in MB.

    ``VmHWM`` rather than ``ru_maxrss``: Linux carries ``ru_maxrss`` over ``exec``, so a child
    would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------ child processes


def child_ready(kind: str, model: str) -> dict:
    """Get ready to embed, in a fresh process: returns seconds and peak memory."""
    import torch

    start = time.perf_counter()
    if kind == "fast":
        embedder = make_embedder("gem-input", model, device="cpu")
        embedder.ensure_loaded()
        rows = tuple(embedder.table.shape)
        # Safetensors are memory-mapped; touching the weights makes them resident, as the
        # first real batch would.
        float(torch.sum(embedder.table))
    else:
        from transformers import Qwen2VLForConditionalGeneration

        net = Qwen2VLForConditionalGeneration.from_pretrained(model, dtype=torch.bfloat16).eval()
        load_vl_processor(model)
        rows = tuple(net.get_input_embeddings().weight.shape)
        for param in net.parameters():
            float(torch.sum(param))
    return {"seconds": time.perf_counter() - start, "peak_mb": peak_mb(), "table": rows}


def child_throughput(kind: str, model: str, shots: list[str], n: int) -> dict:
    """Embed ``n`` samples one way; returns samples/s (readiness excluded) and one vector."""
    import torch

    tasks = [f"Open the app number {i} and check the weather in city {i % 7}" for i in range(n)]
    samples = [Sample(str(i), t, Path(shots[i % len(shots)])) for i, t in enumerate(tasks)]
    embedder = make_embedder("gem-input", model, device="cpu")
    if kind == "fast":
        embedder.ensure_loaded()
        start = time.perf_counter()
        vecs = embedder(samples)
    else:
        from transformers import Qwen2VLForConditionalGeneration

        net = Qwen2VLForConditionalGeneration.from_pretrained(model, dtype=torch.bfloat16).eval()
        processor = qwen.load_vl_processor(model)
        start = time.perf_counter()
        out = []
        for s in samples:
            text = qwen.chat_text(processor, embedder.prompt(s.task), with_image=True)
            with Image.open(s.image) as img:
                ids = processor(
                    text=[text], images=[img.convert("RGB")], return_tensors="pt"
                ).input_ids
            with torch.no_grad():
                out.append(net.get_input_embeddings()(ids).float().mean(1)[0].numpy())
        vecs = np.stack(out)
    seconds = time.perf_counter() - start
    return {
        "per_s": n / seconds,
        "seconds": seconds,
        "first": vecs[0].tolist(),
        "peak_mb": peak_mb(),
    }


def run_child(*args: str) -> dict:
    cmd = [sys.executable, __file__, "--child", json.dumps(list(args))]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ parts


def part_a(work: Path, quick: bool) -> str:
    # Qwen2-VL-7B's vocabulary and width with its untied output head, but 4 layers instead of
    # 28: the whole model is then ~4x the embedding table (the real 7B is ~14x).
    model = work / "qwen2vl-7b-vocab-4l"
    start = time.perf_counter()
    if not (model / "model.safetensors").exists():
        make_tiny_qwen2vl(
            model,
            hidden_size=3584,
            num_layers=4,
            num_heads=28,
            vocab_size=152064,
            vision_embed_dim=32,
            vision_depth=1,
            dtype="bfloat16",
            tie_embeddings=False,
            max_pixels=QWEN_MAX_PIXELS,
        )
    build = time.perf_counter() - start
    size_gb = sum(p.stat().st_size for p in model.glob("*.safetensors")) / 1e9
    shots = [
        str(make_screenshot(work / f"phone{i}.png", s, seed=i)) for i, s in enumerate(PHONE_SIZES)
    ]
    n_fast, n_naive = (200, 8) if quick else (1000, 30)
    fast = run_child("throughput", "fast", str(model), json.dumps(shots), str(n_fast))
    naive = run_child("throughput", "naive", str(model), json.dumps(shots), str(n_naive))
    same = np.allclose(fast["first"], naive["first"], rtol=1e-3, atol=1e-5)
    ready_fast = run_child("ready", "fast", str(model))
    ready_naive = run_child("ready", "naive", str(model))
    rows = [
        {
            "approach": "naive: whole model + processor per sample",
            "samples": n_naive,
            "samples/s": f"{naive['per_s']:.2f}",
            "ready s": f"{ready_naive['seconds']:.2f}",
            "ready peak MB": f"{ready_naive['peak_mb']:.0f}",
        },
        {
            "approach": "gemviz gem-input fast path",
            "samples": n_fast,
            "samples/s": f"{fast['per_s']:.1f}",
            "ready s": f"{ready_fast['seconds']:.2f}",
            "ready peak MB": f"{ready_fast['peak_mb']:.0f}",
        },
        {
            "approach": "**ratio (fast / naive)**",
            "samples": "",
            "samples/s": f"**{fast['per_s'] / naive['per_s']:.0f}x**",
            "ready s": f"{ready_naive['seconds'] / ready_fast['seconds']:.1f}x faster",
            "ready peak MB": f"{ready_naive['peak_mb'] / ready_fast['peak_mb']:.1f}x less",
        },
    ]
    head = (
        f"### (a) gem-input on a random-weight Qwen2-VL checkpoint (vocab 152,064, hidden 3,584, "
        f"4 layers, untied output head, bf16, {size_gb:.2f} GB safetensors, built in {build:.0f} s); screenshots "
        f"{PHONE_SIZES[0][0]}x{PHONE_SIZES[0][1]}-ish PNGs; same vector both ways: {same}\n"
    )
    return head + table(rows, ["approach", "samples", "samples/s", "ready s", "ready peak MB"])


def part_b(work: Path, quick: bool) -> str:

    public = extract(ROOT / "bench" / "_out" / "gem-public")
    tasks = [
        r["task"]
        for name in ("AITZ_test_inputscore.json", "androidcontrol_inputscore.json")
        for r in read_records(public / name)
    ]
    n = 500 if quick else 5000
    n_single = 100 if quick else 300
    records = [{"id": str(i), "task": tasks[i], "image_path": None} for i in range(n)]
    train, test = work / "b_train.json", work / "b_test.json"
    train.write_text(json.dumps(records[: n // 2]))
    test.write_text(json.dumps(records[n // 2 :]))

    # A fresh cache, so the first run embeds everything.
    shutil.rmtree(work / "cache-b", ignore_errors=True)
    os.environ["GEMVIZ_CACHE"] = str(work / "cache-b")
    embedder = make_embedder("sentence", device="cpu")
    embedder.ensure_loaded()
    start = time.perf_counter()
    for s in records[:n_single]:
        embedder([Sample(s["id"], s["task"])])
    single = n_single / (time.perf_counter() - start)
    start = time.perf_counter()
    score_files(train=train, test=test, out_dir=work / "b_out", device="cpu", batch_size=64)
    batched_s = time.perf_counter() - start
    start = time.perf_counter()
    score_files(train=train, test=test, out_dir=work / "b_out2", device="cpu", batch_size=64)
    hit_s = time.perf_counter() - start
    rows = [
        {
            "run": "one task at a time (batch 1)",
            "tasks": n_single,
            "tasks/s": f"{single:.0f}",
            "wall s": f"{n_single / single:.1f}",
        },
        {
            "run": "score_files, batch 64 (load + embed + write)",
            "tasks": n,
            "tasks/s": f"{n / batched_s:.0f}",
            "wall s": f"{batched_s:.1f}",
        },
        {
            "run": "score_files again (cache hit)",
            "tasks": n,
            "tasks/s": f"{n / hit_s:.0f}",
            "wall s": f"{hit_s:.2f}",
        },
        {
            "run": "**ratio batched / one at a time**",
            "tasks": "",
            "tasks/s": f"**{n / batched_s / single:.1f}x**",
            "wall s": "",
        },
    ]
    return f"### (b) sentence (all-MiniLM-L6-v2) on {n} AITZ/AndroidControl tasks, CPU\n" + table(
        rows, ["run", "tasks", "tasks/s", "wall s"]
    )


def part_c(work: Path, quick: bool) -> str:
    import torch

    if not torch.cuda.is_available():
        return "### (c) hidden on GPU\nskipped: no CUDA device"

    shots = [make_screenshot(work / f"gpu{i}.png", s, seed=i) for i, s in enumerate(PHONE_SIZES)]
    n = 32 if quick else 128
    samples = [
        Sample(str(i), f"Open app {i} and search for item {i % 5}", shots[i % 4]) for i in range(n)
    ]
    configs = {
        "tiny": {},
        "1.5B-class": {
            "hidden_size": 1536,
            "num_layers": 28,
            "num_heads": 12,
            "vocab_size": 151936,
            "vision_embed_dim": 1280,
            "vision_depth": 32,
            "dtype": "bfloat16",
            "max_pixels": QWEN_MAX_PIXELS,
        },
    }
    rows = []
    for name, cfg in configs.items():
        folder = work / f"hidden-{name}"
        if not (folder / "config.json").exists():
            make_tiny_qwen2vl(folder, **cfg)
        embedder = make_embedder("hidden", str(folder), device="cuda")
        embedder(samples[:2])  # warm-up: load and compile kernels
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        for s in samples:
            embedder([s])
        torch.cuda.synchronize()
        one = n / (time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(0, n, 16):
            embedder(samples[i : i + 16])
        torch.cuda.synchronize()
        batched = n / (time.perf_counter() - start)
        rows.append(
            {
                "model": name,
                "samples": n,
                "one at a time /s": f"{one:.1f}",
                "batch 16 /s": f"{batched:.1f}",
                "ratio": f"{batched / one:.1f}x",
                "peak GPU MB": f"{torch.cuda.max_memory_allocated() / 2**20:.0f}",
            }
        )
        del embedder
        torch.cuda.empty_cache()
    return f"### (c) hidden on {torch.cuda.get_device_name()}\n" + table(
        rows, ["model", "samples", "one at a time /s", "batch 16 /s", "ratio", "peak GPU MB"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (a couple of minutes)")
    parser.add_argument("--gpu", action="store_true", help="also run part (c) (needs CUDA)")
    parser.add_argument("--parts", default="abc", help="which parts to run (default abc)")
    parser.add_argument("--workdir", help="folder for the generated checkpoint and data (kept)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, *rest = json.loads(args.child)
        result = (
            child_ready(*rest)
            if name == "ready"
            else child_throughput(rest[0], rest[1], json.loads(rest[2]), int(rest[3]))
        )
        print(json.dumps(result))
        return
    work = Path(args.workdir or tempfile.mkdtemp(prefix="gemviz-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"CPU threads: {os.cpu_count()}, workdir: {work}\n")
    parts = {"a": part_a, "b": part_b, "c": part_c}
    for key in args.parts:
        if key == "c" and not args.gpu:
            continue
        print(parts[key](work, args.quick), "\n", flush=True)


if __name__ == "__main__":
    main()
