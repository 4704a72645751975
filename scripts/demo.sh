#!/usr/bin/env bash
# The main job: set up .venv, install the models (from ../shared/npm when present, else with
# npm pack: hands.egohands and objects.coco.centernet converted, hands.mediapipe's ready LiteRT
# files taken as they are; a tarball no manifest knows is skipped with a warning), and run the
# table-scene pipeline on an egocentric clip, writing JSON Lines events.
# Usage: scripts/demo.sh [VIDEO]   (default ../shared/data/egodex/add_remove_lid_0.mp4)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh
shared="$(cd .. && pwd)/shared"
if ! .venv/bin/python -m orchestrator models verify >/dev/null 2>&1; then
  if [ -d "$shared/npm" ]; then
    .venv/bin/python -m orchestrator models import "$shared"/npm/*.tgz
  else
    .venv/bin/python -m orchestrator models pull
  fi
fi
# The int8 hand model: about 1.7x faster than fp32 with the same accuracy; it needs calibration frames.
if [ -d "$shared/data/egohands/train" ] && ! .venv/bin/python -m orchestrator models list | grep -q model.int8.tflite; then
  .venv/bin/python -m orchestrator models quantize hands.egohands --calibration-images "$shared/data/egohands/train" --count 100
fi
video="${1:-$shared/data/egodex/add_remove_lid_0.mp4}"
mkdir -p out
.venv/bin/python -m orchestrator run pipelines/table_scene.yaml --source "$video" \
  --events out/table_scene.jsonl --video-out out/table_scene.mp4
echo "events: out/table_scene.jsonl  annotated video: out/table_scene.mp4"
