"""The container's HEALTHCHECK: exit 0 when `datavox serve` answers /healthz, 1 otherwise.

Plain standard library, so it works in the slim image without curl.
"""

import os
import sys
import urllib.request

port = os.environ.get("DATAVOX_SERVER_PORT", "8000")
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:  # connection refused while starting, a timeout, a 5xx
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
