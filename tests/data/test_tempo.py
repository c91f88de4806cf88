import json

import numpy as np
import pytest

from sheetsync.data.tempo import constant, gradual, random_curve, rubato

TIMES = np.linspace(0, 60, 601)


def local_speed(curve, times=TIMES):
    return np.diff(times) / np.diff(curve(times))


def test_constant_factor_scales_time():
    np.testing.assert_allclose(constant(2.0)(TIMES), TIMES / 2, atol=1e-9)
    np.testing.assert_allclose(constant(0.5)(TIMES), TIMES * 2, atol=1e-9)


@pytest.mark.parametrize("start, end", [(0.8, 1.2), (1.2, 0.8)])
def test_gradual_change_moves_the_tempo_the_right_way(start, end):
    speed = local_speed(gradual(1.0, start, end, 60.0))
    assert speed[0] == pytest.approx(start, abs=0.01) and speed[-1] == pytest.approx(end, abs=0.01)
    assert np.all(np.diff(speed) * np.sign(end - start) >= -1e-9)


def test_rubato_stays_within_its_depth_and_is_seeded():
    curve = rubato(1.0, np.random.default_rng(3), 60.0, depth=0.2)
    speed = local_speed(curve)
    assert speed.min() >= np.exp(-0.2) - 1e-6 and speed.max() <= np.exp(0.2) + 1e-6
    assert speed.std() > 0.01
    np.testing.assert_array_equal(curve(TIMES), rubato(1.0, np.random.default_rng(3), 60.0, depth=0.2)(TIMES))


def test_random_curves_are_strictly_increasing_and_describable():
    kinds = set()
    for seed in range(40):
        curve = random_curve(np.random.default_rng(seed), 60.0)
        assert np.all(np.diff(curve(TIMES)) > 0)
        assert 0.5 <= curve.factor <= 1.5
        description = json.loads(json.dumps(curve.describe()))
        kinds.add(description["kind"])
    assert kinds == {"constant", "accelerando", "ritardando", "rubato"}
