"""The local stack: AWS emulator, API, SQS workers, scheduler and Telegram sandbox (`python -m devstack`)."""
