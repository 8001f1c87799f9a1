"""The persistent compilation cache (hild.core.compile_cache): the directory rule, what turns it off, a setting the
user gave JAX kept, a second fresh process loading what the first compiled; and runs that differ only in t_max,
seed or learning rate sharing one compiled SGD loop."""
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hild.core import compile_cache


@pytest.mark.parametrize("environ, expected", [
    ({"HILD_CACHE_DIR": "/somewhere/jax", "XDG_CACHE_HOME": "/xdg"}, "/somewhere/jax"),
    ({"XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"}, "/xdg/hild/jax"),
    ({"XDG_CACHE_HOME": "", "HOME": "/home/u"}, "/home/u/.cache/hild/jax"),
    ({"XDG_CACHE_HOME": "relative/cache", "HOME": "/home/u"}, "/home/u/.cache/hild/jax"),
    ({"HOME": "/home/u"}, "/home/u/.cache/hild/jax"),
    ({"HILD_CACHE_DIR": "off", "XDG_CACHE_HOME": "/xdg"}, None),
    ({"HILD_CACHE_DIR": " OFF "}, None),
    ({"HILD_CACHE_DIR": ""}, None),
])
def test_directory_rule(monkeypatch, environ, expected):
    monkeypatch.setenv("HOME", environ.get("HOME", "/home/u"))  # Path.expanduser reads the process's HOME
    found = compile_cache.directory(environ)
    assert found == (None if expected is None else Path(expected))


@pytest.fixture
def fresh(monkeypatch):
    """enable() as on a process's first call; JAX's cache settings restored afterwards."""
    import jax

    names = ("jax_compilation_cache_dir", "jax_enable_compilation_cache", "jax_persistent_cache_min_compile_time_secs")
    saved = {name: getattr(jax.config, name) for name in names}
    monkeypatch.setattr(compile_cache, "_state", {})
    for name, default in zip(names, (None, True, 1.0)):  # JAX's defaults, whatever earlier tests enabled
        jax.config.update(name, default)
    yield jax.config
    for name, value in saved.items():
        jax.config.update(name, value)


def test_an_unwritable_directory_warns_and_leaves_the_cache_off(fresh, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    before = fresh.jax_compilation_cache_dir
    monkeypatch.setenv("HILD_CACHE_DIR", str(blocker / "jax"))  # a directory inside a file: mkdir fails, even as root
    with pytest.warns(RuntimeWarning, match=r"no compilation cache: cannot write .*a-file/jax.*HILD_CACHE_DIR"):
        assert compile_cache.enable() is None
    assert fresh.jax_compilation_cache_dir == before
    assert compile_cache.enable() is None  # once per process: no second warning, nothing retried


def test_off_configures_nothing(fresh, tmp_path, monkeypatch):
    before = fresh.jax_compilation_cache_dir
    monkeypatch.setenv("HILD_CACHE_DIR", "off")
    assert compile_cache.enable() is None
    assert fresh.jax_compilation_cache_dir == before


@pytest.mark.parametrize("setting", ["directory", "disabled"])
def test_a_cache_the_user_configured_in_jax_is_left_alone(fresh, tmp_path, monkeypatch, setting):
    ours = tmp_path / "hild-cache"
    monkeypatch.setenv("HILD_CACHE_DIR", str(ours))
    if setting == "directory":
        fresh.update("jax_compilation_cache_dir", str(tmp_path / "users-own"))
    else:
        fresh.update("jax_compilation_cache_dir", None)
        fresh.update("jax_enable_compilation_cache", False)
    fresh.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    used = compile_cache.enable()
    assert used == (tmp_path / "users-own" if setting == "directory" else None)
    assert fresh.jax_compilation_cache_dir == (str(tmp_path / "users-own") if setting == "directory" else None)
    assert fresh.jax_persistent_cache_min_compile_time_secs == 1.0
    assert not ours.exists()


SCRIPT = """
import json, logging, sys
seen = []
class Record(logging.Handler):
    def emit(self, record):
        seen.append(record.getMessage())
logging.getLogger("jax").addHandler(Record())
from hild.core import compile_cache, lazy
jax = lazy.module("jax")                      # the first use of JAX through hild turns the cache on
jax.config.update("jax_log_compiles", True)   # cache hits and misses logged as warnings
scaled = jax.jit(lambda x: 2.0 * jax.numpy.sin(x) + 1.0)
@lazy.jit
def shifted(x):
    return jax.numpy.cos(x) - 3.0
scaled(jax.numpy.arange(5.0)).block_until_ready()
shifted(jax.numpy.arange(7.0)).block_until_ready()
hit = lambda name: any("cache hit" in m and name in m for m in seen)
json.dump({"dir": str(compile_cache.enable()), "hit": [hit("jit__lambda"), hit("jit_shifted")]}, sys.stdout)
"""


def _fresh_process(env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_second_fresh_process_loads_what_the_first_compiled(tmp_path):
    cache = tmp_path / "cache"
    env = {"HILD_CACHE_DIR": str(cache), "JAX_PLATFORMS": "cpu"}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    first = _fresh_process(env)
    assert first == {"dir": str(cache), "hit": [False, False]}
    entries = sorted(p.name for p in cache.iterdir())
    assert any(name.startswith("jit__lambda-") for name in entries)  # compiled in far less than JAX's default 1 s
    assert any(name.startswith("jit_shifted-") for name in entries)
    second = _fresh_process(env)
    assert second == {"dir": str(cache), "hit": [True, True]}


class _Compiles(logging.Handler):
    def __init__(self):
        super().__init__()
        self.names: list[str] = []

    def emit(self, record):
        message = record.getMessage()
        if message.startswith("Finished tracing + transforming") or message.startswith("Finished tracing "):
            self.names.append(message)


def test_runs_differing_in_t_max_seed_and_learning_rate_trace_the_sgd_loop_once():
    """steps_per_record = d t_max / (n_points - 1) = 1072 and 2144: one block size (536), a different number of
    blocks per record, which is an argument of the compiled loop, not a constant in it."""
    import jax

    from hild.families.online.committee import Committee

    compiles = _Compiles()
    logger = logging.getLogger("jax")
    logger.addHandler(compiles)
    try:
        with jax.log_compiles(True):
            Committee(K=1, M=1, lr=0.5).simulate(d=67, seeds=1, t_max=32.0, n_points=3, seed=0)
            first = sum("all_seeds" in m for m in compiles.names)
            Committee(K=1, M=1, lr=0.2).simulate(d=67, seeds=1, t_max=64.0, n_points=3, seed=5)
    finally:
        logger.removeHandler(compiles)
    assert first == 1
    assert sum("all_seeds" in m for m in compiles.names) == 1
