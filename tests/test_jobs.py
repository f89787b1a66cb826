"""Background jobs: start, attach, progress/ETA, completion, failure and cancellation.

The jobs run a small Python script that writes the progress file the way ``gemviz score``
does, so these tests exercise the real runner without loading a model.
"""

from __future__ import annotations

import os
import sys
import time

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from gemviz.data.read import read_records
from gemviz.data.write import write_records
from gemviz.scoring import jobs
from gemviz.workspace.entries import LAST_JOB, SplitterEntry
from gemviz.workspace.store import create_workspace

# Writes progress like the score command: {"done","total","stage","started","updated",...}.
FAKE = r"""
import json, os, sys, time
args = sys.argv[1:]
prog = args[args.index("--progress-file") + 1]
total, delay, fail = int(args[0]), float(args[1]), args[2] == "fail"
start = time.time()
def write(done, finished=False, error=None):
    tmp = prog + ".tmp"
    with open(tmp, "w") as fh:
        json.dump({"done": done, "total": total, "stage": "embedding", "started": start,
                   "updated": time.time(), "finished": finished, "error": error}, fh)
    os.replace(tmp, prog)
for i in range(total):
    write(i)
    time.sleep(delay)
if fail:
    write(total, True, "the model folder has no weights")
    sys.exit(3)
write(total, True)
"""


def command(total: int, delay: float, mode: str = "ok") -> list[str]:
    return [sys.executable, "-c", FAKE, str(total), str(delay), mode]


def wait_for(jid: str, states: tuple[str, ...], timeout: float = 30.0) -> jobs.JobStatus:
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = jobs.status(jid)
        if st.state in states:
            return st
        time.sleep(0.05)
    raise AssertionError(f"job {jid} stayed {jobs.status(jid).state}")


def test_job_id_is_a_hash_of_the_arguments():
    assert jobs.job_id(["a", "b"]) == jobs.job_id(["a", "b"])
    assert jobs.job_id(["a", "b"]) != jobs.job_id(["a", "c"])


def test_job_runs_to_done_and_reports_progress():
    cmd = command(5, 0.02)
    first = jobs.start_job(cmd, out_flag=None)
    assert first.state == jobs.RUNNING
    done = wait_for(first.job_id, (jobs.DONE, jobs.FAILED))
    assert done.state == jobs.DONE, done.error
    assert (done.done, done.total, done.fraction) == (5, 5, 1.0)
    # A finished job is reused rather than run again.
    again = jobs.start_job(cmd, out_flag=None)
    assert again.state == jobs.DONE
    assert (again.folder / "exit.json").stat().st_mtime == (
        done.folder / "exit.json"
    ).stat().st_mtime


def test_second_start_attaches_and_eta_is_given():
    cmd = command(200, 0.05)
    a = jobs.start_job(cmd, out_flag=None)
    st = wait_for(a.job_id, (jobs.RUNNING,))
    deadline = time.time() + 20
    while st.done < 3 and time.time() < deadline:
        time.sleep(0.05)
        st = jobs.status(a.job_id)
    assert st.state == jobs.RUNNING and st.eta_s is not None and st.eta_s > 0
    pid = jobs._read_json(a.folder / "job.json")["pid"]
    b = jobs.start_job(cmd, out_flag=None)
    assert b.job_id == a.job_id
    assert jobs._read_json(b.folder / "job.json")["pid"] == pid  # attached, not restarted
    cancelled = jobs.cancel(a.job_id)
    assert cancelled.state == jobs.CANCELLED
    assert not jobs._alive(pid)


def test_cancel_kills_the_process_group():
    cmd = command(1000, 0.05)
    job = jobs.start_job(cmd, out_flag=None)
    wait_for(job.job_id, (jobs.RUNNING,))
    pid = jobs._read_json(job.folder / "job.json")["pid"]
    pgid = os.getpgid(pid)
    assert pgid != os.getpgid(0)  # its own group, so the page's process is never hit
    jobs.cancel(job.job_id)
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)
    # Cancelled jobs may be started again.
    again = jobs.start_job(cmd, out_flag=None)
    assert again.state == jobs.RUNNING
    jobs.cancel(again.job_id)


def test_failure_reports_the_error():
    job = jobs.start_job(command(2, 0.01, "fail"), out_flag=None)
    failed = wait_for(job.job_id, (jobs.DONE, jobs.FAILED))
    assert failed.state == jobs.FAILED
    assert "no weights" in failed.error


def test_missing_job_and_eta_format():
    assert jobs.status("0" * 16).state == jobs.MISSING
    assert jobs.format_eta(None) == "unknown"
    assert jobs.format_eta(75) == "1 min 15 s"
    assert jobs.format_eta(3 * 3600 + 60) == "3 h 1 min"


def test_score_command_and_output_folder():
    cmd = jobs.score_command(train="tr.json", test="te.json", method="sentence", device="cpu")
    assert cmd[1:4] == ["-m", "gemviz", "score"]
    assert cmd[cmd.index("--device") + 1] == "cpu"
    assert jobs.JobStatus("x", jobs.DONE, folder=jobs.job_folder("x")).out_dir.name == "out"


