/**
 * Span work still under way that a flush should wait for: the bounded reads
 * of JSON response clones, whose spans end when the read does (a moment
 * after the caller has read the body). `forceFlush` waits for them, bounded
 * in time, so "read the answer, then flush" exports the answer's span.
 *
 * @module
 */

const pending = new Set<Promise<unknown>>();

/** Registers `p` until it settles. */
export function trackPending(p: Promise<unknown>): void {
  pending.add(p);
  const untrack = () => {
    pending.delete(p);
  };
  p.then(untrack, untrack);
}

/**
 * Waits for the work registered so far, at most `timeoutMs`. Never rejects.
 *
 * @param timeoutMs The longest wait.
 */
export async function awaitPending(timeoutMs: number): Promise<void> {
  if (pending.size === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled([...pending]),
    new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
  ]);
  clearTimeout(timer);
}
