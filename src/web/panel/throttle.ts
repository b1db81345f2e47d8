/**
 * At most one call per `ms`: the first at once, then the latest value when the interval ends. A slider
 * dragged across its range sends a handful of values, not hundreds, and always ends on the last one,
 * even when the page is left mid-drag (the user's last value is what they meant).
 */
export function throttle<T>(fn: (value: T) => void, ms: number): { call(value: T): void; flush(): void } {
  let last = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: { value: T } | undefined;
  const run = () => {
    timer = undefined;
    if (!pending) return;
    const { value } = pending;
    pending = undefined;
    last = Date.now();
    fn(value);
  };
  return {
    call(value) {
      pending = { value };
      if (timer) return;
      const wait = last + ms - Date.now();
      if (wait <= 0) run();
      else timer = setTimeout(run, wait);
    },
    flush() {
      clearTimeout(timer);
      run();
    },
  };
}
