"""Restock forecasting: demand per SKU x market, backtested models, and a purchase plan."""
