"""Issue 6 point 8: the demo (scripts/demo.sh runs tests/sim/demo.py after building).

Runs tests/sim/demo.py with the binary under test, as a user would: the banner must
say where to point mariadb-binlog (the printed command is then run and must show
decoded row events), where /metrics is, and how to stop; the progress lines must
show transactions flowing (tirelay's committed count grows) and a healthy relay;
Ctrl-C (SIGINT) must stop everything with exit code 0.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_demo.py
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until  # noqa: E402

PYTHON = "/usr/bin/python3"


def test_demo_shows_progress_and_stops(tmp_path):
    binary = cluster.tirelay_bin()
    assert os.access(binary, os.X_OK), binary
    demo = subprocess.Popen([PYTHON, os.path.join(cluster.REPO, "tests", "sim", "demo.py"),
                             "--dir", str(tmp_path / "demo"), "--tirelay", binary, "--rate", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = []
    reader = threading.Thread(target=lambda: out.extend(iter(demo.stdout.readline, "")), daemon=True)
    reader.start()
    text = lambda: "".join(out)  # noqa: E731
    try:
        wait_until(lambda: demo.poll() is None and "stop: Ctrl-C" in text(), 120,
                   what="demo banner")
        banner = text()
        m = re.search(r"^  (mariadb-binlog --read-from-remote-server .*\\\n.*tirelay-bin\.000001)$",
                      banner, re.M)
        assert m, banner
        assert re.search(r"http://127\.0\.0\.1:\d+/metrics", banner), banner

        # Transactions flowing: tirelay's committed count grows between progress lines.
        def counts():
            return [int(c) for c in re.findall(r"\| tirelay: (\d+) txns", text())]
        wait_until(lambda: len(counts()) >= 3 and counts()[-1] > counts()[0] > 0, 120,
                   what="growing transaction counts in the progress lines")
        last = [l for l in text().splitlines() if "| tirelay:" in l][-1]
        assert "healthy" in last and "tirelay-bin.0000" in last, last

        # The printed mariadb-binlog command works as printed (stopped after a few seconds).
        cmd = shlex.split(m.group(1).replace("\\\n", " "))
        mb = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(3)
        mb.send_signal(signal.SIGTERM)
        decoded = mb.communicate(timeout=30)[0]
        assert "### INSERT INTO" in decoded, decoded[-2000:]
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGINT)
        rc = demo.wait(120)
        reader.join(10)
    assert rc == 0, text()[-3000:]
    assert "stopping ..." in text()
