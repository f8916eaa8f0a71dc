"""The bench's prediction is the memory predictor's peak of the step it times, checked against the CPU allocator;
``--train`` times a full training step; files written before either still read."""
import dataclasses
import json

import pytest
import torch
from click.testing import CliRunner

from bench_helpers import CountingBackend, tiny_source
from cnnprofile.bench.results import BenchResult, Latency, read_results
from cnnprofile.bench.runner import BenchConfig, run_sweep
from cnnprofile.bench.steps import make_optimizer, training_step
from cnnprofile.present.bench_summary import render
from cnnprofile.cli import cli
from cnnprofile.sources import resolve_model
from cnnprofile.inputs import Inputs, TensorSpec
from memory_oracle import measured_peak

QUICK = dict(min_time_s=0.01, max_warmup_s=0.0, warmup_window_s=0.002, warmup=0, min_iters=1, iters=1)


# A training step at 96x96 keeps a real step on two CPU cores short; the network is unchanged (adaptive pooling).
@pytest.mark.parametrize("train,optimizer,size", [(False, "sgd", 224), (True, "sgd-momentum", 96)])
def test_predicted_memory_is_the_peak_the_cpu_allocator_measures(train, optimizer, size):
    resnet18 = dataclasses.replace(resolve_model("torchvision:resnet18"),
                                   inputs=Inputs((TensorSpec((1, 3, size, size)),)))
    batch = 2
    r = run_sweep([resnet18], BenchConfig(batch_sizes=(batch,), train=train, optimizer=optimizer, **QUICK),
                  CountingBackend())[0]
    assert r.status == "ok" and r.predicted_memory_kind == "peak" and r.train is train
    torch.manual_seed(0)
    model = resnet18.build()
    opt = make_optimizer(optimizer, model, "cpu") if train else None
    real = measured_peak(model, torch.randn(batch, *resnet18.input_size), train=train, optimizer=opt)
    assert r.predicted_memory_bytes == pytest.approx(real, rel=0.10)
    if train:  # the step's FLOPs count backward too: about twice the forward's, less the first layer's input grad
        assert r.optimizer == "sgd-momentum"
        assert 2.5 < r.train_flops_per_image / r.flops_per_image < 3.0


def test_the_training_step_steps_the_optimizer_and_clears_gradients():
    torch.manual_seed(0)
    model = tiny_source().build().train()
    before = [p.detach().clone() for p in model.parameters()]
    opt = make_optimizer("adamw", model, "cpu")
    step = training_step(model, model, torch.randn(4, 3, 8, 8), opt, lambda: torch.autocast("cpu", enabled=False))
    step()
    assert all(p.grad is None for p in model.parameters())  # zero_grad(set_to_none=True)
    assert all(not torch.equal(a, p) for a, p in zip(before, model.parameters()))  # every parameter moved
    assert all(len(opt.state[p]) == 3 for p in model.parameters())  # step, exp_avg, exp_avg_sq
    assert not opt.param_groups[0]["foreach"]  # the CPU's single-tensor path, as the CPU prediction models


def test_training_prediction_holds_weights_gradients_and_state(tmp_path):
    cfg = dict(batch_sizes=(2,), **QUICK)
    infer = run_sweep([tiny_source()], BenchConfig(**cfg), CountingBackend())[0]
    adamw = run_sweep([tiny_source()], BenchConfig(train=True, optimizer="adamw", **cfg), CountingBackend())[0]
    params = sum(p.numel() for p in tiny_source().build().parameters())
    # adamw adds a gradient and two state tensors per float32 parameter to what inference holds at its peak
    assert adamw.predicted_memory_bytes - infer.predicted_memory_bytes >= 3 * 4 * params
    text = render([adamw], "text")
    assert "tiny (train, adamw)" in text and "training step (adamw)" in text and "optimizer step" in text


def test_a_result_written_before_the_peak_predictor_still_reads_and_says_what_its_figure_was(tmp_path):
    old = BenchResult(model="m", batch_size=1, status="ok", device="cpu", device_name="CPU", dtype="float32",
                      latency_ms=Latency(1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 5), throughput_ips=1e3,
                      predicted_memory_bytes=123).to_dict()
    for key in ("train", "optimizer", "predicted_memory_kind", "prediction_error", "train_flops_per_image"):
        del old[key]
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(old) + "\n")
    (r,) = read_results(path)
    assert r.train is False and r.optimizer is None and r.predicted_memory_kind is None
    assert "activations written in one forward pass + weights" in render([r], "text")


def test_bench_cli_train_writes_train_and_optimizer(tmp_path):
    out = tmp_path / "t.jsonl"
    res = CliRunner().invoke(cli, ["bench", "lenet5", "--device", "cpu", "--train", "--optimizer", "adam",
                                   "--batch-sizes", "2", "--iters", "2", "--max-warmup", "0", "--warmup", "0",
                                   "--no-progress", "--format", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    (cell,) = json.loads(res.stdout)
    assert cell["train"] is True and cell["optimizer"] == "adam" and cell["predicted_memory_kind"] == "peak"
    assert read_results(out)[0].train


@pytest.mark.parametrize("args,message", [
    (["--train", "--optimizer", "lion"], "unknown optimizer 'lion'"),
    (["--train", "--cuda-graphs"], "cannot be combined with --train"),
])
def test_bad_train_options_are_one_line_and_exit_2(args, message):
    res = CliRunner().invoke(cli, ["bench", "lenet5", "--device", "cpu", "--no-progress", *args])
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output
