"""Every photo a phone or camera makes gets tagged, locally, through the workflow file: formats x
orientations x sizes end indexed with boxes relative to the upright picture, or as dead letters
that say why. The Normalize Lambda's handler runs in-process behind `arn:aws:states:::lambda:invoke`."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from autotagger.contracts import DERIVATIVES_PREFIX, MAX_SOURCE_PIXELS, NORMALIZED_MAX_SIDE
from autotagger.domain.documents import document_id

from .images import RED_BOX, noise_jpeg, photo

MEDIA = {"jpeg": "image/jpeg", "png": "image/png", "heic": "image/heic", "webp": "image/webp",
         "avif": "image/avif", "gif": "image/gif"}
EXT = {"jpeg": "jpg", "png": "png", "heic": "heic", "webp": "webp", "avif": "avif", "gif": "gif"}


def _tag(pipeline, key: str, data: bytes, media_type: str) -> dict:
    pipeline.upload(key, data, media_type)
    assert pipeline.wait_idle(60)
    document = pipeline.index.get(document_id(pipeline.bucket_name, key))
    assert document is not None, pipeline.dead_letters()["workflow"]
    return document


OPTIONAL_ANALYSES = ("DetectText", "DetectModerationLabels")


def _tasks(pipeline) -> list[str]:
    [execution] = pipeline.list_executions()
    detail = pipeline.get_execution(execution["arn"])
    return [e["stateEnteredEventDetails"]["name"] for e in detail["history"] if e["type"] == "TaskStateEntered"]


def _states(pipeline) -> list[str]:
    """The tasks the execution ran, in order, but for the optional analyses: they run beside
    DetectLabels (or DetectLabelsOnDerivative) in the same Parallel state, on the same object."""
    return [name for name in _tasks(pipeline) if not name.startswith(OPTIONAL_ANALYSES)]


def _box(document: dict) -> dict:
    [label] = [label for label in document["labels"] if label["name"] == "Red Square"]
    return label["instances"][0]["bounding_box"]


def _assert_upright(box: dict) -> None:
    for side in ("left", "top", "width", "height"):
        assert box[side] == pytest.approx(RED_BOX[side], abs=0.03), (side, box)


def _derivative_key(key: str) -> str:
    return DERIVATIVES_PREFIX + hashlib.sha256(key.encode()).hexdigest()


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_GIVEN_a_jpeg_or_png_that_needs_nothing_WHEN_uploaded_THEN_detect_labels_is_the_only_image_call(
        pipeline, labeler, fmt):
    document = _tag(pipeline, f"phone/photo.{EXT[fmt]}", photo(fmt), MEDIA[fmt])

    assert _states(pipeline) == ["DetectLabels", "PutRecord"]
    # no call but the three analyses of the original and the record: no Normalize, no S3 call
    assert sorted(_tasks(pipeline)) == ["DetectLabels", "DetectModerationLabels", "DetectText", "PutRecord"]
    assert document["analyzed_key"] == f"phone/photo.{EXT[fmt]}" and "normalized" not in document
    _assert_upright(_box(document))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_GIVEN_a_sideways_jpeg_with_an_exif_orientation_WHEN_tagged_directly_THEN_its_box_is_upright(
        pipeline, orientation):
    document = _tag(pipeline, "phone/sideways.jpg", photo("jpeg", orientation), "image/jpeg")

    assert _states(pipeline) == ["DetectLabels", "PutRecord"]  # like Rekognition, the labeler applies EXIF
    _assert_upright(_box(document))


@pytest.mark.parametrize("fmt, orientation", [
    ("heic", 1), ("heic", 6), ("heic", 8), ("heic", 3),
    ("webp", 1), ("webp", 6), ("avif", 1), ("avif", 8), ("gif", 1),
])
def test_GIVEN_a_format_rekognition_cannot_read_WHEN_uploaded_THEN_its_upright_derivative_is_tagged(
        pipeline, labeler, fmt, orientation):
    key = f"phone/IMG_0001.{EXT[fmt].upper()}"
    document = _tag(pipeline, key, photo(fmt, orientation), MEDIA[fmt])

    assert _states(pipeline) == ["Normalize", "DetectLabelsOnDerivative", "PutRecord"]
    assert sorted(set(_tasks(pipeline)) - set(_states(pipeline))) == [
        "DetectModerationLabelsOnDerivative", "DetectTextOnDerivative"]  # the derivative's, not the original's
    assert document["key"] == key and document["id"] == document_id(pipeline.bucket_name, key)
    assert document["analyzed_key"] == _derivative_key(key)
    assert document["normalized"]["source_format"] == {"heic": "HEIF"}.get(fmt, fmt.upper())
    assert labeler.calls == ["JPEG"]
    _assert_upright(_box(document))
    derivative = Image.open(io.BytesIO(pipeline.stores.bucket.get(_derivative_key(key))))
    assert derivative.format == "JPEG" and derivative.size == (320, 240)


def test_GIVEN_an_animated_gif_WHEN_tagged_THEN_its_first_frame_is_analysed_and_the_document_says_so(pipeline):
    document = _tag(pipeline, "web/anim.gif", photo("gif", frames=3), "image/gif")

    assert document["normalized"]["frames"] == 3 and document["normalized"]["analyzed_frame"] == 0
    _assert_upright(_box(document))  # the red square is on frame 0 only


def test_GIVEN_a_heic_named_jpg_WHEN_uploaded_THEN_content_decides_and_it_is_normalised(pipeline):
    document = _tag(pipeline, "phone/really-a-heic.jpg", photo("heic", 6), "image/jpeg")

    assert _states(pipeline) == ["DetectLabels", "Normalize", "DetectLabelsOnDerivative", "PutRecord"]
    assert document["normalized"]["source_format"] == "HEIF"
    _assert_upright(_box(document))


def test_GIVEN_a_jpeg_wider_than_rekognition_reads_WHEN_uploaded_THEN_the_derivative_is_scaled_and_tagged(pipeline):
    wide = photo("jpeg", 6, (12_000, 2_000))  # upright 12,000 px wide: over the 10,000 px limit
    document = _tag(pipeline, "camera/panorama.jpg", wide, "image/jpeg")

    assert _states(pipeline) == ["DetectLabels", "Normalize", "DetectLabelsOnDerivative", "PutRecord"]
    assert (document["normalized"]["width"], document["normalized"]["height"]) == (NORMALIZED_MAX_SIDE, 683)
    _assert_upright(_box(document))


def test_GIVEN_a_40_mb_camera_jpeg_WHEN_uploaded_THEN_it_is_normalised_without_trying_rekognition_first(pipeline):
    data = noise_jpeg(7_000, 5_000)
    assert 38 * 2**20 < len(data) < 64 * 2**20, len(data)  # over Rekognition's 15 MB, under MAX_SOURCE_BYTES
    document = _tag(pipeline, "camera/DSC_0001.JPG", data, "image/jpeg")

    assert _states(pipeline) == ["Normalize", "DetectLabelsOnDerivative", "PutRecord"]
    assert document["normalized"]["width"] == NORMALIZED_MAX_SIDE


def _dead_letter(pipeline, key: str, data: bytes, media_type: str) -> dict:
    pipeline.upload(key, data, media_type)
    assert pipeline.wait_idle(60)
    assert pipeline.index.get(document_id(pipeline.bucket_name, key)) is None
    [letter] = pipeline.dead_letters()["workflow"]
    assert letter["body"]["event"]["detail"]["object"]["key"] == key
    return letter["reason"]


def test_GIVEN_a_truncated_heic_WHEN_uploaded_THEN_a_dead_letter_says_it_is_corrupt(pipeline):
    data = photo("heic", 6, (640, 480))
    reason = _dead_letter(pipeline, "phone/cut.heic", data[: len(data) * 2 // 3], "image/heic")

    assert reason["error"] == "CorruptImage" and "HEIF data is corrupt or truncated" in reason["cause"]


def test_GIVEN_a_truncated_jpeg_WHEN_uploaded_THEN_normalize_refuses_it_as_corrupt(pipeline):
    data = photo("jpeg", 1, (640, 480))
    reason = _dead_letter(pipeline, "camera/cut.jpg", data[: len(data) // 2], "image/jpeg")

    assert reason["error"] in ("CorruptImage", "Rekognition.InvalidImageFormatException"), reason


def test_GIVEN_a_decompression_bomb_WHEN_uploaded_THEN_it_is_refused_before_decoding(pipeline):
    side = int(MAX_SOURCE_PIXELS ** 0.5) + 100  # a few KB of PNG that would decode to 300 MB+
    bomb = io.BytesIO()
    Image.new("1", (side, side)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < 2 * 2**20
    reason = _dead_letter(pipeline, "web/bomb.webp", bomb.getvalue(), "image/webp")

    assert reason["error"] == "ImageTooLarge" and f"{MAX_SOURCE_PIXELS:,}" in reason["cause"]


def test_GIVEN_a_tiny_heic_WHEN_uploaded_THEN_a_dead_letter_says_it_is_too_small(pipeline):
    reason = _dead_letter(pipeline, "phone/icon.heic", photo("heic", 1, (64, 48)), "image/heic")

    assert reason["error"] == "ImageTooSmall" and "80 px" in reason["cause"]


def test_GIVEN_a_pdf_named_heic_WHEN_uploaded_THEN_a_dead_letter_says_what_it_is(pipeline):
    reason = _dead_letter(pipeline, "phone/scan.heic", b"%PDF-1.7\n" + bytes(2000), "image/heic")

    assert reason["error"] == "UnsupportedImageFormat" and "PDF" in reason["cause"]


def test_GIVEN_a_normalised_original_WHEN_deleted_THEN_its_derivative_and_document_are_gone(pipeline):
    key = "phone/IMG_0002.HEIC"
    _tag(pipeline, key, photo("heic", 6), "image/heic")
    assert pipeline.stores.bucket.head(_derivative_key(key)) is not None

    pipeline.delete(key)
    assert pipeline.wait_idle(30)

    assert pipeline.stores.bucket.head(_derivative_key(key)) is None
    assert pipeline.index.search()["images"] == []
    assert pipeline.dead_letters()["workflow"] == []


def test_GIVEN_an_execution_for_a_derivative_WHEN_run_THEN_it_is_ignored(pipeline, labeler):
    key = "phone/IMG_0003.heic"
    _tag(pipeline, key, photo("heic"), "image/heic")
    derivative = pipeline.stores.bucket.head(_derivative_key(key))

    from autotagger.local.s3_events import object_created_event
    pipeline.start_execution(object_created_event(derivative, region="local", account="000000000000"), "again")
    assert pipeline.wait_idle(30)

    assert len(labeler.calls) == 1 and pipeline.dead_letters()["workflow"] == []
    assert len(pipeline.index.search()["images"]) == 1
