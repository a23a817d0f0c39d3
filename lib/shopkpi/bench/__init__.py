"""Benchmarks behind `shopkpi bench ingest|forecast|batch|dashboard`: each times ours beside a reference in one run."""
