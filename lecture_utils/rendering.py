"""Pictures of an episode without a window: frames from ``render_mode="rgb_array"``, a still strip, a small GIF.

Sizes are kept small on purpose, because every image ends up inside a notebook file: frames are downscaled as they
are captured (CartPole draws 600 x 400 pixels; 240 x 160 is plenty), the GIF keeps only every few frames and a
32-colour palette, and figures use the dpi that :func:`~lecture_utils.session.setup` sets.

Typical use::

    rendered = render_episode(policy, seed=0, every=2, width=240)
    show_figure(frame_strip(rendered, n=5, title="what the frames show"))
    show_gif(gif_bytes(rendered.frames, fps=rendered.fps))
"""
from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from typing import Callable, Sequence, cast

import numpy as np
from numpy.typing import NDArray

from .envs import Episode, make_env, rollout_episode

__all__ = ["RenderedEpisode", "render_episode", "downscale", "content_box", "frame_strip", "gif_bytes", "show_gif",
           "lean_controller"]

#: CartPole-v1 advances 0.02 s per step (``tau``): 50 steps per second of simulated time.
CARTPOLE_STEPS_PER_SECOND = 50


@dataclass(frozen=True)
class RenderedEpisode:
    """An episode and the frames drawn along it.

    Attributes:
        frames: ``(F, H, W, 3)`` uint8 RGB images; frame ``k`` shows the state *before* step ``steps[k]``
            (the last one, ``steps[-1] == episode.length``, shows the final state).
        steps: ``(F,)`` int64, the time step of each frame.
        episode: the recorded :class:`~lecture_utils.envs.Episode`.
        every: frames were kept every ``every`` steps (the final state is always kept).
    """

    frames: NDArray[np.uint8]
    steps: NDArray[np.int64]
    episode: Episode
    every: int

    @property
    def fps(self) -> float:
        """Frames per second that replay the episode in real (simulated) time."""
        return CARTPOLE_STEPS_PER_SECOND / self.every


def lean_controller(obs: NDArray[np.floating]) -> int:
    """A hand-written CartPole policy: push the cart toward the side the pole is falling to.

    ``obs = (x, x_dot, theta, theta_dot)``; the pole "falls right" when ``theta + 0.5 * theta_dot > 0`` (its angle
    now plus where its angular velocity takes it within about half a second), and then the cart is pushed right
    (action 1), under the pole. It keeps the pole up for the full 500 steps from typical start states, so its
    episodes end by truncation, not termination: a demo policy for pictures and for the time limit, not a lesson
    in control (it ignores the cart's position).
    """
    return int(obs[2] + 0.5 * obs[3] > 0)


def downscale(frame: NDArray[np.uint8], width: int | None) -> NDArray[np.uint8]:
    """Resize an ``(H, W, 3)`` uint8 frame to ``width`` pixels wide, keeping the aspect ratio (``None``: as is)."""
    if width is None or width >= frame.shape[1]:
        return np.asarray(frame, dtype=np.uint8)
    from PIL import Image

    height = max(1, round(frame.shape[0] * width / frame.shape[1]))
    return np.asarray(Image.fromarray(frame).resize((int(width), int(height)), Image.Resampling.BILINEAR))


def _quiet_sdl() -> None:
    """Keep pygame and SDL out of the notebook's output, before the first frame is drawn (not at import).

    pygame (used by Gymnasium's classic-control renderers) greets on stdout when imported, and on a Linux machine
    without a display (a server, CI) SDL's video start-up writes "XDG_RUNTIME_DIR is invalid" to stderr at every
    render. Rendering to arrays needs no video device, so where there is no display to open a window on anyway, SDL
    gets its dummy driver. Settings the user has made are left alone.
    """
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def render_episode(
    policy: Callable[[NDArray[np.float32]], int],
    seed: int | None = 0,
    env_id: str = "CartPole-v1",
    every: int = 1,
    width: int | None = 240,
) -> RenderedEpisode:
    """Play one episode with ``policy`` in an ``rgb_array`` environment and keep a frame every ``every`` steps.

    Args:
        policy: maps an observation ``(obs_dim,)`` to an action index.
        seed: seeds the environment as :func:`~lecture_utils.envs.make_env` does, so the episode is the one that
            ``rollout_episode(make_env(seed=seed), policy)`` records (for a deterministic policy); ``None``: unseeded.
        env_id: a Gymnasium id (any environment that renders to ``rgb_array``).
        every: keep frames of steps ``0, every, 2 every, ...`` plus the final state.
        width: downscale each kept frame to this many pixels wide as it is captured (``None``: full size,
            600 x 400 for CartPole; a 500-step episode at full size would take about 360 MB).

    Returns:
        :class:`RenderedEpisode` with frames ``(F, H, W, 3)`` uint8. No window is opened.
    """
    if int(every) != every or every < 1:
        raise ValueError(f"every must be a whole number >= 1, got {every}")
    _quiet_sdl()
    env = make_env(env_id, seed=seed, render_mode="rgb_array")
    frames: list[NDArray[np.uint8]] = []
    steps: list[int] = []
    step = 0

    def rendering_policy(obs: NDArray[np.float32]) -> int:
        # Called once per step, in the state the action is chosen in: draw that state first.
        nonlocal step
        if step % every == 0:
            frames.append(downscale(cast(NDArray[np.uint8], env.render()), width))
            steps.append(step)
        step += 1
        return policy(obs)

    try:
        # As everywhere in the package, make_env resets once with ``seed`` and the episode starts from the next
        # (unseeded) reset: the same episode as ``rollout_episode(make_env(seed=seed), policy)``.
        episode = rollout_episode(env, rendering_policy)
        frames.append(downscale(cast(NDArray[np.uint8], env.render()), width))  # the final state, after the last step
        steps.append(episode.length)
    finally:
        env.close()
    return RenderedEpisode(np.stack(frames), np.asarray(steps, dtype=np.int64), episode, int(every))


