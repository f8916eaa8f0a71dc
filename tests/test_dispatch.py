"""The shape-only kernels of cnnprofile.dispatch against torch's own meta kernels, op by op, over real models.

Every op a model dispatches that has a shape kernel is run both ways and the results must agree in shape,
dtype and strides; where the shape kernel declines (returns None), torch's kernel runs, so nothing is lost.
One departure is deliberate: a convolution of a channels-last input or weight, whose output torch's meta kernel
lays out plainly while the CPU's kernels (and cuDNN) write it channels-last. There the reference is the CPU
kernel itself, run on zeros of the same shapes and strides.
"""
import subprocess
import sys

import pytest
import torch
from torch import nn

import cnnprofile
from cnnprofile.dispatch import SHAPE_KERNELS, LightDispatchMode, building_on_meta, reference_kernels
from cnnprofile.models import list_models

TORCHVISION = ["resnet50", "mobilenet_v3_small", "densenet121", "efficientnet_b0", "convnext_tiny", "vit_b_16",
               "swin_t", "inception_v3", "squeezenet1_0", "shufflenet_v2_x1_0", "regnet_y_400mf", "maxvit_t"]


def _channels_last(t) -> bool:
    fmt = {4: torch.channels_last, 5: torch.channels_last_3d}.get(t.dim())
    return fmt is not None and not t.is_contiguous() and t.is_contiguous(memory_format=fmt)


def _reference(func, args, kwargs):
    """What the shape kernel must state: torch's meta kernel's result, or for a channels-last convolution the
    layout the CPU kernel really writes."""
    theirs = func(*args, **kwargs)
    if func is torch.ops.aten.convolution.default and any(_channels_last(t) for t in args[:2]):
        real = func(*[torch.empty_strided(a.shape, a.stride(), dtype=a.dtype).zero_()
                      if isinstance(a, torch.Tensor) else a for a in args], **kwargs)
        return theirs, torch.empty_strided(real.shape, real.stride(), dtype=real.dtype, device="meta")
    return theirs, theirs


def _describe(out):
    if isinstance(out, torch.Tensor):
        return (tuple(out.shape), out.dtype, out.stride())
    if isinstance(out, (tuple, list)):
        return tuple(_describe(o) for o in out)
    return out


class _Compare(LightDispatchMode):
    """Runs torch's kernel, and the shape kernel beside it, and records any disagreement."""

    def __init__(self):
        super().__init__()
        self.checked, self.declined, self.wrong = {}, {}, []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        fast = SHAPE_KERNELS.get(func)
        ours = fast(args, kwargs) if fast is not None else None
        theirs, expected = _reference(func, args, kwargs)
        if fast is not None:
            book = self.checked if ours is not None else self.declined
            book[str(func)] = book.get(str(func), 0) + 1
            if ours is not None and _describe(ours) != _describe(expected):
                self.wrong.append((str(func), _describe(ours), _describe(expected)))
        return theirs


def _run_compared(model, shape, dtype=torch.float32):
    x = torch.empty(shape, dtype=dtype, device="meta")
    model = model.to(dtype)
    mode = _Compare()
    with torch.no_grad(), mode:
        model(x)
    return mode


@pytest.mark.parametrize("name", [m.name for m in list_models()])
def test_zoo_models_shape_kernels_agree_with_torch(name):
    spec = cnnprofile.get_model_spec(name)
    with torch.device("meta"):
        model = spec.build().eval()
    mode = _run_compared(model, (2, *spec.input_size))
    assert not mode.wrong, mode.wrong[:3]
    assert sum(mode.checked.values()) > 0


@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_models_shape_kernels_agree_with_torch(name):
    pytest.importorskip("torchvision")
    from cnnprofile.sources import resolve_model

    with torch.device("meta"):
        model = resolve_model(f"torchvision:{name}").build().eval()
    mode = _run_compared(model, (1, 3, 224, 224) if name != "inception_v3" else (1, 3, 299, 299))
    assert not mode.wrong, mode.wrong[:3]


def _train_compared(model, shape):
    """One training step's forward and backward of ``model`` (cross-entropy on logits, else the sum), every op
    run by torch and by its shape kernel beside it."""
    from cnnprofile.analyses.memory.step import loss_of

    x = torch.empty(shape, device="meta")
    mode = _Compare()
    with mode:
        loss_of(model.train()(x), torch.empty(shape[0], dtype=torch.long, device="meta")).backward()
    return mode


