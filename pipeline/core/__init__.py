"""The pure core: plain data in, plain data out. No Redis, no network, no Celery, no clock.

Every module here must import only the standard library, pure third-party helpers (feedparser,
pydantic, yaml) and other ``pipeline.core`` modules; ``tests/test_architecture.py`` checks it.
"""
