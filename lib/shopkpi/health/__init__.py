"""Shop health: the platform's seller-performance metrics by market and week, thresholds by region, and alerts."""
