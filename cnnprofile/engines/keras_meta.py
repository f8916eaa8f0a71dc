"""Keras 3 models on the torch backend, counted on the meta device into the same records as a torch module.

The pass is recorded through ``keras_bridge.KerasAsTorch``: its modules are the Keras layers (a Keras model has
no torch children) and its forward runs ``model.stateless_call`` inside ``keras_bridge.keras_on_meta()``, so
the meta engine records it as any module. Each op is counted with our formulas as the op it is: a Keras
convolution permutes NHWC to NCHW and back (``permute`` + ``clone``) around ``aten.convolution``, and batch
normalisation arrives as ``sub``/``rsqrt``/``mul``/``add``. This module turns that profile into Keras's terms:

- parameters are Keras's weights, trainable and non-trainable, as ``model.count_params()`` counts them: the
  batch-norm moving mean and variance are non-trainable weights (PyTorch keeps them as buffers, which are no
  parameters), and the engine note gives the split;
- rows of Keras's convolution, dense and pooling layers get the kind and anatomy of their torch counterparts;
- shapes are Keras's, channels-last (``Profile.channels_last``).
"""
from __future__ import annotations

from dataclasses import replace

from ..sources.keras_bridge import KerasAsTorch, is_keras, weight_name
from ..records import Profile

PARAMS_CONVENTION = ("parameters are the Keras model's weights, trainable and non-trainable, as "
                     "model.count_params() counts them: batch-norm moving mean and variance are non-trainable "
                     "weights and are counted (PyTorch keeps them as buffers, not parameters); biases and "
                     "normalisation affine weights included")


def keras_anatomy(layer) -> dict:
    """A Keras layer's kind and the facts of its label (``LayerRecord`` fields), as ``engines.base.anatomy``
    gives them for torch's modules."""
    name = type(layer).__name__
    if name in ("Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D",
                "DepthwiseConv2D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"):
        filters = getattr(layer, "filters", None)
        if filters is None:  # depthwise: channels x multiplier
            filters = int(layer.kernel.shape[-2]) * int(layer.depth_multiplier)
        return dict(kind="conv", kernel_size=tuple(layer.kernel_size), out_features=int(filters),
                    variant="transposed" if name.endswith("Transpose") else "")
    pools = {"MaxPooling": "max", "AveragePooling": "avg", "GlobalMaxPooling": "adaptive-max",
             "GlobalAveragePooling": "adaptive-avg"}
    for prefix, variant in pools.items():
        if name.startswith(prefix) and name[len(prefix):] in ("1D", "2D", "3D"):
            kernel = tuple(layer.pool_size) if hasattr(layer, "pool_size") else ()
            return dict(kind="pool", kernel_size=kernel, variant=variant)
    if name in ("Dense", "EinsumDense") and getattr(layer, "units", None):
        return dict(kind="fc", out_features=int(layer.units))
    return dict(kind="other")


def as_torch(model) -> KerasAsTorch:
    """The module the meta engine records for a Keras model: every weight a parameter, as Keras counts them."""
    return KerasAsTorch(model, statistics_as_buffers=False)


def keras_profile(prof: Profile, traced, model) -> Profile:
    """``prof`` (the meta engine's profile of ``as_torch(model)``) in Keras's terms (see the module docstring)."""
    import keras

    rec = traced.recording
    read = {id(t) for node in rec.nodes for t in node.inputs if id(t) in rec.params}
    unread = {info[0]: info for pid, info in rec.params.items() if pid not in read}
    layers, moved, moved_bytes = [], 0, 0
    for row in prof.layers:
        call = rec.calls[row.call_path[-1]] if row.call_path else None
        layer = call.module if call is not None else None
        if layer is None or not is_keras(layer) or layer is model or row.type != type(layer).__name__:
            layers.append(row)
            continue
        anatomy = keras_anatomy(layer)
        extra = dict(anatomy) if anatomy["kind"] != "other" else {}
        # Weights no op read belong to their layer: Keras's Normalization turns its mean and variance into
        # constants when it is built, and the forward pass reads those.
        own = [unread.pop(weight_name(v)) for v in getattr(layer, "weights", ()) if weight_name(v) in unread]
        if own:
            moved += sum(numel for _, numel, _ in own)
            moved_bytes += sum(nbytes for _, _, nbytes in own)
            extra.update(params=row.params + sum(numel for _, numel, _ in own),
                         bias_params=row.bias_params + sum(n for name, n, _ in own if name.endswith("bias")))
        layers.append(replace(row, **extra) if extra else row)
    totals = replace(prof.totals, params=sum(r.params for r in layers), bias_params=sum(r.bias_params for r in layers),
                     param_bytes=prof.totals.param_bytes + moved_bytes)
    frozen = sum(int(v.value.numel()) for v in model.non_trainable_weights)
    total = model.count_params()
    split = f"Keras weights: {total - frozen:,} trainable + {frozen:,} non-trainable"
    return replace(prof, layers=tuple(layers), totals=totals, unused_params=prof.unused_params - moved,
                   conventions=replace(prof.conventions, params=PARAMS_CONVENTION),
                   engine_note="; ".join(n for n in (prof.engine_note, split) if n),
                   channels_last=keras.config.image_data_format() == "channels_last")
