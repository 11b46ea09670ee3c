#!/usr/bin/env bash
# The demo behind `make demo`: make sample videos, create a project, train with the `fast`
# preset, predict a held-out video, summarize and evaluate. Every step is a plain `ethogram`
# command, printed before it runs, so you can repeat it on your own videos.
set -euo pipefail
DEMO_DIR="${DEMO_DIR:-demo_output}"
N_FRAMES="${DEMO_FRAMES:-1800}"
PRESET="${DEMO_PRESET:-fast}"

step() {
    echo
    echo "==> $*"
    "$@"
}

if [ -e "$DEMO_DIR" ]; then
    if [ -f "$DEMO_DIR/.ethogram_demo" ]; then
        echo "Removing the previous demo in $DEMO_DIR"
        rm -rf "$DEMO_DIR"
    else
        echo "error: $DEMO_DIR exists and was not made by the demo; set DEMO_DIR=... or remove it" >&2
        exit 2
    fi
fi
mkdir -p "$DEMO_DIR"
touch "$DEMO_DIR/.ethogram_demo"

BEHAVIORS=$(python -c "from ethogram.sample import SAMPLE_BEHAVIORS; print(','.join(SAMPLE_BEHAVIORS[1:]))")

step ethogram sample "$DEMO_DIR/sample" --videos 6 --frames "$N_FRAMES" --seed 0
step ethogram new "$DEMO_DIR/project" --behaviors "$BEHAVIORS" --preset "$PRESET"
# five labeled videos go into the project (all five train; with fewer than 6 labeled videos,
# validation comes from blocks held out inside each); sample_005 stays out as a new, unseen video
step ethogram add "$DEMO_DIR/project" "$DEMO_DIR"/sample/videos/sample_00[0-4].mp4
step ethogram info "$DEMO_DIR/project"
step ethogram train "$DEMO_DIR/project"
step ethogram predict "$DEMO_DIR/project" "$DEMO_DIR/sample/videos/sample_005.mp4" \
    --out "$DEMO_DIR/predictions"
step ethogram summarize "$DEMO_DIR/predictions" --fps 30 --out "$DEMO_DIR/summary/summary.csv"
step ethogram evaluate --labels "$DEMO_DIR/sample/labels" --predictions "$DEMO_DIR/predictions" \
    --fps 30 --out "$DEMO_DIR/evaluation"

echo
echo "Done. Outputs:"
echo "  project and trained models:   $DEMO_DIR/project/models/"
echo "  predictions (held-out video): $DEMO_DIR/predictions/"
echo "  time budgets and bouts:       $DEMO_DIR/summary/"
echo "  evaluation report:            $DEMO_DIR/evaluation/report.html"
