import errno
import os
import stat
import subprocess
import sys
import tempfile

import pandas as pd
import pytest
from pathlib import Path

from lecture_utils.cli import main

COLUMNS = ["episode", "return", "length", "actor_loss", "critic_loss", "entropy", "actor_grad_norm",
           "critic_grad_norm", "actor_update_norm", "critic_update_norm"]


def test_train_writes_csv_and_score(tmp_path, capsys):
    out = tmp_path / "sub" / "a2c.csv"
    assert main(["train", "--seed", "1", "--episodes", "60", "--eval-episodes", "5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "episode    50" in text and "Final score" in text
    frame = pd.read_csv(out)
    assert list(frame.columns) == COLUMNS and len(frame) == 60
    assert not list(out.parent.glob(".tmp-*"))


@pytest.mark.parametrize("args, option", [
    (["--episodes", "-5"], "--episodes"), (["--episodes", "ten"], "--episodes"), (["--gamma", "0"], "--gamma"),
    (["--gamma", "1.2"], "--gamma"), (["--lr", "fast"], "--lr"), (["--lr", "-1"], "--lr"),
    (["--entropy-coef", "-0.1"], "--entropy-coef"), (["--max-grad-norm", "0"], "--max-grad-norm"),
    (["--gae-lambda", "2"], "--gae-lambda"), (["--env", "NotAnEnv-v0"], "--env"), (["--env", "Pendulum-v1"], "--env"),
    (["--ratio-clip", "1.5"], "--ratio-clip"), (["--ratio-clip", "0.2"], "--stable-log-prob"),
    (["--env", "nosuchmod:Foo-v0"], "--env"), (["--env", ""], "--env-id"),
    (["--env", "tests.helpers:MatrixObservation-v0"], "--env"),
    (["--lr", "1e10"], "--actor-lr"), (["--entropy-coef", "1e30"], "--entropy-coef"),
    (["--actor-hidden", "100000000000"], "--actor-hidden"), (["--num-envs", "4096"], "--num-envs"),
    (["--num-envs", "8", "--rollout-steps", "100000000"], "--rollout-steps"),
])
def test_bad_input_one_line_exit_2_no_file(tmp_path, capsys, args, option):
    out = tmp_path / "never.csv"
    try:  # argparse's own errors exit; the package's errors return the status
        status = main(["train", "--episodes", "3", *args, "--out", str(out)])
    except SystemExit as exc:
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and "Traceback" not in err
    assert not out.exists()


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = subprocess.run([sys.executable, "-m", "lecture_utils", "train", "--episodes", "3",
                           "--out", str(blocker / "a.csv")], capture_output=True, text=True)
    assert proc.returncode == 2 and "--out" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def _train_args(out, *extra):
    return ["train", "--episodes", "3", "--eval-episodes", "2", "--log-every", "0", *extra, "--out", str(out)]


def _one_line_error(capsys, option):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option in err[0], err
    return err[0]


def test_seed_beyond_numpy_range_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(_train_args(tmp_path / "a.csv", "--seed", str(2**32)))
    assert info.value.code == 2
    assert "4294967295" in _one_line_error(capsys, "--seed") and not (tmp_path / "a.csv").exists()


@pytest.mark.parametrize("name", ["folder/", "x.csv.bz2", "x.zip"])
def test_output_names_that_cannot_be_a_csv_are_refused(tmp_path, capsys, name):
    out = str(tmp_path / name) + ("/" if name.endswith("/") else "")
    assert main(_train_args(out)) == 2
    _one_line_error(capsys, "--out")
    assert list(tmp_path.iterdir()) == []


def test_a_device_is_never_replaced(capsys):
    before = os.stat("/dev/null")
    assert main(_train_args("/dev/null")) == 2
    assert "not a regular file" in _one_line_error(capsys, "--out")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_link_loop_is_refused(tmp_path, capsys):
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    assert main(_train_args(loop)) == 2
    _one_line_error(capsys, "--out")


def test_gz_output_is_gzip(tmp_path, capsys):
    out = tmp_path / "run.csv.gz"
    assert main(_train_args(out)) == 0
    assert out.read_bytes()[:2] == b"\x1f\x8b" and len(pd.read_csv(out)) == 3


def test_failed_write_keeps_the_finished_run(tmp_path, capsys, monkeypatch):
    from lecture_utils import atomic

    def disk_full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "atomic_write_bytes", disk_full)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(_train_args(tmp_path / "out" / "a.csv")) == 2
    message = _one_line_error(capsys, "--out")
    assert "No space left on device" in message
    saved = [p for p in tmp_path.iterdir() if p.name.startswith("a2c-run-")]
    assert len(saved) == 1 and str(saved[0]) in message and len(pd.read_csv(saved[0])) == 3


def test_ctrl_c_in_the_final_evaluation_keeps_the_table(tmp_path, capsys, monkeypatch):
    from lecture_utils import evaluation

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluation, "evaluate", interrupted)
    out = tmp_path / "a.csv"
    assert main(_train_args(out)) == 130
    assert str(out) in capsys.readouterr().err and len(pd.read_csv(out)) == 3


