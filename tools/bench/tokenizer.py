"""Times `tokenizers` (Python, one thread, no batching) on the paragraphs (JSON) written by `csm-bench tokenizer`.

TOKENIZERS_PARALLELISM=false tools/.venv/bin/python tools/bench/tokenizer.py MODEL_DIR PARAGRAPHS.json
"""

import json
import os
import sys
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"
from tokenizers import Tokenizer  # noqa: E402


def main():
    folder, path = sys.argv[1], sys.argv[2]
    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    with open(path, encoding="utf-8") as f:
        paragraphs = json.load(f)
    size = sum(len(p.encode()) + 1 for p in paragraphs)
    best, best_cpu, tokens = float("inf"), float("inf"), 0
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        count = 0
        for p in paragraphs:
            count += len(tok.encode(p, add_special_tokens=False).ids)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
        tokens = count
    print(f"python tokenizers {__import__('tokenizers').__version__}: {len(paragraphs)} paragraphs, {size / 1e6:.2f} MB, "
          f"{tokens} tokens, best of 3: {best:.3f} s wall, {best_cpu:.3f} s cpu; {tokens / best / 1e6:.2f} M tokens/s wall, "
          f"{tokens / best_cpu / 1e6:.2f} M tokens/s cpu, {size / best_cpu / 1e6:.1f} MB/s cpu")


if __name__ == "__main__":
    main()
