"""Arithmetic of the training rows: FLOPs of the model per image and the CPU's peak.

* **Model.** Counted from the layers (multiply-adds = 2 FLOPs): a ``Conv2D`` costs
  ``2 · H_out · W_out · k² · C_in · C_out``, a ``Conv2DTranspose`` the same with the *input*
  spatial size (each input pixel scatters a k×k×C_out patch), a ``Dense`` ``2 · n_in · n_out``.
  Activations, normalisation and the loss are left out (a few % at most). A training step costs
  about 3× the forward pass (forward, gradients of the activations, gradients of the weights).
* **CPU peak.** ``cores × clock × FLOPs per cycle`` with fp32 FLOPs per cycle and core from the
  widest vector FMA the CPU reports: AVX-512 (two 512-bit FMA pipes: 64), AVX2 + FMA (two 256-bit
  pipes: 32), else SSE (8). The clock is the highest the kernel reports (``cpu MHz`` of
  ``/proc/cpuinfo`` or psutil's maximum); cores are those this process may use. It is an upper
  bound: real kernels rarely pass 60–70 % of it.
"""

from __future__ import annotations

import os


def forward_flops(model) -> float:
    """FLOPs of one forward pass of ``model`` (an encoder, a decoder or a whole AE) per image."""
    import keras

    total = 0.0
    layers = []
    for sub in (getattr(model, "encoder", None), getattr(model, "decoder", None)):
        if sub is not None:
            layers += sub.layers
    if not layers:
        layers = model.layers
    for layer in layers:
        if isinstance(layer, keras.layers.Conv2DTranspose):
            _, h, w, c_in = layer.input.shape
            k = layer.kernel_size
            total += 2.0 * h * w * k[0] * k[1] * c_in * layer.filters
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            k = layer.kernel_size
            total += 2.0 * h * w * k[0] * k[1] * layer.input.shape[-1] * c_out
        elif isinstance(layer, keras.layers.Dense):
            total += 2.0 * layer.input.shape[-1] * layer.units
    return total


def cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_clock_ghz() -> float | None:
    """The highest clock the system reports, in GHz (None when unknown)."""
    best = 0.0
    try:
        import psutil

        freq = psutil.cpu_freq()
        if freq is not None:
            best = max(best, float(freq.max or 0.0), float(freq.current or 0.0))
    except Exception:  # noqa: BLE001 - psutil raises platform-specific errors here
        pass
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    best = max(best, float(line.split(":", 1)[1]))
    except (OSError, ValueError):
        pass
    return best / 1000.0 if best > 0 else None


def cpu_peak_gflops() -> dict:
    """``{"isa", "flops_per_cycle", "cores", "ghz", "peak_gflops"}`` (peak None when unknown)."""
    flags = cpu_flags()
    if "avx512f" in flags:
        isa, per_cycle = "AVX-512", 64
    elif "avx2" in flags and "fma" in flags:
        isa, per_cycle = "AVX2+FMA", 32
    else:
        isa, per_cycle = "SSE", 8
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    ghz = cpu_clock_ghz()
    peak = None if ghz is None else cores * ghz * per_cycle
    return {"isa": isa, "flops_per_cycle": per_cycle, "cores": cores, "ghz": ghz,
            "peak_gflops": peak}
