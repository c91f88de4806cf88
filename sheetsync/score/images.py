"""Page images as the model sees them: grey, inverted (ink = 1), a fixed height."""

from __future__ import annotations

import numpy as np

MODEL_PAGE_HEIGHT = 400  # an A4 page at ~34 dpi, the paper's resolution (393 x 278), rounded for the U-Net


def model_scale(page_height: int, model_height: int = MODEL_PAGE_HEIGHT) -> float:
    """Factor from a stored page's pixels to model pixels (`model_height`: the model's page height)."""
    return model_height / page_height


def to_model_page(image: np.ndarray, model_height: int = MODEL_PAGE_HEIGHT) -> np.ndarray:
    """A grey uint8 page (white paper) as float32 ink in [0, 1], resized to `model_height` pixels high."""
    from PIL import Image

    height, width = image.shape
    scale = model_scale(height, model_height)
    size = (max(1, round(width * scale)), model_height)
    resized = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR))
    return 1.0 - resized.astype(np.float32) / 255.0
