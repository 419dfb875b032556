"""Training: the only place in dclm that imports transformers, trl and peft.

An API rename in those libraries is one fix here. ``hf`` builds, loads and samples models;
``sft`` and ``dpo`` wrap trl's trainers with checkpoint/resume and CPU-safe defaults;
``callbacks`` measures a stage from inside its training loop (step times, precision).
"""
