#!/usr/bin/env bash
# The training and decode rows of the benchmark on a machine with an NVIDIA GPU.
#
#   scripts/gpu_bench.sh [OUT.json]
#
# Installs the GPU extra into a virtual environment of its own (.venv-gpu: the CUDA build of
# TensorFlow and its CUDA libraries, never next to a CPU-only wheel), checks that TensorFlow sees
# the GPU, and runs the rows whose "ours" is TensorFlow: training throughput, bfloat16 / float16 and
# XLA training, peak RSS while training, single-vector and grid decoding. Every row of the table
# and of OUT.json names its device. Nothing else needs a GPU; the CPU rows run with plain
# `latentexplorer bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-bench-gpu.json}
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -d .venv-gpu ] || "$PY" -m venv .venv-gpu
. .venv-gpu/bin/activate
python -m pip install -q --upgrade pip
pip install -q ".[gpu]"
python - <<'PY'
import tensorflow as tf
gpus = tf.config.list_physical_devices("GPU")
if not gpus:
    raise SystemExit("gpu_bench: TensorFlow sees no GPU (driver, CUDA libraries?); "
                     "the rows would run on the CPU")
print("gpu_bench:", ", ".join(tf.config.experimental.get_device_details(g).get("device_name", g.name)
                              for g in gpus))
PY
latentexplorer bench --only train,precision,rss,decode --out "$OUT"
echo "gpu_bench: wrote $OUT"
