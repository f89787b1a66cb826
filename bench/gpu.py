"""GPU benchmark: ``hidden``, ``gem-input`` and ``predict`` on a Qwen2-VL-7B-shaped model.

A random-weight checkpoint with Qwen2-VL-7B-Instruct's shapes (vocabulary 152,064, width
3,584, 28 decoder layers, the 32-block vision tower, the image processor's own pixel budget;
``tests/tiny_qwen.py:QWEN2VL_7B``) is drawn on the GPU in bfloat16 and saved, then loaded the way
gemviz loads any checkpoint. Phone-size screenshots are drawn with PIL. Parts (``--parts``):

- ``hidden``: :func:`gemviz.scoring.store.embed_split` (the path of ``gemviz score`` and of the
  Score & Partition page) at batch sizes 1, 8 and 32, length-grouped, bf16; steps/s, tokens/s,
  GPU memory peak and the share of time spent preparing inputs on the CPU; then the same at
  batch 8 with a full-model forward (output head and every layer's hidden states kept), for
  memory;
- ``oom``: batch 32 under a GPU memory cap, so out-of-memory halving happens for real;
- ``naive``: the seed study's loop in the same run: float32 model, one sample per forward,
  ``output_hidden_states``; its vectors are compared with gemviz's bf16 ones;
- ``gem``: ``gem-input`` on the GPU against the CPU (same vectors);
- ``predict``: :func:`gemviz.scoring.predict.predict_records` at batch 1 against batch 8 (same
  greedy answers; the output head is zeroed outside the tokenizer's text tokens, so every
  answer is exactly ``--new-tokens`` tokens of text), and a run interrupted after two batches,
  then resumed;
- ``resume``: ``python -m gemviz score --method hidden --device auto`` killed (SIGKILL) after
  three finished batches, then run again: no finished batch may be embedded twice.

Usage: ``python bench/gpu.py [--layers 28] [--n 96] [--workdir DIR] [--out FILE]``;
``--shape tiny --device cpu`` runs every part on a tiny model as a smoke test.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from tiny_qwen import QWEN2VL_7B, make_screenshot, make_tiny_qwen2vl  # noqa: E402

from gemviz.embed import Sample, make_embedder, qwen  # noqa: E402
from gemviz.embed.base import default_template, fill_template, masked_mean  # noqa: E402
from gemviz.scoring.predict import Generator, predict_records  # noqa: E402
from gemviz.scoring.store import ProgressCounter, embed_split  # noqa: E402

PHONES = [(1080, 2400), (1080, 2340), (720, 1600), (1080, 1920)]
SENTENCE = "open the settings app then search for the wifi switch and turn it on"
LINES: list[str] = []


def say(text: str = "") -> None:
    """Print a line and keep it for the ``--out`` file."""
    print(text, flush=True)
    LINES.append(text)


def table(rows: list[dict], columns: list[str]) -> None:
    say("| " + " | ".join(columns) + " |")
    say("|" + "---|" * len(columns))
    for r in rows:
        say("| " + " | ".join(str(r.get(c, "")) for c in columns) + " |")
    say()


class Clock:
    """Wall time of a region, with the GPU's queued work finished at both ends."""

    def __init__(self, device: str) -> None:
        import torch

        self.cuda = device.startswith("cuda")
        self.torch = torch

    def sync(self) -> None:
        if self.cuda:
            self.torch.cuda.synchronize()

    def reset_peak(self) -> None:
        if self.cuda:
            self.sync()
            self.torch.cuda.reset_peak_memory_stats()

    def peak_gib(self) -> str:
        if not self.cuda:
            return "-"
        return f"{self.torch.cuda.max_memory_allocated() / 2**30:.1f}"


def free_gpu() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# ------------------------------------------------------------------ data


