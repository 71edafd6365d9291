// A handler with a bug: every publish fails with the error, never the server.
export function onPublish(ctx) {
  return ctx.events.map((event) => event.payload.missing.field)
}
