"""A stand-in benchmark for the runner's tests: as noisy as a real one (progress, EMF metric lines), one table."""

from __future__ import annotations

import json
import sys

from bench.report import publish, table, target_line

if __name__ == "__main__":
    for index in range(50):
        print(json.dumps({"_aws": {"CloudWatchMetrics": []}, "InferenceTime": [index]}))
    print("progress: halfway", file=sys.stderr)
    body = table(["case", "µs"], [["fast", 1], ["slow", 2]])
    publish(
        "noisy",
        "Noisy",
        body + "\n\n" + target_line("fast enough", True, "1 µs") + "\n" + target_line("slow enough", False, "2 µs"),
    )
    sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
