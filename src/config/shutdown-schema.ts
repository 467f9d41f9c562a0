import { z } from 'zod';
import { parseDuration } from './value-parsers.js';
import { duration } from './values.js';

/** `shutdown:`: how a stop (or SIGTERM) winds down: the accept grace, the drain, and the forced exit. */
export const shutdownSchema = z
  .strictObject({ accept_grace: duration.default('0s'), drain_timeout: duration.default('30s'), force_timeout: duration.default('60s') })
  .superRefine((s, ctx) => {
    // force_timeout counts from the stop: a grace that long would end in the forced exit, resetting what it was meant to keep.
    const grace = parseDuration(s.accept_grace);
    const force = parseDuration(s.force_timeout);
    if (grace !== null && force !== null && grace > 0 && grace >= force) ctx.addIssue({ code: 'custom', path: ['accept_grace'], message: `accept_grace (${s.accept_grace}) must be shorter than force_timeout (${s.force_timeout}): the process exits at force_timeout, counted from the stop, the grace included` });
  })
  .prefault({});
