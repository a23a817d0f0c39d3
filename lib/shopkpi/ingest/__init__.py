"""Reading client exports into the per-client store."""