def build_model(work: Path, args) -> Path:
    if args.shape == "7b":
        shape = dict(QWEN2VL_7B, num_layers=args.layers)
        label = (
            f"Qwen2-VL-7B shape: vocab 152,064, width 3,584, MLP 18,944, {args.layers} layers, "
            "28 heads (4 KV), vision 32 blocks x 1,280, max_pixels 12,845,056; bf16"
        )
    else:
        shape = {"hidden_size": 64, "num_layers": 2}
        label = "tiny: width 64, 2 layers, vision 1 block x 32, float32"
    folder = work / f"model-{args.shape}-{args.layers}"
    start = time.perf_counter()
    if not (folder / "config.json").exists():
        make_tiny_qwen2vl(folder, **shape, device=args.device, plain_text_head=True)
        free_gpu()
    size = sum(p.stat().st_size for p in folder.glob("*.safetensors")) / 1e9
    say(
        f"model: {label}; {size:.2f} GB safetensors, drawn and saved in {time.perf_counter() - start:.0f} s"
    )
    return folder


def make_shots(work: Path, k: int = 24) -> list[Path]:
    return [
        make_screenshot(work / "shots" / f"{i}.png", PHONES[i % len(PHONES)], seed=i)
        for i in range(k)
    ]


def make_samples(shots: list[Path], n: int):
    return [
        Sample(
            f"s{i}",
            f"Step {i}: " + " ".join(SENTENCE.split()[: 4 + (i * 5) % 14]) + f" ({i % 7} times)",
            shots[i % len(shots)],
        )
        for i in range(n)
    ]


# ------------------------------------------------------------------ instrumented embedder


def instrument(embedder) -> dict:
    """Count batches, tokens and input-preparation time of an embedder's calls."""
    stats = {"batches": [], "tokens": 0, "slots": 0, "prep_s": 0.0}
    inputs, embed = embedder.cpu_inputs, embedder.embed

    def timed_inputs(batch):
        start = time.perf_counter()
        enc = inputs(batch)
        stats["prep_s"] += time.perf_counter() - start
        mask = enc["attention_mask"]
        stats["tokens"] += int(mask.sum())
        stats["slots"] += int(mask.numel())
        return enc

    def counted_embed(batch):
        stats["batches"].append(len(batch))
        return embed(batch)

    embedder.cpu_inputs, embedder.embed = timed_inputs, counted_embed
    return stats


def run_split(
    embedder, samples, folder: Path, batch: int, clock: Clock
) -> tuple[float, np.ndarray]:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    clock.reset_peak()
    start = time.perf_counter()
    vecs = embed_split(
        embedder,
        samples,
        folder,
        batch_size=batch,
        counter=ProgressCounter(len(samples), None),
        stage="bench",
    )
    clock.sync()
    return time.perf_counter() - start, vecs


def batch_sizes(seen: list[int]) -> str:
    sizes = sorted(set(seen), reverse=True)
    return ",".join(str(s) for s in sizes)


# ------------------------------------------------------------------ parts


