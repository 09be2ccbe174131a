"""A child's own peak resident set, measured right: through a small launcher process.

`os.wait4` on a child forked from the test process reports a peak that includes the test
process's own pages: Linux keeps the pre-`exec` high-water mark of a forked child (the
copy-on-write image of pytest, hundreds of MiB late in a suite). So the command runs under a
launcher (a fresh, small Python) that forks and execs it, waits for it, and writes the child's
`ru_maxrss` to a file: the figure is the command's alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LAUNCHER = """\
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measured(argv: list[str], report: Path) -> list[str]:
    """The argv that runs `argv` (its first element an executable path) and writes its peak RSS (kB) to `report`."""
    return [sys.executable, "-c", _LAUNCHER, str(report), *argv]


def peak_kb(report: Path) -> int:
    """The peak RSS in kB that the launcher wrote."""
    return int(report.read_text())
