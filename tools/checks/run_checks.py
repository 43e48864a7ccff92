"""Runs several checks of tools/checks in one Python process (importing torch + transformers once takes seconds).

    tools/.venv/bin/python tools/checks/run_checks.py [--report REPORT.json] \
        -- NAME CHECK [ARGS...] [-- NAME CHECK [ARGS...]] ...

CHECK is a script of this folder (peft_adapter, merged_model, tensorboard_scalars, hub_cache); it runs as
`python tools/checks/CHECK.py ARGS...` would. Each check's output goes to stdout, prefixed by a `== NAME` line; REPORT
gets {NAME: {"check", "status", "seconds", "output"}} (status: the check's exit status; an exception counts as 1 and
its traceback is the end of the output). Exit status 0 when every check exited 0, else 1 (a check that must fail is
the caller's business: read the report).
"""
import contextlib
import importlib.util
import io
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def load(check):
    """tools/checks/CHECK.py as a module, by path (whatever else is on sys.path)."""
    path = os.path.join(HERE, f"{check}.py")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no check {path}")
    spec = importlib.util.spec_from_file_location(f"checks_{check}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, s):
        for stream in self.streams:
            stream.write(s)
        return len(s)

    def flush(self):
        for stream in self.streams:
            stream.flush()


def run(name, check, args):
    buffer = io.StringIO()
    start = time.time()
    with contextlib.redirect_stdout(Tee(sys.stdout, buffer)):
        try:
            status = load(check).main(args)
        except SystemExit as e:  # argparse errors (their message went to stderr)
            status = e.code if isinstance(e.code, int) else 1
            print(f"FAIL: {check} exited with {e.code!r}")
        except Exception:
            traceback.print_exc(file=sys.stdout)
            print(f"FAIL: {check} raised")
            status = 1
    return {"check": check, "status": int(status or 0), "seconds": round(time.time() - start, 3),
            "output": buffer.getvalue()}


def main(argv):
    report_path = None
    if argv[:1] == ["--report"]:
        report_path, argv = argv[1], argv[2:]
    if argv[:1] != ["--"]:
        print(__doc__, file=sys.stderr)
        return 2
    groups, current = [], None
    for arg in argv:
        if arg == "--":
            current = []
            groups.append(current)
        else:
            current.append(arg)
    if any(len(g) < 2 for g in groups):
        print("each check needs NAME CHECK [ARGS...] after --", file=sys.stderr)
        return 2
    report = {}
    for name, check, *args in groups:
        print(f"== {name} ({check} {' '.join(args)})", flush=True)
        report[name] = run(name, check, args)
        print(f"== {name}: exit status {report[name]['status']} in {report[name]['seconds']:.1f}s", flush=True)
    if report_path:
        with open(report_path, "w") as f:
            json.dump(report, f, indent=1)
    return 0 if all(r["status"] == 0 for r in report.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
