"""``opinion_warm_up.warm_up`` compiles every kernel the results worker's analysis calls on
a real conversation: after it, a first analysis and a warm-started update of Pol.is exports
compile nothing. Run in a process of its own with numba's cache in an empty folder, as on
a fresh install (a kernel loaded from a cache compiles nothing, and would hide a miss)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parents[1] / "data" / "polis"
CONVERSATIONS = ("15-per-hour-seattle", "london.youth.policing")

SCRIPT = """
import json, sys
from pathlib import Path
from numba.core import event
from coauthor.analysis.opinion import analyze_from_state
from coauthor.analysis.opinion_warm_up import warm_up
from coauthor.interop.polis import read_polis_export

def compiled(recorder):
    return [e.data["dispatcher"].py_func.__name__ for _, e in recorder.buffer if e.is_start]

with event.install_recorder("numba:compile") as warming:
    warm_up()
with event.install_recorder("numba:compile") as analysing:
    for folder in sys.argv[1:]:
        matrix = read_polis_export(Path(folder)).matrix
        opinion = analyze_from_state(matrix)
        analyze_from_state(matrix, state=opinion.state)
print(json.dumps({"warm_up": compiled(warming), "after": compiled(analysing)}))
"""


def test_the_warm_up_compiles_every_kernel_a_real_analysis_calls(tmp_path: Path) -> None:
    folders = [str(DATA / name) for name in CONVERSATIONS]
    environment = os.environ | {"NUMBA_CACHE_DIR": str(tmp_path)}
    ran = subprocess.run(
        [sys.executable, "-c", SCRIPT, *folders],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout.strip().splitlines()[-1])
    assert found["after"] == []
    assert {"warm_grouping", "power_placement", "dense_power_iteration"} <= set(found["warm_up"])