def part_hidden(work: Path, folder: Path, args, state: dict) -> None:
    import torch

    clock = Clock(args.device)
    samples = make_samples(state["shots"], args.n)
    embedder = make_embedder("hidden", str(folder), device=args.device)
    start = time.perf_counter()
    embedder.ensure_loaded()
    clock.sync()
    load_s = time.perf_counter() - start
    stats = instrument(embedder)
    embedder(samples[:2])  # warm-up: kernels, allocator
    rows = []
    for batch, overlap in ((1, True), (8, False), (8, True), (32, True)):
        subset = samples[: args.n_single] if batch == 1 else samples
        for key in stats:
            stats[key] = [] if key == "batches" else 0
        embedder.overlap_inputs = overlap
        folder_b = work / f"cache-hidden-{batch}-{overlap}"
        seconds, vecs = run_split(embedder, subset, folder_b, batch, clock)
        if batch == 8 and overlap:
            state["hidden_vecs"] = vecs
        rows.append(
            {
                "path": "gemviz hidden"
                + ("" if overlap else ", inputs prepared between batches (no overlap)"),
                "batch": batch,
                "ran as": batch_sizes(stats["batches"]),
                "samples": len(subset),
                "steps/s": f"{len(subset) / seconds:.2f}",
                "tokens/s": f"{stats['tokens'] / seconds:,.0f}",
                "padding": f"{1 - stats['tokens'] / max(stats['slots'], 1):.1%}",
                "CPU prep s": f"{stats['prep_s']:.1f}",
                "wall s": f"{seconds:.1f}",
                "peak GiB": clock.peak_gib(),
            }
        )
        state.setdefault("tokens_per_sample", stats["tokens"] / len(subset))
    # The GPU's share alone: every batch prepared beforehand, then only the forward passes.
    order = sorted(range(len(samples)), key=lambda i: (embedder.length_hint(samples[i]), i))
    for row in rows:
        if row["path"] != "gemviz hidden":
            continue
        batch = row["batch"]
        subset = order[: args.n_single] if batch == 1 else order
        encs = [
            embedder.cpu_inputs([samples[i] for i in subset[k : k + batch]])
            for k in range(0, len(subset), batch)
        ]
        clock.sync()
        start = time.perf_counter()
        for enc in encs:
            enc = enc.to(embedder.device)
            with torch.inference_mode():
                hidden = embedder.layer_output(enc)
                masked_mean(hidden, enc["attention_mask"]).cpu()
            del hidden
        clock.sync()
        row["GPU-only steps/s"] = f"{len(subset) / (time.perf_counter() - start):.2f}"
        del encs
    # The same batches through the whole model (output head, every layer kept), for memory.
    full = embedder.layer_output

    def whole_model(enc):
        out = embedder.net(**enc, output_hidden_states=True)
        return out.hidden_states[embedder.layer]

    embedder.layer_output = whole_model
    for key in stats:
        stats[key] = [] if key == "batches" else 0
    free_gpu()
    try:
        seconds, whole = run_split(embedder, samples, work / "cache-hidden-whole", 8, clock)
        diff = np.abs(whole - state["hidden_vecs"]).max() / np.abs(state["hidden_vecs"]).max()
        rows.append(
            {
                "path": f"whole-model forward (logits + all layers); max rel diff {diff:.1e}",
                "batch": 8,
                "ran as": batch_sizes(stats["batches"]),
                "samples": len(samples),
                "steps/s": f"{len(samples) / seconds:.2f}",
                "tokens/s": f"{stats['tokens'] / seconds:,.0f}",
                "padding": f"{1 - stats['tokens'] / max(stats['slots'], 1):.1%}",
                "CPU prep s": f"{stats['prep_s']:.1f}",
                "wall s": f"{seconds:.1f}",
                "peak GiB": clock.peak_gib(),
            }
        )
    finally:
        embedder.layer_output = full
    say(
        f"### hidden (last layer), {args.device}: model loaded in {load_s:.1f} s; "
        f"{state['tokens_per_sample']:.0f} tokens per sample on average"
    )
    table(
        rows,
        [
            "path",
            "batch",
            "ran as",
            "samples",
            "steps/s",
            "GPU-only steps/s",
            "tokens/s",
            "padding",
            "CPU prep s",
            "wall s",
            "peak GiB",
        ],
    )
    state["hidden_rows"] = rows
    state["embedder"] = embedder
    state["stats"] = stats


def part_oom(work: Path, folder: Path, args, state: dict) -> None:
    import torch

    if not args.device.startswith("cuda"):
        say("### oom: skipped (no CUDA)\n")
        return
    if "embedder" not in state:
        state["embedder"] = make_embedder("hidden", str(folder), device=args.device)
        state["embedder"].ensure_loaded()
        state["stats"] = instrument(state["embedder"])
    embedder, stats = state["embedder"], state["stats"]
    clock = Clock(args.device)
    samples = make_samples(state["shots"], 32)
    free_gpu()
    total = torch.cuda.get_device_properties(0).total_memory
    cap = torch.cuda.memory_allocated() + args.oom_headroom * 2**30
    torch.cuda.set_per_process_memory_fraction(cap / total)
    for key in stats:
        stats[key] = [] if key == "batches" else 0
    try:
        seconds, _ = run_split(embedder, samples, work / "cache-oom", 32, clock)
        outcome = f"finished; batches run: {stats['batches']}"
    except Exception as exc:  # the outcome is what this part reports
        seconds, outcome = float("nan"), f"failed: {type(exc).__name__}: {str(exc)[:200]}"
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        free_gpu()
    say(
        f"### oom: batch 32 of 32 samples with the GPU capped at the weights + "
        f"{args.oom_headroom} GiB: {outcome}; {seconds:.1f} s, peak {clock.peak_gib()} GiB\n"
    )


