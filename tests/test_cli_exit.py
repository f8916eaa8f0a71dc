"""The console script ends the process without the interpreter's teardown (``cli._exit``): what a normal exit
does that matters must still happen, in a real process."""
from __future__ import annotations

import subprocess
import sys


def _script(body: str, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    code = (f"import atexit, sys, threading, time\n{body}\n"
            f"from cnnprofile.cli import main\nsys.argv = ['cnnprofile', *{list(args)!r}]\nmain()\n"
            "print('after main: not reached')\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


def test_output_is_flushed_and_atexit_handlers_run():
    proc = _script("atexit.register(lambda: print('atexit handler ran', flush=True))", "table", "lenet5")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("lenet5: input 1x1x32x32") and "kB/MB/GB are decimal" in lines[-2]
    assert lines[-1] == "atexit handler ran" and "not reached" not in proc.stdout


def test_a_user_error_still_exits_2_with_one_line():
    proc = _script("", "table", "no_such_model")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == ["Error: unknown model 'no_such_model'; run 'cnnprofile list' to see "
                                                "the zoo"]


def test_a_running_thread_gets_the_normal_exit(tmp_path):
    # A non-daemon thread still working when the command ends: a normal exit waits for it to finish.
    done = tmp_path / "done"
    body = f"threading.Thread(target=lambda: (time.sleep(1.0), open({str(done)!r}, 'w').write('ok'))).start()"
    proc = _script(body, "list")
    assert proc.returncode == 0, proc.stderr
    assert done.read_text() == "ok"


def test_a_closed_pipe_is_not_an_error():
    proc = subprocess.run(f"{sys.executable} -m cnnprofile table vgg16 | head -1", shell=True, capture_output=True,
                          text=True, timeout=120)
    assert proc.stdout.startswith("vgg16: input 1x3x224x224") and proc.stderr == ""
