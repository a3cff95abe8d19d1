"""The local ModerationDetector: NudeNet (PyPI `nudenet`), answering like Rekognition's
DetectModerationLabels.

Why NudeNet: its wheel carries its ONNX detector (`nudenet/320n.onnx`, a YOLOv8n at 320 px), so
nothing downloads at run time, it runs on the onnxruntime the labeler already uses, and it is
maintained. It finds body parts, exposed or covered (FEMALE_BREAST_EXPOSED, BUTTOCKS_COVERED,
FACE_MALE, ...), which `NUDENET_TO_REKOGNITION` maps onto Rekognition's moderation taxonomy.

What it can see: exposed genitalia, buttocks or anus, female breasts (Rekognition's
"Explicit" > "Explicit Nudity" labels) and exposed male chests ("Non-Explicit Nudity ..." >
"Non-Explicit Nudity" > "Exposed Male Nipple"). What it cannot see, so never reports: sexual
activity, sex toys, swimwear or underwear, kissing, implied or obstructed nudity, violence and
weapons, blood, visually disturbing content, drugs, tobacco, alcohol, rude gestures, gambling,
hate symbols. An image that is safe by this detector is therefore not safe by Rekognition's
standard; on AWS the workflow calls Rekognition itself.

NudeNet's own cut-off drops detections under 0.2, so a MinConfidence under 20 shows nothing more.
"""

from __future__ import annotations

from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from autotagger.contracts import DETECT_MODERATION_DEFAULT_MIN_CONFIDENCE
from autotagger.errors import InvalidParameterException
from autotagger.labeler.images import decode
from autotagger.labeler.onnx_session import intra_op_threads, session

# Rekognition's moderation taxonomy, version 7 (label -> (parent, taxonomy level)), the labels this
# detector can give, named exactly as Rekognition names them:
# https://docs.aws.amazon.com/rekognition/latest/dg/moderation-api.html ("Label Categories").
# A top-level label's parent is "" (https://docs.aws.amazon.com/rekognition/latest/APIReference/API_ModerationLabel.html).
TAXONOMY: dict[str, tuple[str, int]] = {
    "Explicit": ("", 1),
    "Explicit Nudity": ("Explicit", 2),
    "Exposed Male Genitalia": ("Explicit Nudity", 3),
    "Exposed Female Genitalia": ("Explicit Nudity", 3),
    "Exposed Buttocks or Anus": ("Explicit Nudity", 3),
    "Exposed Female Nipple": ("Explicit Nudity", 3),
    "Non-Explicit Nudity of Intimate parts and Kissing": ("", 1),
    "Non-Explicit Nudity": ("Non-Explicit Nudity of Intimate parts and Kissing", 2),
    "Exposed Male Nipple": ("Non-Explicit Nudity", 3),
}

# NudeNet's classes (nudenet/nudenet.py) -> the level-3 Rekognition label they are evidence of.
# Left out on purpose: the COVERED classes (a breast, buttocks or genitals under any clothing, a
# coat as much as a bikini: Rekognition's "Swimwear or Underwear" needs to tell them apart, this
# model cannot), FEET_*, ARMPITS_*, BELLY_* and FACE_* (no moderation category).
NUDENET_TO_REKOGNITION: dict[str, str] = {
    "FEMALE_GENITALIA_EXPOSED": "Exposed Female Genitalia",
    "MALE_GENITALIA_EXPOSED": "Exposed Male Genitalia",
    "BUTTOCKS_EXPOSED": "Exposed Buttocks or Anus",
    "ANUS_EXPOSED": "Exposed Buttocks or Anus",
    "FEMALE_BREAST_EXPOSED": "Exposed Female Nipple",
    "MALE_BREAST_EXPOSED": "Exposed Male Nipple",
}
NUDENET_IGNORED = frozenset({
    "FEMALE_GENITALIA_COVERED", "BUTTOCKS_COVERED", "ANUS_COVERED", "FEMALE_BREAST_COVERED",
    "FEET_EXPOSED", "FEET_COVERED", "ARMPITS_EXPOSED", "ARMPITS_COVERED", "BELLY_EXPOSED", "BELLY_COVERED",
    "FACE_FEMALE", "FACE_MALE",
})


def lineage(name: str) -> list[tuple[str, str, int]]:
    """(name, parent name, taxonomy level) of `name` and each of its parents, the label first."""
    chain = []
    while name:
        parent, level = TAXONOMY[name]
        chain.append((name, parent, level))
        name = parent
    return chain


def moderation_labels(detections: list[dict[str, Any]], min_confidence: float) -> list[dict[str, Any]]:
    """Rekognition's ModerationLabels for NudeNet's `detections` ({"class", "score" 0-1}): each
    mapped label with its parents (a parent as confident as its most confident child), those at
    or above `min_confidence`, most confident first and, at equal confidence, parents first."""
    confidence: dict[str, float] = {}
    for detection in detections:
        label = NUDENET_TO_REKOGNITION.get(detection["class"])
        if label is None:
            continue
        score = round(min(float(detection["score"]) * 100.0, 100.0), 4)
        for name, _, _ in lineage(label):
            confidence[name] = max(confidence.get(name, 0.0), score)
    labels = [{"Name": name, "ParentName": TAXONOMY[name][0], "TaxonomyLevel": TAXONOMY[name][1],
               "Confidence": value} for name, value in confidence.items() if value >= min_confidence]
    return sorted(labels, key=lambda label: (-label["Confidence"], label["TaxonomyLevel"], label["Name"]))


def _model_path() -> Path:
    """The ONNX file inside the installed `nudenet` package (found without importing it)."""
    spec = find_spec("nudenet")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the local moderation detector needs the nudenet package (pip install nudenet)")
    return Path(list(spec.submodule_search_locations)[0]) / "320n.onnx"


class NudeNetModerationDetector:
    """Loads NudeNet's model once; safe to share between threads (onnxruntime sessions are).

    `concurrent_callers`: how many calls the owner runs at once; the cores are split between them
    (onnx_session.intra_op_threads), as for the labeler.
    """

    def __init__(self, concurrent_callers: int = 1):
        from nudenet import NudeDetector

        path = _model_path()
        self.model_version = f"nudenet-{metadata.version('nudenet')}-{path.stem}"

        # NudeNet's own pre- and post-processing (letterbox, NMS), on the process's shared session
        # with this runtime's thread count instead of the one NudeDetector would open.
        class _Detector(NudeDetector):
            def __init__(self) -> None:
                self.onnx_session = session(path, intra_op_threads(concurrent_callers))
                self.input_width = self.input_height = 320
                self.input_name = self.onnx_session.get_inputs()[0].name

        self._detector = _Detector()

    def detect_moderation_labels(self, image_bytes: bytes,
                                 min_confidence: float = DETECT_MODERATION_DEFAULT_MIN_CONFIDENCE) -> dict[str, Any]:
        if isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float)) \
                or not 0 <= min_confidence <= 100:
            raise InvalidParameterException(f"MinConfidence must be between 0 and 100, got {min_confidence!r}.")
        # Upright (EXIF applied) like the labeler's input; NudeNet reads OpenCV's BGR channel order.
        image = decode(image_bytes).image
        bgr = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
        detections = self._detector.detect(bgr)
        return {"ModerationLabels": moderation_labels(detections, float(min_confidence)),
                "ModerationModelVersion": self.model_version}