def test_every_config_field_is_an_option_with_its_default():
    import dataclasses

    from lecture_utils.cli import build_parser, config_from_args
    from lecture_utils.config import A2CConfig, option_name

    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    options = {s for action in train._actions for s in action.option_strings}
    for field in dataclasses.fields(A2CConfig):
        assert option_name(field.name) in options, field.name
    assert config_from_args(parser.parse_args(["train"])) == A2CConfig()


def test_named_configs_and_overrides():
    from lecture_utils.cli import build_parser, config_from_args
    from lecture_utils.experiments import RECOMMENDED_CONFIG

    parse = lambda *args: config_from_args(build_parser().parse_args(["train", *args]))  # noqa: E731
    assert parse("--config", "recommended") == RECOMMENDED_CONFIG
    assert parse("--config", "recommended", "--max-steps", "1000") == RECOMMENDED_CONFIG.replace(max_steps=1000)
    assert parse("--config", "recommended", "--no-normalize-advantages").normalize_advantages is False
    both = parse("--lr", "0.01")
    assert (both.actor_lr, both.critic_lr) == (0.01, 0.01)
    one = parse("--lr", "0.01", "--actor-lr", "0.02")
    assert (one.actor_lr, one.critic_lr) == (0.02, 0.01)
    assert parse("--gae-lambda", "0.9", "--max-grad-norm", "none").gae_lambda == 0.9
    assert parse("--env", "Acrobot-v1").env_id == "Acrobot-v1"


def test_output_through_a_link_writes_the_target(tmp_path, capsys):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert main(_train_args(link)) == 0
    assert link.is_symlink() and len(pd.read_csv(target)) == 3


def test_empty_output_name_and_upper_case_gz(tmp_path, capsys):
    assert main(_train_args("")) == 2
    assert "empty" in _one_line_error(capsys, "--out")
    out = tmp_path / "run.csv.GZ"
    assert main(_train_args(out)) == 0
    assert out.read_bytes()[:2] == b"\x1f\x8b"


def test_experiments_list_checks_the_names(capsys):
    assert main(["experiments", "--list", "nosuch"]) == 2
    assert "unknown experiment" in _one_line_error(capsys, "nosuch")


def test_an_environment_whose_code_needs_a_missing_module(tmp_path, capsys):
    import importlib.util

    if importlib.util.find_spec("jax") is not None:
        pytest.skip("jax is installed here, so phys2d environments load")
    assert main(_train_args(tmp_path / "x.csv", "--env", "phys2d/CartPole-v1")) == 2
    assert "'jax'" in _one_line_error(capsys, "--env")


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="watches the child's loaded libraries in /proc")
def test_ctrl_c_while_starting_up_is_one_line(tmp_path):
    import signal
    import time

    # The interrupt is sent once the child has begun loading PyTorch's libraries (which only the command's handler
    # imports), however slow the machine: the moment a student's Ctrl-C most often lands.
    out = tmp_path / "never.csv"
    # SIGINT restored to its default in the child: a shell that starts this test in the background hands it an
    # ignored SIGINT, which Python then keeps ignoring, so no student's Ctrl-C would be simulated at all.
    proc = subprocess.Popen([sys.executable, "-m", "lecture_utils", "train", "--episodes", "2000", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if "libtorch" in Path(f"/proc/{proc.pid}/maps").read_text():
                break
        except OSError:
            pass
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "interrupted" in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and not out.exists(), err
