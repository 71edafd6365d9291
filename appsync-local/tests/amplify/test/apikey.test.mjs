// Amplify JS with API-key auth: connect, subscribe, events.post over HTTPS, channel.publish over WSS.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { events } from 'aws-amplify/data';
import { configureApiKey, inbox, channelName } from '../helpers.mjs';

configureApiKey();
after(() => events.closeAll());

test('a subscriber gets what events.post publishes over HTTPS', async () => {
  const name = channelName();
  const channel = await events.connect(name);
  const box = inbox(channel);
  await box.subscription.ready;
  const answer = await events.post(name, { text: 'hello over https' });
  assert.equal(answer, undefined, 'no failed events');
  const data = await box.next();
  assert.deepEqual(data.event, { text: 'hello over https' });
  assert.equal(data.type, 'data');
  channel.close();
});

test('channel.publish goes over the WebSocket and reaches a wildcard subscriber', async () => {
  const name = channelName();
  const all = await events.connect('/default/*');
  const box = inbox(all);
  await box.subscription.ready;
  const channel = await events.connect(name);
  // Amplify resolves on publish_success (and rejects on publish_error).
  await channel.publish([{ n: 1 }, { n: 2 }]);
  assert.deepEqual((await box.next()).event, { n: 1 });
  assert.deepEqual((await box.next()).event, { n: 2 });
  channel.close();
  all.close();
});
