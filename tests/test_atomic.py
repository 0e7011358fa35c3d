"""Atomic writes: all or nothing, and the permissions an ordinary write would give."""

from __future__ import annotations

import os
import stat

import pytest

from deepstruc_gui.util.atomic import atomic_write, atomic_write_text


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(tmp_path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "a.txt"
        atomic_write_text(path, "one")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's 0600
        path.chmod(0o640)
        atomic_write_text(path, "two")
        assert path.read_text() == "two" and stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path) -> None:
    path = tmp_path / "keep.txt"
    path.write_text("precious")
    with pytest.raises(RuntimeError), atomic_write(path) as handle:
        handle.write("half of it")
        raise RuntimeError("disk full")
    assert path.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
