# SPDX-License-Identifier: MIT
"""A short soak (tools/soak/soak.py, what `make soak` runs for longer): 20 s of random plug/unplug
of the RAM above mem= and virtio-mem resizes under background `stress`, with `stress stop` (every
byte verified) and `mmcheck` at checkpoints, everything unplugged and meminfo back at the end."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tools", "soak"))
import soak  # noqa: E402

SECONDS = 20


def test_soak_short():
    ok, line = soak.run(SECONDS, seed=20, checkpoint=6, log=False)
    assert ok, line
    assert " 0 errors" in line, line
