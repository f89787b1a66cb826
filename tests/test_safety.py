"""Output safety: outputs never replace inputs, folders, special files or symlinks."""

from __future__ import annotations

import os

import pytest

from gemviz.data.errors import GemvizError
from gemviz.data.safety import check_output, check_output_dir
from gemviz.data.write import write_text_atomic


def test_plain_output_is_accepted(tmp_path):
    out = check_output(tmp_path / "new" / "out.json", [tmp_path / "in.json"])
    assert out == (tmp_path / "new" / "out.json").resolve()
    assert not (tmp_path / "new").exists()  # the check leaves nothing behind
    assert [p.name for p in tmp_path.iterdir()] == []


def test_output_equal_to_an_input_is_refused(tmp_path):
    src = tmp_path / "in.json"
    src.write_text("[]")
    with pytest.raises(GemvizError, match="also an input"):
        check_output(tmp_path / "." / "in.json", [src])
    link = tmp_path / "hard.json"
    os.link(src, link)
    with pytest.raises(GemvizError, match="also an input"):
        check_output(link, [src])


@pytest.mark.parametrize("target", ["folder", "fifo", "/dev/null"])
def test_folders_and_special_files_are_refused(tmp_path, target):
    if target == "folder":
        path = tmp_path
    elif target == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
    else:
        path = target
    with pytest.raises(GemvizError, match=r"folder|FIFO|device"):
        check_output(path)


def test_unwritable_folder_is_refused(tmp_path):
    # /proc refuses new files even for root, unlike a chmod'ed folder
    with pytest.raises(GemvizError, match="cannot write"):
        check_output("/proc/gemviz-out/out.json")
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(GemvizError, match="which is a file"):
        check_output(afile / "out.json")


def test_symlink_is_written_through(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    out = check_output(link)
    assert out == target.resolve()
    write_text_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_symlink_to_an_input_is_refused(tmp_path):
    src = tmp_path / "in.json"
    src.write_text("[]")
    link = tmp_path / "link.json"
    link.symlink_to(src)
    with pytest.raises(GemvizError, match="also an input"):
        check_output(link, [src])


def test_atomic_writer_never_replaces_a_special_file(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(GemvizError):
        write_text_atomic(pipe, "x")
    assert pipe.exists() and not pipe.is_file()


def test_output_dir_refuses_to_overwrite_an_input_inside_it(tmp_path):
    src = tmp_path / "test_inputscore.json"
    src.write_text("[]")
    with pytest.raises(GemvizError, match="would overwrite the input"):
        check_output_dir(tmp_path, ["test_inputscore.json"], [src])
    with pytest.raises(GemvizError, match="must be a folder"):
        check_output_dir(src, ["x.json"])
    assert check_output_dir(tmp_path / "fresh", ["a.json"], [src]) == (tmp_path / "fresh").resolve()
