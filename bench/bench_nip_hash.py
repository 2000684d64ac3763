"""NIP hash profiles side by side: argon2id hashes per second on every core, interleaved.

Run: .venv/bin/python bench/bench_nip_hash.py [hashes per profile per round] [rounds]
     (defaults 400 and 5)
The profiles are OWASP's equivalent argon2id settings (Password Storage Cheat Sheet): the same
defence, traded between memory and passes. The machine is shared and noisy, so the profiles
take turns in every round (a different order each round) and the median of the rounds is
compared; a profile is never measured in a quiet minute the others did not get.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from argon2 import PasswordHasher

PROFILES = ((19456, 2), (12288, 3), (9216, 4), (7168, 5))  # KiB, passes
NIP_TEXT = "482913"


def _hash(args: tuple[int, int, int]) -> int:
    memory, passes, count = args
    hasher = PasswordHasher(time_cost=passes, memory_cost=memory, parallelism=1)
    for _ in range(count):
        hasher.hash(NIP_TEXT)
    return count


def main() -> int:
    per_round = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    workers = os.cpu_count() or 1
    rates: dict[tuple[int, int], list[float]] = {p: [] for p in PROFILES}
    with ProcessPoolExecutor(workers) as pool:
        for r in range(rounds):
            order = PROFILES[r % len(PROFILES) :] + PROFILES[: r % len(PROFILES)]
            for memory, passes in order:
                share = per_round // workers
                start = time.perf_counter()
                done = sum(pool.map(_hash, [(memory, passes, share)] * workers))
                rates[(memory, passes)].append(done / (time.perf_counter() - start))
    print(f"{workers} processes, {rounds} rounds of {per_round} hashes per profile, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    for (memory, passes), got in rates.items():
        median = statistics.median(got)
        print(f"m={memory} KiB t={passes}: median {median:,.0f} hashes/s "
              f"({min(got):,.0f}–{max(got):,.0f}); 100,000 NIPs in "
              f"{100_000 / median / 60:.1f} min")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
