"""Background jobs: long commands (scoring) run in their own process, tracked on disk.

A job is a command line. Its id is a hash of that command, so asking for the same work twice
finds the first job instead of starting another. Everything about a job lives in
``<cache>/jobs/<id>/``:

``job.json``       the command, the runner's pid and when it started
``progress.json``  written (atomically) by the command itself via ``--progress-file``
``log.txt``        the command's stdout and stderr
``exit.json``      the command's return code, written by the runner when it ends
``cancelled``      marker left by :func:`cancel`

Because the state is on disk, a job survives Streamlit reruns, page switches and even a
restart of the app. The runner (``python -m gemviz.scoring.jobs <job folder>``) is started in a new
session, so the command and everything it spawns share one process group that
:func:`cancel` can kill at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gemviz.data.errors import GemvizError
from gemviz.data.paths import cache_dir
from gemviz.data.write import write_json_atomic

RUNNING, DONE, FAILED, CANCELLED, MISSING = "running", "done", "failed", "cancelled", "missing"

# Popen handles of runners started by this process, polled so finished ones are reaped
# instead of lingering as zombies (which would look alive to a pid check).
_CHILDREN: dict[str, subprocess.Popen] = {}


@dataclass
class JobStatus:
    """What is known about a job right now."""

    job_id: str
    state: str
    done: int = 0
    total: int = 0
    stage: str = ""
    elapsed_s: float = 0.0
    eta_s: float | None = None
    error: str | None = None
    folder: Path | None = None

    @property
    def fraction(self) -> float:
        """Progress between 0 and 1."""
        if self.state == DONE:
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def out_dir(self) -> Path | None:
        """The folder the job writes its outputs to."""
        return None if self.folder is None else self.folder / "out"


def job_id(command: Sequence[str]) -> str:
    """The id of the job running ``command`` (a hash of its arguments)."""
    return hashlib.sha256(json.dumps(list(map(str, command))).encode()).hexdigest()[:16]


def job_folder(jid: str) -> Path:
    """The state folder of job ``jid``."""
    return cache_dir("jobs") / jid


def score_command(
    *,
    train: str,
    test: str,
    model: str = "default",
    method: str = "sentence",
    device: str | None = None,
    image_root: str | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """The ``gemviz score`` command line for these inputs (without output or progress flags).

    The output folder and progress file are added by :func:`start_job`, inside the job folder.
    """
    cmd = [sys.executable, "-m", "gemviz", "score", "--train", str(train), "--test", str(test)]
    cmd += ["--model", model, "--method", method]
    if device:
        cmd += ["--device", device]
    if image_root:
        cmd += ["--image-root", str(image_root)]
    return cmd + list(extra)


def start_job(
    command: Sequence[str],
    *,
    out_flag: str | None = "--out-dir",
    restart: bool = False,
    workspace: str | None = None,
) -> JobStatus:
    """Start ``command`` in the background, or attach to the job already doing it.

    The runner appends ``--progress-file <job>/progress.json`` and, when ``out_flag`` is
    given, ``<out_flag> <job>/out``.

    Args:
        command: The command line (``argv``), e.g. from :func:`score_command`.
        out_flag: Flag naming the output folder, or ``None`` if the command takes none.
        restart: Start again even when the job is finished; a running job is never doubled.
        workspace: The workspace the job works for (its slug), so :func:`list_jobs` can list
            it there after a reload.

    Returns:
        The job's status right after starting or attaching.
    """
    jid = job_id(command)
    folder = job_folder(jid)
    current = status(jid)
    if current.state == RUNNING or (current.state == DONE and not restart):
        return current
    for name in ("progress.json", "exit.json", "cancelled", "log.txt"):
        (folder / name).unlink(missing_ok=True)
    argv = [*map(str, command), "--progress-file", str(folder / "progress.json")]
    if out_flag:
        argv += [out_flag, str(folder / "out")]
    meta = {"argv": argv, "command": list(map(str, command)), "workspace": workspace}
    write_json_atomic(folder / "job.json", {**meta, "created": time.time(), "pid": None})
    with open(folder / "log.txt", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gemviz.scoring.jobs", str(folder)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group, so cancel() reaches the children too
            cwd=str(Path(__file__).resolve().parents[2]),
        )
    _CHILDREN[jid] = proc
    write_json_atomic(folder / "job.json", {**meta, "created": time.time(), "pid": proc.pid})
    return status(jid)


def status(jid: str) -> JobStatus:
    """Read the job's state from its folder (never raises for a job that does not exist)."""
    folder = cache_dir("jobs") / jid
    info = _read_json(folder / "job.json")
    if info is None:
        return JobStatus(jid, MISSING, folder=folder)
    child = _CHILDREN.get(jid)
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(jid, None)
    prog = _read_json(folder / "progress.json") or {}
    done = _count(prog.get("done"))
    total = _count(prog.get("total"))
    started = _when(prog.get("started")) or _when(info.get("created")) or time.time()
    if done is None or total is None:  # a foreign or damaged progress file: show no progress
        prog, done, total = {}, 0, 0
    if not isinstance(prog.get("error"), (str, type(None))) or not isinstance(
        prog.get("stage"), (str, type(None))
    ):
        prog = {k: v for k, v in prog.items() if k not in ("error", "stage")}
    exit_info = _read_json(folder / "exit.json")
    cancelled = (folder / "cancelled").exists()
    if exit_info is not None or not _alive(info.get("pid")):
        if cancelled:
            state, error = CANCELLED, None
        elif (
            exit_info is not None
            and exit_info.get("returncode") == 0
            and not isinstance(exit_info.get("returncode"), bool)
        ):
            state, error = DONE, None
        elif exit_info is None and info.get("pid") is None:
            # Just created: the runner's pid is written right after Popen returns.
            state, error = RUNNING, None
        else:
            state = FAILED
            error = prog.get("error") or _log_tail(folder / "log.txt") or "the job stopped"
        end = _when((exit_info or {}).get("ended")) or _when(prog.get("updated")) or started
        return JobStatus(
            jid,
            state,
            done,
            total,
            str(prog.get("stage") or ""),
            max(0.0, end - started),
            None,
            error,
            folder,
        )
    elapsed = max(0.0, time.time() - started)
    eta = None
    if 0 < done < total:
        # Linear extrapolation from the rate so far; the first batches include model loading,
        # so the estimate errs on the long side early on.
        eta = (total - done) * elapsed / done
    return JobStatus(
        jid, RUNNING, done, total, str(prog.get("stage") or ""), elapsed, eta, None, folder
    )


