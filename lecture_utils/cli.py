"""Command line: ``python -m lecture_utils train ...``.

Every mistake in the arguments ends with one line that names the option and how to fix it, exit status 2, and no
output file.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, NoReturn, Sequence

from .errors import ConfigError, LectureError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _number(kind: str, check: Callable[[float], bool], what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number; give {what}") from None
        if not math.isfinite(value) or not check(value):
            raise argparse.ArgumentTypeError(f"{text!r} is out of range; give {what}")
        return value
    parse.__name__ = kind
    return parse


def _whole(minimum: int, example: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; give one >= {minimum}, e.g. {example}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is too small; give a whole number >= {minimum}, e.g. {example}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{text!r} is too large; give a whole number from {minimum} to {maximum}, "
                                             f"e.g. {example}")
        return value
    parse.__name__ = "whole number"
    return parse


def _optional(parse: Callable[[str], float]) -> Callable[[str], float | None]:
    def parse_or_none(text: str) -> float | None:
        return None if text.lower() in ("none", "off") else parse(text)
    parse_or_none.__name__ = parse.__name__
    return parse_or_none


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m lecture_utils", description="A2C on Gymnasium, as in the lectures.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train the seed's A2C (or a variant) and write the per-episode CSV")
    # NumPy's RandomState (the seed's action sampling) takes seeds below 2**32.
    train.add_argument("--seed", type=_whole(0, 0, maximum=2**32 - 1), default=0,
                       help="one seed fixes everything, 0 to 4294967295 (default 0)")
    train.add_argument("--episodes", type=_whole(1, 2000), default=2000, help="training episodes (seed: 2000)")
    train.add_argument("--env", default="CartPole-v1", help="Gymnasium id with a discrete action space")
    train.add_argument("--gamma", type=_number("gamma", lambda v: 0 < v <= 1, "a number in (0, 1], e.g. 0.99"),
                       default=0.99, help="discount factor (seed: 0.99)")
    train.add_argument("--lr", type=_number("lr", lambda v: v > 0, "a positive number, e.g. 1e-3"), default=1e-3,
                       help="Adam learning rate of both networks (seed: 1e-3)")
    train.add_argument("--entropy-coef", type=_number("coef", lambda v: v >= 0, "a number >= 0, e.g. 0.01"),
                       default=0.0, help="entropy bonus beta (seed: 0, off)")
    train.add_argument("--max-grad-norm", type=_optional(_number("norm", lambda v: v > 0, "a positive number, e.g. 0.5, or none")),
                       default=None, help="clip gradients to this L2 norm (seed: none)")
    train.add_argument("--gae-lambda", type=_optional(_number("lambda", lambda v: 0 <= v <= 1, "a number in [0, 1], e.g. 0.95, or none")),
                       default=None, help="use GAE(lambda) advantages (seed: none, i.e. G - V)")
    train.add_argument("--lr-schedule", choices=["constant", "linear"], default="constant",
                       help="learning rates constant (seed) or decaying linearly to 0")
    train.add_argument("--stable-log-prob", action="store_true", help="log-softmax instead of log(p + 1e-8)")
    train.add_argument("--normalize-advantages", action="store_true", help="standardise advantages per batch")
    train.add_argument("--ratio-clip", type=_optional(_number("eps", lambda v: 0 < v < 1, "a number in (0, 1), e.g. 0.2, or none")),
                       default=None, help="PPO's clipped surrogate with this epsilon (seed: none)")
    train.add_argument("--num-envs", type=_whole(1, 8), default=1, help="environments stepped together (seed: 1)")
    train.add_argument("--rollout-steps", type=_optional(_whole(1, 16)), default=None,
                       help="learn every N steps of each env instead of after each episode (seed: none)")
    train.add_argument("--implementation", choices=["numpy", "torch"], default="numpy",
                       help="numpy (fast, default) or torch (autograd, bit-identical to the seed script)")
    train.add_argument("--eval-episodes", type=_whole(1, 100), default=100, help="episodes of the final score (100)")
    train.add_argument("--greedy-eval", action="store_true", help="score the argmax policy instead of sampling")
    train.add_argument("--log-every", type=_whole(0, 50), default=50, help="progress line every N episodes (0: none)")
    train.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    train.add_argument("--out", default="runs/a2c.csv",
                       help="per-episode CSV to write, gzipped if it ends in .gz (default runs/a2c.csv)")
    train.set_defaults(handler=_run_train)

    experiments = commands.add_parser("experiments", help="make the data sets in data/ (all, or those named)")
    experiments.add_argument("names", nargs="*", help="data sets to make (default: all); see --list")
    experiments.add_argument("--list", action="store_true", help="list the data sets and exit")
    experiments.add_argument("--force", action="store_true", help="recompute runs even if already finished")
    experiments.add_argument("--jobs", type=_whole(1, 2), default=None, help="worker processes (default: all cores)")
    experiments.set_defaults(handler=_run_experiments)
    return parser


def _run_experiments(args: argparse.Namespace) -> int:
    from .experiments import check_data_set_name, describe_data_set, experiment_names, make_data_set

    if args.list:
        for name in experiment_names():
            print(f"{name}: {describe_data_set(name)}")
        return 0
    names = args.names or experiment_names()
    for name in names:
        check_data_set_name(name)  # every name is checked before anything runs
    for name in names:
        make_data_set(name, n_jobs=args.jobs or -1, force=args.force)
    return 0


def _run_train(args: argparse.Namespace) -> int:
    from .atomic import check_writable
    from .config import A2CConfig
    from .envs import make_env
    from .evaluation import evaluate
    from .history import EPISODE_COLUMNS
    from .trainer import train

    config = A2CConfig(env_id=args.env, episodes=args.episodes, gamma=args.gamma, actor_lr=args.lr,
                       critic_lr=args.lr, entropy_coef=args.entropy_coef, max_grad_norm=args.max_grad_norm,
                       gae_lambda=args.gae_lambda, lr_schedule=args.lr_schedule,
                       stable_log_prob=args.stable_log_prob, normalize_advantages=args.normalize_advantages,
                       ratio_clip=args.ratio_clip, num_envs=args.num_envs, rollout_steps=args.rollout_steps,
                       implementation=args.implementation)
    make_env(config.env_id).close()  # an unknown or continuous-action id fails here, before any training
    out = check_writable(args.out)
    result = train(config, seed=args.seed, progress=args.progress, log_every=args.log_every)
    columns = [c for c in EPISODE_COLUMNS if c != "advantage_std"]  # the CSV's documented columns
    # The table is written before the final evaluation, so that neither a Ctrl-C there nor a failed write loses it.
    written = _write_table(result.history[columns], out)
    print(f"Wrote {len(result.history)} episodes to {written}")
    try:
        score = evaluate(result.agent, result.env, args.eval_episodes, greedy=args.greedy_eval)
    except KeyboardInterrupt:
        print(f"python -m lecture_utils: interrupted during the final evaluation; the training table is in {written}",
              file=sys.stderr)
        return 130
    kind = "greedy" if args.greedy_eval else "sampled"
    print(f"Final score ({kind} actions): {score}")
    return 0


def _write_table(table: "pd.DataFrame", out: Path) -> Path:
    """Write ``table`` to ``out`` atomically (gzip for ``.gz``); if that fails, keep it in a recovery file."""
    import gzip
    import io
    import tempfile

    from .atomic import atomic_write_bytes

    text = table.to_csv(index=False, lineterminator="\n").encode("utf-8")
    if out.suffix == ".gz":
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as handle:
            handle.write(text)
        text = buffer.getvalue()
    try:
        atomic_write_bytes(out, text)
        return out
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
    fd, recovery = tempfile.mkstemp(prefix="a2c-run-", suffix=out.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text)
    except OSError:
        Path(recovery).unlink(missing_ok=True)
        raise ConfigError(f"cannot write --out {str(out)!r} ({reason}), nor a copy in {tempfile.gettempdir()}; "
                          "free some space and train again") from None
    raise ConfigError(f"cannot write --out {str(out)!r} ({reason}); the finished run is saved in {recovery}: "
                      "move it where you want it")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except LectureError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted; no output file was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