TRAINED_ZOO = ["resnet18", "googlenet", "inception_v3", "vgg11_lrn", "darknet19", "se_resnet50", "xception",
               "yolov2_voc", "lenet5"]
TRAINED_TORCHVISION = ["resnet50", "densenet121", "mobilenet_v3_small", "efficientnet_b0", "inception_v3",
                       "squeezenet1_0", "shufflenet_v2_x1_0", "convnext_tiny", "vit_b_16"]


@pytest.mark.parametrize("name", TRAINED_ZOO)
def test_zoo_training_steps_shape_kernels_agree_with_torch(name):
    spec = cnnprofile.get_model_spec(name)
    with torch.device("meta"):
        model = spec.build()
    mode = _train_compared(model, (2, *spec.input_size))
    assert not mode.wrong, mode.wrong[:3]
    assert any("backward" in op for op in mode.checked), mode.checked


@pytest.mark.parametrize("name", TRAINED_TORCHVISION)
def test_torchvision_training_steps_shape_kernels_agree_with_torch(name):
    pytest.importorskip("torchvision")
    from cnnprofile.sources import resolve_model

    with torch.device("meta"):
        model = resolve_model(f"torchvision:{name}").build()
    mode = _train_compared(model, (2, 3, 299, 299) if name == "inception_v3" else (2, 3, 224, 224))
    assert not mode.wrong, mode.wrong[:3]


def _in_a_fresh_process(code: str) -> str:
    """What ``code`` prints, run by a new Python: a module imported once stays in ``sys.modules``, and a first
    call is first only in a process of its own."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_training_step_imports_no_compiler_and_repeats_itself():
    """A first training step in a process used to import torch._dynamo and sympy from torch's Python kernels for
    batch norm, the loss and the gradients (some 0.6 s), and the frames held by that import kept the gradients
    alive longer than the step does: its predicted peak was higher than every later one's. Not any more."""
    code = ("import sys, cnnprofile\n"
            "for model in ('resnet50', 'vgg16', 'darknet19', 'se_resnet50', 'xception'):\n"
            "    first = cnnprofile.memory(model, train=True, batch=8)\n"
            "    second = cnnprofile.memory(model, train=True, batch=8)\n"
            "    print(model, first == second, 'torch._dynamo' in sys.modules or 'sympy' in sys.modules)")
    out = _in_a_fresh_process(code)
    assert [line.split()[1:] for line in out.splitlines()] == [["True", "False"]] * 5, out


def test_a_first_import_during_a_recorded_pass_does_not_raise_its_peak():
    """With torch's own kernels the first step imports the compiler in the middle of the pass; the recorder
    collects the cycles an import leaves, so the tensors they held die when the model drops them, and the
    first training step and inference pass predict what every later one does."""
    code = ("import sys, cnnprofile\n"
            "from cnnprofile.dispatch import reference_kernels\n"
            "with reference_kernels():\n"
            "    for train in (True, False):\n"
            "        first = cnnprofile.memory('resnet50', train=train, batch=32)\n"
            "        second = cnnprofile.memory('resnet50', train=train, batch=32)\n"
            "        print(first == second)\n"
            "print('torch._dynamo' in sys.modules)")
    out = _in_a_fresh_process(code)
    assert out.split() == ["True", "True", "True"], out  # the last: the import did happen


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_reduced_precision_agrees(dtype):
    spec = cnnprofile.get_model_spec("resnet18")
    with torch.device("meta"):
        model = spec.build().eval()
    mode = _run_compared(model, (1, 3, 64, 64), dtype)
    assert not mode.wrong and mode.checked


