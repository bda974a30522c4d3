"""Bit-reproducible CPU runs across machines, and the machine facts a result is recorded with.

torch picks its CPU kernels at run time: aten's vectorised kernels by the CPU's vector width
(``ATEN_CPU_CAPABILITY``: AVX512, AVX2 or the unvectorised default), oneDNN's convolutions by the
instruction set (``ONEDNN_MAX_CPU_ISA``), MKL's BLAS by the processor (``MKL_CBWR``), and the order of parallel
sums by the thread count. Each choice rounds differently, and a training run amplifies the differences:
the toy demo's mAP50 moved by 0.1 between kernel paths (docs/benchmarks.md). Reproducible mode pins all four
to what every x86-64 CPU runs the same way, at a cost in speed measured in docs/benchmarks.md.

Turn it on with ``--reproducible [THREADS]`` on ``tools/train.py``/``tools/test.py`` or
``VISIONDIV_REPRODUCIBLE=THREADS`` in the environment (``1`` when only switched on). The variables must be
set before torch loads its libraries, so the tool re-executes itself once with them set.
"""
import os
import platform
import sys
from typing import Dict, List, Optional

ENV_SWITCH = 'VISIONDIV_REPRODUCIBLE'

# what reproducible mode exports before torch starts; OMP/MKL threads are added from the thread count
PINNED_ENV = {
    'ATEN_CPU_CAPABILITY': 'default',  # aten's unvectorised kernels: one code path on every x86-64 CPU
    'ONEDNN_MAX_CPU_ISA': 'SSE41',     # oneDNN is switched off for convolutions; anything left runs SSE4.1
    'MKL_CBWR': 'COMPATIBLE',          # MKL's conditional numerical reproducibility: the same code on any CPU
}

# the variables that change a CPU run's numbers, recorded with every result
KERNEL_ENV_VARS = ('ATEN_CPU_CAPABILITY', 'ONEDNN_MAX_CPU_ISA', 'MKL_CBWR', 'MKL_ENABLE_INSTRUCTIONS',
                   'OMP_NUM_THREADS', 'MKL_NUM_THREADS', ENV_SWITCH)


def requested_threads(cli_value: Optional[int] = None) -> Optional[int]:
    """The thread count of reproducible mode, from ``--reproducible`` or else ``VISIONDIV_REPRODUCIBLE``.

    Args:
        cli_value (int, optional): the value of ``--reproducible`` (None: not given). Defaults to None.

    Returns:
        Optional[int]: the number of intra-op threads to pin, or None when the mode is off
        (``VISIONDIV_REPRODUCIBLE`` unset, empty or ``0``).

    Raises:
        ValueError: a thread count below 1, or a ``VISIONDIV_REPRODUCIBLE`` that is not an integer.
    """
    if cli_value is None:
        raw = os.environ.get(ENV_SWITCH, '').strip()
        if raw in ('', '0'):
            return None
        try:
            cli_value = int(raw)
        except ValueError:
            raise ValueError(f'{ENV_SWITCH}={raw!r}: expected a thread count (1 to switch reproducible mode on, '
                             '0 or unset for off)') from None
    if cli_value < 1:
        raise ValueError(f'--reproducible / {ENV_SWITCH}: the thread count must be >= 1, got {cli_value}')
    return cli_value


def pinned_env(threads: int) -> Dict[str, str]:
    """The environment variables reproducible mode sets for ``threads`` intra-op threads.

    Args:
        threads (int): the intra-op thread count (the order of parallel sums depends on it).

    Returns:
        Dict[str, str]: variable -> value.
    """
    env = dict(PINNED_ENV)
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), **{ENV_SWITCH: str(threads)})
    return env


def enter_reproducible_mode(threads: int, argv: Optional[List[str]] = None) -> None:
    """Pin the kernel paths: re-execute ``argv`` with :func:`pinned_env` set, or, once set, configure torch.

    In the re-executed process this switches oneDNN off for convolutions (aten's own convolution then runs on
    MKL's GEMM) and fixes torch's thread count, then checks that torch runs its default kernels.

    Args:
        threads (int): the intra-op thread count.
        argv (List[str], optional): the command line to re-execute (``sys.argv``'s form: script first), or None
            when the caller cannot be re-executed (a library call), which then fails if the environment is not
            already pinned. Defaults to None.

    Raises:
        RuntimeError: the environment is not pinned and there is nothing to re-execute, or torch did not take
            the pinned kernel path.
    """
    wanted = pinned_env(threads)
    if any(os.environ.get(key) != value for key, value in wanted.items()):
        if argv is None:
            raise RuntimeError('reproducible mode has to be set before Python starts: run with '
                               + ' '.join(f'{k}={v}' for k, v in wanted.items()))
        os.environ.update(wanted)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable] + list(argv))
    import torch
    torch.backends.mkldnn.enabled = False
    torch.set_num_threads(threads)
    capability = torch.backends.cpu.get_cpu_capability()
    if capability != 'DEFAULT':
        raise RuntimeError(f'reproducible mode: torch runs its {capability} kernels although '
                           f'ATEN_CPU_CAPABILITY={os.environ.get("ATEN_CPU_CAPABILITY")}')


def machine_facts() -> Dict[str, object]:
    """What a CPU result depends on besides the code: CPU, torch's kernel path, threads, kernel variables.

    Returns:
        Dict[str, object]: ``cpu`` (model name), ``torch``, ``cpu_capability`` (torch's "CPU capability
        usage"), ``threads`` and ``env`` (the variables of ``KERNEL_ENV_VARS`` that are set).
    """
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            names = [line.split(':', 1)[1].strip() for line in f if line.startswith('model name')]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return {'cpu': cpu, 'torch': torch.__version__, 'cpu_capability': torch.backends.cpu.get_cpu_capability(),
            'threads': torch.get_num_threads(),
            'env': {key: os.environ[key] for key in KERNEL_ENV_VARS if key in os.environ}}
