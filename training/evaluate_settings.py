"""What `cadenza evaluate` measures, and on how much data (its own module: both evaluation halves read it)."""

from __future__ import annotations

from dataclasses import dataclass

PARTS = ("nll", "music", "originality", "form", "infill", "harmonize")


@dataclass(frozen=True)
class EvalSettings:
    """What is measured and on how much data."""

    windows_per_genre: int = 64  # test windows per genre (each genre's figure equally precise)
    batch_size: int = 8  # windows per forward pass
    seq_len: int = 0  # tokens per window; 0 = the shortest context among the checkpoints, at most 512
    seed: int = 1234  # fixes the test windows and the sampling seeds (seed, seed+1, ...)
    samples_per_genre: int = 32  # pieces sampled per genre for the music metrics and originality
    seconds: float = 30.0  # length of each sampled piece, and of the real excerpts they are compared with
    real_per_genre: int = 64  # held-out real pieces per genre the samples are compared against
    parts: tuple[str, ...] = PARTS  # which of nll, music, originality, form, infill, harmonize to run
    infill_pieces_per_genre: int = 32  # held-out pieces per genre whose gaps infill is scored on
    harmonize_chorales: int = 16  # held-out four-part chorales harmonized from their soprano
    # Sampler overrides for the sampled pieces (None = the balanced preset): what a setting costs.
    repetition_penalty: float | None = None
    key_bias: float | None = None
    cadence: float | None = None
    phrase_return: float | None = None

    def __post_init__(self) -> None:
        if (
            self.windows_per_genre < 1
            or self.batch_size < 1
            or self.samples_per_genre < 1
            or self.real_per_genre < 1
        ):
            raise ValueError(
                "windows_per_genre, batch_size, samples_per_genre and real_per_genre must be >= 1"
            )
        if self.seq_len < 0 or self.seq_len == 1:
            raise ValueError("seq_len must be 0 (automatic) or at least 2")
        if not 1 <= self.seconds <= 600:
            raise ValueError("seconds must be between 1 and 600")
        if set(self.parts) - set(PARTS):
            raise ValueError(f"parts must be among {', '.join(PARTS)}")
