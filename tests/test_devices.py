"""The device peak table: every entry found by its own name and by the name torch reports, never by a sibling
card's; the figures consistent with the architecture that published them; ``cnnprofile devices``."""
import configparser
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnprofile import devices
from cnnprofile.cli import cli
from cnnprofile.devices import PEAKS, device_by_key, find_device, peak_tflops, shipped_calibration
from cnnprofile.present.devices_table import CSV_COLUMNS, devices_table

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("peak", PEAKS, ids=lambda p: p.key)
def test_every_entry_is_found_by_its_own_name_and_key(peak):
    assert find_device(peak.name) is peak
    assert find_device(f"NVIDIA {peak.name}") is peak
    assert device_by_key(peak.key) is peak


# torch.cuda.get_device_name() as the drivers spell it -> the key it must find; None where the table has no
# entry for that card and must not lend it a sibling's figures.
TORCH_NAMES = {
    "NVIDIA B200": "b200",
    "NVIDIA GB200": "gb200",
    "NVIDIA GB300": "gb300",
    "NVIDIA GH200 480GB": "gh200-96gb-hbm3",
    "NVIDIA GH200 144G HBM3e": "gh200-144gb-hbm3e",
    "NVIDIA H200": "h200-sxm",
    "NVIDIA H200 NVL": "h200-nvl",
    "NVIDIA H100 80GB HBM3": "h100-sxm",
    "NVIDIA H100 PCIe": "h100-pcie",
    "NVIDIA H100 NVL": "h100-nvl",
    "NVIDIA A100-SXM4-80GB": "a100-80gb-sxm",
    "NVIDIA A100 80GB PCIe": "a100-80gb-pcie",
    "NVIDIA A100-PCIE-40GB": "a100-40gb",
    "NVIDIA A40": "a40",
    "NVIDIA A30": "a30",
    "NVIDIA A10": "a10",
    "NVIDIA RTX A6000": "rtx-a6000",
    "NVIDIA L40S": "l40s",
    "NVIDIA L40": "l40",
    "NVIDIA L4": "l4",
    "NVIDIA RTX 6000 Ada Generation": "rtx-6000-ada",
    "Tesla V100-SXM2-16GB": "v100-sxm2",
    "Tesla T4": "t4",
    "NVIDIA GeForce RTX 5090": "rtx-5090",
    "NVIDIA GeForce RTX 5080": "rtx-5080",
    "NVIDIA GeForce RTX 5070 Ti": "rtx-5070-ti",
    "NVIDIA GeForce RTX 4090": "rtx-4090",
    "NVIDIA GeForce RTX 4080": "rtx-4080",
    "NVIDIA GeForce RTX 4070 Ti": "rtx-4070-ti",
    "NVIDIA GeForce RTX 3090": "rtx-3090",
    "NVIDIA GeForce RTX 3080": "rtx-3080",
    # Siblings with other chips, clocks or memory: no entry rather than a wrong one.
    "NVIDIA GeForce RTX 4090 D": None,
    "NVIDIA GeForce RTX 4090 Laptop GPU": None,
    "NVIDIA GeForce RTX 5090 D": None,
    "NVIDIA GeForce RTX 5070": None,
    "NVIDIA GeForce RTX 4080 SUPER": None,
    "NVIDIA GeForce RTX 4070 Ti SUPER": None,
    "NVIDIA GeForce RTX 3090 Ti": None,
    "NVIDIA GeForce RTX 3080 Ti": None,
    "NVIDIA A10G": None,
    "NVIDIA RTX PRO 6000 Blackwell Server Edition": None,
    "NVIDIA RTX PRO 6000 Blackwell Workstation Edition": None,
    "NVIDIA B300 SXM6 AC": None,
}


@pytest.mark.parametrize("name, key", TORCH_NAMES.items())
def test_the_name_torch_reports_finds_its_entry_and_no_sibling(name, key):
    found = find_device(name)
    assert (found.key if found else None) == key
    assert find_device(name.upper() + "  ") is found


def test_entries_are_complete_and_keys_unique():
    assert len({p.key for p in PEAKS}) == len(PEAKS)
    for p in PEAKS:
        assert p.tflops["fp32"] and p.bandwidth_gbs and p.source and p.bandwidth_source, p.key
        assert set(p.tflops) <= set(devices.PRECISIONS), p.key
        assert p.tflops.get("bf16", p.tflops["fp16"]) == p.tflops["fp16"], p.key


GEFORCE = [p for p in PEAKS if p.fp16_acc_tflops is not None]


@pytest.mark.parametrize("peak", GEFORCE, ids=lambda p: p.key)
def test_geforce_figures_keep_the_ratios_the_whitepapers_publish(peak):
    """Ampere, Ada and Blackwell GeForce SMs: 128 FP32 lanes (256 FLOP/clock), TF32 tensor math at that rate,
    FP16 with FP32 accumulate at twice it and with FP16 accumulate at four times it. Each figure is rounded
    apart in the whitepapers, so a typo in any one shows as a broken ratio."""
    fp32 = peak.tflops["fp32"]
    assert peak.tflops["tf32"] == fp32
    assert abs(peak.tflops["fp16"] - 2 * fp32) <= 0.25
    assert abs(peak.fp16_acc_tflops - 2 * peak.tflops["fp16"]) <= 0.15


