"""The composer: tokenizer, networks, checkpoints, sampling, the batch engine and its queues."""
