"""Bot conversation state per private chat, saved with a conditional write on its version."""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.adapters.dynamodb.models import ConversationItem
from chalicelib.domain.ports.bot import ChatState


class DynamoConversationStore:
    def load(self, chat_id: int, now: datetime) -> ChatState:
        try:
            item = ConversationItem.get(chat_id, consistent_read=True)
        except DoesNotExist:
            return ChatState(chat_id=chat_id)
        if item.expires_at <= int(now.timestamp()):
            # TTL deletes lazily (within days): an expired item reads as a fresh chat, but keeps its
            # version so the next save still names what it read.
            return ChatState(chat_id=chat_id, version=int(item.version))
        return ChatState(chat_id=chat_id, version=int(item.version), step=item.step, data=item.data or {},
                         step_at=int(item.step_at or 0), language=item.language, username_lc=item.username_lc,
                         tokens=float(item.tokens) if item.tokens is not None else None,
                         refilled_ms=int(item.refilled_ms or 0), notice_ms=int(item.notice_ms or 0))

    def save(self, state: ChatState, now: datetime, ttl_seconds: int) -> bool:
        item = ConversationItem(state.chat_id, version=state.version + 1, step=state.step,
                                data=state.data or None, step_at=state.step_at or None, language=state.language,
                                username_lc=state.username_lc,
                                tokens=round(state.tokens, 3) if state.tokens is not None else None,
                                refilled_ms=state.refilled_ms or None, notice_ms=state.notice_ms or None,
                                expires_at=int(now.timestamp()) + ttl_seconds)
        condition = (ConversationItem.chat_id.does_not_exist() if state.version == 0
                     else ConversationItem.version == state.version)
        try:
            item.save(condition=condition)
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        state.version += 1
        return True
