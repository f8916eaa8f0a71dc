"""The module calls of a forward pass: forward hooks on every module keep the stack of calls in progress, so
each dispatched op can be attributed to the call that ran it."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

from torch import nn

from ..outputs import main_shape


@dataclass
class Call:
    id: int
    module: nn.Module
    name: str  # qualified name; "" for the model itself
    parent: Optional[int]
    depth: int
    path: tuple  # call ids from the model down to this call
    output_shape: tuple = ()
    children: int = 0
    output: Any = None  # what the module returned (as recorded: shape-only stand-ins for real tensors)
    input_shape: tuple = ()  # the shape of its first tensor argument: what a layer that refuses its input was given


def output_shape(value) -> tuple:
    """The shape of the main output of a module: the first tensor of a tensor, nested tuples/lists/dicts of
    them or a dataclass (``cnnprofile.outputs``)."""
    return main_shape(value)


class ModelRaised(Exception):
    """The model's forward raised; carries the module call that was running."""

    def __init__(self, call: Optional[Call], error: BaseException):
        super().__init__(str(error))
        self.call = call
        self.error = error


class StopRecording(Exception):
    """Raised by a hook to end a forward pass early; passes through ``CallLog.hooked`` as it is."""


class CallLog:
    """Forward hooks on every module that keep the stack of module calls in progress.

    ``on_start``/``on_end`` are told about each call as it begins (with its arguments) and ends (with what it
    returned), so a recorder can interleave calls with the ops it records.
    """

    def __init__(self, model: nn.Module, on_start: Callable[[Call, Any], None] = lambda call, args: None,
                 on_end: Callable[[Call, Any], None] = lambda call, output: None):
        self.model = model
        self.calls: list[Call] = []
        self.stack: list[Call] = []
        self._names = {id(m): n for n, m in model.named_modules()}
        self._on_start, self._on_end = on_start, on_end

    def _pre(self, module, args):
        parent = self.stack[-1] if self.stack else None
        call = Call(id=len(self.calls), module=module, name=self._names.get(id(module), "?"),
                    parent=parent.id if parent else None, depth=parent.depth + 1 if parent else 0,
                    path=(parent.path if parent else ()) + (len(self.calls),), input_shape=main_shape(args))
        if parent is not None:
            parent.children += 1
        self.calls.append(call)
        self.stack.append(call)
        self._on_start(call, args)

    def _post(self, module, args, output):
        call = self.stack.pop()
        call.output_shape = output_shape(output)
        self._on_end(call, output)

    @contextmanager
    def hooked(self) -> Iterator["CallLog"]:
        """Hooks installed for the duration; an exception from the model becomes ``ModelRaised``."""
        handles = [h for m in self.model.modules()
                   for h in (m.register_forward_pre_hook(self._pre), m.register_forward_hook(self._post))]
        try:
            yield self
        except (ModelRaised, StopRecording):
            raise
        except Exception as error:  # the model's own code raised: report where
            raise ModelRaised(self.stack[-1] if self.stack else None, error) from error
        finally:
            for h in handles:
                h.remove()
