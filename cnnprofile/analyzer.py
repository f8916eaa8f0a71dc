"""``profile()``: the one front door. It resolves a model spec, a ``ModelSource`` or a user's ``nn.Module``,
records one pass with the chosen engine (``cnnprofile.engines``) and reads every column asked for from that
one recording (``analyze``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Union

from .engines import get_engine
from .inputs import parse_dtype
from .record.collector import collector_paused

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .devices import DevicePeak
    from .record.run import Traced
    from .records import Profile
    from .sources import ModelSource


@collector_paused()
def analyze(model: Union[str, "ModelSource", "nn.Module"], input_size=None, *, batch: Optional[int] = None,
            dtype: Union[str, "torch.dtype"] = "float32", kwargs: Optional[dict] = None,
            engine: Optional[str] = None, formulas: Optional[dict] = None, rf: bool = False,
            intensity: bool = False, device: Optional["DevicePeak"] = None,
            reparam: bool = False, lifetimes: bool = False) -> tuple["Profile", "Traced"]:
    """(profile, recording) of ``model``: ``profile()``'s arguments, plus the optional columns read from the
    same recording: ``rf`` (receptive fields), ``intensity`` (bytes moved) and ``device`` (the roofline on a
    ``devices.DevicePeak``). The meta and real engines count the recording they made; fvcore counts with its
    own pass, and the columns are then read from a meta recording of the same module and input. ``reparam``
    profiles the deployed form (``sources.deploy``). ``lifetimes`` logs when each storage of the meta
    recording is allocated and freed, for the inference peak (``analyses.memory.replay``) from the same pass."""
    import torch

    from .analyses.counts import op_costs
    from .analyses.enrich import enrich
    from .engines.keras_meta import as_torch, keras_profile
    from .errors import InputError
    from .sources.keras_bridge import check_keras_dtype, is_keras
    from .record.run import record_module
    from .sources import ModelSource, module_and_inputs, resolve_model

    if isinstance(model, str):
        model = resolve_model(model, kwargs)
    note = ""
    if engine is None:
        engine = "real" if isinstance(model, ModelSource) and model.real_reason else "meta"
        note = model.real_reason if engine == "real" else ""
    counter = get_engine(engine)
    dtype = parse_dtype(dtype) if isinstance(dtype, str) else dtype
    with torch.random.fork_rng(devices=[]):  # the caller's random state is left as it was
        torch.manual_seed(0)  # real runs: the same random weights and inputs, so data-dependent shapes repeat
        if reparam:
            from .sources.deploy import deployed_model

            model = deployed_model(model, input_size, batch, kwargs, device=counter.build_device)
        module, inputs, name, _ = module_and_inputs(model, input_size, batch, kwargs, device=counter.build_device)
        name = name or type(module).__name__
        keras_model = None
        if is_keras(module):  # its layers are no torch children: recorded through a torch view of them
            if engine != "meta":
                raise InputError(f"{name}: Keras models are counted on the meta device only (engine 'meta')")
            if rf:
                raise InputError(f"{name}: receptive fields of Keras models are not computed")
            check_keras_dtype(module, dtype, name)
            keras_model, module = module, as_torch(module)
        if counter.records:
            note = note or ("asked for: a real forward pass on the CPU" if engine == "real" else "")
            traced = counter.trace(module, inputs, dtype=dtype, name=name, note=note, lifetimes=lifetimes)
            costs = op_costs(traced.recording, formulas)
            prof = counter.profile_of(traced, costs=costs)
        else:
            if len(inputs.leaves()) != 1 or inputs.kwargs:
                raise InputError(f"engine {engine!r} takes one positional input; {name} was given {inputs.text()}")
            prof = counter.count(module, inputs.main.shape, dtype=dtype, name=name, formulas=formulas)
            traced = costs = None
            if rf or intensity or device is not None or lifetimes:
                traced = record_module(module, inputs, dtype=dtype, name=name, lifetimes=lifetimes)
    if rf or intensity or device is not None:
        prof = enrich(prof, traced.recording, rf=rf, intensity=intensity, device=device, costs=costs)
    if keras_model is not None:
        prof = keras_profile(prof, traced, keras_model)
    return prof, traced


def profile(model: Union[str, "ModelSource", "nn.Module"], input_size=None, *, batch: Optional[int] = None,
            dtype: Union[str, "torch.dtype"] = "float32", kwargs: Optional[dict] = None,
            engine: Optional[str] = None, formulas: Optional[dict] = None, rf: bool = False,
            intensity: bool = False, device: Optional["DevicePeak"] = None, reparam: bool = False) -> "Profile":
    """Profile a model by name or spec (``"resnet50"``, ``"torchvision:resnet50"``, ``"file.py:build"``; see
    ``cnnprofile.sources``), a resolved ``ModelSource`` or any ``nn.Module`` (left exactly as it was; a
    ``torch.compile`` or ``DataParallel`` wrapper is profiled through the module it wraps).

    ``input_size`` is the input: a shape of any rank, a string such as ``"1x3x224x224"`` or ``"1x128:int64"``,
    a list of ``--input`` strings (``"mask=1x128:bool"`` for a keyword input), example tensors (only their
    shape and dtype are read), nested tuples/dicts of these, or ``cnnprofile.inputs.Inputs``. A named model
    defaults to its native input and may be given each shape without its batch; a module's shapes are taken as
    written. ``batch`` sets N of every input. ``kwargs`` go to the model's builder. ``engine`` is one of
    ``cnnprofile.engines.ENGINES``; by default "meta", or "real" for models with data-dependent shapes
    (detection). ``formulas`` maps op names (``"aten.gelu"``, ``"mylib.my_op"``) or ops
    (``torch.ops.mylib.my_op``) to ``fn(args, kwargs, out) -> Cost``, adding to or replacing the registry's
    formulas for this call (see ``cnnprofile.register_formula`` to add them for good). ``rf``, ``intensity``
    and ``device`` add the receptive-field, memory-traffic and roofline columns, from the same single pass.
    ``reparam`` profiles the network as deployed: re-parameterised (RepVGG, MobileOne, FastViT...) and with
    every batch norm that reads only a convolution folded into it (``cnnprofile.sources.deploy``); a module
    given is copied, never changed.
    """
    return analyze(model, input_size, batch=batch, dtype=dtype, kwargs=kwargs, engine=engine, formulas=formulas,
                   rf=rf, intensity=intensity, device=device, reparam=reparam)[0]


__all__ = ["analyze", "profile"]
