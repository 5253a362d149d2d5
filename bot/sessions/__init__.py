"""Community remix sessions: a server builds one piece together in a thread (issue 9).

`settings` (the `[sessions]` table), `turns` (making one turn), `views` (persistent buttons and the
Branch menu), `messages` (embeds). The slash commands live in `bot/cogs/sessions.py`; the music
(cutting, joining, the harmonizer) and the tree picture are in `render.edits`, `render.harmonize` and
`render.tree`.
"""
