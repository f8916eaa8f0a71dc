"""The sweep's store: rows read back as the records written; a killed sweep loses nothing finished and resumes
without doing any work twice; concurrent writers do not corrupt it; a store it cannot use is refused in one
line and left exactly as it was."""
import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnprofile.cli import cli as cli_group

from cnnprofile.landscape import SCHEMA_VERSION, Store, StoreError, SweepRow, landscape_frame, read_rows
from cnnprofile.landscape import sweep as sweep_library

ROOT = Path(__file__).resolve().parents[1]
MODELS = Path(__file__).parent / "data" / "landscape" / "odd_models.py"


def row(i: int, **extra) -> SweepRow:
    return SweepRow(model=f"m{i}", tag="t", input_size="3x8x8", batch=1, status="profiled", params=i, macs=10 * i,
                    seconds=0.5, receptive_field="3x5", **extra)


def cli(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "cnnprofile", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=120, **kw)


def test_rows_read_back_as_the_records_written(tmp_path):
    path = str(tmp_path / "s.db")
    written = [row(1), row(2, failure="timeout", reason="ran past"), row(3)]
    with Store(path) as store:
        store.put(written[:2])
        store.put(written[2:])
        store.put([row(1)])  # the same key again replaces, never duplicates
    assert read_rows(path) == written
    frame = landscape_frame(path)
    assert list(frame["model"]) == ["m1", "m2", "m3"] and frame["accuracy_source"].str.startswith("unknown").all()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _writer(path, start, n):
    with Store(path) as store:
        for i in range(start, start + n):
            store.put([row(i)])


def test_two_writers_at_once_do_not_corrupt_the_store(tmp_path):
    path = str(tmp_path / "s.db")
    ctx = mp.get_context("fork")  # the test's own imports: no second torch import per writer
    writers = [ctx.Process(target=_writer, args=(path, k * 1000, 150)) for k in (1, 2)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
    assert [w.exitcode for w in writers] == [0, 0]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert sorted(r.params for r in read_rows(path)) == list(range(1000, 1150)) + list(range(2000, 2150))


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("case", ["version", "corrupt", "foreign"])
def test_a_store_it_cannot_use_is_refused_and_left_as_it_was(tmp_path, case):
    path = tmp_path / "s.db"
    if case == "version":
        with Store(str(path)) as store:
            store.put([row(1)])
        db = sqlite3.connect(path)
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
    elif case == "corrupt":
        path.write_bytes(b"SQLite format 3\x00" + os.urandom(3000))
    else:
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE other (x)")
        db.commit()
        db.close()
    for p in tmp_path.glob("s.db-*"):
        p.unlink()
    before = _snapshot(tmp_path)
    for args in (["sweep", f"{MODELS}:small4", "--store", str(path)], ["landscape", "--store", str(path)],
                 ["pick", "--store", str(path)]):
        done = CliRunner().invoke(cli_group, args)
        assert done.exit_code == 2, (args, done.output)
        assert len(done.output.strip().splitlines()) == 1 and done.output.startswith("Error: "), done.output
        if case == "version":
            assert f"schema version {SCHEMA_VERSION + 1}" in done.output
    assert _snapshot(tmp_path) == before


def test_an_unwritable_store_is_one_line(tmp_path):
    with pytest.raises(StoreError, match="no folder"):
        Store(str(tmp_path / "missing" / "s.db"))
    (tmp_path / "adir.db").mkdir()
    with pytest.raises(StoreError):
        Store(str(tmp_path / "adir.db"))
    with pytest.raises(StoreError, match="no store"):
        Store(str(tmp_path / "none.db"), readonly=True)
    if os.geteuid() != 0:  # root writes anywhere
        (tmp_path / "ro").mkdir()
        os.chmod(tmp_path / "ro", 0o555)
        with pytest.raises(StoreError, match="not writable"):
            Store(str(tmp_path / "ro" / "s.db"))


def descendants(pid: int) -> set:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), set()).add(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_9_mid_sweep_loses_nothing_finished_and_the_rerun_does_no_work_twice(tmp_path):
    store, log, release = tmp_path / "s.db", tmp_path / "builds.log", tmp_path / "release"
    env = {"CNNPROFILE_TEST_BUILD_LOG": str(log), "CNNPROFILE_TEST_RELEASE": str(release)}
    specs = [f"{MODELS}:{name}" for name in ("small4", "small8", "small16", "gated")]
    args = [sys.executable, "-m", "cnnprofile", "sweep", *specs, "--store", str(store), "--jobs", "1", "-q"]
    sweep = subprocess.Popen(args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:  # a failure here must not leave the sweep waiting in gated() for ever
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if store.exists() and len(read_rows(str(store))) == 3:
                break
            assert sweep.poll() is None, sweep.communicate()
            time.sleep(0.2)
        time.sleep(0.5)  # the worker is now waiting inside gated()
        finished = read_rows(str(store))
        assert sorted(r.model.rsplit(":", 1)[1] for r in finished) == ["small16", "small4", "small8"]
        workers = descendants(sweep.pid)
        assert workers  # the forkserver and the worker inside gated()
    except BaseException:
        sweep.kill()
        raise
    sweep.send_signal(signal.SIGKILL)
    sweep.wait(10)
    deadline = time.monotonic() + 20
    while any(alive(p) for p in workers) and time.monotonic() < deadline:  # they end with the sweep
        time.sleep(0.1)
    assert not any(alive(p) for p in workers), "a worker outlived the killed sweep"
    assert read_rows(str(store)) == finished  # nothing finished is lost
    release.touch()
    done = cli(*args[3:], env=env)
    assert done.returncode == 0, done.stderr
    assert "4 networks, 3 already in the store" in done.stdout
    after = read_rows(str(store))
    assert [r for r in after if "gated" not in r.model] == finished  # the same rows, not written again
    assert sorted(log.read_text().split()) == ["gated", "small16", "small4", "small8"]  # each built once
    again = sweep_library(specs, str(store))  # a complete store: nothing to do, no worker started
    assert (again.jobs, again.skipped, again.profiled, again.failed) == (4, 4, 0, 0)
    assert read_rows(str(store)) == after


def test_a_store_being_created_reads_as_empty_and_is_taken_over(tmp_path):
    path = tmp_path / "s.db"
    db = sqlite3.connect(path)  # what a sweep's first statement leaves: an SQLite file in WAL mode, no tables yet
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    assert read_rows(str(path)) == []
    with Store(str(path)) as store:
        store.put([row(1)])
    assert read_rows(str(path)) == [row(1)]
