"""Quality benchmarks on public data: newsqa vs a naive one-prompt baseline.

Run ``python -m benchmarks.quality`` from the repository root (see ``__main__``).
"""
