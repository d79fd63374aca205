"""Training of the embedded default model (``reelproof generator train``).

Rectified flow (flow matching) on procedurally rendered scenes: ``x_t = (1 - s) x0 + s noise``
at timestep ``1000 s``, the convention of ``FlowMatchEulerDiscreteScheduler``. The transformer
predicts the clean clip (or, for the first shipped weights, the velocity ``noise - x0``); the loss
is on the velocity either way. The text encoder trains jointly from scratch; 10% of prompts
are dropped to the empty prompt so classifier-free guidance works. Everything is seeded: the same
arguments on the same library versions give the same weights (CPU, one thread).
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from reelproof.generator import scenes, tinyvid
from reelproof.generator.tinyvid_text import encode_text


@dataclass(frozen=True)
class TrainConfig:
    """Training run settings.

    Attributes:
        steps: Optimiser steps (the learning-rate schedule spans them).
        batch_size: Clips per step.
        lr: Peak AdamW learning rate.
        warmup: Linear warm-up steps.
        ema_decay: Decay of the exponential moving average of weights that is saved.
        instances_per_scene: Pre-rendered random instances of each training combination.
        cfg_dropout: Fraction of prompts replaced by the empty prompt.
        seed: Seed of every random choice.
        checkpoint_every: Save the EMA weights every this many steps.
        max_minutes: Stop early (and save) after this wall-clock time; 0 means no limit.
        stop_at: Stop (and save) after this many steps while keeping the schedule of ``steps``;
            0 means run all ``steps``. Reproduces a run that was stopped early.
        threads: torch CPU threads.
        init_from: Checkpoint folder whose EMA weights start the run (continued training);
            empty means random initialisation.
        object_weight: Extra loss weight on the shape's pixels (0: plain MSE). The shape
            covers about a tenth of a frame, so with plain MSE the flat background dominates
            the loss once colours are learnt; shape and motion live in the other tenth.
        edge_weight: Extra loss weight on a band around the shape's outline (0: none). A ball
            and a square of the same size differ only there (the square's corners lie up to
            a quarter of the size outside the ball's rim), so this is where the shape word
            has to act.
        prediction: What a new model's transformer outputs, ``"x"`` (the clean clip) or
            ``"v"`` (the velocity; see :class:`tinyvid.TinyVidConfig`). A continued run
            (``init_from``) keeps its checkpoint's kind.
        noise_logit_mean: Mean of the logit-normal noise-level distribution; above 0 trains
            more on noisy inputs, where a clip's layout and motion are decided.
        noise_logit_std: Its standard deviation.
        denoiser: A new model's transformer class (see :class:`tinyvid.TinyVidConfig`).
        coords: Whether a new model reads coordinate channels (likewise).
    """

    steps: int = 1500
    batch_size: int = 8
    lr: float = 1e-3
    warmup: int = 100
    ema_decay: float = 0.995
    instances_per_scene: int = 32
    cfg_dropout: float = 0.1
    seed: int = 0
    checkpoint_every: int = 250
    max_minutes: float = 0.0
    stop_at: int = 0
    threads: int = 1
    init_from: str = ""
    object_weight: float = 0.0
    edge_weight: float = 0.0
    prediction: str = "x"
    noise_logit_mean: float = 0.8
    noise_logit_std: float = 0.8
    denoiser: str = "hunyuan"
    coords: bool = True


def render_dataset(
    specs: list[scenes.SceneSpec], per_scene: int, seed: int, cfg: tinyvid.TinyVidConfig
) -> npt.NDArray[np.uint8]:
    """Render ``per_scene`` random instances of every spec.

    Returns:
        Clips (len(specs) * per_scene, F, S, S, 3) uint8, spec-major order.
    """
    rng = np.random.default_rng(seed)
    clips = [
        scenes.render_scene(spec, rng, cfg.native_frames, cfg.native_size)
        for spec in specs
        for _ in range(per_scene)
    ]
    return np.stack(clips)


def object_masks(
    data: npt.NDArray[np.uint8], specs: list[scenes.SceneSpec], per_scene: int
) -> npt.NDArray[np.bool_]:
    """(N, F, S, S) True where a rendered clip differs from its plain background colour."""
    backgrounds = np.array(
        [scenes.BACKGROUNDS[spec.background] for spec in specs for _ in range(per_scene)],
        dtype=np.int16,
    )
    diff = np.abs(data.astype(np.int16) - backgrounds[:, None, None, None, :]).max(axis=-1)
    masks: npt.NDArray[np.bool_] = diff > 4  # anti-aliased edges count as the shape
    return masks


EDGE_OUTSIDE = 2  # pixels the outline band reaches outside the shape: a square's corner
EDGE_INSIDE = 1  # ...and inside it (32-pixel frames, shape about 10 pixels across)


def edge_bands(masks: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """(N, F, S, S) True within ``EDGE_OUTSIDE`` pixels outside and ``EDGE_INSIDE`` inside the
    outline of each frame's shape mask (square neighbourhoods, i.e. max-pooling)."""
    flat = torch.from_numpy(masks).float().flatten(0, 1)[:, None]  # (N*F, 1, S, S)

    def grow(x: torch.Tensor, r: int) -> torch.Tensor:
        return torch.nn.functional.max_pool2d(x, 2 * r + 1, stride=1, padding=r)

    outer = grow(flat, EDGE_OUTSIDE)
    inner = 1.0 - grow(1.0 - flat, EDGE_INSIDE)  # erosion as the dilation of the complement
    band: npt.NDArray[np.bool_] = ((outer - inner) > 0.5).reshape(masks.shape).numpy()
    return band


def loss_weights(
    clips: npt.NDArray[np.uint8], specs: list[scenes.SceneSpec], cfg: TrainConfig
) -> torch.Tensor | None:
    """Per-pixel loss weights (B, 1, F, S, S) of one batch, or None for plain MSE.

    Computed per batch: the whole set's masks would take about 400 MB.
    """
    if not (cfg.object_weight or cfg.edge_weight):
        return None
    masks = object_masks(clips, specs, 1)
    weight = 1.0 + cfg.object_weight * torch.from_numpy(masks).float()
    if cfg.edge_weight:
        weight = weight + cfg.edge_weight * torch.from_numpy(edge_bands(masks)).float()
    return weight[:, None]


def weighted_mse(
    pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None
) -> torch.Tensor:
    """Mean squared error, weighted per pixel (``weight`` (B, 1, F, S, S)) when given."""
    err = (pred - target) ** 2
    if weight is None:
        return err.mean()
    return (err * weight).sum() / (weight.sum() * err.shape[1])


def _lr_factor(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up then cosine decay to 5% of the peak."""
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters(), strict=True):
            e.mul_(decay).add_(p.detach(), alpha=1.0 - decay)


def earlier_stages(init_from: Path) -> list[Mapping[str, object]]:
    """The training stages behind a checkpoint, oldest first, from its marker file.

    A continued run's marker keeps them, so the shipped weights say how they were made end to
    end, not only the last stage's command. Each stage is the marker's JSON record (``train``
    settings, ``steps_done``, ``train_seconds``, ``loss``).
    """
    marker: dict[str, object] = json.loads((init_from / tinyvid.MARKER_FILE).read_text())
    keys = ("train", "steps_done", "train_seconds", "loss")
    stage: dict[str, object] = {k: marker[k] for k in keys if k in marker}
    previous = marker.get("previous_stages")
    older = [s for s in previous if isinstance(s, dict)] if isinstance(previous, list) else []
    return [*older, stage]


def train(
    out_dir: Path,
    cfg: TrainConfig,
    log: Callable[[str], None] = print,
) -> dict[str, float]:
    """Train the default model and write its weights to ``out_dir``.

    Args:
        out_dir: Destination folder (written with :func:`tinyvid.save_pipeline`).
        cfg: Run settings.
        log: Receives one line per progress report.

    Returns:
        Summary figures: steps done, seconds, final loss (EMA of the training loss).
    """
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    pipe = (
        tinyvid.load_pipeline(Path(cfg.init_from))
        if cfg.init_from
        else tinyvid.build_pipeline(
            tinyvid.TinyVidConfig(
                prediction=cfg.prediction, denoiser=cfg.denoiser, coords=cfg.coords
            )
        )
    )
    model_cfg = pipe.tinyvid_config
    previous = earlier_stages(Path(cfg.init_from)) if cfg.init_from else []
    transformer, text_encoder = pipe.transformer, pipe.text_encoder
    transformer.train()  # type: ignore[union-attr]
    text_encoder.train()
    ema_t, ema_te = copy.deepcopy(transformer).eval(), copy.deepcopy(text_encoder).eval()  # type: ignore[no-untyped-call, union-attr]
    params = list(transformer.parameters()) + list(text_encoder.parameters())  # type: ignore[union-attr]
    opt = torch.optim.AdamW(params, lr=cfg.lr, betas=(0.9, 0.99), weight_decay=0.01)

    specs = scenes.train_scenes()
    prompts = [s.prompt for s in specs]
    t0 = time.monotonic()
    data = render_dataset(specs, cfg.instances_per_scene, cfg.seed, model_cfg)
    log(
        f"rendered {len(data)} clips of {len(specs)} training scenes in {time.monotonic() - t0:.0f}s"
    )
    rng = np.random.default_rng(cfg.seed + 1)
    torch_rng = torch.Generator().manual_seed(cfg.seed + 2)
    loss_avg = float("nan")
    start = time.monotonic()
    step = 0

    def save(tag: str) -> None:
        ema_pipe = tinyvid.TinyVideoPipeline(ema_t, ema_te, tinyvid.build_scheduler())
        ema_pipe.tinyvid_config = model_cfg
        extra = {
            "train": asdict(cfg),
            "steps_done": step,
            "train_seconds": round(time.monotonic() - start, 1),
            "loss": loss_avg,
            "train_scenes": len(specs),
            "held_out_scenes": len(scenes.held_out_scenes()),
            "torch": torch.__version__,
            "previous_stages": previous,
        }
        tinyvid.save_pipeline(ema_pipe, out_dir, extra)
        log(f"saved {tag} checkpoint at step {step} to {out_dir}")

    for step in range(1, cfg.steps + 1):
        for group in opt.param_groups:
            group["lr"] = cfg.lr * _lr_factor(step - 1, cfg)
        idx = rng.integers(0, len(data), size=cfg.batch_size)
        batch_prompts = [
            "" if rng.random() < cfg.cfg_dropout else prompts[i // cfg.instances_per_scene]
            for i in idx
        ]
        # (B, F, S, S, 3) uint8 -> (B, 3, F, S, S) float32 in [-1, 1]
        x0 = torch.from_numpy(data[idx]).permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0
        noise = torch.randn(x0.shape, generator=torch_rng)
        # Logit-normal sigmas (as in SD3), shifted towards noise as Li & He do for x-prediction.
        logits = torch.randn((x0.shape[0],), generator=torch_rng)
        sigma = torch.sigmoid(logits * cfg.noise_logit_std + cfg.noise_logit_mean)
        s = sigma.view(-1, 1, 1, 1, 1)
        xt = (1.0 - s) * x0 + s * noise
        text = encode_text(text_encoder, pipe.tokenizer, batch_prompts)
        pred = tinyvid.denoise(transformer, xt, sigma, text, model_cfg)
        weight = loss_weights(data[idx], [specs[i // cfg.instances_per_scene] for i in idx], cfg)
        # The loss is on the velocity whatever the transformer predicts ("v-loss" in Li & He).
        loss = weighted_mse(tinyvid.velocity(pred, xt, sigma, model_cfg), noise - x0, weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        decay = min(cfg.ema_decay, (1.0 + step) / (10.0 + step))
        _ema_update(ema_t, transformer, decay)  # type: ignore[arg-type]
        _ema_update(ema_te, text_encoder, decay)
        value = float(loss.detach())
        loss_avg = value if math.isnan(loss_avg) else 0.98 * loss_avg + 0.02 * value
        elapsed = time.monotonic() - start
        if step % 25 == 0 or step == 1:
            log(f"step {step}/{cfg.steps} loss {value:.4f} avg {loss_avg:.4f} {elapsed:.0f}s")
        if step % cfg.checkpoint_every == 0:
            save("periodic")
        if cfg.stop_at and step >= cfg.stop_at:
            log(f"stopping at step {step} as asked")
            break
        if cfg.max_minutes and elapsed > cfg.max_minutes * 60.0:
            log(f"time limit of {cfg.max_minutes} min reached at step {step}")
            break
    save("final")
    summary = {"steps": float(step), "seconds": time.monotonic() - start, "loss": loss_avg}
    (out_dir / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
