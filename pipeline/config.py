"""Loading and validating the operator's YAML: ``feeds.yaml`` and ``topics.yaml``.

A broken file raises ``ConfigError`` whose message names the file, the entry and the problem,
for example: ``config/feeds.yaml: feeds[2] (id 'apa-en'): url: 'ftp://x' is not an http(s) URL``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from pipeline.core.feeds import FeedsFile, FeedSpec
from pipeline.core.rules import Topic, TopicsFile, compile_topic

FEEDS_FILE = "feeds.yaml"
TOPICS_FILE = "topics.yaml"


class ConfigError(Exception):
    """A configuration file is missing or invalid; ``str()`` is the message to show."""


@dataclass(frozen=True)
class Config:
    directory: Path
    feeds: tuple[FeedSpec, ...]
    topics: tuple[Topic, ...]

    def feed(self, feed_id: str) -> FeedSpec | None:
        return next((f for f in self.feeds if f.id == feed_id), None)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}:{where}: not valid YAML: {problem}") from None


def _describe(data: Any, list_key: str, loc: tuple[Any, ...]) -> str:
    """'feeds[2] (id 'x'): url' for a pydantic error location."""
    parts: list[str] = []
    node = data
    for i, step in enumerate(loc):
        if isinstance(step, int):
            label = f"[{step}]"
            entry = node[step] if isinstance(node, list) and step < len(node) else None
            if i == 1 and isinstance(entry, dict) and "id" in entry:
                label += f" (id {entry['id']!r})"
            parts.append(label)
            node = entry
        else:
            parts.append(("." if parts else "") + str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return "".join(parts) or list_key


def _validate(path: Path, model: type[BaseModel], list_key: str) -> Any:
    data = _read_yaml(path)
    if not isinstance(data, dict) or list_key not in data:
        raise ConfigError(f"{path}: expected a mapping with a top-level '{list_key}:' list")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _describe(data, list_key, tuple(err["loc"]))
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{path}: {where}: {message}")
        raise ConfigError("\n".join(problems)) from None


def load_feeds(directory: Path) -> tuple[FeedSpec, ...]:
    parsed: FeedsFile = _validate(directory / FEEDS_FILE, FeedsFile, "feeds")
    return tuple(parsed.feeds)


def load_topics(directory: Path) -> tuple[Topic, ...]:
    parsed: TopicsFile = _validate(directory / TOPICS_FILE, TopicsFile, "topics")
    return tuple(compile_topic(spec) for spec in parsed.topics)


def load_config(directory: Path) -> Config:
    return Config(directory, load_feeds(directory), load_topics(directory))
