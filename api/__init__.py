"""Keepwell's FastAPI gateway: the only public door to the bot, the widget, the help centre and the CSM console."""
