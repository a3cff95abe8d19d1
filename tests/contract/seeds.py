"""The data every contract case runs on, the same in both runtimes (a "data setup"): images
uploaded and tagged by the workflow, one corrupt image dead-lettered, one image deleted, and the
text and moderation analyses of four images.

Each step stores (or deletes) an object, then runs the workflow on its S3 event under a chosen
execution name and event time, one after another, so both runtimes hold the same documents,
executions (in the same order) and dead letters. An `Analysed` step puts on the stream the record
the workflow's Parallel state makes for an image whose DetectText and DetectModerationLabels answers
are the step's (the same S3 event again: the image's indexed labels, size and sequencer, read back
from the runtime's index), so the cases can rely on those answers whatever the analysers in each
runtime (local ones, moto's Rekognition) would say about the synthetic images.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.scripted_labeler import image_bytes


@dataclass(frozen=True)
class Put:
    key: str
    data: bytes
    time: str
    name: str
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class Delete:
    key: str
    time: str
    name: str


@dataclass(frozen=True)
class Analysed:
    """`text`: the LINEs DetectText found (None: not analysed); `moderation`: (Name, ParentName,
    TaxonomyLevel, Confidence) labels (None: not analysed); `errors`: (analysis, error, cause)."""

    key: str
    text: tuple[str, ...] | None
    moderation: tuple[tuple[str, str, int, float], ...] | None
    errors: tuple[tuple[str, str, str], ...] = ()

    def record(self, document: dict) -> dict:
        """The stream record of the image's upload event (as indexed in `document`) with these analyses."""
        labels = [{"Name": label["name"], "Confidence": label["confidence"],
                   "Parents": [{"Name": name} for name in label.get("parents", [])],
                   "Categories": [{"Name": name} for name in label.get("categories", [])],
                   "Aliases": [{"Name": name} for name in label.get("aliases", [])],
                   "Instances": [{"Confidence": instance["confidence"],
                                  **({"BoundingBox": {name.capitalize(): value
                                                      for name, value in instance["bounding_box"].items()}}
                                     if "bounding_box" in instance else {})}
                                 for instance in label.get("instances", [])]}
                  for label in document["labels"]]
        analysis = {"key": document.get("analyzed_key", document["key"])}
        if "normalized" in document:
            analysis.update(normalized=True, **document["normalized"])
        record = {"action": "upsert", "bucket": document["bucket"], "key": document["key"], "size": document["size"],
                  "etag": document["etag"], "sequencer": document["sequencer"], "event_time": document["event_time"],
                  "label_model_version": document["label_model_version"], "labels": labels, "analysis": analysis,
                  "analysis_errors": [{"analysis": a, "error": e, "cause": c} for a, e, c in self.errors]}
        if self.text is not None:
            detections, ident = [], 0
            for row, line in enumerate(self.text):
                box = {"Width": 0.5, "Height": 0.08, "Left": 0.1, "Top": 0.1 + row * 0.1}
                detections.append({"DetectedText": line, "Type": "LINE", "Id": ident, "Confidence": 99.0,
                                   "Geometry": {"BoundingBox": box}})
                parent, ident = ident, ident + 1
                for word in line.split():
                    detections.append({"DetectedText": word, "Type": "WORD", "Id": ident, "ParentId": parent,
                                       "Confidence": 98.0, "Geometry": {"BoundingBox": box}})
                    ident += 1
            record["text"] = {"TextDetections": detections, "TextModelVersion": "3.0"}
        if self.moderation is not None:
            record["moderation"] = {"ModerationLabels": [
                {"Name": name, "ParentName": parent, "TaxonomyLevel": level, "Confidence": confidence}
                for name, parent, level, confidence in self.moderation], "ModerationModelVersion": "7.0"}
        return record


def _image(key: str, labels: dict[str, float], day: int, name: str) -> Put:
    content_type = "image/png" if key.endswith(".png") else "image/jpeg"
    return Put(key, image_bytes(labels, content_type), f"2026-11-{day:02d}T08:00:00Z", name, content_type)


# Label confidences as the scripted labeler answers them; under 55 (the workflow's MinConfidence)
# a label is not stored at all.
GALLERY = (
    _image("raw-image/gone.jpg", {"Dog": 99.0}, 19, "seed-gone"),
    _image("raw-image/dog-1.jpg", {"Dog": 98.0, "Animal": 90.0}, 20, "seed-dog-1"),
    _image("raw-image/cat-1.png", {"Cat": 96.0, "Animal": 88.0}, 21, "seed-cat-1"),
    _image("raw-image/dog-cat.jpg", {"Dog": 85.0, "Cat": 70.0, "Animal": 92.0}, 22, "seed-dog-cat"),
    _image("raw-image/dog-2.jpg", {"Dog": 60.0, "Grass": 99.0, "Shadow": 20.0}, 23, "seed-dog-2"),
    _image("raw-image/car.png", {"Car": 99.0, "Vehicle": 97.0}, 24, "seed-car"),
    Put("raw-image/corrupt.jpg", b"\xff\xd8 this is not a JPEG", "2026-11-25T08:00:00Z", "seed-corrupt"),
    Delete("raw-image/gone.jpg", "2026-11-26T08:00:00Z", "seed-gone-deleted"),
    # The optional analyses: a sign, a road name, a cafe whose moderation analysis failed, a flagged
    # image (Rekognition's taxonomy: a level-2 label comes with its level-1 parent). dog-cat.jpg
    # keeps what the workflow recorded.
    Analysed("raw-image/car.png", ("HARBOUR", "CAR PARK"), ()),
    Analysed("raw-image/dog-1.jpg", ("Harbour Road",), ()),
    Analysed("raw-image/dog-2.jpg", ("Harbourside cafe",), None,
             (("moderation", "Rekognition.ThrottlingException", "Rate exceeded"),)),
    Analysed("raw-image/cat-1.png", (), (("Violence", "", 1, 81.0), ("Weapons", "Violence", 2, 81.0))),
)

SETUPS = {"gallery": GALLERY}


def seed(world, setup: str) -> None:
    for step in SETUPS[setup]:
        if isinstance(step, Put):
            world.put(step.key, step.data, step.content_type, step.time, step.name)
        elif isinstance(step, Analysed):
            world.put_record(step.record(world.indexed(step.key)))
        else:
            world.delete(step.key, step.time, step.name)


def data_of(setup: str, key: str) -> bytes:
    """The bytes the setup stored under `key` (last put)."""
    return [s.data for s in SETUPS[setup] if isinstance(s, Put) and s.key == key][-1]
