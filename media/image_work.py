"""Image work for the event loop: `ImagePipeline` runs media/pipeline.py's blocking
steps in a pool of its own, admitted against the memory budget (media/budget.py),
and hands a rendered image to what follows it (the blob writes) on the image
thread, so that an upload waits for one thread job, not one per step.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import Any, BinaryIO, TypeVar

from media.budget import BudgetExhausted, MemoryBudget
from media.errors import ImageOverBudget, ImageWorkBusy
from media.pipeline import (
    DecodePlan,
    ImageLimits,
    ProcessedImage,
    configure_pillow,
    inspect,
    render_and_release,
    size_and_kind,
)

_MIN_RETRY_AFTER = 2  # seconds: what a busy answer tells the client to wait at least
# Called on the image thread with a rendered image: starts what must follow it
# (the blob writes) on threads of its own.
Then = Callable[[ProcessedImage], Future[None]]
R = TypeVar("R")
# An image's processing as `ImagePipeline.start` begins it: rendered already, or
# the plan of one that waits for room in the memory budget.
Started = asyncio.Future[ProcessedImage | DecodePlan]


class ImagePipeline:
    """The pipeline for the event loop. Image work runs in its own pool of
    `workers` threads (so it never takes the threads store I/O runs in), and
    only when the memory budget admits its estimated cost: an upload waits
    for room at most `wait_seconds`, then is answered "busy, retry" (503)."""

    def __init__(
        self,
        limits: ImageLimits,
        *,
        memory_budget: int,
        workers: int = 2,
        wait_seconds: float = 5.0,
    ) -> None:
        self.limits = limits
        self.budget = MemoryBudget(memory_budget)
        self.wait_seconds = wait_seconds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="image-work")
        configure_pillow(limits.max_pixels)

    def refuse_early(self, source: BinaryIO) -> None:
        """On the loop: raises the refusal of an empty, oversized or unknown file
        before the upload writes anything for it (its StrayBlob record)."""
        size_and_kind(source, self.limits)

    async def process(self, source: BinaryIO, then: Then | None = None) -> ProcessedImage:
        """The processed image. `then`, if given, is called on the image thread with
        it and what it starts (the blob writes) is waited for too, so the event
        loop wakes once for both; it is not called for a refused image."""
        return await self.finish(self.start(source, then), then)

    def start(self, source: BinaryIO, then: Then | None = None) -> Started:
        """`process`'s first part, begun at once (its thread job submitted before
        this returns, so the caller can await something else meanwhile); hand what
        it returns to `finish`, or to `abandon`."""
        # One job when the budget has room at once (the common case): each job is
        # a wait for a turn of the loop, which under load is a pass over every
        # other ready request. Otherwise the plan comes back to wait its turn here.
        loop = asyncio.get_running_loop()
        done = self._pool.submit(self._inspect_and_render_if_free, source, loop)
        return asyncio.wrap_future(_followed_by(done, then))

    async def finish(self, started: Started, then: Then | None = None) -> ProcessedImage:
        outcome = await started
        if isinstance(outcome, ProcessedImage):
            return outcome
        plan = outcome
        try:
            await self._admit(plan)
        except BaseException:
            plan.image.close()
            raise
        loop = asyncio.get_running_loop()
        work = self._pool.submit(render_and_release, plan)
        # Given back when the thread is done with the pixels, even if this
        # request was cancelled meanwhile.
        work.add_done_callback(lambda _: _call_soon(loop, self.budget.release, plan.cost))
        return await asyncio.wrap_future(_followed_by(work, then))

    @staticmethod
    def abandon(started: Started) -> None:
        """For a caller that will not `finish`: its outcome is dropped (a plan's
        file closed, a refusal marked as seen)."""

        def dropped(outcome: Started) -> None:
            if outcome.cancelled() or outcome.exception() is not None:
                return
            if isinstance(plan := outcome.result(), DecodePlan):
                plan.image.close()

        started.add_done_callback(dropped)

    def _inspect_and_render_if_free(
        self, source: BinaryIO, loop: asyncio.AbstractEventLoop
    ) -> ProcessedImage | DecodePlan:
        """Blocking: the plan, unless its cost was admitted without waiting and it
        is rendered already."""
        plan = inspect(source, self.limits)
        if plan.cost > self.budget.capacity or not self.budget.try_acquire(plan.cost):
            return plan  # refused or queued by `_admit`, on the loop
        try:
            return render_and_release(plan)
        finally:
            if not self.budget.release_unless_awaited(plan.cost):
                _call_soon(loop, self.budget.release, plan.cost)

    async def _admit(self, plan: DecodePlan) -> None:
        if plan.cost > self.budget.capacity:
            pixels = plan.width * plan.height
            fits = pixels * self.budget.capacity // plan.cost
            raise ImageOverBudget(
                f"This server can process {plan.kind.value} images of this kind of at most "
                f"about {fits / 1e6:.0f} megapixels; this one has {pixels / 1e6:.0f}."
            )
        try:
            await self.budget.acquire(plan.cost, wait_seconds=self.wait_seconds)
        except BudgetExhausted:
            raise ImageWorkBusy(
                "The server is busy with other images; send this one again shortly.",
                retry_after_seconds=max(_MIN_RETRY_AFTER, math.ceil(self.wait_seconds)),
            ) from None


def _followed_by(work: Future[R], then: Then | None) -> Future[R]:
    """`work`'s outcome, once what `then` starts with a rendered image is done too:
    `then` runs on the thread that finished `work`, and the image thread is free
    for the next image while it runs."""
    if then is None:
        return work
    outcome: Future[R] = Future()
    outcome.set_running_or_notify_cancel()  # what has started goes on, waited for or not

    def rendered(done: Future[R]) -> None:
        error = None if done.cancelled() else done.exception()
        if done.cancelled() or error is not None:
            _settle(outcome, done)
            return
        image = done.result()
        if not isinstance(image, ProcessedImage):  # a plan: nothing rendered yet
            outcome.set_result(image)
            return
        try:
            started = then(image)
        except Exception as failure:
            outcome.set_exception(failure)
            return
        started.add_done_callback(lambda after: _settle(outcome, after, image))

    work.add_done_callback(rendered)
    return outcome


def _settle(outcome: Future[R], done: Future[Any], result: R | None = None) -> None:
    if done.cancelled():
        outcome.set_exception(CancelledError())
    elif (error := done.exception()) is not None:
        outcome.set_exception(error)
    else:
        outcome.set_result(result if result is not None else done.result())


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[int], None], arg: int) -> None:
    with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
        loop.call_soon_threadsafe(callback, arg)
