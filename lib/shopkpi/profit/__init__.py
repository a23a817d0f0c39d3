"""Profit: order-line P&L from the settlement (or a dated fee-table estimate), payout reconciliation, ads review."""
