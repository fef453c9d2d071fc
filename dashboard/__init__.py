"""anbu dashboard (see the issues for what comes here)."""
