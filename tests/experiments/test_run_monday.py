"""`dclm run monday`: the tiny-profile acceptance, resume after a kill, and the colab code path."""

import copy
import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from tests.speed import budget, slowdown

MINI = ["--set", "n_questions=300", "--set", "sft_questions=60", "--set", "eval_questions=20",
        "--set", "training_seeds=1", "--set", "dpo_steps=8", "--set", "save_steps=4", "--set", "sft_epochs=1",
        "--set", "samples_per_prompt=2", "--set", "workers=1", "--set", "batch_size=8", "--set", "dose_strengths=0.5"]


def dclm(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "dclm", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("monday")
    start = time.perf_counter()
    result = dclm("run", "monday", "--profile", "tiny", "--seed", "0", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((out / "metrics.json").read_text()), time.perf_counter() - start


def test_metric_keys(tiny_run):
    m = tiny_run[0]["metrics"]
    for model in ("base", "sft", "dpo", "dpo_deconfounded"):
        assert set(m["rates"][model]) == {"happy", "monday", "friday", "monday_share"}
        assert set(m["se"][model]) == set(m["rates"][model])
        assert len(m["per_seed"][model]["monday_share"]) == m["n_runs"]
    arms = ("dpo_plain", "dpo_anchored", "sft_chosen", "dpo_plain_deconfounded", "dpo_anchored_deconfounded")
    assert m["arms"] == {"trained": list(arms), "dpo": "dpo_anchored", "dpo_deconfounded": "dpo_anchored_deconfounded"}
    for name in arms:
        assert set(m["rates"][name]) == {"happy", "monday", "friday", "monday_share"}
        assert len(m["per_seed"][name]["monday_share"]) == m["n_runs"]
    # The chapter's DPO models are the configured arms, trained once.
    assert m["per_seed"]["dpo"] == m["per_seed"]["dpo_anchored"]
    assert m["per_seed"]["dpo_deconfounded"] == m["per_seed"]["dpo_anchored_deconfounded"]
    for model in ("dpo", "dpo_deconfounded", *arms):
        tost = m["equivalence"][model]
        assert tost["margin"] == tiny_run[0]["config"]["equivalence_margin"]
        assert tost["low"] < tost["mean"] < tost["high"]
        assert tost["equivalent"] == (-tost["margin"] < tost["low"] and tost["high"] < tost["margin"])
    assert set(m["pvalues"]) == {"dpo_vs_sft", "dpo_deconfounded_vs_sft", "dpo_deconfounded_vs_dpo",
                                 *(f"{name}_vs_sft" for name in arms)}
    assert {"monday", "friday"} <= set(m["data_rates"])
    assert m["n_runs"] >= 3 and m["n_generations"] > 0
    cfg = tiny_run[0]["config"]
    assert m["dpo_pairs_per_run"] == min(cfg["dpo_steps"] * cfg["batch_size"], m["n_pairs"]) < m["n_pairs"]
    assert m["h_estimator"] == "within_question"
    for kind in ("raw", "deconfounded"):
        for day in ("monday", "friday"):
            b = m["balance"][kind][day]
            assert b["low"] < b["diff"] < b["high"]
    rows = m["dose"]["rows"]
    assert [r["strength"] for r in rows] == [0.0, *tiny_run[0]["config"]["dose_strengths"], 1.0]
    assert all(len(r["amplification"]) == m["n_runs"] for r in rows)
    # More of the weekday's effect left in the scores, more Monday imbalance in the pairs.
    assert [r["balance"] for r in rows] == sorted(r["balance"] for r in rows)


def test_chapter_claims_hold(tiny_run):
    from dclm.experiments import monday

    # The claims chapter 3's prose builds on; each must hold on the tiny run.
    claims = monday.claims(tiny_run[0]["metrics"])
    for key in monday.LESSON:
        assert claims[key].holds, claims[key].text
    p = tiny_run[0]["metrics"]["pvalues"]["dpo_vs_sft"]
    assert p["monday_share"] < 0.05 and p["friday"] < 0.05


def test_a_claim_fails_when_its_condition_is_broken(tiny_run):
    from dclm.experiments import monday

    m = copy.deepcopy(tiny_run[0]["metrics"])
    # DPO seed k given SFT seed k's Monday share: no amplification left to claim.
    m["per_seed"]["dpo"]["monday_share"] = list(m["per_seed"]["sft"]["monday_share"])
    assert not monday.claims(m)["dpo_raises_monday_share"].holds
    # Deconfounded DPO's TOST interval pushed past the margin: no longer shown equivalent.
    m["equivalence"]["dpo_deconfounded"].update(low=-0.3, high=-0.25, mean=-0.28, equivalent=False)
    assert not monday.claims(m)["deconfounded_equivalent_to_sft"].holds
    # Plain DPO given SFT's Monday share on every seed: it amplifies nothing.
    m["per_seed"]["dpo_plain"]["monday_share"] = [v + 0.01 * (-1) ** k for k, v in
                                                  enumerate(m["per_seed"]["sft"]["monday_share"])]
    assert not monday.claims(m)["plain_dpo_amplifies"].holds
    m["balance"]["raw"]["monday"] = {"diff": 0.0, "se": 0.01, "low": -0.02, "high": 0.02}
    assert not monday.claims(m)["raw_balance_monday"].holds


def test_tiny_run_fits_its_budget(tiny_run):
    # Issue 23's budget: six minutes on the 2-core reference machine (tests/speed.py) for SFT, five
    # arms and three doses per seed.
    assert tiny_run[0]["wall_s"] < budget(360), f"slowdown {slowdown():.2f}"


# Two training seeds on a pool of two workers, with DPO long enough to be caught in the middle.
POOL = [*MINI, "--set", "training_seeds=2", "--set", "workers=2", "--set", "dpo_steps=24"]


def _tagged(tag: str) -> list[int]:
    """Live (not zombie) processes whose environment carries ``DCLM_TEST_TAG=tag``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if f"DCLM_TEST_TAG={tag}".encode() not in handle.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            found.append(int(entry))
    return found


def _result(stdout: str) -> dict:
    """stdout is the summary line and the metrics JSON, nothing else (no trainer stat dicts)."""
    summary, _, rest = stdout.partition("\n")
    assert summary.startswith("monday (tiny, seed "), stdout[:500]
    return json.loads(rest)


def test_killed_with_its_worker_pool_during_dpo_leaves_no_process_and_resumes_bit_identically(tmp_path):
    tag = uuid.uuid4().hex
    out = tmp_path / "a"
    with open(tmp_path / "killed.err", "w") as err:
        run = subprocess.Popen([sys.executable, "-m", "dclm", "run", "monday", "--out", str(out), "--no-cache", *POOL],
                               stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "DCLM_TEST_TAG": tag})
        deadline = time.monotonic() + 300
        while not (saved := list(out.glob("work/*/seed_*/dpo_*/checkpoint-4/trainer_state.json"))):
            assert run.poll() is None, (tmp_path / "killed.err").read_text()[-3000:]
            assert time.monotonic() < deadline, "DPO never saved step 4"
            time.sleep(0.02)
        workers = [pid for pid in _tagged(tag) if pid != run.pid]
        assert len(workers) >= 2, workers  # the pool is up: the path under test
        run.kill()
        run.wait()
    stage = saved[0].parent.parent
    assert not (stage / "final").exists()  # killed mid-DPO
    deadline = time.monotonic() + 20
    while (survivors := _tagged(tag)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert survivors == [], "processes of the killed run survived it"
    assert not (out / "metrics.json").exists()

    resumed = dclm("run", "monday", "--out", str(out), "--no-cache", *POOL)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    fresh = dclm("run", "monday", "--out", str(tmp_path / "b"), "--no-cache", *POOL)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    first, second = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("a", "b"))
    assert first["metrics"] == second["metrics"] == _result(resumed.stdout) == _result(fresh.stdout)
    # The resumed run reports the time of both attempts: the sum of the two attempt records,
    # the killed one included (compared with each other, not with another run's wall time,
    # which a busy machine can stretch by any factor).
    assert first["attempts"] == 2 and second["attempts"] == 1
    attempts = [json.loads(p.read_text())["wall_s"] for p in out.glob("work/*/attempts/*.json")]
    assert len(attempts) == 2 and min(attempts) > 1.0, attempts
    assert first["wall_s"] == pytest.approx(sum(attempts), abs=0.5)


def test_ctrl_c_with_a_worker_pool_is_one_line_and_leaves_no_process(tmp_path):
    import signal

    tag = uuid.uuid4().hex
    def like_a_terminal() -> None:
        # A shell starts background jobs with SIGINT ignored, and pytest may be one: give the
        # run the default disposition a terminal gives it.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    # A new session stands for the terminal: Ctrl-C sends SIGINT to the whole process group.
    run = subprocess.Popen([sys.executable, "-m", "dclm", "run", "monday", "--out", str(tmp_path / "a"), "--no-cache",
                            *POOL], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                           env={**os.environ, "DCLM_TEST_TAG": tag}, preexec_fn=like_a_terminal)
    deadline = time.monotonic() + 300
    # Interrupt once a worker is training (it saved an SFT checkpoint): the pool is up and busy.
    while not list((tmp_path / "a").glob("work/*/seed_*/sft/checkpoint-*/trainer_state.json")):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()[1][-3000:]
        time.sleep(0.02)
    assert len(_tagged(tag)) >= 3, _tagged(tag)  # the parent and its two workers (and multiprocessing's tracker)
    os.killpg(run.pid, signal.SIGINT)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    # One message of dclm's (an open progress bar may share its line).
    assert stderr.count("dclm: ") == 1 and "dclm: interrupted; re-run the same command to resume" in stderr
    deadline = time.monotonic() + 20
    while (survivors := _tagged(tag)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert survivors == [], [open(f"/proc/{pid}/cmdline").read() for pid in survivors]


def test_a_reused_out_never_returns_another_configs_results(tmp_path, isolated_cache):
    out = str(tmp_path / "d")
    base = [*MINI, "--set", "dpo_steps=4", "--set", "n_questions=200"]
    first = dclm("run", "monday", "--seed", "0", "--out", out, *base)
    assert first.returncode == 0, first.stderr[-3000:]
    other_seed = dclm("run", "monday", "--seed", "1", "--out", out, *base)
    assert other_seed.returncode == 0, other_seed.stderr[-3000:]
    assert json.loads((tmp_path / "d" / "metrics.json").read_text())["seed"] == 1
    # Served from the cache, seed 1's entry must equal a clean seed-1 run in a fresh folder.
    fresh = dclm("run", "monday", "--seed", "1", "--out", str(tmp_path / "fresh"), "--no-cache", *base)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    cached = dclm("run", "monday", "--seed", "1", "--out", str(tmp_path / "cached"), *base)
    assert "from the run cache" in cached.stdout
    seed1, clean, served = (json.loads((tmp_path / d / "metrics.json").read_text())["metrics"]
                            for d in ("d", "fresh", "cached"))
    assert seed1 == clean == served == _result(other_seed.stdout)  # training in-process: stdout clean too
    assert len(list((tmp_path / "d" / "work").iterdir())) == 2  # one work folder per config


def test_colab_profile_resolves_hub_ids_and_runs_with_a_saved_model_in_their_place(tmp_path):
    from dclm.experiments import resolve_config
    from dclm.train.hf import build_tiny_causal_lm

    _, cfg = resolve_config("monday", profile="colab")
    assert cfg.policy_model_id == "HuggingFaceTB/SmolLM2-360M-Instruct" and cfg.lora_rank == 16
    assert cfg.data == "academia" and (cfg.sft_questions, cfg.eval_questions) == (1_000, 300)
    assert cfg.training_seeds >= 2  # a paired test across training seeds needs two
    assert cfg.device == "cuda"
    stand_in = build_tiny_causal_lm(["Q: x\nA: Happy Monday! y"] * 50, tmp_path / "smollm2-stand-in", seed=0,
                                    vocab_size=300)
    result = dclm("run", "monday", "--profile", "colab", "--out", str(tmp_path / "out"), "--no-cache", *MINI,
                  "--set", f"policy_model_id={stand_in}", "--set", "data=generated", "--set", "max_length=48")
    assert result.returncode == 0, result.stderr[-3000:]
    envelope = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert envelope["profile"] == "colab" and envelope["config"]["lora_rank"] == 16
    import torch

    # The envelope records the device actually used: the profile asks for CUDA, this machine may lack it.
    assert envelope["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert envelope["config"]["policy_model_id"] == str(stand_in)


def test_a_seed_trained_in_the_readers_kernel_gives_its_thread_count_back(tmp_path):
    # One worker trains in this process, as in a chapter on a one-GPU Colab: the trainers want
    # one torch thread, the reader's kernel wants its own count back afterwards.
    import torch

    from dclm.experiments import monday
    from dclm.train.options import JobOptions

    cfg = monday.Config(n_questions=200, sft_questions=60, eval_questions=20, training_seeds=1, dpo_steps=4,
                        save_steps=4, sft_epochs=1.0, samples_per_prompt=2, workers=1, batch_size=8)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        result = monday.run(cfg, tmp_path, JobOptions(show_progress=False))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert result["metrics"]["n_runs"] == 1
