import json

import numpy as np
import pytest

from sheetsync.data.tempo import TempoCurve, constant, gradual, random_curve, rubato

TIMES = np.linspace(0, 60, 1201)


def local_speed(curve, times=TIMES):
    """Score seconds per performance second between neighbouring times: the tempo factor played."""
    return np.diff(times) / np.diff(curve(times))


def test_constant_factor_scales_time():
    np.testing.assert_allclose(constant(2.0)(TIMES), TIMES / 2, atol=1e-9)
    np.testing.assert_allclose(constant(0.5)(TIMES), TIMES * 2, atol=1e-9)
    assert constant(2.0)(3.0) == pytest.approx(1.5)  # scalars work too


@pytest.mark.parametrize("start, end, kind", [(0.8, 1.2, "accelerando"), (1.2, 0.8, "ritardando")])
def test_gradual_change_moves_the_tempo_the_right_way(start, end, kind):
    curve = gradual(start, end, 60.0)
    speed = local_speed(curve)
    assert curve.kind == kind
    assert speed[0] == pytest.approx(start, abs=0.005) and speed[-1] == pytest.approx(end, abs=0.005)
    assert np.all(np.diff(speed) * np.sign(end - start) > -1e-9)
    assert abs(np.diff(speed)).max() < 0.002  # smooth: no jumps in tempo


def test_a_global_factor_combines_with_a_local_curve():
    local = rubato(np.random.default_rng(5), 60.0)
    np.testing.assert_allclose(local.scaled(1.25)(TIMES), local(TIMES) / 1.25, rtol=1e-12)
    np.testing.assert_allclose(rubato(np.random.default_rng(5), 60.0, factor=1.25)(TIMES), local(TIMES) / 1.25)
    np.testing.assert_allclose(gradual(1.0, 1.0, 60.0, factor=2.0)(TIMES), TIMES / 2, atol=1e-9)


def test_performance_time_integrates_the_tempo():
    curve = rubato(np.random.default_rng(11), 60.0, depth=0.2, period=2.0, factor=0.7)
    np.testing.assert_allclose(local_speed(curve), curve.factors((TIMES[1:] + TIMES[:-1]) / 2), rtol=5e-4)


def test_rubato_stays_within_its_depth_moves_smoothly_and_is_seeded():
    for seed in range(10):
        curve = rubato(np.random.default_rng(seed), 120.0, depth=0.2, period=3.0)
        speed = local_speed(curve, np.linspace(0, 120, 4801))
        assert speed.min() >= np.exp(-0.2) - 1e-4 and speed.max() <= np.exp(0.2) + 1e-4
        assert speed.std() > 0.02  # it does fluctuate
        assert abs(np.diff(speed)).max() < 0.01  # without jumps
    same = rubato(np.random.default_rng(3), 60.0)
    np.testing.assert_array_equal(same(TIMES), rubato(np.random.default_rng(3), 60.0)(TIMES))
    assert not np.allclose(same(TIMES), rubato(np.random.default_rng(4), 60.0)(TIMES))


def test_random_curves_are_strictly_increasing_seeded_and_describable():
    kinds = set()
    outside = np.array([-1.0, -0.1, 0.0, 59.99, 60.0, 75.0])  # before and after the piece too
    for seed in range(60):
        curve = random_curve(np.random.default_rng(seed), 60.0)
        assert curve == random_curve(np.random.default_rng(seed), 60.0)
        assert np.all(np.diff(curve(TIMES)) > 0) and np.all(np.diff(curve(outside)) > 0)
        assert curve(0.0) == 0.0
        assert 0.5 <= curve.factor <= 1.5
        assert 0.5 * 0.8 <= local_speed(curve).min() and local_speed(curve).max() <= 1.5 * 1.25
        description = json.loads(json.dumps(curve.describe()))
        rebuilt = TempoCurve.from_description(description)
        np.testing.assert_allclose(rebuilt(TIMES), curve(TIMES), rtol=1e-3)
        kinds.add(description["kind"])
    assert kinds == {"constant", "accelerando", "ritardando", "rubato"}
    narrow = [random_curve(np.random.default_rng(s), 30.0, factor_range=(0.9, 1.1)).factor for s in range(20)]
    assert min(narrow) >= 0.9 and max(narrow) <= 1.1


@pytest.mark.parametrize("make", [lambda: constant(0.0), lambda: constant(-1.0), lambda: gradual(1.0, 0.0, 10.0),
                                  lambda: TempoCurve("rubato", 1.0, (0.0, 0.0), (1.0, 1.0))])
def test_impossible_tempi_are_refused(make):
    with pytest.raises(ValueError):
        make()
