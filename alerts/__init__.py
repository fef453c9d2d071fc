"""anbu alerts (see the issues for what comes here)."""
