"""The inference peak read from the one recording's storage log (``analyses.memory.replay``) against the pass
the memory predictor runs on its own (``step.run_step``, checked against the CPU allocator in
tests/test_memory_oracle.py): the same report to the byte at the recorded batch, and the same peak at other
batches where the log is replayed with the batch's storages rescaled."""
import pytest
import torch
from torch import nn

from cnnprofile.analyses.memory import Predictor
from cnnprofile.analyses.memory.replay import inference_report, peaks, replay, rescalable
from cnnprofile.analyses.memory.targets import get_target
from cnnprofile.models.registry import list_models
from cnnprofile.record.run import record_module
from cnnprofile.sources import module_and_inputs

# Beside the zoo: transformers, depthwise and squeeze-excitation nets, and Swin (window masks made with new_zeros).
OTHERS = ("torchvision:vit_b_16", "torchvision:convnext_tiny", "torchvision:efficientnet_b0",
          "torchvision:mobilenet_v3_small", "torchvision:swin_t", "torchvision:regnet_y_400mf")


def _recorded(name: str, batch=None):
    module, inputs, n, _ = module_and_inputs(name, None, batch, None, device="meta")
    return record_module(module, inputs, dtype=torch.float32, name=n or name, lifetimes=True)


@pytest.mark.parametrize("name", [*(s.name for s in list_models()), *OTHERS])
def test_the_recording_gives_the_step_passs_report(name):
    assert inference_report(_recorded(name), get_target("cuda")) == Predictor(name, device="cuda")._step(None)


# The CPU target (its column buffers, exact sizes) and the replay at another batch, on a sample of both kinds.
@pytest.mark.parametrize("name", ["lenet5", "googlenet", "resnet18", "darknet19", "torchvision:mobilenet_v3_small",
                                  "torchvision:swin_t"])
def test_the_cpu_report_and_the_peak_at_another_batch(name):
    traced = _recorded(name)
    assert inference_report(traced, get_target("cpu")) == Predictor(name, device="cpu")._step(None)
    cuda = Predictor(name, device="cuda")
    if rescalable(traced.recording) is None:
        assert peaks(traced, get_target("cuda"), (1, 8)) == (cuda._step(1).peak_bytes, cuda._step(8).peak_bytes)
    else:  # the pass at that batch instead
        assert cuda.peaks((1, 8)) == (cuda._step(1).peak_bytes, cuda._step(8).peak_bytes)


def test_a_recorded_batch_above_one_replays_down_and_up():
    traced = _recorded("resnet18", batch=4)
    target = get_target("cuda")
    stepped = Predictor("resnet18", device="cuda")
    assert peaks(traced, target, (1, 4, 12)) == tuple(stepped._step(b).peak_bytes for b in (1, 4, 12))


class _Heads(nn.Module):
    """Attention-like reshapes: at batch 1 the transposed tensor is contiguous (its batch dimension has size 1),
    so the reshape is a view; at batch 2 it is a copy, one more storage the replay would not know of."""

    def forward(self, x):  # x: (B, 8, 16)
        return (x.transpose(0, 1).reshape(8, -1) * 2).sum(dim=0)


def test_a_layout_that_is_contiguous_only_at_batch_1_is_not_replayed_elsewhere():
    traced = record_module(_Heads(), (1, 8, 16), dtype=torch.float32, name="heads", lifetimes=True)
    assert "size 1" in rescalable(traced.recording)
    with pytest.raises(Exception, match="cannot be replayed"):
        peaks(traced, get_target("cuda"), (1, 2))
    stepped = Predictor(_Heads(), (1, 8, 16), device="cpu")
    # Replayed anyway, the copy that batch 2 makes is missing (2,176 bytes against the pass's 3,072).
    assert replay(traced.recording, get_target("cpu"), 2, 1).peak_bytes < stepped._step(2).peak_bytes
    # The fallback runs the pass at that batch: the same figure as the step's own pass.
    assert stepped.peaks((1, 2)) == (stepped._step(1).peak_bytes, stepped._step(2).peak_bytes)


def test_batch_norm_statistics_and_sized_tensors_do_not_scale():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm2d(64)

        def forward(self, x):
            return self.bn(x) + x.new_zeros((64, 1, 1))

    module = Net()
    traced = record_module(module, (1, 64, 8, 8), dtype=torch.float32, name="net", lifetimes=True)
    stepped = Predictor(module, (1, 64, 8, 8), device="cpu")
    assert peaks(traced, get_target("cpu"), (1,)) == (stepped._step(1).peak_bytes,)
    got = peaks(traced, get_target("cuda"), (3, 16))
    assert got == tuple(Predictor(module, (1, 64, 8, 8), device="cuda")._step(b).peak_bytes for b in (3, 16))


def test_a_model_that_starts_by_returning_its_input_holds_no_second_copy_of_it():
    # A dropout in eval returns its input as it is. The step's pass once made the input's stand-in only then,
    # inside the pass, and counted it as an activation the size of the input.
    model = nn.Sequential(nn.Dropout(0.1), nn.Linear(64, 10))
    weights, inp, out = (64 * 10 + 10) * 4, 2 * 64 * 4, 2 * 10 * 4  # by hand: float32 bytes
    for report in (Predictor(model, (2, 64), device="cpu")._step(None),
                   inference_report(record_module(model, (2, 64), dtype=torch.float32, name="m", lifetimes=True),
                                    get_target("cpu"))):
        assert report.peak_bytes == weights + inp + out
