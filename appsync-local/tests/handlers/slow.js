// A handler that never returns: cut off by the time limit.
export function onPublish(ctx) {
  for (;;) {}
}
