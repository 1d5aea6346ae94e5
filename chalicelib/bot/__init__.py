"""The Telegram bot: a presentation layer beside `chalicelib.api`. It reads updates, drives the domain
through small ports and renders Bot API calls; the domain never imports it."""
