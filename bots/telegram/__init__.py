"""Telegram: young people answer through a bot, found by deep links on posters.

python-telegram-bot is used for its ``Bot`` client and ``Update`` parsing only; the
dialog state lives in our engine, never in its ConversationHandler or persistence.
"""
