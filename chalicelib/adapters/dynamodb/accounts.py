"""The Telegram users the bot knows: Accounts items "user:<id>" (the same item counts their open orders)."""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamodb.models import AccountItem
from chalicelib.domain.users import TelegramUser, UserProfile


def _account_id(user_id: int) -> str:
    return f"user:{user_id}"


def _profile(user_id: int, item: AccountItem) -> UserProfile:
    profile = item.profile.as_dict() if item.profile is not None else {}
    return UserProfile(user_id=user_id, language=item.language, blocked=item.blocked_at is not None,
                       language_code=profile.get("language_code") or None)


class DynamoUserStore:
    """Only UpdateItem on named attributes: the item's open-order counter belongs to the order code."""

    def remember(self, user: TelegramUser, now: datetime) -> UserProfile:
        item = AccountItem(_account_id(user.user_id))
        profile = {"first_name": user.first_name[:64], "last_name": user.last_name[:64],
                   "language_code": (user.language_code or "")[:16]}
        actions = [AccountItem.profile.set(profile), AccountItem.seen_at.set(int(now.timestamp())),
                   AccountItem.blocked_at.remove()]
        actions.append(AccountItem.username_lc.set(user.username.lower()) if user.username
                       else AccountItem.username_lc.remove())
        item.update(actions=actions)  # returns ALL_NEW: the chosen language comes back in the same call
        return _profile(user.user_id, item)

    def profile(self, user_id: int) -> UserProfile | None:
        try:
            item = AccountItem.get(_account_id(user_id),
                                   attributes_to_get=["account_id", "language", "blocked_at", "profile"])
        except DoesNotExist:
            return None
        return _profile(user_id, item)

    def find_by_username(self, username: str) -> int | None:
        """The user who most recently used this username (usernames move between accounts)."""
        candidates = [item.account_id for item in AccountItem.by_username.query(username.lower(), limit=10)
                      if item.account_id.startswith("user:")]
        if not candidates:
            return None
        if len(candidates) > 1:
            items = sorted(AccountItem.batch_get(candidates, attributes_to_get=["account_id", "seen_at",
                                                                                "username_lc"]),
                           key=lambda item: item.seen_at or 0, reverse=True)
            candidates = [item.account_id for item in items if item.username_lc == username.lower()] or candidates
        return int(candidates[0].split(":", 1)[1])

    def set_language(self, user_id: int, language: str) -> None:
        AccountItem(_account_id(user_id)).update(actions=[AccountItem.language.set(language)])

    def set_blocked(self, user_id: int, blocked: bool, now: datetime) -> None:
        action = AccountItem.blocked_at.set(int(now.timestamp())) if blocked else AccountItem.blocked_at.remove()
        AccountItem(_account_id(user_id)).update(actions=[action])
