"""Withdrawing a story: hidden from readers, never posted again, its channel posts deleted.

Every way a story is taken back ends here: a source's deletion (push `action: delete`, Ghost
unpublishing, a WordPress post made private or trashed), front matter `status: withdrawn`, a
file leaving the content folder (WITHDRAW_ON_FILE_REMOVED) or an editor's /withdraw. The
deletes are queued in the outbox, paced like any send; the worker performs them.

A withdrawn story stays withdrawn: the same story published again later is not shown or posted
(its source may have flipped back by mistake; an editor decides).
"""

from __future__ import annotations

import logging
from datetime import datetime

from content.storage import Repository
from content.storage.outbox import Withdrawal

log = logging.getLogger(__name__)


async def withdraw(
    repo: Repository, article_id: str, *, now: datetime, reason: str
) -> Withdrawal | None:
    """Withdraw the story (None when there is no such story); idempotent."""
    done = await repo.outbox.withdraw(article_id, now=now, reason=reason)
    if done is not None and (done.first or done.deletes or done.in_flight):
        log.info(
            "story %s withdrawn (%s): %d unsent dropped, %d channel posts to delete",
            article_id,
            reason,
            done.unsent,
            done.deletes + done.in_flight,
        )
    return done


def deletes_queued(done: Withdrawal | None) -> int:
    """Channel posts a withdrawal will delete (queued now, or once their send is recorded)."""
    return 0 if done is None else done.deletes + done.in_flight
