"""Community remix sessions: a server builds one piece together in a thread (issue 9).

`settings` (the `[sessions]` table), `music` (MIDI cutting, joining and the harmonizer), `tree` (the
lineage picture), `turns` (making one turn), `views` (persistent buttons and the Branch menu),
`messages` (embeds). The slash commands live in `bot/cogs/sessions.py`.
"""
