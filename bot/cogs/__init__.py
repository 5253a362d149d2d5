"""The bot's features, one cog each; `bot.app.COGS` lists the ones loaded at start."""
