// Amplify JS with IAM (SigV4) auth: the same operations, signed by Amplify itself.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { events } from 'aws-amplify/data';
import { configureIam, inbox, channelName } from '../helpers.mjs';

configureIam();
after(() => events.closeAll());

test('IAM: connect, subscribe, events.post and channel.publish', async () => {
  const name = channelName();
  const channel = await events.connect(name);
  const box = inbox(channel);
  await box.subscription.ready;
  assert.equal(await events.post(name, { signed: 'http' }), undefined);
  assert.deepEqual((await box.next()).event, { signed: 'http' });
  await channel.publish({ signed: 'websocket' });
  assert.deepEqual((await box.next()).event, { signed: 'websocket' });
  channel.close();
});
