"""Chapter 3's training arms: which loss trains on which pairs.

Anchored DPO (DPO plus a weighted negative log-likelihood of the chosen answers, the remedy RPO
uses against likelihood displacement) differs from plain DPO in two ways at once: it contrasts
chosen with rejected answers *and* imitates the chosen ones, which carry the Monday marker more
often than rejected ones in raw pairs. The arms take those apart, on the same draw of pairs:

- ``dpo_plain``: DPO's contrast alone;
- ``dpo_anchored``: the contrast plus the anchor (``dpo_sft_weight``);
- ``sft_chosen``: imitation of the chosen answers alone (SFT on them, DPO's steps and rate);
- ``dpo_plain_deconfounded``, ``dpo_anchored_deconfounded``: the two DPO losses on deconfounded pairs.

The chapter's models ``dpo`` and ``dpo_deconfounded`` are the arms of the configured
``dpo_loss``; with ``ablations`` off only those two are trained.
"""

from __future__ import annotations

from dataclasses import dataclass

from dclm.experiments.monday.config import ARMS, Config


@dataclass(frozen=True)
class Arm:
    """One way of training from the SFT model: ``pairs`` names the prepared pair set (``"dpo"``
    raw, ``"dpo_deconfounded"``), ``sft_weight`` the anchor's weight (0: plain DPO) and
    ``chosen_only`` SFT on the chosen answers instead of DPO."""

    name: str
    pairs: str
    sft_weight: float = 0.0
    chosen_only: bool = False


def arm(name: str, cfg: Config) -> Arm:
    """The :class:`Arm` called ``name`` (one of :data:`ARMS`) under ``cfg``."""
    if name not in ARMS:
        raise ValueError(f"arm={name!r}: valid arms are {', '.join(ARMS)}")
    pairs = "dpo_deconfounded" if name.endswith("_deconfounded") else "dpo"
    if name == "sft_chosen":
        return Arm(name, pairs, chosen_only=True)
    return Arm(name, pairs, sft_weight=cfg.dpo_sft_weight if name.startswith("dpo_anchored") else 0.0)


def headline_arms(cfg: Config) -> dict[str, str]:
    """The arm behind each of the chapter's DPO models: ``{"dpo": ..., "dpo_deconfounded": ...}``."""
    return {"dpo": f"dpo_{cfg.dpo_loss}", "dpo_deconfounded": f"dpo_{cfg.dpo_loss}_deconfounded"}


def trained_arms(cfg: Config) -> tuple[str, ...]:
    """The arms a training seed trains, in :data:`ARMS` order: all of them with ``ablations``,
    else the two behind ``dpo`` and ``dpo_deconfounded``."""
    wanted = set(ARMS) if cfg.ablations else set(headline_arms(cfg).values())
    return tuple(name for name in ARMS if name in wanted)


def chosen_records(pairs: list[dict]) -> list[dict]:
    """The SFT records of ``sft_chosen``: each pair's prompt with its chosen answer as the completion."""
    return [{"prompt": pair["prompt"], "completion": pair["chosen"]} for pair in pairs]