def part_naive(work: Path, folder: Path, args, state: dict) -> None:
    import torch
    from transformers import Qwen2VLForConditionalGeneration

    state.pop("embedder", None)
    free_gpu()
    clock = Clock(args.device)
    samples = make_samples(state["shots"], args.n_naive)
    start = time.perf_counter()
    net = (
        Qwen2VLForConditionalGeneration.from_pretrained(folder, dtype=torch.float32)
        .to(args.device)
        .eval()
    )
    processor = qwen.load_vl_processor(folder)
    load_s = time.perf_counter() - start

    template = default_template()

    def one(s):
        text = qwen.chat_text(processor, fill_template(template, s.task), with_image=True)
        with Image.open(s.image) as img:
            enc = processor(text=[text], images=[img.convert("RGB")], return_tensors="pt")
        enc = enc.to(args.device)
        with torch.no_grad():
            out = net(**enc, output_hidden_states=True)
        return out.hidden_states[-1].float().mean(1)[0].cpu().numpy()

    one(samples[0])  # warm-up
    clock.reset_peak()
    start = time.perf_counter()
    vecs = np.stack([one(s) for s in samples])
    clock.sync()
    seconds = time.perf_counter() - start
    ours = state["hidden_vecs"][: len(samples)]
    cos = (vecs * ours).sum(1) / (np.linalg.norm(vecs, axis=1) * np.linalg.norm(ours, axis=1))
    rel = np.linalg.norm(vecs - ours, axis=1) / np.linalg.norm(vecs, axis=1)
    state["naive_rate"] = len(samples) / seconds
    say(
        f"### naive: float32 model (loaded in {load_s:.1f} s), one sample per forward with "
        f"output_hidden_states: {len(samples)} samples, {len(samples) / seconds:.2f} steps/s, "
        f"peak {clock.peak_gib()} GiB; gemviz bf16 vs this float32: cosine min {cos.min():.5f}, "
        f"relative L2 error max {rel.max():.2e}\n"
    )
    rows = [
        dict(r, **{"ratio to naive": f"{float(r['steps/s']) / state['naive_rate']:.1f}x"})
        for r in state.get("hidden_rows", [])
    ]
    rows.insert(
        0,
        {
            "path": "naive loop: float32, batch 1, output_hidden_states",
            "batch": 1,
            "samples": len(samples),
            "steps/s": f"{state['naive_rate']:.2f}",
            "peak GiB": clock.peak_gib(),
            "ratio to naive": "1.0x",
        },
    )
    say("### hidden against the naive loop, same run")
    table(rows, ["path", "batch", "samples", "steps/s", "peak GiB", "ratio to naive"])
    net.to("cpu")
    free_gpu()


def part_gem(work: Path, folder: Path, args, state: dict) -> None:
    samples = make_samples(state["shots"], args.n_gem)
    rows, vecs = [], {}
    devices = ["cpu"] + ([args.device] if args.device != "cpu" else [])
    for device in devices:
        clock = Clock(device)
        embedder = make_embedder("gem-input", str(folder), device=device)
        start = time.perf_counter()
        embedder.ensure_loaded()
        clock.sync()
        load_s = time.perf_counter() - start
        embedder(samples[:4])
        seconds, vecs[device] = run_split(
            embedder, samples, work / f"cache-gem-{device}", embedder.default_batch_size, clock
        )
        rows.append(
            {
                "device": device,
                "samples": len(samples),
                "table load s": f"{load_s:.1f}",
                "steps/s": f"{len(samples) / seconds:,.0f}",
                "peak GiB": clock.peak_gib(),
            }
        )
        del embedder
        free_gpu()
    same = all(np.allclose(v, vecs["cpu"], rtol=1e-5, atol=1e-6) for v in vecs.values())
    say(f"### gem-input (batch 256), GPU against CPU; same vectors: {same}")
    table(rows, ["device", "samples", "table load s", "steps/s", "peak GiB"])


class Interrupting:
    """A generator stand-in that stops the run (as Ctrl-C would) on its ``after``-th batch."""

    def __init__(self, generator, after: int) -> None:
        self.generator, self.after, self.calls = generator, after, 0
        self.device, self.model = generator.device, generator.model

    def __call__(self, prompts, images):
        self.calls += 1
        if self.calls > self.after:
            raise KeyboardInterrupt
        return self.generator(prompts, images)


