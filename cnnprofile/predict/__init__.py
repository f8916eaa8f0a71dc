"""Latency and throughput predicted from a model's recorded kernels and a per-device calibration."""
