// Namespace handlers (../handlers/*.js, the README's example among them) as Amplify JS sees them.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { events } from 'aws-amplify/data';
import { configureApiKey, inbox, channelName } from '../helpers.mjs';

configureApiKey();
after(() => events.closeAll());

let box;
let all;
before(async () => {
  all = await events.connect('/chat/*');
  box = inbox(all);
  await box.subscription.ready;
});

/** Publishes a sentinel and returns the texts received up to and including it, in order. */
async function receivedUpToSentinel(channel) {
  const sentinel = `end-${Math.random().toString(36).slice(2)}`;
  await events.post(channel, { text: sentinel });
  const texts = [];
  for (;;) {
    const { event } = await box.next();
    texts.push(event.text);
    if (event.text === sentinel.toUpperCase()) return texts;
  }
}

test('onPublish transforms what events.post publishes', async () => {
  const name = channelName('chat');
  assert.equal(await events.post(name, { text: 'hi' }), undefined);
  const { event } = await box.next();
  assert.deepEqual(event, { text: 'HI', channel: name, namespace: 'chat', by: null });
  await receivedUpToSentinel(name);
});

test('over HTTP a filtered event is dropped and an event with an error comes back in failed', async () => {
  const name = channelName('chat');
  const failed = await events.post(name, [{ text: 'a' }, { text: 'b', drop: true }, { n: 1 }]);
  assert.equal(failed.length, 1);
  assert.equal(failed[0].index, 2);
  assert.equal(failed[0].message, 'text required');
  const texts = await receivedUpToSentinel(name);
  assert.deepEqual(texts.slice(0, -1), ['A']);
});

test('over the WebSocket an event with an error is not broadcast and the rest is', async () => {
  const name = channelName('chat');
  const channel = await events.connect(name);
  await channel.publish([{ n: 1 }, { text: 'ws' }]);
  const texts = await receivedUpToSentinel(name);
  assert.deepEqual(texts.slice(0, -1), ['WS']);
  channel.close();
});

test('util.error rejects events.post with 403 and channel.publish with a publish error', async () => {
  await assert.rejects(events.post('/chat/locked', { text: 'x' }), (error) => {
    assert.equal(error.name, 'BadRequestException');
    assert.equal(error.$metadata.httpStatusCode, 403);
    assert.match(error._response.body, /channel is locked/);
    return true;
  });
  const channel = await events.connect('/chat/locked');
  await assert.rejects(channel.publish({ text: 'x' }), /BadRequestException/);
  channel.close();
});

test('onSubscribe refuses a subscription with util.unauthorized', async () => {
  const channel = await events.connect('/chat/private');
  const refused = inbox(channel);
  await assert.rejects(refused.subscription.ready, /UnauthorizedException/);
  channel.close();
});

test('a handler that throws fails the publish with its error, and the next one works', async () => {
  await assert.rejects(events.post('/broken/a', { x: 1 }), (error) => {
    assert.equal(error.name, 'InternalFailure');
    assert.equal(error.$metadata.httpStatusCode, 500);
    assert.match(error._response.body, /TypeError/);
    return true;
  });
  assert.equal(await events.post(channelName(), { ok: true }), undefined);
});

test('an endless loop is cut off by the time limit', async () => {
  const started = Date.now();
  await assert.rejects(events.post('/slow/a', { x: 1 }), (error) => {
    assert.equal(error.name, 'InternalFailure');
    assert.match(error._response.body, /time limit of 300 ms/);
    return true;
  });
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});