@pytest.mark.slow
def test_real_score_command_runs_as_a_job(gem_public, tmp_path):
    """The page's command line is accepted by ``gemviz score`` and yields its score files."""
    records = read_records(gem_public / "AITZ_test_inputscore.json")
    write_records(tmp_path / "train.json", records[:24])
    write_records(tmp_path / "test.json", records[24:36])
    cmd = jobs.score_command(
        train=str(tmp_path / "train.json"),
        test=str(tmp_path / "test.json"),
        method="sentence",
        device="cpu",
    )
    job = jobs.start_job(cmd)
    done = wait_for(job.job_id, (jobs.DONE, jobs.FAILED), timeout=240)
    assert done.state == jobs.DONE, done.error
    scored = read_records(done.out_dir / "test_inputscore.json")
    assert len(scored) == 12 and all(isinstance(r["input_score"], float) for r in scored)
    assert done.total > 0 and done.done == done.total


@pytest.mark.slow
def test_score_page_starts_attaches_and_cancels(gem_public, tmp_path):
    """The Score & Partition page drives a real job: start, attach on a second start, cancel."""

    records = read_records(gem_public / "AITZ_test_inputscore.json")
    write_records(tmp_path / "train.json", records[:400])
    write_records(tmp_path / "test.json", records[400:800])
    ws = create_workspace("jobs", test=tmp_path / "test.json", train=tmp_path / "train.json")
    at = AppTest.from_file(str(ROOT / "pages" / "2_score_partition.py"), default_timeout=60)
    at.session_state["workspace"] = ws.slug
    at.run()
    assert not at.exception
    assert at.text_input(key="score_train").value == ws.train
    at.selectbox(key="score_device").set_value("cpu")
    at.button(key="score_start").click().run()
    assert not at.exception
    method = at.selectbox(key="score_method").value
    cmd = jobs.score_command(train=ws.train, test=ws.test, method=method, device="cpu")
    jid = jobs.job_id(cmd)
    pid = jobs._read_json(jobs.job_folder(jid) / "job.json")["pid"]
    assert jobs.status(jid).state in (jobs.RUNNING, jobs.DONE)
    at.button(key="score_start").click().run()
    assert jobs._read_json(jobs.job_folder(jid) / "job.json")["pid"] == pid
    at.button(key="score_cancel").click().run()
    assert not at.exception
    assert jobs.status(jid).state in (jobs.CANCELLED, jobs.DONE)
    assert not jobs._alive(pid)


@pytest.mark.slow
def test_score_page_partitions_a_finished_job(gem_public, tmp_path):
    """Once a job is done, the page partitions its fresh scores without another click."""

    records = read_records(gem_public / "AITZ_test_inputscore.json")
    write_records(tmp_path / "train.json", records[:60])
    write_records(tmp_path / "test.json", records[60:100])
    ws = create_workspace("finished", test=tmp_path / "test.json", train=tmp_path / "train.json")
    # A splitter with score files of its own comes first in the list of score sources.
    write_records(tmp_path / "labeled.json", [dict(r, label="ID") for r in records[60:100]])
    ws.add_splitter(
        SplitterEntry(
            "published",
            str(tmp_path / "labeled.json"),
            train_scores=ws.train,
            test_scores=ws.test,
        )
    )
    ws.save()
    cmd = jobs.score_command(train=ws.train, test=ws.test, method="sentence", device="cpu")
    job = jobs.start_job(cmd)
    assert wait_for(job.job_id, (jobs.DONE, jobs.FAILED), timeout=240).state == jobs.DONE

    at = AppTest.from_file(str(ROOT / "pages" / "2_score_partition.py"), default_timeout=60)
    at.session_state["workspace"] = ws.slug
    at.run()
    at.selectbox(key="score_method").set_value("sentence")
    at.selectbox(key="score_device").set_value("cpu").run()
    assert not at.exception
    assert at.selectbox(key="partition_source").value == LAST_JOB
    counts = {m.label: m.value for m in at.metric}
    assert (
        int(counts["ID steps"].replace(",", "")) + int(counts["OOD steps"].replace(",", "")) == 40
    )


def test_jobs_are_listed_by_workspace_newest_first():
    first = jobs.start_job(
        [*command(2, 0.01), "--method", "sentence"], out_flag=None, workspace="w1"
    )
    wait_for(first.job_id, (jobs.DONE,))
    time.sleep(0.01)
    second = jobs.start_job(
        [*command(3, 0.01), "--method", "hidden"], out_flag=None, workspace="w1"
    )
    other = jobs.start_job(command(4, 0.01), out_flag=None, workspace="w2")
    for job in (second, other):
        wait_for(job.job_id, (jobs.DONE,))
    listed = jobs.list_jobs("w1")
    assert [j["id"] for j in listed] == [second.job_id, first.job_id]
    assert listed[0]["options"]["--method"] == "hidden" and listed[0]["state"] == jobs.DONE
    assert [j["id"] for j in jobs.list_jobs("w2")] == [other.job_id]
    assert jobs.list_jobs("nobody") == []
