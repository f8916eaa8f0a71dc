"""Shared pytest options and fixtures."""
import os

import pytest


def pytest_configure(config):
    # Each of pytest-xdist's workers gets its share of the cores: two workers each running torch's default of
    # one thread per core would contend for the same two.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers > 1:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="Rewrite tests/golden/ from the current output instead of comparing against it.")


@pytest.fixture(scope="session")
def lecture_report(tmp_path_factory):
    """``cnnprofile report --lecture --bench FILE --device-peak h200-sxm`` run once in an empty directory:
    (report path, command output, the ReportData the command rendered).

    The benchmark file holds synthetic CPU timings (with power readings) for four of the lecture's models, and a
    device is named (for the roofline), so every chart kind is drawn; the report's own figures come from the
    analyzer and the accuracy dataset. Built by one worker of the run, read by the other (once_per_run).
    """
    from once_per_run import once_per_run

    return once_per_run(tmp_path_factory, "lecture-report", lambda: _lecture_report(tmp_path_factory))


def _lecture_report(tmp_path_factory):
    from click.testing import CliRunner

    from cnnprofile.lecture import report
    from cnnprofile.bench.results import BenchResult, Latency
    from cnnprofile.cli import cli

    d = tmp_path_factory.mktemp("lecture")
    results = [BenchResult(model=m, batch_size=b, status="ok", device="cpu", device_name="Test CPU", dtype="float32",
                           latency_ms=Latency(*(ms * b * k for ms in (5.0, 5.5, 6.0, 0.2, 5.1, 4.9)), 20),
                           throughput_ips=1e3 / (5.0 * k), peak_memory_bytes=b * k * 10 ** 8,
                           power_w=40.0 * k + 10 * b, energy_per_image_j=(40.0 * k + 10 * b) * 5.0 * k / 1e3)
               for k, m in ((1, "alexnet"), (2, "googlenet"), (3, "resnet50"), (9, "inception_v4")) for b in (1, 2)]
    (d / "bench.jsonl").write_text("".join(r.to_json() + "\n" for r in results))
    seen = []
    collect_lecture = report.collect_lecture
    cwd = os.getcwd()
    with pytest.MonkeyPatch.context() as mp:  # keep what the command rendered, to compare the page with
        mp.setattr(report, "collect_lecture", lambda *a, **k: seen.append(collect_lecture(*a, **k)) or seen[-1])
        os.chdir(d)
        try:
            res = CliRunner().invoke(cli, ["report", "--lecture", "--bench", "bench.jsonl",
                                           "--device-peak", "h200-sxm"])
        finally:
            os.chdir(cwd)
    assert res.exit_code == 0, res.output
    return d / "lecture-comparison.html", res.output, seen[0]
