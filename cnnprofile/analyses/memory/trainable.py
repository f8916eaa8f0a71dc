"""Which parameters a training step updates: ``--trainable`` / ``--freeze`` globs on parameter names."""
from __future__ import annotations

import fnmatch
from typing import Iterable, Optional, Sequence

from ...errors import InputError


def ordered_rules(trainable: Optional[Iterable[str]] = None, freeze: Optional[Iterable[str]] = None,
                  rules: Optional[Sequence[tuple]] = None) -> list:
    """The rules as one ordered list of ("trainable"|"freeze", glob). ``rules`` (command-line order) wins;
    otherwise the ``trainable`` globs come first, then the ``freeze`` ones."""
    if rules is not None:
        return [(kind, pattern) for kind, pattern in rules]
    return [("trainable", p) for p in trainable or ()] + [("freeze", p) for p in freeze or ()]


def resolve_trainable(named_requires_grad: dict, rules: list) -> set:
    """The names of the trainable parameters.

    Each parameter starts as the model has it (``requires_grad``), except that when the first rule is
    ``trainable`` everything starts frozen (``--trainable 'fc.*'`` means "only the head"). Then every rule that
    matches a name sets it; the last match wins. A glob that matches no parameter is an error.
    """
    names = list(named_requires_grad)
    first_trainable = bool(rules) and rules[0][0] == "trainable"
    state = {n: (False if first_trainable else bool(rg)) for n, rg in named_requires_grad.items()}
    for kind, pattern in rules:
        if kind not in ("trainable", "freeze"):
            raise InputError(f"unknown rule {kind!r}; expected trainable or freeze")
        matched = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not matched:
            example = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            raise InputError(f"--{kind} {pattern!r} matches no parameter (names look like: {example})")
        for n in matched:
            state[n] = kind == "trainable"
    return {n for n, on in state.items() if on}
