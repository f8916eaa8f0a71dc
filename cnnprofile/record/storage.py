"""Storage lifetimes on the meta device: which bytes are alive at every moment of a step, and at its peak.

The recorder shows this tracker every ATen op (``observe``). Each output whose storage is new is a block: its size
is the storage's ``nbytes()`` (a view or an in-place result shares an existing storage and allocates nothing). A weakref
finalizer on the storage's Python object frees the block when the last reference goes, whoever held it: a
local in the model's ``forward``, the autograd graph's saved tensors, a ``.grad``, an optimizer's state. The
storage's Python object lives exactly as long as the storage itself (torch preserves it), so the finalizer
runs when the real allocator would free the memory.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch.utils._pytree import tree_leaves


# What a block is, for the breakdown. "activation" covers forward outputs and temporaries of every phase.
CATEGORIES = ("weights", "buffers", "input", "gradients", "optimizer_state", "activations", "workspace")



@dataclass
class Block:
    nbytes: int  # what the target allocator reserves for it (rounded up to its granularity)
    category: str
    layer: str  # the module call (qualified name) or phase that created it
    phase: str  # "before", "forward", "backward", "optimizer"
    unit: object = None  # what ``unit()`` said when it was created (the step's per-call key), if given


class StorageTracker:
    """Running total and peak of live storage bytes, with the blocks alive at the peak: an observer of the
    recorder (``recorder.recording(observers=[tracker.observe])``), told of every op's outputs.

    ``where()`` names the layer running now, ``unit()`` (optional) the finer key blocks also record;
    ``round_to`` is the target allocator's block granularity.
    Blocks that exist before the step are adopted with ``adopt``.
    """

    def __init__(self, where: Callable[[], str], round_to: int = 1, unit: Optional[Callable] = None):
        self.where = where
        self.unit = unit
        self.round_to = round_to
        self.phase = "before"
        self.blocks: dict[int, Block] = {}  # live blocks by key
        self._known: dict[int, int] = {}  # id(storage) -> key, dropped by the storage's finalizer (as StorageLog's)
        self._next = 0
        self.total = 0
        self.peak = 0
        self.peak_blocks: dict[int, Block] = {}
        self.peak_phase = "before"
        self.peak_layer = ""

    def rounded(self, nbytes: int) -> int:
        r = self.round_to
        return -(-nbytes // r) * r if r > 1 else nbytes

    def key_of(self, t: torch.Tensor) -> Optional[int]:
        return self._known.get(id(t.untyped_storage()))

    def adopt(self, t: torch.Tensor, category: str, layer: str = "") -> Optional[int]:
        """Track ``t``'s storage (if new) as ``category``; returns its key."""
        if not isinstance(t, torch.Tensor) or t.device.type != "meta":
            return None  # optimizers keep their step counters as CPU scalars: not the target's memory
        st = t.untyped_storage()
        key = self._known.get(id(st))
        if key is not None:
            return key
        key = self._next
        self._next += 1
        if not layer:
            layer = self.where() if self.phase in ("forward", "backward") else f"({self.phase})"
        running = self.unit is not None and self.phase in ("forward", "backward")
        block = Block(self.rounded(st.nbytes()), category, layer, self.phase, self.unit() if running else None)
        self._known[id(st)] = key
        self.blocks[key] = block
        weakref.finalize(st, self._free, key, id(st))
        self.total += block.nbytes
        if self.total > self.peak:
            self.peak = self.total
            self.peak_blocks = dict(self.blocks)
            self.peak_phase, self.peak_layer = self.phase, block.layer
        return key

    def transient(self, nbytes: int, layer: str) -> None:
        """A block that exists only while one kernel runs (a library workspace): it can make the peak."""
        nbytes = self.rounded(nbytes)
        if self.total + nbytes > self.peak:
            self.peak = self.total + nbytes
            self.peak_blocks = dict(self.blocks)
            self.peak_blocks[-1] = Block(nbytes, "workspace", layer, self.phase)
            self.peak_phase, self.peak_layer = self.phase, layer

    def recategorize(self, t: torch.Tensor, category: str) -> None:
        key = self.key_of(t)
        if key is not None and key in self.blocks:
            self.blocks[key].category = category

    def _free(self, key: int, ident: int) -> None:
        del self._known[ident]
        block = self.blocks.pop(key, None)
        if block is not None:
            self.total -= block.nbytes

    def live_bytes(self, category: Optional[str] = None) -> int:
        return sum(b.nbytes for b in self.blocks.values() if category is None or b.category == category)

    def observe(self, func, args, kwargs, out) -> None:
        # Backward's results are temporaries until they become a parameter's .grad (recategorized then).
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor):
                self.adopt(t, "activations")


class StorageLog:
    """The storage lifetimes of a recorded pass, as a log an analysis replays (``analyses.memory.replay``):
    ``events`` in time order are ``("alloc", key, nbytes, category, node, output, layer)``, ``("op", node)`` once
    an op's outputs are in, and ``("free", key)``. ``nbytes`` is the storage's exact size (an allocator's
    rounding is the analysis's question); ``node`` is the recorded op that allocated it and ``output`` which of
    its outputs it is (node None: it existed before the pass, and ``layer`` names it: a parameter, a buffer,
    "input").

    Frees come from a weakref finalizer on each storage's Python object, which lives exactly as long as the
    storage, so the log sees a tensor die when its last reference goes: the recorder must record stand-ins
    (``stand_ins="all"``), or keeping the model's own tensors would keep every storage alive. The log is closed
    when the pass ends; what dies later is not part of it.
    """

    def __init__(self):
        self.events: list = []
        # id(storage) -> key, dropped by the storage's finalizer before its id can be reused (torch's
        # WeakIdKeyDictionary builds a Python key object per lookup, too slow for every op of a pass)
        self._known: dict[int, int] = {}
        self._next = 0
        self.closed = False

    def adopt(self, t: torch.Tensor, category: str, node: Optional[int] = None, output: int = 0,
              layer: str = "") -> None:
        if self.closed or not isinstance(t, torch.Tensor) or t.device.type != "meta":
            return  # a CPU scalar is not the target device's memory
        st = t.untyped_storage()
        if id(st) in self._known:
            return
        key = self._next
        self._next += 1
        self._known[id(st)] = key
        self.events.append(("alloc", key, st.nbytes(), category, node, output, layer))
        weakref.finalize(st, self._free, key, id(st))

    def op(self, node: Optional[int], out) -> None:
        """The op recorded as ``node`` (None: not recorded) returned ``out``."""
        if self.closed:
            return
        for i, t in enumerate(t for t in tree_leaves(out) if isinstance(t, torch.Tensor)):
            self.adopt(t, "activations", node, i)
        self.events.append(("op", node))

    def _free(self, key: int, ident: int) -> None:
        del self._known[ident]
        if not self.closed:
            self.events.append(("free", key))

    def close(self) -> None:
        self.closed = True
