"""Checks that `huggingface_hub` finds, offline, the files csm put in a Hugging Face cache (Sources/Hub: the
`models--ORG--NAME/{blobs,snapshots,refs}` layout of huggingface_hub's file_download.py).

    tools/.venv/bin/python tools/checks/hub_cache.py --cache CACHE --repo ORG/NAME --expected DIR \
        [--revision COMMIT] [--absent FILE ...]

DIR holds the repository's files as the server sent them (relative paths = file names in the repo). For each:
- `try_to_load_from_cache(repo, file, cache_dir=CACHE)` (revision main, and COMMIT when given) returns a path whose
  bytes equal DIR's;
- `hf_hub_download(repo, file, cache_dir=CACHE, local_files_only=True)` returns such a path too.
Each `--absent` file (one the server answered 404 for) reads back as `_CACHED_NO_EXIST`.
`scan_cache_dir(CACHE)` reports no warnings (corrupted-cache errors) and lists the repo (type model) with exactly one
revision (COMMIT when given) referenced by `main`, holding exactly DIR's files, each with the right size on disk and a
blob under blobs/.

Runs with HF_HUB_OFFLINE=1: nothing is fetched. Exit status 0 when everything holds; otherwise 1 with the reasons.
"""
import argparse
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from huggingface_hub import hf_hub_download, scan_cache_dir, try_to_load_from_cache  # noqa: E402
from huggingface_hub.file_download import _CACHED_NO_EXIST  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cache", required=True, help="the hub cache folder (what HF_HUB_CACHE would be)")
    p.add_argument("--repo", required=True, help="repo id, ORG/NAME")
    p.add_argument("--expected", required=True, help="folder with the repo's files as served")
    p.add_argument("--revision", help="the commit the cache must hold")
    p.add_argument("--absent", nargs="*", default=[], help="files the server does not have")
    a = p.parse_args(argv)
    problems = []

    expected = {}
    for root, _, names in os.walk(a.expected):
        for name in names:
            path = os.path.join(root, name)
            expected[os.path.relpath(path, a.expected).replace(os.sep, "/")] = open(path, "rb").read()
    if not expected:
        print(f"FAIL: {a.expected} holds no files")
        return 1

    def same(how, found, file):
        if not isinstance(found, str) or not os.path.isfile(found):
            problems.append(f"{how}({a.repo!r}, {file!r}) gives {found!r}, not a cached file")
        elif open(found, "rb").read() != expected[file]:
            problems.append(f"{how}({a.repo!r}, {file!r}) -> {found}: other bytes than the server sent")

    for file in sorted(expected):
        for revision in [None] + ([a.revision] if a.revision else []):
            same(f"try_to_load_from_cache[revision={revision or 'main'}]",
                 try_to_load_from_cache(a.repo, file, cache_dir=a.cache, revision=revision), file)
        try:
            found = hf_hub_download(a.repo, file, cache_dir=a.cache, local_files_only=True)
        except Exception as e:  # LocalEntryNotFoundError and friends: the cache layout is not what the library reads
            found = f"{type(e).__name__}: {e}"
        same("hf_hub_download[local_files_only]", found, file)
    for file in a.absent:
        got = try_to_load_from_cache(a.repo, file, cache_dir=a.cache, revision=a.revision)
        if got is not _CACHED_NO_EXIST:
            problems.append(f"try_to_load_from_cache({a.repo!r}, {file!r}) gives {got!r}, not _CACHED_NO_EXIST "
                            "(the cached 404 under .no_exist/ is not seen)")

    info = scan_cache_dir(a.cache)
    for w in info.warnings:
        problems.append(f"scan_cache_dir warning: {w}")
    repos = [r for r in info.repos if r.repo_id == a.repo]
    if len(repos) != 1 or repos[0].repo_type != "model":
        problems.append(f"scan_cache_dir lists {[(r.repo_id, r.repo_type) for r in info.repos]}, "
                        f"not one model repo {a.repo!r}")
    else:
        repo = repos[0]
        revisions = sorted(repo.revisions, key=lambda r: r.commit_hash)
        if len(revisions) != 1:
            problems.append(f"{a.repo}: {len(revisions)} revisions cached, expected 1")
        for rev in revisions:
            if a.revision and rev.commit_hash != a.revision:
                problems.append(f"{a.repo}: revision {rev.commit_hash}, expected {a.revision}")
            if "main" not in rev.refs:
                problems.append(f"{a.repo}@{rev.commit_hash}: refs {sorted(rev.refs)} lack 'main'")
            files = {f.file_path.relative_to(rev.snapshot_path).as_posix(): f for f in rev.files}
            if set(files) != set(expected):
                problems.append(f"{a.repo}@{rev.commit_hash}: files {sorted(files)}, expected {sorted(expected)}")
            for name, f in sorted(files.items()):
                if name in expected and f.size_on_disk != len(expected[name]):
                    problems.append(f"{name}: size_on_disk {f.size_on_disk}, expected {len(expected[name])}")
                if f.blob_path.parent.name != "blobs" or not f.blob_path.is_file():
                    problems.append(f"{name}: blob {f.blob_path} is not a file under blobs/")
        print(f"scan_cache_dir: {a.repo} ({repo.repo_type}), {repo.nb_files} files, {repo.size_on_disk} bytes, "
              f"revisions {[r.commit_hash for r in revisions]} refs {sorted(repo.refs)}")
    print(f"checked {len(expected)} files ({', '.join(sorted(expected))}) and {len(a.absent)} cached 404s")
    for line in problems:
        print("FAIL: " + line)
    print("OK" if not problems else "FAIL")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
