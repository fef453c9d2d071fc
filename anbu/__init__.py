"""anbu (안부): open IoT monitoring for people who live alone.

The shared kernel: domain types, the device contract, settings, the clock, storage and the CLI.
"""

__version__ = "0.1.0"
