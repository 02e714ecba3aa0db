"""The Celery app: JSON only, no result backend, late acks, named queues per stage."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

from pipeline.queueing import celery_config
from pipeline.runtime import resolve_redis_url
from pipeline.settings import get_settings
from pipeline.store import Store

app = Celery("newsmon", include=["workers.tasks"])
app.conf.update(celery_config(get_settings(), resolve_redis_url(get_settings())))

HEARTBEAT_SECONDS = 5.0
_stop_heartbeat = threading.Event()


def _heartbeat(hostname: str) -> None:
    store = Store.from_url(app.conf.broker_url)
    while not _stop_heartbeat.is_set():
        with contextlib.suppress(Exception):  # a missed beat must not kill the worker
            store.heartbeat(hostname, time.time())
        _stop_heartbeat.wait(HEARTBEAT_SECONDS)


@worker_ready.connect
def _start_heartbeat(sender: object = None, **_: object) -> None:
    hostname = getattr(sender, "hostname", None) or socket.gethostname()
    threading.Thread(target=_heartbeat, args=(hostname,), name="heartbeat", daemon=True).start()


@worker_shutdown.connect
def _stop(**_: object) -> None:
    _stop_heartbeat.set()