def part_predict(work: Path, folder: Path, args, state: dict) -> None:
    state.pop("embedder", None)
    free_gpu()
    clock = Clock(args.device)
    shots = state["shots"]
    records = [
        {"id": s.id, "task": s.task, "image_path": str(s.image)}
        for s in make_samples(shots, args.n_predict)
    ]
    start = time.perf_counter()
    generator = Generator(folder, device=args.device, max_new_tokens=args.new_tokens)
    load_s = time.perf_counter() - start
    generator(["warm up"], [shots[0]])
    results, rows = {}, []
    for batch in (1, 4, 8):
        os.environ["GEMVIZ_CACHE"] = str(work / f"cache-predict-{batch}")
        shutil.rmtree(work / f"cache-predict-{batch}", ignore_errors=True)
        clock.reset_peak()
        start = time.perf_counter()
        results[batch] = predict_records(
            records,
            folder,
            batch_size=batch,
            max_new_tokens=args.new_tokens,
            generator=generator,
        )
        clock.sync()
        seconds = time.perf_counter() - start
        rows.append(
            {
                "batch": batch,
                "steps": len(records),
                "steps/s": f"{len(records) / seconds:.2f}",
                "new tokens/s": f"{len(records) * args.new_tokens / seconds:.0f}",
                "peak GiB": clock.peak_gib(),
            }
        )
    for row in rows[1:]:
        other = results[row["batch"]].answers
        agree = sum(a == b for a, b in zip(results[1].answers, other, strict=True))
        row["same answers as batch 1"] = f"{agree}/{len(other)}"
        row["ratio"] = f"{float(row['steps/s']) / float(rows[0]['steps/s']):.1f}x"
    same = [a == b for a, b in zip(results[1].answers, results[8].answers, strict=True)]
    empty = sum(not a for a in results[1].answers)
    say(
        f"### predict, {args.device}: model loaded in {load_s:.1f} s, greedy, "
        f"{args.new_tokens} new tokens per step; empty answers: {empty}"
    )
    table(
        rows,
        [
            "batch",
            "steps",
            "steps/s",
            "new tokens/s",
            "peak GiB",
            "same answers as batch 1",
            "ratio",
        ],
    )
    if not all(same):
        first = same.index(False)
        say(f"first differing step {first}: batch 1 {results[1].answers[first][:80]!r}")
        say(f"                       batch 8 {results[8].answers[first][:80]!r}\n")
    # Interrupted after two batches of 4, then run again.
    os.environ["GEMVIZ_CACHE"] = str(work / "cache-predict-resume")
    shutil.rmtree(work / "cache-predict-resume", ignore_errors=True)
    try:
        predict_records(
            records,
            folder,
            batch_size=4,
            max_new_tokens=args.new_tokens,
            generator=Interrupting(generator, 2),
        )
        interrupted = "not interrupted"
    except KeyboardInterrupt:
        interrupted = "interrupted in batch 3"
    counting = Interrupting(generator, 10**9)
    again = predict_records(
        records, folder, batch_size=4, max_new_tokens=args.new_tokens, generator=counting
    )
    say(
        f"### predict resume: first run {interrupted}; second run generated {again.generated}, "
        f"read {again.cached} from the shards, in {counting.calls} batch(es); answers equal "
        f"to the uninterrupted batch-4 run's: "
        f"{sum(a == b for a, b in zip(again.answers, results[4].answers, strict=True))}"
        f"/{len(records)}\n"
    )
    # The same comparison in float32, to tell bf16 rounding from a batching fault (last: casting
    # back would leave the rotary tables in bf16, which changes the answers).
    if args.device.startswith("cuda") and args.n_fp32:
        import torch

        generator.model.to(torch.float32)
        free_gpu()
        fp32 = {}
        for batch in (1, 8):
            os.environ["GEMVIZ_CACHE"] = str(work / f"cache-predict-fp32-{batch}")
            shutil.rmtree(work / f"cache-predict-fp32-{batch}", ignore_errors=True)
            fp32[batch] = predict_records(
                records[: args.n_fp32],
                folder,
                batch_size=batch,
                max_new_tokens=args.new_tokens,
                generator=generator,
            ).answers
        agree = sum(a == b for a, b in zip(fp32[1], fp32[8], strict=True))
        say(
            f"### predict in float32 (same model cast up): batch 8 answers equal to batch 1's: "
            f"{agree}/{len(fp32[1])}\n"
        )
    del generator
    free_gpu()


