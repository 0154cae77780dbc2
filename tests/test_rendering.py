import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from lecture_utils import make_env, rollout_episode  # noqa: E402
from lecture_utils.rendering import downscale, frame_strip, gif_bytes, render_episode, show_gif  # noqa: E402


def push_left(obs):
    return 0  # falls within a dozen steps: a short, cheap episode


def test_render_episode_shapes_and_steps():
    rendered = render_episode(push_left, seed=0, every=1, width=240)
    T = rendered.episode.length
    assert rendered.frames.shape == (T + 1, 160, 240, 3) and rendered.frames.dtype == np.uint8
    np.testing.assert_array_equal(rendered.steps, np.arange(T + 1))
    assert rendered.fps == 50
    assert rendered.frames.min() < 50 and rendered.frames.max() == 255  # a dark cart on a white background


def test_render_episode_keeps_every_kth_frame_and_the_last():
    rendered = render_episode(push_left, seed=0, every=3, width=120)
    T = rendered.episode.length
    expected = list(range(0, T, 3)) + [T]
    np.testing.assert_array_equal(rendered.steps, expected)
    assert rendered.frames.shape == (len(expected), 80, 120, 3)
    assert rendered.fps == pytest.approx(50 / 3)
    with pytest.raises(ValueError):
        render_episode(push_left, every=0)


def test_render_episode_records_the_same_episode_as_rollout():
    def controller(obs):
        return int(obs[2] + 0.5 * obs[3] > 0)

    rendered = render_episode(controller, seed=4, every=50, width=60)
    plain = rollout_episode(make_env(seed=4), controller)
    assert rendered.episode.length == plain.length == 500
    np.testing.assert_array_equal(rendered.episode.obs, plain.obs)


def test_downscale_keeps_aspect_ratio():
    frame = np.zeros((400, 600, 3), dtype=np.uint8)
    assert downscale(frame, 240).shape == (160, 240, 3)
    same = downscale(frame, None)
    assert same.shape == (400, 600, 3) and same.dtype == np.uint8 and np.array_equal(same, frame)
    assert downscale(frame, 1000).shape == (400, 600, 3)  # never upscales


def test_gif_bytes_frames_size_and_timing():
    frames = np.zeros((6, 40, 60, 3), dtype=np.uint8)
    for k in range(6):
        frames[k, :, 10 * k:10 * k + 10] = 255  # a white bar that moves: every frame differs
    data = gif_bytes(frames, fps=10, every=2, width=30)
    assert data[:6] == b"GIF89a"
    image = Image.open(io.BytesIO(data))
    assert image.n_frames == 3 and image.size == (30, 20)
    assert image.info["duration"] == 100 and image.info["loop"] == 0
    with pytest.raises(ValueError):
        gif_bytes(frames[:0])


def test_gif_of_a_rendered_episode_is_small():
    rendered = render_episode(push_left, seed=0, every=1, width=240)
    data = gif_bytes(rendered.frames, fps=rendered.fps)
    assert len(data) < 50_000
    shown = show_gif(data)
    assert shown.data == data and shown.format == "gif"


def test_frame_strip_titles_each_panel_with_its_step():
    rendered = render_episode(push_left, seed=0, every=2, width=60)
    fig = frame_strip(rendered, n=3, title="push left")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "t = 0" and titles[-1] == f"t = {rendered.episode.length}" and len(titles) == 3
    plt.close(fig)
    fig = frame_strip(rendered.frames, n=2)
    assert [ax.get_title() for ax in fig.axes] == ["t = 0", f"t = {len(rendered.frames) - 1}"]
    plt.close(fig)
    with pytest.raises(ValueError):
        frame_strip(np.zeros((3, 4, 4)))
    # every kept frame is a picture of the episode: one per `every` steps, first and last included
    length = rendered.episode.length
    assert rendered.steps.tolist() == [*range(0, length, 2), length] and len(rendered.frames) == len(rendered.steps)
    assert rendered.frames[0].shape[1] == 60


def test_lean_controller_reaches_the_time_limit():
    from lecture_utils.rendering import lean_controller

    assert lean_controller(np.array([0.0, 0.0, 0.01, 0.0])) == 1  # pole leans right: push right
    assert lean_controller(np.array([0.0, 0.0, 0.01, -0.1])) == 0  # ... but is already falling back left
    ep = rollout_episode(make_env(seed=0), lean_controller)
    assert ep.length == 500 and ep.truncated[-1] and not ep.terminated.any()
