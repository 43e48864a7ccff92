"""Checks the TensorBoard event files `csm train` writes (OUTPUT/runs/) with the `tensorboard` package's own readers,
against OUTPUT/metrics.jsonl.

    tools/.venv/bin/python tools/checks/tensorboard_scalars.py OUTPUT

- Every event file under runs/ reads to its last byte with tensorboard's record reader (`RawEventFileLoader`, which
  verifies the masked CRC32C of each record and stops silently at the first bad or truncated one: the records read
  must account for the whole file) and starts with `file_version: "brain.Event:2"`.
- `EventAccumulator` (tensorboard.backend.event_processing.event_accumulator, all scalars kept) sees tag
  `train/<key>` for every float-valued key of metrics.jsonl except `step` (epoch, loss, backbone_loss, depth_loss, lr,
  grad_norm, tokens_per_s, s_per_step, peak_rss_mb, peak_gpu_memory_mb on a GPU, val_* when present), at exactly the steps whose rows have that
  key, and no other tag; each value equals the JSON value rounded to float32 (TensorBoard's simple_value is a float),
  bit for bit.

Exit status 0 when everything matches; otherwise 1 with the first mismatches.
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
from tensorboard.backend.event_processing import event_accumulator, event_file_loader
from tensorboard.compat.proto import event_pb2

PREFIX = "train/"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("output", help="a `csm train` --output_dir (holding runs/ and metrics.jsonl)")
    a = p.parse_args(argv)
    runs, metrics_path = os.path.join(a.output, "runs"), os.path.join(a.output, "metrics.jsonl")
    problems = []

    files = sorted(glob.glob(os.path.join(runs, "events.out.tfevents.*")))
    if not files:
        print(f"FAIL: no events.out.tfevents.* file in {runs}")
        return 1
    for path in files:
        records = list(event_file_loader.RawEventFileLoader(path).Load())
        read = sum(len(r) + 16 for r in records)  # u64 length, u32 crc, data, u32 crc
        size = os.path.getsize(path)
        if read != size:
            problems.append(f"{os.path.basename(path)}: tensorboard's reader stops after {read} of {size} bytes "
                            f"({len(records)} records): a bad checksum or a truncated record")
        first = event_pb2.Event.FromString(records[0]) if records else None
        if first is None or first.file_version != "brain.Event:2":
            problems.append(f"{os.path.basename(path)}: first event is not file_version brain.Event:2")

    acc = event_accumulator.EventAccumulator(runs, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    tags = acc.Tags()["scalars"]
    board = {t: {e.step: e.value for e in acc.Scalars(t)} for t in tags}

    rows = [json.loads(line) for line in open(metrics_path) if line.strip()]
    expected = {}  # tag -> {step: float32 value}
    for row in rows:
        for key, value in row.items():
            if key != "step" and isinstance(value, (int, float)) and not isinstance(value, bool):
                expected.setdefault(PREFIX + key, {})[row["step"]] = float(np.float32(value))

    for tag in sorted(set(expected) - set(board)):
        problems.append(f"metrics.jsonl key '{tag[len(PREFIX):]}' has no TensorBoard tag '{tag}'")
    for tag in sorted(set(board) - set(expected)):
        problems.append(f"TensorBoard tag '{tag}' has no metrics.jsonl key '{tag[len(PREFIX):]}'")
    compared = 0
    for tag in sorted(set(board) & set(expected)):
        want, got = expected[tag], board[tag]
        if set(want) != set(got):
            problems.append(f"{tag}: steps in metrics.jsonl {sorted(want)} but in TensorBoard {sorted(got)}")
        for step in sorted(set(want) & set(got)):
            compared += 1
            if got[step] != want[step]:
                problems.append(f"{tag} step {step}: TensorBoard {got[step]!r}, metrics.jsonl (as float32) "
                                f"{want[step]!r}")

    mapping = ", ".join(f"{t} <- {t[len(PREFIX):]}" for t in sorted(set(board) & set(expected)))
    print(f"{len(files)} event file(s), {len(rows)} metrics rows; tags: {mapping}")
    print(f"compared {compared} scalars (steps {min(r['step'] for r in rows) if rows else '-'}.."
          f"{max(r['step'] for r in rows) if rows else '-'})")
    if not rows or not board:
        problems.append("nothing to compare (empty metrics.jsonl or no scalars)")
    for line in problems[:20]:
        print("FAIL: " + line)
    if len(problems) > 20:
        print(f"FAIL: ... and {len(problems) - 20} more")
    print("OK" if not problems else "FAIL")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
