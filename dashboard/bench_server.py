"""The web application alone, for `anbu bench dashboard`.

Usage: `python -m dashboard.bench_server DATABASE_URL PORT`.
"""

from __future__ import annotations

import sys

import uvicorn

from dashboard.app import create_app

if __name__ == "__main__":
    database_url, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(create_app(database_url), host="127.0.0.1", port=port, log_level="warning")
