"""datavox: talk to your data."""

import os

# One BLAS thread. The speech workers (voice/pool.py) are datavox's own parallelism, one model call per
# core; numpy's OpenBLAS, left to itself, adds a thread per core to every call (faster-whisper's mel
# spectrogram is a matrix product), which doubled the CPU of a transcription (177 → 97 ms for 89 → 98 ms
# of wall time, measured) and slowed whatever ran on the other core. Set before numpy loads OpenBLAS; an
# operator's own setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
