"""The training losses and pixel counts for precision/recall/F1."""

from __future__ import annotations

import numpy as np
import torch

SMOOTH = 1.0


def dice_loss(logits: torch.Tensor, masks: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted mean over maps (B, K, H, W) of 1 - Dice(sigmoid(logits), masks)."""
    probabilities = torch.sigmoid(logits)
    overlap = (probabilities * masks).sum((-2, -1))
    total = probabilities.sum((-2, -1)) + masks.sum((-2, -1))
    dice = 1.0 - (2.0 * overlap + SMOOTH) / (total + SMOOTH)
    return (dice * weights).sum() / weights.sum().clamp_min(1.0)


def spatial_cross_entropy(logits: torch.Tensor, masks: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted mean over maps (B, K, H, W) of the cross-entropy between the target band, as a distribution
    over the page's pixels, and the softmax of the logits over the page: it rewards the right place relative
    to every other place, where Dice first learns to switch the whole page off."""
    log_probabilities = torch.log_softmax(logits.flatten(-2), -1)
    target = masks.flatten(-2)
    target = target / target.sum(-1, keepdim=True).clamp_min(1.0)
    entropy = -(target * log_probabilities).sum(-1)
    return (entropy * weights).sum() / weights.sum().clamp_min(1.0)


def pixel_counts(predicted: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """[true positives, predicted positives, actual positives] of boolean masks."""
    return np.array([float((predicted & target).sum()), float(predicted.sum()), float(target.sum())])
