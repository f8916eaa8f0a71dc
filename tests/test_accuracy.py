"""The published-accuracy dataset: every row names a zoo model, holds plausible figures and says where from."""
import csv
from importlib import resources

import pytest

from cnnprofile.sources.accuracy import COLUMNS, Accuracy, load_accuracy, published_accuracy, zoo_accuracy
from cnnprofile.models import list_models
from cnnprofile.sources import resolve_model

ROWS = list(csv.DictReader(resources.files("cnnprofile").joinpath("data/accuracy.csv")
                           .open(encoding="utf-8", newline="")))
ZOO = {m.name for m in list_models()}


def test_header_and_one_row_per_model():
    assert tuple(ROWS[0].keys()) == COLUMNS
    names = [r["model"] for r in ROWS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["model"])
def test_row_is_complete_and_plausible(row):
    assert row["model"] in ZOO
    top1 = float(row["top1"])
    assert 40 <= top1 <= 100  # percent, not a fraction or an error rate
    if row["top5"]:  # some sources give top-1 only (NIN); the note must say so
        assert top1 < float(row["top5"]) <= 100
    else:
        assert "no top-5" in row["note"]
    assert int(row["resolution"]) == {m.name: m for m in list_models()}[row["model"]].input_size[1] or \
        row["model"] == "alexnet"  # torchvision evaluates AlexNet at 224; the paper's network takes 227
    assert row["crops"] in ("single", "10-crop", "dense")
    assert row["source"].strip() and row["note"].strip()


def test_lenet_has_no_imagenet_figure():
    assert "lenet5" not in zoo_accuracy()


def test_lecture_inception_and_nin_figures_are_their_sources():
    acc = zoo_accuracy()
    # Inception-v4 paper, Table 2: single-crop errors 20.0% / 5.0%.
    assert (acc["inception_v4"].top1, acc["inception_v4"].top5) == (100 - 20.0, 100 - 5.0)
    assert acc["inception_v4"].resolution == acc["inception_v3"].resolution == 299
    assert acc["nin"].top1 == 59.36 and acc["nin"].top5 is None
    assert load_accuracy().set_index("model")["top5"].isna().sum() == 1


def test_dataframe_matches_csv():
    frame = load_accuracy()
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == len(ROWS)
    assert frame.set_index("model").loc["vgg16", "top1"] == pytest.approx(71.592)


def test_zoo_source_reads_the_dataset():
    acc = published_accuracy(resolve_model("resnet50"))
    assert acc == zoo_accuracy()["resnet50"]
    assert acc.top1 == pytest.approx(76.13) and "v1.5" in acc.note


def test_changed_model_has_no_published_accuracy():
    assert published_accuracy(resolve_model("resnet50", {"num_classes": 10})) is None


def test_torchvision_source_reads_weights_metadata():
    pytest.importorskip("torchvision")
    acc = published_accuracy(resolve_model("torchvision:resnet18"))
    assert isinstance(acc, Accuracy)
    assert (acc.top1, acc.top5, acc.resolution) == (pytest.approx(69.758), pytest.approx(89.078), 224)
    assert "ResNet18_Weights" in acc.source


def test_torchvision_metadata_agrees_with_dataset_where_both_use_v1_weights():
    pytest.importorskip("torchvision")
    from torchvision import models

    for row in ROWS:
        if "torchvision" in row["source"]:
            enum_name, _, weights = row["source"].rpartition(", ")[2].partition(".")
            meta = models.get_weight(f"{enum_name}.{weights}").meta["_metrics"]["ImageNet-1K"]
            assert (meta["acc@1"], meta["acc@5"]) == (float(row["top1"]), float(row["top5"])), row["model"]


def test_user_model_has_none(tmp_path):
    path = tmp_path / "net.py"
    path.write_text("import torch\ninput_size = (3, 8, 8)\ndef build():\n    return torch.nn.Conv2d(3, 4, 3)\n")
    assert published_accuracy(resolve_model(f"{path}:build")) is None
