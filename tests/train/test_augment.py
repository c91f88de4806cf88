import numpy as np
import torch

from sheetsync.train.augment import AudioAugment, augment_pages


def test_page_and_mask_move_together():
    pages = torch.zeros(3, 2, 64, 48)
    pages[:, :, 20:30, 10:14] = 1.0  # a block of "ink" where the target is
    masks = (pages > 0).float()
    warped_pages, warped_masks = augment_pages(pages.clone(), masks.clone(), torch.Generator().manual_seed(0))
    assert warped_pages.shape == pages.shape and warped_masks.shape == masks.shape
    assert set(torch.unique(warped_masks).tolist()) <= {0.0, 1.0}
    for i in range(3):
        ink = warped_pages[i, 0] > 0.5
        overlap = (ink & (warped_masks[i, 0] > 0)).sum() / max(int(warped_masks[i, 0].sum()), 1)
        assert overlap > 0.6  # the target still covers the ink it marked


def test_audio_augmentation_is_seeded_and_changes_the_sound():
    spectrogram = np.random.default_rng(0).uniform(0, 2, size=(200, 78)).astype(np.float16)
    first = AudioAugment.draw(np.random.default_rng(5), 78).apply(spectrogram, np.random.default_rng(6))
    again = AudioAugment.draw(np.random.default_rng(5), 78).apply(spectrogram, np.random.default_rng(6))
    np.testing.assert_array_equal(first, again)
    assert first.shape == spectrogram.shape and first.dtype == np.float16
    assert np.abs(first.astype(np.float32) - spectrogram.astype(np.float32)).mean() > 0.01
    assert np.all(first >= 0)
