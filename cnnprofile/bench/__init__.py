"""``cnnprofile bench``: honest latency and throughput of real models on a GPU or CPU.

Modules: ``results`` (the JSON-lines contract read by ``cnnprofile report``), ``stats`` (pure statistics),
``timers`` (CUDA events / wall clock), ``peaks`` (peak TFLOP/s registry), ``env`` (environment capture),
``runner`` (the sweep).
"""
