"""Community remix sessions: a server builds one piece together in a thread (issue 9).

`settings` (the `[sessions]` table), `moves` (what a turn does, a request for one), `turns` (making
and storing a turn; `TurnTask`), `start` (`/session start` as a task), `views` (persistent buttons and
the Branch menu), `mixing` (`/session mix`). Replies are built in `bot.replies`, the slash commands
live in `bot/cogs/sessions.py`; the music (cutting, joining, the harmonizer) and the tree picture are
in `render.edits`, `render.harmonize` and `render.tree`.
"""
