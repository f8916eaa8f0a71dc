"""The lecture's verdicts, checked over the lecture's models: which claims hold is pinned here."""
import dataclasses
import json

import pytest

import cnnprofile
from cnnprofile.sources.accuracy import zoo_accuracy
from cnnprofile.lecture.verdicts import QUOTES, Figures, as_records, check_verdicts, lecture_models, verdicts_over


@pytest.fixture(scope="module")
def entries():
    acc = zoo_accuracy()
    return [(cnnprofile.profile(n), acc.get(n)) for n in lecture_models()]


@pytest.fixture(scope="module")
def verdicts(entries):
    return check_verdicts(entries)


# Our numbers against the lecture's words. False is a result: AlexNet's few MACs give it more top-1 per GMAC than
# GoogLeNet, and ResNet-152 and Inception-v4 write more activation memory than either VGG.
EXPECTED = {
    "AlexNet has the fewest MACs of the set": True,
    "AlexNet has more parameters (weight memory) than every model of the set except VGG-16/19": True,
    "AlexNet has the lowest top-1 accuracy of the set": True,
    "VGG-16 and VGG-19 have the most parameters of the set": True,
    "VGG-16 and VGG-19 need the most memory of the set at batch 1 (weights + activations)": True,
    "VGG-16 and VGG-19 write the most activation memory of the set": False,
    "VGG-16 and VGG-19 have the lowest top-1 per GMAC of the set": True,
    "VGG-16 and VGG-19 have a top-1 above AlexNet's and below ResNet-50/101/152's": True,
    "GoogLeNet has a top-1 above AlexNet's and below ResNet-50/101/152's": True,
    "GoogLeNet has the highest top-1 per GMAC of the set": False,
    "GoogLeNet has the highest top-1 per million parameters of the set": True,
    "ResNet-50, -101 and -152 each have a higher top-1 than GoogLeNet and VGG-16/19": True,
    "ResNet-50's top-1 per GMAC and per million parameters are above VGG-16/19's and below GoogLeNet's": True,
    "Inception-v4 has the highest top-1 of the set": True,
    "Inception-v4's top-1 per GMAC is above VGG-16/19's and below GoogLeNet's and ResNet-50's": True,
}


def test_which_claims_hold(verdicts):
    assert {v.claim: v.holds for v in verdicts} == EXPECTED
    assert [v.family for v in verdicts][::3] == ["AlexNet", "VGG", "VGG", "GoogLeNet", "ResNet"]
    assert {v.family for v in verdicts} == set(QUOTES)
    assert all(v.quote.startswith(QUOTES[v.family][0]) for v in verdicts)


def test_numbers_are_the_profiles_and_the_accuracy_records(entries, verdicts):
    direct = {}
    for p, acc in entries:
        t = p.totals
        direct[p.model] = {"params": t.params, "macs": t.macs, "activation_bytes": t.activation_bytes,
                           "memory_bytes": t.param_bytes + t.activation_bytes, "top1": acc.top1,
                           "top1_per_gmac": acc.top1 * 1e9 / t.macs, "top1_per_mparam": acc.top1 * 1e6 / t.params}
    for v in verdicts:
        assert v.numbers
        for model, quantity, value in v.numbers:
            assert value == pytest.approx(direct[model][quantity], rel=1e-12), (v.claim, model, quantity)


def test_the_failing_claims_fail_by_their_numbers(verdicts):
    by_claim = {v.claim: {(m, q): x for m, q, x in v.numbers} for v in verdicts}
    per_gmac = by_claim["GoogLeNet has the highest top-1 per GMAC of the set"]
    assert per_gmac[("alexnet", "top1_per_gmac")] > per_gmac[("googlenet", "top1_per_gmac")]
    act = by_claim["VGG-16 and VGG-19 write the most activation memory of the set"]
    assert act[("resnet152", "activation_bytes")] > act[("vgg19", "activation_bytes")]


def test_batch_size_does_not_change_the_verdicts(entries, verdicts):
    acc = zoo_accuracy()
    batched = [(cnnprofile.profile(p.model, batch=2), acc.get(p.model)) if p.model == "vgg16" else (p, a)
               for p, a in entries]
    assert check_verdicts(batched) == verdicts


def test_claims_about_absent_models_are_left_out(entries):
    without_v4 = check_verdicts([(p, a) for p, a in entries if p.model != "inception_v4"])
    assert "Inception-v4" not in {v.family for v in without_v4} and len(without_v4) == len(EXPECTED) - 2
    no_accuracy = check_verdicts([(p, None) for p, _ in entries])
    assert {v.claim for v in no_accuracy} == {
        "AlexNet has the fewest MACs of the set",
        "AlexNet has more parameters (weight memory) than every model of the set except VGG-16/19",
        "VGG-16 and VGG-19 have the most parameters of the set",
        "VGG-16 and VGG-19 need the most memory of the set at batch 1 (weights + activations)",
        "VGG-16 and VGG-19 write the most activation memory of the set"}


def test_a_claim_follows_its_numbers():
    def fig(name, macs, top1, params=10**7):
        return Figures(model=name, params=params, param_bytes=4 * params, macs=macs, activation_bytes=10**6,
                       top1=top1)

    base = {"alexnet": fig("alexnet", 7 * 10**8, 56.0), "googlenet": fig("googlenet", 16 * 10**8, 70.0)}
    claim = "GoogLeNet has the highest top-1 per GMAC of the set"
    assert {v.claim: v.holds for v in verdicts_over(base)}[claim] is False
    base["googlenet"] = dataclasses.replace(base["googlenet"], macs=5 * 10**8)
    assert {v.claim: v.holds for v in verdicts_over(base)}[claim] is True


def test_records_are_plain_json(verdicts):
    records = as_records(verdicts)
    assert json.loads(json.dumps(records)) == records
    assert set(records[0]) == {"family", "quote", "claim", "numbers", "holds"}
    assert set(records[0]["numbers"][0]) == {"model", "quantity", "value"}
