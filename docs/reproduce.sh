#!/usr/bin/env bash
# Regenerates every number of docs/reproduction.md (needs ../shared/data; ~2 h on a 2-core CPU).
set -euo pipefail
DATA=${DATA:-../shared/data}
RUN=${RUN:-runs/repro}
mkdir -p "$RUN/stores"
latentexplorer prepare "$DATA/celeba_aligned_half" --out "$RUN/stores/half" --preset celeba \
    --attributes "$DATA/celeba_aligned_half/list_attr_celeba.txt" --size 96
latentexplorer prepare "$DATA/celeba_crops" --out "$RUN/stores/crops" --preset center --size 96
latentexplorer merge "$RUN/stores/half" "$RUN/stores/crops" --out "$RUN/stores/all"
train() { latentexplorer train --data "$RUN/stores/all" --workspace "$RUN/$1" "${@:2}" && latentexplorer encode --workspace "$RUN/$1"; }
train ae --model ae --preset case1 --z-dim 256 --epochs 15
train vae5 --model vae --fact 5 --z-dim 256 --epochs 5
train vaetiny --model vae --fact 1e-5 --z-dim 256 --epochs 5
for ws in ae vae5 vaetiny; do
  latentexplorer analyze --workspace "$RUN/$ws" --out "$RUN/$ws-analysis" $([ "$ws" = ae ] && echo --kmeans)
  S="$RUN/$ws-samples"; mkdir -p "$S"
  for b in 1 1.5 3; do latentexplorer sample --workspace "$RUN/$ws" --method uniform --b $b -n 100 --cols 10 --out "$S/uniform_b$b.png"; done
  latentexplorer sample --workspace "$RUN/$ws" --method normal --sigma 1 -n 100 --cols 10 --out "$S/normal.png"
  latentexplorer sample --workspace "$RUN/$ws" --method mvn -n 100 --cols 10 --out "$S/mvn.png"
  for f in 0.6 0.7 0.8; do latentexplorer sample --workspace "$RUN/$ws" --method ellipse --n-comp 100 --sigma-level 2.35 --fact $f -n 100 --cols 10 --out "$S/ellipse_f$f.png"; done
  latentexplorer reconstruct --workspace "$RUN/$ws" -n 100 --cols 10 --out "$RUN/$ws-reconstructions.png"
  latentexplorer sweep --workspace "$RUN/$ws" --method uniform --b 0.5,1,1.5,2,3,5,8 --out "$RUN/$ws-sweep"
done
python docs/reproduce_tables.py "$RUN" ae vae5 vaetiny
