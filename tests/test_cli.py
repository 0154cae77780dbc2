import subprocess
import sys

import pandas as pd
import pytest

from lecture_utils.cli import main

COLUMNS = ["episode", "return", "length", "actor_loss", "critic_loss", "entropy", "actor_grad_norm",
           "critic_grad_norm"]


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
    (["--ratio-clip", "1.5"], "--ratio-clip"),
])
def test_bad_input_one_line_exit_2_no_file(tmp_path, args, option):
    out = tmp_path / "never.csv"
    proc = subprocess.run([sys.executable, "-m", "lecture_utils", "train", "--episodes", "3", *args, "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and "Traceback" not in proc.stderr
    assert not out.exists()


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = subprocess.run([sys.executable, "-m", "lecture_utils", "train", "--episodes", "3",
                           "--out", str(blocker / "a.csv")], capture_output=True, text=True)
    assert proc.returncode == 2 and "--out" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
