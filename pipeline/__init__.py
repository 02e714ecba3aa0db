"""newsmon's pipeline: a pure core (``pipeline.core``) and the I/O shell around it.

The shell modules (poller, store, API, CLI, runner) talk to Redis, HTTP and Celery; the core
only transforms plain data. ``workers`` imports this package, never the reverse.
"""

__version__ = "0.1.0"