def list_jobs(workspace: str) -> list[dict]:
    """The jobs started for ``workspace``, newest first.

    Returns:
        One dict per job: ``id``, ``state``, ``created`` (unix time), ``command`` (the argv
        given to :func:`start_job`) and ``options`` (its ``--name value`` pairs, e.g.
        ``{"--train": ..., "--method": ...}``).
    """
    root = cache_dir("jobs")
    found = []
    for folder in root.iterdir() if root.is_dir() else ():
        info = _read_json(folder / "job.json")
        if not info or info.get("workspace") != workspace or not info.get("command"):
            continue
        command = [str(a) for a in info["command"]]
        options = {
            a: command[i + 1]
            for i, a in enumerate(command[:-1])
            if a.startswith("--") and not command[i + 1].startswith("--")
        }
        found.append(
            {
                "id": folder.name,
                "state": status(folder.name).state,
                "created": float(info.get("created") or 0.0),
                "command": command,
                "options": options,
            }
        )
    return sorted(found, key=lambda j: -j["created"])


def cancel(jid: str) -> JobStatus:
    """Kill the job's whole process group and mark it cancelled."""
    folder = cache_dir("jobs") / jid
    info = _read_json(folder / "job.json")
    if info is None:
        raise GemvizError(f"no job {jid}")
    (folder / "cancelled").touch()
    pid = info.get("pid")
    if pid and _alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(os.getpgid(pid), signal.SIGTERM)
        deadline = time.time() + 5
        while _alive(pid) and time.time() < deadline:
            child = _CHILDREN.get(jid)
            if child is not None:
                child.poll()
            time.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)
    child = _CHILDREN.pop(jid, None)
    if child is not None:
        child.wait(timeout=5)
    return status(jid)


def format_eta(seconds: float | None) -> str:
    """A short human reading of a duration (``"2 min 5 s"``), or ``"unknown"``."""
    if seconds is None:
        return "unknown"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _count(value) -> int | None:
    """A progress count: a whole number from 0 (missing reads as 0), else None."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        return None
    return value


def _when(value) -> float | None:
    """A unix time from a state file, or None unless it is a finite number of a sane size."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int) and not 0 <= value < 2**40:
        return None
    value = float(value)
    return value if math.isfinite(value) and 0.0 < value < 1e11 else None


def _alive(pid: int | None) -> bool:
    # Linux pids stay below 2**22; anything else in a state file is not a process.
    if not isinstance(pid, int) or isinstance(pid, bool) or not 0 < pid < 2**22:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            # A zombie has exited; only its parent has not collected it yet.
            if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            # After a reboot the pid may belong to another program: only our runner counts.
            return b"gemviz.scoring.jobs" in fh.read()
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def _read_json(path: Path) -> dict | None:
    """A state file's object, or None when it is missing, damaged or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _run(folder: Path) -> int:
    """Runner body: run the job's command, then record its return code."""
    info = _read_json(folder / "job.json") or {}
    argv = info.get("argv") or []
    # Forward SIGTERM to the command so cancel() also ends it when it sits in another group.
    proc = subprocess.Popen(argv)
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    rc = proc.wait()
    write_json_atomic(folder / "exit.json", {"returncode": rc, "ended": time.time()})
    return rc


if __name__ == "__main__":
    sys.exit(_run(Path(sys.argv[1])))
