"""What a model is given: the shapes and dtypes of its positional and keyword inputs.

``Inputs`` is a plain record of ``TensorSpec(shape, dtype)`` leaves; positional inputs may nest in tuples,
lists and dicts (a model taking a dict of tensors). It is built from what the user writes:

- ``--input`` specs, one per positional input, ``NAME=SHAPE`` for a keyword input, an optional ``:dtype``
  suffix: ``1x3x224x224``, ``1x128:int64``, ``mask=1x128:bool``; a shape has any rank;
- in the API also a shape tuple, several shape tuples, example tensors (only their shape and dtype are read;
  they are never touched), nested tuples/dicts of either, or an ``Inputs``.

A spec without ``:dtype`` takes the profile's dtype (``--dtype``), as the parameters do. The shorthand rule:
a model with a known native input (zoo, torchvision, timm, a file declaring its size) may be given each input
without its batch dimension (its native rank minus one, e.g. CxHxW) and gets batch 1, or ``--batch``; for a
user's own module every shape is taken as written. ``--batch`` sets the first dimension of every input.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union

import torch

from .errors import InputError

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
# What an input may be besides the floating types of the model: token ids, masks, float64 signals.
INPUT_DTYPES = {**DTYPES, "float64": torch.float64, "int64": torch.int64, "int32": torch.int32,
                "int16": torch.int16, "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool}
_ALIASES = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16", "float": "float32",
            "double": "float64", "long": "int64", "int": "int32"}
_SPEC = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=)?\s*(?P<shape>[^:=]*?)\s*(?::\s*(?P<dtype>\S*))?\s*")
_SHAPE = re.compile(r"\d+(\s*[x×,]\s*\d+)*")


def parse_dtype(name: str) -> torch.dtype:
    """A model's dtype (``--dtype``): a floating type."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in DTYPES:
        raise InputError(f"unsupported dtype {name!r}; choose one of {', '.join(DTYPES)}")
    return DTYPES[key]


def parse_input_dtype(name: str, spec: str = "") -> torch.dtype:
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in INPUT_DTYPES:
        where = f"input {spec!r}: " if spec else ""
        raise InputError(f"{where}unsupported dtype {name!r}; choose one of {', '.join(INPUT_DTYPES)}")
    return INPUT_DTYPES[key]


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


@dataclass(frozen=True)
class TensorSpec:
    shape: tuple
    dtype: Optional[torch.dtype] = None  # None: the profile's dtype (floating, like the parameters)

    def text(self) -> str:
        return "x".join(map(str, self.shape)) + (f":{dtype_name(self.dtype)}" if self.dtype is not None else "")


@dataclass(frozen=True)
class Inputs:
    """Positional inputs (``args``, leaves may nest in tuples/lists/dicts) and keyword inputs (``kwargs``)."""

    args: tuple = ()
    kwargs: Mapping = field(default_factory=dict)

    def leaves(self) -> list:
        """[(name, TensorSpec)] in call order: "x" for a lone input, else "0", "1", "0.a", then keywords."""
        out: list = []
        _walk(self.args, "", out)
        if len(out) == 1 and not self.kwargs:
            out = [("x", out[0][1])]
        for k, v in self.kwargs.items():
            _walk(v, k, out)
        return out

    @property
    def main(self) -> Optional[TensorSpec]:
        leaves = self.leaves()
        return leaves[0][1] if leaves else None

    def text(self) -> str:
        leaves = self.leaves()
        if len(leaves) == 1 and not self.kwargs:
            return leaves[0][1].text()
        return ", ".join(f"{n}={s.text()}" for n, s in leaves)

    def with_batch(self, batch: int) -> "Inputs":
        return self.map(lambda s: TensorSpec((batch, *s.shape[1:]), s.dtype) if s.shape else s)

    def map(self, fn) -> "Inputs":
        return Inputs(tuple(_map(a, fn) for a in self.args), {k: _map(v, fn) for k, v in self.kwargs.items()})

    def make(self, device: Union[str, torch.device], dtype: torch.dtype, *, real: bool = False,
             int_high: int = 2) -> tuple:
        """(args, kwargs) of tensors: empty ones on ``device`` (the meta device), or random ones when ``real``.

        Real integer inputs are drawn from ``[0, int_high)`` (token ids below the embedding size), real
        floating ones from a standard normal, real booleans are all True (an attention mask that masks nothing).
        """
        def tensor(s: TensorSpec) -> torch.Tensor:
            dt = s.dtype or dtype
            if not real:
                return torch.empty(s.shape, dtype=dt, device=device)
            if dt == torch.bool:
                return torch.ones(s.shape, dtype=dt, device=device)
            if dt.is_floating_point:
                return torch.randn(s.shape, device=device).to(dt)
            return torch.randint(0, max(1, int_high), s.shape, dtype=dt, device=device)

        return (tuple(_map(a, tensor) for a in self.args), {k: _map(v, tensor) for k, v in self.kwargs.items()})


