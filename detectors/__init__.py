"""anbu detectors (see the issues for what comes here)."""