# The ops of a training step: batch norm in training and its backward, the loss, the activations' gradients,
# convolution's and pooling's backward. Their shape kernels must state each of these, not decline it.
TRAINING_CASES = [
    *[(torch.ops.aten.native_batch_norm.default,
       lambda dt=dt: (torch.empty(2, 4, 3, 3, dtype=dt), torch.empty(4, dtype=dt), torch.empty(4, dtype=dt),
                      torch.empty(4, dtype=dt), torch.empty(4, dtype=dt), True, 0.1, 1e-5))
      for dt in (torch.float32, torch.float16, torch.bfloat16)],
    (torch.ops.aten.native_batch_norm.default, lambda: (torch.empty(3, 5), None, None, None, None, True, 0.1, 1e-5)),
    *[(torch.ops.aten.native_batch_norm_backward.default,
       lambda dt=dt, mask=mask: (torch.empty(2, 4, 3, 3, dtype=dt), torch.empty(2, 4, 3, 3, dtype=dt),
                                 torch.empty(4, dtype=dt), torch.empty(4), torch.empty(4), torch.empty(4),
                                 torch.empty(4), True, 1e-5, mask))
      for dt in (torch.float32, torch.float16) for mask in ([True, True, True], [True, False, False])],
    (torch.ops.aten.native_batch_norm_backward.default,
     lambda: (torch.empty(2, 4, 5), torch.empty(2, 4, 5), None, None, None, torch.empty(4), torch.empty(4), True,
              1e-5, [True, True, True])),
    (torch.ops.aten.threshold_backward.default, lambda: (torch.empty(2, 3, 4), torch.empty(2, 3, 4), 0.0)),
    (torch.ops.aten.threshold_backward.default,  # a channel slice of a concatenation's gradient
     lambda: (torch.empty(2, 10, 4, 4)[:, 3:7], torch.empty(2, 4, 4, 4), 0.0)),
    (torch.ops.aten.sigmoid_backward.default, lambda: (torch.empty(2, 3, 1, 1), torch.empty(2, 3, 1, 1))),
    (torch.ops.aten.tanh_backward.default, lambda: (torch.empty(5, 7, dtype=torch.float16),
                                                    torch.empty(5, 7, dtype=torch.float16))),
    (torch.ops.aten.leaky_relu_backward.default, lambda: (torch.empty(2, 3, 4), torch.empty(2, 3, 4), 0.1, False)),
    (torch.ops.aten.nll_loss_forward.default, lambda: (torch.empty(8, 10), torch.empty(8, dtype=torch.long), None,
                                                       1, -100)),
    (torch.ops.aten.nll_loss_forward.default, lambda: (torch.empty(8, 10, dtype=torch.float16),
                                                       torch.empty(8, dtype=torch.long), None, 0, -100)),
    (torch.ops.aten.nll_loss_backward.default, lambda: (torch.empty(()), torch.empty(8, 10),
                                                        torch.empty(8, dtype=torch.long), None, 1, -100,
                                                        torch.empty(()))),
    (torch.ops.aten._log_softmax_backward_data.default, lambda: (torch.empty(8, 10), torch.empty(8, 10), 1,
                                                                 torch.float32)),
    (torch.ops.aten._log_softmax_backward_data.default,
     lambda: (torch.empty(8, 10, dtype=torch.float16), torch.empty(8, 10, dtype=torch.float16), 1, torch.float32)),
    (torch.ops.aten._softmax_backward_data.default, lambda: (torch.empty(2, 3, 4), torch.empty(2, 3, 4), -1,
                                                             torch.float32)),
    (torch.ops.aten.ones_like.default, lambda: (torch.empty(()),)),
    (torch.ops.aten.zeros_like.default, lambda: (torch.empty(2, 10, 4)[:, 2:5],)),
    (torch.ops.aten.empty_like.default, lambda: (torch.empty(3, 1).expand(3, 4),)),
    (torch.ops.aten.div.Scalar, lambda: (torch.empty(2, 8, 1, 1).expand(2, 8, 7, 7), 49)),
    (torch.ops.aten.mul.Scalar, lambda: (torch.empty(4, 6), 0.5)),
    (torch.ops.aten.div_.Scalar, lambda: (torch.empty(4, 6), 0.5)),
    (torch.ops.aten.neg.default, lambda: (torch.empty(4, 6),)),
    (torch.ops.aten.convolution_backward.default,
     lambda: (torch.empty(2, 6, 4, 4), torch.empty(2, 3, 9, 9), torch.empty(6, 3, 3, 3), [6], [2, 2], [0, 0],
              [1, 1], False, [0, 0], 1, [True, True, True])),
    (torch.ops.aten.convolution_backward.default,  # grouped, no bias, the gradient expanded (a summed output)
     lambda: (torch.empty(2, 4, 1, 1).expand(2, 4, 5, 5), torch.empty(2, 4, 5, 5), torch.empty(4, 2, 1, 1), None,
              [1, 1], [0, 0], [1, 1], False, [0, 0], 2, [True, True, False])),
    (torch.ops.aten.max_pool2d_with_indices_backward.default,
     lambda: (torch.empty(2, 10, 4, 4)[:, 2:5], torch.empty(2, 3, 9, 9), [3, 3], [2, 2], [0, 0], [1, 1], False,
              torch.empty(2, 3, 4, 4, dtype=torch.long))),
    (torch.ops.aten.avg_pool2d_backward.default,
     lambda: (torch.empty(2, 3, 5, 5), torch.empty(2, 3, 9, 9), [3, 3], [2, 2], [1, 1], False, True, None)),
    (torch.ops.aten.avg_pool3d_backward.default,
     lambda: (torch.empty(1, 1, 7, 5, 6), torch.empty(1, 1, 7, 5, 6), [3, 1, 1], [1, 1, 1], [1, 0, 0], False, True,
              None)),
    (torch.ops.aten.constant_pad_nd.default, lambda: (torch.empty(1, 1, 6, 5, 5), [0, 0, 0, 0, 2, 2], 0.0)),
    (torch.ops.aten.constant_pad_nd.default, lambda: (torch.empty(2, 3, 4), [1, 2], 0.5)),
]


