"""Arithmetic intensity and the roofline bound, computed by hand, and checked against every measured run."""
import glob

import pytest
import torch.nn.functional as F
from torch import nn

from cnnprofile.devices import PEAKS, device_by_key, find_device
from cnnprofile.errors import InputError
from cnnprofile.analyses.roofline import roofline, traffic

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


def test_the_bound_never_exceeds_a_measured_time():
    """Every completed result in reports/bench/ (the CPU sweep and the H200 check alike) takes at least its
    roofline bound: a bound above a measurement is a bug in the bound. Float32 GPU runs allowed TF32 for cuDNN
    convolutions (not for matmuls), so their bound counts TF32 peaks; the CUDA-graph cell keeps the memory roof
    (a graph replays the same unfused kernels)."""
    from cnnprofile.bench.results import read_results
    from cnnprofile.analyses.roofline import result_bound

    files = sorted(glob.glob("reports/bench/*.jsonl"))
    compared: dict = {}
    for path in files:
        for r in read_results([path]):
            if r.status != "ok":
                continue
            roof = result_bound(r)
            assert roof is not None, f"{path}: no bound for {r.model} on {r.device_name}; add the device's peak"
            assert roof.lower_bound_s * 1e3 <= r.latency_ms.min, f"{path}: {r.model} batch {r.batch_size}"
            compared[path] = compared.get(path, 0) + 1
            compared[r.device_name] = compared.get(r.device_name, 0) + 1
    assert files and all(compared.get(p) for p in files), f"a results file with nothing compared: {compared}"
    assert compared.get("NVIDIA H200", 0) >= 33, "the H200 results must be compared"


def test_cuda_graph_and_tf32_runs_keep_their_roofs():
    from cnnprofile.bench.results import read_results
    from cnnprofile.analyses.roofline import result_bound

    results = read_results(["reports/bench/20261128T061227Z-cuda-gpu-check.jsonl"])
    graph = next(r for r in results if r.cuda_graphs)
    plain = next(r for r in results if not r.cuda_graphs and (r.model, r.batch_size, r.dtype)
                 == (graph.model, graph.batch_size, graph.dtype))
    assert result_bound(graph).lower_bound_s == result_bound(plain).lower_bound_s
    fp32 = next(r for r in results if r.dtype == "float32")
    assert result_bound(fp32).precision == "tf32"  # cuDNN allowed TF32 in that run


def test_a_precision_the_device_has_no_peak_for_is_refused_in_one_line():
    from click.testing import CliRunner

    from cnnprofile.cli import cli

    fc = nn.Linear(64, 64)
    with pytest.raises(InputError, match="V100 SXM2 has no bf16 peak"):
        roofline(traffic(fc, (8, 64), dtype="bfloat16"), device_by_key("v100-sxm2"))
    result = CliRunner().invoke(cli, ["table", "lenet5", "--intensity", "--device-peak", "v100-sxm2",
                                      "--dtype", "bfloat16"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [result.output.strip()]
