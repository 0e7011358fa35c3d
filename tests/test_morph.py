"""The morph path and its writers, without Qt."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from deepstruc_gui.model.morph import path_points, write_frames, write_gif


def test_path_points_are_evenly_spaced_from_first_to_last() -> None:
    z = path_points([(0.0, 0.0), (1.0, 0.0), (1.0, 2.0)], 7)
    assert z.shape == (7, 2)
    assert np.allclose(z[0], (0, 0)) and np.allclose(z[-1], (1, 2))
    steps = np.linalg.norm(np.diff(z, axis=0), axis=1)
    assert np.allclose(steps[[0, 1, 3, 4, 5]], 0.5)  # 3 units of path in 6 steps
    assert np.allclose(z[2], (1.0, 0.0))  # the corner is on the path
    with pytest.raises(ValueError):
        path_points([(0.0, 0.0)], 5)


def test_gif_and_frames_read_back(tmp_path) -> None:
    frames = [np.full((20, 30, 4), 40 * k, np.uint8) for k in range(5)]
    write_gif(tmp_path / "m.gif", frames)
    back = iio.imread(tmp_path / "m.gif", index=None)
    assert back.shape[:3] == (5, 20, 30)
    paths = write_frames(tmp_path / "m", frames)
    assert [p.name for p in paths] == [f"m_{k:03d}.png" for k in range(5)]
    assert np.allclose(iio.imread(paths[3])[..., 0], 120)
