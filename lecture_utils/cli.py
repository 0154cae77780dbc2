"""Command line: ``python -m lecture_utils train ...``.

Every mistake in the arguments ends with one line that names the option and how to fix it, exit status 2, and no
output file.
"""
from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, NoReturn, Sequence

from .errors import ConfigError, LectureError

if TYPE_CHECKING:
    import pandas as pd

    from .config import A2CConfig

__all__ = ["main", "build_parser", "config_from_args"]


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


def _named_configs() -> dict[str, tuple[str, Callable[[], "A2CConfig"]]]:
    def recommended():
        from .experiments import RECOMMENDED_CONFIG
        return RECOMMENDED_CONFIG

    from .config import A2CConfig
    return {"seed": ("the seed's A2C, A2CConfig()", A2CConfig),
            "recommended": ("lecture 07's recipe, RECOMMENDED_CONFIG (300,000 steps)", recommended)}


NAMED_CONFIGS = _named_configs()


def _field_docs() -> dict[str, str]:
    """First sentence of each A2CConfig field's docstring (the string under the field), read from the source."""
    import ast
    import inspect

    from . import config as config_module

    docs: dict[str, str] = {}
    for node in ast.walk(ast.parse(inspect.getsource(config_module))):
        if isinstance(node, ast.ClassDef) and node.name == "A2CConfig":
            body = node.body
            for item, after in itertools.pairwise(body):
                if (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                        and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                        and isinstance(after.value.value, str)):
                    text = " ".join(after.value.value.split()).replace("``", "").replace("*(option)* ", "")
                    docs[item.target.id] = text.split(". ")[0].rstrip(".")
    return docs


def _choices() -> dict[str, tuple[str, ...]]:
    from .config import CRITIC_TARGETS, IMPLEMENTATIONS, LR_SCHEDULES
    return {"lr_schedule": LR_SCHEDULES, "implementation": IMPLEMENTATIONS, "critic_target": CRITIC_TARGETS}


CHOICES = _choices()


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    """One option per A2CConfig field: ``--field-name``, typed by the field's annotation, documented by its
    docstring. Values are checked by ``A2CConfig.validate``; options not given keep the --config's value."""
    import dataclasses

    from .config import A2CConfig, option_name

    docs = _field_docs()
    for field in dataclasses.fields(A2CConfig):
        kind = str(field.type)
        optional = "None" in kind
        names = [option_name(field.name)] + (["--env"] if field.name == "env_id" else [])
        help_text = f"{docs.get(field.name, field.name)} (seed: {field.default})"
        if kind == "bool":
            parser.add_argument(*names, dest=field.name, action=argparse.BooleanOptionalAction,
                                default=argparse.SUPPRESS, help=help_text)
            continue
        convert: Callable[[str], object] = int if kind.startswith("int") else float if kind.startswith("float") else str
        parse = _or_none(convert, field.name) if optional else _typed(convert, field.name)
        parser.add_argument(*names, dest=field.name, type=parse, default=argparse.SUPPRESS,
                            choices=CHOICES.get(field.name), help=help_text + (" ('none' switches it off)" if optional else ""))


def _typed(convert: Callable[[str], object], name: str) -> Callable[[str], object]:
    def parse(text: str) -> object:
        try:
            return convert(text)
        except ValueError:
            kind = {int: "a whole number", float: "a number"}.get(convert, "a value")  # type: ignore[call-overload]
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
    parse.__name__ = name
    return parse


def _or_none(convert: Callable[[str], object], name: str) -> Callable[[str], object]:
    typed = _typed(convert, name)

    def parse(text: str) -> object:
        return None if text.lower() in ("none", "off") else typed(text)
    parse.__name__ = name
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m lecture_utils", description="A2C on Gymnasium, as in the lectures.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser(
        "train", help="train the seed's A2C (or a variant) and write the per-episode CSV",
        description="Every option from --env-id to --implementation is a field of A2CConfig (lecture_utils.config), "
                    "with its default and its docstring: the seed's algorithm unless you change it.")
    # NumPy's RandomState (the seed's action sampling) takes seeds below 2**32.
    train.add_argument("--seed", type=_whole(0, 0, maximum=2**32 - 1), default=0,
                       help="one seed fixes everything, 0 to 4294967295 (default 0)")
    train.add_argument("--config", choices=list(NAMED_CONFIGS), default="seed",
                       help="start from a configuration of the lectures: " + "; ".join(
                           f"{name}: {what}" for name, (what, _) in NAMED_CONFIGS.items()) + ". Options given "
                            "change it field by field (default: seed)")
    _add_config_options(train)
    train.add_argument("--lr", type=_number("lr", lambda v: v > 0, "a positive number, e.g. 1e-3"),
                       default=argparse.SUPPRESS,
                       help="set --actor-lr and --critic-lr together (either given on its own wins over --lr)")
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
        for name in args.names:
            check_data_set_name(name)
        for name in args.names or experiment_names():
            print(f"{name}: {describe_data_set(name)}")
        return 0
    names = args.names or experiment_names()
    for name in names:
        check_data_set_name(name)  # every name is checked before anything runs
    for name in names:
        make_data_set(name, n_jobs=args.jobs or -1, force=args.force)
    return 0


def config_from_args(args: argparse.Namespace) -> "A2CConfig":
    """The ``--config`` named configuration with every config option the user gave applied (``--lr`` sets both
    learning rates unless one is given on its own); :class:`ConfigError` naming the option if a value is invalid."""
    import dataclasses

    from .config import A2CConfig

    fields = {f.name for f in dataclasses.fields(A2CConfig)}
    given = {name: value for name, value in vars(args).items() if name in fields}
    if "lr" in vars(args):
        given.setdefault("actor_lr", args.lr)
        given.setdefault("critic_lr", args.lr)
    return NAMED_CONFIGS[args.config][1]().replace(**given)  # validate() names any bad option in one line


def _run_train(args: argparse.Namespace) -> int:
    from .atomic import check_writable
    from .envs import make_env
    from .evaluation import evaluate
    from .history import EPISODE_COLUMNS
    from .trainer import train

    config = config_from_args(args)
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
    if out.suffix.lower() == ".gz":
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
    prog = "python -m lecture_utils"
    try:  # everything, parsing and the heavy imports included: a Ctrl-C at any moment ends in one line
        parser = build_parser()
        prog = parser.prog
        args = parser.parse_args(argv)
        return args.handler(args)
    except LectureError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"{prog}: error: out of memory; lower --actor-hidden, --critic-hidden, --num-envs or --rollout-steps",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; no output file was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