CASES = [
    # convolutions: strided, dilated, grouped, padded, 1-D and 3-D, channels-last input or weight (written
    # channels-last, as the CPU's kernels write them), 3-D channels-last
    (torch.ops.aten.convolution.default, lambda: (torch.empty(2, 8, 17, 13), torch.empty(16, 4, 3, 5), None,
                                                   [2, 1], [1, 2], [2, 1], False, [0, 0], 2)),
    (torch.ops.aten.convolution.default, lambda: (torch.empty(1, 4, 50), torch.empty(6, 4, 7), torch.empty(6),
                                                   [3], [0], [1], False, [0], 1)),
    (torch.ops.aten.convolution.default, lambda: (torch.empty(1, 2, 5, 9, 9), torch.empty(3, 2, 3, 3, 3), None,
                                                   [1, 2, 2], [1, 1, 1], [1, 1, 1], False, [0, 0, 0], 1)),
    (torch.ops.aten.convolution.default,
     lambda: (torch.empty(1, 8, 9, 9).to(memory_format=torch.channels_last), torch.empty(4, 8, 3, 3), None,
              [1, 1], [0, 0], [1, 1], False, [0, 0], 1)),
    (torch.ops.aten.convolution.default,
     lambda: (torch.empty(2, 8, 9, 9).to(memory_format=torch.channels_last), torch.empty(4, 8, 2, 2),
              torch.empty(4), [2, 2], [0, 0], [1, 1], False, [0, 0], 1)),
    (torch.ops.aten.convolution.default,
     lambda: (torch.empty(2, 8, 9, 9), torch.empty(16, 8, 3, 3).to(memory_format=torch.channels_last), None,
              [1, 1], [1, 1], [1, 1], False, [0, 0], 1)),
    (torch.ops.aten.convolution.default,
     lambda: (torch.empty(2, 8, 4, 6, 6).to(memory_format=torch.channels_last_3d), torch.empty(8, 8, 3, 3, 3),
              None, [1, 1, 1], [1, 1, 1], [1, 1, 1], False, [0, 0, 0], 1)),
    (torch.ops.aten.max_pool2d_with_indices.default, lambda: (torch.empty(1, 3, 10, 11), [3, 3], [2, 2], [1, 1],
                                                               [1, 1], True)),
    (torch.ops.aten.max_pool2d_with_indices.default, lambda: (torch.empty(1, 3, 13, 13), [3], [2], [0], [1], True)),
    (torch.ops.aten.avg_pool2d.default, lambda: (torch.empty(2, 3, 9, 7), [3, 2], [2, 2], [1, 0], True)),
    (torch.ops.aten.avg_pool3d.default, lambda: (torch.empty(1, 1, 7, 5, 6), [3, 1, 1], [1, 1, 1], [1, 0, 0])),
    (torch.ops.aten.avg_pool3d.default, lambda: (torch.empty(2, 3, 9, 9, 8), [2, 3, 3], [2, 2, 2], [0, 1, 1], True)),
    (torch.ops.aten._softmax.default, lambda: (torch.empty(2, 3, 4), -1, False)),
    (torch.ops.aten._log_softmax.default, lambda: (torch.empty(2, 3), 0, False)),
    (torch.ops.aten.mean.dim, lambda: (torch.empty(2, 3, 4, 5), [-1, -2], True)),
    (torch.ops.aten.sum.dim_IntList, lambda: (torch.empty(2, 3, 4, 5), [1])),
    (torch.ops.aten.cat.default, lambda: ([torch.empty(2, 3, 4), torch.empty(2, 5, 4)], 1)),
    (torch.ops.aten.cat.default, lambda: ([torch.empty(2, 3), torch.empty(0)], 0)),
    (torch.ops.aten.add.Tensor, lambda: (torch.empty(4, 1, 3), torch.empty(5, 1))),
    (torch.ops.aten.mul.Tensor, lambda: (torch.empty(2, 3), 2.5)),
    (torch.ops.aten.add_.Tensor, lambda: (torch.empty(2, 3, 4), torch.empty(3, 1))),
    (torch.ops.aten.addmm.default, lambda: (torch.empty(7), torch.empty(3, 5), torch.empty(5, 7))),
    (torch.ops.aten.mm.default, lambda: (torch.empty(3, 5), torch.empty(7, 5).t())),
    (torch.ops.aten._native_batch_norm_legit_no_training.default,
     lambda: (torch.empty(2, 4, 3, 3), torch.empty(4), torch.empty(4), torch.empty(4), torch.empty(4), 0.1, 1e-5)),
    (torch.ops.aten.hardtanh_.default, lambda: (torch.empty(2, 3), 0.0, 6.0)),
    (torch.ops.aten.leaky_relu.default, lambda: (torch.empty(2, 3, 4), 0.1)),
    (torch.ops.aten.leaky_relu_.default, lambda: (torch.empty(2, 3, 4), 0.1)),
    (torch.ops.aten.pow.Tensor_Scalar, lambda: (torch.empty(2, 3), 0.75)),
    (torch.ops.aten.pixel_unshuffle.default, lambda: (torch.empty(2, 5, 12, 6), 2)),
    (torch.ops.aten.pixel_unshuffle.default, lambda: (torch.empty(3, 1, 2, 9, 3), 3)),
    (torch.ops.aten.pixel_unshuffle.default,
     lambda: (torch.empty(1, 4, 4, 4).to(memory_format=torch.channels_last), 2)),
    (torch.ops.aten.pixel_shuffle.default, lambda: (torch.empty(2, 18, 3, 5), 3)),
    (torch.ops.aten.pixel_shuffle.default, lambda: (torch.empty(1, 8, 1, 1), 2)),
    (torch.ops.aten.native_layer_norm.default, lambda: (torch.empty(2, 197, 384), [384], torch.empty(384),
                                                       torch.empty(384), 1e-6)),
    (torch.ops.aten.native_layer_norm.default, lambda: (torch.empty(2, 8, 7, 7), [7, 7], None, None, 1e-5)),
    (torch.ops.aten.native_layer_norm.default, lambda: (torch.empty(3, 5, dtype=torch.bfloat16), [5],
                                                       torch.empty(5, dtype=torch.bfloat16), None, 1e-5)),
    (torch.ops.aten.native_layer_norm.default, lambda: (torch.empty(4, 6, dtype=torch.float16), [6], None,
                                                       None, 1e-5)),
    # a crop (negative padding): torch keeps the input's strides on size-1 dimensions, so it is left to torch
    (torch.ops.aten.constant_pad_nd.default, lambda: (torch.empty(1, 1, 10, 5, 5), [0, 0, 0, 0, -2, -2])),
    *TRAINING_CASES,
]


