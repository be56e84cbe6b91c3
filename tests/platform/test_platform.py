"""tf.logging, tf.app.flags, tf.gfile."""

import logging
import os
import subprocess
import sys

import pytest

import headwater as tf


def test_logging_levels(caplog):
    tf.logging.set_verbosity(tf.logging.INFO)
    assert tf.logging.get_verbosity() == logging.INFO
    lg = tf.logging.get_logger()
    lg.propagate = True
    try:
        with caplog.at_level(logging.INFO, logger="tensorflow"):
            tf.logging.info("loss = %s, step = %d", 0.5, 10)
            tf.logging.debug("hidden")
        assert "loss = 0.5, step = 10" in caplog.text
        assert "hidden" not in caplog.text
    finally:
        lg.propagate = False
        tf.logging.set_verbosity(tf.logging.WARN)


def test_app_run_parses_flags(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(
        "import headwater as tf\n"
        "flags = tf.app.flags\n"
        "flags.DEFINE_integer('steps', 5, 'n')\n"
        "flags.DEFINE_string('name', 'x', 'n')\n"
        "flags.DEFINE_boolean('fast', False, 'f')\n"
        "FLAGS = flags.FLAGS\n"
        "def main(argv):\n"
        "    print(FLAGS.steps * 2, FLAGS.name, FLAGS.fast, argv[1:])\n"
        "if __name__ == '__main__':\n"
        "    tf.app.run()\n")
    r = subprocess.run([sys.executable, str(prog), "--steps", "21", "--fast", "--name=hw",
                        "extra"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "42 hw True ['extra']"


def test_gfile_atomic_write_and_helpers(tmp_path):
    p = str(tmp_path / "a" / "f.txt")
    tf.gfile.MakeDirs(os.path.dirname(p))
    with tf.gfile.GFile(p, "w") as f:
        f.write("hello")
        assert not os.path.exists(p)  # only visible once complete
    assert tf.gfile.Exists(p)
    with tf.gfile.GFile(p) as f:
        assert f.read() == "hello"
    with pytest.raises(RuntimeError):
        with tf.gfile.GFile(p, "w") as f:
            f.write("partial")
            raise RuntimeError("crash mid-write")
    assert open(p).read() == "hello"
    assert sorted(tf.gfile.ListDirectory(str(tmp_path / "a"))) == ["f.txt"]
    with pytest.raises(tf.errors.NotFoundError):
        tf.gfile.GFile(str(tmp_path / "missing"))
    tf.gfile.DeleteRecursively(str(tmp_path / "a"))
    assert not tf.gfile.Exists(p)