def _walk(value, prefix: str, out: list) -> None:
    if isinstance(value, TensorSpec):
        out.append((prefix, value))
    elif isinstance(value, dict):
        for k, v in value.items():
            _walk(v, f"{prefix}.{k}" if prefix else str(k), out)
    else:
        for i, v in enumerate(value):
            _walk(v, f"{prefix}.{i}" if prefix else str(i), out)


def _map(value, fn):
    if isinstance(value, TensorSpec):
        return fn(value)
    if isinstance(value, dict):
        return {k: _map(v, fn) for k, v in value.items()}
    return type(value)(_map(v, fn) for v in value) if isinstance(value, list) else tuple(_map(v, fn) for v in value)


# --- parsing -----------------------------------------------------------------------------------------------

def parse_shape(text: str, spec: Optional[str] = None) -> tuple:
    """'1x3x224x224' -> (1, 3, 224, 224): positive integers separated by 'x', any rank."""
    if not _SHAPE.fullmatch((text or "").strip()):
        raise InputError(f"input {spec or text!r}: malformed shape {text!r}; expected positive integers separated "
                         "by 'x', e.g. 1x3x224x224 or 1x128:int64")
    return check_shape(tuple(int(d) for d in re.split(r"\s*[x×,]\s*", text.strip())), spec or text)


def check_shape(dims: tuple, text: Optional[str] = None) -> tuple:
    shown = text if text is not None else "x".join(map(str, dims))
    if not dims:
        raise InputError(f"input {shown!r}: a shape needs at least one dimension")
    if any(d <= 0 for d in dims):
        raise InputError(f"input {shown!r}: every dimension must be a positive integer")
    return tuple(dims)


def parse_input(text: str) -> tuple:
    """'mask=1x128:bool' -> ('mask', TensorSpec((1, 128), torch.bool)); the name is None for a positional input."""
    m = _SPEC.fullmatch(text or "")
    if m is None or (text or "").count("=") > 1:
        raise InputError(f"input {text!r}: malformed; expected [NAME=]SHAPE[:DTYPE], e.g. mask=1x128:bool")
    dtype = m.group("dtype")
    if dtype is not None and not dtype:
        raise InputError(f"input {text!r}: empty dtype after ':'")
    return m.group("name"), TensorSpec(parse_shape(m.group("shape"), text),
                                       parse_input_dtype(dtype, text) if dtype else None)


def from_specs(specs) -> Inputs:
    """Inputs from ``--input`` texts: positional ones in order, keyword ones by name."""
    args, kwargs = [], {}
    for text in specs:
        name, spec = parse_input(text)
        if name is None:
            if kwargs:
                raise InputError(f"input {text!r}: positional inputs must come before keyword inputs")
            args.append(spec)
        elif name in kwargs:
            raise InputError(f"input {text!r}: keyword input {name!r} given twice")
        else:
            kwargs[name] = spec
    return Inputs(tuple(args), kwargs)


def _is_shape(value) -> bool:
    return isinstance(value, (tuple, list, torch.Size)) and all(isinstance(d, int) and not isinstance(d, bool)
                                                                 for d in value)


