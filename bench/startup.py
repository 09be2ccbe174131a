"""Start-up time of `hub up` on the embedded broker: from exec to `ready: processing hub.submitted`.

    python bench/startup.py [--runs 5]

Each run uses a fresh data directory, so the broker, the topics and the ledger are all new.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

READY = b"ready: processing"


def one_run() -> float:
    """Seconds from spawning `hub up` to its ready line."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HUB_DATA_DIR": tmp}
        start = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "hub", "up"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert proc.stderr is not None  # noqa: S101 - set by Popen(stderr=PIPE)
        try:
            for line in proc.stderr:
                if READY in line:
                    return time.perf_counter() - start
            raise SystemExit("hub up exited before it was ready")
        finally:
            proc.terminate()
            proc.wait(30)


def main() -> None:
    """Run and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    runs = [one_run() for _ in range(ap.parse_args().runs)]
    print("runs (s)  " + "  ".join(f"{r:.2f}" for r in runs))
    print(f"median    {statistics.median(runs):.2f} s, worst {max(runs):.2f} s")


if __name__ == "__main__":
    main()
