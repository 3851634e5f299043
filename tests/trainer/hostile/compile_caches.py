"""Hostile: point the engine's compile caches (JAX's persistent cache, PyTorch Inductor's) outside the job, compile."""

import os

SEPARATOR = "|"
TARGETS = "@TARGETS@".split(SEPARATOR)  # host paths outside the job folder, each used as a cache folder in turn
backend = os.environ.get("KERAS_BACKEND")
report = {"backend": backend}
for number, target in enumerate(TARGETS):
    try:
        if backend == "jax":
            import jax
            import jax.numpy as jnp

            jax.config.update("jax_compilation_cache_dir", target)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
            jax.jit(lambda x, n=number: x * 2 + n)(jnp.arange(4.0)).block_until_ready()
        elif backend == "torch":
            import torch

            os.environ["TORCHINDUCTOR_CACHE_DIR"] = target
            os.environ["TRITON_CACHE_DIR"] = target
            torch.compile(lambda x, n=number: x * 2 + n)(torch.arange(4.0))
        else:
            os.makedirs(target)
        report[target] = "COMPILED" if not os.path.isdir(target) else f"WROTE {sorted(os.listdir(target))[:5]}"
    except Exception as error:  # noqa: BLE001 - every failure is a result
        report[target] = f"{type(error).__name__}: {str(error)[:200]}"
hostile_report(report)  # noqa: F821
