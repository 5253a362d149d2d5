"""Job queues between the bot and the engine: in-process, or Redis Streams with `cadenza worker`s.

The bot only ever calls `await queue.generate(request, on_progress)`; `base.open_queue` picks the
backend. Modules: `settings` (QueueSettings, light: config loading imports it), `base` (the protocol,
the in-process queue, `open_queue`), `client` (RedisQueue, bot side), `worker` (RedisWorker),
`wire` (JSON on the wire, never pickle), `observer` (metrics hooks).
"""
