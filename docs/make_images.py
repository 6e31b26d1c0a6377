"""Make the README's pictures from the code, so they can be regenerated after any change.

    python docs/make_images.py            # both pictures, into docs/images/
    python docs/make_images.py timeline   # only the timeline (needs matplotlib)

* ``timeline.png``: five nodes on the default settings; the first leader crashes at 1.5 s, a
  new one is elected, the old one restarts as a follower of the new term.
* ``panel.png``: the ClusterLab panel of notebook 05 in JupyterLab, in headless Chromium, after
  a click on "crash" for the leader: taken by tests/test_browser.py, which drives that scene
  (it needs the ``test`` extra and /usr/bin/chromium).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"


def timeline_png(path: Path) -> None:
    from raftlab import Cluster
    from raftlab.plots import timeline

    c = Cluster(5, seed=3)
    c.run_for(1500)
    leader = c.check_one_leader()
    c.crash(leader)
    c.run_until(c.now + 1500)
    c.restart(leader)
    c.run_for(800)
    fig = timeline(c, title=f"5 nodes, seed 3: node {leader} (the first leader) crashes and "
                            f"restarts")
    fig.savefig(path, dpi=90)


def panel_png(path: Path) -> None:
    env = dict(os.environ, RAFTLAB_PANEL_PNG=str(path), CI="true")
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    str(ROOT / "tests" / "test_browser.py")], cwd=ROOT, env=env, check=True)


def main(argv: list[str]) -> int:
    wanted = argv or ["timeline", "panel"]
    unknown = sorted(set(wanted) - {"timeline", "panel"})
    if unknown:
        print(f"unknown picture(s) {unknown}; choose from: timeline, panel", file=sys.stderr)
        return 2
    IMAGES.mkdir(parents=True, exist_ok=True)
    if "timeline" in wanted:
        timeline_png(IMAGES / "timeline.png")
        print("wrote", IMAGES / "timeline.png")
    if "panel" in wanted:
        panel_png(IMAGES / "panel.png")
        print("wrote", IMAGES / "panel.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
