"""Settings of a local run, shared by `autotagger serve`, the pipeline commands and the tests.

One place decides the defaults (bucket `image-vaults`, data dir `./.data`, 20 labels at 55 %
confidence) so the server and the CLI commands, which open the same data directory from
different processes, agree on where everything lives.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from autotagger import contracts
from autotagger.errors import UserError

DEFAULT_BUCKET = "image-vaults"
DEFAULT_DATA_DIR = Path(".data")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
API_KEY_ENV = "AUTOTAGGER_API_KEY"
LABELERS = ("local", "rekognition")
INDEX_FILE = "index.sqlite3"
"""The SQLite index inside the data directory, unless `--index` names another one."""


def _default_workers() -> int:
    return max(1, os.cpu_count() or 1)


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def analysis_enabled(analysis: str) -> bool:
    """Whether the optional analysis (`contracts.OPTIONAL_ANALYSES`) runs: on unless its environment
    variable (`contracts.ANALYSIS_ENV`, e.g. AUTOTAGGER_DETECT_TEXT=false) switches it off. A value
    that is neither is refused rather than read as one or the other."""
    name = contracts.ANALYSIS_ENV[analysis]
    value = os.environ.get(name, "").strip().lower()
    if value in ("", *_TRUE):
        return True
    if value in _FALSE:
        return False
    raise UserError(f"{name} must be true or false, not {os.environ[name]!r}")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    bucket: str = DEFAULT_BUCKET
    labeler: str = "local"
    index: str | None = None  # None: SQLite in the data dir; else a SQLite path or an OpenSearch URL
    workers: int = field(default_factory=_default_workers)
    max_labels: int = contracts.DEFAULT_MAX_LABELS
    min_confidence: float = contracts.DEFAULT_MIN_CONFIDENCE
    region: str = contracts.LOCAL_REGION
    account: str = contracts.LOCAL_ACCOUNT
    rules_path: Path | None = None  # labeler rules override (see autotagger.labeler)
    faults: tuple[str, ...] = ()  # injected faults, e.g. ("labeler.throttle=3",) (see autotagger.faults)
    # The workflow's optional analyses (DetectText, DetectModerationLabels): on unless switched off
    # by AUTOTAGGER_DETECT_TEXT / AUTOTAGGER_DETECT_MODERATION, as CDK's detectText/detectModeration.
    detect_text: bool = field(default_factory=lambda: analysis_enabled("text"))
    detect_moderation: bool = field(default_factory=lambda: analysis_enabled("moderation"))

    def __post_init__(self) -> None:
        if self.labeler not in LABELERS:
            raise UserError(f"unknown labeler {self.labeler!r}: choose one of {', '.join(LABELERS)}")
        if self.workers < 1:
            raise UserError(f"--workers must be at least 1, not {self.workers}")
        low, high = contracts.MAX_LABELS_RANGE
        if not low <= self.max_labels <= high:
            raise UserError(f"max labels must be between {low} and {high}, not {self.max_labels}")
        conf_low, conf_high = contracts.MIN_CONFIDENCE_RANGE
        if not conf_low <= self.min_confidence <= conf_high:
            raise UserError(
                f"min confidence must be between {conf_low:g} and {conf_high:g}, not {self.min_confidence}")
        if not self.bucket or "/" in self.bucket:
            raise UserError(f"invalid bucket name {self.bucket!r}")

    @property
    def index_target(self) -> str:
        """What `autotagger.index.open_index` opens: the OpenSearch URL or the SQLite file."""
        return self.index or str(Path(self.data_dir) / INDEX_FILE)

    @property
    def state_machine_arn(self) -> str:
        return contracts.state_machine_arn(contracts.STATE_MACHINE_NAME, region=self.region, account=self.account)

    @property
    def dead_letter_queue_url(self) -> str:
        return contracts.queue_url(contracts.WORKFLOW_DLQ_NAME, region=self.region, account=self.account)

    @property
    def normalize_function_arn(self) -> str:
        return contracts.function_arn(contracts.NORMALIZE_FUNCTION_NAME, region=self.region, account=self.account)

    def substitutions(self) -> dict[str, str]:
        """The DefinitionSubstitutions CDK passes to Step Functions, with the local values."""
        return contracts.definition_substitutions(
            max_labels=self.max_labels, min_confidence=self.min_confidence,
            stream_name=contracts.STREAM_NAME, dead_letter_queue_url=self.dead_letter_queue_url,
            normalize_function=self.normalize_function_arn,
            detect_text=self.detect_text, detect_moderation=self.detect_moderation,
        )


def is_loopback(host: str) -> bool:
    """True when `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_api_key(host: str, api_key: str | None) -> str | None:
    """The key every request must carry, or None; refuses to expose the API without one."""
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
    if key is not None and len(key) < 16:
        raise UserError("the API key must be at least 16 characters long")
    if key is None and not is_loopback(host):
        raise UserError(
            f"binding {host} exposes the API beyond this machine: pass --api-key or set {API_KEY_ENV}"
        )
    return key
