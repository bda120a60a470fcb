// A function remembered per distinct string argument, for the few values the request path sees again and again
// (hosts, config names, header values): at most `max` are kept, and past that the memory is dropped and refilled,
// so a caller that sends a new value every time costs only what it would without the memory.

/** `fn` with its results kept per argument (bounded by `max`). */
export function memoByString<T>(fn: (key: string) => T, max = 256): (key: string) => T {
  const seen = new Map<string, T>();
  return (key) => {
    const hit = seen.get(key);
    if (hit !== undefined || seen.has(key)) return hit as T;
    const value = fn(key);
    if (seen.size >= max) seen.clear();
    seen.set(key, value);
    return value;
  };
}