def _leaf(value) -> Any:
    if isinstance(value, TensorSpec):
        return value
    if isinstance(value, torch.Tensor):  # read, never touched: floating examples follow the profile's dtype
        return TensorSpec(tuple(value.shape), None if value.is_floating_point() else value.dtype)
    if isinstance(value, str):
        name, spec = parse_input(value)
        if name is not None:
            raise InputError(f"input {value!r}: a keyword input belongs in the keyword inputs, not in a nest")
        return spec
    if _is_shape(value):
        return TensorSpec(check_shape(tuple(int(d) for d in value)))
    if isinstance(value, dict):
        return {k: _leaf(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_leaf(v) for v in value) if isinstance(value, list) else tuple(_leaf(v) for v in value)
    raise InputError(f"cannot read an input from {type(value).__name__}; give a shape, a tensor or a spec string")


def to_inputs(value, kwargs: Optional[Mapping] = None) -> Optional[Inputs]:
    """Whatever the API or the CLI was given -> ``Inputs`` (None when nothing was given).

    One shape (a tuple of ints, a string, a tensor) is one positional input; a list or tuple of them is one
    input each; a list of strings is read like repeated ``--input`` options.
    """
    if value is None and not kwargs:
        return None
    if isinstance(value, Inputs):
        base = value
    elif value is None:
        base = Inputs()
    elif isinstance(value, str):
        base = from_specs([value])
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        base = from_specs(value)
    elif isinstance(value, (torch.Tensor, TensorSpec)) or _is_shape(value):
        base = Inputs((_leaf(value),))
    elif isinstance(value, (tuple, list)):
        base = Inputs(tuple(_leaf(v) for v in value))
    elif isinstance(value, dict):
        base = Inputs((), {k: _leaf(v) for k, v in value.items()})
    else:
        raise InputError(f"cannot read inputs from {type(value).__name__}")
    if kwargs:
        base = Inputs(base.args, {**base.kwargs, **{k: _leaf(v) for k, v in kwargs.items()}})
    return base


def resolve_inputs(native: Optional[Inputs], given, batch: Optional[int] = None) -> Inputs:
    """The inputs to profile: ``given`` (completed by the shorthand rule) or else ``native``; ``batch`` sets N."""
    if batch is not None and (not isinstance(batch, int) or batch <= 0):
        raise InputError(f"batch size must be a positive integer, got {batch}")
    inputs = to_inputs(given)
    if inputs is None:
        if native is None:
            raise InputError("no input given and the model declares none; pass --input SHAPE (input_size= in Python)")
        inputs = native
    elif native is not None:
        inputs = _complete(inputs, native, batch or 1)
    return inputs.with_batch(batch) if batch is not None else inputs


def _complete(inputs: Inputs, native: Inputs, batch: int) -> Inputs:
    """The shorthand: an input one dimension short of the native one's rank gets a batch dimension."""
    known = dict(native.leaves())
    ranks = {len(s.shape) for s in known.values()}

    def fill(name: str, s: TensorSpec) -> TensorSpec:
        ref = known.get(name)
        rank = len(ref.shape) if ref is not None else (ranks.pop() if len(ranks) == 1 else None)
        if ref is None and rank is not None:
            ranks.add(rank)
        return TensorSpec((batch, *s.shape), s.dtype) if rank is not None and len(s.shape) == rank - 1 else s

    leaves = inputs.leaves()
    done = iter(fill(n, s) for n, s in leaves)
    return inputs.map(lambda _: next(done))


# --- the model's side --------------------------------------------------------------------------------------

def check_signature(module, inputs: Inputs, name: str) -> None:
    """One-line errors for keyword inputs ``forward`` does not take, and for too few or too many inputs."""
    import inspect

    try:
        sig = inspect.signature(module.forward)
    except (TypeError, ValueError):  # a builtin or C++ forward: nothing to check against
        return
    params = list(sig.parameters.values())
    takes_any = any(p.kind == p.VAR_KEYWORD for p in params)
    named = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for key, spec in inputs.kwargs.items():
        if not takes_any and key not in named:
            raise InputError(f"input {key}={_text(spec)}: {name}.forward() takes no keyword {key!r}"
                             + (f"; it takes {', '.join(named)}" if named else ""))
    try:
        sig.bind(*inputs.args, **inputs.kwargs)
    except TypeError:
        positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        required = [n for n in positional if sig.parameters[n].default is inspect.Parameter.empty
                    and n not in inputs.kwargs]
        given = inputs.text() or "nothing"
        if len(inputs.args) < len(required):
            raise InputError(f"{name}.forward() needs {len(required)} input(s) ({', '.join(required)}), given "
                             f"{len(inputs.args)} ({given}): pass --input once per input, NAME=SHAPE for a "
                             "keyword") from None
        raise InputError(f"{name}.forward({', '.join(positional)}) cannot take {given}") from None


def _text(value) -> str:
    return value.text() if isinstance(value, TensorSpec) else "(nested)"


def integer_high(module) -> int:
    """Real integer inputs are drawn below this: the first embedding's size (token ids), else 2."""
    from torch import nn

    for m in module.modules():
        if isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
            return int(m.num_embeddings)
    return 2
