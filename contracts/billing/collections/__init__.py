"""Collection follow-ups: the daily sweep (Celery beat, 09:00 local) that reminds clients of what they owe and
escalates what stays unpaid, and the e-mails it sends.

Levels by days past the due date (DOMAIN.md): L0 courtesy 3 days before it, L1 on the due date, L2 at 7 days,
L3 at 14 (final notice, the account manager in CC), L4 at 30: no more e-mail to the client; every active director
and finance user is notified and finance gets a next step on the client's timeline. Each (invoice, level) at most
once, ever (CollectionStep); an invoice that reaches the sweep late (issued late, resumed after a pause or a
dispute, a promise to pay that passed) gets its current level only, never the missed ones. Nothing for an invoice
that is disputed, paused (itself or its client), promised for today or later, or owes less than
``settings.ACCORD_COLLECTION_MINIMUM`` in its currency.

A client gets one e-mail a day at most (CollectionNotice, unique per client and day). It lists all of the client's
invoices due within 3 days or overdue (those on hold left out) with the balance per currency, in each billing
contact's language; its tone is the highest level taken that day. No billing contact with an e-mail address: the
account manager is told instead (one notification per batch naming all such clients of theirs).

The sweep walks the clients with a follow-up due in keyset batches (by client id), one transaction per batch. It
claims the batch's notices with one ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, then the steps of the clients
whose notice it inserted (likewise), logs them (an invoice event per step, one system entry per client on the
timeline), notifies, and queues one e-mail task per billing contact after commit:

- two sweeps at once: the second one's insert waits for the first one's notices and skips them, so it takes no
  step of those clients and sends nothing for them;
- a worker killed mid-sweep: the open batch rolls back, claims, logs and notifications together, and a rerun
  takes it; the batches committed before stay taken and are skipped;
- a client already followed up today (an invoice issued after the morning's sweep, say) waits for tomorrow: the
  new invoice is still due then, at the same or the next level.

The e-mail task (``deliver_notice_email``) claims its NoticeDelivery row and queues the e-mail (core/mail.py) in
one transaction: a worker that dies before the commit leaves neither, so the redelivered task queues it once. The
mail queue delivers it after the commit and retries a mail server that refuses.

Dates are the agency's (``timezone.localdate()``). Client e-mails carry no link into Accord.
"""

from .claims import claim_delivery, claim_notices, claim_steps
from .mail import deliver_notice_email, notice_invoices, notice_message
from .rules import LEVEL_DAYS, NOTICE_WINDOW, chased_invoices, follow_ups_due, level_due, notice_level
from .sweep import BATCH_SIZE, PAUSE_VARIABLE, send_follow_ups

__all__ = [
    "BATCH_SIZE",
    "LEVEL_DAYS",
    "NOTICE_WINDOW",
    "PAUSE_VARIABLE",
    "chased_invoices",
    "claim_delivery",
    "claim_notices",
    "claim_steps",
    "deliver_notice_email",
    "follow_ups_due",
    "level_due",
    "notice_invoices",
    "notice_level",
    "notice_message",
    "send_follow_ups",
]