def test_geforce_fp16_is_the_fp32_accumulate_rate_pytorch_runs():
    assert peak_tflops("NVIDIA GeForce RTX 4090", "fp16") == 165.2
    assert peak_tflops("NVIDIA GeForce RTX 3090", "bf16") == 71.0
    assert find_device("NVIDIA GeForce RTX 5090").fp16_acc_tflops == 419.0
    assert len(GEFORCE) == 8
    assert all(p.fp16_acc_tflops is None for p in PEAKS if not p.key.startswith("rtx-") or p.key in
               ("rtx-a6000", "rtx-6000-ada"))


def test_blackwell_datacenter_per_gpu_figures_are_half_the_sparse_ones():
    # NVIDIA's Blackwell datasheet, per GPU with sparsity: GB200 5 PFLOPS FP16/BF16 and 2.5 TF32, HGX B200 4.5
    # and 2.2; the dense FP32 80 and 75 TFLOPS.
    assert device_by_key("gb200").tflops == {"fp32": 80.0, "tf32": 2500 / 2, "fp16": 5000 / 2, "bf16": 5000 / 2}
    assert device_by_key("b200").tflops == {"fp32": 75.0, "tf32": 2200 / 2, "fp16": 4500 / 2, "bf16": 4500 / 2}


def test_shipped_calibration_looks_in_the_package_data(tmp_path, monkeypatch):
    from importlib import resources

    folder = tmp_path / "data" / "calibrations"
    folder.mkdir(parents=True)
    (folder / "h100-sxm.json").write_text("{}")
    monkeypatch.setattr(resources, "files", lambda package: tmp_path)
    assert shipped_calibration("h100-sxm") == folder / "h100-sxm.json"
    assert shipped_calibration("a100-40gb") is None
    assert shipped_calibration("../h100-sxm") is None and shipped_calibration("") is None


def test_calibrations_ship_as_package_data():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert "data/calibrations/*.json" in cfg["options.package_data"]["cnnprofile"]
    for p in PEAKS:  # whatever ships is a JSON file named after a key of the table
        found = shipped_calibration(p.key)
        assert found is None or json.loads(found.read_text()) is not None


def test_the_listing_says_which_devices_ship_a_calibration():
    table = devices_table(calibration=lambda key: f"/x/{key}.json" if key == "b200" else None)
    calibrated = {row[0]: row[-1] for row in table.rows}
    assert calibrated["b200"] == "shipped" and calibrated["h100-sxm"] == "no" and calibrated["cpu"] == "no"
    assert next(r for r in table.records if r["key"] == "b200")["calibration"] == "/x/b200.json"


def test_the_listing_says_which_calibration_a_device_without_one_gets_and_how_the_move_scored():
    check = {"rows": 32, "median_abs_error": 0.585, "median_signed_error": -0.585, "scored_on": "runs"}
    table = devices_table(calibration=lambda key: "/x/b200.json" if key == "b200" else None,
                          transfer=("b200", {"h200-sxm": check, "b200": check}))
    calibrated = {row[0]: row[-1] for row in table.rows}
    assert calibrated["h200-sxm"] == "moved from b200, scored 58.5%"
    assert calibrated["h100-sxm"] == "moved from b200"
    assert calibrated["b200"] == "shipped" and calibrated["cpu"] == "no"  # a GPU's fractions say nothing of a CPU
    record = next(r for r in table.records if r["key"] == "h200-sxm")
    assert record["transferred_from"] == "b200" and record["transfer_check"] == check


def _run(*args):
    return CliRunner().invoke(cli, ["devices", *args])


def test_devices_json_lists_every_key_with_its_figures_and_sources():
    result = _run("--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    rows = {r["key"]: r for r in doc["devices"]}
    assert list(rows) == [p.key for p in PEAKS] + ["cpu"]
    assert rows["rtx-4090"]["fp16"] == 165.2 and rows["rtx-4090"]["fp16_acc_tflops"] == 330.3
    assert rows["v100-sxm2"]["tf32"] is None and rows["v100-sxm2"]["bf16"] is None
    assert rows["h200-sxm"]["bandwidth_gbs"] == 4800.0 and "H200" in rows["h200-sxm"]["source"]
    cpu = rows["cpu"]
    assert cpu["per_thread"] and cpu["fp32"] == devices.CPU_GHZ * devices.CPU_FLOPS_PER_CYCLE / 1000
    assert cpu["bandwidth_gbs"] == devices.CPU_GHZ * devices.CPU_BYTES_PER_CYCLE
    assert all(r["source"] and r["bandwidth_source"] for r in rows.values())
    assert any("FP32 accumulation" in c for c in doc["conventions"])


def test_devices_csv_has_one_row_per_key():
    result = _run("--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS) and len(lines) == len(PEAKS) + 2
    assert lines[-1].startswith("cpu,CPU upper bound (per thread),0.384,")


def test_an_unknown_format_is_refused_in_one_line():
    result = _run("--format", "xml")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ") and "'xml'" in result.output
