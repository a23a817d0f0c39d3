"""Content-feature analysis: what in a video or LIVE sells (funnel, GMV decomposition, controlled effects, A/B tests)."""
