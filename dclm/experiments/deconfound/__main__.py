"""``accelerate launch -m dclm.experiments.deconfound ...``: one RL run in each launched process."""

from dclm.experiments.deconfound.policies import main

if __name__ == "__main__":
    main()
