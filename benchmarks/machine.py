"""The machine a benchmark ran on, as the reports state it (shared by the benchmark scripts)."""
from __future__ import annotations

import os
import platform


def cpu_name() -> str:
    """The CPU model: /proc/cpuinfo's "model name" on Linux, else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def describe() -> str:
    """CPU, cores, operating system and Python, in one line."""
    return (f"{cpu_name()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")
