"""Creator cost-effectiveness, fake-audience screening and LIVE host review (issue #5)."""