def content_box(frames: NDArray[np.uint8], margin: float = 0.1, aspect: float = 1.25) -> tuple[slice, slice]:
    """The rows and columns of ``(F, H, W, 3)`` frames that show something other than the white background, common
    to all frames: for CartPole, the cart and the pole, without the empty sky above them.

    The track is a thin line across the whole width, so a column counts only where more than 3 of its pixels are
    drawn. ``margin`` (a fraction of the frame height) is added on every side, and the box is widened to at least
    ``aspect`` times its height, around its centre. Frames with nothing drawn give the whole frame.
    """
    frames = np.asarray(frames)
    drawn: NDArray[np.bool_] = np.asarray((frames < 235).any(axis=-1))
    rows = np.flatnonzero(np.any(drawn, axis=(0, 2)))
    columns = np.flatnonzero((drawn.sum(axis=1) > 3).any(axis=0))
    height, width = frames.shape[1:3]
    if len(rows) == 0 or len(columns) == 0:
        return slice(0, height), slice(0, width)
    pad = int(round(margin * height))
    top, bottom = max(0, int(rows[0]) - pad), min(height, int(rows[-1]) + 1 + pad)
    span = min(width, max(int(columns[-1]) + 1 - int(columns[0]) + 2 * pad, int(round(aspect * (bottom - top)))))
    left = int(round((int(columns[0]) + int(columns[-1]) + 1 - span) / 2))
    left = min(max(0, left), width - span)
    return slice(top, bottom), slice(left, left + span)


def frame_strip(rendered: RenderedEpisode | NDArray[np.uint8], n: int = 5, steps: Sequence[int] | None = None,
                title: str | None = None, panel_width: float = 2.0, crop: bool = True):
    """A one-row figure of ``n`` evenly spaced frames (first and last included), each titled with its step.

    ``rendered`` is a :class:`RenderedEpisode` or a bare ``(F, H, W, 3)`` array (then ``steps`` may label the
    frames; by default they are numbered by index). With ``crop``, every panel shows the same :func:`content_box`
    of the frames shown (same scale in every panel), so the cart and pole fill the panel instead of a few pixels
    of it. ``title`` (the figure's suptitle) should say what the frames show. Returns the matplotlib ``Figure``;
    the course's dpi (:func:`~lecture_utils.session.setup`) applies.
    """
    import matplotlib.pyplot as plt

    if isinstance(rendered, RenderedEpisode):
        frames, labels = rendered.frames, rendered.steps
    else:
        frames = np.asarray(rendered)
        labels = np.asarray(steps) if steps is not None else np.arange(len(frames))
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must have shape (F, H, W, 3), got {frames.shape}")
    n = int(min(n, len(frames)))
    picks = np.unique(np.linspace(0, len(frames) - 1, n).round().astype(int))
    rows, columns = content_box(frames[picks]) if crop else (slice(None), slice(None))
    shown = frames[picks][:, rows, columns]
    height, width = shown.shape[1:3]
    dpi = plt.rcParams["figure.dpi"]
    size = [round(inches * dpi) / dpi for inches in (panel_width * len(picks), panel_width * height / width + 0.45)]
    fig, axes = plt.subplots(1, len(picks), figsize=size, squeeze=False)
    for ax, frame, k in zip(axes[0], shown, picks, strict=True):
        ax.imshow(frame, interpolation="lanczos")
        ax.set_title(f"t = {labels[k]}")
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.tight_layout(pad=0.3, rect=(0, 0, 1, 0.88) if title else (0, 0, 1, 1))
    return fig


def gif_bytes(frames: NDArray[np.uint8] | Sequence[NDArray[np.uint8]], fps: float = 25.0, every: int = 1,
              width: int | None = None, colors: int = 32) -> bytes:
    """Encode frames ``(F, H, W, 3)`` uint8 as a looping animated GIF and return its bytes.

    Keeps every ``every``-th frame, downscales to ``width`` if given, and maps all frames onto one palette of
    ``colors`` colours taken from the first frame (one palette: no flicker, small files). ``fps`` is the playback
    rate of the frames that are kept.
    """
    from PIL import Image

    kept = [downscale(np.asarray(f, dtype=np.uint8), width) for f in list(frames)[:: int(every)]]
    if not kept:
        raise ValueError("no frames to encode")
    palette = Image.fromarray(kept[0]).quantize(colors=int(colors), method=Image.Quantize.MEDIANCUT)
    images = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in kept]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], loop=0,
                   duration=max(20, int(round(1000 / fps))), optimize=True, disposal=1)
    return buffer.getvalue()


def show_gif(data: bytes):
    """An ``IPython.display.Image`` of GIF bytes: as the last line of a cell it plays inline in the notebook."""
    from IPython.display import Image

    return Image(data=data, format="gif")
