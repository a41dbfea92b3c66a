"""A process's own peak memory, for measurements run in a process of their own (Linux: /proc/self)."""

from __future__ import annotations

from pathlib import Path


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(f"{field}:")) / 1024  # kB


def start_measuring() -> float:
    """Reset this process's peak resident set to what it holds now, so that the imports' and warm-ups' peaks
    cannot hide what follows, and return that, in MB. (ru_maxrss cannot be reset: it also keeps the peak
    recorded when any thread of the process exited, e.g. a thread pool's.)"""
    Path("/proc/self/clear_refs").write_text("5")  # "5" resets the peak resident set (VmHWM)
    return _status_mb("VmRSS")


def peak_mb() -> float:
    """The peak resident set (VmHWM) since ``start_measuring``, in MB."""
    return _status_mb("VmHWM")
