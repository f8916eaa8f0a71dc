"""The deployed form (``--reparam``, ``profile(..., reparam=True)``): batch norms folded into the convolution
they read, checked against hand-computed counts, torchvision's published parameter count and the unfolded
network's own outputs; the user's module is never changed."""
import pytest
import torch
from click.testing import CliRunner
from torch import nn

import cnnprofile
from cnnprofile.cli import cli
from cnnprofile.inputs import resolve_inputs
from cnnprofile.sources.deploy import deployed, fold_batch_norms
from test_user_module_untouched import assert_unchanged, snapshot, user_net


def tiny():
    """conv 3->8 3x3 without bias, BN, ReLU, conv 8->4 1x1 with bias, BN: 216 + 16 + 36 + 8 = 276 parameters."""
    return nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Conv2d(8, 4, 1), nn.BatchNorm2d(4))


class Residual(nn.Module):
    """The convolution's output is read by the norm and by the sum: folding would change the sum."""

    def __init__(self):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)

    def forward(self, x):
        y = self.conv(x)
        return self.bn(y) + y


class StandardisedConv(nn.Conv2d):
    """Rescales its weight in forward (weight standardisation): a norm's scale folded into it would be undone."""

    def forward(self, x):
        w = self.weight
        w = (w - w.mean(dim=(1, 2, 3), keepdim=True)) / (w.std(dim=(1, 2, 3), keepdim=True) + 1e-5)
        return self._conv_forward(x, w, self.bias)


def params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def randomise_statistics(module):
    """Random weights are not enough: fresh norms have mean 0, var 1, scale 1, shift 0 (nearly the identity)."""
    g = torch.Generator().manual_seed(1)
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=g))
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.randn(m.num_features, generator=g))
                m.bias.copy_(torch.randn(m.num_features, generator=g))
    return module


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_hand_computed_tiny_net(device):
    net = tiny().to(device)
    assert params(net) == 276
    assert fold_batch_norms(net.eval(), resolve_inputs(None, (1, 3, 8, 8))) == 2
    # 216 weights + 8 new biases; 32 weights + 4 biases; both norms gone
    assert params(net) == 224 + 36 and net[0].bias.shape == (8,) and net[0].bias.device.type == device
    assert isinstance(net[1], nn.Identity) and isinstance(net[4], nn.Identity)


def test_profile_counts_of_the_tiny_net():
    plain = cnnprofile.profile(tiny(), (1, 3, 8, 8))
    folded = cnnprofile.profile(tiny(), (1, 3, 8, 8), reparam=True)
    assert (plain.totals.params, folded.totals.params) == (276, 260)
    # MACs: 6x6x8 outputs x 27, then 6x6x4 x 8 = 7776 + 1152, folded or not
    assert plain.totals.macs == folded.totals.macs == 6 * 6 * 8 * 27 + 6 * 6 * 4 * 8
    assert [r.name for r in plain.layers] == ["input", "0", "1", "2", "3", "4"]
    rows = {r.name: r for r in folded.layers}
    assert rows["1"].flops == rows["4"].flops == 0 and rows["1"].params == 0  # the norms' FLOPs are gone
    assert rows["0"].flops == 2 * 6 * 6 * 8 * 27 + 6 * 6 * 8  # 2 per MAC, and now 1 per bias addition


@pytest.mark.parametrize("net", [Residual(), nn.Sequential(StandardisedConv(3, 4, 3), nn.BatchNorm2d(4))],
                         ids=["read-twice", "standardised-conv"])
def test_pairs_that_must_not_fold(net):
    before = params(net)
    assert fold_batch_norms(net.eval(), resolve_inputs(None, (1, 4 if isinstance(net, Residual) else 3, 8, 8))) == 0
    assert params(net) == before


