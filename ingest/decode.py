"""Decode uploaded audio with ffmpeg in a child process: first N seconds only, bounded time and memory.

The upload is handed over as an anonymous in-memory file (memfd, read as /dev/fd/N): nothing touches
the disk, and unlike a pipe it is seekable, which M4A files with their index at the end need. ffmpeg is told the
container we detected (`-f`), may only open that one file (`-protocol_whitelist file`), and runs
under rlimits set before it starts: address space, CPU seconds, no file writes, few descriptors.
"""

from __future__ import annotations

import logging
import math
import os
import resource
import subprocess
from collections.abc import Callable

import numpy as np

from cadenza.errors import BadInput
from ingest.settings import IngestSettings
from ingest.sniff import UploadKind

log = logging.getLogger(__name__)


def decode_audio(data: bytes, kind: UploadKind, settings: IngestSettings) -> np.ndarray:
    """Mono float32 samples at `settings.sample_rate`, at most `settings.max_seconds` long."""
    if not kind.is_audio:
        raise ValueError(f"{kind.name} is not audio")
    raw = _run_ffmpeg(data, kind, settings)
    audio = np.frombuffer(raw[: len(raw) // 4 * 4], dtype="<f4").astype(np.float32)
    # Float WAVs may carry NaN/inf or samples far beyond full scale; neither must reach the analysis.
    audio = np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0)
    np.clip(audio, -1.0, 1.0, out=audio)
    return audio


def ffmpeg_command(kind: UploadKind, settings: IngestSettings, fd: int) -> list[str]:
    """The decoder command line for an upload of `kind` readable on descriptor `fd`."""
    cmd = [settings.ffmpeg_path, "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1"]
    cmd += ["-protocol_whitelist", "file", "-f", kind.value]
    if kind is UploadKind.M4A:
        cmd += ["-enable_drefs", "0"]  # never follow references to other files (the default, made explicit)
    cmd += ["-i", f"/dev/fd/{fd}", "-t", f"{settings.max_seconds:.3f}", "-vn", "-sn", "-dn"]
    cmd += ["-ac", "1", "-ar", str(settings.sample_rate), "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"]
    return cmd


def _run_ffmpeg(data: bytes, kind: UploadKind, settings: IngestSettings) -> bytes:
    """Run ffmpeg on `data`; its stdout, or `BadInput` when it fails, hangs or produces nothing."""
    fd = os.memfd_create("cadenza-upload", os.MFD_CLOEXEC)
    try:
        with os.fdopen(os.dup(fd), "wb", closefd=True) as f:
            f.write(data)
        result = _spawn(ffmpeg_command(kind, settings, fd), fd, settings)
    finally:
        os.close(fd)
    err = result.stderr.decode("utf-8", "replace").strip()
    if result.returncode != 0:
        log.info("ffmpeg exited %s on a %s upload: %s", result.returncode, kind.name, err[-500:])
        if result.returncode < 0 or not result.stdout:
            raise BadInput(f"I couldn't decode that {_label(kind)} file; it looks damaged or truncated.")
    elif err:
        log.debug("ffmpeg warnings on a %s upload: %s", kind.name, err[-500:])
    if not result.stdout:
        raise BadInput(f"That {_label(kind)} file holds no audio I can decode.")
    return result.stdout


def _spawn(cmd: list[str], fd: int, settings: IngestSettings) -> subprocess.CompletedProcess[bytes]:
    """Start ffmpeg with the upload on descriptor `fd` and wait at most the wall-time limit."""
    try:
        return subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=settings.ffmpeg_timeout_s,
            preexec_fn=_limits(settings),
            pass_fds=(fd,),  # the only descriptor it inherits besides its pipes
            close_fds=True,
            start_new_session=True,  # a Ctrl-C meant for the bot does not reach the decoder
            check=False,
        )
    except subprocess.TimeoutExpired as e:  # subprocess.run has killed and reaped it
        raise BadInput("That file took too long to decode; try a shorter or simpler clip.") from e
    except FileNotFoundError as e:
        raise RuntimeError(f"ffmpeg not found at {settings.ffmpeg_path!r}; install ffmpeg") from e


def _limits(settings: IngestSettings) -> Callable[[], None]:
    """The child's pre-exec step: cap address space, CPU time, file writes and descriptors."""
    memory = settings.ffmpeg_memory_mb * 1024 * 1024
    cpu = math.ceil(settings.ffmpeg_timeout_s)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # ffmpeg has nothing to write but its pipes
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))

    return apply


def _label(kind: UploadKind) -> str:
    return {UploadKind.M4A: "M4A", UploadKind.WEBM: "WebM"}.get(kind, kind.name)
