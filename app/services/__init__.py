"""Use cases: each owns its transaction and calls the store and geo."""
