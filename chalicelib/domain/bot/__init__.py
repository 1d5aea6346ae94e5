"""The Telegram bot's conversation: pure logic from a parsed update and a chat's state to Bot API calls."""
