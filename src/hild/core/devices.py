"""The CPU cores as JAX devices, so that independent runs (a simulation's seeds) can be spread over them.

XLA runs one compiled program per CPU device on one thread; by default JAX makes a single CPU device,
so a second core stays idle. `use_cpu_cores` asks JAX for one CPU device per available core
(`jax_num_cpu_devices`), which JAX only accepts before its backend starts (before the first JAX
operation). It leaves the setting alone where the user chose it (the XLA_FLAGS option
--xla_force_host_platform_device_count, JAX_NUM_CPU_DEVICES, or jax.config), and does nothing once the
backend runs: JAX then keeps its devices and the runs go one after another, with the same numbers.
"""
from __future__ import annotations

import os


def cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the platform has one).

    **Arguments:** none. **Returns:** an int >= 1."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def user_chose() -> bool:
    """Whether the user set JAX's number of CPU devices (XLA_FLAGS, JAX_NUM_CPU_DEVICES or jax.config).

    **Arguments:** none. **Returns:** a bool."""
    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", "") or "JAX_NUM_CPU_DEVICES" in os.environ:
        return True
    import jax

    return jax.config.jax_num_cpu_devices != -1


def use_cpu_cores() -> None:
    """One JAX CPU device per available core, unless the user chose the number or JAX's backend already runs.

    **Arguments:** none. **Returns:** None (sets `jax_num_cpu_devices`)."""
    if cores() < 2 or user_chose():
        return
    import jax

    try:
        jax.config.update("jax_num_cpu_devices", cores())
    except RuntimeError:  # the backend already started: its devices stay
        pass


def cpu_devices() -> list:
    """JAX's CPU devices when JAX computes on the CPU (after `use_cpu_cores`), else an empty list.

    **Arguments:** none. **Returns:** a list of JAX devices."""
    use_cpu_cores()
    import jax

    return jax.devices("cpu") if jax.default_backend() == "cpu" else []
