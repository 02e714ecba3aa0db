"""`newsmon run`: every part on one machine, supervised, stopped cleanly by Ctrl-C.

Two processes. The foreground one only forwards Ctrl-C / SIGTERM. The stack, in a session of
its own (so a terminal's Ctrl-C reaches nobody else), starts the embedded Valkey unless
``REDIS_URL`` is set, the demo feed server with ``--demo``, then the Celery worker, the poller
and the API as child processes; it stops them in the reverse order: API and poller first, then
the worker (which finishes its batch), then Valkey. Celery beat runs the digests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import structlog

from pipeline.config import TOPICS_FILE, load_config
from pipeline.embedded import start_valkey
from pipeline.runtime import address_file
from pipeline.settings import Settings
from pipeline.store import Store

log = structlog.get_logger("newsmon.run")

DEMO_POLL_INTERVAL = 3.0
STOP_GRACE_SECONDS = 30.0


def run_foreground(demo: bool) -> int:
    """Start the stack in its own session and forward Ctrl-C / SIGTERM to it."""
    args = [sys.executable, "-m", "pipeline.runner"] + (["--demo"] if demo else [])
    child = subprocess.Popen(args, start_new_session=True)

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    return child.wait()


class Stack:
    def __init__(self, settings: Settings, demo: bool) -> None:
        self.settings = settings
        self.demo = demo
        self.children: dict[str, asyncio.subprocess.Process] = {}
        self.stop = asyncio.Event()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop.set)
        load_config(self.settings.config_dir)  # fail early, with the file's own error message
        valkey = None
        demo_runner = None
        env = dict(os.environ)
        try:
            if self.settings.redis_url:
                redis_url = self.settings.redis_url
            else:
                valkey, redis_url = self._start_valkey()
            env["REDIS_URL"] = redis_url
            if self.demo:
                demo_runner, config_dir = await self._start_demo()
                env["NEWSMON_CONFIG_DIR"] = str(config_dir)
            env.setdefault("NEWSMON_CONFIG_DIR", str(self.settings.config_dir.resolve()))
            print(f"newsmon: Redis at {redis_url}", flush=True)
            await self._spawn("worker", [sys.executable, "-m", "pipeline.cli", "worker"], env)
            await self._spawn("beat", [sys.executable, "-m", "pipeline.cli", "beat"], env)
            await self._spawn("poller", [sys.executable, "-m", "pipeline.cli", "poll"], env)
            await self._spawn("api", [sys.executable, "-m", "pipeline.cli", "api"], env)
            print(
                f"newsmon: running; API on http://{self.settings.api_host}:{self.settings.api_port}"
                " · Ctrl-C stops",
                flush=True,
            )
            code = await self._supervise()
        finally:
            await self._stop_children()
            if demo_runner is not None:
                await demo_runner.cleanup()
            if valkey is not None:
                valkey.stop(timeout=10)
                address_file(self.settings).unlink(missing_ok=True)
            print("newsmon: stopped", flush=True)
        return code

    def _start_valkey(self) -> tuple[object, str]:
        path = address_file(self.settings)
        if path.exists():
            url = path.read_text().strip()
            if url and Store.from_url(url).ping():
                raise SystemExit(
                    f"newsmon: another `newsmon run` is serving Redis at {url} ({path}); "
                    "stop it first"
                )
        data = (self.settings.data_dir / "valkey").resolve()
        data.mkdir(parents=True, exist_ok=True)
        server = start_valkey(data)
        url = f"redis://127.0.0.1:{server.port}/0"
        path.write_text(url + "\n")
        return server, url

    async def _start_demo(self) -> tuple[object, Path]:
        from pipeline.demo.server import DemoFeeds, demo_feeds_yaml, start_demo_server

        demo = DemoFeeds()
        runner, base_url = await start_demo_server(demo)
        config_dir = (self.settings.data_dir / "demo-config").resolve()
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "feeds.yaml").write_text(demo_feeds_yaml(demo, base_url, DEMO_POLL_INTERVAL))
        shutil.copyfile(self.settings.config_dir / TOPICS_FILE, config_dir / TOPICS_FILE)
        print(f"newsmon: demo feeds at {base_url}", flush=True)
        return runner, config_dir

    async def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.children[name] = await asyncio.create_subprocess_exec(*args, env=env)

    async def _supervise(self) -> int:
        waits = {asyncio.create_task(p.wait()): name for name, p in self.children.items()}
        stop = asyncio.create_task(self.stop.wait())
        done, _ = await asyncio.wait([stop, *waits], return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        if stop in done:
            return 0
        stop.cancel()
        failed = [waits[t] for t in done if t in waits]
        print(f"newsmon: {', '.join(failed)} exited; stopping everything", file=sys.stderr)
        return 1

    async def _stop_children(self) -> None:
        for group in (("api", "poller", "beat"), ("worker",)):
            procs = [self.children[n] for n in group if n in self.children]
            for proc in procs:
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    await asyncio.wait_for(proc.wait(), STOP_GRACE_SECONDS)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()


def main() -> None:
    demo = "--demo" in sys.argv[1:]
    settings = Settings()
    try:
        code = asyncio.run(Stack(settings, demo).run())
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - shown plainly to the operator
        print(f"newsmon: {exc}", file=sys.stderr)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
