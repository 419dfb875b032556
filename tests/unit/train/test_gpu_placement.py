"""Devices on a GPU machine, tested on a CPU by mocking what torch reports about CUDA."""

import json
import os
import time
from multiprocessing import get_context
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from dclm import env
from dclm.models import embed, sentiment
from dclm.train import hf


def _mock_gpus(monkeypatch, count, capability=(7, 5), name="Tesla T4"):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *_: capability)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda _: SimpleNamespace(
        name=name, major=capability[0], minor=capability[1], total_memory=15 * 2**30))


def test_worker_count_is_one_per_gpu_on_a_gpu_profile_and_one_per_core_on_the_cpu(monkeypatch):
    _mock_gpus(monkeypatch, 3)
    assert env.worker_count(jobs=4, requested=0, device_name="cuda") == 3
    assert env.worker_count(jobs=2, requested=0, device_name="cuda") == 2
    assert env.worker_count(jobs=4, requested=8, device_name="cuda") == 3  # never two on one GPU
    assert env.worker_count(jobs=4, requested=0, device_name="cpu") == min(4, os.cpu_count())
    _mock_gpus(monkeypatch, 0)
    # A GPU profile on a machine without one falls back to the CPU cores.
    assert env.worker_count(jobs=4, requested=0, device_name="cuda") == min(4, os.cpu_count())


def _visible_after_a_pause():
    time.sleep(0.5)  # keeps the first worker busy, so the second task goes to the second
    return os.environ.get("CUDA_VISIBLE_DEVICES")


def test_each_worker_sees_only_its_own_gpu(monkeypatch):
    from concurrent.futures import ProcessPoolExecutor

    _mock_gpus(monkeypatch, 2)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    context = get_context("spawn")
    kwargs = env.pool_kwargs(jobs=2, requested=0, device_name="cuda", mp_context=context)
    assert kwargs["max_workers"] == 2
    with ProcessPoolExecutor(mp_context=context, **kwargs) as pool:
        seen = [f.result() for f in [pool.submit(_visible_after_a_pause) for _ in range(2)]]
    assert sorted(seen) == ["0", "1"]
    assert "initializer" not in env.pool_kwargs(2, 0, "cpu", context)


def test_worker_gpus_follow_an_existing_cuda_visible_devices(monkeypatch):
    _mock_gpus(monkeypatch, 2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    queue = env.pool_kwargs(jobs=2, requested=0, device_name="cuda", mp_context=get_context("spawn"))["initargs"][0]
    assert sorted(queue.get(timeout=5) for _ in range(2)) == ["3", "5"]


def test_monday_pool_is_sized_by_the_gpus(monkeypatch, tmp_path):
    from dclm.experiments import monday

    class Stop(Exception):
        pass

    recorded = {}

    def fake_pool(**kwargs):
        recorded.update(kwargs)
        raise Stop

    from dclm.train import pool

    _mock_gpus(monkeypatch, 3)
    monkeypatch.setattr(pool, "ProcessPoolExecutor", fake_pool)
    (tmp_path / "prepared.json").write_text(json.dumps({"summary": {}}))
    with pytest.raises(Stop):
        monday.run(monday.Config(policy_model_id="a/hub-model", training_seeds=4, device="cuda"), tmp_path)
    # worker_pool runs its parent-death setup first, then the GPU pin it was given.
    assert recorded["max_workers"] == 3 and recorded["initargs"][1] is env._pin_to_gpu


@pytest.mark.parametrize(("gpus", "requested", "expected"), [(1, 2, 1), (4, 2, 2), (2, 8, 2)])
def test_accelerate_launches_at_most_one_process_per_gpu(monkeypatch, tmp_path, gpus, requested, expected):
    import subprocess

    from dclm.experiments import deconfound
    from dclm.experiments.deconfound import policies

    _mock_gpus(monkeypatch, gpus)
    assert env.launch_processes(requested, "cuda") == expected
    assert env.launch_processes(requested, "cpu") == requested  # gloo: any number of processes
    commands = []

    (tmp_path / "prepared.json").write_text(json.dumps({"settings": {"entangled": {"probes": {"iv": {"id": "r1"}}}}}))

    def fake_run(command, **_):
        commands.append(command)
        done = tmp_path / "rl" / "r1" / "seed_0" / "generations.json"
        done.parent.mkdir(parents=True, exist_ok=True)
        done.write_text(json.dumps({"generations": [], "world_size": expected}))
        return SimpleNamespace(returncode=0, stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    cfg = deconfound.Config(launcher="accelerate", num_processes=requested, device="cuda")
    policies.launch_rl_job(cfg, "entangled", "iv", 0, str(tmp_path), str(tmp_path / "sft"))
    command = commands[0]
    assert command[command.index("--num_processes") + 1] == str(expected)
    assert ("--multi_gpu" in command) == (expected > 1)


def test_the_sentiment_classifier_gets_a_resolved_device(monkeypatch):
    seen = {}

    def fake_classifier(model_id, texts, device="cpu", batch_size=64):
        seen["device"] = device
        return np.zeros(len(texts))

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(hf, "classifier_positive_minus_negative", fake_classifier)
    sentiment.sentiment(["a fine day"], "distilbert/some-sst2-model", device="cuda")
    assert seen["device"] == "cpu"  # the colab profile on a machine without a GPU


def test_dclm_env_shows_the_profile_and_the_device_it_really_uses(monkeypatch):
    monkeypatch.setenv("DCLM_PROFILE", "colab")
    _mock_gpus(monkeypatch, 1)
    report = env.report()
    assert (report["profile"], report["device"], report["precision"]) == ("colab", "cuda", "fp16")
    assert report["gpus"] == [{"name": "Tesla T4", "capability": "7.5", "memory_gib": 15.0}]
    monkeypatch.setenv("DCLM_PROFILE", "tiny")
    assert (env.report()["device"], env.report()["precision"]) == ("cpu", "fp32")


def test_versions_are_the_loaded_ones_and_stale_imports_are_named(monkeypatch):
    import importlib.metadata

    installed = importlib.metadata.version("numpy")
    assert env.stale_imports() == {} or "numpy" not in env.stale_imports()
    monkeypatch.setattr(np, "__version__", "1.26.4")
    assert env.versions()["numpy"] == "1.26.4"
    assert env.stale_imports()["numpy"] == ("1.26.4", installed)


def test_mean_pooling_sums_half_precision_states_in_fp32():
    hidden = torch.full((1, 100, 4), 1000.0, dtype=torch.float16)  # the fp16 sum would be 1e5 > 65,504
    pooled = embed.pool(hidden, torch.ones(1, 100, dtype=torch.long), "mean")
    assert pooled.dtype == torch.float32 and torch.allclose(pooled, torch.full((1, 4), 1000.0))


def test_only_one_encoder_stays_loaded(tmp_path, monkeypatch):
    texts = [f"headline number {i} about a team" for i in range(40)]
    first = hf.build_tiny_causal_lm(texts, tmp_path / "a", seed=0, vocab_size=200, hidden_size=16)
    second = hf.build_tiny_causal_lm(texts, tmp_path / "b", seed=1, vocab_size=200, hidden_size=16)
    embed.embed_texts(texts[:3], model_id=str(first), use_cache=False, show_progress=False)
    assert embed.loaded_encoders() == [(str(first), "cpu")]
    embed.embed_texts(texts[:3], model_id=str(second), use_cache=False, show_progress=False)
    assert embed.loaded_encoders() == [(str(second), "cpu")]
