"""Builds that clean up (issue 15, item 4): a build killed at any point leaves the old file intact
and openable, and the next build sweeps what it left; SIGTERM cleans up at once; a second build
of the same output fails clearly (``build``) or waits (``build-default``); a full disk or a
read-only folder is a message with exit code 2 and the old file untouched."""
from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from analytics import open_study
from analytics.build import BuildBusy, build_default, build_lock
from analytics.i18n import t
from analytics.study import DEFAULT_STUDY_PATH

ROOT = Path(__file__).resolve().parent.parent
KILL_POINTS = 10


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Files a build must not leave behind: temp files, WALs, lock files."""
    return sorted(p.name for p in folder.iterdir()
                  if ".tmp" in p.name or p.name.endswith((".wal", "-lock", ".lock")))


def cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "analytics", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory) -> Path:
    """The synthetic cohort's raw tables."""
    from analytics.synth import DEFAULT_SEED, write_cohort
    path = tmp_path_factory.mktemp("raw")
    write_cohort(path, seed=DEFAULT_SEED)
    return path


@pytest.fixture
def existing(tmp_path) -> Path:
    """A folder with a good study file in it (a copy of the embedded one)."""
    open_study().close()
    out = tmp_path / "out" / "study.duckdb"
    out.parent.mkdir()
    shutil.copyfile(DEFAULT_STUDY_PATH, out)
    return out


def _build_seconds(raw_dir: Path, out: Path) -> float:
    start = time.monotonic()
    proc = cli("build", str(raw_dir), "--out", str(out))
    proc.communicate(timeout=300)
    assert proc.returncode == 0
    return time.monotonic() - start


def test_sigkill_at_many_points_keeps_old_file_and_next_build_sweeps(raw_dir, tmp_path):
    out = tmp_path / "study.duckdb"
    duration = _build_seconds(raw_dir, out)
    rng = random.Random(15)
    # spread over the whole build: interpreter start, import, writing, the final move
    delays = sorted(rng.uniform(0.05, duration) for _ in range(KILL_POINTS))
    left_any = []
    for delay in delays:
        before = sha256(out)
        proc = cli("build", str(raw_dir), "--out", str(out))
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        # the old file, or (killed after the move) a complete new one: either way it verifies
        with open_study(out) as study:
            assert study.info["n_subjects"] == "110"
        if sha256(out) != before:
            assert proc.returncode in (0, -signal.SIGKILL)
        left_any += leftovers(out.parent)
    proc = cli("build", str(raw_dir), "--out", str(out))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert leftovers(out.parent) == [], f"left after the sweep (killed builds left {left_any})"
    open_study(out).close()


def test_sigterm_cleans_up_at_once(raw_dir, existing):
    before = sha256(existing)
    for delay in (0.8, 1.5, 2.5):
        proc = cli("build", str(raw_dir), "--out", str(existing))
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        if proc.returncode == 0:  # finished before the signal (or was moving its file in place)
            before = sha256(existing)
        elif sha256(existing) != before:  # ended by the signal after its file was in place
            open_study(existing).close()   # then that file is complete and verified
            before = sha256(existing)
        assert sha256(existing) == before
        assert leftovers(existing.parent) == []


def test_second_build_of_same_output_fails_clearly(raw_dir, existing):
    before = sha256(existing)
    with build_lock(existing, wait=False):
        proc = cli("build", str(raw_dir), "--out", str(existing))
        _, err = proc.communicate(timeout=300)
        with pytest.raises(BuildBusy):
            with build_lock(existing, wait=False):
                pass
    assert proc.returncode == 2
    assert "another build of" in err and str(os.getpid()) in err and "Traceback" not in err
    assert t("build.error.kept", "en", out=existing) in err
    assert sha256(existing) == before
    assert leftovers(existing.parent) == []


def test_two_concurrent_builds_never_both_silently(raw_dir, existing):
    procs = [cli("build", str(raw_dir), "--out", str(existing)) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    if codes == [0, 2]:
        assert any("another build of" in err for _, err in results)
    else:  # one finished before the other took the lock: each built in turn
        assert codes == [0, 0]
    assert leftovers(existing.parent) == []
    open_study(existing).close()


def test_build_default_waits_for_the_lock(tmp_path, monkeypatch):
    path = tmp_path / "study.duckdb"
    held = threading.Event()

    def hold():
        with build_lock(path, wait=False):
            held.set()
            time.sleep(1.0)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    calls = []
    monkeypatch.setattr("analytics.build._write_locked",
                        lambda tables, rows, out: calls.append(time.monotonic()) or out)
    start = time.monotonic()
    build_default(path)
    holder.join()
    assert calls and calls[0] - start >= 0.5  # it waited for the holder
    assert leftovers(tmp_path) == []


def test_build_default_leaves_no_lock_file(tmp_path):
    proc = cli("build-default", "--out", str(tmp_path / "study.duckdb"))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.duckdb"]


@contextlib.contextmanager
def small_tmpfs(path: Path, size_kb: int):
    """A tmpfs of ``size_kb`` at ``path`` (root only); skips with the reason otherwise."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_disk_full_is_a_message_and_old_file_intact(raw_dir, existing, tmp_path):
    size_kb = existing.stat().st_size // 1024 + 400  # room for the old file, not a new one
    with small_tmpfs(tmp_path / "small", size_kb) as folder:
        out = folder / "study.duckdb"
        shutil.copyfile(existing, out)
        before = sha256(out)
        proc = cli("build", str(raw_dir), "--out", str(out))
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 2, err
        assert "the disk is full" in err and "Traceback" not in err
        assert t("build.error.kept", "en", out=out) in err
        assert sha256(out) == before
        assert leftovers(folder) == []
        open_study(out).close()


def test_read_only_folder_is_a_message(raw_dir, existing, tmp_path):
    with small_tmpfs(tmp_path / "ro", 4096) as folder:
        out = folder / "study.duckdb"
        shutil.copyfile(existing, out)
        before = sha256(out)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        proc = cli("build", str(raw_dir), "--out", str(out))
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 2, err
        assert "no permission to write" in err and "Traceback" not in err
        assert sha256(out) == before
