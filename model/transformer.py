"""A decoder-only transformer for event tokens, with a slot-based KV cache for continuous batching.

Pre-norm blocks, learned positions, `F.scaled_dot_product_attention`, tied input/output embeddings.
The cache holds `max_batch` row slots; the engine keeps the live rows packed at the front (slots
0..n-1) so every decode step works on plain slices, never on gathered copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint


@dataclass(frozen=True)
class TransformerConfig:
    """Shape of the network; stored in every checkpoint."""

    vocab_size: int
    block_size: int = 1024  # longest context (positions); generation slides a window past it
    n_layer: int = 4
    n_head: int = 4
    d_model: int = 192
    dropout: float = 0.1


class KVCache:
    """Keys and values per layer for `max_batch` row slots of up to `block_size` positions."""

    def __init__(
        self, cfg: TransformerConfig, max_batch: int, device: torch.device, dtype: torch.dtype
    ) -> None:
        shape = (cfg.n_layer, 2, max_batch, cfg.n_head, cfg.block_size, cfg.d_model // cfg.n_head)
        self.kv = torch.zeros(shape, device=device, dtype=dtype)  # (L, 2, B, H, T, D)
        self.lengths = torch.zeros(max_batch, dtype=torch.long, device=device)  # filled positions per slot

    def move_slot(self, src: int, dst: int) -> None:
        """Copy slot `src` into `dst` (the engine packs live rows to the front when one leaves)."""
        n = int(self.lengths[src])
        self.kv[:, :, dst, :, :n] = self.kv[:, :, src, :, :n]
        self.lengths[dst] = n

    def reset_slot(self, slot: int) -> None:
        """Forget a slot's content."""
        self.lengths[slot] = 0


class Block(nn.Module):
    """Pre-norm attention + MLP."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.n_head = cfg.n_head
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.d_model, 4 * cfg.d_model), nn.GELU(), nn.Linear(4 * cfg.d_model, cfg.d_model)
        )
        self.drop = nn.Dropout(cfg.dropout)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        return tuple(z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Full causal self-attention over x: (B, T, C)."""
        b, t, c = x.shape
        q, k, v = self._split(x)  # (B, H, T, D)
        # No attention dropout: with it SDPA leaves its fused CPU kernel for the math path (measured
        # 1.6x slower per step); the residual dropout below regularises enough at this size.
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(b, t, c)))
        return x + self.drop(self.mlp(self.ln2(x)))

    def forward_cached(
        self,
        x: torch.Tensor,
        kv: torch.Tensor,
        rows: slice,
        at: tuple[torch.Tensor, torch.Tensor],
        span: int,
        mask: torch.Tensor,
    ) -> torch.Tensor:
        """x: (B, T, C) new tokens of cache slots `rows`, written at cache index `at` = (slots,
        positions), both (B, T); kv: (2, Bmax, H, Tmax, D); attends to the first `span` positions of
        its rows where `mask` allows."""
        b, t, c = x.shape
        q, k, v = self._split(x)
        kv[0, at[0], :, at[1]] = k.transpose(1, 2)
        kv[1, at[0], :, at[1]] = v.transpose(1, 2)
        keys, vals = kv[0, rows, :, :span], kv[1, rows, :, :span]  # (B, H, S, D)
        y = F.scaled_dot_product_attention(q, keys, vals, attn_mask=mask)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    """GPT-style composer. `forward` trains; `prefill`/`decode` generate with a KVCache."""

    kind = "transformer"

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.block_size, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying: fewer parameters, better small-data fit
        self.grad_checkpointing = False
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear | nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    @property
    def context(self) -> int:
        """Longest sequence one forward pass accepts."""
        return self.cfg.block_size

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """idx: (B, T) token ids -> logits (B, T, V)."""
        t = idx.shape[1]
        x = self.drop(self.tok_emb(idx) + self.pos_emb(torch.arange(t, device=idx.device)))
        for block in self.blocks:
            if self.grad_checkpointing and self.training:
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return self.head(self.ln_f(x))

    def new_cache(self, max_batch: int, device: torch.device, dtype: torch.dtype = torch.float32) -> KVCache:
        """An empty cache with `max_batch` row slots."""
        return KVCache(self.cfg, max_batch, device, dtype)

    @torch.no_grad()
    def step(self, idx: torch.Tensor, cache: KVCache, rows: slice) -> torch.Tensor:
        """Feed new tokens idx: (B, T) to cache slots `rows` (all the same T); logits of the last: (B, V).

        Where each token goes and what it may attend to is worked out once per step, not per layer.
        """
        start = cache.lengths[rows]
        b, t = idx.shape
        pos = start[:, None] + torch.arange(t, device=idx.device)[None, :]  # (B, T)
        first = rows.start or 0
        slots = torch.arange(first, first + b, device=idx.device)[:, None].expand(b, t)
        span = int(pos.max()) + 1
        keys_at = torch.arange(span, device=idx.device)
        mask = (keys_at[None, None, :] <= pos[:, :, None]).unsqueeze(1)  # (B, 1, T, S): no peeking ahead
        x = self.tok_emb(idx) + self.pos_emb(pos)
        for layer, block in enumerate(self.blocks):
            assert isinstance(block, Block)
            x = block.forward_cached(x, cache.kv[layer], rows, (slots, pos), span, mask)
        cache.lengths[rows] += t
        return self.head(self.ln_f(x[:, -1]))
