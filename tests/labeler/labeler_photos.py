"""The sample photos: real photos shipped inside scikit-image and scikit-learn (no downloads)."""

from pathlib import Path

import skimage
import sklearn

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"
SKLEARN_IMAGES = Path(sklearn.__file__).parent / "datasets" / "images"

# Real photos shipped inside the packages (no downloads), read as the files' own bytes.
SAMPLE_PHOTOS = {
    "astronaut": SKIMAGE_DATA / "astronaut.png",
    "chelsea": SKIMAGE_DATA / "chelsea.png",
    "coffee": SKIMAGE_DATA / "coffee.png",
    "rocket": SKIMAGE_DATA / "rocket.jpg",
    "motorcycle": SKIMAGE_DATA / "motorcycle_left.png",
    "horse": SKIMAGE_DATA / "horse.png",
    "china": SKLEARN_IMAGES / "china.jpg",
    "flower": SKLEARN_IMAGES / "flower.jpg",
}