@pytest.mark.parametrize("func,make", TRAINING_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(TRAINING_CASES)])
def test_training_step_ops_are_stated(func, make):
    with torch.device("meta"):
        args = make()
    assert SHAPE_KERNELS[func](args, {}) is not None


@pytest.mark.parametrize("func,make", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_single_ops_agree(func, make):
    with torch.device("meta"):
        args = make()
    ours = SHAPE_KERNELS[func](args, {})
    _, expected = _reference(func, args, {})
    if ours is not None:
        assert _describe(ours) == _describe(expected)


@pytest.mark.parametrize("func,make", [
    (torch.ops.aten.convolution.default, lambda: (torch.empty(1, 3, 2, 2), torch.empty(4, 3, 3, 3), None,
                                                   [1, 1], [0, 0], [1, 1], False, [0, 0], 1)),
    (torch.ops.aten.convolution.default, lambda: (torch.empty(1, 5, 8, 8), torch.empty(4, 3, 3, 3), None,
                                                   [1, 1], [0, 0], [1, 1], False, [0, 0], 1)),
    (torch.ops.aten.addmm.default, lambda: (torch.empty(7), torch.empty(3, 5), torch.empty(6, 7))),
    (torch.ops.aten.add_.Tensor, lambda: (torch.empty(3, 1), torch.empty(2, 3, 4))),
    (torch.ops.aten.cat.default, lambda: ([torch.empty(2, 3), torch.empty(3, 3)], 1)),
    (torch.ops.aten.pixel_unshuffle.default, lambda: (torch.empty(1, 3, 7, 8), 2)),
    (torch.ops.aten.pixel_shuffle.default, lambda: (torch.empty(1, 6, 4, 4), 2)),
    (torch.ops.aten.native_layer_norm.default, lambda: (torch.empty(2, 5, 6), [5], None, None, 1e-5)),
    (torch.ops.aten.native_layer_norm.default, lambda: (torch.empty(2, 5, 6), [6], torch.empty(5), None, 1e-5)),
])
def test_invalid_inputs_are_left_to_torch(func, make):
    """Where torch raises, the shape kernel declines, so the user sees torch's own error."""
    with torch.device("meta"):
        args = make()
    assert SHAPE_KERNELS[func](args, {}) is None
    with pytest.raises(RuntimeError):
        func(*args)


def test_profiles_identical_with_and_without_shape_kernels():
    for name in ("googlenet", "se_resnet50", "lenet5", "xception"):
        fast = cnnprofile.profile(name, batch=3)
        with reference_kernels():
            slow = cnnprofile.profile(name, batch=3)
        assert fast == slow


def test_building_on_meta_gives_the_same_modules():
    spec = cnnprofile.get_model_spec("resnet50")
    with torch.device("meta"):
        plain = spec.build()
    with torch.device("meta"), building_on_meta():
        quick = spec.build()
    assert [(n, p.shape, p.dtype) for n, p in plain.named_parameters()] == \
        [(n, p.shape, p.dtype) for n, p in quick.named_parameters()]
    assert [(n, b.shape) for n, b in plain.named_buffers()] == [(n, b.shape) for n, b in quick.named_buffers()]


def test_building_on_meta_leaves_real_tensors_alone():
    with building_on_meta():
        layer = nn.Linear(3, 2)  # on the CPU: the initialiser must really run
    assert layer.weight.abs().sum() > 0


LIGHT = ("vgg16", "resnet50", "darknet19", "yolov2_voc")


@pytest.fixture(scope="module")
def loaded_after_each():
    """One fresh process profiles the models in turn and says after each whether torch._dynamo or sympy is
    loaded: a module once imported stays in sys.modules, so 'no' after a model holds for it and all before it."""
    code = ("import sys, cnnprofile\n"
            f"for model in {LIGHT!r}:\n"
            "    cnnprofile.profile(model)\n"
            "    print(model, 'torch._dynamo' in sys.modules or 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return dict(line.split() for line in out.stdout.splitlines())


@pytest.mark.parametrize("model", LIGHT)
def test_profiling_does_not_import_dynamo(model, loaded_after_each):
    """torch._dynamo costs about a second and 100 MiB at start-up; the two headline models must not load it, nor
    Darknet's leaky ReLU or YOLOv2's passthrough (pixel_unshuffle): their meta kernels import sympy."""
    assert loaded_after_each[model] == "False"
