"""feeds.yaml: schema, validation with key and line, and comment-preserving atomic saves."""

from __future__ import annotations

import io
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

DEFAULT_CONFIG = Path("feeds.yaml")
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigError(Exception):
    """A feeds.yaml problem, worded for the admin who has to fix it."""


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration like 15m, 2h, 30s or 1d")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


class FeedEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    name: str = ""
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        if not re.match(r"^https?://", value, re.I):
            raise ValueError("must start with http:// or https://")
        return value.strip()


class FilterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    model: str = "tfidf"


class NetworkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allow_private_addresses: bool = False
    concurrency: int = Field(64, ge=1, le=1024)
    per_host: int = Field(2, ge=1, le=64)
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(20.0, gt=0)
    total_timeout: float = Field(45.0, gt=0)
    max_bytes: int = Field(5_000_000, ge=1024)
    max_redirects: int = Field(5, ge=0, le=20)
    user_agent: str = "tiktok-ban-monitor/0.1 (+https://github.com/tiktok-ban-monitor)"


class DigestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time: str = "09:00"
    timezone: str = "UTC"
    max_stories: int = Field(25, ge=1, le=500)

    @field_validator("time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        parse_hhmm(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        check_timezone(value)
        return value


class StoriesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    near_duplicate_threshold: float = Field(0.5, gt=0, le=1)
    cross_language_threshold: float = Field(0.6, gt=0, le=1)
    window_hours: int = Field(72, ge=1)
    # Story grouping keeps text features for at most this many recent items (about 7 KB
    # each: memory and start-up time stay bounded even in a burst); an older item's link or
    # GUID is recognised by the store. 5,000 is ~800 relevant items a day for the two
    # windows kept.
    max_indexed: int = Field(5_000, ge=100)


class StorageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retention_days: int = Field(90, ge=1)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    poll_every: str = "15m"
    feeds: list[FeedEntry] = Field(default_factory=list)
    filter: FilterSettings = Field(default_factory=FilterSettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    admins: list[str] = Field(default_factory=list)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    stories: StoriesSettings = Field(default_factory=StoriesSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)

    @field_validator("poll_every")
    @classmethod
    def _duration(cls, value: str) -> str:
        if parse_duration(value) < timedelta(minutes=1):
            raise ValueError("must be at least 1m: polling faster is impolite to publishers")
        return value

    @field_validator("admins", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [str(v) for v in value]
        return value

    @property
    def poll_interval(self) -> timedelta:
        return parse_duration(self.poll_every)


def parse_hhmm(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a time like 09:00 (24-hour HH:MM)")
    return int(match.group(1)), int(match.group(2))


def check_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"{name!r} is not an IANA timezone (e.g. UTC, Europe/Paris, America/New_York)"
        ) from exc


def _yaml() -> YAML:
    yaml = YAML()  # round-trip mode keeps comments and key order
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _line_of(doc: Any, loc: tuple[int | str, ...]) -> int | None:
    """Walk the ruamel tree along a pydantic error location and return a 1-based line."""
    node = doc
    line: int | None = None
    for key in loc:
        if isinstance(node, CommentedMap) and key in node:
            pos = node.lc.key(key)
            line = pos[0] + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
            line = node.lc.item(key)[0] + 1
            node = node[key]
        else:
            break
    return line


@dataclass
class LoadedConfig:
    settings: Settings
    path: Path | None
    text: str

    @property
    def document(self) -> Any:
        """The round-trip tree (comments kept), parsed only when someone edits or needs lines."""
        return _yaml().load(self.text) or CommentedMap()


def _fast_yaml() -> YAML:
    # The C safe loader is ~7x faster than round-trip parsing: with thousands of feeds that
    # is seconds saved at every start. The round-trip tree is built only for edits and errors.
    return YAML(typ="safe", pure=False)


def load_config(path: Path | str | None = None, text: str | None = None) -> LoadedConfig:
    """Read and validate feeds.yaml; raise ConfigError naming the key and line on bad input."""
    source = Path(path) if path is not None else None
    if text is None:
        if source is None:
            raise ConfigError("no configuration file given")
        try:
            text = source.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ConfigError(f"{source}: file not found") from exc
    label = str(source) if source else "<config>"
    try:
        data = _fast_yaml().load(text)
    except YAMLError as exc:
        raise ConfigError(f"{label}: not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: the top level must be a mapping of settings")
    try:
        settings = Settings.model_validate(_plain(data))
    except ValidationError as exc:
        raise ConfigError(_describe(label, _yaml().load(text), exc)) from exc
    return LoadedConfig(settings=settings, path=source, text=text)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _describe(label: str, document: Any, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(document, loc)
        where = f"{label}:{line}" if line else label
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling; see the schema in README)"
        lines.append(f"{where}: {key}: {message}")
    return "\n".join(lines)


def dump_document(document: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    return buffer.getvalue()


def save_document(path: Path, document: Any) -> None:
    """Write atomically: a crash mid-write never leaves a half-written feeds.yaml."""
    text = dump_document(document)
    Settings.model_validate(_plain(_yaml().load(text)))
    fd, tmp = tempfile.mkstemp(prefix=".feeds-", suffix=".yaml", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def feeds_sequence(document: Any) -> CommentedSeq:
    if "feeds" not in document or document["feeds"] is None:
        document["feeds"] = CommentedSeq()
    return document["feeds"]


class ConfigFile:
    """The live feeds.yaml: the settings in force and the document to edit and save."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.loaded = load_config(path)

    @property
    def settings(self) -> Settings:
        return self.loaded.settings

    def reload(self) -> Settings:
        self.loaded = load_config(self.path)
        return self.settings

    def save(self, document: Any) -> Settings:
        save_document(self.path, document)
        return self.reload()

    def editable(self) -> Any:
        """A fresh copy of the document read from disk, so a failed edit changes nothing."""
        return load_config(self.path).document