def test_folded_net_computes_the_same_numbers():
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    net = randomise_statistics(torchvision.models.resnet18(weights=None)).eval()
    x = torch.randn(2, 3, 64, 64)
    folded = deployed(net, (2, 3, 64, 64))
    assert not [m for m in folded.modules() if isinstance(m, nn.BatchNorm2d)]  # all 20 follow a convolution
    with torch.no_grad():
        torch.testing.assert_close(folded(x), net(x), atol=1e-4, rtol=1e-4)


def test_timm_norm_with_activation_folds_and_keeps_its_activation():
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    net = randomise_statistics(timm.create_model("mobilenetv3_small_050", pretrained=False)).eval()
    x = torch.randn(1, 3, 64, 64)
    folded = deployed(net, (1, 3, 64, 64))
    assert not [m for m in folded.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        torch.testing.assert_close(folded(x), net(x), atol=1e-4, rtol=1e-4)


def test_resnet18_against_torchvisions_published_count():
    # torchvision's ResNet18_Weights metadata: 11,689,512 parameters. Its 20 norms cover 64 + 4x64 + 4x128 + 128
    # + 4x256 + 256 + 4x512 + 512 = 4800 channels: folded, 2 x 4800 norm parameters go and 4800 biases come.
    prof = cnnprofile.profile("torchvision:resnet18", reparam=True)
    assert prof.totals.params == 11_689_512 - 4800


@pytest.mark.parametrize("engine", ["meta", "real"])
def test_the_users_module_is_not_changed(engine):
    net = user_net(torch.float32, "cpu")
    before = snapshot(net)
    prof = cnnprofile.profile(net, (1, 3, 6, 6), engine=engine, reparam=True)
    assert prof.totals.params == 3 * 4 * 9 + 4 + 4 * 4 * 4 * 5 + 5  # the norm's 8 gone; conv had a bias already
    assert_unchanged(net, before)
    assert isinstance(net[1], nn.BatchNorm2d)


def test_cli_reparam_everywhere_and_refusals(tmp_path):
    runner = CliRunner()
    for args in (["table", "resnet18"], ["compare", "resnet18", "vgg11"], ["memory", "resnet18"]):
        done = runner.invoke(cli, [*args, "--reparam", "--format", "json"] if args[0] != "memory" else
                             [*args, "--reparam"])
        assert done.exit_code == 0, (args, done.output)
        assert "(deployed)" in done.output, args
    f = tmp_path / "m.py"
    f.write_text("from torch import nn\n\n\ndef build():\n"
                 "    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))\n")
    done = runner.invoke(cli, ["table", f"{f}:build", "--input", "1x3x8x8", "--reparam"])
    assert done.exit_code == 2 and "--reparam needs the native input size" in done.output
    assert len(done.output.strip().splitlines()) == 1, done.output
    # In Python the input given is the one the pass runs at: 108 + 4 weights and biases, the norm's 8 folded away
    assert cnnprofile.profile(f"{f}:build", (1, 3, 8, 8), reparam=True).totals.params == 112


def test_a_sweep_records_the_deployed_rows_beside_the_plain_ones(tmp_path):
    from cnnprofile.landscape import read_rows, sweep

    f = tmp_path / "net.py"
    f.write_text("from torch import nn\n\ninput_size = (3, 16, 16)\n\n\ndef build():\n"
                 "    return nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4))\n")
    path, spec = str(tmp_path / "s.db"), f"{f}:build"
    sweep([spec], path)
    again = sweep([spec], path, reparam=True)
    assert again.skipped == 0 and again.profiled == 1  # not taken for the plain row already there
    rows = {r.reparam: r for r in read_rows(path)}
    assert set(rows) == {False, True}
    # 108 weights + the norm's 8; folded: 108 weights + 4 biases. 14 x 14 x 4 outputs x 27 MACs either way.
    assert (rows[False].params, rows[True].params) == (116, 112)
    assert rows[False].macs == rows[True].macs == 14 * 14 * 4 * 27
    done = CliRunner().invoke(cli, ["sweep", spec, "--store", path, "--reparam", "-q"])
    assert done.exit_code == 0 and "1 already in the store" in done.output, done.output
