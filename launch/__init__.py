"""The `cadenza` command: every process's entry point (bot, worker, corpus, train, evaluate, compose,
transcribe). The only package that reads config.toml and the environment, and the only importer of
`training/`; it hands each part its typed settings (`Config.serving()` for the bot's side).
"""
