"""The peer: the Karlslund questionnaire as a team would write it with python-telegram-bot.

An ``Application`` with one ``ConversationHandler`` (a state per question; inline buttons
for choices, text for free-text questions, ``/start SOURCE`` from a deep link), answers
kept in ``user_data``, and ``PicklePersistence`` for conversations and user data with
its defaults (written every ``update_interval`` = 60 s and at a clean shutdown). Updates
come through PTB's documented "custom webhook" pattern: a Starlette app on uvicorn whose
``POST /telegram`` turns the JSON into an ``Update`` and hands it to the application.

``--mode queue`` is the documented example: ``update_queue.put`` and an immediate 200,
handled afterwards one at a time (the default ``concurrent_updates``), so the 200 means
"queued in memory". ``--mode process`` awaits ``application.process_update`` before
answering, so the 200 means "handled", which is what Trygg's 200 means (plus committed);
concurrency then comes from the concurrent requests, and ``concurrent_updates`` is unused.

``GET /stats`` says how many updates were handled (and their receipt-to-handled latency),
and what the application holds: after a restart that is what the pickle file kept.

The process around it (webhook, stats, command line) is ``benchmarks.peer.webhook``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from benchmarks.peer import karlslund_sv as sv

CONVERSATION = "karlslund"
STEPS = ["problems", "where", "where_detail", "when", "told", "told_why_not", "place_1", "place_2",
         "place_3", "place_4", "more", "age_group", "gender", "feedback", "phone"]  # fmt: skip
STATE = {step: number for number, step in enumerate(STEPS)}
Context = ContextTypes.DEFAULT_TYPE
Next = Callable[[int, Context], Awaitable[int]]
Handler = Callable[[Update, Context], Coroutine[Any, Any, int]]


def markup(step: str, ticked: frozenset[str] = frozenset()) -> InlineKeyboardMarkup:
    if step in sv.TEXTS:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(sv.SKIP, callback_data=f"{step}:_skip")]]
        )
    _, choices, skip = sv.CHOICES[step]
    if step.startswith("place_"):  # the three ratings share one row
        return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"{step}:{c}")
                                      for c, label in choices]])  # fmt: skip
    multiple = step in sv.MULTIPLE
    rows = [
        [InlineKeyboardButton(f"{'☑' if c in ticked else '☐'} {label}" if multiple else label,
                              callback_data=f"{step}:{c}")]
        for c, label in choices
    ]  # fmt: skip
    if skip:
        rows.append([InlineKeyboardButton(sv.SKIP, callback_data=f"{step}:_skip")])
    if multiple:
        rows.append([InlineKeyboardButton(sv.DONE, callback_data=f"{step}:_done")])
    return InlineKeyboardMarkup(rows)


async def ask(chat: int, context: Context, step: str) -> int:
    text = sv.TEXTS[step] if step in sv.TEXTS else sv.CHOICES[step][0]
    keyboard = None if step == "phone" else markup(step)
    await context.bot.send_message(chat, text, reply_markup=keyboard)
    return STATE[step]


def answers(context: Context) -> dict[str, Any]:
    assert context.user_data is not None
    found: dict[str, Any] = context.user_data.setdefault("answers", {})
    return found


# What comes after each question: the flow's skip logic, written out by hand.
async def after_where(chat: int, context: Context) -> int:
    where = answers(context).get("where")
    if where and "nowhere" in where:
        return await ask(chat, context, "told")
    return await ask(chat, context, "where_detail" if where else "when")


async def after_told(chat: int, context: Context) -> int:
    if answers(context).get("told") == "no":
        return await ask(chat, context, "told_why_not")
    return await places(chat, context)


async def places(chat: int, context: Context) -> int:
    await context.bot.send_message(chat, sv.PLACES_INTRO)
    return await ask(chat, context, "place_1")


async def about_you(chat: int, context: Context) -> int:
    await context.bot.send_message(chat, sv.ABOUT_YOU)
    return await ask(chat, context, "age_group")


async def after_feedback(chat: int, context: Context) -> int:
    wanted = answers(context).get("feedback")
    if wanted == "sms":
        return await ask(chat, context, "phone")
    return await finish(chat, context)


async def finish(chat: int, context: Context) -> int:
    await context.bot.send_message(chat, sv.THANKS)
    if answers(context).get("feedback") in ("here", "sms"):
        await context.bot.send_message(chat, sv.THANKS_FEEDBACK)
    assert context.user_data is not None
    context.user_data["completed_at"] = time.time()
    return ConversationHandler.END


def then(step: str) -> Next:
    async def go(chat: int, context: Context) -> int:
        return await ask(chat, context, step)

    return go


NEXT: dict[str, Next] = {
    "problems": then("where"), "where": after_where, "where_detail": then("when"),
    "when": then("told"), "told": after_told, "told_why_not": places,
    "place_1": then("place_2"), "place_2": then("place_3"), "place_3": then("place_4"),
    "place_4": then("more"), "more": about_you, "age_group": then("gender"),
    "gender": then("feedback"), "feedback": after_feedback, "phone": finish,
}  # fmt: skip


async def start(update: Update, context: Context) -> int:
    assert update.effective_chat is not None and context.user_data is not None
    context.user_data.clear()
    context.user_data.update(
        source=context.args[0] if context.args else None, started_at=time.time(), answers={}
    )
    await context.bot.send_message(update.effective_chat.id, sv.INTRO)
    return await ask(update.effective_chat.id, context, "problems")


def text_answer(step: str) -> Handler:
    async def handle(update: Update, context: Context) -> int:
        assert update.message is not None and update.message.text is not None
        if len(update.message.text) > sv.MAX_TEXT:
            await update.message.reply_text(sv.TOO_LONG)
            return STATE[step]
        if step == "phone":  # contact data, kept apart from the answers
            assert context.user_data is not None
            context.user_data["phone"] = update.message.text.strip()
        else:
            answers(context)[step] = update.message.text.strip()
        return await NEXT[step](update.message.chat.id, context)

    return handle


def choice_answer(step: str) -> Handler:
    async def handle(update: Update, context: Context) -> int:
        query = update.callback_query
        assert query is not None and query.data is not None and context.user_data is not None
        assert query.message is not None
        choice = query.data.partition(":")[2]
        if step in sv.MULTIPLE and choice not in ("_skip", "_done"):  # a tick, not an answer
            await query.answer()
            ticked = set(context.user_data.get("ticked", ())) ^ {choice}
            context.user_data["ticked"] = sorted(ticked)
            await query.edit_message_reply_markup(markup(step, frozenset(ticked)))
            return STATE[step]
        if choice == "_done":
            ticked = context.user_data.pop("ticked", [])
            if not ticked:
                await query.answer(sv.PICK_ONE)
                return STATE[step]
            order = [c for c, _ in sv.CHOICES[step][1]]
            answers(context)[step] = sorted(ticked, key=order.index)
        elif choice != "_skip":
            answers(context)[step] = choice
        await query.answer()
        await query.edit_message_reply_markup(None)  # the answered question loses its buttons
        return await NEXT[step](query.message.chat.id, context)

    return handle


async def stop(update: Update, context: Context) -> int:
    assert update.message is not None
    await update.message.reply_text(sv.STOPPED)
    return ConversationHandler.END


def conversation() -> ConversationHandler[Context]:
    text = filters.TEXT & ~filters.COMMAND & ~filters.Regex(r"(?i)^\s*stopp\s*$")
    states: dict[object, list[Any]] = {}
    for step in STEPS:
        handlers: list[Any] = [CallbackQueryHandler(choice_answer(step), pattern=f"^{step}:")]
        if step in sv.TEXTS:
            handlers.append(MessageHandler(text, text_answer(step)))
        states[STATE[step]] = handlers
    with warnings.catch_warnings():  # per_message=False with callback handlers is intended
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("start", start)],
            states=states,
            fallbacks=[MessageHandler(filters.Regex(r"(?i)^\s*stopp\s*$"), stop)],
            name=CONVERSATION,
            persistent=True,
            allow_reentry=True,
        )
