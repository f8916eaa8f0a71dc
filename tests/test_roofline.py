"""Arithmetic intensity and the roofline bound, computed by hand, and checked against every measured run."""
import glob
import json

import pytest
import torch.nn.functional as F
from torch import nn

from cnnprofile.bench.peaks import PEAKS, cpu_upper_bound, device_by_key, find_device
from cnnprofile.errors import InputError
from cnnprofile.roofline import roofline, traffic

H100 = device_by_key("h100-sxm")  # 67 TFLOP/s fp32, 494.5 TF32, 989.5 fp16; 3.35 TB/s


def _only(model, shape, dtype="float32"):
    (layer,) = traffic(model, shape, dtype=dtype).layers
    return layer


def test_pointwise_convolution_by_hand():
    layer = _only(nn.Conv2d(64, 128, 1, bias=False), (1, 64, 56, 56))
    assert layer.flops == 2 * 56 * 56 * 64 * 128
    assert layer.bytes_read == 4 * (64 * 56 * 56 + 128 * 64)
    assert layer.bytes_written == 4 * 128 * 56 * 56
    assert layer.arithmetic_intensity == pytest.approx(2 * 56 * 56 * 64 * 128 / (4 * (64 * 3136 + 8192 + 128 * 3136)))


def test_depthwise_convolution_is_memory_bound_by_hand():
    layer = _only(nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False), (1, 32, 56, 56))
    n = 32 * 56 * 56
    assert (layer.flops, layer.bytes_read, layer.bytes_written) == (2 * 9 * n, 4 * (n + 32 * 9), 4 * n)
    assert layer.arithmetic_intensity == pytest.approx(18 * n / (8 * n + 4 * 288))  # ~2.25 FLOPs per byte
    (bound,) = roofline(traffic(nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False), (1, 32, 56, 56)),
                        H100).layers
    assert bound.bound == "memory" and bound.least_time_s == pytest.approx((8 * n + 4 * 288) / 3.35e12)


@pytest.mark.parametrize("batch", [1, 256])
def test_fully_connected_layer_by_hand(batch):
    fc = nn.Linear(4096, 4096)
    layer = _only(fc, (batch, 4096))
    flops = 2 * batch * 4096 * 4096 + batch * 4096  # + bias additions
    read = 4 * (4096 * 4096 + 4096 + batch * 4096)  # weight, bias, input
    written = 4 * batch * 4096
    assert (layer.flops, layer.bytes_read, layer.bytes_written) == (flops, read, written)
    (bound,) = roofline(traffic(fc, (batch, 4096)), H100).layers
    compute, memory = flops / 494.5e12, (read + written) / 3.35e12  # float32 may run on TF32 units
    assert bound.least_time_s == pytest.approx(max(compute, memory))
    # Batch 1 reads 64 MiB of weights for 33 MFLOPs; batch 256 reuses them 256 times (~113 FLOPs/byte),
    # still under the TF32 ridge of 494.5 / 3.35 = 148, but over float32's 67 / 3.35 = 20.
    assert bound.bound == "memory"
    fp32_only = roofline(traffic(fc, (batch, 4096)), device_by_key("v100-sxm2")).layers[0]
    assert fp32_only.bound == ("compute" if batch == 256 else "memory")


def test_relu_moves_eight_bytes_per_flop():
    class Relu(nn.Module):
        def forward(self, x):
            return F.relu(x)

    layer = _only(Relu(), (1, 64, 56, 56))
    n = 64 * 56 * 56
    assert (layer.flops, layer.bytes_read, layer.bytes_written) == (n, 4 * n, 4 * n)
    assert layer.arithmetic_intensity == 1 / 8


def test_every_device_has_a_bandwidth_and_a_key():
    assert all(p.bandwidth_gbs and p.bandwidth_source for p in PEAKS)
    assert len({p.key for p in PEAKS}) == len(PEAKS)
    assert find_device("NVIDIA A100-SXM4-80GB").bandwidth_gbs == 2039.0
    assert find_device("NVIDIA A100-PCIE-40GB").bandwidth_gbs == 1555.0
    assert find_device("NVIDIA H100 PCIe").bandwidth_gbs == 2000.0


def test_unknown_device_lists_the_known_ones():
    with pytest.raises(InputError, match="h100-sxm.*cpu"):
        device_by_key("h1000")


def _results():
    for path in sorted(glob.glob("reports/bench/*.jsonl")):
        with open(path) as f:
            for line in f:
                yield path, json.loads(line)


def test_the_bound_never_exceeds_a_measured_time():
    compared = 0
    for path, r in _results():
        if r["status"] != "ok":
            continue
        if r["device"] == "cpu":
            device = cpu_upper_bound(r["env"]["cpu_threads"])
        else:
            device = find_device(r["device_name"])
            assert device is not None, f"{path}: no peak for {r['device_name']}; add it to the peak table"
        fused = r["compile"] or r["cuda_graphs"]
        t = traffic(r["model"], batch=r["batch_size"], dtype=r["dtype"])
        bound_ms = roofline(t, device, memory=not fused).lower_bound_s * 1e3
        assert bound_ms <= r["latency_ms"]["min"], f"{path}: {r['model']} batch {r['batch_size']}"
        compared += 1
    assert compared > 0, "no bench result in reports/bench/ to compare with"
