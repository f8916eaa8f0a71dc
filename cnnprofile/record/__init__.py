"""One recorded pass of a model: every ATen op with the tensors it read and wrote and the module call that ran it
(``recorder``), the module-call hooks (``calls``), the stand-ins for weights and the one-line failure
(``run``), storage lifetimes (``storage``) and the guard that leaves the user's module as found (``guard``).
Nothing here computes a cost: analyses read the recording."""
