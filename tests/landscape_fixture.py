"""A small fixed store for the picker's and the report's tests: real timm architectures and tags (so their
accuracy joins from timm's published file), costs set by hand so the frontier can be checked by hand."""
from cnnprofile.landscape import Store, SweepRow

# (architecture, tag, resolution, GMACs, parameters, peak MB at batch 1); top-1 from timm's results file:
# mobilenetv3_large_100.ra_in1k 75.784, efficientnet_b0.ra_in1k 77.698, resnet18.a3_in1k 65.670 (160) and
# 68.250 (224), resnet18.a1_in1k 71.504 (224) and 73.164 (288), resnet50.a1_in1k 80.382 (224) and 81.240 (288).
CELLS = (
    ("mobilenetv3_large_100", "ra_in1k", 224, 0.22, 5_483_032, 40, "mobilenetv3"),
    ("efficientnet_b0", "ra_in1k", 224, 0.39, 5_288_548, 60, "efficientnet"),
    ("resnet18", "a3_in1k", 160, 0.93, 11_689_512, 87, "resnet"),
    ("resnet18", "a3_in1k", 224, 1.82, 11_689_512, 92, "resnet"),
    ("resnet18", "a1_in1k", 224, 1.82, 11_689_512, 92, "resnet"),
    ("resnet18", "a1_in1k", 288, 3.0, 11_689_512, 98, "resnet"),
    ("resnet50", "a1_in1k", 224, 4.1, 25_557_032, 148, "resnet"),
    ("resnet50", "a1_in1k", 288, 6.8, 25_557_032, 170, "resnet"),
)
BATCH = 8


def rows() -> list:
    out = []
    for arch, tag, res, gmacs, params, peak_mb, family in CELLS:
        out.append(SweepRow(model=f"timm:{arch}", tag=tag, input_size=f"3x{res}x{res}", batch=BATCH,
                            status="profiled", architecture=arch, family=family, origin="timm", resolution=res,
                            params=params, macs=int(gmacs * 1e9), flops=int(2 * gmacs * 1e9),
                            activation_bytes=peak_mb * 10 ** 5, peak_bytes_1=peak_mb * 10 ** 6,
                            peak_bytes_batch=5 * peak_mb * 10 ** 6, receptive_field="427", uncounted_ops="{}",
                            layers='{"columns":["name","flops"],"rows":[["fc",1]]}', engine="meta",
                            tool_version="0.1.0", seconds=0.5, finished_at="2026-01-01T00:00:00+00:00"))
    # A size nobody published accuracy at, and a failure: in the landscape, never on the frontier.
    out.append(SweepRow(model="timm:resnet18", tag="", input_size="3x64x64", batch=BATCH, status="profiled",
                        architecture="resnet18", family="resnet", origin="timm", resolution=64, params=11_689_512,
                        macs=150_000_000, flops=300_000_000, activation_bytes=10 ** 6, peak_bytes_1=50 * 10 ** 6,
                        peak_bytes_batch=60 * 10 ** 6, receptive_field="427", uncounted_ops="{}", engine="meta",
                        tool_version="0.1.0", seconds=0.5, finished_at="2026-01-01T00:00:00+00:00"))
    out.append(SweepRow(model="timm:vitamin_small_224", tag="datacomp1b_clip", input_size="3x224x224", batch=BATCH,
                        status="failed", failure="build error", reason="RuntimeError: Tensor on device meta is not "
                        "on the expected device cpu", architecture="vitamin_small_224", family="vitamin",
                        origin="timm", resolution=224, tool_version="0.1.0", seconds=0.1,
                        finished_at="2026-01-01T00:00:00+00:00"))
    return out


def make_store(path: str) -> str:
    with Store(path) as store:
        store.put(rows())
    return path


# Cells profiled by the sweep's own worker function (one meta recording each, kernels stored), for the
# predicted-latency tests: (architecture, tag, resolution, family), each with a published top-1 in timm's file.
KERNEL_CELLS = (
    ("resnet18", "a1_in1k", 224, "resnet"),
    ("resnet18", "a1_in1k", 288, "resnet"),
    ("resnet18", "a3_in1k", 160, "resnet"),
    ("mobilenetv3_large_100", "ra_in1k", 224, "mobilenetv3"),
    ("efficientnet_b0", "ra_in1k", 224, "efficientnet"),
)


def kernel_rows() -> list:
    """The KERNEL_CELLS as the sweep writes them, then rows() without kernels (a hand-made ResNet-50 with
    a published accuracy among them) and its failed row."""
    from cnnprofile.landscape.cells import Job
    from cnnprofile.landscape.measure import measure, rows_of

    out = []
    for arch, tag, res, family in KERNEL_CELLS:
        job = Job(model=f"timm:{arch}", kwargs="{}", input_size=(3, res, res), batch=1, tags=(tag,),
                  architecture=arch, family=family, origin="timm")
        outcome = measure(job)
        assert outcome.figures is not None, outcome.reason
        out.extend(rows_of(job, outcome))
    return out + [r for r in rows() if r.architecture in ("resnet50", "vitamin_small_224")]


def make_kernel_store(path: str) -> str:
    with Store(path) as store:
        store.put(kernel_rows())
    return path


def write_calibration(path: str, device: str = "rtx-4090") -> str:
    """A calibration of the time model's starting terms for ``device``: a fixed, known time model for tests
    (what it predicts is not a measured latency; the tests check that the store's path and a fresh recording's
    agree)."""
    from cnnprofile.predict.calibration import Calibration
    from cnnprofile.predict.model import default_params

    Calibration(device=device, params=default_params(), fitted_on=("the time model's starting terms",),
                step="amp-fp16", created="2026-01-01T00:00:00Z").save(path)
    return path
