"""How often chapter 6's canary test flags confounded and clean rewards."""

from __future__ import annotations

import pandas as pd


def detection(canary: dict, replicated: dict) -> dict:
    """Hit rate (flagged among truly confounded rewards) and false-alarm rate (flagged among
    clean ones), over every data set, reward and data draw; also per data set."""
    rows = []
    for dataset, rewards in replicated.items():
        for reward, draws in rewards.items():
            rows += [{"dataset": dataset, "reward": reward, "truth": d["truth"], "flagged": d["flagged"]}
                     for d in draws]
    for dataset, rewards in canary.items():
        if dataset not in replicated:
            rows += [{"dataset": dataset, "reward": r, "truth": v["truth"], "flagged": v["flagged"]}
                     for r, v in rewards.items()]
    frame = pd.DataFrame(rows)

    def rates(part: pd.DataFrame) -> dict:
        bad, good = part[part["truth"]], part[~part["truth"]]
        return {"hit_rate": float(bad["flagged"].mean()) if len(bad) else None, "n_confounded": int(len(bad)),
                "false_alarm_rate": float(good["flagged"].mean()) if len(good) else None, "n_clean": int(len(good))}

    family = frame["dataset"].str.replace(r"_(orthogonal|entangled|proxy)$", "", regex=True)
    return {**rates(frame), "by_dataset": {name: rates(frame[frame["dataset"] == name])
                                           for name in frame["dataset"].unique()},
            "by_family": {name: rates(frame[family == name]) for name in family.unique()}}
