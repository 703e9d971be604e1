"""``python -m benchmarks.broadcast.worker``: ``trygg worker``, with Telegram's rate from
the environment.

The benchmark runs real ``trygg worker`` processes. Twilio's and Messenger's rates are
settings (TRYGG_TWILIO_SEGMENTS_PER_SECOND, TRYGG_FACEBOOK_MESSAGES_PER_SECOND), so they
can be divided between workers as docs/operations.md says; Telegram's 30 a second is a
constant of the sender, so two workers would offer 60 a second. Until it is a setting,
this entry point sets it from BENCHMARK_TELEGRAM_PER_SECOND and then runs the very same
command.
"""

from __future__ import annotations

import os

from bots.telegram.outbound import TelegramSender
from trygg.cli_service import worker

RATE = "BENCHMARK_TELEGRAM_PER_SECOND"  # set by workers.environment


def main() -> None:
    rate = os.environ.get(RATE)
    if rate:
        TelegramSender.rate_per_second = float(rate)
    worker()


if __name__ == "__main__":
    main()
