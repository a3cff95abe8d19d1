"""One in-memory fake per port of `autotagger.ports`, shared by every test folder.

Each fake keeps its port's method signatures exactly (tests/unit/test_fakes_match_ports.py
compares them), so a port that changes makes its fake fail instead of drifting.
"""

from tests.fakes.dead_letter_queue import FakeDeadLetterQueue
from tests.fakes.dead_letters import FakeDeadLetters
from tests.fakes.execution_lookup import FakeExecutionLookup
from tests.fakes.executions import FakeExecutions
from tests.fakes.image_urls import FakeImageUrls
from tests.fakes.index import FakeImageIndex
from tests.fakes.labeler import JPEG_MAGIC, PNG_MAGIC, FakeLabeler
from tests.fakes.moderation_detector import FakeModerationDetector
from tests.fakes.object_store import FakeObjectStore
from tests.fakes.record_stream import FakeRecordStream
from tests.fakes.text_detector import FakeTextDetector

__all__ = ["FakeDeadLetterQueue", "FakeDeadLetters", "FakeExecutionLookup", "FakeExecutions", "FakeImageIndex",
           "FakeImageUrls", "FakeLabeler", "FakeModerationDetector", "FakeObjectStore", "FakeRecordStream",
           "FakeTextDetector", "JPEG_MAGIC", "PNG_MAGIC", "fake_analysers"]


def fake_analysers() -> dict:
    """`Pipeline(..., **fake_analysers())`: DetectText and DetectModerationLabels answered in memory
    (every image "shows" HARBOUR, none is flagged), for the tests whose labeler is a fake too; the
    real Tesseract and NudeNet are tested in tests/analysers and run in the served product."""
    return {"text_detector": FakeTextDetector(), "moderation_detector": FakeModerationDetector()}
