"""Models: tiny local language models (and, later, frozen-LM embeddings and sentiment)."""
