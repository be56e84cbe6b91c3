#!/usr/bin/env bash
# How examples/tensorboard_graph.png was made: TensorBoard's graph page for the MNIST softmax
# model written by examples/tensorboard_demo.py, captured with headless Chromium.
#
# Needs: headwater and the tensorboard package in $PYTHON's environment (tensorboard's
# executable is found next to $PYTHON, else on PATH), and Chromium (Debian: apt-get install
# chromium). Not part of CI.
#
#   examples/tensorboard_screenshot.sh [output.png]
#
# Environment: PYTHON (default: python), CHROMIUM (default: chromium), STEPS (default: 300),
# WINDOW (default: 1400,900), BUDGET_MS (virtual time for the page to draw, default: 15000).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/tensorboard_graph.png}"
python="${PYTHON:-python}"
chromium="${CHROMIUM:-chromium}"
tensorboard="$(dirname "$(command -v "$python")")/tensorboard"
[ -x "$tensorboard" ] || tensorboard="tensorboard"

logdir="$(mktemp -d)"
tb_pid=""
cleanup() {
  if [ -n "$tb_pid" ]; then kill "$tb_pid" 2>/dev/null || true; wait "$tb_pid" 2>/dev/null || true; fi
  rm -rf "$logdir"
}
trap cleanup EXIT

"$python" "$here/tensorboard_demo.py" --logdir "$logdir" --steps "${STEPS:-300}" >/dev/null

port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$tensorboard" --logdir "$logdir" --host 127.0.0.1 --port "$port" >"$logdir/tensorboard.log" 2>&1 &
tb_pid=$!

# Ready once the server lists the runs it has loaded (the graph lives in the "train" run).
for _ in $(seq 1 120); do
  if "$python" - "$port" <<'EOF' 2>/dev/null; then break; fi
import json, sys, urllib.request
runs = json.load(urllib.request.urlopen("http://127.0.0.1:%s/data/runs" % sys.argv[1], timeout=2))
sys.exit(0 if "train" in runs else 1)
EOF
  sleep 0.5
done

# --no-sandbox: Chromium refuses to run as root otherwise (containers). The virtual-time budget
# lets the graph plugin lay out and draw the scopes before the capture.
"$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --mute-audio \
  --window-size="${WINDOW:-1400,900}" --virtual-time-budget="${BUDGET_MS:-15000}" \
  --screenshot="$out" "http://127.0.0.1:$port/#graphs&run=train" 2>/dev/null

echo "wrote $out ($(wc -c <"$out") bytes)"
