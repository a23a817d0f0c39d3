"""Deterministic demo client in real TikTok Shop export formats, with planted truths for testing analyses."""

from shopkpi.demo.generator import DemoSummary, generate_demo_client

__all__ = ["DemoSummary", "generate_demo_client"]