def part_resume(work: Path, folder: Path, args, state: dict) -> None:
    samples = make_samples(state["shots"], args.n)
    half = len(samples) // 2
    for name, part in (("train", samples[:half]), ("test", samples[half:])):
        rows = [{"id": s.id, "task": s.task, "image_path": str(s.image)} for s in part]
        (work / f"resume-{name}.json").write_text(json.dumps(rows))
    cache = work / "cache-resume"
    shutil.rmtree(cache, ignore_errors=True)
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, GEMVIZ_CACHE=str(cache), PYTHONPATH=path)
    cmd = [
        sys.executable,
        "-m",
        "gemviz",
        "score",
        "--model",
        str(folder),
        "--method",
        "hidden",
        "--train",
        str(work / "resume-train.json"),
        "--test",
        str(work / "resume-test.json"),
        "--batch-size",
        "8",
        "--device",
        "auto" if args.device.startswith("cuda") else args.device,
    ]
    out_dir = work / "resume-out"
    shutil.rmtree(out_dir, ignore_errors=True)
    start = time.perf_counter()
    log = open(work / "resume-first.log", "w")  # noqa: SIM115 (closed after the kill)
    proc = subprocess.Popen(
        [*cmd, "--out-dir", str(out_dir)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    parts: list[Path] = []
    while proc.poll() is None and time.perf_counter() - start < args.resume_wait:
        parts = list(cache.glob("scores/*/part-*.npz"))
        if len(parts) >= 3:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait()
    log.close()
    killed_after = time.perf_counter() - start
    done = 0
    for part in cache.glob("scores/*/part-*.npz"):
        with np.load(part) as data:
            done += len(data["positions"])
    start = time.perf_counter()
    second = subprocess.run(
        [*cmd, "--out-dir", str(out_dir)], env=env, capture_output=True, text=True, check=False
    )
    line = next(
        (x for x in second.stdout.splitlines() if x.startswith("embedded ")), second.stderr[-300:]
    )
    expected = f"embedded {len(samples) - done} sample(s), {done} from the cache"
    say(
        f"### score resume (CLI, --device auto, batch 8): first run killed (SIGKILL, exit "
        f"{proc.returncode}) after {killed_after:.1f} s with {done} samples in finished batches; "
        f"second run ({time.perf_counter() - start:.1f} s, exit {second.returncode}) said "
        f"'{line}'; expected '{expected}': {line == expected}\n"
    )


PARTS = {
    "hidden": part_hidden,
    "oom": part_oom,
    "naive": part_naive,
    "gem": part_gem,
    "predict": part_predict,
    "resume": part_resume,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=["7b", "tiny"], default="7b")
    parser.add_argument("--layers", type=int, default=28, help="decoder layers of the 7B shape")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--n", type=int, default=96, help="samples for hidden and resume")
    parser.add_argument("--n-single", type=int, default=48, help="samples at batch size 1")
    parser.add_argument("--n-naive", type=int, default=8)
    parser.add_argument("--n-gem", type=int, default=2000)
    parser.add_argument("--n-predict", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--n-fp32", type=int, default=8, help="predict steps rerun in float32")
    parser.add_argument("--oom-headroom", type=float, default=6.0, help="GiB over the weights")
    parser.add_argument("--resume-wait", type=float, default=300.0)
    parser.add_argument("--parts", default="hidden,oom,naive,predict,resume,gem")
    parser.add_argument("--workdir")
    parser.add_argument("--out", help="also write the tables to this Markdown file")
    args = parser.parse_args()
    import torch
    import transformers

    work = Path(args.workdir or tempfile.mkdtemp(prefix="gemviz-gpu-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GEMVIZ_CACHE", str(work / "cache"))
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "CPU"
    say(
        f"device: {name}; torch {torch.__version__}, transformers {transformers.__version__}, "
        f"{os.cpu_count()} CPU threads"
    )
    folder = build_model(work, args)
    state = {"shots": make_shots(work)}
    for key in args.parts.split(","):
        start = time.perf_counter()
        PARTS[key](work, folder, args, state)
        print(f"[{key} took {time.perf_counter() - start:.0f} s]", flush=True)
        if args.out:
            Path(args.out).write_text("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
