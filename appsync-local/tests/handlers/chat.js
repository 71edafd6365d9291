// A namespace handler as it would deploy to AppSync Events (and as the README's guide shows it).
import { util } from '@aws-appsync/utils'

export function onPublish(ctx) {
  // Reject the whole request: 403 over HTTP, publish_error over WebSocket.
  if (ctx.info.channel.segments[1] === 'locked') {
    util.error('channel is locked')
  }
  return ctx.events
    // Filter: dropped events are not broadcast and are in neither list.
    .filter((event) => !event.payload.drop)
    .map((event) => {
      // Per-event error: failed[] and not broadcast.
      if (typeof event.payload.text !== 'string') {
        return { ...event, error: 'text required' }
      }
      // Transform.
      return {
        id: event.id,
        payload: {
          ...event.payload,
          text: event.payload.text.toUpperCase(),
          channel: ctx.info.channel.path,
          namespace: ctx.info.channelNamespace.name,
          by: ctx.identity ? ctx.identity.username : null,
        },
      }
    })
}

export function onSubscribe(ctx) {
  if (ctx.info.channel.segments[1] === 'private') {
    util.unauthorized()
  }
  console.log(`subscribe to ${ctx.info.channel.path}`)
}
