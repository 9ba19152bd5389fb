"""Run a command on a fraction of this machine's CPU, to see a benchmark on a slower one.

The speed goals are measured on machines of one kind whose speed varies from one host to
the next (on 2026-11-30 one host ran the same code 1.9 times faster than another). This
runs a command and every process it starts in a control group of its own whose CPU time
is capped at ``--cpus`` cores' worth per 10 ms (a CFS quota): with ``--cpus 1.05`` on two
cores, the command has the throughput of two cores 1.9 times slower. It is an
approximation: a single busy thread still runs at full speed while the other core is
idle, and a group that spends its quota early in a period waits for the next one (at most
10 ms), so latencies suffer somewhat more than on a uniformly slower machine.

The group gets a high CPU weight, so that other work on the machine takes from it little
more than its cap does. Needs write access to the CPU controller (root): cgroup v1's
``cpu`` hierarchy or cgroup v2's ``cpu.max``. The group's ``cpu.stat`` (periods
throttled) is printed at the end.

Usage: ``python benchmarks/cpu_quota.py --cpus 1.05 -- .venv/bin/python
benchmarks/bench_live.py --loads paced``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

PERIOD_US = 10_000
"""The quota's period: short, so that a throttled group waits at most this long."""

ROOT = Path("/sys/fs/cgroup")


class QuotaUnavailable(Exception):
    """No CPU controller this process may write to."""


def _controller() -> tuple[Path, str]:
    """Where to make the group, and which interface: ``v1`` or ``v2``."""
    for name in ("cpu", "cpu,cpuacct"):
        folder = ROOT / name
        if (folder / "cpu.cfs_quota_us").exists():
            return folder, "v1"
    controllers = ROOT / "cgroup.controllers"
    if controllers.exists() and "cpu" in controllers.read_text().split():
        return ROOT, "v2"
    raise QuotaUnavailable("no CPU controller found under /sys/fs/cgroup")


def _make_group(cpus: float) -> tuple[Path, Path, str]:
    """A new group capped at ``cpus``, with this process in it: (group, parent, interface)."""
    parent, interface = _controller()
    group = parent / f"coauthor-quota-{os.getpid()}"
    try:
        group.mkdir()
    except OSError as failed:
        raise QuotaUnavailable(f"cannot make a control group in {parent}: {failed}") from None
    quota = max(1000, round(cpus * PERIOD_US))
    if interface == "v1":
        (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(quota))
        (group / "cpu.shares").write_text("102400")
    else:
        (group / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        (group / "cpu.weight").write_text("10000")
    (group / "cgroup.procs").write_text(str(os.getpid()))
    return group, parent, interface


def _leave(group: Path, parent: Path) -> str:
    """The group's ``cpu.stat``, then this process back in the parent and the group removed."""
    stat = (group / "cpu.stat").read_text()
    (parent / "cgroup.procs").write_text(str(os.getpid()))
    try:
        group.rmdir()
    except OSError as failed:  # a process the command left behind is still in it
        print(f"cpu_quota: {group} left in place: {failed}", file=sys.stderr)
    return stat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpus", type=float, required=True, help="cores' worth of CPU, e.g. 1.05")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    if args.cpus <= 0:
        parser.error("--cpus must be above 0")
    try:
        group, parent, interface = _make_group(args.cpus)
    except (QuotaUnavailable, PermissionError) as failed:
        print(f"cpu_quota: {failed}", file=sys.stderr)
        return 2
    print(f"cpu_quota: {args.cpus:g} cores' worth of CPU (cgroup {interface}, {group})", flush=True)
    try:
        returncode = subprocess.call(command)
    finally:
        stat = _leave(group, parent)
    print("cpu_quota: " + ", ".join(line for line in stat.splitlines()[:3]))
    return returncode


if __name__ == "__main__":
    sys.exit(main())
